// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * MySQL / MariaDB client/server protocol decoder. See mysql.h for what it does;
 * page names below are those of the MySQL "Client/Server Protocol" documentation
 * (and MariaDB's where it differs).
 */
#include "mysql.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/cursor.h"
#include "util/notes.h"
#include "util/result.h"
#include "util/text.h"

/* "Capabilities Flags". */
#define CLIENT_CONNECT_WITH_DB	  0x00000008u
#define CLIENT_COMPRESS		  0x00000020u
#define CLIENT_PROTOCOL_41	  0x00000200u
#define CLIENT_SSL		  0x00000800u
#define CLIENT_TRANSACTIONS	  0x00002000u
#define CLIENT_SECURE_CONNECTION  0x00008000u
#define CLIENT_PLUGIN_AUTH	  0x00080000u
#define CLIENT_PLUGIN_AUTH_LENENC 0x00200000u
#define CLIENT_SESSION_TRACK	  0x00800000u
#define CLIENT_DEPRECATE_EOF	  0x01000000u
#define CLIENT_ZSTD_COMPRESSION	  0x04000000u
#define CLIENT_QUERY_ATTRIBUTES	  0x08000000u

/* "SERVER_STATUS_flags_enum". */
#define SERVER_MORE_RESULTS_EXISTS   0x0008
#define SERVER_STATUS_CURSOR_EXISTS  0x0040
#define SERVER_SESSION_STATE_CHANGED 0x4000

/* "Text Protocol" / "Prepared Statements" command bytes. */
enum {
	COM_QUIT = 0x01,
	COM_INIT_DB = 0x02,
	COM_QUERY = 0x03,
	COM_FIELD_LIST = 0x04,
	COM_CREATE_DB = 0x05,
	COM_DROP_DB = 0x06,
	COM_STATISTICS = 0x09,
	COM_PROCESS_INFO = 0x0a,
	COM_PROCESS_KILL = 0x0c,
	COM_DEBUG = 0x0d,
	COM_PING = 0x0e,
	COM_CHANGE_USER = 0x11,
	COM_BINLOG_DUMP = 0x12,
	COM_STMT_PREPARE = 0x16,
	COM_STMT_EXECUTE = 0x17,
	COM_STMT_SEND_LONG_DATA = 0x18,
	COM_STMT_CLOSE = 0x19,
	COM_STMT_RESET = 0x1a,
	COM_SET_OPTION = 0x1b,
	COM_STMT_FETCH = 0x1c,
	COM_BINLOG_DUMP_GTID = 0x1e,
	COM_RESET_CONNECTION = 0x1f,
	COM_STMT_BULK_EXECUTE = 0xfa, /* MariaDB */
	MY_CONNECT = 0x100,	      /* the login, reported as a pseudo-command */
};

static const char *const my_cmd_names[32] = {
    "COM_SLEEP",
    "COM_QUIT",
    "COM_INIT_DB",
    "COM_QUERY",
    "COM_FIELD_LIST",
    "COM_CREATE_DB",
    "COM_DROP_DB",
    "COM_REFRESH",
    "COM_SHUTDOWN",
    "COM_STATISTICS",
    "COM_PROCESS_INFO",
    "COM_CONNECT",
    "COM_PROCESS_KILL",
    "COM_DEBUG",
    "COM_PING",
    "COM_TIME",
    "COM_DELAYED_INSERT",
    "COM_CHANGE_USER",
    "COM_BINLOG_DUMP",
    "COM_TABLE_DUMP",
    "COM_CONNECT_OUT",
    "COM_REGISTER_SLAVE",
    "COM_STMT_PREPARE",
    "COM_STMT_EXECUTE",
    "COM_STMT_SEND_LONG_DATA",
    "COM_STMT_CLOSE",
    "COM_STMT_RESET",
    "COM_SET_OPTION",
    "COM_STMT_FETCH",
    "COM_DAEMON",
    "COM_BINLOG_DUMP_GTID",
    "COM_RESET_CONNECTION",
};

#define MY_MAX_PKT	   0xffffffu
#define MY_NOTES_MAX	   16
#define MY_STMT_TEXT_TOTAL (4u * 1024 * 1024)

enum my_state {
	MY_S_INIT,    /* nothing decisive seen yet */
	MY_S_GREETED, /* the server's handshake seen; the client's response is next */
	MY_S_CMD,     /* command phase (the login, if any, is the queue's head) */
};

/* Where a command's response stands. */
enum my_rs {
	RS_FIRST,	/* first packet of a result: OK, ERR, EOF, LOCAL INFILE or column count */
	RS_COLDEF,	/* column definitions */
	RS_COLEOF,	/* the EOF after column definitions (no CLIENT_DEPRECATE_EOF) */
	RS_ROWS,	/* rows up to EOF / OK / ERR */
	RS_PREP_PARAMS, /* COM_STMT_PREPARE: parameter definitions */
	RS_PREP_PARAMS_EOF,
	RS_PREP_COLS, /* COM_STMT_PREPARE: column definitions */
	RS_PREP_COLS_EOF,
	RS_FIELDS,	  /* COM_FIELD_LIST: column definitions up to EOF */
	RS_ONE,		  /* any single packet (COM_STATISTICS) */
	RS_AUTH,	  /* authentication exchange up to OK or ERR */
	RS_INFILE_DATA,	  /* the client sends the file named by a LOCAL INFILE request */
	RS_INFILE_RESULT, /* the OK or ERR after the file */
};

/* Packet assembly for one direction ("MySQL Packets"). */
struct my_asm {
	uint8_t hdr[4];
	unsigned hdr_have;
	int in_pkt; /* a header was read; pkt_left payload bytes follow */
	uint32_t pkt_left;
	int more;     /* the current packet is 0xffffff long: the message continues */
	int started;  /* a message is being assembled */
	uint8_t *msg; /* its first bytes, at most MYSQL_MSG_CAP; owned */
	size_t msg_len, msg_cap;
	uint64_t total; /* payload bytes of the message so far */
	uint8_t seq_first, seq_last;
	int damaged;   /* bytes of it were lost */
	uint64_t wire; /* bytes of the message on the wire, packet headers included */
};

struct my_cmd {
	int cmd;
	char *query;	       /* owned, NUL-terminated; NULL if none */
	char *cu_user, *cu_db; /* COM_CHANGE_USER: owned */
	int no_response;
	int got_resp;	   /* a server packet for it was seen */
	uint8_t seq_after; /* sequence id its response starts with */
	uint64_t req_ts, resp_ts;
	enum my_rs rs;
	uint64_t cols_left;
	uint16_t prep_cols;
	int binary;
	int have_rs;
	int64_t columns, rows, affected;
	int error_code;
	char *error;	  /* owned */
	char sqlstate[6]; /* ERR SQL state, "" if none */
	uint64_t req_bytes, resp_bytes;
	int rsets;	       /* result sets begun */
	struct dec_result res; /* the first result set's names and first rows */
};

struct my_stmt {
	uint32_t id;
	char *text; /* owned */
	size_t len;
	uint64_t age;
};

struct mysql {
	dec_emit_fn emit;
	void *arg;
	struct my_asm as[2];
	uint64_t last_ts[2];
	enum my_state state;
	int tls, dead, closed, req_seen, joined_noted, greeted;
	uint64_t skipped[2]; /* bytes dropped while looking for a packet boundary */
	int resync_req;	     /* the client direction lost its framing: scan writes for a command */
	int skip_resp;	     /* discard server bytes until the next command */
	uint32_t caps;	     /* negotiated capabilities */
	uint32_t srv_caps;
	int caps_known, srv_caps_known;
	int eof_mode; /* -1 unknown, 0 EOF packets, 1 CLIENT_DEPRECATE_EOF */
	uint8_t seq_next;
	char *user, *db; /* owned */
	struct my_cmd q[MYSQL_QUEUE_MAX];
	unsigned q_head, q_len;
	struct my_stmt stmts[MYSQL_STMT_MAX];
	unsigned n_stmts;
	size_t stmt_bytes;
	uint64_t stmt_age;
	uint32_t last_prepared;
	int have_last_prepared;
	struct dec_notes notes;
};

/* ---- helpers over untrusted bytes (fixed-width fields: util/cursor.h, strings: util/text.h) ---- */

/* "Length-Encoded Integer": returns bytes used, 0 if it does not fit or is the
 * NULL (0xfb) / undefined (0xff) marker. */
static size_t my_lenenc(const uint8_t *p, size_t n, uint64_t *v)
{
	size_t k, i;

	if (!n)
		return 0;
	if (p[0] < 0xfb) {
		*v = p[0];
		return 1;
	}
	if (p[0] == 0xfc)
		k = 2;
	else if (p[0] == 0xfd)
		k = 3;
	else if (p[0] == 0xfe)
		k = 8;
	else
		return 0;
	if (n < 1 + k)
		return 0;
	*v = 0;
	for (i = 0; i < k; i++)
		*v |= (uint64_t)p[1 + i] << (8 * i);
	return 1 + k;
}

/* ---- records ---- */

static void my_note(struct mysql *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void my_note(struct mysql *d, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	dec_vnote(&d->notes, d->last_ts[0] > d->last_ts[1] ? d->last_ts[0] : d->last_ts[1], fmt,
		  ap);
	va_end(ap);
}

static const char *my_cmd_name(int cmd)
{
	if (cmd == MY_CONNECT)
		return "CONNECT";
	if (cmd == COM_STMT_BULK_EXECUTE)
		return "COM_STMT_BULK_EXECUTE";
	if (cmd >= 0 && cmd < 32)
		return my_cmd_names[cmd];
	return "COM_UNKNOWN";
}

static void my_cmd_free(struct my_cmd *c)
{
	dec_result_free(&c->res);
	free(c->query);
	free(c->cu_user);
	free(c->cu_db);
	free(c->error);
	memset(c, 0, sizeof(*c));
}

/* Report c: complete = its response was seen to the end. */
static void my_cmd_emit(struct mysql *d, struct my_cmd *c, int complete)
{
	struct dec_record r;

	memset(&r, 0, sizeof(r));
	r.type = DEC_R_MYSQL;
	r.proto = DEC_P_MYSQL;
	r.req_ts_ns = c->req_ts;
	r.resp_ts_ns = complete ? c->resp_ts : 0;
	if (r.resp_ts_ns && r.req_ts_ns && r.resp_ts_ns >= r.req_ts_ns)
		r.latency_us = (r.resp_ts_ns - r.req_ts_ns) / 1000;
	r.mysql.command = my_cmd_name(c->cmd);
	r.mysql.query = c->query;
	r.mysql.rows = -1;
	if (complete && c->have_rs)
		r.mysql.rows = c->rows;
	else if (complete && c->affected >= 0)
		r.mysql.rows = c->affected;
	r.mysql.columns = c->columns;
	r.mysql.error = c->error;
	r.mysql.error_code = c->error_code;
	r.mysql.sqlstate = c->sqlstate[0] ? c->sqlstate : NULL;
	r.mysql.user = d->user;
	r.mysql.database = d->db;
	r.mysql.result = dec_result_text(&c->res);
	r.mysql.req_bytes = c->req_bytes;
	r.mysql.resp_bytes = c->resp_bytes;
	d->emit(&r, d->arg);
}

static struct my_cmd *my_head(struct mysql *d)
{
	return d->q_len ? &d->q[d->q_head] : NULL;
}

static void my_pop(struct mysql *d)
{
	my_cmd_free(&d->q[d->q_head]);
	d->q_head = (d->q_head + 1) % MYSQL_QUEUE_MAX;
	d->q_len--;
}

/* Commands without a response that waited behind others are reported now. */
static void my_pop_silent(struct mysql *d)
{
	struct my_cmd *c;

	while ((c = my_head(d)) && c->no_response) {
		my_cmd_emit(d, c, 1);
		my_pop(d);
	}
}

/* The head command's response is complete. */
static void my_done(struct mysql *d, struct my_cmd *c, uint64_t ts)
{
	c->resp_ts = ts;
	if (!c->error) {
		if (c->cmd == COM_INIT_DB && c->query)
			dec_replace(&d->db, strdup(c->query));
		if (c->cmd == COM_CHANGE_USER) {
			dec_replace(&d->user, c->cu_user);
			dec_replace(&d->db, c->cu_db);
			c->cu_user = c->cu_db = NULL;
		}
	}
	my_cmd_emit(d, c, 1);
	my_pop(d);
	my_pop_silent(d);
}

/* Report every waiting command as unanswered. */
static void my_flush(struct mysql *d)
{
	struct my_cmd *c;

	while ((c = my_head(d))) {
		my_cmd_emit(d, c, c->no_response);
		my_pop(d);
	}
}

static void my_asm_reset(struct my_asm *a)
{
	a->hdr_have = 0;
	a->in_pkt = 0;
	a->pkt_left = 0;
	a->more = 0;
	a->started = 0;
	a->msg_len = 0;
	a->total = 0;
	a->damaged = 0;
}

/* A direction lost its framing: report what waits, and look for the next command. */
static void my_lost(struct mysql *d, enum dec_dir dir, const char *why)
{
	my_note(d, "%s; resynchronising on the next command", why);
	my_flush(d);
	my_asm_reset(&d->as[DEC_DIR_RESP]);
	d->skip_resp = 1;
	if (dir == DEC_DIR_REQ) {
		my_asm_reset(&d->as[DEC_DIR_REQ]);
		d->resync_req = 1;
	}
}

/* ---- prepared statements ---- */

static struct my_stmt *my_stmt_find(struct mysql *d, uint32_t id)
{
	unsigned i;

	if (id == 0xffffffffu && d->have_last_prepared)
		id = d->last_prepared; /* MariaDB: "the statement prepared last" */
	for (i = 0; i < d->n_stmts; i++)
		if (d->stmts[i].id == id)
			return &d->stmts[i];
	return NULL;
}

static void my_stmt_drop(struct mysql *d, struct my_stmt *s)
{
	d->stmt_bytes -= s->len;
	free(s->text);
	*s = d->stmts[--d->n_stmts];
}

static void my_stmt_add(struct mysql *d, uint32_t id, const char *text)
{
	struct my_stmt *s = my_stmt_find(d, id);
	size_t len = strlen(text);
	unsigned i, old;

	if (s)
		my_stmt_drop(d, s);
	/* Bounded: evict the oldest statements to stay under the count and size caps. */
	while (d->n_stmts &&
	       (d->n_stmts == MYSQL_STMT_MAX || d->stmt_bytes + len > MY_STMT_TEXT_TOTAL)) {
		old = 0;
		for (i = 1; i < d->n_stmts; i++)
			if (d->stmts[i].age < d->stmts[old].age)
				old = i;
		my_stmt_drop(d, &d->stmts[old]);
	}
	if (len > MY_STMT_TEXT_TOTAL)
		return;
	s = &d->stmts[d->n_stmts];
	s->text = strdup(text);
	if (!s->text)
		return;
	s->id = id;
	s->len = len;
	s->age = ++d->stmt_age;
	d->stmt_bytes += len;
	d->n_stmts++;
	d->last_prepared = id;
	d->have_last_prepared = 1;
}

/* ---- server packets ---- */

/* "OK_Packet": adds affected rows to c (if add), follows a schema change
 * reported through session tracking, returns the status flags. */
static unsigned my_ok(struct mysql *d, struct my_cmd *c, const uint8_t *p, size_t n, int add)
{
	uint64_t affected = 0, id, len, tlen;
	size_t off = 1, k, end;
	unsigned status = 0;
	uint32_t caps = d->caps_known ? d->caps : CLIENT_PROTOCOL_41 | CLIENT_SESSION_TRACK;

	k = my_lenenc(p + off, n - off, &affected);
	if (!k)
		return 0;
	off += k;
	k = my_lenenc(p + off, n - off, &id);
	if (!k)
		return 0;
	off += k;
	if (c && add) {
		if (c->affected < 0)
			c->affected = 0;
		c->affected += affected > INT64_MAX / 2 ? INT64_MAX / 2 : (int64_t)affected;
	}
	if ((caps & (CLIENT_PROTOCOL_41 | CLIENT_TRANSACTIONS)) && cur_le16_at(p, n, off) >= 0) {
		status = (unsigned)cur_le16_at(p, n, off);
		off += 2;
		if (caps & CLIENT_PROTOCOL_41)
			off += 2; /* warnings */
	}
	if (!(caps & CLIENT_SESSION_TRACK) || !(status & SERVER_SESSION_STATE_CHANGED) || off > n)
		return status;
	/* "Session State Information": info string, then typed change entries. */
	k = my_lenenc(p + off, n - off, &len);
	if (!k || len > n - off - k)
		return status;
	off += k + len;
	k = my_lenenc(p + off, n - off, &len);
	if (!k || len > n - off - k)
		return status;
	off += k;
	end = off + len;
	while (off + 1 < end) {
		uint8_t type = p[off++];

		k = my_lenenc(p + off, end - off, &len);
		if (!k || len > end - off - k)
			break;
		off += k;
		/* SESSION_TRACK_SCHEMA: the data is the new schema as a length-encoded string. */
		if (type == 1) {
			k = my_lenenc(p + off, len, &tlen);
			if (k && tlen <= len - k)
				dec_replace(&d->db, dec_strndup(p + off + k, tlen));
		}
		off += len;
	}
	return status;
}

/* An SQL state: 5 characters, digits and letters (SQLSTATE classes and
 * subclasses; MySQL "Server Error Message Reference" lists e.g. 42S02, HY000). */
static int my_sqlstate_ok(const uint8_t *p)
{
	int i;

	for (i = 0; i < 5; i++)
		if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'A' && p[i] <= 'Z') ||
		      (p[i] >= 'a' && p[i] <= 'z')))
			return 0;
	return 1;
}

