// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The engine: load the BPF objects (one ring buffer, one set of counters and
 * filters shared by all of them), attach, discover targets, and run the engine
 * thread that drains the kernel's buffers into the SPSC queue.
 */
#include "engine/engine.h"

#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "engine/discover/apps.h"
#include "engine/capture/caps.h"
#include "engine/capture/engine_int.h"
#include "engine/log.h"
#include "engine/file/pcapng.h"
#include "engine/capture/spsc.h"
#include "engine/discover/targets.h"
#include "db.skel.h"
#include "proc.skel.h"
#include "shell.skel.h"
#include "sock.skel.h"
#include "tls.skel.h"

#define DEFAULT_QUEUE_SLOTS (1u << 16)
#define DEFAULT_RING_BYTES  (32u << 20)
#define PERF_PAGES_PER_CPU  1024 /* 4 MiB per CPU with 4 KiB pages */
#define POLL_MS		    20	 /* also the longest a record waits without a wake-up */
#define RB_WAKE_MS	    5	 /* the ring buffer wakes the engine at most this often */
#define WAKE_BATCH	    64
#define RESCAN_ALL_MS	    5000

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t ts_ns(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int libbpf_log(enum libbpf_print_level level, const char *fmt, va_list ap)
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

static void schedule_scan(struct engine *e, pid_t pid, uint64_t due_ms, int round)
{
	if (e->n_pending == MAX_PENDING) {
		/* The periodic full rescan will find it. */
		return;
	}
	e->pending[e->n_pending++] = (struct pending_scan){pid, due_ms, round};
}

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

/* Engine thread: one record from the kernel. Check its size before reading it,
 * copy it, hand it to the consumer. */
static int on_record(void *ctx, void *data, size_t size)
{
	struct engine *e = ctx;
	struct ec_rec_hdr hdr;
	const struct ec_rec_hdr *h = &hdr;
	struct ec_event *ev;

	/* Perf buffer samples are padded to 8 bytes, ring buffer ones are exact; a
	 * perf sample starts 4 bytes into its record, so read the header by copy, not
	 * in place (it is not aligned). */
	if (size < sizeof(hdr)) {
		atomic_fetch_add_explicit(&e->lost_malformed, 1, memory_order_relaxed);
		return 0;
	}
	memcpy(&hdr, data, sizeof(hdr));
	if (h->len > EC_CHUNK || sizeof(*h) + h->len > size) {
		atomic_fetch_add_explicit(&e->lost_malformed, 1, memory_order_relaxed);
		return 0;
	}
	if (h->kind == EC_K_EXEC)
		schedule_scan(e, (pid_t)h->pid, mono_ms() + 30, 0);
	ev = malloc(sizeof(*ev) + h->len);
	if (!ev) {
		atomic_fetch_add_explicit(&e->lost_alloc, 1, memory_order_relaxed);
		return 0;
	}
	memcpy(ev, data, sizeof(*h) + h->len);
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
	if (!spsc_push(&e->q, ev)) {
		atomic_fetch_add_explicit(&e->lost_queue, 1, memory_order_relaxed);
		free(ev);
		return 0;
	}
	atomic_fetch_add_explicit(&e->n_events, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&e->n_bytes, h->len, memory_order_relaxed);
	e->pushed = true;
	/* Under sustained load ring_buffer__poll() does not return while records keep
	 * coming: wake the consumer from here too, every WAKE_BATCH records, or it
	 * sleeps while the queue fills. */
	if (++e->since_wake >= WAKE_BATCH) {
		engine_wake(e);
		e->since_wake = 0;
	}
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

void engine_wake(struct engine *e)
{
	uint64_t one = 1;

	if (write(e->wake_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_msg(LOG_WARN, "cannot wake the front end: %s", strerror(errno));
}

static void run_pending_scans(struct engine *e)
{
	uint64_t now = mono_ms();
	size_t i = 0;

	while (i < e->n_pending) {
		struct pending_scan p = e->pending[i];

		if (p.due_ms > now) {
			i++;
			continue;
		}
		e->pending[i] = e->pending[--e->n_pending];
		targets_scan_pid(e->targets, p.pid);
		apps_scan_pid(e->apps, p.pid);
		if (p.round == 0)
			schedule_scan(e, p.pid, now + 1000, 1);
	}
	if (now - e->last_rescan_ms >= RESCAN_ALL_MS) {
		targets_scan_all(e->targets);
		apps_scan_all(e->apps);
		e->last_rescan_ms = now;
	}
	atomic_store_explicit(&e->n_targets, targets_count(e->targets), memory_order_relaxed);
}

static void *engine_thread(void *arg)
{
	struct engine *e = arg;

	while (!atomic_load(&e->stop)) {
		int n;

		e->pushed = false;
		n = e->ringbuf ? ring_buffer__poll(e->rb, POLL_MS)
			       : perf_buffer__poll(e->pb, POLL_MS);
		/* Records committed without a wake-up (common.bpf.h: rb_flags) are not
		 * seen by the poll, which only reads a ring epoll reported: read them
		 * at each timeout. Until then the kernel wakes us for no record at all:
		 * it wakes only for a record written when we had read everything. */
		if (n == 0 && e->ringbuf)
			n = ring_buffer__consume(e->rb);
		if (n < 0 && n != -EINTR) {
			log_msg(LOG_ERROR, "reading the kernel buffer failed: %s", strerror(-n));
			break;
		}
		if (e->pushed) {
			engine_wake(e);
			e->since_wake = 0;
		}
		run_pending_scans(e);
	}
	/* Drain what the kernel already wrote, so a clean stop loses nothing. */
	e->pushed = false;
	if (e->ringbuf)
		ring_buffer__consume(e->rb);
	else
		perf_buffer__consume(e->pb);
	engine_wake(e);
	return NULL;
}

static int set_filter_map(int map_fd, int on_fd, __u32 which, const uint32_t *vals, size_t n)
{
	__u32 key, next, on = n ? 1 : 0;
	__u8 one = 1;
	size_t i;

	/* Turn the filter off while its set changes, so no event is judged against a
	 * half-written set; then fill, then switch on. */
	key = 0;
	on = 0;
	if (bpf_map_update_elem(on_fd, &which, &on, BPF_ANY))
		return -errno;
	while (!bpf_map_get_next_key(map_fd, NULL, &next))
		bpf_map_delete_elem(map_fd, &next);
	for (i = 0; i < n; i++) {
		key = vals[i];
		if (bpf_map_update_elem(map_fd, &key, &one, BPF_ANY))
			return -errno;
	}
	on = n ? 1 : 0;
	if (bpf_map_update_elem(on_fd, &which, &on, BPF_ANY))
		return -errno;
	return 0;
}

int engine_set_pid_filter(struct engine *e, const uint32_t *pids, size_t n)
{
	if (!e->tls)
		return 0; /* replay: nothing in a kernel to filter */
	return set_filter_map(bpf_map__fd(e->tls->maps.pid_filter),
			      bpf_map__fd(e->tls->maps.filter_on), 0, pids, n);
}

int engine_set_uid_filter(struct engine *e, const uint32_t *uids, size_t n)
{
	if (!e->tls)
		return 0;
	return set_filter_map(bpf_map__fd(e->tls->maps.uid_filter),
			      bpf_map__fd(e->tls->maps.filter_on), 1, uids, n);
}

/* Every object after the first uses the first one's shared maps. */
static int share_maps(struct bpf_object *from, struct bpf_object *to)
{
	static const char *const shared[] = {"rb",	   "pb",	 "losses",    "filter_on",
					     "pid_filter", "uid_filter", "tls_calls", "tls_socks"};
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

static int load_objects(struct engine *e, char *err, size_t errlen)
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

/* The queue and the consumer's wake-up fd. 0, or -1 with a reason. */
static int queue_init(struct engine *e, char *err, size_t errlen)
{
	e->slots = calloc(e->opts.queue_slots, sizeof(*e->slots));
	if (!e->slots || spsc_init(&e->q, e->slots, e->opts.queue_slots)) {
		snprintf(err, errlen, "out of memory for the event queue");
		return -1;
	}
	e->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (e->wake_fd < 0) {
		snprintf(err, errlen, "eventfd: %s", strerror(errno));
		return -1;
	}
	return 0;
}

struct engine *engine_new_replay(const char *path, const char *filter, double speed, char *err,
				 size_t errlen)
{
	struct engine *e = calloc(1, sizeof(*e));

	if (!e) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	e->wake_fd = -1;
	e->opts.queue_slots = DEFAULT_QUEUE_SLOTS;
	e->speed = speed;
	e->ringbuf = true;
	pthread_mutex_init(&e->ctl_lock, NULL);
	pthread_cond_init(&e->ctl_cond, NULL);
	e->replay_path = strdup(path);
	e->replay_filter = filter ? strdup(filter) : NULL;
	if (!e->replay_path || (filter && !e->replay_filter)) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (queue_init(e, err, errlen))
		goto fail;
	e->reader = pcapng_reader_open(path, filter, err, errlen);
	if (!e->reader || replay_scan(e, err, errlen))
		goto fail;
	return e;
fail:
	engine_free(e);
	return NULL;
}

struct engine *engine_new(const struct engine_opts *opts, char *err, size_t errlen)
{
	struct engine *e;
	char why[256];
	int ret;

	libbpf_set_print(libbpf_log);
	if (caps_check_bpf(why, sizeof(why))) {
		snprintf(err, errlen, "%s", why);
		errno = EPERM;
		return NULL;
	}
	if (!opts->btf_path && access("/sys/kernel/btf/vmlinux", R_OK)) {
		snprintf(
		    err, errlen,
		    "this kernel has no BTF (/sys/kernel/btf/vmlinux is missing): use a kernel "
		    "built with CONFIG_DEBUG_INFO_BTF=y, or pass --btf FILE (e.g. from btfhub)");
		errno = ENOENT;
		return NULL;
	}
	e = calloc(1, sizeof(*e));
	if (!e) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	e->opts = *opts;
	e->wake_fd = -1;
	if (!e->opts.queue_slots)
		e->opts.queue_slots = DEFAULT_QUEUE_SLOTS;
	if (!e->opts.ring_bytes)
		e->opts.ring_bytes = DEFAULT_RING_BYTES;
	if (e->opts.queue_slots & (e->opts.queue_slots - 1) ||
	    e->opts.ring_bytes & (e->opts.ring_bytes - 1)) {
		snprintf(err, errlen, "queue and ring sizes must be powers of two");
		goto fail;
	}
	e->ringbuf =
	    !opts->perf_buffer && libbpf_probe_bpf_map_type(BPF_MAP_TYPE_RINGBUF, NULL) == 1;
	if (!opts->perf_buffer && !e->ringbuf)
		log_msg(LOG_INFO, "this kernel has no BPF ring buffer: using perf buffers");
	if (queue_init(e, err, errlen))
		goto fail;
	if (load_objects(e, err, errlen))
		goto fail;
	if ((ret = engine_set_pid_filter(e, opts->pids, opts->n_pids)) ||
	    (ret = engine_set_uid_filter(e, opts->uids, opts->n_uids))) {
		snprintf(err, errlen, "cannot set the PID/UID filter: %s", strerror(-ret));
		goto fail;
	}
	return e;
fail:
	engine_free(e);
	return NULL;
}

/* Buffers, tracepoints, first discovery: everything but the engine thread. */
static int engine_attach(struct engine *e, char *err, size_t errlen)
{
	int ret;

	e->clock_offset_ns = ts_ns(CLOCK_REALTIME) -
			     ts_ns(e->tls->rodata->use_boot_ns ? CLOCK_BOOTTIME : CLOCK_MONOTONIC);
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
	e->exec_link = bpf_program__attach(e->proc->progs.proc_exec);
	e->exit_link = e->exec_link ? bpf_program__attach(e->proc->progs.proc_exit) : NULL;
	e->sys_enter_link = e->exit_link ? bpf_program__attach(e->tls->progs.tls_sys_enter) : NULL;
	e->sock_enter_link =
	    e->sys_enter_link ? bpf_program__attach(e->sock->progs.sock_sys_enter) : NULL;
	e->sock_exit_link =
	    e->sock_enter_link ? bpf_program__attach(e->sock->progs.sock_sys_exit) : NULL;
	if (!e->sock_exit_link) {
		ret = -errno;
		snprintf(err, errlen, "cannot attach the raw tracepoints: %s", strerror(-ret));
		return ret;
	}
	e->targets = targets_new(e->tls, e->opts.pids, e->opts.n_pids);
	if (!e->targets) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	targets_scan_all(e->targets);
	e->apps =
	    apps_new(e->shell, e->db, e->shell->rodata->has_cookie, e->opts.pids, e->opts.n_pids);
	if (!e->apps) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	apps_scan_all(e->apps);
	e->last_rescan_ms = mono_ms();
	atomic_store(&e->n_targets, targets_count(e->targets));
	if (!targets_count(e->targets))
		log_msg(LOG_WARN, "no TLS library found yet (libssl, or a program exporting "
				  "SSL_read/SSL_write); waiting for processes that load one");
	return 0;
}

/* Read a small /proc file into buf (NUL-terminated); bytes read, or -1. */
static ssize_t read_small(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");
	size_t n;

	if (!f)
		return -1;
	n = fread(buf, 1, len - 1, f);
	fclose(f);
	buf[n] = '\0';
	return (ssize_t)n;
}

/* The processes already running get an exec event each (flagged EC_F_EXISTING), so
 * the process table knows their parent, user and command line from the start, and a
 * recording carries them. Called before the engine thread exists: this thread is
 * the queue's only producer until pthread_create, which orders what it pushed. */
static void seed_processes(struct engine *e, uint64_t now)
{
	char path[64], buf[4096];
	struct dirent *de;
	DIR *d = opendir("/proc");

	if (!d)
		return;
	while ((de = readdir(d))) {
		struct ec_event *ev;
		unsigned long ppid = 0, uid = 0;
		char *end, *p;
		long pid = strtol(de->d_name, &end, 10);
		ssize_t n;

		if (*end || pid <= 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%ld/status", pid);
		if (read_small(path, buf, sizeof(buf)) < 0)
			continue;
		if ((p = strstr(buf, "\nPPid:")))
			ppid = strtoul(p + 6, NULL, 10);
		if ((p = strstr(buf, "\nUid:")))
			uid = strtoul(p + 5, NULL, 10);
		snprintf(path, sizeof(path), "/proc/%ld/cmdline", pid);
		n = read_small(path, buf, sizeof(buf));
		if (n < 0)
			continue; /* gone meanwhile */
		ev = ec_event_new((uint32_t)n);
		if (!ev)
			break;
		memcpy(ev->data, buf, (size_t)n);
		ev->h.kind = EC_K_EXEC;
		ev->h.source = EC_S_PROC;
		ev->h.flags = EC_F_EXISTING;
		ev->h.ts_ns = now;
		ev->h.pid = ev->h.tid = (uint32_t)pid;
		ev->h.uid = (uint32_t)uid;
		ev->h.aux = (uint32_t)ppid;
		snprintf(path, sizeof(path), "/proc/%ld/comm", pid);
		if (read_small(path, buf, sizeof(buf)) > 0) {
			buf[strcspn(buf, "\n")] = '\0';
			buf[EC_COMM_LEN - 1] = '\0';
			memcpy(ev->h.comm, buf, strlen(buf));
		}
		if (!spsc_push(&e->q, ev)) {
			atomic_fetch_add_explicit(&e->lost_queue, 1, memory_order_relaxed);
			free(ev);
			break;
		}
		atomic_fetch_add_explicit(&e->n_events, 1, memory_order_relaxed);
	}
	closedir(d);
	engine_wake(e);
}

int engine_start(struct engine *e, char *err, size_t errlen)
{
	/* The snapshot is stamped with the time before the probes exist, so it sorts
	 * before every kernel event (a replay's seek by time relies on file order). */
	uint64_t before = (uint64_t)ts_ns(CLOCK_REALTIME);
	int ret = e->reader ? 0 : engine_attach(e, err, errlen);

	if (ret)
		return ret;
	if (!e->reader)
		seed_processes(e, before);
	ret = pthread_create(&e->thread, NULL, e->reader ? replay_thread : engine_thread, e);
	if (ret) {
		snprintf(err, errlen, "cannot start the engine thread: %s", strerror(ret));
		return -ret;
	}
	e->thread_running = true;
	return 0;
}

struct ec_event *engine_pop(struct engine *e)
{
	struct ec_event *ev = spsc_pop(&e->q);

	if (ev && e->writer)
		engine_record(e, ev);
	return ev;
}

void engine_record(struct engine *e, const struct ec_event *ev)
{
	int ret;

	if (e->write_failed)
		return;
	ret = pcapng_write_event(e->writer, ev);
	if (ret == -EINVAL || ret == -EMSGSIZE) {
		/* That one event cannot be represented; nothing was written. */
		log_msg(LOG_WARN, "not recorded: %s", pcapng_writer_error(e->writer));
	} else if (ret) {
		log_msg(LOG_ERROR, "recording stopped: %s", pcapng_writer_error(e->writer));
		e->write_failed = true;
	}
}

void engine_set_recorder(struct engine *e, struct pcapng_writer *w)
{
	e->writer = w;
	e->write_failed = false;
}

bool engine_is_replay(const struct engine *e)
{
	return e->reader != NULL;
}

bool engine_done(struct engine *e)
{
	return e->reader && atomic_load(&e->finished) && spsc_size(&e->q) == 0;
}

int engine_wait_fd(const struct engine *e)
{
	return e->wake_fd;
}

void engine_ack(struct engine *e)
{
	uint64_t v;

	if (read(e->wake_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		log_msg(LOG_WARN, "eventfd read: %s", strerror(errno));
}

void engine_stats(struct engine *e, struct engine_stats *st)
{
	int ncpu = libbpf_num_possible_cpus();
	__u64 *vals;
	__u32 cause, src;

	memset(st, 0, sizeof(*st));
	st->events = atomic_load_explicit(&e->n_events, memory_order_relaxed);
	st->bytes = atomic_load_explicit(&e->n_bytes, memory_order_relaxed);
	st->lost_queue = atomic_load_explicit(&e->lost_queue, memory_order_relaxed);
	st->lost_perf = atomic_load_explicit(&e->lost_perf, memory_order_relaxed);
	st->lost_malformed = atomic_load_explicit(&e->lost_malformed, memory_order_relaxed);
	st->lost_alloc = atomic_load_explicit(&e->lost_alloc, memory_order_relaxed);
	st->libs_attached = atomic_load_explicit(&e->n_targets, memory_order_relaxed);
	st->ringbuf = e->ringbuf;
	if (!e->tls)
		return; /* replay: no kernel counters */
	if (ncpu <= 0 || !(vals = calloc((size_t)ncpu, sizeof(*vals))))
		return;
	for (cause = 0; cause < EC_L_MAX; cause++) {
		for (src = 0; src < EC_S_MAX; src++) {
			__u32 key = cause * EC_S_MAX + src;
			uint64_t sum = 0;
			int c;

			if (bpf_map_lookup_elem(bpf_map__fd(e->tls->maps.losses), &key, vals))
				continue;
			for (c = 0; c < ncpu; c++)
				sum += vals[c];
			if (cause == EC_L_RESERVE)
				st->lost_reserve += sum;
			else if (cause == EC_L_READ)
				st->lost_read += sum;
			else
				st->lost_trunc += sum;
		}
	}
	free(vals);
}

void engine_stop(struct engine *e)
{
	if (!e)
		return;
	if (e->thread_running) {
		atomic_store(&e->stop, true);
		if (e->replay_path) {
			/* The replay thread may be waiting for a control request. */
			pthread_mutex_lock(&e->ctl_lock);
			pthread_cond_broadcast(&e->ctl_cond);
			pthread_mutex_unlock(&e->ctl_lock);
		}
		pthread_join(e->thread, NULL);
		e->thread_running = false;
	}
	/* Detach: probes go first, so nothing new is written while we tear down. */
	targets_free(e->targets);
	e->targets = NULL;
	apps_free(e->apps);
	e->apps = NULL;
	bpf_link__destroy(e->sys_enter_link);
	bpf_link__destroy(e->exec_link);
	bpf_link__destroy(e->exit_link);
	bpf_link__destroy(e->sock_enter_link);
	bpf_link__destroy(e->sock_exit_link);
	e->sys_enter_link = e->exec_link = e->exit_link = NULL;
	e->sock_enter_link = e->sock_exit_link = NULL;
}

void engine_free(struct engine *e)
{
	struct ec_event *ev;

	if (!e)
		return;
	engine_stop(e);
	ring_buffer__free(e->rb);
	perf_buffer__free(e->pb);
	db_bpf__destroy(e->db);
	shell_bpf__destroy(e->shell);
	sock_bpf__destroy(e->sock);
	proc_bpf__destroy(e->proc);
	tls_bpf__destroy(e->tls);
	if (e->slots)
		while ((ev = spsc_pop(&e->q)))
			free(ev);
	free(e->slots);
	pcapng_reader_close(e->reader);
	if (e->replay_path) {
		pthread_mutex_destroy(&e->ctl_lock);
		pthread_cond_destroy(&e->ctl_cond);
	}
	free(e->replay_path);
	free(e->replay_filter);
	if (e->wake_fd >= 0)
		close(e->wake_fd);
	free(e);
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

	libbpf_set_print(libbpf_log);
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
