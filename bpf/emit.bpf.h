/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Payload output shared by every data source: copy a user buffer into as many
 * EC_CHUNK-sized records as it takes, counting what cannot be copied.
 */
#ifndef ECAPTOP_BPF_EMIT_BPF_H
#define ECAPTOP_BPF_EMIT_BPF_H

#include "common.bpf.h"

struct emit_ctx {
	void *ctx;
	struct scratch *s;
	__u64 buf;
	__u64 total;
	__u64 lost; /* bytes of the call past the per-call limit */
};

/* Record i of a call: bytes [i * EC_CHUNK, min(total, (i + 1) * EC_CHUNK)).
 * Returns 1 to stop the loop. */
static __always_inline long emit_segment(__u32 i, struct emit_ctx *c)
{
	struct scratch *s = c->s;
	__u64 off = (__u64)i * EC_CHUNK;
	__u32 n;

	if (off >= c->total)
		return 1;
	n = c->total - off > EC_CHUNK ? EC_CHUNK : c->total - off;
	/* Bound n again where the verifier sees it (5.10's loses the bound above): a
	 * mask, then the compare. */
	barrier_var(n);
	n &= 2 * EC_CHUNK - 1;
	if (n > EC_CHUNK)
		n = EC_CHUNK;
	if (i)
		s->hdr.flags |= EC_F_CONT;
	if (bpf_probe_read_user(s->data, n, (void *)(c->buf + off))) {
		/* Not resident: say how many bytes of the call are missing, so the
		 * decoders see a gap rather than a silent hole. */
		count_loss(EC_L_READ, s->hdr.source);
		s->hdr.flags |= EC_F_TRUNCATED;
		if (s->hdr.kind == EC_K_DATA)
			s->hdr.aux = c->lost + c->total - off;
		s->hdr.len = 0;
		output(c->ctx, s, 0);
		return 1;
	}
	s->hdr.len = n;
	if (off + n >= c->total && c->lost) {
		s->hdr.flags |= EC_F_TRUNCATED;
		/* DATA records say how many bytes are missing (events.h: aux). */
		if (s->hdr.kind == EC_K_DATA)
			s->hdr.aux = c->lost;
	}
	output(c->ctx, s, n);
	return 0;
}

/* EC_NO_CALLBACKS: the build of an object for kernels that know no callbacks (before
 * bpf_loop, 5.17): even an unused reference to one fails the load there. */
#ifndef EC_NO_CALLBACKS
static long emit_segment_cb(__u32 i, void *data)
{
	return emit_segment(i, data);
}
#endif

/* Copy total bytes from the user buffer into as many records as it takes. bpf_loop
 * keeps the verifier's work constant however many records a call needs; without it
 * a bounded loop is unrolled by the verifier, so it must stay short. */
/* Not inlined: one verified copy however many callers (TLS calls, iovecs). */
static __noinline void emit_payload(void *ctx, struct scratch *s, __u64 buf, __u64 total)
{
	__u64 max =
	    has_bpf_loop ? (__u64)EC_CHUNK * EC_MAX_SEGS : (__u64)EC_CHUNK * EC_MAX_SEGS_OLD;
	struct emit_ctx c = {.ctx = ctx, .s = s, .buf = buf};
	__u32 i;

	if (total > max) {
		count_loss(EC_L_TRUNC, s->hdr.source);
		c.lost = total - max;
		total = max;
	}
	c.total = total;
	if (has_bpf_loop) {
#ifndef EC_NO_CALLBACKS
		bpf_loop(EC_MAX_SEGS, emit_segment_cb, &c, 0);
#endif
		return;
	}
	for (i = 0; i < EC_MAX_SEGS_OLD; i++)
		if (emit_segment(i, &c))
			break;
}

#endif
