/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Decoders: pure byte-stream parsers. A decoder is fed the bytes of one
 * connection, per direction, in order, and emits structured records through a
 * callback. Decoders know nothing of where the bytes came from (TLS plaintext,
 * a plain socket, a replayed capture) and never read past what they were given.
 *
 * Directions are named from the point of view of the connection's client:
 * DEC_DIR_REQ carries requests (client to server), DEC_DIR_RESP responses.
 * The caller (the session store) maps send/recv of the observed process to
 * these, using the detected role of the process.
 */
#ifndef ECAPTOP_DECODERS_DECODER_H
#define ECAPTOP_DECODERS_DECODER_H

#include <stddef.h>
#include <stdint.h>

enum dec_dir {
	DEC_DIR_REQ = 0,
	DEC_DIR_RESP = 1,
};

enum dec_proto {
	DEC_P_UNKNOWN = 0,
	DEC_P_HTTP1,
	DEC_P_HTTP2,
	DEC_P_MYSQL,
	DEC_P_PGSQL,
	DEC_P_TLS, /* the bytes are TLS records (ciphertext) */
	DEC_P_MAX
};

/* Short lower-case name: "http", "http2", "mysql", "pgsql", "tls", "unknown". */
const char *dec_proto_name(enum dec_proto p);

enum dec_rec_type {
	DEC_R_HTTP = 1, /* one request/response exchange (HTTP/1.x or HTTP/2) */
	DEC_R_MYSQL,	/* one command and its result */
	DEC_R_PGSQL,	/* one query (simple or extended) and its result */
	DEC_R_NOTE,	/* a stream-level notice: malformed input, lost bytes, resync */
	DEC_R_FRAMES,	/* HTTP/2 control frames named (http2_name_frames) */
};

struct dec_header {
	const char *name;  /* borrowed, NUL-terminated */
	const char *value; /* borrowed, NUL-terminated */
};

struct dec_http {
	const char *version; /* the request's: "1.0", "1.1", "2" (the response's if no request) */
	/* The response's own version ("1.0", "1.1", "2"), "" if no response was
	 * seen: a server may answer HTTP/1.1 with HTTP/1.0. Held in the record, so
	 * a copy of the record needs no pointer fix-up for it. */
	char resp_version[4];
	const char *method; /* NULL for a response without a seen request */
	const char *path;
	const char *host; /* Host header or :authority, NULL if absent */
	int status;	  /* 0 if no response (yet) */
	const char *reason;
	uint32_t stream_id; /* HTTP/2 stream, 0 for HTTP/1 */
	const struct dec_header *req_headers;
	size_t n_req_headers;
	const struct dec_header *resp_headers;
	size_t n_resp_headers;
	/* Bodies as decoded (dechunked, decompressed), capped at DEC_BODY_CAP;
	 * *_body_truncated says the cap was hit. */
	const uint8_t *req_body;
	size_t req_body_len;
	int req_body_truncated;
	const uint8_t *resp_body;
	size_t resp_body_len;
	int resp_body_truncated;
	uint64_t req_bytes; /* bytes on the wire, headers included */
	uint64_t resp_bytes;
};

struct dec_mysql {
	const char *command; /* "COM_QUERY", "COM_STMT_EXECUTE", ... */
	const char *query;   /* statement text (for EXECUTE: the prepared text), or NULL */
	int64_t rows;	     /* rows in a result set, or affected rows for OK; -1 unknown */
	int64_t columns;     /* columns of a result set, -1 if none */
	const char *error;   /* ERR message, NULL if none */
	int error_code;	     /* ERR code, 0 if none */
	/* ERR SQL state, the 5 characters after '#' (CLIENT_PROTOCOL_41), NULL if none */
	const char *sqlstate;
	const char *user; /* from the handshake response, NULL if not seen */
	const char *database;
	/* The first result set's column names and first rows (text protocol
	 * rows only), see DEC_RESULT_ROWS; NULL if none. */
	const char *result;
	uint64_t req_bytes; /* the command's packets on the wire, headers included */
	uint64_t resp_bytes;
};

struct dec_pgsql {
	const char *query;    /* simple query text or the Parse'd statement */
	const char *tag;      /* CommandComplete tag, e.g. "SELECT 3" */
	int64_t rows;	      /* rows from the tag or DataRow count; -1 unknown */
	const char *error;    /* ErrorResponse message (M field) */
	const char *sqlstate; /* ErrorResponse code (C field) */
	const char *user;     /* from the startup message */
	const char *database;
	const char *result; /* the first result set's names and first rows, or NULL */
	/* Bytes on the wire, type and length included, of the client messages
	 * the query is made of (for an Execute: its batch's Parse, Bind, Describe
	 * and Execute) and of the server's answer to it (for an Execute: its rows
	 * and completion). */
	uint64_t req_bytes;
	uint64_t resp_bytes;
};

struct dec_note {
	const char *text; /* e.g. "malformed HTTP/1 response: bad status line; resynchronising" */
};

struct dec_frames {
	/* "SETTINGS MAX_CONCURRENT_STREAMS=100, WINDOW_UPDATE +983041" */
	const char *text;
	uint32_t count; /* frames named (text may stop short of them: "(+N more)") */
	uint32_t dir;	/* enum dec_dir: who sent them */
};

struct dec_record {
	enum dec_rec_type type;
	enum dec_proto proto;
	uint64_t req_ts_ns;  /* time of the first request byte, 0 if unknown */
	uint64_t resp_ts_ns; /* time of the last response byte, 0 if none */
	uint64_t latency_us; /* resp_ts - req_ts in microseconds, 0 if unknown */
	union {
		struct dec_http http;
		struct dec_mysql mysql;
		struct dec_pgsql pgsql;
		struct dec_note note;
		struct dec_frames frames;
	};
};

/* Everything in a record is borrowed: valid only during the callback. */
typedef void (*dec_emit_fn)(const struct dec_record *rec, void *arg);

/* A SQL result set's first rows for display (dec_mysql.result,
 * dec_pgsql.result): one line of column names, then at most DEC_RESULT_ROWS
 * rows, each line ending in '\n' and its fields separated by '\t'. In a
 * field a tab, line feed and backslash are written \t, \n and \\, other
 * control bytes \xHH, SQL NULL \N; a field longer than DEC_RESULT_FIELD_CAP
 * bytes is cut and ends in "...". A row that would take the text past
 * DEC_RESULT_CAP bytes is left out, and so are the rows after it. */
#define DEC_RESULT_ROWS	     10
#define DEC_RESULT_FIELD_CAP 64
#define DEC_RESULT_CAP	     4096

/* Cap on decoded bodies kept for display. */
#define DEC_BODY_CAP (64 * 1024)

#endif
