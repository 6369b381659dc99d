// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * libFuzzer target for the mysql decoder (decoders/mysql.h). The input scripts
 * a connection: a sequence of steps, each an op byte (bit 0: direction, 0 =
 * client to server; bits 1-2: 0/1/3 feed, 2 lost bytes), a 16-bit
 * little-endian length, then for a feed that many bytes (or what is left).
 * The decoder is closed at the end; mysql_detect runs on the first step's bytes
 * in both directions. Seeds: tests/fuzz/corpus/fuzz_mysql/ (tests/decoders/streams/mysql/mkseeds.py turns
 * decoder test streams into this format).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "decoders/mysql.h"

static void sink(const struct dec_record *r, void *arg)
{
	size_t *n = arg;

	/* Touch the strings a record carries, so a dangling pointer shows. */
	if (r->type == DEC_R_NOTE && r->note.text)
		*n += strlen(r->note.text);
	/* the first rows of a result set, bounded (decoders/decoder.h) */
	if (r->type == DEC_R_MYSQL && r->mysql.result) {
		if (strlen(r->mysql.result) > DEC_RESULT_CAP)
			__builtin_trap();
		*n += strlen(r->mysql.result);
	}
	(*n)++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t count = 0, off = 0, len;
	struct mysql *d = mysql_new(sink, &count);
	int first = 1;
	uint64_t ts = 1000;

	if (!d)
		return 0;
	while (off + 3 <= size) {
		uint8_t op = data[off];
		enum dec_dir dir = (op & 1) ? DEC_DIR_RESP : DEC_DIR_REQ;

		len = (size_t)data[off + 1] | (size_t)data[off + 2] << 8;
		off += 3;
		ts += 1000;
		if (((op >> 1) & 3) == 2) {
			mysql_gap(d, dir, len);
			continue;
		}
		if (len > size - off)
			len = size - off;
		if (first) {
			mysql_detect(data + off, len, DEC_DIR_REQ);
			mysql_detect(data + off, len, DEC_DIR_RESP);
			first = 0;
		}
		mysql_feed(d, dir, data + off, len, ts);
		off += len;
	}
	mysql_close(d, ts + 1000);
	mysql_free(d);
	return 0;
}
