// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * libFuzzer target for the HTTP/2 decoder, both directions.
 *
 * Input: a script. Byte 0 holds flags: bit 0 feeds the client connection
 * preface first (so the fuzzer need not find those 24 bytes), bit 1 starts as
 * an h2c upgrade (bit 2 clear: http2_upgraded; set: http2_upgraded_exchange
 * with a whole HTTP/1.1 exchange). Then operations, each a control byte c and
 * a length byte n: c bit 0 is the direction (0 client, 1 server); c bits 1-2:
 * 0-2 feed the next n + 1 bytes of input (1 and 2 use n * 64 + 1 bytes, for
 * larger frames), 3 reports a gap of n + 1 bytes. Every record's fields are
 * read in full so the sanitizers see any bad pointer. The seeds under
 * tests/fuzz/corpus/fuzz_http2/ are the decoder test streams in this form.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "decoders/http2.h"

static volatile size_t sink;

static size_t touch(const char *s)
{
	return s ? strlen(s) : 0;
}

static void emit(const struct dec_record *r, void *arg)
{
	size_t sum = 0, i;

	(void)arg;
	if (r->type == DEC_R_NOTE) {
		sink += touch(r->note.text);
		return;
	}
	if (r->type == DEC_R_FRAMES) {
		/* bounded: HTTP2_FRAMES_TEXT_CAP and the "(+N more)" after it */
		if (touch(r->frames.text) > HTTP2_FRAMES_TEXT_CAP + 32)
			__builtin_trap();
		sink += r->frames.count;
		return;
	}
	sum += touch(r->http.version) + touch(r->http.method) + touch(r->http.path) +
	       touch(r->http.host) + touch(r->http.reason);
	for (i = 0; i < r->http.n_req_headers; i++)
		sum += touch(r->http.req_headers[i].name) + touch(r->http.req_headers[i].value);
	for (i = 0; i < r->http.n_resp_headers; i++)
		sum += touch(r->http.resp_headers[i].name) + touch(r->http.resp_headers[i].value);
	for (i = 0; i < r->http.req_body_len; i++)
		sum += r->http.req_body[i];
	for (i = 0; i < r->http.resp_body_len; i++)
		sum += r->http.resp_body[i];
	sink += sum;
	if (r->http.req_body_len > DEC_BODY_CAP || r->http.resp_body_len > DEC_BODY_CAP)
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http2 *d;
	uint64_t ts = 1000;
	size_t i = 1;

	if (!size)
		return 0;
	d = http2_new(emit, NULL);
	if (!d)
		return 0;
	http2_name_frames(d, 1);
	if ((data[0] & 6) == 2) {
		http2_upgraded(d, "GET", "/", "fuzz", ts);
	} else if ((data[0] & 6) == 6) {
		/* the whole HTTP/1.1 exchange handed over (http1_take_upgrade's shape) */
		static const struct dec_header rqh[] = {{"Host", "fuzz"},
							{"Content-Encoding", "gzip"}};
		struct dec_record up;

		memset(&up, 0, sizeof(up));
		up.type = DEC_R_HTTP;
		up.req_ts_ns = ts;
		up.http.method = "POST";
		up.http.path = "/";
		up.http.host = "fuzz";
		up.http.req_headers = rqh;
		up.http.n_req_headers = 2;
		up.http.req_body = (const uint8_t *)"body";
		up.http.req_body_len = 4;
		up.http.req_bytes = 100;
		up.http.resp_bytes = 60;
		http2_upgraded_exchange(d, &up);
	}
	if (data[0] & 1)
		http2_feed(d, DEC_DIR_REQ, (const uint8_t *)HTTP2_PREFACE, HTTP2_PREFACE_LEN, ts);
	while (i + 2 <= size) {
		uint8_t c = data[i], n = data[i + 1];
		enum dec_dir dir = (c & 1) ? DEC_DIR_RESP : DEC_DIR_REQ;
		unsigned op = (c >> 1) & 3;
		size_t len = op == 0 ? (size_t)n + 1 : (size_t)n * 64 + 1;

		i += 2;
		ts += 1000;
		if (op == 3) {
			http2_gap(d, dir, (uint64_t)n + 1);
			continue;
		}
		if (len > size - i)
			len = size - i;
		http2_feed(d, dir, data + i, len, ts);
		i += len;
	}
	http2_close(d, ts + 1000);
	http2_free(d);
	return 0;
}
