/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The event queue between a source's thread (the producer: live capture's engine
 * thread, or the replay thread) and the front end (the consumer): the SPSC ring,
 * its byte budget, the consumer's wake-up fd, the delivered-event counters, the
 * one stop flag every source thread watches, and the error a source ended on.
 * Both sources (engine/capture/, engine/file/replay.c) push through this and
 * nothing else.
 */
#ifndef ECAPTOP_ENGINE_EVQ_H
#define ECAPTOP_ENGINE_EVQ_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "engine/event.h"
#include "engine/spsc.h"

struct evq {
	struct spsc q;
	void **slots;
	/* Bytes of the events in the queue (pushed minus popped): a stalled consumer
	 * costs at most bytes_max, whatever the number of slots. */
	atomic_int_fast64_t bytes;
	int64_t bytes_max;
	int wake_fd;
	/* The one stop flag: set by engine_stop() (the front end), read by the
	 * source's thread. */
	atomic_bool stop;
	/* Written by the producer, read by the consumer: relaxed atomics (they are
	 * independent counters, no ordering with other data is implied). */
	atomic_uint_fast64_t n_events, n_bytes, lost_queue;
	/* Why the source stopped before its end, for engine_error(); written by the
	 * source's thread before it sets `failed`. */
	char error[512];
	atomic_bool failed;
};

/* slots: a power of two; bytes: the byte budget (0: 16 MiB). 0, or -1 with a
 * reason (the queue is then safe to evq_fini). */
int evq_init(struct evq *q, size_t slots, size_t bytes, char *err, size_t errlen);
/* Frees the events still waiting, the slots and the wake-up fd. */
void evq_fini(struct evq *q);

/* The bytes an event costs while it waits in the queue. */
static inline int64_t evq_cost(const struct ec_event *ev)
{
	return (int64_t)(sizeof(*ev) + ev->h.len);
}

/* Producer: queue ev if the queue has a free slot and ev fits the byte budget;
 * false (ev still the caller's) if not. */
static inline bool evq_offer(struct evq *q, struct ec_event *ev)
{
	int64_t cost = evq_cost(ev);

	if (atomic_load_explicit(&q->bytes, memory_order_relaxed) + cost > q->bytes_max)
		return false;
	/* Counted before the push: once pushed, the consumer may pop (and subtract). */
	atomic_fetch_add_explicit(&q->bytes, cost, memory_order_relaxed);
	if (spsc_push(&q->q, ev))
		return true;
	atomic_fetch_sub_explicit(&q->bytes, cost, memory_order_relaxed);
	return false;
}

/* Producer: queue ev, or drop it and count a queue loss. Takes ev. */
static inline bool evq_push(struct evq *q, struct ec_event *ev)
{
	if (evq_offer(q, ev))
		return true;
	atomic_fetch_add_explicit(&q->lost_queue, 1, memory_order_relaxed);
	free(ev);
	return false;
}

/* Producer: count an event of len payload bytes delivered (after its push). */
static inline void evq_delivered(struct evq *q, uint32_t len)
{
	atomic_fetch_add_explicit(&q->n_events, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&q->n_bytes, len, memory_order_relaxed);
}

static inline bool evq_stopping(struct evq *q)
{
	return atomic_load(&q->stop);
}

/* Producer: wake the consumer. */
void evq_wake(struct evq *q);
/* Producer: the source ended on an error (logged too). */
void evq_fail(struct evq *q, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Consumer: the next event (the caller takes it), or NULL. */
struct ec_event *evq_pop(struct evq *q);
/* Consumer: clear the wake-up fd. */
void evq_ack(struct evq *q);
/* The error the source ended on, or NULL. */
const char *evq_error(struct evq *q);

#endif
