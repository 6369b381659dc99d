// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The key table: see keymap.h. The keys are those of issue 4 (tests rely on them). */
#include "tui/keymap.h"

#include <curses.h>

#define CTRL(c) ((c)&0x1f)

static const struct tui_key keys[] = {
    {KEY_F(1), ACT_HELP, "F1", "help (this screen)", "Help"},
    {'?', ACT_HELP, "?", "help", NULL},
    {'h', ACT_HELP, "h", "help", NULL},
    {'e', ACT_EXCHANGES, "e", "Exchanges: one row per request/response, query, command", NULL},
    {'a', ACT_AGGREGATES, "a", "Aggregates: per endpoint and query, p50/p95/p99", NULL},
    {'i', ACT_IDLE, "i", "show/hide idle processes (no connection, no command) and exec rows",
     NULL},
    {KEY_F(5), ACT_FOLLOW, "F5", "follow the newest row (Events, Exchanges)", "Follow"},
    {'\t', ACT_NEXT_PANEL, "Tab", "next panel", NULL},
    {KEY_BTAB, ACT_PREV_PANEL, "Shift-Tab", "previous panel", NULL},
    {KEY_UP, ACT_UP, "Up", "move up", NULL},
    {'k', ACT_UP, "k", "move up", NULL},
    {KEY_DOWN, ACT_DOWN, "Down", "move down", NULL},
    {'j', ACT_DOWN, "j", "move down", NULL},
    {KEY_PPAGE, ACT_PAGE_UP, "PgUp", "page up", NULL},
    {KEY_NPAGE, ACT_PAGE_DOWN, "PgDn", "page down", NULL},
    {KEY_HOME, ACT_HOME, "Home", "first row; replay: the start of the file", NULL},
    {KEY_END, ACT_END, "End", "last row; replay: the end of the file", NULL},
    {'\n', ACT_ENTER, "Enter",
     "drill down: process > connections > events > detail; exchange > detail; "
     "command > its exchanges; aggregate > its exchanges",
     NULL},
    {'\r', ACT_ENTER, NULL, NULL, NULL},
    {KEY_ENTER, ACT_ENTER, NULL, NULL, NULL},
    {KEY_BACKSPACE, ACT_BACK, "Backspace", "go back up", NULL},
    {127, ACT_BACK, NULL, NULL, NULL},
    {CTRL('h'), ACT_BACK, NULL, NULL, NULL},
    {27, ACT_BACK, "Esc", "go back up", NULL},
    {KEY_F(4), ACT_FILTER, "F4", "filter editor", "Filter"},
    {'\\', ACT_FILTER, "\\", "filter editor", NULL},
    {'P', ACT_FILTER_PID, "P", "show only the selected row's PID (again: clear); display only",
     NULL},
    {'U', ACT_FILTER_UID, "U", "show only the selected row's UID (again: clear); display only",
     NULL},
    {'K', ACT_KERNEL, "K",
     "narrow the kernel's capture to the filter's pid:/uid: (within -p/-u); others are lost", NULL},
    {KEY_F(3), ACT_SEARCH, "F3", "search the panel", "Search"},
    {'/', ACT_SEARCH, "/", "search the panel", NULL},
    {'n', ACT_SEARCH_NEXT, "n", "next match", NULL},
    {'N', ACT_SEARCH_PREV, "N", "previous match", NULL},
    {KEY_F(6), ACT_SORT, "F6", "choose the sort column", "SortBy"},
    {'>', ACT_SORT, ">", "choose the sort column", NULL},
    {'I', ACT_SORT_INVERT, "I", "invert the sort order", NULL},
    {'p', ACT_PAUSE, "p", "pause/resume the display (capture goes on); replay: play/pause",
     "Pause"},
    {'Z', ACT_PAUSE, "Z", "pause/resume the display; replay: play/pause", NULL},
    {'.', ACT_STEP_FWD, ".", "replay: one event forward (pauses)", NULL},
    {',', ACT_STEP_BACK, ",", "replay: one event back (rebuilds; pauses)", NULL},
    {']', ACT_FASTER, "]", "replay: twice as fast (up to 1024x)", NULL},
    {'[', ACT_SLOWER, "[", "replay: half as fast (down to 1/64x)", NULL},
    {'g', ACT_GOTO, "g", "replay: go to a time (+30s, -5s, 1m30s, 01:30.250, 12:03:05)", NULL},
    {' ', ACT_TAG, "Space", "tag/untag the row", NULL},
    {'T', ACT_UNTAG_ALL, "T", "untag every row of every panel", NULL},
    {'w', ACT_SAVE, "w",
     "save the tagged rows (none tagged: what passes the filter); the prompt says what", NULL},
    {'x', ACT_HEX, "x", "text/hex in the detail", "Hex"},
    {'C', ACT_THEME, "C", "choose the colour theme (saved)", "Theme"},
    {CTRL('l'), ACT_REDRAW, "Ctrl-L", "redraw the screen", NULL},
    {'L', ACT_LOG, "L", "log view", NULL},
    /* last, so that the bar ends with it as htop's does */
    {KEY_F(10), ACT_QUIT, "F10", "quit", "Quit"},
    {'q', ACT_QUIT, "q", "quit", NULL},
};

enum tui_action keymap_action(int key)
{
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (keys[i].key == key)
			return keys[i].action;
	return ACT_NONE;
}

size_t keymap_table(const struct tui_key **k)
{
	*k = keys;
	return sizeof(keys) / sizeof(keys[0]);
}
