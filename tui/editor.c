// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* One-line editor with history: see editor.h. */
#include "tui/editor.h"

#include <curses.h>
#include <stdlib.h>
#include <string.h>

#define CTRL(c) ((c)&0x1f)

static void set_text(struct editor *e, const char *s)
{
	size_t n = strlen(s);

	if (n >= EDITOR_MAX)
		n = EDITOR_MAX - 1;
	memcpy(e->buf, s, n);
	e->buf[n] = '\0';
	e->len = e->cur = n;
}

void editor_start(struct editor *e, const char *initial)
{
	set_text(e, initial ? initial : "");
	e->hist_pos = e->n_hist;
	e->draft[0] = '\0';
}

void editor_history_add(struct editor *e, const char *line)
{
	char *c;

	if (!line[0] || (e->n_hist && !strcmp(e->hist[e->n_hist - 1], line)))
		return;
	c = strdup(line);
	if (!c)
		return;
	if (e->n_hist == EDITOR_HISTORY) {
		free(e->hist[0]);
		memmove(e->hist, e->hist + 1, (EDITOR_HISTORY - 1) * sizeof(e->hist[0]));
		e->n_hist--;
	}
	e->hist[e->n_hist++] = c;
}

void editor_free(struct editor *e)
{
	size_t i;

	for (i = 0; i < e->n_hist; i++)
		free(e->hist[i]);
	e->n_hist = 0;
}

static void ed_erase(struct editor *e, size_t from, size_t to)
{
	memmove(e->buf + from, e->buf + to, e->len - to + 1);
	e->len -= to - from;
	e->cur = from;
}

enum editor_result editor_key(struct editor *e, int key)
{
	size_t p;

	switch (key) {
	case '\n':
	case '\r':
	case KEY_ENTER:
		return ED_DONE;
	case 27:
		return ED_CANCEL;
	case KEY_LEFT:
		if (e->cur)
			e->cur--;
		return ED_MOVED;
	case KEY_RIGHT:
		if (e->cur < e->len)
			e->cur++;
		return ED_MOVED;
	case KEY_HOME:
	case CTRL('a'):
		e->cur = 0;
		return ED_MOVED;
	case KEY_END:
	case CTRL('e'):
		e->cur = e->len;
		return ED_MOVED;
	case KEY_BACKSPACE:
	case 127:
	case CTRL('h'):
		if (!e->cur)
			return ED_MOVED;
		ed_erase(e, e->cur - 1, e->cur);
		return ED_CHANGED;
	case KEY_DC:
	case CTRL('d'):
		if (e->cur == e->len)
			return ED_MOVED;
		ed_erase(e, e->cur, e->cur + 1);
		return ED_CHANGED;
	case CTRL('u'):
		ed_erase(e, 0, e->cur);
		return ED_CHANGED;
	case CTRL('w'):
		p = e->cur;
		while (p && e->buf[p - 1] == ' ')
			p--;
		while (p && e->buf[p - 1] != ' ')
			p--;
		ed_erase(e, p, e->cur);
		return ED_CHANGED;
	case KEY_UP:
		if (!e->hist_pos)
			return ED_MOVED;
		if (e->hist_pos == e->n_hist)
			memcpy(e->draft, e->buf, e->len + 1);
		set_text(e, e->hist[--e->hist_pos]);
		return ED_CHANGED;
	case KEY_DOWN:
		if (e->hist_pos >= e->n_hist)
			return ED_MOVED;
		e->hist_pos++;
		set_text(e, e->hist_pos == e->n_hist ? e->draft : e->hist[e->hist_pos]);
		return ED_CHANGED;
	default:
		break;
	}
	/* printable ASCII, and the bytes of UTF-8 characters as the terminal sends them */
	if ((key >= 0x20 && key < 0x7f) || (key >= 0x80 && key <= 0xff)) {
		if (e->len + 1 >= EDITOR_MAX)
			return ED_MOVED;
		memmove(e->buf + e->cur + 1, e->buf + e->cur, e->len - e->cur + 1);
		e->buf[e->cur++] = (char)key;
		e->len++;
		return ED_CHANGED;
	}
	return ED_NONE;
}
