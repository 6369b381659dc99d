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

struct wconn {
	struct wconn *next; /* hash chain */
	/* key: the event's own fields */
	uint64_t conn_id;
	uint8_t family;
	uint8_t laddr[16], raddr[16];
	uint16_t lport, rport;
	/* what the packets carry (synthetic for an unknown family) */
	uint8_t ipver; /* 4 or 6 */
	uint8_t pladdr[16], praddr[16];
	uint16_t plport, prport;
	int local_is_client;
	uint32_t next_local, next_remote; /* next sequence number each side sends */
	uint16_t ipid_local, ipid_remote;
	struct ec_rec_hdr last; /* header of the latest event, for the FIN comments */
};

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
	int error; /* sticky -errno */
	char errbuf[256];
	char *path;
	struct pcapng_writer_stats st;
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

	png_put16(b, v);
	return blk_put(w, b, 2);
}

static int blk_u32(struct pcapng_writer *w, uint32_t v)
{
	uint8_t b[4];

	png_put32(b, v);
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

	png_put32(w->blk + 4, total);
	png_put32(w->blk + w->blk_len, total);
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

static uint64_t conn_hash(const struct ec_rec_hdr *h)
{
	uint8_t fam = norm_family(h->family);
	uint32_t x = fnv1a(2166136261u, &h->conn_id, sizeof(h->conn_id));

	x = fnv1a(x, &fam, 1);
	x = fnv1a(x, h->laddr, addr_len(fam));
	x = fnv1a(x, h->raddr, addr_len(fam));
	x = fnv1a(x, &h->lport, 2);
	x = fnv1a(x, &h->rport, 2);
	return x;
}

static int conn_match(const struct wconn *c, const struct ec_rec_hdr *h)
{
	uint8_t fam = norm_family(h->family);
	size_t al = addr_len(fam);

	return c->conn_id == h->conn_id && c->family == fam && c->lport == h->lport &&
	       c->rport == h->rport && !memcmp(c->laddr, h->laddr, al) &&
	       !memcmp(c->raddr, h->raddr, al);
}

static struct wconn **conn_slot(struct pcapng_writer *w, const struct ec_rec_hdr *h)
{
	struct wconn **pp = &w->tab[conn_hash(h) & (w->tab_size - 1)];

	while (*pp && !conn_match(*pp, h))
		pp = &(*pp)->next;
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
			next = c->next;
			size_t b = conn_hash(&c->last) & (n - 1);

			c->next = t[b];
			t[b] = c;
		}
	}
	free(w->tab);
	w->tab = t;
	w->tab_size = n;
	return 0;
}

/* Initial sequence number of the direction src -> dst: the same in both views
 * of one connection (see engine/file/pcapng.h). */
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

static struct wconn *conn_new(struct pcapng_writer *w, const struct ec_rec_hdr *h)
{
	struct wconn *c = calloc(1, sizeof(*c));

	if (!c) {
		werr(w, -ENOMEM, "out of memory for a connection");
		return NULL;
	}
	c->conn_id = h->conn_id;
	c->family = norm_family(h->family);
	memcpy(c->laddr, h->laddr, addr_len(c->family));
	memcpy(c->raddr, h->raddr, addr_len(c->family));
	c->lport = h->lport;
	c->rport = h->rport;
	c->plport = h->lport;
	c->prport = h->rport;
	if (c->family == EC_AF_INET6) {
		c->ipver = 6;
		memcpy(c->pladdr, h->laddr, 16);
		memcpy(c->praddr, h->raddr, 16);
	} else if (c->family == EC_AF_INET) {
		c->ipver = 4;
		memcpy(c->pladdr, h->laddr, 4);
		memcpy(c->praddr, h->raddr, 4);
	} else {
		/* RFC 5737 documentation addresses: never a real host. */
		uint64_t m = mix64(h->conn_id);

		c->ipver = 4;
		c->pladdr[0] = 192, c->pladdr[1] = 0, c->pladdr[2] = 2;
		c->pladdr[3] = (uint8_t)(1 + m % 254);
		c->praddr[0] = 198, c->praddr[1] = 51, c->praddr[2] = 100;
		c->praddr[3] = (uint8_t)(1 + (m >> 8) % 254);
		if (!c->plport)
			c->plport = (uint16_t)(49152 + (m >> 16) % 16384);
		if (!c->prport)
			c->prport = (uint16_t)(1024 + (m >> 32) % 31744);
	}
	int role = png_port_server(c->plport, c->prport);

	c->local_is_client = role ? role < 0 : h->dir == EC_DIR_SEND;
	c->next_local = isn_of(c->ipver, c->pladdr, c->plport, c->praddr, c->prport);
	c->next_remote = isn_of(c->ipver, c->praddr, c->prport, c->pladdr, c->plport);
	c->ipid_local = (uint16_t)c->next_local;
	c->ipid_remote = (uint16_t)c->next_remote;
	c->last = *h;
	c->last.len = 0;
	return c;
}

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

