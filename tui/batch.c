// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "tui/batch.h"
#include "tui/stop.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "decoders/json.h"
#include "decoders/record_json.h"
#include "tui/session/map.h"
#include "tui/session/store.h"
#include "engine/log.h"
#include "engine/file/record.h"

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
	case EC_K_PACKET: {
		char ifname[IF_NAMESIZE] = "";

		if (h->call_id <= UINT32_MAX)
			if_indextoname((unsigned)h->call_id, ifname);
		sb_json_key(sb, "iface");
		sb_json_cstr(sb, ifname);
		sb_json_key(sb, "dir");
		sb_json_cstr(sb, ec_dir_name(h->dir));
		sb_json_key(sb, "family");
		sb_json_cstr(sb, family_name(h->family));
		sb_json_key(sb, "laddr");
		sb_json_cstr(sb, ec_addr_str(h->family, h->laddr, addr, sizeof(addr)));
		sb_printf(sb, ",\"lport\":%u", h->lport);
		sb_json_key(sb, "raddr");
		sb_json_cstr(sb, ec_addr_str(h->family, h->raddr, addr, sizeof(addr)));
		sb_printf(sb, ",\"rport\":%u,\"wire_len\":%u,\"sock_ino\":%llu,\"attributed\":%s",
			  h->rport, h->aux, (unsigned long long)h->conn_id,
			  h->flags & EC_F_NO_SOCKET ? "false" : "true");
		sb_json_key(sb, "comment");
		sb_json_str(sb, (const char *)ev->data, h->len);
		break;
	}
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
	case EC_K_PACKET: {
		char line[256];
		const char *why = memchr(ev->data, '(', h->len);

		sb_printf(sb, " packet %s", ec_packet_summary(ev, line, sizeof(line)));
		/* An unattributed packet's comment starts "PID: unknown (why)". */
		if ((h->flags & EC_F_NO_SOCKET) && why) {
			const char *end =
			    memchr(why, '\n', h->len - (size_t)(why - (const char *)ev->data));

			if (end)
				sb_printf(sb, " %.*s", (int)(end - why), why);
		}
		sb_puts(sb, "\n");
		break;
	}
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
		    (unsigned long long)st->lost.reserve, (unsigned long long)st->lost.perf,
		    (unsigned long long)st->lost.queue, (unsigned long long)st->lost.read,
		    (unsigned long long)st->lost.trunc, (unsigned long long)st->lost.malformed,
		    (unsigned long long)st->lost.alloc, (unsigned long long)st->lost.map);
	} else {
		sb_printf(
		    sb, "--- ecaptop stats: %llu events, %llu bytes (%s); lost: buffer full %llu, ",
		    (unsigned long long)st->events, (unsigned long long)st->bytes,
		    st->ringbuf ? "ring buffer" : "perf buffer",
		    (unsigned long long)st->lost.reserve);
		if (st->lost.perf)
			sb_printf(sb, "perf lost %llu, ", (unsigned long long)st->lost.perf);
		sb_printf(sb,
			  "queue full %llu, read fault %llu, truncated %llu, malformed %llu, "
			  "alloc %llu, map full %llu\n",
			  (unsigned long long)st->lost.queue, (unsigned long long)st->lost.read,
			  (unsigned long long)st->lost.trunc,
			  (unsigned long long)st->lost.malformed,
			  (unsigned long long)st->lost.alloc, (unsigned long long)st->lost.map);
	}
}

