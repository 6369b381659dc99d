/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The engine's insides, shared by the files of engine/capture/ (engine.c, load.c,
 * reader.c). Nobody outside engine/capture/ includes this.
 */
#ifndef ECAPTOP_ENGINE_ENGINE_INT_H
#define ECAPTOP_ENGINE_ENGINE_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "engine/engine.h"
#include "engine/evq.h"
#include "engine/source.h"

#include <stdarg.h>
#include <stdlib.h>
#include <bpf/libbpf.h>

struct replay;

/* What this kernel lacks, and so what capture runs without (load.c). */
#define DEGRADE_MAX_OFF 32
struct engine_degrade {
	bool no_loop;	 /* no bpf_loop/bpf_find_vma (5.17): the *_nocb objects are loaded */
	bool no_cookie;	 /* no attach cookies (5.15) */
	bool no_boot_ns; /* no bpf_ktime_get_boot_ns (5.8) */
	bool no_ancestor_cgroup; /* no ancestor cgroup ids in tracing programs (5.14) */
	unsigned n_off;		 /* programs the kernel refused, switched off one by one */
	char off[DEGRADE_MAX_OFF][64];
	char off_why[DEGRADE_MAX_OFF][64];
};

/* Memory-BIO writes held until the kernel names their connection (reader.c). */
#define ATTR_HOLD_MAX 64
#define ATTR_HOLD_MS  50

struct engine {
	struct engine_opts opts;
	struct engine_degrade deg;
	struct tls_bpf *tls;
	struct proc_bpf *proc;
	struct sock_bpf *sock;
	struct shell_bpf *shell;
	struct db_bpf *db;
	struct discover *disc;	   /* discovery, on a thread of its own (engine/discover/) */
	struct keylog_bpf *keylog; /* --keylog only */
	struct keylog_probes *keylog_probes; /* engine/discover/keylog.h */
	struct keylog_file *keylog_file;     /* engine/capture/keylog.h */
	struct packets *pkt;		     /* --packets: engine/capture/packets.h */
	struct bpf_link *sock_enter_link;
	struct bpf_link *sock_exit_link;
	struct bpf_link *sys_enter_link;
	struct bpf_link *exec_link;
	struct bpf_link *exit_link;
	struct bpf_link *fork_link;	      /* NULL: forks unseen (logged) */
	struct bpf_link *move_link;	      /* NULL: cgroup moves unseen (logged) */
	struct bpf_link *tls_task_exit_link;  /* tls_calls of threads that die in a call */
	struct bpf_link *sock_task_exit_link; /* the socket source's per-thread entries */
	struct ring_buffer *rb;
	struct perf_buffer *pb;
	struct targets *targets; /* disc's, for --check's listing */
	bool ringbuf;

	/* The queue to the front end (engine root: evq.h), and the source that
	 * fills it: live capture (this struct's fields, reader.c's thread) or a
	 * replay (engine/file/replay.c). */
	struct evq q;
	const struct source_ops *src_ops;
	void *src;
	struct replay *replay;	      /* replay only: the same as src */
	int64_t clock_offset_ns;      /* realtime - boottime (or monotonic) */
	struct cgroup_names *cgnames; /* cgroup ids to paths (NULL: no cgroup2); the engine
				      * thread's once it runs, the seed's before */

	pthread_t thread;
	bool thread_running;

	/* Written by the engine thread, read by the consumer: relaxed atomics (they are
	 * independent counters, no ordering with other data is implied). */
	atomic_uint_fast64_t lost_perf, lost_malformed, lost_alloc;

	/* Engine thread only. */
	int stop_fd;	      /* eventfd: engine_stop() ends the thread's wait (readwait.c) */
	int wait_state;	      /* readwait.c: awake, idle flag armed, idle */
	unsigned quiet_polls; /* poll timeouts in a row that read nothing */
	bool pushed;
	unsigned since_wake; /* events pushed since the consumer was last woken */
	uint64_t after_stop; /* bytes read from the kernel since the stop request */

	struct ec_event *held[ATTR_HOLD_MAX]; /* EC_F_ATTR_LATER records, oldest first */
	uint64_t held_ms[ATTR_HOLD_MAX];
	size_t n_held;
};

#define DEFAULT_QUEUE_SLOTS (1u << 16)
#define DEFAULT_RING_BYTES  (32u << 20)
#define PERF_PAGES_PER_CPU  1024 /* 4 MiB per CPU with 4 KiB pages */
#define POLL_MS		    20	 /* also the longest a record waits without a wake-up */
#define RB_WAKE_MS	    5	 /* the ring buffer wakes the engine at most this often */
#define WAKE_BATCH	    64

static inline uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline int64_t ts_ns(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Open, size and load the BPF objects (load.c). 0, or -errno with a reason. */
int engine_load(struct engine *e, char *err, size_t errlen);
/* Route libbpf's messages to our log (load.c). */
int engine_libbpf_log(enum libbpf_print_level level, const char *fmt, va_list ap);
/* Buffers, tracepoints, first discovery: everything but the engine thread (engine.c). */
int engine_attach(struct engine *e, char *err, size_t errlen);
/* The ring or perf buffers (reader.c). 0, or -errno with a reason. */
int engine_open_buffers(struct engine *e, char *err, size_t errlen);
/* The live capture thread (reader.c). */
void *engine_thread(void *arg);
/* The engine thread's wait (readwait.c): the stop eventfd (0 or -errno); wake the
 * thread for a stop; wait for records and read them (their number, 0 after a
 * timeout or a stop, or libbpf's -errno). */
int readwait_init(struct engine *e);
void readwait_stop(struct engine *e);
int readwait_poll(struct engine *e);

#endif
