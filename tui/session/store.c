// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The session store: see store.h. */
#include "tui/session/store.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "decoders/stream.h"
#include "tui/session/exchanges.h"
#include "tui/session/map.h"
#include "tui/session/result_text.h"

/* A FIFO of item seqs with absolute indices: element a (base <= a < base + n)
 * stays at the same absolute index while older ones are popped, so cursors into
 * it survive eviction. */
struct store_seqlist {
	uint64_t *v;
	size_t head, n, cap;
	uint64_t base;
};

struct store {
	struct store_opts o;
	struct store_sink sink;
	bool has_sink;
	struct store_stats stats;

	struct map procs;    /* (pid, 0) */
	struct map conns;    /* (conn_id or fd key, pid) */
	struct map conn_ids; /* (id, 0) */
	uint64_t next_conn_id;
	/* every proc and conn in the tables, for views */
	struct store_proc **proc_v;
	size_t n_proc_v, cap_proc_v;
	struct store_conn **conn_v;
	size_t n_conn_v, cap_conn_v;
	uint64_t table_gen; /* bumped when a proc or conn goes away */
	uint64_t table_mod; /* bumped when one is added or changes */

	struct store_item **ring;
	size_t ring_cap; /* power of two */
	uint64_t first_seq, next_seq;

	struct filter *filter;
	uint64_t gen;		      /* filter generation, from 1 */
	uint64_t scan_seq;	      /* next item the filter scan examines */
	struct store_seqlist matches; /* visible items that passed, in order */
	uint64_t hit_mod;	 /* bumped when a proc/conn got its first hit of a generation */
	uint64_t resets;	 /* store_reset() calls: a view built before one has no rows */
	struct exch_table *exch; /* exchanges (tui/session/exchanges.h); NULL in batch mode */
	struct strbuf tmp;
};

uint64_t store_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---- seqlist ---- */

static struct store_seqlist *seqlist_new(void)
{
	return calloc(1, sizeof(struct store_seqlist));
}

static void seqlist_free(struct store_seqlist *l)
{
	if (l)
		free(l->v);
	free(l);
}

static int seqlist_push(struct store_seqlist *l, uint64_t seq)
{
	if (l->head + l->n == l->cap) {
		if (l->head >= l->cap / 2 && l->head) {
			memmove(l->v, l->v + l->head, l->n * sizeof(*l->v));
			l->head = 0;
		} else {
			size_t cap = l->cap ? l->cap * 2 : 8;
			uint64_t *v = realloc(l->v, cap * sizeof(*v));

			if (!v)
				return -ENOMEM;
			l->v = v;
			l->cap = cap;
		}
	}
	l->v[l->head + l->n++] = seq;
	return 0;
}

/* Pop every entry below seq (they were evicted). */
static void seqlist_trim(struct store_seqlist *l, uint64_t seq)
{
	while (l->n && l->v[l->head] < seq) {
		l->head++;
		l->n--;
		l->base++;
	}
	if (!l->n)
		l->head = 0;
}

static uint64_t seqlist_end(const struct store_seqlist *l)
{
	return l->base + l->n;
}

static uint64_t seqlist_at(const struct store_seqlist *l, uint64_t a)
{
	return l->v[l->head + (a - l->base)];
}

/* ---- pointer vectors of the tables ---- */

static int vec_push(void ***v, size_t *n, size_t *cap, void *p)
{
	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 64;
		void **nv = realloc(*v, c * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		*v = nv;
		*cap = c;
	}
	(*v)[(*n)++] = p;
	return 0;
}

static void vec_remove(void **v, size_t *n, void *p)
{
	size_t i;

	/* Removal is rare (a closed connection whose last item was evicted); a scan
	 * from the end finds recent ones first. */
	for (i = *n; i-- > 0;)
		if (v[i] == p) {
			v[i] = v[--*n];
			return;
		}
}

/* ---- store ---- */

/* What one exchange holds (struct store_exch, its strings, allocator headers). */
#define EXCH_BYTES 512

struct store *store_new(const struct store_opts *o)
{
	struct store *st = calloc(1, sizeof(*st));

	if (!st)
		return NULL;
	if (o)
		st->o = *o;
	else
		st->o.keep = true;
	if (!st->o.max_events)
		st->o.max_events = STORE_DEFAULT_MAX;
	if (!st->o.max_bytes)
		st->o.max_bytes = STORE_DEFAULT_MAX_BYTES;
	st->first_seq = st->next_seq = st->scan_seq = 1;
	st->next_conn_id = 1;
	st->gen = 1;
	st->matches.base = 1;
	if (st->o.keep) {
		/* The exchanges table is capped by count; under a byte budget its share is
		 * an eighth of it, at about EXCH_BYTES an exchange. */
		uint64_t xcap = st->o.max_events / 4;

		if (st->o.max_bytes / 8 / EXCH_BYTES < xcap)
			xcap = st->o.max_bytes / 8 / EXCH_BYTES;
		st->exch = exch_new(xcap ? xcap : 1);
		if (!st->exch) {
			free(st);
			return NULL;
		}
	}
	return st;
}

static void item_free(struct store_item *it)
{
	if (!it)
		return;
	free(it->ev);
	free(it->rec);
	free(it);
}

static void proc_free(struct store_proc *p)
{
	if (!p)
		return;
	free(p->cmdline);
	free(p->cgroup);
	seqlist_free(p->items);
	free(p);
}

static void conn_free(struct store_conn *c)
{
	if (!c)
		return;
	dec_stream_free(c->ds);
	seqlist_free(c->items);
	free(c);
}

/* Free every item, connection and process, and the tables that index them. */
static void store_drop(struct store *st)
{
	size_t i;

	for (uint64_t s = st->first_seq; s < st->next_seq; s++)
		item_free(st->ring[s & (st->ring_cap - 1)]);
	free(st->ring);
	for (i = 0; i < st->n_conn_v; i++)
		conn_free(st->conn_v[i]);
	for (i = 0; i < st->n_proc_v; i++)
		proc_free(st->proc_v[i]);
	free(st->conn_v);
	free(st->proc_v);
	free(st->procs.s);
	free(st->conns.s);
	free(st->conn_ids.s);
	free(st->matches.v);
}

void store_free(struct store *st)
{
	if (!st)
		return;
	store_drop(st);
	exch_free(st->exch);
	filter_free(st->filter);
	sb_free(&st->tmp);
	free(st);
}

void store_reset(struct store *st)
{
	uint64_t gen = st->gen, table_gen = st->table_gen, resets = st->resets;

	store_drop(st);
	exch_reset(st->exch);
	memset(&st->stats, 0, sizeof(st->stats));
	memset(&st->procs, 0, sizeof(st->procs));
	memset(&st->conns, 0, sizeof(st->conns));
	memset(&st->conn_ids, 0, sizeof(st->conn_ids));
	st->proc_v = NULL;
	st->conn_v = NULL;
	st->n_proc_v = st->cap_proc_v = st->n_conn_v = st->cap_conn_v = 0;
	st->ring = NULL;
	st->ring_cap = 0;
	/* Numbering starts again as in store_new(): rebuilt from the same events, an
	 * item gets its old seq and a connection its old id back, so the front end's
	 * selections, scopes and tags (kept as ids) find them again. */
	st->first_seq = st->next_seq = st->scan_seq = 1;
	st->next_conn_id = 1;
	memset(&st->matches, 0, sizeof(st->matches));
	st->matches.base = 1;
	/* The generations only grow, so every view sees the change and rebuilds. */
	st->gen = gen + 1;
	st->table_gen = table_gen + 1;
	st->table_mod++;
	st->hit_mod++;
	st->resets = resets + 1;
}

void store_set_sink(struct store *st, const struct store_sink *sink)
{
	if (sink) {
		st->sink = *sink;
		st->has_sink = true;
	} else {
		st->has_sink = false;
	}
}

