// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Views over the exchanges: see exch_view.h. */
#include "tui/session/exch_view.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tui/session/map.h"
#include "tui/session/store.h"

#define CMP(a, b)     ((a) < (b) ? -1 : (a) > (b) ? 1 : 0)
#define SMALL_VIEW    5000 /* rows under which a view rebuilds at every change */
#define REBUILD_NS    1000000000ull
#define TREE_MAX_HOPS 64

struct exch_view {
	struct store *st;
	enum exch_col col;
	bool desc;
	uint32_t pid;
	uint64_t from_ns, to_ns;
	char *key, *key_proto; /* the aggregate the rows are limited to, or NULL */
	struct strbuf key_tmp; /* an exchange's key while checking it */
	/* ids, not pointers: an exchange evicted between two rebuilds is a row
	 * that is gone (NULL), never freed memory */
	uint64_t *rows;
	size_t n, cap;
	bool stale;
	uint64_t gen, mod, built_ns, now_ns, resets;
	struct store_exch **tmp; /* the rows while sorting */
	size_t cap_tmp;
};

static const char *const xc_names[XC_MAX] = {"time",   "client", "server",  "proto", "method",
					     "target", "status", "latency", "req",   "resp"};

const char *exch_col_name(enum exch_col c)
{
	return c < XC_MAX ? xc_names[c] : "";
}

struct exch_view *exch_view_new(struct store *st)
{
	struct exch_view *v = calloc(1, sizeof(*v));

	if (!v)
		return NULL;
	v->st = st;
	v->col = XC_TIME;
	v->stale = true;
	return v;
}

void exch_view_free(struct exch_view *v)
{
	if (!v)
		return;
	free(v->rows);
	free(v->tmp);
	free(v->key);
	free(v->key_proto);
	sb_free(&v->key_tmp);
	free(v);
}

void exch_view_sort(struct exch_view *v, enum exch_col col, bool desc)
{
	v->col = col;
	v->desc = desc;
	v->stale = true;
}

enum exch_col exch_view_sort_col(const struct exch_view *v)
{
	return v->col;
}

bool exch_view_sort_desc(const struct exch_view *v)
{
	return v->desc;
}

void exch_view_scope(struct exch_view *v, uint32_t pid, uint64_t from_ns, uint64_t to_ns)
{
	v->pid = pid;
	v->from_ns = from_ns;
	v->to_ns = to_ns;
	v->stale = true;
}

uint32_t exch_view_scope_pid(const struct exch_view *v)
{
	return v->pid;
}

int exch_view_scope_key(struct exch_view *v, const char *proto, const char *key)
{
	free(v->key);
	free(v->key_proto);
	v->key = v->key_proto = NULL;
	v->stale = true;
	if (!key)
		return 0;
	v->key = strdup(key);
	v->key_proto = strdup(proto ? proto : "");
	if (!v->key || !v->key_proto) {
		free(v->key);
		free(v->key_proto);
		v->key = v->key_proto = NULL;
		return -ENOMEM;
	}
	return 0;
}

const char *exch_view_scope_key_get(const struct exch_view *v)
{
	return v->key;
}

bool agg_key(const struct store_exch *x, struct strbuf *sb)
{
	if (x->kind == EXCH_SHELL)
		return false;
	if (x->kind == EXCH_HTTP) {
		sb_puts(sb, x->method[0] ? x->method : "?");
		sb_puts(sb, " ");
		agg_norm_path(x->target, sb);
	} else {
		agg_norm_sql(x->target[0] ? x->target : x->method, sb);
	}
	return true;
}

uint64_t exch_latency(const struct store_exch *x, uint64_t now_ns)
{
	if (x->pending)
		return now_ns > x->start_ns ? now_ns - x->start_ns : 0;
	return x->latency_ns;
}

