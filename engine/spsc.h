/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A lock-free single-producer/single-consumer ring of pointers (after Concurrency
 * Kit's ck_ring): power-of-two capacity, free-running indices, producer and
 * consumer fields on separate cache lines, storage owned by the caller. Exactly one
 * thread may push and exactly one other thread may pop.
 */
#ifndef ECAPTOP_ENGINE_SPSC_H
#define ECAPTOP_ENGINE_SPSC_H

#include <stdbool.h>
#include <stddef.h>

#define SPSC_CACHELINE 64

struct spsc {
	/* Consumer's line: the index of the next slot to pop. */
	_Alignas(SPSC_CACHELINE) size_t head;
	/* Producer's line: the index of the next slot to fill. */
	_Alignas(SPSC_CACHELINE) size_t tail;
	/* Read-only after init, on a line of their own so stores to head/tail never
	 * invalidate them. */
	_Alignas(SPSC_CACHELINE) size_t mask;
	void **slots; /* borrowed: the caller's storage of mask + 1 pointers */
};

/* Initialise q over slots[n]; n must be a power of two >= 2. 0 or -EINVAL. */
int spsc_init(struct spsc *q, void **slots, size_t n);
/* Producer only. false when full (the caller counts the drop). */
bool spsc_push(struct spsc *q, void *item);
/* Consumer only. NULL when empty. */
void *spsc_pop(struct spsc *q);
/* Either side: a snapshot of the number of items waiting. */
size_t spsc_size(const struct spsc *q);
size_t spsc_capacity(const struct spsc *q);

#endif
