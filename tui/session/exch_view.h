/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Views over the exchanges (tui/session/exchanges.h) for the TUI: the
 * exchanges list (filtered by the store's filter, sorted by any column,
 * optionally limited to one process tree over a time span) and the aggregates
 * per endpoint (method and path with ids collapsed: /users/{n}) and per
 * normalised query (literals as ?): count, errors, error rate, p50/p95/p99
 * latency, bytes and exchanges still pending.
 *
 * Both rebuild from the table on exch_view_update()/agg_view_update(): at once
 * when the filter, sort or scope changed, else when exchanges changed, at most
 * once a second for large views so rows do not jump under the cursor.
 */
#ifndef ECAPTOP_SESSION_EXCH_VIEW_H
#define ECAPTOP_SESSION_EXCH_VIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "decoders/json.h"
#include "tui/session/exchanges.h"

struct store;

enum exch_col {
	XC_TIME,
	XC_CLIENT,
	XC_SERVER,
	XC_PROTO,
	XC_METHOD,
	XC_TARGET,
	XC_STATUS,
	XC_LATENCY,
	XC_REQ,
	XC_RESP,
	XC_MAX
};

struct exch_view;
struct exch_view *exch_view_new(struct store *st); /* NULL + errno */
void exch_view_free(struct exch_view *v);	   /* accepts NULL */
void exch_view_sort(struct exch_view *v, enum exch_col col, bool desc);
enum exch_col exch_view_sort_col(const struct exch_view *v);
bool exch_view_sort_desc(const struct exch_view *v);
/* Only exchanges of process pid and its descendants that started in
 * [from_ns, to_ns] (to_ns 0: no end). pid 0: every exchange. */
void exch_view_scope(struct exch_view *v, uint32_t pid, uint64_t from_ns, uint64_t to_ns);
uint32_t exch_view_scope_pid(const struct exch_view *v);
/* Only exchanges of one aggregate: their protocol name (exch_proto_name) is
 * proto and their aggregate key (agg_key) is key, as in an agg_row. NULL key:
 * no such limit. Copies both; 0 or -ENOMEM (the limit is then off). */
int exch_view_scope_key(struct exch_view *v, const char *proto, const char *key);
/* The key the view is limited to, NULL if none. */
const char *exch_view_scope_key_get(const struct exch_view *v);
/* now_ns: the clock pending exchanges' ages are measured against (Unix ns).
 * Returns true when the rows changed. */
bool exch_view_update(struct exch_view *v, uint64_t now_ns);
size_t exch_view_len(const struct exch_view *v);
/* Row i; NULL past the end, or if its exchange was evicted since the update. */
struct store_exch *exch_view_at(const struct exch_view *v, size_t i);
const char *exch_col_name(enum exch_col c);
/* The latency, or for a pending exchange its age at now_ns. */
uint64_t exch_latency(const struct store_exch *x, uint64_t now_ns);

enum agg_col {
	AC_KEY,
	AC_PROTO,
	AC_COUNT,
	AC_ERRORS,
	AC_ERR_RATE,
	AC_P50,
	AC_P95,
	AC_P99,
	AC_BYTES,
	AC_LIVE,
	AC_MAX
};

struct agg_row {
	char *key; /* "GET /users/{n}", "SELECT * FROM t WHERE id = ?" */
	const char *proto;
	uint64_t count, errors, live, bytes;
	uint64_t p50, p95, p99; /* ns, over the answered exchanges */
};

struct agg_view;
struct agg_view *agg_view_new(struct store *st);
void agg_view_free(struct agg_view *v);
void agg_view_sort(struct agg_view *v, enum agg_col col, bool desc);
enum agg_col agg_view_sort_col(const struct agg_view *v);
bool agg_view_sort_desc(const struct agg_view *v);
bool agg_view_update(struct agg_view *v, uint64_t now_ns);
size_t agg_view_len(const struct agg_view *v);
const struct agg_row *agg_view_at(const struct agg_view *v, size_t i);
const char *agg_col_name(enum agg_col c);

/* The aggregate key of an exchange (agg_row.key) appended to sb: method and
 * normalised path for HTTP, the normalised query for SQL. false (nothing
 * appended) for a shell command, which has no aggregate. */
bool agg_key(const struct store_exch *x, struct strbuf *sb);
/* The aggregate key of a path: query string dropped, segments that are numbers
 * as {n}, ids (hex of 8 or more with a digit, UUIDs, long tokens with digits)
 * as {id}. Appends to sb. */
void agg_norm_path(const char *path, struct strbuf *sb);
/* The aggregate key of a query: string and number literals as ?, lists of them
 * as one ?, runs of white space as one space. Appends to sb. */
void agg_norm_sql(const char *q, struct strbuf *sb);

#endif
