// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * HPACK (RFC 7541) through decoders/hpack.h (libnghttp2's inflater): the
 * Appendix C examples, byte for byte, with the decoded lists, dynamic table
 * contents and sizes the RFC gives (C.1's integers and the Huffman code are
 * inside them); the decoding errors; size updates, eviction, many entries.
 */
#include <errno.h>
#include <stdint.h>

#include "unit.h"
#include "decoders/hpack.h"
#include "decoders/util/strbuf.h"

/* Hex with optional spaces to bytes; returns the length. */
static size_t unhex(const char *hex, uint8_t *out, size_t cap)
{
	size_t n = 0;
	int hi = -1;

	for (; *hex; hex++) {
		int v;

		if (*hex >= '0' && *hex <= '9')
			v = *hex - '0';
		else if (*hex >= 'a' && *hex <= 'f')
			v = *hex - 'a' + 10;
		else
			continue;
		if (hi < 0) {
			hi = v;
		} else {
			if (n < cap)
				out[n++] = (uint8_t)(hi << 4 | v);
			hi = -1;
		}
	}
	return n;
}

static void collect(void *arg, const char *name, size_t nlen, const char *value, size_t vlen,
		    int never)
{
	struct strbuf *sb = arg;

	sb_append(sb, name, nlen);
	sb_puts(sb, ": ");
	sb_append(sb, value, vlen);
	sb_puts(sb, never ? " (never)\n" : "\n");
}

/* Decode hex into t; return the header list as "name: value\n" lines, or
 * "ERROR rc" (static buffer, valid until the next call). */
static const char *decode(struct hpack_table *t, const char *hex)
{
	static struct strbuf sb = STRBUF_INIT;
	uint8_t buf[1024];
	size_t n = unhex(hex, buf, sizeof(buf));
	int rc;

	sb_reset(&sb);
	sb_puts(&sb, "");
	rc = hpack_decode_block(t, buf, n, collect, &sb);
	if (rc) {
		sb_reset(&sb);
		sb_printf(&sb, "ERROR %d", rc);
	}
	return sb.buf;
}

/* The dynamic table as "[62] name: value\n" lines, newest first. */
static const char *dyn(const struct hpack_table *t)
{
	static struct strbuf sb = STRBUF_INIT;
	size_t i;

	sb_reset(&sb);
	sb_puts(&sb, "");
	for (i = 0; i < hpack_table_count(t); i++) {
		const char *n, *v;
		size_t nl, vl;

		if (hpack_table_get(t, HPACK_STATIC_COUNT + 1 + i, &n, &nl, &v, &vl)) {
			sb_puts(&sb, "GET FAILED");
			break;
		}
		sb_printf(&sb, "[%zu] %.*s: %.*s\n", HPACK_STATIC_COUNT + 1 + i, (int)nl, n,
			  (int)vl, v);
	}
	return sb.buf;
}

/* C.2: header field representations, one decoder each. */
static void test_c2_representations(void)
{
	struct hpack_table t;

	CHECK_EQ_INT(hpack_table_init(&t, 4096), 0);
	CHECK_EQ_STR(decode(&t, "400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572"),
		     "custom-key: custom-header\n");
	CHECK_EQ_STR(dyn(&t), "[62] custom-key: custom-header\n");
	CHECK_EQ_INT(hpack_table_size(&t), 55);
	hpack_table_free(&t);

	CHECK_EQ_INT(hpack_table_init(&t, 4096), 0);
	CHECK_EQ_STR(decode(&t, "040c 2f73 616d 706c 652f 7061 7468"), ":path: /sample/path\n");
	CHECK_EQ_INT(hpack_table_count(&t), 0);
	CHECK_EQ_INT(hpack_table_size(&t), 0);
	hpack_table_free(&t);

	CHECK_EQ_INT(hpack_table_init(&t, 4096), 0);
	CHECK_EQ_STR(decode(&t, "1008 7061 7373 776f 7264 0673 6563 7265 74"),
		     "password: secret (never)\n");
	CHECK_EQ_INT(hpack_table_count(&t), 0);
	hpack_table_free(&t);

	CHECK_EQ_INT(hpack_table_init(&t, 4096), 0);
	CHECK_EQ_STR(decode(&t, "82"), ":method: GET\n");
	CHECK_EQ_INT(hpack_table_count(&t), 0);
	hpack_table_free(&t);
}

