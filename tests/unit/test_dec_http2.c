// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * HTTP/2 decoder: frames built here byte by byte (RFC 9113 section 4.1 layout),
 * fed whole, split at every byte, and broken in the ways the decoder must
 * survive.
 */
#include <errno.h>
#include <stdint.h>
#include <zlib.h>

#include "unit.h"
#include "decoders/http2.h"
#include "decoders/util/strbuf.h"

/* ---- building byte streams ---- */

struct bb {
	uint8_t *b;
	size_t n, cap;
};

static void put(struct bb *o, const void *p, size_t n)
{
	if (o->n + n > o->cap) {
		o->cap = (o->n + n) * 2 + 1024;
		o->b = realloc(o->b, o->cap);
	}
	memcpy(o->b + o->n, p, n);
	o->n += n;
}

static void put8(struct bb *o, unsigned v)
{
	uint8_t c = (uint8_t)v;

	put(o, &c, 1);
}

static void frame_hdr(struct bb *o, uint32_t len, uint8_t type, uint8_t flags, uint32_t sid)
{
	uint8_t h[9] = {
	    (uint8_t)(len >> 16), (uint8_t)(len >> 8),	(uint8_t)len,	     type,	  flags,
	    (uint8_t)(sid >> 24), (uint8_t)(sid >> 16), (uint8_t)(sid >> 8), (uint8_t)sid};

	put(o, h, 9);
}

static void frame(struct bb *o, uint8_t type, uint8_t flags, uint32_t sid, const void *p, size_t n)
{
	frame_hdr(o, (uint32_t)n, type, flags, sid);
	put(o, p, n);
}

/* HPACK literal without indexing, new name (RFC 7541 section 6.2.2), short strings. */
static void lit(struct bb *o, const char *name, const char *value)
{
	put8(o, 0x00);
	put8(o, (unsigned)strlen(name));
	put(o, name, strlen(name));
	put8(o, (unsigned)strlen(value));
	put(o, value, strlen(value));
}

/* Literal with incremental indexing, new name (section 6.2.1). */
static void lit_idx(struct bb *o, const char *name, const char *value)
{
	put8(o, 0x40);
	put8(o, (unsigned)strlen(name));
	put(o, name, strlen(name));
	put8(o, (unsigned)strlen(value));
	put(o, value, strlen(value));
}

static void preface(struct bb *c)
{
	put(c, HTTP2_PREFACE, HTTP2_PREFACE_LEN);
	frame(c, 4, 0, 0, "", 0); /* empty SETTINGS */
}

/* ---- collecting records ---- */

struct rec {
	int type;
	char text[600]; /* note text, or the exchange summarised */
	char reqh[1024], resph[1024];
	char body[256], req_body[64];
	size_t body_len;
	int body_trunc;
	uint64_t req_bytes, resp_bytes, latency_us;
};

struct got {
	struct rec r[1100];
	size_t n, notes;
};

static void emit(const struct dec_record *r, void *arg)
{
	struct got *g = arg;
	struct rec *x;
	size_t i, o;

	if (g->n >= sizeof(g->r) / sizeof(g->r[0]))
		return;
	x = &g->r[g->n++];
	memset(x, 0, sizeof(*x));
	x->type = r->type;
	if (r->type == DEC_R_NOTE) {
		g->notes++;
		snprintf(x->text, sizeof(x->text), "%s", r->note.text);
		return;
	}
	if (r->type == DEC_R_FRAMES) {
		CHECK_EQ_INT(r->proto, DEC_P_HTTP2);
		snprintf(x->text, sizeof(x->text), "%u %u %s", r->frames.dir, r->frames.count,
			 r->frames.text);
		return;
	}
	CHECK_EQ_INT(r->type, DEC_R_HTTP);
	CHECK_EQ_INT(r->proto, DEC_P_HTTP2);
	CHECK_EQ_STR(r->http.version, "2");
	snprintf(x->text, sizeof(x->text), "%u %s %s %s %d %s", r->http.stream_id,
		 r->http.method ? r->http.method : "-", r->http.path ? r->http.path : "-",
		 r->http.host ? r->http.host : "-", r->http.status,
		 r->http.reason ? r->http.reason : "-");
	for (i = 0, o = 0; i < r->http.n_req_headers && o < sizeof(x->reqh); i++)
		o += (size_t)snprintf(x->reqh + o, sizeof(x->reqh) - o, "%s: %s\n",
				      r->http.req_headers[i].name, r->http.req_headers[i].value);
	for (i = 0, o = 0; i < r->http.n_resp_headers && o < sizeof(x->resph); i++)
		o += (size_t)snprintf(x->resph + o, sizeof(x->resph) - o, "%s: %s\n",
				      r->http.resp_headers[i].name, r->http.resp_headers[i].value);
	x->body_len = r->http.resp_body_len;
	if (r->http.resp_body)
		memcpy(x->body, r->http.resp_body,
		       r->http.resp_body_len < sizeof(x->body) - 1 ? r->http.resp_body_len
								   : sizeof(x->body) - 1);
	x->body_trunc = r->http.resp_body_truncated;
	if (r->http.req_body)
		snprintf(x->req_body, sizeof(x->req_body), "%.*s",
			 (int)(r->http.req_body_len < 63 ? r->http.req_body_len : 63),
			 (const char *)r->http.req_body);
	x->req_bytes = r->http.req_bytes;
	x->resp_bytes = r->http.resp_bytes;
	x->latency_us = r->latency_us;
}

static struct got *got_new(void)
{
	return calloc(1, sizeof(struct got));
}

/* Feed client bytes at ts 1 ms, server bytes at 3 ms, in `step`-byte pieces
 * (0: whole), client first, then close. */
