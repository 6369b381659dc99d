/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The interactive front end (issue 4): an htop-like full-screen inspector of
 * processes, connections, events and their decoded contents.
 *
 * tui_run() owns the terminal from start to end: it sets up curses, loops on
 * stdin and engine_wait_fd(e), drains engine_pop() into the store with a time
 * budget per frame, draws, and restores the terminal before returning. Nothing
 * is written to stdout/stderr meanwhile (engine/log.h lines appear in the log
 * view; log_set_stderr is switched off for the duration).
 */
#ifndef ECAPTOP_TUI_TUI_H
#define ECAPTOP_TUI_TUI_H

#include <stddef.h>

#include "engine/engine.h"
#include "tui/session/store.h"

struct tui_opts {
	const char
	    *theme; /* theme name (themes/NAME.theme) or NULL: the saved choice, else "dark" */
	size_t store_cap;   /* the store's cap, for the header; 0 = STORE_DEFAULT_MAX */
	uint64_t store_mem; /* its byte budget, for the header; 0 = STORE_DEFAULT_MAX_BYTES */
	const char *source; /* what is shown: "live" or a file name; NULL = "live" */
	const char
	    *log_path;	    /* --log FILE (already opened by the caller), or NULL; shown in help */
	const char *filter; /* an initial filter text, or NULL */
	const char *theme_dir; /* where *.theme files are; NULL = the built-in search path */
	struct recorder *rec;  /* -w (borrowed), or NULL: each event taken is recorded first */
};

/*
 * Run the TUI until the user quits. Borrows e (may be NULL: no capture, only the
 * store's contents) and st (fed from e). Returns the process exit status: 0 on a
 * normal quit, 1 if the terminal could not be set up (a message is then printed
 * to stderr, since curses never started).
 */
int tui_run(struct engine *e, struct store *st, const struct tui_opts *o);

#endif
