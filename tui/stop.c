// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The front end's one stop flag and the signals that set it (stop.h).
 */
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "tui/stop.h"

volatile sig_atomic_t stop_requested;
static int wake_fd = -1; /* open for the process's life */

static void on_stop(int sig)
{
	uint64_t one = 1;

	(void)sig;
	stop_requested = 1;
	if (wake_fd >= 0 && write(wake_fd, &one, sizeof(one)) < 0)
		return; /* the flag alone: the eventfd cannot be full */
}

int stop_fd(void)
{
	return wake_fd;
}

void stop_catch_signals(void)
{
	struct sigaction sa;

	if (wake_fd < 0)
		wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
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
