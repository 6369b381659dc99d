/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * What the TUI's `w` saves, and saving it (issue 13).
 *
 * With tags (one count for the whole session: processes, connections and event
 * rows tagged in any panel), exactly the tagged rows: a process row its
 * process's events, a connection row its connection's data, a record row its
 * exchange (the connection's data from the first request byte to the last
 * response byte, as TCP segments after a handshake), any other event row that
 * event. A tagged row the current filter hides is left out, and the prompt says
 * how many were.
 *
 * Without tags, what passes the filter, at the level of the rows the filter
 * selects: no filter, everything; a regex or status: term, the exchanges and
 * events whose rows pass; proto:, port: or host: terms, the connections that
 * pass (and the non-connection events that pass); pid:, uid: or comm: terms
 * only, the processes that pass.
 *
 * Either way, the exec and exit events of every process with events saved go
 * too (journal entries, no packets), so a replay of the file knows their
 * command line and that they exited.
 *
 * The file's section header and the message after saving name the tshark
 * options that decode the saved protocols on their ports
 * (-d tcp.port==N,PROTO), from each connection's detected protocol.
 */
#ifndef ECAPTOP_TUI_SAVE_H
#define ECAPTOP_TUI_SAVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct screen;

struct save_plan {
	uint64_t exchanges;   /* decoded exchanges saved */
	uint64_t conns;	      /* connections (store connections) with saved data */
	uint64_t events;      /* events saved */
	uint64_t bytes;	      /* their payload bytes */
	uint64_t hidden_tags; /* tagged rows the filter hides: not saved */
	size_t tags;	      /* rows tagged in the session */
	char decode[256];     /* "-d tcp.port==N,proto ..." for tshark, "" if none */
};

/* Rows tagged in all panels. */
size_t save_tag_count(const struct screen *s);
/* Untag every row of every panel. */
void save_clear_tags(struct screen *s);
/* What `w` would save now. */
void save_plan(struct screen *s, struct save_plan *p);
/* A one-line description of p for the prompt, into buf. */
void save_describe(const struct save_plan *p, char *buf, size_t len);
/* Save the selection to path ("name!" overwrites, as in vi). Writes the
 * message to show into msg; returns 0, or -errno (msg says why; -EEXIST when
 * the file exists). */
int save_write(struct screen *s, const char *path, char *msg, size_t msglen);

#endif
