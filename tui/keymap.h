/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The one table mapping keys to actions. The help screen, the function-key bar
 * and the man page are written from it; a key is added here and nowhere else.
 */
#ifndef ECAPTOP_TUI_KEYMAP_H
#define ECAPTOP_TUI_KEYMAP_H

#include <stddef.h>

enum tui_action {
	ACT_NONE = 0,
	ACT_HELP,
	ACT_QUIT,
	ACT_NEXT_PANEL,
	ACT_PREV_PANEL,
	ACT_UP,
	ACT_DOWN,
	ACT_PAGE_UP,
	ACT_PAGE_DOWN,
	ACT_HOME,
	ACT_END,
	ACT_ENTER,
	ACT_BACK,
	ACT_FILTER,
	ACT_FILTER_PID,
	ACT_FILTER_UID,
	ACT_SEARCH,
	ACT_SEARCH_NEXT,
	ACT_SEARCH_PREV,
	ACT_SORT,
	ACT_SORT_INVERT,
	ACT_PAUSE,
	ACT_TAG,
	ACT_UNTAG_ALL,
	ACT_SAVE,
	ACT_HEX,
	ACT_THEME,
	ACT_REDRAW,
	ACT_LOG,
	ACT_KERNEL,
	ACT_IDLE,
	ACT_EXCHANGES,
	ACT_AGGREGATES,
	ACT_FOLLOW,
	/* replay (-r) */
	ACT_STEP_FWD,
	ACT_STEP_BACK,
	ACT_FASTER,
	ACT_SLOWER,
	ACT_GOTO,
	ACT_MAX
};

struct tui_key {
	int key; /* curses key code or character */
	enum tui_action action;
	const char *name; /* as shown in help: "F4", "\\", "Space" */
	const char *help; /* what it does */
	const char *bar;  /* label in the function-key bar, or NULL */
};

/* The action bound to key, ACT_NONE if none. */
enum tui_action keymap_action(int key);
/* The table (for help and the bar); returns its length. */
size_t keymap_table(const struct tui_key **keys);

#endif