/* Whether pid is root or descends from it (by the parents the store knows). */
static bool in_tree(struct store *st, uint32_t pid, uint32_t root)
{
	int hop;

	for (hop = 0; pid && hop < TREE_MAX_HOPS; hop++) {
		struct store_proc *p;

		if (pid == root)
			return true;
		p = store_proc_get(st, pid);
		if (!p || p->ppid == pid)
			return false;
		pid = p->ppid;
	}
	return false;
}

static bool in_scope(struct exch_view *v, const struct store_exch *x)
{
	if (v->key) {
		sb_reset(&v->key_tmp);
		if (strcmp(exch_proto_name(x), v->key_proto) || !agg_key(x, &v->key_tmp) ||
		    strcmp(v->key_tmp.buf ? v->key_tmp.buf : "", v->key))
			return false;
	}
	if (!v->pid)
		return true;
	if (x->start_ns < v->from_ns || (v->to_ns && x->start_ns > v->to_ns))
		return false;
	return in_tree(v->st, x->cli.pid, v->pid) || in_tree(v->st, x->srv.pid, v->pid);
}

static const char *end_comm(const struct exch_end *e)
{
	return e->pid ? e->comm : "";
}

static int cmp_exch(const void *pa, const void *pb, void *arg)
{
	const struct exch_view *v = arg;
	const struct store_exch *a = *(struct store_exch *const *)pa,
				*b = *(struct store_exch *const *)pb;
	int r = 0;

	switch (v->col) {
	case XC_TIME:
		r = CMP(a->start_ns, b->start_ns);
		break;
	case XC_CLIENT:
		r = strcmp(end_comm(&a->cli), end_comm(&b->cli));
		if (!r)
			r = CMP(a->cli.pid, b->cli.pid);
		break;
	case XC_SERVER:
		r = strcmp(end_comm(&a->srv), end_comm(&b->srv));
		if (!r)
			r = CMP(a->srv.pid, b->srv.pid);
		break;
	case XC_PROTO:
		r = strcmp(exch_proto_name(a), exch_proto_name(b));
		break;
	case XC_METHOD:
		r = strcmp(a->method, b->method);
		break;
	case XC_TARGET:
		r = strcmp(a->target, b->target);
		break;
	case XC_STATUS:
		/* pending first, then no answer, errors, then by the number */
		r = CMP(!a->pending, !b->pending);
		if (!r)
			r = CMP(!a->no_answer, !b->no_answer);
		if (!r)
			r = CMP(!a->error, !b->error);
		if (!r)
			r = CMP(a->status, b->status);
		break;
	case XC_LATENCY:
		r = CMP(exch_latency(a, v->now_ns), exch_latency(b, v->now_ns));
		break;
	case XC_REQ:
		r = CMP(a->req_bytes, b->req_bytes);
		break;
	case XC_RESP:
		r = CMP(a->resp_bytes, b->resp_bytes);
		break;
	case XC_MAX:
		break;
	}
	if (!r)
		r = CMP(a->id, b->id);
	return v->desc ? -r : r;
}

bool exch_view_update(struct exch_view *v, uint64_t now_ns)
{
	struct exch_table *t = store_exchanges(v->st);
	uint64_t mono = store_now_ns(), id;

	if (!t)
		return false;
	if (!v->stale && v->gen == store_filter_gen(v->st) &&
	    (v->mod == exch_mod(t) || (v->n >= SMALL_VIEW && mono - v->built_ns < REBUILD_NS)) &&
	    !(v->col == XC_LATENCY && mono - v->built_ns >= REBUILD_NS))
		return false;
	v->stale = false;
	v->gen = store_filter_gen(v->st);
	v->mod = exch_mod(t);
	v->built_ns = mono;
	v->now_ns = now_ns;
	v->n = 0;
	for (id = exch_first_id(t); id < exch_next_id(t); id++) {
		struct store_exch *x = exch_get(t, id);

		if (!x || !in_scope(v, x) || !exch_passes(v->st, x))
			continue;
		if (v->n == v->cap_tmp) {
			size_t nc = v->cap_tmp ? v->cap_tmp * 2 : 256;
			struct store_exch **r = realloc(v->tmp, nc * sizeof(*r));

			if (!r)
				break;
			v->tmp = r;
			v->cap_tmp = nc;
		}
		v->tmp[v->n++] = x;
	}
	/* ids are in arrival order; sorted by time, rows are in request order */
	if (v->n > 1)
		qsort_r(v->tmp, v->n, sizeof(*v->tmp), cmp_exch, v);
	if (v->cap < v->cap_tmp) {
		uint64_t *r = realloc(v->rows, v->cap_tmp * sizeof(*r));

		if (!r) {
			v->n = 0;
			return true;
		}
		v->rows = r;
		v->cap = v->cap_tmp;
	}
	for (size_t i = 0; i < v->n; i++)
		v->rows[i] = v->tmp[i]->id;
	return true;
}

