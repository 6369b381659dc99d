// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Recording (-w): each event the front end takes goes to the pcapng writer, whose
 * buffer reaches the disk at least once a second (record.h).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "engine/file/pcapng.h"
#include "engine/file/record.h"
#include "engine/log.h"

struct recorder {
	struct pcapng_writer *writer;
	bool failed;
	bool dirty; /* written since the last flush */
	uint64_t last_flush_ms;
	unsigned since_flush_check;
};

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct recorder *recorder_new(struct pcapng_writer *w)
{
	struct recorder *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->writer = w;
	r->last_flush_ms = mono_ms();
	return r;
}

/* Push what the recording buffered to the file every RECORD_FLUSH_MS (250 ms), so
 * a killed ecaptop loses at most the last second of it: the half-second reorder
 * window, this period and the loop's 200 ms turn (gzip: a sync flush, after which
 * everything before decompresses). */
static void recorder_flush(struct recorder *r)
{
	uint64_t t;

	if (r->failed || !r->dirty)
		return;
	t = mono_ms();
	if (t - r->last_flush_ms < RECORD_FLUSH_MS)
		return;
	r->last_flush_ms = t;
	if (pcapng_writer_flush(r->writer)) {
		log_msg(LOG_ERROR, "recording stopped: %s", pcapng_writer_error(r->writer));
		r->failed = true;
	}
	/* What the reorder window still holds leaves it at a later flush, even when
	 * nothing new is fed (the last requests before a kill). */
	r->dirty = pcapng_writer_held(r->writer) > 0;
}

void recorder_feed(struct recorder *r, const struct ec_event *ev)
{
	int ret;

	if (!r || r->failed)
		return;
	ret = pcapng_write_event(r->writer, ev);
	r->dirty = true;
	if (ret == -EINVAL || ret == -EMSGSIZE) {
		/* That one event cannot be represented; nothing was written. */
		log_msg(LOG_WARN, "not recorded: %s", pcapng_writer_error(r->writer));
	} else if (ret) {
		log_msg(LOG_ERROR, "recording stopped: %s", pcapng_writer_error(r->writer));
		r->failed = true;
	}
	if (++r->since_flush_check >= 256) {
		r->since_flush_check = 0;
		recorder_flush(r);
	}
}

void recorder_tick(struct recorder *r)
{
	if (r)
		recorder_flush(r);
}

void recorder_free(struct recorder *r)
{
	free(r);
}
