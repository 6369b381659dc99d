// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The session store (tui/session/store.h): tables, eviction, views, filtering, and
 * decoding through the dispatcher, on synthetic events. */
#include "unit.h"
#include "tui/session/store.h"

#include <arpa/inet.h>

#define T0 1700000000000000000ull

static struct ec_event *data_ev(uint32_t pid, const char *comm, uint64_t conn_id, uint16_t lport,
				uint16_t rport, int dir, const char *bytes, uint64_t ts)
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
	ev->h.uid = pid == 1 ? 0 : 1000;
	snprintf(ev->h.comm, sizeof(ev->h.comm), "%s", comm);
	ev->h.dir = (uint8_t)dir;
	ev->h.family = EC_AF_INET;
	ev->h.lport = lport;
	ev->h.rport = rport;
	inet_pton(AF_INET, "127.0.0.1", ev->h.laddr);
	inet_pton(AF_INET, "127.0.0.2", ev->h.raddr);
	ev->h.conn_id = conn_id;
	memcpy(ev->data, bytes, len);
	return ev;
}

static struct ec_event *proc_ev(uint32_t kind, uint32_t pid, const char *comm, const void *payload,
				size_t len, uint64_t ts)
{
	struct ec_event *ev = ec_event_new((uint32_t)len);

	if (!ev)
		abort();
	ev->h.kind = kind;
	ev->h.source = kind == EC_K_COMMAND ? EC_S_BASH : EC_S_PROC;
	ev->h.ts_ns = ts;
	ev->h.pid = pid;
	ev->h.tid = pid;
	ev->h.uid = 1000;
	ev->h.aux = kind == EC_K_EXEC ? 1 : 0;
	snprintf(ev->h.comm, sizeof(ev->h.comm), "%s", comm);
	if (len)
		memcpy(ev->data, payload, len);
	return ev;
}

/* conn_ids are kernel socket addresses, so aligned: the store uses the low bit. */
static const char req[] = "GET /index.html HTTP/1.1\r\nHost: example.com\r\n\r\n";
static const char resp[] = "HTTP/1.1 404 Not Found\r\nContent-Length: 5\r\n\r\nnope!";

/* One HTTP exchange of pid on conn_id: the local process is the client. */
static void add_http(struct store *st, uint32_t pid, const char *comm, uint64_t conn_id,
		     uint16_t lport, uint64_t ts)
{
	store_add(st, data_ev(pid, comm, conn_id, lport, 443, EC_DIR_SEND, req, ts));
	store_add(st, data_ev(pid, comm, conn_id, lport, 443, EC_DIR_RECV, resp, ts + 1000000));
}

static void update_all(struct store *st, struct store_view *v)
{
	CHECK(store_update(st, 1000000000ull));
	CHECK(store_view_update(v, 1000000000ull));
}

