// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Replay: a saved capture enters the same queue as live events (one pipeline for
 * live and replay), paced by a clock at e->speed times the original timing, or as
 * fast as the consumer takes it. Nothing is dropped: a full queue makes the replay
 * wait, since a file, unlike the kernel, can.
 *
 * Control (pause, speed, step, seek) comes from the consumer's thread under
 * ctl_lock. Going back means starting again: the file is reopened, an EC_K_RESET
 * event tells the consumer to drop what it built, and the events up to the target
 * are handed out at full speed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "engine/capture/engine_int.h"
#include "engine/log.h"
#include "engine/file/pcapng.h"

#define WAKE_EVERY 256 /* events queued between wake-ups when not pacing */

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

int replay_input(struct engine *e, const char *path, char *err, size_t errlen)
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
		snprintf(err, errlen, "%s: %s", e->replay_name, strerror(errno));
		close(in);
		return -1;
	}
	if (S_ISDIR(sb.st_mode)) {
		snprintf(err, errlen, "%s is a directory", e->replay_name);
		close(in);
		return -1;
	}
	if (S_ISREG(sb.st_mode) && !strcmp(path, "-")) {
		/* A file on standard input: reopened through /proc/self/fd. */
		e->spool_fd = in;
		return 0;
	}
	if (S_ISREG(sb.st_mode)) {
		/* Read (and reopened for a seek) by its name. */
		close(in);
		e->replay_path = strdup(path);
		if (!e->replay_path) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		return 0;
	}
	/* A pipe, FIFO or device can be read once: a seek, and the count of events
	 * taken at open, need to read it again. */
	out = spool_file();
	if (out < 0) {
		snprintf(err, errlen, "cannot create a temporary copy of %s: %s", e->replay_name,
			 strerror(errno));
		close(in);
		return -1;
	}
	for (;;) {
		ssize_t n = read(in, buf, sizeof(buf)), w = 0;

		if (n == 0)
			break;
		if (n < 0) {
			snprintf(err, errlen, "reading %s: %s", e->replay_name,
				 errno == EINTR ? "interrupted" : strerror(errno));
			goto fail;
		}
		while (w < n) {
			ssize_t k = write(out, buf + w, (size_t)(n - w));

			if (k < 0) {
				snprintf(err, errlen, "copying %s to a temporary file: %s",
					 e->replay_name, strerror(errno));
				goto fail;
			}
			w += k;
		}
	}
	close(in);
	e->spool_fd = out;
	return 0;
fail:
	close(in);
	close(out);
	return -1;
}

struct pcapng_reader *replay_open(struct engine *e, char *err, size_t errlen)
{
	char self[64];
	int fd;

	if (e->spool_fd < 0)
		return pcapng_reader_open(e->replay_path, e->replay_filter, err, errlen);
	/* A file description of its own, with its own offset, for each reader. */
	snprintf(self, sizeof(self), "/proc/self/fd/%d", e->spool_fd);
	fd = open(self, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "cannot reopen the copy of %s: %s", e->replay_name,
			 strerror(errno));
		return NULL;
	}
	return pcapng_reader_open_fd(fd, e->replay_name, e->replay_filter, err, errlen);
}

/* Queue ev, waiting for room (never dropping). false if asked to stop meanwhile. */
static bool push_wait(struct engine *e, struct ec_event *ev)
{
	while (!queue_offer(e, ev)) {
		struct timespec ts = {0, 1000000};

		if (atomic_load(&e->stop)) {
			free(ev);
			return false;
		}
		engine_wake(e);
		nanosleep(&ts, NULL);
	}
	return true;
}

/* Start the file again for a seek: a fresh reader and a reset marker. */
static int reopen(struct engine *e)
{
	char err[512];
	struct pcapng_reader *r;
	struct ec_event *mark;

	r = replay_open(e, err, sizeof(err));
	if (!r) {
		engine_fail(e, "cannot reopen %s: %s", e->replay_name, err);
		return -1;
	}
	pcapng_reader_close(e->reader);
	e->reader = r;
	mark = ec_event_new(0);
	if (!mark)
		return -1;
	mark->h.kind = EC_K_RESET;
	if (!push_wait(e, mark))
		return -1;
	atomic_store(&e->index, 0);
	atomic_store(&e->pos_ns, 0);
	atomic_store(&e->finished, false);
	return 0;
}

/* What to do with the next event, decided under the lock. */
enum gate { GATE_GO, GATE_FAST, GATE_STOP, GATE_SEEK };

static enum gate wait_gate(struct engine *e, uint64_t next_ts)
{
	enum gate g;

	pthread_mutex_lock(&e->ctl_lock);
	for (;;) {
		uint64_t idx = atomic_load(&e->index);

		if (atomic_load(&e->stop)) {
			g = GATE_STOP;
			break;
		}
		if (e->seek_req) {
			e->seek_req = false;
			g = GATE_SEEK;
			break;
		}
		/* Catching up to a seek target: no pacing, no pause. */
		if ((e->seek_index && idx < e->seek_index) ||
		    (!e->seek_index && e->seek_ts && next_ts <= e->seek_ts)) {
			g = GATE_FAST;
			break;
		}
		e->seek_index = 0;
		e->seek_ts = 0;
		if (!e->paused) {
			g = GATE_GO;
			break;
		}
		if (e->steps) {
			e->steps--;
			g = GATE_FAST;
			break;
		}
		pthread_cond_wait(&e->ctl_cond, &e->ctl_lock);
	}
	pthread_mutex_unlock(&e->ctl_lock);
	return g;
}

