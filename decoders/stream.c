// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Per-connection protocol recognition and dispatch (see stream.h).
 *
 * Sides: 0 = bytes the local process sent, 1 = bytes it received. Once the
 * role is known, client_side is the side that carries requests.
 */
#include "stream.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "http1.h"
#include "http2.h"
#include "mysql.h"
#include "pgsql.h"

/* One decoder behind a uniform face; wrappers keep the calls type-correct. */
struct dec_ops {
	enum dec_proto proto;
	void *(*new_)(dec_emit_fn emit, void *arg);
	void (*feed)(void *d, enum dec_dir dir, const uint8_t *buf, size_t len, uint64_t ts);
	void (*gap)(void *d, enum dec_dir dir, uint64_t len);
	void (*close)(void *d, uint64_t ts);
	void (*free_)(void *d);
	int (*detect)(const uint8_t *buf, size_t len, enum dec_dir dir);
};

#define DEC_OPS(X, P)                                                                              \
	static void *X##_w_new(dec_emit_fn emit, void *arg)                                        \
	{                                                                                          \
		return X##_new(emit, arg);                                                         \
	}                                                                                          \
	static void X##_w_feed(void *d, enum dec_dir dir, const uint8_t *b, size_t n, uint64_t t)  \
	{                                                                                          \
		X##_feed(d, dir, b, n, t);                                                         \
	}                                                                                          \
	static void X##_w_gap(void *d, enum dec_dir dir, uint64_t n)                               \
	{                                                                                          \
		X##_gap(d, dir, n);                                                                \
	}                                                                                          \
	static void X##_w_close(void *d, uint64_t t)                                               \
	{                                                                                          \
		X##_close(d, t);                                                                   \
	}                                                                                          \
	static void X##_w_free(void *d)                                                            \
	{                                                                                          \
		X##_free(d);                                                                       \
	}                                                                                          \
	static const struct dec_ops X##_ops = {P,	    X##_w_new,	X##_w_feed, X##_w_gap,     \
					       X##_w_close, X##_w_free, X##_detect}

DEC_OPS(http1, DEC_P_HTTP1);
DEC_OPS(http2, DEC_P_HTTP2);
DEC_OPS(mysql, DEC_P_MYSQL);
DEC_OPS(pgsql, DEC_P_PGSQL);

/* Detection order: the most specific signatures first. TLS is handled apart. */
static const struct dec_ops *const all_ops[] = {
    &http2_ops,
    &http1_ops,
    &mysql_ops,
    &pgsql_ops,
};
#define N_OPS (sizeof(all_ops) / sizeof(all_ops[0]))

struct pseg {
	uint8_t side;
	uint8_t gap;
	size_t off;   /* into pbuf[side]; for a gap, that buffer's length at the time */
	uint64_t len; /* data bytes, or bytes lost */
	uint64_t ts;
};

struct dec_stream {
	dec_emit_fn emit;
	void *arg;
	enum dec_proto proto;
	int decided;	 /* a protocol (possibly UNKNOWN) has been settled on */
	int client_side; /* 0 or 1, -1 unknown */
	const struct dec_ops *ops;
	void *dec;
	int fed, closed;
	/* recognition */
	uint8_t *pbuf[2];
	size_t plen[2], pcap[2];
	struct pseg *segs;
	size_t nseg, segcap;
	long cand[2]; /* segment where this side's recognition is being tried, -1 none */
	long first_seg[2];
	/* hints */
	int have_ports;
	uint16_t lport, rport;
	int h2c_checked;
	int name_frames; /* dec_stream_name_frames */
};

struct dec_stream *dec_stream_new(dec_emit_fn emit, void *arg)
{
	struct dec_stream *s;

	if (!emit) {
		errno = EINVAL;
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		errno = ENOMEM;
		return NULL;
	}
	s->emit = emit;
	s->arg = arg;
	s->client_side = -1;
	s->cand[0] = s->cand[1] = -1;
	s->first_seg[0] = s->first_seg[1] = -1;
	return s;
}

/* ---- TLS record recognition (RFC 8446 section 5.1, RFC 5246 section 6.2) ---- */

/* 2 if buf starts with a TLS record header (content type change_cipher_spec,
 * alert, handshake or application_data; version 3.0 to 3.4 on the wire; a
 * length within 2^14 + 2048), 1 if a prefix of one, 0 if not. */