static void test_tables(void)
{
	struct store *st = store_new(NULL);
	static const char argv[] = "curl\0-s\0https://x/\0";
	struct store_stats s;
	struct store_proc *p;
	struct store_conn *c;

	CHECK(st != NULL);
	store_add(st, proc_ev(EC_K_EXEC, 100, "curl", argv, sizeof(argv) - 1, T0));
	add_http(st, 100, "curl", 0xa000, 5000, T0 + 10);
	add_http(st, 100, "curl", 0xb000, 5001, T0 + 20);
	add_http(st, 200, "wget", 0xa000, 6000, T0 + 30); /* same conn_id, other pid */
	store_get_stats(st, &s);
	CHECK_EQ_INT(s.procs, 2);
	CHECK_EQ_INT(s.conns, 3);
	CHECK_EQ_INT(s.added, 7);
	CHECK_EQ_INT(s.records, 3);
	CHECK_EQ_INT(s.stored, 10); /* 7 events + 3 records */
	CHECK_EQ_INT(s.bytes, 3 * (strlen(req) + strlen(resp)));
	p = store_proc_get(st, 100);
	CHECK(p != NULL);
	if (!p)
		goto out;
	CHECK_EQ_STR(p->cmdline, "curl -s https://x/");
	CHECK_EQ_INT(p->ppid, 1);
	CHECK_EQ_INT(p->conns, 2);
	CHECK_EQ_INT(p->bytes_sent, 2 * strlen(req));
	CHECK_EQ_INT(p->bytes_recv, 2 * strlen(resp));
	c = store_conn_get(st, 1);
	CHECK(c != NULL);
	if (!c)
		goto out;
	CHECK_EQ_INT(c->pid, 100);
	CHECK_EQ_INT(c->lport, 5000);
	CHECK_EQ_STR(c->raddr_str, "127.0.0.2");
	CHECK_EQ_INT(c->proto, DEC_P_HTTP1);
	CHECK_EQ_INT(c->local_is_client, 1);
	CHECK_EQ_INT(c->requests, 1);
	CHECK_EQ_STR(c->host, "example.com");
	CHECK(!c->closed);

	/* exit closes the process's connections */
	store_add(st, proc_ev(EC_K_EXIT, 100, "curl", NULL, 0, T0 + 100));
	CHECK(c->closed);
	CHECK(p->exited);
	/* a later process with the same pid is a new process */
	add_http(st, 100, "other", 0xc000, 7000, T0 + 200);
	CHECK(store_proc_get(st, 100) != p);
	CHECK_EQ_STR(store_proc_get(st, 100)->comm, "other");
	store_get_stats(st, &s);
	CHECK_EQ_INT(s.procs, 3);
out:
	store_free(st);
}

static void test_conn_reuse(void)
{
	struct store *st = store_new(NULL);
	struct store_stats s;

	add_http(st, 100, "curl", 0xa000, 5000, T0);
	/* the kernel reused the socket address for a new connection */
	add_http(st, 100, "curl", 0xa000, 5002, T0 + 10);
	store_get_stats(st, &s);
	CHECK_EQ_INT(s.conns, 2);
	CHECK(store_conn_get(st, 1)->closed);
	CHECK(!store_conn_get(st, 2)->closed);
	store_free(st);
}

static void test_decode_items(void)
{
	struct store *st = store_new(NULL);
	struct store_item *it;
	struct strbuf sb = STRBUF_INIT;

	add_http(st, 100, "curl", 0xa000, 5000, T0);
	/* event, event, record in arrival order; data of a decoded connection is not
	 * a row of its own, the record is */
	it = store_item_get(st, 1);
	CHECK(it && it->type == STORE_I_EVENT && !it->visible);
	it = store_item_get(st, 2);
	CHECK(it && it->type == STORE_I_EVENT && !it->visible);
	it = store_item_get(st, 3);
	CHECK(it && it->type == STORE_I_RECORD && it->visible);
	if (it && it->rec) {
		CHECK_EQ_INT(it->rec->type, DEC_R_HTTP);
		CHECK_EQ_STR(it->rec->http.method, "GET");
		CHECK_EQ_STR(it->rec->http.path, "/index.html");
		CHECK_EQ_INT(it->rec->http.status, 404);
		CHECK_EQ_INT(it->rec->http.resp_body_len, 5);
		CHECK(it->rec->http.resp_body && !memcmp(it->rec->http.resp_body, "nope!", 5));
		CHECK(it->conn == store_conn_get(st, 1));
		store_item_text(it, &sb);
		CHECK(strstr(sb.buf, "GET /index.html HTTP/1.1\n") != NULL);
		CHECK(strstr(sb.buf, "404 Not Found") != NULL);
	}
	/* data no decoder understands is a row */
	store_add(st, data_ev(100, "curl", 0xb000, 5001, 9999, EC_DIR_SEND,
			      "\x01\x02 some binary protocol \x03", T0 + 5));
	it = store_item_get(st, 4);
	CHECK(it && it->type == STORE_I_EVENT);
	sb_free(&sb);
	store_free(st);
}

