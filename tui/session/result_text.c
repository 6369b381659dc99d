// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* A SQL result's first rows as a table (result_text.h). */
#include "tui/session/result_text.h"

#include <string.h>

#define MAX_COLS 64

/* The cells of one line: starts and lengths; returns how many. */
static size_t split(const char *p, size_t len, const char **cell, size_t *clen)
{
	size_t n = 0;

	while (n < MAX_COLS) {
		const char *tab = memchr(p, '\t', len);
		size_t k = tab ? (size_t)(tab - p) : len;

		cell[n] = p;
		clen[n++] = k;
		if (!tab)
			break;
		p += k + 1;
		len -= k + 1;
	}
	return n;
}

static void put_cell(struct strbuf *sb, const char *p, size_t len, size_t width, int last)
{
	size_t k = len > width ? width - 1 : len;

	sb_append(sb, p, k);
	if (len > width)
		sb_puts(sb, "~");
	else if (!last)
		for (; k < width; k++)
			sb_puts(sb, " ");
	if (!last)
		sb_puts(sb, " | ");
}

void result_text_table(struct strbuf *sb, const char *result, int64_t rows)
{
	size_t width[MAX_COLS] = {0}, clen[MAX_COLS], ncols = 0, n, i, shown = 0;
	const char *cell[MAX_COLS], *p, *nl;

	if (!result)
		return;
	/* the widths, over the names and every row */
	for (p = result; *p; p = nl + 1) {
		nl = strchr(p, '\n');
		if (!nl)
			break;
		n = split(p, (size_t)(nl - p), cell, clen);
		if (p == result)
			ncols = n;
		for (i = 0; i < n; i++)
			if (clen[i] > width[i])
				width[i] = clen[i] > RESULT_COL_MAX ? RESULT_COL_MAX : clen[i];
	}
	for (i = 0; i < ncols; i++)
		if (!width[i])
			width[i] = 1;
	sb_puts(sb, "\nresult:\n");
	for (p = result; *p; p = nl + 1) {
		nl = strchr(p, '\n');
		if (!nl)
			break;
		n = split(p, (size_t)(nl - p), cell, clen);
		for (i = 0; i < n; i++)
			put_cell(sb, cell[i], clen[i], width[i] ? width[i] : 1, i + 1 == n);
		sb_puts(sb, "\n");
		if (p == result) {
			for (i = 0; i < ncols; i++) {
				size_t k;

				for (k = 0; k < width[i]; k++)
					sb_puts(sb, "-");
				if (i + 1 < ncols)
					sb_puts(sb, "-+-");
			}
			sb_puts(sb, "\n");
		} else {
			shown++;
		}
	}
	if (rows >= 0 && (uint64_t)rows > shown)
		sb_printf(sb, "... %lld more row%s\n", (long long)rows - (long long)shown,
			  rows - (int64_t)shown == 1 ? "" : "s");
}
