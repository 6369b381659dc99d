/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The engine's insides, shared by engine.c (live capture) and replay.c (a saved
 * capture fed through the same queue). Nobody outside engine/ includes this.
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
#include "engine/capture/spsc.h"

#include <stdarg.h>
#include <bpf/libbpf.h>

struct pcapng_reader;
struct pcapng_writer;

#define MAX_PENDING 256
/* Memory-BIO writes held until the kernel names their connection (reader.c). */
#define ATTR_HOLD_MAX 64
#define ATTR_HOLD_MS  50

/* A process that exec'd: look at its maps a little later, once the dynamic loader
 * has mapped its libraries, and once more after a second (late dlopen). */
struct pending_scan {
	pid_t pid;
	uint64_t due_ms;
	int round;
};

struct engine {
	struct engine_opts opts;
	struct tls_bpf *tls;
	struct proc_bpf *proc;
	struct sock_bpf *sock;
	struct shell_bpf *shell;
	struct db_bpf *db;
	struct apps *apps;
	struct bpf_link *sock_enter_link;
	struct bpf_link *sock_exit_link;
	struct bpf_link *sys_enter_link;
	struct bpf_link *exec_link;
	struct bpf_link *exit_link;
	struct bpf_link *tls_task_exit_link;  /* tls_calls of threads that die in a call */
	struct bpf_link *sock_task_exit_link; /* the socket source's per-thread entries */
	struct ring_buffer *rb;
	struct perf_buffer *pb;
	struct targets *targets;
	bool ringbuf;

	struct spsc q;
	void **slots;
	int wake_fd;
	int64_t clock_offset_ns; /* realtime - boottime (or monotonic) */

	pthread_t thread;
	bool thread_running;
	atomic_bool stop;

	/* Written by the engine thread, read by the consumer: relaxed atomics (they are
	 * independent counters, no ordering with other data is implied). */
	atomic_uint_fast64_t n_events, n_bytes, lost_queue, lost_perf, lost_malformed, lost_alloc,
	    n_targets;

	/* Engine thread only. */
	struct pending_scan pending[MAX_PENDING];
	size_t n_pending;
	uint64_t last_rescan_ms;
	bool pushed;
	unsigned since_wake;		      /* events pushed since the consumer was last woken */
	struct ec_event *held[ATTR_HOLD_MAX]; /* EC_F_ATTR_LATER records, oldest first */
	uint64_t held_ms[ATTR_HOLD_MAX];
	size_t n_held;

	/* Replay (replay.c): a saved capture instead of the kernel. */
	struct pcapng_reader *reader;
	char *replay_path, *replay_filter; /* to reopen the file on a seek */
	uint64_t first_ns, last_ns, total; /* from the scan at open */
	atomic_bool finished; /* every event of the file was queued (or reading failed) */
	atomic_uint_fast64_t pos_ns, index;
	/* Control, under ctl_lock; the replay thread waits on ctl_cond while paused. */
	pthread_mutex_t ctl_lock;
	pthread_cond_t ctl_cond;
	double speed; /* 0: as fast as the consumer takes it */
	bool paused;
	uint64_t steps; /* events to hand out while paused */
	bool seek_req;
	uint64_t seek_index; /* after a seek: hand out this many events at full speed */
	uint64_t seek_ts;    /* ... or those up to this time (when seek_index is 0) */

	/* Recording (-w): the consumer thread writes each event it pops. */
	struct pcapng_writer *writer;
	bool write_failed;
};

#define DEFAULT_QUEUE_SLOTS (1u << 16)
#define DEFAULT_RING_BYTES  (32u << 20)
#define PERF_PAGES_PER_CPU  1024 /* 4 MiB per CPU with 4 KiB pages */
#define POLL_MS		    20	 /* also the longest a record waits without a wake-up */
#define RB_WAKE_MS	    5	 /* the ring buffer wakes the engine at most this often */
#define WAKE_BATCH	    64
#define RESCAN_ALL_MS	    5000

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
/* Consumer thread: hand an event to the recorder, if any (engine.c). */
void engine_record(struct engine *e, const struct ec_event *ev);
/* Wake the consumer (engine thread / replay thread). */
void engine_wake(struct engine *e);
/* The replay thread (replay.c). */
void *replay_thread(void *arg);
/* Count a replay file's events and time span (replay.c). 0, or -1 with a reason. */
int replay_scan(struct engine *e, char *err, size_t errlen);

#endif