/* "ERR_Packet": fills c's error; returns 0, or 1 for a MariaDB progress report
 * (error code 0xffff), which is not an error and does not end anything. */
static int my_err(struct my_cmd *c, const uint8_t *p, size_t n)
{
	size_t off = 3;
	int code = (int)cur_le16_at(p, n, 1);

	c->sqlstate[0] = '\0';
	if (code < 0) {
		c->error_code = 0;
		dec_replace(&c->error, strdup("(truncated ERR packet)"));
		return 0;
	}
	if (code == 0xffff)
		return 1;
	/* With CLIENT_PROTOCOL_41: the marker '#' and the 5-character SQL state
	 * precede the message. Without it (or in an ERR sent before the capabilities
	 * are agreed, e.g. "Host is not allowed to connect") the message follows the
	 * code directly. */
	if (n >= 9 && p[3] == '#' && my_sqlstate_ok(p + 4)) {
		memcpy(c->sqlstate, p + 4, 5);
		c->sqlstate[5] = '\0';
		off = 9;
	}
	c->error_code = code;
	dec_replace(&c->error, dec_strndup(p + off, n - off));
	return 0;
}

/* The server's first packet: "Protocol::HandshakeV10" (or an ERR). */
static void my_greeting(struct mysql *d, const uint8_t *p, size_t n, uint64_t ts)
{
	size_t off, vlen;

	if (n && p[0] == 0xff) {
		/* The server refused the connection before any handshake. */
		struct my_cmd c;

		memset(&c, 0, sizeof(c));
		c.cmd = MY_CONNECT;
		c.req_ts = ts;
		c.resp_ts = ts;
		c.columns = -1;
		c.affected = -1;
		my_err(&c, p, n);
		my_cmd_emit(d, &c, 1);
		my_cmd_free(&c);
		d->state = MY_S_CMD;
		return;
	}
	vlen = n > 1 ? dec_cstr_len(p + 1, n - 1) : 0;
	off = 1 + vlen + 1 + 4 + 8 + 1; /* version, NUL, thread id, scramble 1, filler */
	if (n < 2 || p[0] != 10 || vlen == n - 1 || off + 2 > n) {
		if (n && p[0] == 9) {
			my_note(d, "protocol version 9 (MySQL 3.x) is not decoded; ignoring this "
				   "connection");
			d->dead = 1;
			return;
		}
		/* Not a greeting: the capture joined mid-connection. */
		d->state = MY_S_CMD;
		d->skip_resp = 1;
		return;
	}
	{
		struct cursor cu = cur_at(p, n, off);
		uint32_t lo, hi;

		/* low capability bytes, charset, status, high capability bytes */
		cur_le16(&cu, &lo);
		d->srv_caps = lo;
		if (cur_skip(&cu, 3) && cur_le16(&cu, &hi))
			d->srv_caps |= hi << 16;
	}
	d->srv_caps_known = 1;
	d->greeted = 1;
	d->state = MY_S_GREETED;
	if (!d->req_seen)
		d->resync_req = 0; /* the client's next packet is its handshake response */
}

