// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Exchanges: see exchanges.h. */
#include "tui/session/exchanges.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tui/session/filter.h"
#include "tui/session/map.h"
#include "tui/session/store.h"

#define EXCH_DEFAULT_CAP (1u << 18)
#define PAIR_WINDOW	 4096 /* exchanges a pair remembers for the other end */
#define PENDING_MAX	 64   /* pending exchanges a connection remembers */

/* The client and server endpoints of a connection, as both ends see it. */
struct pair_key {
	uint8_t family;
	uint8_t cli_addr[16], srv_addr[16];
	uint16_t cli_port, srv_port;
};

/* What two connections (the client's and the server's) of one TCP connection
 * share: the ids of their exchanges by ordinal. */
struct exch_pair {
	struct pair_key k;
	uint64_t ka, kb; /* its map key */
	int refs;	 /* connections using it */
	uint64_t *ids;	 /* ids[i] is exchange (base + i) of the pair */
	size_t n, cap;
	uint64_t base;
};

/* Per connection. */
struct exch_conn {
	uint64_t conn; /* store_conn.id */
	int side;      /* 0 client, 1 server */
	uint64_t ord;  /* exchanges this end made */
	struct exch_pair *pair;
	uint64_t pend[PENDING_MAX]; /* its pending exchanges, oldest first */
	size_t n_pend;
};

struct exch_table {
	struct store_exch **ring;
	size_t cap; /* power of two */
	uint64_t first, next;
	uint64_t mod;
	struct exch_stats stats;
	struct map conns; /* (store_conn.id, 0) -> exch_conn */
	struct map pairs; /* pair key hash -> exch_pair */
	struct map shell; /* (pid, call_id) -> exchange id */
};

static size_t pow2(size_t n)
{
	size_t c = 1024;

	while (c < n)
		c <<= 1;
	return c;
}

struct exch_table *exch_new(size_t cap)
{
	struct exch_table *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->cap = pow2(cap ? cap : EXCH_DEFAULT_CAP);
	t->ring = calloc(t->cap, sizeof(*t->ring));
	if (!t->ring) {
		free(t);
		errno = ENOMEM;
		return NULL;
	}
	t->first = t->next = 1;
	return t;
}

static void exch_release(struct store_exch *x)
{
	if (!x)
		return;
	free(x->target);
	free(x->error);
	free(x);
}

static void free_maps(struct exch_table *t)
{
	size_t i;

	for (i = 0; i < t->conns.cap; i++)
		free(t->conns.s[i].p);
	for (i = 0; i < t->pairs.cap; i++)
		if (t->pairs.s[i].p) {
			struct exch_pair *p = t->pairs.s[i].p;

			free(p->ids);
			free(p);
		}
	map_free(&t->conns);
	map_free(&t->pairs);
	map_free(&t->shell);
}

void exch_reset(struct exch_table *t)
{
	uint64_t id;

	if (!t)
		return;
	for (id = t->first; id < t->next; id++) {
		exch_release(t->ring[id & (t->cap - 1)]);
		t->ring[id & (t->cap - 1)] = NULL;
	}
	free_maps(t);
	t->first = t->next = 1;
	memset(&t->stats, 0, sizeof(t->stats));
	t->mod++;
}

void exch_free(struct exch_table *t)
{
	if (!t)
		return;
	exch_reset(t);
	free(t->ring);
	free(t);
}

void exch_get_stats(const struct exch_table *t, struct exch_stats *out)
{
	uint64_t id;

	*out = t->stats;
	out->stored = t->next - t->first;
	out->pending = 0;
	for (id = t->first; id < t->next; id++) {
		const struct store_exch *x = t->ring[id & (t->cap - 1)];

		if (x && x->pending)
			out->pending++;
	}
}

uint64_t exch_first_id(const struct exch_table *t)
{
	return t->first;
}

uint64_t exch_next_id(const struct exch_table *t)
{
	return t->next;
}

uint64_t exch_mod(const struct exch_table *t)
{
	return t->mod;
}

struct store_exch *exch_get(const struct exch_table *t, uint64_t id)
{
	if (id < t->first || id >= t->next)
		return NULL;
	return t->ring[id & (t->cap - 1)];
}

