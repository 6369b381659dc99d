// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The engine thread: drain the kernel's ring or perf buffer into the SPSC queue,
 * checking each record's size before reading it, and wake the consumer.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "engine/capture/cgroup.h"
#include "engine/capture/engine_int.h"
#include "engine/discover/discover.h"
#include "engine/capture/keylog.h"
#include "engine/capture/packets.h"
#include "engine/log.h"
#include "tls.skel.h"

/* Shell lines as the user typed them: zsh keeps bytes >= 0x83 "metafied" (Meta, then
 * the byte xor 32; zsh Src/utils.c unmetafy), and its line ends in a newline. */
static void normalize_command(struct ec_event *ev)
{
	uint32_t i, j = 0;

	if (ev->h.source == EC_S_ZSH) {
		for (i = 0; i < ev->h.len; i++) {
			if (ev->data[i] == 0x83 && i + 1 < ev->h.len)
				ev->data[j++] = ev->data[++i] ^ 32;
			else
				ev->data[j++] = ev->data[i];
		}
		ev->h.len = j;
	}
	while (ev->h.len && (ev->data[ev->h.len - 1] == '\n' || ev->data[ev->h.len - 1] == '\r'))
		ev->h.len--;
}

/* A TLS secret: into the key log now, before the connection's data that follows it in
 * the buffer is queued. Never queued itself. */
static void on_keylog(struct engine *e, const struct ec_rec_hdr *h, const void *data)
{
	struct keylog_counts kc;
	struct ec_keylog k;
	int r;

	if ((!e->keylog_file && !e->pkt) || h->len < sizeof(k)) {
		atomic_fetch_add_explicit(&e->lost_malformed, 1, memory_order_relaxed);
		return;
	}
	memcpy(&k, (const char *)data + sizeof(*h), sizeof(k));
	packets_secret(e->pkt, &k); /* a Decryption Secrets Block of the --packets file */
	if (!e->keylog_file)
		return;
	r = keylog_file_add(e->keylog_file, &k);
	if (r == -EINVAL) {
		atomic_fetch_add_explicit(&e->lost_malformed, 1, memory_order_relaxed);
	} else if (r < 0) {
		keylog_file_counts(e->keylog_file, &kc);
		if (kc.failed == 1) /* once: the summary at exit counts the rest */
			log_msg(LOG_ERROR, "key log: cannot write %s: %s", e->opts.keylog_path,
				strerror(-r));
	}
}

/* Hand one record to the consumer (or count it lost). */
static void push_event(struct engine *e, struct ec_event *ev)
{
	uint32_t len = ev->h.len;

	if (!evq_push(&e->q, ev))
		return; /* counted as a queue loss */
	evq_delivered(&e->q, len);
	e->pushed = true;
	/* Under sustained load ring_buffer__poll() does not return while records keep
	 * coming: wake the consumer from here too, every WAKE_BATCH records, or it
	 * sleeps while the queue fills. */
	if (++e->since_wake >= WAKE_BATCH) {
		evq_wake(&e->q);
		e->since_wake = 0;
	}
}

/*
 * Memory-BIO writes (bpf/tlsshare.bpf.h: pending_sends). A TLS write made through a
 * memory BIO carries the connection the kernel guessed, or none, and EC_F_ATTR_LATER:
 * its ciphertext leaves right after the call, on the same thread, and the kernel then
 * sends an EC_K_ATTR record naming the call's real connection. The write's records
 * wait here for it, at most ATTR_HOLD_MS, and anything else the same thread does
 * first sends them on as they are: a thread's records keep their order.
 */

/* Send on the held records of thread tid (every thread: all), or those older than
 * ATTR_HOLD_MS when old_only; with call_id != 0, none other of tid's than that call's
 * are kept back. */
static void attr_flush(struct engine *e, uint32_t tid, uint64_t now_ms, bool old_only)
{
	size_t i, j = 0;

	for (i = 0; i < e->n_held; i++) {
		struct ec_event *ev = e->held[i];
		bool go = old_only ? e->held_ms[i] + ATTR_HOLD_MS <= now_ms : ev->h.tid == tid;

		if (go) {
			ev->h.flags &= ~EC_F_ATTR_LATER;
			push_event(e, ev);
			continue;
		}
		e->held[j] = ev;
		e->held_ms[j++] = e->held_ms[i];
	}
	e->n_held = j;
}

