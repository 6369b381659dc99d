// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* A result set's first rows as text (decoders/util/result.h). */
#include <stdio.h>
#include <string.h>

#include "decoders/decoder.h"
#include "decoders/util/result.h"
#include "unit.h"

static void field(struct dec_result *r, const char *s)
{
	dec_result_field(r, (const uint8_t *)s, strlen(s), 0);
}

/* Names, escapes, NULL, and no more than DEC_RESULT_ROWS rows. */
static void test_rows_cap(void)
{
	struct dec_result r = {0};
	const char *want_prefix;
	char want[64];
	int i;

	CHECK(dec_result_text(&r) == NULL);
	CHECK(!dec_result_wants_row(&r));
	field(&r, "id");
	field(&r, "na\tme");
	dec_result_names_end(&r);
	CHECK(dec_result_wants_row(&r));
	for (i = 0; i < DEC_RESULT_ROWS + 5; i++) {
		snprintf(want, sizeof(want), "%d", i);
		field(&r, want);
		if (i == 0)
			dec_result_field(&r, NULL, 0, 1);
		else
			field(&r, "a\nb\\");
		dec_result_row_end(&r);
	}
	CHECK_EQ_INT(r.rows, DEC_RESULT_ROWS);
	CHECK(!dec_result_wants_row(&r));
	want_prefix = "id\tna\\tme\n0\t\\N\n1\ta\\nb\\\\\n2\t";
	CHECK(!strncmp(dec_result_text(&r), want_prefix, strlen(want_prefix)));
	dec_result_free(&r);
}

/* A long field is cut; a row past DEC_RESULT_CAP is left out with the rest. */
static void test_bytes_cap(void)
{
	struct dec_result r = {0};
	char big[DEC_RESULT_FIELD_CAP * 2];
	const char *t;

	memset(big, 'x', sizeof(big));
	field(&r, "c");
	dec_result_names_end(&r);
	dec_result_field(&r, (const uint8_t *)big, sizeof(big), 0);
	dec_result_row_end(&r);
	t = dec_result_text(&r);
	CHECK(t && strlen(t) == 2 + DEC_RESULT_FIELD_CAP + 3 + 1);
	CHECK(!strcmp(t + strlen(t) - 4, "...\n"));
	while (dec_result_wants_row(&r)) {
		dec_result_field(&r, (const uint8_t *)big, sizeof(big), 0);
		dec_result_row_end(&r);
	}
	CHECK(strlen(dec_result_text(&r)) <= DEC_RESULT_CAP);
	dec_result_free(&r);
}

UNIT_MAIN(UNIT(test_rows_cap), UNIT(test_bytes_cap))
