/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Application probes (engine-private): shells (bash readline, zsh zleentry) and
 * database servers (MySQL/MariaDB dispatch_command, PostgreSQL exec_simple_query or
 * pg_parse_query). Found in the usual install paths and in the executables and
 * maps of running processes; attached once per file.
 */
#ifndef ECAPTOP_ENGINE_APPS_H
#define ECAPTOP_ENGINE_APPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct shell_bpf;
struct db_bpf;
struct apps;
struct proc_maps;

/* Borrows both skeletons. has_cookie: the kernel passes attach cookies to uprobes.
 * pids (copied): with n_pids > 0, probes go into those processes only. NULL + errno. */
struct apps *apps_new(struct shell_bpf *shell, struct db_bpf *db, bool has_cookie,
		      const uint32_t *pids, size_t n_pids);
/* Detaches everything. Accepts NULL. */
void apps_free(struct apps *a);
/* The usual install paths. Returns the number of files newly attached. */
int apps_scan_usual(struct apps *a);
/* One process's executable. */
int apps_scan_exe(struct apps *a, pid_t pid);
/* One process's maps, already read (zsh loads zle.so as a module). */
int apps_scan_maps(struct apps *a, pid_t pid, const struct proc_maps *m);
/* One file (an executable that was just started). 1 if probes were attached. */
int apps_try_file(struct apps *a, const char *path);
/* Files with probes attached. */
size_t apps_count(const struct apps *a);

#endif
