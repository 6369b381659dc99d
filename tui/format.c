// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Text formatting for the panels: see format.h. */
#include "tui/format.h"

#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static bool utf8;

void fmt_set_utf8(bool on)
{
	utf8 = on;
}

const char *fmt_arrow(void)
{
	return utf8 ? "\xe2\x86\x92" : "->";
}

char *fmt_bytes(uint64_t n, char *buf, size_t len)
{
	static const char units[] = "KMGTPE";
	double v = (double)n;
	int u = -1;

	if (n < 1000) {
		snprintf(buf, len, "%llu", (unsigned long long)n);
		return buf;
	}
	while (v >= 1000 && u < 5) {
		v /= 1024;
		u++;
	}
	snprintf(buf, len, v < 10 ? "%.1f%c" : "%.0f%c", v, units[u]);
	return buf;
}

char *fmt_clock(uint64_t ts_ns, char *buf, size_t len)
{
	time_t t = (time_t)(ts_ns / 1000000000ull);
	struct tm tm;

	if (!ts_ns || !localtime_r(&t, &tm)) {
		snprintf(buf, len, "--:--:--.---");
		return buf;
	}
	snprintf(buf, len, "%02d:%02d:%02d.%03u", tm.tm_hour, tm.tm_min, tm.tm_sec,
		 (unsigned)(ts_ns / 1000000ull % 1000));
	return buf;
}

char *fmt_age(uint64_t ts_ns, uint64_t now_ns, char *buf, size_t len)
{
	uint64_t s;

	if (!ts_ns) {
		snprintf(buf, len, "-");
		return buf;
	}
	s = now_ns > ts_ns ? (now_ns - ts_ns) / 1000000000ull : 0;
	if (s < 60)
		snprintf(buf, len, "%llus", (unsigned long long)s);
	else if (s < 3600)
		snprintf(buf, len, "%llum", (unsigned long long)(s / 60));
	else if (s < 86400)
		snprintf(buf, len, "%lluh", (unsigned long long)(s / 3600));
	else
		snprintf(buf, len, "%llud", (unsigned long long)(s / 86400));
	return buf;
}

char *fmt_duration(uint64_t ns, char *buf, size_t len)
{
	const char *us = utf8 ? "\xc2\xb5s" : "us";

	if (ns < 1000)
		snprintf(buf, len, "%llu ns", (unsigned long long)ns);
	else if (ns < 1000000)
		snprintf(buf, len, "%llu %s", (unsigned long long)((ns + 500) / 1000), us);
	else if (ns < 10000000)
		snprintf(buf, len, "%.2f ms", (double)ns / 1e6);
	else if (ns < 1000000000)
		snprintf(buf, len, "%llu ms", (unsigned long long)((ns + 500000) / 1000000));
	else if (ns < 60000000000ull)
		snprintf(buf, len, "%.2f s", (double)ns / 1e9);
	else
		snprintf(buf, len, "%llum%02llus", (unsigned long long)(ns / 60000000000ull),
			 (unsigned long long)(ns / 1000000000ull % 60));
	return buf;
}

const char *fmt_user(uint32_t uid)
{
	static struct {
		uint32_t uid;
		char name[16];
		bool used;
	} cache[64];
	static char buf[16];
	struct passwd pw, *res = NULL;
	char pwbuf[1024];
	size_t i = uid % 64;

	if (cache[i].used && cache[i].uid == uid)
		return cache[i].name;
	if (!getpwuid_r(uid, &pw, pwbuf, sizeof(pwbuf), &res) && res)
		snprintf(cache[i].name, sizeof(cache[i].name), "%s", res->pw_name);
	else
		snprintf(cache[i].name, sizeof(cache[i].name), "%u", uid);
	cache[i].uid = uid;
	cache[i].used = true;
	snprintf(buf, sizeof(buf), "%s", cache[i].name);
	return buf;
}

const char *fmt_proto_conn(const struct store_conn *c)
{
	if (c->proto != DEC_P_UNKNOWN)
		return dec_proto_name(c->proto);
	return ec_source_name(c->source);
}

const char *fmt_proto_item(const struct store_item *it)
{
	if (it->rec)
		return dec_proto_name(it->rec->proto);
	switch (it->ev->h.kind) {
	case EC_K_EXEC:
		return it->ev->h.flags & EC_F_FORK    ? "fork"
		       : it->ev->h.flags & EC_F_MOVED ? "cgroup"
						      : "exec";
	case EC_K_EXIT:
		return "exit";
	case EC_K_PACKET:
		return "packet";
	case EC_K_DATA:
		if (it->proto != DEC_P_UNKNOWN)
			return dec_proto_name(it->proto);
		break;
	default:
		break;
	}
	return ec_source_name(it->ev->h.source);
}

void fmt_printable(struct strbuf *sb, const void *s, size_t len)
{
	const unsigned char *p = s;
	size_t i = 0;

	while (i < len) {
		unsigned char c = p[i];
		size_t n = 0, k;

		if (c >= 0x20 && c < 0x7f) {
			sb_append(sb, &p[i++], 1);
			continue;
		}
		if (c < 0x80) {
			sb_append(sb, c == '\t' ? " " : ".", 1);
			i++;
			continue;
		}
		/* a whole, valid UTF-8 sequence (RFC 3629 section 4), else '?' */
		if (c >= 0xc2 && c <= 0xdf)
			n = 2;
		else if (c >= 0xe0 && c <= 0xef)
			n = 3;
		else if (c >= 0xf0 && c <= 0xf4)
			n = 4;
		for (k = 1; n && k < n; k++)
			if (i + k >= len || (p[i + k] & 0xc0) != 0x80)
				n = 0;
		/* C1 controls (U+0080..U+009F) are escape sequences to some terminals */
		if (n == 2 && c == 0xc2 && p[i + 1] < 0xa0)
			n = 0;
		if (n && utf8) {
			sb_append(sb, &p[i], n);
			i += n;
		} else {
			sb_append(sb, "?", 1);
			i += n ? n : 1;
		}
	}
}

