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
#include <sys/utsname.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "engine/capture/caps.h"
#include "engine/capture/engine_int.h"
#include "engine/capture/packets.h"
#include "engine/discover/targets.h"
#include "engine/log.h"
#include "db.skel.h"
#include "db_nocb.skel.h"
#include "keylog.skel.h"
#include "proc.skel.h"
#include "shell.skel.h"
#include "sock.skel.h"
#include "sock_nocb.skel.h"
#include "tls.skel.h"
#include "tls_nocb.skel.h"

/* The program the kernel last refused (libbpf names it in a warning), and whether
 * libbpf's warnings are held back because a refusal may be survived. */
static _Thread_local char refused_prog[64], refused_why[64];
static _Thread_local bool quiet_load;

/* libbpf says "prog 'NAME': BPF program load failed: REASON" (or "...: failed to
 * load: -ERR") when the kernel refuses one program of an object. */
static void note_refusal(const char *msg)
{
	const char *p = strstr(msg, "prog '"), *q, *why;
	size_t n;

	if (!p || (!strstr(msg, "load failed") && !strstr(msg, "failed to load")))
		return;
	p += 6;
	q = strchr(p, '\'');
	if (!q || refused_prog[0])
		return; /* the first refusal is the one that failed the load */
	n = (size_t)(q - p) < sizeof(refused_prog) - 1 ? (size_t)(q - p) : sizeof(refused_prog) - 1;
	memcpy(refused_prog, p, n);
	refused_prog[n] = 0;
	why = strstr(q, "failed: ");
	snprintf(refused_why, sizeof(refused_why), "%s", why ? why + 8 : "refused");
	refused_why[strcspn(refused_why, "\n")] = 0;
}

int engine_libbpf_log(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char buf[512];
	va_list aq;

	va_copy(aq, ap);
	vsnprintf(buf, sizeof(buf), fmt, aq);
	va_end(aq);
	if (level == LIBBPF_WARN)
		note_refusal(buf);
	/* Debug output (the verifier's log included) only on request, and whole: a
	 * verifier log does not fit a log line. */
	if (getenv("ECAPTOP_DEBUG_BPF"))
		return vfprintf(stderr, fmt, ap);
	if (level == LIBBPF_DEBUG)
		return 0;
	log_msg(level == LIBBPF_WARN && !quiet_load ? LOG_WARN : LOG_DEBUG, "libbpf: %s", buf);
	return 0;
}

/* Every object after the first uses the first one's shared maps. */
static int share_maps(struct bpf_object *from, struct bpf_object *to)
{
	static const char *const shared[] = {
	    "rb",	 "pb",	      "losses",	      "filter_on", "pid_filter",    "uid_filter",
	    "tls_calls", "tls_socks", "thread_socks", "ssl_conns", "pending_sends", "cgroup_filter",
	    "cgroup_on", "rb_idle"};
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
	bool *use_ringbuf, *use_boot_ns, *has_bpf_loop, *has_cookie, *has_ancestor_cgroup;
	__u32 *self_tgid;
	__u64 *rb_wake_ns, *rb_wake_bytes;
};

#define COMMON_RODATA(skel)                                                                        \
	((struct common_rodata){                                                                   \
	    (bool *)&(skel)->rodata->use_ringbuf, (bool *)&(skel)->rodata->use_boot_ns,            \
	    (bool *)&(skel)->rodata->has_bpf_loop, (bool *)&(skel)->rodata->has_cookie,            \
	    (bool *)&(skel)->rodata->has_ancestor_cgroup, (__u32 *)&(skel)->rodata->self_tgid,     \
	    (__u64 *)&(skel)->rodata->rb_wake_ns, (__u64 *)&(skel)->rodata->rb_wake_bytes})

static bool probe_helper(enum bpf_func_id id)
{
	return libbpf_probe_bpf_helper(BPF_PROG_TYPE_KPROBE, id, NULL) == 1;
}

