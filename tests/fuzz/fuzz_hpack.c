// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * libFuzzer target for HPACK (RFC 7541) decoding (decoders/hpack.h, over
 * libnghttp2's inflater).
 *
 * Input: bytes 0-1 the table limit (big endian, times 16), then header blocks,
 * each a length byte and that many bytes, decoded in turn on one dynamic table
 * until one fails (a failure must say why). After every block the table's
 * bookkeeping is checked: its size is the sum of its entries' sizes and within
 * its maximum, and that within the limit.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "decoders/hpack.h"

static void field(void *arg, const char *name, size_t nlen, const char *value, size_t vlen,
		  int never)
{
	volatile size_t *sum = arg;
	size_t i;

	for (i = 0; i < nlen; i++)
		*sum += (uint8_t)name[i];
	for (i = 0; i < vlen; i++)
		*sum += (uint8_t)value[i];
	/* Both strings are NUL-terminated at their lengths. */
	if (name[nlen] || value[vlen])
		__builtin_trap();
	*sum += (size_t)never;
}

static void check_table(const struct hpack_table *t)
{
	size_t i, total = 0;

	for (i = 0; i < hpack_table_count(t); i++) {
		const char *n, *v;
		size_t nl, vl;

		if (hpack_table_get(t, HPACK_STATIC_COUNT + 1 + i, &n, &nl, &v, &vl))
			__builtin_trap();
		total += nl + vl + 32; /* RFC 7541 section 4.1 */
	}
	if (total != hpack_table_size(t) || hpack_table_size(t) > hpack_table_max_size(t) ||
	    hpack_table_max_size(t) > t->limit)
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hpack_table t;
	volatile size_t sum = 0;
	size_t i = 2;

	if (size < 2)
		return 0;
	if (hpack_table_init(&t, ((size_t)data[0] << 8 | data[1]) * 16))
		return 0;
	while (i < size) {
		size_t len = data[i++];

		if (len > size - i)
			len = size - i;
		if (hpack_decode_block(&t, data + i, len, field, (void *)&sum)) {
			if (!t.error[0])
				__builtin_trap();
			break;
		}
		check_table(&t);
		i += len;
	}
	hpack_table_free(&t);
	return 0;
}
