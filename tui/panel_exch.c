// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The Exchanges panel: one row per HTTP request/response, SQL query/result and
 * shell command (tui/session/exchanges.h), with both ends, status and latency.
 * Enter opens an exchange's detail; on a shell command it lists the exchanges
 * that command's process tree made while it ran (Backspace goes back). Opened
 * from an Aggregates row, it shows that endpoint's exchanges only, and Esc or
 * Backspace goes back to the Aggregates.
 */
#include <stdio.h>
#include <string.h>

#include "tui/format.h"
#include "tui/panel.h"
#include "tui/screen.h"
#include "tui/theme.h"

static void exch_update(struct screen *s)
{
	exch_view_update(s->xv, s->clock_ns);
}

static size_t exch_len(struct screen *s)
{
	return exch_view_len(s->xv);
}

static uint64_t exch_row_id(struct screen *s, size_t i)
{
	struct store_exch *x = exch_view_at(s->xv, i);

	return x ? x->id : 0;
}

enum { NCOLS = XC_MAX };

/* Column widths for the terminal's width: numbers keep their width, the names
 * (client, server, method) share what is left with the target, and are cut
 * first. */
static void widths(const struct screen *s, int *w)
{
	int cols = s->cols - 1, fixed, name;

	w[XC_TIME] = cols >= 110 ? 12 : 8;
	w[XC_PROTO] = 5;
	w[XC_METHOD] = cols >= 110 ? 9 : 6;
	w[XC_STATUS] = 9;
	w[XC_LATENCY] = 8;
	w[XC_REQ] = 5;
	w[XC_RESP] = 5;
	fixed = w[XC_TIME] + w[XC_PROTO] + w[XC_METHOD] + w[XC_STATUS] + w[XC_LATENCY] + w[XC_REQ] +
		w[XC_RESP] + (NCOLS - 1);
	name = (cols - fixed) / 4;
	w[XC_CLIENT] = w[XC_SERVER] = name < 8 ? 8 : name > 22 ? 22 : name;
	w[XC_TARGET] = 0;
}

/* The order the columns are shown in. */
static const enum exch_col order[NCOLS] = {XC_TIME,   XC_CLIENT,  XC_SERVER, XC_PROTO, XC_METHOD,
					   XC_STATUS, XC_LATENCY, XC_REQ,    XC_RESP,  XC_TARGET};
static const char *const heads[NCOLS] = {"TIME",   "CLIENT", "SERVER",	"PROTO", "METHOD",
					 "TARGET", "STATUS", "LATENCY", "REQ",	 "RESP"};
static const bool right[NCOLS] = {
    [XC_STATUS] = false, [XC_LATENCY] = true, [XC_REQ] = true, [XC_RESP] = true};

static void lay(struct screen *s, char cells[NCOLS][256], char *line, size_t size)
{
	int w[NCOLS], ow[NCOLS];
	bool r[NCOLS];
	const char *c[NCOLS];
	size_t i;

	widths(s, w);
	for (i = 0; i < NCOLS; i++) {
		c[i] = cells[order[i]];
		ow[i] = w[order[i]];
		r[i] = right[order[i]];
	}
	panel_layout(line, size, c, ow, r, NCOLS, s->cols - 1);
}

static void exch_heads(struct screen *s, char *line, size_t size)
{
	char cells[NCOLS][256];
	enum exch_col sc = exch_view_sort_col(s->xv);
	size_t i;

	for (i = 0; i < NCOLS; i++)
		snprintf(cells[i], sizeof(cells[i]), "%s%s", heads[i],
			 i == sc ? (exch_view_sort_desc(s->xv) ? "v" : "^") : "");
	lay(s, cells, line, size);
}

/* "pid comm": the pid first, so a narrow column cuts the name. */
static void end_cell(char *buf, size_t size, const struct exch_end *e, const struct store_exch *x,
		     bool server)
{
	struct strbuf sb = STRBUF_INIT;

	if (!e->pid) {
		if (server && x->srv_port)
			snprintf(buf, size, ":%u", x->srv_port);
		else
			snprintf(buf, size, "-");
		return;
	}
	fmt_printable(&sb, e->comm, strlen(e->comm));
	snprintf(buf, size, "%u %s", e->pid, sb.buf ? sb.buf : "");
	sb_free(&sb);
}

