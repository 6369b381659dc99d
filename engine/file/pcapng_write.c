// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The pcapng writer (file layout documented in engine/file/pcapng.h).
 *
 * Blocks are assembled in a growable scratch buffer and then appended to the
 * output: our own buffer over write(2) for plain files (so every error, ENOSPC
 * included, is seen with its errno), zlib's gzwrite for ".gz".
 */
#include "engine/file/pcapng_int.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#define OUTBUF	 262144
#define MAX_HDRS 60 /* IPv6 (40) + TCP with SYN options (28) fits below 60 + 8 */

/* One end of a connection, by its endpoint in the packets. */
struct wside {
	uint8_t addr[16];
	uint16_t port, real_port;
	uint32_t isn, next_seq; /* next sequence number it sends */
	uint16_t ipid, win;
	uint32_t last_ack;
	int acked;
	int seen;		/* a process of this end was captured */
	int done;		/* pcapng_write_close_conn() was called for it */
	uint64_t conn_id;	/* its socket */
	struct ec_rec_hdr last; /* header of its latest event, for comments */
	uint64_t wrote;		/* bytes of its direction written so far */
	uint64_t held_sends;	/* its send views waiting in the reorder window */
	uint8_t *tail;		/* both ends seen: the last bytes of its direction */
	size_t tail_len, tail_cap;
	uint64_t pos_send; /* bytes of its own send view so far */
	uint64_t pos_recv; /* bytes of its recv view (the other direction) */
};

/* A connection: both ends' views of one loopback connection are one. */
struct wconn {
	struct wconn *next; /* hash chain */
	uint8_t family;	    /* EC_AF_*, normalised */
	uint8_t ipver;	    /* 4 or 6 */
	uint64_t unk_id;    /* conn_id, for an unknown family only */
	struct wside side[2];
	int client;	       /* the side that connected, -1 until decided */
	int open;	       /* handshake written, not both FINs yet */
	int closed;	       /* both FINs were written */
	int fin[2];	       /* side s sent its FIN */
	uint64_t last_act_ns;  /* time of its latest data */
	struct wconn *hc_next; /* half closed: one side's process exited */
	int in_hc;
	struct pcapng_hint_det *hint; /* recording: its protocol, until recognised */
};

/* A half-closed connection (one end's process exited) is closed from the
 * other side once that side was idle this long. */
#define HC_IDLE_NS (1000 * 1000000ull)

/* What a packet comment says about the event it carries. */
struct wmark {
	unsigned part, parts;
	uint64_t ts_ns;	 /* the packet's time */
	uint32_t prefix; /* leading bytes of the event already in the stream */
	int covered;	 /* all of the event's bytes were written before */
	uint64_t off;	 /* covered: offset of its bytes in the direction's stream */
};

/* An event held in the reorder window. */
struct held {
	uint64_t ts, order;
	int close; /* a pcapng_write_close_conn() request, not an event */
	struct ec_event *ev;
};

/* Events are held this long (of event time) before they are written, so the
 * file is in time order even when events arrive slightly out of it and both
 * ends' views of a connection are known before its packets are written. */
#define WINDOW_NS    (500 * 1000000ull)
#define HELD_MAX     65536
#define HELD_MAX_MEM (256u << 20)

struct pcapng_writer {
	int fd;
	gzFile gz;
	uint8_t *out; /* plain files: pending bytes */
	size_t out_len;
	uint8_t *blk; /* scratch: the block being built */
	size_t blk_len, blk_cap;
	uint8_t pkt[MAX_HDRS + 8 + PCAPNG_MAX_SEG];
	struct wconn **tab;
	size_t tab_size, n_conns;
	struct wconn *hc;  /* half-closed connections */
	struct held *heap; /* min-heap by (ts, order) */
	size_t n_held, cap_held, held_mem;
	uint64_t order, newest_ts, last_ts;
	uint64_t listening[1024]; /* bitmap of listening ports */
	uint64_t listen_loaded_ns;
	int error; /* sticky -errno */
	char errbuf[256];
	char *path;
	struct pcapng_writer_stats st;
	/* recording (no decode hint given at open): the protocols found, and the
	 * SHB comment reserved for their hint, rewritten at close */
	struct pcapng_hints *hints;
	size_t hint_at; /* offset of the comment's value in the SHB, 0 if none */
	uint8_t *shb;	/* .gz: a copy of the SHB (its gzip member's CRC) */
	uint32_t shb_len;
};