/* The server's answer of a column count, "Text Resultset" / "Binary Protocol Resultset". */
static int my_column_count(struct mysql *d, struct my_cmd *c, const uint8_t *p, size_t n,
			   uint64_t total)
{
	uint64_t count;
	size_t k = my_lenenc(p, n, &count);

	if (!k || total != n || (n - k > 1) || count == 0) {
		my_lost(d, DEC_DIR_RESP, "malformed result set header");
		return -1;
	}
	if (count > MYSQL_COLUMNS_MAX) {
		char why[96];

		snprintf(why, sizeof(why), "implausible column count %llu",
			 (unsigned long long)count);
		my_lost(d, DEC_DIR_RESP, why);
		return -1;
	}
	if (c->columns < 0)
		c->columns = (int64_t)count;
	if (c->rows < 0)
		c->rows = 0;
	c->have_rs = 1;
	c->rsets++;
	c->cols_left = count;
	/* CLIENT_OPTIONAL_RESULTSET_METADATA (MySQL) or MARIADB_CLIENT_CACHE_METADATA:
	 * one more byte says whether column definitions follow. */
	if (n - k == 1 && p[k] == 0)
		c->cols_left = 0;
	c->rs = c->cols_left ? RS_COLDEF : (d->eof_mode == 1 ? RS_ROWS : RS_COLEOF);
	return 0;
}

static int my_is_eof(const uint8_t *p, uint64_t total)
{
	/* "EOF_Packet": 0xfe and shorter than 9 bytes (a row can start with 0xfe only
	 * as the 8-byte length of a value, so it is then at least 9 bytes long). */
	return total >= 1 && total < 9 && p[0] == 0xfe;
}

/* The end of a result set or of a chain of results; returns 1 if done. */
static int my_result_end(struct mysql *d, struct my_cmd *c, unsigned status)
{
	(void)d;
	if (status & SERVER_MORE_RESULTS_EXISTS) {
		c->rs = RS_FIRST;
		return 0;
	}
	return 1;
}

/* A "Length-Encoded String" at *off of p: its bytes, or -1 (NULL marker, 0xfb)
 * with *isnull set; 0 when it does not fit in n. */