static int prepare_common(struct engine *e, struct bpf_object *obj, struct common_rodata r)
{
	struct bpf_map *rb = bpf_object__find_map_by_name(obj, "rb");

	*r.use_ringbuf = e->ringbuf;
	*r.use_boot_ns = !e->deg.no_boot_ns;
	*r.has_bpf_loop = !e->deg.no_loop;
	*r.has_cookie = !e->deg.no_cookie;
	*r.has_ancestor_cgroup = !e->deg.no_ancestor_cgroup;
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

/*
 * One BPF object, whatever its skeleton type. The objects with payload copies also
 * exist built without BPF callbacks (Makefile: BPF_NOCB): a kernel before 5.17
 * refuses a program that so much as names one, even on a path it never takes. The
 * variant has the same maps, programs and globals, so its bytes go under the same
 * skeleton.
 */
struct obj_ops {
	const char *what; /* for messages: "TLS", "socket", ... */
	void *(*open)(bool nocb, const struct bpf_object_open_opts *oo);
	struct bpf_object_skeleton *(*skeleton)(void *skel);
	void (*destroy)(void *skel);
	struct common_rodata (*rodata)(void *skel);
	void (*setup)(const struct engine *e, void *skel); /* object-specific globals */
};

#define OBJ_OPEN(n, nocb_bytes)                                                                    \
	static void *n##_open(bool nocb, const struct bpf_object_open_opts *oo)                    \
	{                                                                                          \
		struct n##_bpf *o = calloc(1, sizeof(*o));                                         \
		int err = o ? n##_bpf__create_skeleton(o) : -ENOMEM;                               \
                                                                                                   \
		if (!err && nocb)                                                                  \
			o->skeleton->data = (void *)nocb_bytes(&o->skeleton->data_sz);             \
		err = err ?: bpf_object__open_skeleton(o->skeleton, oo);                           \
		if (err) {                                                                         \
			if (o)                                                                     \
				n##_bpf__destroy(o);                                               \
			errno = -err;                                                              \
			return NULL;                                                               \
		}                                                                                  \
		return o;                                                                          \
	}                                                                                          \
	static struct bpf_object_skeleton *n##_skeleton(void *p)                                   \
	{                                                                                          \
		return ((struct n##_bpf *)p)->skeleton;                                            \
	}                                                                                          \
	static void n##_destroy(void *p)                                                           \
	{                                                                                          \
		n##_bpf__destroy(p);                                                               \
	}                                                                                          \
	static struct common_rodata n##_rodata(void *p)                                            \
	{                                                                                          \
		return COMMON_RODATA((struct n##_bpf *)p);                                         \
	}

/* proc and shell copy no payloads: one build serves every kernel. */
static const void *no_variant(size_t *sz)
{
	*sz = 0;
	return NULL;
}

OBJ_OPEN(tls, tls_nocb_bpf__elf_bytes)
OBJ_OPEN(sock, sock_nocb_bpf__elf_bytes)
OBJ_OPEN(db, db_nocb_bpf__elf_bytes)
OBJ_OPEN(proc, no_variant)
OBJ_OPEN(shell, no_variant)

/* The syscall numbers the TLS and socket objects correlate calls with (their rodata). */
#define SET_SYSCALL_NRS(ro)                                                                        \
	do {                                                                                       \
		(ro)->nr_read = SYS_read;                                                          \
		(ro)->nr_write = SYS_write;                                                        \
		(ro)->nr_readv = SYS_readv;                                                        \
		(ro)->nr_writev = SYS_writev;                                                      \
		(ro)->nr_sendto = SYS_sendto;                                                      \
		(ro)->nr_recvfrom = SYS_recvfrom;                                                  \
		(ro)->nr_sendmsg = SYS_sendmsg;                                                    \
		(ro)->nr_recvmsg = SYS_recvmsg;                                                    \
	} while (0)

static void tls_setup(const struct engine *e, void *p)
{
	const char *calls = getenv("ECAPTOP_TEST_TLS_CALLS");
	struct tls_bpf *s = p;

	(void)e;
	/* For the tests only: a smaller tls_calls, to reach its limit with few threads. */
	if (calls)
		bpf_map__set_max_entries(s->maps.tls_calls, (uint32_t)strtoul(calls, NULL, 10));

	SET_SYSCALL_NRS(s->rodata);
}

static void sock_setup(const struct engine *e, void *p)
{
	(void)e;
	struct sock_bpf *s = p;

	SET_SYSCALL_NRS(s->rodata);
}

static void no_setup(const struct engine *e, void *p)
{
	(void)e;
	(void)p;
}

static void proc_setup(const struct engine *e, void *p)
{
	struct proc_bpf *s = p;

	s->rodata->hold_new = e->opts.hold_new;
}

static const struct obj_ops tls_ops = {"TLS",	    tls_open,	tls_skeleton,
				       tls_destroy, tls_rodata, tls_setup};
static const struct obj_ops proc_ops = {"process",    proc_open,   proc_skeleton,
					proc_destroy, proc_rodata, proc_setup};
static const struct obj_ops sock_ops = {"socket",     sock_open,   sock_skeleton,
					sock_destroy, sock_rodata, sock_setup};
static const struct obj_ops shell_ops = {"shell",	shell_open,   shell_skeleton,
					 shell_destroy, shell_rodata, no_setup};
static const struct obj_ops db_ops = {"database", db_open,   db_skeleton,
				      db_destroy, db_rodata, no_setup};

/* What each program's loss takes away (by name prefix), for the log and --check. */
static const struct {
	const char *prefix, *source, *lost;
} prog_sources[] = {
    {"ssl_", "openssl", "OpenSSL capture"},
    {"gnutls_", "gnutls", "GnuTLS capture"},
    {"nss_", "nss", "NSS capture"},
    {"go_", "gotls", "Go crypto/tls capture"},
    {"tls_sys_enter", "tls", "the socket (addresses) of TLS calls"},
    {"sock_", "socket", "plain socket capture"},
    {"bash_", "bash", "bash commands"},
    {"zsh_", "zsh", "zsh commands"},
    {"mysqld_", "mysqld", "MySQL server queries"},
    {"postgres_", "postgres", "PostgreSQL server queries"},
    {"proc_", "proc", "discovery of programs started later"},
};

static const char *prog_lost(const char *prog)
{
	size_t i;

	for (i = 0; i < sizeof(prog_sources) / sizeof(prog_sources[0]); i++)
		if (!strncmp(prog, prog_sources[i].prefix, strlen(prog_sources[i].prefix)))
			return prog_sources[i].lost;
	return "its events";
}

static const char *kernel_release(void)
{
	static struct utsname u;

	if (!u.release[0] && uname(&u))
		snprintf(u.release, sizeof(u.release), "?");
	return u.release;
}

/* ECAPTOP_BPF_REFUSE=NAME[,NAME...] (for tests): make the kernel really refuse these
 * programs, by loading them as socket filters, which may not call the helpers they
 * use, so that the path a refusing kernel takes can be run on any kernel. */
static void make_refused(struct bpf_object *obj)
{
	const char *list = getenv("ECAPTOP_BPF_REFUSE");
	struct bpf_program *p;

	if (!list)
		return;
	bpf_object__for_each_program(p, obj)
	{
		const char *name = bpf_program__name(p), *at = list;
		size_t n = strlen(name);

		while ((at = strstr(at, name))) {
			if ((at == list || at[-1] == ',') && (at[n] == ',' || !at[n])) {
				bpf_program__set_type(p, BPF_PROG_TYPE_SOCKET_FILTER);
				break;
			}
			at += n;
		}
	}
}

/*
 * Open, set up and load one object. When the kernel refuses one of its programs,
 * that program alone is switched off (logged once with what it costs) and the
 * object is loaded again without it: a kernel that lacks something one probe needs
 * loses that probe, not the capture.
 */
static int load_obj(struct engine *e, const struct obj_ops *ops, bool has_nocb, void **out,
		    struct bpf_object *maps_from, char *err, size_t errlen)
{
	LIBBPF_OPTS(bpf_object_open_opts, oo, .btf_custom_path = e->opts.btf_path);
	unsigned i, tries;
	int ret;

	for (tries = 0; tries <= DEGRADE_MAX_OFF; tries++) {
		void *skel = ops->open(has_nocb && e->deg.no_loop, &oo);
		struct bpf_object *obj;

		if (!skel) {
			ret = -errno ?: -EINVAL;
			snprintf(err, errlen, "cannot open the %s BPF programs: %s", ops->what,
				 strerror(-ret));
			return ret;
		}
		obj = *ops->skeleton(skel)->obj;
		ret = prepare_common(e, obj, ops->rodata(skel));
		if (ret) {
			ops->destroy(skel);
			snprintf(err, errlen, "cannot size the BPF buffers: %s", strerror(-ret));
			return ret;
		}
		ops->setup(e, skel);
		for (i = 0; i < e->deg.n_off; i++) {
			struct bpf_program *p =
			    bpf_object__find_program_by_name(obj, e->deg.off[i]);

			if (p)
				bpf_program__set_autoload(p, false);
		}
		make_refused(obj);
		ret = maps_from ? share_maps(maps_from, obj) : 0;
		refused_prog[0] = 0;
		quiet_load = e->deg.n_off < DEGRADE_MAX_OFF;
		ret = ret ?: bpf_object__load_skeleton(ops->skeleton(skel));
		quiet_load = false;
		if (!ret) {
			*out = skel;
			return 0;
		}
		if (!refused_prog[0] || !bpf_object__find_program_by_name(obj, refused_prog) ||
		    e->deg.n_off >= DEGRADE_MAX_OFF) {
			ops->destroy(skel);
			snprintf(err, errlen,
				 "the kernel refused the %s probes (%s); run with "
				 "ECAPTOP_DEBUG_BPF=1 --log FILE for the verifier's reasons",
				 ops->what, strerror(-ret));
			return ret;
		}
		snprintf(e->deg.off[e->deg.n_off], sizeof(e->deg.off[0]), "%s", refused_prog);
		snprintf(e->deg.off_why[e->deg.n_off], sizeof(e->deg.off_why[0]), "%s",
			 refused_why);
		e->deg.n_off++;
		log_msg(LOG_WARN,
			"kernel %s refused BPF program %s (%s): running without it, so without "
			"%s%s",
			kernel_release(), refused_prog, refused_why, prog_lost(refused_prog),
			strncmp(refused_prog, "tls_sys", 7) ? ""
							    : " (TLS events carry no addresses)");
		ops->destroy(skel);
	}
	snprintf(err, errlen, "the kernel refused the %s probes", ops->what);
	return -EINVAL;
}

/* The bound on one call's payload on kernels without bpf_loop (bpf/events.h). */
#define OLD_CALL_KIB ((unsigned long)EC_CHUNK * EC_MAX_SEGS_OLD / 1024)

/* What the kernel lacks, found before anything is loaded; one line each. */
static void probe_kernel(struct engine *e)
{
	e->deg.no_loop = !probe_helper(BPF_FUNC_loop);
	e->deg.no_cookie = !probe_helper(BPF_FUNC_get_attach_cookie);
	e->deg.no_boot_ns = !probe_helper(BPF_FUNC_ktime_get_boot_ns);
	e->deg.no_ancestor_cgroup = !probe_helper(BPF_FUNC_get_current_ancestor_cgroup_id);
	if (e->deg.no_ancestor_cgroup && e->opts.n_cgroups)
		log_msg(LOG_WARN,
			"kernel %s lacks bpf_get_current_ancestor_cgroup_id in tracing programs "
			"(5.14): --cgroup matches processes in the named cgroups themselves, not "
			"in cgroups below them",
			kernel_release());
	if (e->deg.no_loop)
		log_msg(
		    LOG_WARN,
		    "kernel %s lacks bpf_loop and bpf_find_vma (5.17): a call's payload is cut at "
		    "%lu KiB and a gather write at its first buffers (counted as truncated); NSS "
		    "takes any layered descriptor for its TLS layer",
		    kernel_release(), OLD_CALL_KIB);
	if (e->deg.no_cookie)
		log_msg(LOG_WARN,
			"kernel %s lacks BPF attach cookies (5.15): bash and zsh commands are "
			"captured without their exit status",
			kernel_release());
	if (e->deg.no_boot_ns)
		log_msg(LOG_WARN,
			"kernel %s lacks bpf_ktime_get_boot_ns (5.8): event times do not count "
			"time spent suspended",
			kernel_release());
}

int engine_load(struct engine *e, char *err, size_t errlen)
{
	void *p;
	int ret;

	probe_kernel(e);
	if (e->opts.hold_new && libbpf_probe_bpf_helper(BPF_PROG_TYPE_RAW_TRACEPOINT,
							BPF_FUNC_send_signal, NULL) != 1) {
		snprintf(err, errlen, "--hold-new needs bpf_send_signal (Linux 5.3+)");
		return -ENOTSUP;
	}
	/* The TLS object comes first: it creates the maps all objects share. */
	ret = load_obj(e, &tls_ops, true, &p, NULL, err, errlen);
	if (ret)
		return ret;
	e->tls = p;
	ret = load_obj(e, &proc_ops, false, &p, e->tls->obj, err, errlen);
	if (ret)
		return ret;
	e->proc = p;
	ret = load_obj(e, &sock_ops, true, &p, e->tls->obj, err, errlen);
	if (ret)
		return ret;
	e->sock = p;
	ret = load_obj(e, &shell_ops, false, &p, e->tls->obj, err, errlen);
	if (ret)
		return ret;
	e->shell = p;
	ret = load_obj(e, &db_ops, true, &p, e->tls->obj, err, errlen);
	if (ret)
		return ret;
	e->db = p;
	if (e->opts.keylog_path || e->opts.packets) { /* --packets writes the secrets too */
		LIBBPF_OPTS(bpf_object_open_opts, oo, .btf_custom_path = e->opts.btf_path);

		e->keylog = keylog_bpf__open_opts(&oo);
		ret = e->keylog ? 0 : (-errno ?: -EINVAL);
		ret = ret ?: prepare_common(e, e->keylog->obj, COMMON_RODATA(e->keylog));
		ret = ret ?: share_maps(e->tls->obj, e->keylog->obj);
		ret = ret ?: keylog_bpf__load(e->keylog);
		if (ret) {
			snprintf(err, errlen, "the kernel refused the key-log probes (%s)",
				 strerror(-ret));
			return ret;
		}
	}
	return 0;
}

/* How one source fares on this kernel: works, degraded (how) or off (why). */
static void print_source(FILE *f, const struct engine *e, const char *name, const char *label)
{
	char how[512] = "";
	size_t n = 0, i, j;
	bool tls = strcmp(name, "openssl") == 0 || strcmp(name, "gnutls") == 0 ||
		   strcmp(name, "nss") == 0 || strcmp(name, "gotls") == 0;
	bool payload = strcmp(name, "bash") != 0 && strcmp(name, "zsh") != 0;
	unsigned off = 0;

#define HOW(...) (n += snprintf(how + n, n < sizeof(how) ? sizeof(how) - n : 0, __VA_ARGS__))
	for (i = 0; i < sizeof(prog_sources) / sizeof(prog_sources[0]); i++) {
		bool mine = strcmp(prog_sources[i].source, name) == 0;
		bool tls_common = tls && strcmp(prog_sources[i].source, "tls") == 0;

		if (!mine && !tls_common)
			continue;
		for (j = 0; j < e->deg.n_off; j++) {
			if (strncmp(e->deg.off[j], prog_sources[i].prefix,
				    strlen(prog_sources[i].prefix)))
				continue;
			if (mine)
				off++;
			HOW("%sprogram %s refused (%s)%s", n ? "; " : "", e->deg.off[j],
			    e->deg.off_why[j], tls_common ? ": no socket addresses" : "");
		}
	}
	/* Discovery attaches a library's probes together or not at all (targets.c,
	 * apps.c): one refused program leaves the whole source off. */
	if (off) {
		fprintf(f, "  %-9s %-26s off (%s)\n", name, label, how);
		return;
	}
	if (payload && e->deg.no_loop)
		HOW("%scalls cut at %lu KiB, gather writes at their first buffers (no bpf_loop: "
		    "5.17)",
		    n ? "; " : "", OLD_CALL_KIB);
	if (strcmp(name, "nss") == 0 && e->deg.no_loop)
		HOW("; any layered NSPR descriptor taken as TLS (no bpf_find_vma: 5.17)");
	if (!payload && e->deg.no_cookie)
		HOW("%sno exit status (no attach cookies: 5.15)", n ? "; " : "");
#undef HOW
	if (n)
		fprintf(f, "  %-9s %-26s degraded (%s)\n", name, label, how);
	else
		fprintf(f, "  %-9s %-26s works\n", name, label);
}

static void print_sources(FILE *f, const struct engine *e)
{
	size_t j;

	fprintf(f, "sources on kernel %s:\n", kernel_release());
	print_source(f, e, "openssl", "OpenSSL");
	print_source(f, e, "gnutls", "GnuTLS");
	print_source(f, e, "nss", "NSS");
	print_source(f, e, "gotls", "Go crypto/tls");
	print_source(f, e, "socket", "plain sockets");
	print_source(f, e, "bash", "bash commands");
	print_source(f, e, "zsh", "zsh commands");
	print_source(f, e, "mysqld", "MySQL server queries");
	print_source(f, e, "postgres", "PostgreSQL server queries");
	for (j = 0; j < e->deg.n_off; j++)
		if (!strncmp(e->deg.off[j], "proc_", 5))
			fprintf(f, "  discovery of programs started later: off (%s refused: %s)\n",
				e->deg.off[j], e->deg.off_why[j]);
	if (e->deg.no_boot_ns)
		fprintf(f, "  event times: degraded (suspend not counted: no "
			   "bpf_ktime_get_boot_ns: 5.8)\n");
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
	fprintf(f, "BPF ring buffer: %s\n",
		ringbuf	  ? "yes"
		: root_ok ? "no (perf buffers used)"
			  : "unknown (finding out needs the privileges above)");
	fprintf(f, "kprobes: %s (not needed)\n", yes_no(kprobes));
	fprintf(f, "tracefs mounted: %s (not needed: raw tracepoints are used)\n", yes_no(tracefs));
	if (!root_ok) {
		fprintf(f, "capture: not possible: %s\n", why);
		return 1;
	}
	if (!packets_cleanup_leftovers(f))
		fprintf(f, "packet classifiers left by a killed ecaptop: none\n");
	e = engine_new(opts, err, sizeof(err));
	if (!e) {
		fprintf(f, "capture: not possible: %s\n", err);
		return 1;
	}
	fprintf(f, "BPF programs load (verifier): %s\n", e->deg.n_off ? "yes, but not all" : "yes");
	print_sources(f, e);
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
