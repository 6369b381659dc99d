// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The store's reset path (tui/session/store.h): a replay's EC_K_RESET marker never
 * becomes a process, and store_reset() drops everything so that the same events
 * rebuild the same state, with the same ids, under the same filter. */
#include "unit.h"
#include "tui/session/store.h"

#include <arpa/inet.h>

#define T0 1700000000000000000ull

static const char req[] = "GET /r HTTP/1.1\r\nHost: example.com\r\n\r\n";
static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

static struct ec_event *data_ev(uint32_t pid, uint64_t conn_id, uint16_t lport, int dir,
				const char *bytes, uint64_t ts)
{
	size_t len = strlen(bytes);
	struct ec_event *ev = ec_event_new((uint32_t)len);

	if (!ev)
		abort();
	ev->h.kind = EC_K_DATA;
	ev->h.source = EC_S_OPENSSL;
	ev->h.ts_ns = ts;
	ev->h.pid = pid;
	ev->h.tid = pid;
	ev->h.uid = 1000;
	snprintf(ev->h.comm, sizeof(ev->h.comm), "curl");
	ev->h.dir = (uint8_t)dir;
	ev->h.family = EC_AF_INET;
	ev->h.lport = lport;
	ev->h.rport = 443;
	inet_pton(AF_INET, "127.0.0.1", ev->h.laddr);
	inet_pton(AF_INET, "127.0.0.2", ev->h.raddr);
	ev->h.conn_id = conn_id;
	memcpy(ev->data, bytes, len);
	return ev;
}

/* What a replay's seek puts in the queue: no pid, no payload (engine/file/replay.c). */
static struct ec_event *reset_ev(void)
{
	struct ec_event *ev = ec_event_new(0);

	if (!ev)
		abort();
	ev->h.kind = EC_K_RESET;
	return ev;
}

static struct ec_event *command_ev(uint32_t pid, const char *cmd, uint64_t ts)
{
	struct ec_event *ev = ec_event_new((uint32_t)strlen(cmd));

	if (!ev)
		abort();
	ev->h.kind = EC_K_COMMAND;
	ev->h.source = EC_S_BASH;
	ev->h.ts_ns = ts;
	ev->h.pid = pid;
	ev->h.tid = pid;
	ev->h.uid = 1000;
	snprintf(ev->h.comm, sizeof(ev->h.comm), "bash");
	memcpy(ev->data, cmd, strlen(cmd));
	return ev;
}

/* The "file": three connections of two processes and a shell command. */
static void feed(struct store *st)
{
	int i;

	for (i = 0; i < 3; i++) {
		uint32_t pid = i < 2 ? 100 : 200;
		uint64_t conn = 0xa000 + 0x1000 * (uint64_t)i, ts = T0 + (uint64_t)i * 1000;

		store_add(st, data_ev(pid, conn, (uint16_t)(5000 + i), EC_DIR_SEND, req, ts));
		store_add(st, data_ev(pid, conn, (uint16_t)(5000 + i), EC_DIR_RECV, resp, ts + 1));
	}
	store_add(st, command_ev(300, "ls -la", T0 + 5000));
}

static void update(struct store *st, struct store_view **v, size_t n)
{
	size_t i;

	CHECK(store_update(st, 1000000000ull));
	for (i = 0; i < n; i++)
		CHECK(store_view_update(v[i], 1000000000ull));
}

static void test_marker_is_not_a_process(void)
{
	struct store *st = store_new(NULL);
	struct store_view *procs = store_view_new(st, STORE_V_PROCS);
	struct store_view *events = store_view_new(st, STORE_V_EVENTS);
	struct store_view *v[] = {procs, events};
	struct store_stats s;
	size_t i;

	store_add(st, reset_ev());
	feed(st);
	store_add(st, reset_ev()); /* one in the middle of a stream, too */
	update(st, v, 2);
	store_get_stats(st, &s);
	CHECK_EQ_INT(s.added, 7);   /* the markers are not counted as events */
	CHECK_EQ_INT(s.procs, 3);   /* 100, 200, 300: no pid 0 */
	CHECK_EQ_INT(s.stored, 10); /* 7 events and 3 records */
	CHECK(store_proc_get(st, 0) == NULL);
	CHECK_EQ_INT(store_view_len(procs), 3);
	for (i = 0; i < store_view_len(procs); i++)
		CHECK(store_view_proc(procs, i)->pid != 0);
	for (i = 0; i < store_view_len(events); i++)
		CHECK(store_view_item(events, i)->ev == NULL ||
		      store_view_item(events, i)->ev->h.kind != EC_K_RESET);
	store_view_free(procs);
	store_view_free(events);
	store_free(st);
}

