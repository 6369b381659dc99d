// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The packet-mode pcapng writer (pcapng_pkt.h). Blocks are written in host byte
 * order, as the section header's byte-order magic tells readers.
 */
#include "engine/file/pcapng_pkt.h"

#include <errno.h>
#include <fcntl.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef ECAPTOP_VERSION
#define ECAPTOP_VERSION "0.0.0"
#endif

#define BT_SHB	       0x0A0D0D0Au
#define BT_IDB	       0x00000001u
#define BT_ISB	       0x00000005u
#define BT_EPB	       0x00000006u
#define BT_DSB	       0x0000000Au
#define DSB_TLS_KEYLOG 0x544c534bu

struct pcapng_pkt_writer {
	FILE *f;
	uint32_t n_ifaces;
	uint64_t bytes;
	int error; /* the first -errno */
};

static void put(struct pcapng_pkt_writer *w, const void *p, size_t n)
{
	if (w->error)
		return;
	if (n && fwrite(p, 1, n, w->f) != n)
		w->error = errno ? -errno : -EIO;
	w->bytes += n;
}

static void put32(struct pcapng_pkt_writer *w, uint32_t v)
{
	put(w, &v, 4);
}

static size_t pad4(size_t n)
{
	return (n + 3) & ~(size_t)3;
}

/* Size of one option with a value of n bytes. */
static size_t opt_size(size_t n)
{
	return 4 + pad4(n);
}

static void put_opt(struct pcapng_pkt_writer *w, uint16_t code, const void *v, size_t n)
{
	static const uint8_t zero[4];
	uint16_t h[2] = {code, (uint16_t)n};

	put(w, h, 4);
	put(w, v, n);
	put(w, zero, pad4(n) - n);
}

/* An option's length field is 16 bits. */
static size_t opt_len(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	return n > 65532 ? 65532 : n;
}

struct pcapng_pkt_writer *pcapng_pkt_open(const char *path, bool force, const char *comment,
					  char *err, size_t errlen)
{
	static const char appl[] = "ecaptop " ECAPTOP_VERSION;
	struct pcapng_pkt_writer *w;
	size_t clen = opt_len(comment), len;
	struct stat st;
	int fd;

	fd = open(path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC | (force ? O_TRUNC : O_EXCL),
		  0600);
	if (fd < 0) {
		snprintf(err, errlen, "%s%s", strerror(errno),
			 errno == EEXIST  ? " (use --force to overwrite)"
			 : errno == ELOOP ? " (a symbolic link: refused)"
					  : "");
		return NULL;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "not a regular file");
		close(fd);
		return NULL;
	}
	w = calloc(1, sizeof(*w));
	if (!w || !(w->f = fdopen(fd, "w"))) {
		snprintf(err, errlen, "%s", strerror(errno));
		free(w);
		close(fd);
		return NULL;
	}
	len = 28 + opt_size(sizeof(appl) - 1) + (clen ? opt_size(clen) : 0) + 4;
	put32(w, BT_SHB);
	put32(w, (uint32_t)len);
	put32(w, 0x1A2B3C4D);
	put(w, (uint16_t[]){1, 0}, 4);
	put(w, (int64_t[]){-1}, 8); /* section length unknown */
	if (clen)
		put_opt(w, 1, comment, clen);
	put_opt(w, 4, appl, sizeof(appl) - 1); /* shb_userappl */
	put32(w, 0);			       /* opt_endofopt */
	put32(w, (uint32_t)len);
	if (w->error) {
		snprintf(err, errlen, "%s", strerror(-w->error));
		fclose(w->f);
		free(w);
		return NULL;
	}
	return w;
}

int pcapng_pkt_add_iface(struct pcapng_pkt_writer *w, const char *name, uint16_t linktype,
			 uint32_t snaplen)
{
	size_t nlen = opt_len(name);
	uint8_t tsresol = 9;
	uint32_t len = (uint32_t)(16 + opt_size(nlen) + opt_size(1) + 4 + 4);

	put32(w, BT_IDB);
	put32(w, len);
	put(w, (uint16_t[]){linktype, 0}, 4);
	put32(w, snaplen);
	put_opt(w, 2, name, nlen);  /* if_name */
	put_opt(w, 9, &tsresol, 1); /* if_tsresol: 10^-9 */
	put32(w, 0);
	put32(w, len);
	return w->error ? w->error : (int)w->n_ifaces++;
}

int pcapng_pkt_add_secrets(struct pcapng_pkt_writer *w, const char *text, size_t len)
{
	static const uint8_t zero[4];
	uint32_t blen;

	if (len > (1u << 20))
		return -E2BIG;
	blen = (uint32_t)(20 + pad4(len));
	put32(w, BT_DSB);
	put32(w, blen);
	put32(w, DSB_TLS_KEYLOG);
	put32(w, (uint32_t)len);
	put(w, text, len);
	put(w, zero, pad4(len) - len);
	put32(w, blen);
	return w->error;
}

