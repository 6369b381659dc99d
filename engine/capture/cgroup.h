/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Cgroup v2 look-ups for --cgroup (engine-private): a cgroup named as a directory of a
 * cgroup2 file system (/sys/fs/cgroup/a/b) or as the path /proc/PID/cgroup shows
 * (/a/b, under the first cgroup2 mount), and its id, which is what the kernel's
 * bpf_get_current_cgroup_id() returns: the directory's inode number (kernfs id).
 */
#ifndef ECAPTOP_ENGINE_CAPTURE_CGROUP_H
#define ECAPTOP_ENGINE_CAPTURE_CGROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The id of the cgroup arg names. 0 and *id; -errno with a one-line reason in err. */
int cgroup_resolve(const char *arg, uint64_t *id, char *err, size_t errlen);

/* Cgroup v2 id -> path, as /proc/PID/cgroup shows it ("/a/b", "/" for the root), for the
 * cgroup of every process (engine/capture/reader.c): open_by_handle_at() on the cgroup2
 * mount (a kernfs file handle is the id), then the descriptor's path. Cached: an id is
 * never reused. One thread (the engine's) uses a cache. */
struct cgroup_names;
/* NULL with errno (no cgroup2 mount: -ENOENT). */
struct cgroup_names *cgroup_names_new(void);
void cgroup_names_free(struct cgroup_names *cn); /* accepts NULL */
/* The path of cgroup id, or NULL where unknown (a cgroup removed meanwhile). The string
 * is the cache's: valid until the next call. */
const char *cgroup_names_get(struct cgroup_names *cn, uint64_t id);

#endif
