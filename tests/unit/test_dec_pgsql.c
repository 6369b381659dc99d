// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Unit tests of the PostgreSQL decoder, one message type at a time (messages
 * built per "Message Formats" of the PostgreSQL protocol chapter). */
#include "unit.h"
#include "decoders/pgsql.h"

#include <stdint.h>

#define MAXREC 64

struct rec {
	enum dec_rec_type type;
	char *query, *tag, *error, *sqlstate, *user, *db, *note;
	int64_t rows;
	uint64_t latency_us;
};

static struct rec recs[MAXREC];
static int nrec;

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

static void collect(const struct dec_record *r, void *arg)
{
	struct rec *x;

	(void)arg;
	if (nrec >= MAXREC)
		return;
	x = &recs[nrec++];
	memset(x, 0, sizeof(*x));
	x->type = r->type;
	x->latency_us = r->latency_us;
	if (r->type == DEC_R_NOTE) {
		x->note = dup_or_null(r->note.text);
		return;
	}
	x->query = dup_or_null(r->pgsql.query);
	x->tag = dup_or_null(r->pgsql.tag);
	x->error = dup_or_null(r->pgsql.error);
	x->sqlstate = dup_or_null(r->pgsql.sqlstate);
	x->user = dup_or_null(r->pgsql.user);
	x->db = dup_or_null(r->pgsql.database);
	x->rows = r->pgsql.rows;
}

static void reset(void)
{
	int i;

	for (i = 0; i < nrec; i++) {
		free(recs[i].query);
		free(recs[i].tag);
		free(recs[i].error);
		free(recs[i].sqlstate);
		free(recs[i].user);
		free(recs[i].db);
		free(recs[i].note);
	}
	nrec = 0;
}

static int count_notes(void)
{
	int i, n = 0;

	for (i = 0; i < nrec; i++)
		n += recs[i].type == DEC_R_NOTE;
	return n;
}

static struct rec *nth(int i)
{
	static struct rec none;
	int k;

	for (k = 0; k < nrec; k++)
		if (recs[k].type == DEC_R_PGSQL && i-- == 0)
			return &recs[k];
	memset(&none, 0, sizeof(none));
	none.rows = -99;
	return &none;
}

static int eq(const char *a, const char *b)
{
	return a && b && !strcmp(a, b);
}

/* ---- message building ---- */

struct buf {
	uint8_t *p;
	size_t n, cap;
};

static void put(struct buf *b, const void *data, size_t n)
{
	if (b->n + n > b->cap) {
		b->cap = (b->n + n) * 2 + 64;
		b->p = realloc(b->p, b->cap);
	}
	memcpy(b->p + b->n, data, n);
	b->n += n;
}

static void put_be(struct buf *b, uint32_t v, int n)
{
	while (n--) {
		uint8_t c = (uint8_t)(v >> (8 * n));

		put(b, &c, 1);
	}
}

static void put_cstr(struct buf *b, const char *s)
{
	put(b, s, strlen(s) + 1);
}

