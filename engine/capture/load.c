// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Loading: open the BPF objects, set what each needs before load (one ring
 * buffer, one set of counters and filters shared by all of them), load them, and
 * --check, which reports what this kernel and these privileges allow.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "engine/capture/caps.h"
#include "engine/capture/engine_int.h"
#include "engine/discover/targets.h"
#include "engine/log.h"
#include "db.skel.h"
#include "proc.skel.h"
#include "shell.skel.h"
#include "sock.skel.h"
#include "tls.skel.h"

int engine_libbpf_log(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char buf[512];

	/* Debug output (the verifier's log included) only on request, and whole: a
	 * verifier log does not fit a log line. */
	if (getenv("ECAPTOP_DEBUG_BPF"))
		return vfprintf(stderr, fmt, ap);
	if (level == LIBBPF_DEBUG)
		return 0;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	log_msg(level == LIBBPF_WARN ? LOG_WARN : LOG_DEBUG, "libbpf: %s", buf);
	return 0;
}

/* Every object after the first uses the first one's shared maps. */
static int share_maps(struct bpf_object *from, struct bpf_object *to)
{
	static const char *const shared[] = {
	    "rb",	 "pb",	      "losses",	      "filter_on", "pid_filter",   "uid_filter",
	    "tls_calls", "tls_socks", "thread_socks", "ssl_conns", "pending_sends"};
	size_t i;

	for (i = 0; i < sizeof(shared) / sizeof(shared[0]); i++) {
		struct bpf_map *src = bpf_object__find_map_by_name(from, shared[i]);
		struct bpf_map *dst = bpf_object__find_map_by_name(to, shared[i]);
		int err;

		if (!src || !dst)
			continue;
		err = bpf_map__reuse_fd(dst, bpf_map__fd(src));
		if (err)
			return err;
	}
	return 0;
}

/* Settings every object needs before load (the rodata globals of common.bpf.h). */
struct common_rodata {
	bool *use_ringbuf, *use_boot_ns, *has_bpf_loop, *has_cookie;
	__u32 *self_tgid;
	__u64 *rb_wake_ns, *rb_wake_bytes;
};

#define COMMON_RODATA(skel)                                                                        \
	((struct common_rodata){                                                                   \
	    (bool *)&(skel)->rodata->use_ringbuf, (bool *)&(skel)->rodata->use_boot_ns,            \
	    (bool *)&(skel)->rodata->has_bpf_loop, (bool *)&(skel)->rodata->has_cookie,            \
	    (__u32 *)&(skel)->rodata->self_tgid, (__u64 *)&(skel)->rodata->rb_wake_ns,             \
	    (__u64 *)&(skel)->rodata->rb_wake_bytes})

static bool probe_helper(enum bpf_func_id id)
{
	return libbpf_probe_bpf_helper(BPF_PROG_TYPE_KPROBE, id, NULL) == 1;
}

static int prepare_common(struct engine *e, struct bpf_object *obj, struct common_rodata r)
{
	struct bpf_map *rb = bpf_object__find_map_by_name(obj, "rb");

	*r.use_ringbuf = e->ringbuf;
	*r.use_boot_ns = probe_helper(BPF_FUNC_ktime_get_boot_ns);
	*r.has_bpf_loop = probe_helper(BPF_FUNC_loop);
	*r.has_cookie = probe_helper(BPF_FUNC_get_attach_cookie);
	*r.self_tgid = (__u32)getpid();
	/* Batched wake-ups (common.bpf.h: rb_flags): a record waits at most POLL_MS
	 * (the engine reads the ring at each poll timeout); an eighth of the ring
	 * unread wakes the reader at once. */
	*r.rb_wake_ns = (__u64)RB_WAKE_MS * 1000000;
	*r.rb_wake_bytes = e->opts.ring_bytes / 8;
	if (!rb)
		return 0;
	if (e->ringbuf)
		return bpf_map__set_max_entries(rb, e->opts.ring_bytes);
	if (libbpf_probe_bpf_map_type(BPF_MAP_TYPE_RINGBUF, NULL) == 1)
		/* Perf buffer requested: keep the unused ring buffer tiny. */
		return bpf_map__set_max_entries(rb, (uint32_t)sysconf(_SC_PAGESIZE));
	/* No ring buffer in this kernel: the map must still be creatable. The
	 * programs never reach their ring-buffer branch (use_ringbuf is a constant
	 * the verifier sees), so an array stands in. */
	bpf_map__set_type(rb, BPF_MAP_TYPE_ARRAY);
	bpf_map__set_key_size(rb, 4);
	bpf_map__set_value_size(rb, 4);
	return bpf_map__set_max_entries(rb, 1);
}

