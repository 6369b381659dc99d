// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "unit.h"
#include "engine/spsc.h"

#include <errno.h>
#include <stdint.h>

static void test_init_rejects_bad_sizes(void)
{
	struct spsc q;
	void *slots[8];

	CHECK_EQ_INT(spsc_init(&q, slots, 0), -EINVAL);
	CHECK_EQ_INT(spsc_init(&q, slots, 1), -EINVAL);
	CHECK_EQ_INT(spsc_init(&q, slots, 6), -EINVAL);
	CHECK_EQ_INT(spsc_init(&q, NULL, 8), -EINVAL);
	CHECK_EQ_INT(spsc_init(&q, slots, 8), 0);
	CHECK_EQ_INT(spsc_capacity(&q), 8);
}

static void test_fifo_and_full(void)
{
	struct spsc q;
	void *slots[4];
	uintptr_t i;

	spsc_init(&q, slots, 4);
	CHECK(spsc_pop(&q) == NULL);
	for (i = 1; i <= 4; i++)
		CHECK(spsc_push(&q, (void *)i));
	CHECK(!spsc_push(&q, (void *)5));
	CHECK_EQ_INT(spsc_size(&q), 4);
	for (i = 1; i <= 4; i++)
		CHECK(spsc_pop(&q) == (void *)i);
	CHECK(spsc_pop(&q) == NULL);
	CHECK_EQ_INT(spsc_size(&q), 0);
}

static void test_wraparound(void)
{
	struct spsc q;
	void *slots[4];
	uintptr_t next_in = 1, next_out = 1;
	int round;

	spsc_init(&q, slots, 4);
	/* Free-running indices: push/pop far past the capacity, in uneven batches. */
	for (round = 0; round < 10000; round++) {
		int k = round % 4 + 1, j;

		for (j = 0; j < k; j++)
			CHECK(spsc_push(&q, (void *)next_in++));
		for (j = 0; j < k; j++)
			CHECK(spsc_pop(&q) == (void *)next_out++);
	}
	CHECK(spsc_pop(&q) == NULL);
}

UNIT_MAIN(UNIT(test_init_rejects_bad_sizes), UNIT(test_fifo_and_full), UNIT(test_wraparound))
