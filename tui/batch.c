// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "tui/batch.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "decoders/json.h"
#include "decoders/record_json.h"
#include "tui/session/store.h"
#include "engine/log.h"

volatile int batch_stop_requested;
/* Written by batch_request_stop(): the loop's poll has no timer while nothing comes,
 * and a signal that lands between its check of the flag and the poll must end it. */
static int stop_fd = -1;

void batch_request_stop(void)
{
	uint64_t one = 1;

	batch_stop_requested = 1;
	if (stop_fd >= 0 && write(stop_fd, &one, sizeof(one)) < 0)
		return; /* the flag alone: the eventfd cannot be full */
}

static const char *family_name(uint8_t f)
{
	return f == EC_AF_INET ? "ipv4" : f == EC_AF_INET6 ? "ipv6" : "unknown";
}

static bool pass_user_filter(const struct engine_opts *f, const struct ec_event *ev)
{
	size_t i;
	bool ok;

	if (!f)
		return true;
	if (f->n_pids) {
		for (ok = false, i = 0; i < f->n_pids; i++)
			ok |= f->pids[i] == ev->h.pid;
		if (!ok)
			return false;
	}
	if (f->n_uids) {
		for (ok = false, i = 0; i < f->n_uids; i++)
			ok |= f->uids[i] == ev->h.uid;
		if (!ok)
			return false;
	}
	return true;
}

static void comm_of(const struct ec_event *ev, char out[EC_COMM_LEN + 1])
{
	memcpy(out, ev->h.comm, EC_COMM_LEN);
	out[EC_COMM_LEN] = '\0';
}

static void json_event(struct strbuf *sb, const struct ec_event *ev)
{
	char comm[EC_COMM_LEN + 1], addr[64];
	const struct ec_rec_hdr *h = &ev->h;

	comm_of(ev, comm);
	sb_puts(sb, "{");
	sb_json_key(sb, "type");
	sb_json_cstr(sb, h->kind == EC_K_COMMAND && (h->flags & EC_F_STATUS)
			     ? "command_exit"
			     : ec_kind_name(h->kind));
	sb_json_key(sb, "source");
	sb_json_cstr(sb, ec_source_name(h->source));
	sb_printf(sb, ",\"ts_ns\":%llu,\"pid\":%u,\"tid\":%u,\"uid\":%u",
		  (unsigned long long)h->ts_ns, h->pid, h->tid, h->uid);
	sb_json_key(sb, "comm");
	sb_json_cstr(sb, comm);
	switch (h->kind) {
	case EC_K_DATA:
		sb_printf(sb, ",\"fd\":%d", h->fd);
		sb_json_key(sb, "dir");
		sb_json_cstr(sb, ec_dir_name(h->dir));
		sb_json_key(sb, "family");
		sb_json_cstr(sb, family_name(h->family));
		sb_json_key(sb, "laddr");
		sb_json_cstr(sb, ec_addr_str(h->family, h->laddr, addr, sizeof(addr)));
		sb_printf(sb, ",\"lport\":%u", h->lport);
		sb_json_key(sb, "raddr");
		sb_json_cstr(sb, ec_addr_str(h->family, h->raddr, addr, sizeof(addr)));
		sb_printf(sb, ",\"rport\":%u,\"conn_id\":\"%llx\",\"len\":%u", h->rport,
			  (unsigned long long)h->conn_id, h->len);
		if (h->flags & EC_F_TRUNCATED)
			sb_printf(sb, ",\"truncated\":true,\"lost_bytes\":%u", h->aux);
		sb_json_key(sb, "data");
		sb_puts(sb, "\"");
		sb_base64(sb, ev->data, h->len);
		sb_puts(sb, "\"");
		break;
	case EC_K_EXEC:
		sb_printf(sb, ",\"ppid\":%u", h->aux);
		sb_json_key(sb, "cmdline");
		{
			/* argv is NUL-separated: show it space-separated. */
			char *cmd = malloc(h->len + 1);
			uint32_t i, n = h->len;

			if (cmd) {
				memcpy(cmd, ev->data, n);
				while (n && cmd[n - 1] == '\0')
					n--;
				for (i = 0; i < n; i++)
					if (!cmd[i])
						cmd[i] = ' ';
				sb_json_str(sb, cmd, n);
				free(cmd);
			} else {
				sb_puts(sb, "null");
			}
		}
		break;
	case EC_K_EXIT:
		sb_printf(sb, ",\"exit_code\":%u", h->aux);
		break;
	case EC_K_COMMAND:
		sb_json_key(sb, "shell");
		sb_json_cstr(sb, ec_source_name(h->source));
		sb_printf(sb, ",\"command_id\":\"%llx\"", (unsigned long long)h->call_id);
		if (h->flags & EC_F_STATUS) {
			sb_printf(sb, ",\"exit_status\":%u", h->aux - 1);
			break;
		}
		sb_json_key(sb, "command");
		sb_json_str(sb, (const char *)ev->data, h->len);
		if (h->flags & EC_F_TRUNCATED)
			sb_puts(sb, ",\"truncated\":true");
		break;
	case EC_K_QUERY:
		sb_json_key(sb, "command");
		sb_json_cstr(sb, h->source != EC_S_MYSQLD ? NULL
				 : h->aux == 22		  ? "COM_STMT_PREPARE"
							  : "COM_QUERY");
		sb_json_key(sb, "query");
		sb_json_str(sb, (const char *)ev->data, h->len);
		if (h->flags & (EC_F_TRUNCATED | EC_F_CONT))
			sb_printf(sb, ",\"part\":%s",
				  h->flags & EC_F_CONT ? "\"continuation\"" : "\"first\"");
		break;
	default:
		sb_printf(sb, ",\"len\":%u", h->len);
		break;
	}
	sb_puts(sb, "}\n");
}

