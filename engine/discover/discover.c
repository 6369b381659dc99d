// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "engine/discover/discover.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "engine/discover/apps.h"
#include "engine/discover/execache.h"
#include "engine/discover/hold.h"
#include "engine/discover/procscan.h"
#include "engine/discover/targets.h"
#include "engine/log.h"

#define QCAP	      1024 /* exec events waiting for the discovery thread */
#define MAX_PENDING   512  /* maps scans planned after an exec */
#define MAPS_FIRST_MS 30   /* the dynamic loader has mapped the libraries */
#define MAPS_LATE_MS  1000 /* ... and a late dlopen has happened */
#define WALK_MS	      5000 /* every process's maps, again */
#define MAX_FOLDERS   64

struct exec_item {
	pid_t pid, ppid;
	uint32_t kdev;
	uint64_t ino, ts;
	bool held;
	char *path;
};

struct pending {
	pid_t pid;
	uint64_t due_ms;
	bool last;
};

struct discover {
	struct discover_opts o;
	struct targets *targets;
	struct apps *apps;
	struct hold *hold;
	struct execache *cache;
	pid_t pids[64];
	size_t n_pids;

	pthread_t thread, folder_thread;
	bool running, folder_running;
	/* Held by either thread around targets, apps and the cache. */
	pthread_mutex_t tlock;
	atomic_bool stop;
	atomic_size_t n_targets;
	size_t n_told; /* targets when on_targets was last called (under tlock) */
	atomic_uint_fast64_t dropped;

	/* The exec queue: the engine thread appends, the discovery thread takes. */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct exec_item q[QCAP];
	size_t q_head, q_len;

	/* Discovery thread only (and discover_first before it exists); the folder fields
	 * are the folder thread's. */
	struct pending pending[MAX_PENDING];
	size_t n_pending;
	uint64_t last_walk_ms;
	struct proc_maps maps;
	char *folders[MAX_FOLDERS];
	size_t n_folders;
	size_t n_judged, n_cached, n_found;
};

/* Tell the owner the target files changed (under tlock, or before the threads). */
static void targets_changed(struct discover *d)
{
	size_t n = targets_count(d->targets);

	if (n != d->n_told && d->o.on_targets) {
		d->n_told = n;
		d->o.on_targets(d->targets, d->o.on_targets_arg);
	}
}

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint32_t kernel_dev(dev_t d)
{
	/* The kernel's s_dev packs it as major << 20 | minor (include/linux/kdev_t.h). */
	return (uint32_t)(major(d) << 20 | minor(d));
}

static bool watched(const struct discover *d, pid_t pid)
{
	size_t i;

	if (!d->n_pids)
		return true;
	for (i = 0; i < d->n_pids; i++)
		if (d->pids[i] == pid)
			return true;
	return false;
}

struct discover *discover_new(const struct discover_opts *o)
{
	struct discover *d = calloc(1, sizeof(*d));
	size_t i;

	if (!d)
		return NULL;
	d->o = *o;
	for (i = 0; i < o->n_pids && i < sizeof(d->pids) / sizeof(d->pids[0]); i++)
		d->pids[d->n_pids++] = (pid_t)o->pids[i];
	d->o.pids = NULL;
	pthread_mutex_init(&d->lock, NULL);
	pthread_mutex_init(&d->tlock, NULL);
	{
		pthread_condattr_t ca;

		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(&d->cond, &ca);
		pthread_condattr_destroy(&ca);
	}
	d->targets = targets_new(o->tls, o->pids, o->n_pids);
	d->apps = apps_new(o->shell, o->db, o->has_cookie, o->pids, o->n_pids);
	if (!d->targets || !d->apps) {
		discover_free(d);
		errno = ENOMEM;
		return NULL;
	}
	if (o->hold_new && !(d->hold = hold_new(o->proc, o->clock))) {
		discover_free(d);
		errno = ENOMEM;
		return NULL;
	}
	return d;
}

/* ---- one process ---- */

static void scan_pid(struct discover *d, pid_t pid)
{
	if (procscan_maps(pid, &d->maps))
		return;
	pthread_mutex_lock(&d->tlock);
	targets_scan_maps(d->targets, pid, &d->maps);
	apps_scan_maps(d->apps, pid, &d->maps);
	apps_scan_exe(d->apps, pid);
	targets_changed(d);
	pthread_mutex_unlock(&d->tlock);
}

