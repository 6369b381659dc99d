/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The command line: one table of options (cli.c) drives getopt_long, the usage
 * text and the settings below. Adding an option is one row of that table (and, for
 * an option with a value to check, one small function beside it).
 */
#ifndef ECAPTOP_TUI_CLI_H
#define ECAPTOP_TUI_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "engine/engine.h"
#include "tui/batch.h"

/* What the command line asked for. Strings borrow argv. */
struct cli {
	struct engine_opts eo; /* -p, -u, --cgroup, --perf-buffer, --hold-new, --btf, --keylog */
	struct batch_opts bo;  /* --json, -d */
	bool batch, check, force;
	const char *log_path, *theme, *read_path, *write_path, *pcap_filter;
	double speed;	     /* --speed; -1: not given */
	size_t max_events;   /* --max-events; 0: the store's default */
	uint64_t max_memory; /* --max-memory, bytes; 0: the store's default */
};

/* Parse argv into c (which it clears first). Returns -1 to go on, or the status to
 * exit with: 0 after --help or --version, 1 after a usage error (already said on
 * stderr). */
int cli_parse(struct cli *c, int argc, char **argv);
/* The checks between options that come after --log and --check are handled
 * (--keylog without -r; --filter and --speed only with -r). 0, or 1 (said). */
int cli_check_source(const struct cli *c);
/* The usage text, from the table. */
void cli_usage(FILE *f);

#endif