void store_get_stats(const struct store *st, struct store_stats *out)
{
	*out = st->stats;
	out->stored = st->next_seq - st->first_seq;
	out->procs = st->n_proc_v;
	out->conns = st->n_conn_v;
}

struct store_proc *store_proc_get(struct store *st, uint32_t pid)
{
	return map_get(&st->procs, pid, 0);
}

struct store_conn *store_conn_get(struct store *st, uint64_t id)
{
	return map_get(&st->conn_ids, id, 0);
}

struct store_item *store_item_get(struct store *st, uint64_t seq)
{
	if (seq < st->first_seq || seq >= st->next_seq)
		return NULL;
	return st->ring[seq & (st->ring_cap - 1)];
}

uint64_t store_first_seq(const struct store *st)
{
	return st->first_seq;
}

uint64_t store_next_seq(const struct store *st)
{
	return st->next_seq;
}

/* Without a socket identity, one connection per thread of the process: the best
 * grouping left (a TLS library call on a thread serves one stream at a time in
 * the common blocking client). A TLS library's plaintext and the socket's own bytes
 * are two streams of one socket (MySQL and PostgreSQL start plain and switch to
 * TLS): the low bit, free in an aligned struct sock address, tells them apart. */
static uint64_t conn_key(uint64_t conn_id, uint32_t tid, uint32_t source)
{
	uint64_t tls = source != EC_S_SOCKET;

	return conn_id ? conn_id | tls : (1ull << 63) | (tls << 62) | tid;
}

/* Free a process once nothing refers to it and it is no longer current. */
static void proc_maybe_release(struct store *st, struct store_proc *p)
{
	if (p->n_items || p->n_conns_live || (p->in_map && !p->exited))
		return;
	/* An exited process leaves the table with its last item; without items kept
	 * (batch mode) at once. */
	if (p->in_map)
		map_del(&st->procs, p->pid, 0);
	vec_remove((void **)st->proc_v, &st->n_proc_v, p);
	st->table_gen++;
	proc_free(p);
}

static void conn_maybe_release(struct store *st, struct store_conn *c)
{
	struct store_proc *p = c->proc;
	struct store_conn **pp;

	if (c->n_items || !c->closed)
		return;
	if (c->in_map)
		map_del(&st->conns, conn_key(c->conn_id, c->tid, c->source), c->pid);
	map_del(&st->conn_ids, c->id, 0);
	vec_remove((void **)st->conn_v, &st->n_conn_v, c);
	for (pp = &p->conn_head; *pp; pp = &(*pp)->proc_next)
		if (*pp == c) {
			*pp = c->proc_next;
			break;
		}
	p->n_conns_live--;
	st->table_gen++;
	conn_free(c);
	proc_maybe_release(st, p);
}

static void evict_one(struct store *st)
{
	struct store_item *it = st->ring[st->first_seq & (st->ring_cap - 1)];
	uint64_t seq = st->first_seq++;
	struct store_proc *p;

	st->stats.evicted++;
	if (!it)
		return;
	st->stats.mem -= it->mem;
	p = it->proc;
	/* The connection goes first: releasing it checks its process, which this
	 * item still pins. */
	if (it->conn) {
		seqlist_trim(it->conn->items, seq + 1);
		it->conn->n_items--;
		conn_maybe_release(st, it->conn);
	}
	seqlist_trim(p->items, seq + 1);
	p->n_items--;
	item_free(it);
	proc_maybe_release(st, p);
}

/* What an item holds beyond its own copy: the item, its ring slot and its entries in
 * its process's and connection's lists, and the allocator's header of each block. */
#define ITEM_OVERHEAD (sizeof(struct store_item) + 3 * sizeof(uint64_t) + 2 * 16)

/* Make room for one more item in the ring, and for mem bytes in the budget. */
static int ring_reserve(struct store *st, uint64_t mem)
{
	size_t used = st->next_seq - st->first_seq;

	if (used >= st->o.max_events)
		evict_one(st);
	/* The byte budget (seven eighths of it; the exchanges have the rest): the
	 * oldest items go first, as with the cap. */
	while (st->next_seq > st->first_seq &&
	       st->stats.mem + mem > st->o.max_bytes - st->o.max_bytes / 8) {
		evict_one(st);
		st->stats.evicted_mem++;
	}
	used = st->next_seq - st->first_seq;
	if (used == st->ring_cap) {
		size_t cap = st->ring_cap ? st->ring_cap * 2 : 1024;
		struct store_item **r = malloc(cap * sizeof(*r));
		uint64_t s;

		if (!r)
			return -ENOMEM;
		for (s = st->first_seq; s < st->next_seq; s++)
			r[s & (cap - 1)] = st->ring[s & (st->ring_cap - 1)];
		free(st->ring);
		st->ring = r;
		st->ring_cap = cap;
	}
	return 0;
}

/* Append it to the ring and to its process's and connection's lists. 0, or
 * -ENOMEM with nothing changed (the caller still owns it). */
static int item_store(struct store *st, struct store_item *it)
{
	struct store_seqlist *pl = it->proc->items;

	it->mem += ITEM_OVERHEAD;
	if (ring_reserve(st, it->mem) || seqlist_push(pl, st->next_seq))
		return -ENOMEM;
	if (it->conn && seqlist_push(it->conn->items, st->next_seq)) {
		pl->n--; /* take back the push above */
		return -ENOMEM;
	}
	it->seq = st->next_seq++;
	st->ring[it->seq & (st->ring_cap - 1)] = it;
	st->stats.mem += it->mem;
	it->proc->n_items++;
	if (it->conn)
		it->conn->n_items++;
	return 0;
}

/* Is an EXEC (or fork) event of the process p, or of a new process that reuses its
 * pid? Its start time says (call_id; 0 where unknown). A process seeded from /proc
 * (EC_F_EXISTING) knows its start to a clock tick only: 20 ms of slack then. */
static bool proc_same_start(const struct store_proc *p, const struct ec_rec_hdr *h)
{
	uint64_t a = p->start_ns, b = h->call_id, d = a > b ? a - b : b - a;

	if (h->kind != EC_K_EXEC || !a || !b)
		return true;
	if (h->flags & EC_F_FORK)
		return false; /* a fork makes a new process, whatever came before */
	return d <= (p->start_coarse || (h->flags & EC_F_EXISTING) ? 20000000ull : 0);
}

static void proc_exit(struct store *st, struct store_proc *p, uint64_t ts);

static struct store_proc *proc_lookup(struct store *st, const struct ec_rec_hdr *h)
{
	struct store_proc *p = map_get(&st->procs, h->pid, 0);

	/* A fork's event may come after the child's first events (perf buffers are per
	 * CPU): a process not yet known to have started takes the fork's start. */
	if (p && !p->exited && !p->start_ns && h->kind == EC_K_EXEC && h->call_id)
		return p;
	if (p && !p->exited && !proc_same_start(p, h)) {
		/* The pid was reused and the old process's exit never came (lost, or
		 * out of order): it ended before the new one began. */
		p->n_items++;
		proc_exit(st, p, h->ts_ns);
		p->n_items--;
	}
	if (p && p->exited && h->kind != EC_K_EXIT) {
		/* The pid was reused by a new process: the old one keeps its items but
		 * leaves the map. */
		map_del(&st->procs, p->pid, 0);
		p->in_map = false;
		proc_maybe_release(st, p);
		p = NULL;
	}
	if (p)
		return p;
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->items = seqlist_new();
	if (!p->items || vec_push((void ***)&st->proc_v, &st->n_proc_v, &st->cap_proc_v, p)) {
		proc_free(p);
		return NULL;
	}
	if (map_put(&st->procs, h->pid, 0, p)) {
		st->n_proc_v--;
		proc_free(p);
		return NULL;
	}
	p->in_map = true;
	p->pid = h->pid;
	p->uid = h->uid;
	memcpy(p->comm, h->comm, EC_COMM_LEN);
	p->comm[EC_COMM_LEN - 1] = '\0';
	p->first_ns = h->ts_ns;
	st->table_mod++;
	return p;
}

