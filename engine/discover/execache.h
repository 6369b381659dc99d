/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * What discovery learnt about executables, kept across runs (engine-private): per
 * file (device, inode, size, modification time), whether it is a TLS target. A
 * restart then skips the files it already judged. Kept in one file, 0600, in a
 * 0700 folder (/var/cache/ecaptop, or $ECAPTOP_CACHE_DIR), written whole through a
 * new file and a rename; symbolic links are never followed.
 */
#ifndef ECAPTOP_ENGINE_EXECACHE_H
#define ECAPTOP_ENGINE_EXECACHE_H

#include <stddef.h>
#include <sys/stat.h>

#define EXECACHE_DIR "/var/cache/ecaptop"

struct execache;

/* Read the cache of dir (NULL: $ECAPTOP_CACHE_DIR or EXECACHE_DIR). A missing,
 * unreadable or foreign file gives an empty cache (why logged). NULL only when out of
 * memory. */
struct execache *execache_load(const char *dir);
/* The result stored for this file if size and mtime still match: 0 no target, 1
 * target; -1 unknown. */
int execache_get(const struct execache *c, const struct stat *st);
void execache_put(struct execache *c, const struct stat *st, int result);
/* Write it back if anything changed. 0, or -errno (logged). */
int execache_save(struct execache *c);
size_t execache_size(const struct execache *c);
void execache_free(struct execache *c);

#endif
