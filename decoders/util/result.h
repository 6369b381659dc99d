/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The first rows of a SQL result set as text, for display (dec_mysql.result,
 * dec_pgsql.result; the format is described in decoder.h). The decoders add
 * the column names and then rows, field by field; the text is bounded by
 * DEC_RESULT_ROWS rows, DEC_RESULT_FIELD_CAP bytes per field and
 * DEC_RESULT_CAP bytes in all (a row that does not fit is left out whole).
 */
#ifndef ECAPTOP_DECODERS_UTIL_RESULT_H
#define ECAPTOP_DECODERS_UTIL_RESULT_H

#include <stddef.h>
#include <stdint.h>

#include "strbuf.h"

struct dec_result {
	struct strbuf text; /* the lines kept; owned */
	struct strbuf line; /* the line being built; owned */
	unsigned rows;	    /* rows kept */
	int have_names;	    /* the column names line is in text */
	int full;	    /* no more rows are kept */
	size_t fields;	    /* fields in line */
};

/* Append one field (n bytes at p; is_null: SQL NULL) to the line being built. */
void dec_result_field(struct dec_result *r, const uint8_t *p, size_t n, int is_null);
/* End the line of column names. */
void dec_result_names_end(struct dec_result *r);
/* End a row; kept if there is room. */
void dec_result_row_end(struct dec_result *r);
/* Whether another row would be kept (names seen, room left). */
int dec_result_wants_row(const struct dec_result *r);
/* The text, NULL if no column names were seen. */
const char *dec_result_text(const struct dec_result *r);
void dec_result_free(struct dec_result *r); /* the struct is empty and reusable */

#endif
