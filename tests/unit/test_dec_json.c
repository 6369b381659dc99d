// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "unit.h"
#include "decoders/json.h"

static void test_base64(void)
{
	struct strbuf sb = STRBUF_INIT;

	sb_base64(&sb, (const uint8_t *)"", 0);
	CHECK_EQ_INT(sb.len, 0);
	sb_base64(&sb, (const uint8_t *)"f", 1);
	sb_base64(&sb, (const uint8_t *)"fo", 2);
	sb_base64(&sb, (const uint8_t *)"foo", 3);
	sb_base64(&sb, (const uint8_t *)"foobar", 6);
	/* RFC 4648 section 10 test vectors */
	CHECK_EQ_STR(sb.buf, "Zg==Zm8=Zm9vZm9vYmFy");
	sb_free(&sb);
}

static void test_json_escape(void)
{
	struct strbuf sb = STRBUF_INIT;

	sb_puts(&sb, "{");
	sb_json_key(&sb, "a");
	sb_json_str(&sb, "x\"\\\n\x01\xff\xc3\xa9", 8);
	sb_json_key(&sb, "b");
	sb_json_cstr(&sb, NULL);
	sb_puts(&sb, "}");
	CHECK_EQ_STR(sb.buf, "{\"a\":\"x\\\"\\\\\\n\\u0001\\u00ff\xc3\xa9\",\"b\":null}");
	sb_free(&sb);
}

static void test_printf_grows(void)
{
	struct strbuf sb = STRBUF_INIT;
	int i;

	for (i = 0; i < 1000; i++)
		sb_printf(&sb, "%04d", i);
	CHECK_EQ_INT(sb.len, 4000);
	CHECK(!sb.failed);
	CHECK(!memcmp(sb.buf + 3996, "0999", 4));
	sb_free(&sb);
}

/* A byte-at-a-time escape, as the JSON grammar (RFC 8259 section 7) reads, for
 * plain text and the bytes escaped here: the word-at-a-time scan must agree. */
static void ref_escape(struct strbuf *sb, const uint8_t *p, size_t n)
{
	size_t i;

	sb_puts(sb, "\"");
	for (i = 0; i < n; i++) {
		uint8_t c = p[i];

		if (c == '"' || c == '\\')
			sb_printf(sb, "\\%c", c);
		else if (c == '\n')
			sb_puts(sb, "\\n");
		else if (c == '\r')
			sb_puts(sb, "\\r");
		else if (c == '\t')
			sb_puts(sb, "\\t");
		else if (c < 0x20 || c >= 0x7f)
			sb_printf(sb, "\\u%04x", c);
		else
			sb_printf(sb, "%c", c);
	}
	sb_puts(sb, "\"");
}

/* Every byte that needs care, at every offset of a 24-byte run of plain text (so in
 * each lane of each 8-byte word and in the byte-wise tail). */
static void test_json_escape_every_position(void)
{
	static const uint8_t special[] = {'"',	'\\', '\n', '\r', '\t', 0x00, 0x01,
					  0x1f, 0x7f, 0x80, 0xff, ' ',	'~'};
	uint8_t buf[24];
	size_t k, pos, len;
	int bad = 0;

	for (k = 0; k < sizeof(special); k++)
		for (len = 1; len <= sizeof(buf); len++)
			for (pos = 0; pos < len; pos++) {
				struct strbuf got = STRBUF_INIT, want = STRBUF_INIT;

				memset(buf, 'a' + (int)(pos % 26), sizeof(buf));
				buf[pos] = special[k];
				sb_json_str(&got, (const char *)buf, len);
				ref_escape(&want, buf, len);
				if (strcmp(got.buf, want.buf) && bad++ < 5)
					printf("  byte %#x at %zu of %zu: %s != %s\n", special[k],
					       pos, len, got.buf, want.buf);
				sb_free(&got);
				sb_free(&want);
			}
	CHECK_EQ_INT(bad, 0);
}

/* The two-characters-per-lookup encoder against a six-bits-at-a-time one, for every
 * length up to 64 and every byte value. */
static void test_base64_matches_reference(void)
{
	static const char tbl[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	uint8_t d[64];
	size_t len, i, bit;
	int bad = 0;

	for (i = 0; i < sizeof(d); i++)
		d[i] = (uint8_t)(i * 37 + 11);
	for (len = 0; len <= sizeof(d); len++) {
		struct strbuf got = STRBUF_INIT;
		char want[128] = "";
		size_t o = 0;

		for (bit = 0; bit < len * 8; bit += 6) {
			unsigned v = 0, b;

			for (b = 0; b < 6; b++) {
				size_t at = bit + b;

				v <<= 1;
				if (at < len * 8)
					v |= (d[at / 8] >> (7 - at % 8)) & 1;
			}
			want[o++] = tbl[v];
		}
		while (o % 4)
			want[o++] = '=';
		want[o] = '\0';
		sb_base64(&got, d, len);
		if (strcmp(got.len ? got.buf : "", want) && bad++ < 5)
			printf("  length %zu: %s != %s\n", len, got.buf, want);
		sb_free(&got);
	}
	/* Every byte value in every position of a 3-byte group. */
	for (i = 0; i < 256 * 3; i++) {
		struct strbuf got = STRBUF_INIT;
		uint8_t g[3] = {0, 0, 0};
		char want[5];

		g[i / 256] = (uint8_t)i;
		want[0] = tbl[g[0] >> 2];
		want[1] = tbl[((g[0] & 3) << 4) | (g[1] >> 4)];
		want[2] = tbl[((g[1] & 15) << 2) | (g[2] >> 6)];
		want[3] = tbl[g[2] & 63];
		want[4] = '\0';
		sb_base64(&got, g, 3);
		if (strcmp(got.buf, want) && bad++ < 5)
			printf("  group %02x%02x%02x: %s != %s\n", g[0], g[1], g[2], got.buf, want);
		sb_free(&got);
	}
	CHECK_EQ_INT(bad, 0);
}

UNIT_MAIN(UNIT(test_base64), UNIT(test_json_escape), UNIT(test_printf_grows),
	  UNIT(test_json_escape_every_position), UNIT(test_base64_matches_reference))