static int my_lenenc_str(const uint8_t *p, size_t n, size_t *off, const uint8_t **s, size_t *len,
			 int *isnull)
{
	uint64_t v;
	size_t k;

	*isnull = 0;
	if (*off >= n)
		return 0;
	if (p[*off] == 0xfb) {
		(*off)++;
		*isnull = 1;
		return 1;
	}
	k = my_lenenc(p + *off, n - *off, &v);
	if (!k || v > n - *off - k)
		return 0;
	*s = p + *off + k;
	*len = (size_t)v;
	*off += k + (size_t)v;
	return 1;
}

/* A column definition's name into c's result: "ColumnDefinition41" (catalog
 * "def", schema, table, org_table, name, ...) or "ColumnDefinition320"
 * (table, name, ...). */
static void my_coldef_name(struct mysql *d, struct my_cmd *c, const uint8_t *p, size_t n)
{
	const uint8_t *s = NULL;
	size_t off = 0, len = 0, i, skip;
	int isnull;

	if (!my_lenenc_str(p, n, &off, &s, &len, &isnull))
		goto bad;
	if (d->caps_known ? (d->caps & CLIENT_PROTOCOL_41) != 0
			  : (len == 3 && !memcmp(s, "def", 3)))
		skip = 3; /* schema, table, org_table */
	else
		skip = 0; /* the table was the first */
	for (i = 0; i <= skip; i++)
		if (!my_lenenc_str(p, n, &off, &s, &len, &isnull))
			goto bad;
	dec_result_field(&c->res, s, isnull ? 0 : len, 0);
	return;
bad:
	dec_result_field(&c->res, (const uint8_t *)"?", 1, 0);
}

/* A text protocol row ("ResultsetRow": a length-encoded string or NULL per
 * column) into c's result. */
static void my_text_row(struct mysql *d, struct my_cmd *c, const uint8_t *p, size_t n)
{
	const uint8_t *s = NULL;
	size_t off = 0, len = 0;
	int64_t i;
	int isnull;

	(void)d;
	for (i = 0; i < c->columns; i++) {
		if (!my_lenenc_str(p, n, &off, &s, &len, &isnull)) {
			/* cut by MYSQL_MSG_CAP: what is there */
			if (off < n)
				dec_result_field(&c->res, p + off, n - off, 0);
			break;
		}
		dec_result_field(&c->res, s, len, isnull);
	}
	dec_result_row_end(&c->res);
}

/* One complete server message for the head command c. Returns 1 if the message
 * did not belong to c (c was completed first), so it goes to the next head. */
static int my_resp_cmd(struct mysql *d, struct my_cmd *c, const struct my_asm *a, uint64_t ts)
{
	const uint8_t *p = a->msg;
	size_t n = a->msg_len;
	uint64_t total = a->total;
	unsigned status;

	c->got_resp = 1;
	if (!n && c->rs != RS_ONE && c->rs != RS_COLDEF && c->rs != RS_PREP_PARAMS &&
	    c->rs != RS_PREP_COLS) {
		my_lost(d, DEC_DIR_RESP, "empty server packet");
		return 0;
	}
	switch (c->rs) {
	case RS_FIRST:
	case RS_INFILE_RESULT:
		if (p[0] == 0x00 && c->cmd == COM_STMT_PREPARE && c->rs == RS_FIRST) {
			uint16_t params;

			/* "COM_STMT_PREPARE_OK": id, columns, parameters, filler, warnings,
			 * and with optional metadata a byte saying whether definitions follow. */
			if (n < 9) {
				my_lost(d, DEC_DIR_RESP, "short COM_STMT_PREPARE_OK");
				return 0;
			}
			if (c->query)
				my_stmt_add(d, (uint32_t)cur_le32_at(p, n, 1), c->query);
			c->prep_cols = (uint16_t)cur_le16_at(p, n, 5);
			params = (unsigned)cur_le16_at(p, n, 7);
			c->columns = c->prep_cols;
			if (n >= 13 && p[12] == 0)
				params = c->prep_cols = 0;
			if (params) {
				c->cols_left = params;
				c->rs = RS_PREP_PARAMS;
			} else if (c->prep_cols) {
				c->cols_left = c->prep_cols;
				c->rs = RS_PREP_COLS;
			} else {
				my_done(d, c, ts);
			}
			return 0;
		}
		if (p[0] == 0x00) {
			status = my_ok(d, c, p, n, 1);
			if (my_result_end(d, c, status))
				my_done(d, c, ts);
			return 0;
		}
		if (p[0] == 0xff) {
			if (!my_err(c, p, n))
				my_done(d, c, ts);
			return 0;
		}
		if (c->rs == RS_INFILE_RESULT) {
			my_lost(d, DEC_DIR_RESP, "expected OK or ERR after LOCAL INFILE data");
			return 0;
		}
		if (my_is_eof(p, total)) {
			my_done(d, c, ts);
			return 0;
		}
		if (p[0] == 0xfb) {
			/* "LOCAL INFILE Request": the client now sends the file. */
			c->rs = RS_INFILE_DATA;
			return 0;
		}
		my_column_count(d, c, p, n, total);
		return 0;
	case RS_COLDEF:
		if (c->rsets == 1)
			my_coldef_name(d, c, p, n);
		if (--c->cols_left == 0) {
			c->rs = d->eof_mode == 1 ? RS_ROWS : RS_COLEOF;
			if (c->rsets == 1)
				dec_result_names_end(&c->res);
		}
		return 0;
	case RS_COLEOF:
		if (my_is_eof(p, total) && (d->eof_mode == 0 || total == 5)) {
			d->eof_mode = 0;
			status = n >= 5 ? (unsigned)cur_le16_at(p, n, 3) : 0;
			/* A cursor was opened: rows come through COM_STMT_FETCH. */
			if (c->binary && (status & SERVER_STATUS_CURSOR_EXISTS))
				my_done(d, c, ts);
			else
				c->rs = RS_ROWS;
			return 0;
		}
		if (d->eof_mode == 0) {
			my_lost(d, DEC_DIR_RESP, "expected EOF after column definitions");
			return 0;
		}
		d->eof_mode = 1; /* learned: CLIENT_DEPRECATE_EOF is on */
		c->rs = RS_ROWS;
		/* this packet is a row or the terminating OK */
		__attribute__((fallthrough));
	case RS_ROWS:
		if (p[0] == 0xfe && total < MY_MAX_PKT) {
			if (total == 5 || (d->eof_mode == 0 && total < 9))
				status = n >= 5 ? (unsigned)cur_le16_at(p, n, 3) : 0;
			else
				status = my_ok(d, c, p, n, 0);
			if (my_result_end(d, c, status))
				my_done(d, c, ts);
			return 0;
		}
		if (p[0] == 0xff) {
			if (!my_err(c, p, n))
				my_done(d, c, ts);
			return 0;
		}
		if (c->rows < 0)
			c->rows = 0;
		c->rows++;
		if (c->rsets == 1 && !c->binary && dec_result_wants_row(&c->res)) {
			if (a->damaged) {
				dec_result_field(&c->res, (const uint8_t *)"[bytes lost]", 12, 0);
				dec_result_row_end(&c->res);
			} else {
				my_text_row(d, c, p, n);
			}
		}
		return 0;
	case RS_PREP_PARAMS:
	case RS_PREP_COLS:
		if (--c->cols_left)
			return 0;
		if (d->eof_mode == 1)
			goto prep_section_done;
		c->rs = c->rs == RS_PREP_PARAMS ? RS_PREP_PARAMS_EOF : RS_PREP_COLS_EOF;
		return 0;
	case RS_PREP_PARAMS_EOF:
	case RS_PREP_COLS_EOF:
		if (my_is_eof(p, total) && (d->eof_mode == 0 || total == 5)) {
			d->eof_mode = 0;
			c->rs = c->rs == RS_PREP_PARAMS_EOF ? RS_PREP_PARAMS : RS_PREP_COLS;
			goto prep_section_done;
		}
		if (d->eof_mode == 0) {
			my_lost(d, DEC_DIR_RESP, "expected EOF after definitions");
			return 0;
		}
		/* learned: no EOF, so this packet already belongs to what follows */
		d->eof_mode = 1;
		if (c->rs == RS_PREP_PARAMS_EOF && c->prep_cols) {
			c->cols_left = c->prep_cols;
			c->rs = RS_PREP_COLS;
			return my_resp_cmd(d, c, a, ts);
		}
		c->resp_bytes -= a->wire; /* the next command's */
		my_done(d, c, ts);
		return 1;
	case RS_FIELDS:
		if (p[0] == 0xff) {
			if (!my_err(c, p, n))
				my_done(d, c, ts);
		} else if (p[0] == 0xfe && total < MY_MAX_PKT) {
			my_done(d, c, ts);
		} else {
			c->columns = c->columns < 0 ? 1 : c->columns + 1;
		}
		return 0;
	case RS_ONE:
		if (n && p[0] == 0xff && my_err(c, p, n))
			return 0;
		my_done(d, c, ts);
		return 0;
	case RS_AUTH:
		if (p[0] == 0x00) {
			my_ok(d, NULL, p, n, 0);
			if (c->cmd == MY_CONNECT &&
			    (d->caps & (CLIENT_COMPRESS | CLIENT_ZSTD_COMPRESSION))) {
				my_done(d, c, ts);
				my_note(
				    d, "compressed protocol negotiated; not decoded, ignoring this "
				       "connection");
				d->dead = 1;
				return 0;
			}
			my_done(d, c, ts);
		} else if (p[0] == 0xff) {
			if (!my_err(c, p, n))
				my_done(d, c, ts);
		}
		/* 0xfe auth switch, 0x01 more data: the exchange goes on */
		return 0;
	case RS_INFILE_DATA:
		my_lost(d, DEC_DIR_RESP, "server packet while the client sends LOCAL INFILE data");
		return 0;
	}
	return 0;

prep_section_done:
	if (c->rs == RS_PREP_PARAMS && c->prep_cols) {
		c->cols_left = c->prep_cols;
		c->rs = RS_PREP_COLS;
		return 0;
	}
	my_done(d, c, ts);
	return 0;
}

