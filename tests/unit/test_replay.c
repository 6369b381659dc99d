// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Replay through the engine's queue: every event of a file arrives in order, and
 * the controls (pause, step forward and back, seek, speed) do what they say.
 */
#include "unit.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/engine.h"
#include "engine/file/pcapng.h"

#define N_EVENTS 50
#define STEP_NS	 1000000ULL /* 1 ms apart */
#define T0	 1700000000000000000ULL

static char path[] = "/tmp/ecaptop-replay-XXXXXX.pcapng";

static void make_file(void)
{
	char err[256];
	struct pcapng_writer *w;
	struct pcapng_meta meta = {0};
	int fd, i;

	fd = mkstemps(path, 7);
	close(fd);
	w = pcapng_writer_open(path, &meta, true, err, sizeof(err));
	if (!w) {
		printf("  cannot write %s: %s\n", path, err);
		return;
	}
	for (i = 0; i < N_EVENTS; i++) {
		struct ec_event *ev = ec_event_new(4);

		ev->h.kind = EC_K_DATA;
		ev->h.source = EC_S_SOCKET;
		ev->h.ts_ns = T0 + (uint64_t)i * STEP_NS;
		ev->h.pid = 100;
		ev->h.tid = 100;
		ev->h.dir = i % 2 ? EC_DIR_RECV : EC_DIR_SEND;
		ev->h.family = EC_AF_INET;
		ev->h.laddr[0] = 127, ev->h.laddr[3] = 1;
		ev->h.raddr[0] = 127, ev->h.raddr[3] = 1;
		ev->h.lport = 40000;
		ev->h.rport = 80;
		ev->h.conn_id = 0x1000;
		memcpy(ev->data, &i, 4);
		pcapng_write_event(w, ev);
		free(ev);
	}
	pcapng_writer_close(w, &meta, NULL, err, sizeof(err));
}

/* Pop one event, waiting up to 2 s. */
static struct ec_event *pop_wait(struct engine *e)
{
	struct pollfd p = {.fd = engine_wait_fd(e), .events = POLLIN};
	int tries;

	for (tries = 0; tries < 200; tries++) {
		struct ec_event *ev = engine_pop(e);

		if (ev)
			return ev;
		poll(&p, 1, 10);
		engine_ack(e);
	}
	return NULL;
}

static int payload(const struct ec_event *ev)
{
	int v = -1;

	if (ev && ev->h.kind == EC_K_DATA && ev->h.len == 4)
		memcpy(&v, ev->data, 4);
	return v;
}

static void test_all_events_in_order(void)
{
	char err[256];
	struct engine *e = engine_new_replay(path, NULL, 0, err, sizeof(err));
	struct engine_replay_status st;
	int i;

	CHECK(e != NULL);
	if (!e)
		return;
	engine_replay_status(e, &st);
	CHECK_EQ_INT(st.total, N_EVENTS);
	CHECK_EQ_INT(st.first_ns, T0);
	CHECK_EQ_INT(st.last_ns, T0 + (N_EVENTS - 1) * STEP_NS);
	CHECK_EQ_INT(engine_start(e, err, sizeof(err)), 0);
	for (i = 0; i < N_EVENTS; i++) {
		struct ec_event *ev = pop_wait(e);

		CHECK_EQ_INT(payload(ev), i);
		free(ev);
	}
	for (i = 0; i < 100 && !engine_done(e); i++)
		usleep(10000);
	CHECK(engine_done(e));
	engine_free(e);
}

static void test_pause_step_seek(void)
{
	char err[256];
	struct engine *e = engine_new_replay(path, NULL, 1.0, err, sizeof(err));
	struct engine_replay_status st;
	struct ec_event *ev;
	int i;

	CHECK(e != NULL);
	if (!e)
		return;
	engine_replay_pause(e, true);
	CHECK_EQ_INT(engine_start(e, err, sizeof(err)), 0);
	usleep(100000);
	CHECK(engine_pop(e) == NULL); /* paused from the start: nothing comes */

	engine_replay_step(e, 1);
	ev = pop_wait(e);
	CHECK_EQ_INT(payload(ev), 0);
	free(ev);
	engine_replay_step(e, 1);
	engine_replay_step(e, 1);
	ev = pop_wait(e);
	CHECK_EQ_INT(payload(ev), 1);
	free(ev);
	ev = pop_wait(e);
	CHECK_EQ_INT(payload(ev), 2);
	free(ev);
	usleep(50000);
	CHECK(engine_pop(e) == NULL);
	engine_replay_status(e, &st);
	CHECK(st.paused);
	CHECK_EQ_INT(st.index, 3);

	/* Back one: a reset, then events 0 and 1 again, and still paused. */
	engine_replay_step(e, -1);
	ev = pop_wait(e);
	CHECK(ev && ev->h.kind == EC_K_RESET);
	free(ev);
	for (i = 0; i < 2; i++) {
		ev = pop_wait(e);
		CHECK_EQ_INT(payload(ev), i);
		free(ev);
	}
	usleep(50000);
	CHECK(engine_pop(e) == NULL);

	/* Seek to a time: everything up to it, at once. */
	engine_replay_seek_time(e, T0 + 10 * STEP_NS);
	ev = pop_wait(e);
	CHECK(ev && ev->h.kind == EC_K_RESET);
	free(ev);
	for (i = 0; i <= 10; i++) {
		ev = pop_wait(e);
		CHECK_EQ_INT(payload(ev), i);
		free(ev);
	}
	engine_replay_status(e, &st);
	CHECK_EQ_INT(st.pos_ns, T0 + 10 * STEP_NS);

	/* Play at 1000x: the remaining 39 ms of capture take well under a second. */
	engine_replay_set_speed(e, 1000);
	engine_replay_pause(e, false);
	for (i = 11; i < N_EVENTS; i++) {
		ev = pop_wait(e);
		CHECK_EQ_INT(payload(ev), i);
		free(ev);
	}
	engine_replay_status(e, &st);
	CHECK(st.speed == 1000);
	engine_free(e);
}