static int sink_events;

static void count_event(const struct ec_event *ev, const struct store_conn *c, void *arg)
{
	(void)ev, (void)c, (void)arg;
	sink_events++;
}

/* Batch mode (keep = false, a sink): the marker reaches no printer. */
static void test_marker_not_sunk(void)
{
	struct store_opts o = {.keep = false};
	struct store *st = store_new(&o);
	struct store_sink sink = {.event = count_event};
	struct store_stats s;

	store_set_sink(st, &sink);
	sink_events = 0;
	store_add(st, reset_ev());
	CHECK_EQ_INT(sink_events, 0);
	store_get_stats(st, &s);
	CHECK_EQ_INT(s.procs, 0);
	store_add(st, command_ev(300, "ls", T0));
	CHECK_EQ_INT(sink_events, 1);
	store_free(st);
}

/* Everything goes; views built before are empty at once (their rows pointed at
 * freed memory) and rebuild from the events that follow; the same events give
 * the same ids, so the front end finds its selection again. */
static void test_reset_rebuilds_same_ids(void)
{
	struct store *st = store_new(NULL);
	struct store_view *procs = store_view_new(st, STORE_V_PROCS);
	struct store_view *conns = store_view_new(st, STORE_V_CONNS);
	struct store_view *events = store_view_new(st, STORE_V_EVENTS);
	struct store_view *one = store_view_new(st, STORE_V_EVENTS);
	struct store_view *v[] = {procs, conns, events, one};
	uint64_t seqs[16], conn_ids[3];
	struct store_stats s;
	size_t n_events, i;

	feed(st);
	store_view_scope(one, 100, 2); /* the events of pid 100's second connection */
	update(st, v, 4);
	CHECK_EQ_INT(store_view_len(procs), 3);
	CHECK_EQ_INT(store_view_len(conns), 3);
	n_events = store_view_len(events);
	CHECK_EQ_INT(n_events, 4); /* three HTTP records and the command */
	for (i = 0; i < n_events && i < 16; i++)
		seqs[i] = store_view_item(events, i)->seq;
	for (i = 0; i < 3; i++)
		conn_ids[i] = store_conn_get(st, i + 1)->conn_id;
	CHECK_EQ_INT(store_view_len(one), 1); /* its record (the data is decoded) */

	store_reset(st);
	/* nothing left, and no view hands out a stale row */
	store_get_stats(st, &s);
	CHECK_EQ_INT(s.procs, 0);
	CHECK_EQ_INT(s.conns, 0);
	CHECK_EQ_INT(s.stored, 0);
	CHECK_EQ_INT(s.added, 0);
	CHECK_EQ_INT(s.records, 0);
	CHECK(store_proc_get(st, 100) == NULL);
	CHECK(store_conn_get(st, 1) == NULL);
	CHECK(store_item_get(st, 1) == NULL);
	CHECK_EQ_INT(store_first_seq(st), 1);
	CHECK_EQ_INT(store_next_seq(st), 1);
	for (i = 0; i < 4; i++) {
		CHECK_EQ_INT(store_view_len(v[i]), 0);
	}
	CHECK(store_view_proc(procs, 0) == NULL);
	CHECK(store_view_conn(conns, 0) == NULL);
	CHECK(store_view_item(events, 0) == NULL);
	update(st, v, 4);
	for (i = 0; i < 4; i++)
		CHECK_EQ_INT(store_view_len(v[i]), 0);

	/* the same events again: the same ids */
	feed(st);
	update(st, v, 4);
	CHECK_EQ_INT(store_view_len(procs), 3);
	CHECK_EQ_INT(store_view_len(conns), 3);
	CHECK_EQ_INT(store_view_len(events), n_events);
	for (i = 0; i < n_events && i < 16; i++)
		CHECK_EQ_INT(store_view_item(events, i)->seq, seqs[i]);
	for (i = 0; i < 3; i++) {
		struct store_conn *c = store_conn_get(st, i + 1);

		CHECK(c != NULL);
		if (c)
			CHECK_EQ_INT(c->conn_id, conn_ids[i]);
	}
	CHECK_EQ_INT(store_view_len(one), 1);
	CHECK(store_view_item(one, 0) && store_view_item(one, 0)->conn->id == 2);
	store_get_stats(st, &s);
	CHECK_EQ_INT(s.added, 7);
	CHECK_EQ_INT(s.records, 3);

	for (i = 0; i < 4; i++)
		store_view_free(v[i]);
	store_free(st);
}

