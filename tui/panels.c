// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The panels: each draws itself from the store's views into its part of the
 * screen (see screen.h for the layout). Nothing here changes state except the
 * scroll positions needed to keep the selection visible.
 */
#include <curses.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "engine/log.h"
#include "tui/format.h"
#include "tui/keymap.h"
#include "tui/panel.h"
#include "tui/save.h"
#include "tui/screen.h"
#include "tui/theme.h"
#include "tui/timeline.h"

static const char *const panel_names[PANEL_MAX] = {
    "Processes", "Connections", "Events", "Detail", "Log", "Exchanges", "Aggregates"};

const struct panel_ops *panels_ops(enum panel_id p)
{
	switch (p) {
	case PANEL_EXCH:
		return &panel_exchanges;
	case PANEL_AGGR:
		return &panel_aggregates;
	default:
		return NULL;
	}
}

/* Draw text at (y, x) with role, at most w columns (bytes of ASCII; UTF-8 text is
 * counted by characters). Returns the columns used. */
static int put(int y, int x, int role, const char *text, int w)
{
	int cols = 0;
	const unsigned char *p = (const unsigned char *)text;
	size_t n = 0;

	if (w <= 0)
		return 0;
	/* count columns: one per character (no wide characters reach here) */
	while (p[n] && cols < w) {
		n++;
		while ((p[n] & 0xc0) == 0x80)
			n++;
		cols++;
	}
	attrset(theme_attr(role));
	mvaddnstr(y, x, text, (int)n);
	return cols;
}

/* Fill the rest of line y from x with role. */
static void fill(int y, int x, int role, int cols)
{
	attrset(theme_attr(role));
	if (x < cols)
		mvhline(y, x, ' ', cols - x);
}

int panels_put(int y, int x, int role, const char *text, int w)
{
	return put(y, x, role, text, w);
}

void panels_fill(int y, int x, int role, int cols)
{
	fill(y, x, role, cols);
}

/* Columns (characters) of the first n bytes of UTF-8 text. */
static int text_cols(const char *t, size_t n)
{
	int c = 0;
	size_t i;

	for (i = 0; i < n && t[i]; i++)
		c += ((unsigned char)t[i] & 0xc0) != 0x80;
	return c;
}

/* Bytes of t that fill at most w columns. */
static size_t text_bytes(const char *t, int w)
{
	size_t i = 0;
	int c = 0;

	while (t[i]) {
		size_t k = 1;

		while (((unsigned char)t[i + k] & 0xc0) == 0x80)
			k++;
		if (c + 1 > w)
			break;
		c++;
		i += k;
	}
	return i;
}

void panel_layout(char *line, size_t size, const char *const *cells, const int *widths,
		  const bool *right, size_t n, int cols)
{
	size_t i, pos = 0;
	int used = 0;

	line[0] = '\0';
	for (i = 0; i < n && pos + 1 < size; i++) {
		int w = widths[i] ? widths[i] : cols - used;
		size_t b;
		int c, pad;

		if (w <= 0)
			break;
		b = text_bytes(cells[i], w);
		c = text_cols(cells[i], b);
		pad = w - c;
		if (pos + b + (size_t)pad + 2 >= size)
			break;
		if (right && right[i])
			pos += (size_t)snprintf(line + pos, size - pos, "%*s%.*s", pad, "", (int)b,
						cells[i]);
		else
			pos += (size_t)snprintf(line + pos, size - pos, "%.*s%*s", (int)b, cells[i],
						pad, "");
		used += w;
		if (i + 1 < n) {
			line[pos++] = ' ';
			line[pos] = '\0';
			used++;
		}
	}
}

int panels_rows(const struct screen *s)
{
	return s->lines - TUI_ROW0 - 2;
}

/* The replay's part of the header: state, file, position / duration, speed,
 * events. Returns the columns used. */
static int draw_replay_state(struct screen *s, int x)
{
	const struct engine_replay_status *rs = &s->rs;
	const char *src = s->o && s->o->source ? s->o->source : "", *base = strrchr(src, '/');
	uint64_t dur = rs->last_ns > rs->first_ns ? rs->last_ns - rs->first_ns : 0;
	uint64_t pos = s->rp_shown_ns > rs->first_ns ? s->rp_shown_ns - rs->first_ns : 0;
	char a[32], b[32], line[160];
	int x0 = x;

	x += put(0, x, rs->paused ? ROLE_PAUSED : ROLE_STATUS_OK,
		 rs->paused ? " PAUSED " : " PLAYING ", s->cols - x);
	x += put(0, x, ROLE_NORMAL, " ", s->cols - x);
	x += put(0, x, ROLE_HEADER_VALUE, base ? base + 1 : src, s->cols - x);
	snprintf(line, sizeof(line), "  %s / %s", timeline_fmt_pos(pos, a, sizeof(a)),
		 timeline_fmt_pos(dur, b, sizeof(b)));
	x += put(0, x, ROLE_HEADER_VALUE, line, s->cols - x);
	snprintf(line, sizeof(line), "  %s  event %llu/%llu%s",
		 timeline_fmt_speed(rs->speed, a, sizeof(a)), (unsigned long long)s->rp_index,
		 (unsigned long long)rs->total, rs->finished && !s->rp_wait_reset ? " end" : "");
	x += put(0, x, ROLE_NORMAL, line, s->cols - x);
	return x - x0;
}

/* "all", "pid 12,34 uid 0" */
static void kernel_text(const struct screen *s, char *buf, size_t size)
{
	size_t n = 0, i;

	buf[0] = '\0';
	if (s->replay || !s->e) {
		snprintf(buf, size, "%s", s->replay ? "(replay)" : "(none)");
		return;
	}
	if (!s->n_kpids && !s->n_kuids) {
		snprintf(buf, size, "all");
		return;
	}
	if (s->n_kpids) {
		n += (size_t)snprintf(buf + n, size - n, "pid ");
		for (i = 0; i < s->n_kpids && n + 12 < size; i++)
			n += (size_t)snprintf(buf + n, size - n, "%s%u", i ? "," : "", s->kpids[i]);
	}
	if (s->n_kuids && n + 8 < size) {
		n += (size_t)snprintf(buf + n, size - n, "%suid ", n ? " " : "");
		for (i = 0; i < s->n_kuids && n + 12 < size; i++)
			n += (size_t)snprintf(buf + n, size - n, "%s%u", i ? "," : "", s->kuids[i]);
	}
}