static int format_comment(const struct wconn *c, const struct ec_rec_hdr *h, int data,
			  unsigned part, unsigned parts, char *buf, size_t len)
{
	char comm[EC_COMM_LEN * 4 + 1];
	int n;

	escape_comm(h->comm, comm, sizeof(comm));
	n = snprintf(buf, len,
		     "PID: %" PRIu32 "\nCmd: %s\nUID: %" PRIu32 "\nSource: %s\nTID: %" PRIu32
		     "\nFD: %" PRId32 "\nConn: 0x%" PRIx64 "\n",
		     h->pid, comm, h->uid, ec_source_name(h->source), h->tid, h->fd,
		     (uint64_t)h->conn_id);
	if (data)
		n += snprintf(buf + n, len - (size_t)n, "Dir: %s\n", ec_dir_name(h->dir));
	if (data && h->flags)
		n += snprintf(buf + n, len - (size_t)n, "Flags: 0x%x\n", h->flags);
	if (data && h->call_id)
		n +=
		    snprintf(buf + n, len - (size_t)n, "Call: %" PRIu64 "\n", (uint64_t)h->call_id);
	if (data && h->aux)
		n += snprintf(buf + n, len - (size_t)n, "Aux: %" PRIu32 "\n", h->aux);
	if (parts > 1)
		n += snprintf(buf + n, len - (size_t)n, "Part: %u/%u\n", part, parts);
	if (c->family == EC_AF_UNKNOWN)
		n += snprintf(buf + n, len - (size_t)n, "Family: unknown\nLPort: %u\nRPort: %u\n",
			      c->lport, c->rport);
	return n;
}

/* One TCP/IP packet from the local side (from_local) or the remote side, as an
 * Enhanced Packet Block (section 4.3) with the comment and epb_flags. */
static int write_packet(struct pcapng_writer *w, struct wconn *c, int from_local, uint8_t flags,
			const uint8_t *payload, size_t plen, uint64_t ts_ns, const char *comment,
			int outbound)
{
	const uint8_t *src = from_local ? c->pladdr : c->praddr;
	const uint8_t *dst = from_local ? c->praddr : c->pladdr;
	uint16_t sport = from_local ? c->plport : c->prport;
	uint16_t dport = from_local ? c->prport : c->plport;
	uint32_t seq = from_local ? c->next_local : c->next_remote;
	uint32_t ack = from_local ? c->next_remote : c->next_local;
	size_t iphl = c->ipver == 4 ? 20 : 40;
	size_t tcphl = (flags & PNG_TCP_SYN) ? 28 : 20;
	uint8_t *ip = w->pkt, *tcp = w->pkt + iphl;
	size_t total = iphl + tcphl + plen;
	uint32_t sum;

	memset(w->pkt, 0, iphl + tcphl);
	if (c->ipver == 4) {
		/* RFC 791 section 3.1 */
		uint16_t *id = from_local ? &c->ipid_local : &c->ipid_remote;

		ip[0] = 0x45;
		png_put16be(ip + 2, (uint16_t)total);
		png_put16be(ip + 4, (*id)++);
		ip[6] = 0x40; /* DF */
		ip[8] = 64;
		ip[9] = 6;
		memcpy(ip + 12, src, 4);
		memcpy(ip + 16, dst, 4);
		png_put16be(ip + 10, csum_fold(csum_add(0, ip, 20)));
	} else {
		/* RFC 8200 section 3 */
		ip[0] = 0x60;
		png_put16be(ip + 4, (uint16_t)(tcphl + plen));
		ip[6] = 6;
		ip[7] = 64;
		memcpy(ip + 8, src, 16);
		memcpy(ip + 24, dst, 16);
	}
	/* RFC 9293 section 3.1 */
	png_put16be(tcp, sport);
	png_put16be(tcp + 2, dport);
	png_put32be(tcp + 4, seq);
	png_put32be(tcp + 8, (flags & PNG_TCP_ACK) ? ack : 0);
	tcp[12] = (uint8_t)((tcphl / 4) << 4);
	tcp[13] = flags;
	png_put16be(tcp + 14, 65535);
	if (flags & PNG_TCP_SYN) {
		/* MSS of the loopback MTU, NOP, window scale 7 (RFC 7323 section 2):
		 * without scaling, 200 KB sent before the peer's next packet would be
		 * flagged by Wireshark as beyond the window. */
		tcp[20] = 2, tcp[21] = 4;
		png_put16be(tcp + 22, 65495);
		tcp[24] = 1;
		tcp[25] = 3, tcp[26] = 3, tcp[27] = 7;
	}
	if (plen)
		memcpy(tcp + tcphl, payload, plen);
	/* Pseudo-header: RFC 9293 section 3.1 (IPv4), RFC 8200 section 8.1 (IPv6). */
	{
		uint8_t ph[40];
		size_t phl;

		if (c->ipver == 4) {
			memcpy(ph, src, 4);
			memcpy(ph + 4, dst, 4);
			ph[8] = 0;
			ph[9] = 6;
			png_put16be(ph + 10, (uint16_t)(tcphl + plen));
			phl = 12;
		} else {
			memcpy(ph, src, 16);
			memcpy(ph + 16, dst, 16);
			png_put32be(ph + 32, (uint32_t)(tcphl + plen));
			ph[36] = ph[37] = ph[38] = 0;
			ph[39] = 6;
			phl = 40;
		}
		sum = csum_add(0, ph, phl);
		sum = csum_add(sum, tcp, tcphl + plen);
		png_put16be(tcp + 16, csum_fold(sum));
	}

	uint32_t seqlen = (uint32_t)plen + ((flags & (PNG_TCP_SYN | PNG_TCP_FIN)) ? 1 : 0);

	if (from_local)
		c->next_local += seqlen;
	else
		c->next_remote += seqlen;

	if (blk_begin(w, PNG_BT_EPB) || blk_u32(w, 0) || blk_u32(w, (uint32_t)(ts_ns >> 32)) ||
	    blk_u32(w, (uint32_t)ts_ns) || blk_u32(w, (uint32_t)total) ||
	    blk_u32(w, (uint32_t)total) || blk_put(w, w->pkt, total) || blk_pad(w))
		return w->error;
	if (comment && blk_opt_str(w, PNG_OPT_COMMENT, comment))
		return w->error;
	{
		uint8_t fl[4];

		/* epb_flags bits 0-1: 01 inbound, 10 outbound (section 4.3.1). */
		png_put32(fl, outbound ? 2 : 1);
		if (blk_opt(w, PNG_EPB_FLAGS, fl, 4))
			return w->error;
	}
	if (blk_opt(w, PNG_OPT_END, NULL, 0) || blk_end(w))
		return w->error;
	w->st.packets++;
	return 0;
}