static void conn_close(struct store *st, struct store_conn *c, uint64_t ts)
{
	if (c->closed)
		return;
	c->cur_ts = ts;
	if (c->ds)
		dec_stream_close(c->ds, ts);
	if (st->exch)
		exch_on_close(st->exch, c, ts);
	c->closed = true;
	if (c->in_map) {
		map_del(&st->conns, conn_key(c->conn_id, c->tid, c->source), c->pid);
		c->in_map = false;
	}
	dec_stream_free(c->ds);
	c->ds = NULL;
	st->table_mod++;
}

static void on_record(const struct dec_record *rec, void *arg);

static struct store_conn *conn_lookup(struct store *st, struct store_proc *p,
				      const struct ec_rec_hdr *h)
{
	uint64_t key = conn_key(h->conn_id, h->tid, h->source);
	struct store_conn *c = map_get(&st->conns, key, h->pid);

	/* The kernel reuses a socket's address for a new socket once the old one is
	 * freed; different endpoints under the same conn_id mean a new connection. */
	if (c && h->family != EC_AF_UNKNOWN &&
	    (c->family != h->family || c->lport != h->lport || c->rport != h->rport ||
	     memcmp(c->laddr, h->laddr, 16) || memcmp(c->raddr, h->raddr, 16))) {
		conn_close(st, c, h->ts_ns);
		conn_maybe_release(st, c);
		c = NULL;
	}
	if (c)
		return c;
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->st = st;
	c->items = seqlist_new();
	c->ds = dec_stream_new(on_record, c);
	/* HTTP/2 control frames are rows of the events panels (not printed in batch) */
	dec_stream_name_frames(c->ds, st->o.keep);
	if (!c->items || !c->ds ||
	    vec_push((void ***)&st->conn_v, &st->n_conn_v, &st->cap_conn_v, c)) {
		conn_free(c);
		return NULL;
	}
	c->id = st->next_conn_id++;
	if (map_put(&st->conns, key, h->pid, c) || map_put(&st->conn_ids, c->id, 0, c)) {
		map_del(&st->conns, key, h->pid);
		st->n_conn_v--;
		conn_free(c);
		return NULL;
	}
	c->in_map = true;
	c->conn_id = h->conn_id;
	c->pid = h->pid;
	c->tid = h->tid;
	c->uid = h->uid;
	memcpy(c->comm, h->comm, EC_COMM_LEN);
	c->comm[EC_COMM_LEN - 1] = '\0';
	c->source = h->source;
	c->family = h->family;
	c->lport = h->lport;
	c->rport = h->rport;
	memcpy(c->laddr, h->laddr, 16);
	memcpy(c->raddr, h->raddr, 16);
	ec_addr_str(c->family, c->laddr, c->laddr_str, sizeof(c->laddr_str));
	ec_addr_str(c->family, c->raddr, c->raddr_str, sizeof(c->raddr_str));
	c->local_is_client = -1;
	/* ports tell the roles apart where the bytes do not (TLS, unknown protocols) */
	if (h->family != EC_AF_UNKNOWN)
		dec_stream_set_port_hint(c->ds, c->lport, c->rport);
	c->first_ns = h->ts_ns;
	c->proc = p;
	c->proc_next = p->conn_head;
	p->conn_head = c;
	p->n_conns_live++;
	p->conns++;
	st->table_mod++;
	return c;
}

/* Deep copy of a record into one block: the struct, then every string and body. */
struct rcopy {
	char *buf; /* NULL: measuring */
	size_t off;
};

static const void *rc_bytes(struct rcopy *rc, const void *src, size_t len, bool nul)
{
	size_t start = rc->off;

	if (!src)
		return NULL;
	rc->off += len + (nul ? 1 : 0);
	if (!rc->buf)
		return src;
	memcpy(rc->buf + start, src, len);
	if (nul)
		rc->buf[start + len] = '\0';
	return rc->buf + start;
}

static const char *rc_str(struct rcopy *rc, const char *s)
{
	return s ? rc_bytes(rc, s, strlen(s), true) : NULL;
}

static const struct dec_header *rc_headers(struct rcopy *rc, const struct dec_header *h, size_t n)
{
	struct dec_header *out;
	size_t i;

	if (!h || !n)
		return NULL;
	/* align the array */
	rc->off = (rc->off + 7) & ~(size_t)7;
	out = rc->buf ? (struct dec_header *)(rc->buf + rc->off) : NULL;
	rc->off += n * sizeof(*h);
	for (i = 0; i < n; i++) {
		const char *name = rc_str(rc, h[i].name), *value = rc_str(rc, h[i].value);

		if (out) {
			out[i].name = name;
			out[i].value = value;
		}
	}
	return out ? out : h;
}

static void rc_fill(struct rcopy *rc, struct dec_record *d, const struct dec_record *s)
{
	*d = *s;
	switch (s->type) {
	case DEC_R_HTTP:
		d->http.version = rc_str(rc, s->http.version);
		d->http.method = rc_str(rc, s->http.method);
		d->http.path = rc_str(rc, s->http.path);
		d->http.host = rc_str(rc, s->http.host);
		d->http.reason = rc_str(rc, s->http.reason);
		d->http.req_headers = rc_headers(rc, s->http.req_headers, s->http.n_req_headers);
		d->http.resp_headers = rc_headers(rc, s->http.resp_headers, s->http.n_resp_headers);
		d->http.req_body = rc_bytes(rc, s->http.req_body, s->http.req_body_len, false);
		d->http.resp_body = rc_bytes(rc, s->http.resp_body, s->http.resp_body_len, false);
		break;
	case DEC_R_MYSQL:
		d->mysql.command = rc_str(rc, s->mysql.command);
		d->mysql.query = rc_str(rc, s->mysql.query);
		d->mysql.error = rc_str(rc, s->mysql.error);
		d->mysql.sqlstate = rc_str(rc, s->mysql.sqlstate);
		d->mysql.user = rc_str(rc, s->mysql.user);
		d->mysql.database = rc_str(rc, s->mysql.database);
		d->mysql.result = rc_str(rc, s->mysql.result);
		break;
	case DEC_R_PGSQL:
		d->pgsql.query = rc_str(rc, s->pgsql.query);
		d->pgsql.tag = rc_str(rc, s->pgsql.tag);
		d->pgsql.error = rc_str(rc, s->pgsql.error);
		d->pgsql.sqlstate = rc_str(rc, s->pgsql.sqlstate);
		d->pgsql.user = rc_str(rc, s->pgsql.user);
		d->pgsql.database = rc_str(rc, s->pgsql.database);
		d->pgsql.result = rc_str(rc, s->pgsql.result);
		break;
	case DEC_R_NOTE:
		d->note.text = rc_str(rc, s->note.text);
		break;
	case DEC_R_FRAMES:
		d->frames.text = rc_str(rc, s->frames.text);
		break;
	}
}

static struct dec_record *record_copy(const struct dec_record *s, uint32_t *size)
{
	struct rcopy rc = {NULL, sizeof(struct dec_record)};
	struct dec_record tmp, *d;

	rc_fill(&rc, &tmp, s);
	d = malloc(rc.off);
	if (!d)
		return NULL;
	*size = (uint32_t)rc.off;
	rc.buf = (char *)d;
	rc.off = sizeof(*d);
	rc_fill(&rc, d, s);
	return d;
}