static void test_eviction(void)
{
	struct store_opts o = {.max_events = 10, .keep = true};
	struct store *st = store_new(&o);
	struct store_view *v = store_view_new(st, STORE_V_EVENTS);
	struct store_stats s;
	char buf[32];
	int i;

	for (i = 0; i < 25; i++) {
		snprintf(buf, sizeof(buf), "ls %d", i);
		store_add(st, proc_ev(EC_K_COMMAND, 300, "bash", buf, strlen(buf), T0 + i));
		if (i == 12)
			update_all(st, v); /* a view built half way must drop evicted rows */
	}
	store_get_stats(st, &s);
	CHECK_EQ_INT(s.stored, 10);
	CHECK_EQ_INT(s.evicted, 15);
	CHECK_EQ_INT(store_first_seq(st), 16);
	CHECK(store_item_get(st, 15) == NULL);
	update_all(st, v);
	CHECK_EQ_INT(store_view_len(v), 10);
	CHECK_EQ_INT(store_view_item(v, 0)->seq, 16);
	/* an exited process leaves when its last item is evicted */
	store_add(st, proc_ev(EC_K_EXIT, 300, "bash", NULL, 0, T0 + 100));
	for (i = 0; i < 10; i++)
		store_add(st, proc_ev(EC_K_COMMAND, 301, "zsh", "pwd", 3, T0 + 200 + i));
	CHECK(store_proc_get(st, 300) == NULL);
	store_get_stats(st, &s);
	CHECK_EQ_INT(s.procs, 1);
	update_all(st, v);
	CHECK_EQ_INT(store_view_len(v), 10);
	store_view_free(v);
	store_free(st);
}

/* --max-memory: the oldest items go once what they hold passes the byte budget,
 * counted apart from the cap's evictions; the newest are all kept. */
static void test_byte_budget(void)
{
	struct store_opts o = {.max_bytes = 1 << 20, .keep = true};
	struct store *st = store_new(&o);
	struct store_stats s;
	char *payload = malloc(4097);
	int i;

	CHECK(st && payload);
	memset(payload, 'x', 4096);
	payload[4096] = '\0';
	/* 1000 events of 4 KiB on a connection no decoder understands: 4 MiB */
	for (i = 0; i < 1000; i++)
		store_add(st, data_ev(400, "app", 77, 5000, 6000, EC_DIR_SEND, payload, T0 + i));
	store_get_stats(st, &s);
	CHECK(s.evicted_mem > 0);
	CHECK_EQ_INT(s.evicted, s.evicted_mem);
	CHECK(s.mem <= (1 << 20) - (1 << 20) / 8);
	CHECK(s.stored > 100 && s.stored < 1000);
	CHECK_EQ_INT(s.stored + s.evicted, 1000);
	CHECK(store_item_get(st, 1000) != NULL);
	CHECK(store_item_get(st, 1) == NULL);
	free(payload);
	store_free(st);
}

