/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The front end's one stop flag: set by SIGINT, SIGTERM or SIGHUP, read by the
 * TUI's and the batch printer's loops, with an eventfd that wakes their polls. (The engine's threads have a flag of their
 * own, the event queue's, set by engine_stop().)
 */
#ifndef ECAPTOP_TUI_STOP_H
#define ECAPTOP_TUI_STOP_H

#include <signal.h>

/* Non-zero once a stop was asked for; the loops end when they see it. */
extern volatile sig_atomic_t stop_requested;

/* SIGINT, SIGTERM and SIGHUP set stop_requested and wake stop_fd(); SIGPIPE is
 * ignored. */
void stop_catch_signals(void);
/* An eventfd the signal handler writes (readable once a stop was asked for), or -1
 * (eventfd failed: then the loops keep a timer). The loops sleep without a timer
 * while nothing comes, so they poll it: a signal that lands between their check of
 * stop_requested and their poll must still end the wait. */
int stop_fd(void);

#endif
