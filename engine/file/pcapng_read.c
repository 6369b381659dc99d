// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The pcapng reader: opens a file (gzip or not, through zlib, which passes
 * plain files through unchanged), recognises ecaptop's own files and restores
 * their events exactly with its own block parser; everything else is handed to
 * libpcap and TCP reassembly (engine/file/pcapng_tcp.c).
 *
 * Every length in a file is untrusted: a block is read only after its length
 * was checked against the limits and what is left of the block, and a block's
 * buffer grows only as its bytes actually arrive.
 */
#include "engine/file/pcapng_int.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pcap/pcap.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <zlib.h>

#define MAX_IFACES   1024
#define PROBE_BLOCKS 64 /* blocks scanned for ecaptop comments in a foreign SHB */
#define READ_CHUNK   (1u << 20)

struct iface {
	uint16_t linktype;
	uint64_t units; /* timestamp units per second (if_tsresol, section 4.2) */
};

/* The bytes of one direction of a connection, for the events whose packets
 * carry no payload of their own (Prefix:, Bytes:; see engine/file/pcapng.h):
 * buf holds stream bytes [total - len, total). */
struct rdir {
	struct rdir *next;
	uint8_t ver, src[16], dst[16];
	uint16_t sport, dport;
	uint64_t total;
	uint8_t *buf;
	size_t len, cap;
};

/* Bytes kept per direction: a view lags the other by the writer's reorder
 * window at most. */
#define RDIR_KEEP (16u << 20)

struct pcapng_reader {
	gzFile gz;
	uint64_t off; /* bytes of the uncompressed stream consumed */
	int gz_short; /* the gzip stream ended early (zlib Z_BUF_ERROR) */
	char gz_msg[128];
	bool own;
	/* foreign files */
	FILE *fp;
	struct png_foreign *fo;
	/* own files */
	bool swap;
	bool seen_shb;
	struct iface *ifs;
	size_t n_ifs;
	uint8_t *buf;
	size_t cap;
	uint64_t nblock;
	pcap_t *dead;
	struct bpf_program prog;
	bool has_filter;
	struct ec_event *pend; /* an event split over several packets, being joined */
	size_t pend_cap;
	uint32_t pend_part, pend_parts;
	uint32_t skip_parts; /* parts still to drop of an event the filter rejected */
	uint64_t skip_conn;
	struct rdir **dirs; /* per direction of a connection: its recent bytes */
	size_t dirs_size;
	int done;
	int error;
	char errbuf[320];
	struct pcapng_meta meta;
	char *m_filter, *m_hw, *m_os, *m_appl;
	struct pcapng_reader_stats st;
};

static int rerr(struct pcapng_reader *r, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int rerr(struct pcapng_reader *r, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->errbuf, sizeof(r->errbuf), fmt, ap);
	va_end(ap);
	r->error = err;
	return err;
}

/* ---- input ---- */

/* Read up to n bytes; fewer only at the end of the stream. -1 on a gzip or I/O
 * error (message in r->gz_msg). */
static ssize_t src_read(struct pcapng_reader *r, void *buf, size_t n)
{
	uint8_t *b = buf;
	size_t got = 0;

	while (got < n) {
		size_t want = n - got > (1u << 30) ? (1u << 30) : n - got;
		int k = gzread(r->gz, b + got, (unsigned)want);

		if (k < 0) {
			int zerr = 0;
			const char *m = gzerror(r->gz, &zerr);
			const char *sep = m ? strstr(m, ">: ") : NULL;

			/* zlib names the file "<fd:N>: "; our messages name it. */
			if (m && m[0] == '<' && sep)
				m = sep + 3;
			snprintf(r->gz_msg, sizeof(r->gz_msg), "%s (gzip data at byte %lld)",
				 zerr == Z_ERRNO ? strerror(errno)
				 : m		 ? m
						 : "zlib error",
				 (long long)gzoffset(r->gz));
			return -1;
		}
		if (k == 0)
			break;
		got += (size_t)k;
	}
	r->off += got;
	if (got < n) {
		int zerr = 0;

		gzerror(r->gz, &zerr);
		if (zerr == Z_BUF_ERROR)
			r->gz_short = 1;
	}
	return (ssize_t)got;
}

static const char *block_name(uint32_t type)
{
	switch (type) {
	case PNG_BT_SHB:
		return "Section Header Block";
	case PNG_BT_IDB:
		return "Interface Description Block";
	case PNG_BT_EPB:
		return "Enhanced Packet Block";
	case PNG_BT_SPB:
		return "Simple Packet Block";
	case PNG_BT_PB:
		return "Packet Block";
	case PNG_BT_JOURNAL:
		return "systemd Journal Export Block";
	case 5:
		return "Interface Statistics Block";
	case 4:
		return "Name Resolution Block";
	case 10:
		return "Decryption Secrets Block";
	case 0x00000BAD:
	case 0x40000BAD:
		return "Custom Block";
	}
	return "block";
}

static uint32_t rd32(const struct pcapng_reader *r, const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return r->swap ? __builtin_bswap32(v) : v;
}

static uint16_t rd16(const struct pcapng_reader *r, const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return r->swap ? __builtin_bswap16(v) : v;
}

/* Ensure the block buffer holds at least n bytes. */
static int buf_need(struct pcapng_reader *r, size_t n)
{
	if (n <= r->cap)
		return 0;
	size_t cap = r->cap ? r->cap : 4096;

	while (cap < n)
		cap *= 2;
	uint8_t *b = realloc(r->buf, cap);

	if (!b)
		return rerr(r, -ENOMEM, "out of memory reading a block of %zu bytes", n);
	r->buf = b;
	r->cap = cap;
	return 0;
}

/* Read one whole block into r->buf (header and trailer included). Returns 1
 * with *type and *len set, 0 at a clean end of file, -errno on error. */