int engine_load(struct engine *e, char *err, size_t errlen)
{
	LIBBPF_OPTS(bpf_object_open_opts, oo, .btf_custom_path = e->opts.btf_path);
	int ret;

	e->tls = tls_bpf__open_opts(&oo);
	e->proc = proc_bpf__open_opts(&oo);
	e->sock = sock_bpf__open_opts(&oo);
	e->shell = shell_bpf__open_opts(&oo);
	e->db = db_bpf__open_opts(&oo);
	if (!e->tls || !e->proc || !e->sock || !e->shell || !e->db) {
		snprintf(err, errlen, "cannot open the BPF programs: %s", strerror(errno));
		return -errno ?: -EINVAL;
	}
	ret = prepare_common(e, e->tls->obj, COMMON_RODATA(e->tls));
	ret = ret ?: prepare_common(e, e->proc->obj, COMMON_RODATA(e->proc));
	ret = ret ?: prepare_common(e, e->sock->obj, COMMON_RODATA(e->sock));
	ret = ret ?: prepare_common(e, e->shell->obj, COMMON_RODATA(e->shell));
	ret = ret ?: prepare_common(e, e->db->obj, COMMON_RODATA(e->db));
	if (ret) {
		snprintf(err, errlen, "cannot size the BPF buffers: %s", strerror(-ret));
		return ret;
	}
	e->tls->rodata->nr_read = SYS_read;
	e->tls->rodata->nr_write = SYS_write;
	e->tls->rodata->nr_readv = SYS_readv;
	e->tls->rodata->nr_writev = SYS_writev;
	e->tls->rodata->nr_sendto = SYS_sendto;
	e->tls->rodata->nr_recvfrom = SYS_recvfrom;
	e->tls->rodata->nr_sendmsg = SYS_sendmsg;
	e->tls->rodata->nr_recvmsg = SYS_recvmsg;
	e->sock->rodata->nr_read = SYS_read;
	e->sock->rodata->nr_write = SYS_write;
	e->sock->rodata->nr_readv = SYS_readv;
	e->sock->rodata->nr_writev = SYS_writev;
	e->sock->rodata->nr_sendto = SYS_sendto;
	e->sock->rodata->nr_recvfrom = SYS_recvfrom;
	e->sock->rodata->nr_sendmsg = SYS_sendmsg;
	e->sock->rodata->nr_recvmsg = SYS_recvmsg;
	/* For the tests only: a smaller tls_calls, to reach its limit with few threads. */
	if (getenv("ECAPTOP_TEST_TLS_CALLS"))
		bpf_map__set_max_entries(
		    e->tls->maps.tls_calls,
		    (uint32_t)strtoul(getenv("ECAPTOP_TEST_TLS_CALLS"), NULL, 10));

	ret = tls_bpf__load(e->tls);
	if (ret) {
		snprintf(err, errlen,
			 "the kernel refused the TLS probes (%s); run with ECAPTOP_DEBUG_BPF=1 "
			 "--log FILE for the verifier's reasons",
			 strerror(-ret));
		return ret;
	}
	ret = share_maps(e->tls->obj, e->proc->obj);
	ret = ret ?: proc_bpf__load(e->proc);
	if (ret) {
		snprintf(err, errlen, "the kernel refused the process probes (%s)", strerror(-ret));
		return ret;
	}
	ret = share_maps(e->tls->obj, e->sock->obj);
	ret = ret ?: sock_bpf__load(e->sock);
	if (ret) {
		snprintf(err, errlen,
			 "the kernel refused the socket probes (%s); run with ECAPTOP_DEBUG_BPF=1 "
			 "for the verifier's reasons",
			 strerror(-ret));
		return ret;
	}
	ret = share_maps(e->tls->obj, e->shell->obj);
	ret = ret ?: shell_bpf__load(e->shell);
	ret = ret ?: share_maps(e->tls->obj, e->db->obj);
	ret = ret ?: db_bpf__load(e->db);
	if (ret) {
		snprintf(err, errlen, "the kernel refused the shell/database probes (%s)",
			 strerror(-ret));
		return ret;
	}
	return 0;
}

static const char *yes_no(bool b)
{
	return b ? "yes" : "no";
}

int engine_check(const struct engine_opts *opts, void *out)
{
	FILE *f = out;
	char err[512] = "", why[256];
	struct engine *e;
	bool root_ok, btf, ringbuf, kprobes, tracefs;
	int ok = 1;
	size_t i;

	libbpf_set_print(engine_libbpf_log);
	root_ok = caps_check_bpf(why, sizeof(why)) == 0;
	btf = opts->btf_path ? access(opts->btf_path, R_OK) == 0
			     : access("/sys/kernel/btf/vmlinux", R_OK) == 0;
	ringbuf = libbpf_probe_bpf_map_type(BPF_MAP_TYPE_RINGBUF, NULL) == 1;
	kprobes = access("/sys/bus/event_source/devices/kprobe/type", R_OK) == 0;
	tracefs = access("/sys/kernel/tracing/events", R_OK) == 0 ||
		  access("/sys/kernel/debug/tracing/events", R_OK) == 0;

	fprintf(f, "privileges (root, or CAP_BPF+CAP_PERFMON): %s\n", yes_no(root_ok));
	fprintf(f, "BTF (%s): %s\n", opts->btf_path ?: "/sys/kernel/btf/vmlinux", yes_no(btf));
	fprintf(f, "BPF ring buffer: %s%s\n", yes_no(ringbuf),
		ringbuf ? "" : " (perf buffers used)");
	fprintf(f, "kprobes: %s (not needed)\n", yes_no(kprobes));
	fprintf(f, "tracefs mounted: %s (not needed: raw tracepoints are used)\n", yes_no(tracefs));
	if (!root_ok) {
		fprintf(f, "capture: not possible: %s\n", why);
		return 1;
	}
	e = engine_new(opts, err, sizeof(err));
	if (!e) {
		fprintf(f, "capture: not possible: %s\n", err);
		return 1;
	}
	fprintf(f, "BPF programs load (verifier): yes\n");
	if (engine_attach(e, err, sizeof(err))) {
		fprintf(f, "raw tracepoints and uprobes attach: no: %s\n", err);
	} else {
		fprintf(f, "raw tracepoints attach: yes\n");
		fprintf(f, "TLS targets with uprobes attached: %zu\n", targets_count(e->targets));
		for (i = 0; i < targets_count(e->targets); i++)
			fprintf(f, "  %s\n", targets_path(e->targets, i));
		if (!targets_count(e->targets))
			fprintf(f,
				"  (none yet: capture will wait for a program that loads one)\n");
		ok = 0;
	}
	engine_free(e);
	fprintf(f, "capture: %s\n", ok ? "not possible" : "possible");
	return ok;
}