/* Going back to an earlier position: a reset and a prefix of the events. */
static void test_reset_to_prefix(void)
{
	struct store *st = store_new(NULL);
	struct store_view *conns = store_view_new(st, STORE_V_CONNS);
	struct store_view *events = store_view_new(st, STORE_V_EVENTS);
	struct store_view *v[] = {conns, events};

	feed(st);
	update(st, v, 2);
	CHECK_EQ_INT(store_view_len(events), 4);
	store_reset(st);
	/* only the first exchange, and its response not yet */
	store_add(st, data_ev(100, 0xa000, 5000, EC_DIR_SEND, req, T0));
	update(st, v, 2);
	CHECK_EQ_INT(store_view_len(conns), 1);
	CHECK_EQ_INT(store_view_len(events), 0); /* a request without answer is no record yet */
	CHECK_EQ_INT(store_conn_get(st, 1)->bytes_sent, strlen(req));
	CHECK_EQ_INT(store_conn_get(st, 1)->bytes_recv, 0);
	CHECK_EQ_INT(store_conn_get(st, 1)->requests, 0);
	store_add(st, data_ev(100, 0xa000, 5000, EC_DIR_RECV, resp, T0 + 1));
	update(st, v, 2);
	CHECK_EQ_INT(store_view_len(events), 1);
	CHECK_EQ_INT(store_conn_get(st, 1)->requests, 1);
	store_view_free(conns);
	store_view_free(events);
	store_free(st);
}

/* The user's filter survives a reset and applies to what is rebuilt. */
static void test_reset_keeps_filter(void)
{
	char err[128];
	size_t pos, len;
	struct store *st = store_new(NULL);
	struct store_view *procs = store_view_new(st, STORE_V_PROCS);
	struct store_view *events = store_view_new(st, STORE_V_EVENTS);
	struct store_view *v[] = {procs, events};
	struct filter *f = filter_compile("pid:200", err, sizeof(err), &pos, &len);

	CHECK(f != NULL);
	store_set_filter(st, f);
	feed(st);
	update(st, v, 2);
	CHECK_EQ_INT(store_view_len(procs), 1);
	CHECK_EQ_INT(store_view_len(events), 1);
	store_reset(st);
	CHECK_EQ_STR(filter_text(store_get_filter(st)), "pid:200");
	feed(st);
	update(st, v, 2);
	CHECK_EQ_INT(store_view_len(procs), 1);
	CHECK(store_view_proc(procs, 0) && store_view_proc(procs, 0)->pid == 200);
	CHECK_EQ_INT(store_view_len(events), 1);
	CHECK(store_view_item(events, 0) && store_view_item(events, 0)->proc->pid == 200);
	store_view_free(procs);
	store_view_free(events);
	store_free(st);
}

/* With a cap, the numbering after a reset still matches the first pass. */
static void test_reset_with_eviction(void)
{
	struct store_opts o = {.max_events = 4, .keep = true};
	struct store *st = store_new(&o);
	struct store_stats s;
	uint64_t first, next;

	feed(st);
	first = store_first_seq(st);
	next = store_next_seq(st);
	store_get_stats(st, &s);
	CHECK(s.evicted > 0);
	store_reset(st);
	store_get_stats(st, &s);
	CHECK_EQ_INT(s.evicted, 0);
	feed(st);
	CHECK_EQ_INT(store_first_seq(st), first);
	CHECK_EQ_INT(store_next_seq(st), next);
	/* and reset twice in a row is harmless */
	store_reset(st);
	store_reset(st);
	CHECK_EQ_INT(store_next_seq(st), 1);
	store_free(st);
}

UNIT_MAIN(UNIT(test_marker_is_not_a_process), UNIT(test_marker_not_sunk),
	  UNIT(test_reset_rebuilds_same_ids), UNIT(test_reset_to_prefix),
	  UNIT(test_reset_keeps_filter), UNIT(test_reset_with_eviction))
