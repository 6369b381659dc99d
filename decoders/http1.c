// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * HTTP/1.x decoder. Message syntax: RFC 9112 (start lines section 3 and 4,
 * fields section 5, message body length section 6.3, chunked coding section 7);
 * semantics: RFC 9110 (content codings section 8.4, 1xx section 15.2, HEAD
 * section 9.3.2, CONNECT section 9.3.6, Upgrade section 7.8). The h2c upgrade
 * is RFC 7540 section 3.2.
 */
#include "http1.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/content.h"
#include "util/notes.h"

#define H1_LINE_CAP    4096		  /* a chunk-size line with its extensions */
#define H1_MAX_HEADERS 256		  /* fields kept per message; more are parsed, not kept */
#define H1_QUEUE_BYTES (4u * 1024 * 1024) /* memory held by waiting requests */
#define H1_FEED_STEP   65536		  /* bytes appended to a partial element at a time */
#define H1_MAX_NOTES   32		  /* per connection; then one last note says so */
#define H1_DETECT_LINE 8192		  /* a start line with an unknown method must end by then */

enum h1_state {
	S_HEAD,	      /* start line and header section */
	S_BODY_LEN,   /* Content-Length body: remain bytes left */
	S_CHUNK_SIZE, /* chunk-size [chunk-ext] CRLF */
	S_CHUNK_DATA, /* remain bytes of chunk data */
	S_CHUNK_CRLF, /* the CRLF after chunk data */
	S_TRAILER,    /* trailer section after the last chunk */
	S_BODY_CLOSE, /* response body delimited by the end of the connection */
	S_HOLD,	      /* requests: wait for the response to an Upgrade or CONNECT request */
	S_RESYNC,     /* skipping bytes until a line looks like a start line */
	S_TUNNEL,     /* protocol switched: bytes are not HTTP/1 */
};

struct h1_hdrs {
	char *arena; /* name\0value\0name\0value\0... */
	size_t alen, acap;
	size_t *off; /* 2 offsets per field: name, value */
	size_t n, cap;
	int dropped; /* fields beyond H1_MAX_HEADERS */
};

struct h1_msg {
	struct h1_msg *next; /* request queue link */
	char *method, *path, *host, *reason, *upgrade;
	char ver[4]; /* "1.0", "1.1", or "" */
	int status;
	int is_head, is_connect;
	struct h1_hdrs hdrs;
	struct content_body body;
	uint64_t bytes, ts_first, ts_last;
	int done;	 /* request: the parser is finished with it */
	int answered;	 /* request: its response was emitted; the parser still owns it */
	int placeholder; /* stands for a request that could not be parsed */
	size_t mem;
};

struct h1_dir {
	enum h1_state st;
	uint8_t *buf; /* bytes not yet consumed: an incomplete element */
	size_t len, cap;
	uint64_t remain;
	struct h1_msg *cur;   /* message being parsed; requests are also queued */
	uint64_t ts, last_ts; /* capture time of the current and last feed */
	uint64_t head_ts;     /* capture time of the first byte of the current head */
	int head_started, start_ok;
	size_t scan; /* where the search for the end of the head resumes */
	size_t trailer_bytes;
	uint64_t interim_bytes; /* 1xx responses before the final one */
	int line_start;		/* resync: the next byte starts a line */
};

struct http1 {
	dec_emit_fn emit;
	void *arg;
	struct h1_dir dir[2];
	struct h1_msg *q_head, *q_tail; /* requests waiting for a response, oldest first */
	size_t q_len, q_mem;
	struct h1_msg *hold_req; /* the Upgrade/CONNECT request the request side waits on */
	const char *switched;	 /* points into sw_buf */
	char sw_buf[32];
	char *sw_method, *sw_path, *sw_host; /* the request that switched */
	uint64_t sw_ts;
	int keep_leftover; /* h2c: keep the bytes after the switch for the caller */
	/* h2c: the upgrade exchange, not emitted (it continues as HTTP/2 stream 1)
	 * but held for the caller (http1_take_upgrade); emitted at close if untaken */
	struct h1_msg *up_req, *up_resp;
	struct dec_header *up_rqh, *up_rsh; /* the header lists handed out */
	int up_taken;
	int kick_req; /* the request side was released from S_HOLD */
	int closed, dead;
	struct dec_notes notes;
};

static const char *const msg_kind[2] = {"request", "response"};

