// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * PostgreSQL frontend/backend protocol v3 decoder. See pgsql.h for what it
 * does; section names below are those of the PostgreSQL documentation chapter
 * "Frontend/Backend Protocol".
 */
#include "pgsql.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/cursor.h"
#include "util/notes.h"
#include "util/result.h"
#include "util/text.h"

/* "Message Formats": request codes of the untyped start-up messages. */
#define PG_PROTO_3 196608u /* 3.0; minor versions keep the major 3 in the high half */
#define PG_CANCEL  80877102u
#define PG_SSL	   80877103u
#define PG_GSSENC  80877104u
/* The server refuses start-up packets longer than this (MAX_STARTUP_PACKET_LENGTH). */
#define PG_STARTUP_MAX 10000u
/* The server's own limit on a message (MaxAllocSize, 1 GB). */
#define PG_LEN_MAX 0x3fffffffu
/* While resynchronising, longer messages are not believed. */
#define PG_RESYNC_LEN_MAX   (16u * 1024 * 1024)
#define PG_NOTES_MAX	    16
#define PG_NAMES_TEXT_TOTAL (4u * 1024 * 1024)

enum pg_state {
	PG_S_INIT,    /* nothing decisive seen yet */
	PG_S_STARTUP, /* start-up phase: untyped client messages */
	PG_S_READY,   /* typed messages both ways */
};

/* One message assembly per direction. */
struct pg_asm {
	uint8_t hdr[5];
	unsigned hdr_have;
	int in_body;
	uint32_t left; /* body bytes still to come */
	uint8_t type;  /* 0: an untyped start-up message */
	int keep;      /* keep body bytes (not for DataRow / CopyData) */
	uint8_t *msg;  /* first bytes of the body, at most PGSQL_MSG_CAP; owned */
	size_t msg_len, msg_cap;
	uint64_t total;
	int damaged;
	uint64_t ts_first;
};

/* A client message waiting for the server's answer. */
struct pg_item {
	char kind;  /* 'Q' 'F' 'P' 'B' 'D' 'E' 'C' 'S', or 'L' for the start-up */
	char *text; /* statement text (Q, P, B, E); owned */
	uint64_t req_ts, resp_ts;
	int64_t tag_rows; /* sum of counts from tags, -1 none */
	int64_t data_rows, copy_msgs;
	int saw_rows;		/* RowDescription or DataRow seen */
	char *tag;		/* owned; tags joined by "; " */
	char *error, *sqlstate; /* owned */
	uint64_t req_bytes, resp_bytes;
	int rsets;	       /* RowDescriptions seen */
	struct dec_result res; /* the first result set's names and first rows */
};

struct pg_name {
	char *name, *text; /* owned */
	size_t len;
	uint64_t age;
};

struct pg_names {
	struct pg_name v[PGSQL_NAMES_MAX];
	unsigned n;
	size_t bytes;
	uint64_t age;
};

struct pgsql {
	dec_emit_fn emit;
	void *arg;
	struct pg_asm as[2];
	uint64_t last_ts[2];
	enum pg_state state;
	int tls, dead, closed, joined_noted, startup_seen;
	int req_lost;	     /* the client direction lost its framing: scan writes */
	int resp_lost;	     /* the server direction lost its framing: scan writes */
	int resp_wait_z;     /* skip server messages up to the next ReadyForQuery */
	int resp_single;     /* the server's one-byte answer to SSL/GSSENC request is next */
	int req_msgs;	     /* client messages seen */
	uint64_t skipped[2]; /* bytes dropped while looking for a message boundary */
	int resp_seen;	     /* server bytes seen */
	char *user, *db;     /* owned */
	struct pg_item *q;   /* ring of PGSQL_QUEUE_MAX; owned */
	unsigned q_head, q_len;
	uint64_t batch_ts; /* first extended-protocol message since the last Execute/Sync */
	int have_batch;
	uint64_t batch_bytes;	/* client bytes of the batch an Execute will report */
	struct dec_result desc; /* the names of the last Describe's RowDescription */
	struct pg_names stmts, portals;
	struct dec_notes notes;
};

/* ---- records ---- */

