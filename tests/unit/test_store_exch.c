// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Exchanges (tui/session/exchanges.h, exch_view.h) on synthetic events: a
 * request is pending before its answer, both ends merge into one exchange,
 * shell commands take their status, aggregates collapse ids and literals, and
 * events views sorted by time follow the timestamps. */
#include "unit.h"
#include "tui/session/exch_view.h"
#include "tui/session/store.h"

#include <arpa/inet.h>

#define T0 1700000000000000000ull

/* One end of the TCP connection 127.0.0.1:cport <-> 127.0.0.1:sport. */
static struct ec_event *data_ev(uint32_t pid, const char *comm, uint64_t conn_id, uint16_t lport,
				uint16_t rport, int dir, const char *bytes, size_t len, uint64_t ts)
{
	struct ec_event *ev = ec_event_new((uint32_t)len);

	if (!ev)
		abort();
	ev->h.kind = EC_K_DATA;
	ev->h.source = EC_S_SOCKET;
	ev->h.ts_ns = ts;
	ev->h.pid = pid;
	ev->h.tid = pid;
	ev->h.uid = 1000;
	snprintf(ev->h.comm, sizeof(ev->h.comm), "%s", comm);
	ev->h.dir = (uint8_t)dir;
	ev->h.family = EC_AF_INET;
	ev->h.lport = lport;
	ev->h.rport = rport;
	inet_pton(AF_INET, "127.0.0.1", ev->h.laddr);
	inet_pton(AF_INET, "127.0.0.1", ev->h.raddr);
	ev->h.conn_id = conn_id;
	memcpy(ev->data, bytes, len);
	return ev;
}

static struct ec_event *cmd_ev(uint32_t pid, const char *line, uint64_t call, uint32_t status1,
			       uint64_t ts)
{
	size_t len = line ? strlen(line) : 0;
	struct ec_event *ev = ec_event_new((uint32_t)len);

	if (!ev)
		abort();
	ev->h.kind = EC_K_COMMAND;
	ev->h.source = EC_S_BASH;
	ev->h.ts_ns = ts;
	ev->h.pid = pid;
	ev->h.tid = pid;
	ev->h.uid = 1000;
	snprintf(ev->h.comm, sizeof(ev->h.comm), "bash");
	ev->h.call_id = call;
	if (!line) {
		ev->h.flags = EC_F_STATUS;
		ev->h.aux = status1;
	} else {
		memcpy(ev->data, line, len);
	}
	return ev;
}

static const char req[] = "GET /users/42?x=1 HTTP/1.1\r\nHost: a\r\n\r\n";
static const char resp[] = "HTTP/1.0 503 Busy\r\nContent-Length: 2\r\n\r\nno";

static void add(struct store *st, struct ec_event *ev)
{
	store_add(st, ev);
}

static struct store_exch *only(struct store *st)
{
	struct exch_table *t = store_exchanges(st);

	if (exch_next_id(t) - exch_first_id(t) != 1)
		return NULL;
	return exch_get(t, exch_first_id(t));
}

/* curl (pid 10, port 40000) asks python (pid 20, port 8080): one exchange,
 * pending as soon as either end saw the request, answered with both ends. */
static void test_pending_then_merged(void)
{
	struct store *st = store_new(NULL);
	struct store_exch *x;
	struct exch_stats xs;

	add(st, data_ev(10, "curl", 0x1000, 40000, 8080, EC_DIR_SEND, req, strlen(req), T0));
	x = only(st);
	CHECK(x != NULL);
	if (!x)
		goto out;
	CHECK(x->pending);
	CHECK_EQ_STR(x->method, "GET");
	CHECK_EQ_STR(x->target, "/users/42?x=1");
	CHECK_EQ_INT(x->cli.pid, 10);
	CHECK_EQ_INT(x->srv.pid, 0);
	CHECK_EQ_INT(x->srv_port, 8080);
	/* the server reads it: the same exchange gets its server end */
	add(st,
	    data_ev(20, "python3", 0x2000, 8080, 40000, EC_DIR_RECV, req, strlen(req), T0 + 1000));
	x = only(st);
	CHECK(x != NULL);
	if (!x)
		goto out;
	CHECK_EQ_INT(x->srv.pid, 20);
	CHECK(x->pending);
	CHECK_EQ_INT(exch_latency(x, T0 + 5000000000ull), 5000000000ull);
	/* the answer, seen by both */
	add(st, data_ev(20, "python3", 0x2000, 8080, 40000, EC_DIR_SEND, resp, strlen(resp),
			T0 + 198000));
	add(st,
	    data_ev(10, "curl", 0x1000, 40000, 8080, EC_DIR_RECV, resp, strlen(resp), T0 + 200000));
	x = only(st);
	CHECK(x != NULL);
	if (!x)
		goto out;
	CHECK(!x->pending);
	CHECK_EQ_INT(x->status, 503);
	CHECK(exch_is_error(x));
	CHECK(x->cli.done && x->srv.done);
	/* the client's view of the latency: from its request to its last byte */
	CHECK_EQ_INT(x->latency_ns, 200000);
	exch_get_stats(store_exchanges(st), &xs);
	CHECK_EQ_INT(xs.merged >= 1, 1);
	CHECK_EQ_INT(xs.pending, 0);
out:
	store_free(st);
}