static void attr_hold(struct engine *e, struct ec_event *ev)
{
	size_t i;

	/* An earlier call of this thread that was never named goes on first. */
	for (i = 0; i < e->n_held; i++)
		if (e->held[i]->h.tid == ev->h.tid && e->held[i]->h.call_id != ev->h.call_id) {
			attr_flush(e, ev->h.tid, 0, false);
			break;
		}
	if (e->n_held == ATTR_HOLD_MAX) {
		e->held[0]->h.flags &= ~EC_F_ATTR_LATER;
		push_event(e, e->held[0]);
		memmove(e->held, e->held + 1, (ATTR_HOLD_MAX - 1) * sizeof(e->held[0]));
		memmove(e->held_ms, e->held_ms + 1, (ATTR_HOLD_MAX - 1) * sizeof(e->held_ms[0]));
		e->n_held--;
	}
	e->held[e->n_held] = ev;
	e->held_ms[e->n_held++] = mono_ms();
}

/* The kernel named the connection of call a->h.call_id of thread a->h.tid. */
static void attr_apply(struct engine *e, const struct ec_event *a)
{
	size_t i;

	for (i = 0; i < e->n_held; i++) {
		struct ec_rec_hdr *h = &e->held[i]->h;

		if (h->tid != a->h.tid || h->pid != a->h.pid || h->call_id != a->h.call_id)
			continue;
		h->fd = a->h.fd;
		h->family = a->h.family;
		h->lport = a->h.lport;
		h->rport = a->h.rport;
		memcpy(h->laddr, a->h.laddr, sizeof(h->laddr));
		memcpy(h->raddr, a->h.raddr, sizeof(h->raddr));
		h->conn_id = a->h.conn_id;
		h->flags &= ~EC_F_NO_SOCKET;
	}
	attr_flush(e, a->h.tid, 0, false);
}

/* Engine thread: one record from the kernel. Check its size before reading it,
 * copy it, hand it to the consumer. */
static int on_record(void *ctx, void *data, size_t size)
{
	struct engine *e = ctx;
	struct ec_rec_hdr hdr;
	const struct ec_rec_hdr *h = &hdr;
	struct ec_event *ev;
	uint32_t path_len = 0;
	uint64_t start = 0, cg_id = 0;
	const char *cg = NULL;
	size_t cg_len = 0;

	/* Perf buffer samples are padded to 8 bytes, ring buffer ones are exact; a
	 * perf sample starts 4 bytes into its record, so read the header by copy, not
	 * in place (it is not aligned). */
	/* Once a stop is requested, take what the buffer held then (a buffer's worth)
	 * but no more: under sustained load the poll would never return. */
	if (atomic_load_explicit(&e->q.stop, memory_order_relaxed)) {
		e->after_stop += size;
		if (e->after_stop > e->opts.ring_bytes)
			return -ECANCELED;
	}
	if (size < sizeof(hdr)) {
		atomic_fetch_add_explicit(&e->lost_malformed, 1, memory_order_relaxed);
		return 0;
	}
	memcpy(&hdr, data, sizeof(hdr));
	if (h->len > EC_CHUNK || sizeof(*h) + h->len > size) {
		atomic_fetch_add_explicit(&e->lost_malformed, 1, memory_order_relaxed);
		return 0;
	}
	if (h->kind == EC_K_KEYLOG) {
		on_keylog(e, h, data);
		return 0;
	}
	if (h->kind == EC_K_EXEC && !(h->flags & (EC_F_FORK | EC_F_MOVED))) {
		/* The executable's path and identity go to discovery, not further. */
		path_len = h->rport <= h->len ? h->rport : 0;
		discover_exec(e->disc, (pid_t)h->pid, (pid_t)h->aux, (uint32_t)h->call_id,
			      h->conn_id, h->ts_ns, h->flags & EC_F_HELD,
			      (const char *)data + sizeof(*h) + h->len - path_len, path_len);
	}
	if (h->kind == EC_K_EXEC) {
		/* The process's start and cgroup (bpf/events.h), its path after the
		 * command line. */
		memcpy(&start, h->laddr, sizeof(start));
		memcpy(&cg_id, h->raddr, sizeof(cg_id));
		cg = cgroup_names_get(e->cgnames, cg_id);
		cg_len = cg ? strlen(cg) : 0;
	}
	ev = malloc(sizeof(*ev) + h->len + cg_len);
	if (!ev) {
		atomic_fetch_add_explicit(&e->lost_alloc, 1, memory_order_relaxed);
		return 0;
	}
	memcpy(ev, data, sizeof(*h) + h->len);
	if (h->kind == EC_K_EXEC) {
		ev->h.len -= path_len;
		memcpy(ev->data + ev->h.len, cg, cg_len);
		ev->h.len += cg_len;
		ev->h.rport = (uint16_t)cg_len;
		ev->h.conn_id = cg_id;
		ev->h.call_id = start ? (uint64_t)((int64_t)start + e->clock_offset_ns) : 0;
		memset(ev->h.laddr, 0, sizeof(ev->h.laddr));
		memset(ev->h.raddr, 0, sizeof(ev->h.raddr));
	}
	ev->h.ts_ns = (uint64_t)((int64_t)ev->h.ts_ns + e->clock_offset_ns);
	/* An IPv4 peer of an IPv6 socket is shown as what it is: IPv4. */
	if (ev->h.family == EC_AF_INET6 &&
	    !memcmp(ev->h.laddr, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) &&
	    !memcmp(ev->h.raddr, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12)) {
		memmove(ev->h.laddr, ev->h.laddr + 12, 4);
		memset(ev->h.laddr + 4, 0, 12);
		memmove(ev->h.raddr, ev->h.raddr + 12, 4);
		memset(ev->h.raddr + 4, 0, 12);
		ev->h.family = EC_AF_INET;
	}
	if (ev->h.kind == EC_K_COMMAND)
		normalize_command(ev);
	if (ev->h.kind == EC_K_ATTR) {
		attr_apply(e, ev);
		free(ev);
		return 0;
	}
	if (ev->h.kind == EC_K_DATA && (ev->h.flags & EC_F_ATTR_LATER)) {
		attr_hold(e, ev);
		return 0;
	}
	/* Whatever a thread does next comes after its held records. */
	if (e->n_held)
		attr_flush(e, ev->h.tid, 0, false);
	push_event(e, ev);
	return 0;
}

