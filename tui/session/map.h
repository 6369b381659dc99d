/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The session's one hash map: key (a, b) of two 64-bit words to a non-NULL
 * pointer. Open addressing with linear probing and backward-shift deletion (no
 * tombstones). A zeroed struct map is an empty map.
 */
#ifndef ECAPTOP_SESSION_MAP_H
#define ECAPTOP_SESSION_MAP_H

#include <stddef.h>
#include <stdint.h>

/* Open-addressing hash map, key (a, b) -> pointer, linear probing with
 * backward-shift deletion (no tombstones). */
struct map_slot {
	uint64_t a, b;
	void *p;
};
struct map {
	struct map_slot *s;
	size_t cap, n; /* cap: power of two */
};

/* NULL if absent. */
void *map_get(const struct map *m, uint64_t a, uint64_t b);
/* Insert or replace; 0 or -ENOMEM. p must not be NULL. */
int map_put(struct map *m, uint64_t a, uint64_t b, void *p);
void map_del(struct map *m, uint64_t a, uint64_t b);
/* Frees the slots; the map is empty and usable again. */
void map_free(struct map *m);

#endif