static void test_views(void)
{
	struct store *st = store_new(NULL);
	struct store_view *pv = store_view_new(st, STORE_V_PROCS);
	struct store_view *cv = store_view_new(st, STORE_V_CONNS);
	struct store_view *ev = store_view_new(st, STORE_V_EVENTS);
	struct filter *f;
	size_t i;

	add_http(st, 100, "curl", 0xa000, 5000, T0);
	add_http(st, 100, "curl", 0xb000, 5001, T0 + 10);
	add_http(st, 200, "wget", 0xc000, 6000, T0 + 20);
	store_add(st, proc_ev(EC_K_COMMAND, 300, "bash", "ls -la", 6, T0 + 30));

	store_view_sort(pv, STORE_COL_PID, false);
	update_all(st, pv);
	CHECK_EQ_INT(store_view_len(pv), 3);
	CHECK_EQ_INT(store_view_proc(pv, 0)->pid, 100);
	CHECK_EQ_INT(store_view_proc(pv, 2)->pid, 300);
	store_view_sort(pv, STORE_COL_PID, true);
	update_all(st, pv);
	CHECK_EQ_INT(store_view_proc(pv, 0)->pid, 300);

	store_view_scope(cv, 100, 0);
	update_all(st, cv);
	CHECK_EQ_INT(store_view_len(cv), 2);
	/* default: most recent activity first */
	CHECK_EQ_INT(store_view_conn(cv, 0)->lport, 5001);

	update_all(st, ev);
	CHECK_EQ_INT(store_view_len(ev), 4); /* 3 records + the command */
	store_view_scope(ev, 0, store_view_conn(cv, 1)->id);
	update_all(st, ev);
	CHECK_EQ_INT(store_view_len(ev), 1);
	CHECK(store_view_item(ev, 0)->rec != NULL);
	store_view_scope(ev, 0, 0);

	/* a pid filter: every view follows */
	f = filter_compile("pid:200", NULL, 0, NULL, NULL);
	store_set_filter(st, f);
	update_all(st, pv);
	update_all(st, cv);
	update_all(st, ev);
	CHECK_EQ_INT(store_view_len(pv), 1);
	CHECK_EQ_INT(store_view_proc(pv, 0)->pid, 200);
	CHECK_EQ_INT(store_view_len(cv), 0); /* scoped to pid 100 */
	store_view_scope(cv, 0, 0);
	update_all(st, cv);
	CHECK_EQ_INT(store_view_len(cv), 1);
	CHECK_EQ_INT(store_view_len(ev), 1);

	/* a regex over payload judges connections and processes by their items */
	store_set_filter(st, filter_compile("/ls -la/", NULL, 0, NULL, NULL));
	update_all(st, pv);
	update_all(st, cv);
	update_all(st, ev);
	CHECK_EQ_INT(store_view_len(pv), 1);
	CHECK_EQ_INT(store_view_proc(pv, 0)->pid, 300);
	CHECK_EQ_INT(store_view_len(cv), 0);
	CHECK_EQ_INT(store_view_len(ev), 1);
	store_set_filter(st, filter_compile("port:6000", NULL, 0, NULL, NULL));
	update_all(st, pv);
	update_all(st, cv);
	CHECK_EQ_INT(store_view_len(pv), 1);
	CHECK_EQ_INT(store_view_proc(pv, 0)->pid, 200);
	CHECK_EQ_INT(store_view_len(cv), 1);
	store_set_filter(st, filter_compile("status:404 !comm:curl", NULL, 0, NULL, NULL));
	update_all(st, ev);
	CHECK_EQ_INT(store_view_len(ev), 1);
	CHECK_EQ_INT(store_view_item(ev, 0)->proc->pid, 200);

	/* events sorted by pid, descending, kept sorted as more arrive */
	store_set_filter(st, NULL);
	store_view_sort(ev, STORE_COL_PID, true);
	update_all(st, ev);
	add_http(st, 150, "curl", 0xd000, 5003, T0 + 40);
	update_all(st, ev);
	CHECK_EQ_INT(store_view_len(ev), 5);
	for (i = 1; i < store_view_len(ev); i++)
		CHECK(store_view_item(ev, i - 1)->proc->pid >= store_view_item(ev, i)->proc->pid);
	CHECK_EQ_INT(store_view_item(ev, 2)->proc->pid, 150);

	store_view_free(pv);
	store_view_free(cv);
	store_view_free(ev);
	store_free(st);
}