static struct store_exch *exch_make(struct exch_table *t, enum exch_kind kind, uint64_t ts)
{
	struct store_exch *x = calloc(1, sizeof(*x));

	if (!x)
		return NULL;
	x->target = strdup("");
	if (!x->target) {
		free(x);
		return NULL;
	}
	if (t->next - t->first == t->cap) {
		exch_release(t->ring[t->first & (t->cap - 1)]);
		t->ring[t->first & (t->cap - 1)] = NULL;
		t->first++;
		t->stats.evicted++;
	}
	x->id = t->next++;
	x->kind = (uint8_t)kind;
	x->start_ns = ts;
	x->rows = -1;
	x->pending = true;
	t->ring[x->id & (t->cap - 1)] = x;
	t->stats.total++;
	t->mod++;
	return x;
}

static void set_str(char **dst, const char *src, size_t len)
{
	char *s = malloc(len + 1);
	size_t i;

	if (!s)
		return;
	for (i = 0; i < len; i++)
		s[i] = src[i] == '\n' || src[i] == '\r' || src[i] == '\t' ? ' ' : src[i];
	s[len] = '\0';
	free(*dst);
	*dst = s;
}

/* ---- connections and pairs ---- */

static uint64_t fnv(const void *p, size_t n, uint64_t h)
{
	const uint8_t *b = p;
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ull;
	return h;
}

static struct exch_pair *pair_get(struct exch_table *t, const struct store_conn *c, int side)
{
	struct pair_key k = {.family = c->family};
	struct exch_pair *p;
	uint64_t a, b;

	if (!c->lport || !c->rport)
		return NULL;
	memcpy(side ? k.srv_addr : k.cli_addr, c->laddr, 16);
	memcpy(side ? k.cli_addr : k.srv_addr, c->raddr, 16);
	k.cli_port = side ? c->rport : c->lport;
	k.srv_port = side ? c->lport : c->rport;
	a = fnv(k.cli_addr, 16, fnv(&k.cli_port, 2, 0xcbf29ce484222325ull ^ k.family));
	b = fnv(k.srv_addr, 16, fnv(&k.srv_port, 2, 0x84222325cbf29ce4ull));
	p = map_get(&t->pairs, a, b);
	if (p) {
		if (memcmp(&p->k, &k, sizeof(k)))
			return NULL; /* a hash collision: this one stays unpaired */
		p->refs++;
		return p;
	}
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->k = k;
	p->ka = a;
	p->kb = b;
	p->refs = 1;
	if (map_put(&t->pairs, a, b, p)) {
		free(p);
		return NULL;
	}
	return p;
}

static void pair_put(struct exch_table *t, struct exch_pair *p)
{
	if (!p || --p->refs > 0)
		return;
	map_del(&t->pairs, p->ka, p->kb);
	free(p->ids);
	free(p);
}

static struct exch_conn *xconn_get(struct exch_table *t, struct store_conn *c)
{
	struct exch_conn *xc = map_get(&t->conns, c->id, 0);

	if (xc || c->local_is_client < 0 || c->closed)
		return xc;
	xc = calloc(1, sizeof(*xc));
	if (!xc)
		return NULL;
	xc->conn = c->id;
	xc->side = c->local_is_client ? 0 : 1;
	if (map_put(&t->conns, c->id, 0, xc)) {
		free(xc);
		return NULL;
	}
	xc->pair = pair_get(t, c, xc->side);
	return xc;
}

static struct exch_end *end_of(struct store_exch *x, int side)
{
	return side ? &x->srv : &x->cli;
}

static void end_fill(struct exch_end *e, const struct store_conn *c, uint64_t ts)
{
	e->pid = c->pid;
	e->uid = c->uid;
	memcpy(e->comm, c->comm, sizeof(e->comm));
	e->conn = c->id;
	e->source = c->source;
	if (!e->req_ns)
		e->req_ns = ts;
}

/* The exchange this end's next one is: the other end's of the same ordinal
 * (or, for HTTP/2, stream), or a new one. */