static int tls_detect(const uint8_t *b, size_t n)
{
	size_t rlen;

	if (n < 1)
		return 1;
	if (b[0] < 0x14 || b[0] > 0x17)
		return 0;
	if (n < 2)
		return 1;
	if (b[1] != 0x03)
		return 0;
	if (n < 3)
		return 1;
	if (b[2] > 0x04)
		return 0;
	if (n < 5)
		return 1;
	rlen = (size_t)b[3] << 8 | b[4];
	if (rlen == 0 || rlen > 16384 + 2048)
		return 0;
	return 2;
}

/* Which side sent this TLS record: 1 client (ClientHello), 0 server
 * (ServerHello), -1 cannot tell. Handshake type is the first payload byte
 * (RFC 8446 section 4). */
static int tls_sender_is_client(const uint8_t *b, size_t n)
{
	if (n < 6 || b[0] != 0x16)
		return -1;
	if (b[5] == 1)
		return 1;
	if (b[5] == 2)
		return 0;
	return -1;
}

static int port_is_service(uint16_t p)
{
	static const uint16_t known[] = {80,   443,  3306, 5432, 8080, 8443,
					 8000, 8008, 8888, 3307, 5433, 6443};
	size_t i;

	for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (p == known[i])
			return 1;
	return 0;
}

/* Client side from the port hint: a well-known service port, else the lower of
 * a privileged and an unprivileged port, is the server's. -1 if no idea. */
static int client_side_from_ports(const struct dec_stream *s)
{
	int ls, rs;

	if (!s->have_ports || s->lport == s->rport)
		return -1;
	ls = port_is_service(s->lport);
	rs = port_is_service(s->rport);
	if (ls != rs)
		return ls ? 1 : 0;
	if ((s->lport < 1024) != (s->rport < 1024))
		return s->lport < 1024 ? 1 : 0;
	return -1;
}

/* ---- after the decision ---- */

static enum dec_dir side_dir(const struct dec_stream *s, int side)
{
	return side == s->client_side ? DEC_DIR_REQ : DEC_DIR_RESP;
}

static void drop_decoder(struct dec_stream *s)
{
	if (s->ops && s->dec)
		s->ops->free_(s->dec);
	s->dec = NULL;
	s->ops = NULL;
}

static void free_detection(struct dec_stream *s)
{
	int i;

	for (i = 0; i < 2; i++) {
		free(s->pbuf[i]);
		s->pbuf[i] = NULL;
		s->plen[i] = s->pcap[i] = 0;
		s->cand[i] = -1;
	}
	free(s->segs);
	s->segs = NULL;
	s->nseg = s->segcap = 0;
}

/* The connection turned to TLS (or to an encryption we cannot see through). */
static void become_encrypted(struct dec_stream *s, enum dec_proto p)
{
	drop_decoder(s);
	s->proto = p;
}

/* HTTP/1.1 "Upgrade: h2c" answered 101 (RFC 7540 section 3.2): the HTTP/2
 * decoder takes over with the bytes that followed the switch in each direction,
 * and with the upgrade exchange, which it reports once as stream 1. */
static void check_h2c(struct dec_stream *s, uint64_t ts)
{
	const char *sw, *method, *path, *host;
	uint8_t *rq = NULL, *rs = NULL;
	struct dec_record up;
	size_t nrq, nrs;
	uint64_t req_ts;
	struct http2 *h2;

	if (s->proto != DEC_P_HTTP1 || s->h2c_checked || !s->dec)
		return;
	sw = http1_switched(s->dec);
	if (!sw)
		return;
	s->h2c_checked = 1;
	if (strcmp(sw, "h2c"))
		return;
	h2 = http2_new(s->emit, s->arg);
	if (!h2)
		return;
	http2_name_frames(h2, s->name_frames);
	if (http1_take_upgrade(s->dec, &up) == 0) {
		http2_upgraded_exchange(h2, &up);
	} else {
		http1_switch_request(s->dec, &method, &path, &host, &req_ts);
		http2_upgraded(h2, method, path, host, req_ts);
	}
	nrq = http1_take_leftover(s->dec, DEC_DIR_REQ, &rq);
	nrs = http1_take_leftover(s->dec, DEC_DIR_RESP, &rs);
	drop_decoder(s);
	s->dec = h2;
	s->ops = &http2_ops;
	s->proto = DEC_P_HTTP2;
	if (nrq)
		http2_feed(h2, DEC_DIR_REQ, rq, nrq, ts);
	if (nrs)
		http2_feed(h2, DEC_DIR_RESP, rs, nrs, ts);
	free(rq);
	free(rs);
}

