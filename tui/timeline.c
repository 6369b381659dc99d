// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The replay timeline's words: see timeline.h. */
#include "tui/timeline.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define NS_S 1000000000ull

char *timeline_fmt_pos(uint64_t ns, char *buf, size_t len)
{
	uint64_t ms = ns / 1000000ull;

	snprintf(buf, len, "%02llu:%02llu.%03llu", (unsigned long long)(ms / 60000),
		 (unsigned long long)(ms / 1000 % 60), (unsigned long long)(ms % 1000));
	return buf;
}

char *timeline_fmt_speed(double speed, char *buf, size_t len)
{
	if (!(speed > 0))
		snprintf(buf, len, "max");
	else
		snprintf(buf, len, "%gx", speed);
	return buf;
}

double timeline_speed_step(double speed, int dir)
{
	if (!(speed > 0))
		return dir > 0 ? 0 : TIMELINE_MAX_SPEED;
	speed = dir > 0 ? speed * 2 : speed / 2;
	if (speed > TIMELINE_MAX_SPEED)
		speed = TIMELINE_MAX_SPEED;
	if (speed < TIMELINE_MIN_SPEED)
		speed = TIMELINE_MIN_SPEED;
	return speed;
}

/* Digits at *p into *v (at most max_digits of them), then an optional fraction
 * ".ddd" into *frac_ns as nanoseconds of one unit. false if there is no digit or
 * there are too many. */
static bool parse_number(const char **p, unsigned max_digits, uint64_t *v, uint64_t *frac_ns)
{
	const char *s = *p;
	unsigned n = 0, fd = 0;
	uint64_t scale = NS_S / 10;

	*v = 0;
	*frac_ns = 0;
	while (isdigit((unsigned char)*s)) {
		if (++n > max_digits)
			return false;
		*v = *v * 10 + (uint64_t)(*s++ - '0');
	}
	if (*s == '.') {
		s++;
		while (isdigit((unsigned char)*s)) {
			/* beyond nanoseconds the digits say nothing more */
			if (++fd <= 9) {
				*frac_ns += (uint64_t)(*s - '0') * scale;
				scale /= 10;
			}
			s++;
		}
		if (!fd && !n)
			return false;
	} else if (!n) {
		return false;
	}
	*p = s;
	return true;
}

/* "1h2m3.5s", "90", "250ms": a sum of numbers with units (a bare number last
 * is seconds). */
static bool parse_duration(const char *s, uint64_t *out)
{
	uint64_t total = 0;

	if (!*s)
		return false;
	while (*s) {
		uint64_t v, frac, unit;

		/* 9 digits: even in hours the sum stays far inside 64 bits */
		if (!parse_number(&s, 9, &v, &frac))
			return false;
		if (s[0] == 'm' && s[1] == 's') {
			unit = 1000000ull;
			s += 2;
		} else if (*s == 'h') {
			unit = 3600 * NS_S;
			s++;
		} else if (*s == 'm') {
			unit = 60 * NS_S;
			s++;
		} else if (*s == 's') {
			unit = NS_S;
			s++;
		} else if (!*s) {
			unit = NS_S;
		} else {
			return false;
		}
		/* frac is in ns of a second-sized unit: scale it to this unit */
		total += v * unit + (uint64_t)((double)frac * ((double)unit / (double)NS_S));
	}
	*out = total;
	return true;
}

/* "MM:SS[.mmm]" (n = 2) or "HH:MM:SS[.mmm]" (n = 3): the parts and the fraction. */
static int parse_colons(const char *s, uint64_t part[3], uint64_t *frac_ns)
{
	int n = 0;

	for (;;) {
		uint64_t f;

		if (n == 3)
			return -1;
		/* minutes of a position may be many (a long capture); clock parts two */
		if (!parse_number(&s, n == 0 ? 6 : 2, &part[n], &f))
			return -1;
		n++;
		if (*s == ':') {
			if (f)
				return -1; /* a fraction only on the seconds */
			s++;
			continue;
		}
		if (*s)
			return -1;
		*frac_ns = f;
		return n;
	}
}

int timeline_parse(const char *text, uint64_t first_ns, uint64_t last_ns, uint64_t cur_ns,
		   uint64_t *target, enum timeline_clamp *clamp, char *err, size_t errlen)
{
	char buf[64];
	const char *s;
	size_t n;
	uint64_t d, part[3], frac;
	int64_t t; /* ns relative to first_ns, may go below 0 */
	int parts;

	if (last_ns < first_ns)
		last_ns = first_ns; /* nothing read: a file of no length */
	while (*text == ' ')
		text++;
	n = strlen(text);
	while (n && text[n - 1] == ' ')
		n--;
	if (!n || n >= sizeof(buf))
		goto bad;
	memcpy(buf, text, n);
	buf[n] = '\0';
	s = buf;
	if (*s == '+' || *s == '-') {
		/* relative to the position; before the first event, to the start */
		uint64_t base = cur_ns > first_ns ? cur_ns - first_ns : 0;

		if (!parse_duration(s + 1, &d) || d > (uint64_t)INT64_MAX / 2)
			goto bad;
		t = *s == '+' ? (int64_t)base + (int64_t)d : (int64_t)base - (int64_t)d;
	} else if (strchr(s, ':')) {
		parts = parse_colons(s, part, &frac);
		if (parts == 2) {
			if (part[1] >= 60)
				goto bad;
			t = (int64_t)((part[0] * 60 + part[1]) * NS_S + frac);
		} else if (parts == 3) {
			time_t day = (time_t)(first_ns / NS_S), at;
			struct tm tm;

			if (part[0] >= 24 || part[1] >= 60 || part[2] >= 60)
				goto bad;
			/* the capture's day in local time, at the given clock time */
			if (!localtime_r(&day, &tm))
				goto bad;
			tm.tm_hour = (int)part[0];
			tm.tm_min = (int)part[1];
			tm.tm_sec = (int)part[2];
			tm.tm_isdst = -1;
			at = mktime(&tm);
			if (at == (time_t)-1)
				goto bad;
			t = (int64_t)((uint64_t)at * NS_S + frac) - (int64_t)first_ns;
			/* a capture that runs past midnight: the clock time of its next day */
			if (t < 0 && (uint64_t)(t + 86400 * (int64_t)NS_S) <= last_ns - first_ns)
				t += 86400 * (int64_t)NS_S;
		} else {
			goto bad;
		}
	} else {
		if (!parse_duration(s, &d) || d > (uint64_t)INT64_MAX / 2)
			goto bad;
		t = (int64_t)d;
	}
	if (t < 0) {
		*target = 0;
		*clamp = TIMELINE_BEFORE;
	} else if ((uint64_t)t > last_ns - first_ns) {
		*target = UINT64_MAX;
		*clamp = TIMELINE_AFTER;
	} else {
		*target = first_ns + (uint64_t)t;
		*clamp = TIMELINE_INSIDE;
	}
	return 0;
bad:
	snprintf(err, errlen,
		 "g: '%.40s' is not a time: try +30s, -5s, 1m30s (from the start), 01:30.250, "
		 "12:03:05 (clock time)",
		 text);
	return -EINVAL;
}
