/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A SQL record's first rows (dec_mysql.result, dec_pgsql.result: names and
 * rows as tab-separated lines, decoders/decoder.h) laid out as a table for the
 * detail panel and the regex filter.
 */
#ifndef ECAPTOP_SESSION_RESULT_TEXT_H
#define ECAPTOP_SESSION_RESULT_TEXT_H

#include <stdint.h>

#include "decoders/util/strbuf.h"

/* Appends "columns: a | b", the rows under the names in columns of at most
 * RESULT_COL_MAX characters (longer cells cut with "~"), and "... N more
 * rows" when rows (the result's row count, -1 unknown) exceeds those shown.
 * Nothing for a NULL result. Borrows both. */
#define RESULT_COL_MAX 30
void result_text_table(struct strbuf *sb, const char *result, int64_t rows);

#endif