/* A filter change over many items completes within budgets, in steps. */
static void test_incremental(void)
{
	struct store *st = store_new(NULL);
	struct store_view *ev = store_view_new(st, STORE_V_EVENTS);
	uint64_t done, total;
	int i, rounds = 0;

	for (i = 0; i < 200000; i++)
		store_add(st, proc_ev(EC_K_COMMAND, 1000 + (uint32_t)(i % 7), "bash",
				      i % 2 ? "make" : "ls", i % 2 ? 4 : 2, T0 + (uint64_t)i));
	update_all(st, ev);
	CHECK_EQ_INT(store_view_len(ev), 200000);
	store_set_filter(st, filter_compile("/^make$/", NULL, 0, NULL, NULL));
	while (!store_update(st, 1000000) | !store_view_update(ev, 1000000))
		rounds++;
	store_filter_progress(st, &done, &total);
	CHECK_EQ_INT(done, total);
	CHECK_EQ_INT(store_view_len(ev), 100000);
	CHECK(rounds > 0); /* 200000 regex matches take more than 1 ms */
	store_view_free(ev);
	store_free(st);
}

struct sink_log {
	char s[512];
};

static void sink_event(const struct ec_event *ev, const struct store_conn *c, void *arg)
{
	struct sink_log *l = arg;
	size_t n = strlen(l->s);

	snprintf(l->s + n, sizeof(l->s) - n, "E%u%s ", ev->h.kind, c ? "c" : "");
}

static void sink_record(const struct dec_record *rec, const struct store_conn *c, void *arg)
{
	struct sink_log *l = arg;
	size_t n = strlen(l->s);

	snprintf(l->s + n, sizeof(l->s) - n, "R%d:%s ", rec->type,
		 rec->type == DEC_R_HTTP && c ? rec->http.path : "?");
}

static void test_batch_sink(void)
{
	struct store_opts o = {.keep = false};
	struct store *st = store_new(&o);
	struct sink_log log = {""};
	struct store_sink sink = {sink_event, sink_record, &log};
	struct store_stats s;

	store_set_sink(st, &sink);
	store_add(st, proc_ev(EC_K_EXEC, 100, "curl", "curl", 4, T0));
	add_http(st, 100, "curl", 0xa000, 5000, T0 + 1);
	/* a request without its response is flushed when the process exits */
	store_add(st, data_ev(100, "curl", 0xb000, 5001, 443, EC_DIR_SEND, req, T0 + 5));
	store_add(st, proc_ev(EC_K_EXIT, 100, "curl", NULL, 0, T0 + 6));
	CHECK_EQ_STR(log.s, "E2 E1c E1c R1:/index.html E1c E3 R1:/index.html ");
	store_get_stats(st, &s);
	CHECK_EQ_INT(s.stored, 0);
	CHECK_EQ_INT(s.conns, 0); /* closed connections leave at once */
	CHECK_EQ_INT(s.procs, 0);
	store_free(st);
}

/* An EXEC (or fork: EC_F_FORK) with its start (call_id) and cgroup (the last rport
 * bytes), as the engine hands it on (bpf/events.h). */
static struct ec_event *start_ev(uint32_t pid, uint32_t ppid, uint16_t flags, const char *argv,
				 size_t argv_len, const char *cg, uint64_t start, uint64_t ts)
{
	struct ec_event *ev = ec_event_new((uint32_t)(argv_len + strlen(cg)));

	if (!ev)
		abort();
	ev->h.kind = EC_K_EXEC;
	ev->h.source = EC_S_PROC;
	ev->h.flags = flags;
	ev->h.ts_ns = ts;
	ev->h.pid = ev->h.tid = pid;
	ev->h.aux = ppid;
	ev->h.uid = 1000;
	snprintf(ev->h.comm, sizeof(ev->h.comm), "%s", "python3");
	memcpy(ev->data, argv, argv_len);
	memcpy(ev->data + argv_len, cg, strlen(cg));
	ev->h.rport = (uint16_t)strlen(cg);
	ev->h.call_id = start;
	return ev;
}

