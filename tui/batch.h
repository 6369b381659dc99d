/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Batch mode: the same pipeline as the TUI with a printer instead of panels.
 * Events (and, through the session store, decoded records) are printed to stdout
 * as text for people or as JSON lines for scripts.
 */
#ifndef ECAPTOP_TUI_BATCH_H
#define ECAPTOP_TUI_BATCH_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "engine/engine.h"

struct batch_opts {
	bool json;
	double duration_s;		  /* 0 = until interrupted */
	const struct engine_opts *filter; /* borrowed: pids/uids also applied to process events */
	struct recorder *rec; /* -w (borrowed), or NULL: each event taken is recorded first */
};

struct strbuf;

/* Append one event's line (text or JSON) to sb. */
void batch_format_event(struct strbuf *sb, const struct ec_event *ev, bool json);
/* Print one event. Exposed for tests and for replay. */
void batch_print_event(FILE *out, const struct ec_event *ev, bool json);
/* Append (or print) the final stats record. */
void batch_format_stats(struct strbuf *sb, const struct engine_stats *st, bool json);
void batch_print_stats(FILE *out, const struct engine_stats *st, bool json);
/* Run until SIGINT/SIGTERM/SIGHUP, the duration, the end of a replay, or a write
 * error on stdout. A stop request ends the run within a second even when stdout is
 * not being read (the stats then go to stderr). Borrows e. Returns the process exit
 * status: 1 when the source ended on an error (a corrupt replay file). */
int batch_run(struct engine *e, const struct batch_opts *o);

#endif
