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
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "engine/discover/discover.h"
#include "engine/capture/cgroup.h"
#include "engine/capture/keylog.h"
#include "engine/capture/packets.h"
#include "engine/discover/keylog.h"
#include "engine/capture/caps.h"
#include "engine/capture/engine_int.h"
#include "engine/log.h"
#include "engine/file/replay.h"
#include "engine/discover/targets.h"
#include "db.skel.h"
#include "keylog.skel.h"
#include "proc.skel.h"
#include "shell.skel.h"
#include "sock.skel.h"
#include "tls.skel.h"

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

int engine_set_cgroup_filter(struct engine *e, const uint64_t *ids, size_t n)
{
	int map_fd, on_fd;
	__u32 zero = 0, on = 0;
	__u64 key, next;
	__u8 one = 1;
	size_t i;

	if (!e->tls)
		return 0;
	map_fd = bpf_map__fd(e->tls->maps.cgroup_filter);
	on_fd = bpf_map__fd(e->tls->maps.cgroup_on);
	/* As set_filter_map: off while the set changes. */
	if (bpf_map_update_elem(on_fd, &zero, &on, BPF_ANY))
		return -errno;
	while (!bpf_map_get_next_key(map_fd, NULL, &next))
		bpf_map_delete_elem(map_fd, &next);
	for (i = 0; i < n; i++) {
		key = ids[i];
		if (bpf_map_update_elem(map_fd, &key, &one, BPF_ANY))
			return -errno;
	}
	on = n ? 1 : 0;
	if (bpf_map_update_elem(on_fd, &zero, &on, BPF_ANY))
		return -errno;
	return 0;
}

int engine_cgroup_id(const char *arg, uint64_t *id, char *err, size_t errlen)
{
	return cgroup_resolve(arg, id, err, errlen);
}

static const struct source_ops live_source_ops;

