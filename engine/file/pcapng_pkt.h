/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * pcapng of real packets (--packets -w FILE): the file tshark and Wireshark open
 * decrypted with no other file. Blocks (draft-ietf-opsawg-pcapng sections):
 *  - one Section Header Block (4.1): shb_userappl "ecaptop <version>", and
 *    opt_comment lines given at open (the capture's interfaces and filter);
 *  - one Interface Description Block (4.2) per captured interface: its link type
 *    (LINKTYPE_ETHERNET for Ethernet and loopback, LINKTYPE_RAW for raw IP
 *    devices), snaplen, if_name and if_tsresol 9 (nanoseconds);
 *  - Decryption Secrets Blocks (4.7, secrets type 0x544c534b "TLSK": NSS key log
 *    lines) written as the secrets arrive, so before the packets they decrypt;
 *  - one Enhanced Packet Block (4.3) per packet: wall-clock time in ns, epb_flags
 *    inbound/outbound, and an opt_comment naming its process (ptcpdump's "PID:"
 *    lines, as engine/file/pcapng.h describes for saved events);
 *  - at close, an Interface Statistics Block (4.6) per interface: isb_ifrecv and
 *    isb_ifdrop as the caller counts them (packets.c: all interfaces together), and
 *    isb_filteraccept (the packets written from this interface).
 * The writer is not thread-safe: one thread calls it.
 */
#ifndef ECAPTOP_ENGINE_FILE_PCAPNG_PKT_H
#define ECAPTOP_ENGINE_FILE_PCAPNG_PKT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PCAPNG_LINKTYPE_ETHERNET 1
#define PCAPNG_LINKTYPE_RAW	 101
#define PCAPNG_EPB_INBOUND	 1
#define PCAPNG_EPB_OUTBOUND	 2

struct pcapng_pkt_writer;

/* Create path (0600, never through a symlink; an existing file only with force)
 * and write the section header with comment (borrowed; NULL: none). NULL with a
 * one-line reason in err. */
struct pcapng_pkt_writer *pcapng_pkt_open(const char *path, bool force, const char *comment,
					  char *err, size_t errlen);
/* Describe an interface: its id (0, 1, ...) in the EPBs, or -errno. */
int pcapng_pkt_add_iface(struct pcapng_pkt_writer *w, const char *name, uint16_t linktype,
			 uint32_t snaplen);
/* A Decryption Secrets Block of NSS key log lines (text, len bytes). 0 or -errno. */
int pcapng_pkt_add_secrets(struct pcapng_pkt_writer *w, const char *text, size_t len);
/* One packet: ts_ns Unix-epoch ns; flags PCAPNG_EPB_*; comment borrowed (NULL:
 * none). 0 or -errno. */
int pcapng_pkt_add_packet(struct pcapng_pkt_writer *w, uint32_t iface, uint64_t ts_ns,
			  const void *data, uint32_t cap_len, uint32_t wire_len, uint32_t flags,
			  const char *comment);
/* Interface statistics at ts_ns: packets seen, dropped, accepted by the filter. */
int pcapng_pkt_add_stats(struct pcapng_pkt_writer *w, uint32_t iface, uint64_t ts_ns, uint64_t recv,
			 uint64_t drop, uint64_t accepted);
/* Push what is buffered to the file. 0 or -errno. */
int pcapng_pkt_flush(struct pcapng_pkt_writer *w);
/* Flush and close; accepts NULL. 0 or -errno (the first error of the file's life). */
int pcapng_pkt_close(struct pcapng_pkt_writer *w);
/* Bytes written so far. */
uint64_t pcapng_pkt_bytes(const struct pcapng_pkt_writer *w);

/* A pcap filter expression compiled by libpcap for packets of linktype. NULL with
 * "bad filter expression 'EXPR': why" in err. */
struct pcapng_pkt_filter;
struct pcapng_pkt_filter *pcapng_pkt_filter_new(const char *expr, uint16_t linktype,
						uint32_t snaplen, char *err, size_t errlen);
/* Does the packet (cap_len bytes of wire_len) pass? */
bool pcapng_pkt_filter_match(const struct pcapng_pkt_filter *f, const uint8_t *data,
			     uint32_t cap_len, uint32_t wire_len);
/* Accepts NULL. */
void pcapng_pkt_filter_free(struct pcapng_pkt_filter *f);

/* If the packet (linktype PCAPNG_LINKTYPE_ETHERNET or _RAW; IPv4 or IPv6, TCP) carries
 * a TLS ClientHello at the start of its payload (RFC 8446 section 4.1.2; RFC 5246
 * 7.4.1.2), copy its 32-byte random to random and return true. Reads no byte past
 * len. */
bool pcapng_pkt_client_random(const uint8_t *pkt, uint32_t len, uint16_t linktype,
			      uint8_t random[32]);

#endif
