// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The screen manager: owns the panels and the loop. Each turn of the loop
 * drains the engine into the store within a time budget, advances the filter
 * and the focused view within another, handles every waiting key, and draws
 * when something changed, so a keypress shows within a frame even while a
 * million events are stored or arriving.
 */
#include <errno.h>
#include <langinfo.h>
#include <locale.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curses.h>

#include "engine/log.h"
#include "engine/file/pcapng.h"
#include "engine/file/record.h"
#include "tui/format.h"
#include "tui/keymap.h"
#include "tui/panel.h"
#include "tui/save.h"
#include "tui/screen.h"
#include "tui/stop.h"
#include "tui/theme.h"
#include "tui/timeline.h"

#define DRAIN_BUDGET_NS	 (15 * 1000000ull)
#define FILTER_BUDGET_NS (8 * 1000000ull)
#define VIEW_BUDGET_NS	 (8 * 1000000ull)
#define FRAME_NS	 (250 * 1000000ull) /* header figures refresh */

#define IDLE_AFTER_NS (2000 * 1000000ull) /* nothing drained, no key: redraw once a second */
#define IDLE_FRAME_NS (1000 * 1000000ull)

static void message(struct screen *s, bool error, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void message(struct screen *s, bool error, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->msg, sizeof(s->msg), fmt, ap);
	va_end(ap);
	s->msg_error = error;
	s->msg_until = store_now_ns() + 4000000000ull;
	log_msg(error ? LOG_WARN : LOG_INFO, "%s", s->msg);
}

/* ---- tags ---- */

static bool tag_toggle(struct tag_set *t, uint64_t id)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (t->v[i] == id) {
			t->v[i] = t->v[--t->n];
			return false;
		}
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		uint64_t *v = realloc(t->v, cap * sizeof(*v));

		if (!v)
			return false;
		t->v = v;
		t->cap = cap;
	}
	t->v[t->n++] = id;
	return true;
}

/* ---- rows and selection ---- */

static struct store_view *focus_view(struct screen *s)
{
	return s->focus <= PANEL_EVENTS ? s->views[s->focus] : NULL;
}

/* Rows of a table panel (a store view or a panel object). */
static size_t panel_len(struct screen *s, enum panel_id p)
{
	if (panels_ops(p))
		return panels_ops(p)->len(s);
	return p <= PANEL_EVENTS ? store_view_len(s->views[p]) : 0;
}

static bool is_table(enum panel_id p)
{
	return p <= PANEL_EVENTS || panels_ops(p);
}

static uint64_t row_id(struct screen *s, enum panel_id p, size_t i)
{
	struct store_proc *pr;
	struct store_conn *c;
	struct store_item *it;

	if (panels_ops(p))
		return panels_ops(p)->row_id(s, i);
	switch (p) {
	case PANEL_PROCS:
		pr = store_view_proc(s->views[p], i);
		return pr ? pr->pid : 0;
	case PANEL_CONNS:
		c = store_view_conn(s->views[p], i);
		return c ? c->id : 0;
	case PANEL_EVENTS:
		it = store_view_item(s->views[p], i);
		return it ? it->seq : 0;
	default:
		return 0;
	}
}

/* An events view sorted by time holds its seqs in order (reversed when
 * descending): find one by bisection. false for other views or if absent. */
