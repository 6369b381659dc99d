/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * HTTP/2 decoder (RFC 9113 framing, RFC 7541 HPACK).
 *
 * Fed the bytes of one connection per direction: the client connection preface
 * (RFC 9113 section 3.4) in the request direction, then frames in both. Header
 * blocks (HEADERS or PUSH_PROMISE plus CONTINUATION) are decoded with one HPACK
 * dynamic table per direction. Streams are paired into exchanges: the request
 * from :method, :path, :authority (reported as host; the "host" field if there
 * is no :authority) and the other fields; the response from :status and its
 * fields (a 1xx informational block is replaced by the final one; trailers are
 * appended). The two directions may arrive in either order (a response read
 * by one thread can be delivered before the write holding its request): a
 * response on a client stream not yet opened opens it, and the exchange is
 * reported once its request has come and ended too (or at close, incomplete).
 * Header lists hold every field but :method, :path, :authority and
 * :status; a value is cut at an embedded NUL. DATA payloads are the bodies
 * (padding removed), capped at DEC_BODY_CAP, and gzip/deflate content codings
 * are decoded through zlib.
 *
 * One DEC_R_HTTP record (version "2", stream_id set) is emitted when the
 * response side of a stream ends (END_STREAM), when either side resets it
 * (RST_STREAM; reason names the error code and who sent it), when a GOAWAY
 * says it was never processed, and at close or when decoding stops, for every
 * stream still open. Latency runs from the first byte of the request's HEADERS
 * frame to the last byte of the response's last frame. req_bytes/resp_bytes
 * count whole frames (9-byte header + payload) on that stream in each
 * direction; a PUSH_PROMISE counts in the promised stream's req_bytes.
 *
 * Malformed input produces a DEC_R_NOTE. What breaks framing or HPACK state (a
 * missing preface, a frame length above the bound below, bad padding, a header
 * block interrupted or continued on the wrong stream, an HPACK decoding error,
 * lost bytes outside a DATA payload) stops decoding of the connection: the
 * open streams are reported and later bytes are ignored. Other violations (a
 * PING of the wrong size, ...) are noted and decoding goes on. Lost bytes inside
 * a DATA payload only truncate that body.
 *
 * Bounds: a frame longer than the largest SETTINGS_MAX_FRAME_SIZE either peer
 * announced (16384 by default) is refused; non-DATA frames and header blocks
 * are buffered up to HTTP2_BUF_CAP; at most HTTP2_MAX_STREAMS streams are
 * tracked at once (further streams are counted and reported in a note, their
 * header blocks still decoded to keep HPACK in step); header fields kept per
 * message are capped at HTTP2_FIELDS_CAP fields / HTTP2_FIELD_BYTES_CAP bytes;
 * all bytes held for open streams are capped at HTTP2_HELD_CAP; notes are
 * limited per connection.
 */
#ifndef ECAPTOP_DECODERS_HTTP2_H
#define ECAPTOP_DECODERS_HTTP2_H

#include <stddef.h>
#include <stdint.h>

#include "decoder.h"

#define HTTP2_PREFACE	      "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
#define HTTP2_PREFACE_LEN     24
#define HTTP2_MAX_STREAMS     1024
#define HTTP2_BUF_CAP	      (1024 * 1024)
#define HTTP2_FIELDS_CAP      256
#define HTTP2_FIELD_BYTES_CAP (64 * 1024)
#define HTTP2_HELD_CAP	      (16 * 1024 * 1024)

struct http2;

/* A decoder that calls emit(rec, arg) for each record; arg is borrowed.
 * NULL + errno (ENOMEM) on failure. */
struct http2 *http2_new(dec_emit_fn emit, void *arg);
/* Borrows buf for the call. ts_ns is the capture time (Unix epoch ns) of the
 * bytes. */
void http2_feed(struct http2 *d, enum dec_dir dir, const uint8_t *buf, size_t len, uint64_t ts_ns);
/* len bytes of dir were lost. Inside a DATA payload the body is marked
 * truncated and decoding goes on; anywhere else decoding of the connection
 * stops (framing and HPACK state are unknowable), with a note. */
