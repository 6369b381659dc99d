// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "engine/targets.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <glob.h>
#include <libelf.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "engine/log.h"
#include "tls.skel.h"

#define MAX_LINKS 8 /* entry + return for the four SSL functions */

/* One file seen in some process's maps, keyed by (dev, ino) as the maps file gives them. */
struct target {
	dev_t dev;
	ino_t ino;
	unsigned syms; /* SYM_* bits; 0 = not a TLS target (cached so we never look again) */
	char *path; /* as attached (NULL for non-targets) */
	struct bpf_link *links[MAX_LINKS];
	int n_links;
};

struct targets {
	struct tls_bpf *skel; /* borrowed */
	struct target *v; /* open-addressing hash table */
	size_t cap; /* power of two */
	size_t n;
	size_t n_attached;
	struct target **attached; /* insertion order, for status lines */
	size_t attached_cap;
};

static size_t key_hash(dev_t dev, ino_t ino)
{
	uint64_t h = (uint64_t)dev * 0x9e3779b97f4a7c15ULL ^ (uint64_t)ino * 0xc2b2ae3d27d4eb4fULL;

	return (size_t)(h ^ (h >> 29));
}

static struct target *slot_find(struct target *v, size_t cap, dev_t dev, ino_t ino, bool *found)
{
	size_t i = key_hash(dev, ino) & (cap - 1);

	/* An empty slot has ino 0: no real file has inode 0 in a maps line we keep. */
	while (v[i].ino) {
		if (v[i].dev == dev && v[i].ino == ino) {
			*found = true;
			return &v[i];
		}
		i = (i + 1) & (cap - 1);
	}
	*found = false;
	return &v[i];
}

static int table_grow(struct targets *t)
{
	size_t ncap = t->cap * 2, i;
	struct target *nv = calloc(ncap, sizeof(*nv));
	bool found;

	if (!nv)
		return -ENOMEM;
	for (i = 0; i < t->cap; i++) {
		if (t->v[i].ino)
			*slot_find(nv, ncap, t->v[i].dev, t->v[i].ino, &found) = t->v[i];
	}
	/* The attached[] list points into the table: rebuild it. */
	t->n_attached = 0;
	for (i = 0; i < ncap; i++)
		if (nv[i].ino && nv[i].n_links)
			t->attached[t->n_attached++] = &nv[i];
	free(t->v);
	t->v = nv;
	t->cap = ncap;
	return 0;
}

struct targets *targets_new(struct tls_bpf *skel)
{
	struct targets *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->skel = skel;
	t->cap = 1024;
	t->v = calloc(t->cap, sizeof(*t->v));
	t->attached_cap = 64;
	t->attached = calloc(t->attached_cap, sizeof(*t->attached));
	if (!t->v || !t->attached) {
		free(t->v);
		free(t->attached);
		free(t);
		errno = ENOMEM;
		return NULL;
	}
	elf_version(EV_CURRENT);
	return t;
}

void targets_free(struct targets *t)
{
	size_t i;
	int j;

	if (!t)
		return;
	for (i = 0; i < t->cap; i++) {
		for (j = 0; j < t->v[i].n_links; j++)
			bpf_link__destroy(t->v[i].links[j]);
		free(t->v[i].path);
	}
	free(t->v);
	free(t->attached);
	free(t);
}

size_t targets_count(const struct targets *t)
{
	return t->n_attached;
}

const char *targets_path(const struct targets *t, size_t i)
{
	return i < t->n_attached ? t->attached[i]->path : NULL;
}

