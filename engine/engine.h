/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The engine's public face (the only engine header the front ends need besides
 * event.h, log.h and store.h): load and attach the BPF programs, discover TLS
 * libraries, run the engine thread that drains the kernel's buffers into a
 * single-producer/single-consumer queue, and count every loss.
 *
 * Threads: engine_new/start/stop/free and the consumer calls (engine_pop,
 * engine_wait_fd, engine_stats, engine_set_*_filter) are made from one thread,
 * the front end's. The engine thread is private.
 */
#ifndef ECAPTOP_ENGINE_ENGINE_H
#define ECAPTOP_ENGINE_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/event.h"

#define ENGINE_MAX_FILTER 64

struct engine_opts {
	uint32_t pids[ENGINE_MAX_FILTER]; /* only these tgids, if n_pids > 0 */
	size_t n_pids;
	uint32_t uids[ENGINE_MAX_FILTER]; /* only these uids, if n_uids > 0 */
	size_t n_uids;
	bool perf_buffer;     /* use perf buffers even where ring buffers exist */
	const char *btf_path; /* BTF for kernels without /sys/kernel/btf/vmlinux, or NULL */
	size_t queue_slots;   /* SPSC queue capacity (power of two); 0 = default */
	size_t queue_bytes;   /* most event bytes waiting in the queue; 0 = 16 MiB */
	size_t ring_bytes;    /* ring buffer size (power of two pages); 0 = default */
	bool hold_new;	      /* stop an unclassified executable until probed (--hold-new) */
	/* --keylog: append TLS secrets here (NSS key log), or NULL */
	const char *keylog_path;
	/* --cgroup: only processes in these cgroups (v2 ids) or below, if n_cgroups > 0 */
	uint64_t cgroups[ENGINE_MAX_FILTER];
	size_t n_cgroups;
	/* --packets: real packets from TC classifiers (engine/capture/packets.h) */
	bool packets;
	const char *ifaces;	/* -i: comma-separated names; NULL: every interface up */
	const char *pkt_filter; /* -f: a pcap filter expression, or NULL */
	const char *pkt_path;	/* -w with --packets: the pcapng, or NULL */
	bool pkt_force;		/* --force: pkt_path may exist */
	bool tc_classic;	/* --tc-classic: clsact filters instead of tcx links */
};

/* Every loss, by cause: what the header, --batch's stats and a saved file's
 * statistics show. Everything that is dropped is counted here. */
struct engine_losses {
	uint64_t reserve;   /* BPF: ring buffer/perf output failed (buffer full) */
	uint64_t read;	    /* BPF: user memory could not be read */
	uint64_t trunc;	    /* BPF: a call larger than the per-call limit; bytes cut */
	uint64_t map;	    /* BPF: a per-thread/per-call map was full: calls not followed */
	uint64_t perf;	    /* perf buffer: samples the kernel reported lost beyond those
			     * already in reserve (each loss is counted once) */
	uint64_t queue;	    /* user space: the queue was full (slots or bytes) */
	uint64_t malformed; /* user space: a record of the wrong size */
	uint64_t alloc;	    /* user space: out of memory copying a record */
};

/* Loss and volume counters. */
struct engine_stats {
	uint64_t events; /* records delivered to the queue */
	uint64_t bytes;	 /* payload bytes delivered */
	struct engine_losses lost;
	uint64_t libs_attached; /* library/executable files with probes */
	bool ringbuf;		/* true: ring buffer; false: perf buffer */
};

/* Packet mode's counters (all zero without --packets). */
struct engine_packet_stats {
	uint64_t seen;		  /* packets the classifiers looked at */
	uint64_t captured;	  /* packets read from the kernel */
	uint64_t written;	  /* written to the file and queued */
	uint64_t unattributed;	  /* written without a process */
	uint64_t filtered_kernel; /* not kept: the PID/UID/cgroup filter (in the kernel) */
	uint64_t filtered_pcap;	  /* not kept: the -f pcap filter */
	uint64_t lost_kernel;	  /* the kernel could not deliver them: ring buffer full */
	uint64_t lost_read;	  /* the kernel could not copy their bytes */
	uint64_t truncated;	  /* kept, cut at 65535 bytes */
	uint64_t lost_user;	  /* malformed, out of memory, queue full */
	uint64_t secrets;	  /* TLS key-log lines written as Decryption Secrets Blocks */
	bool on;
};

struct engine;