static int werr(struct pcapng_writer *w, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int werr(struct pcapng_writer *w, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(w->errbuf, sizeof(w->errbuf), fmt, ap);
	va_end(ap);
	w->error = err;
	return err;
}

/* ---- output ---- */

static int out_flush_plain(struct pcapng_writer *w)
{
	size_t off = 0;

	while (off < w->out_len) {
		ssize_t n = write(w->fd, w->out + off, w->out_len - off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return werr(w, -errno, "writing %s: %s", w->path, strerror(errno));
		}
		off += (size_t)n;
	}
	w->out_len = 0;
	return 0;
}

static int gz_fail(struct pcapng_writer *w, const char *what)
{
	int zerr = Z_OK;
	const char *msg = gzerror(w->gz, &zerr);

	if (zerr == Z_ERRNO)
		return werr(w, errno ? -errno : -EIO, "%s %s: %s", what, w->path,
			    strerror(errno ? errno : EIO));
	return werr(w, zerr == Z_MEM_ERROR ? -ENOMEM : -EIO, "%s %s: %s", what, w->path,
		    msg ? msg : "zlib error");
}

static int out_bytes(struct pcapng_writer *w, const void *p, size_t n)
{
	if (w->gz) {
		const uint8_t *b = p;

		/* gzwrite takes an unsigned length; our blocks are far below 4 GiB. */
		while (n) {
			unsigned chunk = n > (1u << 30) ? (1u << 30) : (unsigned)n;

			errno = 0;
			if (gzwrite(w->gz, b, chunk) != (int)chunk)
				return gz_fail(w, "writing");
			b += chunk;
			n -= chunk;
		}
		return 0;
	}
	if (n > OUTBUF - w->out_len) {
		int rc = out_flush_plain(w);

		if (rc)
			return rc;
	}
	if (n >= OUTBUF) {
		/* Larger than the buffer: write it through directly. */
		const uint8_t *b = p;

		while (n) {
			ssize_t k = write(w->fd, b, n);

			if (k < 0) {
				if (errno == EINTR)
					continue;
				return werr(w, -errno, "writing %s: %s", w->path, strerror(errno));
			}
			b += k;
			n -= (size_t)k;
		}
		return 0;
	}
	memcpy(w->out + w->out_len, p, n);
	w->out_len += n;
	return 0;
}

/* ---- block assembly ---- */

static int blk_reserve(struct pcapng_writer *w, size_t more)
{
	size_t need = w->blk_len + more;

	if (need <= w->blk_cap)
		return 0;
	size_t cap = w->blk_cap ? w->blk_cap : 4096;

	while (cap < need)
		cap *= 2;
	uint8_t *b = realloc(w->blk, cap);

	if (!b)
		return werr(w, -ENOMEM, "out of memory building a block");
	w->blk = b;
	w->blk_cap = cap;
	return 0;
}

static int blk_put(struct pcapng_writer *w, const void *p, size_t n)
{
	int rc = blk_reserve(w, n);

	if (rc)
		return rc;
	if (n)
		memcpy(w->blk + w->blk_len, p, n);
	w->blk_len += n;
	return 0;
}

static int blk_pad(struct pcapng_writer *w)
{
	static const uint8_t zero[4];

	return blk_put(w, zero, (4 - (w->blk_len & 3)) & 3);
}

static int blk_u16(struct pcapng_writer *w, uint16_t v)
{
	uint8_t b[2];

	pcapng_put16(b, v);
	return blk_put(w, b, 2);
}

static int blk_u32(struct pcapng_writer *w, uint32_t v)
{
	uint8_t b[4];

	pcapng_put32(b, v);
	return blk_put(w, b, 4);
}

/* Begin a block: type and a length patched by blk_end. */
static int blk_begin(struct pcapng_writer *w, uint32_t type)
{
	w->blk_len = 0;
	if (blk_u32(w, type))
		return w->error;
	return blk_u32(w, 0);
}

/* One option: code, length, value padded to 32 bits (section 3.5). */
static int blk_opt(struct pcapng_writer *w, uint16_t code, const void *v, size_t len)
{
	if (len > 0xffff)
		len = 0xffff;
	if (blk_u16(w, code) || blk_u16(w, (uint16_t)len) || blk_put(w, v, len))
		return w->error;
	return blk_pad(w);
}

static int blk_opt_str(struct pcapng_writer *w, uint16_t code, const char *s)
{
	return blk_opt(w, code, s, strlen(s));
}

/* Finish: the trailing total length, patch the leading one, write the block. */
static int blk_end(struct pcapng_writer *w)
{
	if (blk_pad(w) || blk_reserve(w, 4))
		return w->error;
	uint32_t total = (uint32_t)(w->blk_len + 4);

	pcapng_put32(w->blk + 4, total);
	pcapng_put32(w->blk + w->blk_len, total);
	w->blk_len += 4;
	if (out_bytes(w, w->blk, w->blk_len))
		return w->error;
	w->st.bytes += w->blk_len;
	return 0;
}

/* ---- connections ---- */

static uint64_t mix64(uint64_t x)
{
	/* splitmix64 finaliser: kernel socket addresses share their low bits. */
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static uint32_t fnv1a(uint32_t h, const void *p, size_t n)
{
	const uint8_t *b = p;

	while (n--) {
		h ^= *b++;
		h *= 16777619u;
	}
	return h;
}

static uint8_t norm_family(uint8_t f)
{
	return f == EC_AF_INET || f == EC_AF_INET6 ? f : EC_AF_UNKNOWN;
}

static size_t addr_len(uint8_t family)
{
	return family == EC_AF_INET ? 4 : family == EC_AF_INET6 ? 16 : 0;
}

/* The packet endpoints of an event's connection: its own for a known family,
 * RFC 5737 documentation addresses (never a real host) and ports derived from
 * conn_id for an unknown one. Side 0 is the event's local end. */
static void packet_ends(const struct ec_rec_hdr *h, uint8_t *ipver, uint8_t a[2][16], uint16_t p[2])
{
	uint8_t fam = norm_family(h->family);

	memset(a, 0, 32);
	p[0] = h->lport;
	p[1] = h->rport;
	if (fam != EC_AF_UNKNOWN) {
		*ipver = fam == EC_AF_INET ? 4 : 6;
		memcpy(a[0], h->laddr, addr_len(fam));
		memcpy(a[1], h->raddr, addr_len(fam));
		return;
	}
	uint64_t m = mix64(h->conn_id);

	*ipver = 4;
	a[0][0] = 192, a[0][1] = 0, a[0][2] = 2, a[0][3] = (uint8_t)(1 + m % 254);
	a[1][0] = 198, a[1][1] = 51, a[1][2] = 100, a[1][3] = (uint8_t)(1 + (m >> 8) % 254);
	if (!p[0])
		p[0] = (uint16_t)(49152 + (m >> 16) % 16384);
	if (!p[1])
		p[1] = (uint16_t)(1024 + (m >> 32) % 31744);
}

static int end_cmp(uint8_t ipver, const uint8_t *a, uint16_t ap, const uint8_t *b, uint16_t bp)
{
	int c = memcmp(a, b, ipver == 4 ? 4 : 16);

	return c ? c : (int)ap - (int)bp;
}

/* Hash of the connection an event belongs to: the unordered pair of packet
 * endpoints (both ends' views of one loopback connection hash alike), plus
 * conn_id for an unknown family (its addresses are made up). */
static uint32_t pair_hash(uint8_t fam, uint64_t conn_id, uint8_t ipver, uint8_t a[2][16],
			  const uint16_t p[2])
{
	int lo = end_cmp(ipver, a[0], p[0], a[1], p[1]) <= 0 ? 0 : 1;
	size_t al = ipver == 4 ? 4 : 16;
	uint32_t x = fnv1a(2166136261u, &fam, 1);

	if (fam == EC_AF_UNKNOWN)
		x = fnv1a(x, &conn_id, sizeof(conn_id));
	x = fnv1a(x, a[lo], al);
	x = fnv1a(x, &p[lo], 2);
	x = fnv1a(x, a[!lo], al);
	return fnv1a(x, &p[!lo], 2);
}

/* Which side of c an event's local end is: 0, 1, or -1 if c is another
 * connection. */
static int conn_side(const struct wconn *c, uint8_t fam, uint64_t conn_id, uint8_t ipver,
		     uint8_t a[2][16], const uint16_t p[2])
{
	int s;

	if (c->family != fam || c->ipver != ipver || (fam == EC_AF_UNKNOWN && c->unk_id != conn_id))
		return -1;
	for (s = 0; s < 2; s++)
		if (!end_cmp(ipver, c->side[s].addr, c->side[s].port, a[0], p[0]) &&
		    !end_cmp(ipver, c->side[!s].addr, c->side[!s].port, a[1], p[1]))
			return s;
	return -1;
}

/* The connection of h and the side its local end is on. A view of a side
 * another socket already holds (conn_id differs) is a new connection on a
 * reused 4-tuple; *pp is then the slot of the old one. */
static struct wconn **conn_find(struct pcapng_writer *w, const struct ec_rec_hdr *h, int *side)
{
	uint8_t fam = norm_family(h->family), ipver, a[2][16];
	uint16_t p[2];
	struct wconn **pp;

	packet_ends(h, &ipver, a, p);
	pp = &w->tab[pair_hash(fam, h->conn_id, ipver, a, p) & (w->tab_size - 1)];
	for (; *pp; pp = &(*pp)->next) {
		int s = conn_side(*pp, fam, h->conn_id, ipver, a, p);

		if (s >= 0) {
			*side = s;
			return pp;
		}
	}
	*side = 0;
	return pp;
}

static int conn_table_grow(struct pcapng_writer *w)
{
	size_t n = w->tab_size * 2, i;
	struct wconn **t = calloc(n, sizeof(*t));

	if (!t)
		return werr(w, -ENOMEM, "out of memory for the connection table");
	for (i = 0; i < w->tab_size; i++) {
		struct wconn *c = w->tab[i], *next;

		for (; c; c = next) {
			uint8_t a[2][16];
			uint16_t p[2] = {c->side[0].port, c->side[1].port};

			next = c->next;
			memcpy(a[0], c->side[0].addr, 16);
			memcpy(a[1], c->side[1].addr, 16);
			size_t b = pair_hash(c->family, c->unk_id, c->ipver, a, p) & (n - 1);

			c->next = t[b];
			t[b] = c;
		}
	}
	free(w->tab);
	w->tab = t;
	w->tab_size = n;
	return 0;
}

/* Initial sequence number of the direction src -> dst. */
static uint32_t isn_of(uint8_t ipver, const uint8_t *src, uint16_t sport, const uint8_t *dst,
		       uint16_t dport)
{
	size_t al = ipver == 4 ? 4 : 16;
	uint32_t x = fnv1a(2166136261u, &ipver, 1);

	x = fnv1a(x, src, al);
	x = fnv1a(x, &sport, 2);
	x = fnv1a(x, dst, al);
	x = fnv1a(x, &dport, 2);
	return (uint32_t)mix64(x);
}

/* Listening TCP ports of this network namespace (/proc/net/tcp and tcp6, state
 * 0A), read when a connection's roles are not known otherwise, at most once a
 * second. */
static void load_listeners(struct pcapng_writer *w)
{
	static const char *const files[] = {"/proc/net/tcp", "/proc/net/tcp6"};
	struct timespec now;
	uint64_t ns;
	size_t i;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ns = (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
	if (w->listen_loaded_ns && ns - w->listen_loaded_ns < 1000000000u)
		return;
	w->listen_loaded_ns = ns;
	memset(w->listening, 0, sizeof(w->listening));
	for (i = 0; i < 2; i++) {
		FILE *f = fopen(files[i], "re");
		char line[512];

		if (!f)
			continue;
		while (fgets(line, sizeof(line), f)) {
			unsigned port, st;
			char *colon = strchr(line, ':'), *lport;

			/* "  sl: local_address:PORT rem_address:PORT st ..." */
			if (!colon || !(lport = strchr(colon + 1, ':')))
				continue;
			if (sscanf(lport + 1, "%x %*s %x", &port, &st) == 2 && st == 0x0A &&
			    port < 65536)
				w->listening[port / 64] |= 1ull << (port % 64);
		}
		fclose(f);
	}
}

static int is_listening(const struct pcapng_writer *w, uint16_t port)
{
	return (w->listening[port / 64] >> (port % 64)) & 1;
}

/* Which side connected (sends the SYN): a role given by
 * pcapng_writer_set_role(), else the side whose port is not a listening port
 * while the other's is, else pcapng_port_server(), else the first sender. */
static int client_side(struct pcapng_writer *w, const struct wconn *c, int first_sender)
{
	uint16_t p0 = c->side[0].port, p1 = c->side[1].port;
	int r;

	if (c->client >= 0)
		return c->client;
	if (c->family != EC_AF_UNKNOWN) {
		load_listeners(w);
		if (is_listening(w, p0) != is_listening(w, p1))
			return is_listening(w, p0) ? 1 : 0;
	}
	r = pcapng_port_server(p0, p1);
	if (r)
		return r > 0 ? 1 : 0;
	return first_sender;
}

static struct wconn *conn_new(struct pcapng_writer *w, const struct ec_rec_hdr *h)
{
	struct wconn *c = calloc(1, sizeof(*c));
	uint8_t a[2][16];
	uint16_t p[2];
	int s;

	if (!c) {
		werr(w, -ENOMEM, "out of memory for a connection");
		return NULL;
	}
	c->family = norm_family(h->family);
	c->unk_id = c->family == EC_AF_UNKNOWN ? h->conn_id : 0;
	packet_ends(h, &c->ipver, a, p);
	for (s = 0; s < 2; s++) {
		struct wside *d = &c->side[s];

		memcpy(d->addr, a[s], 16);
		d->port = p[s];
		d->real_port = s ? h->rport : h->lport;
		d->isn = isn_of(c->ipver, a[s], p[s], a[!s], p[!s]);
		d->next_seq = d->isn;
		d->ipid = (uint16_t)d->isn;
		d->win = 65535;
	}
	c->client = -1;
	return c;
}

/* The header of side s's process for comments, or NULL if not seen. */
static const struct ec_rec_hdr *side_hdr(const struct wconn *c, int s)
{
	return c->side[s].seen ? &c->side[s].last : NULL;
}

/* The comment of a packet without data from side s: its process, else (one
 * end captured) the other end's. */
static void ctl_comment(const struct wconn *c, int s, char *cm, size_t len);

/* ---- packets ---- */

static uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* Escape comm for a comment line: printable ASCII as is, the rest \xHH, a
 * backslash doubled, so the reader restores any byte. */
static void escape_comm(const char *comm, char *out, size_t outlen)
{
	size_t i, o = 0, n = strnlen(comm, EC_COMM_LEN);

	for (i = 0; i < n && o + 5 < outlen; i++) {
		unsigned char ch = (unsigned char)comm[i];

		if (ch == '\\') {
			out[o++] = '\\';
			out[o++] = '\\';
		} else if (ch < 0x20 || ch >= 0x7f) {
			o += (size_t)snprintf(out + o, outlen - o, "\\x%02x", ch);
		} else {
			out[o++] = (char)ch;
		}
	}
	out[o] = '\0';
}

struct cbuf {
	char *p;
	size_t len, n;
};

static void cb_printf(struct cbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void cb_printf(struct cbuf *b, const char *fmt, ...)
{
	va_list ap;
	int k;

	if (b->n >= b->len)
		return;
	va_start(ap, fmt);
	k = vsnprintf(b->p + b->n, b->len - b->n, fmt, ap);
	va_end(ap);
	if (k > 0)
		b->n = b->n + (size_t)k < b->len ? b->n + (size_t)k : b->len - 1;
}

/* The comment of a packet: the event's (or for packets without one, side
 * owner's) header, the data lines, then the peer process as "Peer PID:" and
 * "Peer Cmd:" lines when the other end was captured too. */
static void format_comment(const struct wconn *c, const struct ec_rec_hdr *h,
			   const struct ec_rec_hdr *peer, const struct wmark *m, char *buf,
			   size_t len)
{
	char comm[EC_COMM_LEN * 4 + 1];
	struct cbuf b = {buf, len, 0};

	buf[0] = '\0';
	if (h) {
		escape_comm(h->comm, comm, sizeof(comm));
		cb_printf(&b,
			  "PID: %" PRIu32 "\nCmd: %s\nUID: %" PRIu32 "\nSource: %s\nTID: %" PRIu32
			  "\nFD: %" PRId32 "\nConn: 0x%" PRIx64 "\n",
			  h->pid, comm, h->uid, ec_source_name(h->source), h->tid, h->fd,
			  (uint64_t)h->conn_id);
	}
	if (h && m) {
		cb_printf(&b, "Dir: %s\n", ec_dir_name(h->dir));
		if (h->flags)
			cb_printf(&b, "Flags: 0x%x\n", h->flags);
		if (h->call_id)
			cb_printf(&b, "Call: %" PRIu64 "\n", (uint64_t)h->call_id);
		if (h->aux)
			cb_printf(&b, "Aux: %" PRIu32 "\n", h->aux);
		if (m->parts > 1)
			cb_printf(&b, "Part: %u/%u\n", m->part, m->parts);
		if (m->ts_ns != h->ts_ns)
			cb_printf(&b, "Time: %" PRIu64 "\n", (uint64_t)h->ts_ns);
		if (m->prefix)
			cb_printf(&b, "Prefix: %" PRIu32 "\n", m->prefix);
		if (m->covered)
			cb_printf(&b, "Bytes: %" PRIu64 "+%" PRIu32 "\n", m->off, h->len);
	}
	if (h && c->family == EC_AF_UNKNOWN)
		cb_printf(&b, "Family: unknown\nLPort: %u\nRPort: %u\n", h->lport, h->rport);
	if (peer && (!h || peer->pid != h->pid || peer->conn_id != h->conn_id)) {
		escape_comm(peer->comm, comm, sizeof(comm));
		cb_printf(&b, "Peer PID: %" PRIu32 "\nPeer Cmd: %s\n", peer->pid, comm);
	}
}

static void hint_packet(struct pcapng_writer *w, struct wconn *c, int s, const uint8_t *p, size_t n,
			uint64_t ts_ns);

/* One TCP/IP packet from side s of c as an Enhanced Packet Block (section
 * 4.3) with the comment and epb_flags (outbound when the saving end sent it). */
static int write_packet(struct pcapng_writer *w, struct wconn *c, int s, uint8_t flags,
			const uint8_t *payload, size_t plen, uint64_t ts_ns, const char *comment,
			int outbound)
{
	struct wside *me = &c->side[s], *peer = &c->side[!s];
	const uint8_t *src = me->addr, *dst = peer->addr;
	uint32_t seq = me->next_seq, ack = peer->next_seq;
	size_t iphl = c->ipver == 4 ? 20 : 40;
	size_t tcphl = (flags & PNG_TCP_SYN) ? 28 : 20;
	uint8_t *ip = w->pkt, *tcp = w->pkt + iphl;
	size_t total = iphl + tcphl + plen;
	uint32_t sum;

	/* Time never runs backwards in the file. */
	if (ts_ns < w->last_ts)
		ts_ns = w->last_ts;
	w->last_ts = ts_ns;
	/* A packet with nothing new (no data, no SYN/FIN, the same ack as this
	 * side's last) changes the window: a window update, not a duplicate ACK. */
	if (!plen && !(flags & (PNG_TCP_SYN | PNG_TCP_FIN)) && me->acked && me->last_ack == ack)
		me->win = me->win == 65535 ? 65534 : 65535;
	me->acked = (flags & PNG_TCP_ACK) != 0;
	me->last_ack = ack;
	memset(w->pkt, 0, iphl + tcphl);
	if (c->ipver == 4) {
		/* RFC 791 section 3.1 */
		ip[0] = 0x45;
		pcapng_put16be(ip + 2, (uint16_t)total);
		pcapng_put16be(ip + 4, me->ipid++);
		ip[6] = 0x40; /* DF */
		ip[8] = 64;
		ip[9] = 6;
		memcpy(ip + 12, src, 4);
		memcpy(ip + 16, dst, 4);
		pcapng_put16be(ip + 10, csum_fold(csum_add(0, ip, 20)));
	} else {
		/* RFC 8200 section 3 */
		ip[0] = 0x60;
		pcapng_put16be(ip + 4, (uint16_t)(tcphl + plen));
		ip[6] = 6;
		ip[7] = 64;
		memcpy(ip + 8, src, 16);
		memcpy(ip + 24, dst, 16);
	}
	/* RFC 9293 section 3.1 */
	pcapng_put16be(tcp, me->port);
	pcapng_put16be(tcp + 2, peer->port);
	pcapng_put32be(tcp + 4, seq);
	pcapng_put32be(tcp + 8, (flags & PNG_TCP_ACK) ? ack : 0);
	tcp[12] = (uint8_t)((tcphl / 4) << 4);
	tcp[13] = flags;
	pcapng_put16be(tcp + 14, me->win);
	if (flags & PNG_TCP_SYN) {
		/* MSS of the loopback MTU, NOP, window scale 7 (RFC 7323 section 2):
		 * without scaling, 200 KB sent before the peer's next packet would be
		 * flagged by Wireshark as beyond the window. */
		tcp[20] = 2, tcp[21] = 4;
		pcapng_put16be(tcp + 22, 65495);
		tcp[24] = 1;
		tcp[25] = 3, tcp[26] = 3, tcp[27] = 7;
	}
	if (plen)
		memcpy(tcp + tcphl, payload, plen);
	if (plen && w->hints)
		hint_packet(w, c, s, payload, plen, ts_ns);
	/* Pseudo-header: RFC 9293 section 3.1 (IPv4), RFC 8200 section 8.1 (IPv6). */
	{
		uint8_t ph[40];
		size_t phl;

		if (c->ipver == 4) {
			memcpy(ph, src, 4);
			memcpy(ph + 4, dst, 4);
			ph[8] = 0;
			ph[9] = 6;
			pcapng_put16be(ph + 10, (uint16_t)(tcphl + plen));
			phl = 12;
		} else {
			memcpy(ph, src, 16);
			memcpy(ph + 16, dst, 16);
			pcapng_put32be(ph + 32, (uint32_t)(tcphl + plen));
			ph[36] = ph[37] = ph[38] = 0;
			ph[39] = 6;
			phl = 40;
		}
		sum = csum_add(0, ph, phl);
		sum = csum_add(sum, tcp, tcphl + plen);
		pcapng_put16be(tcp + 16, csum_fold(sum));
	}
	me->next_seq += (uint32_t)plen + ((flags & (PNG_TCP_SYN | PNG_TCP_FIN)) ? 1 : 0);

	if (blk_begin(w, PNG_BT_EPB) || blk_u32(w, 0) || blk_u32(w, (uint32_t)(ts_ns >> 32)) ||
	    blk_u32(w, (uint32_t)ts_ns) || blk_u32(w, (uint32_t)total) ||
	    blk_u32(w, (uint32_t)total) || blk_put(w, w->pkt, total) || blk_pad(w))
		return w->error;
	if (comment && *comment && blk_opt_str(w, PNG_OPT_COMMENT, comment))
		return w->error;
	{
		uint8_t fl[4];

		/* epb_flags bits 0-1: 01 inbound, 10 outbound (section 4.3.1). */
		pcapng_put32(fl, outbound ? 2 : 1);
		if (blk_opt(w, PNG_EPB_FLAGS, fl, 4))
			return w->error;
	}
	if (blk_opt(w, PNG_OPT_END, NULL, 0) || blk_end(w))
		return w->error;
	w->st.packets++;
	return 0;
}

static void ctl_comment(const struct wconn *c, int s, char *cm, size_t len)
{
	const struct ec_rec_hdr *me = side_hdr(c, s), *other = side_hdr(c, !s);

	format_comment(c, me ? me : other, me ? other : NULL, NULL, cm, len);
}

/* SYN, SYN-ACK, ACK from the client side, before the connection's first
 * packet. The comments name each sender's process where it was captured. */
static int write_handshake(struct pcapng_writer *w, struct wconn *c, int first_sender,
			   uint64_t ts_ns)
{
	char cm[640];
	int cl, sv;

	if (c->closed)
		w->st.connections++; /* the 4-tuple again after a close */
	c->client = client_side(w, c, first_sender);
	cl = c->client;
	sv = !cl;
	c->open = 1;
	ctl_comment(c, cl, cm, sizeof(cm));
	if (write_packet(w, c, cl, PNG_TCP_SYN, NULL, 0, ts_ns, cm, c->side[cl].seen))
		return w->error;
	ctl_comment(c, sv, cm, sizeof(cm));
	if (write_packet(w, c, sv, PNG_TCP_SYN | PNG_TCP_ACK, NULL, 0, ts_ns, cm, c->side[sv].seen))
		return w->error;
	ctl_comment(c, cl, cm, sizeof(cm));
	return write_packet(w, c, cl, PNG_TCP_ACK, NULL, 0, ts_ns, cm, c->side[cl].seen);
}

/* FIN from side first, FIN from the other, the last ACK. */
static int fin_from(struct pcapng_writer *w, struct wconn *c, int s, uint64_t ts_ns)
{
	char cm[640];

	ctl_comment(c, s, cm, sizeof(cm));
	c->fin[s] = 1;
	return write_packet(w, c, s, PNG_TCP_FIN | PNG_TCP_ACK, NULL, 0, ts_ns, cm,
			    c->side[s].seen);
}

/* Close: FIN from side first (unless it sent one already), FIN from the
 * other, the last ACK from first. */
static int write_fin(struct pcapng_writer *w, struct wconn *c, int first, uint64_t ts_ns)
{
	char cm[640];

	if (!c->open)
		return 0;
	if (!c->fin[first] && fin_from(w, c, first, ts_ns))
		return w->error;
	if (!c->fin[!first] && fin_from(w, c, !first, ts_ns))
		return w->error;
	c->open = 0;
	c->closed = 1;
	ctl_comment(c, first, cm, sizeof(cm));
	return write_packet(w, c, first, PNG_TCP_ACK, NULL, 0, ts_ns, cm, c->side[first].seen);
}

/* Side s's process exited: its FIN now. The other side, if its process was
 * captured, may still send (a server answering a last command); it closes
 * once idle for HC_IDLE_NS, when its process exits, or at the end. */
static int half_close(struct pcapng_writer *w, struct wconn *c, int s, uint64_t ts_ns)
{
	if (!c->open || c->fin[s])
		return 0;
	if (!c->side[!s].seen || c->fin[!s])
		return write_fin(w, c, s, ts_ns);
	if (fin_from(w, c, s, ts_ns))
		return w->error;
	if (!c->in_hc) {
		c->in_hc = 1;
		c->hc_next = w->hc;
		w->hc = c;
	}
	return 0;
}

/* Close the half-closed connections idle since before now_ns. */
static int hc_check(struct pcapng_writer *w, uint64_t now_ns)
{
	struct wconn **pp = &w->hc;

	while (*pp && !w->error) {
		struct wconn *c = *pp;

		if (c->open && c->last_act_ns + HC_IDLE_NS > now_ns) {
			pp = &c->hc_next;
			continue;
		}
		*pp = c->hc_next;
		c->in_hc = 0;
		if (c->open)
			write_fin(w, c, c->fin[0] ? 1 : 0, now_ns);
	}
	return w->error;
}

static void conn_unlink(struct pcapng_writer *w, struct wconn **pp)
{
	struct wconn *c = *pp, **hp;

	for (hp = &w->hc; c->in_hc && *hp; hp = &(*hp)->hc_next)
		if (*hp == c) {
			*hp = c->hc_next;
			break;
		}
	*pp = c->next;
	w->n_conns--;
	pcapng_hint_det_free(w->hints, c->hint);
	free(c->side[0].tail);
	free(c->side[1].tail);
	free(c);
}

static struct wconn *conn_register(struct pcapng_writer *w, const struct ec_rec_hdr *h, int *side);
static int pull_senders(struct pcapng_writer *w, struct wconn *c, int x, uint64_t end);
static int write_journal(struct pcapng_writer *w, const struct ec_event *ev);

#define TAIL_MAX (1u << 20)

/* Keep bytes just written to side d's direction, to check the other view. */
static int tail_add(struct pcapng_writer *w, struct wside *d, const uint8_t *p, size_t n)
{
	if (n >= TAIL_MAX) {
		p += n - TAIL_MAX / 2;
		n = TAIL_MAX / 2;
		d->tail_len = 0;
	}
	if (d->tail_len + n > TAIL_MAX) {
		size_t drop = d->tail_len + n - TAIL_MAX / 2;

		if (drop > d->tail_len)
			drop = d->tail_len;
		memmove(d->tail, d->tail + drop, d->tail_len - drop);
		d->tail_len -= drop;
	}
	if (d->tail_len + n > d->tail_cap) {
		size_t cap = d->tail_cap ? d->tail_cap : 4096;
		uint8_t *t;

		while (cap < d->tail_len + n)
			cap *= 2;
		if (!(t = realloc(d->tail, cap)))
			return werr(w, -ENOMEM, "out of memory");
		d->tail = t;
		d->tail_cap = cap;
	}
	memcpy(d->tail + d->tail_len, p, n);
	d->tail_len += n;
	return 0;
}

/* Whether bytes [start, start + n) of side d's direction, already written,
 * are p: the two ends' views can differ (one end's bytes were read below the
 * TLS library, or lost), and then the view is kept apart. */
static int tail_same(const struct wside *d, uint64_t start, const uint8_t *p, size_t n)
{
	uint64_t first = d->wrote - d->tail_len;

	return start >= first && start + n <= d->wrote && !memcmp(d->tail + (start - first), p, n);
}

/* A data event leaving the reorder window. The bytes of one direction are
 * written once, whichever view (the sender's send or the receiver's recv)
 * brings them first; a view whose bytes were all written already becomes a
 * packet without payload from its own side, its comment naming the stream
 * range ("Bytes: OFFSET+LEN"), so the reader restores it exactly. */
static int write_data(struct pcapng_writer *w, const struct ec_event *ev)
{
	const struct ec_rec_hdr *h = &ev->h;
	struct wconn **pp, *c;
	int s, send = h->dir == EC_DIR_SEND, x, covered;
	uint64_t start, end, *posp;
	char cm[1024];

	pp = conn_find(w, h, &s);
	c = *pp;
	if (c && c->side[s].seen && c->side[s].conn_id != h->conn_id) {
		/* Another socket on this 4-tuple: the old connection is over. */
		if (write_fin(w, c, s, h->ts_ns))
			return w->error;
		conn_unlink(w, pp);
		c = NULL;
	}
	if (!c && !(c = conn_register(w, h, &s)))
		return w->error;
	c->side[s].last = *h;
	c->side[s].last.len = 0;
	if (send && c->side[s].held_sends)
		c->side[s].held_sends--;
	if (h->ts_ns > c->last_act_ns)
		c->last_act_ns = h->ts_ns;
	x = send ? s : !s; /* the side the bytes come from */
	posp = send ? &c->side[s].pos_send : &c->side[s].pos_recv;
	start = *posp;
	end = start + h->len;
	if (!send && end > c->side[x].wrote && c->side[x].held_sends && pull_senders(w, c, x, end))
		return w->error;
	*posp = end;
	covered = h->len && end <= c->side[x].wrote;
	if (start < c->side[x].wrote &&
	    !tail_same(&c->side[x], start, ev->data,
		       (size_t)((end < c->side[x].wrote ? end : c->side[x].wrote) - start))) {
		/* This view differs from the bytes written: it is saved as it is,
		 * as a journal entry, and its new bytes continue the stream. */
		char cm[640];

		if (write_journal(w, ev))
			return w->error;
		if (end <= c->side[x].wrote)
			return 0;
		size_t skip = (size_t)(c->side[x].wrote - start);

		if (!c->open && write_handshake(w, c, x, h->ts_ns))
			return w->error;
		for (size_t off = skip; off < h->len; off += PCAPNG_MAX_SEG) {
			size_t k = h->len - off < PCAPNG_MAX_SEG ? h->len - off : PCAPNG_MAX_SEG;

			ctl_comment(c, x, cm, sizeof(cm));
			if (write_packet(w, c, x, PNG_TCP_PSH | PNG_TCP_ACK, ev->data + off, k,
					 h->ts_ns, cm, send) ||
			    tail_add(w, &c->side[x], ev->data + off, k))
				return w->error;
			c->side[x].wrote += k;
		}
		return 0;
	}
	/* A late view of bytes written before the FIN does not reopen. */
	if (!c->open && !(covered && c->closed) && write_handshake(w, c, x, h->ts_ns))
		return w->error;
	if (!covered) {
		uint32_t prefix =
		    (uint32_t)(c->side[x].wrote > start ? c->side[x].wrote - start : 0);
		uint32_t n = h->len - prefix;
		unsigned parts = n ? (n + PCAPNG_MAX_SEG - 1) / PCAPNG_MAX_SEG : 1, i;

		for (i = 0; i < parts; i++) {
			size_t off = (size_t)i * PCAPNG_MAX_SEG;
			size_t k = n - off < PCAPNG_MAX_SEG ? n - off : PCAPNG_MAX_SEG;
			struct wmark m = {.part = i + 1,
					  .parts = parts,
					  .ts_ns = h->ts_ns < w->last_ts ? w->last_ts : h->ts_ns,
					  .prefix = i ? 0 : prefix};

			format_comment(c, h, side_hdr(c, !s), &m, cm, sizeof(cm));
			if (write_packet(w, c, x, PNG_TCP_PSH | PNG_TCP_ACK,
					 ev->data + prefix + off, k, h->ts_ns, cm, send))
				return w->error;
			if (c->side[!x].seen &&
			    tail_add(w, &c->side[x], ev->data + prefix + off, k))
				return w->error;
		}
		c->side[x].wrote = end;
		return 0;
	}
	/* Every byte of this view is in the file already. */
	struct wmark m = {
	    .ts_ns = h->ts_ns < w->last_ts ? w->last_ts : h->ts_ns, .covered = 1, .off = start};

	format_comment(c, h, side_hdr(c, !s), &m, cm, sizeof(cm));
	return write_packet(w, c, s, PNG_TCP_ACK, NULL, 0, h->ts_ns, cm, 1);
}

/* A process exited: its connections end here (FIN from its side). */
static int close_pid(struct pcapng_writer *w, uint32_t pid, uint64_t ts_ns)
{
	size_t i;
	int s;

	for (i = 0; i < w->tab_size; i++) {
		struct wconn *c;

		for (c = w->tab[i]; c; c = c->next)
			for (s = 0; s < 2; s++)
				if (c->open && c->side[s].seen && c->side[s].last.pid == pid) {
					if (half_close(w, c, s, ts_ns))
						return w->error;
					break;
				}
	}
	return 0;
}

/* ---- journal export blocks ---- */

static int text_ok(const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((p[i] < 0x20 && p[i] != '\t') || p[i] == 0x7f)
			return 0;
	return 1;
}

/* One field of the Journal Export Format: NAME=value\n, or where the value is
 * not a line of text, NAME\n, a 64-bit little-endian length, the bytes, \n. */
static int jfield(struct pcapng_writer *w, const char *name, const void *v, size_t n)
{
	if (text_ok(v, n)) {
		if (blk_put(w, name, strlen(name)) || blk_put(w, "=", 1) || blk_put(w, v, n))
			return w->error;
	} else {
		uint8_t le[8];
		uint64_t len = n;
		int i;

		for (i = 0; i < 8; i++)
			le[i] = (uint8_t)(len >> (8 * i));
		if (blk_put(w, name, strlen(name)) || blk_put(w, "\n", 1) || blk_put(w, le, 8) ||
		    blk_put(w, v, n))
			return w->error;
	}
	return blk_put(w, "\n", 1);
}

static int jfieldf(struct pcapng_writer *w, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int jfieldf(struct pcapng_writer *w, const char *name, const char *fmt, ...)
{
	char buf[128];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if ((size_t)n >= sizeof(buf))
		n = sizeof(buf) - 1;
	return jfield(w, name, buf, (size_t)n);
}

static void hex16(const uint8_t *a, char *out)
{
	int i;

	for (i = 0; i < 16; i++)
		sprintf(out + 2 * i, "%02x", a[i]);
}

static int write_journal(struct pcapng_writer *w, const struct ec_event *ev)
{
	const struct ec_rec_hdr *h = &ev->h;
	char la[33], ra[33];

	if ((uint64_t)h->len + 4096 > PCAPNG_MAX_BLOCK)
		return werr(w, -EMSGSIZE, "a %s event of %" PRIu32 " bytes is too large to save",
			    ec_kind_name(h->kind), h->len);
	/* Wireshark shows the block at __REALTIME_TIMESTAMP (microseconds): never
	 * before the packet written last (ECAPTOP_TS_NS keeps the exact time). */
	uint64_t us = ((h->ts_ns > w->last_ts ? h->ts_ns : w->last_ts) + 999) / 1000;

	if (us * 1000 > w->last_ts)
		w->last_ts = us * 1000;
	hex16(h->laddr, la);
	hex16(h->raddr, ra);
	if (blk_begin(w, PNG_BT_JOURNAL) || jfieldf(w, "__REALTIME_TIMESTAMP", "%" PRIu64, us) ||
	    jfieldf(w, "_PID", "%" PRIu32, h->pid) || jfieldf(w, "_UID", "%" PRIu32, h->uid) ||
	    jfield(w, "_COMM", h->comm, strnlen(h->comm, EC_COMM_LEN)) ||
	    jfield(w, "SYSLOG_IDENTIFIER", "ecaptop", 7) ||
	    jfield(w, "MESSAGE", ev->data, h->len) ||
	    jfieldf(w, "ECAPTOP_KIND", "%s", ec_kind_name(h->kind)) ||
	    jfieldf(w, "ECAPTOP_SOURCE", "%s", ec_source_name(h->source)) ||
	    jfieldf(w, "ECAPTOP_TS_NS", "%" PRIu64, (uint64_t)h->ts_ns) ||
	    jfieldf(w, "ECAPTOP_TID", "%" PRIu32, h->tid) ||
	    jfieldf(w, "ECAPTOP_FD", "%" PRId32, h->fd) ||
	    jfieldf(w, "ECAPTOP_AUX", "%" PRIu32, h->aux) ||
	    jfieldf(w, "ECAPTOP_FLAGS", "%u", h->flags) ||
	    jfieldf(w, "ECAPTOP_DIR", "%u", h->dir) ||
	    jfieldf(w, "ECAPTOP_FAMILY", "%u", h->family) ||
	    jfieldf(w, "ECAPTOP_LADDR", "%s", la) || jfieldf(w, "ECAPTOP_RADDR", "%s", ra) ||
	    jfieldf(w, "ECAPTOP_LPORT", "%u", h->lport) ||
	    jfieldf(w, "ECAPTOP_RPORT", "%u", h->rport) ||
	    jfieldf(w, "ECAPTOP_CONN_ID", "%" PRIu64, (uint64_t)h->conn_id) ||
	    jfieldf(w, "ECAPTOP_CALL_ID", "%" PRIu64, (uint64_t)h->call_id) || blk_end(w))
		return w->error;
	return 0;
}

static int write_stats_block(struct pcapng_writer *w, const struct pcapng_meta *m, uint64_t ts_ns)
{
	char msg[512];
	int n;

	n = snprintf(msg, sizeof(msg),
		     "ecaptop statistics: %" PRIu64 " events, %" PRIu64 " bytes captured; lost: "
		     "reserve=%" PRIu64 " read=%" PRIu64 " trunc=%" PRIu64 " perf=%" PRIu64
		     " queue=%" PRIu64 " malformed=%" PRIu64 " alloc=%" PRIu64 " evicted=%" PRIu64
		     "; saved %" PRIu64 " events, %" PRIu64 " connections",
		     m->events, m->bytes, m->lost.reserve, m->lost.read, m->lost.trunc,
		     m->lost.perf, m->lost.queue, m->lost.malformed, m->lost.alloc, m->evicted,
		     w->st.events, w->st.connections);
	if (n < 0)
		n = 0;
	if ((size_t)n >= sizeof(msg))
		n = sizeof(msg) - 1;
	if (blk_begin(w, PNG_BT_JOURNAL) ||
	    jfieldf(w, "__REALTIME_TIMESTAMP", "%" PRIu64, ts_ns / 1000) ||
	    jfieldf(w, "_PID", "%d", (int)getpid()) ||
	    jfieldf(w, "_UID", "%u", (unsigned)getuid()) || jfield(w, "_COMM", "ecaptop", 7) ||
	    jfield(w, "SYSLOG_IDENTIFIER", "ecaptop", 7) || jfield(w, "MESSAGE", msg, (size_t)n) ||
	    jfield(w, "ECAPTOP_KIND", "stats", 5) ||
	    jfield(w, "ECAPTOP_FILTER", m->filter ? m->filter : "",
		   m->filter ? strlen(m->filter) : 0) ||
	    jfieldf(w, "ECAPTOP_EVENTS", "%" PRIu64, m->events) ||
	    jfieldf(w, "ECAPTOP_BYTES", "%" PRIu64, m->bytes) ||
	    jfieldf(w, "ECAPTOP_LOST_RESERVE", "%" PRIu64, m->lost.reserve) ||
	    jfieldf(w, "ECAPTOP_LOST_READ", "%" PRIu64, m->lost.read) ||
	    jfieldf(w, "ECAPTOP_LOST_TRUNC", "%" PRIu64, m->lost.trunc) ||
	    jfieldf(w, "ECAPTOP_LOST_PERF", "%" PRIu64, m->lost.perf) ||
	    jfieldf(w, "ECAPTOP_LOST_QUEUE", "%" PRIu64, m->lost.queue) ||
	    jfieldf(w, "ECAPTOP_LOST_MALFORMED", "%" PRIu64, m->lost.malformed) ||
	    jfieldf(w, "ECAPTOP_LOST_ALLOC", "%" PRIu64, m->lost.alloc) ||
	    jfieldf(w, "ECAPTOP_EVICTED", "%" PRIu64, m->evicted) || blk_end(w))
		return w->error;
	return 0;
}

/* ---- the reorder window ---- */

static int held_before(const struct held *a, const struct held *b)
{
	return a->ts != b->ts ? a->ts < b->ts : a->order < b->order;
}

static int held_push(struct pcapng_writer *w, struct ec_event *ev, int close)
{
	size_t i;

	if (w->n_held == w->cap_held) {
		size_t cap = w->cap_held ? w->cap_held * 2 : 256;
		struct held *hp = realloc(w->heap, cap * sizeof(*hp));

		if (!hp)
			return werr(w, -ENOMEM, "out of memory holding an event");
		w->heap = hp;
		w->cap_held = cap;
	}
	i = w->n_held++;
	w->heap[i] = (struct held){ev->h.ts_ns, w->order++, close, ev};
	w->held_mem += sizeof(*ev) + ev->h.len;
	while (i) {
		size_t up = (i - 1) / 2;
		struct held t;

		if (!held_before(&w->heap[i], &w->heap[up]))
			break;
		t = w->heap[i];
		w->heap[i] = w->heap[up];
		w->heap[up] = t;
		i = up;
	}
	if (ev->h.ts_ns > w->newest_ts)
		w->newest_ts = ev->h.ts_ns;
	return 0;
}

static void held_swap(struct pcapng_writer *w, size_t a, size_t b)
{
	struct held t = w->heap[a];

	w->heap[a] = w->heap[b];
	w->heap[b] = t;
}

/* Take entry i out of the heap. */
static struct held held_take(struct pcapng_writer *w, size_t i)
{
	struct held top = w->heap[i];

	w->heap[i] = w->heap[--w->n_held];
	while (i && i < w->n_held && held_before(&w->heap[i], &w->heap[(i - 1) / 2])) {
		held_swap(w, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;

		if (l < w->n_held && held_before(&w->heap[l], &w->heap[m]))
			m = l;
		if (r < w->n_held && held_before(&w->heap[r], &w->heap[m]))
			m = r;
		if (m == i)
			break;
		held_swap(w, i, m);
		i = m;
	}
	w->held_mem -= sizeof(*top.ev) + top.ev->h.len;
	return top;
}

static struct held held_pop(struct pcapng_writer *w)
{
	return held_take(w, 0);
}

/* The side's end is finished: once every captured end is, the connection
 * closes (FIN from this side) at h's time. */
static int release_close(struct pcapng_writer *w, const struct ec_rec_hdr *h)
{
	int s;
	struct wconn *c = *conn_find(w, h, &s);

	if (!c)
		return 0;
	c->side[s].done = 1;
	if ((c->side[0].seen && !c->side[0].done) || (c->side[1].seen && !c->side[1].done))
		return 0;
	if (c->open && write_fin(w, c, s, h->ts_ns))
		return w->error;
	c->closed = 1;
	return 0;
}

/* Write one event taken out of the window, and free it. */
static int write_held(struct pcapng_writer *w, struct held e)
{
	int rc = 0;

	if (!w->error) {
		if (e.close)
			rc = release_close(w, &e.ev->h);
		else if (e.ev->h.kind == EC_K_DATA)
			rc = write_data(w, e.ev);
		else
			rc = write_journal(w, e.ev);
		if (!rc && e.ev->h.kind == EC_K_EXIT && !e.close)
			rc = close_pid(w, e.ev->h.pid, e.ev->h.ts_ns);
		if (!rc && !e.close) {
			w->st.events++;
			w->st.payload_bytes += e.ev->h.len;
		}
	}
	free(e.ev);
	return w->error;
}

static int release_one(struct pcapng_writer *w)
{
	uint64_t ts = w->heap[0].ts;

	if (write_held(w, held_pop(w)))
		return w->error;
	return w->hc ? hc_check(w, ts) : 0;
}

/* Bytes of side x's direction that a receiver's view brings first: write the
 * sender's own views of them first, if they wait in the window, so the data
 * packets carry the sender's process first and the receiver's view becomes
 * the payload-free one. */
static int pull_senders(struct pcapng_writer *w, struct wconn *c, int x, uint64_t end)
{
	while (c->side[x].wrote < end && c->side[x].held_sends && !w->error) {
		size_t i, best = SIZE_MAX;

		for (i = 0; i < w->n_held; i++) {
			const struct ec_rec_hdr *h = &w->heap[i].ev->h;
			int s;

			if (w->heap[i].close || h->kind != EC_K_DATA || h->dir != EC_DIR_SEND ||
			    (best != SIZE_MAX && w->heap[best].order < w->heap[i].order))
				continue;
			if (*conn_find(w, h, &s) == c && s == x && c->side[x].conn_id == h->conn_id)
				best = i;
		}
		if (best == SIZE_MAX)
			break;
		write_held(w, held_take(w, best));
	}
	return w->error;
}

/* Write what has left the window (all of it if all). */
static int release(struct pcapng_writer *w, int all)
{
	while (w->n_held && !w->error &&
	       (all || w->heap[0].ts + WINDOW_NS < w->newest_ts || w->n_held > HELD_MAX ||
		w->held_mem > HELD_MAX_MEM))
		release_one(w);
	return w->error;
}

/* The connection of h, created (without packets) if new; NULL on error. */
static struct wconn *conn_register(struct pcapng_writer *w, const struct ec_rec_hdr *h, int *side)
{
	struct wconn **pp, *c;

	if (w->n_conns >= w->tab_size * 2 && conn_table_grow(w))
		return NULL;
	pp = conn_find(w, h, side);
	c = *pp;
	if (!c) {
		c = conn_new(w, h);
		if (!c)
			return NULL;
		c->next = *pp;
		*pp = c;
		w->n_conns++;
		w->st.connections++;
		*side = 0;
	}
	if (!c->side[*side].seen) {
		c->side[*side].seen = 1;
		c->side[*side].conn_id = h->conn_id;
		c->side[*side].last = *h;
		c->side[*side].last.len = 0;
	}
	return c;
}

/* ---- the decode hint of a recording ---- */

/* Room for the hint in the SHB: PNG_HINT_MAX options of at most 25 bytes. */
#define HINT_ROOM 1024
/* A .gz recording's SHB is a gzip member of its own, one stored deflate block:
 * the gzip header (RFC 1952 section 2.3) and the block's header (RFC 1951
 * section 3.2.4) come before it. */
#define GZ_SHB_AT (10 + 5)

static const char hint_unknown[] =
    "Decode with: not known (the recording did not end cleanly; ecaptop writes the tshark "
    "-d options here when it ends)";

static void hint_packet(struct pcapng_writer *w, struct wconn *c, int s, const uint8_t *p, size_t n,
			uint64_t ts_ns)
{
	const uint16_t port[2] = {c->side[0].port, c->side[1].port};

	/* Out of memory costs the hint of this connection only. */
	if (pcapng_hint_feed(w->hints, &c->hint, s == 0, p, n, ts_ns, port, c->client) < 0)
		w->hints->dropped++;
}

/* The SHB comment the hint will be written into at close, filled with spaces. */
static int hint_reserve(struct pcapng_writer *w)
{
	char room[HINT_ROOM];

	memset(room, ' ', sizeof(room));
	memcpy(room, hint_unknown, sizeof(hint_unknown) - 1);
	w->hint_at = w->blk_len + 4;
	return blk_opt(w, PNG_OPT_COMMENT, room, sizeof(room));
}

static int write_all_at(int fd, const void *p, size_t n, off_t at)
{
	const uint8_t *b = p;

	while (n) {
		ssize_t k = at >= 0 ? pwrite(fd, b, n, at) : write(fd, b, n);

		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		b += k;
		n -= (size_t)k;
		if (at >= 0)
			at += k;
	}
	return 0;
}

static void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8), p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

/* Start the gzip output after the header blocks were built in w->out. With a
 * hint to rewrite, the SHB goes first as a gzip member of its own, stored (not
 * compressed), so that its bytes and its CRC can be rewritten in place at
 * close; the rest is a second member (readers of gzip take concatenated
 * members as one stream, RFC 1952 section 2.2). */
static int gz_start(struct pcapng_writer *w)
{
	size_t skip = 0;
	int gfd, rc;

	if (w->hint_at) {
		uint32_t len;
		uint8_t hd[GZ_SHB_AT] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 1}, tl[8];

		memcpy(&len, w->out + 4, 4);
		if (len > 0xffff || len > w->out_len || !(w->shb = malloc(len)))
			return werr(w, -ENOMEM, "cannot start gzip on %s", w->path);
		memcpy(w->shb, w->out, len);
		w->shb_len = len;
		hd[11] = (uint8_t)len, hd[12] = (uint8_t)(len >> 8);
		hd[13] = (uint8_t)~len, hd[14] = (uint8_t)(~len >> 8);
		put_le32(tl, (uint32_t)crc32(0L, w->shb, len));
		put_le32(tl + 4, len);
		if ((rc = write_all_at(w->fd, hd, sizeof(hd), -1)) ||
		    (rc = write_all_at(w->fd, w->shb, len, -1)) ||
		    (rc = write_all_at(w->fd, tl, sizeof(tl), -1)))
			return werr(w, rc, "writing %s: %s", w->path, strerror(-rc));
		skip = len;
	}
	/* gzdopen takes the fd; keep our own copy for fstat and the rewrite. */
	gfd = dup(w->fd);
	if (gfd < 0 || !(w->gz = gzdopen(gfd, "wb"))) {
		rc = gfd < 0 ? -errno : -ENOMEM;
		if (gfd >= 0)
			close(gfd);
		return werr(w, rc, "cannot start gzip on %s: %s", w->path, strerror(-rc));
	}
	gzbuffer(w->gz, OUTBUF);
	if (out_bytes(w, w->out + skip, w->out_len - skip))
		return w->error;
	free(w->out);
	w->out = NULL;
	w->out_len = 0;
	return 0;
}

/* At close, every byte written: the reserved SHB comment gets the hint (and a
 * .gz file's first member its new CRC). */
static int hint_rewrite(struct pcapng_writer *w)
{
	char room[HINT_ROOM + 1], opts[HINT_ROOM - 32];
	uint8_t crc[4];
	off_t base = w->shb ? GZ_SHB_AT : 0;
	int n, rc;

	if (!w->hints || !w->hint_at)
		return 0;
	pcapng_hint_format(w->hints, opts, sizeof(opts));
	snprintf(w->st.decode, sizeof(w->st.decode), "%s", opts);
	memset(room, ' ', sizeof(room));
	if (opts[0])
		n = snprintf(room, sizeof(room), "Decode with: tshark %s", opts);
	else
		n = snprintf(room, sizeof(room),
			     "Decode with: tshark, no -d options needed (no protocol found on a "
			     "port tshark does not know it by)");
	/* connections not looked at, pairs past the room: the hint is not all */
	if (n >= 0 && n < HINT_ROOM && w->hints->dropped)
		n += snprintf(room + n, sizeof(room) - (size_t)n,
			      " (incomplete: %" PRIu64 " connections or ports left out)",
			      w->hints->dropped);
	if (n >= 0 && n < HINT_ROOM)
		room[n] = ' ';
	if ((rc = write_all_at(w->fd, room, HINT_ROOM, base + (off_t)w->hint_at)))
		return werr(w, rc, "writing the header of %s: %s", w->path, strerror(-rc));
	if (!w->shb)
		return 0;
	memcpy(w->shb + w->hint_at, room, HINT_ROOM);
	put_le32(crc, (uint32_t)crc32(0L, w->shb, w->shb_len));
	if ((rc = write_all_at(w->fd, crc, 4, GZ_SHB_AT + (off_t)w->shb_len)))
		return werr(w, rc, "writing the header of %s: %s", w->path, strerror(-rc));
	return 0;
}

/* ---- section header ---- */

static int write_header(struct pcapng_writer *w, const struct pcapng_meta *m)
{
	static const struct pcapng_meta none;
	struct utsname u;
	char os[3 * sizeof(u.release) + 8], line[512];
	uint8_t tsres = 9;

	if (!m)
		m = &none;
	if (uname(&u) < 0)
		memset(&u, 0, sizeof(u));
	snprintf(os, sizeof(os), "%s %s %s", u.sysname, u.release, u.version);
	/* Section Header Block, section 4.1: magic, major 1, minor 0, section
	 * length -1 (not known: we stream). */
	if (blk_begin(w, PNG_BT_SHB) || blk_u32(w, PNG_BOM) || blk_u16(w, 1) || blk_u16(w, 0) ||
	    blk_u32(w, 0xffffffffu) || blk_u32(w, 0xffffffffu))
		return w->error;
	if (blk_opt_str(w, PNG_SHB_HARDWARE, m->hardware ? m->hardware : u.machine) ||
	    blk_opt_str(w, PNG_SHB_OS, os) ||
	    blk_opt_str(w, PNG_SHB_USERAPPL, PNG_USERAPPL_PREFIX " " ECAPTOP_VERSION))
		return w->error;
	snprintf(line, sizeof(line), "Capture filter: %s",
		 m->filter && *m->filter ? m->filter : "(none)");
	if (blk_opt_str(w, PNG_OPT_COMMENT, line))
		return w->error;
	snprintf(line, sizeof(line), "Captured: events=%" PRIu64 " bytes=%" PRIu64, m->events,
		 m->bytes);
	if (blk_opt_str(w, PNG_OPT_COMMENT, line))
		return w->error;
	snprintf(line, sizeof(line),
		 "Lost: reserve=%" PRIu64 " read=%" PRIu64 " trunc=%" PRIu64 " perf=%" PRIu64
		 " queue=%" PRIu64 " malformed=%" PRIu64 " alloc=%" PRIu64 " evicted=%" PRIu64,
		 m->lost.reserve, m->lost.read, m->lost.trunc, m->lost.perf, m->lost.queue,
		 m->lost.malformed, m->lost.alloc, m->evicted);
	if (blk_opt_str(w, PNG_OPT_COMMENT, line))
		return w->error;
	if (m->decode && *m->decode) {
		snprintf(line, sizeof(line), "Decode with: tshark %s", m->decode);
		if (blk_opt_str(w, PNG_OPT_COMMENT, line))
			return w->error;
	} else if (w->hints && hint_reserve(w)) {
		return w->error;
	}
	if (blk_opt(w, PNG_OPT_END, NULL, 0) || blk_end(w))
		return w->error;
	/* Interface Description Block, section 4.2. */
	if (blk_begin(w, PNG_BT_IDB) || blk_u16(w, PNG_LINKTYPE_RAW) || blk_u16(w, 0) ||
	    blk_u32(w, PNG_SNAPLEN) || blk_opt_str(w, PNG_IF_NAME, "ecaptop") ||
	    blk_opt_str(w, PNG_IF_DESCRIPTION,
			"ecaptop: captured plaintext as synthetic TCP/IP packets") ||
	    blk_opt(w, PNG_IF_TSRESOL, &tsres, 1) || blk_opt(w, PNG_OPT_END, NULL, 0) || blk_end(w))
		return w->error;
	return 0;
}

/* ---- public ---- */

static void free_writer(struct pcapng_writer *w)
{
	size_t i;

	if (!w)
		return;
	for (i = 0; w->tab && i < w->tab_size; i++) {
		struct wconn *c = w->tab[i], *next;

		for (; c; c = next) {
			next = c->next;
			pcapng_hint_det_free(w->hints, c->hint);
			free(c->side[0].tail);
			free(c->side[1].tail);
			free(c);
		}
	}
	free(w->tab);
	while (w->n_held)
		free(held_pop(w).ev);
	free(w->heap);
	free(w->out);
	free(w->blk);
	free(w->path);
	free(w->hints);
	free(w->shb);
	free(w);
}

static int ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && !strcmp(s + a - b, suffix);
}

struct pcapng_writer *pcapng_writer_open(const char *path, const struct pcapng_meta *meta,
					 bool force, char *err, size_t errlen)
{
	struct pcapng_writer *w = NULL;
	struct stat sb;
	int fd = -1, e, ours = !force;

	if (err && errlen)
		err[0] = '\0';
	if (!path || !*path) {
		snprintf(err, errlen, "no file name given");
		errno = EINVAL;
		return NULL;
	}
	/* O_NOFOLLOW: a symlink at path fails with ELOOP, force or not. O_NONBLOCK
	 * so that a FIFO without a reader fails instead of blocking; the fstat
	 * below refuses anything but a regular file before it is truncated. */
	fd = open(path,
		  O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | (force ? 0 : O_EXCL),
		  0600);
	if (fd < 0) {
		e = errno;
		/* O_EXCL reports a symlink (even a dangling one) as EEXIST. */
		if (e == EEXIST && lstat(path, &sb) == 0 && S_ISLNK(sb.st_mode))
			e = ELOOP;
		if ((e == EEXIST || e == EISDIR) && lstat(path, &sb) == 0 && S_ISDIR(sb.st_mode))
			snprintf(err, errlen, "%s is a directory: give a file name", path);
		else if (e == EEXIST)
			snprintf(err, errlen, "%s already exists (use --force to overwrite it)",
				 path);
		else if (e == ELOOP)
			snprintf(err, errlen, "%s is a symbolic link: refusing to write through it",
				 path);
		else
			snprintf(err, errlen, "cannot create %s: %s", path, strerror(e));
		errno = e;
		return NULL;
	}
	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
		e = S_ISREG(sb.st_mode) ? errno : EINVAL;
		snprintf(err, errlen, "%s is not a regular file", path);
		goto fail_fd;
	}
	if (force) {
		if (ftruncate(fd, 0) < 0) {
			e = errno;
			snprintf(err, errlen, "cannot truncate %s: %s", path, strerror(e));
			goto fail_fd;
		}
		ours = 1;
		/* An overwritten file keeps no wider permissions than a new one. */
		if ((sb.st_mode & 0777) != 0600)
			(void)fchmod(fd, 0600);
	}
	if (fcntl(fd, F_SETFL, 0) < 0) {
		e = errno;
		snprintf(err, errlen, "%s: %s", path, strerror(e));
		goto fail_fd;
	}
	w = calloc(1, sizeof(*w));
	if (!w || !(w->path = strdup(path)) || !(w->tab = calloc(1024, sizeof(*w->tab)))) {
		e = ENOMEM;
		snprintf(err, errlen, "out of memory");
		goto fail_fd;
	}
	w->tab_size = 1024;
	w->fd = fd;
	/* Without a hint from the caller (a recording), the writer finds the
	 * protocols itself and writes the hint at close. */
	if ((!(meta && meta->decode && *meta->decode) &&
	     !(w->hints = calloc(1, sizeof(*w->hints)))) ||
	    !(w->out = malloc(OUTBUF))) {
		e = ENOMEM;
		snprintf(err, errlen, "out of memory");
		goto fail_fd;
	}
	/* The header blocks are built in w->out, then written (gz_start: as the
	 * start of the gzip stream). */
	if (write_header(w, meta) || (ends_with(path, ".gz") ? gz_start(w) : out_flush_plain(w))) {
		e = -w->error;
		snprintf(err, errlen, "%s", w->errbuf);
		goto fail_fd;
	}
	return w;

fail_fd:
	if (w && w->gz)
		gzclose(w->gz);
	free_writer(w);
	close(fd);
	if (ours)
		(void)unlink(path); /* we created or truncated it: leave no half file */
	errno = e;
	return NULL;
}

int pcapng_write_event(struct pcapng_writer *w, const struct ec_event *ev)
{
	struct ec_event *copy;
	struct wconn *c;
	int side;

	if (w->error)
		return w->error;
	switch (ev->h.kind) {
	case EC_K_DATA:
		if (ev->h.dir != EC_DIR_SEND && ev->h.dir != EC_DIR_RECV) {
			/* Not sticky: nothing was written. */
			snprintf(w->errbuf, sizeof(w->errbuf),
				 "data event without a direction (dir %u)", ev->h.dir);
			return -EINVAL;
		}
		/* Known at once, so packets written before this view leaves the
		 * window already name this end's process. */
		c = conn_register(w, &ev->h, &side);
		if (!c)
			return w->error;
		if (ev->h.dir == EC_DIR_SEND)
			c->side[side].held_sends++;
		break;
	case EC_K_COMMAND:
	case EC_K_QUERY:
	case EC_K_EXEC:
	case EC_K_EXIT:
		if ((uint64_t)ev->h.len + 4096 > PCAPNG_MAX_BLOCK) {
			snprintf(w->errbuf, sizeof(w->errbuf),
				 "a %s event of %" PRIu32 " bytes is too large to save",
				 ec_kind_name(ev->h.kind), ev->h.len);
			return -EMSGSIZE;
		}
		break;
	default:
		snprintf(w->errbuf, sizeof(w->errbuf), "cannot save an event of kind %u",
			 ev->h.kind);
		return -EINVAL;
	}
	copy = ec_event_dup(ev);
	if (!copy)
		return werr(w, -ENOMEM, "out of memory holding an event");
	if (held_push(w, copy, 0)) {
		free(copy);
		return w->error;
	}
	return release(w, 0);
}

int pcapng_writer_set_role(struct pcapng_writer *w, const struct ec_rec_hdr *h,
			   bool local_is_client)
{
	struct wconn *c;
	int side;

	if (w->error)
		return w->error;
	c = conn_register(w, h, &side);
	if (!c)
		return w->error;
	if (!c->open && c->client < 0)
		c->client = local_is_client ? side : !side;
	return 0;
}

int pcapng_write_close_conn(struct pcapng_writer *w, const struct ec_rec_hdr *h)
{
	struct ec_event *ev;
	int side;

	if (w->error)
		return w->error;
	if (!*conn_find(w, h, &side))
		return -ENOENT;
	ev = ec_event_new(0);
	if (!ev)
		return werr(w, -ENOMEM, "out of memory holding an event");
	ev->h = *h;
	ev->h.len = 0;
	if (held_push(w, ev, 1)) {
		free(ev);
		return w->error;
	}
	return release(w, 0);
}

int pcapng_writer_flush(struct pcapng_writer *w)
{
	struct timespec now;
	uint64_t ns;

	if (w->error)
		return w->error;
	/* Events older than the window (by the clock) leave it now. */
	clock_gettime(CLOCK_REALTIME, &now);
	ns = (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
	while (w->n_held && !w->error && w->heap[0].ts + WINDOW_NS < ns)
		release_one(w);
	if (w->error)
		return w->error;
	if (w->gz) {
		errno = 0;
		if (gzflush(w->gz, Z_SYNC_FLUSH) != Z_OK)
			return gz_fail(w, "flushing");
		return 0;
	}
	return out_flush_plain(w);
}

size_t pcapng_writer_held(const struct pcapng_writer *w)
{
	return w->n_held;
}

const char *pcapng_writer_error(const struct pcapng_writer *w)
{
	return w->errbuf;
}

void pcapng_writer_stats(const struct pcapng_writer *w, struct pcapng_writer_stats *st)
{
	*st = w->st;
}

int pcapng_writer_close(struct pcapng_writer *w, const struct pcapng_meta *final,
			struct pcapng_writer_stats *st, char *err, size_t errlen)
{
	struct stat sb;
	size_t i;
	int rc;

	if (err && errlen)
		err[0] = '\0';
	if (!w)
		return 0;
	release(w, 1);
	/* Connections still open end after the last packet, client first. */
	for (i = 0; i < w->tab_size && !w->error; i++) {
		struct wconn *c;

		for (c = w->tab[i]; c && !w->error; c = c->next)
			if (c->open)
				write_fin(w, c, c->client >= 0 ? c->client : 0, w->last_ts);
	}
	if (!w->error && final) {
		struct timespec now;

		clock_gettime(CLOCK_REALTIME, &now);
		write_stats_block(w, final,
				  (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec);
	}
	if (!w->error && !w->gz)
		out_flush_plain(w);
	if (w->gz) {
		errno = 0;
		int zr = gzclose(w->gz);

		w->gz = NULL;
		if (zr != Z_OK && !w->error)
			werr(w, zr == Z_ERRNO && errno ? -errno : -EIO, "closing %s: %s", w->path,
			     zr == Z_ERRNO && errno ? strerror(errno) : "zlib error");
	}
	if (!w->error)
		hint_rewrite(w);
	if (fstat(w->fd, &sb) == 0)
		w->st.file_bytes = (uint64_t)sb.st_size;
	if (close(w->fd) < 0 && !w->error)
		werr(w, -errno, "closing %s: %s", w->path, strerror(errno));
	rc = w->error;
	if (rc && err)
		snprintf(err, errlen, "%s", w->errbuf);
	if (st)
		*st = w->st;
	free_writer(w);
	return rc;
}
