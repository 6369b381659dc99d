// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * libFuzzer target: the per-connection dispatcher (protocol recognition, role
 * detection, hand-offs) with every decoder behind it. The first byte chooses the
 * set-up: bit 0 gives a port hint (bits 1-2 pick which), bit 3 forces a
 * protocol (bits 4-6 its number, bit 7 the role). Then a script of segments: a
 * control byte, then data. Control byte c:
 *   0xff: the next byte (+1) is a gap length on side (next-next byte & 1)
 *   0xfe: close
 *   else: bit 7 = side (1 = bytes the local process sent), bits 0-6 + 1 = length
 */
#include <stddef.h>
#include <stdint.h>

#include "decoders/util/strbuf.h"
#include "decoders/record_json.h"
#include "decoders/stream.h"

static void sink(const struct dec_record *r, void *arg)
{
	struct strbuf *sb = arg;

	sb_reset(sb);
	dec_record_json(sb, r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint16_t ports[4][2] = {
	    {40000, 443}, {443, 40000}, {3306, 50000}, {40000, 40001}};
	struct strbuf sb = STRBUF_INIT;
	struct dec_stream *s;
	size_t i = 1;
	uint64_t ts = 1000;
	uint8_t setup;

	if (size < 1)
		return 0;
	setup = data[0];
	s = dec_stream_new(sink, &sb);
	if (!s)
		return 0;
	if (setup & 1)
		dec_stream_set_port_hint(s, ports[(setup >> 1) & 3][0], ports[(setup >> 1) & 3][1]);
	if (setup & 8)
		(void)dec_stream_force(s, (enum dec_proto)((setup >> 4) & 7), setup >> 7);
	while (i < size) {
		uint8_t c = data[i++];

		ts += 1000;
		if (c == 0xff) {
			if (i + 2 > size)
				break;
			dec_stream_gap(s, data[i + 1] & 1, (uint64_t)data[i] + 1);
			i += 2;
		} else if (c == 0xfe) {
			dec_stream_close(s, ts);
		} else {
			size_t n = (size_t)(c & 0x7f) + 1;

			if (n > size - i)
				n = size - i;
			dec_stream_feed(s, c >> 7, data + i, n, ts);
			i += n;
		}
		(void)dec_stream_proto(s);
		(void)dec_stream_local_is_client(s);
	}
	dec_stream_close(s, ts + 1);
	dec_stream_free(s);
	sb_free(&sb);
	return 0;
}
