/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Private to engine/pcapng_*.c: block and option numbers, the comment keys
 * shared by the writer and the reader, and small helpers both sides need.
 */
#ifndef ECAPTOP_ENGINE_PCAPNG_INT_H
#define ECAPTOP_ENGINE_PCAPNG_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "engine/file/pcapng.h"

#ifndef ECAPTOP_VERSION
#define ECAPTOP_VERSION "unknown"
#endif

/* Block types (draft-ietf-opsawg-pcapng section 10.1, block type codes). */
#define PNG_BT_SHB     0x0A0D0D0Au /* section 4.1 */
#define PNG_BT_IDB     0x00000001u /* section 4.2 */
#define PNG_BT_PB      0x00000002u /* obsolete Packet Block, appendix */
#define PNG_BT_SPB     0x00000003u /* section 4.4 */
#define PNG_BT_EPB     0x00000006u /* section 4.3 */
#define PNG_BT_JOURNAL 0x00000009u /* systemd Journal Export Block */
#define PNG_BOM	       0x1A2B3C4Du /* byte-order magic, section 4.1 */

/* Options (section 3.5 common, 4.1 SHB, 4.2 IDB, 4.3 EPB). */
#define PNG_OPT_END	   0
#define PNG_OPT_COMMENT	   1
#define PNG_SHB_HARDWARE   2
#define PNG_SHB_OS	   3
#define PNG_SHB_USERAPPL   4
#define PNG_IF_NAME	   2
#define PNG_IF_DESCRIPTION 3
#define PNG_IF_TSRESOL	   9
#define PNG_EPB_FLAGS	   2

/* LINKTYPE_RAW: the packet begins with an IPv4 or IPv6 header
 * (https://www.tcpdump.org/linktypes.html). */
#define PNG_LINKTYPE_RAW 101
#define PNG_SNAPLEN	 262144

#define PNG_USERAPPL_PREFIX "ecaptop"

/* TCP header flags (RFC 9293 section 3.1). */
#define PNG_TCP_FIN 0x01
#define PNG_TCP_SYN 0x02
#define PNG_TCP_RST 0x04
#define PNG_TCP_PSH 0x08
#define PNG_TCP_ACK 0x10

/* Which side of a connection is the server, judged by the ports alone: 1 if
 * port a is the server's, -1 if port b is, 0 if the ports do not say. A
 * privileged port facing an unprivileged one, or a port below the Linux
 * ephemeral range (32768-60999, /proc/sys/net/ipv4/ip_local_port_range)
 * facing one inside it, is the server. */
static inline int png_port_server(uint16_t a, uint16_t b)
{
	if (a == b || !a || !b)
		return 0;
	if ((a < 1024) != (b < 1024))
		return a < 1024 ? 1 : -1;
	if ((a < 32768) != (b < 32768))
		return a < 32768 ? 1 : -1;
	return 0;
}

/* Little-endian 16/32/64-bit stores and loads (our files are written in host
 * order, which the SHB's byte-order magic announces; x86 and arm64 are little
 * endian, and the reader handles either order). */
static inline void png_put16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, 2);
}

static inline void png_put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

/* Big-endian (network order) stores for packet headers. */
static inline void png_put16be(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void png_put32be(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline uint16_t png_get16be(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t png_get32be(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The tshark decode hint of a recording (engine/file/pcapng_hint.c): the
 * (protocol, server port) pairs Wireshark must be told about. */
#define PNG_HINT_MAX 32
struct png_hints {
	uint32_t key[PNG_HINT_MAX]; /* proto << 16 | port, in the order found */
	size_t n;
	uint64_t dropped; /* pairs past PNG_HINT_MAX, connections not looked at */
	size_t active;	  /* connections being recognised, at most PNG_HINT_ACTIVE */
};
/* Bounds the memory recognition holds (the dispatcher keeps a connection's
 * first bytes while it decides): later connections are not looked at. */
#define PNG_HINT_ACTIVE 1024
/* One connection's recognition state, created by the first png_hint_feed. */
struct png_hint_det;
/* n payload bytes p sent by side 0 (from0) or side 1 of a connection whose
 * packet ports are port[0], port[1] and whose client the writer made side
 * client; a protocol recognised is noted in h (once per protocol and server
 * port, unless tshark knows it on that port). 0 or -ENOMEM. */
int png_hint_feed(struct png_hints *h, struct png_hint_det **d, int from0, const uint8_t *p,
		  size_t n, uint64_t ts_ns, const uint16_t port[2], int client);
void png_hint_det_free(struct png_hints *h, struct png_hint_det *d); /* accepts NULL d */
/* "-d tcp.port==N,PROTO ..." into buf (whole options only); its length. */
size_t png_hint_format(const struct png_hints *h, char *buf, size_t len);

/* Foreign captures (engine/file/pcapng_tcp.c): TCP reassembly over libpcap. */
struct png_foreign;
struct pcapng_reader;
/* Takes fp (a FILE * of the decompressed stream, positioned at its start).
 * NULL with a reason in err. */
struct png_foreign *png_foreign_open(void *fp, const char *filter_expr, char *err, size_t errlen);
/* As pcapng_reader_next. */
int png_foreign_next(struct png_foreign *f, struct ec_event **out, char *err, size_t errlen);
void png_foreign_stats(const struct png_foreign *f, struct pcapng_reader_stats *st);
void png_foreign_close(struct png_foreign *f);

#endif