static void on_record(const struct dec_record *rec, void *arg)
{
	struct store_conn *c = arg;
	struct store *st = c->st;
	struct store_item *it;

	st->stats.records++;
	if (rec->type != DEC_R_NOTE && rec->type != DEC_R_FRAMES)
		c->requests++;
	if (rec->type == DEC_R_HTTP && rec->http.host && !c->host[0])
		snprintf(c->host, sizeof(c->host), "%s", rec->http.host);
	c->events++;
	c->proc->events++;
	if (c->ds) {
		c->proto = dec_stream_proto(c->ds);
		c->local_is_client = dec_stream_local_is_client(c->ds);
	}
	if (st->has_sink && st->sink.record)
		st->sink.record(rec, c, st->sink.arg);
	if (!st->o.keep)
		return;
	it = calloc(1, sizeof(*it));
	if (!it || !(it->rec = record_copy(rec, &it->mem))) {
		free(it);
		st->stats.alloc_failed++;
		return;
	}
	it->type = STORE_I_RECORD;
	it->ts_ns = rec->req_ts_ns ? rec->req_ts_ns : rec->resp_ts_ns ? rec->resp_ts_ns : c->cur_ts;
	it->proto = (uint8_t)rec->proto;
	it->visible = true;
	it->proc = c->proc;
	it->conn = c;
	if (item_store(st, it)) {
		st->stats.alloc_failed++;
		item_free(it);
		return;
	}
	if (st->exch)
		exch_on_record(st->exch, c, rec, it->seq);
}

/* "a\0b\0c\0" -> "a b c" */
static char *cmdline_join(const uint8_t *d, size_t len)
{
	char *s = malloc(len + 1);
	size_t i;

	if (!s)
		return NULL;
	for (i = 0; i < len; i++)
		s[i] = d[i] ? (char)d[i] : ' ';
	while (len && s[len - 1] == ' ')
		len--;
	s[len] = '\0';
	return s;
}

/* The process exited at ts: its connections close. The caller pins p. */
static void proc_exit(struct store *st, struct store_proc *p, uint64_t ts)
{
	struct store_conn *x, *next;

	p->exited = true;
	/* Closing flushes records, which may evict items and so release
	 * other closed connections of this process: pin the next one. */
	x = p->conn_head;
	if (x)
		x->n_items++;
	for (; x; x = next) {
		next = x->proc_next;
		if (next)
			next->n_items++;
		conn_close(st, x, ts);
		x->n_items--;
		conn_maybe_release(st, x);
	}
}

/* An EXEC event (bpf/events.h): a new program, or with EC_F_FORK a new process that
 * runs its parent's; both may name the process's start and cgroup. */
static void proc_exec(struct store *st, struct store_proc *p, const struct ec_event *ev)
{
	const struct ec_rec_hdr *h = &ev->h;
	uint32_t cg = h->rport <= h->len ? h->rport : 0, n = h->len - cg;
	struct store_proc *parent = h->aux != h->pid ? map_get(&st->procs, h->aux, 0) : NULL;

	if (h->flags & EC_F_MOVED) {
		/* Another cgroup, the same program. */
		if (h->call_id && !p->start_ns)
			p->start_ns = h->call_id;
		free(p->cgroup);
		p->cgroup = cg ? strndup((const char *)ev->data + n, cg) : NULL;
		return;
	}
	p->ppid = h->aux; /* EXEC: the parent's tgid */
	p->uid = h->uid;
	memcpy(p->comm, h->comm, EC_COMM_LEN);
	p->comm[EC_COMM_LEN - 1] = '\0';
	if (h->call_id && !p->start_ns) {
		p->start_ns = h->call_id;
		p->start_coarse = h->flags & EC_F_EXISTING;
	}
	free(p->cmdline);
	p->cmdline = NULL;
	p->forked = h->flags & EC_F_FORK;
	if (!p->forked)
		p->cmdline = cmdline_join(ev->data, n);
	else if (parent && parent->cmdline)
		p->cmdline = strdup(parent->cmdline);
	if (cg) {
		free(p->cgroup);
		p->cgroup = strndup((const char *)ev->data + n, cg);
	} else if (p->forked && parent && parent->cgroup && !p->cgroup) {
		p->cgroup = strdup(parent->cgroup);
	}
}

static bool proto_decoded(enum dec_proto p)
{
	return p == DEC_P_HTTP1 || p == DEC_P_HTTP2 || p == DEC_P_MYSQL || p == DEC_P_PGSQL;
}

void store_add(struct store *st, struct ec_event *ev)
{
	const struct ec_rec_hdr *h = &ev->h;
	struct store_proc *p;
	struct store_conn *c = NULL;
	struct store_item *it = NULL;
	bool owned = false;

	/* A replay's restart marker is for the front end (which resets the store);
	 * it belongs to no process. */
	if (h->kind == EC_K_RESET) {
		free(ev);
		return;
	}
	st->stats.added++;
	p = proc_lookup(st, h);
	if (!p) {
		st->stats.alloc_failed++;
		free(ev);
		return;
	}
	/* Pin the process while this event is handled: closing its connections on
	 * exit (or batch mode keeping nothing) must not free it under us. */
	p->n_items++;
	if (h->ts_ns > p->last_ns)
		p->last_ns = h->ts_ns;
	p->events++;
	switch (h->kind) {
	case EC_K_DATA:
		c = conn_lookup(st, p, h);
		if (!c) {
			st->stats.alloc_failed++;
			goto out;
		}
		if (h->dir == EC_DIR_SEND) {
			c->bytes_sent += h->len;
			p->bytes_sent += h->len;
		} else {
			c->bytes_recv += h->len;
			p->bytes_recv += h->len;
		}
		st->stats.bytes += h->len;
		c->events++;
		if (h->ts_ns > c->last_ns)
			c->last_ns = h->ts_ns;
		break;
	case EC_K_COMMAND:
	case EC_K_QUERY:
		p->commands++;
		break;
	case EC_K_EXEC:
		proc_exec(st, p, ev);
		break;
	default:
		break;
	}
	st->table_mod++;
	if (st->has_sink && st->sink.event)
		st->sink.event(ev, c, st->sink.arg);
	/* The event is stored before its bytes are decoded, so a record follows the
	 * data it came from. */
	if (st->o.keep) {
		it = calloc(1, sizeof(*it));
		if (it) {
			it->type = STORE_I_EVENT;
			it->ts_ns = h->ts_ns;
			it->ev = ev;
			it->mem = (uint32_t)(sizeof(*ev) + h->len);
			it->proc = p;
			it->conn = c;
			it->visible = h->kind != EC_K_EXIT;
			if (item_store(st, it)) {
				free(it);
				it = NULL;
			} else {
				owned = true;
			}
		}
		if (!it)
			st->stats.alloc_failed++;
	}
	if (c && c->ds) {
		c->cur_ts = h->ts_ns;
		/* A replayed foreign capture lost bytes before this event (size unknown). */
		if (h->flags & EC_F_GAP)
			dec_stream_gap(c->ds, h->dir == EC_DIR_SEND, 1);
		if (h->len)
			dec_stream_feed(c->ds, h->dir == EC_DIR_SEND, ev->data, h->len, h->ts_ns);
		/* The call carried more bytes than were sent (h.aux of them, unreadable
		 * or past the per-call limit): tell the decoder the stream has a hole
		 * so it resynchronises instead of misparsing. A flag without a count
		 * still means a hole of unknown size. */
		if (h->aux || (h->flags & EC_F_TRUNCATED))
			dec_stream_gap(c->ds, h->dir == EC_DIR_SEND, h->aux ? h->aux : 1);
		c->proto = dec_stream_proto(c->ds);
		c->local_is_client = dec_stream_local_is_client(c->ds);
		if (it) {
			/* Raw data is a row of its own only where no decoder speaks
			 * for it. */
			it->visible = !proto_decoded(c->proto);
			it->proto = (uint8_t)c->proto;
		}
		if (st->exch)
			exch_on_data(st->exch, c, ev, it ? it->seq : 0);
	}
	if (h->kind == EC_K_COMMAND && st->exch)
		exch_on_command(st->exch, p, ev, it ? it->seq : 0);
	if (h->kind == EC_K_EXIT) {
		proc_exit(st, p, h->ts_ns);
		c = NULL;
	}
	if (c)
		conn_maybe_release(st, c);
out:
	if (!owned)
		free(ev);
	p->n_items--;
	proc_maybe_release(st, p);
}