static int write_handshake(struct pcapng_writer *w, struct wconn *c, const struct ec_rec_hdr *h)
{
	char cm[512];
	int cl = c->local_is_client;

	format_comment(c, h, 0, 0, 0, cm, sizeof(cm));
	if (write_packet(w, c, cl, PNG_TCP_SYN, NULL, 0, h->ts_ns, cm, cl) ||
	    write_packet(w, c, !cl, PNG_TCP_SYN | PNG_TCP_ACK, NULL, 0, h->ts_ns, cm, !cl) ||
	    write_packet(w, c, cl, PNG_TCP_ACK, NULL, 0, h->ts_ns, cm, cl))
		return w->error;
	return 0;
}

static int write_fin(struct pcapng_writer *w, struct wconn *c, uint64_t ts_ns)
{
	char cm[512];
	int cl = c->local_is_client;

	format_comment(c, &c->last, 0, 0, 0, cm, sizeof(cm));
	if (write_packet(w, c, cl, PNG_TCP_FIN | PNG_TCP_ACK, NULL, 0, ts_ns, cm, cl) ||
	    write_packet(w, c, !cl, PNG_TCP_FIN | PNG_TCP_ACK, NULL, 0, ts_ns, cm, !cl) ||
	    write_packet(w, c, cl, PNG_TCP_ACK, NULL, 0, ts_ns, cm, cl))
		return w->error;
	return 0;
}