size_t exch_view_len(const struct exch_view *v)
{
	return v->n;
}

struct store_exch *exch_view_at(const struct exch_view *v, size_t i)
{
	struct exch_table *t = store_exchanges(v->st);

	return i < v->n && t ? exch_get(t, v->rows[i]) : NULL;
}

/* ---- aggregates ---- */

struct agg_acc {
	struct agg_row row;
	uint64_t *lat;
	size_t n_lat, cap_lat;
};

struct agg_view {
	struct store *st;
	enum agg_col col;
	bool desc;
	struct agg_acc *acc;
	size_t n, cap;
	struct agg_row **rows;
	bool stale;
	uint64_t gen, mod, built_ns;
	struct map index; /* key hash -> acc index + 1 */
};

static const char *const ac_names[AC_MAX] = {"endpoint", "proto", "count", "errors", "err%",
					     "p50",	 "p95",	  "p99",   "bytes",  "live"};

const char *agg_col_name(enum agg_col c)
{
	return c < AC_MAX ? ac_names[c] : "";
}

struct agg_view *agg_view_new(struct store *st)
{
	struct agg_view *v = calloc(1, sizeof(*v));

	if (!v)
		return NULL;
	v->st = st;
	v->col = AC_COUNT;
	v->desc = true;
	v->stale = true;
	return v;
}

static void agg_clear(struct agg_view *v)
{
	size_t i;

	for (i = 0; i < v->n; i++) {
		free(v->acc[i].row.key);
		free(v->acc[i].lat);
	}
	v->n = 0;
	map_free(&v->index);
}

void agg_view_free(struct agg_view *v)
{
	if (!v)
		return;
	agg_clear(v);
	free(v->acc);
	free(v->rows);
	free(v);
}

void agg_view_sort(struct agg_view *v, enum agg_col col, bool desc)
{
	v->col = col;
	v->desc = desc;
	v->stale = true;
}

enum agg_col agg_view_sort_col(const struct agg_view *v)
{
	return v->col;
}

bool agg_view_sort_desc(const struct agg_view *v)
{
	return v->desc;
}

void agg_norm_path(const char *path, struct strbuf *sb)
{
	const char *p = path;

	while (*p && *p != '?' && *p != '#') {
		const char *e = p;
		size_t n, i, digits = 0, hex = 0, alnum = 0, dashes = 0;

		if (*p == '/') {
			sb_append(sb, "/", 1);
			p++;
			continue;
		}
		while (*e && *e != '/' && *e != '?' && *e != '#')
			e++;
		n = (size_t)(e - p);
		for (i = 0; i < n; i++) {
			unsigned char c = (unsigned char)p[i];

			digits += isdigit(c) != 0;
			hex += isxdigit(c) != 0;
			alnum += isalnum(c) != 0;
			dashes += c == '-';
		}
		if (digits == n)
			sb_puts(sb, "{n}");
		else if (digits &&
			 ((hex == n && n >= 8) || (hex + dashes == n && dashes == 4 && n == 36) ||
			  (alnum == n && n >= 16)))
			sb_puts(sb, "{id}");
		else
			sb_append(sb, p, n);
		p = e;
	}
}