/* Mostly text? Then show it as escaped text, else as a hex dump. */
static bool looks_textual(const uint8_t *p, size_t n)
{
	size_t i, bad = 0;

	for (i = 0; i < n; i++)
		if ((p[i] < 0x20 && p[i] != '\n' && p[i] != '\r' && p[i] != '\t') || p[i] == 0x7f)
			bad++;
	return bad * 20 <= n; /* at most 5% control bytes */
}

static void text_payload(struct strbuf *sb, const uint8_t *p, size_t n)
{
	size_t i, j;

	if (!n)
		return;
	if (looks_textual(p, n)) {
		sb_puts(sb, "    ");
		for (i = 0; i < n; i++) {
			uint8_t c = p[i];

			if (c == '\n') {
				sb_puts(sb, "\\n\n");
				if (i + 1 < n)
					sb_puts(sb, "    ");
			} else if (c == '\r') {
				sb_puts(sb, "\\r");
			} else if (c == '\t' || (c >= 0x20 && c != 0x7f && c != '\\')) {
				sb_append(sb, &c, 1);
			} else if (c == '\\') {
				sb_puts(sb, "\\\\");
			} else {
				sb_printf(sb, "\\x%02x", c);
			}
		}
		if (p[n - 1] != '\n')
			sb_puts(sb, "\n");
		return;
	}
	for (i = 0; i < n; i += 16) {
		sb_printf(sb, "    %08zx  ", i);
		for (j = 0; j < 16; j++) {
			if (i + j < n)
				sb_printf(sb, "%02x ", p[i + j]);
			else
				sb_puts(sb, "   ");
			if (j == 7)
				sb_puts(sb, " ");
		}
		sb_puts(sb, " |");
		for (j = 0; j < 16 && i + j < n; j++) {
			char c = (p[i + j] >= 0x20 && p[i + j] < 0x7f) ? (char)p[i + j] : '.';

			sb_append(sb, &c, 1);
		}
		sb_puts(sb, "|\n");
	}
}