static void pg_note(struct pgsql *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void pg_note(struct pgsql *d, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	dec_vnote(&d->notes, d->last_ts[0] > d->last_ts[1] ? d->last_ts[0] : d->last_ts[1], fmt,
		  ap);
	va_end(ap);
}

static void pg_item_free(struct pg_item *it)
{
	dec_result_free(&it->res);
	free(it->text);
	free(it->tag);
	free(it->error);
	free(it->sqlstate);
	memset(it, 0, sizeof(*it));
}

static void pg_emit_item(struct pgsql *d, const struct pg_item *it, int complete)
{
	struct dec_record r;

	memset(&r, 0, sizeof(r));
	r.type = DEC_R_PGSQL;
	r.proto = DEC_P_PGSQL;
	r.req_ts_ns = it->req_ts;
	r.resp_ts_ns = complete ? it->resp_ts : 0;
	if (r.resp_ts_ns && r.req_ts_ns && r.resp_ts_ns >= r.req_ts_ns)
		r.latency_us = (r.resp_ts_ns - r.req_ts_ns) / 1000;
	r.pgsql.query = it->text;
	r.pgsql.tag = it->tag;
	r.pgsql.rows = -1;
	if (!complete)
		; /* counts of an unfinished answer would mislead */
	else if (it->tag_rows >= 0)
		r.pgsql.rows = it->tag_rows;
	else if (it->saw_rows)
		r.pgsql.rows = it->data_rows;
	else if (it->copy_msgs)
		r.pgsql.rows = it->copy_msgs;
	r.pgsql.error = it->error;
	r.pgsql.sqlstate = it->sqlstate;
	r.pgsql.user = d->user;
	r.pgsql.database = d->db;
	r.pgsql.result = dec_result_text(&it->res);
	r.pgsql.req_bytes = it->req_bytes;
	r.pgsql.resp_bytes = it->resp_bytes;
	d->emit(&r, d->arg);
}

static struct pg_item *pg_head(struct pgsql *d)
{
	return d->q_len ? &d->q[d->q_head] : NULL;
}

static struct pg_item *pg_at(struct pgsql *d, unsigned i)
{
	return &d->q[(d->q_head + i) % PGSQL_QUEUE_MAX];
}

static void pg_pop(struct pgsql *d)
{
	pg_item_free(&d->q[d->q_head]);
	d->q_head = (d->q_head + 1) % PGSQL_QUEUE_MAX;
	d->q_len--;
}

/* Items that make records: queries, executes, function calls. */
static int pg_reports(const struct pg_item *it)
{
	return it->kind == 'Q' || it->kind == 'E' || it->kind == 'F';
}

static void pg_flush(struct pgsql *d)
{
	struct pg_item *it;

	while ((it = pg_head(d))) {
		if (pg_reports(it))
			pg_emit_item(d, it, 0);
		pg_pop(d);
	}
	d->have_batch = 0;
}

static void pg_asm_reset(struct pg_asm *a)
{
	a->hdr_have = 0;
	a->in_body = 0;
	a->left = 0;
	a->msg_len = 0;
	a->total = 0;
	a->damaged = 0;
}

/* A direction lost its framing (or the conversation its thread). */
static void pg_lost(struct pgsql *d, enum dec_dir dir, const char *why)
{
	int pending = d->q_len > 0;

	pg_note(d, "%s; resynchronising", why);
	pg_flush(d);
	if (dir == DEC_DIR_REQ) {
		pg_asm_reset(&d->as[DEC_DIR_REQ]);
		d->req_lost = 1;
		/* Answers to what was flushed may still come: skip them. */
		if (pending || d->as[DEC_DIR_RESP].in_body)
			d->resp_wait_z = 1;
	} else {
		pg_asm_reset(&d->as[DEC_DIR_RESP]);
		d->resp_lost = 1;
		d->resp_single = 0;
	}
}

/* ---- names of statements and portals ---- */

static struct pg_name *pg_name_find(struct pg_names *t, const char *name)
{
	unsigned i;

	for (i = 0; i < t->n; i++)
		if (!strcmp(t->v[i].name, name))
			return &t->v[i];
	return NULL;
}

static void pg_name_drop(struct pg_names *t, struct pg_name *e)
{
	t->bytes -= e->len;
	free(e->name);
	free(e->text);
	*e = t->v[--t->n];
}

/* Takes name and text (either may be NULL after a failed allocation). */
static void pg_name_set(struct pg_names *t, char *name, char *text)
{
	struct pg_name *e;
	size_t len;
	unsigned i, old;

	if (!name || !text) {
		free(name);
		free(text);
		return;
	}
	e = pg_name_find(t, name);
	if (e)
		pg_name_drop(t, e);
	len = strlen(name) + strlen(text);
	while (t->n && (t->n == PGSQL_NAMES_MAX || t->bytes + len > PG_NAMES_TEXT_TOTAL)) {
		old = 0;
		for (i = 1; i < t->n; i++)
			if (t->v[i].age < t->v[old].age)
				old = i;
		pg_name_drop(t, &t->v[old]);
	}
	if (len > PG_NAMES_TEXT_TOTAL) {
		free(name);
		free(text);
		return;
	}
	e = &t->v[t->n++];
	e->name = name;
	e->text = text;
	e->len = len;
	e->age = ++t->age;
	t->bytes += len;
}

static void pg_names_free(struct pg_names *t)
{
	while (t->n)
		pg_name_drop(t, &t->v[t->n - 1]);
}

/* ---- server messages ---- */

/* "ErrorResponse" / "NoticeResponse" fields: code byte + string, ending with 0. */
static void pg_error_fields(const uint8_t *p, size_t n, char **msg, char **code, char **sev)
{
	size_t off = 0, k;

	while (off < n && p[off]) {
		uint8_t f = p[off++];

		k = dec_cstr_len(p + off, n - off);
		if (f == 'M' && msg && !*msg)
			*msg = dec_strndup(p + off, k);
		else if (f == 'C' && code && !*code)
			*code = dec_strndup(p + off, k);
		else if (f == 'V' && sev && !*sev)
			*sev = dec_strndup(p + off, k); /* non-localised severity */
		else if (f == 'S' && sev && !*sev)
			*sev = dec_strndup(p + off, k);
		off += k + 1;
	}
}

static void pg_set_error(struct pg_item *it, const uint8_t *p, size_t n)
{
	char *msg = NULL, *code = NULL;

	if (it->error)
		return; /* the first error is the one that matters */
	pg_error_fields(p, n, &msg, &code, NULL);
	it->error = msg ? msg : strdup("(ErrorResponse without a message)");
	it->sqlstate = code;
}

/* "CommandComplete": the tag, and the row count for the commands that carry one. */
static void pg_tag(struct pg_item *it, const uint8_t *p, size_t n)
{
	static const char *const counted[] = {"INSERT", "DELETE", "UPDATE", "SELECT",
					      "MOVE",	"FETCH",  "COPY",   "MERGE"};
	size_t k = dec_cstr_len(p, n), w, i, sp;
	char *tag = dec_strndup(p, k), *joined;
	uint64_t v = 0;

	if (!tag)
		return;
	if (it->tag) {
		joined = malloc(strlen(it->tag) + 2 + k + 1);
		if (joined) {
			sprintf(joined, "%s; %s", it->tag, tag);
			dec_replace(&it->tag, joined);
		}
	} else {
		it->tag = strdup(tag);
	}
	w = strcspn(tag, " ");
	for (i = 0; i < sizeof(counted) / sizeof(counted[0]); i++) {
		if (strlen(counted[i]) != w || strncmp(tag, counted[i], w))
			continue;
		sp = k;
		while (sp > w && tag[sp - 1] >= '0' && tag[sp - 1] <= '9')
			sp--;
		if (sp == k || tag[sp - 1] != ' ' || k - sp > 18)
			break;
		for (; sp < k; sp++)
			v = v * 10 + (uint64_t)(tag[sp] - '0');
		if (it->tag_rows < 0)
			it->tag_rows = 0;
		it->tag_rows += (int64_t)v;
		break;
	}
	free(tag);
}

static void pg_done(struct pgsql *d, struct pg_item *it, uint64_t ts)
{
	it->resp_ts = ts;
	if (pg_reports(it))
		pg_emit_item(d, it, 1);
	pg_pop(d);
}

/* The server skips everything up to Sync after an error in the extended
 * protocol ("Extended Query"): report it once, on the first Execute of the
 * batch if there is one, and drop the skipped items. */
static void pg_ext_error(struct pgsql *d, const uint8_t *p, size_t n, uint64_t ts)
{
	struct pg_item *it, *target = NULL;
	unsigned i;

	for (i = 0; i < d->q_len; i++) {
		it = pg_at(d, i);
		if (it->kind == 'S')
			break;
		if (it->kind == 'E') {
			target = it;
			break;
		}
	}
	if (!target)
		target = pg_head(d);
	pg_set_error(target, p, n);
	target->resp_ts = ts;
	if (target->kind != 'E' && !target->req_ts)
		target->req_ts = ts;
	pg_emit_item(d, target, 1);
	while ((it = pg_head(d)) && it->kind != 'S')
		pg_pop(d);
}

/* Messages the server may send at any time ("Asynchronous Operations"). */
static int pg_async(uint8_t type)
{
	return type == 'N' || type == 'A' || type == 'S';
}

/* "RowDescription": the field count, then per field its name and 18 bytes
 * (table oid, column, type oid, size, modifier, format). */
static void pg_row_desc(struct dec_result *res, const uint8_t *p, size_t n)
{
	size_t off = 2, k;
	int i, count = (int)cur_be16_at(p, n, 0);

	for (i = 0; i < count && off < n; i++) {
		k = dec_cstr_len(p + off, n - off);
		dec_result_field(res, p + off, k, 0);
		off += k + 1 + 18;
	}
	dec_result_names_end(res);
}

/* "DataRow": the column count, then per column a length (-1: NULL) and its
 * bytes (text format for a simple Query; binary ones show as escapes). */
static void pg_data_row(struct pg_item *it, const uint8_t *p, size_t n)
{
	size_t off = 2;
	int i, count = (int)cur_be16_at(p, n, 0);

	for (i = 0; i < count && off + 4 <= n; i++) {
		int32_t len = (int32_t)cur_be32_at(p, n, off);

		off += 4;
		if (len < 0) {
			dec_result_field(&it->res, NULL, 0, 1);
			continue;
		}
		/* a row longer than what was kept is cut */
		dec_result_field(&it->res, p + off, (size_t)len < n - off ? (size_t)len : n - off,
				 0);
		if ((size_t)len > n - off)
			break;
		off += (size_t)len;
	}
	dec_result_row_end(&it->res);
}

static void pg_resp_ready(struct pgsql *d, uint8_t type, const uint8_t *p, size_t n, uint64_t ts)
{
	struct pg_item *it = pg_head(d);
	char why[96];

	if (d->resp_wait_z) {
		if (type == 'Z')
			d->resp_wait_z = 0;
		return;
	}
	if (pg_async(type))
		return;
	if (!it) {
		if (type == 'E') {
			char *msg = NULL, *sev = NULL;

			pg_error_fields(p, n, &msg, NULL, &sev);
			pg_note(d, "server error outside a query: %s: %s", sev ? sev : "ERROR",
				msg ? msg : "");
			free(msg);
			free(sev);
		}
		/* Answers to requests not seen (the capture joined mid-connection). */
		return;
	}
	switch (it->kind) {
	case 'L': /* start-up: authentication, key data, up to ReadyForQuery */
		if (type == 'E') {
			pg_set_error(it, p, n);
			it->resp_ts = ts;
			pg_emit_item(d, it, 1);
			pg_pop(d);
		} else if (type == 'Z') {
			pg_pop(d);
		}
		return;
	case 'Q':
	case 'F':
	case 'E':
		switch (type) {
		case 'T':
			it->saw_rows = 1;
			if (++it->rsets == 1)
				pg_row_desc(&it->res, p, n);
			return;
		case 'D':
			it->saw_rows = 1;
			it->data_rows++;
			if (!it->rsets && d->desc.have_names) {
				/* an Execute's rows, described by the Describe before it */
				it->res = d->desc;
				memset(&d->desc, 0, sizeof(d->desc));
				it->rsets = 1;
			}
			if (it->rsets <= 1 && dec_result_wants_row(&it->res)) {
				if (d->as[DEC_DIR_RESP].damaged) {
					dec_result_field(&it->res, (const uint8_t *)"[bytes lost]",
							 12, 0);
					dec_result_row_end(&it->res);
				} else {
					pg_data_row(it, p, n);
				}
			}
			return;
		case 'd':
			it->copy_msgs++;
			return;
		case 'G':
		case 'H':
		case 'W':
		case 'c':
		case 'V':
		case 'n':
			return;
		case 'C':
			pg_tag(it, p, n);
			if (it->kind == 'E')
				pg_done(d, it, ts);
			return;
		case 'I':
			if (!it->tag)
				it->tag = strdup("");
			if (it->kind == 'E')
				pg_done(d, it, ts);
			return;
		case 's': /* PortalSuspended: the row limit of Execute was reached */
			if (it->kind == 'E') {
				pg_done(d, it, ts);
				return;
			}
			break;
		case 'E':
			if (it->kind == 'E') {
				pg_ext_error(d, p, n, ts);
				return;
			}
			pg_set_error(it, p, n);
			return;
		case 'Z':
			if (it->kind != 'E') {
				pg_done(d, it, ts);
				return;
			}
			break;
		}
		break;
	case 'P':
	case 'B':
	case 'C':
		if (type == 'E') {
			pg_ext_error(d, p, n, ts);
			return;
		}
		if ((it->kind == 'P' && type == '1') || (it->kind == 'B' && type == '2') ||
		    (it->kind == 'C' && type == '3')) {
			pg_pop(d);
			return;
		}
		break;
	case 'D':
		if (type == 'E') {
			pg_ext_error(d, p, n, ts);
			return;
		}
		if (type == 't')
			return;
		if (type == 'T' || type == 'n') {
			/* the names of the rows the next Execute returns */
			dec_result_free(&d->desc);
			if (type == 'T')
				pg_row_desc(&d->desc, p, n);
			pg_pop(d);
			return;
		}
		break;
	case 'S':
		if (type == 'Z') {
			pg_pop(d);
			return;
		}
		if (type == 'E') {
			/* e.g. a deferred constraint failing at the implicit commit of Sync */
			char *msg = NULL;

			pg_error_fields(p, n, &msg, NULL, NULL);
			pg_note(d, "error at Sync: %s", msg ? msg : "");
			free(msg);
			return;
		}
		break;
	}
	snprintf(why, sizeof(why), "unexpected server message '%c' for a pending '%c'",
		 type >= 0x20 && type < 0x7f ? type : '?', it->kind);
	pg_lost(d, DEC_DIR_RESP, why);
	/* the framing itself is fine: skip to the next ReadyForQuery */
	d->resp_lost = 0;
	d->resp_wait_z = type != 'Z';
}

/* ---- client messages ---- */

static struct pg_item *pg_push(struct pgsql *d, char kind, uint64_t ts)
{
	struct pg_item *it;

	if (d->q_len == PGSQL_QUEUE_MAX) {
		pg_lost(d, DEC_DIR_RESP, "too many messages waiting for an answer");
		d->resp_lost = 0;
		d->resp_wait_z = 1;
	}
	it = &d->q[(d->q_head + d->q_len++) % PGSQL_QUEUE_MAX];
	memset(it, 0, sizeof(*it));
	it->kind = kind;
	it->req_ts = ts;
	it->tag_rows = -1;
	return it;
}

/* An extended-protocol message: the batch an Execute reports starts with it. */
static uint64_t pg_batch(struct pgsql *d, uint64_t ts)
{
	if (!d->have_batch) {
		d->have_batch = 1;
		d->batch_ts = ts;
	}
	return d->batch_ts;
}

static void pg_startup(struct pgsql *d, const uint8_t *p, size_t n, uint64_t ts)
{
	struct cursor cu = cur_make(p, n);
	uint32_t code, pid;
	size_t off, k, v;
	char *user = NULL, *db = NULL;

	if (!cur_be32(&cu, &code)) {
		pg_lost(d, DEC_DIR_REQ, "short start-up message");
		return;
	}
	d->startup_seen = 1;
	if (code == PG_SSL || code == PG_GSSENC) {
		d->resp_single = 1;
		return;
	}
	if (code == PG_CANCEL) {
		cur_be32(&cu, &pid); /* 0 if short */
		pg_note(d, "CancelRequest for backend process %u", pid);
		return;
	}
	if (code >> 16 != 3) {
		pg_note(d, "unsupported protocol version %u.%u; ignoring this connection",
			code >> 16, code & 0xffff);
		d->dead = 1;
		return;
	}
	/* "StartupMessage": name/value string pairs up to an empty name. */
	off = 4;
	while (off < n && p[off]) {
		k = dec_cstr_len(p + off, n - off);
		if (off + k + 1 >= n)
			break;
		v = dec_cstr_len(p + off + k + 1, n - off - k - 1);
		if (k == 4 && !memcmp(p + off, "user", 4))
			dec_replace(&user, dec_strndup(p + off + k + 1, v));
		else if (k == 8 && !memcmp(p + off, "database", 8))
			dec_replace(&db, dec_strndup(p + off + k + 1, v));
		off += k + 1 + v + 1;
	}
	if (!db && user)
		db = strdup(user); /* "Defaults to the user name." */
	dec_replace(&d->user, user);
	dec_replace(&d->db, db);
	d->state = PG_S_READY;
	pg_push(d, 'L', ts);
}

static void pg_req_typed(struct pgsql *d, const struct pg_asm *a)
{
	const uint8_t *p = a->msg;
	size_t n = a->msg_len, k, k2;
	struct pg_item *it, *head;
	struct pg_name *e;
	char *name;

	switch (a->type) {
	case 'Q': /* "Query": the text */
		it = pg_push(d, 'Q', a->ts_first);
		it->text = dec_strndup(p, dec_cstr_len(p, n));
		it->req_bytes = 5 + a->total;
		d->have_batch = 0;
		d->batch_bytes = 0;
		break;
	case 'P': /* "Parse": statement name, text, parameter types */
		k = dec_cstr_len(p, n);
		k2 = k < n ? dec_cstr_len(p + k + 1, n - k - 1) : 0;
		it = pg_push(d, 'P', pg_batch(d, a->ts_first));
		if (k < n) {
			it->text = dec_strndup(p + k + 1, k2);
			pg_name_set(&d->stmts, dec_strndup(p, k), dec_strndup(p + k + 1, k2));
		}
		break;
	case 'B': /* "Bind": portal name, statement name, parameters */
		k = dec_cstr_len(p, n);
		k2 = k < n ? dec_cstr_len(p + k + 1, n - k - 1) : 0;
		it = pg_push(d, 'B', pg_batch(d, a->ts_first));
		name = k < n ? dec_strndup(p + k + 1, k2) : NULL;
		e = name ? pg_name_find(&d->stmts, name) : NULL;
		free(name);
		if (e) {
			it->text = strdup(e->text);
			pg_name_set(&d->portals, dec_strndup(p, k), strdup(e->text));
		} else {
			/* Unknown statement (prepared before the capture): the portal's
			 * old binding is gone all the same. */
			name = dec_strndup(p, k);
			e = name ? pg_name_find(&d->portals, name) : NULL;
			if (e)
				pg_name_drop(&d->portals, e);
			free(name);
		}
		break;
	case 'D': /* "Describe": 'S' or 'P' and a name */
		pg_push(d, 'D', pg_batch(d, a->ts_first));
		break;
	case 'E': /* "Execute": portal name, row limit */
		it = pg_push(d, 'E', pg_batch(d, a->ts_first));
		name = dec_strndup(p, dec_cstr_len(p, n));
		e = name ? pg_name_find(&d->portals, name) : NULL;
		free(name);
		if (e)
			it->text = strdup(e->text);
		it->req_bytes = d->batch_bytes;
		d->batch_bytes = 0;
		d->have_batch = 0;
		break;
	case 'C': /* "Close": 'S' or 'P' and a name */
		pg_push(d, 'C', pg_batch(d, a->ts_first));
		if (n >= 1) {
			name = dec_strndup(p + 1, dec_cstr_len(p + 1, n - 1));
			if (name && (e = pg_name_find(p[0] == 'S' ? &d->stmts : &d->portals, name)))
				pg_name_drop(p[0] == 'S' ? &d->stmts : &d->portals, e);
			free(name);
		}
		break;
	case 'S': /* "Sync" */
		pg_push(d, 'S', a->ts_first);
		d->have_batch = 0;
		d->batch_bytes = 0;
		break;
	case 'F': /* "FunctionCall": answered by FunctionCallResponse and ReadyForQuery */
		pg_push(d, 'F', a->ts_first);
		break;
	case 'd': /* "CopyData" from the client (COPY FROM STDIN) */
		head = pg_head(d);
		if (head && pg_reports(head))
			head->copy_msgs++;
		break;
	case 'H': /* Flush, CopyDone, CopyFail, password / SASL / GSS responses, Terminate */
	case 'c':
	case 'f':
	case 'p':
	case 'X':
		break;
	}
	if (a->total > a->msg_len && (a->type == 'Q' || a->type == 'P'))
		pg_note(d, "'%c' message of %llu bytes: text kept to its first %u bytes", a->type,
			(unsigned long long)a->total, (unsigned)PGSQL_MSG_CAP);
	if (a->damaged && a->type != 'd')
		pg_note(d, "'%c' message lost bytes in the middle", a->type);
}

/* ---- framing ---- */

static int pg_client_type(uint8_t t)
{
	return strchr("QPBDECSHXFdcfp", t) && t;
}

static int pg_server_type(uint8_t t)
{
	return strchr("RSKZTDCIENA123nstGHWdcVv", t) && t;
}

/* Is a typed message header plausible? Lengths the formats fix are checked. */
static int pg_len_ok(enum dec_dir dir, uint8_t t, uint32_t len, uint32_t max)
{
	if (len < 4 || len > max)
		return 0;
	if (dir == DEC_DIR_REQ) {
		if (!pg_client_type(t))
			return 0;
		switch (t) {
		case 'S':
		case 'H':
		case 'X':
		case 'c':
			return len == 4;
		case 'Q':
		case 'f':
			return len >= 5;
		case 'D':
		case 'C':
			return len >= 6;
		case 'P':
			return len >= 8;
		case 'E':
			return len >= 9;
		case 'B':
			return len >= 12;
		}
		return 1;
	}
	if (!pg_server_type(t))
		return 0;
	switch (t) {
	case '1':
	case '2':
	case '3':
	case 'n':
	case 'I':
	case 'c':
	case 's':
		return len == 4;
	case 'Z':
		return len == 5;
	case 'R':
	case 'V':
		return len >= 8;
	case 'K':
	case 'v':
		return len >= 12;
	case 'C':
	case 'E':
	case 'N':
		return len >= 5;
	case 'T':
	case 'D':
	case 'S':
	case 't':
		return len >= 6;
	case 'G':
	case 'H':
	case 'W':
		return len >= 7;
	}
	return 1;
}

static void pg_deliver(struct pgsql *d, enum dec_dir dir, struct pg_asm *a, uint64_t ts)
{
	if (dir == DEC_DIR_REQ) {
		/* The client's first message, before any server byte: the server's
		 * side starts here too (the client speaks first and then waits). */
		if (!d->req_msgs++ && !d->resp_seen && !d->req_lost)
			d->resp_lost = 0;
		if (a->type == 0) {
			pg_startup(d, a->msg, a->msg_len, a->ts_first);
			return;
		}
		d->batch_bytes += 5 + a->total;
		if (!d->startup_seen && !d->joined_noted) {
			pg_note(d,
				"no start-up seen (capture joined mid-connection); decoding from "
				"the first message");
			d->joined_noted = 1;
		}
		pg_req_typed(d, a);
		return;
	}
	if (a->type == 'Z' && (a->msg_len < 1 || !strchr("ITE", a->msg[0]) || !a->msg[0])) {
		pg_lost(d, DEC_DIR_RESP, "ReadyForQuery with a bad status");
		return;
	}
	if (pg_head(d) && !d->resp_wait_z)
		pg_head(d)->resp_bytes += 5 + a->total;
	pg_resp_ready(d, a->type, a->msg, a->msg_len, ts);
}

/* The server's answer to SSLRequest / GSSENCRequest ("SSL Session Encryption",
 * "GSSAPI Session Encryption"). Returns 1 if the byte was consumed. */
static int pg_single(struct pgsql *d, uint8_t b)
{
	d->resp_single = 0;
	switch (b) {
	case 'S':
		d->tls = 1;
		pg_note(d, "server accepted SSL; the rest of this connection is TLS (its "
			   "plaintext, if captured, arrives as a separate stream)");
		return 1;
	case 'G':
		d->tls = 1;
		pg_note(d, "server accepted GSSAPI encryption; the rest of this connection is "
			   "encrypted");
		return 1;
	case 'N':
		return 1; /* refused: the start-up goes on in plain text */
	case 'E':
		return 0; /* an old server's ErrorResponse: decoded as a message */
	}
	pg_lost(d, DEC_DIR_RESP, "bad answer to an SSL/GSSENC request");
	return 1;
}

/* Whether the next DataRow's bytes are kept: its query shows its first rows. */
static int pg_wants_row(struct pgsql *d)
{
	struct pg_item *it = pg_head(d);

	if (!it || it->rsets > 1)
		return 0;
	return dec_result_wants_row(&it->res) || (!it->rsets && d->desc.have_names);
}

static void pg_asm_feed(struct pgsql *d, enum dec_dir dir, const uint8_t *p, size_t n, uint64_t ts)
{
	struct pg_asm *a = &d->as[dir];
	unsigned need;
	uint32_t len;
	size_t take, keep;
	char why[96];

	for (;;) {
		if (d->dead || d->tls || d->closed)
			return;
		if ((dir == DEC_DIR_REQ && d->req_lost) || (dir == DEC_DIR_RESP && d->resp_lost))
			return;
		if (dir == DEC_DIR_RESP && d->resp_single && !a->in_body && !a->hdr_have) {
			if (!n)
				return;
			if (pg_single(d, *p)) {
				p++;
				n--;
			}
			continue;
		}
		if (!a->in_body) {
			/* Start-up messages have no type byte; their length's high byte is 0
			 * where a typed message starts with a letter. */
			if (dir == DEC_DIR_REQ && d->state == PG_S_INIT && !a->hdr_have && n)
				d->state = p[0] == 0 ? PG_S_STARTUP : PG_S_READY;
			need = (dir == DEC_DIR_REQ && d->state == PG_S_STARTUP) ? 4 : 5;
			while (a->hdr_have < need && n) {
				a->hdr[a->hdr_have++] = *p++;
				n--;
			}
			if (a->hdr_have < need)
				return;
			a->hdr_have = 0;
			if (need == 4) {
				a->type = 0;
				len = (uint32_t)cur_be32_at(a->hdr, sizeof(a->hdr), 0);
				if (len < 8 || len > PG_STARTUP_MAX) {
					snprintf(why, sizeof(why), "bad start-up message length %u",
						 len);
					pg_lost(d, dir, why);
					continue;
				}
			} else {
				a->type = a->hdr[0];
				len = (uint32_t)cur_be32_at(a->hdr, sizeof(a->hdr), 1);
				if (!pg_len_ok(dir, a->type, len, PG_LEN_MAX)) {
					snprintf(why, sizeof(why),
						 "bad %s message (type 0x%02x, length %u)",
						 dir == DEC_DIR_REQ ? "client" : "server", a->type,
						 len);
					pg_lost(d, dir, why);
					continue;
				}
			}
			a->left = len - 4;
			a->total = 0;
			a->msg_len = 0;
			a->damaged = 0;
			a->ts_first = ts;
			a->keep = a->type != 'd' &&
				  !(dir == DEC_DIR_RESP && a->type == 'D' && !pg_wants_row(d));
			a->in_body = 1;
		}
		take = n < a->left ? n : a->left;
		keep = a->keep && a->msg_len < PGSQL_MSG_CAP ? PGSQL_MSG_CAP - a->msg_len : 0;
		if (keep > take)
			keep = take;
		if (keep && a->msg_len + keep > a->msg_cap) {
			size_t cap = a->msg_cap ? a->msg_cap : 256;
			uint8_t *m;

			while (cap < a->msg_len + keep)
				cap *= 2;
			if (cap > PGSQL_MSG_CAP)
				cap = PGSQL_MSG_CAP;
			m = realloc(a->msg, cap);
			if (!m) {
				keep = a->msg_cap - a->msg_len;
			} else {
				a->msg = m;
				a->msg_cap = cap;
			}
		}
		if (keep)
			memcpy(a->msg + a->msg_len, p, keep);
		a->msg_len += keep;
		a->total += take;
		a->left -= (uint32_t)take;
		p += take;
		n -= take;
		if (a->left)
			return;
		a->in_body = 0;
		pg_deliver(d, dir, a, ts);
	}
}

/* Does p start a chain of well-formed messages of dir that ends exactly at n
 * (or, for the server, runs on past n after at least one whole message)? */
static int pg_chain(enum dec_dir dir, const uint8_t *p, size_t n)
{
	size_t off = 0, whole = 0;
	uint32_t len;

	while (off + 5 <= n) {
		len = (uint32_t)cur_be32_at(p, n, off + 1);
		if (!pg_len_ok(dir, p[off], len, PG_RESYNC_LEN_MAX))
			return 0;
		if (dir == DEC_DIR_RESP && p[off] == 'Z' && off + 5 < n &&
		    (!p[off + 5] || !strchr("ITE", p[off + 5])))
			return 0;
		if (dir == DEC_DIR_REQ && p[off] == 'Q') {
			size_t avail = n - off - 5, body = len - 4;
			size_t chk = avail < body ? avail : body - 1; /* the text without its NUL */

			if (!dec_texty(p + off + 5, chk < 256 ? chk : 256))
				return 0;
			if (avail >= body && p[off + len] != 0)
				return 0;
		}
		if (off + 1 + len > n)
			return dir == DEC_DIR_RESP ? whole > 0 : 0;
		off += 1 + len;
		whole++;
	}
	return off == n ? whole > 0 : (dir == DEC_DIR_RESP && whole > 0);
}

/* An untyped start-up message that is one whole client write? */
static int pg_startup_plausible(const uint8_t *p, size_t n)
{
	uint32_t len, code;

	if (n < 8)
		return 0;
	len = (uint32_t)cur_be32_at(p, n, 0);
	code = (uint32_t)cur_be32_at(p, n, 4);
	if (len != n)
		return 0;
	if (code == PG_SSL || code == PG_GSSENC)
		return len == 8;
	if (code == PG_CANCEL)
		return len == 16;
	return code >> 16 == 3 && len > 8 && len <= PG_STARTUP_MAX && p[n - 1] == 0;
}

/* Resynchronise the client direction on a write: offset or -1. */
static long pg_scan_req(struct pgsql *d, const uint8_t *p, size_t n)
{
	size_t i;

	if (d->state != PG_S_READY && pg_startup_plausible(p, n)) {
		d->state = PG_S_STARTUP;
		return 0;
	}
	for (i = 0; i + 5 <= n; i++) {
		if (pg_chain(DEC_DIR_REQ, p + i, n - i)) {
			d->state = PG_S_READY;
			return (long)i;
		}
	}
	return -1;
}

/* Resynchronise the server direction on a write: offset or -1. */
static long pg_scan_resp(struct pgsql *d, const uint8_t *p, size_t n)
{
	size_t i;

	if (pg_chain(DEC_DIR_RESP, p, n)) {
		d->resp_wait_z = d->q_len > 0;
		return 0;
	}
	/* ReadyForQuery: 'Z', length 5, transaction status. */
	for (i = 0; i + 6 <= n; i++) {
		if (p[i] == 'Z' && !memcmp(p + i + 1, "\0\0\0\5", 4) && p[i + 5] &&
		    strchr("ITE", p[i + 5])) {
			d->resp_wait_z = 1;
			return (long)i;
		}
	}
	return -1;
}

/* ---- public face ---- */

struct pgsql *pgsql_new(dec_emit_fn emit, void *arg)
{
	struct pgsql *d;

	if (!emit) {
		errno = EINVAL;
		return NULL;
	}
	d = calloc(1, sizeof(*d));
	if (!d) {
		errno = ENOMEM;
		return NULL;
	}
	d->q = calloc(PGSQL_QUEUE_MAX, sizeof(*d->q));
	if (!d->q) {
		free(d);
		errno = ENOMEM;
		return NULL;
	}
	d->emit = emit;
	d->arg = arg;
	dec_notes_init(&d->notes, emit, arg, DEC_P_PGSQL, "pgsql", 1, PG_NOTES_MAX);
	d->state = PG_S_INIT;
	/* The client's first bytes are taken as the start of a message (the
	 * dispatcher chose this decoder on them); the server's must prove it,
	 * unless the client's first message shows the conversation's start. */
	d->resp_lost = 1;
	return d;
}

void pgsql_feed(struct pgsql *d, enum dec_dir dir, const uint8_t *buf, size_t len, uint64_t ts_ns)
{
	long off;

	if (!d || !buf || !len || (dir != DEC_DIR_REQ && dir != DEC_DIR_RESP))
		return;
	if (d->closed || d->dead || d->tls)
		return;
	d->last_ts[dir] = ts_ns;
	if (dir == DEC_DIR_REQ) {
		if (d->req_lost) {
			off = pg_scan_req(d, buf, len);
			if (off < 0) {
				d->skipped[dir] += len;
				return;
			}
			d->skipped[dir] += (uint64_t)off;
			pg_asm_reset(&d->as[DEC_DIR_REQ]);
			d->req_lost = 0;
			buf += off;
			len -= (size_t)off;
		}
	} else if (d->resp_lost) {
		d->resp_seen = 1;
		off = pg_scan_resp(d, buf, len);
		if (off < 0) {
			d->skipped[dir] += len;
			return;
		}
		d->skipped[dir] += (uint64_t)off;
		pg_asm_reset(&d->as[DEC_DIR_RESP]);
		d->resp_lost = 0;
		buf += off;
		len -= (size_t)off;
	} else {
		d->resp_seen = 1;
	}
	pg_asm_feed(d, dir, buf, len, ts_ns);
}

void pgsql_gap(struct pgsql *d, enum dec_dir dir, uint64_t len)
{
	struct pg_asm *a;
	char why[96];

	if (!d || !len || (dir != DEC_DIR_REQ && dir != DEC_DIR_RESP))
		return;
	if (d->closed || d->dead || d->tls)
		return;
	if ((dir == DEC_DIR_REQ && d->req_lost) || (dir == DEC_DIR_RESP && d->resp_lost))
		return;
	a = &d->as[dir];
	if (a->in_body && len <= a->left) {
		pg_note(d, "%llu bytes lost inside a %s message; skipped", (unsigned long long)len,
			dir == DEC_DIR_REQ ? "client" : "server");
		a->left -= (uint32_t)len;
		a->total += len;
		a->damaged = 1;
		if (!a->left) {
			a->in_body = 0;
			pg_deliver(d, dir, a, d->last_ts[dir]);
		}
		return;
	}
	snprintf(why, sizeof(why), "%llu bytes lost from the %s", (unsigned long long)len,
		 dir == DEC_DIR_REQ ? "client" : "server");
	pg_lost(d, dir, why);
}

void pgsql_close(struct pgsql *d, uint64_t ts_ns)
{
	struct pg_item *it;

	if (!d || d->closed)
		return;
	if (!d->dead && !d->tls) {
		int dir;

		for (dir = 0; dir < 2; dir++) {
			const struct pg_asm *a = &d->as[dir];

			if (a->in_body || a->hdr_have)
				pg_note(
				    d,
				    "connection closed inside a %s message (%llu bytes of it seen)",
				    dir == DEC_DIR_REQ ? "client" : "server",
				    (unsigned long long)(a->in_body ? a->total + 5 : a->hdr_have));
		}
		if (d->skipped[0] || d->skipped[1])
			pg_note(d,
				"%llu client and %llu server bytes skipped while looking for a "
				"message boundary",
				(unsigned long long)d->skipped[0],
				(unsigned long long)d->skipped[1]);
	}
	while ((it = pg_head(d))) {
		if (pg_reports(it))
			pg_emit_item(d, it, 0);
		pg_pop(d);
	}
	dec_notes_close(&d->notes, ts_ns);
	d->closed = 1;
}

void pgsql_free(struct pgsql *d)
{
	if (!d)
		return;
	while (d->q_len)
		pg_pop(d);
	free(d->q);
	pg_names_free(&d->stmts);
	pg_names_free(&d->portals);
	dec_result_free(&d->desc);
	free(d->as[0].msg);
	free(d->as[1].msg);
	free(d->user);
	free(d->db);
	free(d);
}

int pgsql_is_tls(const struct pgsql *d)
{
	return d && d->tls;
}

int pgsql_detect(const uint8_t *buf, size_t len, enum dec_dir dir)
{
	uint32_t mlen, code;

	if (!buf || !len)
		return len ? 0 : 1;
	if (dir == DEC_DIR_RESP) {
		/* "AuthenticationOk" and the other requests: 'R', length, a known code. */
		if (buf[0] != 'R')
			return 0;
		if (len < 9)
			return len >= 2 && buf[1] ? 0 : 1;
		mlen = (uint32_t)cur_be32_at(buf, len, 1);
		code = (uint32_t)cur_be32_at(buf, len, 5);
		if (mlen < 8 || mlen > 2048)
			return 0;
		if (code == 0 || code == 2 || code == 3 || code == 5 || code == 7 || code == 8 ||
		    code == 9 || code == 10 || code == 11 || code == 12)
			return 2;
		return 0;
	}
	if (buf[0] == 'Q') {
		/* A simple Query that is the whole write (a capture joined mid-connection). */
		if (len < 5)
			return 1;
		mlen = (uint32_t)cur_be32_at(buf, len, 1);
		if (mlen < 6 || mlen > PGSQL_MSG_CAP)
			return 0;
		if (!dec_texty(buf + 5, (len < 1 + (size_t)mlen ? len : mlen) - 5))
			return 0;
		if (len < 1 + (size_t)mlen)
			return 1;
		return len == 1 + (size_t)mlen && buf[mlen] == 0 && dec_texty(buf + 5, mlen - 5)
			   ? 2
			   : 0;
	}
	if (buf[0] != 0)
		return 0;
	if (len < 8)
		return 1;
	mlen = (uint32_t)cur_be32_at(buf, len, 0);
	code = (uint32_t)cur_be32_at(buf, len, 4);
	if ((code == PG_SSL || code == PG_GSSENC) && mlen == 8)
		return 2;
	if (code == PG_CANCEL && mlen == 16)
		return 2;
	if (code >> 16 == 3 && (code & 0xffff) < 16 && mlen > 8 && mlen <= PG_STARTUP_MAX)
		return 2;
	return 0;
}
