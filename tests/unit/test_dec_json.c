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

UNIT_MAIN(UNIT(test_base64), UNIT(test_json_escape), UNIT(test_printf_grows))
