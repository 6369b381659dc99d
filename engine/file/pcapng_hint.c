// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The tshark decode hint of a recording (-w): which protocol each connection
 * speaks, recognised from the bytes the writer puts in its packets, and the
 * "-d tcp.port==N,PROTO" options Wireshark needs for those on ports it does not
 * know them by (rules in engine/file/pcapng.h).
 *
 * Recognition is the session's own dispatcher (decoders/stream.h), fed each
 * direction's payload in order as if side 0 of the connection were the local
 * process, and dropped as soon as it decided or after HINT_MAX_BYTES /
 * HINT_MAX_SEGS without deciding: a recording pays for the first bytes of a
 * connection only.
 */
#include "engine/file/pcapng_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "decoders/stream.h"

#define HINT_MAX_BYTES (64u << 10)
#define HINT_MAX_SEGS  64

struct pcapng_hint_det {
	struct dec_stream *ds;
	uint64_t fed;
	unsigned segs;
	bool done;
};

static void no_record(const struct dec_record *rec, void *arg)
{
	(void)rec;
	(void)arg;
}

/* tshark's own ports for a protocol (its dissectors' "tcp.port" defaults in
 * Wireshark 3.x/4.x), which need no -d. HTTP/2 in clear text has none. */
bool pcapng_tshark_default_port(enum dec_proto p, uint16_t port)
{
	switch (p) {
	case DEC_P_HTTP1:
		return port == 80 || port == 8080;
	case DEC_P_MYSQL:
		return port == 3306;
	case DEC_P_PGSQL:
		return port == 5432;
	default:
		return false;
	}
}

static void hint_note(struct pcapng_hints *h, enum dec_proto proto, uint16_t port)
{
	uint32_t key = (uint32_t)proto << 16 | port;
	size_t i;

	if (proto == DEC_P_UNKNOWN || proto == DEC_P_TLS || proto >= DEC_P_MAX ||
	    pcapng_tshark_default_port(proto, port))
		return;
	for (i = 0; i < h->n; i++)
		if (h->key[i] == key)
			return;
	if (h->n == PNG_HINT_MAX) {
		h->dropped++;
		return;
	}
	h->key[h->n++] = key;
}

static void det_end(struct pcapng_hints *h, struct pcapng_hint_det *d)
{
	if (d->ds)
		h->active--;
	dec_stream_free(d->ds);
	d->ds = NULL;
	d->done = true;
}

int pcapng_hint_feed(struct pcapng_hints *h, struct pcapng_hint_det **dp, int from0,
		     const uint8_t *p, size_t n, uint64_t ts_ns, const uint16_t port[2], int client)
{
	struct pcapng_hint_det *d = *dp;
	enum dec_proto proto;

	if (!n || (d && d->done))
		return 0;
	if (!d) {
		d = calloc(1, sizeof(*d));
		if (!d)
			return -ENOMEM;
		*dp = d;
		if (h->active >= PNG_HINT_ACTIVE) {
			d->done = true;
			h->dropped++;
			return 0;
		}
		d->ds = dec_stream_new(no_record, NULL);
		if (!d->ds) {
			d->done = true;
			return -ENOMEM;
		}
		h->active++;
		dec_stream_set_port_hint(d->ds, port[0], port[1]);
	}
	dec_stream_feed(d->ds, from0, p, n, ts_ns);
	d->fed += n;
	d->segs++;
	proto = dec_stream_proto(d->ds);
	if (proto != DEC_P_UNKNOWN) {
		int c0 = dec_stream_local_is_client(d->ds);

		/* the bytes name the roles; else the side the writer made the client */
		if (c0 < 0)
			c0 = client == 0;
		hint_note(h, proto, c0 ? port[1] : port[0]);
		det_end(h, d);
	} else if (d->fed >= HINT_MAX_BYTES || d->segs >= HINT_MAX_SEGS) {
		det_end(h, d);
	}
	return 0;
}

void pcapng_hint_det_free(struct pcapng_hints *h, struct pcapng_hint_det *d)
{
	if (!d)
		return;
	det_end(h, d);
	free(d);
}

size_t pcapng_hint_format(const struct pcapng_hints *h, char *buf, size_t len)
{
	size_t i, o = 0;

	if (!len)
		return 0;
	buf[0] = '\0';
	for (i = 0; i < h->n; i++) {
		int k =
		    snprintf(buf + o, len - o, "%s-d tcp.port==%u,%s", o ? " " : "",
			     h->key[i] & 0xffff, dec_proto_name((enum dec_proto)(h->key[i] >> 16)));

		if (k < 0 || (size_t)k >= len - o) {
			buf[o] = '\0'; /* whole options only */
			break;
		}
		o += (size_t)k;
	}
	return o;
}
