// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The event queue between a source's thread and the front end (evq.h).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "engine/evq.h"
#include "engine/log.h"

#define DEFAULT_QUEUE_BYTES (16 << 20)

int evq_init(struct evq *q, size_t slots, size_t bytes, char *err, size_t errlen)
{
	q->wake_fd = -1;
	q->slots = calloc(slots, sizeof(*q->slots));
	if (!q->slots || spsc_init(&q->q, q->slots, slots)) {
		snprintf(err, errlen, "out of memory for the event queue");
		return -1;
	}
	q->bytes_max = bytes ? (int64_t)bytes : (int64_t)DEFAULT_QUEUE_BYTES;
	q->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (q->wake_fd < 0) {
		snprintf(err, errlen, "eventfd: %s", strerror(errno));
		return -1;
	}
	return 0;
}

void evq_fini(struct evq *q)
{
	struct ec_event *ev;

	if (q->slots)
		while ((ev = spsc_pop(&q->q)))
			free(ev);
	free(q->slots);
	q->slots = NULL;
	if (q->wake_fd >= 0)
		close(q->wake_fd);
	q->wake_fd = -1;
}

void evq_wake(struct evq *q)
{
	uint64_t one = 1;

	if (write(q->wake_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_msg(LOG_WARN, "cannot wake the front end: %s", strerror(errno));
}

void evq_fail(struct evq *q, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(q->error, sizeof(q->error), fmt, ap);
	va_end(ap);
	log_msg(LOG_ERROR, "%s", q->error);
	atomic_store(&q->failed, true);
}

struct ec_event *evq_pop(struct evq *q)
{
	struct ec_event *ev = spsc_pop(&q->q);

	if (ev)
		atomic_fetch_sub_explicit(&q->bytes, evq_cost(ev), memory_order_relaxed);
	return ev;
}

void evq_ack(struct evq *q)
{
	uint64_t v;

	if (read(q->wake_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		log_msg(LOG_WARN, "eventfd read: %s", strerror(errno));
}

const char *evq_error(struct evq *q)
{
	return atomic_load(&q->failed) ? q->error : NULL;
}
