/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Event and byte rates of a replay at its position: how many events (and
 * payload bytes) the capture had in the second of capture time before the
 * position, whatever the replay's speed and whether it plays or is paused
 * (the wall clock's rate of a replay is the speed times that, or 0).
 *
 * Events are counted in RATE_SLOTS slots of RATE_SLOT_NS of capture time; the
 * rate at position P is what the slots of (P - 1 s, P] hold over the time they
 * cover. Events older than the slots hold are not counted (a file is in time
 * order; the writer's window keeps it so).
 */
#ifndef ECAPTOP_TUI_RATE_H
#define ECAPTOP_TUI_RATE_H

#include <stdint.h>

#define RATE_SLOT_NS (100 * 1000000ull)
#define RATE_SLOTS   16 /* more than the second looked at: room for events a little late */
#define RATE_SPAN    10 /* slots in one second */

struct rate_win {
	uint64_t slot[RATE_SLOTS]; /* ts / RATE_SLOT_NS + 1 of what slot i counts; 0: empty */
	uint64_t events[RATE_SLOTS], bytes[RATE_SLOTS];
};

/* Forget everything (a replay went back to its start). */
void rate_reset(struct rate_win *r);
/* One event at capture time ts_ns with len payload bytes. */
void rate_add(struct rate_win *r, uint64_t ts_ns, uint64_t len);
/* The rates per second of capture time at position pos_ns (0: no position, rates 0). */
void rate_at(const struct rate_win *r, uint64_t pos_ns, double *events_s, double *bytes_s);

#endif
