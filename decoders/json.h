/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A growable byte buffer and JSON/base64 writers over it. Used by the decoders'
 * record formatter and by the batch printer. Allocation failure makes the buffer
 * "failed" (sb->failed), and further appends are ignored, so callers check once.
 */
#ifndef ECAPTOP_DECODERS_JSON_H
#define ECAPTOP_DECODERS_JSON_H

#include <stddef.h>
#include <stdint.h>

struct strbuf {
	char *buf; /* owned; always NUL-terminated when len > 0 */
	size_t len;
	size_t cap;
	int failed; /* an allocation failed; contents are incomplete */
};

#define STRBUF_INIT                                                                                \
	{                                                                                          \
		NULL, 0, 0, 0                                                                      \
	}

void sb_reset(struct strbuf *sb); /* len = 0, keeps memory */
void sb_free(struct strbuf *sb);
void sb_append(struct strbuf *sb, const void *data, size_t len);
void sb_puts(struct strbuf *sb, const char *s);
void sb_printf(struct strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A JSON string literal, quotes included. Bytes that are not valid UTF-8 are
 * written as \u00XX of the byte (so output is always valid JSON). */
void sb_json_str(struct strbuf *sb, const char *s, size_t len);
/* Same, for a NUL-terminated string; NULL writes null. */
void sb_json_cstr(struct strbuf *sb, const char *s);
/* "key": prefixed by a comma unless the buffer ends with '{'. */
void sb_json_key(struct strbuf *sb, const char *key);
/* Standard base64 (RFC 4648 section 4) with padding, no quotes. */
void sb_base64(struct strbuf *sb, const uint8_t *data, size_t len);

#endif
