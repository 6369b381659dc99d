// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Replay: a saved capture enters the same queue as live events (one pipeline for
 * live and replay), paced by a clock at e->speed times the original timing, or as
 * fast as the consumer takes it. Nothing is dropped: a full queue makes the replay
 * wait, since a file, unlike the kernel, can.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/engine_int.h"
#include "engine/log.h"
#include "engine/pcapng.h"

#define WAKE_EVERY 256 /* events queued between wake-ups when not pacing */

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* Sleep up to ns, in slices, so a stop request is honoured quickly. */
static void nap(struct engine *e, uint64_t ns)
{
	while (ns && !atomic_load(&e->stop)) {
		uint64_t slice = ns > 50000000ULL ? 50000000ULL : ns;
		struct timespec ts = {0, (long)slice};

		nanosleep(&ts, NULL);
		ns -= slice;
	}
}

void *replay_thread(void *arg)
{
	struct engine *e = arg;
	uint64_t first_ts = 0, start = mono_ns(), since_wake = 0;
	struct ec_event *ev;
	uint32_t len;
	int ret;

	while (!atomic_load(&e->stop)) {
		ret = pcapng_reader_next(e->reader, &ev);
		if (ret < 0) {
			log_msg(LOG_ERROR, "%s: what came before was replayed",
				pcapng_reader_error(e->reader));
			break;
		}
		if (ret == 0)
			break;
		if (e->speed > 0) {
			uint64_t due, now;

			if (!first_ts)
				first_ts = ev->h.ts_ns;
			due = start + (uint64_t)((double)(ev->h.ts_ns > first_ts ? ev->h.ts_ns - first_ts
										: 0) /
						 e->speed);
			now = mono_ns();
			if (due > now) {
				/* Let the consumer see what is queued before we wait. */
				engine_wake(e);
				since_wake = 0;
				nap(e, due - now);
			}
		}
		/* Once pushed, ev belongs to the consumer: read what we count first. */
		len = ev->h.len;
		while (!spsc_push(&e->q, ev)) {
			if (atomic_load(&e->stop)) {
				free(ev);
				goto out;
			}
			engine_wake(e);
			nap(e, 1000000);
		}
		atomic_fetch_add_explicit(&e->n_events, 1, memory_order_relaxed);
		atomic_fetch_add_explicit(&e->n_bytes, len, memory_order_relaxed);
		if (++since_wake >= WAKE_EVERY) {
			engine_wake(e);
			since_wake = 0;
		}
	}
out:
	atomic_store(&e->finished, true);
	engine_wake(e);
	return NULL;
}
