/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A growable byte buffer. Allocation failure makes the buffer "failed"
 * (sb->failed), and further appends are ignored, so callers check once.
 */
#ifndef ECAPTOP_DECODERS_UTIL_STRBUF_H
#define ECAPTOP_DECODERS_UTIL_STRBUF_H

#include <stddef.h>

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
/* Room for extra more bytes (and the NUL): 0, or -1 with sb->failed set. */
int sb_reserve(struct strbuf *sb, size_t extra);
void sb_append(struct strbuf *sb, const void *data, size_t len);
void sb_puts(struct strbuf *sb, const char *s);
void sb_printf(struct strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