static void draw_header(struct screen *s)
{
	struct store_stats ss;
	char a[64], b[64], line[512];
	const struct engine_stats *es = &s->es;
	uint64_t now = store_now_ns(), el = (now - s->start_ns) / 1000000000ull;
	static const char *const lost_names[] = {"reserve", "read",	 "trunc", "perf",
						 "queue",   "malformed", "alloc", "map"};
	uint64_t lost[] = {es->lost.reserve, es->lost.read,	 es->lost.trunc, es->lost.perf,
			   es->lost.queue,   es->lost.malformed, es->lost.alloc, es->lost.map};
	int x = 0;
	size_t i;

	store_get_stats(s->st, &ss);
	fill(0, 0, ROLE_NORMAL, s->cols);
	fill(1, 0, ROLE_NORMAL, s->cols);
	x += put(0, x, ROLE_HEADER, "ecaptop ", s->cols - x);
	if (s->replay) {
		x += draw_replay_state(s, x);
	} else {
		if (s->paused) {
			snprintf(line, sizeof(line), " PAUSED %zu waiting ", s->pend_n);
			x += put(0, x, ROLE_PAUSED, line, s->cols - x);
			x += put(0, x, ROLE_NORMAL, " ", s->cols - x);
		}
		x += put(0, x, ROLE_HEADER_VALUE, s->o && s->o->source ? s->o->source : "live",
			 s->cols - x);
		snprintf(line, sizeof(line), "  %02llu:%02llu:%02llu",
			 (unsigned long long)(el / 3600), (unsigned long long)(el / 60 % 60),
			 (unsigned long long)(el % 60));
		x += put(0, x, ROLE_HEADER_VALUE, line, s->cols - x);
	}
	snprintf(line, sizeof(line), "  %.0f ev/s  %s B/s", s->ev_per_s,
		 fmt_bytes((uint64_t)s->bytes_per_s, a, sizeof(a)));
	x += put(0, x, ROLE_NORMAL, line, s->cols - x);
	snprintf(
	    line, sizeof(line), "  stored %s/%s", fmt_bytes(ss.stored, a, sizeof(a)),
	    fmt_bytes(s->o && s->o->store_cap ? s->o->store_cap : STORE_DEFAULT_MAX, b, sizeof(b)));
	x += put(0, x, ROLE_NORMAL, line, s->cols - x);
	/* the byte budget (--max-memory): what the stored events hold */
	snprintf(line, sizeof(line), " %sB/", fmt_bytes(ss.mem, a, sizeof(a)));
	snprintf(line + strlen(line), sizeof(line) - strlen(line), "%sB  evicted ",
		 fmt_bytes(s->o && s->o->store_mem ? s->o->store_mem : STORE_DEFAULT_MAX_BYTES, b,
			   sizeof(b)));
	x += put(0, x, ROLE_NORMAL, line, s->cols - x);
	snprintf(line, sizeof(line), "%llu", (unsigned long long)(ss.evicted + s->pend_dropped));
	x += put(0, x, ss.evicted + s->pend_dropped ? ROLE_LOST : ROLE_HEADER_VALUE, line,
		 s->cols - x);
	snprintf(line, sizeof(line), "  procs %llu conns %llu", (unsigned long long)ss.procs,
		 (unsigned long long)ss.conns);
	x += put(0, x, ROLE_NORMAL, line, s->cols - x);
	if (save_tag_count(s)) {
		snprintf(line, sizeof(line), "  tagged %zu", save_tag_count(s));
		put(0, x, ROLE_HEADER_VALUE, line, s->cols - x);
	}

	/* line 2: what the kernel captures, what the display shows, what was lost */
	x = put(1, 0, ROLE_HEADER, "kernel: ", s->cols);
	kernel_text(s, line, sizeof(line));
	x += put(1, x, ROLE_HEADER_VALUE, line, s->cols - x);
	{
		uint64_t done, total;
		const char *ft = filter_text(store_get_filter(s->st));

		store_filter_progress(s->st, &done, &total);
		x += put(1, x, ROLE_HEADER, "  filter: ", s->cols - x);
		x += put(1, x, ROLE_HEADER_VALUE, ft[0] ? ft : "(none)", s->cols - x);
		if (done < total && total) {
			snprintf(line, sizeof(line), "  filtering %llu%%",
				 (unsigned long long)(done * 100 / total));
			x += put(1, x, ROLE_PAUSED, line, s->cols - x);
		}
	}
	x += put(1, x, ROLE_HEADER, "  lost:", s->cols - x);
	{
		bool any = false;

		for (i = 0; i < sizeof(lost) / sizeof(lost[0]); i++) {
			if (!lost[i])
				continue;
			snprintf(line, sizeof(line), " %s ", lost_names[i]);
			x += put(1, x, ROLE_NORMAL, line, s->cols - x);
			snprintf(line, sizeof(line), "%llu", (unsigned long long)lost[i]);
			x += put(1, x, ROLE_LOST, line, s->cols - x);
			any = true;
		}
		if (!any)
			x += put(1, x, ROLE_HEADER_VALUE, " 0", s->cols - x);
	}
	/* idle processes and exec rows left out (i shows them) */
	if (!s->show_idle) {
		size_t h = store_view_hidden(
		    s->views[s->focus == PANEL_EVENTS ? PANEL_EVENTS : PANEL_PROCS]);

		snprintf(line, sizeof(line), "  hidden %zu %s (i)", h,
			 s->focus == PANEL_EVENTS ? "exec" : "idle");
		put(1, x, ROLE_DIM, line, s->cols - x);
	}
}

int panels_tab_at(const struct screen *s, int x)
{
	int p, pos = 0;

	(void)s;
	for (p = 0; p < PANEL_MAX; p++) {
		int w = (int)strlen(panel_names[p]) + 2;

		if (x >= pos && x < pos + w)
			return p;
		pos += w + 1;
	}
	return -1;
}