static void add_folder(struct discover *d, const char *path)
{
	char real[PATH_MAX];
	size_t i;

	if (d->n_folders == MAX_FOLDERS || !realpath(path, real))
		return;
	for (i = 0; i < d->n_folders; i++)
		if (!strcmp(d->folders[i], real))
			return;
	d->folders[d->n_folders] = strdup(real);
	if (d->folders[d->n_folders])
		d->n_folders++;
}

/* The folder of a running program (in this mount namespace) is worth a look. */
static void exe_folder(struct discover *d, pid_t pid)
{
	char link[64], exe[PATH_MAX], *slash;
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/%d/exe", (int)pid);
	n = readlink(link, exe, sizeof(exe) - 1);
	if (n <= 0)
		return;
	exe[n] = '\0';
	if (exe[0] != '/' || strstr(exe, " (deleted)") || !(slash = strrchr(exe, '/')))
		return;
	{
		struct stat a, b;

		/* Same file here as in the process: not inside a container. */
		if (stat(exe, &a) || stat(link, &b) || a.st_dev != b.st_dev || a.st_ino != b.st_ino)
			return;
	}
	*slash = '\0';
	if (exe[0])
		add_folder(d, exe);
}

struct first_walk {
	struct discover *d;
	void (*each)(pid_t pid, void *arg);
	void *arg;
};

static void first_one(pid_t pid, void *arg)
{
	struct first_walk *w = arg;

	if (w->each)
		w->each(pid, w->arg);
	if (!watched(w->d, pid))
		return;
	scan_pid(w->d, pid);
	exe_folder(w->d, pid);
}

int discover_first(struct discover *d, void (*each)(pid_t pid, void *arg), void *arg)
{
	static const char *const folders[] = {"/usr/bin",	 "/usr/sbin", "/usr/local/bin",
					      "/usr/local/sbin", "/bin",      "/sbin"};
	struct first_walk w = {d, each, arg};
	glob_t g;
	size_t i;

	targets_scan_libs(d->targets);
	apps_scan_usual(d->apps);
	for (i = 0; i < sizeof(folders) / sizeof(folders[0]); i++)
		add_folder(d, folders[i]);
	if (!glob("/opt/*/bin", GLOB_ONLYDIR, NULL, &g)) {
		for (i = 0; i < g.gl_pathc; i++)
			add_folder(d, g.gl_pathv[i]);
		globfree(&g);
	}
	procscan_each(first_one, &w);
	d->last_walk_ms = mono_ms();
	atomic_store(&d->n_targets, targets_count(d->targets));
	return (int)targets_count(d->targets);
}

/* ---- the program folders, on a thread of their own ---- */

/* Judge one file of a program folder: the content is examined without the lock (the
 * exec events' thread must never wait for a large file), the probes attached with it. */
static void judge(struct discover *d, DIR *dir, const char *folder, const char *name)
{
	struct targets_exam x;
	char path[PATH_MAX];
	struct stat st;
	int state, cached;

	if (name[0] == '.' || fstatat(dirfd(dir), name, &st, 0) || !S_ISREG(st.st_mode) ||
	    !(st.st_mode & 0111) || st.st_size < 64)
		return;
	if (snprintf(path, sizeof(path), "%s/%s", folder, name) >= (int)sizeof(path))
		return;
	pthread_mutex_lock(&d->tlock);
	state = targets_state(d->targets, st.st_dev, st.st_ino);
	cached = execache_get(d->cache, &st);
	targets_changed(d);
	pthread_mutex_unlock(&d->tlock);
	if (state >= 0)
		return; /* judged already, under another name */
	d->n_judged++;
	if (cached == 0) {
		d->n_cached++;
		hold_known(d->hold, kernel_dev(st.st_dev), st.st_ino);
		return;
	}
	if (targets_examine(path, &x))
		return;
	pthread_mutex_lock(&d->tlock);
	targets_add_examined(d->targets, path, &st, &x);
	state = targets_state(d->targets, st.st_dev, st.st_ino);
	execache_put(d->cache, &st, state == 1);
	targets_changed(d);
	pthread_mutex_unlock(&d->tlock);
	targets_exam_free(&x);
	if (state == 1)
		d->n_found++;
	if (cached == 1)
		d->n_cached++;
	hold_known(d->hold, kernel_dev(st.st_dev), st.st_ino);
}

