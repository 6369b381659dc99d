// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Unit tests of the HTTP/1 decoder through its own API (decoders/http1.h). */
#include <errno.h>

#include "unit.h"
#include "decoders/http1.h"

#include <stdint.h>

#define MAXREC 256

struct rec {
	enum dec_rec_type type;
	char method[16], path[64], host[64], version[8], note[256];
	int status, has_method, req_trunc, resp_trunc;
	uint64_t latency_us, req_ts, resp_ts, req_bytes, resp_bytes;
	size_t req_body_len, resp_body_len, n_req_headers, n_resp_headers;
	char resp_body[64];
};

struct sink {
	struct rec r[MAXREC];
	int n, notes;
};

static void cp(char *dst, size_t len, const char *src)
{
	snprintf(dst, len, "%s", src ? src : "");
}

static void collect(const struct dec_record *r, void *arg)
{
	struct sink *s = arg;
	struct rec *o;

	if (r->type == DEC_R_NOTE)
		s->notes++;
	if (s->n >= MAXREC)
		return;
	o = &s->r[s->n++];
	memset(o, 0, sizeof(*o));
	o->type = r->type;
	if (r->type == DEC_R_NOTE) {
		cp(o->note, sizeof(o->note), r->note.text);
		return;
	}
	o->has_method = r->http.method != NULL;
	cp(o->method, sizeof(o->method), r->http.method);
	cp(o->path, sizeof(o->path), r->http.path);
	cp(o->host, sizeof(o->host), r->http.host);
	cp(o->version, sizeof(o->version), r->http.version);
	o->status = r->http.status;
	o->latency_us = r->latency_us;
	o->req_ts = r->req_ts_ns;
	o->resp_ts = r->resp_ts_ns;
	o->req_bytes = r->http.req_bytes;
	o->resp_bytes = r->http.resp_bytes;
	o->req_body_len = r->http.req_body_len;
	o->resp_body_len = r->http.resp_body_len;
	o->req_trunc = r->http.req_body_truncated;
	o->resp_trunc = r->http.resp_body_truncated;
	o->n_req_headers = r->http.n_req_headers;
	o->n_resp_headers = r->http.n_resp_headers;
	if (r->http.resp_body)
		snprintf(o->resp_body, sizeof(o->resp_body), "%.*s",
			 (int)(r->http.resp_body_len < 63 ? r->http.resp_body_len : 63),
			 (const char *)r->http.resp_body);
}

static void feed_str(struct http1 *d, enum dec_dir dir, const char *s, uint64_t ts)
{
	http1_feed(d, dir, (const uint8_t *)s, strlen(s), ts);
}

static int count_type(const struct sink *s, enum dec_rec_type t)
{
	int i, n = 0;

	for (i = 0; i < s->n; i++)
		n += s->r[i].type == t;
	return n;
}