static void my_resp_msg(struct mysql *d, const struct my_asm *a, uint64_t ts)
{
	struct my_cmd *c;

	if (d->state == MY_S_INIT) {
		my_greeting(d, a->msg, a->msg_len, ts);
		return;
	}
	while ((c = my_head(d))) {
		c->resp_bytes += a->wire;
		if (!my_resp_cmd(d, c, a, ts))
			return;
	}
	if (d->skip_resp || d->dead)
		return;
	if (a->msg_len && a->msg[0] == 0xff) {
		/* e.g. the server closing an idle connection (ER_CLIENT_INTERACTION_TIMEOUT) */
		struct my_cmd tmp;

		memset(&tmp, 0, sizeof(tmp));
		my_err(&tmp, a->msg, a->msg_len);
		my_note(d, "server error outside a command: %d %s", tmp.error_code,
			tmp.error ? tmp.error : "");
		my_cmd_free(&tmp);
		return;
	}
	my_lost(d, DEC_DIR_RESP, "server packet without a command");
}

/* ---- client packets ---- */

/* "Protocol::HandshakeResponse41" / "HandshakeResponse320" / "SSLRequest". */
static struct my_cmd *my_push(struct mysql *d, int cmd, uint64_t ts, uint8_t seq_after);

static void my_handshake_response(struct mysql *d, const uint8_t *p, size_t n, uint64_t ts,
				  uint64_t total)
{
	struct my_cmd *c;
	uint32_t caps;
	uint64_t alen;
	size_t off, k;
	char *user = NULL, *db = NULL;

	if (n < 2)
		goto bad;
	caps = (uint32_t)cur_le16_at(p, n, 0);
	if (caps & CLIENT_PROTOCOL_41) {
		if (n < 32)
			goto bad;
		caps = (uint32_t)cur_le32_at(p, n, 0);
		if (total == 32) {
			if (!(caps & CLIENT_SSL))
				goto bad;
			goto ssl;
		}
		off = 32;
	} else {
		if (n < 5)
			goto bad;
		if (total == 5 && (caps & CLIENT_SSL))
			goto ssl;
		off = 5;
	}
	if (off >= n)
		goto bad;
	k = dec_cstr_len(p + off, n - off);
	user = dec_strndup(p + off, k);
	off += k + 1;
	if (caps & CLIENT_PROTOCOL_41) {
		if (caps & CLIENT_PLUGIN_AUTH_LENENC) {
			k = my_lenenc(p + off, off < n ? n - off : 0, &alen);
			off += k;
		} else if ((caps & CLIENT_SECURE_CONNECTION) && off < n) {
			alen = p[off++];
		} else {
			alen = off < n ? dec_cstr_len(p + off, n - off) + 1 : 0;
		}
		off = (off <= n && alen <= n - off) ? off + alen : n;
		if ((caps & CLIENT_CONNECT_WITH_DB) && off < n)
			db = dec_strndup(p + off, dec_cstr_len(p + off, n - off));
	} else if ((caps & CLIENT_CONNECT_WITH_DB) && off < n) {
		off += dec_cstr_len(p + off, n - off) + 1; /* the scrambled password */
		if (off < n)
			db = dec_strndup(p + off, dec_cstr_len(p + off, n - off));
	}
	dec_replace(&d->user, user);
	dec_replace(&d->db, db);
	d->caps = d->srv_caps_known ? caps & d->srv_caps : caps;
	d->caps_known = 1;
	d->eof_mode = (d->caps & CLIENT_DEPRECATE_EOF) ? 1 : 0;
	d->state = MY_S_CMD;
	c = my_push(d, MY_CONNECT, ts, d->seq_next);
	c->rs = RS_AUTH;
	return;
ssl:
	d->tls = 1;
	my_note(d, "client requested SSL; the rest of this connection is TLS (its plaintext, if "
		   "captured, arrives as a separate stream)");
	return;
bad:
	my_lost(d, DEC_DIR_REQ, "malformed handshake response");
}

/* Bytes consumed by one "Binary Protocol Value" of the given type, 0 if unknown
 * or it does not fit. */
static size_t my_binval_len(unsigned type, const uint8_t *p, size_t n)
{
	uint64_t len;
	size_t k;

	switch (type) {
	case 0x06: /* NULL */
		return 0;
	case 0x01: /* TINY */
		return n >= 1 ? 1 : 0;
	case 0x02: /* SHORT */
	case 0x0d: /* YEAR */
		return n >= 2 ? 2 : 0;
	case 0x03: /* LONG */
	case 0x04: /* FLOAT */
	case 0x09: /* INT24 */
		return n >= 4 ? 4 : 0;
	case 0x05: /* DOUBLE */
	case 0x08: /* LONGLONG */
		return n >= 8 ? 8 : 0;
	case 0x07: /* TIMESTAMP */
	case 0x0a: /* DATE */
	case 0x0b: /* TIME */
	case 0x0c: /* DATETIME */
		return n >= 1 && (size_t)p[0] + 1 <= n ? (size_t)p[0] + 1 : 0;
	case 0x00: /* DECIMAL */
	case 0x0f: /* VARCHAR */
	case 0x10: /* BIT */
	case 0xf5: /* JSON */
	case 0xf6: /* NEWDECIMAL */
	case 0xf7: /* ENUM */
	case 0xf8: /* SET */
	case 0xf9: /* TINY_BLOB */
	case 0xfa: /* MEDIUM_BLOB */
	case 0xfb: /* LONG_BLOB */
	case 0xfc: /* BLOB */
	case 0xfd: /* VAR_STRING */
	case 0xfe: /* STRING */
	case 0xff: /* GEOMETRY */
		k = my_lenenc(p, n, &len);
		return k && len <= n - k ? k + (size_t)len : 0;
	}
	return 0;
}