static struct store_exch *exch_for_end(struct exch_table *t, struct exch_conn *xc,
				       struct store_conn *c, enum exch_kind kind, uint32_t stream,
				       uint64_t ts)
{
	struct exch_pair *p = xc->pair;
	struct store_exch *x = NULL;
	uint64_t ord = xc->ord++;
	size_t i;

	if (p && stream) {
		for (i = p->n; i-- > 0 && p->n - i <= 256;) {
			struct store_exch *y = exch_get(t, p->ids[i]);

			if (y && y->stream_id == stream && !end_of(y, xc->side)->pid) {
				x = y;
				break;
			}
		}
	} else if (p && ord >= p->base && ord < p->base + p->n) {
		struct store_exch *y = exch_get(t, p->ids[ord - p->base]);

		if (y && !end_of(y, xc->side)->pid && y->kind == kind)
			x = y;
	}
	if (x) {
		t->stats.merged++;
		t->mod++;
	} else {
		x = exch_make(t, kind, ts);
		if (!x)
			return NULL;
		if (p) {
			if (p->n == PAIR_WINDOW) {
				memmove(p->ids, p->ids + 1, (p->n - 1) * sizeof(*p->ids));
				p->n--;
				p->base++;
			}
			if (p->n == p->cap) {
				size_t nc = p->cap ? p->cap * 2 : 16;
				uint64_t *v = realloc(p->ids, nc * sizeof(*v));

				if (v) {
					p->ids = v;
					p->cap = nc;
				}
			}
			/* the other end may be ahead or behind: ordinals past the
			 * window's end are appended in order */
			if (p->n < p->cap && (stream || ord == p->base + p->n))
				p->ids[p->n++] = x->id;
		}
	}
	end_fill(end_of(x, xc->side), c, ts);
	if (ts && (!x->start_ns || ts < x->start_ns))
		x->start_ns = ts;
	return x;
}

static void pend_push(struct exch_conn *xc, uint64_t id)
{
	if (xc->n_pend == PENDING_MAX) {
		memmove(xc->pend, xc->pend + 1, (PENDING_MAX - 1) * sizeof(*xc->pend));
		xc->n_pend--;
	}
	xc->pend[xc->n_pend++] = id;
}

static void pend_remove(struct exch_conn *xc, size_t i)
{
	memmove(xc->pend + i, xc->pend + i + 1, (xc->n_pend - i - 1) * sizeof(*xc->pend));
	xc->n_pend--;
}

/* ---- requests seen before their answer ---- */

