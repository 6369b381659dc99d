// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Discovery's cache of judged executables: round trip, invalidation by size and
 * modification time, file mode, and no symlink followed on read or write. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/discover/execache.h"
#include "unit.h"

static char dir[] = "/tmp/ecaptop-execache.XXXXXX";

static struct stat fake(dev_t dev, ino_t ino, off_t size, time_t mt)
{
	struct stat st;

	memset(&st, 0, sizeof(st));
	st.st_dev = dev;
	st.st_ino = ino;
	st.st_size = size;
	st.st_mtim.tv_sec = mt;
	st.st_mtim.tv_nsec = 7;
	return st;
}

static void test_round_trip(void)
{
	struct stat a = fake(8, 100, 4096, 1000), b = fake(8, 101, 10, 2000), st;
	struct execache *c = execache_load(dir);
	char path[256];

	CHECK(c != NULL);
	CHECK_EQ_INT(execache_get(c, &a), -1);
	execache_put(c, &a, 0);
	execache_put(c, &b, 1);
	CHECK_EQ_INT(execache_save(c), 0);
	execache_free(c);
	snprintf(path, sizeof(path), "%s/executables", dir);
	CHECK_EQ_INT(stat(path, &st), 0);
	CHECK_EQ_INT(st.st_mode & 0777, 0600);
	c = execache_load(dir);
	CHECK_EQ_INT(execache_get(c, &a), 0);
	CHECK_EQ_INT(execache_get(c, &b), 1);
	CHECK_EQ_INT((int)execache_size(c), 2);
	/* A rebuilt file: another size or time is unknown again. */
	a.st_size++;
	CHECK_EQ_INT(execache_get(c, &a), -1);
	b.st_mtim.tv_nsec++;
	CHECK_EQ_INT(execache_get(c, &b), -1);
	execache_free(c);
}

static void test_symlinks_not_followed(void)
{
	char path[256], target[256], buf[64] = "";
	struct stat a = fake(8, 200, 1, 1);
	struct execache *c;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/executables", dir);
	snprintf(target, sizeof(target), "%s/victim", dir);
	fd = open(target, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	CHECK(fd >= 0);
	CHECK_EQ_INT((int)write(fd, "keep\n", 5), 5);
	close(fd);
	unlink(path);
	CHECK_EQ_INT(symlink(target, path), 0);
	/* Reading through the link gives an empty cache... */
	c = execache_load(dir);
	CHECK_EQ_INT((int)execache_size(c), 0);
	/* ... and writing replaces the link, never the file it points to. */
	execache_put(c, &a, 0);
	CHECK_EQ_INT(execache_save(c), 0);
	execache_free(c);
	fd = open(target, O_RDONLY);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	CHECK_EQ_INT((int)n, 5);
	CHECK_EQ_STR(buf, "keep\n");
	c = execache_load(dir);
	CHECK_EQ_INT(execache_get(c, &a), 0);
	execache_free(c);
}

static void test_foreign_file_ignored(void)
{
	char path[256];
	struct execache *c;
	FILE *f;

	snprintf(path, sizeof(path), "%s/executables", dir);
	unlink(path);
	f = fopen(path, "w");
	CHECK(f != NULL);
	fputs("not a cache\n8 300 1 1 0\n", f);
	fclose(f);
	c = execache_load(dir);
	CHECK_EQ_INT((int)execache_size(c), 0);
	execache_free(c);
}

static void setup(void)
{
	CHECK(mkdtemp(dir) != NULL);
}

static void teardown(void)
{
	char cmd[300];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	CHECK_EQ_INT(system(cmd), 0);
}

UNIT_MAIN(UNIT(setup), UNIT(test_round_trip), UNIT(test_symlinks_not_followed),
	  UNIT(test_foreign_file_ignored), UNIT(teardown))