/* A child forked without exec runs its parent's command line in its parent's cgroup;
 * a pid reused by a new process (its start differs) is a new process even when the
 * old one's exit never came; an exec keeps the process. */
static void test_fork_and_reuse(void)
{
	struct store *st = store_new(NULL);
	static const char argv[] = "python3\0server.py\0";
	static const char curl[] = "curl\0-s\0";
	struct store_proc *parent, *child, *again;
	struct store_conn *c;

	store_add(st, start_ev(100, 1, 0, argv, sizeof(argv) - 1, "/a/b", T0 - 1000, T0));
	store_add(st, start_ev(200, 100, EC_F_FORK, "", 0, "/a/b", T0 + 5, T0 + 5));
	add_http(st, 200, "python3", 0xa000, 5000, T0 + 10);
	parent = store_proc_get(st, 100);
	child = store_proc_get(st, 200);
	CHECK(parent && child);
	if (!parent || !child)
		goto out;
	CHECK_EQ_STR(parent->cmdline, "python3 server.py");
	CHECK_EQ_STR(parent->cgroup, "/a/b");
	CHECK_EQ_STR(child->cmdline, "python3 server.py");
	CHECK_EQ_STR(child->cgroup, "/a/b");
	CHECK(child->forked);
	CHECK_EQ_INT(child->ppid, 100);
	CHECK_EQ_INT(child->start_ns, T0 + 5);
	c = store_conn_get(st, 1);
	CHECK(c && !c->closed);
	/* Its exit is lost; pid 200 is then forked again: a new process, the old one
	 * exited and its connection closed, nothing merged. */
	store_add(st, start_ev(200, 100, EC_F_FORK, "", 0, "/a/c", T0 + 50, T0 + 50));
	again = store_proc_get(st, 200);
	CHECK(again != NULL && again != child);
	CHECK(child->exited);
	CHECK(c->closed);
	if (!again)
		goto out;
	CHECK_EQ_INT(again->conns, 0);
	CHECK_EQ_STR(again->cgroup, "/a/c");
	/* ... which execs: the same process, a new program. */
	store_add(st, start_ev(200, 100, 0, curl, sizeof(curl) - 1, "/a/c", T0 + 50, T0 + 60));
	CHECK(store_proc_get(st, 200) == again);
	CHECK_EQ_STR(again->cmdline, "curl -s");
	CHECK(!again->forked);
	/* An exec of a pid whose start differs (its fork and exit were both lost). */
	store_add(st, start_ev(200, 100, 0, curl, sizeof(curl) - 1, "", T0 + 70, T0 + 80));
	CHECK(store_proc_get(st, 200) != again);
	CHECK(again->exited);
	/* A process seeded from /proc knows its start to a clock tick: an exec 5 ms off
	 * is still that process. */
	store_add(st, start_ev(300, 1, EC_F_EXISTING, argv, sizeof(argv) - 1, "", T0, T0));
	parent = store_proc_get(st, 300);
	store_add(st, start_ev(300, 1, 0, curl, sizeof(curl) - 1, "", T0 + 5000000, T0 + 90));
	CHECK(store_proc_get(st, 300) == parent);
	/* It moves to another cgroup: the same process and program, a new cgroup. */
	store_add(st, start_ev(300, 0, EC_F_MOVED, "", 0, "/m", T0 + 5000000, T0 + 95));
	CHECK(store_proc_get(st, 300) == parent);
	CHECK_EQ_STR(parent->cmdline, "curl -s");
	CHECK_EQ_STR(parent->cgroup, "/m");
	CHECK_EQ_INT(parent->ppid, 1);
out:
	store_free(st);
}

UNIT_MAIN(UNIT(test_fork_and_reuse), UNIT(test_tables), UNIT(test_conn_reuse),
	  UNIT(test_decode_items), UNIT(test_eviction), UNIT(test_byte_budget), UNIT(test_views),
	  UNIT(test_incremental), UNIT(test_batch_sink))
