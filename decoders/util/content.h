/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Message bodies as shown, for the HTTP decoders (HTTP/1 and HTTP/2): the bytes
 * kept up to DEC_BODY_CAP, with the gzip and deflate content codings (RFC 9110
 * section 8.4.1) undone through zlib as the bytes arrive. "deflate" is meant to
 * be the zlib format (RFC 1950), but some servers send raw deflate (RFC 1951):
 * the first byte tells them apart. Several gzip members one after another
 * (RFC 1952 section 2.2) are all decoded; anything after a zlib stream is not.
 */
#ifndef ECAPTOP_DECODERS_UTIL_CONTENT_H
#define ECAPTOP_DECODERS_UTIL_CONTENT_H

#include <stddef.h>
#include <stdint.h>
#include <zlib.h>

enum content_coding {
	CONTENT_IDENTITY = 0, /* kept as received (also any coding not undone here) */
	CONTENT_GZIP,
	CONTENT_DEFLATE,
};

struct content_body {
	uint8_t *buf; /* owned: the body as shown, at most DEC_BODY_CAP bytes */
	size_t len, cap;
	int truncated; /* the cap was hit, bytes were lost, or the coding is corrupt */
	enum content_coding coding;
	z_stream zs;
	int z_state; /* 0 not started, 1 inflating, 2 ended (done, failed or capped) */
};

/* The coding a Content-Encoding value names: "gzip", "x-gzip", "deflate"
 * (case-insensitive) or CONTENT_IDENTITY for anything else (NULL included). */
enum content_coding content_coding_of(const char *value);
/* "gzip", "deflate" or "identity". */
const char *content_coding_name(enum content_coding c);

/* Add n body bytes as received (decoded if b->coding says so; a zeroed b with
 * coding set is ready). 0, or -1 if the coded data is corrupt (what was decoded
 * stays, truncated is set, later bytes are ignored). */
int content_body_add(struct content_body *b, const uint8_t *p, size_t n);
/* Bytes of the body were lost: it is incomplete, and decoding cannot go on. */
void content_body_lost(struct content_body *b);
/* The body ended: a coded stream that did not reach its end is truncated. */
void content_body_finish(struct content_body *b);
/* Frees what b owns and zeroes it. Accepts a zeroed b. */
void content_body_free(struct content_body *b);

#endif
