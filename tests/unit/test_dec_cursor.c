// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The decoders' checked cursor (decoders/util/cursor.h). */
#include "decoders/util/cursor.h"
#include "unit.h"

static const uint8_t b[] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07};

static void test_reads(void)
{
	struct cursor c = cur_make(b, sizeof(b));
	const uint8_t *p;
	uint32_t v;
	uint8_t u;

	CHECK(cur_u8(&c, &u) && u == 0x01);
	CHECK(cur_be16(&c, &v) && v == 0x0203);
	CHECK(cur_le16(&c, &v) && v == 0x0504);
	CHECK_EQ_INT(c.left, 2);
	CHECK(cur_bytes(&c, 2, &p) && p == b + 5);
	CHECK_EQ_INT(c.left, 0);
	c = cur_make(b, sizeof(b));
	CHECK(cur_be24(&c, &v) && v == 0x010203);
	CHECK(cur_le32(&c, &v) && v == 0x07060504);
	c = cur_make(b, sizeof(b));
	CHECK(cur_be32(&c, &v) && v == 0x01020304);
	CHECK(cur_le24(&c, &v) && v == 0x070605);
}

/* A short read fails, stores 0 and leaves the cursor where it was. */
static void test_short(void)
{
	struct cursor c = cur_make(b, 3);
	const uint8_t *p = b;
	uint32_t v = 99;
	uint8_t u = 99;

	CHECK(!cur_be32(&c, &v) && v == 0);
	CHECK(!cur_le32(&c, &v) && v == 0);
	CHECK_EQ_INT(c.left, 3);
	CHECK(c.p == b);
	CHECK(!cur_skip(&c, 4));
	CHECK(!cur_bytes(&c, 4, &p) && p == NULL);
	CHECK(cur_skip(&c, 3));
	CHECK(!cur_u8(&c, &u) && u == 0);
	c = cur_make(NULL, 0);
	CHECK(!cur_u8(&c, &u));
}

static void test_at(void)
{
	CHECK_EQ_INT(cur_be16_at(b, sizeof(b), 5), 0x0607);
	CHECK_EQ_INT(cur_be16_at(b, sizeof(b), 6), -1);
	CHECK_EQ_INT(cur_be32_at(b, sizeof(b), 3), 0x04050607);
	CHECK_EQ_INT(cur_be32_at(b, sizeof(b), 4), -1);
	CHECK_EQ_INT(cur_le24_at(b, sizeof(b), 0), 0x030201);
	CHECK_EQ_INT(cur_le32_at(b, 3, 0), -1);
	CHECK_EQ_INT(cur_le16_at(b, sizeof(b), 100), -1); /* offset past the end */
	CHECK_EQ_INT(cur_le16_at(b, sizeof(b), (size_t)-1), -1);
}

UNIT_MAIN(UNIT(test_reads), UNIT(test_short), UNIT(test_at))
