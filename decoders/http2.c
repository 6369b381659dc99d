// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * HTTP/2 decoder (RFC 9113, HPACK per RFC 7541). See http2.h.
 */
#include "http2.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hpack.h"
#include "util/content.h"
#include "util/cursor.h"
#include "util/notes.h"
#include "util/strbuf.h"

/* RFC 9113 section 6: frame types and flags. */
enum {
	FT_DATA = 0x0,
	FT_HEADERS = 0x1,
	FT_PRIORITY = 0x2,
	FT_RST_STREAM = 0x3,
	FT_SETTINGS = 0x4,
	FT_PUSH_PROMISE = 0x5,
	FT_PING = 0x6,
	FT_GOAWAY = 0x7,
	FT_WINDOW_UPDATE = 0x8,
	FT_CONTINUATION = 0x9,
};
#define FL_END_STREAM  0x1
#define FL_ACK	       0x1
#define FL_END_HEADERS 0x4
#define FL_PADDED      0x8
#define FL_PRIORITY    0x20

#define FRAME_HDR	   9
#define DEFAULT_MAX_FRAME  16384    /* section 6.5.2: SETTINGS_MAX_FRAME_SIZE initial value */
#define ABSOLUTE_MAX_FRAME 16777215 /* 2^24 - 1, the largest length the field holds */
#define MAX_NOTES	   32

/* Stored header fields of one message ("name\0value\0" each, by offset). */
struct h2half {
	char *arena;
	size_t alen, acap;
	struct h2field {
		uint32_t name, value; /* offsets in arena */
	} * fields;
	size_t nfields, fcap;
	long method, path, authority, host; /* indexes in fields, -1 if absent */
	int headers_seen;		    /* a header block arrived */
	int informational;		    /* the last block was a 1xx: the next one replaces it */
	int ended;			    /* END_STREAM seen */
	int dropped;			    /* fields not kept (caps) */
	uint8_t *body;
	size_t blen, bcap;
	int btrunc;
	int decoded;	/* the body is already decoded (an HTTP/1 upgrade request's) */
	uint64_t bytes; /* frame bytes */
};

struct h2stream {
	uint32_t id;
	int status;
	struct h2half req, resp;
	uint64_t req_ts, resp_ts; /* first request byte, last response byte so far */
};

struct h2dir {
	size_t preface_left; /* REQ: bytes of the connection preface still expected */
	uint8_t hdr[FRAME_HDR];
	size_t hdr_len; /* bytes of the current frame header seen */
	uint32_t flen;	/* current frame: payload length, type, flags, stream */
	uint8_t ftype, fflags;
	uint32_t fsid;
	uint32_t fpos; /* payload bytes consumed */
	uint64_t fts;  /* time of the frame's first byte */
	int pad;       /* DATA: padding length, -1 until read */
	uint8_t *buf;  /* payload of a non-DATA frame */
	size_t buf_cap;
	/* A header block in progress (section 4.3: HEADERS or PUSH_PROMISE, then
	 * CONTINUATION frames on the same stream, nothing else in between). */
	int in_block;
	uint8_t block_type;
	uint32_t block_sid, block_promised;
	int block_end_stream;
	uint64_t block_ts, block_bytes;
	uint8_t *block;
	size_t block_len, block_cap;
	struct hpack_table hpack; /* decodes blocks sent in this direction */
};

struct http2 {
	dec_emit_fn emit;
	void *arg;
	int dead; /* decoding stopped: ignore everything */
	int closed;
	struct dec_notes notes;
	struct h2dir dir[2];
	uint32_t frame_limit;
	struct h2stream **streams;
	size_t nstreams, scap;
	uint32_t max_sid[2]; /* highest stream opened by the client / server */
	uint64_t untracked;  /* streams not tracked for lack of room */
	uint64_t held;	     /* bytes held in open streams' fields and bodies */
	int held_noted;
	uint64_t last_ts;
	int name_frames;     /* http2_name_frames */
	struct strbuf named; /* control frames of the current feed, named */
	uint32_t n_named, n_unnamed;
};

static const char *peer_name(int dir)
{
	return dir == DEC_DIR_REQ ? "client" : "server";
}

static const char *frame_name(unsigned t)
{
	static const char *const n[] = {"DATA",		 "HEADERS",	 "PRIORITY", "RST_STREAM",
					"SETTINGS",	 "PUSH_PROMISE", "PING",     "GOAWAY",
					"WINDOW_UPDATE", "CONTINUATION"};

	return t < sizeof(n) / sizeof(n[0]) ? n[t] : "unknown";
}

/* RFC 9113 section 7. */
static const char *error_name(uint32_t e)
{
	static const char *const n[] = {"NO_ERROR",
					"PROTOCOL_ERROR",
					"INTERNAL_ERROR",
					"FLOW_CONTROL_ERROR",
					"SETTINGS_TIMEOUT",
					"STREAM_CLOSED",
					"FRAME_SIZE_ERROR",
					"REFUSED_STREAM",
					"CANCEL",
					"COMPRESSION_ERROR",
					"CONNECT_ERROR",
					"ENHANCE_YOUR_CALM",
					"INADEQUATE_SECURITY",
					"HTTP_1_1_REQUIRED"};

	return e < sizeof(n) / sizeof(n[0]) ? n[e] : "unknown error";
}

