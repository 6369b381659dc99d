/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The replay timeline's words: positions as the header shows them, speeds, and
 * the `g` prompt's language. Pure functions (no curses, no engine), so what the
 * user types is judged the same way everywhere.
 *
 * Positions are times since the file's first event. The `g` prompt accepts
 *   +30s  -5s  +1m30s   relative to the current position
 *   1m30s  90  1.5s      a position (time since the first event)
 *   01:30  01:30.250     a position as the header shows it (MM:SS[.mmm])
 *   12:03:05[.mmm]       a clock time (local time) on the capture's day
 * Duration units: h, m, s, ms; a bare number is seconds.
 */
#ifndef ECAPTOP_TUI_TIMELINE_H
#define ECAPTOP_TUI_TIMELINE_H

#include <stddef.h>
#include <stdint.h>

#define TIMELINE_MIN_SPEED (1.0 / 64)
#define TIMELINE_MAX_SPEED 1024.0

/* "mm:ss.mmm" of ns (minutes grow past 99 as needed). Returns buf. */
char *timeline_fmt_pos(uint64_t ns, char *buf, size_t len);
/* "1x", "4x", "0.25x", "0.015625x"; "max" for 0 (as fast as possible). Returns buf. */
char *timeline_fmt_speed(double speed, char *buf, size_t len);
/* The next speed up (dir > 0: twice) or down (half), within
 * [TIMELINE_MIN_SPEED, TIMELINE_MAX_SPEED]. A speed of 0 (unpaced) counts as
 * faster than the maximum. */
double timeline_speed_step(double speed, int dir);

enum timeline_clamp {
	TIMELINE_INSIDE = 0,
	TIMELINE_BEFORE = -1, /* before the first event: the target is the start */
	TIMELINE_AFTER = 1,   /* after the last event: the target is the end */
};

/*
 * Parse what the user typed at the `g` prompt (borrowed). first_ns and last_ns
 * are the file's first and last event times, cur_ns the current position (Unix
 * epoch ns; 0 = before the first event). On success returns 0 and sets *target
 * to the time to seek to: 0 for the start (before the first event), UINT64_MAX
 * for the end, otherwise an epoch time within [first_ns, last_ns]; and *clamp
 * to say whether the input was outside the file. On bad input returns -EINVAL
 * and writes a one-line reason into err.
 */
int timeline_parse(const char *text, uint64_t first_ns, uint64_t last_ns, uint64_t cur_ns,
		   uint64_t *target, enum timeline_clamp *clamp, char *err, size_t errlen);

#endif