/* Check privileges and kernel support, load (not yet attach) the BPF programs.
 * Borrows opts. On failure returns NULL and writes a one-line reason, naming the
 * cause and what to do, into err. */
struct engine *engine_new(const struct engine_opts *opts, char *err, size_t errlen);
/* Attach the probes, discover libraries, start the engine thread. 0 or -errno
 * (reason in err). */
int engine_start(struct engine *e, char *err, size_t errlen);
/* Replay a saved capture (pcapng or pcap, optionally gzip-compressed) through the
 * same queue, paced at speed times the original timing (0: as fast as the consumer
 * takes it). filter: a pcap filter expression or NULL. Needs no privileges. NULL
 * with a one-line reason in err on failure. engine_start() starts the replay. */
struct engine *engine_new_replay(const char *path, const char *filter, double speed, char *err,
				 size_t errlen);
bool engine_is_replay(const struct engine *e);
/* Replay: true once every event of the file has been queued, or reading stopped on
 * an error (logged, naming the block or offset). Live capture: always false. */
bool engine_done(struct engine *e);
/* Why the source ended early (a replay's corrupt or truncated file, a failed read
 * of the kernel buffer), or NULL. Valid until engine_free. */
const char *engine_error(struct engine *e);

/* Replay control, from the consumer's thread. A seek restarts the file: the consumer
 * then pops an EC_K_RESET event, drops the state it built (the store) and rebuilds it
 * from the events that follow, delivered at full speed up to the target. */
struct engine_replay_status {
	uint64_t first_ns, last_ns; /* time of the file's first and last event */
	uint64_t pos_ns;	    /* time of the last event handed to the queue (0: none yet) */
	uint64_t index;		    /* events handed to the queue since the last reset */
	uint64_t total;		    /* events in the file (as far as it could be read) */
	double speed;
	bool paused;
	bool finished; /* at the end of the file */
};
void engine_replay_status(struct engine *e, struct engine_replay_status *st);
void engine_replay_pause(struct engine *e, bool paused);
void engine_replay_set_speed(struct engine *e, double speed); /* > 0 */
/* Paused: hand out the next event (forward) or go back one (a seek). */
void engine_replay_step(struct engine *e, int direction);
/* Go to the first event later than ts_ns (0: the start; UINT64_MAX: the end). */
void engine_replay_seek_time(struct engine *e, uint64_t ts_ns);

/* Consumer: the next event, or NULL if none is waiting. Caller takes it (free()). */
struct ec_event *engine_pop(struct engine *e);
/* Consumer: a file descriptor that becomes readable when events are waiting;
 * call engine_ack() after draining. (Recording, -w, is a sink the front end feeds
 * after engine_pop: engine/file/record.h.) */
int engine_wait_fd(const struct engine *e);
void engine_ack(struct engine *e);
/* How long the consumer may sleep on engine_wait_fd() when nothing comes: -1 (until
 * woken: a live capture, so an idle ecaptop has no timer), else a few hundred
 * milliseconds (a replay). A recording's recorder_tick needs its own bound. */
int engine_wait_ms(const struct engine *e);
void engine_stats(struct engine *e, struct engine_stats *st);
void engine_packet_stats(struct engine *e, struct engine_packet_stats *st);
/* Replace the kernel-side filters while capture runs. n = 0 clears. 0 or -errno. */
int engine_set_pid_filter(struct engine *e, const uint32_t *pids, size_t n);
int engine_set_uid_filter(struct engine *e, const uint32_t *uids, size_t n);
/* Only processes in these cgroups (v2 ids) or below; n == 0 switches it off. */
int engine_set_cgroup_filter(struct engine *e, const uint64_t *ids, size_t n);
/* The cgroup v2 id of a --cgroup argument (a cgroup2 directory, or a path as
 * /proc/PID/cgroup shows it). 0 and *id, or -errno with a reason in err. */
int engine_cgroup_id(const char *arg, uint64_t *id, char *err, size_t errlen);
/* Stop the engine thread (it drains the kernel's buffers into the queue first).
 * Idempotent. The probes stay attached (their removal is slow: one RCU grace
 * period per uprobe) until engine_free(), so what is printed and saved is done
 * before it. */
void engine_stop(struct engine *e);
/* Accepts NULL. */
void engine_free(struct engine *e);

/* --check: print what this kernel and machine support to out; 0 if capture can
 * work, 1 if not. */
int engine_check(const struct engine_opts *opts, void *out /* FILE * */);

#endif
