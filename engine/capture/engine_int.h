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

#include "engine/engine.h"
#include "engine/capture/spsc.h"

struct pcapng_reader;
struct pcapng_writer;

#define MAX_PENDING 256

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
	unsigned since_wake; /* events pushed since the consumer was last woken */

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

/* Consumer thread: hand an event to the recorder, if any (engine.c). */
void engine_record(struct engine *e, const struct ec_event *ev);
/* Wake the consumer (engine thread / replay thread). */
void engine_wake(struct engine *e);
/* The replay thread (replay.c). */
void *replay_thread(void *arg);
/* Count a replay file's events and time span (replay.c). 0, or -1 with a reason. */
int replay_scan(struct engine *e, char *err, size_t errlen);

#endif