void *replay_thread(void *arg)
{
	struct engine *e = arg;
	uint64_t anchor_wall = 0, anchor_ts = 0, since_wake = 0;
	double anchor_speed = 0;
	struct ec_event *ev = NULL;
	uint32_t len;
	int ret;

	for (;;) {
		enum gate g;

		if (!ev) {
			ret = pcapng_reader_next(e->reader, &ev);
			if (ret < 0) {
				engine_fail(e, "%s: %s: what came before was replayed",
					    e->replay_name, pcapng_reader_error(e->reader));
				ev = NULL;
			} else if (ret == 0) {
				ev = NULL;
			}
			if (!ev) {
				/* At the end: wait for a seek or the stop. */
				atomic_store(&e->finished, true);
				engine_wake(e);
				pthread_mutex_lock(&e->ctl_lock);
				while (!atomic_load(&e->stop) && !e->seek_req)
					pthread_cond_wait(&e->ctl_cond, &e->ctl_lock);
				e->seek_req = false;
				pthread_mutex_unlock(&e->ctl_lock);
				if (atomic_load(&e->stop) || reopen(e))
					break;
				anchor_wall = 0;
				continue;
			}
		}
		g = wait_gate(e, ev->h.ts_ns);
		if (g == GATE_STOP)
			break;
		if (g == GATE_SEEK) {
			free(ev);
			ev = NULL;
			if (reopen(e))
				break;
			anchor_wall = 0;
			continue;
		}
		if (g == GATE_GO && e->speed > 0) {
			uint64_t now = mono_ns(), due;
			double speed = e->speed;

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
				engine_wake(e);
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
		atomic_store(&e->pos_ns, ev->h.ts_ns);
		if (!push_wait(e, ev))
			break;
		ev = NULL;
		atomic_fetch_add(&e->index, 1);
		atomic_fetch_add_explicit(&e->n_events, 1, memory_order_relaxed);
		atomic_fetch_add_explicit(&e->n_bytes, len, memory_order_relaxed);
		if (++since_wake >= WAKE_EVERY || g != GATE_GO) {
			engine_wake(e);
			since_wake = 0;
		}
	}
	free(ev);
	atomic_store(&e->finished, true);
	engine_wake(e);
	return NULL;
}

/* Count the file's events and their time span once, at open. */
int replay_scan(struct engine *e, char *err, size_t errlen)
{
	struct pcapng_reader *r = replay_open(e, err, errlen);
	struct ec_event *ev;
	int ret;

	if (!r)
		return -1;
	while ((ret = pcapng_reader_next(r, &ev)) > 0) {
		if (!e->first_ns || ev->h.ts_ns < e->first_ns)
			e->first_ns = ev->h.ts_ns;
		if (ev->h.ts_ns > e->last_ns)
			e->last_ns = ev->h.ts_ns;
		e->total++;
		free(ev);
	}
	pcapng_reader_close(r);
	return 0;
}

void engine_replay_status(struct engine *e, struct engine_replay_status *st)
{
	memset(st, 0, sizeof(*st));
	if (!e->reader)
		return;
	st->first_ns = e->first_ns;
	st->last_ns = e->last_ns;
	st->total = e->total;
	st->pos_ns = atomic_load(&e->pos_ns);
	st->index = atomic_load(&e->index);
	st->finished = atomic_load(&e->finished);
	pthread_mutex_lock(&e->ctl_lock);
	st->speed = e->speed;
	st->paused = e->paused;
	pthread_mutex_unlock(&e->ctl_lock);
}

static void control(struct engine *e, void (*fn)(struct engine *e, uint64_t arg), uint64_t arg)
{
	if (!e->reader)
		return;
	pthread_mutex_lock(&e->ctl_lock);
	fn(e, arg);
	pthread_cond_broadcast(&e->ctl_cond);
	pthread_mutex_unlock(&e->ctl_lock);
}

static void do_pause(struct engine *e, uint64_t on)
{
	e->paused = on;
	e->steps = 0;
}

void engine_replay_pause(struct engine *e, bool paused)
{
	control(e, do_pause, paused);
}

static void do_speed(struct engine *e, uint64_t bits)
{
	double s;

	memcpy(&s, &bits, sizeof(s));
	e->speed = s;
}

void engine_replay_set_speed(struct engine *e, double speed)
{
	uint64_t bits;

	if (!(speed > 0))
		return;
	memcpy(&bits, &speed, sizeof(bits));
	control(e, do_speed, bits);
}

static void do_step_fwd(struct engine *e, uint64_t unused)
{
	(void)unused;
	e->paused = true;
	e->steps++;
}

static void do_seek_index(struct engine *e, uint64_t idx)
{
	e->paused = true;
	e->steps = 0;
	e->seek_req = true;
	e->seek_index = idx;
	e->seek_ts = 0;
}

void engine_replay_step(struct engine *e, int direction)
{
	uint64_t idx;

	if (direction >= 0) {
		control(e, do_step_fwd, 0);
		return;
	}
	/* Back one: start again and stop just before the current event. */
	idx = e->reader ? atomic_load(&e->index) : 0;
	if (idx > 1)
		control(e, do_seek_index, idx - 1);
	else if (idx == 1)
		engine_replay_seek_time(e, 0);
}

static void do_seek_time(struct engine *e, uint64_t ts)
{
	e->steps = 0;
	e->seek_req = true;
	e->seek_index = 0;
	/* 0 means "nothing to catch up": the start. UINT64_MAX: everything. */
	e->seek_ts = ts;
}

void engine_replay_seek_time(struct engine *e, uint64_t ts_ns)
{
	control(e, do_seek_time, ts_ns);
}
