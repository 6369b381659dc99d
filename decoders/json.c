// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "json.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Length of the valid UTF-8 sequence at p (RFC 3629 section 4), 0 if invalid. */
static size_t utf8_len(const uint8_t *p, size_t avail)
{
	size_t n, i;
	uint32_t cp;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2, cp = p[0] & 0x1f;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3, cp = p[0] & 0x0f;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4, cp = p[0] & 0x07;
	else
		return 0;
	if (n > avail)
		return 0;
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	/* Overlong forms, surrogates and values past U+10FFFF are invalid. */
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/* SWAR tests on the 8 bytes of x (Sean Anderson's "Bit Twiddling Hacks", "Determine
 * if a word has a byte less than n"): exact for the question "is there any". */
#define ONES	       0x0101010101010101ULL
#define HIGHS	       0x8080808080808080ULL
#define HAS_LESS(x, n) (((x)-ONES * (n)) & ~(x)&HIGHS)
#define HAS_BYTE(x, b) HAS_LESS((x) ^ (ONES * (b)), 1)

static bool plain_byte(uint8_t c)
{
	return c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
}

/* The end of the run of printable ASCII bytes other than '"' and '\\' (which JSON
 * copies as they are) that starts at p[i]: eight bytes at a time, since bodies and
 * payloads are mostly such text. */
static size_t plain_run(const uint8_t *p, size_t i, size_t len)
{
	uint64_t x;

	while (len - i >= 8) {
		memcpy(&x, p + i, sizeof(x));
		if (HAS_LESS(x, 0x20) || (x & HIGHS) || HAS_BYTE(x, 0x7f) || HAS_BYTE(x, '"') ||
		    HAS_BYTE(x, '\\'))
			break;
		i += 8;
	}
	while (i < len && plain_byte(p[i]))
		i++;
	return i;
}

void sb_json_str(struct strbuf *sb, const char *s, size_t len)
{
	const uint8_t *p = (const uint8_t *)s;
	size_t i = 0, n;

	sb_append(sb, "\"", 1);
	while (i < len) {
		uint8_t c = p[i];
		size_t run = plain_run(p, i, len);

		if (run > i) {
			sb_append(sb, p + i, run - i);
			i = run;
			continue;
		}
		if (c == '"' || c == '\\') {
			char esc[2] = {'\\', (char)c};
			sb_append(sb, esc, 2);
			i++;
		} else if (c == '\n') {
			sb_append(sb, "\\n", 2), i++;
		} else if (c == '\r') {
			sb_append(sb, "\\r", 2), i++;
		} else if (c == '\t') {
			sb_append(sb, "\\t", 2), i++;
		} else if (c < 0x20 || c == 0x7f) {
			sb_printf(sb, "\\u%04x", c), i++;
		} else if ((n = utf8_len(p + i, len - i)) > 0) {
			sb_append(sb, p + i, n);
			i += n;
		} else {
			sb_printf(sb, "\\u%04x", c), i++;
		}
	}
	sb_append(sb, "\"", 1);
}

void sb_json_cstr(struct strbuf *sb, const char *s)
{
	if (!s)
		sb_puts(sb, "null");
	else
		sb_json_str(sb, s, strlen(s));
}

void sb_json_key(struct strbuf *sb, const char *key)
{
	if (sb->len && sb->buf[sb->len - 1] != '{')
		sb_append(sb, ",", 1);
	sb_json_cstr(sb, key);
	sb_append(sb, ":", 1);
}

/* Two base64 characters for each 12-bit value (RFC 4648 section 4): a 24-bit group
 * is two lookups instead of four. Built on first use. */
static uint16_t b64_pairs[4096];

static void b64_init(void)
{
	static const char tbl[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	unsigned v;

	for (v = 0; v < 4096; v++) {
		char two[2] = {tbl[v >> 6], tbl[v & 63]};

		memcpy(&b64_pairs[v], two, 2);
	}
}

void sb_base64(struct strbuf *sb, const uint8_t *d, size_t len)
{
	static const char tbl[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	size_t i;
	char *o;

	pthread_once(&once, b64_init);
	/* One growth, then straight into the buffer: payloads are large and this runs
	 * for every captured byte of a JSON capture. */
	if (sb_reserve(sb, (len + 2) / 3 * 4))
		return;
	o = sb->buf + sb->len;
	for (i = 0; i + 2 < len; i += 3, o += 4) {
		uint32_t g = (uint32_t)d[i] << 16 | (uint32_t)d[i + 1] << 8 | d[i + 2];

		memcpy(o, &b64_pairs[g >> 12], 2);
		memcpy(o + 2, &b64_pairs[g & 0xfff], 2);
	}
	if (len - i == 1) {
		*o++ = tbl[d[i] >> 2];
		*o++ = tbl[(d[i] & 3) << 4];
		*o++ = '=';
		*o++ = '=';
	} else if (len - i == 2) {
		*o++ = tbl[d[i] >> 2];
		*o++ = tbl[((d[i] & 3) << 4) | (d[i + 1] >> 4)];
		*o++ = tbl[(d[i + 1] & 15) << 2];
		*o++ = '=';
	}
	sb->len = (size_t)(o - sb->buf);
	sb->buf[sb->len] = '\0';
}
