/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The TUI's private state, shared by the screen manager (tui.c: the loop, keys
 * and actions) and the panels (panels.c: drawing). Not for other modules.
 *
 * Layout, top to bottom:
 *   0-1      header (source, elapsed, rates, store, lost counters, filter)
 *   2        panel tabs and the drill-down path
 *   3        column headings of the focused panel
 *   4..H-3   rows (or the detail, log, help text)
 *   H-2      status line: messages, the filter and search editors
 *   H-1      function-key bar
 */
#ifndef ECAPTOP_TUI_SCREEN_H
#define ECAPTOP_TUI_SCREEN_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/engine.h"
#include "tui/session/exch_view.h"
#include "tui/session/store.h"
#include "tui/editor.h"
#include "tui/rate.h"
#include "tui/tui.h"

#define TUI_MIN_COLS  60
#define TUI_MIN_LINES 12
#define TUI_ROW0      4 /* first row line */

enum panel_id {
	PANEL_PROCS,
	PANEL_CONNS,
	PANEL_EVENTS,
	PANEL_DETAIL,
	PANEL_LOG,
	PANEL_EXCH, /* panel objects (tui/panel.h) from here on */
	PANEL_AGGR,
	PANEL_MAX
};

enum tui_mode {
	MODE_NORMAL,
	MODE_FILTER, /* the filter editor is open */
	MODE_SEARCH, /* the search editor is open */
	MODE_SORT,   /* the sort column picker */
	MODE_THEME,  /* the theme picker */
	MODE_HELP,   /* the help screen */
	MODE_SAVE,   /* the save path prompt */
	MODE_GOTO,   /* the replay's go-to-time prompt */
};

struct tag_set {
	uint64_t *v;
	size_t n, cap;
};

struct panel_state {
	size_t sel;	 /* selected row */
	size_t top;	 /* first row shown */
	uint64_t sel_id; /* pid, connection id or item seq of the selected row */
	bool follow;	 /* events: keep the last row selected as rows arrive */
	/* the user chose the row: it keeps the selection while rows move; until then
	 * the selection stays on the first row */
	bool pinned;
	/* a replay went back and the store is rebuilding: sel_id is the row to find
	 * again once it is back, not to be replaced by whatever row is at sel */
	bool restoring;
	struct tag_set tags;
};

struct screen {
	struct engine *e;
	struct store *st;
	const struct tui_opts *o;
	struct store_view *views[3]; /* PANEL_PROCS, PANEL_CONNS, PANEL_EVENTS */
	enum panel_id focus, prev_focus;
	struct panel_state ps[PANEL_MAX];
	uint32_t conns_pid;  /* scope of the connections panel, 0: all */
	uint32_t events_pid; /* scope of the events panel */
	uint64_t events_conn;
	uint64_t detail_seq;
	uint64_t detail_exch; /* the detail shows this exchange (0: the item detail_seq) */
	struct exch_view *xv; /* the Exchanges panel's rows */
	struct agg_view *av;  /* the Aggregates panel's rows */
	uint64_t xscope_cmd;  /* Exchanges limited to this shell command's tree (its id) */
	bool hex;
	bool show_idle; /* i: idle processes and exec rows shown */
	size_t detail_top, detail_lines;
	size_t log_top;
	size_t help_top;
	enum tui_mode mode;
	/* filter */
	struct editor filter_ed;
	char filter_err[200];
	size_t err_pos, err_len;
	bool filter_bad;
	/* search */
	struct editor search_ed;
	char search[EDITOR_MAX];
	struct editor save_ed;
	char save_what[200]; /* what w will save, shown in its prompt (tui/save.c) */
	struct editor goto_ed;
	/* replay (engine_is_replay): the engine's position, read once a frame */
	bool replay;
	struct engine_replay_status rs;
	/* the position: the time of the last event the store got since the last
	 * reset (0: none), and how many it got */
	uint64_t rp_pos_ns, rp_index;
	/* the time a paused replay was sent to with g: shown as the position until
	 * the replay moves past it (the events stop at the last one before it) */
	uint64_t rp_target;
	uint64_t rp_shown_ns; /* the position shown: rp_target or rp_pos_ns */
	bool rp_wait_reset;   /* a seek was asked for; its reset has not come yet */
	uint64_t resets;      /* EC_K_RESET events handled */
	bool rp_catchup;      /* since a reset, until the queue was found empty */
	bool drain_more;      /* the last drain stopped on its budget, not an empty queue */
	/* the clock rows' ages are measured against: the replay's position, or now */
	uint64_t clock_ns;
	/* pickers */
	size_t pick_sel;
	char themes[32][32];
	size_t n_themes;
	char theme_before[32];
	/* pause: events drained while paused wait here, oldest first */
	bool paused;
	struct ec_event **pend;
	size_t pend_head, pend_n, pend_cap;
	uint64_t pend_dropped;
	/* the kernel-side filter: base_* from the command line (-p/-u), never
	 * widened; k* what the kernel has now (K narrows it to the filter's
	 * pid:/uid: terms within the base). n = 0: all. */
	uint32_t base_pids[ENGINE_MAX_FILTER], base_uids[ENGINE_MAX_FILTER];
	size_t n_base_pids, n_base_uids;
	uint32_t kpids[ENGINE_MAX_FILTER], kuids[ENGINE_MAX_FILTER];
	size_t n_kpids, n_kuids;
	/* header figures */
	uint64_t start_ns;
	uint64_t rate_ns, rate_events, rate_bytes;
	double ev_per_s, bytes_per_s;
	struct rate_win rp_rate; /* replay: the rates at the position (tui/rate.h) */
	struct engine_stats es;
	char msg[256];
	bool msg_error;
	uint64_t msg_until;
	bool quit;
	int lines, cols;
	bool too_small;
};

/* panels.c */
/* The panel object of p (tui/panel.h), NULL for the built-in table panels. */
const struct panel_ops *panels_ops(enum panel_id p);
/* Drawing helpers the panel files share. */
int panels_put(int y, int x, int role, const char *text, int w);
void panels_fill(int y, int x, int role, int cols);
void panels_draw(struct screen *s);
/* The number of row lines of the focused panel at the current size. */
int panels_rows(const struct screen *s);
/* Which panel tab is at column x of the tab line, or -1. */
int panels_tab_at(const struct screen *s, int x);
/* Which bar key is at column x of the bar line: its key code, or -1. */
int panels_bar_key_at(const struct screen *s, int x);
/* The plain text of row i of a table panel (for search). */
void panels_row_text(struct screen *s, enum panel_id p, size_t i, struct strbuf *sb);
/* Detail text lines of the selected item (builds into sb; returns line count). */
size_t panels_detail_build(struct screen *s, struct strbuf *sb);

#endif