void store_close_all(struct store *st, uint64_t ts_ns)
{
	bool again = true;
	size_t i;

	/* Closing flushes records, which may evict items and release other closed
	 * connections, moving entries of conn_v: repeat until a pass finds every
	 * connection closed. */
	while (again) {
		again = false;
		for (i = 0; i < st->n_conn_v; i++) {
			struct store_conn *c = st->conn_v[i];

			if (c->closed)
				continue;
			c->n_items++;
			conn_close(st, c, ts_ns);
			c->n_items--;
			again = true;
		}
	}
	/* Releasing swaps the last entry into i, which this backward walk has seen. */
	for (i = st->n_conn_v; i-- > 0;)
		if (i < st->n_conn_v)
			conn_maybe_release(st, st->conn_v[i]);
}

/* ---- filtering ---- */

/* Fields a connection (a process) can be judged by without looking at items. */
#define CONN_FIELDS                                                                                \
	(FILTER_F_PID | FILTER_F_UID | FILTER_F_COMM | FILTER_F_PROTO | FILTER_F_PORT |            \
	 FILTER_F_HOST | FILTER_F_CGROUP)
#define PROC_FIELDS (FILTER_F_PID | FILTER_F_UID | FILTER_F_COMM | FILTER_F_CGROUP)

uint32_t store_proto_bits(enum dec_proto p)
{
	switch (p) {
	case DEC_P_HTTP1:
		return FILTER_P_HTTP;
	case DEC_P_HTTP2:
		return FILTER_P_HTTP2;
	case DEC_P_MYSQL:
		return FILTER_P_MYSQL;
	case DEC_P_PGSQL:
		return FILTER_P_PGSQL;
	default:
		return 0;
	}
}

uint32_t store_source_bits(uint32_t source)
{
	switch (source) {
	case EC_S_OPENSSL:
	case EC_S_GNUTLS:
	case EC_S_NSS:
	case EC_S_GOTLS:
		return FILTER_P_TLS;
	case EC_S_SOCKET:
		return FILTER_P_SOCKET;
	case EC_S_BASH:
		return FILTER_P_BASH;
	case EC_S_ZSH:
		return FILTER_P_ZSH;
	case EC_S_MYSQLD:
		return FILTER_P_MYSQL;
	case EC_S_POSTGRES:
		return FILTER_P_PGSQL;
	}
	return 0;
}

static void subject_proc(struct filter_subject *s, const struct store_proc *p)
{
	memset(s, 0, sizeof(*s));
	s->has_pid = s->has_uid = true;
	s->pid = p->pid;
	s->uid = p->uid;
	s->comm = p->comm;
	s->cgroup = p->cgroup;
}

static void subject_conn(struct filter_subject *s, const struct store_conn *c)
{
	subject_proc(s, c->proc);
	s->protos = store_proto_bits(c->proto) | store_source_bits(c->source);
	s->ports[0] = c->lport;
	s->ports[1] = c->rport;
	s->n_ports = 2;
	s->hosts[s->n_hosts++] = c->laddr_str;
	s->hosts[s->n_hosts++] = c->raddr_str;
	if (c->host[0])
		s->hosts[s->n_hosts++] = c->host;
}

static void subject_item(struct store *st, struct filter_subject *s, const struct store_item *it)
{
	if (it->conn)
		subject_conn(s, it->conn);
	else
		subject_proc(s, it->proc);
	s->protos |= store_proto_bits(it->proto);
	if (it->ev)
		s->protos |= store_source_bits(it->ev->h.source);
	if (it->rec && it->rec->type == DEC_R_HTTP) {
		s->status = it->rec->http.status;
		if (it->rec->http.host && s->n_hosts < FILTER_MAX_HOSTS)
			s->hosts[s->n_hosts++] = it->rec->http.host;
	}
	if (!(filter_fields(st->filter) & FILTER_F_REGEX))
		return;
	if (it->ev && (it->ev->h.kind == EC_K_DATA || it->ev->h.kind == EC_K_COMMAND ||
		       it->ev->h.kind == EC_K_QUERY)) {
		s->text[0].p = it->ev->data;
		s->text[0].len = it->ev->h.len;
		s->n_text = 1;
		return;
	}
	sb_reset(&st->tmp);
	store_item_text(it, &st->tmp);
	if (!st->tmp.failed) {
		s->text[0].p = st->tmp.buf ? st->tmp.buf : "";
		s->text[0].len = st->tmp.len;
		s->n_text = 1;
	}
}

bool store_item_passes(struct store *st, const struct store_item *it)
{
	struct filter_subject s;

	if (!st->filter)
		return true;
	subject_item(st, &s, it);
	return filter_match(st->filter, &s);
}

bool store_conn_passes(struct store *st, struct store_conn *c)
{
	struct filter_subject s;

	if (!st->filter)
		return true;
	if (filter_fields(st->filter) & ~CONN_FIELDS)
		return c->hit_gen == st->gen;
	subject_conn(&s, c);
	return filter_match(st->filter, &s);
}

bool store_proc_passes(struct store *st, struct store_proc *p)
{
	struct filter_subject s;
	struct store_conn *c;
	unsigned f;

	if (!st->filter)
		return true;
	f = filter_fields(st->filter);
	if (!(f & ~PROC_FIELDS)) {
		subject_proc(&s, p);
		return filter_match(st->filter, &s);
	}
	if (p->hit_gen == st->gen)
		return true;
	if (f & ~CONN_FIELDS)
		return false;
	for (c = p->conn_head; c; c = c->proc_next)
		if (store_conn_passes(st, c))
			return true;
	return false;
}

void store_set_filter(struct store *st, struct filter *f)
{
	filter_free(st->filter);
	st->filter = f;
	st->gen++;
	st->scan_seq = st->first_seq;
	st->matches.base += st->matches.n;
	st->matches.n = st->matches.head = 0;
}

const struct filter *store_get_filter(const struct store *st)
{
	return st->filter;
}

bool store_update(struct store *st, uint64_t budget_ns)
{
	uint64_t deadline = store_now_ns() + budget_ns;
	unsigned k = 0;

	seqlist_trim(&st->matches, st->first_seq);
	if (st->scan_seq < st->first_seq)
		st->scan_seq = st->first_seq;
	while (st->scan_seq < st->next_seq) {
		struct store_item *it = st->ring[st->scan_seq & (st->ring_cap - 1)];

		if (++k % 256 == 0 && store_now_ns() > deadline)
			return false;
		if (store_item_passes(st, it)) {
			if (it->proc->hit_gen != st->gen) {
				it->proc->hit_gen = st->gen;
				st->hit_mod++;
			}
			if (it->conn && it->conn->hit_gen != st->gen) {
				it->conn->hit_gen = st->gen;
				st->hit_mod++;
			}
			if (it->visible && seqlist_push(&st->matches, it->seq)) {
				st->stats.alloc_failed++;
				return false; /* retry this item next time */
			}
		}
		st->scan_seq++;
	}
	return true;
}

void store_filter_progress(const struct store *st, uint64_t *done, uint64_t *total)
{
	uint64_t scan = st->scan_seq < st->first_seq ? st->first_seq : st->scan_seq;

	*done = scan - st->first_seq;
	*total = st->next_seq - st->first_seq;
}