static void test_missing_file(void)
{
	char err[256] = "";

	CHECK(engine_new_replay("/nonexistent/x.pcapng", NULL, 0, err, sizeof(err)) == NULL);
	CHECK(strstr(err, "nonexistent") != NULL || strstr(err, "No such file") != NULL);
}

/* A file cut inside a block: the events before the cut arrive, then the source
 * ends with an error that names the file and the offset (engine_error). */
static void test_truncated_file_error(void)
{
	char err[256], cut[] = "/tmp/ecaptop-replay-cut-XXXXXX.pcapng", buf[1 << 16];
	int in = open(path, O_RDONLY), out = mkstemps(cut, 7), n_ev = 0, i;
	ssize_t n = read(in, buf, sizeof(buf));
	struct engine *e;
	const char *why;

	close(in);
	CHECK(n > 200);
	CHECK(write(out, buf, (size_t)n / 2) == n / 2);
	close(out);
	e = engine_new_replay(cut, NULL, 0, err, sizeof(err));
	CHECK(e != NULL);
	if (!e) {
		unlink(cut);
		return;
	}
	CHECK(engine_error(e) == NULL);
	CHECK_EQ_INT(engine_start(e, err, sizeof(err)), 0);
	for (i = 0; i < 200 && !engine_done(e); i++) {
		struct ec_event *ev;

		while ((ev = engine_pop(e))) {
			n_ev++;
			free(ev);
		}
		usleep(10000);
	}
	CHECK(n_ev > 0 && n_ev < N_EVENTS);
	why = engine_error(e);
	CHECK(why != NULL);
	if (why) {
		CHECK(strstr(why, cut) != NULL);
		CHECK(strstr(why, "offset") != NULL);
	}
	engine_free(e);
	unlink(cut);
}

static void *feed_fifo(void *arg)
{
	char buf[4096];
	int in = open(path, O_RDONLY), out = open(arg, O_WRONLY);
	ssize_t n;

	while (in >= 0 && out >= 0 && (n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n)
			break;
	close(in);
	close(out);
	return NULL;
}

/* A FIFO is read once into a copy, so the count at open and a seek back work. */
static void test_fifo_input(void)
{
	char err[256], fifo[64] = "/tmp/ecaptop-replay-fifo-XXXXXX";
	struct engine_replay_status st;
	struct engine *e;
	pthread_t t;
	int i;

	CHECK(mkdtemp(fifo) != NULL);
	strcat(fifo, "/f");
	CHECK_EQ_INT(mkfifo(fifo, 0600), 0);
	pthread_create(&t, NULL, feed_fifo, fifo);
	e = engine_new_replay(fifo, NULL, 0, err, sizeof(err));
	pthread_join(t, NULL);
	CHECK(e != NULL);
	if (e) {
		engine_replay_status(e, &st);
		CHECK_EQ_INT(st.total, N_EVENTS);
		CHECK_EQ_INT(engine_start(e, err, sizeof(err)), 0);
		for (i = 0; i < N_EVENTS; i++) {
			struct ec_event *ev = pop_wait(e);

			CHECK_EQ_INT(payload(ev), i);
			free(ev);
		}
		/* Back to the start: the copy is read again. */
		engine_replay_seek_time(e, 0);
		{
			struct ec_event *ev = pop_wait(e);

			CHECK(ev && ev->h.kind == EC_K_RESET);
			free(ev);
			ev = pop_wait(e);
			CHECK_EQ_INT(payload(ev), 0);
			free(ev);
		}
		CHECK(engine_error(e) == NULL);
		engine_free(e);
	}
	unlink(fifo);
	*strrchr(fifo, '/') = '\0';
	rmdir(fifo);
}

static void setup(void)
{
	make_file();
}

static void teardown(void)
{
	unlink(path);
}

UNIT_MAIN(UNIT(setup), UNIT(test_all_events_in_order), UNIT(test_pause_step_seek),
	  UNIT(test_missing_file), UNIT(test_truncated_file_error), UNIT(test_fifo_input),
	  UNIT(teardown))
