// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The first rows of a result set as bounded text (result.h). */
#include "result.h"

#include <string.h>

#include "../decoder.h"

void dec_result_field(struct dec_result *r, const uint8_t *p, size_t n, int is_null)
{
	size_t i, cut = n > DEC_RESULT_FIELD_CAP ? DEC_RESULT_FIELD_CAP : n;

	if (r->full)
		return;
	if (r->fields++)
		sb_puts(&r->line, "\t");
	if (is_null) {
		sb_puts(&r->line, "\\N");
		return;
	}
	for (i = 0; i < cut; i++) {
		uint8_t c = p[i];

		if (c == '\t')
			sb_puts(&r->line, "\\t");
		else if (c == '\n')
			sb_puts(&r->line, "\\n");
		else if (c == '\\')
			sb_puts(&r->line, "\\\\");
		else if (c < 0x20 || c == 0x7f)
			sb_printf(&r->line, "\\x%02x", c);
		else
			sb_append(&r->line, &c, 1);
	}
	if (cut < n)
		sb_puts(&r->line, "...");
}

static void line_end(struct dec_result *r)
{
	if (!r->line.failed && r->text.len + r->line.len + 1 <= DEC_RESULT_CAP) {
		sb_append(&r->text, r->line.buf ? r->line.buf : "", r->line.len);
		sb_puts(&r->text, "\n");
	} else {
		r->full = 1;
	}
	sb_reset(&r->line);
	r->fields = 0;
}

void dec_result_names_end(struct dec_result *r)
{
	if (r->have_names || r->full) {
		sb_reset(&r->line);
		r->fields = 0;
		return;
	}
	line_end(r);
	r->have_names = !r->full;
}

void dec_result_row_end(struct dec_result *r)
{
	if (!dec_result_wants_row(r)) {
		sb_reset(&r->line);
		r->fields = 0;
		return;
	}
	line_end(r);
	if (!r->full)
		r->rows++;
	if (r->rows >= DEC_RESULT_ROWS)
		r->full = 1;
}

int dec_result_wants_row(const struct dec_result *r)
{
	return r->have_names && !r->full;
}

const char *dec_result_text(const struct dec_result *r)
{
	return r->have_names && !r->text.failed ? r->text.buf : NULL;
}

void dec_result_free(struct dec_result *r)
{
	sb_free(&r->text);
	sb_free(&r->line);
	memset(r, 0, sizeof(*r));
}