static void test_simple_exchange(void)
{
	static struct sink s;
	struct http1 *d = http1_new(collect, &s);

	memset(&s, 0, sizeof(s));
	CHECK(d != NULL);
	feed_str(d, DEC_DIR_REQ, "GET /x HTTP/1.1\r\nHost: a.example\r\n\r\n", 1000000);
	CHECK_EQ_INT(s.n, 0);
	feed_str(d, DEC_DIR_RESP, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi", 3500000);
	CHECK_EQ_INT(s.n, 1);
	CHECK_EQ_STR(s.r[0].method, "GET");
	CHECK_EQ_STR(s.r[0].path, "/x");
	CHECK_EQ_STR(s.r[0].host, "a.example");
	CHECK_EQ_STR(s.r[0].version, "1.1");
	CHECK_EQ_INT(s.r[0].status, 200);
	CHECK_EQ_INT(s.r[0].req_ts, 1000000);
	CHECK_EQ_INT(s.r[0].resp_ts, 3500000);
	CHECK_EQ_INT(s.r[0].latency_us, 2500);
	CHECK_EQ_INT(s.r[0].req_bytes, 36);
	CHECK_EQ_INT(s.r[0].resp_bytes, 40);
	CHECK_EQ_STR(s.r[0].resp_body, "hi");
	http1_close(d, 4000000);
	CHECK_EQ_INT(s.n, 1);
	/* feeds after close are ignored */
	feed_str(d, DEC_DIR_RESP, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 5000000);
	http1_close(d, 5000000);
	CHECK_EQ_INT(s.n, 1);
	http1_free(d);
	http1_free(NULL);
}

/* Both directions interleaved one byte at a time: pairing must not depend on
 * how writes are cut. */
static void test_pipelined_bytewise(void)
{
	static struct sink s;
	const char *rq = "GET /1 HTTP/1.1\r\n\r\nHEAD /2 HTTP/1.1\r\n\r\nGET /3 HTTP/1.0\r\n\r\n";
	const char *rs =
	    "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nA"
	    "HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n"
	    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n";
	size_t i, nq = strlen(rq), ns = strlen(rs);
	struct http1 *d = http1_new(collect, &s);

	memset(&s, 0, sizeof(s));
	for (i = 0; i < nq || i < ns; i++) {
		if (i < nq)
			http1_feed(d, DEC_DIR_REQ, (const uint8_t *)rq + i, 1, 1000 + i);
		if (i < ns)
			http1_feed(d, DEC_DIR_RESP, (const uint8_t *)rs + i, 1, 2000 + i);
	}
	http1_close(d, 999999);
	CHECK_EQ_INT(s.n, 3);
	CHECK_EQ_STR(s.r[0].path, "/1");
	CHECK_EQ_STR(s.r[0].resp_body, "A");
	CHECK_EQ_STR(s.r[1].method, "HEAD");
	CHECK_EQ_INT(s.r[1].resp_body_len, 0);
	CHECK_EQ_STR(s.r[2].path, "/3");
	CHECK_EQ_STR(s.r[2].version, "1.0");
	CHECK_EQ_STR(s.r[2].resp_body, "abc");
	CHECK_EQ_INT(count_type(&s, DEC_R_NOTE), 0);
	http1_free(d);
}

static void test_body_cap(void)
{
	static struct sink s;
	static uint8_t body[100000];
	char head[128];
	struct http1 *d = http1_new(collect, &s);

	memset(&s, 0, sizeof(s));
	memset(body, 'z', sizeof(body));
	feed_str(d, DEC_DIR_REQ, "POST /up HTTP/1.1\r\nContent-Length: 100000\r\n\r\n", 1);
	http1_feed(d, DEC_DIR_REQ, body, sizeof(body), 2);
	snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n",
		 sizeof(body));
	feed_str(d, DEC_DIR_RESP, head, 3);
	http1_feed(d, DEC_DIR_RESP, body, 70000, 4);
	http1_feed(d, DEC_DIR_RESP, body, 30000, 5);
	CHECK_EQ_INT(s.n, 1);
	CHECK_EQ_INT(s.r[0].req_body_len, DEC_BODY_CAP);
	CHECK_EQ_INT(s.r[0].resp_body_len, DEC_BODY_CAP);
	CHECK(s.r[0].req_trunc);
	CHECK(s.r[0].resp_trunc);
	CHECK_EQ_INT(s.r[0].req_bytes, 45 + 100000);
	http1_free(d);
}

/* Requests nobody answers: the queue stays bounded and says so. */
static void test_queue_bound(void)
{
	static struct sink s;
	struct http1 *d = http1_new(collect, &s);
	int i;

	memset(&s, 0, sizeof(s));
	for (i = 0; i < HTTP1_QUEUE_MAX + 10; i++)
		feed_str(d, DEC_DIR_REQ, "GET /q HTTP/1.1\r\n\r\n", (uint64_t)i);
	CHECK_EQ_INT(count_type(&s, DEC_R_HTTP), 10);
	CHECK(s.notes >= 1);
	http1_close(d, 1);
	CHECK_EQ_INT(count_type(&s, DEC_R_HTTP), HTTP1_QUEUE_MAX + 10);
	http1_free(d);
}

