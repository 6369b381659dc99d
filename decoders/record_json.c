// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "record_json.h"

#include <inttypes.h>
#include <string.h>

static void key_str(struct strbuf *sb, const char *key, const char *val)
{
	sb_json_key(sb, key);
	sb_json_cstr(sb, val);
}

static void key_i64(struct strbuf *sb, const char *key, int64_t v)
{
	sb_json_key(sb, key);
	sb_printf(sb, "%" PRId64, v);
}

static void key_u64(struct strbuf *sb, const char *key, uint64_t v)
{
	sb_json_key(sb, key);
	sb_printf(sb, "%" PRIu64, v);
}

/* [[name,value],...]: an array of pairs keeps order and repeated names. */
static void key_headers(struct strbuf *sb, const char *key, const struct dec_header *h, size_t n)
{
	size_t i;

	sb_json_key(sb, key);
	sb_puts(sb, "[");
	for (i = 0; h && i < n; i++) {
		if (i)
			sb_puts(sb, ",");
		sb_puts(sb, "[");
		sb_json_cstr(sb, h[i].name);
		sb_puts(sb, ",");
		sb_json_cstr(sb, h[i].value);
		sb_puts(sb, "]");
	}
	sb_puts(sb, "]");
}

static void key_body(struct strbuf *sb, const char *key, const uint8_t *b, size_t len)
{
	sb_json_key(sb, key);
	if (!b)
		sb_puts(sb, len ? "null" : "\"\"");
	else
		sb_json_str(sb, (const char *)b, len);
}

static void http_json(struct strbuf *sb, const struct dec_record *r)
{
	const struct dec_http *h = &r->http;

	key_str(sb, "type", "http");
	key_str(sb, "version", h->version);
	/* Only where it differs from the request's, as an HTTP/1.0 server answering
	 * HTTP/1.1 does. */
	if (h->resp_version[0] && (!h->version || strcmp(h->resp_version, h->version)))
		key_str(sb, "resp_version", h->resp_version);
	key_str(sb, "method", h->method);
	key_str(sb, "path", h->path);
	key_str(sb, "host", h->host);
	key_i64(sb, "status", h->status);
	key_str(sb, "reason", h->reason);
	if (r->proto == DEC_P_HTTP2)
		key_u64(sb, "stream_id", h->stream_id);
	key_u64(sb, "latency_us", r->latency_us);
	key_u64(sb, "req_bytes", h->req_bytes);
	key_u64(sb, "resp_bytes", h->resp_bytes);
	key_headers(sb, "req_headers", h->req_headers, h->n_req_headers);
	key_headers(sb, "resp_headers", h->resp_headers, h->n_resp_headers);
	key_body(sb, "req_body", h->req_body, h->req_body_len);
	key_body(sb, "resp_body", h->resp_body, h->resp_body_len);
	if (h->req_body_truncated) {
		sb_json_key(sb, "req_body_truncated");
		sb_puts(sb, "true");
	}
	if (h->resp_body_truncated) {
		sb_json_key(sb, "resp_body_truncated");
		sb_puts(sb, "true");
	}
}

static void mysql_json(struct strbuf *sb, const struct dec_record *r)
{
	const struct dec_mysql *m = &r->mysql;

	key_str(sb, "type", "mysql");
	key_str(sb, "command", m->command);
	key_str(sb, "query", m->query);
	key_i64(sb, "rows", m->rows);
	key_i64(sb, "columns", m->columns);
	key_str(sb, "error", m->error);
	key_i64(sb, "error_code", m->error_code);
	key_str(sb, "sqlstate", m->sqlstate);
	key_str(sb, "user", m->user);
	key_str(sb, "database", m->database);
	key_u64(sb, "latency_us", r->latency_us);
	key_u64(sb, "req_bytes", m->req_bytes);
	key_u64(sb, "resp_bytes", m->resp_bytes);
	if (m->result)
		key_str(sb, "result", m->result);
}

static void pgsql_json(struct strbuf *sb, const struct dec_record *r)
{
	const struct dec_pgsql *p = &r->pgsql;

	key_str(sb, "type", "pgsql");
	key_str(sb, "query", p->query);
	key_str(sb, "tag", p->tag);
	key_i64(sb, "rows", p->rows);
	key_str(sb, "error", p->error);
	key_str(sb, "sqlstate", p->sqlstate);
	key_str(sb, "user", p->user);
	key_str(sb, "database", p->database);
	key_u64(sb, "latency_us", r->latency_us);
	key_u64(sb, "req_bytes", p->req_bytes);
	key_u64(sb, "resp_bytes", p->resp_bytes);
	if (p->result)
		key_str(sb, "result", p->result);
}

void dec_record_json(struct strbuf *sb, const struct dec_record *r)
{
	switch (r->type) {
	case DEC_R_HTTP:
		http_json(sb, r);
		break;
	case DEC_R_MYSQL:
		mysql_json(sb, r);
		break;
	case DEC_R_PGSQL:
		pgsql_json(sb, r);
		break;
	case DEC_R_NOTE:
		key_str(sb, "type", "note");
		key_str(sb, "proto", dec_proto_name(r->proto));
		key_str(sb, "text", r->note.text);
		break;
	case DEC_R_FRAMES:
		key_str(sb, "type", "frames");
		key_str(sb, "proto", dec_proto_name(r->proto));
		key_str(sb, "from", r->frames.dir == DEC_DIR_REQ ? "client" : "server");
		key_u64(sb, "count", r->frames.count);
		key_str(sb, "text", r->frames.text);
		break;
	default:
		key_str(sb, "type", "unknown");
		key_i64(sb, "record_type", (int64_t)r->type);
		break;
	}
}