static void h1_note(struct http1 *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void h1_note(struct http1 *d, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	dec_vnote(&d->notes, 0, fmt, ap);
	va_end(ap);
}

/* ---- small helpers ---- */

static int is_tchar(uint8_t c)
{
	/* RFC 9110 section 5.6.2 */
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

static int is_ows(uint8_t c)
{
	return c == ' ' || c == '\t';
}

static char *mem_str(const uint8_t *p, size_t n)
{
	char *s = malloc(n + 1);

	if (s) {
		if (n)
			memcpy(s, p, n);
		s[n] = '\0';
	}
	return s;
}

static int hex_val(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Offset just past the first '\n' in p[0..n), or 0 if there is none. */
static size_t line_end(const uint8_t *p, size_t n)
{
	const uint8_t *nl = memchr(p, '\n', n);

	return nl ? (size_t)(nl - p) + 1 : 0;
}

/* Length of the line without its CRLF or LF terminator. */
static size_t line_len(const uint8_t *p, size_t end)
{
	size_t n = end - 1;

	if (n && p[n - 1] == '\r')
		n--;
	return n;
}

/* ---- header fields ---- */

static int arena_put(struct h1_hdrs *h, const void *p, size_t n)
{
	if (h->alen + n + 1 > h->acap) {
		size_t cap = h->acap ? h->acap : 512;
		char *na;

		while (cap < h->alen + n + 1)
			cap *= 2;
		na = realloc(h->arena, cap);
		if (!na)
			return -1;
		h->arena = na;
		h->acap = cap;
	}
	if (n)
		memcpy(h->arena + h->alen, p, n);
	h->alen += n;
	h->arena[h->alen++] = '\0';
	return 0;
}

static int hdrs_add(struct h1_hdrs *h, const uint8_t *name, size_t nlen, const uint8_t *val,
		    size_t vlen)
{
	size_t no;

	if (h->n >= H1_MAX_HEADERS) {
		h->dropped++;
		return 0;
	}
	if (h->n == h->cap) {
		size_t cap = h->cap ? h->cap * 2 : 16;
		size_t *noff = realloc(h->off, cap * 2 * sizeof(*noff));

		if (!noff)
			return -1;
		h->off = noff;
		h->cap = cap;
	}
	no = h->alen;
	if (arena_put(h, name, nlen))
		return -1;
	h->off[2 * h->n] = no;
	h->off[2 * h->n + 1] = h->alen;
	if (arena_put(h, val, vlen)) {
		h->alen = no;
		return -1;
	}
	h->n++;
	return 0;
}

/* obs-fold (RFC 9112 section 5.2): the continuation joins the last value with
 * one SP. The last value is the last string in the arena, so extend it. */
static int hdrs_fold(struct h1_hdrs *h, const uint8_t *val, size_t vlen)
{
	if (!h->n || h->dropped)
		return 0;
	h->alen--; /* drop the value's NUL */
	if (arena_put(h, " ", 1))
		return -1;
	h->alen--;
	return arena_put(h, val, vlen);
}

static const char *hdr_name(const struct h1_hdrs *h, size_t i)
{
	return h->arena + h->off[2 * i];
}

static const char *hdr_val(const struct h1_hdrs *h, size_t i)
{
	return h->arena + h->off[2 * i + 1];
}

static const char *hdrs_get(const struct h1_hdrs *h, const char *name)
{
	size_t i;

	for (i = 0; i < h->n; i++)
		if (!strcasecmp(hdr_name(h, i), name))
			return hdr_val(h, i);
	return NULL;
}

/* The last element of a comma-separated list over every field named name,
 * lower-cased and trimmed into out; also counts the elements. 0 if absent. */
static int hdrs_last_elem(const struct h1_hdrs *h, const char *name, char *out, size_t outlen,
			  int *count)
{
	size_t i;
	int found = 0;

	*count = 0;
	out[0] = '\0';
	for (i = 0; i < h->n; i++) {
		const char *v, *e;

		if (strcasecmp(hdr_name(h, i), name))
			continue;
		found = 1;
		for (v = hdr_val(h, i); *v;) {
			size_t n, k;

			while (*v == ' ' || *v == '\t' || *v == ',')
				v++;
			if (!*v)
				break;
			e = v;
			while (*e && *e != ',')
				e++;
			n = (size_t)(e - v);
			while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
				n--;
			if (n >= outlen)
				n = outlen - 1;
			for (k = 0; k < n; k++)
				out[k] = (v[k] >= 'A' && v[k] <= 'Z') ? (char)(v[k] + 32) : v[k];
			out[n] = '\0';
			(*count)++;
			v = e;
		}
	}
	return found;
}

/* Content-Length (RFC 9110 section 8.6): 1*DIGIT, a list of identical values
 * tolerated. Returns 1 and *len if present and valid, 0 if absent, -1 if invalid
 * (conflicting values, non-digits, or larger than 2^62). */
static int hdrs_content_length(const struct h1_hdrs *h, uint64_t *len)
{
	size_t i;
	int have = 0;

	for (i = 0; i < h->n; i++) {
		const char *v;

		if (strcasecmp(hdr_name(h, i), "content-length"))
			continue;
		for (v = hdr_val(h, i);;) {
			uint64_t x = 0;
			int digits = 0;

			while (*v == ' ' || *v == '\t')
				v++;
			while (*v >= '0' && *v <= '9') {
				if (x > ((uint64_t)1 << 62) / 10)
					return -1;
				x = x * 10 + (uint64_t)(*v++ - '0');
				digits++;
			}
			while (*v == ' ' || *v == '\t')
				v++;
			if (!digits || (*v && *v != ','))
				return -1;
			if (have && x != *len)
				return -1;
			*len = x;
			have = 1;
			if (!*v)
				break;
			v++;
		}
	}
	return have;
}

static void hdrs_free(struct h1_hdrs *h)
{
	free(h->arena);
	free(h->off);
	memset(h, 0, sizeof(*h));
}

/* ---- bodies ---- */

/* ---- messages and the request queue ---- */

static void msg_free(struct h1_msg *m)
{
	if (!m)
		return;
	free(m->method);
	free(m->path);
	free(m->host);
	free(m->reason);
	free(m->upgrade);
	hdrs_free(&m->hdrs);
	content_body_free(&m->body);
	free(m);
}

/* The record of an exchange into r; the header lists it points to are malloc'd
 * into *rqh and *rsh (NULL if none), for the caller to free after use. */
static void fill_exchange(struct dec_record *rp, const struct h1_msg *req,
			  const struct h1_msg *resp, struct dec_header **rqhp,
			  struct dec_header **rshp)
{
	struct dec_header *rqh = NULL, *rsh = NULL;
	struct dec_record r;
	size_t i;

	memset(&r, 0, sizeof(r));
	r.type = DEC_R_HTTP;
	r.proto = DEC_P_HTTP1;
	if (req && req->hdrs.n && (rqh = calloc(req->hdrs.n, sizeof(*rqh)))) {
		for (i = 0; i < req->hdrs.n; i++) {
			rqh[i].name = hdr_name(&req->hdrs, i);
			rqh[i].value = hdr_val(&req->hdrs, i);
		}
		r.http.req_headers = rqh;
		r.http.n_req_headers = req->hdrs.n;
	}
	if (resp && resp->hdrs.n && (rsh = calloc(resp->hdrs.n, sizeof(*rsh)))) {
		for (i = 0; i < resp->hdrs.n; i++) {
			rsh[i].name = hdr_name(&resp->hdrs, i);
			rsh[i].value = hdr_val(&resp->hdrs, i);
		}
		r.http.resp_headers = rsh;
		r.http.n_resp_headers = resp->hdrs.n;
	}
	if (req && req->ver[0])
		r.http.version = req->ver;
	else if (resp && resp->ver[0])
		r.http.version = resp->ver;
	if (req) {
		r.http.method = req->method;
		r.http.path = req->path;
		r.http.host = req->host;
		r.http.req_body = req->body.buf;
		r.http.req_body_len = req->body.len;
		r.http.req_body_truncated = req->body.truncated;
		r.http.req_bytes = req->bytes;
		r.req_ts_ns = req->ts_first;
	}
	if (resp) {
		memcpy(r.http.resp_version, resp->ver, sizeof(r.http.resp_version));
		r.http.status = resp->status;
		r.http.reason = resp->reason;
		r.http.resp_body = resp->body.buf;
		r.http.resp_body_len = resp->body.len;
		r.http.resp_body_truncated = resp->body.truncated;
		r.http.resp_bytes = resp->bytes;
		r.resp_ts_ns = resp->ts_last;
	}
	if (r.req_ts_ns && r.resp_ts_ns >= r.req_ts_ns)
		r.latency_us = (r.resp_ts_ns - r.req_ts_ns) / 1000;
	*rp = r;
	*rqhp = rqh;
	*rshp = rsh;
}

static void emit_exchange(struct http1 *d, const struct h1_msg *req, const struct h1_msg *resp)
{
	struct dec_header *rqh, *rsh;
	struct dec_record r;

	fill_exchange(&r, req, resp, &rqh, &rsh);
	d->emit(&r, d->arg);
	free(rqh);
	free(rsh);
}

static struct h1_msg *queue_pop(struct http1 *d)
{
	struct h1_msg *m = d->q_head;

	if (!m)
		return NULL;
	d->q_head = m->next;
	if (!d->q_head)
		d->q_tail = NULL;
	m->next = NULL;
	d->q_len--;
	d->q_mem -= m->mem;
	if (d->hold_req == m)
		d->hold_req = NULL;
	return m;
}

/* A request leaves the queue answered (or unanswered at close): the parser may
 * still be filling it, in which case it frees it when done. */
static void req_retire(struct http1 *d, struct h1_msg *req)
{
	if (req == d->dir[DEC_DIR_REQ].cur)
		req->answered = 1;
	else
		msg_free(req);
}

static void release_hold(struct http1 *d)
{
	struct h1_dir *s = &d->dir[DEC_DIR_REQ];

	d->hold_req = NULL;
	if (s->st == S_HOLD) {
		s->st = S_HEAD;
		d->kick_req = 1;
	}
}

static void queue_push(struct http1 *d, struct h1_msg *m)
{
	m->mem = sizeof(*m) + m->hdrs.acap + m->hdrs.cap * 2 * sizeof(size_t);
	if (m->path)
		m->mem += strlen(m->path);
	/* Bounded state: requests nobody answers (or whose responses we never
	 * see) are reported unanswered once too many wait. */
	while (d->q_head && (d->q_len >= HTTP1_QUEUE_MAX || d->q_mem + m->mem > H1_QUEUE_BYTES)) {
		struct h1_msg *old = queue_pop(d);

		h1_note(d, "HTTP/1: too many requests waiting for a response; reporting the oldest "
			   "as unanswered (later pairs may be off)");
		if (!old->placeholder)
			emit_exchange(d, old, NULL);
		req_retire(d, old);
		if (!d->hold_req)
			release_hold(d);
	}
	if (d->q_tail)
		d->q_tail->next = m;
	else
		d->q_head = m;
	d->q_tail = m;
	d->q_len++;
	d->q_mem += m->mem;
}

/* A response we could not parse still answers the oldest request: report that
 * request without a response and keep later pairs aligned. */
static void answer_unparsed(struct http1 *d)
{
	struct h1_msg *req = queue_pop(d);

	if (!req)
		return;
	if (!req->placeholder)
		emit_exchange(d, req, NULL);
	if (d->dir[DEC_DIR_REQ].st == S_HOLD && !d->hold_req)
		release_hold(d);
	req_retire(d, req);
}

/* A request we could not parse still gets a response: keep the pairs aligned. */
static void queue_placeholder(struct http1 *d)
{
	struct h1_msg *m = calloc(1, sizeof(*m));

	if (!m)
		return;
	m->done = 1;
	m->placeholder = 1;
	m->ts_first = d->dir[DEC_DIR_REQ].head_ts;
	queue_push(d, m);
}

/* ---- state changes ---- */

static void enter_resync(struct http1 *d, int dir, int at_line_start)
{
	struct h1_dir *s = &d->dir[dir];

	s->st = S_RESYNC;
	s->line_start = at_line_start;
	s->head_started = 0;
	s->start_ok = 0;
	s->scan = 0;
}

static void switch_protocols(struct http1 *d, const char *proto, const struct h1_msg *req)
{
	struct h1_dir *rq = &d->dir[DEC_DIR_REQ];
	size_t i;

	if (req) {
		d->sw_method = req->method ? strdup(req->method) : NULL;
		d->sw_path = req->path ? strdup(req->path) : NULL;
		d->sw_host = req->host ? strdup(req->host) : NULL;
		d->sw_ts = req->ts_first;
	}
	for (i = 0; i + 1 < sizeof(d->sw_buf) && proto[i]; i++)
		d->sw_buf[i] = proto[i];
	d->sw_buf[i] = '\0';
	d->switched = d->sw_buf;
	d->keep_leftover = !strcmp(d->sw_buf, "h2c");
	if (!d->keep_leftover)
		h1_note(d, "HTTP/1: connection switched to %s; its bytes are not decoded",
			d->sw_buf);
	d->dir[DEC_DIR_REQ].st = S_TUNNEL;
	d->dir[DEC_DIR_RESP].st = S_TUNNEL;
	d->hold_req = NULL;
	/* A request still being parsed after the switch point is not HTTP/1. */
	if (rq->cur && rq->cur->answered)
		msg_free(rq->cur);
	rq->cur = NULL;
	if (!d->keep_leftover)
		rq->len = 0;
}

/* The message being parsed in dir is complete. */
static void msg_done(struct http1 *d, int dir)
{
	struct h1_dir *s = &d->dir[dir];
	struct h1_msg *m = s->cur;

	s->cur = NULL;
	if (s->st != S_TUNNEL && s->st != S_RESYNC)
		s->st = S_HEAD;
	if (!m)
		return;
	m->ts_last = s->last_ts;
	if (dir == DEC_DIR_REQ) {
		m->done = 1;
		if (m->answered) {
			msg_free(m);
			return;
		}
		/* RFC 9110 section 7.8 and 9.3.6: after an Upgrade or CONNECT request
		 * the next bytes may not be HTTP/1; wait for the response. */
		if ((m->upgrade || m->is_connect) && s->st == S_HEAD && !d->closed) {
			d->hold_req = m;
			s->st = S_HOLD;
		}
		return;
	} else {
		struct h1_msg *req = queue_pop(d);
		const char *sw = NULL;
		int hold;

		if (m->status == 101)
			sw = req && req->upgrade ? req->upgrade : "unknown";
		else if (req && req->is_connect && m->status >= 200 && m->status < 300)
			sw = "connect";
		/* RFC 7540 section 3.2: the request that asked for h2c is answered on
		 * HTTP/2 stream 1, so the exchange is reported once, there; the
		 * caller takes it (http1_take_upgrade). */
		hold = sw && req && !d->closed && !d->up_req && !strcmp(sw, "h2c");
		if (!hold)
			emit_exchange(d, req, m);
		if (sw && !d->closed) {
			switch_protocols(d, sw, req);
		} else if (req && d->dir[DEC_DIR_REQ].st == S_HOLD && !d->hold_req) {
			release_hold(d);
		}
		if (hold) {
			/* switch_protocols let go of req if the parser held it */
			if (req == d->dir[DEC_DIR_REQ].cur)
				d->dir[DEC_DIR_REQ].cur = NULL;
			d->up_req = req;
			d->up_resp = m;
			return;
		}
		if (req)
			req_retire(d, req);
		msg_free(m);
	}
}

/* ---- start lines and the header section ---- */

static int parse_version(const uint8_t *p, size_t n, char ver[4])
{
	/* HTTP-version = "HTTP/" DIGIT "." DIGIT; only major version 1 here. */
	if (n != 8 || memcmp(p, "HTTP/1.", 7) || p[7] < '0' || p[7] > '9')
		return -1;
	ver[0] = '1';
	ver[1] = '.';
	ver[2] = (char)p[7];
	ver[3] = '\0';
	return 0;
}

/* request-line = method SP request-target SP HTTP-version (RFC 9112 section 3) */
static int parse_request_line(const uint8_t *l, size_t n, struct h1_msg *m)
{
	size_t i = 0, t0, t1;

	while (i < n && is_tchar(l[i]))
		i++;
	if (i == 0 || i >= n || l[i] != ' ')
		return -1;
	t0 = i + 1;
	for (t1 = t0; t1 < n && l[t1] != ' '; t1++)
		if (l[t1] < 0x21 || l[t1] == 0x7f)
			return -1;
	if (t1 == t0 || t1 >= n || parse_version(l + t1 + 1, n - t1 - 1, m->ver))
		return -1;
	m->method = mem_str(l, i);
	m->path = mem_str(l + t0, t1 - t0);
	if (!m->method || !m->path)
		return -2;
	m->is_head = !strcmp(m->method, "HEAD");
	m->is_connect = !strcmp(m->method, "CONNECT");
	return 0;
}

/* status-line = HTTP-version SP status-code SP [ reason-phrase ] (RFC 9112
 * section 4); a missing SP after the code is tolerated. */
static int parse_status_line(const uint8_t *l, size_t n, struct h1_msg *m)
{
	size_t r0;

	if (n < 12 || parse_version(l, 8, m->ver) || l[8] != ' ')
		return -1;
	if (l[9] < '1' || l[9] > '9' || l[10] < '0' || l[10] > '9' || l[11] < '0' || l[11] > '9')
		return -1;
	if (n > 12 && l[12] != ' ')
		return -1;
	m->status = (l[9] - '0') * 100 + (l[10] - '0') * 10 + (l[11] - '0');
	r0 = n > 12 ? 13 : 12;
	m->reason = mem_str(l + r0, n - r0);
	return m->reason ? 0 : -2;
}

/* Parse field lines p[0..n) (each ending in LF or CRLF) into h. Returns the
 * number of malformed lines skipped, or -1 on allocation failure. */
static int parse_fields(struct h1_hdrs *h, const uint8_t *p, size_t n)
{
	size_t pos = 0;
	int bad = 0;

	while (pos < n) {
		size_t e = line_end(p + pos, n - pos), ll, c, v0, v1;
		const uint8_t *l = p + pos;

		if (!e)
			e = n - pos;
		ll = line_len(l, e);
		pos += e;
		if (!ll)
			continue;
		v0 = 0;
		if (is_ows(l[0])) {
			/* obs-fold continuation line */
			while (v0 < ll && is_ows(l[v0]))
				v0++;
			v1 = ll;
			while (v1 > v0 && is_ows(l[v1 - 1]))
				v1--;
			if (hdrs_fold(h, l + v0, v1 - v0))
				return -1;
			continue;
		}
		/* field-line = field-name ":" OWS field-value OWS (RFC 9112 section 5) */
		for (c = 0; c < ll && is_tchar(l[c]); c++)
			;
		if (c == 0 || c >= ll || l[c] != ':') {
			bad++;
			continue;
		}
		v0 = c + 1;
		while (v0 < ll && is_ows(l[v0]))
			v0++;
		v1 = ll;
		while (v1 > v0 && is_ows(l[v1 - 1]))
			v1--;
		if (hdrs_add(h, l, c, l + v0, v1 - v0))
			return -1;
	}
	return bad;
}

static void set_coding(struct h1_msg *m)
{
	char last[32];
	int count;

	/* Only a single gzip or deflate coding is undone; stacked or other
	 * codings (br, zstd) are kept as they came. */
	if (!hdrs_last_elem(&m->hdrs, "content-encoding", last, sizeof(last), &count) || count != 1)
		return;
	m->body.coding = content_coding_of(last);
}

static void set_host(struct h1_msg *m)
{
	const char *h = hdrs_get(&m->hdrs, "host");
	const char *p, *e;

	if (h) {
		m->host = strdup(h);
		return;
	}
	if (!m->path)
		return;
	if (m->is_connect) {
		/* authority-form (RFC 9112 section 3.2.3) */
		m->host = strdup(m->path);
		return;
	}
	/* absolute-form: scheme "://" authority path */
	p = strstr(m->path, "://");
	if (!p)
		return;
	p += 3;
	e = p + strcspn(p, "/?#");
	if (e > p)
		m->host = mem_str((const uint8_t *)p, (size_t)(e - p));
}

/* Sets up framing for the body of s->cur per RFC 9112 section 6.3. */
static void start_body(struct http1 *d, int dir)
{
	struct h1_dir *s = &d->dir[dir];
	struct h1_msg *m = s->cur, *req = d->q_head;
	char te[32];
	int te_count, cl_rc;
	uint64_t cl = 0;

	if (dir == DEC_DIR_RESP) {
		/* 1. HEAD, 1xx, 204 and 304 responses end with the header section;
		 * 2. so does a 2xx to CONNECT (a tunnel follows). */
		if ((req && req->is_head) || (m->status >= 100 && m->status < 200) ||
		    m->status == 204 || m->status == 304 ||
		    (req && req->is_connect && m->status >= 200 && m->status < 300)) {
			msg_done(d, dir);
			return;
		}
	}
	set_coding(m);
	cl_rc = hdrs_content_length(&m->hdrs, &cl);
	if (hdrs_last_elem(&m->hdrs, "transfer-encoding", te, sizeof(te), &te_count)) {
		/* 3. Transfer-Encoding overrides Content-Length. */
		if (!strcmp(te, "chunked")) {
			s->st = S_CHUNK_SIZE;
			s->trailer_bytes = 0;
		} else if (dir == DEC_DIR_RESP) {
			s->st = S_BODY_CLOSE;
		} else {
			/* A request whose final coding is not chunked cannot be
			 * framed (RFC 9112 section 6.3 item 4). */
			h1_note(d,
				"HTTP/1 request: Transfer-Encoding \"%s\" without chunked; "
				"resynchronising",
				te);
			msg_done(d, dir);
			enter_resync(d, dir, 0);
		}
		return;
	}
	if (cl_rc < 0) {
		/* RFC 9112 section 6.3 item 5: an invalid Content-Length is an
		 * unrecoverable framing error. */
		h1_note(d, "HTTP/1 %s: invalid Content-Length; resynchronising", msg_kind[dir]);
		msg_done(d, dir);
		enter_resync(d, dir, 0);
		return;
	}
	if (cl_rc > 0) {
		if (cl == 0) {
			msg_done(d, dir);
		} else {
			s->st = S_BODY_LEN;
			s->remain = cl;
		}
		return;
	}
	if (dir == DEC_DIR_REQ)
		msg_done(d, dir); /* 6. a request without either has no body */
	else
		s->st = S_BODY_CLOSE; /* 7. a response is delimited by close */
}

static void oom(struct http1 *d)
{
	h1_note(d, "HTTP/1: out of memory; giving up on this connection");
	d->dead = 1;
}

/* p[0..n) is a complete start line and header section, blank line included. */
static void parse_head(struct http1 *d, int dir, const uint8_t *p, size_t n)
{
	struct h1_dir *s = &d->dir[dir];
	size_t e = line_end(p, n), ll = line_len(p, e);
	struct h1_msg *m = calloc(1, sizeof(*m));
	int rc, bad;

	if (!m) {
		oom(d);
		return;
	}
	rc = dir == DEC_DIR_REQ ? parse_request_line(p, ll, m) : parse_status_line(p, ll, m);
	if (rc == -2) {
		msg_free(m);
		oom(d);
		return;
	}
	if (rc < 0) {
		msg_free(m);
		h1_note(d, "HTTP/1 %s: malformed %s line; resynchronising", msg_kind[dir],
			dir == DEC_DIR_REQ ? "request" : "status");
		if (dir == DEC_DIR_REQ)
			queue_placeholder(d);
		else
			answer_unparsed(d);
		/* the whole head was consumed: the next byte starts a line */
		enter_resync(d, dir, 1);
		return;
	}
	bad = parse_fields(&m->hdrs, p + e, n - e);
	if (bad < 0) {
		msg_free(m);
		oom(d);
		return;
	}
	if (bad)
		h1_note(d, "HTTP/1 %s: ignored %d malformed header line%s", msg_kind[dir], bad,
			bad > 1 ? "s" : "");
	if (m->hdrs.dropped)
		h1_note(d, "HTTP/1 %s: %d header fields beyond the first %d not kept",
			msg_kind[dir], m->hdrs.dropped, H1_MAX_HEADERS);
	m->bytes = n;
	m->ts_first = s->head_ts;
	if (dir == DEC_DIR_REQ) {
		char up[32];
		int count;

		set_host(m);
		/* Upgrade (RFC 9110 section 7.8): the first protocol offered. */
		if (hdrs_get(&m->hdrs, "upgrade")) {
			const char *v = hdrs_get(&m->hdrs, "upgrade");
			size_t k = strcspn(v, " \t,/");

			if (k >= sizeof(up))
				k = sizeof(up) - 1;
			for (count = 0; (size_t)count < k; count++)
				up[count] = (v[count] >= 'A' && v[count] <= 'Z')
						? (char)(v[count] + 32)
						: v[count];
			up[k] = '\0';
			m->upgrade = strdup(k ? up : "unknown");
		}
		s->cur = m;
		queue_push(d, m);
	} else {
		/* 1xx other than 101 are interim (RFC 9110 section 15.2): wait for
		 * the final response; their bytes count in the exchange. */
		if (m->status >= 100 && m->status < 200 && m->status != 101) {
			s->interim_bytes += n;
			msg_free(m);
			return;
		}
		m->bytes += s->interim_bytes;
		s->interim_bytes = 0;
		s->cur = m;
	}
	start_body(d, dir);
}

/* ---- the per-state steps: each returns the bytes consumed, sets *more when it
 * needs more bytes to go on ---- */

static size_t step_head(struct http1 *d, int dir, const uint8_t *p, size_t n, int *more)
{
	struct h1_dir *s = &d->dir[dir];
	size_t i, lim, end = 0;

	if (!s->head_started) {
		/* RFC 9112 section 2.2: empty lines before a start line are ignored */
		for (i = 0; i < n && (p[i] == '\r' || p[i] == '\n'); i++)
			;
		if (i)
			return i;
		s->head_started = 1;
		s->head_ts = s->ts;
		s->scan = 0;
		s->start_ok = 0;
	}
	if (!s->start_ok) {
		int r = http1_detect(p, n, (enum dec_dir)dir);

		if (r == 0) {
			h1_note(d, "HTTP/1 %s: not a %s line; resynchronising", msg_kind[dir],
				dir == DEC_DIR_REQ ? "request" : "status");
			if (dir == DEC_DIR_REQ)
				queue_placeholder(d);
			else
				answer_unparsed(d);
			enter_resync(d, dir, 0);
			return 1;
		}
		s->start_ok = r == 2;
	}
	/* the head ends with an empty line: LF LF or LF CR LF */
	lim = n < HTTP1_HEAD_CAP ? n : HTTP1_HEAD_CAP;
	for (i = s->scan; i < lim; i++) {
		if (p[i] != '\n')
			continue;
		if (i + 1 < lim && p[i + 1] == '\n') {
			end = i + 2;
			break;
		}
		if (i + 2 < lim && p[i + 1] == '\r' && p[i + 2] == '\n') {
			end = i + 3;
			break;
		}
		if (i + 2 >= lim)
			break; /* recheck this LF when more bytes come */
	}
	if (!end) {
		s->scan = i < lim ? i : lim;
		if (n >= HTTP1_HEAD_CAP) {
			h1_note(d, "HTTP/1 %s: header section larger than %d bytes; skipping it",
				msg_kind[dir], HTTP1_HEAD_CAP);
			if (dir == DEC_DIR_REQ)
				queue_placeholder(d);
			else
				answer_unparsed(d);
			enter_resync(d, dir, 0);
			return n;
		}
		*more = 1;
		return 0;
	}
	s->head_started = 0;
	s->start_ok = 0;
	s->scan = 0;
	parse_head(d, dir, p, end);
	return end;
}

static void body_data(struct http1 *d, int dir, const uint8_t *p, size_t n)
{
	struct h1_msg *m = d->dir[dir].cur;

	if (!m)
		return;
	m->bytes += n;
	if (content_body_add(&m->body, p, n) < 0)
		h1_note(d, "HTTP/1 %s: corrupt %s body; showing what was decoded", msg_kind[dir],
			content_coding_name(m->body.coding));
}

static size_t step_chunk_size(struct http1 *d, int dir, const uint8_t *p, size_t n, int *more)
{
	struct h1_dir *s = &d->dir[dir];
	size_t e = line_end(p, n < H1_LINE_CAP ? n : H1_LINE_CAP), ll, i = 0;
	uint64_t size = 0;
	int v;

	if (!e) {
		if (n < H1_LINE_CAP) {
			*more = 1;
			return 0;
		}
		h1_note(d, "HTTP/1 %s: chunk-size line longer than %d bytes; resynchronising",
			msg_kind[dir], H1_LINE_CAP);
		goto bad;
	}
	ll = line_len(p, e);
	/* chunk = chunk-size [ chunk-ext ] CRLF (RFC 9112 section 7.1) */
	while (i < ll && (v = hex_val(p[i])) >= 0) {
		if (size >> 60) {
			h1_note(d, "HTTP/1 %s: chunk size overflows 64 bits; resynchronising",
				msg_kind[dir]);
			goto bad;
		}
		size = size * 16 + (uint64_t)v;
		i++;
	}
	if (i == 0) {
		h1_note(d, "HTTP/1 %s: bad chunk-size line; resynchronising", msg_kind[dir]);
		goto bad;
	}
	while (i < ll && is_ows(p[i]))
		i++;
	if (i < ll && p[i] != ';') {
		h1_note(d, "HTTP/1 %s: bad chunk-size line; resynchronising", msg_kind[dir]);
		goto bad;
	}
	if (s->cur)
		s->cur->bytes += e;
	if (size == 0) {
		s->st = S_TRAILER;
	} else {
		s->st = S_CHUNK_DATA;
		s->remain = size;
	}
	return e;
bad:
	if (s->cur)
		s->cur->body.truncated = 1;
	msg_done(d, dir);
	enter_resync(d, dir, 0);
	return 0;
}

static size_t step_chunk_crlf(struct http1 *d, int dir, const uint8_t *p, size_t n, int *more)
{
	struct h1_dir *s = &d->dir[dir];
	size_t k = 0;

	if (p[0] == '\n') {
		k = 1;
	} else if (p[0] == '\r') {
		if (n < 2) {
			*more = 1;
			return 0;
		}
		if (p[1] == '\n')
			k = 2;
	}
	if (!k) {
		h1_note(d, "HTTP/1 %s: chunk data not followed by CRLF; resynchronising",
			msg_kind[dir]);
		if (s->cur)
			s->cur->body.truncated = 1;
		msg_done(d, dir);
		enter_resync(d, dir, 0);
		return 0;
	}
	if (s->cur)
		s->cur->bytes += k;
	s->st = S_CHUNK_SIZE;
	return k;
}

static size_t step_trailer(struct http1 *d, int dir, const uint8_t *p, size_t n, int *more)
{
	struct h1_dir *s = &d->dir[dir];
	size_t e = line_end(p, n), ll;

	if (!e) {
		if (s->trailer_bytes + n <= HTTP1_HEAD_CAP) {
			*more = 1;
			return 0;
		}
		h1_note(d, "HTTP/1 %s: trailer section larger than %d bytes; resynchronising",
			msg_kind[dir], HTTP1_HEAD_CAP);
		msg_done(d, dir);
		enter_resync(d, dir, 0);
		return n;
	}
	s->trailer_bytes += e;
	if (s->cur)
		s->cur->bytes += e;
	ll = line_len(p, e);
	if (!ll) {
		msg_done(d, dir);
		return e;
	}
	/* trailer fields (RFC 9112 section 7.1.2) are shown with the headers */
	if (s->cur && parse_fields(&s->cur->hdrs, p, e) < 0)
		oom(d);
	return e;
}

static size_t step_resync(struct http1 *d, int dir, const uint8_t *p, size_t n, int *more)
{
	struct h1_dir *s = &d->dir[dir];
	size_t i;

	for (i = 0; i < n; i++) {
		int r;

		if (i == 0 ? !s->line_start : p[i - 1] != '\n')
			continue;
		r = http1_detect(p + i, n - i, (enum dec_dir)dir);
		if (r == 2) {
			s->st = S_HEAD;
			return i;
		}
		if (r == 1) {
			s->line_start = 1;
			*more = 1;
			return i;
		}
	}
	s->line_start = p[n - 1] == '\n';
	return n;
}

/* Consume what can be consumed of p[0..n) in direction dir. What is left is an
 * incomplete element (smaller than the caps) that the caller keeps. */
static size_t h1_run(struct http1 *d, int dir, const uint8_t *p, size_t n)
{
	struct h1_dir *s = &d->dir[dir];
	size_t off = 0, k;
	unsigned spins = 0;

	while (off < n && !d->dead) {
		int more = 0;
		enum h1_state before = s->st;

		switch (s->st) {
		case S_HEAD:
			k = step_head(d, dir, p + off, n - off, &more);
			break;
		case S_BODY_LEN:
		case S_CHUNK_DATA:
			k = n - off < s->remain ? n - off : (size_t)s->remain;
			body_data(d, dir, p + off, k);
			s->remain -= k;
			if (!s->remain) {
				if (s->st == S_BODY_LEN)
					msg_done(d, dir);
				else
					s->st = S_CHUNK_CRLF;
			}
			break;
		case S_CHUNK_SIZE:
			k = step_chunk_size(d, dir, p + off, n - off, &more);
			break;
		case S_CHUNK_CRLF:
			k = step_chunk_crlf(d, dir, p + off, n - off, &more);
			break;
		case S_TRAILER:
			k = step_trailer(d, dir, p + off, n - off, &more);
			break;
		case S_BODY_CLOSE:
			k = n - off;
			body_data(d, dir, p + off, k);
			break;
		case S_HOLD:
			if (n - off <= HTTP1_HEAD_CAP)
				return off;
			h1_note(d,
				"HTTP/1 request: no response to an Upgrade/CONNECT request "
				"after %d bytes; decoding what follows as HTTP/1",
				HTTP1_HEAD_CAP);
			d->hold_req = NULL;
			s->st = S_HEAD;
			k = 0;
			break;
		case S_RESYNC:
			k = step_resync(d, dir, p + off, n - off, &more);
			break;
		case S_TUNNEL:
		default:
			if (d->keep_leftover && n - off <= HTTP1_HEAD_CAP)
				return off;
			d->keep_leftover = 0;
			k = n - off;
			break;
		}
		off += k;
		if (more)
			break;
		/* A step that consumed nothing must have changed state. */
		if (!k && s->st == before && ++spins > 4)
			break;
	}
	return off;
}

static int dir_keep(struct h1_dir *s, const uint8_t *p, size_t n)
{
	if (s->len + n > s->cap) {
		size_t cap = s->cap ? s->cap : 1024;
		uint8_t *nb;

		while (cap < s->len + n)
			cap *= 2;
		nb = realloc(s->buf, cap);
		if (!nb)
			return -1;
		s->buf = nb;
		s->cap = cap;
	}
	memcpy(s->buf + s->len, p, n);
	s->len += n;
	return 0;
}

/* Run the parser over the kept bytes of dir, keeping what is left. */
static void dir_drain(struct http1 *d, int dir)
{
	struct h1_dir *s = &d->dir[dir];
	size_t k;

	if (!s->len)
		return;
	k = h1_run(d, dir, s->buf, s->len);
	if (k > s->len)
		k = s->len;
	memmove(s->buf, s->buf + k, s->len - k);
	s->len -= k;
	if (d->dead)
		s->len = 0;
}

static void h1_push(struct http1 *d, int dir, const uint8_t *buf, size_t len)
{
	struct h1_dir *s = &d->dir[dir];

	while (len > 0 && !d->dead) {
		if (s->len == 0) {
			/* Nothing kept: parse straight from the caller's bytes. */
			size_t k = h1_run(d, dir, buf, len);

			buf += k;
			len -= k;
			if (!len || d->dead)
				break;
			if (dir_keep(s, buf, len))
				oom(d);
			break;
		} else {
			size_t step = len < H1_FEED_STEP ? len : H1_FEED_STEP;

			if (dir_keep(s, buf, step)) {
				oom(d);
				break;
			}
			buf += step;
			len -= step;
			dir_drain(d, dir);
		}
	}
}

/* ---- public API ---- */

struct http1 *http1_new(dec_emit_fn emit, void *arg)
{
	struct http1 *d;

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
	dec_notes_init(&d->notes, emit, arg, DEC_P_HTTP1, "HTTP/1", 0, H1_MAX_NOTES);
	return d;
}

void http1_feed(struct http1 *d, enum dec_dir dir, const uint8_t *buf, size_t len, uint64_t ts_ns)
{
	int di = dir == DEC_DIR_RESP;

	if (!d || d->closed || d->dead || !buf || !len)
		return;
	d->dir[di].ts = ts_ns;
	d->dir[di].last_ts = ts_ns;
	/* Writes usually start messages: a resynchronising direction tries the
	 * start of each new write as well as each line start. */
	if (d->dir[di].st == S_RESYNC && !d->dir[di].len)
		d->dir[di].line_start = 1;
	h1_push(d, di, buf, len);
	/* A response released the request side from waiting: parse what it kept. */
	while (d->kick_req && !d->dead) {
		d->kick_req = 0;
		dir_drain(d, DEC_DIR_REQ);
	}
}

void http1_gap(struct http1 *d, enum dec_dir dir, uint64_t len)
{
	int di = dir == DEC_DIR_RESP;
	struct h1_dir *s;

	if (!d || d->closed || d->dead || !len)
		return;
	s = &d->dir[di];
	switch (s->st) {
	case S_BODY_LEN:
	case S_CHUNK_DATA:
	case S_BODY_CLOSE:
		if (s->cur) {
			s->cur->bytes += len;
			/* the decompressor cannot continue across lost bytes */
			content_body_lost(&s->cur->body);
		}
		if (s->st == S_BODY_CLOSE || len <= s->remain) {
			h1_note(d,
				"HTTP/1 %s: %llu bytes lost inside a body; the body shown is "
				"incomplete",
				msg_kind[di], (unsigned long long)len);
			if (s->st != S_BODY_CLOSE) {
				s->remain -= len;
				if (!s->remain) {
					if (s->st == S_BODY_LEN)
						msg_done(d, di);
					else
						s->st = S_CHUNK_CRLF;
				}
			}
			return;
		}
		h1_note(d, "HTTP/1 %s: %llu bytes lost past the end of a body; resynchronising",
			msg_kind[di], (unsigned long long)len);
		msg_done(d, di);
		break;
	case S_TUNNEL:
		d->keep_leftover = 0;
		s->len = 0;
		return;
	case S_HOLD:
		h1_note(d, "HTTP/1 request: %llu bytes lost after an Upgrade/CONNECT request",
			(unsigned long long)len);
		s->len = 0;
		return;
	case S_RESYNC:
		s->len = 0;
		s->line_start = 1;
		return;
	default:
		if (s->cur) {
			s->cur->body.truncated = 1;
			msg_done(d, di);
		}
		if (s->head_started && di == DEC_DIR_REQ)
			queue_placeholder(d);
		h1_note(d, "HTTP/1 %s: %llu bytes lost; resynchronising on the next message",
			msg_kind[di], (unsigned long long)len);
		break;
	}
	/* The bytes after a gap usually start a new write, so maybe a message. */
	s->len = 0;
	enter_resync(d, di, 1);
}

void http1_close(struct http1 *d, uint64_t ts_ns)
{
	struct h1_dir *rs, *rq;
	struct h1_msg *req;

	if (!d || d->closed)
		return;
	d->closed = 1;
	rs = &d->dir[DEC_DIR_RESP];
	rq = &d->dir[DEC_DIR_REQ];
	if (!rs->last_ts)
		rs->last_ts = ts_ns;
	if (!d->dead) {
		if (rq->cur) {
			h1_note(d, "HTTP/1 request: connection closed inside the body");
			rq->cur->body.truncated = 1;
			msg_done(d, DEC_DIR_REQ);
		}
		if (rs->cur) {
			/* RFC 9112 section 6.3 item 8: a response without framing ends at
			 * close; any other one is incomplete. */
			if (rs->st != S_BODY_CLOSE) {
				h1_note(d, "HTTP/1 response: connection closed inside the body");
				rs->cur->body.truncated = 1;
			}
			msg_done(d, DEC_DIR_RESP);
		} else if (rs->st == S_HEAD && rs->head_started) {
			h1_note(d, "HTTP/1 response: connection closed inside the header section");
		}
	}
	/* an h2c upgrade nobody took over is reported here, as HTTP/1 */
	if (d->up_req && !d->up_taken && !d->dead)
		emit_exchange(d, d->up_req, d->up_resp);
	d->up_taken = 1;
	/* requests nobody answered (a placeholder alone says nothing: its note did) */
	while ((req = queue_pop(d))) {
		if (!d->dead && !req->placeholder)
			emit_exchange(d, req, NULL);
		req_retire(d, req);
	}
	dec_notes_close(&d->notes, ts_ns);
}

void http1_free(struct http1 *d)
{
	struct h1_msg *m;
	int i;

	if (!d)
		return;
	while ((m = queue_pop(d))) {
		if (m != d->dir[DEC_DIR_REQ].cur)
			msg_free(m);
	}
	for (i = 0; i < 2; i++) {
		msg_free(d->dir[i].cur);
		free(d->dir[i].buf);
	}
	free(d->sw_method);
	free(d->sw_path);
	free(d->sw_host);
	msg_free(d->up_req);
	msg_free(d->up_resp);
	free(d->up_rqh);
	free(d->up_rsh);
	free(d);
}

const char *http1_switched(const struct http1 *d)
{
	return d ? d->switched : NULL;
}

void http1_switch_request(const struct http1 *d, const char **method, const char **path,
			  const char **host, uint64_t *ts_ns)
{
	*method = d ? d->sw_method : NULL;
	*path = d ? d->sw_path : NULL;
	*host = d ? d->sw_host : NULL;
	*ts_ns = d ? d->sw_ts : 0;
}

int http1_take_upgrade(struct http1 *d, struct dec_record *rec)
{
	if (!d || !rec || !d->up_req || d->up_taken)
		return -ENOENT;
	free(d->up_rqh);
	free(d->up_rsh);
	fill_exchange(rec, d->up_req, d->up_resp, &d->up_rqh, &d->up_rsh);
	d->up_taken = 1;
	return 0;
}

size_t http1_take_leftover(struct http1 *d, enum dec_dir dir, uint8_t **out)
{
	struct h1_dir *s;
	size_t n;

	*out = NULL;
	if (!d || !d->keep_leftover)
		return 0;
	s = &d->dir[dir == DEC_DIR_RESP];
	n = s->len;
	if (!n)
		return 0;
	*out = s->buf;
	s->buf = NULL;
	s->len = s->cap = 0;
	return n;
}

/* ---- detection ---- */

static const char *const known_methods[] = {
    "GET",   "HEAD",   "POST",	   "PUT",	"DELETE", "CONNECT",	"OPTIONS",
    "TRACE", "PATCH",  "PROPFIND", "PROPPATCH", "MKCOL",  "COPY",	"MOVE",
    "LOCK",  "UNLOCK", "REPORT",   "SEARCH",	"PURGE",  "MKCALENDAR",
};

int http1_detect(const uint8_t *buf, size_t len, enum dec_dir dir)
{
	static const char status_pfx[] = "HTTP/1.";
	size_t i, k;

	if (!buf || !len)
		return 1;
	if (dir == DEC_DIR_RESP) {
		/* status-line: "HTTP/1." DIGIT SP 3DIGIT */
		k = len < 7 ? len : 7;
		if (memcmp(buf, status_pfx, k))
			return 0;
		if (len < 8)
			return 1;
		if (buf[7] < '0' || buf[7] > '9')
			return 0;
		if (len < 9)
			return 1;
		if (buf[8] != ' ')
			return 0;
		for (i = 9; i < 12; i++) {
			if (i >= len)
				return 1;
			if (buf[i] < '0' || buf[i] > '9')
				return 0;
		}
		return 2;
	}
	/* request-line: method token, SP, then a request-target */
	for (i = 0; i < len && is_tchar(buf[i]); i++)
		if (i >= 24)
			return 0;
	if (i == len)
		return 1;
	if (i == 0 || buf[i] != ' ')
		return 0;
	for (k = 0; k < sizeof(known_methods) / sizeof(known_methods[0]); k++) {
		if (strlen(known_methods[k]) != i || memcmp(buf, known_methods[k], i))
			continue;
		if (i + 1 == len)
			return 1;
		return buf[i + 1] > 0x20 && buf[i + 1] != 0x7f ? 2 : 0;
	}
	/* An unknown method: only a whole line ending in HTTP/1.x will do. */
	{
		size_t lim = len < H1_DETECT_LINE ? len : H1_DETECT_LINE;
		size_t e = line_end(buf, lim), ll;

		/* A request-line is tokens, a request-target and the version
		 * (RFC 9112 section 3): no control byte but the CR LF ending it
		 * (HTAB tolerated as whitespace, section 3 end note). One before the
		 * line ends rules HTTP/1 out now, instead of waiting for a line end
		 * that binary bytes (a MySQL packet header, say) never bring. */
		for (k = i + 1; k < (e ? e : lim); k++)
			if ((buf[k] < 0x20 && buf[k] != '\t' && buf[k] != '\r' && buf[k] != '\n') ||
			    buf[k] == 0x7f)
				return 0;
		if (!e)
			return len < H1_DETECT_LINE ? 1 : 0;
		ll = line_len(buf, e);
		if (ll < i + 11 || buf[ll - 9] != ' ' || memcmp(buf + ll - 8, status_pfx, 7) ||
		    buf[ll - 1] < '0' || buf[ll - 1] > '9')
			return 0;
		for (k = i + 1; k < ll - 9; k++)
			if (buf[k] < 0x21 || buf[k] == 0x7f)
				return 0;
		return 2;
	}
}
