/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A source of events: live capture (engine/capture/) or a replayed file
 * (engine/file/replay.c). Each runs a thread of its own that pushes into the
 * engine's event queue (evq.h) until the queue's stop flag is set; the engine
 * (engine/capture/engine.c) drives it only through these calls.
 */
#ifndef ECAPTOP_ENGINE_SOURCE_H
#define ECAPTOP_ENGINE_SOURCE_H

#include <stdbool.h>
#include <stddef.h>

struct engine_stats;

struct source_ops {
	/* Start the source's thread (the caller blocks every signal around this call,
	 * so the thread starts with them blocked). 0, or -errno with a reason. */
	int (*start)(void *src, char *err, size_t errlen);
	/* After the queue's stop flag is set: wake the thread if it waits, join it.
	 * Idempotent. */
	void (*stop)(void *src);
	/* Add the source's own counters (losses before the queue) to st. */
	void (*stats)(void *src, struct engine_stats *st);
	/* true once the source has queued everything it will (a file's end). */
	bool (*done)(void *src);
};

#endif