static void draw_tabs(struct screen *s)
{
	char path[256] = "", ep[80];
	int p, x = 0;

	fill(2, 0, ROLE_TAB, s->cols);
	for (p = 0; p < PANEL_MAX; p++) {
		char t[32];

		snprintf(t, sizeof(t), " %s ", panel_names[p]);
		x += put(2, x, p == (int)s->focus ? ROLE_TAB_FOCUS : ROLE_TAB, t, s->cols - x);
		x += put(2, x, ROLE_TAB, " ", s->cols - x);
	}
	/* the drill-down path */
	if (s->conns_pid) {
		struct store_proc *pr = store_proc_get(s->st, s->conns_pid);

		snprintf(path, sizeof(path), " pid %u %s", s->conns_pid, pr ? pr->comm : "");
	}
	if (s->events_conn) {
		struct store_conn *c = store_conn_get(s->st, s->events_conn);
		size_t n = strlen(path);

		if (c)
			snprintf(path + n, sizeof(path) - n, " %s %s %s", n ? fmt_arrow() : "",
				 fmt_proto_conn(c),
				 fmt_endpoint(c->raddr_str, c->rport, ep, sizeof(ep)));
	} else if (s->events_pid && s->events_pid != s->conns_pid) {
		size_t n = strlen(path);

		snprintf(path + n, sizeof(path) - n, " events of pid %u", s->events_pid);
	}
	if (panels_ops(s->focus) && panels_ops(s->focus)->scope &&
	    !panels_ops(s->focus)->scope(s, path, sizeof(path)))
		path[0] = '\0';
	if (path[0] && x + 2 < s->cols)
		put(2, x + 1, ROLE_DIM, path, s->cols - x - 1);
}

/* Column headings: name and width of each column (0 width: the rest). */
struct col {
	const char *name;
	int width;
	bool right;
	enum store_col sort;
};

/* An address column holds "255.255.255.255:65535" whole where it can, and
 * never less than "127.0.0.1:65535": numbers are not cut, names are. */
static int conn_addr_width(const struct screen *s)
{
	int w = (s->cols - 60) / 2;

	return w < 15 ? 15 : w > 40 ? 40 : w;
}

/* The COMM column of connections gives way first at narrow widths. */
static int conn_comm_width(const struct screen *s)
{
	int w = s->cols - 1 - (6 + 2 * conn_addr_width(s) + 7 + 6 + 6 + 5 + 5 + 9);

	return w < 4 ? 4 : w > 12 ? 12 : w;
}

static size_t panel_cols(const struct screen *s, enum panel_id p, struct col *c)
{
	size_t n = 0;

#define COL(nm, w, r, so)                                                                          \
	c[n++] = (struct col)                                                                      \
	{                                                                                          \
		nm, w, r, so                                                                       \
	}
	switch (p) {
	case PANEL_PROCS:
		COL("PID", 7, true, STORE_COL_PID);
		COL("USER", 9, false, STORE_COL_USER);
		COL("COMM", 15, false, STORE_COL_COMM);
		COL("CONNS", 5, true, STORE_COL_CONNS);
		COL("RECV", 7, true, STORE_COL_RECV);
		COL("SENT", 7, true, STORE_COL_SENT);
		COL("EVENTS", 7, true, STORE_COL_EVENTS);
		COL("LAST", 5, true, STORE_COL_LAST);
		COL("COMMAND", 0, false, STORE_COL_MAX);
		break;
	case PANEL_CONNS:
		COL("PROTO", 6, false, STORE_COL_PROTO);
		COL("LOCAL", conn_addr_width(s), false, STORE_COL_LOCAL);
		COL("REMOTE", conn_addr_width(s), false, STORE_COL_REMOTE);
		COL("PID", 7, true, STORE_COL_PID);
		COL("COMM", conn_comm_width(s), false, STORE_COL_COMM);
		COL("SENT", 6, true, STORE_COL_SENT);
		COL("RECV", 6, true, STORE_COL_RECV);
		COL("REQS", 5, true, STORE_COL_REQUESTS);
		COL("LAST", 5, true, STORE_COL_LAST);
		COL("HOST", 0, false, STORE_COL_MAX);
		break;
	case PANEL_EVENTS:
		COL("TIME", 12, false, STORE_COL_TIME);
		COL("PID", 7, true, STORE_COL_PID);
		COL("COMM", 15, false, STORE_COL_COMM);
		COL("PROTO", 7, false, STORE_COL_PROTO);
		COL("SUMMARY", 0, false, STORE_COL_SIZE);
		break;
	default:
		break;
	}
#undef COL
	return n;
}

/* Lay cells out into line (width cols, padded with spaces). */
static void layout(char *line, size_t size, const struct col *c, size_t n, char cells[][256],
		   int cols)
{
	size_t i, pos = 0;

	for (i = 0; i < n && pos + 1 < size; i++) {
		int w = c[i].width ? c[i].width : cols - (int)pos;
		int len = (int)strlen(cells[i]);

		if (w <= 0)
			break;
		if (pos + (size_t)w + 2 >= size)
			w = (int)(size - pos - 2);
		if (c[i].right && len < w)
			pos += (size_t)snprintf(line + pos, size - pos, "%*s", w, cells[i]);
		else
			pos += (size_t)snprintf(line + pos, size - pos, "%-*.*s", w, w, cells[i]);
		if (pos + 1 < size && i + 1 < n) {
			line[pos++] = ' ';
			line[pos] = '\0';
		}
	}
}

static void draw_col_heads(struct screen *s)
{
	struct col c[12];
	char cells[12][256], line[1024];
	size_t n, i;
	struct store_view *v = s->focus <= PANEL_EVENTS ? s->views[s->focus] : NULL;

	fill(3, 0, ROLE_COLUMNS, s->cols);
	if (panels_ops(s->focus)) {
		panels_ops(s->focus)->heads(s, line, sizeof(line));
		put(3, 0, ROLE_COLUMNS, line, s->cols);
		return;
	}
	if (!v) {
		put(3, 0, ROLE_COLUMNS,
		    s->focus == PANEL_DETAIL ? (s->hex ? " Detail (hex)" : " Detail (text)")
					     : " Log (newest last)",
		    s->cols);
		return;
	}
	n = panel_cols(s, s->focus, c);
	for (i = 0; i < n; i++)
		snprintf(cells[i], sizeof(cells[i]), "%s%s", c[i].name,
			 c[i].sort == store_view_sort_col(v) ? (store_view_sort_desc(v) ? "v" : "^")
							     : "");
	line[0] = '\0';
	layout(line, sizeof(line), c, n, cells, s->cols);
	put(3, 0, ROLE_COLUMNS, line, s->cols);
}