static void freebuf(struct buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

static void msg(struct buf *out, char type, const struct buf *body)
{
	put(out, &type, 1);
	put_be(out, (uint32_t)(body ? body->n : 0) + 4, 4);
	if (body && body->n)
		put(out, body->p, body->n);
}

static void msg_str(struct buf *out, char type, const char *s)
{
	struct buf b = {0};

	put_cstr(&b, s);
	msg(out, type, &b);
	freebuf(&b);
}

static void startup(struct buf *out, const char *user, const char *db)
{
	struct buf b = {0};

	put_be(&b, 196608, 4);
	put_cstr(&b, "user");
	put_cstr(&b, user);
	if (db) {
		put_cstr(&b, "database");
		put_cstr(&b, db);
	}
	put(&b, "", 1);
	put_be(out, (uint32_t)b.n + 4, 4);
	put(out, b.p, b.n);
	freebuf(&b);
}

static void ready(struct buf *out)
{
	put(out, "Z\0\0\0\5I", 6);
}

static void auth_ok(struct buf *out)
{
	put(out, "R\0\0\0\10\0\0\0\0", 9);
}

static void datarow(struct buf *out, const char *v)
{
	struct buf b = {0};

	put_be(&b, 1, 2);
	put_be(&b, (uint32_t)strlen(v), 4);
	put(&b, v, strlen(v));
	msg(out, 'D', &b);
	freebuf(&b);
}

static void rowdesc(struct buf *out)
{
	struct buf b = {0};

	put_be(&b, 1, 2);
	put_cstr(&b, "x");
	put(&b, "\0\0\0\0\0\0\0\0\0\x19\xff\xff\xff\xff\xff\xff\0\0", 18);
	msg(out, 'T', &b);
	freebuf(&b);
}

static void error(struct buf *out, char type, const char *code, const char *text)
{
	struct buf b = {0};

	put_cstr(&b, "SERROR");
	put(&b, "C", 1);
	put_cstr(&b, code);
	put(&b, "M", 1);
	put_cstr(&b, text);
	put(&b, "", 1);
	msg(out, type, &b);
	freebuf(&b);
}

static void parse(struct buf *out, const char *name, const char *q)
{
	struct buf b = {0};

	put_cstr(&b, name);
	put_cstr(&b, q);
	put_be(&b, 0, 2);
	msg(out, 'P', &b);
	freebuf(&b);
}

static void bind(struct buf *out, const char *portal, const char *stmt)
{
	struct buf b = {0};

	put_cstr(&b, portal);
	put_cstr(&b, stmt);
	put_be(&b, 0, 2);
	put_be(&b, 0, 2);
	put_be(&b, 0, 2);
	msg(out, 'B', &b);
	freebuf(&b);
}

static void execute(struct buf *out, const char *portal, uint32_t maxrows)
{
	struct buf b = {0};

	put_cstr(&b, portal);
	put_be(&b, maxrows, 4);
	msg(out, 'E', &b);
	freebuf(&b);
}

static void feed(struct pgsql *d, enum dec_dir dir, struct buf *b, uint64_t ts)
{
	pgsql_feed(d, dir, b->p, b->n, ts);
	freebuf(b);
}

static struct pgsql *logged_in(void)
{
	struct pgsql *d = pgsql_new(collect, NULL);
	struct buf b = {0};

	reset();
	startup(&b, "app", "shop");
	feed(d, DEC_DIR_REQ, &b, 1000);
	auth_ok(&b);
	put(&b,
	    "S\0\0\0\26server_version\0"
	    "15",
	    22);
	put(&b, "", 1);
	put(&b, "K\0\0\0\14\0\0\0\1\0\0\0\2", 13);
	ready(&b);
	feed(d, DEC_DIR_RESP, &b, 2000);
	return d;
}

/* ---- tests ---- */

static void test_startup(void)
{
	struct pgsql *d = pgsql_new(collect, NULL);
	struct buf b = {0};

	reset();
	startup(&b, "alice", NULL);
	feed(d, DEC_DIR_REQ, &b, 1000);
	/* SASL: mechanism list, continue, final, ok */
	put(&b, "R\0\0\0\27\0\0\0\12SCRAM-SHA-256\0\0", 24);
	feed(d, DEC_DIR_RESP, &b, 2000);
	msg_str(&b, 'p', "SCRAM-SHA-256");
	feed(d, DEC_DIR_REQ, &b, 3000);
	auth_ok(&b);
	ready(&b);
	feed(d, DEC_DIR_RESP, &b, 4000);
	msg_str(&b, 'Q', "SELECT 1");
	feed(d, DEC_DIR_REQ, &b, 5000);
	rowdesc(&b);
	datarow(&b, "1");
	msg_str(&b, 'C', "SELECT 1");
	ready(&b);
	feed(d, DEC_DIR_RESP, &b, 7000);
	CHECK_EQ_INT(nrec, 1);
	CHECK(eq(nth(0)->user, "alice"));
	CHECK(eq(nth(0)->db, "alice")); /* the database defaults to the user name */
	CHECK(eq(nth(0)->tag, "SELECT 1"));
	CHECK_EQ_INT(nth(0)->rows, 1);
	CHECK_EQ_INT(nth(0)->latency_us, 2);
	pgsql_free(d);
}

static void test_startup_error(void)
{
	struct pgsql *d = pgsql_new(collect, NULL);
	struct buf b = {0};

	reset();
	startup(&b, "app", "nodb");
	feed(d, DEC_DIR_REQ, &b, 1000);
	auth_ok(&b);
	error(&b, 'E', "3D000", "database \"nodb\" does not exist");
	feed(d, DEC_DIR_RESP, &b, 2000);
	CHECK_EQ_INT(nrec, 1);
	CHECK(nth(0)->query == NULL);
	CHECK(eq(nth(0)->sqlstate, "3D000"));
	CHECK(eq(nth(0)->error, "database \"nodb\" does not exist"));
	pgsql_free(d);
}

static void test_ssl_answers(void)
{
	static const uint8_t sslreq[8] = {0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f};
	static const uint8_t gssreq[8] = {0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x30};
	struct pgsql *d = pgsql_new(collect, NULL);
	struct buf b = {0};

	reset();
	pgsql_feed(d, DEC_DIR_REQ, sslreq, 8, 1);
	pgsql_feed(d, DEC_DIR_RESP, (const uint8_t *)"S", 1, 2);
	CHECK(pgsql_is_tls(d));
	CHECK_EQ_INT(count_notes(), 1);
	pgsql_feed(d, DEC_DIR_REQ, (const uint8_t *)"\x16\x03\x01\x00\x05hello", 10, 3);
	pgsql_close(d, 4);
	CHECK_EQ_INT(nrec, 1);
	pgsql_free(d);

	/* GSSENC refused, SSL refused, then plain text */
	d = pgsql_new(collect, NULL);
	reset();
	pgsql_feed(d, DEC_DIR_REQ, gssreq, 8, 1);
	pgsql_feed(d, DEC_DIR_RESP, (const uint8_t *)"N", 1, 2);
	pgsql_feed(d, DEC_DIR_REQ, sslreq, 8, 3);
	pgsql_feed(d, DEC_DIR_RESP, (const uint8_t *)"N", 1, 4);
	startup(&b, "app", "shop");
	feed(d, DEC_DIR_REQ, &b, 5);
	auth_ok(&b);
	ready(&b);
	feed(d, DEC_DIR_RESP, &b, 6);
	msg_str(&b, 'Q', "SELECT 1");
	feed(d, DEC_DIR_REQ, &b, 7);
	msg_str(&b, 'C', "SELECT 0");
	ready(&b);
	feed(d, DEC_DIR_RESP, &b, 8);
	CHECK(!pgsql_is_tls(d));
	CHECK_EQ_INT(count_notes(), 0);
	CHECK(eq(nth(0)->query, "SELECT 1") && nth(0)->rows == 0);
	pgsql_free(d);
}

static void test_multi_statement(void)
{
	struct pgsql *d = logged_in();
	struct buf b = {0};

	msg_str(&b, 'Q', "INSERT INTO t VALUES (1); SELECT 2; DELETE FROM t");
	feed(d, DEC_DIR_REQ, &b, 10000);
	msg_str(&b, 'C', "INSERT 0 1");
	rowdesc(&b);
	datarow(&b, "2");
	msg_str(&b, 'C', "SELECT 1");
	put(&b, "N\0\0\0\13M hmm\0\0", 12); /* a notice in between */
	msg_str(&b, 'C', "DELETE 4");
	ready(&b);
	feed(d, DEC_DIR_RESP, &b, 20000);
	CHECK(eq(nth(0)->tag, "INSERT 0 1; SELECT 1; DELETE 4"));
	CHECK_EQ_INT(nth(0)->rows, 6);
	CHECK_EQ_INT(count_notes(), 0);
	pgsql_free(d);
}

static void test_error_response(void)
{
	struct pgsql *d = logged_in();
	struct buf b = {0};

	msg_str(&b, 'Q', "SELECT * FROM nope");
	feed(d, DEC_DIR_REQ, &b, 10000);
	error(&b, 'E', "42P01", "relation \"nope\" does not exist");
	ready(&b);
	feed(d, DEC_DIR_RESP, &b, 20000);
	CHECK(eq(nth(0)->error, "relation \"nope\" does not exist"));
	CHECK(eq(nth(0)->sqlstate, "42P01"));
	CHECK(nth(0)->tag == NULL);
	CHECK_EQ_INT(nth(0)->rows, -1);
	pgsql_free(d);
}

static void test_extended(void)
{
	struct pgsql *d = logged_in();
	struct buf b = {0};

	/* named statement, named portal, describe, execute with a row limit */
	parse(&b, "s1", "SELECT x FROM t WHERE y = $1");
	bind(&b, "p1", "s1");
	put(&b, "D\0\0\0\7Pp1\0", 8);
	execute(&b, "p1", 2);
	execute(&b, "p1", 0);
	put(&b, "S\0\0\0\4", 5);
	feed(d, DEC_DIR_REQ, &b, 10000);
	put(&b, "1\0\0\0\0042\0\0\0\4", 10);
	rowdesc(&b);
	datarow(&b, "a");
	datarow(&b, "b");
	put(&b, "s\0\0\0\4", 5);
	datarow(&b, "c");
	msg_str(&b, 'C', "SELECT 1");
	ready(&b);
	feed(d, DEC_DIR_RESP, &b, 20000);
	/* the unnamed statement and portal, replaced by each Parse/Bind */
	parse(&b, "", "SELECT 1");
	bind(&b, "", "");
	execute(&b, "", 0);
	parse(&b, "", "SELECT 2");
	bind(&b, "", "");
	execute(&b, "", 0);
	/* the named statement again, then closed */
	bind(&b, "", "s1");
	execute(&b, "", 0);
	put(&b, "C\0\0\0\10Ss1\0", 9);
	put(&b, "S\0\0\0\4", 5);
	feed(d, DEC_DIR_REQ, &b, 30000);
	put(&b, "1\0\0\0\0042\0\0\0\4", 10);
	datarow(&b, "1");
	msg_str(&b, 'C', "SELECT 1");
	put(&b, "1\0\0\0\0042\0\0\0\4", 10);
	msg_str(&b, 'C', "SELECT 0");
	put(&b, "2\0\0\0\4", 5);
	msg_str(&b, 'C', "UPDATE 3");
	put(&b, "3\0\0\0\4", 5);
	ready(&b);
	feed(d, DEC_DIR_RESP, &b, 40000);
	bind(&b, "", "s1"); /* closed: text unknown, and the server says so */
	execute(&b, "", 0);
	put(&b, "S\0\0\0\4", 5);
	feed(d, DEC_DIR_REQ, &b, 50000);
	error(&b, 'E', "26000", "prepared statement \"s1\" does not exist");
	ready(&b);
	feed(d, DEC_DIR_RESP, &b, 60000);
	CHECK(eq(nth(0)->query, "SELECT x FROM t WHERE y = $1") && nth(0)->rows == 2 &&
	      nth(0)->tag == NULL);
	CHECK(eq(nth(1)->query, "SELECT x FROM t WHERE y = $1") && eq(nth(1)->tag, "SELECT 1"));
	CHECK(eq(nth(2)->query, "SELECT 1") && nth(2)->rows == 1);
	CHECK(eq(nth(3)->query, "SELECT 2") && nth(3)->rows == 0);
	CHECK(eq(nth(4)->query, "SELECT x FROM t WHERE y = $1") && nth(4)->rows == 3);
	CHECK(nth(5)->query == NULL && eq(nth(5)->sqlstate, "26000"));
	CHECK_EQ_INT(nth(0)->latency_us, 10); /* from the Parse at 10 us to its suspension */
	CHECK_EQ_INT(count_notes(), 0);
	pgsql_free(d);
}

static void test_parse_error_skips_to_sync(void)
{
	struct pgsql *d = logged_in();
	struct buf b = {0};

	parse(&b, "", "SELEC 1");
	bind(&b, "", "");
	execute(&b, "", 0);
	put(&b, "S\0\0\0\4", 5);
	parse(&b, "", "SELECT 3");
	bind(&b, "", "");
	execute(&b, "", 0);
	put(&b, "S\0\0\0\4", 5);
	feed(d, DEC_DIR_REQ, &b, 10000);
	error(&b, 'E', "42601", "syntax error");
	ready(&b);
	put(&b, "1\0\0\0\0042\0\0\0\4", 10);
	datarow(&b, "3");
	msg_str(&b, 'C', "SELECT 1");
	ready(&b);
	feed(d, DEC_DIR_RESP, &b, 20000);
	CHECK(eq(nth(0)->query, "SELEC 1") && eq(nth(0)->sqlstate, "42601"));
	CHECK(eq(nth(1)->query, "SELECT 3") && nth(1)->rows == 1 && !nth(1)->error);
	CHECK_EQ_INT(count_notes(), 0);
	pgsql_free(d);
}

static void test_copy(void)
{
	struct pgsql *d = logged_in();
	struct buf b = {0};
	int i;

	msg_str(&b, 'Q', "COPY t TO STDOUT");
	feed(d, DEC_DIR_REQ, &b, 10000);
	put(&b, "H\0\0\0\11\0\0\1\0\0", 10);
	for (i = 0; i < 4; i++)
		put(&b, "d\0\0\0\6a\n", 7);
	put(&b, "c\0\0\0\4", 5);
	msg_str(&b, 'C', "COPY 4");
	ready(&b);
	feed(d, DEC_DIR_RESP, &b, 20000);
	msg_str(&b, 'Q', "COPY t FROM STDIN");
	feed(d, DEC_DIR_REQ, &b, 30000);
	put(&b, "G\0\0\0\11\0\0\1\0\0", 10);
	feed(d, DEC_DIR_RESP, &b, 40000);
	put(&b, "d\0\0\0\12a\nb\nc\n", 11);
	put(&b, "c\0\0\0\4", 5);
	feed(d, DEC_DIR_REQ, &b, 50000);
	msg_str(&b, 'C', "COPY 3");
	ready(&b);
	feed(d, DEC_DIR_RESP, &b, 60000);
	CHECK(eq(nth(0)->tag, "COPY 4") && nth(0)->rows == 4);
	CHECK(eq(nth(1)->tag, "COPY 3") && nth(1)->rows == 3);
	CHECK_EQ_INT(nth(1)->latency_us, 30);
	CHECK_EQ_INT(count_notes(), 0);
	pgsql_free(d);
}

static void test_empty_and_function(void)
{
	struct pgsql *d = logged_in();
	struct buf b = {0};

	msg_str(&b, 'Q', "");
	feed(d, DEC_DIR_REQ, &b, 10000);
	put(&b, "I\0\0\0\4", 5);
	ready(&b);
	feed(d, DEC_DIR_RESP, &b, 20000);
	put(&b, "F\0\0\0\16\0\0\4\1\0\0\0\0\0\0", 15);
	feed(d, DEC_DIR_REQ, &b, 30000);
	put(&b, "V\0\0\0\12\0\0\0\2ok", 11);
	ready(&b);
	feed(d, DEC_DIR_RESP, &b, 40000);
	CHECK(eq(nth(0)->query, "") && eq(nth(0)->tag, ""));
	CHECK(nth(1)->query == NULL && nth(1)->latency_us == 10);
	CHECK_EQ_INT(count_notes(), 0);
	pgsql_free(d);
}

static void test_midconnection(void)
{
	struct pgsql *d = pgsql_new(collect, NULL);
	struct buf b = {0};

	reset();
	/* the tail of an answer, with a ReadyForQuery to resync on */
	put(&b, "\0\0\1\0\0\0\0017", 9);
	msg_str(&b, 'C', "SELECT 9");
	ready(&b);
	feed(d, DEC_DIR_RESP, &b, 1000);
	/* a client write starting inside a message, then one with two messages */
	pgsql_feed(d, DEC_DIR_REQ, (const uint8_t *)"ERE id = 1\0", 11, 2000);
	bind(&b, "", "old");
	execute(&b, "", 0);
	put(&b, "S\0\0\0\4", 5);
	feed(d, DEC_DIR_REQ, &b, 3000);
	put(&b, "2\0\0\0\4", 5);
	datarow(&b, "1");
	msg_str(&b, 'C', "SELECT 1");
	ready(&b);
	feed(d, DEC_DIR_RESP, &b, 4000);
	CHECK(nth(0)->query == NULL && eq(nth(0)->tag, "SELECT 1") && nth(0)->rows == 1);
	CHECK(nth(0)->user == NULL);
	CHECK_EQ_INT(count_notes(), 2); /* a bad first client write, joined mid-connection */
	pgsql_free(d);
}

static void test_absurd_lengths(void)
{
	struct pgsql *d = logged_in();
	struct buf b = {0};

	msg_str(&b, 'Q', "SELECT 1");
	feed(d, DEC_DIR_REQ, &b, 10000);
	put(&b, "D\x7f\xff\xff\xf0\0\1", 7);
	feed(d, DEC_DIR_RESP, &b, 20000);
	ready(&b);
	feed(d, DEC_DIR_RESP, &b, 21000);
	/* a client message of a type that does not exist */
	put(&b, "\x01\0\0\0\4", 5);
	feed(d, DEC_DIR_REQ, &b, 30000);
	msg_str(&b, 'Q', "SELECT 2");
	feed(d, DEC_DIR_REQ, &b, 40000);
	msg_str(&b, 'C', "SELECT 0");
	ready(&b);
	feed(d, DEC_DIR_RESP, &b, 50000);
	CHECK(eq(nth(0)->query, "SELECT 1") && nth(0)->rows == -1);
	CHECK(eq(nth(1)->query, "SELECT 2") && nth(1)->rows == 0);
	CHECK_EQ_INT(count_notes(), 2);
	pgsql_free(d);
}

static void test_gap_inside(void)
{
	struct pgsql *d = logged_in();
	struct buf b = {0};

	msg_str(&b, 'Q', "SELECT x");
	feed(d, DEC_DIR_REQ, &b, 10000);
	rowdesc(&b);
	datarow(&b, "abcdef");
	msg_str(&b, 'C', "SELECT 1");
	ready(&b);
	/* DataRow: 5 header + 2 count + 4 length + "abcdef"; lose "bcd" */
	pgsql_feed(d, DEC_DIR_RESP, b.p, 24 + 12, 20000);
	pgsql_gap(d, DEC_DIR_RESP, 3);
	pgsql_feed(d, DEC_DIR_RESP, b.p + 24 + 15, b.n - 24 - 15, 20000);
	freebuf(&b);
	CHECK(eq(nth(0)->tag, "SELECT 1"));
	CHECK_EQ_INT(count_notes(), 1);
	pgsql_free(d);
}

static void test_big_query(void)
{
	struct pgsql *d = logged_in();
	size_t n = PGSQL_MSG_CAP + 1000;
	char *q = malloc(n + 1);
	struct buf b = {0};

	memset(q, 'x', n);
	memcpy(q, "SELECT '", 8);
	q[n] = 0;
	msg_str(&b, 'Q', q);
	feed(d, DEC_DIR_REQ, &b, 10000);
	msg_str(&b, 'C', "SELECT 1");
	ready(&b);
	feed(d, DEC_DIR_RESP, &b, 20000);
	CHECK_EQ_INT(strlen(nth(0)->query), PGSQL_MSG_CAP);
	CHECK_EQ_INT(count_notes(), 1);
	free(q);
	pgsql_free(d);
}

static void test_truncated_everywhere(void)
{
	struct buf c = {0}, s = {0};
	size_t cut;

	startup(&c, "app", "shop");
	msg_str(&c, 'Q', "SELECT x");
	parse(&c, "s", "SELECT $1");
	bind(&c, "", "s");
	execute(&c, "", 0);
	put(&c, "S\0\0\0\4", 5);
	auth_ok(&s);
	ready(&s);
	rowdesc(&s);
	datarow(&s, "a");
	msg_str(&s, 'C', "SELECT 1");
	ready(&s);
	put(&s, "1\0\0\0\0042\0\0\0\4", 10);
	error(&s, 'E', "22000", "bad");
	ready(&s);
	for (cut = 0; cut <= c.n + s.n; cut++) {
		struct pgsql *d = pgsql_new(collect, NULL);
		size_t cc = cut < c.n ? cut : c.n, sc = cut > c.n ? cut - c.n : 0;

		reset();
		pgsql_feed(d, DEC_DIR_REQ, c.p, cc, 1);
		pgsql_feed(d, DEC_DIR_RESP, s.p, sc, 2);
		pgsql_close(d, 3);
		pgsql_free(d);
	}
	reset();
	freebuf(&c);
	freebuf(&s);
	CHECK(1);
}

static void test_detect(void)
{
	struct buf b = {0};

	startup(&b, "app", "shop");
	CHECK_EQ_INT(pgsql_detect(b.p, b.n, DEC_DIR_REQ), 2);
	CHECK_EQ_INT(pgsql_detect(b.p, 3, DEC_DIR_REQ), 1);
	CHECK_EQ_INT(pgsql_detect(b.p, b.n, DEC_DIR_RESP), 0);
	freebuf(&b);
	CHECK_EQ_INT(pgsql_detect((const uint8_t *)"\0\0\0\x08\x04\xd2\x16\x2f", 8, DEC_DIR_REQ),
		     2);
	CHECK_EQ_INT(pgsql_detect((const uint8_t *)"\0\0\0\x08\x04\xd2\x16\x30", 8, DEC_DIR_REQ),
		     2);
	CHECK_EQ_INT(pgsql_detect((const uint8_t *)"\0\0\0\x08\x04\xd2\x16\x31", 8, DEC_DIR_REQ),
		     0);
	msg_str(&b, 'Q', "SELECT 1");
	CHECK_EQ_INT(pgsql_detect(b.p, b.n, DEC_DIR_REQ), 2);
	CHECK_EQ_INT(pgsql_detect(b.p, 7, DEC_DIR_REQ), 1);
	freebuf(&b);
	auth_ok(&b);
	CHECK_EQ_INT(pgsql_detect(b.p, b.n, DEC_DIR_RESP), 2);
	freebuf(&b);
	CHECK_EQ_INT(pgsql_detect((const uint8_t *)"GET / HTTP/1.1\r\n", 16, DEC_DIR_REQ), 0);
	CHECK_EQ_INT(pgsql_detect((const uint8_t *)"Quit now\r\n", 10, DEC_DIR_REQ), 0);
}

UNIT_MAIN(UNIT(test_startup), UNIT(test_startup_error), UNIT(test_ssl_answers),
	  UNIT(test_multi_statement), UNIT(test_error_response), UNIT(test_extended),
	  UNIT(test_parse_error_skips_to_sync), UNIT(test_copy), UNIT(test_empty_and_function),
	  UNIT(test_midconnection), UNIT(test_absurd_lengths), UNIT(test_gap_inside),
	  UNIT(test_big_query), UNIT(test_truncated_everywhere), UNIT(test_detect))