/* C.3 (plain) and C.4 (Huffman): three requests on one connection. */
static void requests(const char *b1, const char *b2, const char *b3)
{
	struct hpack_table t;

	CHECK_EQ_INT(hpack_table_init(&t, 4096), 0);
	CHECK_EQ_STR(decode(&t, b1),
		     ":method: GET\n:scheme: http\n:path: /\n:authority: www.example.com\n");
	CHECK_EQ_STR(dyn(&t), "[62] :authority: www.example.com\n");
	CHECK_EQ_INT(hpack_table_size(&t), 57);
	CHECK_EQ_STR(decode(&t, b2), ":method: GET\n:scheme: http\n:path: /\n"
				     ":authority: www.example.com\ncache-control: no-cache\n");
	CHECK_EQ_STR(dyn(&t), "[62] cache-control: no-cache\n[63] :authority: www.example.com\n");
	CHECK_EQ_INT(hpack_table_size(&t), 110);
	CHECK_EQ_STR(decode(&t, b3), ":method: GET\n:scheme: https\n:path: /index.html\n"
				     ":authority: www.example.com\ncustom-key: custom-value\n");
	CHECK_EQ_STR(dyn(&t), "[62] custom-key: custom-value\n[63] cache-control: no-cache\n"
			      "[64] :authority: www.example.com\n");
	CHECK_EQ_INT(hpack_table_size(&t), 164);
	hpack_table_free(&t);
}

static void test_c3_requests(void)
{
	requests("8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d",
		 "8286 84be 5808 6e6f 2d63 6163 6865",
		 "8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65");
}

static void test_c4_requests_huffman(void)
{
	requests("8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff", "8286 84be 5886 a8eb 1064 9cbf",
		 "8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf");
}

#define DATE1  "Mon, 21 Oct 2013 20:13:21 GMT"
#define DATE2  "Mon, 21 Oct 2013 20:13:22 GMT"
#define LOC    "https://www.example.com"
#define COOKIE "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1"

/* C.5 (plain) and C.6 (Huffman): three responses with a 256-byte table, so
 * entries are evicted. */
static void responses(const char *b1, const char *b2, const char *b3)
{
	struct hpack_table t;

	CHECK_EQ_INT(hpack_table_init(&t, 256), 0);
	CHECK_EQ_STR(decode(&t, b1),
		     ":status: 302\ncache-control: private\ndate: " DATE1 "\nlocation: " LOC "\n");
	CHECK_EQ_STR(dyn(&t), "[62] location: " LOC "\n[63] date: " DATE1
			      "\n[64] cache-control: private\n[65] :status: 302\n");
	CHECK_EQ_INT(hpack_table_size(&t), 222);
	CHECK_EQ_STR(decode(&t, b2),
		     ":status: 307\ncache-control: private\ndate: " DATE1 "\nlocation: " LOC "\n");
	CHECK_EQ_STR(dyn(&t), "[62] :status: 307\n[63] location: " LOC "\n[64] date: " DATE1
			      "\n[65] cache-control: private\n");
	CHECK_EQ_INT(hpack_table_size(&t), 222);
	CHECK_EQ_STR(decode(&t, b3), ":status: 200\ncache-control: private\ndate: " DATE2
				     "\nlocation: " LOC "\ncontent-encoding: gzip\n"
				     "set-cookie: " COOKIE "\n");
	CHECK_EQ_STR(dyn(&t), "[62] set-cookie: " COOKIE "\n[63] content-encoding: gzip\n"
			      "[64] date: " DATE2 "\n");
	CHECK_EQ_INT(hpack_table_size(&t), 215);
	hpack_table_free(&t);
}

static void test_c5_responses(void)
{
	responses("4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 "
		  "3133 2032 303a 3133 3a32 3120 474d 546e 1768 7474 7073 3a2f 2f77 7777 2e65 "
		  "7861 6d70 6c65 2e63 6f6d",
		  "4803 3330 37c1 c0bf",
		  "88c1 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3220 "
		  "474d 54c0 5a04 677a 6970 7738 666f 6f3d 4153 444a 4b48 514b 425a 584f 5157 "
		  "454f 5049 5541 5851 5745 4f49 553b 206d 6178 2d61 6765 3d33 3630 303b 2076 "
		  "6572 7369 6f6e 3d31");
}

static void test_c6_responses_huffman(void)
{
	responses("4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 "
		  "82a6 2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3",
		  "4883 640e ffc1 c0bf",
		  "88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b "
		  "d9ab 77ad 94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 "
		  "0fb5 291f 9587 3160 65c0 03ed 4ee5 b106 3d50 07");
}

