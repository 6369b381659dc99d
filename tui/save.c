// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The TUI's save (w): which events the selection stands for, what the prompt
 * says about them, and writing them (rules in tui/save.h).
 *
 * Two passes over the stored items: the first turns tags (or the filter) into
 * sets of processes, connections, items and exchange time ranges; the second
 * walks the items in arrival order and writes the events those sets take, each
 * connection's role given to the writer before its first event and its end
 * closed after its last one, so its FIN is where its data ends.
 */
#include "tui/save.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/file/pcapng.h"
#include "tui/screen.h"

/* A sorted set of ids. */
struct idset {
	uint64_t *v;
	size_t n, cap;
	bool sorted;
};

static int idset_add(struct idset *s, uint64_t id)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		uint64_t *v = realloc(s->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = id;
	s->sorted = false;
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static bool idset_has(struct idset *s, uint64_t id)
{
	if (!s->n)
		return false;
	if (!s->sorted) {
		qsort(s->v, s->n, sizeof(*s->v), cmp_u64);
		s->sorted = true;
	}
	return bsearch(&id, s->v, s->n, sizeof(*s->v), cmp_u64) != NULL;
}

/* An exchange's time range on one connection. */
struct range {
	uint64_t conn, from, to;
};

/* Per connection with saved data: its last saved item, whether the writer
 * was told its role, its protocol and server port (for the tshark hint). */
struct cstate {
	uint64_t conn, last_seq;
	bool started;
};

struct sel {
	bool all;
	struct idset procs, conns, items;
	/* the processes (store_proc pointers) some of whose events are saved:
	 * their exec and exit events go too, so a replay of the file knows
	 * their command line and that they exited */
	struct idset meta;
	struct range *r;
	size_t n_r, cap_r;
	bool r_sorted;
	struct cstate *cs; /* indexed by store_conn.id */
	size_t n_cs, cap_cs;
	struct save_plan plan;
};

static void sel_free(struct sel *x)
{
	free(x->procs.v);
	free(x->conns.v);
	free(x->items.v);
	free(x->meta.v);
	free(x->r);
	free(x->cs);
}

static int cmp_range(const void *a, const void *b)
{
	const struct range *x = a, *y = b;

	if (x->conn != y->conn)
		return x->conn < y->conn ? -1 : 1;
	return x->from < y->from ? -1 : x->from > y->from;
}

static int add_range(struct sel *x, uint64_t conn, uint64_t from, uint64_t to)
{
	if (x->n_r == x->cap_r) {
		size_t cap = x->cap_r ? x->cap_r * 2 : 64;
		struct range *r = realloc(x->r, cap * sizeof(*r));

		if (!r)
			return -ENOMEM;
		x->r = r;
		x->cap_r = cap;
	}
	x->r[x->n_r++] = (struct range){conn, from, to < from ? from : to};
	x->r_sorted = false;
	return 0;
}

/* Whether time ts of connection conn is inside one of its exchanges. */
static bool in_range(struct sel *x, uint64_t conn, uint64_t ts)
{
	size_t lo = 0, hi;

	if (!x->n_r)
		return false;
	if (!x->r_sorted) {
		qsort(x->r, x->n_r, sizeof(*x->r), cmp_range);
		x->r_sorted = true;
	}
	/* the first range of conn whose start is after ts, then look back */
	hi = x->n_r;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		const struct range *m = &x->r[mid];

		if (m->conn < conn || (m->conn == conn && m->from <= ts))
			lo = mid + 1;
		else
			hi = mid;
	}
	while (lo > 0 && x->r[lo - 1].conn == conn) {
		lo--;
		if (x->r[lo].to >= ts)
			return true;
		/* ranges are short: a few back cover overlapping exchanges */
		if (ts - x->r[lo].from > 3600ull * 1000000000ull)
			break;
	}
	return false;
}

/* The state of connection conn (store ids are dense, from 1), NULL if none. */
static struct cstate *cs_find(struct sel *x, uint64_t conn)
{
	return conn < x->cap_cs && x->cs[conn].conn ? &x->cs[conn] : NULL;
}