static bool tagged(const struct tag_set *t, uint64_t id)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (t->v[i] == id)
			return true;
	return false;
}

/* The cells of row i; returns the row's id (0 if none) and its role hint. */
static uint64_t row_cells(struct screen *s, enum panel_id p, size_t i, char cells[][256], int *role)
{
	uint64_t now = s->clock_ns;
	struct strbuf sb = STRBUF_INIT;

	*role = ROLE_NORMAL;
	if (p == PANEL_PROCS) {
		struct store_proc *pr = store_view_proc(s->views[p], i);

		if (!pr)
			return 0;
		snprintf(cells[0], 256, "%u", pr->pid);
		snprintf(cells[1], 256, "%s", fmt_user(pr->uid));
		fmt_printable(&sb, pr->comm, strlen(pr->comm));
		snprintf(cells[2], 256, "%s", sb.buf ? sb.buf : "");
		snprintf(cells[3], 256, "%u", pr->conns);
		fmt_bytes(pr->bytes_recv, cells[4], 256);
		fmt_bytes(pr->bytes_sent, cells[5], 256);
		snprintf(cells[6], 256, "%llu", (unsigned long long)pr->events);
		fmt_age(pr->last_ns, now, cells[7], 256);
		sb_reset(&sb);
		if (pr->cmdline)
			fmt_printable(&sb, pr->cmdline, strlen(pr->cmdline));
		/* The cgroup last: long, and the command matters more. */
		snprintf(cells[8], 256, "%s%s%s%s%s", sb.buf ? sb.buf : "",
			 pr->forked ? " (forked)" : "", pr->exited ? " (exited)" : "",
			 pr->cgroup ? "  cgroup:" : "", pr->cgroup ? pr->cgroup : "");
		if (pr->exited)
			*role = ROLE_DIM;
		sb_free(&sb);
		return pr->pid;
	}
	if (p == PANEL_CONNS) {
		struct store_conn *c = store_view_conn(s->views[p], i);

		if (!c)
			return 0;
		snprintf(cells[0], 256, "%s", fmt_proto_conn(c));
		fmt_endpoint(c->laddr_str, c->lport, cells[1], 256);
		fmt_endpoint(c->raddr_str, c->rport, cells[2], 256);
		snprintf(cells[3], 256, "%u", c->pid);
		fmt_printable(&sb, c->proc->comm, strlen(c->proc->comm));
		snprintf(cells[4], 256, "%s", sb.buf ? sb.buf : "");
		fmt_bytes(c->bytes_sent, cells[5], 256);
		fmt_bytes(c->bytes_recv, cells[6], 256);
		snprintf(cells[7], 256, "%llu", (unsigned long long)c->requests);
		fmt_age(c->last_ns, now, cells[8], 256);
		sb_reset(&sb);
		fmt_printable(&sb, c->host, strlen(c->host));
		snprintf(cells[9], 256, "%s%s%s",
			 c->local_is_client == 0   ? "server "
			 : c->local_is_client == 1 ? "client "
						   : "",
			 sb.buf ? sb.buf : "", c->closed ? " (closed)" : "");
		if (c->closed)
			*role = ROLE_DIM;
		sb_free(&sb);
		return c->id;
	}
	if (p == PANEL_EVENTS) {
		struct store_item *it = store_view_item(s->views[p], i);

		if (!it)
			return 0;
		fmt_clock(it->ts_ns, cells[0], 256);
		snprintf(cells[1], 256, "%u", it->proc->pid);
		fmt_printable(&sb, it->proc->comm, strlen(it->proc->comm));
		snprintf(cells[2], 256, "%s", sb.buf ? sb.buf : "");
		snprintf(cells[3], 256, "%s", fmt_proto_item(it));
		sb_reset(&sb);
		fmt_summary(it, &sb);
		snprintf(cells[4], 256, "%s", sb.buf ? sb.buf : "");
		if (it->rec && it->rec->type == DEC_R_HTTP)
			*role = it->rec->http.status >= 400   ? ROLE_STATUS_ERROR
				: it->rec->http.status >= 300 ? ROLE_STATUS_REDIRECT
				: it->rec->http.status	      ? ROLE_STATUS_OK
							      : ROLE_HTTP_METHOD;
		else if (it->rec && (it->rec->type == DEC_R_MYSQL || it->rec->type == DEC_R_PGSQL))
			*role = (it->rec->type == DEC_R_MYSQL ? it->rec->mysql.error
							      : it->rec->pgsql.error)
				    ? ROLE_STATUS_ERROR
				    : ROLE_QUERY;
		else if (it->ev && it->ev->h.kind == EC_K_COMMAND)
			*role = ROLE_COMMAND;
		else if (it->ev && it->ev->h.kind == EC_K_QUERY)
			*role = ROLE_QUERY;
		else if (it->ev && it->ev->h.kind == EC_K_DATA)
			*role = it->ev->h.dir == EC_DIR_SEND ? ROLE_SEND : ROLE_RECV;
		else
			*role = ROLE_DIM;
		sb_free(&sb);
		return it->seq;
	}
	return 0;
}

void panels_row_text(struct screen *s, enum panel_id p, size_t i, struct strbuf *sb)
{
	char cells[12][256];
	int role;
	size_t k, n;
	struct col c[12];

	if (panels_ops(p)) {
		char line[1024];

		if (panels_ops(p)->row(s, i, line, sizeof(line), &role))
			sb_puts(sb, line);
		return;
	}
	n = panel_cols(s, p, c);
	if (!row_cells(s, p, i, cells, &role))
		return;
	for (k = 0; k < n; k++) {
		sb_puts(sb, cells[k]);
		sb_puts(sb, " ");
	}
}

