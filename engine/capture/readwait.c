// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * How the engine thread waits for the kernel's records without a timer while nothing
 * comes (an idle `-p PID` must cost no CPU).
 *
 * Under load the BPF side batches wake-ups (common.bpf.h: rb_flags) and records it
 * commits without one are read at the poll timeout, POLL_MS. Once IDLE_AFTER_POLLS
 * timeouts in a row read nothing, the reader sets the shared rb_idle flag, from which
 * on every record wakes it; it reads the ring once more at the next POLL_MS timeout
 * (a program that checked the flag just before it was set commits within that
 * time), then sleeps until a record, the stop request (stop_fd) or IDLE_POLL_MS,
 * a bound that only matters if a program was held up between its check and its
 * commit. The first record read clears the flag. Perf buffers wake for every sample
 * (libbpf's wakeup_events = 1): no flag is needed, only the longer timeout.
 * With --packets the reader never goes idle: the packets' own ring is read and their
 * 300 ms hold released at each POLL_MS turn of the loop (packets.c).
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "engine/capture/engine_int.h"
#include "engine/log.h"
#include "tls.skel.h"

#define IDLE_AFTER_POLLS 5    /* POLL_MS timeouts with nothing read: 100 ms */
#define IDLE_POLL_MS	 1000 /* the longest idle sleep */

enum { AWAKE, ARMED, IDLE };

int readwait_init(struct engine *e)
{
	e->stop_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	return e->stop_fd < 0 ? -errno : 0;
}

void readwait_stop(struct engine *e)
{
	uint64_t one = 1;

	if (e->stop_fd >= 0 && write(e->stop_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_msg(LOG_WARN, "cannot wake the engine thread: %s", strerror(errno));
}

static void set_idle(struct engine *e, bool on)
{
	__u32 k0 = 0, v = on;

	/* A failure leaves the flag as it was: the reader then keeps its short timeout. */
	if (bpf_map_update_elem(bpf_map__fd(e->tls->maps.rb_idle), &k0, &v, BPF_ANY)) {
		e->wait_state = AWAKE;
		return;
	}
	e->wait_state = on ? ARMED : AWAKE;
}

static int consume(struct engine *e)
{
	return e->ringbuf ? ring_buffer__consume(e->rb) : perf_buffer__consume(e->pb);
}

int readwait_poll(struct engine *e)
{
	int epfd = e->ringbuf ? ring_buffer__epoll_fd(e->rb) : perf_buffer__epoll_fd(e->pb);
	struct pollfd p[2] = {{.fd = epfd, .events = POLLIN}, {.fd = e->stop_fd, .events = POLLIN}};
	int timeout = e->wait_state == IDLE && !e->n_held ? IDLE_POLL_MS : POLL_MS;
	int r, n;

	r = poll(p, 2, timeout);
	if (r < 0)
		return errno == EINTR ? 0 : -errno;
	if (p[1].revents)
		return 0; /* a stop: the caller sees the flag */
	n = consume(e);
	if (n > 0) {
		e->quiet_polls = 0;
		if (e->wait_state != AWAKE && e->ringbuf)
			set_idle(e, false);
		e->wait_state = AWAKE;
		return n;
	}
	if (n < 0 || r > 0)
		return n;
	/* A timeout that read nothing. */
	if (e->wait_state == ARMED) {
		e->wait_state = IDLE;
	} else if (e->wait_state == AWAKE && !e->pkt && ++e->quiet_polls >= IDLE_AFTER_POLLS) {
		/* Not with --packets: its ring is read at each turn of the loop
		 * (packets_tick) and held packets must leave within PACKETS_HOLD_MS. */
		if (e->ringbuf)
			set_idle(e, true);
		else
			e->wait_state = IDLE;
	}
	return 0;
}