/* Note seq as the latest saved item of conn (first pass, arrival order). */
static int cs_note(struct sel *x, uint64_t conn, uint64_t seq)
{
	if (conn >= x->cap_cs) {
		size_t cap = x->cap_cs ? x->cap_cs : 64;
		struct cstate *v;

		while (cap <= conn)
			cap *= 2;
		if (!(v = realloc(x->cs, cap * sizeof(*v))))
			return -ENOMEM;
		memset(v + x->cap_cs, 0, (cap - x->cap_cs) * sizeof(*v));
		x->cs = v;
		x->cap_cs = cap;
	}
	if (!x->cs[conn].conn) {
		x->cs[conn].conn = conn;
		x->n_cs++;
	}
	x->cs[conn].last_seq = seq;
	return 0;
}

size_t save_tag_count(const struct screen *s)
{
	return s->ps[PANEL_PROCS].tags.n + s->ps[PANEL_CONNS].tags.n + s->ps[PANEL_EVENTS].tags.n;
}

void save_clear_tags(struct screen *s)
{
	int p;

	for (p = PANEL_PROCS; p <= PANEL_EVENTS; p++)
		s->ps[p].tags.n = 0;
}

/* An events-panel row: its exchange (a record) or itself. */
static int take_item(struct sel *x, const struct store_item *it)
{
	if (it->type == STORE_I_RECORD && it->rec && it->conn) {
		uint64_t from = it->rec->req_ts_ns ? it->rec->req_ts_ns : it->ts_ns;
		uint64_t to = it->rec->resp_ts_ns ? it->rec->resp_ts_ns : from;

		x->plan.exchanges++;
		return add_range(x, it->conn->id, from, to);
	}
	return idset_add(&x->items, it->seq);
}

/* First pass: the sets. */
static int select_rows(struct screen *s, struct sel *x)
{
	struct store *st = s->st;
	const struct tag_set *tp = &s->ps[PANEL_PROCS].tags, *tc = &s->ps[PANEL_CONNS].tags,
			     *te = &s->ps[PANEL_EVENTS].tags;
	uint64_t seq;
	size_t i;
	int rc = 0;

	x->plan.tags = save_tag_count(s);
	if (x->plan.tags) {
		for (i = 0; i < tp->n && !rc; i++) {
			struct store_proc *p = store_proc_get(st, (uint32_t)tp->v[i]);

			if (p && store_proc_passes(st, p))
				rc = idset_add(&x->procs, p->pid);
			else
				x->plan.hidden_tags++;
		}
		for (i = 0; i < tc->n && !rc; i++) {
			struct store_conn *c = store_conn_get(st, tc->v[i]);

			if (c && store_conn_passes(st, c))
				rc = idset_add(&x->conns, c->id);
			else
				x->plan.hidden_tags++;
		}
		for (i = 0; i < te->n && !rc; i++) {
			struct store_item *it = store_item_get(st, te->v[i]);

			if (it && store_item_passes(st, it))
				rc = take_item(x, it);
			else
				x->plan.hidden_tags++;
		}
		return rc;
	}
	unsigned f = filter_fields(store_get_filter(st));

	if (!f) {
		x->all = true;
		return 0;
	}
	for (seq = store_first_seq(st); seq < store_next_seq(st) && !rc; seq++) {
		struct store_item *it = store_item_get(st, seq);

		if (!it)
			continue;
		if (f & (FILTER_F_REGEX | FILTER_F_STATUS)) {
			if (it->visible && store_item_passes(st, it))
				rc = take_item(x, it);
		} else if (f & (FILTER_F_PROTO | FILTER_F_PORT | FILTER_F_HOST)) {
			if (it->conn) {
				if (store_conn_passes(st, it->conn) &&
				    !idset_has(&x->conns, it->conn->id))
					rc = idset_add(&x->conns, it->conn->id);
			} else if (it->visible && store_item_passes(st, it)) {
				rc = idset_add(&x->items, it->seq);
			}
		} else if (store_proc_passes(st, it->proc) &&
			   !idset_has(&x->procs, it->proc->pid)) {
			rc = idset_add(&x->procs, it->proc->pid);
		}
	}
	return rc;
}

