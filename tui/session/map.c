// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The session's hash map: see map.h. */
#include "tui/session/map.h"

#include <errno.h>
#include <stdlib.h>

static size_t map_hash(uint64_t a, uint64_t b)
{
	uint64_t h =
	    a * 0x9e3779b97f4a7c15ull ^ (b + 0x632be59bd9b4e019ull) * 0xbf58476d1ce4e5b9ull;

	return (size_t)(h ^ (h >> 31));
}

void *map_get(const struct map *m, uint64_t a, uint64_t b)
{
	size_t i;

	if (!m->cap)
		return NULL;
	for (i = map_hash(a, b) & (m->cap - 1); m->s[i].p; i = (i + 1) & (m->cap - 1))
		if (m->s[i].a == a && m->s[i].b == b)
			return m->s[i].p;
	return NULL;
}

static int map_grow(struct map *m)
{
	struct map old = *m;
	size_t i;

	m->cap = old.cap ? old.cap * 2 : 64;
	m->s = calloc(m->cap, sizeof(*m->s));
	m->n = 0;
	if (!m->s) {
		*m = old;
		return -ENOMEM;
	}
	for (i = 0; i < old.cap; i++)
		if (old.s[i].p)
			map_put(m, old.s[i].a, old.s[i].b, old.s[i].p);
	free(old.s);
	return 0;
}

int map_put(struct map *m, uint64_t a, uint64_t b, void *p)
{
	size_t i;

	if ((m->n + 1) * 4 > m->cap * 3 && map_grow(m))
		return -ENOMEM;
	for (i = map_hash(a, b) & (m->cap - 1); m->s[i].p; i = (i + 1) & (m->cap - 1))
		if (m->s[i].a == a && m->s[i].b == b) {
			m->s[i].p = p;
			return 0;
		}
	m->s[i].a = a;
	m->s[i].b = b;
	m->s[i].p = p;
	m->n++;
	return 0;
}

void map_del(struct map *m, uint64_t a, uint64_t b)
{
	size_t i, j, k, mask = m->cap - 1;

	if (!m->cap)
		return;
	for (i = map_hash(a, b) & mask; m->s[i].p; i = (i + 1) & mask)
		if (m->s[i].a == a && m->s[i].b == b)
			break;
	if (!m->s[i].p)
		return;
	m->s[i].p = NULL;
	m->n--;
	/* Backward-shift: move later entries of the cluster into the hole when their
	 * home slot is not between the hole and them (Knuth 6.4, algorithm R). */
	for (j = (i + 1) & mask; m->s[j].p; j = (j + 1) & mask) {
		k = map_hash(m->s[j].a, m->s[j].b) & mask;
		if ((j > i && (k <= i || k > j)) || (j < i && (k <= i && k > j))) {
			m->s[i] = m->s[j];
			m->s[j].p = NULL;
			i = j;
		}
	}
}

void map_free(struct map *m)
{
	free(m->s);
	m->s = NULL;
	m->cap = m->n = 0;
}