static void run(struct got *g, struct bb *c, struct bb *s, size_t step)
{
	struct http2 *d = http2_new(emit, g);
	size_t i, k;

	CHECK(d != NULL);
	for (i = 0; i < c->n; i += k) {
		k = step && step < c->n - i ? step : c->n - i;
		http2_feed(d, DEC_DIR_REQ, c->b + i, k, 1000000);
	}
	for (i = 0; i < s->n; i += k) {
		k = step && step < s->n - i ? step : s->n - i;
		http2_feed(d, DEC_DIR_RESP, s->b + i, k, 3000000);
	}
	http2_close(d, 4000000);
	http2_free(d);
}

static int has_note(const struct got *g, const char *part)
{
	size_t i;

	for (i = 0; i < g->n; i++)
		if (g->r[i].type == DEC_R_NOTE && strstr(g->r[i].text, part))
			return 1;
	return 0;
}

/* A GET on stream 1 and its 200 with a body, built into c and s. */
static void simple_exchange(struct bb *c, struct bb *s)
{
	struct bb h = {0};

	preface(c);
	put8(&h, 0x82); /* :method GET */
	put8(&h, 0x87); /* :scheme https */
	lit(&h, ":path", "/x?y=1");
	lit(&h, ":authority", "example.com");
	lit(&h, "user-agent", "t/1");
	frame(c, 1, 0x5, 1, h.b, h.n);		  /* END_STREAM | END_HEADERS */
	frame(s, 4, 0, 0, "\0\x03\0\0\0\x64", 6); /* SETTINGS_MAX_CONCURRENT_STREAMS */
	frame(s, 4, 1, 0, "", 0);		  /* ACK */
	h.n = 0;
	put8(&h, 0x88); /* :status 200 */
	lit(&h, "content-type", "text/plain");
	frame(s, 1, 0x4, 1, h.b, h.n);
	frame(s, 0, 0, 1, "hel", 3);
	frame(s, 0, 1, 1, "lo", 2);
	free(h.b);
}

static void test_simple_exchange(void)
{
	struct bb c = {0}, s = {0};
	struct got *g = got_new();

	simple_exchange(&c, &s);
	run(g, &c, &s, 0);
	CHECK_EQ_INT(g->n, 1);
	CHECK_EQ_STR(g->r[0].text, "1 GET /x?y=1 example.com 200 -");
	CHECK_EQ_STR(g->r[0].reqh, ":scheme: https\nuser-agent: t/1\n");
	CHECK_EQ_STR(g->r[0].resph, "content-type: text/plain\n");
	CHECK_EQ_STR(g->r[0].body, "hello");
	/* HEADERS: 9 + 1 + 1 + 14 + 24 + 16; server: (9 + 1 + 25) + (9 + 3) + (9 + 2). */
	CHECK_EQ_INT(g->r[0].req_bytes, 65);
	CHECK_EQ_INT(g->r[0].resp_bytes, 58);
	CHECK_EQ_INT(g->r[0].latency_us, 2000);
	free(g);
	free(c.b);
	free(s.b);
}

/* The same bytes split at every byte give the same record. */
static void test_byte_by_byte(void)
{
	struct bb c = {0}, s = {0};
	struct got *g = got_new();

	simple_exchange(&c, &s);
	run(g, &c, &s, 1);
	CHECK_EQ_INT(g->n, 1);
	CHECK_EQ_STR(g->r[0].text, "1 GET /x?y=1 example.com 200 -");
	CHECK_EQ_STR(g->r[0].body, "hello");
	CHECK_EQ_INT(g->r[0].req_bytes, 65);
	free(g);
	free(c.b);
	free(s.b);
}

static void test_detect(void)
{
	CHECK_EQ_INT(http2_detect((const uint8_t *)HTTP2_PREFACE, 24, DEC_DIR_REQ), 2);
	CHECK_EQ_INT(http2_detect((const uint8_t *)HTTP2_PREFACE "\0\0", 26, DEC_DIR_REQ), 2);
	CHECK_EQ_INT(http2_detect((const uint8_t *)HTTP2_PREFACE, 10, DEC_DIR_REQ), 1);
	CHECK_EQ_INT(http2_detect((const uint8_t *)"", 0, DEC_DIR_REQ), 1);
	CHECK_EQ_INT(http2_detect((const uint8_t *)"PRI * HTTP/1.1", 14, DEC_DIR_REQ), 0);
	CHECK_EQ_INT(http2_detect((const uint8_t *)"GET / HTTP/1.1\r\n", 16, DEC_DIR_REQ), 0);
	CHECK_EQ_INT(http2_detect((const uint8_t *)HTTP2_PREFACE, 24, DEC_DIR_RESP), 0);
}

/* HEADERS with PADDED and PRIORITY, CONTINUATION, padded DATA; two streams
 * interleaved, answered in reverse order. */
