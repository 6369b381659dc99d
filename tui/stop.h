/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The front end's one stop flag: set by SIGINT, SIGTERM or SIGHUP, read by the
 * TUI's and the batch printer's loops. (The engine's threads have a flag of their
 * own, the event queue's, set by engine_stop().)
 */
#ifndef ECAPTOP_TUI_STOP_H
#define ECAPTOP_TUI_STOP_H

#include <signal.h>

/* Non-zero once a stop was asked for; the loops end when they see it. */
extern volatile sig_atomic_t stop_requested;

/* SIGINT, SIGTERM and SIGHUP set stop_requested; SIGPIPE is ignored. */
void stop_catch_signals(void);

#endif
