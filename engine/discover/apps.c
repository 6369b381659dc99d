// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "engine/discover/apps.h"

#include <errno.h>
#include <glob.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "db.skel.h"
#include "engine/discover/elfsym.h"
#include "engine/discover/procscan.h"
#include "engine/engine.h"
#include "engine/log.h"
#include "shell.skel.h"

#define APP_LINKS (2 * ENGINE_MAX_FILTER) /* two probes, in each filtered process */

struct app_file {
	dev_t dev;
	ino_t ino;
	struct bpf_link *links[APP_LINKS];
	int n_links;
};

struct apps {
	struct shell_bpf *shell; /* borrowed */
	struct db_bpf *db;	 /* borrowed */
	bool has_cookie;
	struct app_file *files; /* every file looked at, probed or not */
	size_t n, cap;
	size_t n_attached;
	char zsh_path[PATH_MAX + 64];  /* the zsh executable, where lastval lives */
	pid_t pids[ENGINE_MAX_FILTER]; /* with --pid: probes in these processes only */
	size_t n_pids;
};

struct apps *apps_new(struct shell_bpf *shell, struct db_bpf *db, bool has_cookie,
		      const uint32_t *pids, size_t n_pids)
{
	struct apps *a = calloc(1, sizeof(*a));
	size_t i;

	if (!a)
		return NULL;
	for (i = 0; i < n_pids && i < ENGINE_MAX_FILTER; i++)
		a->pids[a->n_pids++] = (pid_t)pids[i];
	a->shell = shell;
	a->db = db;
	a->has_cookie = has_cookie;
	return a;
}

void apps_free(struct apps *a)
{
	size_t i;
	int j;

	if (!a)
		return;
	for (i = 0; i < a->n; i++)
		for (j = 0; j < a->files[i].n_links; j++)
			bpf_link__destroy(a->files[i].links[j]);
	free(a->files);
	free(a);
}

size_t apps_count(const struct apps *a)
{
	return a->n_attached;
}

/* The file's entry, added if new; NULL if already known (or out of memory). */
static struct app_file *file_new(struct apps *a, const struct stat *st)
{
	size_t i;

	for (i = 0; i < a->n; i++)
		if (a->files[i].dev == st->st_dev && a->files[i].ino == st->st_ino)
			return NULL;
	if (a->n == a->cap) {
		size_t ncap = a->cap ? a->cap * 2 : 64;
		struct app_file *nf = realloc(a->files, ncap * sizeof(*nf));

		if (!nf)
			return NULL;
		a->files = nf;
		a->cap = ncap;
	}
	memset(&a->files[a->n], 0, sizeof(a->files[a->n]));
	a->files[a->n].dev = st->st_dev;
	a->files[a->n].ino = st->st_ino;
	return &a->files[a->n++];
}

static int attach(struct apps *a, struct app_file *f, struct bpf_program *prog, const char *path,
		  const char *func, bool ret, int64_t cookie)
{
	LIBBPF_OPTS(bpf_uprobe_opts, o, .func_name = func, .retprobe = ret,
		    .bpf_cookie = a->has_cookie ? (uint64_t)cookie : 0);
	size_t i, n = a->n_pids ? a->n_pids : 1;
	int err = 0, ok = 0;

	/* As for the TLS probes (targets.c): with --pid, only in those processes. */
	for (i = 0; i < n; i++) {
		struct bpf_link *l;

		if (f->n_links == APP_LINKS)
			return -E2BIG;
		l = bpf_program__attach_uprobe_opts(prog, a->n_pids ? a->pids[i] : -1, path, 0, &o);
		if (!l) {
			err = -errno;
			if (a->n_pids && err == -ESRCH)
				continue;
			log_msg(LOG_WARN, "cannot attach %s%s in %s: %s", func,
				ret ? " (return)" : "", path, strerror(-err));
			return err;
		}
		f->links[f->n_links++] = l;
		ok++;
	}
	return ok ? 0 : err;
}

/* Offset of a global from the executable's first code address (mm->start_code),
 * for the shell probes' exit status; 0 if unknown. */
static int64_t global_offset(const char *exe, const char *sym)
{
	uint64_t text, addr;

	if (elfsym_text_vaddr(exe, &text) || elfsym_lookup(exe, sym, &addr))
		return 0;
	return (int64_t)(addr - text);
}

static void drop_links(struct app_file *f)
{
	int j;

	for (j = 0; j < f->n_links; j++)
		bpf_link__destroy(f->links[j]);
	f->n_links = 0;
}

