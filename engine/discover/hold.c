// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "engine/discover/hold.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "engine/log.h"
#include "proc.skel.h"

#define WATCH_MS 10

struct exe_key {
	uint32_t dev;
	uint32_t pad;
	uint64_t ino;
};

struct hold {
	struct proc_bpf *proc; /* borrowed */
	clockid_t clock;
	int held_fd, known_fd, on_fd;
	pthread_t watchdog;
	bool running;
	atomic_bool stop;
	bool full_logged;
};

/* For the exit paths (atexit, fatal signals): the maps of the one hold in use. */
static atomic_int g_held_fd = -1, g_on_fd = -1;

static uint64_t now_ns(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Holding off, then every held process continued. Only system calls: it runs from
 * signal handlers too. */
static void release_all(int held_fd, int on_fd)
{
	const struct timespec ms = {0, 1000000L};
	uint32_t zero = 0, pid, next;
	int pass;

	if (held_fd < 0)
		return;
	bpf_map_update_elem(on_fd, &zero, &zero, BPF_ANY);
	/* Twice: an exec tracepoint that read the switch just before it turned may
	 * still add one. */
	for (pass = 0; pass < 2; pass++) {
		while (!bpf_map_get_next_key(held_fd, NULL, &next)) {
			pid = next;
			kill((pid_t)pid, SIGCONT);
			bpf_map_delete_elem(held_fd, &pid);
		}
		if (!pass)
			nanosleep(&ms, NULL);
	}
}

static void at_exit(void)
{
	release_all(atomic_load(&g_held_fd), atomic_load(&g_on_fd));
}

static void on_fatal(int sig)
{
	release_all(atomic_load(&g_held_fd), atomic_load(&g_on_fd));
	/* SA_RESETHAND restored the default action: die of the same signal. */
	raise(sig);
}

/* Continue the processes held longer than the bound, whatever discovery is doing. */
static void *watchdog(void *arg)
{
	struct hold *h = arg;
	const struct timespec tick = {0, WATCH_MS * 1000000L};

	while (!atomic_load(&h->stop)) {
		uint64_t now = now_ns(h->clock), since;
		uint32_t key, next;
		bool first = true;

		while (!bpf_map_get_next_key(h->held_fd, first ? NULL : &key, &next)) {
			first = false;
			key = next;
			if (bpf_map_lookup_elem(h->held_fd, &key, &since) || now < since ||
			    now - since < HOLD_BOUND_MS * 1000000ull)
				continue;
			kill((pid_t)key, SIGCONT);
			bpf_map_delete_elem(h->held_fd, &key);
			log_msg(LOG_WARN,
				"--hold-new: pid %u continued after %d ms without its executable "
				"classified; its first TLS calls may not be captured",
				key, HOLD_BOUND_MS);
			first = true; /* the walk's key is gone: start over */
		}
		nanosleep(&tick, NULL);
	}
	return NULL;
}

struct hold *hold_new(struct proc_bpf *proc, clockid_t clock)
{
	struct hold *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	h->proc = proc;
	h->clock = clock;
	h->held_fd = bpf_map__fd(proc->maps.held);
	h->known_fd = bpf_map__fd(proc->maps.known_exes);
	h->on_fd = bpf_map__fd(proc->maps.hold_on);
	return h;
}

int hold_start(struct hold *h)
{
	static const int fatal[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
	static atomic_bool handlers;
	struct sigaction sa;
	uint32_t zero = 0, one = 1;
	size_t i;
	int ret;

	atomic_store(&g_held_fd, h->held_fd);
	atomic_store(&g_on_fd, h->on_fd);
	if (!atomic_exchange(&handlers, true)) {
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_fatal;
		sa.sa_flags = SA_RESETHAND | SA_NODEFER;
		sigemptyset(&sa.sa_mask);
		for (i = 0; i < sizeof(fatal) / sizeof(fatal[0]); i++)
			sigaction(fatal[i], &sa, NULL);
		atexit(at_exit);
	}
	ret = pthread_create(&h->watchdog, NULL, watchdog, h);
	if (ret)
		return -ret;
	h->running = true;
	if (bpf_map_update_elem(h->on_fd, &zero, &one, BPF_ANY))
		return -errno;
	return 0;
}

void hold_known(struct hold *h, uint32_t kdev, uint64_t ino)
{
	struct exe_key k = {.dev = kdev, .ino = ino};
	uint8_t one = 1;

	if (!h)
		return;
	if (bpf_map_update_elem(h->known_fd, &k, &one, BPF_ANY) && !h->full_logged) {
		h->full_logged = true;
		log_msg(LOG_WARN,
			"--hold-new: cannot remember more classified executables (%s): a run of "
			"those is held until discovery has looked at it again",
			strerror(errno));
	}
}

long hold_release(struct hold *h, pid_t pid)
{
	uint32_t key = (uint32_t)pid;
	uint64_t since, now;

	if (!h || bpf_map_lookup_elem(h->held_fd, &key, &since))
		return -1;
	now = now_ns(h->clock);
	kill(pid, SIGCONT);
	bpf_map_delete_elem(h->held_fd, &key);
	return now > since ? (long)((now - since) / 1000000) : 0;
}

void hold_free(struct hold *h)
{
	if (!h)
		return;
	atomic_store(&h->stop, true);
	if (h->running)
		pthread_join(h->watchdog, NULL);
	release_all(h->held_fd, h->on_fd);
	atomic_store(&g_held_fd, -1);
	atomic_store(&g_on_fd, -1);
	free(h);
}
