// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Unit tests of the per-connection dispatcher (decoders/stream.h). */
#include "unit.h"
#include "decoders/stream.h"

#include <errno.h>
#include <stdint.h>

struct sink {
	int http, notes, other;
	int last_status;
};

static void collect(const struct dec_record *r, void *arg)
{
	struct sink *s = arg;

	if (r->type == DEC_R_HTTP) {
		s->http++;
		s->last_status = r->http.status;
	} else if (r->type == DEC_R_NOTE) {
		s->notes++;
	} else {
		s->other++;
	}
}

static void feed_str(struct dec_stream *d, int local_send, const char *s)
{
	dec_stream_feed(d, local_send, (const uint8_t *)s, strlen(s), 1000);
}

static void test_role_client(void)
{
	struct sink s = {0};
	struct dec_stream *d = dec_stream_new(collect, &s);

	CHECK(d != NULL);
	CHECK_EQ_INT(dec_stream_proto(d), DEC_P_UNKNOWN);
	CHECK_EQ_INT(dec_stream_local_is_client(d), -1);
	feed_str(d, 1, "GET / HTTP/1.1\r\n\r\n");
	CHECK_EQ_INT(dec_stream_proto(d), DEC_P_HTTP1);
	CHECK_EQ_INT(dec_stream_local_is_client(d), 1);
	feed_str(d, 0, "HTTP/1.1 204 No Content\r\n\r\n");
	CHECK_EQ_INT(s.http, 1);
	CHECK_EQ_INT(s.last_status, 204);
	dec_stream_free(d);
	dec_stream_free(NULL);
}