static void draw_table(struct screen *s)
{
	struct store_view *v = s->views[s->focus];
	struct panel_state *ps = &s->ps[s->focus];
	int rows = panels_rows(s), y;
	size_t len = store_view_len(v), n;
	struct col c[12];
	char cells[12][256], line[1024];

	n = panel_cols(s, s->focus, c);
	for (y = 0; y < rows; y++) {
		size_t i = ps->top + (size_t)y;
		int role;
		uint64_t id;

		fill(TUI_ROW0 + y, 0, ROLE_NORMAL, s->cols);
		if (i >= len)
			continue;
		memset(cells, 0, sizeof(cells));
		id = row_cells(s, s->focus, i, cells, &role);
		if (!id)
			continue;
		line[0] = '\0';
		layout(line, sizeof(line), c, n, cells, s->cols - 1);
		if (i == ps->sel) {
			fill(TUI_ROW0 + y, 0, ROLE_SELECTION, s->cols);
			role = ROLE_SELECTION;
		}
		/* the tag mark takes the first column */
		if (tagged(&ps->tags, id)) {
			put(TUI_ROW0 + y, 0, ROLE_TAGGED, "*", 1);
			if (role != ROLE_SELECTION)
				role = ROLE_TAGGED;
			put(TUI_ROW0 + y, 1, role, line, s->cols - 1);
		} else {
			put(TUI_ROW0 + y, 0, role, line, s->cols);
		}
	}
	if (!len) {
		const char *m =
		    store_get_filter(s->st) ? "no rows pass the filter (F4 to change it)"
		    : s->replay ? "nothing at this position of the replay (p plays, . steps)"
				: "nothing captured yet";

		put(TUI_ROW0 + 1, 2, ROLE_DIM, m, s->cols - 2);
	}
}

/* The rows of a panel object. */
static void draw_obj_table(struct screen *s, const struct panel_ops *ops)
{
	struct panel_state *ps = &s->ps[s->focus];
	int rows = panels_rows(s), y;
	size_t len = ops->len(s);
	char line[1024];

	for (y = 0; y < rows; y++) {
		size_t i = ps->top + (size_t)y;
		int role = ROLE_NORMAL;

		fill(TUI_ROW0 + y, 0, ROLE_NORMAL, s->cols);
		if (i >= len || !ops->row(s, i, line, sizeof(line), &role))
			continue;
		if (i == ps->sel) {
			fill(TUI_ROW0 + y, 0, ROLE_SELECTION, s->cols);
			role = ROLE_SELECTION;
		}
		put(TUI_ROW0 + y, 0, role, line, s->cols);
	}
	if (!len) {
		const char *m =
		    store_get_filter(s->st)  ? "no rows pass the filter (F4 to change it)"
		    : s->focus == PANEL_EXCH ? "no exchanges yet (HTTP, SQL or shell commands)"
					     : "no exchanges to aggregate yet";

		put(TUI_ROW0 + 1, 2, ROLE_DIM, m, s->cols - 2);
	}
}

static void hexdump(struct strbuf *out, const uint8_t *d, size_t len)
{
	size_t off, i;

	for (off = 0; off < len; off += 16) {
		sb_printf(out, "%08zx  ", off);
		for (i = 0; i < 16; i++) {
			if (off + i < len)
				sb_printf(out, "%02x ", d[off + i]);
			else
				sb_puts(out, "   ");
			if (i == 7)
				sb_puts(out, " ");
		}
		sb_puts(out, " |");
		for (i = 0; i < 16 && off + i < len; i++)
			sb_printf(out, "%c",
				  d[off + i] >= 0x20 && d[off + i] < 0x7f ? d[off + i] : '.');
		sb_puts(out, "|\n");
	}
}

/* The head of an exchange's detail: both ends, status, latency, sizes. */
static void exch_detail(struct screen *s, const struct store_exch *x, struct strbuf *sb)
{
	char t[32], d[32], st[64], a[32], b[32], ep[80];

	fmt_clock(x->start_ns, t, sizeof(t));
	exch_status_text(x, st, sizeof(st));
	sb_printf(sb, "exchange %s  %s ", t, exch_proto_name(x));
	fmt_printable(sb, x->method, strlen(x->method));
	sb_puts(sb, " ");
	fmt_printable(sb, x->target, strlen(x->target));
	sb_puts(sb, "\n");
	sb_printf(sb, "status %s  %s %s", st, x->pending ? "waiting for" : "latency",
		  fmt_duration(exch_latency(x, s->clock_ns), d, sizeof(d)));
	if (x->kind != EXCH_SHELL)
		sb_printf(sb, "  request %s  response %s", fmt_bytes(x->req_bytes, a, sizeof(a)),
			  fmt_bytes(x->resp_bytes, b, sizeof(b)));
	if (x->rows >= 0)
		sb_printf(sb, "  rows %lld", (long long)x->rows);
	sb_puts(sb, "\n");
	if (x->kind == EXCH_SHELL && !x->pending && x->status > 1)
		sb_printf(sb, "EXIT STATUS %d (non-zero)\n", x->status - 1);
	if (x->error) {
		sb_printf(sb, "ERROR SQLSTATE %s: ", x->sqlstate[0] ? x->sqlstate : "?");
		fmt_printable(sb, x->error, strlen(x->error));
		sb_puts(sb, "\n");
	}
	if (x->stream_id || x->host[0]) {
		if (x->stream_id)
			sb_printf(sb, "h2 stream %u  ", x->stream_id);
		sb_puts(sb, x->stream_id ? ":authority " : "host ");
		fmt_printable(sb, x->host, strlen(x->host));
		sb_puts(sb, "\n");
	}
	sb_printf(sb, "client %u ", x->cli.pid);
	fmt_printable(sb, x->cli.comm, strlen(x->cli.comm));
	if (x->kind != EXCH_SHELL) {
		if (x->srv.pid) {
			sb_printf(sb, "  server %u ", x->srv.pid);
			fmt_printable(sb, x->srv.comm, strlen(x->srv.comm));
		} else {
			sb_puts(sb, "  server (not captured)");
		}
		sb_printf(sb, " at %s\n", fmt_endpoint(x->srv_addr, x->srv_port, ep, sizeof(ep)));
	} else {
		sb_puts(sb, "\n");
	}
	if (x->no_answer)
		sb_puts(sb, "the connection ended without an answer\n");
	sb_puts(sb, "----\n");
}