/* Probe what this file offers. Returns 1 if something was attached. */
static int try_file(struct apps *a, const char *path)
{
	char name[256], real[PATH_MAX];
	struct app_file *f;
	struct stat st;
	uint64_t v;
	int err = 0;

	if (!realpath(path, real) || stat(real, &st) || !S_ISREG(st.st_mode))
		return 0;
	f = file_new(a, &st);
	if (!f)
		return 0;
	if (!elfsym_lookup(real, "readline", &v) &&
	    !elfsym_lookup(real, "last_command_exit_value", &v)) {
		int64_t off = global_offset(real, "last_command_exit_value");

		err = attach(a, f, a->shell->progs.bash_readline_ret, real, "readline", true, 0);
		err = err
			  ?: attach(a, f, a->shell->progs.bash_readline_enter, real, "readline",
				    false, off);
		if (!err) {
			/* The line of a readline() call already in progress at attach (a
			 * shell open before ecaptop): without it that one line is lost. */
			int64_t buf = global_offset(real, "rl_line_buffer");
			bool first = a->has_cookie && buf &&
				     !attach(a, f, a->shell->progs.bash_newline, real, "rl_newline",
					     false, buf);

			log_msg(LOG_INFO, "attached bash probes to %s (readline%s%s)", real,
				off ? ", exit status" : "",
				first ? ", line at the open prompt" : "");
		}
	} else if (!elfsym_lookup(real, "zleentry", &v)) {
		int64_t off = a->zsh_path[0] ? global_offset(a->zsh_path, "lastval") : 0;

		err =
		    attach(a, f, a->shell->progs.zsh_zleentry_enter, real, "zleentry", false, off);
		err = err
			  ?: attach(a, f, a->shell->progs.zsh_zleentry_ret, real, "zleentry", true,
				    0);
		if (!err)
			log_msg(LOG_INFO, "attached zsh probes to %s (zleentry%s)", real,
				off ? ", exit status" : "");
	} else if (!elfsym_lookup(real, "zlegetline", &v) && !elfsym_lookup(real, "zleread", &v)) {
		/* The zle module: the line of a zleentry() call already in progress at
		 * attach (shell.bpf.c). */
		err = attach(a, f, a->shell->progs.zsh_zlegetline_ret, real, "zlegetline", true, 0);
		if (!err)
			log_msg(LOG_INFO, "attached zsh line editor probe to %s (zlegetline)",
				real);
	} else if (!elfsym_find_prefix(real, "_Z16dispatch_command", name, sizeof(name))) {
		/* The mangled signature says the argument order (see db.bpf.c). */
		struct bpf_program *p = strstr(name, "P3THDPK8COM_DATA")
					    ? a->db->progs.mysqld_dispatch_thd_first
					    : a->db->progs.mysqld_dispatch_cmd_first;

		err = attach(a, f, p, real, name, false, 0);
		if (!err)
			log_msg(LOG_INFO, "attached MySQL/MariaDB probe to %s (%s)", real, name);
	} else if (!elfsym_lookup(real, "pg_parse_query", &v)) {
		/* exec_simple_query is static: only in an unstripped .symtab. It sees simple
		 * queries once; pg_parse_query also sees extended-protocol Parse messages. */
		const char *fn = elfsym_lookup(real, "exec_simple_query", &v) ? "pg_parse_query"
									      : "exec_simple_query";

		err = attach(a, f, a->db->progs.postgres_query, real, fn, false, 0);
		if (!err)
			log_msg(LOG_INFO, "attached PostgreSQL probe to %s (%s)", real, fn);
	} else {
		return 0;
	}
	if (err) {
		drop_links(f);
		return 0;
	}
	a->n_attached++;
	return 1;
}

static int scan_glob(struct apps *a, const char *pattern)
{
	glob_t g;
	size_t i;
	int added = 0;

	if (glob(pattern, 0, NULL, &g))
		return 0;
	for (i = 0; i < g.gl_pathc; i++)
		added += try_file(a, g.gl_pathv[i]);
	globfree(&g);
	return added;
}

int apps_try_file(struct apps *a, const char *path)
{
	const char *base = strrchr(path, '/');

	/* The zsh executable, where lastval lives (the zle module's status probe). */
	if (!a->zsh_path[0] && base && !strcmp(base, "/zsh") &&
	    !elfsym_lookup(path, "lastval", &(uint64_t){0}))
		snprintf(a->zsh_path, sizeof(a->zsh_path), "%s", path);
	return try_file(a, path);
}

int apps_scan_exe(struct apps *a, pid_t pid)
{
	char link[64], exe[PATH_MAX], full[PATH_MAX + 64];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/%d/exe", (int)pid);
	n = readlink(link, exe, sizeof(exe) - 1);
	if (n <= 0)
		return 0;
	exe[n] = '\0';
	if (strstr(exe, " (deleted)"))
		return 0;
	/* Through the process's root, so executables inside containers are found too. */
	snprintf(full, sizeof(full), "/proc/%d/root%s", (int)pid, exe);
	return apps_try_file(a, full);
}

int apps_scan_maps(struct apps *a, pid_t pid, const struct proc_maps *m)
{
	char full[PATH_MAX + 64];
	int added = 0;
	size_t i;

	/* zsh's line editor is a loadable module: look for it in the maps. */
	for (i = 0; i < m->n; i++) {
		if (!strstr(m->v[i].path, "/zle.so"))
			continue;
		snprintf(full, sizeof(full), "/proc/%d/root%s", (int)pid, m->v[i].path);
		added += try_file(a, full);
	}
	return added;
}

int apps_scan_usual(struct apps *a)
{
	static const char *const patterns[] = {
	    "/usr/bin/bash",
	    "/bin/bash",
	    "/usr/sbin/mariadbd",
	    "/usr/sbin/mysqld",
	    "/usr/local/mysql/bin/mysqld",
	    "/usr/lib/postgresql/*/bin/postgres",
	    "/usr/local/pgsql/bin/postgres",
	    "/usr/bin/zsh",
	    "/bin/zsh",
	    "/usr/lib/*/zsh/*/zsh/zle.so",
	};
	size_t i;
	int added = 0;

	/* The zsh executable first: the zle module's status probe needs it. */
	if (!a->zsh_path[0]) {
		char real[PATH_MAX];
		uint64_t v;

		if ((realpath("/usr/bin/zsh", real) || realpath("/bin/zsh", real)) &&
		    !elfsym_lookup(real, "lastval", &v))
			snprintf(a->zsh_path, sizeof(a->zsh_path), "%s", real);
	}
	for (i = 0; i < sizeof(patterns) / sizeof(patterns[0]); i++)
		added += scan_glob(a, patterns[i]);
	return added;
}