/* ---- item text ---- */

static void text_headers(struct strbuf *sb, const struct dec_header *h, size_t n)
{
	size_t i;

	for (i = 0; h && i < n; i++)
		sb_printf(sb, "%s: %s\n", h[i].name ? h[i].name : "", h[i].value ? h[i].value : "");
}

void store_item_text(const struct store_item *it, struct strbuf *sb)
{
	const struct dec_record *r = it->rec;
	size_t i;

	if (it->ev) {
		const struct ec_event *ev = it->ev;

		if (ev->h.kind == EC_K_EXEC) {
			/* The command line; the cgroup path after it is not text of it. */
			for (i = 0; i + (ev->h.rport <= ev->h.len ? ev->h.rport : 0) < ev->h.len;
			     i++)
				sb_append(sb, ev->data[i] ? (const char *)&ev->data[i] : " ", 1);
		} else if (ev->h.kind == EC_K_EXIT) {
			sb_puts(sb, "exit");
		} else {
			sb_append(sb, ev->data, ev->h.len);
		}
		return;
	}
	if (!r)
		return;
	switch (r->type) {
	case DEC_R_HTTP:
		if (r->http.method)
			sb_printf(sb, "%s %s HTTP/%s\n", r->http.method,
				  r->http.path ? r->http.path : "",
				  r->http.version ? r->http.version : "");
		text_headers(sb, r->http.req_headers, r->http.n_req_headers);
		if (r->http.req_body_len) {
			sb_puts(sb, "\n");
			sb_append(sb, r->http.req_body, r->http.req_body_len);
			if (r->http.req_body_truncated)
				sb_puts(sb, "\n[body truncated]");
			sb_puts(sb, "\n");
		}
		if (r->http.status) {
			sb_printf(sb, "\nHTTP/%s %d %s\n",
				  r->http.resp_version[0] ? r->http.resp_version
				  : r->http.version	  ? r->http.version
							  : "",
				  r->http.status, r->http.reason ? r->http.reason : "");
			text_headers(sb, r->http.resp_headers, r->http.n_resp_headers);
			if (r->http.resp_body_len) {
				sb_puts(sb, "\n");
				sb_append(sb, r->http.resp_body, r->http.resp_body_len);
				if (r->http.resp_body_truncated)
					sb_puts(sb, "\n[body truncated]");
			}
		}
		break;
	case DEC_R_MYSQL:
		sb_printf(sb, "%s\n", r->mysql.command ? r->mysql.command : "");
		if (r->mysql.query)
			sb_printf(sb, "%s\n", r->mysql.query);
		if (r->mysql.error)
			sb_printf(sb, "\nerror %d: %s\n", r->mysql.error_code, r->mysql.error);
		if (r->mysql.rows >= 0)
			sb_printf(sb, "\nrows: %lld\n", (long long)r->mysql.rows);
		if (r->mysql.columns >= 0)
			sb_printf(sb, "columns: %lld\n", (long long)r->mysql.columns);
		result_text_table(sb, r->mysql.result, r->mysql.rows);
		if (r->mysql.user)
			sb_printf(sb, "user: %s\n", r->mysql.user);
		if (r->mysql.database)
			sb_printf(sb, "database: %s\n", r->mysql.database);
		break;
	case DEC_R_PGSQL:
		if (r->pgsql.query)
			sb_printf(sb, "%s\n", r->pgsql.query);
		if (r->pgsql.tag)
			sb_printf(sb, "\n%s\n", r->pgsql.tag);
		if (r->pgsql.rows >= 0)
			sb_printf(sb, "rows: %lld\n", (long long)r->pgsql.rows);
		result_text_table(sb, r->pgsql.result, r->pgsql.rows);
		if (r->pgsql.error)
			sb_printf(sb, "\nerror %s: %s\n",
				  r->pgsql.sqlstate ? r->pgsql.sqlstate : "", r->pgsql.error);
		if (r->pgsql.user)
			sb_printf(sb, "user: %s\n", r->pgsql.user);
		if (r->pgsql.database)
			sb_printf(sb, "database: %s\n", r->pgsql.database);
		break;
	case DEC_R_NOTE:
		sb_puts(sb, r->note.text ? r->note.text : "");
		break;
	case DEC_R_FRAMES:
		sb_printf(sb, "HTTP/2 control frames sent by the %s (%u):\n%s\n",
			  r->frames.dir == DEC_DIR_REQ ? "client" : "server", r->frames.count,
			  r->frames.text ? r->frames.text : "");
		break;
	}
}

void store_item_bytes(const struct store_item *it, struct strbuf *sb)
{
	const struct dec_record *r = it->rec;

	if (it->ev) {
		sb_append(sb, it->ev->data, it->ev->h.len);
		return;
	}
	if (!r)
		return;
	if (r->type == DEC_R_HTTP) {
		if (r->http.req_body)
			sb_append(sb, r->http.req_body, r->http.req_body_len);
		if (r->http.resp_body)
			sb_append(sb, r->http.resp_body, r->http.resp_body_len);
	} else if (r->type == DEC_R_MYSQL && r->mysql.query) {
		sb_puts(sb, r->mysql.query);
	} else if (r->type == DEC_R_PGSQL && r->pgsql.query) {
		sb_puts(sb, r->pgsql.query);
	} else if (r->type == DEC_R_NOTE && r->note.text) {
		sb_puts(sb, r->note.text);
	} else if (r->type == DEC_R_FRAMES && r->frames.text) {
		sb_puts(sb, r->frames.text);
	}
}

/* ---- views ---- */

static const char *const col_names[STORE_COL_MAX] = {
    [STORE_COL_PID] = "pid",	   [STORE_COL_USER] = "user",	  [STORE_COL_COMM] = "comm",
    [STORE_COL_CONNS] = "conns",   [STORE_COL_RECV] = "recv",	  [STORE_COL_SENT] = "sent",
    [STORE_COL_EVENTS] = "events", [STORE_COL_LAST] = "last",	  [STORE_COL_PROTO] = "proto",
    [STORE_COL_LOCAL] = "local",   [STORE_COL_REMOTE] = "remote", [STORE_COL_REQUESTS] = "requests",
    [STORE_COL_TIME] = "time",	   [STORE_COL_SIZE] = "size",
};

const char *store_col_name(enum store_col c)
{
	return c < STORE_COL_MAX ? col_names[c] : "?";
}

static const enum store_col proc_cols[] = {
    STORE_COL_PID,  STORE_COL_USER, STORE_COL_COMM,   STORE_COL_CONNS,
    STORE_COL_RECV, STORE_COL_SENT, STORE_COL_EVENTS, STORE_COL_LAST,
};
static const enum store_col conn_cols[] = {
    STORE_COL_PROTO, STORE_COL_LOCAL, STORE_COL_REMOTE,	  STORE_COL_PID,  STORE_COL_COMM,
    STORE_COL_SENT,  STORE_COL_RECV,  STORE_COL_REQUESTS, STORE_COL_LAST,
};
static const enum store_col event_cols[] = {
    STORE_COL_TIME, STORE_COL_PID, STORE_COL_COMM, STORE_COL_PROTO, STORE_COL_SIZE,
};

size_t store_view_cols(enum store_view_kind kind, const enum store_col **cols)
{
	switch (kind) {
	case STORE_V_PROCS:
		*cols = proc_cols;
		return sizeof(proc_cols) / sizeof(proc_cols[0]);
	case STORE_V_CONNS:
		*cols = conn_cols;
		return sizeof(conn_cols) / sizeof(conn_cols[0]);
	case STORE_V_EVENTS:
		*cols = event_cols;
		return sizeof(event_cols) / sizeof(event_cols[0]);
	}
	*cols = NULL;
	return 0;
}

