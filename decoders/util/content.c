// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Message bodies with gzip/deflate undone, for the HTTP decoders (see content.h). */
#include "content.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../decoder.h"

enum content_coding content_coding_of(const char *value)
{
	if (!value)
		return CONTENT_IDENTITY;
	if (!strcasecmp(value, "gzip") || !strcasecmp(value, "x-gzip"))
		return CONTENT_GZIP;
	if (!strcasecmp(value, "deflate"))
		return CONTENT_DEFLATE;
	return CONTENT_IDENTITY;
}

const char *content_coding_name(enum content_coding c)
{
	return c == CONTENT_GZIP ? "gzip" : c == CONTENT_DEFLATE ? "deflate" : "identity";
}

static void body_raw(struct content_body *b, const uint8_t *p, size_t n)
{
	size_t room = DEC_BODY_CAP - b->len;

	if (n > room) {
		n = room;
		b->truncated = 1;
	}
	if (!n)
		return;
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 1024;
		uint8_t *nb;

		while (cap < b->len + n)
			cap *= 2;
		if (cap > DEC_BODY_CAP)
			cap = DEC_BODY_CAP;
		nb = realloc(b->buf, cap);
		if (!nb) {
			b->truncated = 1;
			return;
		}
		b->buf = nb;
		b->cap = cap;
	}
	memcpy(b->buf + b->len, p, n);
	b->len += n;
}

static void z_end(struct content_body *b)
{
	if (b->z_state == 1)
		inflateEnd(&b->zs);
	b->z_state = 2;
}

static int body_inflate(struct content_body *b, const uint8_t *p, size_t n)
{
	if (b->z_state == 2 || !n)
		return 0;
	if (b->z_state == 0) {
		int wbits = 15 + 32; /* gzip or zlib, detected from the header */

		/* a zlib header has CM = 8 and CINFO <= 7 (RFC 1950 section 2.2) */
		if (b->coding == CONTENT_DEFLATE && !((p[0] & 0x0f) == 8 && (p[0] >> 4) <= 7))
			wbits = -15;
		memset(&b->zs, 0, sizeof(b->zs));
		if (inflateInit2(&b->zs, wbits) != Z_OK) {
			b->z_state = 2;
			b->truncated = 1;
			return 0;
		}
		b->z_state = 1;
		if (!b->buf || b->cap < DEC_BODY_CAP) {
			uint8_t *nb = realloc(b->buf, DEC_BODY_CAP);

			if (!nb) {
				z_end(b);
				b->truncated = 1;
				return 0;
			}
			b->buf = nb;
			b->cap = DEC_BODY_CAP;
		}
	}
	b->zs.next_in = (Bytef *)(uintptr_t)p;
	b->zs.avail_in = (uInt)n;
	while (b->zs.avail_in > 0) {
		int rc;

		if (b->len >= DEC_BODY_CAP) {
			b->truncated = 1;
			z_end(b);
			return 0;
		}
		b->zs.next_out = b->buf + b->len;
		b->zs.avail_out = (uInt)(DEC_BODY_CAP - b->len);
		rc = inflate(&b->zs, Z_NO_FLUSH);
		b->len = DEC_BODY_CAP - b->zs.avail_out;
		if (rc == Z_STREAM_END) {
			if (b->coding == CONTENT_GZIP && b->zs.avail_in > 0 &&
			    inflateReset(&b->zs) == Z_OK)
				continue;
			z_end(b);
			return 0;
		}
		if (rc == Z_BUF_ERROR && b->zs.avail_out > 0)
			break; /* needs more input */
		if (rc != Z_OK && rc != Z_BUF_ERROR) {
			b->truncated = 1;
			z_end(b);
			return -1;
		}
	}
	return 0;
}

int content_body_add(struct content_body *b, const uint8_t *p, size_t n)
{
	if (b->coding == CONTENT_IDENTITY) {
		body_raw(b, p, n);
		return 0;
	}
	return body_inflate(b, p, n);
}

void content_body_lost(struct content_body *b)
{
	b->truncated = 1;
	if (b->coding != CONTENT_IDENTITY)
		z_end(b);
}

void content_body_finish(struct content_body *b)
{
	if (b->z_state == 1) {
		b->truncated = 1;
		z_end(b);
	}
}

void content_body_free(struct content_body *b)
{
	if (b->z_state == 1)
		inflateEnd(&b->zs);
	free(b->buf);
	memset(b, 0, sizeof(*b));
}
