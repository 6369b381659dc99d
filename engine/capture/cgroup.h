/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Cgroup v2 look-ups for --cgroup (engine-private): a cgroup named as a directory of a
 * cgroup2 file system (/sys/fs/cgroup/a/b) or as the path /proc/PID/cgroup shows
 * (/a/b, under the first cgroup2 mount), and its id, which is what the kernel's
 * bpf_get_current_cgroup_id() returns: the directory's inode number (kernfs id).
 */
#ifndef ECAPTOP_ENGINE_CAPTURE_CGROUP_H
#define ECAPTOP_ENGINE_CAPTURE_CGROUP_H

#include <stddef.h>
#include <stdint.h>

/* The id of the cgroup arg names. 0 and *id; -errno with a one-line reason in err. */
int cgroup_resolve(const char *arg, uint64_t *id, char *err, size_t errlen);

#endif
