// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * ThreadSanitizer stress test of the SPSC queue: one producer pushes N sequence
 * numbers (spinning when full), one consumer pops and checks order and count.
 * Each item points to a heap cell the producer wrote, so TSan also checks that the
 * queue publishes the pointee (release/acquire), not just the pointer.
 */
#include "engine/spsc.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define N 4000000UL

static struct spsc q;
static void *slots[1024];
static unsigned long full_spins;

static void *producer(void *arg)
{
	unsigned long i;

	(void)arg;
	for (i = 0; i < N; i++) {
		unsigned long *cell = malloc(sizeof(*cell));

		if (!cell)
			abort();
		*cell = i;
		while (!spsc_push(&q, cell))
			full_spins++;
	}
	return NULL;
}

int main(void)
{
	pthread_t t;
	unsigned long expect = 0, bad = 0;

	spsc_init(&q, slots, 1024);
	pthread_create(&t, NULL, producer, NULL);
	while (expect < N) {
		unsigned long *cell = spsc_pop(&q);

		if (!cell)
			continue;
		if (*cell != expect)
			bad++;
		expect++;
		free(cell);
	}
	pthread_join(t, NULL);
	if (spsc_pop(&q) != NULL)
		bad++;
	printf("spsc stress: %lu items in order, %lu out of order, producer waited %lu times\n",
	       expect, bad, full_spins);
	return bad ? 1 : 0;
}