/* The same fault 200 times: one note, and at close one saying how many repeats
 * were not shown (the cap on distinct notes: test_dec_notes). */
static void test_note_cap(void)
{
	static struct sink s;
	struct http1 *d = http1_new(collect, &s);
	int i;

	memset(&s, 0, sizeof(s));
	for (i = 0; i < 200; i++)
		feed_str(d, DEC_DIR_RESP, "HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n",
			 (uint64_t)i);
	CHECK_EQ_INT(s.notes, 1);
	CHECK_EQ_INT(count_type(&s, DEC_R_HTTP), 200);
	http1_close(d, 300);
	CHECK_EQ_INT(s.notes, 2);
	CHECK_EQ_STR(s.r[s.n - 1].note,
		     "HTTP/1: 199 repeated notes on this connection not shown again");
	http1_free(d);
}

static void test_h2c_leftover(void)
{
	static struct sink s;
	struct http1 *d = http1_new(collect, &s);
	const char *m, *p, *h;
	uint64_t ts;
	uint8_t *out;
	size_t n;

	memset(&s, 0, sizeof(s));
	feed_str(d, DEC_DIR_REQ, "GET /u HTTP/1.1\r\nHost: x\r\nUpgrade: h2c\r\n\r\nPRI * HTTP/2.0",
		 7);
	CHECK(http1_switched(d) == NULL);
	http1_feed(d, DEC_DIR_RESP,
		   (const uint8_t *)"HTTP/1.1 101 Switching\r\nUpgrade: h2c\r\n\r\n\x00\x00", 42,
		   9);
	CHECK(http1_switched(d) != NULL);
	CHECK_EQ_STR(http1_switched(d), "h2c");
	/* the exchange is held for HTTP/2 stream 1, not emitted (RFC 7540 section 3.2) */
	CHECK_EQ_INT(s.n, 0);
	n = http1_take_leftover(d, DEC_DIR_REQ, &out);
	CHECK_EQ_INT(n, 14);
	CHECK(out && !memcmp(out, "PRI * HTTP/2.0", 14));
	free(out);
	n = http1_take_leftover(d, DEC_DIR_RESP, &out);
	CHECK_EQ_INT(n, 2);
	free(out);
	CHECK_EQ_INT(http1_take_leftover(d, DEC_DIR_RESP, &out), 0);
	CHECK(out == NULL);
	http1_switch_request(d, &m, &p, &h, &ts);
	CHECK_EQ_STR(m, "GET");
	CHECK_EQ_STR(p, "/u");
	CHECK_EQ_STR(h, "x");
	CHECK_EQ_INT(ts, 7);
	http1_free(d);
}

/* The h2c upgrade exchange: taken once as a record, never emitted then; not
 * taken, it is emitted at close (a decoder used alone). */
