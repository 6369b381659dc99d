/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Reading /proc for discovery (engine-private): the running processes, the files a
 * process has mapped executable, and how to reach a file a process sees (inside a
 * container, through /proc/PID/root).
 */
#ifndef ECAPTOP_ENGINE_PROCSCAN_H
#define ECAPTOP_ENGINE_PROCSCAN_H

#include <stddef.h>
#include <sys/types.h>

/* One file a process maps executable, with its identity as /proc/PID/maps gives it. */
struct proc_map {
	dev_t dev;
	ino_t ino;
	char *path; /* as the process sees it (its own mount namespace) */
};

struct proc_maps {
	struct proc_map *v;
	size_t n, cap;
};

/* Fill m (emptied first) with the distinct executable file mappings of pid, deleted
 * files left out. 0, or -errno (-ENOENT: the process is gone). */
int procscan_maps(pid_t pid, struct proc_maps *m);
void procscan_maps_free(struct proc_maps *m);

/* Call fn for every process in /proc. Returns the number visited, or -errno. */
int procscan_each(void (*fn)(pid_t pid, void *arg), void *arg);

/* A path from which this process can open the file that pid sees at path with
 * inode ino: path itself when it names that file here, else /proc/PID/root + path.
 * 0 and out, or -ENAMETOOLONG. */
int procscan_reach(pid_t pid, const char *path, ino_t ino, char *out, size_t outlen);

#endif