/* A connection that ends with its request unanswered: "no answer". */
static void test_no_answer(void)
{
	struct store *st = store_new(NULL);
	struct store_exch *x;
	struct ec_event *ex = ec_event_new(0);

	add(st, data_ev(10, "curl", 0x1000, 40001, 8080, EC_DIR_SEND, req, strlen(req), T0));
	ex->h.kind = EC_K_EXIT;
	ex->h.pid = ex->h.tid = 10;
	ex->h.ts_ns = T0 + 10;
	add(st, ex);
	x = only(st);
	CHECK(x != NULL);
	if (x) {
		CHECK(!x->pending);
		CHECK(x->no_answer);
		CHECK(exch_is_error(x));
	}
	store_free(st);
}

/* A shell command: pending until its status, then its exit status and duration. */
static void test_shell(void)
{
	struct store *st = store_new(NULL);
	struct store_exch *x;
	char buf[32];

	add(st, cmd_ev(30, "make test", 77, 0, T0));
	x = only(st);
	CHECK(x != NULL);
	if (!x)
		goto out;
	CHECK(x->pending);
	CHECK_EQ_STR(x->target, "make test");
	add(st, cmd_ev(30, NULL, 77, 3, T0 + 1500000000ull));
	x = only(st);
	CHECK(x != NULL);
	if (!x)
		goto out;
	CHECK(!x->pending);
	CHECK_EQ_STR(exch_status_text(x, buf, sizeof(buf)), "exit 2");
	CHECK_EQ_INT(x->latency_ns, 1500000000ull);
	CHECK(exch_is_error(x));
out:
	store_free(st);
}

/* The exchanges view sorts by latency and keeps pending ones by their age;
 * the aggregates collapse ids. */
static void test_views_and_aggregates(void)
{
	struct store *st = store_new(NULL);
	struct exch_view *v = exch_view_new(st);
	struct agg_view *a = agg_view_new(st);
	const struct agg_row *r;
	char rq[128];
	int i;

	for (i = 0; i < 4; i++) {
		uint64_t c = 0x1000 + (uint64_t)i * 0x100, t = T0 + (uint64_t)i * 1000000000ull;

		snprintf(rq, sizeof(rq), "GET /users/%d HTTP/1.1\r\nHost: a\r\n\r\n", 100 + i);
		add(st, data_ev(10, "curl", c, (uint16_t)(41000 + i), 8080, EC_DIR_SEND, rq,
				strlen(rq), t));
		if (i < 3)
			add(st, data_ev(10, "curl", c, (uint16_t)(41000 + i), 8080, EC_DIR_RECV,
					resp, strlen(resp), t + (uint64_t)(i + 1) * 1000000ull));
	}
	exch_view_sort(v, XC_LATENCY, true);
	CHECK(exch_view_update(v, T0 + 3500000000ull));
	CHECK_EQ_INT(exch_view_len(v), 4);
	/* the pending one is 0.5 s old: the slowest */
	CHECK(exch_view_at(v, 0)->pending);
	CHECK_EQ_INT(exch_view_at(v, 1)->latency_ns, 3000000);
	CHECK_EQ_INT(exch_view_at(v, 3)->latency_ns, 1000000);
	CHECK(agg_view_update(a, T0));
	CHECK_EQ_INT(agg_view_len(a), 1);
	r = agg_view_at(a, 0);
	if (r) {
		CHECK_EQ_STR(r->key, "GET /users/{n}");
		CHECK_EQ_INT(r->count, 4);
		CHECK_EQ_INT(r->live, 1);
		CHECK_EQ_INT(r->errors, 3);
		CHECK_EQ_INT(r->p50, 2000000);
		CHECK_EQ_INT(r->p99, 3000000);
	}
	/* the filter applies */
	store_set_filter(st, filter_compile("pid:11", NULL, 0, NULL, NULL));
	exch_view_update(v, T0);
	CHECK_EQ_INT(exch_view_len(v), 0);
	exch_view_free(v);
	agg_view_free(a);
	store_free(st);
}

static void norm(const char *in, const char *want, bool sql)
{
	struct strbuf sb = STRBUF_INIT;

	if (sql)
		agg_norm_sql(in, &sb);
	else
		agg_norm_path(in, &sb);
	if (strcmp(sb.buf ? sb.buf : "", want)) {
		printf("  '%s' -> '%s', want '%s'\n", in, sb.buf ? sb.buf : "", want);
		unit_failed_now = 1;
	}
	sb_free(&sb);
}