static int read_block(struct pcapng_reader *r, uint32_t *type, uint32_t *len)
{
	uint64_t start = r->off;
	uint64_t bno = r->nblock + 1;
	uint8_t hdr[12];
	ssize_t k;
	uint32_t t, l;
	size_t have;

	if (buf_need(r, 4096))
		return r->error;
	k = src_read(r, hdr, 8);
	if (k < 0)
		return rerr(r, -EIO, "corrupt input at offset %" PRIu64 " (block #%" PRIu64 "): %s",
			    r->off, bno, r->gz_msg);
	if (k == 0 && r->gz_short)
		return rerr(r, -EPROTO,
			    "truncated at offset %" PRIu64 " (before block #%" PRIu64
			    "): the gzip stream ends without its trailer (the file was cut short)",
			    start, bno);
	if (k == 0)
		return 0;
	if (k < 8)
		return rerr(r, -EPROTO,
			    "truncated block header at offset %" PRIu64 " (block #%" PRIu64
			    ": %zd of 8 bytes)%s",
			    start, bno, k, r->gz_short ? "; the gzip stream ends early" : "");
	memcpy(&t, hdr, 4);
	if (t == PNG_BT_SHB) {
		/* The byte-order magic follows the length (section 4.1). */
		k = src_read(r, hdr + 8, 4);
		if (k < 0)
			return rerr(r, -EIO, "corrupt input at offset %" PRIu64 ": %s", r->off,
				    r->gz_msg);
		if (k < 4)
			return rerr(r, -EPROTO,
				    "truncated Section Header Block at offset %" PRIu64
				    " (block #%" PRIu64 ")",
				    start, bno);
		uint32_t bom;

		memcpy(&bom, hdr + 8, 4);
		if (bom == PNG_BOM)
			r->swap = false;
		else if (bom == __builtin_bswap32(PNG_BOM))
			r->swap = true;
		else
			return rerr(r, -EPROTO,
				    "bad byte-order magic 0x%08x in the Section Header Block at "
				    "offset %" PRIu64,
				    bom, start);
		have = 12;
	} else {
		if (!r->seen_shb)
			return rerr(r, -EPROTO,
				    "not a pcapng file: the first block at offset %" PRIu64
				    " is not a Section Header Block",
				    start);
		t = rd32(r, hdr);
		have = 8;
	}
	l = rd32(r, hdr + 4);
	if (l < 12 || (l & 3) || l > PCAPNG_MAX_BLOCK || (t == PNG_BT_SHB && l < 28))
		return rerr(r, -EPROTO,
			    "bad length %" PRIu32 " of %s #%" PRIu64 " (type 0x%08" PRIx32
			    ") at offset %" PRIu64,
			    l, block_name(t), bno, t, start);
	memcpy(r->buf, hdr, have);
	/* Grow only as bytes arrive: a lying length in a short file costs little. */
	while (have < l) {
		size_t want = l - have > READ_CHUNK ? READ_CHUNK : l - have;

		if (buf_need(r, have + want))
			return r->error;
		k = src_read(r, r->buf + have, want);
		if (k < 0)
			return rerr(r, -EIO,
				    "corrupt input in %s #%" PRIu64 " at offset %" PRIu64 ": %s",
				    block_name(t), bno, start, r->gz_msg);
		have += (size_t)k;
		if ((size_t)k < want)
			return rerr(r, -EPROTO,
				    "truncated %s at offset %" PRIu64 " (block #%" PRIu64
				    ": %zu of %" PRIu32 " bytes)%s",
				    block_name(t), start, bno, have, l,
				    r->gz_short ? "; the gzip stream ends early" : "");
	}
	if (rd32(r, r->buf + l - 4) != l)
		return rerr(r, -EPROTO,
			    "corrupt %s #%" PRIu64 " at offset %" PRIu64
			    ": trailing length %" PRIu32 " differs from %" PRIu32,
			    block_name(t), bno, start, rd32(r, r->buf + l - 4), l);
	r->nblock = bno;
	r->st.blocks++;
	*type = t;
	*len = l;
	return 1;
}

/* Walk the options from p to end: cb(code, value, len) for each. -1 if an
 * option overruns the block. */
static int walk_options(struct pcapng_reader *r, const uint8_t *p, const uint8_t *end,
			void (*cb)(struct pcapng_reader *, uint16_t, const uint8_t *, uint16_t,
				   void *),
			void *arg)
{
	while (end - p >= 4) {
		uint16_t code = rd16(r, p), olen = rd16(r, p + 2);
		size_t padded = ((size_t)olen + 3) & ~(size_t)3;

		if (code == PNG_OPT_END)
			return 0;
		if ((size_t)(end - p - 4) < olen)
			return -1;
		cb(r, code, p + 4, olen, arg);
		if ((size_t)(end - p - 4) < padded)
			return 0; /* the last option's padding may be missing; tolerate */
		p += 4 + padded;
	}
	return 0;
}

/* ---- small parsers ---- */

