/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A one-line editor with history, for the filter editor and search. Keys:
 * printable characters insert; Left/Right, Home/End (Ctrl-A/Ctrl-E) move;
 * Backspace/Delete erase; Ctrl-U clears; Ctrl-W erases a word; Up/Down recall
 * history; Enter accepts; Esc cancels.
 */
#ifndef ECAPTOP_TUI_EDITOR_H
#define ECAPTOP_TUI_EDITOR_H

#include <stddef.h>

#define EDITOR_MAX     512
#define EDITOR_HISTORY 50

enum editor_result {
	ED_NONE,    /* key not for the editor (ignored) */
	ED_MOVED,   /* the cursor moved */
	ED_CHANGED, /* the text changed */
	ED_DONE,    /* Enter */
	ED_CANCEL,  /* Esc */
};

struct editor {
	char buf[EDITOR_MAX];
	size_t len, cur;
	char *hist[EDITOR_HISTORY]; /* oldest first; owned */
	size_t n_hist;
	size_t hist_pos;	/* n_hist while editing a fresh line */
	char draft[EDITOR_MAX]; /* the fresh line while browsing history */
};

/* Begin editing initial (borrowed, copied). */
void editor_start(struct editor *e, const char *initial);
enum editor_result editor_key(struct editor *e, int key);
/* Append line to the history (copied; a repeat of the newest is skipped). */
void editor_history_add(struct editor *e, const char *line);
void editor_free(struct editor *e);

#endif
