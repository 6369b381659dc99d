/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Helpers shared by the pcapng unit tests: temporary directories, event
 * builders, and an independent pcapng walker (written from the draft, not from
 * engine/pcapng_*.c) used to check what the writer produced.
 */
#ifndef ECAPTOP_TESTS_PCAPNG_LIB_H
#define ECAPTOP_TESTS_PCAPNG_LIB_H

#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/file/pcapng.h"

static char tl_dir[64];
static inline void tl_cleanup(void);

static inline const char *tl_tmpdir(void)
{
	if (!tl_dir[0]) {
		snprintf(tl_dir, sizeof(tl_dir), "/tmp/ecaptop-pcapng-XXXXXX");
		if (!mkdtemp(tl_dir)) {
			perror("mkdtemp");
			exit(2);
		}
		atexit(tl_cleanup);
	}
	return tl_dir;
}

static inline char *tl_path(const char *name)
{
	static char buf[8][256];
	static int i;
	char *p = buf[i++ & 7];

	snprintf(p, 256, "%s/%s", tl_tmpdir(), name);
	return p;
}

static inline void tl_cleanup(void)
{
	char cmd[128];

	if (tl_dir[0]) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tl_dir);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", tl_dir);
	}
}

static uint64_t tl_rng = 0x9e3779b97f4a7c15ULL;

static inline uint64_t tl_rand(void)
{
	/* xorshift64* */
	tl_rng ^= tl_rng >> 12;
	tl_rng ^= tl_rng << 25;
	tl_rng ^= tl_rng >> 27;
	return tl_rng * 2685821657736338717ULL;
}

static inline struct ec_event *tl_data(int family, const char *laddr, uint16_t lport,
				       const char *raddr, uint16_t rport, uint64_t conn_id, int dir,
				       const void *payload, uint32_t len, uint64_t ts)
{
	struct ec_event *e = ec_event_new(len);

	e->h.kind = EC_K_DATA;
	e->h.source = EC_S_OPENSSL;
	e->h.ts_ns = ts;
	e->h.pid = 31337;
	e->h.tid = 31338;
	e->h.uid = 1000;
	e->h.fd = 7;
	snprintf(e->h.comm, sizeof(e->h.comm), "curl");
	e->h.dir = (uint8_t)dir;
	e->h.family = (uint8_t)family;
	if (family == EC_AF_INET) {
		inet_pton(AF_INET, laddr, e->h.laddr);
		inet_pton(AF_INET, raddr, e->h.raddr);
	} else if (family == EC_AF_INET6) {
		inet_pton(AF_INET6, laddr, e->h.laddr);
		inet_pton(AF_INET6, raddr, e->h.raddr);
	}
	e->h.lport = lport;
	e->h.rport = rport;
	e->h.conn_id = conn_id;
	if (len && payload)
		memcpy(e->data, payload, len);
	return e;
}

static inline struct ec_event *tl_note(uint32_t kind, uint32_t source, uint32_t pid,
				       const char *comm, const void *payload, uint32_t len,
				       uint64_t ts)
{
	struct ec_event *e = ec_event_new(len);

	e->h.kind = kind;
	e->h.source = source;
	e->h.pid = pid;
	e->h.tid = pid;
	e->h.uid = 1001;
	e->h.ts_ns = ts;
	snprintf(e->h.comm, sizeof(e->h.comm), "%s", comm);
	if (len)
		memcpy(e->data, payload, len);
	return e;
}

/* Read every event; returns the count, *rc the last pcapng_reader_next value. */
static inline size_t tl_read_all(struct pcapng_reader *r, struct ec_event **evs, size_t max,
				 int *rc)
{
	size_t n = 0;
	struct ec_event *ev;

	while ((*rc = pcapng_reader_next(r, &ev)) == 1) {
		if (n < max)
			evs[n++] = ev;
		else
			free(ev);
	}
	return n;
}

static inline uint8_t *tl_slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *b = NULL;
	size_t cap = 0, n = 0, k;

	if (!f)
		return NULL;
	do {
		if (n + 65536 > cap) {
			cap = cap ? cap * 2 : 131072;
			b = realloc(b, cap);
		}
		k = fread(b + n, 1, cap - n, f);
		n += k;
	} while (k > 0);
	fclose(f);
	*len = n;
	return b;
}

static inline int tl_spit(const char *path, const void *p, size_t n)
{
	FILE *f = fopen(path, "wb");
	int ok;

	if (!f)
		return -1;
	ok = fwrite(p, 1, n, f) == n;
	return fclose(f) == 0 && ok ? 0 : -1;
}

/* ---- an independent pcapng walker (little-endian files only) ---- */

struct tl_block {
	size_t off, len;
	uint32_t type;
	int completes_event; /* an EPB/journal block after which one more event is whole */
	int opens_split;     /* a part k/n, k < n, of an event split over packets */
};

static inline uint32_t tl_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint16_t tl_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

/* The opt_comment of an EPB, NUL-terminated into out (empty if none). */
static inline void tl_epb_comment(const uint8_t *b, size_t len, char *out, size_t outlen)
{
	uint32_t caplen = tl_le32(b + 20);
	size_t o = 28 + ((caplen + 3) & ~3u);

	out[0] = '\0';
	while (o + 4 <= len - 4) {
		uint16_t code = tl_le16(b + o), ol = tl_le16(b + o + 2);

		if (code == 0)
			break;
		if (code == 1 && ol < outlen) {
			memcpy(out, b + o + 4, ol);
			out[ol] = '\0';
			return;
		}
		o += 4 + ((ol + 3u) & ~3u);
	}
}

static inline size_t tl_walk(const uint8_t *f, size_t n, struct tl_block *bl, size_t max)
{
	size_t off = 0, k = 0;
	char cm[1024];

	while (off + 12 <= n && k < max) {
		uint32_t type = tl_le32(f + off), len = tl_le32(f + off + 4);

		if (len < 12 || off + len > n)
			break;
		bl[k].off = off;
		bl[k].len = len;
		bl[k].type = type;
		bl[k].completes_event = 0;
		bl[k].opens_split = 0;
		if (type == 6) {
			tl_epb_comment(f + off, len, cm, sizeof(cm));
			const char *part = strstr(cm, "Part: ");

			if (strstr(cm, "Dir: ")) {
				unsigned a = 1, b = 1;

				if (part)
					sscanf(part, "Part: %u/%u", &a, &b);
				bl[k].completes_event = a == b;
				bl[k].opens_split = a < b;
			}
		} else if (type == 9) {
			bl[k].completes_event = !memmem(f + off, len, "ECAPTOP_KIND=stats", 18) &&
						memmem(f + off, len, "ECAPTOP_KIND=", 13);
		}
		k++;
		off += len;
	}
	return k;
}

/* RFC 1071 sum over data; a correct header or segment (with its pseudo
 * header) sums to 0xffff. */
static inline uint32_t tl_sum(uint32_t s, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		s += (i & 1) ? p[i] : (uint32_t)p[i] << 8;
	return s;
}

static inline uint16_t tl_fold(uint32_t s)
{
	while (s > 0xffff)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

#endif
