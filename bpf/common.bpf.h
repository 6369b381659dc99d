/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * What every ecaptop BPF program shares: the output buffers, the loss counters,
 * the live PID/UID filters and the per-CPU scratch record. Each *.bpf.c includes
 * this; user space creates these maps once (with the first object it loads) and
 * hands the same map fds to the other objects (bpf_map__reuse_fd), so there is one
 * ring buffer, one set of counters and one filter for the whole capture.
 */
#ifndef ECAPTOP_BPF_COMMON_BPF_H
#define ECAPTOP_BPF_COMMON_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

#include "events.h"

/* Set by user space before load. */
const volatile bool use_ringbuf = true;
const volatile bool use_boot_ns = true;	 /* bpf_ktime_get_boot_ns exists (5.8+) */
const volatile bool has_bpf_loop = true; /* bpf_loop exists (5.17+) */
const volatile bool has_cookie = true;	 /* bpf_get_attach_cookie for uprobes (5.15+) */
/* bpf_get_current_ancestor_cgroup_id in tracing programs (5.14+; a 5.10 verifier refuses
 * a program that calls it, and this constant keeps the call off its path there) */
const volatile bool has_ancestor_cgroup = true;
const volatile __u32 self_tgid = 0; /* ecaptop itself: never traced (no feedback loop) */
/* Ring buffer wake-ups (see rb_flags); 0 = the kernel's default, a wake-up for every
 * record the reader has caught up with. */
const volatile __u64 rb_wake_ns = 0;
const volatile __u64 rb_wake_bytes = 0;

/* When this object last woke the reader (bpf_ktime_get_ns). Racy across CPUs on
 * purpose: a lost update only means one wake-up more or less. */
__u64 rb_last_wake = 0;

/* One ring buffer for all sources; sized by user space. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 24);
} rb SEC(".maps");

/* The perf buffer fallback (kernels without BPF_MAP_TYPE_RINGBUF, or --perf-buffer). */
struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} pb SEC(".maps");

/* Loss counters, per CPU so the hot path never contends: index cause * EC_S_MAX + source. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, EC_L_MAX *EC_S_MAX);
	__type(key, __u32);
	__type(value, __u64);
} losses SEC(".maps");

/* [0] != 0: the reader has read nothing for a while and sleeps without a timer
 * (engine/capture/readwait.c), so every record wakes it. A map, not a global, because
 * every object must see the one switch the reader flips. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} rb_idle SEC(".maps");

#include "filters.bpf.h"

/* Cgroup v2 levels looked at above the task's own cgroup. */
#define CGROUP_MAX_DEPTH 16

/* Is the current task in one of the filter's cgroups, or below one? */
static __always_inline bool pass_cgroup(void)
{
	__u32 zero = 0, *on = bpf_map_lookup_elem(&cgroup_on, &zero);
	__u64 id;
	int level;

	if (!on || !*on)
		return true;
	id = bpf_get_current_cgroup_id();
	if (bpf_map_lookup_elem(&cgroup_filter, &id))
		return true;
	if (!has_ancestor_cgroup)
		return false; /* the cgroup itself only (engine/capture/load.c logs it) */
	/* Ancestors from the root (level 0) down; 0 past the task's own level. */
	for (level = 0; level < CGROUP_MAX_DEPTH; level++) {
		id = bpf_get_current_ancestor_cgroup_id(level);
		if (!id)
			break;
		if (bpf_map_lookup_elem(&cgroup_filter, &id))
			return true;
	}
	return false;
}

/* A record is built here: too big for the 512-byte BPF stack. */
struct scratch {
	struct ec_rec_hdr hdr;
	__u8 data[EC_CHUNK];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct scratch);
} scratch_map SEC(".maps");

static __always_inline void count_loss(__u32 cause, __u32 source)
{
	__u32 key = cause * EC_S_MAX + source;
	__u64 *v = bpf_map_lookup_elem(&losses, &key);

	if (v)
		*v += 1; /* per-CPU slot: no atomic needed */
}

static __always_inline __u64 now_ns(void)
{
	return use_boot_ns ? bpf_ktime_get_boot_ns() : bpf_ktime_get_ns();
}

/* Does the current task pass the live PID/UID filters? */
static __always_inline bool pass_filter(__u32 tgid, __u32 uid)
{
	__u32 k0 = 0, k1 = 1;
	__u32 *on;

	if (tgid == self_tgid)
		return false;
	on = bpf_map_lookup_elem(&filter_on, &k0);
	if (on && *on && !bpf_map_lookup_elem(&pid_filter, &tgid))
		return false;
	on = bpf_map_lookup_elem(&filter_on, &k1);
	if (on && *on && !bpf_map_lookup_elem(&uid_filter, &uid))
		return false;
	return pass_cgroup();
}

static __always_inline struct scratch *scratch_get(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&scratch_map, &zero);
}

/* Fill the identity fields of a header for the current task. */
static __always_inline void hdr_init(struct ec_rec_hdr *h, __u32 kind, __u32 source)
{
	__u64 id = bpf_get_current_pid_tgid();

	/* The scratch record is reused: clear what the previous one left. */
	__builtin_memset(h, 0, sizeof(*h));
	h->kind = kind;
	h->source = source;
	h->ts_ns = now_ns();
	h->pid = id >> 32;
	h->tid = (__u32)id;
	h->uid = (__u32)bpf_get_current_uid_gid();
	h->fd = -1;
	bpf_get_current_comm(h->comm, sizeof(h->comm));
}

/*
 * Whether committing size bytes should wake the reader. A wake-up is an irq_work on
 * this CPU and a scheduler wake-up of the reader, paid by the traced program; under
 * load the reader keeps up, so by default nearly every record pays it (about a
 * sixth of a traced nginx's time per request on a VM, measured with tests/bench).
 * Instead: wake at most once per rb_wake_ns, and at once when the unread bytes cross
 * rb_wake_bytes (the ring is filling: the reader must not sleep through that).
 * Records committed without a wake-up wait at most the reader's poll timeout, and
 * once the reader has gone idle (rb_idle) every record wakes it.
 */
static __always_inline __u64 rb_flags(__u64 size)
{
	__u32 k0 = 0, *idle;
	__u64 now, avail;

	if (!rb_wake_ns)
		return 0;
	idle = bpf_map_lookup_elem(&rb_idle, &k0);
	if (idle && *idle)
		return BPF_RB_FORCE_WAKEUP;
	now = bpf_ktime_get_ns();
	avail = bpf_ringbuf_query(&rb, BPF_RB_AVAIL_DATA);
	if (now - rb_last_wake >= rb_wake_ns ||
	    (avail < rb_wake_bytes && avail + size >= rb_wake_bytes)) {
		rb_last_wake = now;
		return BPF_RB_FORCE_WAKEUP;
	}
	return BPF_RB_NO_WAKEUP;
}

/* Send the first size bytes of s (header + len payload bytes). The size is clamped so
 * the verifier can prove the read stays inside the scratch value. */
static __always_inline int output(void *ctx, struct scratch *s, __u32 len)
{
	__u64 size;
	long ret;

	if (len > EC_CHUNK)
		len = EC_CHUNK;
	size = sizeof(struct ec_rec_hdr) + len;
	if (use_ringbuf)
		ret = bpf_ringbuf_output(&rb, s, size, rb_flags(size));
	else
		ret = bpf_perf_event_output(ctx, &pb, BPF_F_CURRENT_CPU, s, size);
	if (ret)
		count_loss(EC_L_RESERVE, s->hdr.source);
	return ret;
}

#endif
