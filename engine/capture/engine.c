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
	if (engine_load(e, err, errlen))
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
int engine_attach(struct engine *e, char *err, size_t errlen)
{
	int ret;

	e->clock_offset_ns = ts_ns(CLOCK_REALTIME) -
			     ts_ns(e->tls->rodata->use_boot_ns ? CLOCK_BOOTTIME : CLOCK_MONOTONIC);
	ret = engine_open_buffers(e, err, errlen);
	if (ret)
		return ret;
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
			else if (cause == EC_L_MAPFULL)
				st->lost_map += sum;
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
	bpf_link__destroy(e->tls_task_exit_link);
	bpf_link__destroy(e->sock_task_exit_link);
	e->tls_task_exit_link = e->sock_task_exit_link = NULL;
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