/* COM_QUERY with CLIENT_QUERY_ATTRIBUTES: parameter count, parameter set count,
 * then (with parameters) null bitmap, types and names, values; then the text.
 * Returns the offset of the query text, or 0 if the attributes do not parse. */
static size_t my_query_attrs(const uint8_t *p, size_t n)
{
	uint8_t types[256];
	uint64_t count, sets, nlen;
	size_t off = 1, k, bitmap, i, v;

	k = my_lenenc(p + off, n - off, &count);
	if (!k)
		return 0;
	off += k;
	k = my_lenenc(p + off, n - off, &sets);
	if (!k || count > sizeof(types))
		return 0;
	off += k;
	if (!count)
		return off;
	bitmap = off;
	off += (count + 7) / 8;
	if (off >= n || p[off] != 1)
		return 0; /* new_params_bind_flag is always 1 here */
	off++;
	for (i = 0; i < count; i++) {
		if (off + 2 > n)
			return 0;
		types[i] = p[off];
		off += 2;
		k = my_lenenc(p + off, n - off, &nlen);
		if (!k || nlen > n - off - k)
			return 0;
		off += k + nlen;
	}
	for (i = 0; i < count; i++) {
		if ((p[bitmap + i / 8] & (1u << (i % 8))) || types[i] == 0x06)
			continue; /* NULL */
		v = my_binval_len(types[i], p + off, n - off);
		if (!v)
			return 0;
		off += v;
	}
	return off;
}

static struct my_cmd *my_push(struct mysql *d, int cmd, uint64_t ts, uint8_t seq_after)
{
	struct my_cmd *c;

	if (d->q_len == MYSQL_QUEUE_MAX) {
		my_lost(d, DEC_DIR_RESP, "too many commands waiting for a response");
		d->skip_resp = 0;
	}
	c = &d->q[(d->q_head + d->q_len++) % MYSQL_QUEUE_MAX];
	memset(c, 0, sizeof(*c));
	c->cmd = cmd;
	c->req_ts = ts;
	c->seq_after = seq_after;
	c->columns = -1;
	c->rows = -1;
	c->affected = -1;
	/* the message being delivered is the command's */
	c->req_bytes = d->as[DEC_DIR_REQ].wire;
	return c;
}

static void my_command(struct mysql *d, const struct my_asm *a, uint64_t ts)
{
	const uint8_t *p = a->msg;
	size_t n = a->msg_len, off, k;
	struct my_stmt *s;
	struct my_cmd *c;
	int cmd;

	if (!n) {
		my_lost(d, DEC_DIR_REQ, "empty command packet");
		return;
	}
	cmd = p[0];
	if (cmd > COM_RESET_CONNECTION && cmd != COM_STMT_BULK_EXECUTE) {
		char why[64];

		snprintf(why, sizeof(why), "unknown command 0x%02x", cmd);
		my_lost(d, DEC_DIR_REQ, why);
		return;
	}
	if (!d->greeted && !d->caps_known && !d->joined_noted) {
		my_note(d, "no handshake seen (capture joined mid-connection); decoding from the "
			   "first command");
		d->joined_noted = 1;
	}
	d->state = MY_S_CMD;
	/* A new command: whatever the server sent before belongs to older ones. */
	if (d->skip_resp) {
		d->skip_resp = 0;
		my_asm_reset(&d->as[DEC_DIR_RESP]);
	}
	c = my_push(d, cmd, ts, (uint8_t)(a->seq_last + 1));
	c->rs = RS_FIRST;
	switch (cmd) {
	case COM_QUERY:
		off = 1;
		if (d->caps_known ? (d->caps & CLIENT_QUERY_ATTRIBUTES)
				  : (n >= 3 && p[1] == 0 && p[2] == 1)) {
			k = my_query_attrs(p, n);
			off = k ? k : 1;
		}
		c->query = dec_strndup(p + off, n - off);
		break;
	case COM_STMT_PREPARE:
	case COM_INIT_DB:
	case COM_CREATE_DB:
	case COM_DROP_DB:
		c->query = dec_strndup(p + 1, n - 1);
		break;
	case COM_FIELD_LIST:
		c->query = dec_strndup(p + 1, dec_cstr_len(p + 1, n - 1));
		c->rs = RS_FIELDS;
		break;
	case COM_STATISTICS:
		c->rs = RS_ONE;
		break;
	case COM_QUIT:
		c->no_response = 1;
		break;
	case COM_BINLOG_DUMP:
	case COM_BINLOG_DUMP_GTID:
		c->rs = RS_ROWS; /* events: 0x00-prefixed packets up to EOF or ERR */
		c->binary = 1;
		break;
	case COM_CHANGE_USER:
		/* "COM_CHANGE_USER": user, auth response, schema, ... */
		off = 1 + dec_cstr_len(p + 1, n - 1);
		c->cu_user = dec_strndup(p + 1, off - 1);
		off++;
		if (off < n) {
			if (!d->caps_known || (d->caps & CLIENT_SECURE_CONNECTION))
				off += 1 + (size_t)p[off];
			else
				off += dec_cstr_len(p + off, n - off) + 1;
		}
		if (off < n)
			c->cu_db = dec_strndup(p + off, dec_cstr_len(p + off, n - off));
		c->rs = RS_AUTH;
		break;
	case COM_STMT_EXECUTE:
	case COM_STMT_BULK_EXECUTE:
	case COM_STMT_FETCH:
	case COM_STMT_RESET:
	case COM_STMT_CLOSE:
	case COM_STMT_SEND_LONG_DATA:
		if (n < 5) {
			my_lost(d, DEC_DIR_REQ, "short statement command");
			return;
		}
		s = my_stmt_find(d, (uint32_t)cur_le32_at(p, n, 1));
		if (s)
			c->query = strdup(s->text);
		c->binary = 1;
		if (cmd == COM_STMT_FETCH)
			c->rs = RS_ROWS;
		if (cmd == COM_STMT_CLOSE || cmd == COM_STMT_SEND_LONG_DATA)
			c->no_response = 1;
		if (cmd == COM_STMT_CLOSE && s)
			my_stmt_drop(d, s);
		break;
	default:
		break;
	}
	if (a->total > a->msg_len && c->query)
		my_note(d, "%s of %llu bytes: text kept to its first %u bytes", my_cmd_name(cmd),
			(unsigned long long)a->total, (unsigned)MYSQL_MSG_CAP);
	if (a->damaged)
		my_note(d, "%s lost bytes in the middle; its text has a hole", my_cmd_name(cmd));
	if (c->no_response && d->q_len == 1)
		my_pop_silent(d);
}

static void my_req_msg(struct mysql *d, const struct my_asm *a, uint64_t ts)
{
	struct my_cmd *c;

	if (d->state != MY_S_CMD && (a->seq_first == 1 || a->seq_first == 2)) {
		my_handshake_response(d, a->msg, a->msg_len, ts, a->total);
		return;
	}
	if (a->seq_first == 0) {
		my_command(d, a, ts);
		return;
	}
	/* Client data inside a command (checked in my_start_ok): auth data, or the
	 * LOCAL INFILE contents, which end with an empty packet. */
	c = my_head(d);
	if (c)
		c->req_bytes += a->wire;
	if (c && c->rs == RS_INFILE_DATA && a->total == 0)
		c->rs = RS_INFILE_RESULT;
}