static void test_h2c_take_upgrade(void)
{
	static struct sink s;
	static const char rq[] = "POST /u HTTP/1.1\r\nHost: x\r\nUpgrade: h2c\r\n"
				 "Content-Length: 2\r\n\r\nhi";
	static const char rs[] = "HTTP/1.1 101 Switching\r\nUpgrade: h2c\r\n\r\n";
	struct dec_record r;
	struct http1 *d;
	int take;

	for (take = 0; take < 2; take++) {
		memset(&s, 0, sizeof(s));
		d = http1_new(collect, &s);
		CHECK_EQ_INT(http1_take_upgrade(d, &r), -ENOENT);
		feed_str(d, DEC_DIR_REQ, rq, 7000);
		feed_str(d, DEC_DIR_RESP, rs, 9000);
		CHECK_EQ_INT(s.n, 0);
		if (take) {
			CHECK_EQ_INT(http1_take_upgrade(d, &r), 0);
			CHECK_EQ_INT(r.type, DEC_R_HTTP);
			CHECK_EQ_STR(r.http.method, "POST");
			CHECK_EQ_STR(r.http.path, "/u");
			CHECK_EQ_STR(r.http.host, "x");
			CHECK_EQ_INT(r.http.status, 101);
			CHECK_EQ_INT(r.http.n_req_headers, 3);
			CHECK_EQ_STR(r.http.req_headers[1].name, "Upgrade");
			CHECK_EQ_INT(r.http.req_body_len, 2);
			CHECK(r.http.req_body && !memcmp(r.http.req_body, "hi", 2));
			CHECK_EQ_INT(r.http.req_bytes, strlen(rq));
			CHECK_EQ_INT(r.http.resp_bytes, strlen(rs));
			CHECK_EQ_INT(r.req_ts_ns, 7000);
			CHECK_EQ_INT(http1_take_upgrade(d, &r), -ENOENT);
		}
		http1_close(d, 10000);
		CHECK_EQ_INT(s.n, take ? 0 : 1);
		if (!take) {
			CHECK_EQ_INT(s.r[0].status, 101);
			CHECK_EQ_STR(s.r[0].path, "/u");
			CHECK_EQ_INT(http1_take_upgrade(d, &r), -ENOENT);
		}
		http1_free(d);
	}
	/* a websocket upgrade is reported at once, as before */
	memset(&s, 0, sizeof(s));
	d = http1_new(collect, &s);
	feed_str(d, DEC_DIR_REQ, "GET /ws HTTP/1.1\r\nUpgrade: websocket\r\n\r\n", 1);
	feed_str(d, DEC_DIR_RESP, "HTTP/1.1 101 Switching\r\nUpgrade: websocket\r\n\r\n", 2);
	CHECK_EQ_INT(count_type(&s, DEC_R_HTTP), 1);
	CHECK_EQ_INT(http1_take_upgrade(d, &r), -ENOENT);
	http1_free(d);
}

/* A refused upgrade: the bytes held after the request are parsed as HTTP/1. */
static void test_upgrade_refused(void)
{
	static struct sink s;
	struct http1 *d = http1_new(collect, &s);

	memset(&s, 0, sizeof(s));
	feed_str(d, DEC_DIR_REQ,
		 "GET /a HTTP/1.1\r\nUpgrade: websocket\r\n\r\nGET /b HTTP/1.1\r\n\r\n", 1);
	feed_str(d, DEC_DIR_RESP, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 2);
	feed_str(d, DEC_DIR_RESP, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 3);
	CHECK(http1_switched(d) == NULL);
	CHECK_EQ_INT(s.n, 2);
	CHECK_EQ_STR(s.r[1].path, "/b");
	http1_free(d);
}

static void test_gap_in_chunk(void)
{
	static struct sink s;
	struct http1 *d = http1_new(collect, &s);

	memset(&s, 0, sizeof(s));
	feed_str(d, DEC_DIR_REQ, "GET / HTTP/1.1\r\n\r\n", 1);
	feed_str(d, DEC_DIR_RESP, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nabc",
		 2);
	http1_gap(d, DEC_DIR_RESP, 10);
	feed_str(d, DEC_DIR_RESP, "xyz\r\n0\r\n\r\n", 3);
	CHECK_EQ_INT(count_type(&s, DEC_R_HTTP), 1);
	CHECK_EQ_INT(s.notes, 1);
	CHECK_EQ_INT(s.r[1].resp_body_len, 6);
	CHECK(s.r[1].resp_trunc);
	http1_free(d);
}