static bool ident_char(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '$' || c == '.';
}

void agg_norm_sql(const char *q, struct strbuf *sb)
{
	const char *p = q;
	bool space = false, last_lit = false;
	size_t list_from = (size_t)-1;

	while (*p) {
		bool lit = false;

		if (isspace((unsigned char)*p)) {
			space = true;
			p++;
			continue;
		}
		if (*p == '\'') {
			char qc = *p++;

			while (*p && !(*p == qc && p[1] != qc)) {
				if (*p == qc)
					p++;
				p++;
			}
			if (*p)
				p++;
			lit = true;
		} else if ((isdigit((unsigned char)*p) ||
			    (*p == '-' && isdigit((unsigned char)p[1]) && last_lit == false &&
			     sb->len && strchr("(,=<> ", sb->buf[sb->len - 1]))) &&
			   !(sb->len && ident_char(sb->buf[sb->len - 1]) && !space)) {
			p++;
			while (isalnum((unsigned char)*p) || *p == '.')
				p++;
			lit = true;
		}
		if (lit) {
			/* "?, ?" after an opening bracket collapses into one ? */
			if (last_lit && list_from != (size_t)-1) {
				sb->len = list_from;
				sb->buf[sb->len] = '\0';
			} else if (space && sb->len) {
				sb_append(sb, " ", 1);
			}
			if (!last_lit)
				list_from = sb->len;
			sb_append(sb, "?", 1);
			last_lit = true;
			space = false;
			continue;
		}
		if (*p == ',' && last_lit) {
			/* keep the comma until we know another literal follows */
			const char *n = p + 1;

			while (isspace((unsigned char)*n))
				n++;
			if (*n == '\'' || isdigit((unsigned char)*n) ||
			    (*n == '-' && isdigit((unsigned char)n[1]))) {
				p = n;
				space = false;
				continue;
			}
		}
		if (space && sb->len)
			sb_append(sb, " ", 1);
		space = false;
		last_lit = false;
		list_from = (size_t)-1;
		sb_append(sb, p, 1);
		p++;
	}
}

static uint64_t hash_str(const char *s, uint64_t h)
{
	while (*s)
		h = (h ^ (unsigned char)*s++) * 0x100000001b3ull;
	return h;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return CMP(x, y);
}

static uint64_t pct(const uint64_t *v, size_t n, unsigned p)
{
	size_t i;

	if (!n)
		return 0;
	/* nearest rank */
	i = (n * p + 99) / 100;
	return v[i ? i - 1 : 0];
}

static int cmp_agg(const void *pa, const void *pb, void *arg)
{
	const struct agg_view *v = arg;
	const struct agg_row *a = *(struct agg_row *const *)pa, *b = *(struct agg_row *const *)pb;
	int r = 0;

	switch (v->col) {
	case AC_KEY:
		r = strcmp(a->key, b->key);
		break;
	case AC_PROTO:
		r = strcmp(a->proto, b->proto);
		break;
	case AC_COUNT:
		r = CMP(a->count, b->count);
		break;
	case AC_ERRORS:
		r = CMP(a->errors, b->errors);
		break;
	case AC_ERR_RATE:
		r = CMP((double)a->errors / (double)a->count, (double)b->errors / (double)b->count);
		break;
	case AC_P50:
		r = CMP(a->p50, b->p50);
		break;
	case AC_P95:
		r = CMP(a->p95, b->p95);
		break;
	case AC_P99:
		r = CMP(a->p99, b->p99);
		break;
	case AC_BYTES:
		r = CMP(a->bytes, b->bytes);
		break;
	case AC_LIVE:
		r = CMP(a->live, b->live);
		break;
	case AC_MAX:
		break;
	}
	if (!r)
		r = strcmp(a->key, b->key);
	return v->desc ? -r : r;
}