static bool exch_row(struct screen *s, size_t i, char *line, size_t size, int *role)
{
	struct store_exch *x = exch_view_at(s->xv, i);
	char cells[NCOLS][256], t[32];
	struct strbuf sb = STRBUF_INIT;

	if (!x)
		return false;
	fmt_clock(x->start_ns, t, sizeof(t));
	snprintf(cells[XC_TIME], 256, "%.*s", s->cols - 1 >= 110 ? 12 : 8, t);
	end_cell(cells[XC_CLIENT], 256, &x->cli, x, false);
	end_cell(cells[XC_SERVER], 256, &x->srv, x, true);
	snprintf(cells[XC_PROTO], 256, "%s", exch_proto_name(x));
	fmt_printable(&sb, x->method, strlen(x->method));
	snprintf(cells[XC_METHOD], 256, "%s", x->kind == EXCH_SHELL ? "cmd" : sb.buf ? sb.buf : "");
	sb_reset(&sb);
	fmt_printable(&sb, x->target, strlen(x->target) < 250 ? strlen(x->target) : 250);
	if (x->error && sb.len < 200) {
		sb_puts(&sb, "  ! ");
		fmt_printable(&sb, x->error, strlen(x->error) < 100 ? strlen(x->error) : 100);
	}
	snprintf(cells[XC_TARGET], 256, "%s", sb.buf ? sb.buf : "");
	exch_status_text(x, cells[XC_STATUS], 256);
	fmt_duration(exch_latency(x, s->clock_ns), cells[XC_LATENCY], 256);
	if (x->kind == EXCH_SHELL || (!x->req_bytes && !x->resp_bytes)) {
		snprintf(cells[XC_REQ], 256, "-");
		snprintf(cells[XC_RESP], 256, "-");
	} else {
		fmt_bytes(x->req_bytes, cells[XC_REQ], 256);
		fmt_bytes(x->resp_bytes, cells[XC_RESP], 256);
	}
	sb_free(&sb);
	lay(s, cells, line, size);
	if (x->pending)
		*role = ROLE_PAUSED;
	else if (exch_is_error(x) || (x->kind == EXCH_HTTP && x->status >= 400))
		*role = ROLE_STATUS_ERROR;
	else if (x->kind == EXCH_HTTP && x->status >= 300)
		*role = ROLE_STATUS_REDIRECT;
	else if (x->kind == EXCH_SHELL)
		*role = ROLE_COMMAND;
	else if (x->kind != EXCH_HTTP)
		*role = ROLE_QUERY;
	else
		*role = ROLE_STATUS_OK;
	return true;
}

static bool exch_action(struct screen *s, enum tui_action a)
{
	struct store_exch *x;

	switch (a) {
	case ACT_ENTER:
		x = exch_view_at(s->xv, s->ps[PANEL_EXCH].sel);
		if (!x)
			return true;
		if (x->kind == EXCH_SHELL && !s->xscope_cmd) {
			/* the exchanges its process tree made while it ran */
			s->xscope_cmd = x->id;
			exch_view_scope(s->xv, x->cli.pid, x->start_ns,
					x->pending ? 0 : x->start_ns + x->latency_ns);
			s->ps[PANEL_EXCH] = (struct panel_state){.tags = s->ps[PANEL_EXCH].tags};
			return true;
		}
		s->detail_exch = x->id;
		s->detail_seq = x->cli.seq ? x->cli.seq : x->srv.seq;
		s->detail_top = 0;
		s->prev_focus = PANEL_EXCH;
		s->focus = PANEL_DETAIL;
		return true;
	case ACT_BACK:
		if (!s->xscope_cmd && exch_view_scope_key_get(s->xv)) {
			/* back to the aggregate the rows were opened from */
			exch_view_scope_key(s->xv, NULL, NULL);
			s->ps[PANEL_EXCH] =
			    (struct panel_state){.tags = s->ps[PANEL_EXCH].tags, .follow = true};
			s->prev_focus = PANEL_EXCH;
			s->focus = PANEL_AGGR;
			return true;
		}
		if (!s->xscope_cmd)
			return false;
		s->xscope_cmd = 0;
		exch_view_scope(s->xv, 0, 0, 0);
		s->ps[PANEL_EXCH] =
		    (struct panel_state){.tags = s->ps[PANEL_EXCH].tags, .follow = true};
		return true;
	default:
		return false;
	}
}

static size_t exch_sort_cols(const char *const **names)
{
	static const char *n[NCOLS];
	size_t i;

	for (i = 0; i < NCOLS; i++)
		n[i] = exch_col_name((enum exch_col)i);
	*names = n;
	return NCOLS;
}

static size_t exch_sort_get(struct screen *s, bool *desc)
{
	*desc = exch_view_sort_desc(s->xv);
	return exch_view_sort_col(s->xv);
}

static void exch_sort_set(struct screen *s, size_t col, bool desc)
{
	exch_view_sort(s->xv, (enum exch_col)col, desc);
}

static const char *exch_scope(struct screen *s, char *buf, size_t size)
{
	struct store_exch *x;
	char d[32];

	if (!s->xscope_cmd && exch_view_scope_key_get(s->xv)) {
		snprintf(buf, size, " exchanges of %.100s  (Esc: back to Aggregates)",
			 exch_view_scope_key_get(s->xv));
		return buf;
	}
	if (!s->xscope_cmd)
		return NULL;
	x = exch_get(store_exchanges(s->st), s->xscope_cmd);
	if (!x) {
		snprintf(buf, size, " exchanges of pid %u's tree", exch_view_scope_pid(s->xv));
		return buf;
	}
	snprintf(buf, size, " tree of %u %s: %.60s (%s%s)", x->cli.pid, x->cli.comm, x->target,
		 x->pending ? "running " : "",
		 fmt_duration(exch_latency(x, s->clock_ns), d, sizeof(d)));
	return buf;
}

const struct panel_ops panel_exchanges = {
    .name = "Exchanges",
    .update = exch_update,
    .len = exch_len,
    .row_id = exch_row_id,
    .heads = exch_heads,
    .row = exch_row,
    .action = exch_action,
    .sort_cols = exch_sort_cols,
    .sort_get = exch_sort_get,
    .sort_set = exch_sort_set,
    .scope = exch_scope,
};