void http2_gap(struct http2 *d, enum dec_dir dir, uint64_t len);
/* End of connection: every open stream is reported (reason says it was
 * incomplete). Later feeds are ignored. */
void http2_close(struct http2 *d, uint64_t ts_ns);
/* Accepts NULL. */
void http2_free(struct http2 *d);
/* Given the first bytes of one direction: 2 if they begin with the client
 * connection preface (dir REQ), 1 if they are a proper prefix of it (including
 * no bytes at all), 0 otherwise (always 0 for dir RESP: the server's preface is
 * an ordinary SETTINGS frame). */
int http2_detect(const uint8_t *buf, size_t len, enum dec_dir dir);

/*
 * h2c upgrade (RFC 7540 section 3.2; RFC 9113 section 3.1 keeps the framing):
 * the connection switched from HTTP/1.1 with "101 Switching Protocols". Call
 * this once, right after http2_new and before any feed, then feed the bytes
 * that followed the 101 (in RESP) and the upgrade request (in REQ): the server
 * side starts with its SETTINGS frame, the client side with the preface.
 *
 * The upgrade request becomes stream 1, half-closed from the client: its
 * response arrives on stream 1 and is emitted with method, path and host given
 * here (strings borrowed for the call; any may be NULL) and req_ts_ns = ts_ns
 * (its req_bytes are 0: they were HTTP/1 bytes). Because the client's
 * HTTP2-Settings header is not seen, the server-to-client frame size and HPACK
 * table size bounds are relaxed to their maximums.
 */
void http2_upgraded(struct http2 *d, const char *method, const char *path, const char *host,
		    uint64_t ts_ns);
/* The same, from the whole HTTP/1.1 upgrade exchange as the HTTP/1 decoder
 * hands it over (http1_take_upgrade; borrowed for the call): stream 1's record
 * then also carries the request's header fields (as sent in HTTP/1.1, Upgrade
 * and HTTP2-Settings included) and body, and its req_bytes and resp_bytes
 * count the HTTP/1.1 request and the 101 response besides stream 1's frames.
 * One record for the exchange, version "2". */
void http2_upgraded_exchange(struct http2 *d, const struct dec_record *up);

/*
 * The HTTP/2 frames in buf named, for a view of captured bytes that shows
 * frames instead of raw bytes (control frames above all): appended to sb as
 * "SETTINGS MAX_CONCURRENT_STREAMS=100 INITIAL_WINDOW_SIZE=65535, WINDOW_UPDATE
 * +983041, HEADERS stream 1 END_STREAM|END_HEADERS (25 bytes)": each frame's
 * type, stream, flags, and the fields of SETTINGS, WINDOW_UPDATE, RST_STREAM,
 * GOAWAY and PRIORITY (error codes and settings by their RFC 9113 names). buf
 * is taken to start at a frame boundary (or with the client preface, named
 * "preface"); naming stops at the first header that cannot be one (a frame
 * on the wrong stream or of the wrong size for its type, an unknown type). A
 * frame longer than what is left is named with the bytes at hand. Returns the
 * number of frames named: 0 (and nothing appended) if buf does not start with
 * one. Borrows buf and sb.
 */
struct strbuf;
int http2_frames_describe(const uint8_t *buf, size_t len, struct strbuf *sb);

/*
 * Control frames as records (off by default): with on, each feed that
 * completes control frames (every type but DATA, HEADERS, PUSH_PROMISE and
 * CONTINUATION: SETTINGS, WINDOW_UPDATE, PING, RST_STREAM with its error
 * code, GOAWAY, PRIORITY, ...) ends with one DEC_R_FRAMES record naming them
 * as http2_frames_describe does, req_ts_ns the time of the feed; at most
 * HTTP2_FRAMES_TEXT_CAP bytes of text, the frames past it counted as "(+N
 * more)".
 */
#define HTTP2_FRAMES_TEXT_CAP 1024
void http2_name_frames(struct http2 *d, int on);

#endif