struct store_view {
	struct store *st;
	enum store_view_kind kind;
	uint32_t pid;
	uint64_t conn;
	enum store_col col;
	bool desc;
	bool stale;
	uint64_t gen;
	/* procs, conns: pointers, rebuilt */
	void **rows;
	size_t n, cap;
	uint64_t built_ns, built_table_gen, built_mod, built_hit;
	/* events: item seqs sorted ascending by the column (desc maps indices) */
	uint64_t *seqs;
	size_t n_seqs, cap_seqs;
	uint64_t *pend;
	size_t n_pend, cap_pend;
	const struct store_seqlist *src;
	uint64_t cursor;
	uint64_t min_seq;
	uint64_t resets; /* the store's resets when the rows were built */
	bool show_idle;	 /* idle processes, exec rows */
	size_t hidden;	 /* rows hidden for being idle (or execs) */
};

struct store_view *store_view_new(struct store *st, enum store_view_kind kind)
{
	struct store_view *v = calloc(1, sizeof(*v));

	if (!v)
		return NULL;
	v->st = st;
	v->kind = kind;
	v->stale = true;
	v->resets = st->resets;
	if (kind == STORE_V_EVENTS) {
		v->col = STORE_COL_TIME;
	} else {
		v->col = STORE_COL_LAST;
		v->desc = true;
	}
	return v;
}

void store_view_free(struct store_view *v)
{
	if (!v)
		return;
	free(v->rows);
	free(v->seqs);
	free(v->pend);
	free(v);
}

void store_view_scope(struct store_view *v, uint32_t pid, uint64_t conn)
{
	if (v->pid != pid || v->conn != conn)
		v->stale = true;
	v->pid = pid;
	v->conn = conn;
}

void store_view_sort(struct store_view *v, enum store_col col, bool desc)
{
	if (v->col != col)
		v->stale = true;
	if (v->desc != desc && v->kind != STORE_V_EVENTS)
		v->stale = true; /* events map indices instead */
	v->col = col;
	v->desc = desc;
}

enum store_col store_view_sort_col(const struct store_view *v)
{
	return v->col;
}

bool store_view_sort_desc(const struct store_view *v)
{
	return v->desc;
}

void store_view_refresh(struct store_view *v)
{
	v->built_ns = 0;
	v->built_mod = UINT64_MAX;
}

#define CMP(a, b) ((a) < (b) ? -1 : (a) > (b) ? 1 : 0)

static int cmp_proc(const void *x, const void *y, void *arg)
{
	const struct store_proc *a = *(struct store_proc *const *)x;
	const struct store_proc *b = *(struct store_proc *const *)y;
	const struct store_view *v = arg;
	int r = 0;

	switch (v->col) {
	case STORE_COL_USER:
		r = CMP(a->uid, b->uid);
		break;
	case STORE_COL_COMM:
		r = strcmp(a->comm, b->comm);
		break;
	case STORE_COL_CONNS:
		r = CMP(a->conns, b->conns);
		break;
	case STORE_COL_RECV:
		r = CMP(a->bytes_recv, b->bytes_recv);
		break;
	case STORE_COL_SENT:
		r = CMP(a->bytes_sent, b->bytes_sent);
		break;
	case STORE_COL_EVENTS:
		r = CMP(a->events, b->events);
		break;
	case STORE_COL_LAST:
		r = CMP(a->last_ns, b->last_ns);
		break;
	default:
		break;
	}
	if (!r)
		r = CMP(a->pid, b->pid);
	if (!r)
		r = CMP(a->first_ns, b->first_ns);
	return v->desc ? -r : r;
}

static int addr_cmp(uint8_t fa, const uint8_t *a, uint16_t pa, uint8_t fb, const uint8_t *b,
		    uint16_t pb)
{
	int r = CMP(fa, fb);

	if (!r)
		r = memcmp(a, b, 16);
	if (!r)
		r = CMP(pa, pb);
	return r;
}

static int cmp_conn(const void *x, const void *y, void *arg)
{
	const struct store_conn *a = *(struct store_conn *const *)x;
	const struct store_conn *b = *(struct store_conn *const *)y;
	const struct store_view *v = arg;
	int r = 0;

	switch (v->col) {
	case STORE_COL_PROTO:
		r = CMP(a->proto, b->proto);
		if (!r)
			r = CMP(a->source, b->source);
		break;
	case STORE_COL_LOCAL:
		r = addr_cmp(a->family, a->laddr, a->lport, b->family, b->laddr, b->lport);
		break;
	case STORE_COL_REMOTE:
		r = addr_cmp(a->family, a->raddr, a->rport, b->family, b->raddr, b->rport);
		break;
	case STORE_COL_PID:
		r = CMP(a->pid, b->pid);
		break;
	case STORE_COL_COMM:
		r = strcmp(a->proc->comm, b->proc->comm);
		break;
	case STORE_COL_SENT:
		r = CMP(a->bytes_sent, b->bytes_sent);
		break;
	case STORE_COL_RECV:
		r = CMP(a->bytes_recv, b->bytes_recv);
		break;
	case STORE_COL_REQUESTS:
		r = CMP(a->requests, b->requests);
		break;
	case STORE_COL_LAST:
		r = CMP(a->last_ns, b->last_ns);
		break;
	default:
		break;
	}
	if (!r)
		r = CMP(a->id, b->id);
	return v->desc ? -r : r;
}

static uint64_t item_size(const struct store_item *it)
{
	if (it->ev)
		return it->ev->h.len;
	if (it->rec && it->rec->type == DEC_R_HTTP)
		return it->rec->http.req_bytes + it->rec->http.resp_bytes;
	return 0;
}

/* Events sort ascending always; a descending view reads the array backwards. */
static int cmp_item(const void *x, const void *y, void *arg)
{
	const struct store_view *v = arg;
	uint64_t sa = *(const uint64_t *)x, sb = *(const uint64_t *)y;
	const struct store_item *a = store_item_get(v->st, sa), *b = store_item_get(v->st, sb);
	int r = 0;

	if (!a || !b)
		return CMP(sa, sb);
	switch (v->col) {
	case STORE_COL_TIME:
		/* timestamps, not arrival: a record is placed at its request's time,
		 * and events of different CPUs arrive out of order */
		r = CMP(a->ts_ns, b->ts_ns);
		break;
	case STORE_COL_PID:
		r = CMP(a->proc->pid, b->proc->pid);
		break;
	case STORE_COL_COMM:
		r = strcmp(a->proc->comm, b->proc->comm);
		break;
	case STORE_COL_PROTO:
		r = CMP(a->proto, b->proto);
		break;
	case STORE_COL_SIZE:
		r = CMP(item_size(a), item_size(b));
		break;
	default:
		break;
	}
	return r ? r : CMP(sa, sb);
}

static int grow_u64(uint64_t **v, size_t *cap, size_t need)
{
	size_t c = *cap ? *cap : 256;
	uint64_t *nv;

	if (need <= *cap)
		return 0;
	while (c < need)
		c *= 2;
	nv = realloc(*v, c * sizeof(*nv));
	if (!nv)
		return -ENOMEM;
	*v = nv;
	*cap = c;
	return 0;
}

static void view_rebuild_table(struct store_view *v)
{
	struct store *st = v->st;
	size_t i, n = v->kind == STORE_V_PROCS ? st->n_proc_v : st->n_conn_v;

	v->n = 0;
	v->hidden = 0;
	if (n > v->cap) {
		void **r = realloc(v->rows, n * sizeof(*r));

		if (!r)
			return;
		v->rows = r;
		v->cap = n;
	}
	for (i = 0; i < n; i++) {
		if (v->kind == STORE_V_PROCS) {
			struct store_proc *p = st->proc_v[i];

			if ((!v->pid || p->pid == v->pid) && store_proc_passes(st, p)) {
				/* idle: no connection and no command or query */
				if (!v->show_idle && !v->pid && !p->conns && !p->commands)
					v->hidden++;
				else
					v->rows[v->n++] = p;
			}
		} else {
			struct store_conn *c = st->conn_v[i];

			if ((!v->pid || c->pid == v->pid) && store_conn_passes(st, c))
				v->rows[v->n++] = c;
		}
	}
	if (v->n > 1) /* rows is NULL until the first row */
		qsort_r(v->rows, v->n, sizeof(*v->rows),
			v->kind == STORE_V_PROCS ? cmp_proc : cmp_conn, v);
}

