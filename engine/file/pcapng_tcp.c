// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Foreign captures: packets read by libpcap (any pcap or pcapng it knows),
 * TCP streams reassembled per connection and direction, delivered as
 * EC_K_DATA events (source "socket", process unknown).
 *
 * Reassembly (RFC 9293 section 3.10.7.4 describes the receiver's view): each
 * direction delivers bytes strictly in sequence order. A segment that starts
 * before the next expected byte is trimmed (retransmission or overlap); one
 * that starts after it waits in a small sorted out-of-order list. When that
 * list grows past OOO_SEGS segments or OOO_BYTES bytes, the hole is given up:
 * the gap is counted and the next event is flagged EC_F_GAP.
 */
#include "engine/file/pcapng_int.h"

#include <errno.h>
#include <inttypes.h>
#include <pcap/pcap.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef DLT_LINUX_SLL2
#define DLT_LINUX_SLL2 276
#endif
#ifndef DLT_IPV4
#define DLT_IPV4 228
#endif
#ifndef DLT_IPV6
#define DLT_IPV6 229
#endif

#define OOO_SEGS  64
#define OOO_BYTES (1u << 20)

struct seg {
	struct seg *next;
	uint32_t seq;
	uint32_t wire_len; /* bytes the segment covers in sequence space */
	uint32_t len;	   /* bytes captured (< wire_len if the snap length cut it) */
	uint64_t ts_ns;
	uint8_t data[];
};

struct fdir {
	int have_seq;
	uint32_t next; /* next expected sequence number */
	int fin;
	int gap;	 /* flag the next event EC_F_GAP */
	struct seg *ooo; /* sorted by seq */
	unsigned n_ooo;
	size_t ooo_bytes;
};

struct fconn {
	struct fconn *next;
	uint8_t ver;		      /* 4 or 6 */
	uint8_t caddr[16], saddr[16]; /* client (SYN sender) and server */
	uint16_t cport, sport;
	uint64_t id;
	int rst;
	struct fdir d[2]; /* [0]: client to server, [1]: server to client */
};

struct evq {
	struct evq *next;
	struct ec_event *ev;
};

struct pcapng_foreign {
	pcap_t *p;
	int dlt;
	struct bpf_program prog;
	int has_filter;
	struct fconn **tab;
	size_t tab_size, n_conns;
	uint64_t next_id;
	struct evq *qhead, *qtail;
	uint64_t npkt;
	int eof;
	int error;
	struct pcapng_reader_stats st;
};

/* ---- output queue ---- */

static int q_push(struct pcapng_foreign *f, struct ec_event *ev)
{
	struct evq *q = malloc(sizeof(*q));

	if (!q) {
		free(ev);
		return -ENOMEM;
	}
	q->next = NULL;
	q->ev = ev;
	if (f->qtail)
		f->qtail->next = q;
	else
		f->qhead = q;
	f->qtail = q;
	return 0;
}

static struct ec_event *q_pop(struct pcapng_foreign *f)
{
	struct evq *q = f->qhead;
	struct ec_event *ev;

	if (!q)
		return NULL;
	f->qhead = q->next;
	if (!f->qhead)
		f->qtail = NULL;
	ev = q->ev;
	free(q);
	return ev;
}

/* ---- connections ---- */

static uint32_t fnv(uint32_t h, const void *p, size_t n)
{
	const uint8_t *b = p;

	while (n--) {
		h ^= *b++;
		h *= 16777619u;
	}
	return h;
}

/* Hash of the unordered endpoint pair, so both directions find the entry. */
static size_t pair_hash(uint8_t ver, const uint8_t *a, uint16_t ap, const uint8_t *b, uint16_t bp)
{
	size_t al = ver == 4 ? 4 : 16;
	uint32_t ha = fnv(fnv(2166136261u, a, al), &ap, 2);
	uint32_t hb = fnv(fnv(2166136261u, b, al), &bp, 2);

	return (size_t)((ha ^ hb) + ver);
}

static size_t conn_bucket(const struct pcapng_foreign *f, const struct fconn *c)
{
	return pair_hash(c->ver, c->caddr, c->cport, c->saddr, c->sport) & (f->tab_size - 1);
}

/* Find the connection of src->dst; *from_client says which side sent. */
static struct fconn **conn_find(struct pcapng_foreign *f, uint8_t ver, const uint8_t *src,
				uint16_t sp, const uint8_t *dst, uint16_t dp, int *from_client)
{
	size_t al = ver == 4 ? 4 : 16;
	struct fconn **pp = &f->tab[pair_hash(ver, src, sp, dst, dp) & (f->tab_size - 1)];

	for (; *pp; pp = &(*pp)->next) {
		struct fconn *c = *pp;

		if (c->ver != ver)
			continue;
		if (c->cport == sp && c->sport == dp && !memcmp(c->caddr, src, al) &&
		    !memcmp(c->saddr, dst, al)) {
			*from_client = 1;
			return pp;
		}
		if (c->cport == dp && c->sport == sp && !memcmp(c->caddr, dst, al) &&
		    !memcmp(c->saddr, src, al)) {
			*from_client = 0;
			return pp;
		}
	}
	return pp;
}

static void dir_free(struct fdir *d)
{
	struct seg *s, *n;

	for (s = d->ooo; s; s = n) {
		n = s->next;
		free(s);
	}
	d->ooo = NULL;
	d->n_ooo = 0;
	d->ooo_bytes = 0;
}

static int grow_table(struct pcapng_foreign *f)
{
	size_t n = f->tab_size * 2, i;
	struct fconn **t = calloc(n, sizeof(*t));

	if (!t)
		return -ENOMEM;
	size_t old = f->tab_size;

	f->tab_size = n;
	for (i = 0; i < old; i++) {
		struct fconn *c = f->tab[i], *next;

		for (; c; c = next) {
			next = c->next;
			size_t b = conn_bucket(f, c);

			c->next = t[b];
			t[b] = c;
		}
	}
	free(f->tab);
	f->tab = t;
	return 0;
}

/* ---- delivery ---- */

static int emit(struct pcapng_foreign *f, struct fconn *c, int from_client, const uint8_t *data,
		uint32_t len, uint64_t ts_ns, uint16_t flags)
{
	struct ec_event *ev = ec_event_new(len);
	size_t al = c->ver == 4 ? 4 : 16;

	if (!ev)
		return -ENOMEM;
	ev->h.kind = EC_K_DATA;
	ev->h.source = EC_S_SOCKET;
	ev->h.ts_ns = ts_ns;
	ev->h.dir = from_client ? EC_DIR_SEND : EC_DIR_RECV;
	ev->h.family = c->ver == 4 ? EC_AF_INET : EC_AF_INET6;
	memcpy(ev->h.laddr, c->caddr, al);
	memcpy(ev->h.raddr, c->saddr, al);
	ev->h.lport = c->cport;
	ev->h.rport = c->sport;
	ev->h.conn_id = c->id;
	ev->h.flags = flags;
	memcpy(ev->data, data, len);
	return q_push(f, ev);
}

/* Deliver the part of a segment at or after d->next. */
static int deliver(struct pcapng_foreign *f, struct fconn *c, int fc, uint32_t seq,
		   const uint8_t *data, uint32_t len, uint32_t wire_len, uint64_t ts_ns)
{
	struct fdir *d = &c->d[fc ? 0 : 1];
	uint32_t skip = d->next - seq; /* seq <= next here (mod 2^32) */
	uint16_t flags = 0;
	int rc = 0;

	if (skip >= wire_len) {
		f->st.retrans_bytes += len;
		return 0;
	}
	f->st.retrans_bytes += skip < len ? skip : len;
	if (d->gap)
		flags |= EC_F_GAP;
	if (len < wire_len)
		flags |= EC_F_TRUNCATED;
	if (skip < len) {
		rc = emit(f, c, fc, data + skip, len - skip, ts_ns, flags);
		d->gap = 0;
	}
	if (len < wire_len) {
		/* Bytes the capture's snap length cut off: a hole after this one. */
		uint32_t from = skip > len ? skip : len;

		f->st.gaps++;
		f->st.gap_bytes += wire_len - from;
		d->gap = 1;
	}
	d->next = seq + wire_len;
	return rc;
}

/* Deliver what the out-of-order list now continues. */
static int drain(struct pcapng_foreign *f, struct fconn *c, int fc)
{
	struct fdir *d = &c->d[fc ? 0 : 1];

	while (d->ooo && (int32_t)(d->ooo->seq - d->next) <= 0) {
		struct seg *s = d->ooo;
		int rc;

		d->ooo = s->next;
		d->n_ooo--;
		d->ooo_bytes -= s->len;
		rc = deliver(f, c, fc, s->seq, s->data, s->len, s->wire_len, s->ts_ns);
		free(s);
		if (rc)
			return rc;
	}
	return 0;
}

/* Give up the hole before the first waiting segment. */
static int skip_hole(struct pcapng_foreign *f, struct fconn *c, int fc)
{
	struct fdir *d = &c->d[fc ? 0 : 1];

	if (!d->ooo)
		return 0;
	f->st.gaps++;
	f->st.gap_bytes += d->ooo->seq - d->next;
	d->gap = 1;
	d->next = d->ooo->seq;
	return drain(f, c, fc);
}

static int queue_ooo(struct pcapng_foreign *f, struct fconn *c, int fc, uint32_t seq,
		     const uint8_t *data, uint32_t len, uint32_t wire_len, uint64_t ts_ns)
{
	struct fdir *d = &c->d[fc ? 0 : 1];
	struct seg **pp = &d->ooo, *s;

	while (*pp && (int32_t)((*pp)->seq - seq) < 0)
		pp = &(*pp)->next;
	if (*pp && (*pp)->seq == seq && (*pp)->wire_len >= wire_len) {
		f->st.retrans_bytes += len;
		return 0; /* the same segment again */
	}
	s = malloc(sizeof(*s) + len);
	if (!s)
		return -ENOMEM;
	s->seq = seq;
	s->len = len;
	s->wire_len = wire_len;
	s->ts_ns = ts_ns;
	memcpy(s->data, data, len);
	s->next = *pp;
	*pp = s;
	d->n_ooo++;
	d->ooo_bytes += len;
	while (d->n_ooo > OOO_SEGS || d->ooo_bytes > OOO_BYTES) {
		int rc = skip_hole(f, c, fc);

		if (rc)
			return rc;
	}
	return 0;
}

static int conn_flush(struct pcapng_foreign *f, struct fconn *c)
{
	int i, rc;

	for (i = 0; i < 2; i++)
		while (c->d[i].ooo)
			if ((rc = skip_hole(f, c, i == 0)))
				return rc;
	return 0;
}

static void conn_remove(struct pcapng_foreign *f, struct fconn **pp)
{
	struct fconn *c = *pp;

	*pp = c->next;
	dir_free(&c->d[0]);
	dir_free(&c->d[1]);
	free(c);
	f->n_conns--;
}

/* ---- packets ---- */

struct tcpseg {
	uint8_t ver;
	uint8_t src[16], dst[16];
	uint16_t sport, dport;
	uint32_t seq;
	uint8_t flags;
	const uint8_t *payload;
	uint32_t len;	   /* captured payload bytes */
	uint32_t wire_len; /* payload bytes on the wire (IP lengths) */
};

/* The IP header's offset in a frame of the given link type, or -1. */
static long link_offset(int dlt, const uint8_t *p, size_t n)
{
	uint16_t et;
	size_t off;
	int tags = 0;

	switch (dlt) {
	case DLT_RAW:
	case DLT_IPV4:
	case DLT_IPV6:
		return 0;
	case DLT_NULL:
	case DLT_LOOP:
		/* A 4-byte address family; the IP version nibble says the rest. */
		return n >= 4 ? 4 : -1;
	case DLT_EN10MB:
		if (n < 14)
			return -1;
		et = pcapng_get16be(p + 12);
		off = 14;
		/* 802.1Q / 802.1ad tags */
		while ((et == 0x8100 || et == 0x88a8 || et == 0x9100) && tags++ < 4) {
			if (n < off + 4)
				return -1;
			et = pcapng_get16be(p + off + 2);
			off += 4;
		}
		break;
	case DLT_LINUX_SLL:
		/* packet type, ARPHRD, address length, address(8), protocol */
		if (n < 16)
			return -1;
		et = pcapng_get16be(p + 14);
		off = 16;
		break;
	case DLT_LINUX_SLL2:
		/* protocol, reserved, ifindex, ARPHRD, packet type, addr len, addr(8) */
		if (n < 20)
			return -1;
		et = pcapng_get16be(p);
		off = 20;
		break;
	default:
		return -1;
	}
	return et == 0x0800 || et == 0x86dd ? (long)off : -1;
}

static int parse_tcp(int dlt, const uint8_t *p, size_t caplen, struct tcpseg *t)
{
	long lo = link_offset(dlt, p, caplen);
	const uint8_t *ip, *tcp;
	size_t n, iphl, iplen, tcphl, avail;
	uint8_t proto;

	if (lo < 0)
		return -1;
	ip = p + lo;
	n = caplen - (size_t)lo;
	if (n < 1)
		return -1;
	memset(t, 0, sizeof(*t));
	if ((ip[0] >> 4) == 4) {
		if (n < 20)
			return -1;
		iphl = (size_t)(ip[0] & 15) * 4;
		iplen = pcapng_get16be(ip + 2);
		/* Fragments are skipped: MF set or a fragment offset (RFC 791). */
		if (iphl < 20 || iplen < iphl || ip[9] != 6 || (pcapng_get16be(ip + 6) & 0x3fff))
			return -1;
		t->ver = 4;
		memcpy(t->src, ip + 12, 4);
		memcpy(t->dst, ip + 16, 4);
	} else if ((ip[0] >> 4) == 6) {
		if (n < 40)
			return -1;
		iplen = 40 + (size_t)pcapng_get16be(ip + 4);
		proto = ip[6];
		iphl = 40;
		/* Walk extension headers (RFC 8200 section 4). */
		for (int hops = 0; proto != 6 && hops < 8; hops++) {
			if (proto == 0 || proto == 43 || proto == 60) {
				if (n < iphl + 8)
					return -1;
				proto = ip[iphl];
				iphl += 8 + (size_t)ip[iphl + 1] * 8;
			} else if (proto == 51) {
				if (n < iphl + 8)
					return -1;
				proto = ip[iphl];
				iphl += ((size_t)ip[iphl + 1] + 2) * 4;
			} else {
				return -1; /* fragments (44), ESP, anything else */
			}
		}
		if (proto != 6 || iplen < iphl)
			return -1;
		t->ver = 6;
		memcpy(t->src, ip + 8, 16);
		memcpy(t->dst, ip + 24, 16);
	} else {
		return -1;
	}
	if (n < iphl + 20 || iplen < iphl + 20)
		return -1;
	tcp = ip + iphl;
	tcphl = (size_t)(tcp[12] >> 4) * 4;
	if (tcphl < 20 || iplen < iphl + tcphl || n < iphl + tcphl)
		return -1;
	t->sport = pcapng_get16be(tcp);
	t->dport = pcapng_get16be(tcp + 2);
	t->seq = pcapng_get32be(tcp + 4);
	t->flags = tcp[13];
	t->payload = tcp + tcphl;
	t->wire_len = (uint32_t)(iplen - iphl - tcphl);
	avail = n - iphl - tcphl;
	t->len = avail < t->wire_len ? (uint32_t)avail : t->wire_len;
	return 0;
}

static struct fconn *conn_new(struct pcapng_foreign *f, const struct tcpseg *t, int src_is_client)
{
	struct fconn *c = calloc(1, sizeof(*c));
	size_t al = t->ver == 4 ? 4 : 16;

	if (!c)
		return NULL;
	c->ver = t->ver;
	memcpy(c->caddr, src_is_client ? t->src : t->dst, al);
	memcpy(c->saddr, src_is_client ? t->dst : t->src, al);
	c->cport = src_is_client ? t->sport : t->dport;
	c->sport = src_is_client ? t->dport : t->sport;
	c->id = ++f->next_id;
	f->st.connections++;
	return c;
}

static int handle_packet(struct pcapng_foreign *f, const struct pcap_pkthdr *ph, const uint8_t *p)
{
	struct tcpseg t;
	struct fconn **pp, *c;
	int fc = 0, rc;
	uint64_t ts_ns;

	f->st.packets++;
	if (parse_tcp(f->dlt, p, ph->caplen, &t) < 0) {
		f->st.skipped++;
		return 0;
	}
	if (f->has_filter && !pcap_offline_filter(&f->prog, ph, p)) {
		f->st.filtered++;
		return 0;
	}
	/* Opened with nanosecond precision: tv_usec holds nanoseconds. */
	ts_ns = (uint64_t)ph->ts.tv_sec * 1000000000u + (uint64_t)ph->ts.tv_usec;
	if (f->n_conns >= f->tab_size * 2 && grow_table(f))
		return -ENOMEM;
	pp = conn_find(f, t.ver, t.src, t.sport, t.dst, t.dport, &fc);
	c = *pp;
	int syn = t.flags & PNG_TCP_SYN, ack = t.flags & PNG_TCP_ACK;

	if (c && syn && !ack && fc && c->d[0].have_seq && c->d[0].next != t.seq + 1) {
		/* A new SYN on a finished 4-tuple: a new connection. */
		if ((rc = conn_flush(f, c)))
			return rc;
		conn_remove(f, pp);
		c = NULL;
	}
	if (!c) {
		int src_client;

		if (syn)
			src_client = !ack; /* SYN: sender is the client; SYN-ACK: receiver */
		else {
			int role = pcapng_port_server(t.sport, t.dport);

			src_client = role ? role < 0 : 1; /* else: the first sender */
		}
		c = conn_new(f, &t, src_client);
		if (!c)
			return -ENOMEM;
		size_t b = conn_bucket(f, c);

		c->next = f->tab[b];
		f->tab[b] = c;
		f->n_conns++;
		fc = src_client;
		pp = NULL;
	}
	struct fdir *d = &c->d[fc ? 0 : 1];
	uint32_t seq = t.seq;

	if (syn) {
		/* The SYN occupies one sequence number (RFC 9293 section 3.4). */
		if (!d->have_seq) {
			d->have_seq = 1;
			d->next = seq + 1;
		}
		seq++;
	}
	if (t.flags & PNG_TCP_RST)
		c->rst = 1;
	if (t.wire_len) {
		if (!d->have_seq) {
			d->have_seq = 1;
			d->next = seq;
		}
		int32_t rel = (int32_t)(seq - d->next);

		if (rel <= 0)
			rc = deliver(f, c, fc, seq, t.payload, t.len, t.wire_len, ts_ns);
		else
			rc = queue_ooo(f, c, fc, seq, t.payload, t.len, t.wire_len, ts_ns);
		if (!rc)
			rc = drain(f, c, fc);
		if (rc)
			return rc;
	}
	if (t.flags & PNG_TCP_FIN)
		d->fin = 1;
	if (c->rst || (c->d[0].fin && c->d[1].fin)) {
		/* Closed: deliver what waits and forget the 4-tuple, so its reuse
		 * starts a new connection. */
		if ((rc = conn_flush(f, c)))
			return rc;
		if (!pp)
			pp = conn_find(f, t.ver, t.src, t.sport, t.dst, t.dport, &fc);
		if (*pp == c)
			conn_remove(f, pp);
	}
	return 0;
}

/* ---- public (private to the pcapng module) ---- */

struct pcapng_foreign *pcapng_foreign_open(void *fp, const char *filter_expr, char *err,
					   size_t errlen)
{
	char ebuf[PCAP_ERRBUF_SIZE] = "";
	struct pcapng_foreign *f = calloc(1, sizeof(*f));

	if (!f || !(f->tab = calloc(1024, sizeof(*f->tab)))) {
		free(f);
		fclose(fp);
		snprintf(err, errlen, "out of memory");
		errno = ENOMEM;
		return NULL;
	}
	f->tab_size = 1024;
	f->p = pcap_fopen_offline_with_tstamp_precision(fp, PCAP_TSTAMP_PRECISION_NANO, ebuf);
	if (!f->p) {
		/* libpcap closes nothing on failure. */
		fclose(fp);
		snprintf(err, errlen, "not a capture file libpcap can read: %s", ebuf);
		free(f->tab);
		free(f);
		errno = EPROTO;
		return NULL;
	}
	f->dlt = pcap_datalink(f->p);
	switch (f->dlt) {
	case DLT_RAW:
	case DLT_IPV4:
	case DLT_IPV6:
	case DLT_NULL:
	case DLT_LOOP:
	case DLT_EN10MB:
	case DLT_LINUX_SLL:
	case DLT_LINUX_SLL2:
		break;
	default: {
		const char *name = pcap_datalink_val_to_name(f->dlt);

		if (name)
			snprintf(err, errlen, "unsupported link type %d (%s)", f->dlt, name);
		else
			snprintf(err, errlen, "unsupported link type %d", f->dlt);
		pcapng_foreign_close(f);
		errno = ENOTSUP;
		return NULL;
	}
	}
	if (filter_expr && *filter_expr) {
		if (pcap_compile(f->p, &f->prog, filter_expr, 1, PCAP_NETMASK_UNKNOWN) < 0) {
			snprintf(err, errlen, "invalid filter expression \"%s\": %s", filter_expr,
				 pcap_geterr(f->p));
			pcapng_foreign_close(f);
			errno = EINVAL;
			return NULL;
		}
		f->has_filter = 1;
	}
	return f;
}

int pcapng_foreign_next(struct pcapng_foreign *f, struct ec_event **out, char *err, size_t errlen)
{
	for (;;) {
		struct ec_event *ev = q_pop(f);

		if (ev) {
			*out = ev;
			return 1;
		}
		if (f->error)
			return f->error;
		if (f->eof)
			return 0;

		struct pcap_pkthdr *ph;
		const u_char *data;
		int rc = pcap_next_ex(f->p, &ph, &data);

		if (rc == 1) {
			f->npkt++;
			rc = handle_packet(f, ph, data);
			if (rc) {
				snprintf(err, errlen, "packet %" PRIu64 ": %s", f->npkt,
					 strerror(-rc));
				f->error = rc;
			}
			continue;
		}
		if (rc == PCAP_ERROR_BREAK) {
			/* End of file: what waits behind holes is delivered now. */
			size_t i;

			f->eof = 1;
			for (i = 0; i < f->tab_size && !f->error; i++) {
				struct fconn *c;

				for (c = f->tab[i]; c; c = c->next)
					if ((rc = conn_flush(f, c))) {
						f->error = rc;
						snprintf(err, errlen, "%s", strerror(-rc));
						break;
					}
			}
			continue;
		}
		long pos = ftell(pcap_file(f->p));

		snprintf(err, errlen, "after packet %" PRIu64 " (offset %ld): %s", f->npkt, pos,
			 pcap_geterr(f->p));
		f->error = -EPROTO;
	}
}

void pcapng_foreign_stats(const struct pcapng_foreign *f, struct pcapng_reader_stats *st)
{
	*st = f->st;
}

void pcapng_foreign_close(struct pcapng_foreign *f)
{
	size_t i;

	if (!f)
		return;
	for (i = 0; f->tab && i < f->tab_size; i++)
		while (f->tab[i])
			conn_remove(f, &f->tab[i]);
	free(f->tab);
	while (f->qhead)
		free(q_pop(f));
	if (f->has_filter)
		pcap_freecode(&f->prog);
	if (f->p)
		pcap_close(f->p); /* closes the FILE */
	free(f);
}