size_t panels_detail_build(struct screen *s, struct strbuf *sb)
{
	struct store_item *it = store_item_get(s->st, s->detail_seq);
	struct strbuf raw = STRBUF_INIT;
	char t[32], a[80], b[80];
	size_t lines = 0, i;

	if (s->detail_exch) {
		struct store_exch *x = exch_get(store_exchanges(s->st), s->detail_exch);

		if (x) {
			/* a record arriving since Enter completes the exchange */
			if (x->cli.seq || x->srv.seq)
				it = store_item_get(s->st, x->cli.seq ? x->cli.seq : x->srv.seq);
			exch_detail(s, x, sb);
		}
	}

	if (!it) {
		sb_puts(sb, !s->detail_seq ? "(no event selected: Enter on a row of Events)\n"
			    : s->replay && s->detail_seq >= store_next_seq(s->st)
				? "(not reached at this position of the replay: play or step "
				  "forward)\n"
				: "(this event was evicted from the store)\n");
		return 1;
	}
	fmt_clock(it->ts_ns, t, sizeof(t));
	sb_printf(sb, "time %s  pid %u  uid %u  comm ", t, it->proc->pid, it->proc->uid);
	fmt_printable(sb, it->proc->comm, strlen(it->proc->comm));
	sb_printf(sb, "  %s\n", fmt_proto_item(it));
	if (it->conn)
		sb_printf(sb, "connection %s %s %s  (%s, %s)\n",
			  fmt_endpoint(it->conn->laddr_str, it->conn->lport, a, sizeof(a)),
			  fmt_arrow(),
			  fmt_endpoint(it->conn->raddr_str, it->conn->rport, b, sizeof(b)),
			  ec_source_name(it->conn->source),
			  it->conn->local_is_client == 1   ? "local is the client"
			  : it->conn->local_is_client == 0 ? "local is the server"
							   : "role unknown");
	if (it->rec && it->rec->latency_us)
		sb_printf(sb, "latency %s\n",
			  fmt_duration(it->rec->latency_us * 1000, t, sizeof(t)));
	if (it->ev && it->ev->h.kind == EC_K_DATA)
		sb_printf(sb, "%s %u bytes%s\n", ec_dir_name(it->ev->h.dir), it->ev->h.len,
			  it->ev->h.aux ? " (bytes lost after these)" : "");
	sb_puts(sb, "\n");
	if (s->hex) {
		store_item_bytes(it, &raw);
		hexdump(sb, (const uint8_t *)(raw.buf ? raw.buf : ""), raw.len);
	} else {
		store_item_text(it, &raw);
		/* keep line breaks, make everything else printable */
		for (i = 0; i < raw.len;) {
			const char *nl = memchr(raw.buf + i, '\n', raw.len - i);
			size_t n = nl ? (size_t)(nl - (raw.buf + i)) : raw.len - i;

			if (n && raw.buf[i + n - 1] == '\r')
				fmt_printable(sb, raw.buf + i, n - 1);
			else
				fmt_printable(sb, raw.buf + i, n);
			sb_puts(sb, "\n");
			i += n + 1;
		}
	}
	sb_free(&raw);
	for (i = 0; i < sb->len; i++)
		if (sb->buf[i] == '\n')
			lines++;
	return lines;
}

/* Draw text lines (separated by '\n') from line top, wrapping long ones. */
static size_t draw_text(struct screen *s, const char *text, size_t len, size_t top, int role)
{
	int rows = panels_rows(s), y = 0, w = s->cols;
	size_t i = 0, line = 0;

	while (i < len && y < rows) {
		const char *nl = memchr(text + i, '\n', len - i);
		size_t n = nl ? (size_t)(nl - (text + i)) : len - i;

		if (line++ >= top) {
			/* wrap at the width (counted in bytes; good enough for ASCII) */
			size_t off = 0;

			do {
				size_t k = n - off > (size_t)w ? (size_t)w : n - off;
				char buf[1024];

				if (k >= sizeof(buf))
					k = sizeof(buf) - 1;
				memcpy(buf, text + i + off, k);
				buf[k] = '\0';
				put(TUI_ROW0 + y, 0, role, buf, w);
				off += k;
				y++;
			} while (off < n && y < rows);
		}
		i += n + 1;
	}
	return line;
}

static void draw_detail(struct screen *s)
{
	struct strbuf sb = STRBUF_INIT;

	s->detail_lines = panels_detail_build(s, &sb);
	if (s->detail_top >= s->detail_lines)
		s->detail_top = s->detail_lines ? s->detail_lines - 1 : 0;
	draw_text(s, sb.buf ? sb.buf : "", sb.len, s->detail_top, ROLE_NORMAL);
	sb_free(&sb);
}

static void draw_log(struct screen *s)
{
	int rows = panels_rows(s), y;
	uint64_t n = log_count();
	size_t have = n < LOG_RING ? (size_t)n : LOG_RING;
	char buf[512];
	enum log_level lvl;

	if (s->log_top + (size_t)rows > have)
		s->log_top = have > (size_t)rows ? have - (size_t)rows : 0;
	/* newest last: line y shows the (have - 1 - (log_top + y))-th newest */
	for (y = 0; y < rows; y++) {
		size_t idx = s->log_top + (size_t)y;

		if (idx >= have)
			break;
		if (log_get(have - 1 - idx, buf, sizeof(buf), &lvl))
			continue;
		put(TUI_ROW0 + y, 0,
		    lvl >= LOG_ERROR  ? ROLE_ERROR
		    : lvl == LOG_WARN ? ROLE_STATUS_REDIRECT
				      : ROLE_NORMAL,
		    buf, s->cols);
	}
	if (!have)
		put(TUI_ROW0, 2, ROLE_DIM, "no log messages", s->cols - 2);
}