static void *folder_thread(void *arg)
{
	struct discover *d = arg;
	uint64_t start = mono_ms();
	size_t i;

	/* Not niced: it takes tlock, and the exec thread must never wait for a thread
	 * the scheduler keeps off the CPU while it holds it. */
	for (i = 0; i < d->n_folders && !atomic_load(&d->stop); i++) {
		DIR *dir = opendir(d->folders[i]);
		struct dirent *de;

		if (!dir)
			continue;
		while (!atomic_load(&d->stop) && (de = readdir(dir)))
			judge(d, dir, d->folders[i], de->d_name);
		closedir(dir);
	}
	if (atomic_load(&d->stop))
		return NULL;
	log_msg(LOG_INFO,
		"discovery: program folders done: %zu executables judged in %llu ms (%zu known "
		"from the cache), %zu with TLS probes attached",
		d->n_judged, (unsigned long long)(mono_ms() - start), d->n_cached, d->n_found);
	pthread_mutex_lock(&d->tlock);
	execache_save(d->cache);
	targets_changed(d);
	pthread_mutex_unlock(&d->tlock);
	return NULL;
}

/* ---- exec events ---- */

static bool same_file(const struct stat *st, const struct exec_item *x)
{
	return st->st_ino == x->ino && kernel_dev(st->st_dev) == x->kdev;
}

/* Where this process can open the file that x's process exec'd: the kernel's path
 * (as execve got it) seen from here, or from the process's root, or relative to its
 * working folder (or its parent's, once it is gone); else /proc/PID/exe. Each
 * candidate is checked against the file's identity. 0 and out, or -ENOENT. */
static int exec_path(const struct exec_item *x, char *out, size_t len)
{
	char buf[PATH_MAX + 64], exe[PATH_MAX];
	struct stat st;
	ssize_t n;
	int i;

	if (x->path[0] == '/') {
		if (!stat(x->path, &st) && same_file(&st, x) && realpath(x->path, out))
			return 0;
		snprintf(buf, sizeof(buf), "/proc/%d/root%s", (int)x->pid, x->path);
		if (!stat(buf, &st) && same_file(&st, x))
			return snprintf(out, len, "%s", buf) < (int)len ? 0 : -ENAMETOOLONG;
	} else if (x->path[0]) {
		for (i = 0; i < 2; i++) {
			snprintf(buf, sizeof(buf), "/proc/%d/cwd/%s", (int)(i ? x->ppid : x->pid),
				 x->path);
			if (!stat(buf, &st) && same_file(&st, x) && realpath(buf, out))
				return 0;
		}
	}
	snprintf(buf, sizeof(buf), "/proc/%d/exe", (int)x->pid);
	n = readlink(buf, exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		if (!stat(exe, &st) && same_file(&st, x))
			return snprintf(out, len, "%s", exe) < (int)len ? 0 : -ENAMETOOLONG;
		snprintf(buf, sizeof(buf), "/proc/%d/root%s", (int)x->pid, exe);
		if (!stat(buf, &st) && same_file(&st, x))
			return snprintf(out, len, "%s", buf) < (int)len ? 0 : -ENAMETOOLONG;
	}
	return -ENOENT;
}

static void plan_scan(struct discover *d, pid_t pid, uint64_t due_ms, bool last)
{
	if (d->n_pending == MAX_PENDING)
		return; /* the periodic walk finds it */
	d->pending[d->n_pending++] = (struct pending){pid, due_ms, last};
}

