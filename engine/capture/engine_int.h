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
#include <stdlib.h>
#include <bpf/libbpf.h>

struct pcapng_reader;
struct pcapng_writer;

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
	struct bpf_link *sock_enter_link;
	struct bpf_link *sock_exit_link;
	struct bpf_link *sys_enter_link;
	struct bpf_link *exec_link;
	struct bpf_link *exit_link;
	struct bpf_link *tls_task_exit_link;  /* tls_calls of threads that die in a call */
	struct bpf_link *sock_task_exit_link; /* the socket source's per-thread entries */
	struct ring_buffer *rb;
	struct perf_buffer *pb;
	struct targets *targets; /* disc's, for --check's listing */
	bool ringbuf;

	struct spsc q;
	void **slots;
	/* Bytes of the events in the queue (pushed minus popped): a stalled consumer
	 * costs at most queue_bytes_max, whatever the number of slots. */
	atomic_int_fast64_t q_bytes;
	int64_t queue_bytes_max;
	int wake_fd;
	int64_t clock_offset_ns; /* realtime - boottime (or monotonic) */

	pthread_t thread;
	bool thread_running;
	atomic_bool stop;

	/* Written by the engine thread, read by the consumer: relaxed atomics (they are
	 * independent counters, no ordering with other data is implied). */
	atomic_uint_fast64_t n_events, n_bytes, lost_queue, lost_perf, lost_malformed, lost_alloc;

	/* Engine thread only. */
	int stop_fd;	      /* eventfd: engine_stop() ends the thread's wait (readwait.c) */
	int wait_state;	      /* readwait.c: awake, idle flag armed, idle */
	unsigned quiet_polls; /* poll timeouts in a row that read nothing */
	bool pushed;
	unsigned since_wake; /* events pushed since the consumer was last woken */
	uint64_t after_stop; /* bytes read from the kernel since the stop request */

	/* Why the source stopped before its end (a read error), for engine_error();
	 * written by the engine or replay thread before it sets `failed`. */
	char error[512];
	atomic_bool failed;
	struct ec_event *held[ATTR_HOLD_MAX]; /* EC_F_ATTR_LATER records, oldest first */
	uint64_t held_ms[ATTR_HOLD_MAX];
	size_t n_held;

	/* Replay (replay.c): a saved capture instead of the kernel. */
	struct pcapng_reader *reader;
	char *replay_path, *replay_filter; /* to reopen the file on a seek */
	char *replay_name;		   /* the file as the user named it */
	int spool_fd; /* standard input or a FIFO, copied to an unlinked file (-1: none) */
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

	/* Recording (-w): the consumer thread writes each event it pops, and pushes
	 * the file's buffer to disk at least once a second (engine_pop/engine_ack). */
	struct pcapng_writer *writer;
	bool write_failed;
	bool write_dirty; /* written since the last flush */
	uint64_t last_flush_ms;
	unsigned since_flush_check;
};

#define DEFAULT_QUEUE_SLOTS (1u << 16)
#define DEFAULT_QUEUE_BYTES (16 << 20)
#define RECORD_FLUSH_MS	    1000 /* a killed recording loses at most this much */
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
/* The bytes an event costs while it waits in the queue. */
static inline int64_t queue_cost(const struct ec_event *ev)
{
	return (int64_t)(sizeof(*ev) + ev->h.len);
}

/* Producer: queue ev if the queue has a free slot and ev fits the byte budget;
 * false (ev still the caller's) if not. */
static inline bool queue_offer(struct engine *e, struct ec_event *ev)
{
	int64_t cost = queue_cost(ev);

	if (atomic_load_explicit(&e->q_bytes, memory_order_relaxed) + cost > e->queue_bytes_max)
		return false;
	/* Counted before the push: once pushed, the consumer may pop (and subtract). */
	atomic_fetch_add_explicit(&e->q_bytes, cost, memory_order_relaxed);
	if (spsc_push(&e->q, ev))
		return true;
	atomic_fetch_sub_explicit(&e->q_bytes, cost, memory_order_relaxed);
	return false;
}

/* Producer: queue ev, or drop it and count a queue loss. Takes ev. */
static inline bool queue_push(struct engine *e, struct ec_event *ev)
{
	if (queue_offer(e, ev))
		return true;
	atomic_fetch_add_explicit(&e->lost_queue, 1, memory_order_relaxed);
	free(ev);
	return false;
}

/* The engine or replay thread: the source ended on an error (logged too). */
void engine_fail(struct engine *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Consumer thread: hand an event to the recorder, if any (engine.c). */
void engine_record(struct engine *e, const struct ec_event *ev);
/* Wake the consumer (engine thread / replay thread). */
void engine_wake(struct engine *e);
/* The replay thread (replay.c). */
void *replay_thread(void *arg);
/* Where a replay reads from (replay.c): a regular file by its path; standard input
 * ("-") or a FIFO copied to an unlinked temporary file first. 0, or -1 with a reason. */
int replay_input(struct engine *e, const char *path, char *err, size_t errlen);
/* A reader at the start of the replay's input (replay.c). NULL with a reason. */
struct pcapng_reader *replay_open(struct engine *e, char *err, size_t errlen);
/* Count a replay file's events and time span (replay.c). 0, or -1 with a reason. */
int replay_scan(struct engine *e, char *err, size_t errlen);

#endif
