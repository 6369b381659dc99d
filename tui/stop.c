// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The front end's one stop flag and the signals that set it (stop.h).
 */
#include <string.h>

#include "tui/stop.h"

volatile sig_atomic_t stop_requested;

static void on_stop(int sig)
{
	(void)sig;
	stop_requested = 1;
}

void stop_catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	/* A closed terminal or a supervisor's hangup ends the capture as cleanly as a
	 * stop: the -w file completed, the stats printed. */
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}