static void on_perf_sample(void *ctx, int cpu, void *data, __u32 size)
{
	(void)cpu;
	on_record(ctx, data, size);
}

static void on_perf_lost(void *ctx, int cpu, __u64 cnt)
{
	struct engine *e = ctx;

	(void)cpu;
	atomic_fetch_add_explicit(&e->lost_perf, cnt, memory_order_relaxed);
}

void *engine_thread(void *arg)
{
	struct engine *e = arg;

	while (!evq_stopping(&e->q)) {
		int n;

		e->pushed = false;
		/* Records committed without a wake-up (common.bpf.h: rb_flags) are
		 * read at each timeout; an idle reader has no timer (readwait.c). */
		n = readwait_poll(e);
		if (n < 0 && n != -EINTR && n != -ECANCELED) {
			log_msg(LOG_ERROR, "reading the kernel buffer failed: %s", strerror(-n));
			break;
		}
		if (e->pushed) {
			evq_wake(&e->q);
			e->since_wake = 0;
		}
		if (e->n_held)
			attr_flush(e, 0, mono_ms(), true);
		if (packets_tick(e->pkt, false)) /* packets leave the hold here */
			evq_wake(&e->q);
	}
	/* Drain what the kernel already wrote, so a clean stop loses nothing. */
	e->pushed = false;
	if (e->ringbuf)
		ring_buffer__consume(e->rb);
	else
		perf_buffer__consume(e->pb);
	attr_flush(e, 0, UINT64_MAX - ATTR_HOLD_MS, true);
	packets_tick(e->pkt, true);
	evq_wake(&e->q);
	return NULL;
}

/* The ring buffer, or one perf buffer per CPU, with this file's callbacks. */
int engine_open_buffers(struct engine *e, char *err, size_t errlen)
{
	int ret;

	ret = readwait_init(e);
	if (ret) {
		snprintf(err, errlen, "eventfd: %s", strerror(-ret));
		return ret;
	}
	if (e->ringbuf) {
		e->rb = ring_buffer__new(bpf_map__fd(e->tls->maps.rb), on_record, e, NULL);
		if (!e->rb) {
			ret = -errno;
			snprintf(err, errlen, "cannot open the ring buffer: %s", strerror(-ret));
			return ret;
		}
	} else {
		e->pb = perf_buffer__new(bpf_map__fd(e->tls->maps.pb), PERF_PAGES_PER_CPU,
					 on_perf_sample, on_perf_lost, e, NULL);
		if (!e->pb) {
			ret = -errno;
			snprintf(err, errlen, "cannot open the perf buffers: %s", strerror(-ret));
			return ret;
		}
	}
	return 0;
}