static const struct store_seqlist *view_source(struct store_view *v, bool *prefiltered)
{
	struct store *st = v->st;

	*prefiltered = false;
	if (v->conn) {
		struct store_conn *c = store_conn_get(st, v->conn);

		return c ? c->items : NULL;
	}
	if (v->pid) {
		struct store_proc *p = store_proc_get(st, v->pid);

		return p ? p->items : NULL;
	}
	*prefiltered = true;
	return &st->matches;
}

/* Drop evicted seqs. */
static void view_trim(struct store_view *v)
{
	uint64_t first = v->st->first_seq, min = UINT64_MAX;
	size_t i, j;

	if (!v->n_seqs || v->min_seq >= first)
		return;
	for (i = j = 0; i < v->n_seqs; i++)
		if (v->seqs[i] >= first) {
			v->seqs[j++] = v->seqs[i];
			if (v->seqs[i] < min)
				min = v->seqs[i];
		}
	v->n_seqs = j;
	v->min_seq = min;
}

/* Merge the sorted pending seqs into the sorted view. */
static int view_merge(struct store_view *v)
{
	size_t i, j, k;

	if (!v->n_pend)
		return 0;
	/* by time, what arrives is nearly always in order and after the rows:
	 * then an append, without a sort */
	for (i = 1; i < v->n_pend && cmp_item(&v->pend[i - 1], &v->pend[i], v) <= 0; i++)
		;
	if (i == v->n_pend &&
	    (!v->n_seqs || cmp_item(&v->seqs[v->n_seqs - 1], &v->pend[0], v) <= 0)) {
		if (grow_u64(&v->seqs, &v->cap_seqs, v->n_seqs + v->n_pend))
			return -ENOMEM;
		memcpy(v->seqs + v->n_seqs, v->pend, v->n_pend * sizeof(*v->pend));
		v->n_seqs += v->n_pend;
		v->n_pend = 0;
		return 0;
	}
	qsort_r(v->pend, v->n_pend, sizeof(*v->pend), cmp_item, v);
	if (grow_u64(&v->seqs, &v->cap_seqs, v->n_seqs + v->n_pend))
		return -ENOMEM;
	/* merge from the back, in place */
	i = v->n_seqs;
	j = v->n_pend;
	k = v->n_seqs + v->n_pend;
	while (j > 0) {
		if (i > 0 && cmp_item(&v->seqs[i - 1], &v->pend[j - 1], v) > 0)
			v->seqs[--k] = v->seqs[--i];
		else
			v->seqs[--k] = v->pend[--j];
	}
	v->n_seqs += v->n_pend;
	v->n_pend = 0;
	return 0;
}

#define VIEW_MAX_PENDING 16384

static bool view_update_events(struct store_view *v, uint64_t budget_ns)
{
	struct store *st = v->st;
	uint64_t deadline = store_now_ns() + budget_ns, end;
	const struct store_seqlist *src;
	bool pre, done = true;
	unsigned k = 0;

	src = view_source(v, &pre);
	if (v->stale || v->gen != st->gen || src != v->src) {
		v->stale = false;
		v->gen = st->gen;
		v->src = src;
		v->n_seqs = v->n_pend = 0;
		v->hidden = 0;
		v->cursor = src ? src->base : 0;
		v->min_seq = UINT64_MAX;
		v->resets = st->resets;
	}
	view_trim(v);
	if (!src)
		return true;
	if (v->cursor < src->base)
		v->cursor = src->base;
	end = seqlist_end(src);
	while (v->cursor < end) {
		uint64_t seq = seqlist_at(src, v->cursor);
		struct store_item *it = store_item_get(st, seq);

		if (++k % 256 == 0 && store_now_ns() > deadline) {
			done = false;
			break;
		}
		/* A sorted merge costs a sort of what is pending: keep each one small
		 * so that a frame stays within its budget. By time, what is pending
		 * mostly goes after the rows: merge it and go on. */
		if (v->n_pend >= VIEW_MAX_PENDING && (v->col != STORE_COL_TIME || view_merge(v))) {
			done = false;
			break;
		}
		if (it && !v->show_idle && it->ev && it->ev->h.kind == EC_K_EXEC &&
		    (pre || store_item_passes(st, it))) {
			v->hidden++;
		} else if (it && (pre || (it->visible && store_item_passes(st, it)))) {
			/* even by time: merged by timestamp, not appended */
			if (grow_u64(&v->pend, &v->cap_pend, v->n_pend + 1)) {
				done = false;
				break;
			}
			v->pend[v->n_pend++] = seq;
			if (seq < v->min_seq)
				v->min_seq = seq;
		}
		v->cursor++;
	}
	if (view_merge(v))
		return false;
	/* the global list is only as complete as the store's filter scan */
	if (pre && st->scan_seq < st->next_seq)
		done = false;
	return done;
}

bool store_view_update(struct store_view *v, uint64_t budget_ns)
{
	struct store *st = v->st;
	uint64_t now;

	if (v->kind == STORE_V_EVENTS)
		return view_update_events(v, budget_ns);
	now = store_now_ns();
	/* An empty view has no rows to jump under the cursor: it shows the first
	 * ones at once (a replay rebuilding after a reset, the first seconds live). */
	if (v->stale || v->gen != st->gen || v->built_table_gen != st->table_gen ||
	    ((v->built_mod != st->table_mod || v->built_hit != st->hit_mod) &&
	     (!v->n || now - v->built_ns >= 1000000000ull))) {
		v->stale = false;
		v->gen = st->gen;
		v->built_ns = now;
		v->built_table_gen = st->table_gen;
		v->built_mod = st->table_mod;
		v->built_hit = st->hit_mod;
		v->resets = st->resets;
		view_rebuild_table(v);
	}
	return true;
}

/* Rows built before a store_reset() point at freed processes and connections:
 * until the next update the view has none. */
static bool view_current(const struct store_view *v)
{
	return v->resets == v->st->resets;
}

size_t store_view_len(const struct store_view *v)
{
	if (!view_current(v))
		return 0;
	return v->kind == STORE_V_EVENTS ? v->n_seqs : v->n;
}

struct store_proc *store_view_proc(const struct store_view *v, size_t i)
{
	return v->kind == STORE_V_PROCS && i < v->n && view_current(v) ? v->rows[i] : NULL;
}

struct store_conn *store_view_conn(const struct store_view *v, size_t i)
{
	return v->kind == STORE_V_CONNS && i < v->n && view_current(v) ? v->rows[i] : NULL;
}

struct store_item *store_view_item(const struct store_view *v, size_t i)
{
	if (v->kind != STORE_V_EVENTS || i >= v->n_seqs || !view_current(v))
		return NULL;
	return store_item_get(v->st, v->seqs[v->desc ? v->n_seqs - 1 - i : i]);
}

struct exch_table *store_exchanges(struct store *st)
{
	return st->exch;
}

uint64_t store_filter_gen(const struct store *st)
{
	return st->gen;
}

void store_view_show_idle(struct store_view *v, bool show)
{
	if (v->show_idle == show)
		return;
	v->show_idle = show;
	v->stale = true;
}

size_t store_view_hidden(const struct store_view *v)
{
	return v->hidden;
}