static void text_event(struct strbuf *sb, const struct ec_event *ev)
{
	const struct ec_rec_hdr *h = &ev->h;
	char comm[EC_COMM_LEN + 1], la[64], ra[64], stamp[32];
	time_t secs = (time_t)(h->ts_ns / 1000000000ULL);
	struct tm tm;

	comm_of(ev, comm);
	localtime_r(&secs, &tm);
	strftime(stamp, sizeof(stamp), "%H:%M:%S", &tm);
	sb_printf(sb, "%s.%06llu %-7s %s pid %u tid %u uid %u", stamp,
		  (unsigned long long)(h->ts_ns % 1000000000ULL / 1000), ec_source_name(h->source),
		  comm, h->pid, h->tid, h->uid);
	switch (h->kind) {
	case EC_K_DATA:
		ec_addr_str(h->family, h->laddr, la, sizeof(la));
		ec_addr_str(h->family, h->raddr, ra, sizeof(ra));
		if (h->family == EC_AF_INET6)
			sb_printf(sb, " fd %d %s [%s]:%u %s [%s]:%u %u bytes", h->fd,
				  ec_dir_name(h->dir), la, h->lport,
				  h->dir == EC_DIR_SEND ? "->" : "<-", ra, h->rport, h->len);
		else if (h->family == EC_AF_INET)
			sb_printf(sb, " fd %d %s %s:%u %s %s:%u %u bytes", h->fd,
				  ec_dir_name(h->dir), la, h->lport,
				  h->dir == EC_DIR_SEND ? "->" : "<-", ra, h->rport, h->len);
		else
			sb_printf(sb, " fd %d %s (connection unknown) %u bytes", h->fd,
				  ec_dir_name(h->dir), h->len);
		if (h->flags & EC_F_TRUNCATED)
			sb_printf(sb, " (%u bytes of this call lost)", h->aux);
		sb_puts(sb, "\n");
		text_payload(sb, ev->data, h->len);
		break;
	case EC_K_EXEC: {
		uint32_t i;

		sb_printf(sb, " exec ppid %u:", h->aux);
		for (i = 0; i < h->len; i++) {
			char c = ev->data[i] ? (char)ev->data[i] : ' ';

			if ((unsigned char)c < 0x20 || c == 0x7f)
				c = '?';
			sb_append(sb, &c, 1);
		}
		sb_puts(sb, "\n");
		break;
	}
	case EC_K_EXIT:
		sb_printf(sb, " exit status %u\n", h->aux);
		break;
	case EC_K_COMMAND:
		if (h->flags & EC_F_STATUS) {
			sb_printf(sb, " command exit status %u\n", h->aux - 1);
			break;
		}
		sb_puts(sb, " command: ");
		sb_append(sb, ev->data, h->len);
		sb_puts(sb, "\n");
		break;
	default:
		sb_printf(sb, " %s\n", ec_kind_name(h->kind));
		text_payload(sb, ev->data, h->len);
		break;
	}
}

void batch_format_event(struct strbuf *sb, const struct ec_event *ev, bool json)
{
	if (json)
		json_event(sb, ev);
	else
		text_event(sb, ev);
}

void batch_print_event(FILE *out, const struct ec_event *ev, bool json)
{
	struct strbuf sb = STRBUF_INIT;

	batch_format_event(&sb, ev, json);
	if (sb.failed)
		log_msg(LOG_ERROR, "out of memory formatting an event of %u bytes", ev->h.len);
	else
		fwrite(sb.buf, 1, sb.len, out);
	sb_free(&sb);
}