static void test_block_errors(void)
{
	static const char *const bad[] = {
	    "80",		    /* index 0 */
	    "be",		    /* index 62 past the (empty) dynamic table */
	    "7f 01 00",		    /* a literal whose name index is past the table */
	    "04 0c 2f73",	    /* a value string longer than the block */
	    "7f",		    /* the block ends inside an integer */
	    "44",		    /* ... before a value */
	    "04 84 ff ff ff ff",    /* a Huffman value holding EOS */
	    "04 7f ff ff ff ff 0f", /* integer overflow in a string length */
	    "3fe21f",		    /* a size update above the limit (4096) */
	    "82 20",		    /* a size update after a field */
	};
	struct hpack_table t;
	size_t i;

	/* A table is unusable after an error: a fresh one for each. */
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK_EQ_INT(hpack_table_init(&t, 4096), 0);
		CHECK_EQ_STR(decode(&t, bad[i]), "ERROR -74");
		CHECK(t.error[0] != '\0');
		hpack_table_free(&t);
	}
	/* A zeroed (never initialised) table says so instead of crashing. */
	memset(&t, 0, sizeof(t));
	CHECK_EQ_INT(hpack_decode_block(&t, (const uint8_t *)"\x82", 1, NULL, NULL), -EINVAL);
	hpack_table_free(&t);
}

static void test_size_update_and_eviction(void)
{
	struct hpack_table t;

	CHECK_EQ_INT(hpack_table_init(&t, 4096), 0);
	CHECK_EQ_STR(decode(&t, "400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572"),
		     "custom-key: custom-header\n");
	CHECK_EQ_INT(hpack_table_size(&t), 55);
	/* Size update to 0 empties the table; the field after it is static. */
	CHECK_EQ_STR(decode(&t, "20 82"), ":method: GET\n");
	CHECK_EQ_INT(hpack_table_count(&t), 0);
	CHECK_EQ_INT(hpack_table_size(&t), 0);
	CHECK_EQ_INT(hpack_table_max_size(&t), 0);
	/* With max 0 an incremental literal is emitted but not kept (4.4). */
	CHECK_EQ_STR(decode(&t, "4001 6101 62"), "a: b\n");
	CHECK_EQ_INT(hpack_table_count(&t), 0);
	/* Back to 55 + 34 bytes: two entries fit exactly, a third evicts one.
	 * 3f 3a = 31 + 58 = 89. */
	CHECK_EQ_STR(decode(&t, "3f3a 4001 6101 62 4001 6301 64"), "a: b\nc: d\n");
	CHECK_EQ_INT(hpack_table_size(&t), 68);
	CHECK_EQ_STR(decode(&t, "4001 6501 66"), "e: f\n");
	CHECK_EQ_STR(dyn(&t), "[62] e: f\n[63] c: d\n");
	CHECK_EQ_INT(hpack_table_size(&t), 68);
	/* Literal with incremental indexing whose name is the entry it evicts:
	 * name index 63 ("c") with max size 68, adding 34 evicts "c: d". */
	CHECK_EQ_STR(decode(&t, "7f00 0178"), "c: x\n");
	CHECK_EQ_STR(dyn(&t), "[62] c: x\n[63] e: f\n");
	/* A limit raised by SETTINGS allows a bigger size update. */
	hpack_table_set_limit(&t, 8192);
	CHECK_EQ_STR(decode(&t, "3fe13f 82"), ":method: GET\n");
	CHECK_EQ_INT(hpack_table_max_size(&t), 8192);
	hpack_table_free(&t);
}

/* Many entries, kept in order. */
static void test_ring_growth(void)
{
	struct hpack_table t;
	uint8_t blk[8];
	unsigned i;
	const char *n, *v;
	size_t nl, vl;

	CHECK_EQ_INT(hpack_table_init(&t, 4096), 0);
	for (i = 0; i < 100; i++) {
		blk[0] = 0x40;
		blk[1] = 1;
		blk[2] = (uint8_t)('A' + i % 26);
		blk[3] = 1;
		blk[4] = (uint8_t)('0' + i % 10);
		CHECK_EQ_INT(hpack_decode_block(&t, blk, 5, NULL, NULL), 0);
	}
	/* 34 bytes each: 4096 / 34 = 120, so all 100 are kept. */
	CHECK_EQ_INT(hpack_table_count(&t), 100);
	CHECK_EQ_INT(hpack_table_get(&t, 62, &n, &nl, &v, &vl), 0);
	CHECK_EQ_STR(n, "V"); /* i = 99 */
	CHECK_EQ_STR(v, "9");
	CHECK_EQ_INT(hpack_table_get(&t, 161, &n, &nl, &v, &vl), 0);
	CHECK_EQ_STR(n, "A");
	CHECK_EQ_INT(hpack_table_get(&t, 162, &n, &nl, &v, &vl), -ERANGE);
	hpack_table_free(&t);
}

UNIT_MAIN(UNIT(test_c2_representations), UNIT(test_c3_requests), UNIT(test_c4_requests_huffman),
	  UNIT(test_c5_responses), UNIT(test_c6_responses_huffman), UNIT(test_block_errors),
	  UNIT(test_size_update_and_eviction), UNIT(test_ring_growth))