/* The server's side: the response is the first thing seen, sent locally. */
static void test_role_server_from_response(void)
{
	struct sink s = {0};
	struct dec_stream *d = dec_stream_new(collect, &s);

	feed_str(d, 1, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	CHECK_EQ_INT(dec_stream_proto(d), DEC_P_HTTP1);
	CHECK_EQ_INT(dec_stream_local_is_client(d), 0);
	CHECK_EQ_INT(s.http, 1);
	dec_stream_free(d);
}

/* A byte at a time until recognition: nothing kept is lost on the way. */
static void test_maybe_then_decide(void)
{
	struct sink s = {0};
	struct dec_stream *d = dec_stream_new(collect, &s);
	const char *rq = "PUT /k HTTP/1.1\r\nContent-Length: 1\r\n\r\nv";
	size_t i;

	for (i = 0; rq[i]; i++) {
		dec_stream_feed(d, 0, (const uint8_t *)rq + i, 1, 1000 + i);
		if (i < 3)
			CHECK_EQ_INT(dec_stream_proto(d), DEC_P_UNKNOWN);
	}
	CHECK_EQ_INT(dec_stream_proto(d), DEC_P_HTTP1);
	CHECK_EQ_INT(dec_stream_local_is_client(d), 0);
	feed_str(d, 1, "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n");
	CHECK_EQ_INT(s.http, 1);
	CHECK_EQ_INT(s.last_status, 201);
	CHECK_EQ_INT(s.notes, 0);
	dec_stream_free(d);
}

static void test_gives_up(void)
{
	struct sink s = {0};
	struct dec_stream *d = dec_stream_new(collect, &s);
	static uint8_t junk[DEC_STREAM_DETECT_CAP + 1];

	memset(junk, 'x', sizeof(junk));
	memcpy(junk, "FOO ", 4); /* could be an unknown method for a while */
	dec_stream_feed(d, 1, junk, 100, 1);
	CHECK_EQ_INT(dec_stream_proto(d), DEC_P_UNKNOWN);
	dec_stream_feed(d, 1, junk, sizeof(junk), 2);
	CHECK_EQ_INT(dec_stream_proto(d), DEC_P_UNKNOWN);
	CHECK_EQ_INT(dec_stream_local_is_client(d), -1);
	/* settled: a later certain start of something is still recognised */
	dec_stream_feed(d, 0, (const uint8_t *)"\x16\x03\x03\x00\x04\x02\x00\x00\x00", 9, 3);
	CHECK_EQ_INT(dec_stream_proto(d), DEC_P_TLS);
	CHECK_EQ_INT(dec_stream_local_is_client(d), 1);
	dec_stream_close(d, 4);
	CHECK_EQ_INT(s.http + s.notes + s.other, 0);
	dec_stream_free(d);
}

static void test_port_hint(void)
{
	struct dec_stream *d = dec_stream_new(collect, &(struct sink){0});

	dec_stream_set_port_hint(d, 5432, 40000);
	/* application data only: the role comes from the ports */
	dec_stream_feed(d, 1, (const uint8_t *)"\x17\x03\x03\x00\x01\x00", 6, 1);
	CHECK_EQ_INT(dec_stream_proto(d), DEC_P_TLS);
	CHECK_EQ_INT(dec_stream_local_is_client(d), 0);
	dec_stream_free(d);

	d = dec_stream_new(collect, &(struct sink){0});
	dec_stream_set_port_hint(d, 40000, 40001);
	dec_stream_feed(d, 1, (const uint8_t *)"\x17\x03\x03\x00\x01\x00", 6, 1);
	CHECK_EQ_INT(dec_stream_local_is_client(d), -1);
	dec_stream_free(d);
}

static void test_force(void)
{
	struct sink s = {0};
	struct dec_stream *d = dec_stream_new(collect, &s);

	CHECK_EQ_INT(dec_stream_force(d, DEC_P_MAX, 1), -EINVAL);
	CHECK_EQ_INT(dec_stream_force(d, DEC_P_HTTP1, 2), -EINVAL);
	CHECK_EQ_INT(dec_stream_force(d, DEC_P_HTTP1, 0), 0);
	CHECK_EQ_INT(dec_stream_local_is_client(d), 0);
	/* forced: a response sent by the local server, nothing to recognise */
	feed_str(d, 0, "GET /f HTTP/1.1\r\n\r\n");
	feed_str(d, 1, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	CHECK_EQ_INT(s.http, 1);
	CHECK_EQ_INT(dec_stream_force(d, DEC_P_HTTP1, 0), -EINVAL);
	dec_stream_free(d);
	CHECK(dec_stream_new(NULL, NULL) == NULL);
}

/* Gaps before recognition: the bytes before a gap are dropped, the next write
 * is tried afresh. */
static void test_gap_before_decision(void)
{
	struct sink s = {0};
	struct dec_stream *d = dec_stream_new(collect, &s);

	feed_str(d, 1, "GE");
	dec_stream_gap(d, 1, 100);
	CHECK_EQ_INT(dec_stream_proto(d), DEC_P_UNKNOWN);
	feed_str(d, 1, "GET /after-gap HTTP/1.1\r\n\r\n");
	CHECK_EQ_INT(dec_stream_proto(d), DEC_P_HTTP1);
	feed_str(d, 0, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	CHECK_EQ_INT(s.http, 1);
	dec_stream_close(d, 5);
	dec_stream_free(d);
}

/* Many one-byte writes of nothing recognisable: bounded, settles on unknown. */
static void test_segment_bound(void)
{
	struct dec_stream *d = dec_stream_new(collect, &(struct sink){0});
	int i;

	for (i = 0; i < DEC_STREAM_MAX_SEGS + 5; i++)
		dec_stream_feed(d, i & 1, (const uint8_t *)"\x01", 1, 1);
	CHECK_EQ_INT(dec_stream_proto(d), DEC_P_UNKNOWN);
	dec_stream_close(d, 2);
	dec_stream_close(d, 3);
	dec_stream_free(d);
}

/* An HTTP/2 frame header (RFC 9113 section 4.1) at p. */
static size_t h2_frame(uint8_t *p, size_t len, uint8_t type, uint8_t flags, uint32_t sid)
{
	p[0] = (uint8_t)(len >> 16);
	p[1] = (uint8_t)(len >> 8);
	p[2] = (uint8_t)len;
	p[3] = type;
	p[4] = flags;
	p[5] = (uint8_t)(sid >> 24);
	p[6] = (uint8_t)(sid >> 16);
	p[7] = (uint8_t)(sid >> 8);
	p[8] = (uint8_t)sid;
	return 9;
}

/* The client's first write is larger than DEC_STREAM_DETECT_CAP (nghttp
 * --continuation sends 18 KiB at once): recognised on its first bytes, and
 * decoded whole, instead of settling on unknown. Also after a short kept write
 * on the same side that it continues, and from the server's side. */
static void test_first_write_over_cap(void)
{
	static uint8_t w[DEC_STREAM_DETECT_CAP + 2048];
	/* :method GET, :scheme http, :path /, :authority h (RFC 7541 Appendix A) */
	static const uint8_t hb[] = {0x82, 0x86, 0x84, 0x41, 0x01, 'h'};
	uint8_t resp[9 + 9 + 1];
	size_t n = 0, body = sizeof(w) - 24 - 9 - 9 - sizeof(hb) - 9 - 9, k;
	int split, as_server;

	memcpy(w, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 24);
	n = 24;
	n += h2_frame(w + n, 0, 4, 0, 0);	   /* SETTINGS */
	n += h2_frame(w + n, sizeof(hb), 1, 4, 1); /* HEADERS, END_HEADERS */
	memcpy(w + n, hb, sizeof(hb));
	n += sizeof(hb);
	/* the request body in two DATA frames (16384 is the default maximum) */
	k = body / 2;
	n += h2_frame(w + n, k, 0, 0, 1);
	memset(w + n, 'a', k);
	n += k;
	n += h2_frame(w + n, body - k, 0, 1, 1); /* END_STREAM */
	memset(w + n, 'b', body - k);
	n += body - k;
	CHECK_EQ_INT(n, sizeof(w));
	k = h2_frame(resp, 0, 4, 0, 0);
	k += h2_frame(resp + k, 1, 1, 5, 1); /* HEADERS, END_HEADERS | END_STREAM */
	resp[k++] = 0x88;		     /* :status 200 */

	for (as_server = 0; as_server < 2; as_server++) {
		for (split = 0; split < 2; split++) {
			struct sink s = {0};
			struct dec_stream *d = dec_stream_new(collect, &s);
			size_t off = split ? 10 : 0; /* a short write first, kept */

			if (off)
				dec_stream_feed(d, !as_server, w, off, 1000);
			CHECK_EQ_INT(dec_stream_proto(d), DEC_P_UNKNOWN);
			dec_stream_feed(d, !as_server, w + off, sizeof(w) - off, 2000);
			CHECK_EQ_INT(dec_stream_proto(d), DEC_P_HTTP2);
			CHECK_EQ_INT(dec_stream_local_is_client(d), !as_server);
			dec_stream_feed(d, as_server, resp, k, 3000);
			dec_stream_close(d, 4000);
			CHECK_EQ_INT(s.http, 1);
			CHECK_EQ_INT(s.last_status, 200);
			CHECK_EQ_INT(s.notes, 0);
			dec_stream_free(d);
		}
	}
}

/* An oversized write that starts nothing known still settles on unknown, and
 * the next recognisable write is taken. */
static void test_over_cap_unknown(void)
{
	static uint8_t junk[DEC_STREAM_DETECT_CAP + 1];
	struct sink s = {0};
	struct dec_stream *d = dec_stream_new(collect, &s);

	memset(junk, 0x01, sizeof(junk));
	dec_stream_feed(d, 0, junk, sizeof(junk), 1);
	CHECK_EQ_INT(dec_stream_proto(d), DEC_P_UNKNOWN);
	feed_str(d, 0, "GET /x HTTP/1.1\r\n\r\n");
	CHECK_EQ_INT(dec_stream_proto(d), DEC_P_HTTP1);
	feed_str(d, 1, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	CHECK_EQ_INT(s.http, 1);
	dec_stream_free(d);
}

UNIT_MAIN(UNIT(test_role_client), UNIT(test_role_server_from_response),
	  UNIT(test_maybe_then_decide), UNIT(test_gives_up), UNIT(test_port_hint), UNIT(test_force),
	  UNIT(test_gap_before_decision), UNIT(test_segment_bound), UNIT(test_first_write_over_cap),
	  UNIT(test_over_cap_unknown))