int pcapng_pkt_add_packet(struct pcapng_pkt_writer *w, uint32_t iface, uint64_t ts_ns,
			  const void *data, uint32_t cap_len, uint32_t wire_len, uint32_t flags,
			  const char *comment)
{
	static const uint8_t zero[4];
	size_t clen = opt_len(comment);
	uint32_t len;

	if (iface >= w->n_ifaces)
		return -EINVAL;
	len = (uint32_t)(32 + pad4(cap_len) + (clen ? opt_size(clen) : 0) +
			 (flags ? opt_size(4) : 0) + 4);
	put32(w, BT_EPB);
	put32(w, len);
	put32(w, iface);
	put32(w, (uint32_t)(ts_ns >> 32));
	put32(w, (uint32_t)ts_ns);
	put32(w, cap_len);
	put32(w, wire_len);
	put(w, data, cap_len);
	put(w, zero, pad4(cap_len) - cap_len);
	if (clen)
		put_opt(w, 1, comment, clen);
	if (flags)
		put_opt(w, 2, &flags, 4); /* epb_flags */
	put32(w, 0);
	put32(w, len);
	return w->error;
}

int pcapng_pkt_add_stats(struct pcapng_pkt_writer *w, uint32_t iface, uint64_t ts_ns, uint64_t recv,
			 uint64_t drop, uint64_t accepted)
{
	uint32_t len = (uint32_t)(20 + 3 * opt_size(8) + 4 + 4);

	if (iface >= w->n_ifaces)
		return -EINVAL;
	put32(w, BT_ISB);
	put32(w, len);
	put32(w, iface);
	put32(w, (uint32_t)(ts_ns >> 32));
	put32(w, (uint32_t)ts_ns);
	put_opt(w, 4, &recv, 8);     /* isb_ifrecv */
	put_opt(w, 5, &drop, 8);     /* isb_ifdrop */
	put_opt(w, 6, &accepted, 8); /* isb_filteraccept */
	put32(w, 0);
	put32(w, len);
	return w->error;
}

int pcapng_pkt_flush(struct pcapng_pkt_writer *w)
{
	if (!w->error && fflush(w->f))
		w->error = -errno;
	return w->error;
}

int pcapng_pkt_close(struct pcapng_pkt_writer *w)
{
	int ret;

	if (!w)
		return 0;
	pcapng_pkt_flush(w);
	ret = w->error;
	if (fclose(w->f) && !ret)
		ret = -errno;
	free(w);
	return ret;
}

uint64_t pcapng_pkt_bytes(const struct pcapng_pkt_writer *w)
{
	return w->bytes;
}

struct pcapng_pkt_filter {
	struct bpf_program prog;
};

struct pcapng_pkt_filter *pcapng_pkt_filter_new(const char *expr, uint16_t linktype,
						uint32_t snaplen, char *err, size_t errlen)
{
	struct pcapng_pkt_filter *f = calloc(1, sizeof(*f));
	pcap_t *dead = pcap_open_dead(linktype, (int)snaplen);

	if (!f || !dead) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (pcap_compile(dead, &f->prog, expr, 1, PCAP_NETMASK_UNKNOWN)) {
		snprintf(err, errlen, "bad filter expression '%s': %s", expr, pcap_geterr(dead));
		goto fail;
	}
	pcap_close(dead);
	return f;
fail:
	if (dead)
		pcap_close(dead);
	free(f);
	return NULL;
}

bool pcapng_pkt_filter_match(const struct pcapng_pkt_filter *f, const uint8_t *data,
			     uint32_t cap_len, uint32_t wire_len)
{
	struct pcap_pkthdr h = {.caplen = cap_len, .len = wire_len};

	return pcap_offline_filter(&f->prog, &h, data) != 0;
}

void pcapng_pkt_filter_free(struct pcapng_pkt_filter *f)
{
	if (!f)
		return;
	pcap_freecode(&f->prog);
	free(f);
}

bool pcapng_pkt_client_random(const uint8_t *p, uint32_t len, uint16_t linktype, uint8_t random[32])
{
	uint32_t l3 = 0, l4, pl, ethertype;
	uint8_t proto;

	if (linktype == PCAPNG_LINKTYPE_ETHERNET) {
		if (len < 14)
			return false;
		ethertype = (uint32_t)p[12] << 8 | p[13];
		l3 = 14;
	} else if (linktype == PCAPNG_LINKTYPE_RAW) {
		if (len < 1)
			return false;
		ethertype = (p[0] >> 4) == 4 ? 0x0800 : (p[0] >> 4) == 6 ? 0x86DD : 0;
	} else {
		return false;
	}
	if (ethertype == 0x0800) {
		if (len < l3 + 20 || (p[l3] >> 4) != 4 || (p[l3] & 15) < 5)
			return false;
		proto = p[l3 + 9];
		l4 = l3 + (uint32_t)(p[l3] & 15) * 4;
	} else if (ethertype == 0x86DD) {
		if (len < l3 + 40)
			return false;
		proto = p[l3 + 6]; /* extension headers are not followed */
		l4 = l3 + 40;
	} else {
		return false;
	}
	if (proto != 6 || len < l4 + 20)
		return false;
	pl = l4 + (uint32_t)(p[l4 + 12] >> 4) * 4; /* TCP data offset */
	if (pl < l4 + 20)
		return false;
	/* TLS record: type 22 (handshake), version 3.x, length; handshake: type 1
	 * (client_hello), 24-bit length, legacy_version (2), random (32). */
	if (len < pl + 43 || p[pl] != 22 || p[pl + 1] != 3 || p[pl + 5] != 1)
		return false;
	memcpy(random, p + pl + 11, 32);
	return true;
}