static void dispatch(struct dec_stream *s, int side, const uint8_t *b, size_t n, uint64_t ts)
{
	enum dec_dir dir = side_dir(s, side);

	if (!s->dec)
		return;
	s->ops->feed(s->dec, dir, b, n, ts);
	check_h2c(s, ts);
	/* The decoders see the SSL requests that turn the connection to TLS. */
	if ((s->proto == DEC_P_MYSQL && mysql_is_tls(s->dec)) ||
	    (s->proto == DEC_P_PGSQL && pgsql_is_tls(s->dec)))
		become_encrypted(s, DEC_P_TLS);
}

static void dispatch_gap(struct dec_stream *s, int side, uint64_t len)
{
	if (s->dec)
		s->ops->gap(s->dec, side_dir(s, side), len);
}

/* Settle on ops (NULL: TLS or unknown, nothing decoded) with the given client side. */
static int settle(struct dec_stream *s, enum dec_proto proto, const struct dec_ops *ops,
		  int client_side)
{
	s->decided = 1;
	s->proto = proto;
	s->client_side = client_side;
	s->ops = NULL;
	s->dec = NULL;
	if (ops) {
		s->dec = ops->new_(s->emit, s->arg);
		if (!s->dec) {
			s->proto = DEC_P_UNKNOWN;
			return -ENOMEM;
		}
		s->ops = ops;
		if (proto == DEC_P_HTTP2)
			http2_name_frames(s->dec, s->name_frames);
	}
	return 0;
}

void dec_stream_name_frames(struct dec_stream *s, int on)
{
	if (!s)
		return;
	s->name_frames = on;
	if (s->proto == DEC_P_HTTP2 && s->dec)
		http2_name_frames(s->dec, on);
}

/* ---- recognition ---- */

/* The contiguous bytes of side from segment idx up to the next gap on that side. */
static size_t side_span(const struct dec_stream *s, int side, long idx, const uint8_t **out)
{
	size_t off = s->segs[idx].off, end = s->plen[side], i;

	for (i = (size_t)idx + 1; i < s->nseg; i++) {
		if (s->segs[i].side == side && s->segs[i].gap) {
			end = s->segs[i].off;
			break;
		}
	}
	*out = s->pbuf[side] + off;
	return end - off;
}

struct verdict {
	enum dec_proto proto;
	const struct dec_ops *ops;
	int client_side;
};

/* Try every protocol on bytes b of side. 2 and *v set: recognised; 1: maybe;
 * 0: nothing fits. */
static int recognise(const struct dec_stream *s, int side, const uint8_t *b, size_t n,
		     struct verdict *v)
{
	int maybe = 0, r, who;
	size_t i;

	r = tls_detect(b, n);
	if (r == 2) {
		who = tls_sender_is_client(b, n);
		v->proto = DEC_P_TLS;
		v->ops = NULL;
		if (who >= 0)
			v->client_side = who ? side : 1 - side;
		else
			v->client_side = client_side_from_ports(s);
		return 2;
	}
	maybe |= r == 1;
	for (i = 0; i < N_OPS; i++) {
		const struct dec_ops *o = all_ops[i];

		r = o->detect(b, n, DEC_DIR_REQ);
		if (r == 2) {
			v->proto = o->proto;
			v->ops = o;
			v->client_side = side;
			return 2;
		}
		maybe |= r == 1;
		r = o->detect(b, n, DEC_DIR_RESP);
		if (r == 2) {
			v->proto = o->proto;
			v->ops = o;
			v->client_side = 1 - side;
			return 2;
		}
		maybe |= r == 1;
	}
	return maybe;
}

static long next_data_seg(const struct dec_stream *s, int side, long after)
{
	size_t i;

	for (i = (size_t)(after + 1); i < s->nseg; i++) {
		if (s->segs[i].side != side)
			continue;
		if (s->segs[i].gap)
			continue;
		return (long)i;
	}
	return -1;
}

/* Feed what was kept to the decoder: from the start of the connection if the
 * winning side was recognised at its first write, else from that write on
 * (at may be s->nseg: a write that was not kept, fed by the caller next). */