void batch_format_stats(struct strbuf *sb, const struct engine_stats *st, bool json)
{
	/* One loss, one counter: buffer_full is a failed ring buffer reserve or perf
	 * output (the kernel's own report of lost perf samples is the same loss, so
	 * perf_lost only holds what it reported beyond those). */
	if (json) {
		sb_printf(
		    sb,
		    "{\"type\":\"stats\",\"events\":%llu,\"bytes\":%llu,\"buffer\":\"%s\","
		    "\"targets\":%llu,\"lost\":{\"ring_reserve\":%llu,\"perf_lost\":%llu,"
		    "\"queue_full\":%llu,\"read_fault\":%llu,\"truncated\":%llu,"
		    "\"malformed\":%llu,\"alloc\":%llu,\"map_full\":%llu}}\n",
		    (unsigned long long)st->events, (unsigned long long)st->bytes,
		    st->ringbuf ? "ringbuf" : "perfbuf", (unsigned long long)st->libs_attached,
		    (unsigned long long)st->lost_reserve, (unsigned long long)st->lost_perf,
		    (unsigned long long)st->lost_queue, (unsigned long long)st->lost_read,
		    (unsigned long long)st->lost_trunc, (unsigned long long)st->lost_malformed,
		    (unsigned long long)st->lost_alloc, (unsigned long long)st->lost_map);
	} else {
		sb_printf(
		    sb, "--- ecaptop stats: %llu events, %llu bytes (%s); lost: buffer full %llu, ",
		    (unsigned long long)st->events, (unsigned long long)st->bytes,
		    st->ringbuf ? "ring buffer" : "perf buffer",
		    (unsigned long long)st->lost_reserve);
		if (st->lost_perf)
			sb_printf(sb, "perf lost %llu, ", (unsigned long long)st->lost_perf);
		sb_printf(sb,
			  "queue full %llu, read fault %llu, truncated %llu, malformed %llu, "
			  "alloc %llu, map full %llu\n",
			  (unsigned long long)st->lost_queue, (unsigned long long)st->lost_read,
			  (unsigned long long)st->lost_trunc,
			  (unsigned long long)st->lost_malformed,
			  (unsigned long long)st->lost_alloc, (unsigned long long)st->lost_map);
	}
}

void batch_print_stats(FILE *out, const struct engine_stats *st, bool json)
{
	struct strbuf sb = STRBUF_INIT;

	batch_format_stats(&sb, st, json);
	if (!sb.failed)
		fwrite(sb.buf, 1, sb.len, out);
	sb_free(&sb);
}

static void fmt_time(struct strbuf *sb, uint64_t ts_ns)
{
	time_t secs = (time_t)(ts_ns / 1000000000ULL);
	char stamp[32];
	struct tm tm;

	localtime_r(&secs, &tm);
	strftime(stamp, sizeof(stamp), "%H:%M:%S", &tm);
	sb_printf(sb, "%s.%06llu", stamp, (unsigned long long)(ts_ns % 1000000000ULL / 1000));
}

static void json_record(struct strbuf *sb, const struct dec_record *r, const struct store_conn *c)
{
	char comm[EC_COMM_LEN + 1];

	sb_puts(sb, "{");
	dec_record_json(sb, r);
	if (c) {
		memcpy(comm, c->comm, EC_COMM_LEN);
		comm[EC_COMM_LEN] = '\0';
		sb_json_key(sb, "source");
		sb_json_cstr(sb, ec_source_name(c->source));
		sb_printf(sb, ",\"pid\":%u,\"tid\":%u,\"uid\":%u", c->pid, c->tid, c->uid);
		sb_json_key(sb, "comm");
		sb_json_cstr(sb, comm);
		sb_json_key(sb, "family");
		sb_json_cstr(sb, family_name(c->family));
		sb_json_key(sb, "laddr");
		sb_json_cstr(sb, c->laddr_str);
		sb_printf(sb, ",\"lport\":%u", c->lport);
		sb_json_key(sb, "raddr");
		sb_json_cstr(sb, c->raddr_str);
		sb_printf(sb, ",\"rport\":%u,\"conn_id\":\"%llx\"", c->rport,
			  (unsigned long long)c->conn_id);
		sb_json_key(sb, "role");
		sb_json_cstr(sb, c->local_is_client == 1   ? "client"
				 : c->local_is_client == 0 ? "server"
							   : NULL);
	}
	sb_printf(sb, ",\"ts_ns\":%llu}\n",
		  (unsigned long long)(r->req_ts_ns ? r->req_ts_ns : r->resp_ts_ns));
}

