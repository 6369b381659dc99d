// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The Aggregates panel: per endpoint (method and path with ids collapsed) and
 * per normalised query, over the exchanges the store holds and passing the
 * filter: count, errors, error rate, p50/p95/p99 latency, bytes, and how many
 * are pending now.
 */
#include <stdio.h>
#include <string.h>

#include "tui/format.h"
#include "tui/panel.h"
#include "tui/screen.h"
#include "tui/theme.h"

static void aggr_update(struct screen *s)
{
	agg_view_update(s->av, s->clock_ns);
}

static size_t aggr_len(struct screen *s)
{
	return agg_view_len(s->av);
}

/* Rows have no lasting id: the key's hash stands for one. */
static uint64_t aggr_row_id(struct screen *s, size_t i)
{
	const struct agg_row *r = agg_view_at(s->av, i);
	uint64_t h = 0xcbf29ce484222325ull;
	const char *p;

	if (!r)
		return 0;
	for (p = r->key; *p; p++)
		h = (h ^ (unsigned char)*p) * 0x100000001b3ull;
	for (p = r->proto; *p; p++)
		h = (h ^ (unsigned char)*p) * 0x100000001b3ull;
	return h ? h : 1;
}

enum { NCOLS = AC_MAX };

static const enum agg_col order[NCOLS] = {AC_PROTO, AC_COUNT, AC_ERRORS, AC_ERR_RATE, AC_P50,
					  AC_P95,   AC_P99,   AC_BYTES,	 AC_LIVE,     AC_KEY};
static const char *const heads[NCOLS] = {"ENDPOINT", "PROTO", "COUNT", "ERR",	"ERR%",
					 "P50",	     "P95",   "P99",   "BYTES", "LIVE"};

static void lay(struct screen *s, char cells[NCOLS][256], char *line, size_t size)
{
	static const int w[NCOLS] = {
	    [AC_KEY] = 0, [AC_PROTO] = 5, [AC_COUNT] = 7, [AC_ERRORS] = 6, [AC_ERR_RATE] = 6,
	    [AC_P50] = 8, [AC_P95] = 8,	  [AC_P99] = 8,	  [AC_BYTES] = 6,  [AC_LIVE] = 4};
	int ow[NCOLS];
	bool r[NCOLS];
	const char *c[NCOLS];
	size_t i;

	for (i = 0; i < NCOLS; i++) {
		c[i] = cells[order[i]];
		ow[i] = w[order[i]];
		r[i] = order[i] != AC_KEY && order[i] != AC_PROTO;
	}
	panel_layout(line, size, c, ow, r, NCOLS, s->cols - 1);
}

static void aggr_heads(struct screen *s, char *line, size_t size)
{
	char cells[NCOLS][256];
	enum agg_col sc = agg_view_sort_col(s->av);
	size_t i;

	for (i = 0; i < NCOLS; i++)
		snprintf(cells[i], sizeof(cells[i]), "%s%s", heads[i],
			 i == sc ? (agg_view_sort_desc(s->av) ? "v" : "^") : "");
	lay(s, cells, line, size);
}

static bool aggr_row(struct screen *s, size_t i, char *line, size_t size, int *role)
{
	const struct agg_row *r = agg_view_at(s->av, i);
	char cells[NCOLS][256];
	struct strbuf sb = STRBUF_INIT;
	bool answered;

	if (!r)
		return false;
	answered = r->count > r->live;
	fmt_printable(&sb, r->key, strlen(r->key) < 250 ? strlen(r->key) : 250);
	snprintf(cells[AC_KEY], 256, "%s", sb.buf ? sb.buf : "");
	sb_free(&sb);
	snprintf(cells[AC_PROTO], 256, "%s", r->proto);
	snprintf(cells[AC_COUNT], 256, "%llu", (unsigned long long)r->count);
	snprintf(cells[AC_ERRORS], 256, "%llu", (unsigned long long)r->errors);
	snprintf(cells[AC_ERR_RATE], 256, "%.1f%%",
		 r->count ? 100.0 * (double)r->errors / (double)r->count : 0.0);
	if (answered && r->p50 + r->p99) {
		fmt_duration(r->p50, cells[AC_P50], 256);
		fmt_duration(r->p95, cells[AC_P95], 256);
		fmt_duration(r->p99, cells[AC_P99], 256);
	} else {
		snprintf(cells[AC_P50], 256, "-");
		snprintf(cells[AC_P95], 256, "-");
		snprintf(cells[AC_P99], 256, "-");
	}
	fmt_bytes(r->bytes, cells[AC_BYTES], 256);
	snprintf(cells[AC_LIVE], 256, "%llu", (unsigned long long)r->live);
	lay(s, cells, line, size);
	*role = r->errors ? ROLE_STATUS_ERROR : r->live ? ROLE_PAUSED : ROLE_NORMAL;
	return true;
}

/* Enter: the exchanges of the selected endpoint or query (Esc or Backspace
 * comes back here). */
static bool aggr_action(struct screen *s, enum tui_action a)
{
	const struct agg_row *r;

	if (a != ACT_ENTER)
		return false;
	r = agg_view_at(s->av, s->ps[PANEL_AGGR].sel);
	if (!r)
		return true;
	if (exch_view_scope_key(s->xv, r->proto, r->key))
		return true;
	s->xscope_cmd = 0;
	exch_view_scope(s->xv, 0, 0, 0);
	s->ps[PANEL_EXCH] = (struct panel_state){.tags = s->ps[PANEL_EXCH].tags};
	s->prev_focus = PANEL_AGGR;
	s->focus = PANEL_EXCH;
	return true;
}

static size_t aggr_sort_cols(const char *const **names)
{
	static const char *n[NCOLS];
	size_t i;

	for (i = 0; i < NCOLS; i++)
		n[i] = agg_col_name((enum agg_col)i);
	*names = n;
	return NCOLS;
}

static size_t aggr_sort_get(struct screen *s, bool *desc)
{
	*desc = agg_view_sort_desc(s->av);
	return agg_view_sort_col(s->av);
}

static void aggr_sort_set(struct screen *s, size_t col, bool desc)
{
	agg_view_sort(s->av, (enum agg_col)col, desc);
}

const struct panel_ops panel_aggregates = {
    .name = "Aggregates",
    .update = aggr_update,
    .len = aggr_len,
    .row_id = aggr_row_id,
    .heads = aggr_heads,
    .row = aggr_row,
    .action = aggr_action,
    .sort_cols = aggr_sort_cols,
    .sort_get = aggr_sort_get,
    .sort_set = aggr_sort_set,
    .scope = NULL,
};