static bool find_row_by_seq(struct screen *s, enum panel_id p, uint64_t seq, size_t *at)
{
	struct store_view *v = s->views[PANEL_EVENTS];
	bool desc = store_view_sort_desc(v);
	size_t lo = 0, hi = store_view_len(v);

	if (p != PANEL_EVENTS || store_view_sort_col(v) != STORE_COL_TIME)
		return false;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		uint64_t id = row_id(s, p, mid);

		if (id == seq) {
			*at = mid;
			return true;
		}
		if (!id)
			return false;
		if ((id < seq) != desc)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

/* While a replay rebuilds, whether the row id may still appear: an item not yet
 * stored again, or a process or connection (they appear with any later event). */
static bool still_coming(struct screen *s, enum panel_id p, uint64_t id)
{
	if (!s->replay)
		return false;
	if (p == PANEL_EVENTS)
		return id >= store_next_seq(s->st);
	return true;
}

/* After the view changed, find the selected row again by its id. */
static void reselect(struct screen *s, enum panel_id p)
{
	struct panel_state *ps = &s->ps[p];
	size_t len = panel_len(s, p), i, lo, hi;

	if (!len) {
		ps->sel = ps->top = 0;
		return;
	}
	if (ps->follow) {
		ps->sel = len - 1;
	} else if (!ps->pinned) {
		ps->sel = 0;
	} else if (ps->sel_id && row_id(s, p, ps->sel < len ? ps->sel : len - 1) != ps->sel_id) {
		bool found = false;

		if (find_row_by_seq(s, p, ps->sel_id, &i)) {
			found = true;
		} else {
			/* search near the old place first: events views only shift by
			 * eviction */
			lo = ps->sel > 2048 ? ps->sel - 2048 : 0;
			hi =
			    p == PANEL_EVENTS ? (ps->sel + 2048 < len ? ps->sel + 2048 : len) : len;
			if (p != PANEL_EVENTS)
				lo = 0;
			for (i = lo; i < hi && !found; i++)
				found = row_id(s, p, i) == ps->sel_id;
			i--;
		}
		if (found) {
			ps->sel = i;
		} else if (ps->restoring && still_coming(s, p, ps->sel_id)) {
			/* rebuilding after a replay went back: the row may come back
			 * with the events still on their way; keep looking for it */
			if (ps->sel >= len)
				ps->sel = len - 1;
			return;
		}
	}
	ps->restoring = false;
	if (ps->sel >= len)
		ps->sel = len - 1;
	ps->sel_id = row_id(s, p, ps->sel);
}

static void keep_visible(struct screen *s, enum panel_id p)
{
	struct panel_state *ps = &s->ps[p];
	int rows = panels_rows(s);

	if (rows < 1)
		rows = 1;
	if (ps->sel < ps->top)
		ps->top = ps->sel;
	if (ps->sel >= ps->top + (size_t)rows)
		ps->top = ps->sel - (size_t)rows + 1;
}

static void select_row(struct screen *s, size_t i)
{
	struct store_view *v = focus_view(s);
	struct panel_state *ps = &s->ps[s->focus];
	size_t len;

	if (!is_table(s->focus))
		return;
	len = panel_len(s, s->focus);
	if (!len)
		return;
	if (i >= len)
		i = len - 1;
	ps->sel = i;
	ps->sel_id = row_id(s, s->focus, i);
	ps->pinned = true;
	ps->restoring = false;
	ps->follow = false;
	if (s->focus == PANEL_EVENTS)
		ps->follow = i == len - 1 && !store_view_sort_desc(v) &&
			     store_view_sort_col(v) == STORE_COL_TIME;
	else if (s->focus == PANEL_EXCH)
		ps->follow = i == len - 1 && !exch_view_sort_desc(s->xv) &&
			     exch_view_sort_col(s->xv) == XC_TIME;
	keep_visible(s, s->focus);
}

/* ---- filter ---- */

/* The ids of want that are in base (all of want when base is empty: no
 * limit). Returns how many. */
static size_t within(const uint32_t *want, size_t n_want, const uint32_t *base, size_t n_base,
		     uint32_t *out)
{
	size_t i, j, n = 0;

	for (i = 0; i < n_want; i++) {
		bool in = !n_base;

		for (j = 0; j < n_base && !in; j++)
			in = base[j] == want[i];
		if (in)
			out[n++] = want[i];
	}
	return n;
}

static bool push_kernel(struct screen *s, const uint32_t *pids, size_t np, const uint32_t *uids,
			size_t nu)
{
	int err;

	if (!s->e || s->replay)
		return false;
	err = engine_set_pid_filter(s->e, pids, np);
	if (!err)
		err = engine_set_uid_filter(s->e, uids, nu);
	if (err) {
		message(s, true, "kernel filter: %s", strerror(-err));
		return false;
	}
	memcpy(s->kpids, pids, np * sizeof(*pids));
	s->n_kpids = np;
	memcpy(s->kuids, uids, nu * sizeof(*uids));
	s->n_kuids = nu;
	return true;
}

/* K: narrow what the kernel captures to the filter's pid:/uid: terms, within
 * what the command line allowed (never wider); without such terms, back to the
 * command line's set. Events the kernel no longer sends are not captured. */
static void narrow_kernel(struct screen *s)
{
	const struct filter *f = store_get_filter(s->st);
	uint32_t want[ENGINE_MAX_FILTER], pids[ENGINE_MAX_FILTER], uids[ENGINE_MAX_FILTER];
	size_t nw, np, nu;

	if (!s->e || s->replay) {
		message(s, false, "K: only while capturing live");
		return;
	}
	nw = filter_kernel_pids(f, want, ENGINE_MAX_FILTER);
	np = nw ? within(want, nw, s->base_pids, s->n_base_pids, pids) : s->n_base_pids;
	if (!nw)
		memcpy(pids, s->base_pids, np * sizeof(*pids));
	nu = filter_kernel_uids(f, want, ENGINE_MAX_FILTER);
	if (nu) {
		nw = nu;
		nu = within(want, nw, s->base_uids, s->n_base_uids, uids);
	} else {
		nw = 0;
		nu = s->n_base_uids;
		memcpy(uids, s->base_uids, nu * sizeof(*uids));
	}
	if ((!np && s->n_base_pids) || (!nu && s->n_base_uids) ||
	    (filter_kernel_pids(f, want, ENGINE_MAX_FILTER) && !np) || (nw && !nu)) {
		message(s, true,
			"K: the filter's pids/uids are outside the command line's "
			"-p/-u: the kernel filter is unchanged");
		return;
	}
	if (push_kernel(s, pids, np, uids, nu))
		message(s, false, "kernel filter narrowed: other processes are no longer captured");
}

static int set_filter(struct screen *s, const char *text)
{
	char err[200];
	size_t pos, len;
	struct filter *f = NULL;
	const char *p = text;

	while (*p == ' ')
		p++;
	if (*p) {
		f = filter_compile(text, err, sizeof(err), &pos, &len);
		if (!f) {
			message(s, true, "filter: %s", err);
			return -EINVAL;
		}
	}
	/* the display only: the kernel keeps capturing (K narrows it) */
	store_set_filter(s->st, f);
	for (p = text; *p == ' '; p++)
		;
	editor_history_add(&s->filter_ed, text);
	for (int i = 0; i <= PANEL_EVENTS; i++) {
		s->ps[i].sel = s->ps[i].top = 0;
		s->ps[i].pinned = false;
		s->ps[i].restoring = false;
		s->ps[i].sel_id = 0;
	}
	return 0;
}

static void validate_filter(struct screen *s)
{
	struct filter *f = filter_compile(s->filter_ed.buf, s->filter_err, sizeof(s->filter_err),
					  &s->err_pos, &s->err_len);

	s->filter_bad = f == NULL;
	filter_free(f);
}

/* P / U: add key:N to the filter, or take it out when it is there. */
static void toggle_term(struct screen *s, const char *key, uint32_t val)
{
	const char *cur = filter_text(store_get_filter(s->st));
	char term[48], out[EDITOR_MAX * 2] = "", copy[EDITOR_MAX * 2];
	char *tok, *save = NULL;
	bool had = false, first = true;
	size_t klen = strlen(key);

	snprintf(term, sizeof(term), "%s%u", key, val);
	snprintf(copy, sizeof(copy), "%s", cur);
	/* drop every plain key: term; remember whether this very one was there */
	for (tok = strtok_r(copy, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
		if (!strncmp(tok, key, klen)) {
			if (!strcmp(tok, term))
				had = true;
			continue;
		}
		if (strlen(out) + strlen(tok) + 2 >= sizeof(out))
			break;
		if (!first)
			strcat(out, " ");
		strcat(out, tok);
		first = false;
	}
	if (!had && strlen(out) + strlen(term) + 2 < sizeof(out)) {
		if (!first)
			strcat(out, " ");
		strcat(out, term);
	}
	if (!set_filter(s, out))
		message(s, false, "filter: %s", out[0] ? out : "(none)");
}

static bool selected_pid_uid(struct screen *s, uint32_t *pid, uint32_t *uid)
{
	struct store_item *it = NULL;
	struct store_proc *pr = NULL;
	struct store_conn *c;
	size_t sel = s->ps[s->focus].sel;

	switch (s->focus) {
	case PANEL_PROCS:
		pr = store_view_proc(s->views[PANEL_PROCS], sel);
		break;
	case PANEL_CONNS:
		c = store_view_conn(s->views[PANEL_CONNS], sel);
		pr = c ? c->proc : NULL;
		break;
	case PANEL_EVENTS:
		it = store_view_item(s->views[PANEL_EVENTS], sel);
		pr = it ? it->proc : NULL;
		break;
	case PANEL_DETAIL:
		it = store_item_get(s->st, s->detail_seq);
		pr = it ? it->proc : NULL;
		break;
	case PANEL_EXCH: {
		/* the client's end, else the server's */
		struct store_exch *x = exch_view_at(s->xv, sel);
		const struct exch_end *e = x ? (x->cli.pid ? &x->cli : &x->srv) : NULL;

		if (!e || !e->pid)
			return false;
		*pid = e->pid;
		*uid = e->uid;
		return true;
	}
	default:
		break;
	}
	if (!pr)
		return false;
	*pid = pr->pid;
	*uid = pr->uid;
	return true;
}

/* ---- search ---- */

static void search_step(struct screen *s, int dir)
{
	struct strbuf sb = STRBUF_INIT;
	size_t len, i, n;

	if (!s->search[0]) {
		message(s, false, "no search: press / or F3 first");
		return;
	}
	if (!is_table(s->focus)) {
		message(s, false, "search works in the table panels (not Detail or Log)");
		return;
	}
	len = panel_len(s, s->focus);
	/* Bounded so a search over a million rows cannot freeze the screen. */
	for (n = 1; n <= len && n <= 200000; n++) {
		i = (s->ps[s->focus].sel + (dir > 0 ? n : len - n)) % len;
		sb_reset(&sb);
		panels_row_text(s, s->focus, i, &sb);
		if (sb.buf && strcasestr(sb.buf, s->search)) {
			select_row(s, i);
			sb_free(&sb);
			return;
		}
	}
	sb_free(&sb);
	message(s, false, "'%s' not found", s->search);
}

/* ---- pause ---- */

static void pend_push(struct screen *s, struct ec_event *ev)
{
	size_t cap = s->o && s->o->store_cap ? s->o->store_cap : STORE_DEFAULT_MAX;

	/* bounded like the store: past its cap the oldest waiting event goes, counted */
	if (s->pend_n >= cap) {
		free(s->pend[s->pend_head]);
		s->pend_head = (s->pend_head + 1) % s->pend_cap;
		s->pend_n--;
		s->pend_dropped++;
	}
	if (s->pend_n == s->pend_cap) {
		size_t nc = s->pend_cap ? s->pend_cap * 2 : 1024, i;
		struct ec_event **v = malloc(nc * sizeof(*v));

		if (!v) {
			free(ev);
			s->pend_dropped++;
			return;
		}
		for (i = 0; i < s->pend_n; i++)
			v[i] = s->pend[(s->pend_head + i) % s->pend_cap];
		free(s->pend);
		s->pend = v;
		s->pend_cap = nc;
		s->pend_head = 0;
	}
	s->pend[(s->pend_head + s->pend_n) % s->pend_cap] = ev;
	s->pend_n++;
}

static struct ec_event *pend_pop(struct screen *s)
{
	struct ec_event *ev;

	if (!s->pend_n)
		return NULL;
	ev = s->pend[s->pend_head];
	s->pend_head = (s->pend_head + 1) % s->pend_cap;
	s->pend_n--;
	return ev;
}

/* A replay went back: start the store again and remember what the user had
 * selected, to select it again when the events that follow bring it back (the
 * store gives the same events the same ids). */
static void on_reset(struct screen *s)
{
	int p;

	store_reset(s->st);
	s->resets++;
	s->rp_pos_ns = 0;
	s->rp_index = 0;
	rate_reset(&s->rp_rate);
	s->rp_wait_reset = false;
	s->rp_catchup = true;
	for (p = 0; p <= PANEL_EVENTS; p++)
		if (s->ps[p].pinned && s->ps[p].sel_id)
			s->ps[p].restoring = true;
}

/* Hand one event to the store, or act on a reset marker. */
static void feed(struct screen *s, struct ec_event *ev)
{
	if (ev->h.kind == EC_K_RESET) {
		free(ev);
		on_reset(s);
		return;
	}
	s->rp_pos_ns = ev->h.ts_ns;
	s->rp_index++;
	rate_add(&s->rp_rate, ev->h.ts_ns, ev->h.len);
	store_add(s->st, ev);
}

/* Feed the store: waiting events first, then the engine's. Returns true when
 * something was added. */
static bool drain(struct screen *s)
{
	uint64_t deadline = store_now_ns() + DRAIN_BUDGET_NS;
	struct ec_event *ev;
	bool any = false;
	unsigned k = 0;

	if (s->e)
		engine_ack(s->e);
	recorder_tick(s->o ? s->o->rec : NULL);
	if (s->paused) {
		while (s->e && (ev = engine_pop(s->e))) {
			recorder_feed(s->o ? s->o->rec : NULL, ev);
			pend_push(s, ev);
			any = true;
			if (++k % 512 == 0 && store_now_ns() > deadline)
				break;
		}
		return any;
	}
	while ((ev = pend_pop(s))) {
		feed(s, ev);
		any = true;
		if (++k % 256 == 0 && store_now_ns() > deadline)
			return any;
	}
	s->drain_more = false;
	while (s->e && (ev = engine_pop(s->e))) {
		recorder_feed(s->o ? s->o->rec : NULL, ev);
		feed(s, ev);
		any = true;
		if (++k % 256 == 0 && store_now_ns() > deadline) {
			/* the engine may not wake us again (a replay that has queued
			 * all it will): come back at once */
			s->drain_more = true;
			break;
		}
	}
	if (!s->drain_more)
		s->rp_catchup = false;
	/* A paused replay only moves when the user steps or seeks, and a seek is
	 * caught up at once: the tables show the position now, not within the
	 * second they otherwise wait so that rows do not jump under the cursor. */
	if (any && s->replay && (s->rs.paused || s->rp_catchup)) {
		store_view_refresh(s->views[PANEL_PROCS]);
		store_view_refresh(s->views[PANEL_CONNS]);
	}
	return any;
}

static bool work_waiting(struct screen *s)
{
	return (!s->paused && s->pend_n) || s->drain_more;
}

/* ---- save (w): the selection and the writing are in tui/save.c ---- */

static void save(struct screen *s, const char *path)
{
	char msg[sizeof(s->msg)];
	int rc = save_write(s, path, msg, sizeof(msg));

	message(s, rc != 0, "%s", msg);
}

static void start_save(struct screen *s)
{
	char name[64];
	time_t t = time(NULL);
	struct tm tm;

	localtime_r(&t, &tm);
	strftime(name, sizeof(name), "ecaptop-%Y%m%d-%H%M%S.pcapng", &tm);
	{
		struct save_plan p;

		save_plan(s, &p);
		save_describe(&p, s->save_what, sizeof(s->save_what));
	}
	editor_start(&s->save_ed, name);
	s->mode = MODE_SAVE;
}

/* ---- replay (-r): the timeline ---- */

/* Read the engine's replay state and work out the position to show. */
static void replay_refresh(struct screen *s)
{
	if (!s->replay)
		return;
	engine_replay_status(s->e, &s->rs);
	/* a g target stands for the position until the replay moves past it */
	if (s->rp_target && !s->rp_wait_reset && (!s->rs.paused || s->rp_pos_ns > s->rp_target))
		s->rp_target = 0;
	s->rp_shown_ns = s->rp_target && (s->rp_wait_reset || s->rp_pos_ns <= s->rp_target)
			     ? s->rp_target
			     : s->rp_pos_ns;
}

static bool replay_only(struct screen *s, const char *what)
{
	if (s->replay)
		return true;
	message(s, false, "%s: only when replaying a file (ecaptop -r FILE)", what);
	return false;
}

/* Seek to ts (0: the start, UINT64_MAX: the end); shown: the position to show
 * once there (0: the engine's). The engine restarts the file behind a reset. */
static void replay_seek(struct screen *s, uint64_t ts, uint64_t shown)
{
	engine_replay_seek_time(s->e, ts);
	s->rp_target = shown;
	s->rp_wait_reset = true;
	replay_refresh(s);
}

static void replay_play_pause(struct screen *s)
{
	engine_replay_status(s->e, &s->rs);
	if (s->rs.paused && s->rs.finished)
		message(s, false, "at the end of the file: Home, ',' or g go back");
	engine_replay_pause(s->e, !s->rs.paused);
	replay_refresh(s);
}

static void replay_step(struct screen *s, int dir)
{
	replay_refresh(s);
	if (dir > 0) {
		if (s->rs.finished)
			message(s, false, "at the end of the file");
		engine_replay_step(s->e, 1);
		s->rp_target = 0;
	} else if (!s->rp_index) {
		message(s, false, "at the start of the file");
		engine_replay_pause(s->e, true);
	} else {
		/* the engine starts again and stops before the current event */
		engine_replay_step(s->e, -1);
		s->rp_target = 0;
		s->rp_wait_reset = true;
	}
	replay_refresh(s);
}

static void replay_speed(struct screen *s, int dir)
{
	char a[32];
	double sp;

	replay_refresh(s);
	sp = timeline_speed_step(s->rs.speed, dir);
	if (sp == s->rs.speed || !(sp > 0)) {
		message(s, false, "speed %s is the %s",
			timeline_fmt_speed(s->rs.speed, a, sizeof(a)),
			dir > 0 ? "fastest" : "slowest");
		return;
	}
	engine_replay_set_speed(s->e, sp);
	replay_refresh(s);
}

static void replay_goto(struct screen *s, const char *text)
{
	enum timeline_clamp clamp;
	uint64_t target;
	char err[200];

	replay_refresh(s);
	if (timeline_parse(text, s->rs.first_ns, s->rs.last_ns, s->rp_shown_ns, &target, &clamp,
			   err, sizeof(err))) {
		message(s, true, "%s", err);
		return;
	}
	editor_history_add(&s->goto_ed, text);
	if (clamp == TIMELINE_BEFORE)
		message(s, false, "%s is before the first event: at the start", text);
	else if (clamp == TIMELINE_AFTER)
		message(s, false, "%s is after the last event: at the end", text);
	replay_seek(s, target, clamp == TIMELINE_INSIDE ? target : 0);
}

/* ---- navigation ---- */

static void set_focus(struct screen *s, enum panel_id p)
{
	if (p != s->focus)
		s->prev_focus = s->focus;
	s->focus = p;
}

static void scope_events(struct screen *s, uint32_t pid, uint64_t conn)
{
	s->events_pid = pid;
	s->events_conn = conn;
	store_view_scope(s->views[PANEL_EVENTS], conn ? 0 : pid, conn);
	/* all events: follow the newest, like a log; one connection's: from its start */
	s->ps[PANEL_EVENTS] =
	    (struct panel_state){.tags = s->ps[PANEL_EVENTS].tags, .follow = !pid && !conn};
}

static void enter(struct screen *s)
{
	size_t sel = s->ps[s->focus].sel;

	switch (s->focus) {
	case PANEL_PROCS: {
		struct store_proc *pr = store_view_proc(s->views[PANEL_PROCS], sel);

		if (!pr)
			return;
		if (!pr->conns) {
			/* nothing to show among connections (a shell): its events */
			scope_events(s, pr->pid, 0);
			set_focus(s, PANEL_EVENTS);
			return;
		}
		s->conns_pid = pr->pid;
		store_view_scope(s->views[PANEL_CONNS], pr->pid, 0);
		s->ps[PANEL_CONNS] = (struct panel_state){.tags = s->ps[PANEL_CONNS].tags};
		set_focus(s, PANEL_CONNS);
		store_view_refresh(s->views[PANEL_CONNS]);
		break;
	}
	case PANEL_CONNS: {
		struct store_conn *c = store_view_conn(s->views[PANEL_CONNS], sel);

		if (!c)
			return;
		scope_events(s, c->pid, c->id);
		set_focus(s, PANEL_EVENTS);
		break;
	}
	case PANEL_EVENTS: {
		struct store_item *it = store_view_item(s->views[PANEL_EVENTS], sel);

		if (!it)
			return;
		s->detail_seq = it->seq;
		s->detail_exch = 0;
		s->detail_top = 0;
		set_focus(s, PANEL_DETAIL);
		break;
	}
	default:
		break;
	}
}

static void back(struct screen *s)
{
	switch (s->focus) {
	case PANEL_DETAIL:
		if (s->detail_exch) {
			s->detail_exch = 0;
			set_focus(s, PANEL_EXCH);
		} else {
			set_focus(s, PANEL_EVENTS);
		}
		break;
	case PANEL_EVENTS:
		if (s->events_conn || s->events_pid) {
			bool from_conn = s->events_conn != 0;

			scope_events(s, 0, 0);
			set_focus(s, from_conn ? PANEL_CONNS : PANEL_PROCS);
		} else {
			set_focus(s, PANEL_CONNS);
		}
		break;
	case PANEL_CONNS:
		if (s->conns_pid) {
			s->conns_pid = 0;
			store_view_scope(s->views[PANEL_CONNS], 0, 0);
			s->ps[PANEL_CONNS] = (struct panel_state){.tags = s->ps[PANEL_CONNS].tags};
		}
		set_focus(s, PANEL_PROCS);
		break;
	case PANEL_LOG:
		set_focus(s, s->prev_focus == PANEL_LOG ? PANEL_PROCS : s->prev_focus);
		break;
	default:
		if (s->search[0])
			s->search[0] = '\0';
		break;
	}
}

static void move_sel(struct screen *s, long delta)
{
	struct panel_state *ps = &s->ps[s->focus];
	int rows = panels_rows(s);

	if (s->focus == PANEL_DETAIL) {
		long t = (long)s->detail_top + delta;

		s->detail_top = t < 0 ? 0 : (size_t)t;
		return;
	}
	if (s->focus == PANEL_LOG) {
		long t = (long)s->log_top + delta;

		s->log_top = t < 0 ? 0 : (size_t)t;
		return;
	}
	(void)rows;
	if (delta < 0 && (size_t)-delta > ps->sel)
		select_row(s, 0);
	else
		select_row(s, ps->sel + (size_t)delta);
}

static void open_sort(struct screen *s)
{
	const enum store_col *cols;
	struct store_view *v = focus_view(s);
	size_t n, i;

	if (panels_ops(s->focus)) {
		bool desc;

		s->pick_sel = panels_ops(s->focus)->sort_get(s, &desc);
		s->mode = MODE_SORT;
		return;
	}
	if (!v) {
		message(s, false, "sorting applies to the table panels (not Detail or Log)");
		return;
	}
	n = store_view_cols(s->focus == PANEL_PROCS   ? STORE_V_PROCS
			    : s->focus == PANEL_CONNS ? STORE_V_CONNS
						      : STORE_V_EVENTS,
			    &cols);
	s->pick_sel = 0;
	for (i = 0; i < n; i++)
		if (cols[i] == store_view_sort_col(v))
			s->pick_sel = i;
	s->mode = MODE_SORT;
}

static void open_theme(struct screen *s)
{
	size_t i;

	s->n_themes = theme_list(s->themes, 32);
	if (!s->n_themes) {
		message(s, true, "no theme files found (themes/*.theme)");
		return;
	}
	snprintf(s->theme_before, sizeof(s->theme_before), "%s", theme_name());
	s->pick_sel = 0;
	for (i = 0; i < s->n_themes; i++)
		if (!strcmp(s->themes[i], theme_name()))
			s->pick_sel = i;
	s->mode = MODE_THEME;
	if (!theme_has_color())
		message(s, false,
			"colour is off (NO_COLOR or the terminal): the choice is saved "
			"but shown in monochrome");
}

static void action(struct screen *s, enum tui_action a)
{
	int rows = panels_rows(s);
	uint32_t pid, uid;

	/* the focused panel object gets the action first */
	if (panels_ops(s->focus) && panels_ops(s->focus)->action(s, a))
		return;
	switch (a) {
	case ACT_HELP:
		s->mode = MODE_HELP;
		s->help_top = 0;
		break;
	case ACT_QUIT:
		s->quit = true;
		break;
	case ACT_NEXT_PANEL:
		set_focus(s, (enum panel_id)((s->focus + 1) % PANEL_MAX));
		break;
	case ACT_PREV_PANEL:
		set_focus(s, (enum panel_id)((s->focus + PANEL_MAX - 1) % PANEL_MAX));
		break;
	case ACT_UP:
		move_sel(s, -1);
		break;
	case ACT_DOWN:
		move_sel(s, 1);
		break;
	case ACT_PAGE_UP:
		move_sel(s, -(long)(rows > 1 ? rows - 1 : 1));
		break;
	case ACT_PAGE_DOWN:
		move_sel(s, rows > 1 ? rows - 1 : 1);
		break;
	case ACT_HOME:
		if (s->replay)
			replay_seek(s, 0, 0); /* in a replay Home and End move in time */
		else if (s->focus == PANEL_DETAIL)
			s->detail_top = 0;
		else if (s->focus == PANEL_LOG)
			s->log_top = 0;
		else
			select_row(s, 0);
		break;
	case ACT_END:
		if (s->replay)
			replay_seek(s, UINT64_MAX, 0);
		else if (s->focus == PANEL_DETAIL)
			s->detail_top =
			    s->detail_lines > (size_t)rows ? s->detail_lines - (size_t)rows : 0;
		else if (s->focus == PANEL_LOG)
			s->log_top = LOG_RING;
		else
			select_row(s, SIZE_MAX);
		break;
	case ACT_ENTER:
		enter(s);
		break;
	case ACT_BACK:
		back(s);
		break;
	case ACT_FILTER:
		editor_start(&s->filter_ed, filter_text(store_get_filter(s->st)));
		validate_filter(s);
		s->mode = MODE_FILTER;
		break;
	case ACT_FILTER_PID:
		if (selected_pid_uid(s, &pid, &uid))
			toggle_term(s, "pid:", pid);
		else
			message(s, false, "P: select a row first");
		break;
	case ACT_FILTER_UID:
		if (selected_pid_uid(s, &pid, &uid))
			toggle_term(s, "uid:", uid);
		else
			message(s, false, "U: select a row first");
		break;
	case ACT_SEARCH:
		editor_start(&s->search_ed, "");
		s->mode = MODE_SEARCH;
		break;
	case ACT_SEARCH_NEXT:
		search_step(s, 1);
		break;
	case ACT_SEARCH_PREV:
		search_step(s, -1);
		break;
	case ACT_SORT:
		open_sort(s);
		break;
	case ACT_SORT_INVERT: {
		struct store_view *v = focus_view(s);

		if (panels_ops(s->focus)) {
			bool desc;
			size_t col = panels_ops(s->focus)->sort_get(s, &desc);

			panels_ops(s->focus)->sort_set(s, col, !desc);
			s->ps[s->focus].follow = false;
			break;
		}
		if (v) {
			store_view_sort(v, store_view_sort_col(v), !store_view_sort_desc(v));
			s->ps[s->focus].follow = false;
		}
		break;
	}
	case ACT_PAUSE:
		if (s->replay) {
			/* the file, not the display: nothing arrives meanwhile */
			replay_play_pause(s);
			break;
		}
		s->paused = !s->paused;
		message(s, false, s->paused ? "paused: capture goes on, events wait" : "resumed");
		break;
	case ACT_TAG: {
		uint64_t id =
		    s->focus <= PANEL_EVENTS ? row_id(s, s->focus, s->ps[s->focus].sel) : 0;

		if (id) {
			tag_toggle(&s->ps[s->focus].tags, id);
			move_sel(s, 1);
		}
		break;
	}
	case ACT_SAVE:
		start_save(s);
		break;
	case ACT_UNTAG_ALL:
		message(s, false, "untagged %zu rows", save_tag_count(s));
		save_clear_tags(s);
		break;
	case ACT_HEX:
		s->hex = !s->hex;
		s->detail_top = 0;
		if (s->focus != PANEL_DETAIL)
			message(s, false, "detail shows %s", s->hex ? "hex" : "text");
		break;
	case ACT_THEME:
		open_theme(s);
		break;
	case ACT_REDRAW:
		clearok(curscr, TRUE);
		break;
	case ACT_LOG:
		set_focus(s, PANEL_LOG);
		break;
	case ACT_IDLE:
		s->show_idle = !s->show_idle;
		store_view_show_idle(s->views[PANEL_PROCS], s->show_idle);
		store_view_show_idle(s->views[PANEL_EVENTS], s->show_idle);
		message(s, false,
			s->show_idle ? "idle processes and exec rows shown"
				     : "idle processes and exec rows hidden");
		break;
	case ACT_KERNEL:
		narrow_kernel(s);
		break;
	case ACT_EXCHANGES:
		set_focus(s, PANEL_EXCH);
		break;
	case ACT_AGGREGATES:
		set_focus(s, PANEL_AGGR);
		break;
	case ACT_FOLLOW:
		if (s->focus == PANEL_EVENTS || s->focus == PANEL_EXCH) {
			if (s->focus == PANEL_EVENTS)
				store_view_sort(s->views[PANEL_EVENTS], STORE_COL_TIME, false);
			else
				exch_view_sort(s->xv, XC_TIME, false);
			s->ps[s->focus].follow = true;
			s->ps[s->focus].pinned = true;
			message(s, false, "following the newest row (a move stops it)");
		} else {
			message(s, false, "F5 follows the newest row in Events and Exchanges");
		}
		break;
	case ACT_STEP_FWD:
	case ACT_STEP_BACK:
		if (replay_only(s, "step"))
			replay_step(s, a == ACT_STEP_FWD ? 1 : -1);
		break;
	case ACT_FASTER:
	case ACT_SLOWER:
		if (replay_only(s, "speed"))
			replay_speed(s, a == ACT_FASTER ? 1 : -1);
		break;
	case ACT_GOTO:
		if (replay_only(s, "go to")) {
			editor_start(&s->goto_ed, "");
			s->mode = MODE_GOTO;
		}
		break;
	case ACT_NONE:
	case ACT_MAX:
		break;
	}
}

/* Keys while a picker (sort, theme) is open. */
static void picker_key(struct screen *s, int ch, size_t n)
{
	switch (ch) {
	case KEY_UP:
	case 'k':
		if (s->pick_sel)
			s->pick_sel--;
		break;
	case KEY_DOWN:
	case 'j':
		if (s->pick_sel + 1 < n)
			s->pick_sel++;
		break;
	case '\n':
	case '\r':
	case KEY_ENTER:
		if (s->mode == MODE_SORT && panels_ops(s->focus)) {
			bool desc;

			panels_ops(s->focus)->sort_get(s, &desc);
			if (s->pick_sel < n)
				panels_ops(s->focus)->sort_set(s, s->pick_sel, desc);
			s->ps[s->focus].follow = false;
		} else if (s->mode == MODE_SORT) {
			const enum store_col *cols;
			struct store_view *v = focus_view(s);

			store_view_cols(s->focus == PANEL_PROCS	  ? STORE_V_PROCS
					: s->focus == PANEL_CONNS ? STORE_V_CONNS
								  : STORE_V_EVENTS,
					&cols);
			if (v && s->pick_sel < n) {
				store_view_sort(v, cols[s->pick_sel], store_view_sort_desc(v));
				s->ps[s->focus].follow = false;
			}
		} else if (s->pick_sel < s->n_themes) {
			int err = theme_save_choice(s->themes[s->pick_sel]);

			if (err)
				message(s, true, "theme %s: cannot save the choice: %s",
					s->themes[s->pick_sel], strerror(-err));
			else
				message(s, false, "theme %s (saved)", s->themes[s->pick_sel]);
		}
		s->mode = MODE_NORMAL;
		return;
	case 27:
	case 'q':
		if (s->mode == MODE_THEME)
			theme_load(s->theme_before);
		s->mode = MODE_NORMAL;
		return;
	default:
		return;
	}
	/* the theme picker previews as the selection moves */
	if (s->mode == MODE_THEME && s->pick_sel < s->n_themes)
		theme_load(s->themes[s->pick_sel]);
}

static void editor_mode_key(struct screen *s, int ch)
{
	struct editor *ed = s->mode == MODE_FILTER   ? &s->filter_ed
			    : s->mode == MODE_SEARCH ? &s->search_ed
			    : s->mode == MODE_GOTO   ? &s->goto_ed
						     : &s->save_ed;
	enum editor_result r = editor_key(ed, ch);

	switch (r) {
	case ED_CHANGED:
		if (s->mode == MODE_FILTER)
			validate_filter(s);
		break;
	case ED_DONE:
		if (s->mode == MODE_FILTER) {
			validate_filter(s);
			if (s->filter_bad)
				return; /* not applied: the marked term says why */
			if (!set_filter(s, ed->buf))
				message(s, false, "filter: %s", ed->buf[0] ? ed->buf : "(none)");
		} else if (s->mode == MODE_SEARCH) {
			snprintf(s->search, sizeof(s->search), "%s", ed->buf);
			editor_history_add(ed, ed->buf);
			s->mode = MODE_NORMAL;
			if (s->search[0])
				search_step(s, 1);
			return;
		} else if (s->mode == MODE_GOTO) {
			s->mode = MODE_NORMAL;
			replay_goto(s, ed->buf);
			return;
		} else {
			s->mode = MODE_NORMAL;
			if (ed->buf[0])
				save(s, ed->buf);
			return;
		}
		s->mode = MODE_NORMAL;
		break;
	case ED_CANCEL:
		s->mode = MODE_NORMAL;
		break;
	default:
		break;
	}
}

static void mouse(struct screen *s)
{
	MEVENT me;
	int k;

	if (getmouse(&me) != OK ||
	    !(me.bstate & (BUTTON1_CLICKED | BUTTON1_PRESSED | BUTTON1_DOUBLE_CLICKED)))
		return;
	if (s->mode != MODE_NORMAL)
		return;
	if (me.y == 2) {
		k = panels_tab_at(s, me.x);
		if (k >= 0)
			set_focus(s, (enum panel_id)k);
	} else if (me.y == s->lines - 1) {
		k = panels_bar_key_at(s, me.x);
		if (k >= 0)
			action(s, keymap_action(k));
	} else if (me.y >= TUI_ROW0 && me.y < s->lines - 2 && is_table(s->focus)) {
		select_row(s, s->ps[s->focus].top + (size_t)(me.y - TUI_ROW0));
		if (me.bstate & BUTTON1_DOUBLE_CLICKED)
			enter(s);
	}
}

static void key(struct screen *s, int ch)
{
	if (ch == KEY_RESIZE)
		return; /* the next draw reads the size */
	if (ch == KEY_MOUSE) {
		mouse(s);
		return;
	}
	if (s->too_small) {
		if (ch == 'q' || ch == KEY_F(10))
			s->quit = true;
		return;
	}
	switch (s->mode) {
	case MODE_FILTER:
	case MODE_SEARCH:
	case MODE_SAVE:
	case MODE_GOTO:
		editor_mode_key(s, ch);
		return;
	case MODE_SORT: {
		const enum store_col *cols;
		const char *const *names;
		size_t n = panels_ops(s->focus)
			       ? panels_ops(s->focus)->sort_cols(&names)
			       : store_view_cols(s->focus == PANEL_PROCS   ? STORE_V_PROCS
						 : s->focus == PANEL_CONNS ? STORE_V_CONNS
									   : STORE_V_EVENTS,
						 &cols);

		picker_key(s, ch, n);
		return;
	}
	case MODE_THEME:
		picker_key(s, ch, s->n_themes);
		return;
	case MODE_HELP:
		/* the drawing stops the scroll at the end */
		if (ch == KEY_DOWN || ch == 'j')
			s->help_top++;
		else if ((ch == KEY_UP || ch == 'k') && s->help_top)
			s->help_top--;
		else if (ch == KEY_NPAGE || ch == ' ')
			s->help_top += (size_t)(s->lines > 4 ? s->lines - 3 : 1);
		else if (ch == KEY_PPAGE)
			s->help_top = s->help_top > (size_t)(s->lines - 3)
					  ? s->help_top - (size_t)(s->lines - 3)
					  : 0;
		else if (ch == KEY_HOME)
			s->help_top = 0;
		else if (ch == 27 || ch == 'q' || ch == KEY_F(1) || ch == '?' || ch == 'h' ||
			 ch == '\n')
			s->mode = MODE_NORMAL;
		return;
	case MODE_NORMAL:
		break;
	}
	action(s, keymap_action(ch));
}

static void update_rates(struct screen *s)
{
	uint64_t now = store_now_ns();
	double dt;

	if (s->e)
		engine_stats(s->e, &s->es);
	if (s->replay) {
		/* the capture's rates at the replay's position, not the wall clock's */
		rate_at(&s->rp_rate, s->rp_pos_ns, &s->ev_per_s, &s->bytes_per_s);
		return;
	}
	if (!s->rate_ns) {
		s->rate_ns = now;
		s->rate_events = s->es.events;
		s->rate_bytes = s->es.bytes;
		return;
	}
	dt = (double)(now - s->rate_ns) / 1e9;
	if (dt < 1.0)
		return;
	s->ev_per_s = (double)(s->es.events - s->rate_events) / dt;
	s->bytes_per_s = (double)(s->es.bytes - s->rate_bytes) / dt;
	s->rate_ns = now;
	s->rate_events = s->es.events;
	s->rate_bytes = s->es.bytes;
}

/* Bring the filter and the views the screen shows up to date. Returns true
 * when more work is left (call again soon). */
static bool update_views(struct screen *s)
{
	bool more = !store_update(s->st, FILTER_BUDGET_NS);
	int p;

	for (p = 0; p <= PANEL_EVENTS; p++) {
		/* the focused view gets the budget; the others are kept cheap ones
		 * (tables) or caught up when focused */
		if (p != (int)s->focus && p == PANEL_EVENTS)
			continue;
		if (!store_view_update(s->views[p], VIEW_BUDGET_NS))
			more = true;
		reselect(s, (enum panel_id)p);
		keep_visible(s, (enum panel_id)p);
	}
	if (panels_ops(s->focus)) {
		panels_ops(s->focus)->update(s);
		reselect(s, s->focus);
		keep_visible(s, s->focus);
	}
	return more;
}

/* After the terminal is back: one line of what the session saw and lost. */
static void summary(struct screen *s)
{
	struct store_stats ss;
	struct exch_stats xs = {0};
	char b[32];

	if (s->e)
		engine_stats(s->e, &s->es);
	store_get_stats(s->st, &ss);
	if (store_exchanges(s->st))
		exch_get_stats(store_exchanges(s->st), &xs);
	fprintf(stderr,
		"ecaptop: %llu events, %s bytes, %llu exchanges; lost: reserve %llu read %llu "
		"trunc %llu perf %llu queue %llu malformed %llu alloc %llu; evicted %llu "
		"(%llu by --max-memory)\n",
		(unsigned long long)s->es.events, fmt_bytes(s->es.bytes, b, sizeof(b)),
		(unsigned long long)xs.total, (unsigned long long)s->es.lost.reserve,
		(unsigned long long)s->es.lost.read, (unsigned long long)s->es.lost.trunc,
		(unsigned long long)s->es.lost.perf, (unsigned long long)s->es.lost.queue,
		(unsigned long long)s->es.lost.malformed, (unsigned long long)s->es.lost.alloc,
		(unsigned long long)(ss.evicted + s->pend_dropped),
		(unsigned long long)ss.evicted_mem);
}

static int screen_init(struct screen *s)
{
	const char *cs;

	setlocale(LC_ALL, "");
	cs = nl_langinfo(CODESET);
	fmt_set_utf8(cs && !strcmp(cs, "UTF-8"));
	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
		fprintf(stderr, "ecaptop: the interactive view needs a terminal (use --batch)\n");
		return -ENOTTY;
	}
	if (!initscr()) {
		fprintf(stderr, "ecaptop: cannot set up the terminal (TERM=%s)\n",
			getenv("TERM") ? getenv("TERM") : "");
		return -EIO;
	}
	cbreak();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	/* Home and End as terminals send them whatever TERM says (tmux and screen
	 * send the VT220 forms, rxvt its own, xterm without keypad mode CSI H/F):
	 * in a replay they move in time, so they must not arrive as Esc and '['. */
	define_key("\033[1~", KEY_HOME);
	define_key("\033[4~", KEY_END);
	define_key("\033[7~", KEY_HOME);
	define_key("\033[8~", KEY_END);
	define_key("\033[H", KEY_HOME);
	define_key("\033[F", KEY_END);
	define_key("\033OH", KEY_HOME);
	define_key("\033OF", KEY_END);
	nodelay(stdscr, TRUE);
	set_escdelay(25);
	mousemask(BUTTON1_CLICKED | BUTTON1_PRESSED | BUTTON1_DOUBLE_CLICKED, NULL);
	mouseinterval(0);
	curs_set(0);
	theme_init(s->o ? s->o->theme : NULL, s->o ? s->o->theme_dir : NULL);
	getmaxyx(stdscr, s->lines, s->cols);
	return 0;
}

int tui_run(struct engine *e, struct store *st, const struct tui_opts *o)
{
	struct screen s;
	uint64_t last_draw = 0, last_busy;
	bool dirty = true;
	int i;

	memset(&s, 0, sizeof(s));
	s.e = e;
	s.st = st;
	s.o = o;
	s.start_ns = store_now_ns();
	s.replay = e && engine_is_replay(e);
	s.views[PANEL_PROCS] = store_view_new(st, STORE_V_PROCS);
	s.views[PANEL_CONNS] = store_view_new(st, STORE_V_CONNS);
	s.views[PANEL_EVENTS] = store_view_new(st, STORE_V_EVENTS);
	s.xv = exch_view_new(st);
	s.av = agg_view_new(st);
	if (!s.views[0] || !s.views[1] || !s.views[2] || !s.xv || !s.av) {
		exch_view_free(s.xv);
		agg_view_free(s.av);
		fprintf(stderr, "ecaptop: out of memory\n");
		for (i = 0; i < 3; i++)
			store_view_free(s.views[i]);
		return 1;
	}
	s.ps[PANEL_EVENTS].follow = true;
	s.ps[PANEL_EXCH].follow = true;
	if (screen_init(&s)) {
		exch_view_free(s.xv);
		agg_view_free(s.av);
		for (i = 0; i < 3; i++)
			store_view_free(s.views[i]);
		return 1;
	}
	/* nothing may reach the terminal while curses owns it */
	log_set_stderr(0, LOG_INFO);
	if (o && o->filter && o->filter[0] && set_filter(&s, o->filter))
		log_msg(LOG_WARN, "initial filter '%s' is not valid", o->filter);
	/* the first filter holds -p/-u: the kernel set nothing may widen */
	if (o && o->filter && o->filter[0] && s.e && !s.replay) {
		struct filter *f = filter_compile(o->filter, NULL, 0, NULL, NULL);

		s.n_base_pids = filter_kernel_pids(f, s.base_pids, ENGINE_MAX_FILTER);
		s.n_base_uids = filter_kernel_uids(f, s.base_uids, ENGINE_MAX_FILTER);
		filter_free(f);
		push_kernel(&s, s.base_pids, s.n_base_pids, s.base_uids, s.n_base_uids);
	}
	log_msg(LOG_INFO, "interactive view started (theme %s)", theme_name());
	last_busy = store_now_ns();

	while (!s.quit && !stop_requested) {
		struct pollfd pfd[3] = {{.fd = STDIN_FILENO, .events = POLLIN},
					{.fd = stop_fd(), .events = POLLIN},
					{.fd = s.e ? engine_wait_fd(s.e) : -1, .events = POLLIN}};
		uint64_t now, frame;
		bool more;
		int ch, timeout;

		if (drain(&s))
			dirty = true;
		replay_refresh(&s);
		more = update_views(&s);
		now = store_now_ns();
		if (dirty || more)
			last_busy = now;
		/* A live capture with nothing coming (no event, key or message) wakes
		 * once a second, for the header's rates and the rows' ages, not 10 times:
		 * an idle ecaptop costs no measurable CPU. */
		frame = !s.replay && now - last_busy >= IDLE_AFTER_NS &&
				!(s.msg[0] && now < s.msg_until)
			    ? IDLE_FRAME_NS
			    : FRAME_NS;
		if (dirty || more || now - last_draw >= frame) {
			update_rates(&s);
			panels_draw(&s);
			last_draw = now;
			dirty = false;
		}
		if (more || work_waiting(&s))
			timeout = 0;
		else if (frame == IDLE_FRAME_NS)
			timeout = (int)((last_draw + frame - now) / 1000000) + 1;
		else
			timeout = 100;
		if (s.e && engine_wait_ms(s.e) >= 0 && timeout > engine_wait_ms(s.e))
			timeout = engine_wait_ms(s.e); /* a replay's clock */
		if (s.o && s.o->rec && timeout > 200)
			timeout = 200; /* a recording's once-a-second flush (recorder_tick) */
		if (poll(pfd, s.e ? 3 : 2, timeout) < 0 && errno != EINTR)
			break;
		while ((ch = getch()) != ERR) {
			key(&s, ch);
			dirty = true;
			last_busy = store_now_ns();
			if (s.quit)
				break;
		}
		if (dirty) {
			/* show the key's effect now, before the next drain */
			replay_refresh(&s);
			update_views(&s);
			panels_draw(&s);
			last_draw = store_now_ns();
			dirty = false;
		}
	}

	endwin();
	summary(&s);
	for (i = 0; i < 3; i++)
		store_view_free(s.views[i]);
	exch_view_free(s.xv);
	agg_view_free(s.av);
	while (s.pend_n)
		free(pend_pop(&s));
	free(s.pend);
	for (i = 0; i < PANEL_MAX; i++)
		free(s.ps[i].tags.v);
	editor_free(&s.filter_ed);
	editor_free(&s.search_ed);
	editor_free(&s.save_ed);
	editor_free(&s.goto_ed);
	return 0;
}
