// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * libFuzzer target: the HTTP/1 decoder fed directly. The input is a script of
 * segments: a control byte, then data. Control byte c:
 *   0xff: the next byte (+1) is a gap length in direction (next-next byte & 1)
 *   0xfe: close (further input is fed to a closed decoder, which must ignore it)
 *   else: bit 7 = direction (1 = response), bits 0-6 + 1 = segment length
 * Every record is formatted as JSON, so every borrowed pointer is read.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "decoders/http1.h"
#include "decoders/util/strbuf.h"
#include "decoders/record_json.h"

static void sink(const struct dec_record *r, void *arg)
{
	struct strbuf *sb = arg;

	sb_reset(sb);
	dec_record_json(sb, r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct strbuf sb = STRBUF_INIT;
	struct http1 *d = http1_new(sink, &sb);
	size_t i = 0;
	uint64_t ts = 1000;

	if (!d)
		return 0;
	while (i < size) {
		uint8_t c = data[i++];

		ts += 1000;
		if (c == 0xff) {
			if (i + 2 > size)
				break;
			http1_gap(d, (data[i + 1] & 1) ? DEC_DIR_RESP : DEC_DIR_REQ,
				  (uint64_t)data[i] + 1);
			i += 2;
		} else if (c == 0xfe) {
			http1_close(d, ts);
		} else {
			size_t n = (size_t)(c & 0x7f) + 1;

			if (n > size - i)
				n = size - i;
			http1_feed(d, (c & 0x80) ? DEC_DIR_RESP : DEC_DIR_REQ, data + i, n, ts);
			/* the h2c hand-off path: take what the decoder kept (the upgrade
			 * exchange only on some switches, so close reports it otherwise) */
			if (http1_switched(d)) {
				uint8_t *out;
				const char *m, *p, *h;
				uint64_t t;
				struct dec_record up;

				http1_switch_request(d, &m, &p, &h, &t);
				if ((c & 1) && http1_take_upgrade(d, &up) == 0)
					sink(&up, &sb);
				if (http1_take_leftover(d, DEC_DIR_REQ, &out))
					free(out);
				if (http1_take_leftover(d, DEC_DIR_RESP, &out))
					free(out);
			}
			i += n;
		}
	}
	http1_close(d, ts + 1);
	http1_free(d);
	sb_free(&sb);
	return 0;
}