struct engine *engine_new_replay(const char *path, const char *filter, double speed, char *err,
				 size_t errlen)
{
	struct engine *e = calloc(1, sizeof(*e));

	if (!e) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	e->q.wake_fd = -1;
	e->stop_fd = -1;
	e->opts.queue_slots = DEFAULT_QUEUE_SLOTS;
	e->ringbuf = true;
	if (evq_init(&e->q, e->opts.queue_slots, e->opts.queue_bytes, err, errlen))
		goto fail;
	e->replay = replay_new(path, filter, speed, &e->q, err, errlen);
	if (!e->replay)
		goto fail;
	e->src_ops = &replay_source_ops;
	e->src = e->replay;
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

	libbpf_set_print(engine_libbpf_log);
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
	e->q.wake_fd = -1;
	e->stop_fd = -1;
	e->src_ops = &live_source_ops;
	e->src = e;
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
	if (evq_init(&e->q, e->opts.queue_slots, e->opts.queue_bytes, err, errlen))
		goto fail;
	if (opts->keylog_path &&
	    !(e->keylog_file = keylog_file_open(opts->keylog_path, err, errlen)))
		goto fail;
	if (engine_load(e, err, errlen))
		goto fail;
	if (opts->packets && !(e->pkt = packets_new(e, err, errlen)))
		goto fail;
	if ((ret = engine_set_pid_filter(e, opts->pids, opts->n_pids)) ||
	    (ret = engine_set_uid_filter(e, opts->uids, opts->n_uids)) ||
	    (ret = engine_set_cgroup_filter(e, opts->cgroups, opts->n_cgroups))) {
		snprintf(err, errlen, "cannot set the PID/UID/cgroup filter: %s", strerror(-ret));
		goto fail;
	}
	return e;
fail:
	engine_free(e);
	return NULL;
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

/* When pid started (Unix epoch ns, to a clock tick: /proc/PID/stat's starttime, field
 * 22, counts ticks since boot), or 0. */
static uint64_t seed_start(pid_t pid, int64_t boot_to_real)
{
	char path[64], buf[1024], *p;
	unsigned long long ticks;
	long hz = sysconf(_SC_CLK_TCK);

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	/* The name may hold spaces and parentheses: fields count from the last ')'. */
	if (read_small(path, buf, sizeof(buf)) < 0 || !(p = strrchr(buf, ')')) || hz <= 0 ||
	    sscanf(p + 1,
		   " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d "
		   "%*d %*d %llu",
		   &ticks) != 1)
		return 0;
	return (uint64_t)((int64_t)(ticks * (1000000000ull / (unsigned long long)hz)) +
			  boot_to_real);
}

/* pid's cgroup v2 path (/proc/PID/cgroup's "0::" line) into out; "" if unknown. */
static void seed_cgroup(pid_t pid, char *out, size_t len)
{
	char path[64], buf[4096], *p;

	out[0] = '\0';
	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
	if (read_small(path, buf, sizeof(buf)) < 0)
		return;
	p = !strncmp(buf, "0::", 3) ? buf : strstr(buf, "\n0::");
	if (!p)
		return;
	p += p == buf ? 3 : 4;
	p[strcspn(p, "\n")] = '\0';
	/* " (deleted)": the cgroup is gone; no path then. */
	if (strlen(p) < len && !strstr(p, " (deleted)"))
		strcpy(out, p);
}

struct seed {
	struct engine *e;
	uint64_t now;
};

/* The processes already running get an exec event each (flagged EC_F_EXISTING), so
 * the process table knows their parent, user and command line from the start, and a
 * recording carries them. Called (from discovery's first walk of /proc) before the
 * engine thread exists: this thread is the queue's only producer until
 * pthread_create, which orders what it pushed. */
static void seed_one(pid_t pid, void *arg)
{
	const struct seed *sd = arg;
	struct engine *e = sd->e;
	unsigned long ppid = 0, uid = 0;
	char path[64], buf[4096], cg[1024], *p;
	struct ec_event *ev;
	uint64_t start;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if (read_small(path, buf, sizeof(buf)) < 0)
		return;
	if ((p = strstr(buf, "\nPPid:")))
		ppid = strtoul(p + 6, NULL, 10);
	if ((p = strstr(buf, "\nUid:")))
		uid = strtoul(p + 5, NULL, 10);
	start = seed_start(pid, e->clock_offset_ns);
	seed_cgroup(pid, cg, sizeof(cg));
	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	n = read_small(path, buf, sizeof(buf));
	if (n < 0)
		return; /* gone meanwhile */
	ev = ec_event_new((uint32_t)n + (uint32_t)strlen(cg));
	if (!ev) {
		atomic_fetch_add_explicit(&e->lost_alloc, 1, memory_order_relaxed);
		return;
	}
	memcpy(ev->data, buf, (size_t)n);
	/* After the command line, as the reader puts it (bpf/events.h). */
	memcpy(ev->data + n, cg, strlen(cg));
	ev->h.rport = (uint16_t)strlen(cg);
	ev->h.call_id = start;
	ev->h.kind = EC_K_EXEC;
	ev->h.source = EC_S_PROC;
	ev->h.flags = EC_F_EXISTING;
	ev->h.ts_ns = sd->now;
	ev->h.pid = ev->h.tid = (uint32_t)pid;
	ev->h.uid = (uint32_t)uid;
	ev->h.aux = (uint32_t)ppid;
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	if (read_small(path, buf, sizeof(buf)) > 0) {
		buf[strcspn(buf, "\n")] = '\0';
		buf[EC_COMM_LEN - 1] = '\0';
		memcpy(ev->h.comm, buf, strlen(buf));
	}
	if (!evq_offer(&e->q, ev)) {
		atomic_fetch_add_explicit(&e->q.lost_queue, 1, memory_order_relaxed);
		free(ev);
		return;
	}
	atomic_fetch_add_explicit(&e->q.n_events, 1, memory_order_relaxed);
}

/* Buffers, tracepoints, first discovery: everything but the engine thread. */
/* Discovery thread, targets lock held: the key-log probes follow the target files. */
static void on_targets(struct targets *t, void *arg)
{
	struct engine *e = arg;

	if (e->keylog_probes)
		keylog_probes_sync(e->keylog_probes, t);
}

int engine_attach(struct engine *e, char *err, size_t errlen)
{
	/* The process seed is stamped with the time before the probes exist, so it sorts
	 * before every kernel event (a replay's seek by time relies on file order). */
	uint64_t seed_ns = (uint64_t)ts_ns(CLOCK_REALTIME);
	int ret;

	e->clock_offset_ns = ts_ns(CLOCK_REALTIME) -
			     ts_ns(e->tls->rodata->use_boot_ns ? CLOCK_BOOTTIME : CLOCK_MONOTONIC);
	ret = engine_open_buffers(e, err, errlen);
	if (ret)
		return ret;
	if (e->pkt && (ret = packets_attach(e->pkt, e->rb, err, errlen)))
		return ret;
	e->cgnames = cgroup_names_new();
	if (!e->cgnames)
		log_msg(LOG_INFO, "no cgroup v2 paths for processes: %s", strerror(errno));
	e->exec_link = bpf_program__attach(e->proc->progs.proc_exec);
	e->exit_link = e->exec_link ? bpf_program__attach(e->proc->progs.proc_exit) : NULL;
	e->sys_enter_link = e->exit_link ? bpf_program__attach(e->tls->progs.tls_sys_enter) : NULL;
	e->sock_enter_link =
	    e->sys_enter_link ? bpf_program__attach(e->sock->progs.sock_sys_enter) : NULL;
	e->sock_exit_link =
	    e->sock_enter_link ? bpf_program__attach(e->sock->progs.sock_sys_exit) : NULL;
	e->tls_task_exit_link =
	    e->sock_exit_link ? bpf_program__attach(e->tls->progs.tls_task_exit) : NULL;
	e->sock_task_exit_link =
	    e->tls_task_exit_link ? bpf_program__attach(e->sock->progs.sock_task_exit) : NULL;
	if (!e->sock_task_exit_link) {
		ret = -errno;
		snprintf(err, errlen, "cannot attach the raw tracepoints: %s", strerror(-ret));
		return ret;
	}
	/* Without it a child that never execs has no command line of its own and a reused
	 * pid is told apart only by the old process's exit. */
	e->fork_link = bpf_program__attach(e->proc->progs.proc_fork);
	if (!e->fork_link)
		log_msg(LOG_WARN,
			"cannot attach the fork tracepoint (%s): forked children show "
			"no command line",
			strerror(errno));
	e->move_link = bpf_program__attach(e->proc->progs.proc_cgroup_move);
	if (!e->move_link)
		log_msg(LOG_WARN,
			"cannot attach the cgroup_attach_task tracepoint (%s): a process "
			"keeps the cgroup it had at its exec or fork",
			strerror(errno));
	e->disc = discover_new(&(struct discover_opts){
	    .tls = e->tls,
	    .proc = e->proc,
	    .shell = e->shell,
	    .db = e->db,
	    .has_cookie = e->shell->rodata->has_cookie,
	    .pids = e->opts.pids,
	    .n_pids = e->opts.n_pids,
	    .hold_new = e->opts.hold_new,
	    .clock = e->tls->rodata->use_boot_ns ? CLOCK_BOOTTIME : CLOCK_MONOTONIC,
	    .on_targets = on_targets,
	    .on_targets_arg = e,
	});
	if (!e->disc) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	e->targets = discover_targets(e->disc);
	/* One walk of /proc: the process seed and the first discovery. */
	discover_first(e->disc, seed_one, &(struct seed){e, seed_ns});
	evq_wake(&e->q);
	if (e->keylog) {
		e->keylog_probes = keylog_probes_new(e->keylog);
		if (!e->keylog_probes) {
			snprintf(err, errlen, "out of memory");
			return -ENOMEM;
		}
		/* Discovery's threads do not run yet: no lock needed; from now on
		 * discovery calls on_targets (under its lock) when targets change. */
		keylog_probes_sync(e->keylog_probes, e->targets);
	}
	if (!targets_count(e->targets))
		log_msg(LOG_WARN, "no TLS library found yet (libssl, or a program exporting "
				  "SSL_read/SSL_write); waiting for processes that load one");
	return 0;
}

/* Live capture's source calls (engine/source.h) on the engine itself. */
static int live_start(void *src, char *err, size_t errlen)
{
	struct engine *e = src;
	int ret = pthread_create(&e->thread, NULL, engine_thread, e);

	if (ret) {
		snprintf(err, errlen, "cannot start the engine thread: %s", strerror(ret));
		return -ret;
	}
	e->thread_running = true;
	ret = e->disc ? discover_start(e->disc) : 0;
	if (ret) {
		snprintf(err, errlen, "cannot start discovery: %s", strerror(-ret));
		return ret;
	}
	return 0;
}

static void live_stop(void *src)
{
	struct engine *e = src;

	if (e->thread_running) {
		readwait_stop(e); /* the thread may sleep without a timer */
		pthread_join(e->thread, NULL);
		e->thread_running = false;
	}
}

static void live_stats(void *src, struct engine_stats *st);

static const struct source_ops live_source_ops = {
    .start = live_start,
    .stop = live_stop,
    .stats = live_stats,
};

int engine_start(struct engine *e, char *err, size_t errlen)
{
	int ret = e->replay ? 0 : engine_attach(e, err, errlen);
	sigset_t all, old;

	if (ret)
		return ret;
	/* Signals are the front end's: a stop request must interrupt its poll or a
	 * write blocked on a stalled standard output, so no thread of ours (engine,
	 * replay, discovery) takes them (a process-directed signal goes to a thread
	 * that does not block it). */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	ret = e->src_ops->start(e->src, err, errlen);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return ret;
}

struct ec_event *engine_pop(struct engine *e)
{
	return evq_pop(&e->q);
}

const char *engine_error(struct engine *e)
{
	return evq_error(&e->q);
}

bool engine_is_replay(const struct engine *e)
{
	return e->replay != NULL;
}

bool engine_done(struct engine *e)
{
	return e->src_ops->done && e->src_ops->done(e->src) && spsc_size(&e->q.q) == 0;
}

int engine_wait_fd(const struct engine *e)
{
	return e->q.wake_fd;
}

int engine_wait_ms(const struct engine *e)
{
	/* A replay's position and clock are polled; a live capture wakes the consumer. */
	return e->replay ? 200 : -1;
}

void engine_ack(struct engine *e)
{
	evq_ack(&e->q);
}

void engine_packet_stats(struct engine *e, struct engine_packet_stats *st)
{
	packets_stats(e->pkt, st);
}

void engine_stats(struct engine *e, struct engine_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->events = atomic_load_explicit(&e->q.n_events, memory_order_relaxed);
	st->bytes = atomic_load_explicit(&e->q.n_bytes, memory_order_relaxed);
	st->lost.queue = atomic_load_explicit(&e->q.lost_queue, memory_order_relaxed);
	e->src_ops->stats(e->src, st);
}

/* Live capture's counters before the queue: the kernel's and the engine thread's. */
static void live_stats(void *arg, struct engine_stats *st)
{
	struct engine *e = arg;
	int ncpu = libbpf_num_possible_cpus();
	__u64 *vals;
	__u32 cause, src;
	uint64_t kernel_lost;

	kernel_lost = atomic_load_explicit(&e->lost_perf, memory_order_relaxed);
	st->lost.malformed = atomic_load_explicit(&e->lost_malformed, memory_order_relaxed);
	st->lost.alloc = atomic_load_explicit(&e->lost_alloc, memory_order_relaxed);
	st->libs_attached = e->disc ? discover_count(e->disc) : 0;
	st->ringbuf = e->ringbuf;
	st->lost.perf = kernel_lost;
	if (!e->tls)
		return; /* not loaded */
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
				st->lost.reserve += sum;
			else if (cause == EC_L_READ)
				st->lost.read += sum;
			else if (cause == EC_L_MAPFULL)
				st->lost.map += sum;
			else
				st->lost.trunc += sum;
		}
	}
	free(vals);
	/* A perf sample the kernel reports lost is one that bpf_perf_event_output()
	 * failed to write, which the BPF side already counted as a reserve failure:
	 * the same loss, counted once. lost_perf keeps only what the kernel reported
	 * beyond that (none, unless something else writes to our perf buffers). */
	st->lost.perf = kernel_lost > st->lost.reserve ? kernel_lost - st->lost.reserve : 0;
}