static int parse_u64(const char *s, size_t n, uint64_t *out)
{
	uint64_t v = 0;
	size_t i = 0;
	int base = 10;

	if (n >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		i = 2;
	}
	if (i >= n)
		return -1;
	for (; i < n; i++) {
		int d;
		char c = s[i];

		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (base == 16 && c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (base == 16 && c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			return -1;
		if (v > (UINT64_MAX - (uint64_t)d) / (uint64_t)base)
			return -1;
		v = v * (uint64_t)base + (uint64_t)d;
	}
	*out = v;
	return 0;
}

static int parse_u32(const char *s, size_t n, uint32_t *out)
{
	uint64_t v;

	if (parse_u64(s, n, &v) || v > UINT32_MAX)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

static int parse_s32(const char *s, size_t n, int32_t *out)
{
	uint64_t v;

	if (n && s[0] == '-') {
		if (parse_u64(s + 1, n - 1, &v) || v > 2147483648ULL)
			return -1;
		*out = (int32_t)(-(int64_t)v);
		return 0;
	}
	if (parse_u64(s, n, &v) || v > INT32_MAX)
		return -1;
	*out = (int32_t)v;
	return 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Undo the writer's comm escaping (\\ and \xHH) into out[EC_COMM_LEN]. */
static int unescape_comm(const char *s, size_t n, char *out)
{
	size_t i, o = 0;

	memset(out, 0, EC_COMM_LEN);
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (c == '\\') {
			if (i + 1 < n && s[i + 1] == '\\') {
				c = '\\';
				i++;
			} else if (i + 3 < n && s[i + 1] == 'x' && hexval(s[i + 2]) >= 0 &&
				   hexval(s[i + 3]) >= 0) {
				c = (char)(hexval(s[i + 2]) << 4 | hexval(s[i + 3]));
				i += 3;
			} else {
				return -1;
			}
		}
		if (o >= EC_COMM_LEN)
			return -1;
		out[o++] = c;
	}
	return 0;
}

/* ---- EPB comments ---- */

struct cinfo {
	int has_pid, has_conn, has_dir;
	uint32_t pid, uid, tid, aux, part, parts;
	int32_t fd;
	char comm[EC_COMM_LEN];
	uint32_t source;
	uint64_t conn_id, call_id;
	uint16_t flags;
	uint8_t dir;
	int unknown_family;
	uint16_t lport, rport;
	int has_time, has_bytes;
	uint64_t time_ns, bytes_off;
	uint32_t prefix, bytes_len;
};

/* Parse "Key: value" lines. 0 if the comment is ours (PID and Conn present and
 * every known key well-formed), -1 otherwise. */
static int parse_comment(const uint8_t *p, size_t n, struct cinfo *ci)
{
	const char *s = (const char *)p, *end = s + n;

	memset(ci, 0, sizeof(*ci));
	ci->fd = -1;
	while (s < end) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		const char *le = nl ? nl : end;
		const char *colon = memchr(s, ':', (size_t)(le - s));

		if (colon && colon + 1 < le && colon[1] == ' ') {
			size_t kl = (size_t)(colon - s);
			const char *v = colon + 2;
			size_t vl = (size_t)(le - v);
			int bad = 0;

#define KEY(k) (kl == sizeof(k) - 1 && !memcmp(s, k, kl))
			if (KEY("PID")) {
				bad = parse_u32(v, vl, &ci->pid);
				ci->has_pid = !bad;
			} else if (KEY("Cmd")) {
				bad = unescape_comm(v, vl, ci->comm);
			} else if (KEY("UID")) {
				bad = parse_u32(v, vl, &ci->uid);
			} else if (KEY("TID")) {
				bad = parse_u32(v, vl, &ci->tid);
			} else if (KEY("FD")) {
				bad = parse_s32(v, vl, &ci->fd);
			} else if (KEY("Aux")) {
				bad = parse_u32(v, vl, &ci->aux);
			} else if (KEY("Source")) {
				char name[16];

				if (vl >= sizeof(name)) {
					ci->source = EC_S_NONE;
				} else {
					memcpy(name, v, vl);
					name[vl] = '\0';
					ci->source = ec_source_from_name(name);
				}
			} else if (KEY("Conn")) {
				bad = parse_u64(v, vl, &ci->conn_id);
				ci->has_conn = !bad;
			} else if (KEY("Call")) {
				bad = parse_u64(v, vl, &ci->call_id);
			} else if (KEY("Flags")) {
				uint32_t f = 0;

				bad = parse_u32(v, vl, &f) || f > 0xffff;
				ci->flags = (uint16_t)f;
			} else if (KEY("Dir")) {
				ci->has_dir = 1;
				if (vl == 4 && !memcmp(v, "send", 4))
					ci->dir = EC_DIR_SEND;
				else if (vl == 4 && !memcmp(v, "recv", 4))
					ci->dir = EC_DIR_RECV;
				else
					bad = 1;
			} else if (KEY("Part")) {
				const char *sl = memchr(v, '/', vl);

				bad = !sl || parse_u32(v, (size_t)(sl - v), &ci->part) ||
				      parse_u32(sl + 1, (size_t)(v + vl - sl - 1), &ci->parts) ||
				      !ci->part || ci->part > ci->parts;
			} else if (KEY("Time")) {
				bad = parse_u64(v, vl, &ci->time_ns);
				ci->has_time = !bad;
			} else if (KEY("Prefix")) {
				bad = parse_u32(v, vl, &ci->prefix);
			} else if (KEY("Bytes")) {
				const char *pl = memchr(v, '+', vl);

				bad = !pl || parse_u64(v, (size_t)(pl - v), &ci->bytes_off) ||
				      parse_u32(pl + 1, (size_t)(v + vl - pl - 1), &ci->bytes_len);
				ci->has_bytes = !bad;
			} else if (KEY("Family")) {
				ci->unknown_family = vl == 7 && !memcmp(v, "unknown", 7);
			} else if (KEY("LPort")) {
				uint32_t x = 0;

				bad = parse_u32(v, vl, &x) || x > 0xffff;
				ci->lport = (uint16_t)x;
			} else if (KEY("RPort")) {
				uint32_t x = 0;

				bad = parse_u32(v, vl, &x) || x > 0xffff;
				ci->rport = (uint16_t)x;
			}
#undef KEY
			if (bad)
				return -1;
		}
		s = nl ? nl + 1 : end;
	}
	return ci->has_pid && ci->has_conn ? 0 : -1;
}

/* ---- packets of our own files (LINKTYPE_RAW) ---- */

struct rawpkt {
	int ver;
	uint8_t src[16], dst[16];
	uint16_t sport, dport;
	uint8_t flags;
	const uint8_t *payload;
	size_t plen;
};

static int parse_raw(const uint8_t *p, size_t n, struct rawpkt *k)
{
	size_t iphl, iplen, tcphl;
	const uint8_t *tcp;

	memset(k, 0, sizeof(*k));
	if (n < 1)
		return -1;
	if ((p[0] >> 4) == 4) {
		if (n < 20)
			return -1;
		iphl = (size_t)(p[0] & 15) * 4;
		iplen = png_get16be(p + 2);
		if (iphl < 20 || iplen < iphl || p[9] != 6 || n < iphl)
			return -1;
		k->ver = 4;
		memcpy(k->src, p + 12, 4);
		memcpy(k->dst, p + 16, 4);
	} else if ((p[0] >> 4) == 6) {
		if (n < 40 || p[6] != 6)
			return -1;
		iphl = 40;
		iplen = 40 + (size_t)png_get16be(p + 4);
		k->ver = 6;
		memcpy(k->src, p + 8, 16);
		memcpy(k->dst, p + 24, 16);
	} else {
		return -1;
	}
	if (iplen > n)
		iplen = n;
	if (iplen < iphl + 20)
		return -1;
	tcp = p + iphl;
	tcphl = (size_t)(tcp[12] >> 4) * 4;
	if (tcphl < 20 || iphl + tcphl > iplen)
		return -1;
	k->sport = png_get16be(tcp);
	k->dport = png_get16be(tcp + 2);
	k->flags = tcp[13];
	k->payload = tcp + tcphl;
	k->plen = iplen - iphl - tcphl;
	return 0;
}

/* ---- direction buffers ---- */

static uint32_t dir_hash(int ver, const uint8_t *src, uint16_t sp, const uint8_t *dst, uint16_t dp)
{
	size_t al = ver == 4 ? 4 : 16, i;
	uint32_t h = 2166136261u ^ (uint32_t)ver ^ ((uint32_t)sp << 16 | dp);

	for (i = 0; i < al; i++)
		h = (h ^ src[i] ^ ((uint32_t)dst[i] << 8)) * 16777619u;
	return h;
}

/* The buffer of packet k's direction (or the reverse one); NULL if none and
 * !create, or out of memory. */
static struct rdir *rdir_get(struct pcapng_reader *r, const struct rawpkt *k, int reverse,
			     int create)
{
	const uint8_t *src = reverse ? k->dst : k->src, *dst = reverse ? k->src : k->dst;
	uint16_t sp = reverse ? k->dport : k->sport, dp = reverse ? k->sport : k->dport;
	size_t al = k->ver == 4 ? 4 : 16;
	struct rdir **pp, *d;

	if (!r->dirs) {
		if (!create)
			return NULL;
		r->dirs = calloc(1024, sizeof(*r->dirs));
		if (!r->dirs)
			return NULL;
		r->dirs_size = 1024;
	}
	pp = &r->dirs[dir_hash(k->ver, src, sp, dst, dp) & (r->dirs_size - 1)];
	for (d = *pp; d; d = d->next)
		if (d->ver == k->ver && d->sport == sp && d->dport == dp &&
		    !memcmp(d->src, src, al) && !memcmp(d->dst, dst, al))
			return d;
	if (!create || !(d = calloc(1, sizeof(*d))))
		return NULL;
	d->ver = (uint8_t)k->ver;
	memcpy(d->src, src, al);
	memcpy(d->dst, dst, al);
	d->sport = sp;
	d->dport = dp;
	d->next = *pp;
	*pp = d;
	return d;
}

static void rdir_free_all(struct pcapng_reader *r)
{
	size_t i;

	for (i = 0; r->dirs && i < r->dirs_size; i++)
		while (r->dirs[i]) {
			struct rdir *d = r->dirs[i];

			r->dirs[i] = d->next;
			free(d->buf);
			free(d);
		}
	free(r->dirs);
	r->dirs = NULL;
	r->dirs_size = 0;
}

/* Keep a data packet's payload as the next bytes of its direction. */
static int rdir_append(struct rdir *d, const uint8_t *p, size_t n)
{
	if (!n)
		return 0;
	if (d->len + n > 2 * RDIR_KEEP) {
		size_t drop = d->len + n - RDIR_KEEP;

		if (drop >= d->len) {
			d->len = 0;
		} else {
			memmove(d->buf, d->buf + drop, d->len - drop);
			d->len -= drop;
		}
	}
	if (d->len + n > d->cap) {
		size_t cap = d->cap ? d->cap : 4096;
		uint8_t *b;

		while (cap < d->len + n)
			cap *= 2;
		if (!(b = realloc(d->buf, cap)))
			return -ENOMEM;
		d->buf = b;
		d->cap = cap;
	}
	if (n > RDIR_KEEP * 2) {
		p += n - RDIR_KEEP * 2;
		d->total += n - RDIR_KEEP * 2;
		n = RDIR_KEEP * 2;
	}
	memcpy(d->buf + d->len, p, n);
	d->len += n;
	d->total += n;
	return 0;
}

/* Stream bytes [off, off + n) of d, or NULL if no longer (or not) kept. */
static const uint8_t *rdir_range(const struct rdir *d, uint64_t off, uint64_t n)
{
	uint64_t first;

	if (!d)
		return NULL;
	first = d->total - d->len;
	if (off < first || off + n > d->total)
		return NULL;
	return d->buf + (off - first);
}

struct epb_opts {
	const uint8_t *comment;
	size_t comment_len;
	struct cinfo ci;
	int ours;
};

static void epb_opt_cb(struct pcapng_reader *r, uint16_t code, const uint8_t *v, uint16_t len,
		       void *arg)
{
	struct epb_opts *o = arg;

	(void)r;
	if (code == PNG_OPT_COMMENT && !o->ours && !parse_comment(v, len, &o->ci)) {
		o->ours = 1;
		o->comment = v;
		o->comment_len = len;
	}
}

static uint64_t ts_to_ns(uint64_t ts, uint64_t units)
{
	if (units == 1000000000u || !units)
		return ts;
	return (uint64_t)((unsigned __int128)(ts / units) * 1000000000u +
			  (unsigned __int128)(ts % units) * 1000000000u / units);
}

static int own_epb(struct pcapng_reader *r, uint32_t len, uint64_t start, struct ec_event **out)
{
	const uint8_t *b = r->buf + 8, *end = r->buf + len - 4;
	struct epb_opts o = {0};
	struct rawpkt k;
	uint32_t ifid, caplen, origlen;
	uint64_t ts;
	size_t padded;

	r->st.packets++;
	if (end - b < 20)
		return rerr(r, -EPROTO,
			    "corrupt Enhanced Packet Block #%" PRIu64 " at offset %" PRIu64
			    ": too short",
			    r->nblock, start);
	ifid = rd32(r, b);
	ts = (uint64_t)rd32(r, b + 4) << 32 | rd32(r, b + 8);
	caplen = rd32(r, b + 12);
	origlen = rd32(r, b + 16);
	b += 20;
	padded = ((size_t)caplen + 3) & ~(size_t)3;
	if (caplen > (size_t)(end - b) || ifid >= r->n_ifs)
		return rerr(r, -EPROTO,
			    "corrupt Enhanced Packet Block #%" PRIu64 " at offset %" PRIu64 ": %s",
			    r->nblock, start,
			    ifid >= r->n_ifs ? "unknown interface"
					     : "captured length overruns the block");
	if (padded <= (size_t)(end - b) && walk_options(r, b + padded, end, epb_opt_cb, &o) < 0)
		return rerr(r, -EPROTO,
			    "corrupt Enhanced Packet Block #%" PRIu64 " at offset %" PRIu64
			    ": an option overruns the block",
			    r->nblock, start);
	/* Handshake, FIN and pure ACK packets carry no Dir: nothing to restore. */
	if (!o.ours || !o.ci.has_dir) {
		if (o.ours && r->ifs[ifid].linktype == PNG_LINKTYPE_RAW &&
		    !parse_raw(b, caplen, &k) && (k.flags & PNG_TCP_SYN)) {
			/* A new connection: its directions start again. */
			struct rdir *d = rdir_get(r, &k, 0, 0);

			if (d)
				d->total = d->len = 0;
			if (!(k.flags & PNG_TCP_ACK))
				r->st.connections++;
		}
		return 0;
	}
	if (r->ifs[ifid].linktype != PNG_LINKTYPE_RAW || parse_raw(b, caplen, &k) < 0) {
		r->st.skipped++;
		return 0;
	}
	struct cinfo *ci = &o.ci;
	uint32_t parts = ci->parts ? ci->parts : 1, part = ci->parts ? ci->part : 1;
	/* The event's bytes that are not in this packet: the stream before it
	 * (Prefix:) or a range of the stream (Bytes:, a packet of the other
	 * view's side, so for a receiver the reverse direction). */
	struct rdir *dir = NULL;
	const uint8_t *extra = NULL;
	uint32_t extra_len = 0;

	if (ci->has_bytes) {
		dir = rdir_get(r, &k, ci->dir == EC_DIR_RECV, 0);
		extra_len = ci->bytes_len;
		extra = rdir_range(dir, ci->bytes_off, extra_len);
		k.plen = 0;
		dir = NULL;
		if (!extra) {
			r->st.skipped++;
			return 0;
		}
	} else {
		dir = rdir_get(r, &k, 0, 1);
		if (!dir)
			return rerr(r, -ENOMEM, "out of memory");
		if (ci->prefix) {
			extra_len = ci->prefix;
			extra = rdir_range(dir, dir->total - extra_len, extra_len);
			if (!extra) {
				r->st.skipped++;
				return rdir_append(dir, k.payload, k.plen)
					   ? rerr(r, -ENOMEM, "out of memory")
					   : 0;
			}
		}
	}

	if (part > 1) {
		if (dir && rdir_append(dir, k.payload, k.plen))
			return rerr(r, -ENOMEM, "out of memory");
		if (r->skip_parts && ci->conn_id == r->skip_conn) {
			r->skip_parts--;
			return 0;
		}
		if (!r->pend || part != r->pend_part + 1 || parts != r->pend_parts ||
		    ci->conn_id != r->pend->h.conn_id)
			return rerr(r, -EPROTO,
				    "corrupt Enhanced Packet Block #%" PRIu64 " at offset %" PRIu64
				    ": part %" PRIu32 "/%" PRIu32
				    " does not continue the event before it",
				    r->nblock, start, part, parts);
		size_t need = sizeof(struct ec_event) + r->pend->h.len + k.plen;

		if ((uint64_t)r->pend->h.len + k.plen > UINT32_MAX)
			return rerr(r, -EPROTO, "event too large at block #%" PRIu64, r->nblock);
		if (need > r->pend_cap) {
			size_t cap = r->pend_cap * 2 > need ? r->pend_cap * 2 : need;
			struct ec_event *e = realloc(r->pend, cap);

			if (!e)
				return rerr(r, -ENOMEM, "out of memory joining an event");
			r->pend = e;
			r->pend_cap = cap;
		}
		memcpy(r->pend->data + r->pend->h.len, k.payload, k.plen);
		r->pend->h.len += (uint32_t)k.plen;
		r->pend_part = part;
		if (part == parts) {
			*out = r->pend;
			r->pend = NULL;
			return 1;
		}
		return 0;
	}
	if (r->pend)
		return rerr(r, -EPROTO,
			    "Enhanced Packet Block #%" PRIu64 " at offset %" PRIu64
			    ": an event split over %" PRIu32 " packets ends after part %" PRIu32,
			    r->nblock, start, r->pend_parts, r->pend_part);
	r->skip_parts = 0;
	if (r->has_filter) {
		struct pcap_pkthdr ph = {0};

		ph.caplen = caplen;
		ph.len = origlen < caplen ? caplen : origlen;
		if (!pcap_offline_filter(&r->prog, &ph, b)) {
			r->st.filtered++;
			r->skip_parts = parts - 1;
			r->skip_conn = ci->conn_id;
			if (dir && rdir_append(dir, k.payload, k.plen))
				return rerr(r, -ENOMEM, "out of memory");
			return 0;
		}
	}
	size_t cap = sizeof(struct ec_event) + extra_len + k.plen;
	struct ec_event *ev = ec_event_new((uint32_t)(extra_len + k.plen));

	if (!ev)
		return rerr(r, -ENOMEM, "out of memory");
	struct ec_rec_hdr *h = &ev->h;
	int send = ci->dir == EC_DIR_SEND;

	h->kind = EC_K_DATA;
	h->source = ci->source;
	h->ts_ns = ci->has_time ? ci->time_ns : ts_to_ns(ts, r->ifs[ifid].units);
	h->pid = ci->pid;
	h->tid = ci->tid;
	h->uid = ci->uid;
	h->fd = ci->fd;
	memcpy(h->comm, ci->comm, EC_COMM_LEN);
	h->dir = ci->dir;
	h->flags = ci->flags;
	h->conn_id = ci->conn_id;
	h->call_id = ci->call_id;
	h->aux = ci->aux;
	if (ci->unknown_family) {
		h->family = EC_AF_UNKNOWN;
		h->lport = ci->lport;
		h->rport = ci->rport;
	} else {
		size_t al = k.ver == 4 ? 4 : 16;

		/* A data packet comes from the sender; a Bytes: packet from the
		 * view's own end. */
		int own = send || ci->has_bytes;

		h->family = k.ver == 4 ? EC_AF_INET : EC_AF_INET6;
		memcpy(h->laddr, own ? k.src : k.dst, al);
		memcpy(h->raddr, own ? k.dst : k.src, al);
		h->lport = own ? k.sport : k.dport;
		h->rport = own ? k.dport : k.sport;
	}
	if (extra_len)
		memcpy(ev->data, extra, extra_len);
	memcpy(ev->data + extra_len, k.payload, k.plen);
	if (dir && rdir_append(dir, k.payload, k.plen)) {
		free(ev);
		return rerr(r, -ENOMEM, "out of memory");
	}
	if (parts > 1) {
		r->pend = ev;
		r->pend_cap = cap;
		r->pend_part = 1;
		r->pend_parts = parts;
		return 0;
	}
	*out = ev;
	return 1;
}

/* ---- journal export blocks ---- */

struct jfield {
	const uint8_t *v;
	size_t n;
	int set;
};

enum {
	J_TS_US,
	J_PID,
	J_UID,
	J_COMM,
	J_MESSAGE,
	J_KIND,
	J_SOURCE,
	J_TS_NS,
	J_TID,
	J_FD,
	J_AUX,
	J_FLAGS,
	J_DIR,
	J_FAMILY,
	J_LADDR,
	J_RADDR,
	J_LPORT,
	J_RPORT,
	J_CONN,
	J_CALL,
	J_FILTER,
	J_EVENTS,
	J_BYTES,
	J_L_RESERVE,
	J_L_READ,
	J_L_TRUNC,
	J_L_PERF,
	J_L_QUEUE,
	J_L_MALFORMED,
	J_L_ALLOC,
	J_EVICTED,
	J_MAX
};

static const char *const jnames[J_MAX] = {
    [J_TS_US] = "__REALTIME_TIMESTAMP",
    [J_PID] = "_PID",
    [J_UID] = "_UID",
    [J_COMM] = "_COMM",
    [J_MESSAGE] = "MESSAGE",
    [J_KIND] = "ECAPTOP_KIND",
    [J_SOURCE] = "ECAPTOP_SOURCE",
    [J_TS_NS] = "ECAPTOP_TS_NS",
    [J_TID] = "ECAPTOP_TID",
    [J_FD] = "ECAPTOP_FD",
    [J_AUX] = "ECAPTOP_AUX",
    [J_FLAGS] = "ECAPTOP_FLAGS",
    [J_DIR] = "ECAPTOP_DIR",
    [J_FAMILY] = "ECAPTOP_FAMILY",
    [J_LADDR] = "ECAPTOP_LADDR",
    [J_RADDR] = "ECAPTOP_RADDR",
    [J_LPORT] = "ECAPTOP_LPORT",
    [J_RPORT] = "ECAPTOP_RPORT",
    [J_CONN] = "ECAPTOP_CONN_ID",
    [J_CALL] = "ECAPTOP_CALL_ID",
    [J_FILTER] = "ECAPTOP_FILTER",
    [J_EVENTS] = "ECAPTOP_EVENTS",
    [J_BYTES] = "ECAPTOP_BYTES",
    [J_L_RESERVE] = "ECAPTOP_LOST_RESERVE",
    [J_L_READ] = "ECAPTOP_LOST_READ",
    [J_L_TRUNC] = "ECAPTOP_LOST_TRUNC",
    [J_L_PERF] = "ECAPTOP_LOST_PERF",
    [J_L_QUEUE] = "ECAPTOP_LOST_QUEUE",
    [J_L_MALFORMED] = "ECAPTOP_LOST_MALFORMED",
    [J_L_ALLOC] = "ECAPTOP_LOST_ALLOC",
    [J_EVICTED] = "ECAPTOP_EVICTED",
};

/* Split one Journal Export Format entry into the fields we know. -1 if the
 * entry is malformed. */
static int parse_journal(const uint8_t *p, size_t n, struct jfield *f)
{
	const uint8_t *end = p + n;

	memset(f, 0, sizeof(*f) * J_MAX);
	while (p < end) {
		const uint8_t *q = p;
		const uint8_t *v;
		size_t vl, kl;
		int i;

		if (*p == '\n')
			break; /* the blank line that ends an entry */
		while (q < end && *q != '=' && *q != '\n')
			q++;
		if (q == end)
			return -1;
		kl = (size_t)(q - p);
		if (*q == '=') {
			const uint8_t *nl = memchr(q + 1, '\n', (size_t)(end - q - 1));

			v = q + 1;
			vl = (size_t)((nl ? nl : end) - v);
			q = nl ? nl + 1 : end;
		} else {
			/* Binary form: NAME\n, 64-bit little-endian size, data, \n. */
			uint64_t sz = 0;
			int b;

			if (end - q < 9)
				return -1;
			for (b = 0; b < 8; b++)
				sz |= (uint64_t)q[1 + b] << (8 * b);
			v = q + 9;
			if (sz > (uint64_t)(end - v))
				return -1;
			vl = (size_t)sz;
			q = v + vl;
			if (q < end && *q == '\n')
				q++;
		}
		for (i = 0; i < J_MAX; i++) {
			if (strlen(jnames[i]) == kl && !memcmp(jnames[i], p, kl)) {
				f[i].v = v;
				f[i].n = vl;
				f[i].set = 1;
				break;
			}
		}
		p = q;
	}
	return 0;
}

static int jnum(const struct jfield *f, uint64_t *out)
{
	return f->set ? parse_u64((const char *)f->v, f->n, out) : -1;
}

static int jhex16(const struct jfield *f, uint8_t *out)
{
	size_t i;

	if (!f->set || f->n != 32)
		return -1;
	for (i = 0; i < 16; i++) {
		int a = hexval((char)f->v[2 * i]), b = hexval((char)f->v[2 * i + 1]);

		if (a < 0 || b < 0)
			return -1;
		out[i] = (uint8_t)(a << 4 | b);
	}
	return 0;
}

static char *jdup(const struct jfield *f)
{
	char *s = malloc(f->n + 1);

	if (s) {
		memcpy(s, f->v, f->n);
		s[f->n] = '\0';
	}
	return s;
}

static int own_journal(struct pcapng_reader *r, uint32_t len, uint64_t start, struct ec_event **out)
{
	const uint8_t *b = r->buf + 8;
	size_t n = len - 12;
	struct jfield f[J_MAX];
	uint32_t kind = 0;
	uint64_t v[J_MAX];
	int i;

	while (n && b[n - 1] == '\0') /* padding to 32 bits */
		n--;
	if (parse_journal(b, n, f) < 0)
		return rerr(r, -EPROTO,
			    "corrupt systemd Journal Export Block #%" PRIu64 " at offset %" PRIu64,
			    r->nblock, start);
	if (!f[J_KIND].set)
		return 0; /* a journal entry from someone else: not ours to restore */
	if (f[J_KIND].n == 5 && !memcmp(f[J_KIND].v, "stats", 5)) {
		uint64_t *dst[] = {&r->meta.events,	  &r->meta.bytes,
				   &r->meta.lost.reserve, &r->meta.lost.read,
				   &r->meta.lost.trunc,	  &r->meta.lost.perf,
				   &r->meta.lost.queue,	  &r->meta.lost.malformed,
				   &r->meta.lost.alloc,	  &r->meta.evicted};

		for (i = J_EVENTS; i <= J_EVICTED; i++)
			if (jnum(&f[i], &v[i]) == 0)
				*dst[i - J_EVENTS] = v[i];
		if (f[J_FILTER].set) {
			char *s = jdup(&f[J_FILTER]);

			if (s) {
				free(r->m_filter);
				r->m_filter = s;
				r->meta.filter = s;
			}
		}
		r->meta.has_final = true;
		return 0;
	}
	for (i = EC_K_DATA; i <= EC_K_QUERY; i++) {
		const char *kn = ec_kind_name((uint32_t)i);

		if (strlen(kn) == f[J_KIND].n && !memcmp(kn, f[J_KIND].v, f[J_KIND].n))
			kind = (uint32_t)i;
	}
	if (!kind)
		return rerr(r, -EPROTO,
			    "systemd Journal Export Block #%" PRIu64 " at offset %" PRIu64
			    ": unknown ECAPTOP_KIND",
			    r->nblock, start);
	if (r->has_filter && kind != EC_K_EXEC && kind != EC_K_EXIT) {
		/* A pcap filter selects packets; a journal entry is none. Exec and
		 * exit entries stay: they are what the processes of the packets
		 * that pass are (command line, exited). */
		r->st.filtered++;
		return 0;
	}
	static const int num[] = {J_PID,    J_UID,   J_TID,   J_AUX,  J_FLAGS, J_DIR,
				  J_FAMILY, J_LPORT, J_RPORT, J_CONN, J_CALL};
	static const uint64_t max[] = {UINT32_MAX, UINT32_MAX, UINT32_MAX, UINT32_MAX,
				       0xffff,	   0xff,       0xff,	   0xffff,
				       0xffff,	   UINT64_MAX, UINT64_MAX};
	int32_t fd;

	for (i = 0; i < (int)(sizeof(num) / sizeof(num[0])); i++)
		if (jnum(&f[num[i]], &v[num[i]]) || v[num[i]] > max[i])
			goto bad;
	if (!f[J_FD].set || parse_s32((const char *)f[J_FD].v, f[J_FD].n, &fd))
		goto bad;
	if (jnum(&f[J_TS_NS], &v[J_TS_NS])) {
		if (jnum(&f[J_TS_US], &v[J_TS_US]))
			goto bad;
		v[J_TS_NS] = v[J_TS_US] * 1000;
	}
	size_t mlen = f[J_MESSAGE].set ? f[J_MESSAGE].n : 0;

	if (mlen > UINT32_MAX)
		goto bad;
	struct ec_event *ev = ec_event_new((uint32_t)mlen);

	if (!ev)
		return rerr(r, -ENOMEM, "out of memory");
	struct ec_rec_hdr *h = &ev->h;

	h->kind = kind;
	if (f[J_SOURCE].set && f[J_SOURCE].n < 16) {
		char name[16];

		memcpy(name, f[J_SOURCE].v, f[J_SOURCE].n);
		name[f[J_SOURCE].n] = '\0';
		h->source = ec_source_from_name(name);
	}
	h->ts_ns = v[J_TS_NS];
	h->pid = (uint32_t)v[J_PID];
	h->uid = (uint32_t)v[J_UID];
	h->tid = (uint32_t)v[J_TID];
	h->aux = (uint32_t)v[J_AUX];
	h->flags = (uint16_t)v[J_FLAGS];
	h->dir = (uint8_t)v[J_DIR];
	h->family = (uint8_t)v[J_FAMILY];
	h->lport = (uint16_t)v[J_LPORT];
	h->rport = (uint16_t)v[J_RPORT];
	h->conn_id = v[J_CONN];
	h->call_id = v[J_CALL];
	h->fd = fd;
	if (f[J_COMM].set)
		memcpy(h->comm, f[J_COMM].v, f[J_COMM].n < EC_COMM_LEN ? f[J_COMM].n : EC_COMM_LEN);
	if ((f[J_LADDR].set && jhex16(&f[J_LADDR], h->laddr)) ||
	    (f[J_RADDR].set && jhex16(&f[J_RADDR], h->raddr))) {
		free(ev);
		goto bad;
	}
	if (mlen)
		memcpy(ev->data, f[J_MESSAGE].v, mlen);
	*out = ev;
	return 1;
bad:
	return rerr(r, -EPROTO,
		    "corrupt systemd Journal Export Block #%" PRIu64 " at offset %" PRIu64
		    ": a field is missing or malformed",
		    r->nblock, start);
}

/* ---- section and interfaces ---- */

static char *dupn(const uint8_t *v, size_t n)
{
	char *s = malloc(n + 1);

	if (s) {
		memcpy(s, v, n);
		s[n] = '\0';
	}
	return s;
}

static void set_str(char **slot, const char **pub, const uint8_t *v, size_t n)
{
	char *s = dupn(v, n);

	if (!s)
		return;
	free(*slot);
	*slot = s;
	*pub = s;
}

/* "key=N" inside s (within a comment line), 0 if absent. */
static uint64_t kv_num(const char *s, size_t n, const char *key)
{
	size_t kl = strlen(key), i;
	uint64_t v;

	for (i = 0; i + kl < n; i++) {
		if ((i == 0 || s[i - 1] == ' ') && !memcmp(s + i, key, kl) && s[i + kl] == '=') {
			size_t j = i + kl + 1, e = j;

			while (e < n && s[e] >= '0' && s[e] <= '9')
				e++;
			if (e > j && !parse_u64(s + j, e - j, &v))
				return v;
		}
	}
	return 0;
}

static void shb_opt_cb(struct pcapng_reader *r, uint16_t code, const uint8_t *v, uint16_t len,
		       void *arg)
{
	const char *s = (const char *)v;

	(void)arg;
	switch (code) {
	case PNG_SHB_HARDWARE:
		set_str(&r->m_hw, &r->meta.hardware, v, len);
		break;
	case PNG_SHB_OS:
		set_str(&r->m_os, &r->meta.os, v, len);
		break;
	case PNG_SHB_USERAPPL:
		set_str(&r->m_appl, &r->meta.userappl, v, len);
		break;
	case PNG_OPT_COMMENT:
		if (len >= 16 && !memcmp(s, "Capture filter: ", 16)) {
			if (len == 22 && !memcmp(s + 16, "(none)", 6))
				set_str(&r->m_filter, &r->meta.filter, v, 0);
			else
				set_str(&r->m_filter, &r->meta.filter, v + 16, len - 16u);
		} else if (len >= 10 && !memcmp(s, "Captured: ", 10)) {
			r->meta.events = kv_num(s, len, "events");
			r->meta.bytes = kv_num(s, len, "bytes");
		} else if (len >= 6 && !memcmp(s, "Lost: ", 6)) {
			r->meta.lost.reserve = kv_num(s, len, "reserve");
			r->meta.lost.read = kv_num(s, len, "read");
			r->meta.lost.trunc = kv_num(s, len, "trunc");
			r->meta.lost.perf = kv_num(s, len, "perf");
			r->meta.lost.queue = kv_num(s, len, "queue");
			r->meta.lost.malformed = kv_num(s, len, "malformed");
			r->meta.lost.alloc = kv_num(s, len, "alloc");
			r->meta.evicted = kv_num(s, len, "evicted");
		}
		break;
	}
}

static int own_shb(struct pcapng_reader *r, uint32_t len, uint64_t start)
{
	const uint8_t *b = r->buf + 8, *end = r->buf + len - 4;

	/* BOM(4) major(2) minor(2) section length(8), then options. */
	if (rd16(r, b + 4) != 1)
		return rerr(
		    r, -EPROTO,
		    "unsupported pcapng version %u.%u in the Section Header Block at offset "
		    "%" PRIu64,
		    rd16(r, b + 4), rd16(r, b + 6), start);
	r->seen_shb = true;
	r->n_ifs = 0; /* interfaces are per section */
	if (walk_options(r, b + 16, end, shb_opt_cb, NULL) < 0)
		return rerr(r, -EPROTO,
			    "corrupt Section Header Block at offset %" PRIu64
			    ": an option overruns the block",
			    start);
	return 0;
}

static void idb_opt_cb(struct pcapng_reader *r, uint16_t code, const uint8_t *v, uint16_t len,
		       void *arg)
{
	struct iface *ifc = arg;

	(void)r;
	if (code == PNG_IF_TSRESOL && len >= 1) {
		/* Bit 7 clear: 10^-v seconds; set: 2^-v (section 4.2, if_tsresol). */
		uint8_t e = v[0] & 0x7f;
		uint64_t u = 1;

		if (v[0] & 0x80) {
			u = e < 64 ? (uint64_t)1 << e : 0;
		} else {
			for (uint8_t i = 0; i < e && u; i++)
				u = u > UINT64_MAX / 10 ? 0 : u * 10;
		}
		ifc->units = u ? u : 1000000;
	}
}

static int own_idb(struct pcapng_reader *r, uint32_t len, uint64_t start)
{
	const uint8_t *b = r->buf + 8, *end = r->buf + len - 4;
	struct iface ifc;

	if (end - b < 8)
		return rerr(r, -EPROTO,
			    "corrupt Interface Description Block at offset %" PRIu64 ": too short",
			    start);
	if (r->n_ifs >= MAX_IFACES)
		return rerr(r, -EPROTO, "more than %d interfaces at offset %" PRIu64, MAX_IFACES,
			    start);
	ifc.linktype = rd16(r, b);
	ifc.units = 1000000; /* default: microseconds */
	if (walk_options(r, b + 8, end, idb_opt_cb, &ifc) < 0)
		return rerr(r, -EPROTO,
			    "corrupt Interface Description Block at offset %" PRIu64
			    ": an option overruns the block",
			    start);
	if (!r->ifs) {
		r->ifs = calloc(MAX_IFACES, sizeof(*r->ifs));
		if (!r->ifs)
			return rerr(r, -ENOMEM, "out of memory");
	}
	r->ifs[r->n_ifs++] = ifc;
	return 0;
}

/* ---- own-file loop ---- */

static int own_next(struct pcapng_reader *r, struct ec_event **out)
{
	for (;;) {
		uint64_t start = r->off;
		uint32_t type, len;
		int rc = read_block(r, &type, &len);

		if (rc < 0)
			return rc;
		if (rc == 0) {
			if (r->pend)
				return rerr(r, -EPROTO,
					    "the file ends at offset %" PRIu64
					    " inside an event split over %" PRIu32
					    " packets (after part %" PRIu32 ")",
					    r->off, r->pend_parts, r->pend_part);
			return 0;
		}
		switch (type) {
		case PNG_BT_SHB:
			rc = own_shb(r, len, start);
			break;
		case PNG_BT_IDB:
			rc = own_idb(r, len, start);
			break;
		case PNG_BT_EPB:
			rc = own_epb(r, len, start, out);
			break;
		case PNG_BT_JOURNAL:
			rc = own_journal(r, len, start, out);
			break;
		case PNG_BT_SPB:
		case PNG_BT_PB:
			r->st.packets++;
			r->st.skipped++;
			rc = 0;
			break;
		default:
			rc = 0; /* blocks we do not use are skipped (section 3.1) */
		}
		if (rc)
			return rc;
	}
}

/* ---- detection ---- */

/* Scan the first blocks: is this one of ours? 1 yes, 0 no (foreign), -errno if
 * the file is pcapng but broken before anything could be decided. */
static int probe_own(struct pcapng_reader *r)
{
	int i;

	for (i = 0; i < PROBE_BLOCKS; i++) {
		uint64_t start = r->off;
		uint32_t type, len;
		int rc = read_block(r, &type, &len);

		if (rc <= 0)
			return rc;
		if (type == PNG_BT_SHB) {
			if (own_shb(r, len, start))
				return r->error;
			if (r->meta.userappl && !strncmp(r->meta.userappl, PNG_USERAPPL_PREFIX " ",
							 sizeof(PNG_USERAPPL_PREFIX)))
				return 1;
		} else if (type == PNG_BT_EPB) {
			struct epb_opts o = {0};
			const uint8_t *b = r->buf + 8, *end = r->buf + len - 4;

			if (end - b >= 20) {
				size_t padded = ((size_t)rd32(r, b + 12) + 3) & ~(size_t)3;

				if (padded <= (size_t)(end - b - 20))
					walk_options(r, b + 20 + padded, end, epb_opt_cb, &o);
			}
			return o.ours;
		} else if (type == PNG_BT_JOURNAL) {
			struct jfield f[J_MAX];
			size_t n = len - 12;

			if (parse_journal(r->buf + 8, n, f) == 0 && f[J_KIND].set)
				return 1;
		}
	}
	return 0;
}

static int reset_stream(struct pcapng_reader *r)
{
	if (gzrewind(r->gz) < 0)
		return rerr(r, -EIO, "cannot rewind the input");
	r->off = 0;
	r->gz_short = 0;
	r->nblock = 0;
	r->seen_shb = false;
	r->swap = false;
	r->n_ifs = 0;
	memset(&r->st, 0, sizeof(r->st));
	rdir_free_all(r);
	return 0;
}

/* stdio over zlib, for libpcap: read and ftell only. */
static ssize_t cookie_read(void *c, char *buf, size_t n)
{
	struct pcapng_reader *r = c;
	ssize_t k = src_read(r, buf, n);

	if (k < 0)
		errno = EIO;
	return k;
}

static int cookie_seek(void *c, off64_t *pos, int whence)
{
	struct pcapng_reader *r = c;

	if (whence == SEEK_CUR && *pos == 0) {
		*pos = (off64_t)r->off;
		return 0;
	}
	errno = ESPIPE;
	return -1;
}

static int cookie_close(void *c)
{
	(void)c;
	return 0;
}

/* ---- public ---- */

static struct pcapng_reader *open_fd(int fd, const char *name, const char *filter_expr, char *err,
				     size_t errlen)
{
	struct pcapng_reader *r = calloc(1, sizeof(*r));
	int e, rc;

	if (err && errlen)
		err[0] = '\0';
	if (!r) {
		close(fd);
		snprintf(err, errlen, "out of memory");
		errno = ENOMEM;
		return NULL;
	}
	r->gz = gzdopen(fd, "rb");
	if (!r->gz) {
		close(fd);
		free(r);
		snprintf(err, errlen, "%s: cannot start zlib", name);
		errno = ENOMEM;
		return NULL;
	}
	uint8_t magic[4] = {0};
	ssize_t k = src_read(r, magic, 4);

	if (k < 0) {
		snprintf(err, errlen, "%s: corrupt input at offset 0: %s", name, r->gz_msg);
		e = EIO;
		goto fail;
	}
	if (k == 0) {
		snprintf(err, errlen, "%s: the file is empty", name);
		e = EPROTO;
		goto fail;
	}
	if (k < 4) {
		snprintf(err, errlen,
			 "%s: truncated at offset %zd: too short for a capture file header%s", name,
			 k, r->gz_short ? " (the gzip stream ends early)" : "");
		e = EPROTO;
		goto fail;
	}
	if (!memcmp(magic, "\x0a\x0d\x0d\x0a", 4)) {
		if (reset_stream(r))
			goto fail_r;
		rc = probe_own(r);
		if (rc < 0)
			goto fail_r;
		r->own = rc == 1;
	}
	if (reset_stream(r))
		goto fail_r;
	if (r->own) {
		if (filter_expr && *filter_expr) {
			r->dead = pcap_open_dead(DLT_RAW, PNG_SNAPLEN);
			if (!r->dead) {
				snprintf(err, errlen, "out of memory");
				e = ENOMEM;
				goto fail;
			}
			if (pcap_compile(r->dead, &r->prog, filter_expr, 1, PCAP_NETMASK_UNKNOWN) <
			    0) {
				snprintf(err, errlen, "invalid filter expression \"%s\": %s",
					 filter_expr, pcap_geterr(r->dead));
				e = EINVAL;
				goto fail;
			}
			r->has_filter = true;
		}
		return r;
	}
	memset(&r->meta, 0, sizeof(r->meta));
	static const cookie_io_functions_t io = {
	    .read = cookie_read,
	    .seek = cookie_seek,
	    .close = cookie_close,
	};
	r->fp = fopencookie(r, "r", io);
	if (!r->fp) {
		e = errno;
		snprintf(err, errlen, "%s: %s", name, strerror(e));
		goto fail;
	}
	char why[PCAP_ERRBUF_SIZE + 64];

	r->fo = png_foreign_open(r->fp, filter_expr, why, sizeof(why));
	if (!r->fo) {
		e = errno ? errno : EPROTO;
		/* A filter error is about the expression, anything else about the file. */
		if (!strncmp(why, "invalid filter", 14))
			snprintf(err, errlen, "%s", why);
		else
			snprintf(err, errlen, "%s: %s", name, why);
		if (r->gz_msg[0] || r->gz_short) {
			size_t l = strlen(err);

			snprintf(err + l, errlen - l, " (%s)",
				 r->gz_short ? "the gzip stream ends early" : r->gz_msg);
		}
		/* png_foreign_open closed fp on failure. */
		r->fp = NULL;
		goto fail;
	}
	return r;

fail_r:
	e = -r->error;
	snprintf(err, errlen, "%s: %s", name, r->errbuf);
fail:
	pcapng_reader_close(r);
	errno = e;
	return NULL;
}

struct pcapng_reader *pcapng_reader_open(const char *path, const char *filter_expr, char *err,
					 size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		int e = errno;

		snprintf(err, errlen, "cannot open %s: %s", path, strerror(e));
		errno = e;
		return NULL;
	}
	return open_fd(fd, path, filter_expr, err, errlen);
}

struct pcapng_reader *pcapng_reader_open_fd(int fd, const char *name, const char *filter_expr,
					    char *err, size_t errlen)
{
	return open_fd(fd, name, filter_expr, err, errlen);
}

struct pcapng_reader *pcapng_reader_open_mem(const void *buf, size_t len, const char *filter_expr,
					     char *err, size_t errlen)
{
	/* A memory file, so that exactly the same path (zlib, stdio, libpcap)
	 * reads it as a file on disk. */
	int fd = memfd_create("ecaptop-pcapng", MFD_CLOEXEC);
	const uint8_t *p = buf;
	size_t off = 0;

	if (fd < 0) {
		int e = errno;

		snprintf(err, errlen, "memfd_create: %s", strerror(e));
		errno = e;
		return NULL;
	}
	while (off < len) {
		ssize_t k = write(fd, p + off, len - off);

		if (k < 0) {
			int e = errno;

			if (e == EINTR)
				continue;
			close(fd);
			snprintf(err, errlen, "memfd write: %s", strerror(e));
			errno = e;
			return NULL;
		}
		off += (size_t)k;
	}
	if (lseek(fd, 0, SEEK_SET) < 0) {
		int e = errno;

		close(fd);
		snprintf(err, errlen, "memfd seek: %s", strerror(e));
		errno = e;
		return NULL;
	}
	return open_fd(fd, "(memory)", filter_expr, err, errlen);
}

int pcapng_reader_next(struct pcapng_reader *r, struct ec_event **out)
{
	int rc;

	*out = NULL;
	if (r->error)
		return r->error;
	if (r->done)
		return 0;
	if (r->own) {
		rc = own_next(r, out);
	} else {
		rc = png_foreign_next(r->fo, out, r->errbuf, sizeof(r->errbuf));
		if (rc < 0) {
			if (r->gz_msg[0] || r->gz_short) {
				size_t l = strlen(r->errbuf);

				snprintf(r->errbuf + l, sizeof(r->errbuf) - l, " (%s)",
					 r->gz_short ? "the gzip stream ends early" : r->gz_msg);
			}
			r->error = rc;
		}
	}
	if (rc == 0 && r->gz_short)
		return rerr(r, -EPROTO,
			    "truncated at offset %" PRIu64
			    ": the gzip stream ends without its trailer (the file was cut short)",
			    r->off);
	if (rc == 0)
		r->done = 1;
	return rc;
}

const char *pcapng_reader_error(const struct pcapng_reader *r)
{
	return r->errbuf;
}

bool pcapng_reader_is_own(const struct pcapng_reader *r)
{
	return r->own;
}

const struct pcapng_meta *pcapng_reader_meta(const struct pcapng_reader *r)
{
	return &r->meta;
}

void pcapng_reader_stats(const struct pcapng_reader *r, struct pcapng_reader_stats *st)
{
	if (r->fo)
		png_foreign_stats(r->fo, st);
	else
		*st = r->st;
}

void pcapng_reader_close(struct pcapng_reader *r)
{
	if (!r)
		return;
	if (r->fo)
		png_foreign_close(r->fo); /* closes fp */
	else if (r->fp)
		fclose(r->fp);
	if (r->gz)
		gzclose(r->gz);
	if (r->has_filter)
		pcap_freecode(&r->prog);
	if (r->dead)
		pcap_close(r->dead);
	free(r->pend);
	rdir_free_all(r);
	free(r->ifs);
	free(r->buf);
	free(r->m_filter);
	free(r->m_hw);
	free(r->m_os);
	free(r->m_appl);
	free(r);
}