static void test_normalise(void)
{
	norm("/users/42", "/users/{n}", false);
	norm("/users/42/orders/7?page=2", "/users/{n}/orders/{n}", false);
	norm("/o/3f2a9c1e77", "/o/{id}", false);
	norm("/o/123e4567-e89b-12d3-a456-426614174000/x", "/o/{id}/x", false);
	norm("/static/app.js", "/static/app.js", false);
	norm("/v2/items", "/v2/items", false);
	norm("SELECT * FROM t WHERE id = 42", "SELECT * FROM t WHERE id = ?", true);
	norm("select  name from u where n = 'bob''s'\n and x > -3",
	     "select name from u where n = ? and x > ?", true);
	norm("SELECT * FROM t WHERE id IN (1, 2, 3)", "SELECT * FROM t WHERE id IN (?)", true);
	norm("select col1, t2.c3 from t2", "select col1, t2.c3 from t2", true);
	norm("insert into t values ('a', 1), ('b', 2)", "insert into t values (?), (?)", true);
}

/* Events sorted by time follow their timestamps, not their arrival. */
static void test_time_order(void)
{
	struct store *st = store_new(NULL);
	struct store_view *v = store_view_new(st, STORE_V_EVENTS);
	uint64_t ts[] = {T0 + 50, T0 + 10, T0 + 30, T0 + 20, T0 + 40};
	size_t i;

	for (i = 0; i < 5; i++)
		add(st, cmd_ev(30 + (uint32_t)i, "ls", 100 + i, 0, ts[i]));
	while (!store_update(st, 1000000000ull))
		;
	while (!store_view_update(v, 1000000000ull))
		;
	CHECK_EQ_INT(store_view_len(v), 5);
	for (i = 1; i < store_view_len(v); i++)
		CHECK(store_view_item(v, i - 1)->ts_ns <= store_view_item(v, i)->ts_ns);
	store_view_sort(v, STORE_COL_TIME, true);
	while (!store_view_update(v, 1000000000ull))
		;
	CHECK_EQ_INT(store_view_item(v, 0)->ts_ns, T0 + 50);
	CHECK_EQ_INT(store_view_item(v, 4)->ts_ns, T0 + 10);
	store_view_free(v);
	store_free(st);
}

/* Idle processes (no connection, no command) and exec rows are hidden unless
 * asked for, and counted. */
static void test_idle_hidden(void)
{
	struct store *st = store_new(NULL);
	struct store_view *pv = store_view_new(st, STORE_V_PROCS);
	struct store_view *ev = store_view_new(st, STORE_V_EVENTS);
	struct ec_event *x = ec_event_new(3);

	x->h.kind = EC_K_EXEC;
	x->h.pid = x->h.tid = 40;
	x->h.ts_ns = T0;
	memcpy(x->data, "ls", 3);
	add(st, x);
	add(st, cmd_ev(30, "make", 1, 0, T0 + 1));
	add(st, data_ev(10, "curl", 0x1000, 40000, 8080, EC_DIR_SEND, req, strlen(req), T0 + 2));
	store_update(st, 1000000000ull);
	store_view_update(pv, 1000000000ull);
	while (!store_view_update(ev, 1000000000ull))
		;
	CHECK_EQ_INT(store_view_len(pv), 2); /* bash and curl, not the idle ls */
	CHECK_EQ_INT(store_view_hidden(pv), 1);
	CHECK_EQ_INT(store_view_hidden(ev), 1); /* its exec row */
	store_view_show_idle(pv, true);
	store_view_show_idle(ev, true);
	store_view_update(pv, 1000000000ull);
	while (!store_view_update(ev, 1000000000ull))
		;
	CHECK_EQ_INT(store_view_len(pv), 3);
	CHECK_EQ_INT(store_view_hidden(pv), 0);
	CHECK_EQ_INT(store_view_hidden(ev), 0);
	store_view_free(pv);
	store_view_free(ev);
	store_free(st);
}

/* The table keeps the newest exchanges, counts the others; a view built before
 * an eviction gives NULL for the evicted rows, never freed memory. */
static void test_eviction(void)
{
	struct store_opts o = {.max_events = 4000, .keep = true};
	struct store *st = store_new(&o);
	struct exch_view *v = exch_view_new(st);
	struct exch_stats xs;
	uint32_t i;

	for (i = 0; i < 1000; i++)
		add(st, cmd_ev(50, "ls", i + 1, 0, T0 + i));
	exch_view_update(v, T0);
	CHECK_EQ_INT(exch_view_len(v), 1000);
	for (; i < 1100; i++)
		add(st, cmd_ev(50, "ls", i + 1, 0, T0 + i));
	exch_get_stats(store_exchanges(st), &xs);
	CHECK_EQ_INT(xs.total, 1100);
	CHECK_EQ_INT(xs.evicted, 1100 - 1024);
	CHECK(exch_view_at(v, 0) == NULL);
	CHECK(exch_view_at(v, 999) != NULL);
	exch_view_free(v);
	store_free(st);
}

UNIT_MAIN(UNIT(test_eviction), UNIT(test_idle_hidden), UNIT(test_pending_then_merged),
	  UNIT(test_no_answer), UNIT(test_shell), UNIT(test_views_and_aggregates),
	  UNIT(test_normalise), UNIT(test_time_order))
