// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "engine/discover/execache.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/log.h"

#define CACHE_FILE  "executables"
#define CACHE_MAGIC "ecaptop executables cache 1 " ECAPTOP_VERSION
#define MAX_ENTRIES (1u << 20)

struct entry {
	uint64_t dev, ino; /* ino 0: empty slot */
	int64_t size, mtime_ns;
	int result;
};

struct execache {
	char dir[4096];
	struct entry *v;
	size_t cap, n; /* cap: power of two */
	bool dirty;
};

static size_t hash(uint64_t dev, uint64_t ino)
{
	uint64_t h = dev * 0x9e3779b97f4a7c15ull ^ ino * 0xc2b2ae3d27d4eb4full;

	return (size_t)(h ^ (h >> 31));
}

static struct entry *slot(struct entry *v, size_t cap, uint64_t dev, uint64_t ino)
{
	size_t i = hash(dev, ino) & (cap - 1);

	while (v[i].ino && (v[i].dev != dev || v[i].ino != ino))
		i = (i + 1) & (cap - 1);
	return &v[i];
}

static int grow(struct execache *c)
{
	size_t ncap = c->cap ? 2 * c->cap : 1024, i;
	struct entry *nv = calloc(ncap, sizeof(*nv));

	if (!nv)
		return -ENOMEM;
	for (i = 0; i < c->cap; i++)
		if (c->v[i].ino)
			*slot(nv, ncap, c->v[i].dev, c->v[i].ino) = c->v[i];
	free(c->v);
	c->v = nv;
	c->cap = ncap;
	return 0;
}

static int64_t mtime_ns(const struct stat *st)
{
	return (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
}

static void add(struct execache *c, uint64_t dev, uint64_t ino, int64_t size, int64_t mt,
		int result)
{
	struct entry *e;

	if (!ino || ((c->n + 1) * 2 > c->cap && (c->n >= MAX_ENTRIES || grow(c))))
		return;
	e = slot(c->v, c->cap, dev, ino);
	if (!e->ino)
		c->n++;
	*e = (struct entry){dev, ino, size, mt, result};
}

struct execache *execache_load(const char *dir)
{
	struct execache *c = calloc(1, sizeof(*c));
	char line[256];
	int dfd, fd;
	FILE *f;

	if (!c || grow(c)) {
		free(c);
		return NULL;
	}
	if (!dir)
		dir = getenv("ECAPTOP_CACHE_DIR") ?: EXECACHE_DIR;
	snprintf(c->dir, sizeof(c->dir), "%s", dir);
	dfd = open(c->dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		return c;
	fd = openat(dfd, CACHE_FILE, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	close(dfd);
	if (fd < 0)
		return c;
	f = fdopen(fd, "r");
	if (!f) {
		close(fd);
		return c;
	}
	if (!fgets(line, sizeof(line), f) || strcmp(line, CACHE_MAGIC "\n")) {
		log_msg(LOG_INFO, "%s/%s: written by another version, not used", c->dir,
			CACHE_FILE);
		fclose(f);
		return c;
	}
	while (fgets(line, sizeof(line), f)) {
		uint64_t dev, ino;
		int64_t size, mt;
		int result;

		if (sscanf(line, "%" SCNu64 " %" SCNu64 " %" SCNd64 " %" SCNd64 " %d", &dev, &ino,
			   &size, &mt, &result) != 5 ||
		    (result != 0 && result != 1)) {
			log_msg(LOG_WARN, "%s/%s: malformed line, the rest is not used", c->dir,
				CACHE_FILE);
			break;
		}
		add(c, dev, ino, size, mt, result);
	}
	fclose(f);
	c->dirty = false;
	return c;
}

int execache_get(const struct execache *c, const struct stat *st)
{
	const struct entry *e;

	if (!st->st_ino)
		return -1;
	e = slot(c->v, c->cap, st->st_dev, st->st_ino);
	if (!e->ino || e->size != (int64_t)st->st_size || e->mtime_ns != mtime_ns(st))
		return -1;
	return e->result;
}

void execache_put(struct execache *c, const struct stat *st, int result)
{
	if (execache_get(c, st) == result)
		return;
	add(c, st->st_dev, st->st_ino, st->st_size, mtime_ns(st), result);
	c->dirty = true;
}

size_t execache_size(const struct execache *c)
{
	return c->n;
}

int execache_save(struct execache *c)
{
	char tmp[64];
	struct stat st;
	int dfd, fd, ret = 0;
	size_t i;
	FILE *f;

	if (!c->dirty)
		return 0;
	if (mkdir(c->dir, 0700) && errno != EEXIST)
		goto fail;
	dfd = open(c->dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		goto fail;
	if (fstat(dfd, &st) || st.st_uid != geteuid()) {
		close(dfd);
		errno = EPERM;
		goto fail;
	}
	snprintf(tmp, sizeof(tmp), ".%s.%d", CACHE_FILE, (int)getpid());
	unlinkat(dfd, tmp, 0);
	fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 || !(f = fdopen(fd, "w"))) {
		if (fd >= 0)
			close(fd);
		close(dfd);
		goto fail;
	}
	fprintf(f, "%s\n", CACHE_MAGIC);
	for (i = 0; i < c->cap; i++) {
		const struct entry *e = &c->v[i];

		if (e->ino)
			fprintf(f, "%" PRIu64 " %" PRIu64 " %" PRId64 " %" PRId64 " %d\n", e->dev,
				e->ino, e->size, e->mtime_ns, e->result);
	}
	if (fflush(f) || ferror(f))
		ret = -errno ?: -EIO;
	if (fclose(f) && !ret)
		ret = -errno ?: -EIO;
	if (!ret && renameat(dfd, tmp, dfd, CACHE_FILE))
		ret = -errno;
	if (ret)
		unlinkat(dfd, tmp, 0);
	close(dfd);
	if (ret) {
		errno = -ret;
		goto fail;
	}
	c->dirty = false;
	return 0;
fail:
	ret = -errno;
	log_msg(LOG_WARN, "cannot write the executables cache %s/%s: %s", c->dir, CACHE_FILE,
		strerror(errno));
	return ret;
}

void execache_free(struct execache *c)
{
	if (!c)
		return;
	free(c->v);
	free(c);
}