/* One line for people: "GET /x -> 200 (1.2 ms)", "SELECT 1 -> 1 rows". */
static void text_record(struct strbuf *sb, const struct dec_record *r, const struct store_conn *c)
{
	char comm[EC_COMM_LEN + 1] = "";
	double ms = r->latency_us / 1000.0;

	fmt_time(sb, r->req_ts_ns ? r->req_ts_ns : r->resp_ts_ns);
	if (c) {
		memcpy(comm, c->comm, EC_COMM_LEN);
		comm[EC_COMM_LEN] = '\0';
	}
	sb_printf(sb, " %-7s %s pid %u ", dec_proto_name(r->proto), comm, c ? c->pid : 0);
	switch (r->type) {
	case DEC_R_HTTP:
		sb_printf(sb, "HTTP/%s %s %s%s%s", r->http.version ?: "?", r->http.method ?: "-",
			  r->http.host ?: "", r->http.path ?: "", r->http.status ? " -> " : "");
		if (r->http.status)
			sb_printf(sb, "%d", r->http.status);
		break;
	case DEC_R_MYSQL:
		sb_printf(sb, "%s %s", r->mysql.command ?: "?", r->mysql.query ?: "");
		if (r->mysql.error)
			sb_printf(sb, " -> error %d: %s", r->mysql.error_code, r->mysql.error);
		else if (r->mysql.rows >= 0)
			sb_printf(sb, " -> %lld rows", (long long)r->mysql.rows);
		break;
	case DEC_R_PGSQL:
		sb_printf(sb, "%s", r->pgsql.query ?: "");
		if (r->pgsql.error)
			sb_printf(sb, " -> error %s: %s", r->pgsql.sqlstate ?: "", r->pgsql.error);
		else if (r->pgsql.tag)
			sb_printf(sb, " -> %s", r->pgsql.tag);
		break;
	case DEC_R_NOTE:
		sb_printf(sb, "note: %s", r->note.text ?: "");
		break;
	}
	if (r->latency_us)
		sb_printf(sb, " (%.3f ms)", ms);
	sb_puts(sb, "\n");
}

/* Output waiting for a slow reader. Past this the printer stops taking events and
 * the engine's queue fills instead, where every drop is counted: a stalled
 * standard output costs bounded memory. */
#define OUT_MAX (4u << 20)
/* After a stop request, how long a stalled standard output may hold up the exit. */
#define STOP_GRACE_MS 250