static bool wanted_row(struct sel *x, const struct store_item *it)
{
	if (!it->ev)
		return false;
	if (x->all || idset_has(&x->procs, it->proc->pid) || idset_has(&x->items, it->seq))
		return true;
	if (!it->conn || it->ev->h.kind != EC_K_DATA)
		return false;
	return idset_has(&x->conns, it->conn->id) || in_range(x, it->conn->id, it->ev->h.ts_ns);
}

static bool wanted(struct sel *x, const struct store_item *it)
{
	if (wanted_row(x, it))
		return true;
	return it->ev && (it->ev->h.kind == EC_K_EXEC || it->ev->h.kind == EC_K_EXIT) &&
	       idset_has(&x->meta, (uint64_t)(uintptr_t)it->proc);
}

/* The processes of the events the rows select (x->meta). */
static int meta_pass(struct screen *s, struct sel *x)
{
	const struct store_proc *last = NULL;
	uint64_t seq;
	int rc = 0;

	if (x->all)
		return 0;
	for (seq = store_first_seq(s->st); seq < store_next_seq(s->st) && !rc; seq++) {
		struct store_item *it = store_item_get(s->st, seq);

		/* consecutive items are mostly one process's: a duplicate costs a slot */
		if (it && it->proc != last && wanted_row(x, it)) {
			last = it->proc;
			rc = idset_add(&x->meta, (uint64_t)(uintptr_t)it->proc);
		}
	}
	return rc;
}

/* Second pass without a writer: counts, last items, and the decode hint. */
static int plan_pass(struct screen *s, struct sel *x)
{
	struct store *st = s->st;
	uint64_t seq, ports[16];
	size_t n_ports = 0, i, o = 0;
	int rc = 0;

	x->plan.decode[0] = '\0';
	for (seq = store_first_seq(st); seq < store_next_seq(st) && !rc; seq++) {
		struct store_item *it = store_item_get(st, seq);
		struct store_conn *c;

		if (!it || !wanted(x, it))
			continue;
		x->plan.events++;
		x->plan.bytes += it->ev->h.len;
		if (!(c = it->conn) || it->ev->h.kind != EC_K_DATA)
			continue;
		rc = cs_note(x, c->id, seq);
		/* the server's port and the protocol, once per pair */
		if (c->local_is_client < 0 || c->proto == DEC_P_UNKNOWN || c->proto == DEC_P_TLS)
			continue;
		uint16_t port = c->local_is_client ? c->rport : c->lport;
		uint64_t key = (uint64_t)c->proto << 16 | port;

		if (pcapng_tshark_default_port(c->proto, port))
			continue;
		for (i = 0; i < n_ports && ports[i] != key; i++)
			;
		if (i < n_ports || n_ports == sizeof(ports) / sizeof(ports[0]))
			continue;
		ports[n_ports++] = key;
		int k =
		    snprintf(x->plan.decode + o, sizeof(x->plan.decode) - o, "%s-d tcp.port==%u,%s",
			     o ? " " : "", port, dec_proto_name(c->proto));

		if (k < 0 || (size_t)k >= sizeof(x->plan.decode) - o) {
			x->plan.decode[o] = '\0';
			break;
		}
		o += (size_t)k;
	}
	x->plan.conns = x->n_cs;
	return rc;
}

static int build(struct screen *s, struct sel *x)
{
	memset(x, 0, sizeof(*x));
	int rc = select_rows(s, x);

	if (!rc)
		rc = meta_pass(s, x);
	return rc ? rc : plan_pass(s, x);
}

void save_plan(struct screen *s, struct save_plan *p)
{
	struct sel x;

	if (build(s, &x))
		memset(&x.plan, 0, sizeof(x.plan));
	*p = x.plan;
	sel_free(&x);
}

static void human(uint64_t b, char *buf, size_t len)
{
	if (b < 10 * 1024)
		snprintf(buf, len, "%" PRIu64 " B", b);
	else if (b < 10 * 1024 * 1024)
		snprintf(buf, len, "%" PRIu64 " KB", b / 1024);
	else
		snprintf(buf, len, "%" PRIu64 " MB", b / (1024 * 1024));
}

