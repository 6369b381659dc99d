/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Panels as objects, in the htop manner: each panel file fills a struct
 * panel_ops, and the screen manager (tui.c) and the drawing code (panels.c)
 * reach the panel through it: its rows, their text and role, its column heads,
 * its sort columns, and the actions it handles itself (the key table maps a key
 * to an action; the focused panel gets it first).
 *
 * The Exchanges (panel_exch.c) and Aggregates (panel_aggr.c) panels are built
 * this way; the older table panels (processes, connections, events) are still
 * drawn by panels.c from the store's views.
 */
#ifndef ECAPTOP_TUI_PANEL_H
#define ECAPTOP_TUI_PANEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tui/keymap.h"

struct screen;

struct panel_ops {
	const char *name;
	/* Bring the rows up to date (once a frame, while focused). */
	void (*update)(struct screen *s);
	size_t (*len)(struct screen *s);
	/* The id of row i (kept across updates to keep the selection), 0 if none. */
	uint64_t (*row_id)(struct screen *s, size_t i);
	/* The column heads, laid out for s->cols. */
	void (*heads)(struct screen *s, char *line, size_t size);
	/* Row i laid out for s->cols; *role a theme role. false past the end. */
	bool (*row)(struct screen *s, size_t i, char *line, size_t size, int *role);
	/* An action on the panel: true when it handled it (the rest go to the
	 * screen manager's defaults: moving, filter, sort picker, quit...). */
	bool (*action)(struct screen *s, enum tui_action a);
	/* Sorting: the columns' names, the current one and a new one. */
	size_t (*sort_cols)(const char *const **names);
	size_t (*sort_get)(struct screen *s, bool *desc);
	void (*sort_set)(struct screen *s, size_t col, bool desc);
	/* A line under the tabs saying what the panel shows (its scope), or NULL. */
	const char *(*scope)(struct screen *s, char *buf, size_t size);
};

extern const struct panel_ops panel_exchanges;
extern const struct panel_ops panel_aggregates;

/* Lay out cells in columns: widths[i] columns each (0: the rest), right[i]
 * right-aligned; a cell longer than its column is cut. */
void panel_layout(char *line, size_t size, const char *const *cells, const int *widths,
		  const bool *right, size_t n, int cols);

#endif
