// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* A SQL result's first rows as the detail's table (tui/session/result_text.h). */
#include <string.h>

#include "tui/session/result_text.h"
#include "unit.h"

/* The detail's table: names, a rule, the rows, and how many more there are. */
static void test_table(void)
{
	struct strbuf sb = STRBUF_INIT;

	result_text_table(&sb, "n\ts\n7\tx\n8\tyy\n", 12);
	CHECK_EQ_STR(sb.buf, "\nresult:\n"
			     "n | s\n"
			     "--+---\n"
			     "7 | x\n"
			     "8 | yy\n"
			     "... 10 more rows\n");
	sb_reset(&sb);
	result_text_table(&sb, NULL, 3);
	CHECK_EQ_INT((int)sb.len, 0);
	sb_free(&sb);
}

UNIT_MAIN(UNIT(test_table))