static void test_continuation_padding_interleave(void)
{
	struct bb c = {0}, s = {0}, h = {0};
	struct got *g = got_new();

	preface(&c);
	/* Stream 1: HEADERS (PADDED|PRIORITY, no END_HEADERS) + CONTINUATION. */
	put8(&h, 3);		      /* pad length */
	put(&h, "\x80\0\0\0\x10", 5); /* exclusive, depends on 0, weight 16 */
	put8(&h, 0x82);
	put8(&h, 0x86); /* :scheme http */
	put(&h, "\0\0\0", 3);
	frame(&c, 1, 0x1 | 0x8 | 0x20, 1, h.b, h.n);
	h.n = 0;
	lit(&h, ":path", "/one");
	frame(&c, 9, 0, 1, h.b, 3); /* a CONTINUATION without END_HEADERS */
	frame(&c, 9, 0x4, 1, h.b + 3, h.n - 3);
	/* Stream 3: POST with a padded body. */
	h.n = 0;
	put8(&h, 0x83); /* :method POST */
	put8(&h, 0x84); /* :path / */
	frame(&c, 1, 0x4, 3, h.b, h.n);
	frame(&c, 0, 0x8 | 0x1, 3,
	      "\x02"
	      "ab\0\0",
	      5);
	/* Responses: 3 first, then 1. */
	frame(&s, 1, 0x5, 3, "\x8d", 1); /* :status 404, END_STREAM */
	frame(&s, 1, 0x4, 1, "\x89", 1); /* :status 204 */
	frame(&s, 0, 0x1 | 0x8, 1,
	      "\x01"
	      "z\0",
	      3);
	run(g, &c, &s, 0);
	CHECK_EQ_INT(g->n, 2);
	CHECK_EQ_STR(g->r[0].text, "3 POST / - 404 -");
	CHECK_EQ_STR(g->r[1].text, "1 GET /one - 204 -");
	CHECK_EQ_STR(g->r[1].body, "z");
	/* HEADERS (9 + 11) and two CONTINUATIONs (9 + 3, 9 + 9). */
	CHECK_EQ_INT(g->r[1].req_bytes, 50);
	free(g);
	free(c.b);
	free(s.b);
	free(h.b);
}

static void test_rst_stream_and_close(void)
{
	struct bb c = {0}, s = {0};
	struct got *g = got_new();

	preface(&c);
	frame(&c, 1, 0x5, 1, "\x82\x84", 2);
	frame(&c, 1, 0x5, 3, "\x82\x85", 2); /* :path /index.html */
	frame(&c, 3, 0, 1, "\0\0\0\x08", 4); /* RST_STREAM CANCEL */
	frame(&s, 1, 0x4, 3, "\x88", 1);     /* 200, body never ends */
	frame(&s, 0, 0, 3, "partial", 7);
	run(g, &c, &s, 0);
	CHECK_EQ_INT(g->n, 2);
	CHECK_EQ_STR(g->r[0].text, "1 GET / - 0 RST_STREAM CANCEL (0x8) from client");
	CHECK_EQ_INT(g->r[0].req_bytes, 11 + 13);
	CHECK_EQ_STR(g->r[1].text, "3 GET /index.html - 200 incomplete: connection closed");
	CHECK_EQ_STR(g->r[1].body, "partial");
	free(g);
	free(c.b);
	free(s.b);
}