/* --packets: what the classifiers saw, kept, and could not deliver. */
static void format_packet_stats(struct strbuf *sb, struct engine *e, bool json)
{
	struct engine_packet_stats p;

	engine_packet_stats(e, &p);
	if (!p.on)
		return;
	sb_printf(sb,
		  json ? "{\"type\":\"packet_stats\",\"seen\":%llu,\"written\":%llu,"
			 "\"unattributed\":%llu,\"secrets\":%llu,\"lost\":{\"ring_reserve\":%llu,"
			 "\"read_fault\":%llu,\"user\":%llu},\"filtered\":{\"kernel\":%llu,"
			 "\"pcap\":%llu},\"truncated\":%llu}\n"
		       : "--- packets: %llu seen, %llu written, %llu without a process, %llu "
			 "TLS secrets; lost: buffer full %llu, read fault %llu, user space "
			 "%llu; filtered: pid/uid/cgroup %llu, pcap %llu; truncated %llu\n",
		  (unsigned long long)p.seen, (unsigned long long)p.written,
		  (unsigned long long)p.unattributed, (unsigned long long)p.secrets,
		  (unsigned long long)p.lost_kernel, (unsigned long long)p.lost_read,
		  (unsigned long long)p.lost_user, (unsigned long long)p.filtered_kernel,
		  (unsigned long long)p.filtered_pcap, (unsigned long long)p.truncated);
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
	case DEC_R_FRAMES: /* batch mode does not ask for them (store.c) */
		sb_printf(sb, "frames: %s", r->frames.text ?: "");
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
	struct store *st;  /* the process table, for exits */
	int write_error;   /* standard output was closed or failed */
	uint64_t last_ts;  /* the newest event's time */
	struct strbuf out; /* formatted output; out.buf[done..len) is not yet written */
	size_t done;
	double progress; /* when standard output last took bytes (or had none waiting) */
	bool nonblock;	 /* we made standard output non-blocking (a pipe or socket) */
	int saved_flags; /* its flags before */
	/* JSON: (pid, 0) -> the start of the process that last had a "process" line
	 * (1 if unknown): a new process with that pid differs. Bounded by the pids. */
	struct map announced;
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

/* JSON: before the first line of a process (pid and start: a reused pid is another
 * process), one "process" line says what it runs, where and since when; again after
 * it execs. */
static void json_announce(struct batch_sink *bs, const struct store_proc *p)
{
	struct strbuf *sb = &bs->out;
	char comm[EC_COMM_LEN + 1];

	void *mark = (void *)(uintptr_t)(p && p->start_ns ? p->start_ns : 1);

	if (!p || map_get(&bs->announced, p->pid, 0) == mark)
		return;
	if (map_put(&bs->announced, p->pid, 0, mark))
		return; /* out of memory: the process is announced again later */
	memcpy(comm, p->comm, EC_COMM_LEN);
	comm[EC_COMM_LEN] = '\0';
	sb_printf(sb, "{\"type\":\"process\",\"pid\":%u,\"ppid\":%u,\"uid\":%u", p->pid, p->ppid,
		  p->uid);
	sb_json_key(sb, "comm");
	sb_json_cstr(sb, comm);
	sb_json_key(sb, "cmdline");
	sb_json_cstr(sb, p->cmdline);
	sb_printf(sb, ",\"forked\":%s", p->forked ? "true" : "false");
	sb_json_key(sb, "cgroup");
	sb_json_cstr(sb, p->cgroup);
	if (p->start_ns)
		sb_printf(sb, ",\"start_ns\":%llu", (unsigned long long)p->start_ns);
	sb_printf(sb, ",\"ts_ns\":%llu}\n", (unsigned long long)p->first_ns);
}

/* JSON: the process's cgroup and start in the line written since mark ("...}\n"). */
static void json_proc_fields(struct strbuf *sb, size_t mark, const struct store_proc *p)
{
	if (!p || sb->failed || sb->len < mark + 2 || memcmp(sb->buf + sb->len - 2, "}\n", 2))
		return;
	sb->len -= 2;
	if (p->cgroup) {
		sb_json_key(sb, "cgroup");
		sb_json_cstr(sb, p->cgroup);
	}
	if (p->start_ns)
		sb_printf(sb, ",\"proc_start_ns\":%llu", (unsigned long long)p->start_ns);
	sb_puts(sb, "}\n");
}

/* A process that had traffic or commands exited: one line with its command
 * line and exit code, as the process table knows them (the same from a live
 * capture and from its replay). Called before the store marks it exited. */
static void exit_line(struct batch_sink *bs, const struct ec_event *ev)
{
	const struct ec_rec_hdr *h = &ev->h;
	struct store_proc *p = bs->st ? store_proc_get(bs->st, h->pid) : NULL;
	struct strbuf *sb = &bs->out;
	char comm[EC_COMM_LEN + 1];
	size_t mark = sb->len;

	if (!p || !(p->bytes_sent || p->bytes_recv || p->commands) ||
	    !pass_user_filter(bs->o->filter, ev))
		return;
	if (!bs->o->json) {
		batch_format_event(sb, ev, false);
		if (p->cmdline) {
			const char *c;

			sb_puts(sb, "    ");
			/* no terminal control bytes from a process's arguments */
			for (c = p->cmdline; *c; c++)
				sb_append(sb, (unsigned char)*c < 0x20 || *c == 0x7f ? "?" : c, 1);
			sb_puts(sb, "\n");
		}
		return;
	}
	memcpy(comm, h->comm, EC_COMM_LEN);
	comm[EC_COMM_LEN] = '\0';
	sb_printf(sb, "{\"type\":\"exit\",\"ts_ns\":%llu,\"pid\":%u,\"ppid\":%u,\"uid\":%u",
		  (unsigned long long)h->ts_ns, h->pid, p->ppid, h->uid);
	sb_json_key(sb, "comm");
	sb_json_cstr(sb, comm);
	sb_json_key(sb, "cmdline");
	sb_json_cstr(sb, p->cmdline);
	sb_printf(sb, ",\"exit_code\":%u,\"exited\":true}\n", h->aux);
	json_proc_fields(sb, mark, p);
}

static void sink_event(const struct ec_event *ev, const struct store_conn *c, void *arg)
{
	struct batch_sink *bs = arg;
	size_t mark = bs->out.len;
	struct store_proc *p;

	/* exec/exit feed the store's process table; in batch output they would drown
	 * the traffic, so only the kinds that carry content print (JSON: a "process"
	 * line before a process's first), and the exit of a process that had some.
	 * Ciphertext the kernel side could not recognise is recognised here and not
	 * shown. */
	if (ev->h.kind == EC_K_EXIT) {
		exit_line(bs, ev);
		out_check(bs, mark);
		return;
	}
	if (ev->h.kind == EC_K_EXEC) {
		/* A new program: its next line says so. (After an exit, the records its
		 * connections flush still belong to it.) */
		map_del(&bs->announced, ev->h.pid, 0);
		return;
	}
	if (c && c->proto == DEC_P_TLS)
		return;
	if (ev->h.kind != EC_K_DATA && !pass_user_filter(bs->o->filter, ev))
		return;
	p = bs->o->json ? store_proc_get(bs->st, ev->h.pid) : NULL;
	if (p)
		json_announce(bs, p);
	mark = bs->out.len;
	batch_format_event(&bs->out, ev, bs->o->json);
	json_proc_fields(&bs->out, mark, p);
	out_check(bs, mark);
}

static void sink_record(const struct dec_record *r, const struct store_conn *c, void *arg)
{
	struct batch_sink *bs = arg;
	size_t mark = bs->out.len;
	struct store_proc *p = bs->o->json && c ? store_proc_get(bs->st, c->pid) : NULL;

	if (bs->o->json) {
		json_announce(bs, p);
		mark = bs->out.len;
		json_record(&bs->out, r, c);
		json_proc_fields(&bs->out, mark, p);
	} else {
		text_record(&bs->out, r, c);
	}
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
		recorder_feed(bs->o->rec, ev);
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
	bs.st = store;
	out_open(&bs);
	bs.progress = now_s();

	while (!stop_requested) {
		struct pollfd pfd[3] = {
		    {.fd = out_pending(&bs) < OUT_MAX ? engine_wait_fd(e) : -1, .events = POLLIN},
		    {.fd = out_pending(&bs) && bs.nonblock ? STDOUT_FILENO : -1, .events = POLLOUT},
		    {.fd = stop_fd(), .events = POLLIN}};
		/* No timer while nothing comes (engine_wait_ms): a stop interrupts the
		 * poll (stop.h). A recording still ticks (recorder_tick). */
		int timeout = stop_fd() >= 0 ? engine_wait_ms(e) : 200;

		if (o->rec && (timeout < 0 || timeout > 200))
			timeout = 200;

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
		recorder_tick(o->rec);
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
		if (stop_requested && !deadline)
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
			format_packet_stats(&bs.out, e, o->json);
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
			recorder_feed(o->rec, ev);
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
	map_free(&bs.announced);
	out_close(&bs);
	if (engine_error(e))
		status = 1; /* logged where it happened */
	return status;
}