static void draw_status(struct screen *s)
{
	int y = s->lines - 2, x;
	struct editor *ed = NULL;
	const char *label = NULL;
	char save_label[sizeof(s->save_what) + 16];

	fill(y, 0, ROLE_STATUS, s->cols);
	if (s->mode == MODE_FILTER) {
		ed = &s->filter_ed;
		label = "Filter: ";
	} else if (s->mode == MODE_SEARCH) {
		ed = &s->search_ed;
		label = "Search: ";
	} else if (s->mode == MODE_SAVE) {
		ed = &s->save_ed;
		snprintf(save_label, sizeof(save_label), "Save %s to: ", s->save_what);
		label = save_label;
	} else if (s->mode == MODE_GOTO) {
		ed = &s->goto_ed;
		label = "Go to: ";
	}
	if (ed) {
		int w;
		size_t off = 0;

		x = put(y, 0, ROLE_HEADER, label, s->cols);
		w = s->cols - x - 1;
		if (w < 1)
			return;
		/* scroll the text so the cursor stays visible */
		if (ed->cur > (size_t)w)
			off = ed->cur - (size_t)w;
		attrset(theme_attr(ROLE_NORMAL));
		mvaddnstr(y, x, ed->buf + off, w);
		if (s->mode == MODE_FILTER && s->filter_bad && s->err_pos + s->err_len > off) {
			size_t from = s->err_pos > off ? s->err_pos : off;
			size_t to = s->err_pos + s->err_len;

			if (to > ed->len)
				to = ed->len;
			if (from >= ed->len)
				mvaddnstr(y, x + (int)(from - off), " ", 1), from = ed->len,
									     to = from;
			attrset(theme_attr(ROLE_ERROR));
			if (to > from)
				mvaddnstr(y, x + (int)(from - off), ed->buf + from,
					  (int)(to - from));
			else
				mvaddnstr(y, x + (int)(from - off), " ", 1);
		}
		move(y, x + (int)(ed->cur - off));
		return;
	}
	if (s->msg[0] && store_now_ns() < s->msg_until) {
		put(y, 0, s->msg_error ? ROLE_ERROR : ROLE_STATUS, s->msg, s->cols);
		return;
	}
	if (s->focus <= PANEL_EVENTS || panels_ops(s->focus)) {
		char line[EDITOR_MAX + 128];
		size_t len = panels_ops(s->focus) ? panels_ops(s->focus)->len(s)
						  : store_view_len(s->views[s->focus]);

		snprintf(line, sizeof(line), " %zu/%zu rows  tagged %zu%s%s",
			 len ? s->ps[s->focus].sel + 1 : 0, len, save_tag_count(s),
			 s->search[0] ? "  search: " : "", s->search);
		put(y, 0, ROLE_STATUS, line, s->cols);
	}
}

struct bar_item {
	const char *key;
	const char *label;
	int code;
};

static size_t bar_items(const struct screen *s, struct bar_item *b)
{
	const struct tui_key *k;
	size_t n = keymap_table(&k), i, m = 0;

	if (s->mode == MODE_FILTER || s->mode == MODE_SEARCH || s->mode == MODE_SAVE ||
	    s->mode == MODE_GOTO) {
		b[m++] = (struct bar_item){"Enter", "Apply", '\n'};
		b[m++] = (struct bar_item){"Esc", "Cancel", 27};
		if (s->mode != MODE_SAVE)
			b[m++] = (struct bar_item){"Up/Dn", "History", -1};
		return m;
	}
	for (i = 0; i < n && m < 16; i++)
		if (k[i].bar)
			b[m++] = (struct bar_item){k[i].name, k[i].bar, k[i].key};
	return m;
}

int panels_bar_key_at(const struct screen *s, int x)
{
	struct bar_item b[16];
	size_t n = bar_items(s, b), i;
	int pos = 0;

	for (i = 0; i < n; i++) {
		int w = (int)(strlen(b[i].key) + strlen(b[i].label)) + 1;

		if (x >= pos && x < pos + w)
			return b[i].code;
		pos += w;
	}
	return -1;
}

static void draw_bar(struct screen *s)
{
	struct bar_item b[16];
	size_t n = bar_items(s, b), i;
	int y = s->lines - 1, x = 0;

	fill(y, 0, ROLE_KEY_LABEL, s->cols);
	for (i = 0; i < n && x < s->cols; i++) {
		char lab[40];

		x += put(y, x, ROLE_KEY, b[i].key, s->cols - x);
		snprintf(lab, sizeof(lab), "%s ", b[i].label);
		x += put(y, x, ROLE_KEY_LABEL, lab, s->cols - x);
	}
	if (s->mode == MODE_GOTO && x + 2 < s->cols)
		put(y, x + 1, ROLE_DIM, "+30s -5s 1m30s 01:30.250 12:03:05", s->cols - x - 1);
	else if (s->mode == MODE_FILTER && s->filter_bad && x + 2 < s->cols)
		put(y, x + 1, ROLE_ERROR, s->filter_err, s->cols - x - 1);
	else if (s->mode == MODE_FILTER && x + 2 < s->cols)
		put(y, x + 1, ROLE_STATUS_OK, "valid", s->cols - x - 1);
}

/* A centred box with a title and lines; sel highlighted. */
static void draw_popup(struct screen *s, const char *title, const char *const *items, size_t n,
		       size_t sel)
{
	int w = (int)strlen(title) + 4, h, y0, x0, y;
	size_t i, first = 0;

	for (i = 0; i < n; i++)
		if ((int)strlen(items[i]) + 4 > w)
			w = (int)strlen(items[i]) + 4;
	if (w > s->cols - 2)
		w = s->cols - 2;
	h = (int)n + 2;
	if (h > s->lines - 4)
		h = s->lines - 4;
	if (sel >= (size_t)(h - 2))
		first = sel - (size_t)(h - 2) + 1;
	y0 = (s->lines - h) / 2;
	x0 = (s->cols - w) / 2;
	for (y = 0; y < h; y++)
		fill(y0 + y, x0, ROLE_POPUP, x0 + w);
	put(y0, x0 + 2, ROLE_POPUP_TITLE, title, w - 4);
	for (i = first; i < n && (int)(i - first) < h - 2; i++) {
		int yy = y0 + 1 + (int)(i - first);

		if (i == sel)
			fill(yy, x0, ROLE_SELECTION, x0 + w);
		put(yy, x0 + 2, i == sel ? ROLE_SELECTION : ROLE_POPUP, items[i], w - 4);
	}
}