/* ---- framing ---- */

/* Is this header a plausible start of a message in dir? If not, the direction
 * is resynchronised (and 0 returned). */
static int my_start_ok(struct mysql *d, enum dec_dir dir, uint32_t len, uint8_t seq)
{
	struct my_cmd *c = my_head(d);
	char why[96];

	if (dir == DEC_DIR_REQ) {
		if (d->state == MY_S_GREETED) {
			if (seq == d->seq_next)
				return 1;
		} else if (d->state == MY_S_INIT && (seq == 1 || seq == 2) && len >= 32) {
			return 1; /* a handshake response (the first plaintext of a TLS stream) */
		} else if (seq == 0 && len > 0) {
			return 1;
		} else if (c && (c->rs == RS_AUTH || c->rs == RS_INFILE_DATA) &&
			   seq == d->seq_next) {
			return 1;
		}
		snprintf(why, sizeof(why), "unexpected client packet (sequence id %u, length %u)",
			 seq, len);
		my_lost(d, DEC_DIR_REQ, why);
		return 0;
	}
	if (d->state == MY_S_INIT) {
		if (seq == 0 && len < 65536)
			return 1;
		/* Not a greeting: the capture joined mid-connection. */
		d->state = MY_S_CMD;
		d->skip_resp = 1;
		return 0;
	}
	if (!c) {
		if (len < 65536)
			return 1; /* an ERR the server sends on its own; checked when complete */
		my_lost(d, DEC_DIR_RESP, "server packet without a command");
		return 0;
	}
	if (c->rs == RS_INFILE_DATA) {
		my_lost(d, DEC_DIR_RESP, "server packet while the client sends LOCAL INFILE data");
		return 0;
	}
	/* The head's first packet follows its command; a pipelined command's
	 * response may start while the head ends (unknown CLIENT_DEPRECATE_EOF). */
	if (seq != d->seq_next && !(!c->got_resp && seq == c->seq_after) &&
	    !(d->q_len > 1 && seq == d->q[(d->q_head + 1) % MYSQL_QUEUE_MAX].seq_after)) {
		snprintf(why, sizeof(why), "server packet with sequence id %u, expected %u", seq,
			 d->seq_next);
		my_lost(d, DEC_DIR_RESP, why);
		return 0;
	}
	return 1;
}

static void my_deliver(struct mysql *d, enum dec_dir dir, struct my_asm *a, uint64_t ts)
{
	/* Sequence ids run on across both directions within a command; a new
	 * command (id 0) sets its own start (my_push), which pipelining can queue. */
	if (dir == DEC_DIR_RESP || a->seq_first != 0 || d->state != MY_S_CMD)
		d->seq_next = (uint8_t)(a->seq_last + 1);
	if (dir == DEC_DIR_REQ)
		my_req_msg(d, a, ts);
	else
		my_resp_msg(d, a, ts);
}