void save_describe(const struct save_plan *p, char *buf, size_t len)
{
	char b[32];
	int n;

	human(p->bytes, b, sizeof(b));
	n = snprintf(buf, len,
		     "%s%" PRIu64 " exchanges, %" PRIu64 " connections, %" PRIu64 " events, %s",
		     p->tags ? "tagged: " : "", p->exchanges, p->conns, p->events, b);
	if (p->hidden_tags && n > 0 && (size_t)n < len)
		snprintf(buf + n, len - (size_t)n,
			 " (%" PRIu64 " tagged hidden by the filter: left out)", p->hidden_tags);
}

int save_write(struct screen *s, const char *path_in, char *msg, size_t msglen)
{
	struct pcapng_meta meta = {0};
	struct pcapng_writer_stats ws;
	struct pcapng_writer *w;
	struct store_stats ss;
	struct sel x;
	char err[256], path[EDITOR_MAX], hint[1100];
	bool force = false;
	uint64_t seq;
	size_t n;
	int rc;

	snprintf(path, sizeof(path), "%s", path_in);
	n = strlen(path);
	/* "name!" overwrites an existing file, as in vi */
	if (n > 1 && path[n - 1] == '!') {
		path[n - 1] = '\0';
		force = true;
	}
	if ((rc = build(s, &x))) {
		snprintf(msg, msglen, "cannot save: %s", strerror(-rc));
		sel_free(&x);
		return rc;
	}
	store_get_stats(s->st, &ss);
	meta.filter = filter_text(store_get_filter(s->st));
	meta.events = s->es.events;
	meta.bytes = s->es.bytes;
	meta.lost = s->es.lost;
	meta.evicted = ss.evicted;
	meta.decode = x.plan.decode[0] ? x.plan.decode : NULL;
	w = pcapng_writer_open(path, &meta, force, err, sizeof(err));
	if (!w) {
		rc = -errno;
		if (errno == EEXIST)
			snprintf(msg, msglen,
				 "%s exists: w again, and end the name with ! to overwrite", path);
		else
			snprintf(msg, msglen, "cannot save: %s", err);
		sel_free(&x);
		return rc;
	}
	rc = 0;
	for (seq = store_first_seq(s->st); seq < store_next_seq(s->st) && !rc; seq++) {
		struct store_item *it = store_item_get(s->st, seq);
		struct cstate *cs;

		if (!it || !wanted(&x, it))
			continue;
		cs = it->conn && it->ev->h.kind == EC_K_DATA ? cs_find(&x, it->conn->id) : NULL;
		if (cs && !cs->started) {
			cs->started = true;
			if (it->conn->local_is_client >= 0)
				rc = pcapng_writer_set_role(w, &it->ev->h,
							    it->conn->local_is_client);
		}
		int e = rc ? rc : pcapng_write_event(w, it->ev);

		/* an event the file cannot represent is skipped (the writer said why) */
		if (e && e != -EINVAL && e != -EMSGSIZE)
			rc = e;
		if (!rc && cs && cs->last_seq == seq)
			rc = pcapng_write_close_conn(w, &it->ev->h);
	}
	if (pcapng_writer_close(w, &meta, &ws, err, sizeof(err))) {
		snprintf(msg, msglen, "saving %s failed: %s", path, err);
		sel_free(&x);
		return -EIO;
	}
	hint[0] = '\0';
	if (x.plan.decode[0])
		snprintf(hint, sizeof(hint), "; tshark %s", x.plan.decode);
	else if (ws.decode[0]) /* what the writer recognised itself, as its header says */
		snprintf(hint, sizeof(hint), "; tshark %s", ws.decode);
	snprintf(msg, msglen,
		 "saved %" PRIu64 " events, %" PRIu64 " connections, %" PRIu64 " bytes to %s%s",
		 ws.events, ws.connections, ws.file_bytes, path, hint);
	sel_free(&x);
	return 0;
}