static void draw_help(struct screen *s)
{
	static const char *const syntax[] = {
	    "Filter (F4 or \\): terms separated by spaces must all hold; 'or' between groups",
	    "  pid:N uid:N comm:NAME proto:http|http2|mysql|pgsql|bash|zsh|tls|socket",
	    "  port:N host:TEXT status:404|5xx cgroup:/PATH /REGEX/ /REGEX/i   !TERM negates",
	    "  a|b or a,b: either value (pid:1,2)    port:5432 or proto:bash: either group",
	    "  The filter narrows the display only; -p/-u (and K) decide what the kernel captures.",
	    "",
	};
	static const char *const tail[] = {
	    "",
	    "Mouse: a click selects a row, focuses a panel or presses a bar key.",
	    "Replay (ecaptop -r FILE): the keys act on the file's timeline:",
	    "  p/Z play/pause the file  . , one event forward/back  ] [ twice/half the speed",
	    "  Home/End go to the start/end of the file (not the first/last row)",
	    "  g goes to: +30s -5s (from here), 1m30s 01:30.250 (from the start), 12:03:05 (clock)",
	};
	const struct tui_key *k;
	size_t n = keymap_table(&k), i, total = 0, line;
	int rows = s->lines - 2, y;
	char buf[256];
	char lines[160][200];
	int roles[160];

#define LINE(role, ...)                                                                            \
	do {                                                                                       \
		if (total < 160) {                                                                 \
			snprintf(lines[total], sizeof(lines[total]), __VA_ARGS__);                 \
			roles[total++] = role;                                                     \
		}                                                                                  \
	} while (0)
	for (i = 0; i < sizeof(syntax) / sizeof(syntax[0]); i++)
		LINE(i == 0 ? ROLE_HEADER : ROLE_NORMAL, "%s", syntax[i]);
	LINE(ROLE_HEADER, "Keys");
	for (i = 0; i < n; i++)
		if (k[i].name)
			LINE(ROLE_NORMAL, "  %-10s %s", k[i].name, k[i].help);
	for (i = 0; i < sizeof(tail) / sizeof(tail[0]); i++)
		LINE(i == 1 || i == 2 ? ROLE_HEADER : ROLE_NORMAL, "%s", tail[i]);
	if (s->o && s->o->log_path)
		LINE(ROLE_DIM, "Log file: %s", s->o->log_path);
#undef LINE
	/* scrolling stops when the last line is on the screen */
	if (rows < 1)
		rows = 1;
	if (s->help_top + (size_t)(rows - 1) > total)
		s->help_top = total > (size_t)(rows - 1) ? total - (size_t)(rows - 1) : 0;
	for (y = 0; y < s->lines; y++)
		fill(y, 0, ROLE_NORMAL, s->cols);
	put(0, 0, ROLE_HEADER, "ecaptop help (Esc, q, h or F1 closes; arrows, PgUp/PgDn scroll)",
	    s->cols);
	for (y = 1, line = s->help_top; y <= rows - 1 && line < total; y++, line++)
		put(y, 0, roles[line], lines[line], s->cols);
	snprintf(buf, sizeof(buf), "Theme: %s%s   lines %zu-%zu of %zu", theme_name(),
		 theme_has_color() ? "" : " (no colour: NO_COLOR or terminal)", s->help_top + 1,
		 line, total);
	put(s->lines - 1, 0, ROLE_DIM, buf, s->cols);
}

void panels_draw(struct screen *s)
{
	int y;

	getmaxyx(stdscr, s->lines, s->cols);
	/* rows' ages count to the replay's position, or live to now */
	if (s->replay) {
		s->clock_ns = s->rp_shown_ns ? s->rp_shown_ns : s->rs.first_ns;
	} else {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		s->clock_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	}
	s->too_small = s->cols < TUI_MIN_COLS || s->lines < TUI_MIN_LINES;
	curs_set(0);
	if (s->too_small) {
		char m[128];

		attrset(theme_attr(ROLE_NORMAL));
		erase();
		snprintf(m, sizeof(m), "Terminal too small (%dx%d): ecaptop needs %dx%d", s->cols,
			 s->lines, TUI_MIN_COLS, TUI_MIN_LINES);
		mvaddnstr(s->lines / 2, 0, m, s->cols);
		if (s->lines / 2 + 1 < s->lines)
			mvaddnstr(s->lines / 2 + 1, 0, "Enlarge the window, or q to quit.",
				  s->cols);
		refresh();
		return;
	}
	if (s->mode == MODE_HELP) {
		draw_help(s);
		refresh();
		return;
	}
	draw_header(s);
	draw_tabs(s);
	draw_col_heads(s);
	for (y = TUI_ROW0; y < s->lines - 2; y++)
		fill(y, 0, ROLE_NORMAL, s->cols);
	if (panels_ops(s->focus))
		draw_obj_table(s, panels_ops(s->focus));
	else if (s->focus <= PANEL_EVENTS)
		draw_table(s);
	else if (s->focus == PANEL_DETAIL)
		draw_detail(s);
	else
		draw_log(s);
	draw_bar(s);
	if (s->mode == MODE_SORT && panels_ops(s->focus)) {
		const char *const *names;
		size_t n = panels_ops(s->focus)->sort_cols(&names);

		draw_popup(s, "Sort by", names, n, s->pick_sel);
	} else if (s->mode == MODE_SORT) {
		const enum store_col *cols;
		size_t n = store_view_cols(s->focus == PANEL_PROCS   ? STORE_V_PROCS
					   : s->focus == PANEL_CONNS ? STORE_V_CONNS
								     : STORE_V_EVENTS,
					   &cols),
		       i;
		const char *items[STORE_COL_MAX];

		for (i = 0; i < n; i++)
			items[i] = store_col_name(cols[i]);
		draw_popup(s, "Sort by", items, n, s->pick_sel);
	} else if (s->mode == MODE_THEME) {
		const char *items[32];
		size_t i;

		for (i = 0; i < s->n_themes; i++)
			items[i] = s->themes[i];
		draw_popup(s, "Theme", items, s->n_themes, s->pick_sel);
	}
	draw_status(s);
	if (s->mode == MODE_FILTER || s->mode == MODE_SEARCH || s->mode == MODE_SAVE ||
	    s->mode == MODE_GOTO)
		curs_set(1);
	refresh();
}
