// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Unit tests of the MySQL decoder, one message type at a time (packets built per
 * the MySQL Client/Server Protocol pages). */
#include "unit.h"
#include "decoders/mysql.h"

#include <stdint.h>

#define MAXREC 64

struct rec {
	enum dec_rec_type type;
	char *command, *query, *error, *sqlstate, *user, *db, *note;
	int64_t rows, columns;
	int error_code;
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
	x->command = dup_or_null(r->mysql.command);
	x->query = dup_or_null(r->mysql.query);
	x->error = dup_or_null(r->mysql.error);
	x->sqlstate = dup_or_null(r->mysql.sqlstate);
	x->user = dup_or_null(r->mysql.user);
	x->db = dup_or_null(r->mysql.database);
	x->rows = r->mysql.rows;
	x->columns = r->mysql.columns;
	x->error_code = r->mysql.error_code;
}

static void reset(void)
{
	int i;

	for (i = 0; i < nrec; i++) {
		free(recs[i].command);
		free(recs[i].query);
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

/* The i-th record that is not a note (an empty one if there is none). */
static struct rec *nth(int i)
{
	static struct rec none;
	int k;

	for (k = 0; k < nrec; k++)
		if (recs[k].type == DEC_R_MYSQL && i-- == 0)
			return &recs[k];
	memset(&none, 0, sizeof(none));
	none.rows = none.columns = -99;
	return &none;
}

/* NULL-safe string equality for records' fields. */
static int eq(const char *a, const char *b)
{
	return a && b && !strcmp(a, b);
}

/* ---- packet building ---- */

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

static void put_str(struct buf *b, const char *s)
{
	put(b, s, strlen(s));
}

static void put_u8(struct buf *b, unsigned v)
{
	uint8_t c = (uint8_t)v;

	put(b, &c, 1);
}

static void put_le(struct buf *b, uint64_t v, int n)
{
	while (n--) {
		put_u8(b, v & 0xff);
		v >>= 8;
	}
}

static void put_lenenc(struct buf *b, uint64_t v)
{
	if (v < 251) {
		put_u8(b, (unsigned)v);
	} else if (v < 1 << 16) {
		put_u8(b, 0xfc);
		put_le(b, v, 2);
	} else if (v < 1 << 24) {
		put_u8(b, 0xfd);
		put_le(b, v, 3);
	} else {
		put_u8(b, 0xfe);
		put_le(b, v, 8);
	}
}

static void put_lstr(struct buf *b, const char *s)
{
	put_lenenc(b, strlen(s));
	put_str(b, s);
}

/* Wrap payload into one packet (payload < 0xffffff). */
static void pkt(struct buf *out, unsigned seq, const struct buf *payload)
{
	put_le(out, payload->n, 3);
	put_u8(out, seq);
	put(out, payload->p, payload->n);
}

static void pkt_raw(struct buf *out, unsigned seq, const void *data, size_t n)
{
	put_le(out, n, 3);
	put_u8(out, seq);
	put(out, data, n);
}

static void freebuf(struct buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

#define CLIENT_CONNECT_WITH_DB	 0x8u
#define CLIENT_COMPRESS		 0x20u
#define CLIENT_PROTOCOL_41	 0x200u
#define CLIENT_SSL		 0x800u
#define CLIENT_TRANSACTIONS	 0x2000u
#define CLIENT_SECURE_CONNECTION 0x8000u
#define CLIENT_PLUGIN_AUTH	 0x80000u
#define CLIENT_SESSION_TRACK	 0x800000u
#define CLIENT_DEPRECATE_EOF	 0x1000000u
#define CLIENT_QUERY_ATTRIBUTES	 0x8000000u
#define BASE_CAPS                                                                                  \
	(CLIENT_PROTOCOL_41 | CLIENT_TRANSACTIONS | CLIENT_SECURE_CONNECTION |                     \
	 CLIENT_PLUGIN_AUTH | CLIENT_CONNECT_WITH_DB | CLIENT_SESSION_TRACK)

static void greeting(struct buf *out, uint32_t caps)
{
	struct buf p = {0};

	put_u8(&p, 10);
	put_str(&p, "8.0.36");
	put_u8(&p, 0);
	put_le(&p, 42, 4);
	put_str(&p, "abcdefgh");
	put_u8(&p, 0);
	put_le(&p, caps & 0xffff, 2);
	put_u8(&p, 255);
	put_le(&p, 2, 2);
	put_le(&p, caps >> 16, 2);
	put_u8(&p, 21);
	put(&p, "\0\0\0\0\0\0\0\0\0\0", 10);
	put_str(&p, "ijklmnopqrst");
	put_u8(&p, 0);
	put_str(&p, "caching_sha2_password");
	put_u8(&p, 0);
	pkt(out, 0, &p);
	freebuf(&p);
}

static void hs_response(struct buf *out, uint32_t caps, const char *user, const char *db)
{
	struct buf p = {0};
	static const uint8_t zero[23];

	put_le(&p, caps, 4);
	put_le(&p, 1 << 24, 4);
	put_u8(&p, 255);
	put(&p, zero, 23);
	put_str(&p, user);
	put_u8(&p, 0);
	put_u8(&p, 20);
	put_str(&p, "01234567890123456789");
	if (db) {
		put_str(&p, db);
		put_u8(&p, 0);
	}
	put_str(&p, "caching_sha2_password");
	put_u8(&p, 0);
	pkt(out, 1, &p);
	freebuf(&p);
}

static void ok_pkt(struct buf *out, unsigned seq, uint64_t affected, unsigned status,
		   unsigned header)
{
	struct buf p = {0};

	put_u8(&p, header);
	put_lenenc(&p, affected);
	put_lenenc(&p, 0);
	put_le(&p, status, 2);
	put_le(&p, 0, 2);
	pkt(out, seq, &p);
	freebuf(&p);
}

static void eof_pkt(struct buf *out, unsigned seq, unsigned status)
{
	uint8_t e[5] = {0xfe, 0, 0, (uint8_t)status, (uint8_t)(status >> 8)};

	pkt_raw(out, seq, e, 5);
}

static void err_pkt(struct buf *out, unsigned seq, unsigned code, const char *state,
		    const char *msg)
{
	struct buf p = {0};

	put_u8(&p, 0xff);
	put_le(&p, code, 2);
	put_u8(&p, '#');
	put_str(&p, state);
	put_str(&p, msg);
	pkt(out, seq, &p);
	freebuf(&p);
}

static void coldef(struct buf *out, unsigned seq, const char *name)
{
	struct buf p = {0};

	put_lstr(&p, "def");
	put_lstr(&p, "shop");
	put_lstr(&p, "t");
	put_lstr(&p, "t");
	put_lstr(&p, name);
	put_lstr(&p, name);
	put(&p, "\x0c\x21\x00\x3c\x00\x00\x00\xfd\x00\x00\x00\x00\x00", 13);
	pkt(out, seq, &p);
	freebuf(&p);
}

static void text_row(struct buf *out, unsigned seq, const char *a, const char *b)
{
	struct buf p = {0};

	put_lstr(&p, a);
	if (b)
		put_lstr(&p, b);
	pkt(out, seq, &p);
	freebuf(&p);
}

/* A text result set of ncols columns and nrows rows starting at sequence id seq;
 * returns the next sequence id. */
static unsigned resultset(struct buf *out, unsigned seq, int ncols, int nrows, int deprecate_eof,
			  unsigned status)
{
	struct buf p = {0};
	int i;

	put_lenenc(&p, (uint64_t)ncols);
	pkt(out, seq++, &p);
	freebuf(&p);
	for (i = 0; i < ncols; i++)
		coldef(out, seq++, i ? "name" : "id");
	if (!deprecate_eof)
		eof_pkt(out, seq++, 0x0002);
	for (i = 0; i < nrows; i++)
		text_row(out, seq++, "1", ncols > 1 ? "apple" : NULL);
	if (deprecate_eof)
		ok_pkt(out, seq++, 0, status, 0xfe);
	else
		eof_pkt(out, seq++, status);
	return seq;
}

static void cmd(struct buf *out, unsigned command, const char *text)
{
	struct buf p = {0};

	put_u8(&p, command);
	if (text)
		put_str(&p, text);
	pkt(out, 0, &p);
	freebuf(&p);
}

static void stmt_cmd(struct buf *out, unsigned command, uint32_t id, int execute)
{
	struct buf p = {0};

	put_u8(&p, command);
	put_le(&p, id, 4);
	if (execute) {
		put_u8(&p, 0);	  /* flags */
		put_le(&p, 1, 4); /* iteration count */
	}
	pkt(out, 0, &p);
	freebuf(&p);
}

static void feed(struct mysql *d, enum dec_dir dir, struct buf *b, uint64_t ts)
{
	mysql_feed(d, dir, b->p, b->n, ts);
	freebuf(b);
}

/* A decoder past a login with the given client capabilities. */
static struct mysql *logged_in(uint32_t caps)
{
	struct mysql *d = mysql_new(collect, NULL);
	struct buf b = {0};

	reset();
	greeting(&b, 0xffffffffu);
	feed(d, DEC_DIR_RESP, &b, 1000);
	hs_response(&b, caps, "app", "shop");
	feed(d, DEC_DIR_REQ, &b, 2000);
	ok_pkt(&b, 2, 0, 2, 0);
	feed(d, DEC_DIR_RESP, &b, 3000);
	return d;
}

/* ---- tests ---- */

static void test_handshake(void)
{
	struct mysql *d = logged_in(BASE_CAPS);

	CHECK_EQ_INT(nrec, 1);
	CHECK_EQ_STR(recs[0].command, "CONNECT");
	CHECK_EQ_STR(recs[0].user, "app");
	CHECK_EQ_STR(recs[0].db, "shop");
	CHECK(recs[0].error == NULL);
	CHECK_EQ_INT(recs[0].latency_us, 1); /* handshake response at 2000 ns, OK at 3000 ns */
	CHECK(!mysql_is_tls(d));
	mysql_free(d);
}

static void test_login_refused(void)
{
	struct mysql *d = mysql_new(collect, NULL);
	struct buf b = {0};

	reset();
	greeting(&b, 0xffffffffu);
	feed(d, DEC_DIR_RESP, &b, 1000);
	hs_response(&b, BASE_CAPS & ~CLIENT_CONNECT_WITH_DB, "app", NULL);
	feed(d, DEC_DIR_REQ, &b, 2000);
	err_pkt(&b, 2, 1045, "28000", "Access denied for user 'app'");
	feed(d, DEC_DIR_RESP, &b, 3000);
	CHECK_EQ_INT(nrec, 1);
	CHECK_EQ_STR(recs[0].command, "CONNECT");
	CHECK_EQ_INT(recs[0].error_code, 1045);
	CHECK_EQ_STR(recs[0].error, "Access denied for user 'app'");
	CHECK_EQ_STR(recs[0].sqlstate, "28000");
	CHECK(recs[0].db == NULL);
	mysql_free(d);
}

static void test_ssl_request(void)
{
	struct mysql *d = mysql_new(collect, NULL);
	struct buf b = {0};
	uint8_t p[32] = {0};

	reset();
	greeting(&b, 0xffffffffu);
	feed(d, DEC_DIR_RESP, &b, 1000);
	p[0] = (BASE_CAPS | CLIENT_SSL) & 0xff;
	p[1] = ((BASE_CAPS | CLIENT_SSL) >> 8) & 0xff;
	p[2] = ((BASE_CAPS | CLIENT_SSL) >> 16) & 0xff;
	pkt_raw(&b, 1, p, sizeof(p));
	feed(d, DEC_DIR_REQ, &b, 2000);
	CHECK(mysql_is_tls(d));
	CHECK_EQ_INT(count_notes(), 1);
	CHECK(recs[0].note && strstr(recs[0].note, "TLS"));
	/* TLS records follow: nothing more is decoded */
	mysql_feed(d, DEC_DIR_REQ, (const uint8_t *)"\x16\x03\x01\x00\x05hello", 10, 3000);
	mysql_close(d, 4000);
	CHECK_EQ_INT(nrec, 1);
	mysql_free(d);
}

static void test_query_resultset(void)
{
	struct mysql *d = logged_in(BASE_CAPS);
	struct buf b = {0};
	struct rec *r;

	cmd(&b, 0x03, "SELECT id, name FROM items");
	feed(d, DEC_DIR_REQ, &b, 10000);
	resultset(&b, 1, 2, 3, 0, 0x0002);
	feed(d, DEC_DIR_RESP, &b, 2010000);
	r = nth(1);
	CHECK(r != NULL);
	if (r) {
		CHECK_EQ_STR(r->command, "COM_QUERY");
		CHECK_EQ_STR(r->query, "SELECT id, name FROM items");
		CHECK_EQ_INT(r->rows, 3);
		CHECK_EQ_INT(r->columns, 2);
		CHECK_EQ_INT(r->latency_us, 2000);
	}
	mysql_free(d);
}

static void test_ok_and_err(void)
{
	struct mysql *d = logged_in(BASE_CAPS);
	struct buf b = {0};

	cmd(&b, 0x03, "UPDATE items SET price = 2");
	feed(d, DEC_DIR_REQ, &b, 10000);
	ok_pkt(&b, 1, 7, 2, 0);
	feed(d, DEC_DIR_RESP, &b, 20000);
	cmd(&b, 0x03, "SELECT * FROM nope");
	feed(d, DEC_DIR_REQ, &b, 30000);
	err_pkt(&b, 1, 1146, "42S02", "Table 'shop.nope' doesn't exist");
	feed(d, DEC_DIR_RESP, &b, 40000);
	CHECK_EQ_INT(nth(1)->rows, 7);
	CHECK_EQ_INT(nth(1)->columns, -1);
	CHECK(nth(1)->sqlstate == NULL);
	CHECK_EQ_INT(nth(2)->error_code, 1146);
	CHECK_EQ_STR(nth(2)->error, "Table 'shop.nope' doesn't exist");
	CHECK_EQ_STR(nth(2)->sqlstate, "42S02");
	CHECK_EQ_INT(nth(2)->rows, -1);
	mysql_free(d);
}

/* "ERR_Packet": the SQL state comes only after the '#' marker (CLIENT_PROTOCOL_41);
 * an ERR without it (a server refusing the connection before the handshake, or
 * a pre-4.1 peer) has none, and a '#' not followed by 5 alphanumerics is part of
 * the message. */
static void test_err_sqlstate(void)
{
	struct mysql *d = mysql_new(collect, NULL);
	struct buf b = {0}, p = {0};

	reset();
	put_u8(&p, 0xff);
	put_le(&p, 1130, 2);
	put_str(&p, "Host '10.0.0.9' is not allowed to connect to this MariaDB server");
	pkt(&b, 0, &p);
	freebuf(&p);
	feed(d, DEC_DIR_RESP, &b, 1000);
	CHECK_EQ_INT(nrec, 1);
	CHECK_EQ_STR(recs[0].command, "CONNECT");
	CHECK_EQ_INT(recs[0].error_code, 1130);
	CHECK(recs[0].sqlstate == NULL);
	CHECK_EQ_STR(recs[0].error, "Host '10.0.0.9' is not allowed to connect to this MariaDB "
				    "server");
	mysql_free(d);

	d = logged_in(BASE_CAPS);
	cmd(&b, 0x03, "SELEC 1");
	feed(d, DEC_DIR_REQ, &b, 10000);
	err_pkt(&b, 1, 1064, "42000", "You have an error in your SQL syntax");
	feed(d, DEC_DIR_RESP, &b, 20000);
	CHECK_EQ_STR(nth(1)->sqlstate, "42000");
	CHECK_EQ_STR(nth(1)->error, "You have an error in your SQL syntax");
	cmd(&b, 0x03, "SELECT 2");
	feed(d, DEC_DIR_REQ, &b, 30000);
	put_u8(&p, 0xff);
	put_le(&p, 1105, 2);
	put_str(&p, "# not a state: unknown error");
	pkt(&b, 1, &p);
	freebuf(&p);
	feed(d, DEC_DIR_RESP, &b, 40000);
	CHECK(nth(2)->sqlstate == NULL);
	CHECK_EQ_STR(nth(2)->error, "# not a state: unknown error");
	/* cut inside the state: no state, the bytes are the message */
	cmd(&b, 0x03, "SELECT 3");
	feed(d, DEC_DIR_REQ, &b, 50000);
	pkt_raw(&b, 1, "\xff\x51\x04#HY0", 7);
	feed(d, DEC_DIR_RESP, &b, 60000);
	CHECK(nth(3)->sqlstate == NULL);
	CHECK_EQ_INT(nth(3)->error_code, 1105);
	mysql_free(d);
}

static void test_prepared(void)
{
	struct mysql *d = logged_in(BASE_CAPS);
	struct buf b = {0}, p = {0};

	cmd(&b, 0x16, "SELECT name FROM items WHERE id > ?");
	feed(d, DEC_DIR_REQ, &b, 10000);
	/* COM_STMT_PREPARE_OK: id 7, 1 column, 1 parameter */
	put_u8(&p, 0);
	put_le(&p, 7, 4);
	put_le(&p, 1, 2);
	put_le(&p, 1, 2);
	put_u8(&p, 0);
	put_le(&p, 0, 2);
	pkt(&b, 1, &p);
	freebuf(&p);
	coldef(&b, 2, "?");
	eof_pkt(&b, 3, 2);
	coldef(&b, 4, "name");
	eof_pkt(&b, 5, 2);
	feed(d, DEC_DIR_RESP, &b, 20000);
	stmt_cmd(&b, 0x17, 7, 1);
	feed(d, DEC_DIR_REQ, &b, 30000);
	/* binary result set: count, definition, EOF, rows (0x00 header), EOF */
	pkt_raw(&b, 1, "\x01", 1);
	coldef(&b, 2, "name");
	eof_pkt(&b, 3, 2);
	pkt_raw(&b, 4, "\x00\x00\x05apple", 8);
	pkt_raw(&b, 5, "\x00\x00\x04pear", 7);
	eof_pkt(&b, 6, 2);
	feed(d, DEC_DIR_RESP, &b, 40000);
	/* MariaDB's "last prepared statement" id */
	stmt_cmd(&b, 0x17, 0xffffffffu, 1);
	feed(d, DEC_DIR_REQ, &b, 50000);
	ok_pkt(&b, 1, 0, 2, 0);
	feed(d, DEC_DIR_RESP, &b, 60000);
	stmt_cmd(&b, 0x19, 7, 0);
	feed(d, DEC_DIR_REQ, &b, 70000);
	stmt_cmd(&b, 0x17, 7, 1); /* closed: text unknown */
	feed(d, DEC_DIR_REQ, &b, 80000);
	CHECK_EQ_STR(nth(1)->command, "COM_STMT_PREPARE");
	CHECK_EQ_INT(nth(1)->columns, 1);
	CHECK_EQ_STR(nth(2)->command, "COM_STMT_EXECUTE");
	CHECK_EQ_STR(nth(2)->query, "SELECT name FROM items WHERE id > ?");
	CHECK_EQ_INT(nth(2)->rows, 2);
	CHECK_EQ_STR(nth(3)->query, "SELECT name FROM items WHERE id > ?");
	CHECK_EQ_STR(nth(4)->command, "COM_STMT_CLOSE");
	CHECK_EQ_STR(nth(4)->query, "SELECT name FROM items WHERE id > ?");
	mysql_close(d, 90000);
	CHECK(nth(5) != NULL && nth(5)->query == NULL);
	mysql_free(d);
}

/* Payloads of 16 MiB and more: 0xffffff-byte packets joined into one message. */
static void test_multi_packet(void)
{
	struct mysql *d = logged_in(BASE_CAPS);
	size_t total = 0xffffffu + 100, off, n;
	uint8_t *big = malloc(total + 1);
	uint8_t hdr[4];
	unsigned seq = 0;
	struct buf b = {0};
	int i;

	/* A 16 MiB + 100 byte COM_QUERY: packet of 0xffffff bytes, then 100 bytes. */
	big[0] = 0x03;
	memcpy(big + 1, "INSERT INTO t VALUES ('", 23);
	memset(big + 24, 'x', total - 24);
	for (off = 0; off <= total; off += 0xffffff) {
		n = total - off < 0xffffff ? total - off : 0xffffff;
		hdr[0] = n & 0xff;
		hdr[1] = (n >> 8) & 0xff;
		hdr[2] = (n >> 16) & 0xff;
		hdr[3] = (uint8_t)seq++;
		mysql_feed(d, DEC_DIR_REQ, hdr, 4, 10000);
		/* in 64 KiB writes, as a socket would deliver it */
		for (i = 0; (size_t)i * 65536 < n; i++) {
			size_t k = n - (size_t)i * 65536 < 65536 ? n - (size_t)i * 65536 : 65536;

			mysql_feed(d, DEC_DIR_REQ, big + off + (size_t)i * 65536, k, 10000);
		}
		if (n < 0xffffff)
			break;
	}
	ok_pkt(&b, seq, 1, 2, 0);
	feed(d, DEC_DIR_RESP, &b, 20000);
	CHECK(nth(1) != NULL);
	if (nth(1)) {
		CHECK_EQ_INT(nth(1)->rows, 1);
		CHECK_EQ_INT(strlen(nth(1)->query), MYSQL_MSG_CAP - 1);
		CHECK(!strncmp(nth(1)->query, "INSERT INTO t VALUES ('xxx", 26));
	}
	CHECK_EQ_INT(count_notes(), 1); /* the text was cut */

	/* A row of exactly 0xffffff bytes: an empty packet must follow it. */
	cmd(&b, 0x03, "SELECT blob FROM t");
	feed(d, DEC_DIR_REQ, &b, 30000);
	pkt_raw(&b, 1, "\x01", 1);
	coldef(&b, 2, "blob");
	eof_pkt(&b, 3, 2);
	feed(d, DEC_DIR_RESP, &b, 40000);
	big[0] = 0xfd; /* lenenc 3-byte length, then the value */
	big[1] = 0xfb;
	big[2] = 0xff;
	big[3] = 0xff;
	hdr[0] = hdr[1] = hdr[2] = 0xff;
	hdr[3] = 4;
	mysql_feed(d, DEC_DIR_RESP, hdr, 4, 40000);
	mysql_feed(d, DEC_DIR_RESP, big, 0xffffff, 40000);
	pkt_raw(&b, 5, "", 0);
	text_row(&b, 6, "small", NULL);
	eof_pkt(&b, 7, 2);
	feed(d, DEC_DIR_RESP, &b, 50000);
	CHECK(nth(2) != NULL);
	if (nth(2))
		CHECK_EQ_INT(nth(2)->rows, 2);
	CHECK_EQ_INT(count_notes(), 1);
	free(big);
	mysql_free(d);
}

/* Started after the handshake: resync on a client packet with sequence id 0. */
static void test_midconnection(void)
{
	struct mysql *d = mysql_new(collect, NULL);
	struct buf b = {0};

	reset();
	/* the tail of an earlier response, and of an earlier client packet */
	mysql_feed(d, DEC_DIR_RESP, (const uint8_t *)"\x05\x00\x00\x09\xfe\x00\x00\x02\x00", 9, 1);
	mysql_feed(d, DEC_DIR_REQ, (const uint8_t *)"ms WHERE id = 3", 15, 2);
	/* a command with garbage in front of it in the same write */
	put_str(&b, "zz\x01");
	cmd(&b, 0x03, "SELECT 1");
	feed(d, DEC_DIR_REQ, &b, 1000);
	resultset(&b, 1, 1, 1, 0, 2);
	feed(d, DEC_DIR_RESP, &b, 2000);
	cmd(&b, 0x0e, NULL);
	feed(d, DEC_DIR_REQ, &b, 3000);
	ok_pkt(&b, 1, 0, 2, 0);
	feed(d, DEC_DIR_RESP, &b, 4000);
	CHECK(nth(0) && eq(nth(0)->query, "SELECT 1") && nth(0)->rows == 1);
	CHECK(nth(1) && eq(nth(1)->command, "COM_PING"));
	CHECK(nth(0) && nth(0)->user == NULL);
	mysql_free(d);
}

static void test_deprecate_eof(void)
{
	struct mysql *d = logged_in(BASE_CAPS | CLIENT_DEPRECATE_EOF);
	struct buf b = {0};

	cmd(&b, 0x03, "CALL p()");
	feed(d, DEC_DIR_REQ, &b, 10000);
	/* two result sets (SERVER_MORE_RESULTS_EXISTS) then the final OK */
	resultset(&b, resultset(&b, 1, 1, 2, 1, 0x000a), 2, 3, 1, 0x000a);
	ok_pkt(&b, 13, 0, 2, 0);
	feed(d, DEC_DIR_RESP, &b, 20000);
	CHECK(nth(1) != NULL);
	if (nth(1)) {
		CHECK_EQ_INT(nth(1)->rows, 5);
		CHECK_EQ_INT(nth(1)->columns, 1);
	}
	CHECK_EQ_INT(count_notes(), 0);
	mysql_free(d);
}

static void test_column_count_absurd(void)
{
	struct mysql *d = logged_in(BASE_CAPS);
	struct buf b = {0};

	cmd(&b, 0x03, "SELECT 1");
	feed(d, DEC_DIR_REQ, &b, 10000);
	pkt_raw(&b, 1, "\xfe\xff\xff\xff\xff\xff\xff\xff\xff", 9);
	coldef(&b, 2, "x");
	feed(d, DEC_DIR_RESP, &b, 20000);
	CHECK_EQ_INT(count_notes(), 1);
	cmd(&b, 0x03, "SELECT 2");
	feed(d, DEC_DIR_REQ, &b, 30000);
	resultset(&b, 1, 1, 1, 0, 2);
	feed(d, DEC_DIR_RESP, &b, 40000);
	CHECK(nth(1) && nth(1)->rows == -1);
	CHECK(nth(2) && eq(nth(2)->query, "SELECT 2") && nth(2)->rows == 1);
	mysql_free(d);
}

static void test_local_infile(void)
{
	struct mysql *d = logged_in(BASE_CAPS);
	struct buf b = {0};

	cmd(&b, 0x03, "LOAD DATA LOCAL INFILE 'x.csv' INTO TABLE t");
	feed(d, DEC_DIR_REQ, &b, 10000);
	pkt_raw(&b, 1, "\xfbx.csv", 6);
	feed(d, DEC_DIR_RESP, &b, 20000);
	pkt_raw(&b, 2, "1,a\n2,b\n", 8);
	pkt_raw(&b, 3, "", 0);
	feed(d, DEC_DIR_REQ, &b, 30000);
	ok_pkt(&b, 4, 2, 2, 0);
	feed(d, DEC_DIR_RESP, &b, 40000);
	CHECK(nth(1) && nth(1)->rows == 2 && !nth(1)->error);
	CHECK_EQ_INT(count_notes(), 0);
	mysql_free(d);
}

static void test_misc_commands(void)
{
	struct mysql *d = logged_in(BASE_CAPS);
	struct buf b = {0}, p = {0};

	cmd(&b, 0x02, "other");
	feed(d, DEC_DIR_REQ, &b, 10000);
	ok_pkt(&b, 1, 0, 2, 0);
	feed(d, DEC_DIR_RESP, &b, 11000);
	put_u8(&p, 0x04);
	put_str(&p, "items");
	put_u8(&p, 0);
	pkt(&b, 0, &p);
	freebuf(&p);
	feed(d, DEC_DIR_REQ, &b, 12000);
	coldef(&b, 1, "id");
	coldef(&b, 2, "name");
	eof_pkt(&b, 3, 2);
	feed(d, DEC_DIR_RESP, &b, 13000);
	cmd(&b, 0x09, NULL);
	feed(d, DEC_DIR_REQ, &b, 14000);
	pkt_raw(&b, 1, "Uptime: 5", 9);
	feed(d, DEC_DIR_RESP, &b, 15000);
	/* COM_CHANGE_USER: user, auth (1-byte length), schema; answered OK */
	put_u8(&p, 0x11);
	put_str(&p, "bob");
	put_u8(&p, 0);
	put_u8(&p, 2);
	put_str(&p, "pw");
	put_str(&p, "bobdb");
	put_u8(&p, 0);
	pkt(&b, 0, &p);
	freebuf(&p);
	feed(d, DEC_DIR_REQ, &b, 16000);
	pkt_raw(&b, 1, "\xfemysql_native_password\0abcdefghijklmnopqrst", 43);
	feed(d, DEC_DIR_RESP, &b, 17000);
	pkt_raw(&b, 2, "01234567890123456789", 20);
	feed(d, DEC_DIR_REQ, &b, 18000);
	ok_pkt(&b, 3, 0, 2, 0);
	feed(d, DEC_DIR_RESP, &b, 19000);
	cmd(&b, 0x0e, NULL);
	feed(d, DEC_DIR_REQ, &b, 20000);
	/* a MariaDB progress report is not an error */
	pkt_raw(&b, 1, "\xff\xff\xff\x01\x01\x00\x00\x00\x00\x00", 10);
	ok_pkt(&b, 2, 0, 2, 0);
	feed(d, DEC_DIR_RESP, &b, 21000);
	cmd(&b, 0x01, NULL);
	feed(d, DEC_DIR_REQ, &b, 22000);
	CHECK(nth(1) && eq(nth(1)->command, "COM_INIT_DB") && eq(nth(1)->db, "other"));
	CHECK(nth(2) && eq(nth(2)->command, "COM_FIELD_LIST") && nth(2)->columns == 2 &&
	      eq(nth(2)->query, "items"));
	CHECK(nth(3) && eq(nth(3)->command, "COM_STATISTICS"));
	CHECK(nth(4) && eq(nth(4)->command, "COM_CHANGE_USER") && eq(nth(4)->user, "bob") &&
	      eq(nth(4)->db, "bobdb"));
	CHECK(nth(5) && eq(nth(5)->command, "COM_PING") && !nth(5)->error);
	CHECK(nth(6) && eq(nth(6)->command, "COM_QUIT") && eq(nth(6)->user, "bob"));
	CHECK_EQ_INT(count_notes(), 0);
	mysql_free(d);
}

/* OK with session tracking: the schema change of "USE x" is followed. */
static void test_session_track_schema(void)
{
	struct mysql *d = logged_in(BASE_CAPS);
	struct buf b = {0}, p = {0};

	cmd(&b, 0x03, "USE tracked");
	feed(d, DEC_DIR_REQ, &b, 10000);
	put_u8(&p, 0);
	put_lenenc(&p, 0);
	put_lenenc(&p, 0);
	put_le(&p, 0x4002, 2); /* SERVER_SESSION_STATE_CHANGED */
	put_le(&p, 0, 2);
	put_lenenc(&p, 0);  /* info */
	put_lenenc(&p, 10); /* state changes: type 1, data "\x08tracked" */
	put_u8(&p, 1);
	put_lenenc(&p, 8);
	put_lstr(&p, "tracked");
	pkt(&b, 1, &p);
	freebuf(&p);
	feed(d, DEC_DIR_RESP, &b, 20000);
	CHECK(nth(1) && nth(1)->db && eq(nth(1)->db, "tracked"));
	mysql_free(d);
}

static void test_query_attributes(void)
{
	struct mysql *d = logged_in(BASE_CAPS | CLIENT_QUERY_ATTRIBUTES);
	struct buf b = {0}, p = {0};

	/* one attribute: null bitmap, bind flag, type LONGLONG + name, value */
	put_u8(&p, 0x03);
	put_lenenc(&p, 1);
	put_lenenc(&p, 1);
	put_u8(&p, 0);
	put_u8(&p, 1);
	put_le(&p, 0x08, 2);
	put_lstr(&p, "trace");
	put_le(&p, 99, 8);
	put_str(&p, "SELECT 42");
	pkt(&b, 0, &p);
	freebuf(&p);
	feed(d, DEC_DIR_REQ, &b, 10000);
	cmd(&b, 0x03, NULL); /* never answered: reported at close */
	b.n = 0;
	put(&b, "\x04\x00\x00\x00\x03\x00\x01X", 8); /* no attributes */
	feed(d, DEC_DIR_REQ, &b, 10000);
	ok_pkt(&b, 1, 0, 2, 0);
	feed(d, DEC_DIR_RESP, &b, 20000);
	ok_pkt(&b, 1, 0, 2, 0);
	feed(d, DEC_DIR_RESP, &b, 20000);
	CHECK(nth(1) && eq(nth(1)->query, "SELECT 42"));
	CHECK(nth(2) && eq(nth(2)->query, "X"));
	mysql_free(d);
}

static void test_pipelined(void)
{
	struct mysql *d = logged_in(BASE_CAPS);
	struct buf b = {0};

	cmd(&b, 0x03, "SELECT a");
	cmd(&b, 0x03, "SELECT b");
	feed(d, DEC_DIR_REQ, &b, 10000);
	resultset(&b, 1, 1, 1, 0, 2);
	resultset(&b, 1, 1, 2, 0, 2);
	feed(d, DEC_DIR_RESP, &b, 20000);
	CHECK(nth(1) && eq(nth(1)->query, "SELECT a") && nth(1)->rows == 1);
	CHECK(nth(2) && eq(nth(2)->query, "SELECT b") && nth(2)->rows == 2);
	CHECK_EQ_INT(count_notes(), 0);
	mysql_free(d);
}

static void test_gap_inside_and_between(void)
{
	struct mysql *d = logged_in(BASE_CAPS);
	struct buf b = {0};

	cmd(&b, 0x03, "SELECT id, name FROM t");
	feed(d, DEC_DIR_REQ, &b, 10000);
	resultset(&b, 1, 2, 2, 0, 2);
	/* lose 3 bytes inside the first row's "apple" */
	mysql_feed(d, DEC_DIR_RESP, b.p, b.n - 26, 20000);
	mysql_gap(d, DEC_DIR_RESP, 3);
	mysql_feed(d, DEC_DIR_RESP, b.p + b.n - 23, 23, 20000);
	freebuf(&b);
	CHECK(nth(1) && nth(1)->rows == 2);
	/* lose a whole packet header: resync on the next command */
	cmd(&b, 0x03, "SELECT 2");
	feed(d, DEC_DIR_REQ, &b, 30000);
	mysql_gap(d, DEC_DIR_RESP, 4);
	resultset(&b, 1, 1, 1, 0, 2);
	feed(d, DEC_DIR_RESP, &b, 40000);
	cmd(&b, 0x03, "SELECT 3");
	feed(d, DEC_DIR_REQ, &b, 50000);
	resultset(&b, 1, 1, 1, 0, 2);
	feed(d, DEC_DIR_RESP, &b, 60000);
	CHECK(nth(2) && eq(nth(2)->query, "SELECT 2") && nth(2)->rows == -1);
	CHECK(nth(3) && eq(nth(3)->query, "SELECT 3") && nth(3)->rows == 1);
	CHECK_EQ_INT(count_notes(), 2);
	mysql_free(d);
}

static void test_compressed(void)
{
	struct mysql *d = logged_in(BASE_CAPS | CLIENT_COMPRESS);
	struct buf b = {0};

	CHECK_EQ_INT(count_notes(), 1);
	cmd(&b, 0x03, "SELECT 1");
	feed(d, DEC_DIR_REQ, &b, 10000);
	mysql_close(d, 20000);
	CHECK_EQ_INT(nrec, 2); /* CONNECT and the note only */
	mysql_free(d);
}

/* Every prefix of a conversation, then close: no crash, no over-read (ASan). */
static void test_truncated_everywhere(void)
{
	struct buf all = {0}, b = {0};
	size_t cut, split[3];
	int i;

	greeting(&b, 0xffffffffu);
	split[0] = b.n;
	put(&all, b.p, b.n);
	freebuf(&b);
	hs_response(&b, BASE_CAPS, "app", "shop");
	split[1] = all.n + b.n;
	put(&all, b.p, b.n);
	freebuf(&b);
	ok_pkt(&b, 2, 0, 2, 0);
	cmd(&b, 0x03, "SELECT id, name FROM t");
	split[2] = all.n + b.n;
	resultset(&b, 1, 2, 2, 0, 2);
	put(&all, b.p, b.n);
	freebuf(&b);
	for (cut = 0; cut <= all.n; cut++) {
		struct mysql *d = mysql_new(collect, NULL);
		size_t from = 0;

		reset();
		for (i = 0; i < 3 && from < cut; i++) {
			size_t to = split[i] < cut ? split[i] : cut;

			mysql_feed(d, i == 1 ? DEC_DIR_REQ : DEC_DIR_RESP, all.p + from, to - from,
				   1);
			from = to;
		}
		if (from < cut)
			mysql_feed(d, DEC_DIR_RESP, all.p + from, cut - from, 1);
		mysql_close(d, 2);
		mysql_free(d);
	}
	reset();
	freebuf(&all);
	CHECK(1);
}

static void test_detect(void)
{
	struct buf b = {0};
	uint8_t ssl[36] = {32, 0, 0, 1, 0, 0x0a, 0, 0};
	size_t i;

	greeting(&b, 0xffffffffu);
	CHECK_EQ_INT(mysql_detect(b.p, b.n, DEC_DIR_RESP), 2);
	CHECK_EQ_INT(mysql_detect(b.p, 8, DEC_DIR_RESP), 1);
	CHECK_EQ_INT(mysql_detect(b.p, b.n, DEC_DIR_REQ), 0);
	freebuf(&b);
	hs_response(&b, BASE_CAPS, "app", "shop");
	CHECK_EQ_INT(mysql_detect(b.p, b.n, DEC_DIR_REQ), 2);
	/* every prefix is "maybe": a TLS stream's first write may be cut anywhere */
	for (i = 1; i < 32; i++)
		CHECK_EQ_INT(mysql_detect(b.p, i, DEC_DIR_REQ), 1);
	freebuf(&b);
	CHECK_EQ_INT(mysql_detect(ssl, sizeof(ssl), DEC_DIR_REQ), 2);
	cmd(&b, 0x03, "SELECT 1");
	CHECK_EQ_INT(mysql_detect(b.p, b.n, DEC_DIR_REQ), 2);
	CHECK_EQ_INT(mysql_detect(b.p, 7, DEC_DIR_REQ), 1);
	freebuf(&b);
	CHECK_EQ_INT(mysql_detect((const uint8_t *)"GET / HTTP/1.1\r\n", 16, DEC_DIR_REQ), 0);
	CHECK_EQ_INT(mysql_detect((const uint8_t *)"HTTP/1.1 200 OK\r\n", 17, DEC_DIR_RESP), 0);
	CHECK_EQ_INT(
	    mysql_detect((const uint8_t *)"\x00\x00\x00\x08\x04\xd2\x16\x2f", 8, DEC_DIR_REQ), 0);
}

UNIT_MAIN(UNIT(test_handshake), UNIT(test_login_refused), UNIT(test_ssl_request),
	  UNIT(test_query_resultset), UNIT(test_ok_and_err), UNIT(test_err_sqlstate),
	  UNIT(test_prepared), UNIT(test_multi_packet), UNIT(test_midconnection),
	  UNIT(test_deprecate_eof), UNIT(test_column_count_absurd), UNIT(test_local_infile),
	  UNIT(test_misc_commands), UNIT(test_session_track_schema), UNIT(test_query_attributes),
	  UNIT(test_pipelined), UNIT(test_gap_inside_and_between), UNIT(test_compressed),
	  UNIT(test_truncated_everywhere), UNIT(test_detect))
