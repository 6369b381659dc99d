// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Replay through the engine's queue: every event of a file arrives in order, and
 * the controls (pause, step forward and back, seek, speed) do what they say.
 */
#include "unit.h"

#include <poll.h>
#include <stdint.h>
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

static void setup(void)
{
	make_file();
}

static void teardown(void)
{
	unlink(path);
}

UNIT_MAIN(UNIT(setup), UNIT(test_all_events_in_order), UNIT(test_pause_step_seek),
	  UNIT(test_missing_file), UNIT(teardown))