static void note(struct http2 *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(struct http2 *d, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	dec_vnote(&d->notes, 0, fmt, ap);
	va_end(ap);
}

/* ---- streams ---- */

static void half_init(struct h2half *h)
{
	memset(h, 0, sizeof(*h));
	h->method = h->path = h->authority = h->host = -1;
}

static void half_clear_fields(struct http2 *d, struct h2half *h)
{
	d->held -= h->alen;
	h->alen = 0;
	h->nfields = 0;
	h->method = h->path = h->authority = h->host = -1;
}

static void half_free(struct http2 *d, struct h2half *h)
{
	d->held -= h->alen + h->blen;
	free(h->arena);
	free(h->fields);
	free(h->body);
}

static struct h2stream *stream_find(struct http2 *d, uint32_t id)
{
	size_t i;

	for (i = 0; i < d->nstreams; i++)
		if (d->streams[i]->id == id)
			return d->streams[i];
	return NULL;
}

/* A new stream opened by `by` (the direction whose peer initiated it; -1: a
 * client stream whose response came before its request, see block_target), or
 * NULL if there is no room (counted and noted). */
static struct h2stream *stream_open(struct http2 *d, uint32_t id, int by)
{
	struct h2stream *s;

	if (by >= 0 && id > d->max_sid[by])
		d->max_sid[by] = id;
	if (d->nstreams >= HTTP2_MAX_STREAMS) {
		if (!d->untracked++)
			note(d,
			     "more than %d concurrent streams; stream %u and further ones are "
			     "not tracked",
			     HTTP2_MAX_STREAMS, id);
		return NULL;
	}
	if (d->nstreams == d->scap) {
		size_t ncap = d->scap ? d->scap * 2 : 16;
		struct h2stream **n = realloc(d->streams, ncap * sizeof(*n));

		if (!n)
			return NULL;
		d->streams = n;
		d->scap = ncap;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->id = id;
	half_init(&s->req);
	half_init(&s->resp);
	d->streams[d->nstreams++] = s;
	return s;
}

static void stream_remove(struct http2 *d, struct h2stream *s)
{
	size_t i;

	for (i = 0; i < d->nstreams; i++)
		if (d->streams[i] == s) {
			d->streams[i] = d->streams[--d->nstreams];
			break;
		}
	half_free(d, &s->req);
	half_free(d, &s->resp);
	free(s);
}

/* Reserve n more bytes against the connection's bound on held bytes. */
static int held_take(struct http2 *d, size_t n)
{
	if (d->held + n > HTTP2_HELD_CAP) {
		if (!d->held_noted) {
			d->held_noted = 1;
			note(d,
			     "more than %d MiB held for open streams; further header fields "
			     "and body bytes of open streams are not kept",
			     HTTP2_HELD_CAP >> 20);
		}
		return -1;
	}
	d->held += n;
	return 0;
}

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
	size_t ncap;
	void *n;

	if (need <= *cap)
		return 0;
	ncap = *cap ? *cap : 64;
	while (ncap < need)
		ncap *= 2;
	n = realloc(*p, ncap * elem);
	if (!n)
		return -1;
	*p = n;
	*cap = ncap;
	return 0;
}

static void half_add_field(struct http2 *d, struct h2stream *s, struct h2half *h, const char *name,
			   size_t nlen, const char *value, size_t vlen)
{
	size_t need = nlen + vlen + 2;
	long off;

	if (h->nfields >= HTTP2_FIELDS_CAP || h->alen + need > HTTP2_FIELD_BYTES_CAP) {
		if (!h->dropped++)
			note(d,
			     "stream %u: more than %d header fields or %d KiB of them in the %s; "
			     "the rest are not kept",
			     s->id, HTTP2_FIELDS_CAP, HTTP2_FIELD_BYTES_CAP >> 10,
			     h == &s->req ? "request" : "response");
		return;
	}
	if (grow((void **)&h->arena, &h->acap, h->alen + need, 1) ||
	    grow((void **)&h->fields, &h->fcap, h->nfields + 1, sizeof(*h->fields)) ||
	    held_take(d, need))
		return;
	off = (long)h->alen;
	memcpy(h->arena + h->alen, name, nlen);
	h->arena[h->alen + nlen] = '\0';
	memcpy(h->arena + h->alen + nlen + 1, value, vlen);
	h->arena[h->alen + need - 1] = '\0';
	h->alen += need;
	h->fields[h->nfields].name = (uint32_t)off;
	h->fields[h->nfields].value = (uint32_t)(off + (long)nlen + 1);
	h->nfields++;
}

/* Add a field and remember its index in *which (if it was kept). */
static void half_add_pseudo(struct http2 *d, struct h2stream *s, struct h2half *h, long *which,
			    const char *name, const char *value)
{
	size_t before = h->nfields;

	half_add_field(d, s, h, name, strlen(name), value, strlen(value));
	if (h->nfields > before)
		*which = (long)before;
}

static const char *half_name(const struct h2half *h, size_t i)
{
	return h->arena + h->fields[i].name;
}

static const char *half_value(const struct h2half *h, size_t i)
{
	return h->arena + h->fields[i].value;
}

static const char *half_pseudo(const struct h2half *h, long off)
{
	return off >= 0 ? half_value(h, (size_t)off) : NULL;
}

static const char *half_get(const struct h2half *h, const char *name)
{
	size_t i;

	for (i = 0; i < h->nfields; i++)
		if (!strcasecmp(half_name(h, i), name))
			return half_value(h, i);
	return NULL;
}

static void half_body(struct http2 *d, struct h2half *h, const uint8_t *p, size_t n)
{
	size_t room = DEC_BODY_CAP - h->blen;

	if (n > room) {
		h->btrunc = 1;
		n = room;
	}
	if (!n)
		return;
	if (grow((void **)&h->body, &h->bcap, h->blen + n, 1)) {
		h->btrunc = 1;
		return;
	}
	if (held_take(d, n)) {
		h->btrunc = 1;
		return;
	}
	memcpy(h->body + h->blen, p, n);
	h->blen += n;
}

/* The body as shown: decoded when its Content-Encoding is gzip or deflate, into
 * cb (which the caller frees); else, or if it does not decode, as received. */
static void body_view(struct http2 *d, struct h2stream *s, struct h2half *h, const uint8_t **p,
		      size_t *n, int *trunc, struct content_body *cb)
{
	memset(cb, 0, sizeof(*cb));
	*p = h->body;
	*n = h->blen;
	*trunc = h->btrunc;
	cb->coding = content_coding_of(half_get(h, "content-encoding"));
	if (cb->coding == CONTENT_IDENTITY || !h->blen || h->decoded)
		return;
	if (content_body_add(cb, h->body, h->blen) < 0 || !cb->len) {
		note(d, "stream %u: %s body does not decode as %s; shown as received", s->id,
		     h == &s->req ? "request" : "response", content_coding_name(cb->coding));
		content_body_free(cb);
		return;
	}
	/* a coded stream cut short (capture or cap) is shown as far as it goes */
	content_body_finish(cb);
	*p = cb->buf;
	*n = cb->len;
	*trunc = cb->truncated || h->btrunc;
}

static struct dec_header *half_list(const struct h2half *h)
{
	struct dec_header *l;
	size_t i, n = 0;

	l = calloc(h->nfields ? h->nfields : 1, sizeof(*l));
	if (!l)
		return NULL;
	for (i = 0; i < h->nfields; i++) {
		const char *name = half_name(h, i);

		/* These four are record fields of their own. */
		if (!strcmp(name, ":method") || !strcmp(name, ":path") ||
		    !strcmp(name, ":authority") || !strcmp(name, ":status"))
			continue;
		l[n].name = name;
		l[n].value = half_value(h, i);
		n++;
	}
	return l;
}

static size_t list_len(const struct h2half *h)
{
	size_t i, n = 0;

	for (i = 0; i < h->nfields; i++) {
		const char *name = half_name(h, i);

		if (strcmp(name, ":method") && strcmp(name, ":path") &&
		    strcmp(name, ":authority") && strcmp(name, ":status"))
			n++;
	}
	return n;
}

/* Emit the stream's record and forget it. */
static void stream_emit(struct http2 *d, struct h2stream *s, const char *reason)
{
	struct dec_record r;
	struct content_body cb_q, cb_s;
	struct dec_header *rq, *rs;
	const char *host;

	memset(&r, 0, sizeof(r));
	r.type = DEC_R_HTTP;
	r.proto = DEC_P_HTTP2;
	r.req_ts_ns = s->req_ts;
	r.resp_ts_ns = s->resp_ts;
	if (s->req_ts && s->resp_ts > s->req_ts)
		r.latency_us = (s->resp_ts - s->req_ts) / 1000;
	r.http.version = "2";
	r.http.method = half_pseudo(&s->req, s->req.method);
	r.http.path = half_pseudo(&s->req, s->req.path);
	host = half_pseudo(&s->req, s->req.authority);
	r.http.host = host ? host : half_pseudo(&s->req, s->req.host);
	r.http.status = s->status;
	if (s->resp.headers_seen)
		memcpy(r.http.resp_version, "2", 2);
	r.http.reason = reason;
	r.http.stream_id = s->id;
	rq = half_list(&s->req);
	rs = half_list(&s->resp);
	r.http.req_headers = rq;
	r.http.n_req_headers = rq ? list_len(&s->req) : 0;
	r.http.resp_headers = rs;
	r.http.n_resp_headers = rs ? list_len(&s->resp) : 0;
	body_view(d, s, &s->req, &r.http.req_body, &r.http.req_body_len, &r.http.req_body_truncated,
		  &cb_q);
	body_view(d, s, &s->resp, &r.http.resp_body, &r.http.resp_body_len,
		  &r.http.resp_body_truncated, &cb_s);
	r.http.req_bytes = s->req.bytes;
	r.http.resp_bytes = s->resp.bytes;
	d->emit(&r, d->arg);
	free(rq);
	free(rs);
	content_body_free(&cb_q);
	content_body_free(&cb_s);
	stream_remove(d, s);
}

static int cmp_stream(const void *a, const void *b)
{
	uint32_t x = (*(struct h2stream *const *)a)->id, y = (*(struct h2stream *const *)b)->id;

	return x < y ? -1 : x > y;
}

/* Report every open stream, in stream order. */
static void flush_streams(struct http2 *d, const char *reason)
{
	if (!d->nstreams)
		return;
	qsort(d->streams, d->nstreams, sizeof(*d->streams), cmp_stream);
	while (d->nstreams) {
		/* Move the first to the end: stream_remove then takes it off
		 * the end and the rest stays sorted. */
		struct h2stream *s = d->streams[0];

		memmove(d->streams, d->streams + 1, (d->nstreams - 1) * sizeof(*d->streams));
		d->streams[d->nstreams - 1] = s;
		stream_emit(d, s, reason);
	}
}

/* Stop decoding the connection: say why, report what was open. */
static void h2_give_up(struct http2 *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void h2_give_up(struct http2 *d, const char *fmt, ...)
{
	char text[400];
	va_list ap;

	if (d->dead)
		return;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	note(d, "%s; giving up on this connection", text);
	d->dead = 1;
	flush_streams(d, "incomplete: decoding stopped");
}

/* ---- header blocks ---- */

struct field_ctx {
	struct http2 *d;
	struct h2stream *s; /* NULL: decode only, to keep HPACK in step */
	struct h2half *h;
	int is_resp;
};

static void on_field(void *arg, const char *name, size_t nlen, const char *value, size_t vlen,
		     int never_indexed)
{
	struct field_ctx *c = arg;
	struct h2half *h = c->h;
	size_t before;

	(void)never_indexed;
	if (!c->s)
		return;
	if (c->is_resp && nlen == 7 && !memcmp(name, ":status", 7)) {
		int st = 0;
		size_t i;

		for (i = 0; i < vlen && i < 3 && value[i] >= '0' && value[i] <= '9'; i++)
			st = st * 10 + (value[i] - '0');
		c->s->status = i == 3 && vlen == 3 ? st : 0;
	}
	before = h->nfields;
	half_add_field(c->d, c->s, h, name, nlen, value, vlen);
	if (h->nfields == before || c->is_resp)
		return;
	if (nlen == 7 && !memcmp(name, ":method", 7))
		h->method = (long)before;
	else if (nlen == 5 && !memcmp(name, ":path", 5))
		h->path = (long)before;
	else if (nlen == 10 && !memcmp(name, ":authority", 10))
		h->authority = (long)before;
	else if (nlen == 4 && !strncasecmp(name, "host", 4))
		h->host = (long)before;
}

/* The half of stream s that a block from dir fills (or NULL to discard). */
static struct h2half *block_target(struct http2 *d, struct h2dir *dr, int dir, struct h2stream **sp)
{
	struct h2stream *s = NULL;

	*sp = NULL;
	if (dr->block_type == FT_PUSH_PROMISE) {
		/* Section 8.4: the promised stream carries the request. */
		uint32_t p = dr->block_promised;

		if (p <= d->max_sid[DEC_DIR_RESP] || stream_find(d, p))
			return NULL;
		s = stream_open(d, p, DEC_DIR_RESP);
		if (!s)
			return NULL;
		s->req_ts = dr->block_ts;
		s->req.ended = 1;
		*sp = s;
		return &s->req;
	}
	s = stream_find(d, dr->block_sid);
	if (dir == DEC_DIR_REQ) {
		if (s && !s->req.headers_seen) {
			/* The request of a stream its response opened (below). */
			if (dr->block_sid > d->max_sid[DEC_DIR_REQ])
				d->max_sid[DEC_DIR_REQ] = dr->block_sid;
			s->req_ts = dr->block_ts;
		} else if (!s) {
			/* Section 5.1.1: a new stream has a higher id than any
			 * the client opened; lower ones are closed. */
			if (dr->block_sid <= d->max_sid[DEC_DIR_REQ])
				return NULL;
			s = stream_open(d, dr->block_sid, DEC_DIR_REQ);
			if (!s)
				return NULL;
			s->req_ts = dr->block_ts;
		}
		*sp = s;
		return &s->req;
	}
	if (!s && (dr->block_sid & 1) && dr->block_sid > d->max_sid[DEC_DIR_REQ]) {
		/* A response on a client stream whose request was not seen yet: the
		 * two directions are captured by different threads, so a response
		 * read by one can be delivered before the write holding its request
		 * (each direction stays in order). Open the stream for the request
		 * to fill when it comes; max_sid is left alone, so the client's
		 * lower streams still open. */
		s = stream_open(d, dr->block_sid, -1);
	}
	if (!s)
		return NULL;
	if (s->resp.informational) {
		/* Section 8.1: 1xx blocks come before the final one. */
		half_clear_fields(d, &s->resp);
		s->resp.informational = 0;
	}
	*sp = s;
	return &s->resp;
}

/* The response side of s ended: report the exchange, unless its request has not
 * arrived yet (see block_target); then request_ended reports it. */
static void response_ended(struct http2 *d, struct h2stream *s)
{
	s->resp.ended = 1;
	if (s->req.headers_seen)
		stream_emit(d, s, NULL);
}

/* The request side of s ended: report the exchange if its response came first
 * and is complete. */
static void request_ended(struct http2 *d, struct h2stream *s)
{
	s->req.ended = 1;
	if (s->resp.ended)
		stream_emit(d, s, NULL);
}

static void block_complete(struct http2 *d, int dir, uint64_t ts)
{
	struct h2dir *dr = &d->dir[dir];
	struct field_ctx c;
	struct h2stream *s;
	int rc;

	dr->in_block = 0;
	c.d = d;
	c.h = block_target(d, dr, dir, &s);
	c.s = s;
	c.is_resp = dir == DEC_DIR_RESP && dr->block_type == FT_HEADERS;
	if (s)
		c.h->bytes += dr->block_bytes;
	rc = hpack_decode_block(&dr->hpack, dr->block, dr->block_len, on_field, &c);
	dr->block_len = 0;
	if (rc) {
		h2_give_up(d,
			   "HPACK decoding error in the %s's header block on stream %u (%s); "
			   "the dynamic table is now unknown",
			   peer_name(dir), dr->block_sid, dr->hpack.error);
		return;
	}
	if (!s)
		return;
	c.h->headers_seen = 1;
	if (c.is_resp) {
		s->resp_ts = ts;
		if (s->status >= 100 && s->status < 200)
			c.h->informational = 1;
	}
	if (dr->block_end_stream && dr->block_type == FT_HEADERS) {
		if (c.is_resp)
			response_ended(d, s);
		else
			request_ended(d, s);
	}
}

static int block_append(struct http2 *d, struct h2dir *dr, const uint8_t *p, size_t n)
{
	if (dr->block_len + n > HTTP2_BUF_CAP) {
		h2_give_up(d, "header block on stream %u larger than %d KiB", dr->block_sid,
			   HTTP2_BUF_CAP >> 10);
		return -1;
	}
	if (grow((void **)&dr->block, &dr->block_cap, dr->block_len + n, 1)) {
		h2_give_up(d, "out of memory for a header block");
		return -1;
	}
	if (n)
		memcpy(dr->block + dr->block_len, p, n);
	dr->block_len += n;
	return 0;
}

/* ---- frames ---- */

/* Strip the pad length byte and padding of a PADDED frame (section 6.1/6.2/6.6).
 * Returns 0 with *p and *n narrowed, -1 (connection given up) if invalid. */
static int unpad(struct http2 *d, struct h2dir *dr, const uint8_t **p, size_t *n)
{
	uint8_t pad;

	if (!(dr->fflags & FL_PADDED))
		return 0;
	if (*n < 1) {
		h2_give_up(d, "%s frame on stream %u is PADDED but empty", frame_name(dr->ftype),
			   dr->fsid);
		return -1;
	}
	pad = (*p)[0];
	if (pad > *n - 1) {
		h2_give_up(d,
			   "%s frame on stream %u: padding of %u bytes exceeds the payload (%zu "
			   "bytes) (RFC 9113 section 6.%d)",
			   frame_name(dr->ftype), dr->fsid, pad, *n - 1,
			   dr->ftype == FT_HEADERS ? 2 : 6);
		return -1;
	}
	*p += 1;
	*n -= 1 + pad;
	return 0;
}

static void settings(struct http2 *d, int dir, const uint8_t *p, size_t n)
{
	struct h2dir *peer = &d->dir[!dir];
	struct cursor cu;
	uint32_t id, v;

	if (d->dir[dir].fsid) {
		note(d, "SETTINGS from the %s on stream %u, not 0 (RFC 9113 section 6.5)",
		     peer_name(dir), d->dir[dir].fsid);
		return;
	}
	if (d->dir[dir].fflags & FL_ACK) {
		if (n)
			note(d, "SETTINGS ACK from the %s with a %zu-byte payload", peer_name(dir),
			     n);
		return;
	}
	if (n % 6)
		note(d, "SETTINGS from the %s of %zu bytes, not a multiple of 6", peer_name(dir),
		     n);
	for (cu = cur_make(p, n); cur_be16(&cu, &id) && cur_be32(&cu, &v);) {
		if (id == 0x1) {
			/* SETTINGS_HEADER_TABLE_SIZE bounds the table of the
			 * sender's decoder: blocks sent by its peer. */
			if (v > peer->hpack.limit)
				hpack_table_set_limit(&peer->hpack, v);
		} else if (id == 0x5) {
			/* SETTINGS_MAX_FRAME_SIZE: section 6.5.2 range. */
			if (v < DEFAULT_MAX_FRAME || v > ABSOLUTE_MAX_FRAME)
				note(d, "SETTINGS_MAX_FRAME_SIZE %u from the %s is out of range", v,
				     peer_name(dir));
			else if (v > d->frame_limit)
				d->frame_limit = v;
		}
	}
}

static void rst_stream(struct http2 *d, int dir, const uint8_t *p, size_t n, uint64_t ts)
{
	struct h2dir *dr = &d->dir[dir];
	struct h2stream *s;
	char reason[96];
	uint32_t code;

	if (n != 4 || !dr->fsid) {
		note(d, "RST_STREAM from the %s on stream %u with %zu bytes (RFC 9113 section 6.4)",
		     peer_name(dir), dr->fsid, n);
		return;
	}
	s = stream_find(d, dr->fsid);
	if (!s)
		return;
	code = (uint32_t)cur_be32_at(p, n, 0);
	snprintf(reason, sizeof(reason), "RST_STREAM %s (0x%x) from %s", error_name(code), code,
		 peer_name(dir));
	if (dir == DEC_DIR_RESP)
		s->resp_ts = ts;
	stream_emit(d, s, reason);
}

static void goaway(struct http2 *d, int dir, const uint8_t *p, size_t n)
{
	char reason[96];
	uint32_t last, code;
	size_t i;

	if (n < 8 || d->dir[dir].fsid) {
		note(d, "GOAWAY from the %s with %zu bytes on stream %u (RFC 9113 section 6.8)",
		     peer_name(dir), n, d->dir[dir].fsid);
		return;
	}
	last = (uint32_t)cur_be32_at(p, n, 0) & 0x7fffffff;
	code = (uint32_t)cur_be32_at(p, n, 4);
	if (code) {
		int dl = n - 8 > 100 ? 100 : (int)(n - 8);
		size_t k;
		char dbg[101];

		for (k = 0; k < (size_t)dl; k++)
			dbg[k] = p[8 + k] >= 0x20 && p[8 + k] < 0x7f ? (char)p[8 + k] : '.';
		dbg[dl] = '\0';
		note(d, "GOAWAY from the %s: %s (0x%x), last stream %u%s%s", peer_name(dir),
		     error_name(code), code, last, dl ? ", debug: " : "", dbg);
	}
	/* Section 6.8: streams the receiver opened above `last` were not
	 * processed. Client streams are odd, pushed streams even. */
	snprintf(reason, sizeof(reason), "not processed: GOAWAY from %s (last stream %u)",
		 peer_name(dir), last);
	if (d->nstreams)
		qsort(d->streams, d->nstreams, sizeof(*d->streams), cmp_stream);
	for (i = 0; i < d->nstreams;) {
		struct h2stream *s = d->streams[i];
		int opened_by_receiver = dir == DEC_DIR_RESP ? (s->id & 1) : !(s->id & 1);

		if (s->id > last && opened_by_receiver) {
			memmove(d->streams + i, d->streams + i + 1,
				(d->nstreams - i - 1) * sizeof(*d->streams));
			d->streams[d->nstreams - 1] = s;
			stream_emit(d, s, reason);
		} else {
			i++;
		}
	}
}

static void start_block(struct http2 *d, struct h2dir *dr, const uint8_t *p, size_t n, uint8_t type,
			uint32_t promised)
{
	dr->in_block = 1;
	dr->block_type = type;
	dr->block_sid = dr->fsid;
	dr->block_promised = promised;
	dr->block_end_stream = (dr->fflags & FL_END_STREAM) != 0;
	dr->block_ts = dr->fts;
	dr->block_bytes = FRAME_HDR + (uint64_t)dr->flen;
	dr->block_len = 0;
	block_append(d, dr, p, n);
}

/* A complete non-DATA frame is in dr->buf. */
static void frame_done(struct http2 *d, int dir, uint64_t ts)
{
	struct h2dir *dr = &d->dir[dir];
	const uint8_t *p = dr->buf;
	size_t n = dr->flen;

	switch (dr->ftype) {
	case FT_HEADERS:
		if (unpad(d, dr, &p, &n))
			return;
		if (dr->fflags & FL_PRIORITY) {
			/* Section 6.2: exclusive bit, dependency, weight. */
			if (n < 5) {
				h2_give_up(d,
					   "HEADERS on stream %u too short for its priority fields",
					   dr->fsid);
				return;
			}
			p += 5;
			n -= 5;
		}
		start_block(d, dr, p, n, FT_HEADERS, 0);
		break;
	case FT_PUSH_PROMISE:
		if (dir == DEC_DIR_REQ) {
			h2_give_up(d, "PUSH_PROMISE sent by the client (RFC 9113 section 8.4)");
			return;
		}
		if (unpad(d, dr, &p, &n))
			return;
		if (n < 4) {
			h2_give_up(d, "PUSH_PROMISE on stream %u without a promised stream id",
				   dr->fsid);
			return;
		}
		start_block(d, dr, p + 4, n - 4, FT_PUSH_PROMISE,
			    (uint32_t)cur_be32_at(p, n, 0) & 0x7fffffff);
		break;
	case FT_CONTINUATION:
		if (block_append(d, dr, p, n))
			return;
		dr->block_bytes += FRAME_HDR + (uint64_t)dr->flen;
		break;
	case FT_PRIORITY:
		if (n != 5)
			note(d, "PRIORITY from the %s on stream %u with %zu bytes, not 5",
			     peer_name(dir), dr->fsid, n);
		return;
	case FT_RST_STREAM:
		rst_stream(d, dir, p, n, ts);
		return;
	case FT_SETTINGS:
		settings(d, dir, p, n);
		return;
	case FT_PING:
		if (n != 8 || dr->fsid)
			note(d,
			     "PING from the %s with %zu bytes on stream %u (RFC 9113 section "
			     "6.7)",
			     peer_name(dir), n, dr->fsid);
		return;
	case FT_GOAWAY:
		goaway(d, dir, p, n);
		return;
	case FT_WINDOW_UPDATE:
		if (n != 4)
			note(d, "WINDOW_UPDATE from the %s with %zu bytes, not 4", peer_name(dir),
			     n);
		return;
	default:
		/* Section 5.5: unknown frame types are ignored. */
		return;
	}
	if (!d->dead && dr->in_block && (dr->fflags & FL_END_HEADERS))
		block_complete(d, dir, ts);
}

/* The stream half a frame of dir on stream sid belongs to, if tracked. */
static struct h2half *frame_half(struct http2 *d, int dir, uint32_t sid, struct h2stream **sp)
{
	struct h2stream *s = sid ? stream_find(d, sid) : NULL;

	*sp = s;
	if (!s)
		return NULL;
	return dir == DEC_DIR_REQ ? &s->req : &s->resp;
}

static void data_end(struct http2 *d, int dir, uint64_t ts)
{
	struct h2dir *dr = &d->dir[dir];
	struct h2stream *s;
	struct h2half *h = frame_half(d, dir, dr->fsid, &s);

	if (!h)
		return;
	if (dir == DEC_DIR_RESP)
		s->resp_ts = ts;
	if (dr->fflags & FL_END_STREAM) {
		if (dir == DEC_DIR_RESP)
			response_ended(d, s);
		else
			request_ended(d, s);
	}
}

/* The 9-byte header is complete: check it and prepare for the payload. */
static void frame_begin(struct http2 *d, int dir)
{
	struct h2dir *dr = &d->dir[dir];
	struct cursor cu = cur_make(dr->hdr, sizeof(dr->hdr));
	struct h2stream *s;
	struct h2half *h;

	/* section 4.1: length, type, flags, R bit (ignored) and stream id */
	cur_be24(&cu, &dr->flen);
	cur_u8(&cu, &dr->ftype);
	cur_u8(&cu, &dr->fflags);
	cur_be32(&cu, &dr->fsid);
	dr->fsid &= 0x7fffffff;
	dr->fpos = 0;
	dr->pad = -1;
	if (dr->flen > d->frame_limit) {
		h2_give_up(d,
			   "%s frame from the %s on stream %u claims %u bytes, above "
			   "SETTINGS_MAX_FRAME_SIZE %u (RFC 9113 section 4.2)",
			   frame_name(dr->ftype), peer_name(dir), dr->fsid, dr->flen,
			   d->frame_limit);
		return;
	}
	/* Section 6.10: a header block is a contiguous sequence of frames. */
	if (dr->in_block && (dr->ftype != FT_CONTINUATION || dr->fsid != dr->block_sid)) {
		h2_give_up(d,
			   "%s frame on stream %u from the %s interrupts the header block of "
			   "stream %u (RFC 9113 section 6.10)",
			   frame_name(dr->ftype), dr->fsid, peer_name(dir), dr->block_sid);
		return;
	}
	if (!dr->in_block && dr->ftype == FT_CONTINUATION) {
		h2_give_up(d,
			   "CONTINUATION on stream %u from the %s without a header block to "
			   "continue (RFC 9113 section 6.10)",
			   dr->fsid, peer_name(dir));
		return;
	}
	if (!dr->fsid && (dr->ftype == FT_DATA || dr->ftype == FT_HEADERS ||
			  dr->ftype == FT_PUSH_PROMISE || dr->ftype == FT_CONTINUATION)) {
		h2_give_up(d, "%s frame from the %s on stream 0 (RFC 9113 section 6)",
			   frame_name(dr->ftype), peer_name(dir));
		return;
	}
	if (dr->ftype == FT_DATA && (dr->fflags & FL_PADDED) && !dr->flen) {
		h2_give_up(d, "DATA frame on stream %u is PADDED but empty (RFC 9113 section 6.1)",
			   dr->fsid);
		return;
	}
	if (dr->ftype != FT_DATA && dr->flen > HTTP2_BUF_CAP) {
		h2_give_up(d, "%s frame of %u bytes from the %s is larger than we buffer (%d KiB)",
			   frame_name(dr->ftype), dr->flen, peer_name(dir), HTTP2_BUF_CAP >> 10);
		return;
	}
	if (dr->ftype != FT_DATA &&
	    grow((void **)&dr->buf, &dr->buf_cap, dr->flen ? dr->flen : 1, 1)) {
		h2_give_up(d, "out of memory for a %u-byte frame", dr->flen);
		return;
	}
	/* Frame bytes per stream; header blocks count when their stream is known. */
	if (dr->ftype != FT_HEADERS && dr->ftype != FT_CONTINUATION &&
	    dr->ftype != FT_PUSH_PROMISE) {
		h = frame_half(d, dir, dr->fsid, &s);
		if (h)
			h->bytes += FRAME_HDR + (uint64_t)dr->flen;
	}
}

/* Consume DATA payload bytes; returns how many were used. */
static size_t data_bytes(struct http2 *d, int dir, const uint8_t *p, size_t n)
{
	struct h2dir *dr = &d->dir[dir];
	struct h2stream *s;
	struct h2half *h;
	size_t used = 0, end, k;

	if ((dr->fflags & FL_PADDED) && dr->pad < 0) {
		dr->pad = p[0];
		dr->fpos++;
		used++;
		/* Section 6.1: padding not shorter than the payload is an error. */
		if ((uint32_t)dr->pad > dr->flen - 1) {
			h2_give_up(d,
				   "DATA frame on stream %u: padding of %d bytes exceeds the "
				   "payload (%u bytes) (RFC 9113 section 6.1)",
				   dr->fsid, dr->pad, dr->flen - 1);
			return n;
		}
	}
	end = dr->flen - (dr->pad > 0 ? (uint32_t)dr->pad : 0);
	if (used < n && dr->fpos < end) {
		k = n - used;
		if (k > end - dr->fpos)
			k = end - dr->fpos;
		h = frame_half(d, dir, dr->fsid, &s);
		if (h)
			half_body(d, h, p + used, k);
		dr->fpos += (uint32_t)k;
		used += k;
	}
	if (used < n && dr->fpos >= end) {
		k = n - used;
		if (k > dr->flen - dr->fpos)
			k = dr->flen - dr->fpos;
		dr->fpos += (uint32_t)k;
		used += k;
	}
	return used;
}

static void describe_one(struct strbuf *sb, uint8_t type, uint8_t flags, uint32_t sid,
			 const uint8_t *pl, size_t have, uint32_t flen);

/* A control frame of the current feed, named for http2_name_frames. */
static void name_frame(struct http2 *d, const struct h2dir *dr)
{
	size_t before = d->named.len;

	if (d->named.len >= HTTP2_FRAMES_TEXT_CAP) {
		d->n_unnamed++;
		return;
	}
	if (d->n_named)
		sb_puts(&d->named, ", ");
	describe_one(&d->named, dr->ftype, dr->fflags, dr->fsid, dr->buf, dr->flen, dr->flen);
	if (d->named.len > HTTP2_FRAMES_TEXT_CAP) {
		/* whole names only */
		d->named.len = before;
		if (d->named.buf)
			d->named.buf[before] = '\0';
		d->n_unnamed++;
		return;
	}
	d->n_named++;
}

static void frames_emit(struct http2 *d, int dir, uint64_t ts)
{
	struct dec_record r;

	if (!d->n_named && !d->n_unnamed)
		return;
	if (d->n_unnamed)
		sb_printf(&d->named, " (+%u more)", d->n_unnamed);
	memset(&r, 0, sizeof(r));
	r.type = DEC_R_FRAMES;
	r.proto = DEC_P_HTTP2;
	r.req_ts_ns = ts;
	r.frames.text = d->named.failed ? "(out of memory)" : d->named.buf ? d->named.buf : "";
	r.frames.count = d->n_named + d->n_unnamed;
	r.frames.dir = (uint32_t)dir;
	d->emit(&r, d->arg);
	sb_reset(&d->named);
	d->named.failed = 0;
	d->n_named = d->n_unnamed = 0;
}

void http2_name_frames(struct http2 *d, int on)
{
	if (d)
		d->name_frames = on;
}

static void frame_end(struct http2 *d, int dir, uint64_t ts)
{
	struct h2dir *dr = &d->dir[dir];

	dr->hdr_len = 0;
	if (d->name_frames && dr->ftype != FT_DATA && dr->ftype != FT_HEADERS &&
	    dr->ftype != FT_PUSH_PROMISE && dr->ftype != FT_CONTINUATION)
		name_frame(d, dr);
	if (dr->ftype == FT_DATA)
		data_end(d, dir, ts);
	else
		frame_done(d, dir, ts);
}

void http2_feed(struct http2 *d, enum dec_dir dir, const uint8_t *buf, size_t len, uint64_t ts_ns)
{
	struct h2dir *dr;

	if (!d || d->dead || d->closed || (dir != DEC_DIR_REQ && dir != DEC_DIR_RESP))
		return;
	dr = &d->dir[dir];
	d->last_ts = ts_ns;
	while (len && !d->dead) {
		size_t k;

		if (dr->preface_left) {
			size_t at = HTTP2_PREFACE_LEN - dr->preface_left;

			k = len < dr->preface_left ? len : dr->preface_left;
			if (memcmp(buf, &HTTP2_PREFACE[at], k)) {
				h2_give_up(d, "the client did not send the connection preface (RFC "
					      "9113 section 3.4)");
				return;
			}
			dr->preface_left -= k;
			buf += k;
			len -= k;
			continue;
		}
		if (dr->hdr_len < FRAME_HDR) {
			if (!dr->hdr_len)
				dr->fts = ts_ns;
			k = FRAME_HDR - dr->hdr_len;
			if (k > len)
				k = len;
			memcpy(dr->hdr + dr->hdr_len, buf, k);
			dr->hdr_len += k;
			buf += k;
			len -= k;
			if (dr->hdr_len < FRAME_HDR)
				return;
			frame_begin(d, dir);
			if (d->dead)
				return;
		} else if (dr->ftype == FT_DATA) {
			k = data_bytes(d, dir, buf, len);
			buf += k;
			len -= k;
		} else {
			k = dr->flen - dr->fpos;
			if (k > len)
				k = len;
			memcpy(dr->buf + dr->fpos, buf, k);
			dr->fpos += (uint32_t)k;
			buf += k;
			len -= k;
		}
		if (!d->dead && dr->hdr_len == FRAME_HDR && dr->fpos == dr->flen)
			frame_end(d, dir, ts_ns);
	}
	frames_emit(d, dir, ts_ns);
}

void http2_gap(struct http2 *d, enum dec_dir dir, uint64_t len)
{
	struct h2dir *dr;

	if (!d || d->dead || d->closed || (dir != DEC_DIR_REQ && dir != DEC_DIR_RESP) || !len)
		return;
	dr = &d->dir[dir];
	/* Inside the data part of a DATA payload the framing survives: skip. */
	if (!dr->preface_left && dr->hdr_len == FRAME_HDR && dr->ftype == FT_DATA &&
	    (!(dr->fflags & FL_PADDED) || dr->pad >= 0) && len <= dr->flen - dr->fpos) {
		struct h2stream *s;
		struct h2half *h = frame_half(d, dir, dr->fsid, &s);

		if (h)
			h->btrunc = 1;
		note(d,
		     "%llu bytes from the %s lost inside a DATA frame of stream %u; its body "
		     "is incomplete",
		     (unsigned long long)len, peer_name(dir), dr->fsid);
		dr->fpos += (uint32_t)len;
		if (dr->fpos == dr->flen)
			frame_end(d, dir, d->last_ts);
		return;
	}
	h2_give_up(d,
		   "%llu bytes from the %s lost; HTTP/2 framing and HPACK state cannot be "
		   "recovered",
		   (unsigned long long)len, peer_name(dir));
}

void http2_close(struct http2 *d, uint64_t ts_ns)
{
	int i;

	if (!d || d->closed)
		return;
	d->closed = 1;
	if (d->dead) {
		dec_notes_close(&d->notes, ts_ns);
		return;
	}
	for (i = 0; i < 2; i++) {
		struct h2dir *dr = &d->dir[i];

		if (dr->hdr_len && dr->hdr_len < FRAME_HDR)
			note(d,
			     "connection ended inside a frame header from the %s (%zu of 9 "
			     "bytes)",
			     peer_name(i), dr->hdr_len);
		else if (dr->hdr_len == FRAME_HDR)
			note(d,
			     "connection ended inside a %s frame from the %s on stream %u (%u "
			     "of %u payload bytes)",
			     frame_name(dr->ftype), peer_name(i), dr->fsid, dr->fpos, dr->flen);
		else if (dr->in_block)
			note(d,
			     "connection ended inside a header block from the %s on stream %u "
			     "(no END_HEADERS)",
			     peer_name(i), dr->block_sid);
	}
	if (d->untracked > 1)
		note(d, "%llu streams were not tracked (more than %d at once)",
		     (unsigned long long)d->untracked, HTTP2_MAX_STREAMS);
	flush_streams(d, "incomplete: connection closed");
	dec_notes_close(&d->notes, ts_ns);
}

struct http2 *http2_new(dec_emit_fn emit, void *arg)
{
	struct http2 *d;

	if (!emit) {
		errno = EINVAL;
		return NULL;
	}
	d = calloc(1, sizeof(*d));
	if (!d) {
		errno = ENOMEM;
		return NULL;
	}
	d->emit = emit;
	d->arg = arg;
	dec_notes_init(&d->notes, emit, arg, DEC_P_HTTP2, "HTTP/2", 1, MAX_NOTES);
	d->frame_limit = DEFAULT_MAX_FRAME;
	d->dir[DEC_DIR_REQ].preface_left = HTTP2_PREFACE_LEN;
	if (hpack_table_init(&d->dir[DEC_DIR_REQ].hpack, HPACK_DEFAULT_TABLE_SIZE) ||
	    hpack_table_init(&d->dir[DEC_DIR_RESP].hpack, HPACK_DEFAULT_TABLE_SIZE)) {
		http2_free(d);
		errno = ENOMEM;
		return NULL;
	}
	return d;
}

void http2_free(struct http2 *d)
{
	int i;

	if (!d)
		return;
	while (d->nstreams)
		stream_remove(d, d->streams[d->nstreams - 1]);
	free(d->streams);
	for (i = 0; i < 2; i++) {
		free(d->dir[i].buf);
		free(d->dir[i].block);
		hpack_table_free(&d->dir[i].hpack);
	}
	sb_free(&d->named);
	free(d);
}

int http2_detect(const uint8_t *buf, size_t len, enum dec_dir dir)
{
	size_t n = len < HTTP2_PREFACE_LEN ? len : HTTP2_PREFACE_LEN;

	if (dir != DEC_DIR_REQ || (n && memcmp(buf, HTTP2_PREFACE, n)))
		return 0;
	return len >= HTTP2_PREFACE_LEN ? 2 : 1;
}

static struct h2stream *upgraded(struct http2 *d, const char *method, const char *path,
				 const char *host, uint64_t ts_ns)
{
	struct h2stream *s;

	if (!d || d->dead || d->closed || stream_find(d, 1))
		return NULL;
	/* The client's SETTINGS went in its HTTP2-Settings header (not seen):
	 * the server may use any frame size and table size the client allowed. */
	d->frame_limit = ABSOLUTE_MAX_FRAME;
	hpack_table_set_limit(&d->dir[DEC_DIR_RESP].hpack, HPACK_TABLE_SIZE_CAP);
	s = stream_open(d, 1, DEC_DIR_REQ);
	if (!s)
		return NULL;
	s->req_ts = ts_ns;
	s->req.headers_seen = 1;
	s->req.ended = 1;
	if (method)
		half_add_pseudo(d, s, &s->req, &s->req.method, ":method", method);
	if (path)
		half_add_pseudo(d, s, &s->req, &s->req.path, ":path", path);
	if (host)
		half_add_pseudo(d, s, &s->req, &s->req.authority, ":authority", host);
	return s;
}

void http2_upgraded(struct http2 *d, const char *method, const char *path, const char *host,
		    uint64_t ts_ns)
{
	upgraded(d, method, path, host, ts_ns);
}

void http2_upgraded_exchange(struct http2 *d, const struct dec_record *up)
{
	const struct dec_http *h;
	struct h2stream *s;
	size_t i;

	if (!up || up->type != DEC_R_HTTP)
		return;
	h = &up->http;
	s = upgraded(d, h->method, h->path, h->host, up->req_ts_ns);
	if (!s)
		return;
	for (i = 0; h->req_headers && i < h->n_req_headers; i++) {
		const char *name = h->req_headers[i].name, *value = h->req_headers[i].value;

		if (name && value)
			half_add_field(d, s, &s->req, name, strlen(name), value, strlen(value));
	}
	if (h->req_body && h->req_body_len)
		half_body(d, &s->req, h->req_body, h->req_body_len);
	s->req.btrunc |= h->req_body_truncated;
	s->req.decoded = 1; /* HTTP/1 decoded its content coding */
	/* the exchange's bytes: the HTTP/1.1 request and 101 response, then frames */
	s->req.bytes = h->req_bytes;
	s->resp.bytes = h->resp_bytes;
}

/* ---- frames named, for a view of the raw bytes ---- */

/* RFC 9113 section 6.5.2, RFC 8441 section 3, RFC 9218 section 2.1. */
static const char *setting_name(uint32_t id)
{
	static const char *const n[] = {NULL,
					"HEADER_TABLE_SIZE",
					"ENABLE_PUSH",
					"MAX_CONCURRENT_STREAMS",
					"INITIAL_WINDOW_SIZE",
					"MAX_FRAME_SIZE",
					"MAX_HEADER_LIST_SIZE",
					NULL,
					"ENABLE_CONNECT_PROTOCOL",
					"NO_RFC7540_PRIORITIES"};

	return id < sizeof(n) / sizeof(n[0]) ? n[id] : NULL;
}

/* Is this 9-byte header one a sender could have written (RFC 9113 section 6:
 * which frames go on stream 0, and the fixed payload sizes)? Extension frames
 * other than ALTSVC (RFC 7838), ORIGIN (RFC 8336) and PRIORITY_UPDATE (RFC 9218)
 * are not believed: the bytes are more likely not at a frame boundary. */
static bool header_plausible(uint32_t len, uint8_t type, uint32_t sid)
{
	switch (type) {
	case FT_DATA:
	case FT_HEADERS:
	case FT_PUSH_PROMISE:
	case FT_CONTINUATION:
		return sid != 0;
	case FT_PRIORITY:
		return sid != 0 && len == 5;
	case FT_RST_STREAM:
		return sid != 0 && len == 4;
	case FT_SETTINGS:
		return sid == 0 && len % 6 == 0;
	case FT_PING:
		return sid == 0 && len == 8;
	case FT_GOAWAY:
		return sid == 0 && len >= 8;
	case FT_WINDOW_UPDATE:
		return len == 4;
	case 0xa:  /* ALTSVC */
	case 0x10: /* PRIORITY_UPDATE */
		return true;
	case 0xc: /* ORIGIN */
		return sid == 0;
	}
	return false;
}

static void describe_flags(struct strbuf *sb, uint8_t type, uint8_t flags)
{
	const char *sep = " ";

	if ((type == FT_DATA || type == FT_HEADERS) && (flags & FL_END_STREAM)) {
		sb_printf(sb, "%sEND_STREAM", sep);
		sep = "|";
	}
	if ((type == FT_SETTINGS || type == FT_PING) && (flags & FL_ACK)) {
		sb_printf(sb, "%sACK", sep);
		sep = "|";
	}
	if ((type == FT_HEADERS || type == FT_PUSH_PROMISE || type == FT_CONTINUATION) &&
	    (flags & FL_END_HEADERS))
		sb_printf(sb, "%sEND_HEADERS", sep);
}

/* One frame's payload fields (those within the n bytes at hand). */
static void describe_payload(struct strbuf *sb, uint8_t type, struct cursor *cu)
{
	uint32_t a, b;
	uint8_t w;

	switch (type) {
	case FT_SETTINGS:
		while (cur_be16(cu, &a) && cur_be32(cu, &b)) {
			const char *name = setting_name(a);

			if (name)
				sb_printf(sb, " %s=%u", name, b);
			else
				sb_printf(sb, " 0x%x=%u", a, b);
		}
		break;
	case FT_WINDOW_UPDATE:
		if (cur_be32(cu, &a))
			sb_printf(sb, " +%u", a & 0x7fffffff);
		break;
	case FT_RST_STREAM:
		if (cur_be32(cu, &a))
			sb_printf(sb, " %s", error_name(a));
		break;
	case FT_GOAWAY:
		if (cur_be32(cu, &a) && cur_be32(cu, &b))
			sb_printf(sb, " last stream %u %s", a & 0x7fffffff, error_name(b));
		break;
	case FT_PRIORITY:
		if (cur_be32(cu, &a) && cur_u8(cu, &w))
			sb_printf(sb, " depends on %u, weight %u%s", a & 0x7fffffff, w + 1u,
				  (a >> 31) ? ", exclusive" : "");
		break;
	}
}

/* One frame: its type, stream, flags and fields; have of its flen payload
 * bytes are at pl. */
static void describe_one(struct strbuf *sb, uint8_t type, uint8_t flags, uint32_t sid,
			 const uint8_t *pl, size_t have, uint32_t flen)
{
	struct cursor cu = cur_make(pl, have);

	if (type <= FT_CONTINUATION)
		sb_puts(sb, frame_name(type));
	else if (type == 0xa)
		sb_puts(sb, "ALTSVC");
	else if (type == 0xc)
		sb_puts(sb, "ORIGIN");
	else if (type == 0x10)
		sb_puts(sb, "PRIORITY_UPDATE");
	else
		sb_printf(sb, "frame type 0x%x", type);
	if (sid)
		sb_printf(sb, " stream %u", sid);
	describe_flags(sb, type, flags);
	describe_payload(sb, type, &cu);
	if (type == FT_DATA || type == FT_HEADERS || type == FT_CONTINUATION ||
	    type == FT_PUSH_PROMISE) {
		if (have < flen)
			sb_printf(sb, " (%zu of %u bytes)", have, flen);
		else
			sb_printf(sb, " (%u bytes)", flen);
	}
}

int http2_frames_describe(const uint8_t *buf, size_t len, struct strbuf *sb)
{
	struct cursor cu = cur_make(buf, len);
	int frames = 0;

	if (len >= HTTP2_PREFACE_LEN && !memcmp(buf, HTTP2_PREFACE, HTTP2_PREFACE_LEN)) {
		cur_skip(&cu, HTTP2_PREFACE_LEN);
		sb_puts(sb, "preface");
		frames++;
	}
	while (cu.left >= FRAME_HDR) {
		struct cursor hdr = cu, pl;
		uint32_t flen, sid;
		uint8_t type, flags;
		size_t have;

		cur_be24(&hdr, &flen);
		cur_u8(&hdr, &type);
		cur_u8(&hdr, &flags);
		cur_be32(&hdr, &sid);
		sid &= 0x7fffffff;
		if (!header_plausible(flen, type, sid))
			break;
		cu = hdr;
		have = flen < cu.left ? flen : cu.left;
		pl = cur_make(cu.p, have);
		cur_skip(&cu, have);
		if (frames)
			sb_puts(sb, ", ");
		describe_one(sb, type, flags, sid, pl.p, have, flen);
		frames++;
	}
	return frames;
}
