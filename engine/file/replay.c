// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Replay: a saved capture enters the same queue as live events (one pipeline for
 * live and replay), paced by a clock at rp->speed times the original timing, or as
 * fast as the consumer takes it. Nothing is dropped: a full queue makes the replay
 * wait, since a file, unlike the kernel, can.
 *
 * Control (pause, speed, step, seek) comes from the consumer's thread under
 * ctl_lock. Going back means starting again: the file is reopened, an EC_K_RESET
 * event tells the consumer to drop what it built, and the events up to the target
 * are handed out at full speed.
 */
#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "engine/log.h"
#include "engine/file/pcapng.h"
#include "engine/file/replay.h"

#define WAKE_EVERY 256 /* events queued between wake-ups when not pacing */

struct replay {
	struct evq *q; /* the engine's: where events go, the stop flag */
	pthread_t thread;
	bool thread_running;
	struct pcapng_reader *reader;
	char *path, *filter; /* to reopen the file on a seek */
	char *name;	     /* the file as the user named it */
	int spool_fd;	     /* standard input or a FIFO, copied to an unlinked file (-1: none) */
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
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* An unlinked file for a copy of the input: in $TMPDIR (or /tmp), else memory. */
static int spool_file(void)
{
	const char *dir = getenv("TMPDIR");
	int fd = open(dir && *dir ? dir : "/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);

	if (fd < 0 && dir && *dir)
		fd = open("/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0)
		fd = memfd_create("ecaptop-replay", MFD_CLOEXEC);
	return fd;
}

static int replay_input(struct replay *rp, const char *path, char *err, size_t errlen)
{
	char buf[1 << 16];
	struct stat sb;
	int in, out;

	if (strcmp(path, "-")) {
		in = open(path, O_RDONLY | O_CLOEXEC);
		if (in < 0) {
			snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
			return -1;
		}
	} else {
		in = dup(STDIN_FILENO);
		if (in < 0) {
			snprintf(err, errlen, "standard input: %s", strerror(errno));
			return -1;
		}
	}
	if (fstat(in, &sb) < 0) {
		snprintf(err, errlen, "%s: %s", rp->name, strerror(errno));
		close(in);
		return -1;
	}
	if (S_ISDIR(sb.st_mode)) {
		snprintf(err, errlen, "%s is a directory", rp->name);
		close(in);
		return -1;
	}
	if (S_ISREG(sb.st_mode) && !strcmp(path, "-")) {
		/* A file on standard input: reopened through /proc/self/fd. */
		rp->spool_fd = in;
		return 0;
	}
	if (S_ISREG(sb.st_mode)) {
		/* Read (and reopened for a seek) by its name. */
		close(in);
		rp->path = strdup(path);
		if (!rp->path) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		return 0;
	}
	/* A pipe, FIFO or device can be read once: a seek, and the count of events
	 * taken at open, need to read it again. */
	out = spool_file();
	if (out < 0) {
		snprintf(err, errlen, "cannot create a temporary copy of %s: %s", rp->name,
			 strerror(errno));
		close(in);
		return -1;
	}
	for (;;) {
		ssize_t n = read(in, buf, sizeof(buf)), w = 0;

		if (n == 0)
			break;
		if (n < 0) {
			snprintf(err, errlen, "reading %s: %s", rp->name,
				 errno == EINTR ? "interrupted" : strerror(errno));
			goto fail;
		}
		while (w < n) {
			ssize_t k = write(out, buf + w, (size_t)(n - w));

			if (k < 0) {
				snprintf(err, errlen, "copying %s to a temporary file: %s",
					 rp->name, strerror(errno));
				goto fail;
			}
			w += k;
		}
	}
	close(in);
	rp->spool_fd = out;
	return 0;
fail:
	close(in);
	close(out);
	return -1;
}

static struct pcapng_reader *replay_open(struct replay *rp, char *err, size_t errlen)
{
	char self[64];
	int fd;

	if (rp->spool_fd < 0)
		return pcapng_reader_open(rp->path, rp->filter, err, errlen);
	/* A file description of its own, with its own offset, for each reader. */
	snprintf(self, sizeof(self), "/proc/self/fd/%d", rp->spool_fd);
	fd = open(self, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "cannot reopen the copy of %s: %s", rp->name,
			 strerror(errno));
		return NULL;
	}
	return pcapng_reader_open_fd(fd, rp->name, rp->filter, err, errlen);
}

/* Queue ev, waiting for room (never dropping). false if asked to stop meanwhile. */
static bool push_wait(struct replay *rp, struct ec_event *ev)
{
	while (!evq_offer(rp->q, ev)) {
		struct timespec ts = {0, 1000000};

		if (evq_stopping(rp->q)) {
			free(ev);
			return false;
		}
		evq_wake(rp->q);
		nanosleep(&ts, NULL);
	}
	return true;
}

/* Start the file again for a seek: a fresh reader and a reset marker. */
static int reopen(struct replay *rp)
{
	char err[512];
	struct pcapng_reader *r;
	struct ec_event *mark;

	r = replay_open(rp, err, sizeof(err));
	if (!r) {
		evq_fail(rp->q, "cannot reopen %s: %s", rp->name, err);
		return -1;
	}
	pcapng_reader_close(rp->reader);
	rp->reader = r;
	mark = ec_event_new(0);
	if (!mark)
		return -1;
	mark->h.kind = EC_K_RESET;
	if (!push_wait(rp, mark))
		return -1;
	atomic_store(&rp->index, 0);
	atomic_store(&rp->pos_ns, 0);
	atomic_store(&rp->finished, false);
	return 0;
}

/* What to do with the next event, decided under the lock. */
enum gate { GATE_GO, GATE_FAST, GATE_STOP, GATE_SEEK };

static enum gate wait_gate(struct replay *rp, uint64_t next_ts)
{
	enum gate g;

	pthread_mutex_lock(&rp->ctl_lock);
	for (;;) {
		uint64_t idx = atomic_load(&rp->index);

		if (evq_stopping(rp->q)) {
			g = GATE_STOP;
			break;
		}
		if (rp->seek_req) {
			rp->seek_req = false;
			g = GATE_SEEK;
			break;
		}
		/* Catching up to a seek target: no pacing, no pause. */
		if ((rp->seek_index && idx < rp->seek_index) ||
		    (!rp->seek_index && rp->seek_ts && next_ts <= rp->seek_ts)) {
			g = GATE_FAST;
			break;
		}
		rp->seek_index = 0;
		rp->seek_ts = 0;
		if (!rp->paused) {
			g = GATE_GO;
			break;
		}
		if (rp->steps) {
			rp->steps--;
			g = GATE_FAST;
			break;
		}
		pthread_cond_wait(&rp->ctl_cond, &rp->ctl_lock);
	}
	pthread_mutex_unlock(&rp->ctl_lock);
	return g;
}

static void *replay_thread(void *arg)
{
	struct replay *rp = arg;
	uint64_t anchor_wall = 0, anchor_ts = 0, since_wake = 0;
	double anchor_speed = 0;
	struct ec_event *ev = NULL;
	uint32_t len;
	int ret;

	for (;;) {
		enum gate g;

		if (!ev) {
			ret = pcapng_reader_next(rp->reader, &ev);
			if (ret < 0) {
				evq_fail(rp->q, "%s: %s: what came before was replayed", rp->name,
					 pcapng_reader_error(rp->reader));
				ev = NULL;
			} else if (ret == 0) {
				ev = NULL;
			}
			if (!ev) {
				/* At the end: wait for a seek or the stop. */
				atomic_store(&rp->finished, true);
				evq_wake(rp->q);
				pthread_mutex_lock(&rp->ctl_lock);
				while (!evq_stopping(rp->q) && !rp->seek_req)
					pthread_cond_wait(&rp->ctl_cond, &rp->ctl_lock);
				rp->seek_req = false;
				pthread_mutex_unlock(&rp->ctl_lock);
				if (evq_stopping(rp->q) || reopen(rp))
					break;
				anchor_wall = 0;
				continue;
			}
		}
		g = wait_gate(rp, ev->h.ts_ns);
		if (g == GATE_STOP)
			break;
		if (g == GATE_SEEK) {
			free(ev);
			ev = NULL;
			if (reopen(rp))
				break;
			anchor_wall = 0;
			continue;
		}
		if (g == GATE_GO && rp->speed > 0) {
			uint64_t now = mono_ns(), due;
			double speed = rp->speed;

			/* Re-anchor the clock after a pause, a seek or a speed change. */
			if (!anchor_wall || speed != anchor_speed) {
				anchor_wall = now;
				anchor_ts = ev->h.ts_ns;
				anchor_speed = speed;
			}
			due = anchor_wall +
			      (uint64_t)((double)(ev->h.ts_ns > anchor_ts ? ev->h.ts_ns - anchor_ts
									  : 0) /
					 speed);
			if (due > now) {
				struct timespec ts;
				uint64_t d = due - now;

				/* Let the consumer see what is queued, then wait at most 50 ms
				 * at a time so control requests are served promptly. */
				evq_wake(rp->q);
				since_wake = 0;
				if (d > 50000000ULL)
					d = 50000000ULL;
				ts.tv_sec = 0;
				ts.tv_nsec = (long)d;
				nanosleep(&ts, NULL);
				continue;
			}
		} else if (g != GATE_GO) {
			anchor_wall = 0; /* stepping or catching up: the clock restarts after */
		}
		/* Once pushed, ev belongs to the consumer: read what we count first. */
		len = ev->h.len;
		atomic_store(&rp->pos_ns, ev->h.ts_ns);
		if (!push_wait(rp, ev))
			break;
		ev = NULL;
		atomic_fetch_add(&rp->index, 1);
		evq_delivered(rp->q, len);
		if (++since_wake >= WAKE_EVERY || g != GATE_GO) {
			evq_wake(rp->q);
			since_wake = 0;
		}
	}
	free(ev);
	atomic_store(&rp->finished, true);
	evq_wake(rp->q);
	return NULL;
}

/* Count the file's events and their time span once, at open. */
static int replay_scan(struct replay *rp, char *err, size_t errlen)
{
	struct pcapng_reader *r = replay_open(rp, err, errlen);
	struct ec_event *ev;
	int ret;

	if (!r)
		return -1;
	while ((ret = pcapng_reader_next(r, &ev)) > 0) {
		if (!rp->first_ns || ev->h.ts_ns < rp->first_ns)
			rp->first_ns = ev->h.ts_ns;
		if (ev->h.ts_ns > rp->last_ns)
			rp->last_ns = ev->h.ts_ns;
		rp->total++;
		free(ev);
	}
	pcapng_reader_close(r);
	return 0;
}

void replay_status(struct replay *rp, struct engine_replay_status *st)
{
	memset(st, 0, sizeof(*st));
	if (!rp->reader)
		return;
	st->first_ns = rp->first_ns;
	st->last_ns = rp->last_ns;
	st->total = rp->total;
	st->pos_ns = atomic_load(&rp->pos_ns);
	st->index = atomic_load(&rp->index);
	st->finished = atomic_load(&rp->finished);
	pthread_mutex_lock(&rp->ctl_lock);
	st->speed = rp->speed;
	st->paused = rp->paused;
	pthread_mutex_unlock(&rp->ctl_lock);
}

static void control(struct replay *rp, void (*fn)(struct replay *rp, uint64_t arg), uint64_t arg)
{
	if (!rp->reader)
		return;
	pthread_mutex_lock(&rp->ctl_lock);
	fn(rp, arg);
	pthread_cond_broadcast(&rp->ctl_cond);
	pthread_mutex_unlock(&rp->ctl_lock);
}

static void do_pause(struct replay *rp, uint64_t on)
{
	rp->paused = on;
	rp->steps = 0;
}

void replay_pause(struct replay *rp, bool paused)
{
	control(rp, do_pause, paused);
}

static void do_speed(struct replay *rp, uint64_t bits)
{
	double s;

	memcpy(&s, &bits, sizeof(s));
	rp->speed = s;
}

void replay_set_speed(struct replay *rp, double speed)
{
	uint64_t bits;

	if (!(speed > 0))
		return;
	memcpy(&bits, &speed, sizeof(bits));
	control(rp, do_speed, bits);
}

static void do_step_fwd(struct replay *rp, uint64_t unused)
{
	(void)unused;
	rp->paused = true;
	rp->steps++;
}

static void do_seek_index(struct replay *rp, uint64_t idx)
{
	rp->paused = true;
	rp->steps = 0;
	rp->seek_req = true;
	rp->seek_index = idx;
	rp->seek_ts = 0;
}

void replay_step(struct replay *rp, int direction)
{
	uint64_t idx;

	if (direction >= 0) {
		control(rp, do_step_fwd, 0);
		return;
	}
	/* Back one: start again and stop just before the current event. */
	idx = rp->reader ? atomic_load(&rp->index) : 0;
	if (idx > 1)
		control(rp, do_seek_index, idx - 1);
	else if (idx == 1)
		replay_seek_time(rp, 0);
}

static void do_seek_time(struct replay *rp, uint64_t ts)
{
	rp->steps = 0;
	rp->seek_req = true;
	rp->seek_index = 0;
	/* 0 means "nothing to catch up": the start. UINT64_MAX: everything. */
	rp->seek_ts = ts;
}

void replay_seek_time(struct replay *rp, uint64_t ts_ns)
{
	control(rp, do_seek_time, ts_ns);
}

struct replay *replay_new(const char *path, const char *filter, double speed, struct evq *q,
			  char *err, size_t errlen)
{
	struct replay *rp = calloc(1, sizeof(*rp));

	if (!rp) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	rp->q = q;
	rp->spool_fd = -1;
	rp->speed = speed;
	pthread_mutex_init(&rp->ctl_lock, NULL);
	pthread_cond_init(&rp->ctl_cond, NULL);
	rp->name = strdup(strcmp(path, "-") ? path : "standard input");
	rp->filter = filter ? strdup(filter) : NULL;
	if (!rp->name || (filter && !rp->filter)) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (replay_input(rp, path, err, errlen))
		goto fail;
	rp->reader = replay_open(rp, err, errlen);
	if (!rp->reader || replay_scan(rp, err, errlen))
		goto fail;
	return rp;
fail:
	replay_free(rp);
	return NULL;
}

static int replay_start(void *src, char *err, size_t errlen)
{
	struct replay *rp = src;
	int ret = pthread_create(&rp->thread, NULL, replay_thread, rp);

	if (ret) {
		snprintf(err, errlen, "cannot start the replay thread: %s", strerror(ret));
		return -ret;
	}
	rp->thread_running = true;
	return 0;
}

static void replay_stop(void *src)
{
	struct replay *rp = src;

	if (!rp->thread_running)
		return;
	/* The replay thread may be waiting for a control request. */
	pthread_mutex_lock(&rp->ctl_lock);
	pthread_cond_broadcast(&rp->ctl_cond);
	pthread_mutex_unlock(&rp->ctl_lock);
	pthread_join(rp->thread, NULL);
	rp->thread_running = false;
}

static void replay_stats(void *src, struct engine_stats *st)
{
	(void)src;
	st->ringbuf = true; /* as a replay always reported: no kernel buffer to name */
}

static bool replay_done(void *src)
{
	struct replay *rp = src;

	return atomic_load(&rp->finished);
}

const struct source_ops replay_source_ops = {
    .start = replay_start,
    .stop = replay_stop,
    .stats = replay_stats,
    .done = replay_done,
};

void replay_free(struct replay *rp)
{
	if (!rp)
		return;
	if (rp->thread_running) {
		atomic_store(&rp->q->stop, true);
		replay_stop(rp);
	}
	pcapng_reader_close(rp->reader);
	pthread_mutex_destroy(&rp->ctl_lock);
	pthread_cond_destroy(&rp->ctl_cond);
	free(rp->path);
	free(rp->filter);
	free(rp->name);
	if (rp->spool_fd >= 0)
		close(rp->spool_fd);
	free(rp);
}
