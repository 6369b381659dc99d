/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Discovery (engine-private): what to probe, on a thread of its own. It owns the TLS
 * targets (targets.h) and the shell and database probes (apps.h), and is fed by the
 * exec events the engine thread hands it (discover_exec: a short queue, never a
 * wait). For each exec it looks at the executable's file at once, through the path
 * and identity the exec tracepoint gave, even if the process is already gone, and at
 * the process's maps 30 ms and 1 s later (libraries the loader and dlopen map). In
 * the background it judges the executables of the system's program folders (and
 * those of running processes), remembering per file what it found (execache.h), and
 * every few seconds it walks /proc once for every kind of target.
 */
#ifndef ECAPTOP_ENGINE_DISCOVER_H
#define ECAPTOP_ENGINE_DISCOVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

struct tls_bpf;
struct proc_bpf;
struct shell_bpf;
struct db_bpf;
struct targets;
struct discover;

struct discover_opts {
	struct tls_bpf *tls; /* all four borrowed */
	struct proc_bpf *proc;
	struct shell_bpf *shell;
	struct db_bpf *db;
	bool has_cookie;      /* the kernel passes attach cookies to uprobes */
	const uint32_t *pids; /* with n_pids > 0: probes in these processes only */
	size_t n_pids;
	bool hold_new;	       /* proc was loaded with hold_new */
	clockid_t clock;       /* the clock of the BPF timestamps */
	const char *cache_dir; /* NULL: the default (execache.h) */
	/* Called, with the targets lock held, whenever the set of target files has
	 * changed (the key-log probes follow it); may be NULL. */
	void (*on_targets)(struct targets *t, void *arg);
	void *on_targets_arg;
};

/* NULL + errno. */
struct discover *discover_new(const struct discover_opts *o);
/* The first look, before capture is announced: the usual library and program paths,
 * then one walk of /proc, calling each(pid, arg) for every process on the way (the
 * engine's process seed). Returns the TLS files attached. */
int discover_first(struct discover *d, void (*each)(pid_t pid, void *arg), void *arg);
/* Start the discovery thread (and --hold-new's watchdog). 0 or -errno. */
int discover_start(struct discover *d);
/* From the engine thread: a process exec'd path (the kernel's, len bytes, NUL
 * included or not) with identity (kdev, ino), at ts (the BPF clock); held: the exec
 * tracepoint stopped it. Never blocks; a full queue is counted (the periodic walk
 * finds the process instead). */
void discover_exec(struct discover *d, pid_t pid, pid_t ppid, uint32_t kdev, uint64_t ino,
		   uint64_t ts, bool held, const char *path, size_t len);
/* Files with TLS probes attached (any thread). */
size_t discover_count(const struct discover *d);
/* The targets, for --check's listing (before discover_start, or after discover_stop). */
struct targets *discover_targets(struct discover *d);
/* Stop the thread, continue every held process, save the cache. Probes stay. */
void discover_stop(struct discover *d);
/* Stop, and detach every probe. Accepts NULL. */
void discover_free(struct discover *d);

#endif