unsigned targets_elf_syms(const char *path)
{
	static const struct {
		const char *name;
		unsigned bit;
	} wanted[] = {
		{"SSL_write", SYM_SSL_WRITE},
		{"SSL_read", SYM_SSL_READ},
		{"SSL_write_ex", SYM_SSL_WRITE_EX},
		{"SSL_read_ex", SYM_SSL_READ_EX},
	};
	unsigned found = 0;
	Elf_Scn *scn = NULL;
	Elf *elf;
	int fd;

	if (elf_version(EV_CURRENT) == EV_NONE)
		return 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf || elf_kind(elf) != ELF_K_ELF)
		goto out;
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		Elf_Data *data;
		size_t i, n;

		if (!gelf_getshdr(scn, &sh) || (sh.sh_type != SHT_DYNSYM && sh.sh_type != SHT_SYMTAB))
			continue;
		if (!sh.sh_entsize)
			continue;
		data = elf_getdata(scn, NULL);
		if (!data)
			continue;
		n = sh.sh_size / sh.sh_entsize;
		for (i = 0; i < n; i++) {
			GElf_Sym sym;
			const char *name;
			size_t k;
			int type;

			if (!gelf_getsym(data, (int)i, &sym))
				break;
			type = GELF_ST_TYPE(sym.st_info);
			/* Defined functions only: an undefined SSL_write is an import. */
			if ((type != STT_FUNC && type != STT_GNU_IFUNC) || sym.st_shndx == SHN_UNDEF ||
			    !sym.st_value)
				continue;
			name = elf_strptr(elf, sh.sh_link, sym.st_name);
			if (!name || name[0] != 'S')
				continue;
			for (k = 0; k < sizeof(wanted) / sizeof(wanted[0]); k++)
				if (!strcmp(name, wanted[k].name))
					found |= wanted[k].bit;
		}
	}
out:
	if (elf)
		elf_end(elf);
	close(fd);
	return found;
}

static int attach_one(struct targets *t, struct target *tg, struct bpf_program *prog,
		      const char *func, bool ret)
{
	LIBBPF_OPTS(bpf_uprobe_opts, o, .func_name = func, .retprobe = ret);
	struct bpf_link *l;

	if (tg->n_links >= MAX_LINKS)
		return -E2BIG;
	/* pid -1: every process that maps this file, now and later. */
	l = bpf_program__attach_uprobe_opts(prog, -1, tg->path, 0, &o);
	if (!l) {
		int err = -errno;

		log_msg(LOG_WARN, "cannot attach %s%s in %s: %s", func, ret ? " (return)" : "",
			tg->path, strerror(-err));
		return err;
	}
	tg->links[tg->n_links++] = l;
	(void)t;
	return 0;
}

/* Attach the probes a file's symbols allow. The write and read entry probes need
 * their return probe: a call is only reported once its return value is known. */
static int attach_target(struct targets *t, struct target *tg)
{
	struct tls_bpf *s = t->skel;
	int err = 0;

	if ((tg->syms & (SYM_SSL_WRITE | SYM_SSL_READ)) == (SYM_SSL_WRITE | SYM_SSL_READ)) {
		err = attach_one(t, tg, s->progs.ssl_write_enter, "SSL_write", false);
		err = err ?: attach_one(t, tg, s->progs.ssl_rw_exit, "SSL_write", true);
		err = err ?: attach_one(t, tg, s->progs.ssl_read_enter, "SSL_read", false);
		err = err ?: attach_one(t, tg, s->progs.ssl_rw_exit, "SSL_read", true);
	}
	if (!err && (tg->syms & SYM_SSL_WRITE_EX)) {
		/* SSL_read_ex/SSL_write_ex do not call SSL_read/SSL_write (both call
		 * ssl_read_internal/ssl_write_internal), so no byte is reported twice. */
		err = attach_one(t, tg, s->progs.ssl_write_ex_enter, "SSL_write_ex", false);
		err = err ?: attach_one(t, tg, s->progs.ssl_rw_ex_exit, "SSL_write_ex", true);
	}
	if (!err && (tg->syms & SYM_SSL_READ_EX)) {
		err = attach_one(t, tg, s->progs.ssl_read_ex_enter, "SSL_read_ex", false);
		err = err ?: attach_one(t, tg, s->progs.ssl_rw_ex_exit, "SSL_read_ex", true);
	}
	if (err) {
		int j;

		for (j = 0; j < tg->n_links; j++)
			bpf_link__destroy(tg->links[j]);
		tg->n_links = 0;
		return err;
	}
	if (t->n_attached == t->attached_cap) {
		struct target **na = realloc(t->attached, 2 * t->attached_cap * sizeof(*na));

		if (!na)
			return -ENOMEM;
		t->attached = na;
		t->attached_cap *= 2;
	}
	t->attached[t->n_attached++] = tg;
	log_msg(LOG_INFO, "attached OpenSSL probes to %s (%s%s)", tg->path,
		"SSL_read, SSL_write",
		(tg->syms & (SYM_SSL_READ_EX | SYM_SSL_WRITE_EX)) ==
				(SYM_SSL_READ_EX | SYM_SSL_WRITE_EX)
			? ", SSL_read_ex, SSL_write_ex"
			: "");
	return 1;
}

