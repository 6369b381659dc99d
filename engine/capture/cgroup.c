// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "engine/capture/cgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

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

/* ---- id -> path ---- */

#define CGN_SLOTS      4096 /* cached ids; the cache starts over when it is full */
#define FILEID_KERNFS_ 0xfe /* include/linux/exportfs.h: a kernfs node's 64-bit id */

struct cgroup_names {
	int mnt_fd;
	char mnt[1024];
	size_t n;
	struct {
		uint64_t id;
		char *path;
	} slot[CGN_SLOTS];
	char last[4096];
};

struct cgroup_names *cgroup_names_new(void)
{
	struct cgroup_names *cn = calloc(1, sizeof(*cn));
	int r;

	if (!cn)
		return NULL;
	r = cgroup2_mount(cn->mnt, sizeof(cn->mnt));
	if (!r) {
		cn->mnt_fd = open(cn->mnt, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		r = cn->mnt_fd < 0 ? -errno : 0;
	}
	if (r) {
		free(cn);
		errno = -r;
		return NULL;
	}
	return cn;
}

static void cgn_clear(struct cgroup_names *cn)
{
	size_t i;

	for (i = 0; i < CGN_SLOTS; i++) {
		free(cn->slot[i].path);
		cn->slot[i].path = NULL;
		cn->slot[i].id = 0;
	}
	cn->n = 0;
}

void cgroup_names_free(struct cgroup_names *cn)
{
	if (!cn)
		return;
	cgn_clear(cn);
	close(cn->mnt_fd);
	free(cn);
}

/* The path under the mount of cgroup id, into out. 0 or -errno. */
static int cgn_resolve(struct cgroup_names *cn, uint64_t id, char *out, size_t len)
{
	union {
		struct file_handle fh;
		char buf[sizeof(struct file_handle) + sizeof(uint64_t)];
	} h;
	char link[64], path[4096];
	size_t ml = strlen(cn->mnt);
	ssize_t n;
	int fd;

	h.fh.handle_bytes = sizeof(uint64_t);
	h.fh.handle_type = FILEID_KERNFS_;
	memcpy(h.fh.f_handle, &id, sizeof(id));
	fd = open_by_handle_at(cn->mnt_fd, &h.fh, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, path, sizeof(path) - 1);
	close(fd);
	if (n < 0)
		return -errno;
	path[n] = '\0';
	/* Under the mount point: /sys/fs/cgroup/a/b -> /a/b; the mount itself -> /. */
	if (strncmp(path, cn->mnt, ml) || (path[ml] && path[ml] != '/'))
		return -EXDEV;
	snprintf(out, len, "%s", path[ml] ? path + ml : "/");
	return 0;
}

const char *cgroup_names_get(struct cgroup_names *cn, uint64_t id)
{
	size_t i = (size_t)(id * 0x9e3779b97f4a7c15ull >> 52) & (CGN_SLOTS - 1);

	if (!cn || !id)
		return NULL;
	for (;; i = (i + 1) & (CGN_SLOTS - 1)) {
		if (cn->slot[i].id == id)
			return cn->slot[i].path;
		if (!cn->slot[i].id)
			break;
	}
	if (cgn_resolve(cn, id, cn->last, sizeof(cn->last)))
		return NULL;
	/* Keep the table at most half full, so a probe ends soon. */
	if (cn->n >= CGN_SLOTS / 2) {
		cgn_clear(cn);
		i = (size_t)(id * 0x9e3779b97f4a7c15ull >> 52) & (CGN_SLOTS - 1);
	}
	cn->slot[i].path = strdup(cn->last);
	if (!cn->slot[i].path)
		return cn->last;
	cn->slot[i].id = id;
	cn->n++;
	return cn->slot[i].path;
}
