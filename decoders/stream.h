/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The per-connection dispatcher the session store uses: it is fed the bytes a
 * local process sent and received on one connection, recognises the protocol
 * from the bytes (HTTP/1 request or status line, the HTTP/2 connection preface,
 * the MySQL server greeting, a PostgreSQL StartupMessage/SSLRequest/
 * GSSENCRequest, TLS records), works out which side is the client from which
 * direction carried what, maps local send/recv to DEC_DIR_REQ/RESP and feeds
 * the chosen decoder. Records go out through the emit callback given to
 * dec_stream_new (see decoders/decoder.h: everything borrowed for the call).
 *
 * Until it can decide it keeps the first bytes of each direction (at most
 * DEC_STREAM_DETECT_CAP per direction and DEC_STREAM_MAX_SEGS feed/gap calls);
 * a capture that starts in the middle of a connection is handled by trying
 * again at the start of each later write. A write that would pass those bounds
 * is not kept, but recognition runs on its first DEC_STREAM_DETECT_CAP bytes
 * (after what its side kept) and, if that decides, the write is decoded whole.
 * Otherwise it settles on DEC_P_UNKNOWN and drops what it kept; from then on
 * it still looks at the start of each new write and switches to a protocol
 * that is certain there (for instance TLS after a STARTTLS). While deciding it
 * holds at most 2 * DEC_STREAM_DETECT_CAP bytes per direction (the kept bytes
 * and a look at an oversized write). TLS connections are recognised and not
 * decoded, including MySQL and PostgreSQL connections that switch to TLS after
 * their SSL request. An HTTP/1.1 "Upgrade: h2c" hands the connection to the
 * HTTP/2 decoder.
 *
 * Not thread-safe: one connection is fed from one thread.
 */
#ifndef ECAPTOP_DECODERS_STREAM_H
#define ECAPTOP_DECODERS_STREAM_H

#include <stddef.h>
#include <stdint.h>

#include "decoder.h"

#define DEC_STREAM_DETECT_CAP (16 * 1024)
#define DEC_STREAM_MAX_SEGS   512

struct dec_stream;

/* A dispatcher calling emit(rec, arg) for every record (arg borrowed).
 * NULL + errno (EINVAL without emit, ENOMEM). */
struct dec_stream *dec_stream_new(dec_emit_fn emit, void *arg);
/* Bytes the local process sent (local_send = 1) or received (0); borrows buf
 * for the call. ts_ns: capture time, Unix epoch ns. */
void dec_stream_feed(struct dec_stream *s, int local_send, const uint8_t *buf, size_t len,
		     uint64_t ts_ns);
/* len bytes the local process sent/received were lost. */
void dec_stream_gap(struct dec_stream *s, int local_send, uint64_t len);
/* End of connection: the decoder flushes what is pending. Later feeds are ignored. */
void dec_stream_close(struct dec_stream *s, uint64_t ts_ns);
/* The protocol recognised so far: DEC_P_UNKNOWN while undecided or unknown. */
enum dec_proto dec_stream_proto(const struct dec_stream *s);
/* 1 if the local process is the client, 0 if the server, -1 not known. */
int dec_stream_local_is_client(const struct dec_stream *s);
/* Ports of the connection. Only a hint: used to tell the roles apart where the
 * bytes do not (TLS records that are not a hello, an unknown protocol). */
void dec_stream_set_port_hint(struct dec_stream *s, uint16_t local_port, uint16_t remote_port);
/* Skip recognition: decode as proto with the given role (local_is_client 1 or 0).
 * Only before the first feed. 0, -EINVAL (bad arguments or already fed) or
 * -ENOTSUP (no decoder for proto is built in), -ENOMEM. DEC_P_TLS and
 * DEC_P_UNKNOWN are accepted and decode nothing. */
int dec_stream_force(struct dec_stream *s, enum dec_proto proto, int local_is_client);
/* HTTP/2 control frames as DEC_R_FRAMES records (http2_name_frames), for a
 * view that shows them; off by default. */
void dec_stream_name_frames(struct dec_stream *s, int on);
/* Accepts NULL. */
void dec_stream_free(struct dec_stream *s);

#endif