char *fmt_endpoint(const char *addr, uint16_t port, char *buf, size_t len)
{
	if (!addr[0])
		snprintf(buf, len, "?:%u", port);
	else if (strchr(addr, ':'))
		snprintf(buf, len, "[%s]:%u", addr, port);
	else
		snprintf(buf, len, "%s:%u", addr, port);
	return buf;
}

/* The first line of s, at most max bytes, made printable. */
static void first_line(struct strbuf *sb, const void *s, size_t len, size_t max)
{
	const char *p = s, *nl = memchr(p, '\n', len);
	size_t n = nl ? (size_t)(nl - p) : len;

	if (n && p[n - 1] == '\r')
		n--;
	if (n > max)
		n = max;
	fmt_printable(sb, p, n);
}

void fmt_summary(const struct store_item *it, struct strbuf *sb)
{
	char lat[32];
	const struct dec_record *r = it->rec;
	const char *arrow = fmt_arrow();

	if (r) {
		switch (r->type) {
		case DEC_R_HTTP:
			if (r->http.method) {
				first_line(sb, r->http.method, strlen(r->http.method), 16);
				sb_puts(sb, " ");
				if (r->http.path)
					first_line(sb, r->http.path, strlen(r->http.path), 200);
			}
			sb_printf(sb, " %s ", arrow);
			if (r->http.status)
				sb_printf(sb, "%d", r->http.status);
			else
				sb_puts(sb, "...");
			if (r->latency_us)
				sb_printf(sb, " %s",
					  fmt_duration(r->latency_us * 1000, lat, sizeof(lat)));
			if (r->http.resp_bytes)
				sb_printf(sb, " %llu B", (unsigned long long)r->http.resp_bytes);
			break;
		case DEC_R_MYSQL:
		case DEC_R_PGSQL: {
			const char *q = r->type == DEC_R_MYSQL ? r->mysql.query : r->pgsql.query;
			const char *err = r->type == DEC_R_MYSQL ? r->mysql.error : r->pgsql.error;
			int64_t rows = r->type == DEC_R_MYSQL ? r->mysql.rows : r->pgsql.rows;

			if (q)
				first_line(sb, q, strlen(q), 200);
			else if (r->type == DEC_R_MYSQL && r->mysql.command)
				sb_puts(sb, r->mysql.command);
			sb_printf(sb, " %s ", arrow);
			if (err) {
				sb_puts(sb, "ERROR ");
				first_line(sb, err, strlen(err), 120);
			} else if (rows >= 0) {
				sb_printf(sb, "%lld row%s", (long long)rows, rows == 1 ? "" : "s");
			} else if (r->type == DEC_R_PGSQL && r->pgsql.tag) {
				sb_puts(sb, r->pgsql.tag);
			} else {
				sb_puts(sb, "ok");
			}
			if (r->latency_us)
				sb_printf(sb, " %s",
					  fmt_duration(r->latency_us * 1000, lat, sizeof(lat)));
			break;
		}
		case DEC_R_NOTE:
			sb_puts(sb, "note: ");
			if (r->note.text)
				first_line(sb, r->note.text, strlen(r->note.text), 200);
			break;
		case DEC_R_FRAMES:
			sb_puts(sb, r->frames.dir == DEC_DIR_REQ ? "client: " : "server: ");
			if (r->frames.text)
				first_line(sb, r->frames.text, strlen(r->frames.text), 200);
			break;
		}
		return;
	}
	switch (it->ev->h.kind) {
	case EC_K_EXEC: {
		struct strbuf t = STRBUF_INIT;

		if (it->ev->h.flags & EC_F_FORK) {
			sb_printf(sb, "fork of %u", it->ev->h.aux);
			break;
		}
		if (it->ev->h.flags & EC_F_MOVED) {
			sb_puts(sb, "moved to cgroup ");
			sb_append(sb, it->ev->data, it->ev->h.len);
			break;
		}
		store_item_text(it, &t);
		sb_puts(sb, "exec: ");
		if (t.buf)
			first_line(sb, t.buf, t.len, 200);
		sb_free(&t);
		break;
	}
	case EC_K_EXIT:
		sb_printf(sb, "exit %u", it->ev->h.aux);
		break;
	case EC_K_COMMAND:
		sb_printf(sb, "%s: ", ec_source_name(it->ev->h.source));
		first_line(sb, it->ev->data, it->ev->h.len, 200);
		if (it->ev->h.aux)
			sb_printf(sb, "  [exit %u]", it->ev->h.aux - 1);
		break;
	case EC_K_QUERY:
		sb_printf(sb, "%s: ", ec_source_name(it->ev->h.source));
		first_line(sb, it->ev->data, it->ev->h.len, 200);
		break;
	case EC_K_DATA:
		sb_printf(sb, "%s %u bytes  ", ec_dir_name(it->ev->h.dir), it->ev->h.len);
		first_line(sb, it->ev->data, it->ev->h.len, 60);
		break;
	case EC_K_PACKET: {
		char line[256];

		sb_printf(sb, "packet %s", ec_packet_summary(it->ev, line, sizeof(line)));
		break;
	}
	default:
		sb_printf(sb, "%s", ec_kind_name(it->ev->h.kind));
	}
}
