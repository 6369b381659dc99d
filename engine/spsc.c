// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "engine/spsc.h"

#include <errno.h>

int spsc_init(struct spsc *q, void **slots, size_t n)
{
	if (n < 2 || (n & (n - 1)) || !slots)
		return -EINVAL;
	q->head = 0;
	q->tail = 0;
	q->mask = n - 1;
	q->slots = slots;
	return 0;
}

bool spsc_push(struct spsc *q, void *item)
{
	/* Our own index: only this thread writes it, relaxed is enough. */
	size_t tail = __atomic_load_n(&q->tail, __ATOMIC_RELAXED);
	/* Acquire pairs with the consumer's release store of head: once we see the
	 * slot freed, the consumer's read of that slot has happened. */
	size_t head = __atomic_load_n(&q->head, __ATOMIC_ACQUIRE);

	if (tail - head > q->mask)
		return false;
	q->slots[tail & q->mask] = item;
	/* Release publishes the slot's contents (and what item points to) before the
	 * consumer can observe the new tail. */
	__atomic_store_n(&q->tail, tail + 1, __ATOMIC_RELEASE);
	return true;
}

void *spsc_pop(struct spsc *q)
{
	size_t head = __atomic_load_n(&q->head, __ATOMIC_RELAXED);
	/* Acquire pairs with the producer's release of tail: the slot is filled. */
	size_t tail = __atomic_load_n(&q->tail, __ATOMIC_ACQUIRE);
	void *item;

	if (head == tail)
		return NULL;
	item = q->slots[head & q->mask];
	/* Release: our read of the slot happens before the producer may reuse it. */
	__atomic_store_n(&q->head, head + 1, __ATOMIC_RELEASE);
	return item;
}

size_t spsc_size(const struct spsc *q)
{
	size_t head = __atomic_load_n(&q->head, __ATOMIC_ACQUIRE);
	size_t tail = __atomic_load_n(&q->tail, __ATOMIC_ACQUIRE);

	return tail - head;
}

size_t spsc_capacity(const struct spsc *q)
{
	return q->mask + 1;
}