void engine_stop(struct engine *e)
{
	if (!e)
		return;
	atomic_store(&e->q.stop, true);
	if (e->src_ops)
		e->src_ops->stop(e->src);
}

/* The kernel removes each uprobe in an RCU grace period of its own: tens of
 * milliseconds each, seconds for a machine's worth of libraries. A stop must end
 * ecaptop at once, so that wait is handed to a child: it holds copies of every
 * descriptor, so our own closes below only drop references, and it exits (closing
 * the last ones, which removes the probes) once we have exited: it reads a pipe
 * whose write end only we hold. It keeps nothing else: its standard streams are
 * /dev/null, it is in a session of its own, and it calls only async-signal-safe
 * functions (we have threads). */
static void detach_after_exit(void)
{
	long max_fd = sysconf(_SC_OPEN_MAX);
	int p[2], null, fd;
	struct stat sb;
	pid_t pid;
	char c;

	if (pipe2(p, O_CLOEXEC))
		return; /* we wait for the kernel ourselves */
	pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return;
	}
	if (pid == 0) {
		close(p[1]);
		null = open("/dev/null", O_RDWR);
		if (null >= 0) {
			dup2(null, STDIN_FILENO);
			dup2(null, STDOUT_FILENO);
			dup2(null, STDERR_FILENO);
		}
		/* Only the kernel objects stay open (BPF links, perf events, maps:
		 * anonymous inodes, no file type): a log or a capture file on a disk
		 * someone unmounts next, or a pipe, must not outlive us. */
		for (fd = 3; fd < (max_fd > 0 && max_fd < 65536 ? max_fd : 65536); fd++)
			if (fd != p[0] && !fstat(fd, &sb) && (sb.st_mode & S_IFMT))
				close(fd);
		setsid();
		while (read(p[0], &c, 1) < 0 && errno == EINTR)
			;
		_exit(0);
	}
	close(p[0]); /* p[1] closes when we exit */
}

