/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * PostgreSQL frontend/backend protocol version 3 decoder (PostgreSQL
 * documentation, chapter "Frontend/Backend Protocol": "Message Flow" and
 * "Message Formats").
 *
 * Start-up: StartupMessage (user; database, which defaults to the user),
 * SSLRequest and GSSENCRequest with the server's one-byte answer ('S' or 'G':
 * the rest is encrypted, a note says so, pgsql_is_tls() turns true and further
 * bytes are ignored; 'N': the start-up goes on in plain text), CancelRequest
 * (noted), authentication requests, ParameterStatus, BackendKeyData, up to the
 * first ReadyForQuery. A start-up refused with an ErrorResponse is reported as
 * a record without a query.
 *
 * Queries: the server answers client messages in order, so each client
 * message that gets an answer waits in a queue (PGSQL_QUEUE_MAX) and server
 * messages are matched to its head. Records (DEC_R_PGSQL):
 * - simple Query: one record per Query message, ended by ReadyForQuery; for a
 *   multi-statement query the CommandComplete tags are joined with "; " and
 *   rows is the sum over the statements; error is the first ErrorResponse;
 * - extended protocol: one record per Execute, with the text of the statement
 *   its portal was bound to (Parse remembers statement name -> text, Bind portal
 *   -> text; named and unnamed statements and portals; Close forgets). The
 *   request time is that of the first Parse/Bind/Describe sent since the
 *   previous Execute or Sync. An ErrorResponse makes the server skip to Sync:
 *   the error goes to the first Execute before that Sync, or to a record for
 *   the failing Parse/Bind if there is none;
 * - FunctionCall: a record without query text.
 * rows: from the CommandComplete tag (INSERT/UPDATE/DELETE/SELECT/MOVE/FETCH/
 * COPY/MERGE n), else the DataRows counted, else the CopyData messages of a
 * COPY, else -1. COPY data in either direction is skipped and counted.
 * NoticeResponse, NotificationResponse and ParameterStatus may come at any
 * time and are skipped.
 *
 * A decoder started mid-connection resynchronises on message boundaries: a
 * client write that parses as a chain of client messages ending at the write's
 * end, and for the server, such a chain at the start of a write or a
 * ReadyForQuery message ('Z', length 5, status I/T/E) anywhere. Malformed input
 * or lost bytes produce one DEC_R_NOTE and the same resync.
 *
 * Bounds: at most PGSQL_MSG_CAP bytes of a message are kept (a longer query's
 * text is cut, with a note); DataRow bodies are kept only for a query's first
 * rows (dec_pgsql.result: the first result set's RowDescription names, or
 * for an Execute those of the Describe before it, and its first
 * DEC_RESULT_ROWS DataRows), CopyData bodies are counted, never kept; at most PGSQL_NAMES_MAX statements and as many portals are remembered.
 */
#ifndef ECAPTOP_DECODERS_PGSQL_H
#define ECAPTOP_DECODERS_PGSQL_H

#include <stddef.h>
#include <stdint.h>

#include "decoder.h"

#define PGSQL_MSG_CAP	(1024 * 1024)
#define PGSQL_QUEUE_MAX 1024
#define PGSQL_NAMES_MAX 256

struct pgsql;

/* A decoder that calls emit(rec, arg) for each record; arg is borrowed.
 * NULL + errno (ENOMEM) on failure. */
struct pgsql *pgsql_new(dec_emit_fn emit, void *arg);
/* Borrows buf for the call. ts_ns: capture time (Unix epoch ns) of the bytes. */
void pgsql_feed(struct pgsql *d, enum dec_dir dir, const uint8_t *buf, size_t len, uint64_t ts_ns);
/* len bytes of dir were lost. Inside a message whose length is known the
 * decoder skips them and stays in step; otherwise it notes the loss and
 * resynchronises. */
void pgsql_gap(struct pgsql *d, enum dec_dir dir, uint64_t len);
/* End of connection: reports queries still waiting for their result (rows -1,
 * no response time). Later feeds are ignored. */
void pgsql_close(struct pgsql *d, uint64_t ts_ns);
/* Accepts NULL. */
void pgsql_free(struct pgsql *d);
/* Does buf (the first bytes of one direction) look like PostgreSQL? 2 = yes,
 * 1 = maybe (need more bytes), 0 = no. Yes for, in dir REQ: a StartupMessage
 * (protocol 3.x), SSLRequest (80877103), GSSENCRequest (80877104) or
 * CancelRequest (80877102); and, for a capture that starts mid-connection, one
 * complete simple Query message ('Q', length, text, NUL) that is all of buf.
 * In dir RESP: an Authentication request ('R') as the server's first message. */
int pgsql_detect(const uint8_t *buf, size_t len, enum dec_dir dir);

/* 1 once the server accepted SSL or GSSAPI encryption (the rest of the
 * connection is encrypted), else 0. */
int pgsql_is_tls(const struct pgsql *d);

#endif