static void test_detect(void)
{
	const uint8_t *g = (const uint8_t *)"GET / HTTP/1.1\r\n";

	CHECK_EQ_INT(http1_detect(g, 1, DEC_DIR_REQ), 1);
	CHECK_EQ_INT(http1_detect(g, 4, DEC_DIR_REQ), 1);
	CHECK_EQ_INT(http1_detect(g, 5, DEC_DIR_REQ), 2);
	CHECK_EQ_INT(http1_detect(g, 16, DEC_DIR_RESP), 0);
	CHECK_EQ_INT(http1_detect((const uint8_t *)"HTTP/1.1 200 OK", 15, DEC_DIR_RESP), 2);
	CHECK_EQ_INT(http1_detect((const uint8_t *)"HTTP/1.1 2", 10, DEC_DIR_RESP), 1);
	CHECK_EQ_INT(http1_detect((const uint8_t *)"HTTP/2 200", 10, DEC_DIR_RESP), 0);
	/* unknown methods need the whole line */
	CHECK_EQ_INT(http1_detect((const uint8_t *)"BREW /pot", 9, DEC_DIR_REQ), 1);
	CHECK_EQ_INT(http1_detect((const uint8_t *)"BREW /pot HTTP/1.1\r\n", 20, DEC_DIR_REQ), 2);
	/* the HTTP/2 preface is not HTTP/1 */
	CHECK_EQ_INT(http1_detect((const uint8_t *)"PRI * HTTP/2.0\r\n", 16, DEC_DIR_REQ), 0);
	CHECK_EQ_INT(http1_detect((const uint8_t *)"\x16\x03\x01", 3, DEC_DIR_REQ), 0);
	CHECK_EQ_INT(http1_detect((const uint8_t *)"GET  /", 6, DEC_DIR_REQ), 0);
}

/* A control byte (other than CR, LF, HTAB) before the line ends rules out a
 * request line at once: a capture that joins a MySQL connection mid-packet sees
 * query text that looks like "TOKEN SP ..." and then a binary packet header. */
static void test_detect_control_bytes(void)
{
	static const uint8_t mid[] = "ROM items WHERE id > 2\x1b\x00\x00\x00\x03SELECT id";
	static const uint8_t nul[] = "FOO /a\0b HTTP/1.1\r\n";

	CHECK_EQ_INT(http1_detect(mid, 22, DEC_DIR_REQ), 1); /* text alone: maybe */
	CHECK_EQ_INT(http1_detect(mid, 23, DEC_DIR_REQ), 0);
	CHECK_EQ_INT(http1_detect(mid, sizeof(mid) - 1, DEC_DIR_REQ), 0);
	CHECK_EQ_INT(http1_detect(nul, 6, DEC_DIR_REQ), 1);
	CHECK_EQ_INT(http1_detect(nul, 7, DEC_DIR_REQ), 0);
	CHECK_EQ_INT(http1_detect((const uint8_t *)"BREW /pot\x7f", 10, DEC_DIR_REQ), 0);
	/* tabs and the line's own CR LF are fine */
	CHECK_EQ_INT(http1_detect((const uint8_t *)"BREW /pot\tx", 11, DEC_DIR_REQ), 1);
	CHECK_EQ_INT(http1_detect((const uint8_t *)"BREW /pot HTTP/1.1\r", 19, DEC_DIR_REQ), 1);
	/* after the line ends (a body, the next message) anything goes */
	CHECK_EQ_INT(
	    http1_detect((const uint8_t *)"BREW /pot HTTP/1.1\r\n\x01\x02", 22, DEC_DIR_REQ), 2);
}

static void test_gzip_stacked_not_decoded(void)
{
	static struct sink s;
	struct http1 *d = http1_new(collect, &s);

	memset(&s, 0, sizeof(s));
	feed_str(d, DEC_DIR_REQ, "GET / HTTP/1.1\r\n\r\n", 1);
	/* two codings: kept raw; br: kept raw */
	feed_str(d, DEC_DIR_RESP,
		 "HTTP/1.1 200 OK\r\nContent-Encoding: gzip, br\r\nContent-Length: 3\r\n\r\nraw",
		 2);
	CHECK_EQ_INT(s.n, 1);
	CHECK_EQ_STR(s.r[0].resp_body, "raw");
	CHECK_EQ_INT(s.notes, 0);
	http1_free(d);
}

UNIT_MAIN(UNIT(test_simple_exchange), UNIT(test_pipelined_bytewise), UNIT(test_body_cap),
	  UNIT(test_queue_bound), UNIT(test_note_cap), UNIT(test_h2c_leftover),
	  UNIT(test_h2c_take_upgrade), UNIT(test_upgrade_refused), UNIT(test_gap_in_chunk),
	  UNIT(test_detect), UNIT(test_detect_control_bytes), UNIT(test_gzip_stacked_not_decoded))
