// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * A synthetic producer for the benchmarks (tests/bench/synth.c), never loaded by
 * ecaptop itself. It writes data records of the capture ABI (bpf/events.h) into the
 * ring buffer or perf buffer of a running ecaptop, whose map fds the tool adopts
 * before load, so the engine, queue and printer see exactly what the TLS probes
 * would send, at a rate no real TLS program on a small machine can reach (a uprobe
 * hit costs microseconds; this costs the record copy only).
 *
 * It runs through BPF_PROG_TEST_RUN, attached to nothing: nothing else on the
 * machine pays for it. The payload is whatever user space put in this CPU's scratch
 * record; the program fills the header.
 */
#include "common.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct bench_state {
	void *ctx;
	__u64 conn_base;
	__u32 n_conns;
	__u32 dir;
	__u32 len;
	__u32 sent;
};

static long bench_one(__u32 i, void *data)
{
	struct bench_state *st = data;
	struct scratch *s = scratch_get();
	__u32 conn;

	if (!s)
		return 1;
	conn = st->n_conns ? i % st->n_conns : 0;
	hdr_init(&s->hdr, EC_K_DATA, EC_S_OPENSSL);
	s->hdr.dir = st->dir;
	s->hdr.family = EC_AF_INET;
	s->hdr.laddr[0] = 127;
	s->hdr.laddr[3] = 1;
	s->hdr.raddr[0] = 127;
	s->hdr.raddr[3] = 1;
	s->hdr.lport = 443;
	s->hdr.rport = 40000 + conn;
	s->hdr.fd = 100 + conn;
	s->hdr.conn_id = st->conn_base + conn;
	s->hdr.call_id = s->hdr.ts_ns;
	s->hdr.len = st->len;
	if (!output(st->ctx, s, st->len))
		st->sent++;
	return 0;
}

/* args[0]: records to write; args[1]: conn_id of the first connection; args[2]: how
 * many connections the records rotate over; args[3]: enum ec_dir; args[4]: payload
 * bytes (at most EC_CHUNK). Returns the number of records the buffer accepted. */
SEC("raw_tp")
int bench_emit(struct bpf_raw_tracepoint_args *ctx)
{
	struct bench_state st = {
	    .ctx = ctx,
	    .conn_base = ctx->args[1],
	    .n_conns = ctx->args[2],
	    .dir = ctx->args[3],
	    .len = ctx->args[4] > EC_CHUNK ? EC_CHUNK : ctx->args[4],
	};

	bpf_loop(ctx->args[0], bench_one, &st, 0);
	return st.sent;
}