/* Detach the probes, after the front end has finished its output and the
 * recording (not in engine_stop()). */
static void engine_detach(struct engine *e)
{
	if (e->disc)
		detach_after_exit();
	/* Discovery's threads stop, any process --hold-new holds is continued, and
	 * the probes go (their last references held by the child above). */
	discover_free(e->disc);
	e->disc = NULL;
	keylog_probes_free(e->keylog_probes);
	e->keylog_probes = NULL;
	e->targets = NULL;
	bpf_link__destroy(e->sys_enter_link);
	bpf_link__destroy(e->exec_link);
	bpf_link__destroy(e->fork_link);
	bpf_link__destroy(e->move_link);
	bpf_link__destroy(e->exit_link);
	bpf_link__destroy(e->sock_enter_link);
	bpf_link__destroy(e->sock_exit_link);
	bpf_link__destroy(e->tls_task_exit_link);
	bpf_link__destroy(e->sock_task_exit_link);
	e->tls_task_exit_link = e->sock_task_exit_link = NULL;
	e->sys_enter_link = e->exec_link = e->exit_link = e->fork_link = NULL;
	e->move_link = NULL;
	e->sock_enter_link = e->sock_exit_link = NULL;
}

void engine_free(struct engine *e)
{
	if (!e)
		return;
	engine_stop(e);
	/* The classifiers go before the probe remover's fork copies their links. */
	packets_free(e->pkt);
	e->pkt = NULL;
	/* Probes go first, so nothing new is written while we tear down. */
	engine_detach(e);
	ring_buffer__free(e->rb);
	perf_buffer__free(e->pb);
	db_bpf__destroy(e->db);
	keylog_bpf__destroy(e->keylog);
	if (e->keylog_file) {
		struct keylog_counts kc;

		keylog_file_counts(e->keylog_file, &kc);
		log_msg(kc.failed || kc.malformed ? LOG_WARN : LOG_INFO,
			"key log: %llu lines written to %s (%llu repeats skipped, %llu malformed, "
			"%llu not written)",
			(unsigned long long)kc.written, e->opts.keylog_path,
			(unsigned long long)kc.duplicates, (unsigned long long)kc.malformed,
			(unsigned long long)kc.failed);
		keylog_file_close(e->keylog_file);
	}
	shell_bpf__destroy(e->shell);
	sock_bpf__destroy(e->sock);
	proc_bpf__destroy(e->proc);
	tls_bpf__destroy(e->tls);
	cgroup_names_free(e->cgnames);
	replay_free(e->replay);
	evq_fini(&e->q);
	if (e->stop_fd >= 0)
		close(e->stop_fd);
	free(e);
}

/* A replay's controls (engine.h), handed to the replay source. */
void engine_replay_status(struct engine *e, struct engine_replay_status *st)
{
	if (e->replay)
		replay_status(e->replay, st);
	else
		memset(st, 0, sizeof(*st));
}

void engine_replay_pause(struct engine *e, bool paused)
{
	if (e->replay)
		replay_pause(e->replay, paused);
}

void engine_replay_set_speed(struct engine *e, double speed)
{
	if (e->replay)
		replay_set_speed(e->replay, speed);
}

void engine_replay_step(struct engine *e, int direction)
{
	if (e->replay)
		replay_step(e->replay, direction);
}

void engine_replay_seek_time(struct engine *e, uint64_t ts_ns)
{
	if (e->replay)
		replay_seek_time(e->replay, ts_ns);
}
