/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Replay: a saved capture as a source (engine/source.h) pushing into the engine's
 * event queue, paced by a clock, with the front end's controls (pause, speed,
 * step, seek). Used by engine/capture/engine.c (engine_new_replay and the
 * engine_replay_* calls of engine.h); it calls nothing of the engine's but the
 * queue.
 */
#ifndef ECAPTOP_ENGINE_FILE_REPLAY_H
#define ECAPTOP_ENGINE_FILE_REPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/engine.h"
#include "engine/evq.h"
#include "engine/source.h"

struct replay;

/* Open path (a regular file by its name; "-" or a FIFO copied to an unlinked
 * temporary file first) with the pcap filter expression filter (or NULL), and
 * count its events. Its thread will push into q (borrowed) at speed times the
 * original pace (0: as fast as the consumer takes it). NULL with a reason. */
struct replay *replay_new(const char *path, const char *filter, double speed, struct evq *q,
			  char *err, size_t errlen);
/* Stops the thread if it runs. Accepts NULL. */
void replay_free(struct replay *r);
/* The source calls on a struct replay *. */
extern const struct source_ops replay_source_ops;

/* The consumer's controls (engine.h's engine_replay_*). */
void replay_status(struct replay *r, struct engine_replay_status *st);
void replay_pause(struct replay *r, bool paused);
void replay_set_speed(struct replay *r, double speed);
void replay_step(struct replay *r, int direction);
void replay_seek_time(struct replay *r, uint64_t ts_ns);

#endif
