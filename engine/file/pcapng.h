/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * pcapng files: ecaptop's one capture format, for saving and for replay.
 *
 * Specification: the pcapng IETF draft (draft-ietf-opsawg-pcapng), "PCAP Next
 * Generation (pcapng) Capture File Format"; block and option numbers below cite
 * its sections. The systemd Journal Export Block is block type 9 (section 4.7 of
 * the block type registry) holding one entry in the Journal Export Format
 * (https://systemd.io/JOURNAL_EXPORT_FORMATS/).
 *
 * What a file written here contains, in order:
 *  - one Section Header Block (SHB): shb_userappl "ecaptop <version>", shb_os
 *    (uname sysname release version), shb_hardware (uname machine or
 *    meta->hardware) and opt_comment lines "Capture filter: EXPR",
 *    "Captured: events=N bytes=N" and "Lost: reserve=N read=N ..." carrying the
 *    counters of struct pcapng_meta as they were when the file was opened, and
 *    where meta->decode is set, "Decode with: tshark -d tcp.port==N,PROTO ..."
 *    (Wireshark decodes HTTP/2, MySQL and PostgreSQL on other ports only when
 *    told). Without meta->decode (a -w recording) the writer recognises each
 *    connection's protocol itself (engine/file/pcapng_hint.c) and reserves a
 *    1 KiB comment ("Decode with: not known ...", padded with spaces) that
 *    pcapng_writer_close() rewrites in place with the options found. A ".gz"
 *    file then starts with the SHB alone as a gzip member of one stored
 *    deflate block (RFC 1952, 1951 section 3.2.4), whose bytes and CRC are
 *    rewritten the same way; the rest is a second member;
 *  - one Interface Description Block: LINKTYPE_RAW (101: the packet starts at
 *    the IPv4/IPv6 header) with if_tsresol 9 (nanoseconds). Raw IP rather than
 *    Ethernet because there is no link layer to report: synthetic MAC addresses
 *    would be invented data, tshark/Wireshark decode raw IP exactly as well, and
 *    pcap filter expressions ("tcp port 80", "ip6 host ::1") work unchanged;
 *  - per data event, synthetic TCP/IP packets (Enhanced Packet Blocks) of its
 *    connection: a SYN, SYN-ACK, ACK handshake from the client before its first
 *    packet, then the payload as PSH|ACK segments of at most PCAPNG_MAX_SEG
 *    bytes, and a FIN, FIN, ACK close where the connection ended (see
 *    "Connections" below). Every packet carries an opt_comment in the format
 *    ptcpdump readers know:
 *        PID: 1234\nCmd: curl\nUID: 1000\nSource: openssl\nTID: 1235\nFD: 5\n
 *        Conn: 0x1f2e3d4c\n   and on packets of an event:  Dir: send\n
 *    plus, only where they are not zero: Flags:, Call:, Aux:, Part: k/n (an
 *    event larger than one segment), Time: NS (the event's own time when the
 *    packet's had to be later), Prefix: N (the event's first N bytes are the N
 *    bytes of the stream before this packet), Bytes: OFF+LEN (a packet without
 *    payload standing for an event whose bytes were all written before: bytes
 *    OFF to OFF+LEN of its direction's stream, counted from the first data
 *    byte), and for a connection of unknown family "Family: unknown", LPort:,
 *    RPort:; last, where the other end's process was captured too, "Peer PID:"
 *    and "Peer Cmd:" lines naming it. comm is escaped (\\, \n, \xHH) so any
 *    byte survives. The epb_flags option marks send as outbound, recv inbound;
 *  - per non-packet event (command, query, exec, exit), a systemd Journal Export
 *    Block with __REALTIME_TIMESTAMP (us), _PID, _UID, _COMM, MESSAGE (the
 *    payload; the export format's binary length form when it is not one line of
 *    printable text) and ECAPTOP_* fields holding every other header field, so
 *    the event is restored exactly;
 *  - at pcapng_writer_close(w, final) with final != NULL, one more Journal Export
 *    Block with ECAPTOP_KIND=stats: the counters at the time of saving (an SHB
 *    cannot be amended once written, least of all inside a gzip stream). It is
 *    shown by Wireshark as a journal entry ("ecaptop statistics: ...") and read
 *    back into pcapng_reader_meta(), never as an event.
 *
 * Connections. A connection is its pair of endpoints (plus conn_id for an
 * unknown family), so when both ends of a loopback connection were captured
 * their views are one TCP stream: each byte of a direction is written once,
 * from whichever view (the sender's send or the receiver's recv) brought it
 * first; the other view's events become packets without payload from their
 * own side ("Bytes:", or "Prefix:" for one that overlaps), so tshark sees one
 * clean stream and the reader still restores every event of both processes.
 * The client (the side that sends the SYN) is, in this order: the role given
 * by pcapng_writer_set_role() (the front end knows it from the decoders), the
 * side whose port is not a listening port (/proc/net/tcp*) while the other's
 * is, pcapng_port_server() on the ports, the side that sent first. Initial
 * sequence numbers are a hash of the direction's addresses and ports.
 *
 * Order and time. Events are held in a reorder window of WINDOW_NS (500 ms) of
 * event time and written in time order; a packet's time is never earlier than
 * the packet before it (the event's own time is then kept in a Time: line).
 * A connection's FIN packets are written when its process exits (an EC_K_EXIT
 * event), when pcapng_write_close_conn() was called for every captured end,
 * when another socket takes its 4-tuple, or at pcapng_writer_close() after the
 * last packet for connections still open.
 *
 * Unknown family (EC_AF_UNKNOWN, the socket could not be found): the packets use
 * IPv4 documentation addresses (RFC 5737) so the plaintext is still saved and
 * decoded: local 192.0.2.x, remote 198.51.100.y with x, y derived from conn_id,
 * and where a port is 0, a port derived from conn_id (local 49152-65535, remote
 * 1024-32767). The reader restores family 0, zero addresses and the real ports.
 *
 * Reading. pcapng_reader_open() reads ecaptop's own files (recognised by the
 * SHB's shb_userappl, or by ecaptop comments on the first packets) with its own
 * block parser and restores every event exactly (in file order); anything else (pcap or pcapng)
 * goes through libpcap: TCP streams are reassembled per connection and
 * direction and delivered as EC_K_DATA events with source "socket", pid 0,
 * comm "", fd -1, the SYN sender as the local side (its bytes are "send").
 * Gzip input is recognised by its magic bytes (zlib reads plain files as is).
 * Offsets in error messages count bytes of the uncompressed stream.
 *
 * Threads: a writer or reader is used by one thread at a time.
 */
#ifndef ECAPTOP_ENGINE_PCAPNG_H
#define ECAPTOP_ENGINE_PCAPNG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "decoders/decoder.h"
#include "engine/engine.h"
#include "engine/event.h"

/* Largest TCP payload per synthetic packet: IPv4's total length is 16 bits. */
#define PCAPNG_MAX_SEG 65000
/* Largest block the reader accepts (a journal block holding a large query). */
#define PCAPNG_MAX_BLOCK (64u << 20)

/* tshark's own port for a protocol (it needs no -d option there). */
bool pcapng_tshark_default_port(enum dec_proto p, uint16_t port);

/* A recording (-w, or --packets' pcapng) reaches the disk at least this often; with
 * the half-second reorder window, a killed recording loses at most the last second. */
#define RECORD_FLUSH_MS 250

/* The reader of foreign files sets EC_F_GAP (bpf/events.h) on the first event after
 * bytes of that direction were lost (a hole the out-of-order buffer could not fill,
 * or a packet cut by the capture's snap length). */

/* What a file says about its capture. The writer borrows every pointer for the
 * duration of the call; the reader's are owned by the reader (valid until
 * pcapng_reader_close). */
struct pcapng_meta {
	const char *filter;	/* capture filter as the user gave it; NULL or "" = none */
	const char *decode;	/* writer: tshark options that decode the file's protocols
				 * ("-d tcp.port==N,mysql ..."), NULL = none */
	const char *hardware;	/* writer: NULL = uname machine; reader: shb_hardware */
	const char *os;		/* reader only: shb_os */
	const char *userappl;	/* reader only: shb_userappl */
	uint64_t events, bytes; /* captured so far */
	/* all but lost.map, which files do not carry */
	struct engine_losses lost;
	uint64_t evicted; /* events the store dropped to stay within its cap */
	bool has_final;	  /* reader: the counters come from a closing stats block */
};

struct pcapng_writer_stats {
	uint64_t events;	/* events written (data and journal) */
	uint64_t connections;	/* distinct connections written */
	uint64_t packets;	/* Enhanced Packet Blocks */
	uint64_t payload_bytes; /* event payload bytes */
	uint64_t bytes;		/* pcapng bytes produced (before compression) */
	uint64_t file_bytes;	/* size of the file on disk; set by pcapng_writer_close */
	/* a recording (opened without meta->decode): the tshark options that decode
	 * its protocols ("-d tcp.port==N,PROTO ...", "" for none); set by
	 * pcapng_writer_close */
	char decode[1024];
};

struct pcapng_writer;

/* Create path (mode 0600, O_NOFOLLOW: a symlink at path is an error even with
 * force; O_EXCL unless force, which truncates an existing regular file) and
 * write the section header and interface blocks. A name ending in ".gz" is
 * gzip-compressed. Borrows meta (may be NULL). NULL with errno and a one-line
 * reason in err on failure. */
struct pcapng_writer *pcapng_writer_open(const char *path, const struct pcapng_meta *meta,
					 bool force, char *err, size_t errlen);
/* Append one event (borrowed). EC_K_DATA: packets of its connection (with the
 * handshake the first time); EC_K_COMMAND/QUERY/EXEC/EXIT: a journal block.
 * 0 or -errno (-EINVAL for an event it cannot represent: unknown kind, data
 * without a direction); reason in pcapng_writer_error(). After a write error
 * the file is incomplete and every later call fails with the same error. */
int pcapng_write_event(struct pcapng_writer *w, const struct ec_event *ev);
/* The end of header h (conn_id, family, addresses, ports) is finished at
 * h->ts_ns; once every captured end of its connection is, the FIN packets
 * (from this end first, then the other, then the last ACK) are written at
 * that time. 0, -ENOENT if the connection was never given, or -errno. */
int pcapng_write_close_conn(struct pcapng_writer *w, const struct ec_rec_hdr *h);
/* Say which side of h's connection connected: h's local end if
 * local_is_client. Call before its first event; a role already decided stays.
 * 0 or -errno. */
int pcapng_writer_set_role(struct pcapng_writer *w, const struct ec_rec_hdr *h,
			   bool local_is_client);
/* Write the events that left the reorder window (by the clock) and push
 * buffered bytes to the file (gzip: a sync flush). Events of the last
 * WINDOW_NS stay held. 0 or -errno. */
int pcapng_writer_flush(struct pcapng_writer *w);
const char *pcapng_writer_error(const struct pcapng_writer *w);
/* Counters so far (file_bytes is 0 until close). */
void pcapng_writer_stats(const struct pcapng_writer *w, struct pcapng_writer_stats *st);
/* Events still held in the reorder window: a later flush must release them even
 * when nothing new comes. */
size_t pcapng_writer_held(const struct pcapng_writer *w);
/* Close every open connection (FIN packets), write the closing statistics block
 * if final is not NULL (borrowed), flush and close the file, free w. st (may be
 * NULL) receives the final counters. 0 or -errno with the reason in err (may be
 * NULL). Accepts NULL w (returns 0). */
int pcapng_writer_close(struct pcapng_writer *w, const struct pcapng_meta *final,
			struct pcapng_writer_stats *st, char *err, size_t errlen);

struct pcapng_reader_stats {
	uint64_t blocks;	/* own files: blocks read */
	uint64_t packets;	/* packets seen (before the filter) */
	uint64_t filtered;	/* packets (own files: events) the filter rejected */
	uint64_t skipped;	/* packets that were not TCP over IPv4/IPv6, or fragments */
	uint64_t gaps;		/* foreign files: holes in a TCP stream */
	uint64_t gap_bytes;	/* foreign files: bytes known to be missing */
	uint64_t retrans_bytes; /* foreign files: duplicate bytes dropped */
	uint64_t connections;	/* connections seen */
};

struct pcapng_reader;

/* Open a pcapng or pcap file, gzip-compressed or not. filter_expr (borrowed; NULL
 * or "" for none) is a pcap filter expression compiled by libpcap against the
 * file's link type; only matching packets are read (for own files, an event is
 * kept when its first packet matches; commands and queries, journal events
 * rather than packets, are dropped when a filter is set, exec and exit events
 * are kept: they say what the processes are). NULL with errno and a reason in
 * err. */
struct pcapng_reader *pcapng_reader_open(const char *path, const char *filter_expr, char *err,
					 size_t errlen);
/* The same over an open file descriptor (taken: closed by the reader, also on
 * failure), named name in error messages. */
struct pcapng_reader *pcapng_reader_open_fd(int fd, const char *name, const char *filter_expr,
					    char *err, size_t errlen);
/* The same over a memory buffer (borrowed only during the call: it is copied). */
struct pcapng_reader *pcapng_reader_open_mem(const void *buf, size_t len, const char *filter_expr,
					     char *err, size_t errlen);
/* The next event: 1 with *out set (the caller takes it and free()s it), 0 at the
 * end of the file, -errno on error with the reason (naming the block and offset)
 * in pcapng_reader_error(); the events before the error were already returned,
 * and every later call returns the same error. */
int pcapng_reader_next(struct pcapng_reader *r, struct ec_event **out);
const char *pcapng_reader_error(const struct pcapng_reader *r);
/* True for a file written by ecaptop (events restored exactly). */
bool pcapng_reader_is_own(const struct pcapng_reader *r);
/* The file's section header and statistics (own files; zeros otherwise). The
 * counters are those of the closing stats block once it was read (has_final),
 * else those of the section header. Owned by r. */
const struct pcapng_meta *pcapng_reader_meta(const struct pcapng_reader *r);
void pcapng_reader_stats(const struct pcapng_reader *r, struct pcapng_reader_stats *st);
/* Accepts NULL. */
void pcapng_reader_close(struct pcapng_reader *r);

#endif