static enum exch_kind kind_of(enum dec_proto p)
{
	switch (p) {
	case DEC_P_HTTP1:
	case DEC_P_HTTP2:
		return EXCH_HTTP;
	case DEC_P_MYSQL:
		return EXCH_MYSQL;
	case DEC_P_PGSQL:
		return EXCH_PGSQL;
	default:
		return 0;
	}
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* A request at the start of d: its method and target. false if none. */
static bool sniff(enum dec_proto proto, const uint8_t *d, size_t n, char *method, size_t msize,
		  const uint8_t **tgt, size_t *tlen)
{
	size_t i, j;

	switch (proto) {
	case DEC_P_HTTP1:
		for (i = 0; i < n && i < 20 && d[i] >= 'A' && d[i] <= 'Z'; i++)
			;
		if (!i || i >= n || d[i] != ' ')
			return false;
		for (j = i + 1; j < n && d[j] != ' ' && d[j] != '\r' && d[j] != '\n'; j++)
			;
		if (j >= n || d[j] != ' ' || n - j < 6 || memcmp(d + j + 1, "HTTP/", 5))
			return false;
		snprintf(method, msize, "%.*s", (int)i, (const char *)d);
		*tgt = d + i + 1;
		*tlen = j - i - 1;
		return true;
	case DEC_P_PGSQL:
		if (n < 6 || (d[0] != 'Q' && d[0] != 'P'))
			return false;
		i = 5;
		if (d[0] == 'P') { /* statement name, then the query */
			while (i < n && d[i])
				i++;
			i++;
		}
		if (i >= n || be32(d + 1) < 4)
			return false;
		for (j = i; j < n && d[j]; j++)
			;
		snprintf(method, msize, "%s", d[0] == 'Q' ? "Query" : "Parse");
		*tgt = d + i;
		*tlen = j - i;
		return true;
	case DEC_P_MYSQL:
		if (n < 6 || d[3] != 0 || (d[4] != 0x03 && d[4] != 0x16))
			return false;
		j = (size_t)d[0] | (size_t)d[1] << 8 | (size_t)d[2] << 16;
		if (j < 1)
			return false;
		snprintf(method, msize, "%s", d[4] == 0x03 ? "COM_QUERY" : "COM_STMT_PREPARE");
		*tgt = d + 5;
		*tlen = j - 1 < n - 5 ? j - 1 : n - 5;
		return true;
	default:
		return false;
	}
}

void exch_on_data(struct exch_table *t, struct store_conn *c, const struct ec_event *ev,
		  uint64_t seq)
{
	const struct ec_rec_hdr *h = &ev->h;
	enum exch_kind kind = kind_of(c->proto);
	struct exch_conn *xc;
	struct store_exch *x;
	const uint8_t *tgt;
	size_t tlen;
	char method[24];
	bool req;

	if (!kind || c->proto == DEC_P_HTTP2 || c->local_is_client < 0 || (h->flags & EC_F_CONT) ||
	    !h->len)
		return;
	req = (h->dir == EC_DIR_SEND) == (c->local_is_client == 1);
	if (!req || !sniff(c->proto, ev->data, h->len, method, sizeof(method), &tgt, &tlen))
		return;
	xc = xconn_get(t, c);
	if (!xc)
		return;
	x = exch_for_end(t, xc, c, kind, 0, h->ts_ns);
	if (!x)
		return;
	x->proto = (uint8_t)c->proto;
	if (!x->method[0]) {
		snprintf(x->method, sizeof(x->method), "%s", method);
		set_str(&x->target, (const char *)tgt, tlen);
	}
	if (!x->srv_port) {
		x->srv_port = xc->side ? c->lport : c->rport;
		snprintf(x->srv_addr, sizeof(x->srv_addr), "%s",
			 xc->side ? c->laddr_str : c->raddr_str);
	}
	end_of(x, xc->side)->seq = seq;
	pend_push(xc, x->id);
}

/* Whether pending exchange x is the one rec answers. */
static bool rec_matches(const struct store_exch *x, const struct dec_record *r)
{
	const char *q = NULL;
	size_t n;

	switch (r->type) {
	case DEC_R_HTTP:
		if (!r->http.method || !r->http.path)
			return true;
		n = strlen(r->http.path);
		return !strcmp(x->method, r->http.method) && strlen(x->target) == n &&
		       !strncmp(x->target, r->http.path, n);
	case DEC_R_MYSQL:
		q = r->mysql.query;
		break;
	case DEC_R_PGSQL:
		q = r->pgsql.query;
		break;
	default:
		return false;
	}
	if (!q)
		return false;
	/* the sniffed text has its line breaks as spaces, and may be cut */
	n = strlen(x->target);
	if (n > strlen(q))
		return false;
	for (size_t i = 0; i < n; i++) {
		char a = q[i] == '\n' || q[i] == '\r' || q[i] == '\t' ? ' ' : q[i];

		if (a != x->target[i])
			return false;
	}
	return true;
}

void exch_on_record(struct exch_table *t, struct store_conn *c, const struct dec_record *r,
		    uint64_t seq)
{
	enum exch_kind kind = kind_of(r->proto);
	struct exch_conn *xc;
	struct store_exch *x = NULL;
	struct exch_end *e;
	size_t i;
	uint64_t req = r->req_ts_ns ? r->req_ts_ns : r->resp_ts_ns;

	if (r->type == DEC_R_NOTE || r->type == DEC_R_FRAMES || !kind)
		return;
	xc = xconn_get(t, c);
	if (!xc)
		return;
	for (i = 0; i < xc->n_pend; i++) {
		struct store_exch *y = exch_get(t, xc->pend[i]);

		if (y && rec_matches(y, r)) {
			x = y;
			pend_remove(xc, i);
			break;
		}
	}
	if (!x)
		x = exch_for_end(t, xc, c, kind, r->type == DEC_R_HTTP ? r->http.stream_id : 0,
				 req);
	if (!x)
		return;
	e = end_of(x, xc->side);
	end_fill(e, c, req);
	e->seq = seq;
	e->done = true;
	e->resp_ns = r->resp_ts_ns;
	x->proto = (uint8_t)r->proto;
	if (!x->srv_port) {
		x->srv_port = xc->side ? c->lport : c->rport;
		snprintf(x->srv_addr, sizeof(x->srv_addr), "%s",
			 xc->side ? c->laddr_str : c->raddr_str);
	}
	switch (r->type) {
	case DEC_R_HTTP:
		if (r->http.method)
			snprintf(x->method, sizeof(x->method), "%s", r->http.method);
		if (r->http.path)
			set_str(&x->target, r->http.path, strlen(r->http.path));
		if (r->http.host)
			snprintf(x->host, sizeof(x->host), "%s", r->http.host);
		if (r->http.status)
			x->status = r->http.status;
		x->stream_id = r->http.stream_id;
		x->req_bytes = r->http.req_bytes;
		x->resp_bytes = r->http.resp_bytes;
		break;
	case DEC_R_MYSQL:
		snprintf(x->method, sizeof(x->method), "%s",
			 r->mysql.command ? r->mysql.command : "?");
		if (r->mysql.query)
			set_str(&x->target, r->mysql.query, strlen(r->mysql.query));
		if (r->mysql.error)
			set_str(&x->error, r->mysql.error, strlen(r->mysql.error));
		if (r->mysql.sqlstate)
			snprintf(x->sqlstate, sizeof(x->sqlstate), "%s", r->mysql.sqlstate);
		else if (r->mysql.error_code)
			snprintf(x->sqlstate, sizeof(x->sqlstate), "%d", r->mysql.error_code);
		x->rows = r->mysql.rows;
		x->req_bytes = r->mysql.req_bytes;
		x->resp_bytes = r->mysql.resp_bytes;
		break;
	case DEC_R_PGSQL:
		if (!x->method[0])
			snprintf(x->method, sizeof(x->method), "Query");
		if (r->pgsql.query)
			set_str(&x->target, r->pgsql.query, strlen(r->pgsql.query));
		if (r->pgsql.error)
			set_str(&x->error, r->pgsql.error, strlen(r->pgsql.error));
		if (r->pgsql.sqlstate)
			snprintf(x->sqlstate, sizeof(x->sqlstate), "%s", r->pgsql.sqlstate);
		x->rows = r->pgsql.rows;
		x->req_bytes = r->pgsql.req_bytes;
		x->resp_bytes = r->pgsql.resp_bytes;
		break;
	default:
		break;
	}
	/* the latency as the client saw it when its end was captured */
	if (r->req_ts_ns && r->resp_ts_ns > r->req_ts_ns && (xc->side == 0 || !x->cli.done))
		x->latency_ns = r->resp_ts_ns - r->req_ts_ns;
	else if (!x->latency_ns && r->latency_us)
		x->latency_ns = r->latency_us * 1000;
	x->pending = false;
	/* a decoder flushing a request nobody answered (the connection ended) */
	x->no_answer = !r->resp_ts_ns && (r->type != DEC_R_HTTP || !r->http.status);
	t->mod++;
}

void exch_on_close(struct exch_table *t, struct store_conn *c, uint64_t ts_ns)
{
	struct exch_conn *xc = map_get(&t->conns, c->id, 0);
	size_t i;

	(void)ts_ns;
	if (!xc)
		return;
	for (i = 0; i < xc->n_pend; i++) {
		struct store_exch *x = exch_get(t, xc->pend[i]);

		if (x && x->pending) {
			x->pending = false;
			x->no_answer = true;
			t->mod++;
		}
	}
	map_del(&t->conns, c->id, 0);
	pair_put(t, xc->pair);
	free(xc);
}

void exch_on_command(struct exch_table *t, struct store_proc *p, const struct ec_event *ev,
		     uint64_t seq)
{
	const struct ec_rec_hdr *h = &ev->h;
	struct store_exch *x;
	uintptr_t id;
	size_t n;

	if (h->flags & EC_F_STATUS) {
		id = (uintptr_t)map_get(&t->shell, h->pid, h->call_id);
		if (!id)
			return;
		map_del(&t->shell, h->pid, h->call_id);
		x = exch_get(t, id);
		if (!x)
			return;
		x->status = (int)h->aux;
		x->cli.resp_ns = h->ts_ns;
		x->cli.done = true;
		x->latency_ns = h->ts_ns > x->start_ns ? h->ts_ns - x->start_ns : 0;
		x->pending = false;
		t->mod++;
		return;
	}
	x = exch_make(t, EXCH_SHELL, h->ts_ns);
	if (!x)
		return;
	x->cli.pid = p->pid;
	x->cli.uid = h->uid;
	memcpy(x->cli.comm, h->comm, sizeof(x->cli.comm));
	x->cli.comm[EC_COMM_LEN - 1] = '\0';
	x->cli.seq = seq;
	x->cli.req_ns = h->ts_ns;
	x->cli.source = h->source;
	snprintf(x->method, sizeof(x->method), "%s", ec_source_name(h->source));
	for (n = 0; n < h->len && ev->data[n] && ev->data[n] != '\n'; n++)
		;
	set_str(&x->target, (const char *)ev->data, n);
	if (map_put(&t->shell, h->pid, h->call_id, (void *)(uintptr_t)x->id)) {
		x->pending = false;
		x->no_answer = true;
	}
}

/* ---- for the front ends ---- */

const char *exch_proto_name(const struct store_exch *x)
{
	if (x->kind == EXCH_SHELL)
		return x->method;
	return dec_proto_name((enum dec_proto)x->proto);
}

bool exch_is_error(const struct store_exch *x)
{
	if (x->no_answer || x->error)
		return true;
	if (x->kind == EXCH_HTTP)
		return x->status >= 500;
	if (x->kind == EXCH_SHELL)
		return x->status > 1;
	return false;
}

const char *exch_status_text(const struct store_exch *x, char *buf, size_t size)
{
	if (x->pending)
		snprintf(buf, size, "pending");
	else if (x->no_answer)
		snprintf(buf, size, "no answer");
	else if (x->error)
		snprintf(buf, size, "ERR %s", x->sqlstate[0] ? x->sqlstate : "");
	else if (x->kind == EXCH_SHELL)
		snprintf(buf, size, x->status ? "exit %d" : "exit ?", x->status - 1);
	else if (x->kind == EXCH_HTTP)
		snprintf(buf, size, "%d", x->status);
	else if (x->rows >= 0)
		snprintf(buf, size, "OK %lld", (long long)x->rows);
	else
		snprintf(buf, size, "OK");
	return buf;
}

static void subject_end(struct store *st, struct filter_subject *s, const struct store_exch *x,
			const struct exch_end *e)
{
	const struct store_proc *p = store_proc_get(st, e->pid);

	memset(s, 0, sizeof(*s));
	s->has_pid = s->has_uid = true;
	s->pid = e->pid;
	s->uid = e->uid;
	s->comm = e->comm;
	s->cgroup = p ? p->cgroup : NULL;
	s->protos = store_proto_bits((enum dec_proto)x->proto) | store_source_bits(e->source);
	if (x->srv_port)
		s->ports[s->n_ports++] = x->srv_port;
	if (x->srv_addr[0])
		s->hosts[s->n_hosts++] = x->srv_addr;
	if (x->host[0])
		s->hosts[s->n_hosts++] = x->host;
	if (x->kind == EXCH_HTTP)
		s->status = x->status;
	s->text[s->n_text].p = x->method;
	s->text[s->n_text++].len = strlen(x->method);
	s->text[s->n_text].p = x->target;
	s->text[s->n_text++].len = strlen(x->target);
	if (x->error) {
		s->text[s->n_text].p = x->error;
		s->text[s->n_text++].len = strlen(x->error);
	}
}

bool exch_passes(struct store *st, const struct store_exch *x)
{
	struct filter *f = (struct filter *)store_get_filter(st);
	struct filter_subject s;

	if (!f)
		return true;
	if (x->cli.pid) {
		subject_end(st, &s, x, &x->cli);
		if (filter_match(f, &s))
			return true;
	}
	if (x->srv.pid) {
		subject_end(st, &s, x, &x->srv);
		if (filter_match(f, &s))
			return true;
	}
	return false;
}
