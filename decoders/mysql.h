/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * MySQL / MariaDB client/server protocol decoder ("Client/Server Protocol" in
 * the MySQL source documentation; MariaDB's "Clients & Connectors > Client/Server
 * Protocol" pages for its extensions).
 *
 * Framing: packets of a 3-byte little-endian length and a 1-byte sequence id;
 * a payload of 0xffffff bytes continues in the next packet (payloads of 16 MiB
 * and more), and the pieces are joined into one message. Sequence ids are
 * checked: they run on across both directions within one command.
 *
 * Connection phase: the server's Initial Handshake v10 (version, capabilities,
 * auth plugin), the client's Handshake Response 4.1 or 3.20 (user, database with
 * CLIENT_CONNECT_WITH_DB), the authentication exchange (auth switch, more data)
 * up to OK or ERR. One DEC_R_MYSQL record "CONNECT" reports the login (its ERR,
 * if refused). An SSL Request (a short handshake response with CLIENT_SSL)
 * switches the connection to TLS: a note says so, mysql_is_tls() turns true and
 * further bytes are ignored (the plaintext, if captured, arrives through the TLS
 * capture as a new stream, which starts with the full handshake response,
 * sequence id 2, and is decoded from there). A compressed protocol is noted and
 * not decoded.
 *
 * Command phase: one DEC_R_MYSQL record per command with its result: OK
 * (rows = affected rows), ERR (error, error_code and, with CLIENT_PROTOCOL_41,
 * the 5-character sqlstate), result sets in the text and binary protocols
 * (columns of the first result set, rows counted over all
 * result sets of the command, e.g. for CALL or multi-statements; terminated by
 * EOF or, with CLIENT_DEPRECATE_EOF, by an OK packet), LOCAL INFILE requests
 * (the client's file data is skipped, rows = the final OK's affected rows).
 * COM_STMT_PREPARE remembers statement id -> text (MYSQL_STMT_MAX statements),
 * so COM_STMT_EXECUTE, COM_STMT_FETCH, COM_STMT_RESET and COM_STMT_CLOSE carry
 * the prepared text (statement id 0xffffffff, MariaDB's "the last prepared",
 * too). Commands without a response (COM_QUIT, COM_STMT_CLOSE,
 * COM_STMT_SEND_LONG_DATA) are reported at once. Pipelined commands wait in a
 * queue of at most MYSQL_QUEUE_MAX.
 *
 * A decoder started mid-connection (no handshake seen) does not give up: it
 * waits for a client packet with sequence id 0 that parses as a command and
 * ends where the client's write ends, discards server bytes until then, and
 * infers CLIENT_DEPRECATE_EOF from the packet after the column definitions.
 * Malformed input or lost bytes produce one DEC_R_NOTE and the same resync.
 *
 * Bounds: at most MYSQL_MSG_CAP bytes of a message are kept (a longer query's
 * text is cut, with a note). The first result set's column names and its
 * first DEC_RESULT_ROWS rows in the text protocol are kept as dec_mysql.result
 * (binary protocol rows are counted only); req_bytes/resp_bytes count the
 * command's and its response's packets, headers included.
 */
#ifndef ECAPTOP_DECODERS_MYSQL_H
#define ECAPTOP_DECODERS_MYSQL_H

#include <stddef.h>
#include <stdint.h>

#include "decoder.h"

#define MYSQL_MSG_CAP	(1024 * 1024)
#define MYSQL_QUEUE_MAX 64
#define MYSQL_STMT_MAX	256
/* More columns than this in a column count packet is taken as garbage
 * (MySQL and MariaDB allow 4096 columns per table). */
#define MYSQL_COLUMNS_MAX 65535

struct mysql;

/* A decoder that calls emit(rec, arg) for each record; arg is borrowed.
 * NULL + errno (ENOMEM) on failure. */
struct mysql *mysql_new(dec_emit_fn emit, void *arg);
/* Borrows buf for the call. ts_ns: capture time (Unix epoch ns) of the bytes. */
void mysql_feed(struct mysql *d, enum dec_dir dir, const uint8_t *buf, size_t len, uint64_t ts_ns);
/* len bytes of dir were lost. Inside a packet whose length is known the decoder
 * skips them and stays in step; otherwise it notes the loss and resynchronises
 * on the next command. */
void mysql_gap(struct mysql *d, enum dec_dir dir, uint64_t len);
/* End of connection: reports commands still waiting for a response (rows and
 * columns -1, no response time). Later feeds are ignored. */
void mysql_close(struct mysql *d, uint64_t ts_ns);
/* Accepts NULL. */
void mysql_free(struct mysql *d);
/* Does buf (the first bytes of one direction) look like MySQL? 2 = yes, 1 =
 * maybe (need more bytes), 0 = no. Yes for: the server's Initial Handshake v10
 * (dir RESP); the client's Handshake Response 4.1 or SSL Request (dir REQ;
 * sequence id 1, or 2 as the first plaintext of a TLS connection); and, for a
 * capture that starts mid-connection, a complete COM_QUERY / COM_STMT_PREPARE /
 * COM_INIT_DB packet with sequence id 0 and text at the start of buf (dir REQ). */
int mysql_detect(const uint8_t *buf, size_t len, enum dec_dir dir);

/* 1 once the client asked for SSL (the rest of the connection is TLS), else 0. */
int mysql_is_tls(const struct mysql *d);

#endif