static struct agg_acc *agg_find(struct agg_view *v, const char *proto, const char *key)
{
	uint64_t a = hash_str(key, 0xcbf29ce484222325ull), b = hash_str(proto, 7);
	uintptr_t i = (uintptr_t)map_get(&v->index, a, b);
	struct agg_acc *acc;

	if (i) {
		acc = &v->acc[i - 1];
		if (!strcmp(acc->row.key, key) && !strcmp(acc->row.proto, proto))
			return acc;
		return NULL; /* a collision: dropped from the aggregates */
	}
	if (v->n == v->cap) {
		size_t nc = v->cap ? v->cap * 2 : 64;
		struct agg_acc *na = realloc(v->acc, nc * sizeof(*na));

		if (!na)
			return NULL;
		v->acc = na;
		v->cap = nc;
	}
	acc = &v->acc[v->n];
	memset(acc, 0, sizeof(*acc));
	acc->row.key = strdup(key);
	acc->row.proto = proto;
	if (!acc->row.key || map_put(&v->index, a, b, (void *)(uintptr_t)(v->n + 1))) {
		free(acc->row.key);
		return NULL;
	}
	v->n++;
	return acc;
}

bool agg_view_update(struct agg_view *v, uint64_t now_ns)
{
	struct exch_table *t = store_exchanges(v->st);
	struct strbuf key = STRBUF_INIT;
	uint64_t mono = store_now_ns(), id;
	size_t i;

	(void)now_ns;
	if (!t)
		return false;
	if (!v->stale && v->gen == store_filter_gen(v->st) &&
	    (v->mod == exch_mod(t) || mono - v->built_ns < REBUILD_NS))
		return false;
	v->stale = false;
	v->gen = store_filter_gen(v->st);
	v->mod = exch_mod(t);
	v->built_ns = mono;
	agg_clear(v);
	for (id = exch_first_id(t); id < exch_next_id(t); id++) {
		struct store_exch *x = exch_get(t, id);
		struct agg_acc *acc;

		if (!x || x->kind == EXCH_SHELL || !exch_passes(v->st, x))
			continue;
		sb_reset(&key);
		agg_key(x, &key);
		if (key.failed)
			continue;
		acc = agg_find(v, exch_proto_name(x), key.buf ? key.buf : "");
		if (!acc)
			continue;
		acc->row.count++;
		acc->row.bytes += x->req_bytes + x->resp_bytes;
		if (x->pending) {
			acc->row.live++;
			continue;
		}
		if (exch_is_error(x))
			acc->row.errors++;
		if (x->no_answer)
			continue;
		if (acc->n_lat == acc->cap_lat) {
			size_t nc = acc->cap_lat ? acc->cap_lat * 2 : 16;
			uint64_t *l = realloc(acc->lat, nc * sizeof(*l));

			if (!l)
				continue;
			acc->lat = l;
			acc->cap_lat = nc;
		}
		acc->lat[acc->n_lat++] = x->latency_ns;
	}
	sb_free(&key);
	free(v->rows);
	v->rows = calloc(v->n ? v->n : 1, sizeof(*v->rows));
	if (!v->rows) {
		agg_clear(v);
		return true;
	}
	for (i = 0; i < v->n; i++) {
		struct agg_acc *acc = &v->acc[i];

		if (acc->n_lat > 1)
			qsort(acc->lat, acc->n_lat, sizeof(*acc->lat), cmp_u64);
		acc->row.p50 = pct(acc->lat, acc->n_lat, 50);
		acc->row.p95 = pct(acc->lat, acc->n_lat, 95);
		acc->row.p99 = pct(acc->lat, acc->n_lat, 99);
		v->rows[i] = &acc->row;
	}
	if (v->n > 1)
		qsort_r(v->rows, v->n, sizeof(*v->rows), cmp_agg, v);
	return true;
}

size_t agg_view_len(const struct agg_view *v)
{
	return v->rows ? v->n : 0;
}

const struct agg_row *agg_view_at(const struct agg_view *v, size_t i)
{
	return v->rows && i < v->n ? v->rows[i] : NULL;
}