static void test_gzip_body(void)
{
	struct bb c = {0}, s = {0}, h = {0};
	struct got *g = got_new();
	const char *text = "compressed hello, compressed hello, compressed hello";
	uint8_t z[256];
	z_stream zs;

	memset(&zs, 0, sizeof(zs));
	CHECK_EQ_INT(deflateInit2(&zs, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
	zs.next_in = (uint8_t *)text;
	zs.avail_in = (uInt)strlen(text);
	zs.next_out = z;
	zs.avail_out = sizeof(z);
	CHECK_EQ_INT(deflate(&zs, Z_FINISH), Z_STREAM_END);
	deflateEnd(&zs);
	preface(&c);
	frame(&c, 1, 0x5, 1, "\x82\x84", 2);
	put8(&h, 0x88);
	lit(&h, "content-encoding", "gzip");
	frame(&s, 1, 0x4, 1, h.b, h.n);
	/* Split the gzip body over two frames. */
	frame(&s, 0, 0, 1, z, 10);
	frame(&s, 0, 1, 1, z + 10, sizeof(z) - zs.avail_out - 10);
	run(g, &c, &s, 0);
	CHECK_EQ_INT(g->n, 1);
	CHECK_EQ_STR(g->r[0].body, text);
	CHECK_EQ_INT(g->r[0].body_trunc, 0);
	free(g);
	free(c.b);
	free(s.b);
	free(h.b);
}

/* The dynamic table carries a field from one request to the next, and the
 * server's table is separate from the client's. */
static void test_dynamic_table_per_direction(void)
{
	struct bb c = {0}, s = {0}, h = {0};
	struct got *g = got_new();

	preface(&c);
	put(&h, "\x82\x84", 2);
	lit_idx(&h, "x-trace", "abc");
	frame(&c, 1, 0x5, 1, h.b, h.n);
	frame(&c, 1, 0x5, 3, "\x82\x84\xbe", 3); /* index 62 = x-trace: abc */
	h.n = 0;
	put8(&h, 0x88);
	lit_idx(&h, "server", "s1");
	frame(&s, 1, 0x5, 1, h.b, h.n);
	frame(&s, 1, 0x5, 3, "\x88\xbe", 2); /* index 62 of the server's table */
	run(g, &c, &s, 0);
	CHECK_EQ_INT(g->n, 2);
	CHECK_EQ_STR(g->r[1].text, "3 GET / - 200 -");
	CHECK_EQ_STR(g->r[1].reqh, "x-trace: abc\n");
	CHECK_EQ_STR(g->r[1].resph, "server: s1\n");
	free(g);
	free(c.b);
	free(s.b);
	free(h.b);
}

static void test_informational_and_trailers(void)
{
	struct bb c = {0}, s = {0}, h = {0};
	struct got *g = got_new();

	preface(&c);
	frame(&c, 1, 0x5, 1, "\x82\x84", 2);
	lit(&h, ":status", "103");
	lit(&h, "link", "</a.css>");
	frame(&s, 1, 0x4, 1, h.b, h.n);
	h.n = 0;
	put8(&h, 0x88);
	lit(&h, "content-type", "application/grpc");
	frame(&s, 1, 0x4, 1, h.b, h.n);
	frame(&s, 0, 0, 1, "msg", 3);
	h.n = 0;
	lit(&h, "grpc-status", "0");
	frame(&s, 1, 0x5, 1, h.b, h.n);
	run(g, &c, &s, 0);
	CHECK_EQ_INT(g->n, 1);
	CHECK_EQ_STR(g->r[0].text, "1 GET / - 200 -");
	CHECK_EQ_STR(g->r[0].resph, "content-type: application/grpc\ngrpc-status: 0\n");
	CHECK_EQ_STR(g->r[0].body, "msg");
	free(g);
	free(c.b);
	free(s.b);
	free(h.b);
}

static void test_push_promise(void)
{
	struct bb c = {0}, s = {0}, h = {0};
	struct got *g = got_new();

	preface(&c);
	frame(&c, 1, 0x5, 1, "\x82\x84", 2);
	put(&h, "\0\0\0\x02", 4); /* promised stream 2 */
	put8(&h, 0x82);
	lit(&h, ":path", "/style.css");
	frame(&s, 5, 0x4, 1, h.b, h.n);
	frame(&s, 1, 0x4, 1, "\x88", 1);
	frame(&s, 1, 0x4, 2, "\x88", 1);
	frame(&s, 0, 1, 2, "css", 3);
	frame(&s, 0, 1, 1, "html", 4);
	run(g, &c, &s, 0);
	CHECK_EQ_INT(g->n, 2);
	CHECK_EQ_STR(g->r[0].text, "2 GET /style.css - 200 -");
	CHECK_EQ_STR(g->r[0].body, "css");
	CHECK_EQ_INT(g->r[0].req_bytes, 9 + h.n);
	CHECK_EQ_STR(g->r[1].text, "1 GET / - 200 -");
	CHECK_EQ_STR(g->r[1].body, "html");
	free(g);
	free(c.b);
	free(s.b);
	free(h.b);
}

static void test_goaway(void)
{
	struct bb c = {0}, s = {0};
	struct got *g = got_new();

	preface(&c);
	frame(&c, 1, 0x5, 1, "\x82\x84", 2);
	frame(&c, 1, 0x5, 3, "\x82\x84", 2);
	frame(&s, 7, 0, 0,
	      "\0\0\0\x01\0\0\0\x0b"
	      "calm",
	      12); /* ENHANCE_YOUR_CALM */
	frame(&s, 1, 0x5, 1, "\x88", 1);
	run(g, &c, &s, 0);
	CHECK_EQ_INT(g->n, 3);
	CHECK(has_note(g, "GOAWAY from the server: ENHANCE_YOUR_CALM (0xb), last stream 1, "
			  "debug: calm"));
	CHECK_EQ_STR(g->r[1].text, "3 GET / - 0 not processed: GOAWAY from server (last stream 1)");
	CHECK_EQ_STR(g->r[2].text, "1 GET / - 200 -");
	free(g);
	free(c.b);
	free(s.b);
}

static void test_upgrade(void)
{
	struct got *g = got_new();
	struct http2 *d = http2_new(emit, g);
	struct bb c = {0}, s = {0};

	frame(&s, 4, 0, 0, "", 0);
	frame(&s, 1, 0x4, 1, "\x88", 1);
	frame(&s, 0, 0x1, 1, "up", 2);
	preface(&c);
	frame(&c, 4, 1, 0, "", 0);
	http2_upgraded(d, "GET", "/u", "h.test", 500000);
	http2_feed(d, DEC_DIR_RESP, s.b, s.n, 2500000);
	http2_feed(d, DEC_DIR_REQ, c.b, c.n, 2600000);
	http2_close(d, 3000000);
	http2_free(d);
	CHECK_EQ_INT(g->n, 1);
	CHECK_EQ_STR(g->r[0].text, "1 GET /u h.test 200 -");
	CHECK_EQ_STR(g->r[0].body, "up");
	CHECK_EQ_INT(g->r[0].latency_us, 2000);
	CHECK_EQ_INT(g->r[0].req_bytes, 0);
	free(g);
	free(c.b);
	free(s.b);
}

/* The upgrade handed over whole (http1_take_upgrade's record): one record for
 * stream 1 with the HTTP/1.1 request's fields, its body as HTTP/1 decoded it
 * (not decoded twice, whatever Content-Encoding says), and the bytes of the
 * HTTP/1.1 request and 101 response counted with stream 1's frames. */
static void test_upgrade_exchange(void)
{
	struct got *g = got_new();
	struct http2 *d = http2_new(emit, g);
	struct bb c = {0}, s = {0};
	struct dec_header rqh[] = {
	    {"Host", "h.test"}, {"Upgrade", "h2c"}, {"Content-Encoding", "gzip"}};
	struct dec_header rsh[] = {{"Upgrade", "h2c"}};
	struct dec_record up;

	memset(&up, 0, sizeof(up));
	up.type = DEC_R_HTTP;
	up.proto = DEC_P_HTTP1;
	up.req_ts_ns = 500000;
	up.resp_ts_ns = 600000;
	up.http.version = "1.1";
	up.http.method = "POST";
	up.http.path = "/u";
	up.http.host = "h.test";
	up.http.status = 101;
	up.http.reason = "Switching Protocols";
	up.http.req_headers = rqh;
	up.http.n_req_headers = 3;
	up.http.resp_headers = rsh;
	up.http.n_resp_headers = 1;
	up.http.req_body = (const uint8_t *)"plain";
	up.http.req_body_len = 5;
	up.http.req_bytes = 120;
	up.http.resp_bytes = 70;
	frame(&s, 4, 0, 0, "", 0);
	frame(&s, 1, 0x4, 1, "\x88", 1);
	frame(&s, 0, 0x1, 1, "up", 2);
	preface(&c);
	http2_upgraded_exchange(d, &up);
	http2_upgraded_exchange(d, &up); /* once only */
	http2_feed(d, DEC_DIR_RESP, s.b, s.n, 2500000);
	http2_feed(d, DEC_DIR_REQ, c.b, c.n, 2600000);
	http2_close(d, 3000000);
	http2_free(d);
	CHECK_EQ_INT(g->n, 1);
	CHECK_EQ_INT(g->notes, 0);
	CHECK_EQ_STR(g->r[0].text, "1 POST /u h.test 200 -");
	CHECK_EQ_STR(g->r[0].reqh, "Host: h.test\nUpgrade: h2c\nContent-Encoding: gzip\n");
	CHECK_EQ_STR(g->r[0].req_body, "plain");
	CHECK_EQ_STR(g->r[0].body, "up");
	CHECK_EQ_INT(g->r[0].latency_us, 2000);
	CHECK_EQ_INT(g->r[0].req_bytes, 120);
	CHECK_EQ_INT(g->r[0].resp_bytes, 70 + 9 + 1 + 9 + 2);
	free(g);
	free(c.b);
	free(s.b);
	/* not an HTTP record, or no decoder: nothing happens */
	http2_upgraded_exchange(NULL, &up);
	g = got_new();
	d = http2_new(emit, g);
	up.type = DEC_R_NOTE;
	http2_upgraded_exchange(d, NULL);
	http2_upgraded_exchange(d, &up);
	http2_close(d, 4000000);
	http2_free(d);
	CHECK_EQ_INT(g->n, 0);
	free(g);
}

/* ---- malformed input ---- */

static void test_no_preface(void)
{
	struct bb c = {0}, s = {0};
	struct got *g = got_new();

	put(&c, "GET / HTTP/1.1\r\n\r\n", 18);
	frame(&s, 1, 0x5, 1, "\x88", 1);
	run(g, &c, &s, 0);
	CHECK_EQ_INT(g->n, 1);
	CHECK(has_note(g, "connection preface"));
	free(g);
	free(c.b);
	free(s.b);
}

static void test_truncated_frame(void)
{
	struct bb c = {0}, s = {0};
	struct got *g = got_new();

	preface(&c);
	frame(&c, 1, 0x5, 1, "\x82\x84", 2);
	frame(&s, 1, 0x4, 1, "\x88", 1);
	frame_hdr(&s, 100, 0, 0, 1);
	put(&s, "only some", 9);
	run(g, &c, &s, 0);
	CHECK_EQ_INT(g->n, 2);
	CHECK_EQ_STR(g->r[0].text,
		     "HTTP/2: connection ended inside a DATA frame from the server on stream 1 "
		     "(9 of 100 payload bytes)");
	CHECK_EQ_STR(g->r[1].text, "1 GET / - 200 incomplete: connection closed");
	CHECK_EQ_STR(g->r[1].body, "only some");
	free(g);
	free(c.b);
	free(s.b);
}

static void test_bad_padding(void)
{
	struct bb c = {0}, s = {0};
	struct got *g = got_new();

	preface(&c);
	frame(&c, 1, 0x5, 1, "\x82\x84", 2);
	frame(&s, 1, 0x4, 1, "\x88", 1);
	frame(&s, 0, 0x8 | 0x1, 1,
	      "\x05"
	      "abc",
	      4);			 /* 5 bytes of padding in 3 */
	frame(&s, 1, 0x5, 3, "\x88", 1); /* ignored: decoding stopped */
	run(g, &c, &s, 0);
	CHECK_EQ_INT(g->n, 2);
	CHECK(has_note(g, "DATA frame on stream 1: padding of 5 bytes exceeds the payload (3 "
			  "bytes)"));
	CHECK_EQ_STR(g->r[1].text, "1 GET / - 200 incomplete: decoding stopped");
	/* Bad padding in HEADERS too. */
	free(c.b);
	free(s.b);
	memset(&c, 0, sizeof(c));
	memset(&s, 0, sizeof(s));
	g->n = 0;
	preface(&c);
	frame(&c, 1, 0x5 | 0x8, 1, "\x02\x82", 2);
	run(g, &c, &s, 0);
	CHECK_EQ_INT(g->n, 1);
	CHECK(has_note(g, "HEADERS frame on stream 1: padding of 2 bytes exceeds"));
	free(g);
	free(c.b);
	free(s.b);
}

static void test_hpack_errors(void)
{
	static const struct {
		const char *block;
		size_t len;
		const char *why;
	} cases[] = {
	    /* libnghttp2's inflater gives one reason for every fault */
	    {"\x82\xc0", 2, "Header compression/decompression error"}, /* index 64 */
	    {"\x82\x04\x84\xff\xff\xff\xff", 7, "Header compression/decompression error"}, /* EOS */
	    {"\x82\x04\x7f\xff\xff\xff\xff\x0f", 8,
	     "Header compression/decompression error"}, /* overflow */
	    {"\x82\x3f\xe2\x1f", 4,
	     "Header compression/decompression error"}, /* update after a field */
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct bb c = {0}, s = {0};
		struct got *g = got_new();

		preface(&c);
		frame(&c, 1, 0x5, 1, "\x82\x84", 2);
		frame(&c, 1, 0x5, 3, cases[i].block, cases[i].len);
		frame(&c, 1, 0x5, 5, "\x82\x84", 2); /* never seen */
		frame(&s, 1, 0x5, 1, "\x88", 1);
		run(g, &c, &s, 0);
		/* The note, then both open streams (3 as far as it decoded). */
		CHECK_EQ_INT(g->n, 3);
		CHECK(has_note(g, "HPACK decoding error in the client's header block on stream 3"));
		CHECK(has_note(g, cases[i].why));
		CHECK_EQ_STR(g->r[1].text, "1 GET / - 0 incomplete: decoding stopped");
		CHECK_EQ_STR(g->r[2].text, "3 GET - - 0 incomplete: decoding stopped");
		free(g);
		free(c.b);
		free(s.b);
	}
}

static void test_continuation_wrong_stream(void)
{
	struct bb c = {0}, s = {0};
	struct got *g = got_new();

	preface(&c);
	frame(&c, 1, 0x1, 1, "\x82", 1); /* no END_HEADERS */
	frame(&c, 9, 0x4, 3, "\x84", 1);
	run(g, &c, &s, 0);
	CHECK_EQ_INT(g->n, 1);
	CHECK(has_note(g, "CONTINUATION frame on stream 3 from the client interrupts the header "
			  "block of stream 1"));
	/* A lone CONTINUATION. */
	free(c.b);
	memset(&c, 0, sizeof(c));
	g->n = 0;
	preface(&c);
	frame(&c, 9, 0x4, 1, "\x84", 1);
	run(g, &c, &s, 0);
	CHECK(has_note(g, "CONTINUATION on stream 1 from the client without a header block"));
	/* A PING between HEADERS and its CONTINUATION. */
	free(c.b);
	memset(&c, 0, sizeof(c));
	g->n = 0;
	preface(&c);
	frame(&c, 1, 0x1, 1, "\x82", 1);
	frame(&c, 6, 0, 0, "12345678", 8);
	run(g, &c, &s, 0);
	CHECK(has_note(g, "PING frame on stream 0 from the client interrupts"));
	free(g);
	free(c.b);
}

static void test_huge_frame(void)
{
	struct bb c = {0}, s = {0};
	struct got *g = got_new();

	preface(&c);
	frame(&c, 1, 0x5, 1, "\x82\x84", 2);
	frame_hdr(&s, 0xffffff, 0, 0, 1); /* 16 MiB - 1 */
	put(&s, "xxxx", 4);
	run(g, &c, &s, 0);
	CHECK_EQ_INT(g->n, 2);
	CHECK(has_note(g, "DATA frame from the server on stream 1 claims 16777215 bytes, above "
			  "SETTINGS_MAX_FRAME_SIZE 16384"));
	/* A larger announced SETTINGS_MAX_FRAME_SIZE allows it. */
	free(c.b);
	free(s.b);
	memset(&c, 0, sizeof(c));
	memset(&s, 0, sizeof(s));
	g->n = 0;
	put(&c, HTTP2_PREFACE, HTTP2_PREFACE_LEN);
	frame(&c, 4, 0, 0, "\0\x05\0\x01\0\0", 6); /* MAX_FRAME_SIZE 65536 */
	frame(&c, 1, 0x5, 1, "\x82\x84", 2);
	frame(&s, 1, 0x4, 1, "\x88", 1);
	frame_hdr(&s, 20000, 0, 1, 1);
	for (size_t i = 0; i < 20000; i++)
		put8(&s, 'a');
	run(g, &c, &s, 0);
	CHECK_EQ_INT(g->n, 1);
	CHECK_EQ_STR(g->r[0].text, "1 GET / - 200 -");
	CHECK_EQ_INT(g->r[0].body_len, 20000);
	free(g);
	free(c.b);
	free(s.b);
}

static void test_gaps(void)
{
	struct got *g = got_new();
	struct http2 *d = http2_new(emit, g);
	struct bb c = {0}, s = {0};

	preface(&c);
	frame(&c, 1, 0x5, 1, "\x82\x84", 2);
	frame(&s, 1, 0x4, 1, "\x88", 1);
	frame_hdr(&s, 10, 0, 1, 1);
	put(&s, "abc", 3);
	http2_feed(d, DEC_DIR_REQ, c.b, c.n, 1000);
	http2_feed(d, DEC_DIR_RESP, s.b, s.n, 2000);
	http2_gap(d, DEC_DIR_RESP, 4); /* inside the DATA payload */
	http2_feed(d, DEC_DIR_RESP, (const uint8_t *)"xyz", 3, 3000);
	CHECK_EQ_INT(g->n, 2);
	CHECK(has_note(g, "4 bytes from the server lost inside a DATA frame of stream 1"));
	CHECK_EQ_STR(g->r[1].text, "1 GET / - 200 -");
	CHECK_EQ_STR(g->r[1].body, "abcxyz");
	CHECK_EQ_INT(g->r[1].body_trunc, 1);
	/* A gap between frames ends decoding. */
	http2_gap(d, DEC_DIR_REQ, 7);
	CHECK(has_note(g, "7 bytes from the client lost; HTTP/2 framing and HPACK state cannot "
			  "be recovered; giving up"));
	http2_close(d, 5000);
	http2_free(d);
	free(g);
	free(c.b);
	free(s.b);
}

static void test_stream_cap(void)
{
	struct bb c = {0}, s = {0};
	struct got *g = got_new();
	uint32_t id;

	preface(&c);
	for (id = 1; id <= 2 * (HTTP2_MAX_STREAMS + 6); id += 2)
		frame(&c, 1, 0x5, id, "\x82\x84", 2);
	run(g, &c, &s, 0);
	CHECK_EQ_INT(g->n, HTTP2_MAX_STREAMS + 2);
	CHECK(has_note(g, "more than 1024 concurrent streams; stream 2049 and further ones"));
	CHECK(has_note(g, "6 streams were not tracked"));
	free(g);
	free(c.b);
}

static void test_note_budget(void)
{
	static const char pad[128];
	struct bb c = {0}, s = {0};
	struct got *g = got_new();
	int i;

	preface(&c);
	/* PINGs of 100 wrong sizes: each noted (not fatal), up to the budget */
	for (i = 0; i < 100; i++)
		frame(&c, 6, 0, 0, pad, (size_t)(i < 8 ? i : i + 1));
	frame(&c, 1, 0x5, 1, "\x82\x84", 2);
	frame(&s, 1, 0x5, 1, "\x88", 1);
	run(g, &c, &s, 0);
	CHECK_EQ_INT(g->notes, 33);
	CHECK_EQ_INT(g->n, 34);
	CHECK(has_note(g, "HTTP/2: more than 32 problems on this connection"));
	CHECK_EQ_STR(g->r[33].text, "1 GET / - 200 -");
	free(g);
	free(c.b);
	free(s.b);
}

/*
 * Issue 12: 301 requests over one connection, as five waves of 60 concurrent
 * streams, with the two directions delivered in any order (a response read by
 * one thread can come before the write holding its request): every exchange
 * paired, none "incomplete". Each direction is cut into pieces of varying size,
 * and the server's piece is fed first, the client's first, or both at random.
 */
static void test_response_before_request(void)
{
	struct bb c = {0}, s = {0};
	unsigned seed = 12345, order;
	uint32_t id;

	preface(&c);
	for (id = 1; id <= 601; id += 2) {
		frame(&c, 1, 0x5, id, "\x82\x84", 2); /* GET / */
		frame(&s, 1, 0x4, id, "\x88", 1);     /* 200 */
		frame(&s, 0, 0x1, id, "ok", 2);	      /* DATA, END_STREAM */
	}
	for (order = 0; order < 3; order++) {
		struct got *g = got_new();
		struct http2 *d = http2_new(emit, g);
		size_t ci = 0, si = 0, i, paired = 0;

		while (ci < c.n || si < s.n) {
			size_t ck, sk;
			int server_first;

			seed = seed * 1103515245u + 12345u;
			ck = 1 + (seed >> 16) % 97;
			sk = 1 + (seed >> 8) % 131;
			server_first = order == 0 ? 1 : order == 1 ? 0 : (int)((seed >> 4) & 1);
			if (ck > c.n - ci)
				ck = c.n - ci;
			if (sk > s.n - si)
				sk = s.n - si;
			if (server_first && sk) {
				http2_feed(d, DEC_DIR_RESP, s.b + si, sk, 2000000);
				si += sk;
			}
			if (ck) {
				http2_feed(d, DEC_DIR_REQ, c.b + ci, ck, 2000155);
				ci += ck;
			}
			if (!server_first && sk) {
				http2_feed(d, DEC_DIR_RESP, s.b + si, sk, 2000000);
				si += sk;
			}
		}
		http2_close(d, 3000000);
		http2_free(d);
		CHECK_EQ_INT(g->notes, 0);
		CHECK_EQ_INT(g->n, 301);
		for (i = 0; i < g->n; i++) {
			char want[64];

			snprintf(want, sizeof(want), "%zu GET / - 200 -", 2 * i + 1);
			if (!strcmp(g->r[i].text, want) && !strcmp(g->r[i].body, "ok"))
				paired++;
		}
		CHECK_EQ_INT(paired, 301);
		free(g);
	}
	free(c.b);
	free(s.b);
}

/* Control frames named, as a view of raw bytes shows them (issue 14). */
static void test_frames_describe(void)
{
	struct strbuf sb = STRBUF_INIT;
	struct bb c = {0};

	preface(&c);
	frame(&c, 4, 0, 0,
	      "\x00\x03\x00\x00\x00\x64\x00\x04\x00\x00\xff\xff\x00\x07\x00\x00\x00\x01", 18);
	frame(&c, 4, 1, 0, "", 0);
	frame(&c, 8, 0, 0, "\x00\x0f\x00\x01", 4);
	frame(&c, 6, 1, 0, "12345678", 8);
	frame(&c, 3, 0, 5, "\x00\x00\x00\x08", 4);
	frame(&c, 2, 0, 3, "\x80\x00\x00\x01\x0f", 5);
	frame(&c, 7, 0, 0, "\x00\x00\x00\x05\x00\x00\x00\x00", 8);
	frame(&c, 1, 0x5, 1, "\x82\x84", 2);
	frame(&c, 0, 0x1, 1, "hello", 5);
	CHECK_EQ_INT(http2_frames_describe(c.b, c.n, &sb), 11);
	CHECK_EQ_STR(
	    sb.buf,
	    "preface, SETTINGS, SETTINGS MAX_CONCURRENT_STREAMS=100 INITIAL_WINDOW_SIZE=65535 "
	    "0x7=1, SETTINGS ACK, WINDOW_UPDATE +983041, PING ACK, RST_STREAM "
	    "stream 5 CANCEL, PRIORITY stream 3 depends on 1, weight 16, exclusive, "
	    "GOAWAY last stream 5 NO_ERROR, HEADERS stream 1 END_STREAM|END_HEADERS "
	    "(2 bytes), DATA stream 1 END_STREAM (5 bytes)");
	/* a frame longer than the bytes at hand */
	sb_reset(&sb);
	CHECK_EQ_INT(http2_frames_describe(c.b + c.n - 14, 12, &sb), 1);
	CHECK_EQ_STR(sb.buf, "DATA stream 1 END_STREAM (3 of 5 bytes)");
	/* not at a frame boundary, or not HTTP/2 at all: nothing named */
	sb_reset(&sb);
	CHECK_EQ_INT(http2_frames_describe(c.b + 25, c.n - 25, &sb), 0);
	CHECK_EQ_INT(http2_frames_describe((const uint8_t *)"GET / HTTP/1.1\r\n\r\n", 18, &sb), 0);
	CHECK_EQ_INT(http2_frames_describe(c.b, 5, &sb), 0);
	CHECK_EQ_INT(sb.len, 0);
	sb_free(&sb);
	free(c.b);
}

/* http2_name_frames: the control frames of a feed as one DEC_R_FRAMES record
 * (none when off), one per feed when fed byte by byte. */
static void test_name_frames(void)
{
	struct bb c = {0};
	struct got *g = got_new();
	struct http2 *d;
	size_t i, frames = 0, http = 0;

	preface(&c);
	frame(&c, 4, 0, 0, "\x00\x03\x00\x00\x00\x64", 6);
	frame(&c, 8, 0, 0, "\x00\x0f\x00\x01", 4);
	frame(&c, 1, 0x5, 1, "\x82\x84", 2);
	frame(&c, 6, 0, 0, "12345678", 8);
	frame(&c, 3, 0, 1, "\x00\x00\x00\x08", 4);
	frame(&c, 7, 0, 0, "\x00\x00\x00\x01\x00\x00\x00\x02", 8);
	d = http2_new(emit, g);
	http2_feed(d, DEC_DIR_REQ, c.b, c.n, 1000);
	http2_free(d);
	for (i = 0; i < g->n; i++)
		CHECK(g->r[i].type != DEC_R_FRAMES);
	memset(g, 0, sizeof(*g));
	d = http2_new(emit, g);
	http2_name_frames(d, 1);
	http2_feed(d, DEC_DIR_REQ, c.b, c.n, 1000);
	http2_close(d, 2000);
	http2_free(d);
	for (i = 0; i < g->n; i++)
		if (g->r[i].type == DEC_R_FRAMES) {
			frames++;
			CHECK_EQ_STR(g->r[i].text,
				     "0 6 SETTINGS, SETTINGS MAX_CONCURRENT_STREAMS=100, "
				     "WINDOW_UPDATE +983041, PING, RST_STREAM stream 1 CANCEL, "
				     "GOAWAY last stream 1 INTERNAL_ERROR");
		}
	CHECK_EQ_INT(frames, 1);
	/* byte by byte: a record for each feed that completes a control frame */
	memset(g, 0, sizeof(*g));
	d = http2_new(emit, g);
	http2_name_frames(d, 1);
	for (i = 0; i < c.n; i++)
		http2_feed(d, DEC_DIR_REQ, c.b + i, 1, 1000 + i);
	http2_close(d, 5000);
	http2_free(d);
	for (frames = 0, i = 0; i < g->n; i++) {
		frames += g->r[i].type == DEC_R_FRAMES;
		http += g->r[i].type == DEC_R_HTTP;
	}
	CHECK_EQ_INT(frames, 6);
	CHECK_EQ_INT(http, 1);
	CHECK_EQ_STR(g->r[0].text, "0 1 SETTINGS");
	CHECK_EQ_STR(g->r[1].text, "0 1 SETTINGS MAX_CONCURRENT_STREAMS=100");
	free(g);
	free(c.b);
}

/* The same fault 100 times: noted once, the repeats counted at close. */
static void test_note_repeats(void)
{
	struct bb c = {0}, s = {0};
	struct got *g = got_new();
	int i;

	preface(&c);
	for (i = 0; i < 100; i++)
		frame(&c, 6, 0, 0, "1234", 4);
	frame(&c, 1, 0x5, 1, "\x82\x84", 2);
	frame(&s, 1, 0x5, 1, "\x88", 1);
	run(g, &c, &s, 0);
	CHECK_EQ_INT(g->notes, 2);
	CHECK_EQ_INT(g->n, 3);
	CHECK(has_note(g, "PING from the client with 4 bytes"));
	CHECK_EQ_STR(g->r[2].text, "HTTP/2: 99 repeated notes on this connection not shown again");
	free(g);
	free(c.b);
	free(s.b);
}

/* Emitting from inside a feed that also carries the other stream's frames,
 * bodies over the cap, and a header list over the field cap. */
static void test_caps(void)
{
	struct bb c = {0}, s = {0}, h = {0};
	struct got *g = got_new();
	char name[16];
	int i;

	preface(&c);
	put(&h, "\x82\x84", 2);
	for (i = 0; i < HTTP2_FIELDS_CAP + 10; i++) {
		snprintf(name, sizeof(name), "x-%d", i);
		lit(&h, name, "v");
	}
	frame(&c, 1, 0x5, 1, h.b, h.n);
	frame(&s, 1, 0x4, 1, "\x88", 1);
	for (i = 0; i < 5; i++) {
		frame_hdr(&s, 16384, 0, i == 4 ? 1 : 0, 1);
		for (int k = 0; k < 16384; k++)
			put8(&s, 'b');
	}
	run(g, &c, &s, 0);
	CHECK_EQ_INT(g->n, 2);
	CHECK(has_note(g, "stream 1: more than 256 header fields"));
	CHECK_EQ_INT(g->r[1].body_len, DEC_BODY_CAP);
	CHECK_EQ_INT(g->r[1].body_trunc, 1);
	CHECK_EQ_INT(g->r[1].resp_bytes, 10 + 5 * (9 + 16384));
	free(g);
	free(c.b);
	free(s.b);
	free(h.b);
}

UNIT_MAIN(UNIT(test_simple_exchange), UNIT(test_byte_by_byte), UNIT(test_detect),
	  UNIT(test_continuation_padding_interleave), UNIT(test_rst_stream_and_close),
	  UNIT(test_gzip_body), UNIT(test_dynamic_table_per_direction),
	  UNIT(test_informational_and_trailers), UNIT(test_push_promise), UNIT(test_goaway),
	  UNIT(test_upgrade), UNIT(test_upgrade_exchange), UNIT(test_no_preface),
	  UNIT(test_truncated_frame), UNIT(test_bad_padding), UNIT(test_hpack_errors),
	  UNIT(test_continuation_wrong_stream), UNIT(test_huge_frame), UNIT(test_gaps),
	  UNIT(test_stream_cap), UNIT(test_note_budget), UNIT(test_note_repeats),
	  UNIT(test_frames_describe), UNIT(test_name_frames), UNIT(test_response_before_request),
	  UNIT(test_caps))