/* Consider the file at path (as reachable from here) with maps identity dev/ino. */
static int consider(struct targets *t, dev_t dev, ino_t ino, const char *path)
{
	struct target *tg;
	bool found;
	int ret;

	if (!ino)
		return 0;
	tg = slot_find(t->v, t->cap, dev, ino, &found);
	if (found)
		return 0;
	if ((t->n + 1) * 2 > t->cap) {
		if (table_grow(t))
			return -ENOMEM;
		tg = slot_find(t->v, t->cap, dev, ino, &found);
	}
	memset(tg, 0, sizeof(*tg));
	tg->dev = dev;
	tg->ino = ino;
	t->n++;
	tg->syms = targets_elf_syms(path);
	if (!(tg->syms & (SYM_SSL_WRITE | SYM_SSL_READ)))
		return 0;
	tg->path = strdup(path);
	if (!tg->path)
		return -ENOMEM;
	ret = attach_target(t, tg);
	if (ret < 0) {
		/* Keep the entry (syms cleared) so a file we cannot probe is not retried
		 * on every scan; the warning was logged once. */
		tg->syms = 0;
		return ret;
	}
	return ret;
}

int targets_try_file(struct targets *t, const char *path)
{
	char real[PATH_MAX];
	struct stat st;

	/* The file's own name, not a symlink's, in status lines. */
	if (!realpath(path, real) || stat(real, &st))
		return -errno;
	if (!S_ISREG(st.st_mode))
		return 0;
	return consider(t, st.st_dev, st.st_ino, real);
}

int targets_scan_pid(struct targets *t, pid_t pid)
{
	char mpath[64], line[PATH_MAX + 256];
	int added = 0;
	FILE *f;

	snprintf(mpath, sizeof(mpath), "/proc/%d/maps", (int)pid);
	f = fopen(mpath, "re");
	if (!f)
		return 0; /* gone already, or not ours to read */
	while (fgets(line, sizeof(line), f)) {
		char perms[8], path[PATH_MAX], full[PATH_MAX + 64];
		unsigned maj, min;
		unsigned long ino;
		struct stat st;
		dev_t dev;
		bool found;
		int n = 0;

		path[0] = '\0';
		if (sscanf(line, "%*x-%*x %7s %*x %x:%x %lu %n", perms, &maj, &min, &ino, &n) < 4)
			continue;
		if (!strchr(perms, 'x') || !ino || line[n] != '/')
			continue;
		snprintf(path, sizeof(path), "%s", line + n);
		path[strcspn(path, "\n")] = '\0';
		if (strstr(path, " (deleted)"))
			continue;
		dev = makedev(maj, min);
		slot_find(t->v, t->cap, dev, ino, &found);
		if (found)
			continue;
		/* Inside a container the path is relative to the process's root. Prefer the
		 * plain path when it names the same file (nicer in status lines). */
		if (!stat(path, &st) && st.st_ino == ino)
			snprintf(full, sizeof(full), "%s", path);
		else
			snprintf(full, sizeof(full), "/proc/%d/root%s", (int)pid, path);
		if (consider(t, dev, ino, full) > 0)
			added++;
	}
	fclose(f);
	return added;
}

int targets_scan_all(struct targets *t)
{
	static const char *const patterns[] = {
		"/lib/*/libssl.so*",	 "/usr/lib/*/libssl.so*", "/lib64/libssl.so*",
		"/usr/lib64/libssl.so*", "/usr/lib/libssl.so*",	  "/usr/local/lib/libssl.so*",
		"/usr/local/lib64/libssl.so*",
	};
	struct dirent *de;
	size_t i;
	int added = 0;
	DIR *d;

	/* Well-known libraries first: a program that loads libssl later (python's
	 * "import ssl") is then covered without waiting for a rescan. */
	for (i = 0; i < sizeof(patterns) / sizeof(patterns[0]); i++) {
		glob_t g;
		size_t k;

		if (glob(patterns[i], 0, NULL, &g))
			continue;
		for (k = 0; k < g.gl_pathc; k++)
			if (targets_try_file(t, g.gl_pathv[k]) > 0)
				added++;
		globfree(&g);
	}
	d = opendir("/proc");
	if (!d)
		return added;
	while ((de = readdir(d))) {
		char *end;
		long pid = strtol(de->d_name, &end, 10);

		if (*end || pid <= 0)
			continue;
		added += targets_scan_pid(t, (pid_t)pid);
	}
	closedir(d);
	return added;
}
