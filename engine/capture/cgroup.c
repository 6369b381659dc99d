// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "engine/capture/cgroup.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>

/* statfs(2) f_type of a cgroup v2 file system (linux/magic.h). */
#define CGROUP2_MAGIC 0x63677270

static bool is_cgroup2_dir(const char *path, struct stat *st)
{
	struct statfs sf;

	return !stat(path, st) && S_ISDIR(st->st_mode) && !statfs(path, &sf) &&
	       (unsigned long)sf.f_type == CGROUP2_MAGIC;
}

/* The first cgroup2 mount point (/proc/self/mountinfo: field 5 is the mount point,
 * the file system type follows the " - " separator). 0, or -ENOENT. */
static int cgroup2_mount(char *out, size_t len)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[4096];
	int ret = -ENOENT;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		char mnt[1024], *sep = strstr(line, " - ");

		if (!sep || strncmp(sep + 3, "cgroup2 ", 8))
			continue;
		if (sscanf(line, "%*s %*s %*s %*s %1023s", mnt) == 1 && strlen(mnt) < len) {
			/* Octal escapes (\040) are left alone: such a mount is not found. */
			strcpy(out, mnt);
			ret = 0;
			break;
		}
	}
	fclose(f);
	return ret;
}

int cgroup_resolve(const char *arg, uint64_t *id, char *err, size_t errlen)
{
	char mnt[1024], path[4096];
	struct stat st;
	int r;

	if (arg[0] == '/' && is_cgroup2_dir(arg, &st)) {
		*id = (uint64_t)st.st_ino;
		return 0;
	}
	r = cgroup2_mount(mnt, sizeof(mnt));
	if (r) {
		snprintf(err, errlen, "--cgroup %s: no cgroup v2 file system is mounted", arg);
		return r;
	}
	if (snprintf(path, sizeof(path), "%s/%s", mnt, arg[0] == '/' ? arg + 1 : arg) >=
	    (int)sizeof(path)) {
		snprintf(err, errlen, "--cgroup %s: path too long", arg);
		return -ENAMETOOLONG;
	}
	if (!is_cgroup2_dir(path, &st)) {
		snprintf(err, errlen, "--cgroup %s: not a cgroup v2 directory (looked at %s%s%s)",
			 arg, arg[0] == '/' ? arg : "", arg[0] == '/' ? " and " : "", path);
		return -ENOENT;
	}
	*id = (uint64_t)st.st_ino;
	return 0;
}