static int write_data(struct pcapng_writer *w, const struct ec_event *ev)
{
	const struct ec_rec_hdr *h = &ev->h;
	struct wconn **pp, *c;
	unsigned parts, i;
	char cm[640];

	if (h->dir != EC_DIR_SEND && h->dir != EC_DIR_RECV)
		return werr(w, -EINVAL, "data event without a direction (dir %u)", h->dir);
	if (w->n_conns >= w->tab_size * 2 && conn_table_grow(w))
		return w->error;
	pp = conn_slot(w, h);
	c = *pp;
	if (!c) {
		c = conn_new(w, h);
		if (!c)
			return w->error;
		*pp = c;
		w->n_conns++;
		w->st.connections++;
		if (write_handshake(w, c, h))
			return w->error;
	}
	c->last = *h;
	c->last.len = 0;
	parts = h->len ? (h->len + PCAPNG_MAX_SEG - 1) / PCAPNG_MAX_SEG : 1;
	for (i = 0; i < parts; i++) {
		size_t off = (size_t)i * PCAPNG_MAX_SEG;
		size_t n = h->len - off < PCAPNG_MAX_SEG ? h->len - off : PCAPNG_MAX_SEG;
		int send = h->dir == EC_DIR_SEND;

		format_comment(c, h, 1, i + 1, parts, cm, sizeof(cm));
		if (write_packet(w, c, send, PNG_TCP_PSH | PNG_TCP_ACK, ev->data + off, n, h->ts_ns,
				 cm, send))
			return w->error;
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
	hex16(h->laddr, la);
	hex16(h->raddr, ra);
	if (blk_begin(w, PNG_BT_JOURNAL) ||
	    jfieldf(w, "__REALTIME_TIMESTAMP", "%" PRIu64, (uint64_t)h->ts_ns / 1000) ||
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
		     m->events, m->bytes, m->lost_reserve, m->lost_read, m->lost_trunc,
		     m->lost_perf, m->lost_queue, m->lost_malformed, m->lost_alloc, m->evicted,
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
	    jfieldf(w, "ECAPTOP_LOST_RESERVE", "%" PRIu64, m->lost_reserve) ||
	    jfieldf(w, "ECAPTOP_LOST_READ", "%" PRIu64, m->lost_read) ||
	    jfieldf(w, "ECAPTOP_LOST_TRUNC", "%" PRIu64, m->lost_trunc) ||
	    jfieldf(w, "ECAPTOP_LOST_PERF", "%" PRIu64, m->lost_perf) ||
	    jfieldf(w, "ECAPTOP_LOST_QUEUE", "%" PRIu64, m->lost_queue) ||
	    jfieldf(w, "ECAPTOP_LOST_MALFORMED", "%" PRIu64, m->lost_malformed) ||
	    jfieldf(w, "ECAPTOP_LOST_ALLOC", "%" PRIu64, m->lost_alloc) ||
	    jfieldf(w, "ECAPTOP_EVICTED", "%" PRIu64, m->evicted) || blk_end(w))
		return w->error;
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
		 m->lost_reserve, m->lost_read, m->lost_trunc, m->lost_perf, m->lost_queue,
		 m->lost_malformed, m->lost_alloc, m->evicted);
	if (blk_opt_str(w, PNG_OPT_COMMENT, line) || blk_opt(w, PNG_OPT_END, NULL, 0) || blk_end(w))
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
			free(c);
		}
	}
	free(w->tab);
	free(w->out);
	free(w->blk);
	free(w->path);
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
	if (ends_with(path, ".gz")) {
		/* gzdopen takes the fd; keep our own copy for fstat at close. */
		int gfd = dup(fd);

		if (gfd < 0 || !(w->gz = gzdopen(gfd, "wb"))) {
			e = gfd < 0 ? errno : ENOMEM;
			if (gfd >= 0)
				close(gfd);
			snprintf(err, errlen, "cannot start gzip on %s: %s", path, strerror(e));
			goto fail_fd;
		}
		gzbuffer(w->gz, OUTBUF);
	} else if (!(w->out = malloc(OUTBUF))) {
		e = ENOMEM;
		snprintf(err, errlen, "out of memory");
		goto fail_fd;
	}
	if (write_header(w, meta) || (!w->gz && out_flush_plain(w))) {
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
	int rc;

	if (w->error)
		return w->error;
	switch (ev->h.kind) {
	case EC_K_DATA:
		rc = write_data(w, ev);
		break;
	case EC_K_COMMAND:
	case EC_K_QUERY:
	case EC_K_EXEC:
	case EC_K_EXIT:
		rc = write_journal(w, ev);
		break;
	default:
		/* Not sticky: the file is still whole. */
		snprintf(w->errbuf, sizeof(w->errbuf), "cannot save an event of kind %u",
			 ev->h.kind);
		return -EINVAL;
	}
	if (rc == -EINVAL || rc == -EMSGSIZE) {
		w->error = 0; /* refused before anything was written */
		return rc;
	}
	if (rc)
		return rc;
	w->st.events++;
	w->st.payload_bytes += ev->h.len;
	return 0;
}

int pcapng_write_close_conn(struct pcapng_writer *w, const struct ec_rec_hdr *h)
{
	struct wconn **pp, *c;
	int rc;

	if (w->error)
		return w->error;
	pp = conn_slot(w, h);
	c = *pp;
	if (!c)
		return -ENOENT;
	rc = write_fin(w, c, h->ts_ns);
	*pp = c->next;
	w->n_conns--;
	free(c);
	return rc;
}

int pcapng_writer_flush(struct pcapng_writer *w)
{
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
	for (i = 0; i < w->tab_size && !w->error; i++) {
		struct wconn *c;

		for (c = w->tab[i]; c && !w->error; c = c->next)
			write_fin(w, c, c->last.ts_ns);
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