static void replay(struct dec_stream *s, int side, long at)
{
	long from[2];
	size_t i;
	int first = at == s->first_seg[side] || (at == (long)s->nseg && s->first_seg[side] == -1);

	from[side] = at;
	from[1 - side] = first ? 0 : at;
	for (i = 0; i < s->nseg && !s->closed; i++) {
		const struct pseg *g = &s->segs[i];

		if ((long)i < from[g->side])
			continue;
		if (g->gap)
			dispatch_gap(s, g->side, g->len);
		else
			dispatch(s, g->side, s->pbuf[g->side] + g->off, (size_t)g->len, g->ts);
	}
}

/* Try to decide with what is kept; 1 if decided. */
static int try_decide(struct dec_stream *s)
{
	int side;

	for (side = 0; side < 2; side++) {
		while (s->cand[side] >= 0) {
			const uint8_t *b;
			size_t n = side_span(s, side, s->cand[side], &b);
			struct verdict v;
			int r = recognise(s, side, b, n, &v);

			if (r == 2) {
				long at = s->cand[side];

				if (settle(s, v.proto, v.ops, v.client_side) == 0)
					replay(s, side, at);
				free_detection(s);
				return 1;
			}
			if (r == 1)
				break;
			/* Not a start of anything: maybe the capture began mid-stream
			 * and a later write starts a message. */
			s->cand[side] = next_data_seg(s, side, s->cand[side]);
		}
	}
	return 0;
}

/* Recognition failed: settle on "unknown" and drop what was kept for it. */
static void settle_unknown(struct dec_stream *s)
{
	settle(s, DEC_P_UNKNOWN, NULL, client_side_from_ports(s));
	free_detection(s);
}

/* Room for n more bytes of side in pbuf (used as scratch past plen). */
static int reserve(struct dec_stream *s, int side, size_t n)
{
	size_t cap = s->pcap[side] ? s->pcap[side] : 512;
	uint8_t *nb;

	if (s->plen[side] + n <= s->pcap[side])
		return 0;
	while (cap < s->plen[side] + n)
		cap *= 2;
	nb = realloc(s->pbuf[side], cap);
	if (!nb)
		return -1;
	s->pbuf[side] = nb;
	s->pcap[side] = cap;
	return 0;
}

static int add_seg(struct dec_stream *s, int side, int gap, const uint8_t *b, uint64_t len,
		   uint64_t ts)
{
	struct pseg *g;

	if (s->nseg >= DEC_STREAM_MAX_SEGS)
		return -1;
	if (!gap && s->plen[side] + len > DEC_STREAM_DETECT_CAP)
		return -1;
	if (s->nseg == s->segcap) {
		size_t cap = s->segcap ? s->segcap * 2 : 16;
		struct pseg *ns = realloc(s->segs, cap * sizeof(*ns));

		if (!ns)
			return -1;
		s->segs = ns;
		s->segcap = cap;
	}
	if (!gap && reserve(s, side, len))
		return -1;
	g = &s->segs[s->nseg];
	g->side = (uint8_t)side;
	g->gap = (uint8_t)gap;
	g->off = s->plen[side];
	g->len = len;
	g->ts = ts;
	if (!gap) {
		memcpy(s->pbuf[side] + s->plen[side], b, (size_t)len);
		s->plen[side] += (size_t)len;
		if (s->first_seg[side] == -1)
			s->first_seg[side] = (long)s->nseg;
		if (s->cand[side] < 0)
			s->cand[side] = (long)s->nseg;
	} else {
		/* bytes before a gap cannot be completed: what was being tried on
		 * this side is dropped, the next write is tried afresh */
		s->cand[side] = -1;
		if (s->first_seg[side] == -1)
			s->first_seg[side] = -2; /* the beginning was lost */
	}
	s->nseg++;
	return 0;
}

/* A write that cannot be kept (it would pass DEC_STREAM_DETECT_CAP or
 * DEC_STREAM_MAX_SEGS): decide now on its first bytes, after what this side
 * kept, rather than settle on UNKNOWN with a recognisable start in hand (a
 * client's first write of 18 KiB: the HTTP/2 preface and a large header block).
 * Returns 1 if decided (the write was fed), 0 if nothing fits. */