/* ns of clock c, and of CLOCK_MONOTONIC. */
static uint64_t clock_ns(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void on_exec(struct discover *d, struct exec_item *x)
{
	char path[PATH_MAX + 64] = "";
	uint64_t attached = 0, exec_mono;
	bool first = false;
	struct stat st;
	long held_ms;

	if (!watched(d, x->pid)) {
		hold_release(d->hold, x->pid);
		return;
	}
	if (exec_path(x, path, sizeof(path)) || stat(path, &st)) {
		log_msg(LOG_DEBUG, "discovery: pid %d exec'd %s (%u:%llu): file not found",
			(int)x->pid, x->path, x->kdev, (unsigned long long)x->ino);
		path[0] = '\0';
	} else {
		pthread_mutex_lock(&d->tlock);
		/* A program folder's file the cache knows is no target: nothing to do. */
		if (execache_get(d->cache, &st) != 0)
			targets_try_file(d->targets, path);
		/* Probes on it (now, or by a maps scan of this pid a moment ago). */
		first = targets_first_exec(d->targets, st.st_dev, st.st_ino, &attached);
		targets_changed(d);
		pthread_mutex_unlock(&d->tlock);
	}
	hold_known(d->hold, x->kdev, x->ino);
	held_ms = x->held ? hold_release(d->hold, x->pid) : -1;
	/* Shells and database servers: probed from their next line or query on, so
	 * after a held process is on its way again. */
	if (path[0]) {
		pthread_mutex_lock(&d->tlock);
		apps_try_file(d->apps, path);
		targets_changed(d);
		pthread_mutex_unlock(&d->tlock);
	}
	/* The exec's time on the monotonic clock. */
	exec_mono = clock_ns(CLOCK_MONOTONIC) - (clock_ns(d->o.clock) - x->ts);
	if (first && held_ms >= 0) {
		log_msg(LOG_INFO,
			"%s: pid %d held %ld ms after its exec, until its TLS probes were "
			"attached: captured from its start",
			path, (int)x->pid, held_ms);
	} else if (first && attached > exec_mono) {
		log_msg(LOG_INFO,
			"%s: TLS probes attached %llu ms after pid %d started it; what it sent "
			"or received before that is not captured (its next runs are captured "
			"whole; --hold-new holds a first run until then)",
			path, (unsigned long long)((attached - exec_mono) / 1000000), (int)x->pid);
	}
	plan_scan(d, x->pid, mono_ms() + MAPS_FIRST_MS, false);
}

void discover_exec(struct discover *d, pid_t pid, pid_t ppid, uint32_t kdev, uint64_t ino,
		   uint64_t ts, bool held, const char *path, size_t len)
{
	struct exec_item *x;
	char *p;

	if (len && path[len - 1] == '\0')
		len--;
	p = malloc(len + 1);
	if (p) {
		memcpy(p, path, len);
		p[len] = '\0';
	}
	pthread_mutex_lock(&d->lock);
	if (!p || d->q_len == QCAP) {
		pthread_mutex_unlock(&d->lock);
		free(p);
		atomic_fetch_add(&d->dropped, 1);
		return;
	}
	x = &d->q[(d->q_head + d->q_len++) % QCAP];
	*x = (struct exec_item){pid, ppid, kdev, ino, ts, held, p};
	pthread_cond_signal(&d->cond);
	pthread_mutex_unlock(&d->lock);
}

/* ---- the thread ---- */

/* Handle the exec events waiting: they go before any other work (between two
 * processes of a walk, too), since a short-lived program's file must be probed
 * before its next run. */
static void drain_execs(struct discover *d)
{
	struct exec_item batch[64];
	size_t n, i;

	do {
		n = 0;
		pthread_mutex_lock(&d->lock);
		while (d->q_len && n < sizeof(batch) / sizeof(batch[0])) {
			batch[n++] = d->q[d->q_head];
			d->q_head = (d->q_head + 1) % QCAP;
			d->q_len--;
		}
		pthread_mutex_unlock(&d->lock);
		for (i = 0; i < n; i++) {
			on_exec(d, &batch[i]);
			free(batch[i].path);
		}
	} while (n && !atomic_load(&d->stop));
}

static void walk_one(pid_t pid, void *arg)
{
	struct discover *d = arg;

	drain_execs(d);
	if (watched(d, pid))
		scan_pid(d, pid);
}

static void run_pending(struct discover *d, uint64_t now)
{
	size_t i = 0;

	while (i < d->n_pending) {
		struct pending p = d->pending[i];

		if (p.due_ms > now) {
			i++;
			continue;
		}
		d->pending[i] = d->pending[--d->n_pending];
		drain_execs(d);
		scan_pid(d, p.pid);
		if (!p.last)
			plan_scan(d, p.pid, now + MAPS_LATE_MS, true);
	}
}

static uint64_t next_due(const struct discover *d)
{
	uint64_t due = d->last_walk_ms + WALK_MS;
	size_t i;

	for (i = 0; i < d->n_pending; i++)
		if (d->pending[i].due_ms < due)
			due = d->pending[i].due_ms;
	return due;
}

static void *discover_thread(void *arg)
{
	struct discover *d = arg;

	while (!atomic_load(&d->stop)) {
		uint64_t now;

		pthread_mutex_lock(&d->lock);
		if (!d->q_len && !atomic_load(&d->stop)) {
			uint64_t due = next_due(d);
			struct timespec ts;

			clock_gettime(CLOCK_MONOTONIC, &ts);
			now = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
			if (due > now) {
				uint64_t ms = due - now;

				ts.tv_sec += (time_t)(ms / 1000);
				ts.tv_nsec += (long)(ms % 1000) * 1000000L;
				if (ts.tv_nsec >= 1000000000L) {
					ts.tv_sec++;
					ts.tv_nsec -= 1000000000L;
				}
				pthread_cond_timedwait(&d->cond, &d->lock, &ts);
			}
		}
		pthread_mutex_unlock(&d->lock);
		drain_execs(d);
		now = mono_ms();
		run_pending(d, now);
		if (now - d->last_walk_ms >= WALK_MS && d->n_pids) {
			size_t i;

			/* With --pid only those processes' maps (a late dlopen): no walk of
			 * /proc, no library folders, so an idle -p costs next to nothing. */
			for (i = 0; i < d->n_pids; i++) {
				drain_execs(d);
				scan_pid(d, d->pids[i]);
			}
			d->last_walk_ms = mono_ms();
		} else if (now - d->last_walk_ms >= WALK_MS) {
			/* A library installed meanwhile is probed before anything maps it. */
			pthread_mutex_lock(&d->tlock);
			targets_scan_libs(d->targets);
			targets_changed(d);
			pthread_mutex_unlock(&d->tlock);
			procscan_each(walk_one, d);
			d->last_walk_ms = mono_ms();
		}
		atomic_store(&d->n_targets, targets_count(d->targets));
	}
	return NULL;
}

int discover_start(struct discover *d)
{
	int ret;

	d->cache = execache_load(d->o.cache_dir);
	if (!d->cache)
		return -ENOMEM;
	if (d->hold) {
		ret = hold_start(d->hold);
		if (ret)
			return ret;
	}
	ret = pthread_create(&d->thread, NULL, discover_thread, d);
	if (ret)
		return -ret;
	d->running = true;
	/* With --pid, only those processes are probed: the folders are not needed. */
	if (!d->n_pids) {
		ret = pthread_create(&d->folder_thread, NULL, folder_thread, d);
		if (ret)
			return -ret;
		d->folder_running = true;
	}
	return 0;
}

size_t discover_count(const struct discover *d)
{
	return atomic_load(&d->n_targets);
}

struct targets *discover_targets(struct discover *d)
{
	return d->targets;
}

void discover_stop(struct discover *d)
{
	uint64_t dropped;

	if (!d)
		return;
	if (d->running) {
		pthread_mutex_lock(&d->lock);
		atomic_store(&d->stop, true);
		pthread_cond_signal(&d->cond);
		pthread_mutex_unlock(&d->lock);
		pthread_join(d->thread, NULL);
		d->running = false;
	}
	if (d->folder_running) {
		pthread_join(d->folder_thread, NULL);
		d->folder_running = false;
	}
	hold_free(d->hold);
	d->hold = NULL;
	if (d->cache)
		execache_save(d->cache);
	dropped = atomic_load(&d->dropped);
	if (dropped)
		log_msg(LOG_WARN,
			"discovery: %llu exec events were not looked at on arrival (queue full); "
			"the periodic walk of /proc covered their processes",
			(unsigned long long)dropped);
}

void discover_free(struct discover *d)
{
	size_t i;

	if (!d)
		return;
	discover_stop(d);
	while (d->q_len) {
		free(d->q[d->q_head].path);
		d->q_head = (d->q_head + 1) % QCAP;
		d->q_len--;
	}
	for (i = 0; i < d->n_folders; i++)
		free(d->folders[i]);
	procscan_maps_free(&d->maps);
	targets_free(d->targets);
	apps_free(d->apps);
	execache_free(d->cache);
	pthread_mutex_destroy(&d->lock);
	pthread_mutex_destroy(&d->tlock);
	pthread_cond_destroy(&d->cond);
	free(d);
}
