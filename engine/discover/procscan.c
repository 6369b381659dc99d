// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "engine/discover/procscan.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

void procscan_maps_free(struct proc_maps *m)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		free(m->v[i].path);
	free(m->v);
	m->v = NULL;
	m->n = m->cap = 0;
}

static int add_map(struct proc_maps *m, dev_t dev, ino_t ino, const char *path)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		if (m->v[i].dev == dev && m->v[i].ino == ino)
			return 0;
	if (m->n == m->cap) {
		size_t ncap = m->cap ? 2 * m->cap : 16;
		struct proc_map *nv = realloc(m->v, ncap * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		m->v = nv;
		m->cap = ncap;
	}
	m->v[m->n].path = strdup(path);
	if (!m->v[m->n].path)
		return -ENOMEM;
	m->v[m->n].dev = dev;
	m->v[m->n].ino = ino;
	m->n++;
	return 0;
}

int procscan_maps(pid_t pid, struct proc_maps *m)
{
	char mpath[64], line[PATH_MAX + 256];
	int ret = 0;
	FILE *f;

	procscan_maps_free(m);
	snprintf(mpath, sizeof(mpath), "/proc/%d/maps", (int)pid);
	f = fopen(mpath, "re");
	if (!f)
		return -errno;
	while (!ret && fgets(line, sizeof(line), f)) {
		char perms[8], *path;
		unsigned maj, min;
		unsigned long ino;
		int n = 0;

		if (sscanf(line, "%*x-%*x %7s %*x %x:%x %lu %n", perms, &maj, &min, &ino, &n) < 4)
			continue;
		if (!strchr(perms, 'x') || !ino || line[n] != '/')
			continue;
		path = line + n;
		path[strcspn(path, "\n")] = '\0';
		if (strstr(path, " (deleted)"))
			continue;
		ret = add_map(m, makedev(maj, min), (ino_t)ino, path);
	}
	fclose(f);
	return ret;
}

int procscan_each(void (*fn)(pid_t pid, void *arg), void *arg)
{
	struct dirent *de;
	int n = 0;
	DIR *d = opendir("/proc");

	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		char *end;
		long pid = strtol(de->d_name, &end, 10);

		if (*end || pid <= 0)
			continue;
		fn((pid_t)pid, arg);
		n++;
	}
	closedir(d);
	return n;
}

int procscan_reach(pid_t pid, const char *path, ino_t ino, char *out, size_t outlen)
{
	struct stat st;
	int n;

	/* Prefer the plain path when it names the same file (nicer in status lines). */
	if (path[0] == '/' && !stat(path, &st) && st.st_ino == ino) {
		n = snprintf(out, outlen, "%s", path);
		return n < 0 || (size_t)n >= outlen ? -ENAMETOOLONG : 0;
	}
	n = snprintf(out, outlen, "/proc/%d/root%s%s", (int)pid, path[0] == '/' ? "" : "/", path);
	/* Not checked against ino: on overlayfs the maps name the layer's inode, which
	 * the merged path does not show. */
	return n < 0 || (size_t)n >= outlen ? -ENAMETOOLONG : 0;
}