static int decide_on_write(struct dec_stream *s, int side, const uint8_t *buf, size_t len,
			   uint64_t ts)
{
	size_t peek = len < DEC_STREAM_DETECT_CAP ? len : DEC_STREAM_DETECT_CAP;
	long c = s->cand[side];
	struct verdict v;
	const uint8_t *b;
	size_t n;
	int r;

	/* The write's first bytes go past the kept ones (not counted in plen):
	 * a candidate span runs to the end of what was kept, so they continue it. */
	if (c >= 0 && reserve(s, side, peek))
		return 0;
	if (c >= 0)
		memcpy(s->pbuf[side] + s->plen[side], buf, peek);
	while (c >= 0) {
		n = side_span(s, side, c, &b);
		if (b + n == s->pbuf[side] + s->plen[side])
			n += peek;
		r = recognise(s, side, b, n, &v);
		if (r == 2)
			goto decided;
		if (r == 1)
			return 0; /* still undecided after a bounded look: give up */
		c = next_data_seg(s, side, c);
	}
	/* nothing kept on this side starts anything: does this write? */
	c = (long)s->nseg;
	if (recognise(s, side, buf, peek, &v) != 2)
		return 0;
decided:
	if (settle(s, v.proto, v.ops, v.client_side) == 0) {
		replay(s, side, c);
		dispatch(s, side, buf, len, ts);
	}
	free_detection(s);
	return 1;
}

/* Settled on UNKNOWN: a write that is certainly the start of something known
 * switches the connection to it (a late start of capture, STARTTLS). */
static int late_recognise(struct dec_stream *s, int side, const uint8_t *b, size_t n, uint64_t ts)
{
	struct verdict v;

	if (recognise(s, side, b, n, &v) != 2)
		return 0;
	if (settle(s, v.proto, v.ops, v.client_side))
		return 1;
	dispatch(s, side, b, n, ts);
	return 1;
}

void dec_stream_feed(struct dec_stream *s, int local_send, const uint8_t *buf, size_t len,
		     uint64_t ts_ns)
{
	int side = local_send ? 0 : 1;

	if (!s || s->closed || !buf || !len)
		return;
	s->fed = 1;
	if (s->decided) {
		if (s->proto == DEC_P_UNKNOWN && !s->dec)
			late_recognise(s, side, buf, len, ts_ns);
		else
			dispatch(s, side, buf, len, ts_ns);
		return;
	}
	if (add_seg(s, side, 0, buf, len, ts_ns)) {
		if (!decide_on_write(s, side, buf, len, ts_ns))
			settle_unknown(s);
		return;
	}
	try_decide(s);
}

void dec_stream_gap(struct dec_stream *s, int local_send, uint64_t len)
{
	int side = local_send ? 0 : 1;

	if (!s || s->closed || !len)
		return;
	s->fed = 1;
	if (s->decided) {
		dispatch_gap(s, side, len);
		return;
	}
	if (add_seg(s, side, 1, NULL, len, 0)) {
		settle_unknown(s);
		return;
	}
	try_decide(s);
}

void dec_stream_close(struct dec_stream *s, uint64_t ts_ns)
{
	if (!s || s->closed)
		return;
	if (!s->decided && !try_decide(s))
		settle_unknown(s);
	s->closed = 1;
	if (s->dec)
		s->ops->close(s->dec, ts_ns);
}

enum dec_proto dec_stream_proto(const struct dec_stream *s)
{
	return s ? s->proto : DEC_P_UNKNOWN;
}

int dec_stream_local_is_client(const struct dec_stream *s)
{
	int cs;

	if (!s)
		return -1;
	cs = s->client_side;
	if (cs < 0 && (s->decided || s->have_ports))
		cs = client_side_from_ports(s);
	return cs < 0 ? -1 : cs == 0;
}

void dec_stream_set_port_hint(struct dec_stream *s, uint16_t local_port, uint16_t remote_port)
{
	if (!s)
		return;
	s->have_ports = 1;
	s->lport = local_port;
	s->rport = remote_port;
}

int dec_stream_force(struct dec_stream *s, enum dec_proto proto, int local_is_client)
{
	const struct dec_ops *ops = NULL;
	size_t i;

	if (!s || s->fed || s->decided || (local_is_client != 0 && local_is_client != 1) ||
	    proto >= DEC_P_MAX)
		return -EINVAL;
	if (proto != DEC_P_TLS && proto != DEC_P_UNKNOWN) {
		for (i = 0; i < N_OPS; i++)
			if (all_ops[i]->proto == proto)
				ops = all_ops[i];
		if (!ops)
			return -ENOTSUP;
	}
	if (settle(s, proto, ops, local_is_client ? 0 : 1))
		return -ENOMEM;
	return 0;
}

void dec_stream_free(struct dec_stream *s)
{
	if (!s)
		return;
	drop_decoder(s);
	free_detection(s);
	free(s);
}
