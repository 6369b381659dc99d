// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The decoders' note limiter (decoders/util/notes.h). */
#include <stdio.h>
#include <string.h>

#include "decoders/util/notes.h"
#include "unit.h"

struct seen {
	int n;
	char last[512];
	enum dec_proto proto;
	uint64_t ts;
};

static void collect(const struct dec_record *r, void *arg)
{
	struct seen *s = arg;

	CHECK_EQ_INT(r->type, DEC_R_NOTE);
	s->n++;
	s->proto = r->proto;
	s->ts = r->req_ts_ns;
	snprintf(s->last, sizeof(s->last), "%s", r->note.text);
}

/* Distinct notes up to the cap, then one saying so, then nothing. */
static void test_cap(void)
{
	struct dec_notes n;
	struct seen s = {0};
	int i;

	dec_notes_init(&n, collect, &s, DEC_P_MYSQL, "mysql", 1, 4);
	for (i = 0; i < 4; i++)
		dec_note(&n, 7, "problem %d", i);
	CHECK_EQ_INT(s.n, 4);
	CHECK_EQ_STR(s.last, "mysql: problem 3");
	CHECK_EQ_INT(s.proto, DEC_P_MYSQL);
	CHECK_EQ_INT(s.ts, 7);
	dec_note(&n, 8, "problem %d", 4);
	CHECK_EQ_INT(s.n, 5);
	CHECK_EQ_STR(s.last, "mysql: more than 4 problems on this connection; further notes "
			     "suppressed");
	for (i = 5; i < 50; i++)
		dec_note(&n, 9, "problem %d", i);
	CHECK_EQ_INT(s.n, 5);
	dec_notes_close(&n, 10);
	CHECK_EQ_INT(s.n, 5);
}

/* A text already emitted is not emitted again; close counts the repeats. */
static void test_repeats(void)
{
	struct dec_notes n;
	struct seen s = {0};
	int i;

	dec_notes_init(&n, collect, &s, DEC_P_HTTP1, "HTTP/1", 0, 32);
	for (i = 0; i < 10; i++) {
		dec_note(&n, 1, "HTTP/1 response: %s", "bad");
		dec_note(&n, 1, "HTTP/1 request: %s", "bad");
	}
	CHECK_EQ_INT(s.n, 2);
	CHECK_EQ_STR(s.last, "HTTP/1 request: bad");
	dec_note(&n, 1, "HTTP/1 response: %s", "worse");
	CHECK_EQ_INT(s.n, 3);
	dec_notes_close(&n, 2);
	CHECK_EQ_INT(s.n, 4);
	CHECK_EQ_STR(s.last, "HTTP/1: 18 repeated notes on this connection not shown again");
	CHECK_EQ_INT(s.ts, 2);
	dec_notes_close(&n, 3); /* said once */
	CHECK_EQ_INT(s.n, 4);
}

/* A cap above DEC_NOTES_MAX is clamped (the table of seen texts is that big). */
static void test_clamp(void)
{
	struct dec_notes n;
	struct seen s = {0};
	int i;

	dec_notes_init(&n, collect, &s, DEC_P_HTTP2, "HTTP/2", 1, 1000);
	for (i = 0; i < 100; i++)
		dec_note(&n, 0, "n%d", i);
	CHECK_EQ_INT(s.n, DEC_NOTES_MAX + 1);
	/* a long text is cut, never overflows */
	dec_notes_init(&n, collect, &s, DEC_P_HTTP2, "HTTP/2", 1, 4);
	dec_note(&n, 0, "%0600d", 1);
	CHECK(strlen(s.last) < sizeof(s.last) && !strncmp(s.last, "HTTP/2: 000", 11));
}

UNIT_MAIN(UNIT(test_cap), UNIT(test_repeats), UNIT(test_clamp))