static void my_asm_feed(struct mysql *d, enum dec_dir dir, const uint8_t *p, size_t n, uint64_t ts)
{
	struct my_asm *a = &d->as[dir];
	uint32_t len;
	uint8_t seq;
	size_t take, keep;

	for (;;) {
		if (d->dead || d->tls || d->closed)
			return;
		if ((dir == DEC_DIR_REQ && d->resync_req) || (dir == DEC_DIR_RESP && d->skip_resp))
			return; /* the rest of this write is dropped */
		if (!a->in_pkt) {
			while (a->hdr_have < 4 && n) {
				a->hdr[a->hdr_have++] = *p++;
				n--;
			}
			if (a->hdr_have < 4)
				return;
			a->hdr_have = 0;
			len = (uint32_t)cur_le24_at(a->hdr, sizeof(a->hdr), 0);
			seq = a->hdr[3];
			if (!a->started) {
				if (!my_start_ok(d, dir, len, seq))
					continue;
				a->started = 1;
				a->seq_first = seq;
				a->msg_len = 0;
				a->total = 0;
				a->damaged = 0;
				a->wire = 0;
			} else if (seq != (uint8_t)(a->seq_last + 1)) {
				my_lost(d, dir,
					"sequence id out of order inside a multi-packet message");
				continue;
			}
			a->seq_last = seq;
			a->wire += 4;
			a->pkt_left = len;
			a->more = len == MY_MAX_PKT;
			a->in_pkt = 1;
		}
		take = n < a->pkt_left ? n : a->pkt_left;
		keep = a->msg_len < MYSQL_MSG_CAP ? MYSQL_MSG_CAP - a->msg_len : 0;
		if (keep > take)
			keep = take;
		/* Rows are only counted: their bytes need not be kept beyond the first. */
		if (keep && a->msg_len + keep > a->msg_cap) {
			size_t cap = a->msg_cap ? a->msg_cap : 256;
			uint8_t *m;

			while (cap < a->msg_len + keep)
				cap *= 2;
			if (cap > MYSQL_MSG_CAP)
				cap = MYSQL_MSG_CAP;
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
		a->wire += take;
		a->pkt_left -= take;
		if (take) /* p is NULL when a gap completes a packet */
			p += take;
		n -= take;
		if (a->pkt_left)
			return;
		a->in_pkt = 0;
		if (a->more)
			continue;
		a->started = 0;
		my_deliver(d, dir, a, ts);
	}
}

/* Could p (avail bytes, the rest of a client write) start with a command packet?
 * at_start: p is the start of the write. */
static int my_cmd_plausible(const uint8_t *p, size_t avail, int at_start)
{
	uint32_t len = (uint32_t)cur_le24_at(p, avail, 0);
	const uint8_t *q = p + 4;
	size_t have = avail - 4, t;

	if (p[3] != 0 || len == 0 || len >= MY_MAX_PKT || have == 0)
		return 0;
	if (len < have)
		return 0; /* a command ends its write (no pipelining while resynchronising) */
	if (len > have && !at_start)
		return 0;
	switch (q[0]) {
	case COM_QUIT:
	case COM_PING:
	case COM_STATISTICS:
	case COM_DEBUG:
	case COM_PROCESS_INFO:
	case COM_RESET_CONNECTION:
		return len == 1;
	case COM_QUERY:
	case COM_STMT_PREPARE:
	case COM_INIT_DB:
	case COM_CREATE_DB:
	case COM_DROP_DB:
		if (len < 2)
			return 0;
		t = 1;
		if (q[0] == COM_QUERY && have >= 3 && q[1] == 0 && q[2] == 1)
			t = 3; /* query attributes, none */
		return have > t && dec_texty(q + t, (have < 64 ? have : 64) - t);
	case COM_FIELD_LIST:
		return len >= 2 && len == have && memchr(q + 1, 0, len - 1) != NULL;
	case COM_STMT_EXECUTE:
		return len >= 10 && cur_le32_at(q, have, 6) == 1; /* iteration count */
	case COM_STMT_CLOSE:
	case COM_STMT_RESET:
	case COM_PROCESS_KILL:
		return len == 5;
	case COM_STMT_FETCH:
		return len == 9;
	case COM_SET_OPTION:
		return len == 3;
	case COM_CHANGE_USER:
		return len >= 2 && len == have;
	}
	return 0;
}

/* Could p be a handshake response (or SSL request) that is one whole write? */
static int my_hs_plausible(const uint8_t *p, size_t n)
{
	size_t i;

	if (n < 36 || cur_le24_at(p, n, 0) + 4 != (int64_t)n || (p[3] != 1 && p[3] != 2))
		return 0;
	if (!(cur_le32_at(p, n, 4) & CLIENT_PROTOCOL_41))
		return 0;
	/* 23 filler bytes; MariaDB puts its extended capabilities in the last 4 */
	for (i = 13; i < 13 + 19; i++)
		if (p[i])
			return 0;
	return n > 36 || (cur_le32_at(p, n, 4) & CLIENT_SSL);
}

/* Resynchronise the client direction on a write: the offset of a command (or,
 * before the command phase, a handshake response), or -1. */
static long my_scan(struct mysql *d, const uint8_t *p, size_t n)
{
	size_t i;

	if (d->state != MY_S_CMD && my_hs_plausible(p, n))
		return 0;
	for (i = 0; i + 5 <= n; i++)
		if (my_cmd_plausible(p + i, n - i, i == 0))
			return (long)i;
	return -1;
}

/* ---- public face ---- */

struct mysql *mysql_new(dec_emit_fn emit, void *arg)
{
	struct mysql *d;

	if (!emit) {
		errno = EINVAL;
		return NULL;
	}
	d = calloc(1, sizeof(*d));
	if (!d) {
		errno = ENOMEM;
		return NULL;
	}
	d->emit = emit;
	d->arg = arg;
	dec_notes_init(&d->notes, emit, arg, DEC_P_MYSQL, "mysql", 1, MY_NOTES_MAX);
	d->state = MY_S_INIT;
	d->eof_mode = -1;
	/* The client's first bytes are taken as the start of a packet (the
	 * dispatcher chose this decoder on them); my_start_ok checks the header. */
	return d;
}

void mysql_feed(struct mysql *d, enum dec_dir dir, const uint8_t *buf, size_t len, uint64_t ts_ns)
{
	long off;

	if (!d || !buf || !len || (dir != DEC_DIR_REQ && dir != DEC_DIR_RESP))
		return;
	if (d->closed || d->dead || d->tls)
		return;
	d->last_ts[dir] = ts_ns;
	if (dir == DEC_DIR_REQ) {
		d->req_seen = 1;
		if (d->resync_req) {
			off = my_scan(d, buf, len);
			if (off < 0) {
				d->skipped[dir] += len;
				return;
			}
			d->skipped[dir] += (uint64_t)off;
			my_asm_reset(&d->as[DEC_DIR_REQ]);
			d->resync_req = 0;
			buf += off;
			len -= (size_t)off;
		}
	} else if (d->skip_resp) {
		d->skipped[dir] += len;
		return;
	}
	my_asm_feed(d, dir, buf, len, ts_ns);
}

void mysql_gap(struct mysql *d, enum dec_dir dir, uint64_t len)
{
	struct my_asm *a;
	char why[96];

	if (!d || !len || (dir != DEC_DIR_REQ && dir != DEC_DIR_RESP))
		return;
	if (d->closed || d->dead || d->tls)
		return;
	if ((dir == DEC_DIR_REQ && d->resync_req) || (dir == DEC_DIR_RESP && d->skip_resp))
		return; /* already looking for the next command */
	a = &d->as[dir];
	if (a->in_pkt && len <= a->pkt_left) {
		/* Inside a packet of known length: skip the hole, stay in step. */
		my_note(d, "%llu bytes lost inside a %s packet; skipped", (unsigned long long)len,
			dir == DEC_DIR_REQ ? "client" : "server");
		a->pkt_left -= (uint32_t)len;
		a->total += len;
		a->damaged = 1;
		my_asm_feed(d, dir, NULL, 0, d->last_ts[dir]);
		return;
	}
	snprintf(why, sizeof(why), "%llu bytes lost from the %s", (unsigned long long)len,
		 dir == DEC_DIR_REQ ? "client" : "server");
	my_lost(d, dir, why);
}

void mysql_close(struct mysql *d, uint64_t ts_ns)
{
	if (!d || d->closed)
		return;
	if (!d->dead && !d->tls) {
		int dir;

		for (dir = 0; dir < 2; dir++) {
			const struct my_asm *a = &d->as[dir];

			if (a->started || a->hdr_have)
				my_note(
				    d,
				    "connection closed inside a %s packet (%llu bytes of it seen)",
				    dir == DEC_DIR_REQ ? "client" : "server",
				    (unsigned long long)(a->started ? a->total + 4 : a->hdr_have));
		}
		if (d->skipped[0] || d->skipped[1])
			my_note(d,
				"%llu client and %llu server bytes skipped while looking for a "
				"packet boundary",
				(unsigned long long)d->skipped[0],
				(unsigned long long)d->skipped[1]);
	}
	my_flush(d);
	dec_notes_close(&d->notes, ts_ns);
	d->closed = 1;
}

void mysql_free(struct mysql *d)
{
	unsigned i;

	if (!d)
		return;
	while (d->q_len)
		my_pop(d);
	for (i = 0; i < d->n_stmts; i++)
		free(d->stmts[i].text);
	free(d->as[0].msg);
	free(d->as[1].msg);
	free(d->user);
	free(d->db);
	free(d);
}

int mysql_is_tls(const struct mysql *d)
{
	return d && d->tls;
}

int mysql_detect(const uint8_t *buf, size_t len, enum dec_dir dir)
{
	uint32_t plen;
	size_t i, end;

	if (!buf || !len)
		return len ? 0 : 1;
	if (len < 5) {
		/* The header alone decides little; wait for the first payload byte. */
		if (dir == DEC_DIR_RESP && len == 4 && buf[3] != 0)
			return 0;
		return 1;
	}
	plen = (uint32_t)cur_le24_at(buf, len, 0);
	if (dir == DEC_DIR_RESP) {
		/* "Protocol::HandshakeV10": protocol 10, a version string starting with a
		 * digit, thread id, 8 bytes of scramble and a zero filler. */
		if (buf[3] != 0 || buf[4] != 10 || plen < 30 || plen > 1024)
			return 0;
		end = 4 + (size_t)plen < len ? 4 + (size_t)plen : len;
		if (end > 5 && (buf[5] < '0' || buf[5] > '9'))
			return 0;
		for (i = 5; i < end; i++) {
			if (!buf[i])
				break;
			if (buf[i] < 0x20 || buf[i] > 0x7e)
				return 0;
		}
		if (i == end)
			return end == 4 + (size_t)plen || i - 5 > 64 ? 0 : 1;
		if (i + 1 + 4 + 8 + 1 > len)
			return 1;
		return buf[i + 1 + 4 + 8] == 0 ? 2 : 0;
	}
	if (buf[3] == 1 || buf[3] == 2) {
		/* Handshake response 4.1 or SSL request: capabilities with
		 * CLIENT_PROTOCOL_41, max packet size, charset, 23 filler bytes. */
		if (plen < 32 || plen > 65536)
			return 0;
		if (len < 6)
			return 1;
		if (!(cur_le16_at(buf, len, 4) & CLIENT_PROTOCOL_41))
			return 0;
		for (i = 13; i < 13 + 19 && i < len; i++)
			if (buf[i])
				return 0;
		return len < 13 + 19 ? 1 : 2;
	}
	if (buf[3] != 0)
		return 0;
	switch (buf[4]) {
	case COM_QUERY:
	case COM_STMT_PREPARE:
	case COM_INIT_DB:
		if (plen < 2 || plen > MYSQL_MSG_CAP)
			return 0;
		/* the statement starts with a letter, a parenthesis or a comment */
		if (len > 5 && !((buf[5] | 0x20) >= 'a' && (buf[5] | 0x20) <= 'z') &&
		    buf[5] != '(' && buf[5] != '/' && buf[5] != '-' && buf[5] != ' ' &&
		    buf[5] != '\n')
			return 0;
		end = 4 + (size_t)plen < len ? 4 + (size_t)plen : len;
		if (!dec_texty(buf + 5, end - 5))
			return 0;
		return len >= 4 + (size_t)plen ? 2 : 1;
	}
	return 0;
}