struct batch_sink {
	const struct batch_opts *o;
	int write_error;   /* standard output was closed or failed */
	uint64_t last_ts;  /* the newest event's time */
	struct strbuf out; /* formatted output; out.buf[done..len) is not yet written */
	size_t done;
	double progress; /* when standard output last took bytes (or had none waiting) */
	bool nonblock;	 /* we made standard output non-blocking (a pipe or socket) */
	int saved_flags; /* its flags before */
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static size_t out_pending(const struct batch_sink *bs)
{
	return bs->out.len - bs->done;
}

/* Write what standard output takes now. A pipe or socket is non-blocking, so a
 * reader that stopped reading costs a short write, not a stuck thread; a terminal
 * or file is written blocking (a signal interrupts it: no SA_RESTART). 0, or -1
 * once standard output is gone (EPIPE, closed). */
static int out_write(struct batch_sink *bs)
{
	while (out_pending(bs)) {
		ssize_t n = write(STDOUT_FILENO, bs->out.buf + bs->done, out_pending(bs));

		if (n > 0) {
			bs->done += (size_t)n;
			bs->progress = now_s();
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return 0;
		bs->write_error = 1;
		return -1;
	}
	bs->done = 0;
	bs->progress = now_s();
	/* Keep the memory, unless one huge line grew it: then give it back. */
	if (bs->out.cap > 2 * OUT_MAX)
		sb_free(&bs->out);
	else
		sb_reset(&bs->out);
	return 0;
}

/* Before appending: move what is left to the front once the written part is large,
 * so the buffer never grows past the pending bytes plus one event's output. */
static void out_compact(struct batch_sink *bs)
{
	size_t left = out_pending(bs);

	if (bs->done < OUT_MAX / 2)
		return;
	memmove(bs->out.buf, bs->out.buf + bs->done, left);
	bs->out.len = left;
	bs->done = 0;
	if (bs->out.buf)
		bs->out.buf[left] = '\0';
}

/* Drop a line that could not be formatted whole (out of memory). */
static void out_check(struct batch_sink *bs, size_t mark)
{
	if (!bs->out.failed)
		return;
	log_msg(LOG_ERROR, "out of memory formatting output");
	bs->out.failed = 0;
	bs->out.len = mark;
}

static void sink_event(const struct ec_event *ev, const struct store_conn *c, void *arg)
{
	struct batch_sink *bs = arg;
	size_t mark = bs->out.len;

	/* exec/exit feed the store's process table; in batch output they would drown
	 * the traffic, so only the kinds that carry content print. Ciphertext the
	 * kernel side could not recognise is recognised here and not shown. */
	if (ev->h.kind == EC_K_EXEC || ev->h.kind == EC_K_EXIT)
		return;
	if (c && c->proto == DEC_P_TLS)
		return;
	if (ev->h.kind != EC_K_DATA && !pass_user_filter(bs->o->filter, ev))
		return;
	batch_format_event(&bs->out, ev, bs->o->json);
	out_check(bs, mark);
}

static void sink_record(const struct dec_record *r, const struct store_conn *c, void *arg)
{
	struct batch_sink *bs = arg;
	size_t mark = bs->out.len;

	if (bs->o->json)
		json_record(&bs->out, r, c);
	else
		text_record(&bs->out, r, c);
	out_check(bs, mark);
}

/* Feed waiting events through the store (which formats through the sink) while the
 * output has room. true when the queue was emptied. */
static bool drain(struct engine *e, struct store *st, struct batch_sink *bs)
{
	struct ec_event *ev;

	out_compact(bs);
	while (out_pending(bs) < OUT_MAX) {
		ev = engine_pop(e);
		if (!ev)
			return true;
		if (ev->h.ts_ns > bs->last_ts)
			bs->last_ts = ev->h.ts_ns;
		store_add(st, ev);
	}
	return false;
}

/* A pipe or socket on standard output becomes non-blocking while we run. */
static void out_open(struct batch_sink *bs)
{
	struct stat sb;
	int fl;

	if (fstat(STDOUT_FILENO, &sb) || !(S_ISFIFO(sb.st_mode) || S_ISSOCK(sb.st_mode)))
		return;
	fl = fcntl(STDOUT_FILENO, F_GETFL);
	if (fl < 0 || (fl & O_NONBLOCK))
		return;
	if (fcntl(STDOUT_FILENO, F_SETFL, fl | O_NONBLOCK) == 0) {
		bs->nonblock = true;
		bs->saved_flags = fl;
	}
}

static void out_close(struct batch_sink *bs)
{
	if (bs->nonblock)
		(void)fcntl(STDOUT_FILENO, F_SETFL, bs->saved_flags);
	bs->nonblock = false;
	sb_free(&bs->out);
}

/* Wait until standard output takes bytes, at most ms. */
static void out_wait(struct batch_sink *bs, int ms)
{
	struct pollfd pfd = {.fd = STDOUT_FILENO, .events = POLLOUT};

	if (bs->nonblock)
		(void)poll(&pfd, 1, ms);
}

int batch_run(struct engine *e, const struct batch_opts *o)
{
	double end = o->duration_s > 0 ? now_s() + o->duration_s : 0, deadline = 0;
	struct store_opts so = {.keep = false};
	struct batch_sink bs = {.o = o};
	struct store_sink sink = {sink_event, sink_record, &bs};
	struct engine_stats st;
	struct ec_event *ev;
	struct store *store;
	uint64_t unprinted = 0;
	size_t unwritten = 0;
	bool emptied = false, closed = false, stats = false;
	int status = 0;

	store = store_new(&so);
	if (!store) {
		log_msg(LOG_ERROR, "cannot create the session store: %s", strerror(errno));
		return 1;
	}
	store_set_sink(store, &sink);
	out_open(&bs);
	bs.progress = now_s();
	stop_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);

	while (!batch_stop_requested) {
		struct pollfd pfd[3] = {
		    {.fd = out_pending(&bs) < OUT_MAX ? engine_wait_fd(e) : -1, .events = POLLIN},
		    {.fd = out_pending(&bs) && bs.nonblock ? STDOUT_FILENO : -1, .events = POLLOUT},
		    {.fd = stop_fd, .events = POLLIN}};
		/* No timer while nothing comes (engine_wait_ms): a stop interrupts the poll. */
		int timeout = stop_fd >= 0 ? engine_wait_ms(e) : 200;

		if (end) {
			double left = end - now_s();

			if (left <= 0)
				break;
			if (timeout < 0 || left * 1000 < timeout)
				timeout = (int)(left * 1000) + 1;
		}
		if (poll(pfd, 3, timeout) < 0 && errno != EINTR) {
			log_msg(LOG_ERROR, "poll: %s", strerror(errno));
			status = 1;
			break;
		}
		engine_ack(e);
		emptied = drain(e, store, &bs);
		if (out_write(&bs))
			goto out; /* standard output closed (a pipe to head): stop quietly */
		if (emptied && !out_pending(&bs) && engine_done(e))
			break; /* a replay has delivered everything */
	}
	/* The engine thread drains the kernel's buffers as it stops; print that too,
	 * then what the decoders of connections still open hold (a replay closes them
	 * at the end of the file, not at the current time), then the stats. After a
	 * stop request a reader that does not read gets STOP_GRACE_MS. */
	engine_stop(e);
	for (;;) {
		/* A reader that has taken nothing for a second gets no grace. */
		if (batch_stop_requested && !deadline)
			deadline = now_s() - bs.progress > 1.0 ? now_s()
							       : now_s() + STOP_GRACE_MS / 1000.0;
		if (!closed) {
			emptied = drain(e, store, &bs);
			if (emptied) {
				store_close_all(store, engine_is_replay(e)
							   ? bs.last_ts
							   : (uint64_t)time(NULL) * 1000000000ULL);
				closed = true;
			}
		}
		if (closed && !stats) {
			engine_stats(e, &st);
			batch_format_stats(&bs.out, &st, o->json);
			stats = true;
		}
		if (out_write(&bs))
			goto out;
		if (stats && !out_pending(&bs))
			break;
		if (deadline && now_s() >= deadline)
			break;
		out_wait(&bs, 50);
	}
	if (out_pending(&bs) || !stats) {
		/* Standard output is stuck: what it did not take is counted, the events
		 * still queued are still recorded (-w), and the stats go to stderr. */
		unwritten = out_pending(&bs);
		while ((ev = engine_pop(e))) {
			unprinted++;
			free(ev);
		}
		engine_stats(e, &st);
		log_msg(LOG_WARN,
			"standard output is not being read: %zu bytes of output and %llu queued "
			"events not printed",
			unwritten, (unsigned long long)unprinted);
		batch_print_stats(stderr, &st, o->json);
	}
out:
	store_free(store);
	out_close(&bs);
	if (stop_fd >= 0) {
		int fd = stop_fd;

		stop_fd = -1;
		close(fd);
	}
	if (engine_error(e))
		status = 1; /* logged where it happened */
	return status;
}
