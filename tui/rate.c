// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * A replay's rates at its position (rules in tui/rate.h).
 */
#include "tui/rate.h"

#include <string.h>

void rate_reset(struct rate_win *r)
{
	memset(r, 0, sizeof(*r));
}

void rate_add(struct rate_win *r, uint64_t ts_ns, uint64_t len)
{
	uint64_t n = ts_ns / RATE_SLOT_NS + 1;
	size_t i = (size_t)(n % RATE_SLOTS);

	if (r->slot[i] > n)
		return; /* older than what the slots hold */
	if (r->slot[i] != n) {
		r->slot[i] = n;
		r->events[i] = 0;
		r->bytes[i] = 0;
	}
	r->events[i]++;
	r->bytes[i] += len;
}

void rate_at(const struct rate_win *r, uint64_t pos_ns, double *events_s, double *bytes_s)
{
	uint64_t n = pos_ns / RATE_SLOT_NS + 1, ev = 0, by = 0, k;
	double span;

	*events_s = *bytes_s = 0;
	if (!pos_ns)
		return;
	/* the slot of the position and the RATE_SPAN - 1 before it: the second
	 * before the position, less the part of its first slot after it */
	for (k = 0; k < RATE_SPAN && k < n; k++) {
		size_t i = (size_t)((n - k) % RATE_SLOTS);

		if (r->slot[i] == n - k) {
			ev += r->events[i];
			by += r->bytes[i];
		}
	}
	span = (double)(RATE_SPAN - 1) * (double)RATE_SLOT_NS + (double)(pos_ns % RATE_SLOT_NS + 1);
	*events_s = (double)ev * 1e9 / span;
	*bytes_s = (double)by * 1e9 / span;
}
