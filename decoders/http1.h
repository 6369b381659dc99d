/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * HTTP/1.0 and HTTP/1.1 decoder (RFC 9112 message syntax, RFC 9110 semantics).
 *
 * Fed the bytes of one connection per direction, it pairs requests with
 * responses in order (keep-alive and pipelining: a queue of requests waiting
 * for their response) and emits one DEC_R_HTTP record per exchange: start
 * lines, header fields, bodies framed by Content-Length, chunked transfer
 * coding (with extensions and trailers; trailer fields are appended to the
 * headers) or the end of the connection, and gzip/deflate content codings
 * decoded through zlib. Bodies kept for display are capped at DEC_BODY_CAP
 * (then *_body_truncated is set). 1xx interim responses are skipped (their bytes
 * count in resp_bytes); HEAD, 204 and 304 responses have no body.
 *
 * CONNECT answered 2xx and 101 Switching Protocols end HTTP/1 on the
 * connection: further bytes are not decoded. For an upgrade to "h2c" the bytes
 * that followed the switch in each direction are kept so the caller can hand
 * them to the HTTP/2 decoder (http1_switched, http1_take_leftover), and the
 * upgrade exchange itself is not emitted: the request is answered on HTTP/2
 * stream 1 (RFC 7540 section 3.2), so the caller hands it over too
 * (http1_take_upgrade) and the HTTP/2 decoder reports it once, with its real
 * response. An exchange nobody takes is emitted at http1_close.
 *
 * Malformed input produces a DEC_R_NOTE and the direction resynchronises on the
 * next line that looks like a start line. Bounds: a start line and header
 * section larger than HTTP1_HEAD_CAP is skipped (with a note); at most
 * HTTP1_QUEUE_MAX requests wait for responses (the oldest is then reported
 * unanswered); notes are limited per connection.
 */
#ifndef ECAPTOP_DECODERS_HTTP1_H
#define ECAPTOP_DECODERS_HTTP1_H

#include <stddef.h>
#include <stdint.h>

#include "decoder.h"

#define HTTP1_HEAD_CAP	(1024 * 1024)
#define HTTP1_QUEUE_MAX 64

struct http1;

/* A decoder that calls emit(rec, arg) for each record; arg is borrowed.
 * NULL + errno (ENOMEM) on failure. */
struct http1 *http1_new(dec_emit_fn emit, void *arg);
/* Borrows buf for the call. ts_ns is the capture time (Unix epoch ns) of the bytes. */
void http1_feed(struct http1 *d, enum dec_dir dir, const uint8_t *buf, size_t len, uint64_t ts_ns);
/* len bytes of dir were lost: bodies get marked truncated, or the direction
 * resynchronises on the next start line. */
void http1_gap(struct http1 *d, enum dec_dir dir, uint64_t len);
/* End of connection: completes a response delimited by close, reports requests
 * left without a response (status 0). Later feeds are ignored. */
void http1_close(struct http1 *d, uint64_t ts_ns);
/* Accepts NULL. */
void http1_free(struct http1 *d);
/* Does buf (the first bytes of one direction) look like an HTTP/1 request line
 * (dir REQ) or status line (dir RESP)? 2 = yes, 1 = maybe (need more), 0 = no. */
int http1_detect(const uint8_t *buf, size_t len, enum dec_dir dir);

/* After a 101 response (or a 2xx to CONNECT): the protocol switched to, lower
 * case, e.g. "h2c", "websocket", or "connect" for a CONNECT tunnel. NULL while
 * the connection still speaks HTTP/1. Borrowed, valid until http1_free. */
const char *http1_switched(const struct http1 *d);
/* After a switch to "h2c": the bytes of dir received after the switch point
 * (in the request direction: after the upgrade request), kept until taken.
 * Sets *out to a malloc'd buffer the caller takes (free()), or NULL if none;
 * returns its length. Later bytes of a switched connection are dropped, so take
 * them right after the feed that switched. */
size_t http1_take_leftover(struct http1 *d, enum dec_dir dir, uint8_t **out);
/* After a switch to "h2c": the upgrade exchange (the request and the 101
 * response) as a DEC_R_HTTP record in *rec, which this decoder then no longer
 * emits. Everything *rec points to is borrowed until http1_free. 0, or -ENOENT
 * if there is none (no h2c switch, taken already, or the connection closed). */
int http1_take_upgrade(struct http1 *d, struct dec_record *rec);
/* After a switch: method, path and host of the request that asked for it
 * (borrowed until http1_free; any may be NULL) and the capture time of its
 * first byte. */
void http1_switch_request(const struct http1 *d, const char **method, const char **path,
			  const char **host, uint64_t *ts_ns);

#endif
