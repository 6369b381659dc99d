/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Exchanges (issue 14): one row per HTTP request and its response, SQL query
 * and its result, shell command and its exit status, kept by the store beside
 * its items.
 *
 * An exchange exists as soon as its request is seen: the store hands every
 * data event here after its decoder has run, and a request that starts the
 * event (an HTTP/1 request line, a PostgreSQL Query or Parse, a MySQL
 * COM_QUERY/COM_STMT_PREPARE) opens a pending exchange at once; the decoder's
 * record completes it (the oldest pending one of the connection that has the
 * same method and target, else a new one). A shell command is pending from the
 * moment it is entered until its status record comes. A connection that ends
 * with exchanges still pending closes them as "no response".
 *
 * Both ends: when the client and the server of a connection are both captured
 * (two processes on this machine), their n-th exchanges are one row with both
 * processes (HTTP/2 exchanges are paired by stream id).
 *
 * The table keeps the newest exch_cap exchanges (oldest dropped first and
 * counted). Single-threaded like the store.
 */
#ifndef ECAPTOP_SESSION_EXCHANGES_H
#define ECAPTOP_SESSION_EXCHANGES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "decoders/decoder.h"
#include "engine/event.h"

struct store;
struct store_conn;
struct store_proc;
struct filter;

enum exch_kind { EXCH_HTTP = 1, EXCH_MYSQL, EXCH_PGSQL, EXCH_SHELL };

/* One end of an exchange. pid 0: that end was not captured. */
struct exch_end {
	uint32_t pid, uid;
	char comm[EC_COMM_LEN];
	uint64_t conn;	 /* store_conn.id, 0 for a shell */
	uint64_t seq;	 /* the store item of its record (or command event), 0 if none */
	uint64_t req_ns; /* when this end saw the request; 0 if not */
	uint64_t resp_ns;
	uint32_t source; /* enum ec_source of its events */
	bool done;	 /* its record (or status) came */
};

struct store_exch {
	uint64_t id;		  /* from 1 */
	uint8_t kind;		  /* enum exch_kind */
	uint8_t proto;		  /* enum dec_proto (DEC_P_UNKNOWN for a shell) */
	bool pending;		  /* no answer yet */
	bool no_answer;		  /* closed without an answer */
	uint64_t start_ns;	  /* the request, Unix epoch ns */
	uint64_t latency_ns;	  /* request to answer; 0 while pending */
	struct exch_end cli, srv; /* a shell command is its cli end */
	char method[24];	  /* GET, COM_QUERY, Query, Parse, bash */
	char *target;		  /* path, query text, command line (never NULL) */
	char host[64];		  /* HTTP host or :authority */
	int status;		  /* HTTP status; shell exit status + 1; 0 none */
	char *error;		  /* SQL error message, or NULL */
	char sqlstate[6];
	uint32_t stream_id; /* HTTP/2 */
	uint64_t req_bytes, resp_bytes;
	int64_t rows; /* SQL rows, -1 unknown */
	uint16_t srv_port;
	char srv_addr[48];
};

struct exch_stats {
	uint64_t total;	  /* exchanges made */
	uint64_t stored;  /* in the table now */
	uint64_t evicted; /* dropped by the cap */
	uint64_t pending; /* in the table and pending */
	uint64_t merged;  /* exchanges seen from both ends */
};

/* The table; NULL + errno. cap: 0 = a default. */
struct exch_table *exch_new(size_t cap);
void exch_free(struct exch_table *t); /* accepts NULL */
void exch_reset(struct exch_table *t);

/* Called by the store (tui/session/store.c). */
void exch_on_data(struct exch_table *t, struct store_conn *c, const struct ec_event *ev,
		  uint64_t seq);
void exch_on_record(struct exch_table *t, struct store_conn *c, const struct dec_record *rec,
		    uint64_t seq);
void exch_on_command(struct exch_table *t, struct store_proc *p, const struct ec_event *ev,
		     uint64_t seq);
void exch_on_close(struct exch_table *t, struct store_conn *c, uint64_t ts_ns);

/* For the front ends. */
struct exch_table *store_exchanges(struct store *st);
void exch_get_stats(const struct exch_table *t, struct exch_stats *out);
/* Exchanges are numbered [first, next); NULL if evicted or not yet made. */
uint64_t exch_first_id(const struct exch_table *t);
uint64_t exch_next_id(const struct exch_table *t);
struct store_exch *exch_get(const struct exch_table *t, uint64_t id);
/* Bumped whenever an exchange is made, completed or dropped. */
uint64_t exch_mod(const struct exch_table *t);
/* Whether x passes the store's current filter: either end as a subject (pid,
 * uid, comm, ports, host, status, proto; a regex over method, target and error). */
bool exch_passes(struct store *st, const struct store_exch *x);
/* The status column: "200", "ERR 42P01", "exit 1", "pending", "no answer". */
const char *exch_status_text(const struct store_exch *x, char *buf, size_t size);
/* Whether it counts as an error: HTTP >= 500 (>= 400 with client_err),
 * an SQL error, a non-zero exit, no answer. */
bool exch_is_error(const struct store_exch *x);
/* Protocol name: http, http2, mysql, pgsql, bash, zsh. */
const char *exch_proto_name(const struct store_exch *x);

#endif
