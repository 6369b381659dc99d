/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The session store: every event the front end drains from the engine (or a
 * replay) goes through store_add(), which keeps
 *  - the process table (from data events and EC_K_EXEC/EC_K_EXIT),
 *  - the connection table (one per conn_id and pid: a socket shared after fork
 *    is one connection per process), each with its decoder dispatcher
 *    (decoders/stream.h),
 *  - the events and the decoded records ("items"), in arrival order, up to a cap
 *    (oldest evicted first, counted),
 * and views over them for the TUI: processes, connections (all or of one
 * process), events (all, of one process, of one connection), filtered by the
 * current filter (tui/session/filter.h) and sorted by a column, updated incrementally
 * within a time budget so a million stored items keep keypresses fast.
 *
 * Single-threaded: only the front end's thread calls these functions.
 *
 * Lifetimes. Processes and connections stay while any stored item refers to
 * them; a connection that is closed (its process exited) and a process that
 * exited are freed once their last item is evicted (in batch mode, where no
 * items are kept, at once). So pointers to them (and to items) are valid until
 * the next call of store_add() or store_update(); keep ids (pid, store_conn.id,
 * store_item.seq) across those calls and look them up again.
 */
#ifndef ECAPTOP_ENGINE_STORE_H
#define ECAPTOP_ENGINE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "decoders/decoder.h"
#include "decoders/util/strbuf.h"
#include "engine/event.h"
#include "tui/session/filter.h"

#define STORE_DEFAULT_MAX 1000000
/* The byte budget's default: what the store counts is below what its items, exchanges
 * and decoders take from malloc (tests/bench/synth.c store), so with the engine's
 * buffers (about 70 MiB, most of it the ring buffer mapped twice) an interactive
 * ecaptop stays under 256 MiB resident (233 MiB measured). */
#define STORE_DEFAULT_MAX_BYTES (96ull << 20)

struct store_opts {
	size_t max_events; /* cap on stored items (events and records); 0 = STORE_DEFAULT_MAX */
	/* cap on the bytes stored items hold (the item, its event or record copy, its
	 * index entries, allocator overhead), oldest evicted first; 0 =
	 * STORE_DEFAULT_MAX_BYTES */
	uint64_t max_bytes;
	bool keep; /* false in batch mode: keep tables and decoders, not the events */
};

/* Read-only for everyone but the store; fields after "private" are the store's. */
struct store_proc {
	uint32_t pid, ppid, uid;
	char comm[EC_COMM_LEN]; /* NUL-terminated */
	char *cmdline;		/* from the last exec (arguments joined by spaces; a child that
			* forked without exec: its parent's), or NULL */
	char *cgroup;		/* cgroup v2 path ("/system.slice/x.service"), or NULL if unknown */
	uint64_t start_ns;	/* when it started (Unix epoch ns; 0: unknown): with the pid,
			    * its identity (a reused pid is a new process) */
	bool forked;		/* it forked and has not exec'd (runs its parent's program) */
	uint64_t first_ns, last_ns;	 /* first and last activity, Unix epoch ns */
	uint64_t bytes_sent, bytes_recv; /* payload bytes of its connections */
	uint64_t events;   /* items (events and records) seen for it, evicted or not */
	uint32_t conns;	   /* connections seen */
	uint32_t commands; /* shell commands and server-side queries seen */
	bool exited;
	/* private */
	bool start_coarse;     /* start_ns from /proc (a clock tick's precision) */
	uint64_t n_items;      /* stored items referring to it */
	uint32_t n_conns_live; /* connections in the table referring to it */
	bool in_map;
	uint64_t hit_gen;
	struct store_conn *conn_head; /* its connections, newest first */
	struct store_seqlist *items;  /* seqs of its stored items */
};

struct store_conn {
	uint64_t id;	  /* unique in this store, from 1 */
	uint64_t conn_id; /* the kernel's identity of the socket */
	uint32_t pid, tid, uid;
	char comm[EC_COMM_LEN];
	uint32_t source; /* enum ec_source */
	uint8_t family;	 /* EC_AF_* */
	uint16_t lport, rport;
	uint8_t laddr[16], raddr[16];
	char laddr_str[48], raddr_str[48]; /* formatted addresses, "" if unknown */
	enum dec_proto proto;		   /* as detected by the dispatcher */
	int local_is_client;		   /* 1 client, 0 server, -1 not known yet */
	char host[64];			   /* HTTP Host of its first request, "" if none */
	uint64_t bytes_sent, bytes_recv;
	uint64_t requests; /* decoded exchanges */
	uint64_t events;
	uint64_t first_ns, last_ns;
	bool closed;
	/* private */
	struct store *st;
	struct store_proc *proc;
	struct dec_stream *ds;
	struct store_conn *proc_next;
	uint64_t n_items;
	uint64_t hit_gen;
	struct store_seqlist *items;
	bool in_map;
	uint64_t cur_ts; /* time of the event being fed */
};

enum store_item_type {
	STORE_I_EVENT = 1,  /* a captured event (ev) */
	STORE_I_RECORD = 2, /* a record decoded from a connection (rec) */
};

struct store_item {
	uint64_t seq;		 /* arrival number, from 1 */
	uint64_t ts_ns;		 /* event time, or the record's request (else response) time */
	uint8_t type;		 /* enum store_item_type */
	uint8_t proto;		 /* enum dec_proto of its connection when it was stored */
	bool visible;		 /* a row of the events panels: records, commands, queries,
		       * execs, and data of connections no decoder understood */
	uint32_t mem;		 /* private: bytes counted against max_bytes */
	struct store_proc *proc; /* never NULL */
	struct store_conn *conn; /* NULL if it is not connection data */
	struct ec_event *ev;	 /* STORE_I_EVENT: owned by the store */
	struct dec_record *rec;	 /* STORE_I_RECORD: a deep copy, owned by the store */
};

struct store_stats {
	uint64_t added;	       /* events given to store_add */
	uint64_t records;      /* records decoded */
	uint64_t stored;       /* items stored now */
	uint64_t evicted;      /* items evicted by the cap or the byte budget */
	uint64_t evicted_mem;  /* ... of which by the byte budget (max_bytes) */
	uint64_t mem;	       /* bytes the stored items hold now (see max_bytes) */
	uint64_t procs, conns; /* table sizes now */
	uint64_t bytes;	       /* payload bytes of data events */
	uint64_t alloc_failed; /* items dropped for lack of memory */
};

struct store;

/* NULL with errno on failure. Borrows o (NULL: defaults). */
struct store *store_new(const struct store_opts *o);
void store_free(struct store *st); /* accepts NULL */
/* Takes ev (frees it, or keeps it as an item). An EC_K_RESET event (a replay's
 * restart marker) is freed and otherwise ignored: the front end resets. */
void store_add(struct store *st, struct ec_event *ev);
/* Drop every process, connection and item, as if the store were new (same
 * options, sink and filter): a replay went back and rebuilds from its start.
 * Numbering starts again, so the same events give the same pids, store_conn.id
 * and store_item.seq as before. Views stay valid: they are empty until their
 * next store_view_update(), which rebuilds them. Every pointer into the store
 * is invalid afterwards. */
void store_reset(struct store *st);

/* Batch mode: called in order for each event (before its bytes are decoded) and
 * each decoded record. All pointers are borrowed for the duration of the call. */
struct store_sink {
	void (*event)(const struct ec_event *ev, const struct store_conn *c /* NULL if not data */,
		      void *arg);
	void (*record)(const struct dec_record *rec, const struct store_conn *c, void *arg);
	void *arg;
};
void store_set_sink(struct store *st, const struct store_sink *sink); /* borrows sink */

/* Close every open connection (flushing its decoder's pending records) at time
 * ts_ns: the end of a batch run or replay. */
void store_close_all(struct store *st, uint64_t ts_ns);

void store_get_stats(const struct store *st, struct store_stats *out);

/* Lookups; NULL if not (or no longer) stored. */
struct store_proc *store_proc_get(struct store *st, uint32_t pid);
struct store_conn *store_conn_get(struct store *st, uint64_t id);
struct store_item *store_item_get(struct store *st, uint64_t seq);
/* Seqs of the oldest and next item: stored items are [first, next). */
uint64_t store_first_seq(const struct store *st);
uint64_t store_next_seq(const struct store *st);

/* Replace the current filter; takes f (NULL = everything passes). Views rebuild
 * on their next update. */
void store_set_filter(struct store *st, struct filter *f);
const struct filter *store_get_filter(const struct store *st);
/* Changes whenever the filter does (and at a reset). */
uint64_t store_filter_gen(const struct store *st);
/* Advance the filter over newly stored items (and, after a filter change, over
 * every stored item) for at most budget_ns. Returns true when it has caught up.
 * Call once per frame before updating views. */
bool store_update(struct store *st, uint64_t budget_ns);
/* Filtering progress after a filter change: items examined and items stored. */
void store_filter_progress(const struct store *st, uint64_t *done, uint64_t *total);

/* Whether a process / connection / item passes the current filter. A process or
 * connection that the filter cannot judge by its own fields (a regex, status:,
 * or for a process proto:/port:/host:) passes when one of its items (or, for a
 * process, connections) passed. */
bool store_proc_passes(struct store *st, struct store_proc *p);
bool store_conn_passes(struct store *st, struct store_conn *c);
bool store_item_passes(struct store *st, const struct store_item *it);

/* The text of an item for the detail panel and for /REGEX/: a record's request
 * line, headers, bodies, query and result; an event's payload (NUL bytes of an
 * exec's command line as spaces). Appends to sb. Borrows both. */
void store_item_text(const struct store_item *it, struct strbuf *sb);
/* The raw bytes of an item for the hex view: an event's payload, or a record's
 * request and response bodies (or query text). Appends to sb. */
void store_item_bytes(const struct store_item *it, struct strbuf *sb);

/* Views. */
enum store_view_kind { STORE_V_PROCS, STORE_V_CONNS, STORE_V_EVENTS };

enum store_col {
	STORE_COL_PID,
	STORE_COL_USER,
	STORE_COL_COMM,
	STORE_COL_CONNS,
	STORE_COL_RECV,
	STORE_COL_SENT,
	STORE_COL_EVENTS,
	STORE_COL_LAST,
	STORE_COL_PROTO,
	STORE_COL_LOCAL,
	STORE_COL_REMOTE,
	STORE_COL_REQUESTS,
	STORE_COL_TIME,
	STORE_COL_SIZE,
	STORE_COL_MAX
};

/* "pid", "user", ...: the column's name for the sort picker. */
const char *store_col_name(enum store_col c);
/* The columns a view of kind can sort by, in display order; returns how many. */
size_t store_view_cols(enum store_view_kind kind, const enum store_col **cols);

struct store_view;
/* A view of kind over st (borrowed; free views before the store). NULL + errno. */
struct store_view *store_view_new(struct store *st, enum store_view_kind kind);
void store_view_free(struct store_view *v); /* accepts NULL */
/* Limit a view to one process (pid, 0 = all) and, for events, one connection
 * (store_conn.id, 0 = all). Connections views ignore conn. */
void store_view_scope(struct store_view *v, uint32_t pid, uint64_t conn);
/* Sort by col (one of store_view_cols()), descending if desc. Default: procs and
 * connections by last activity descending, events by time ascending. */
void store_view_sort(struct store_view *v, enum store_col col, bool desc);
enum store_col store_view_sort_col(const struct store_view *v);
bool store_view_sort_desc(const struct store_view *v);
/* Bring the view up to date with the store within budget_ns (events views) and
 * return true when complete. Procs and connections views re-filter and re-sort
 * when the filter, sort or scope changed, a row went away, or at most once a
 * second while their tables change (so rows do not jump under the cursor). */
bool store_view_update(struct store_view *v, uint64_t budget_ns);
/* Idle processes (no connection, no command or query) in a procs view of all
 * processes, and exec rows in an events view, are hidden unless show (default
 * false); store_view_hidden() counts what the last update hid. */
void store_view_show_idle(struct store_view *v, bool show);
size_t store_view_hidden(const struct store_view *v);
/* Re-sort procs/connections views at the next update, whatever the time. */
void store_view_refresh(struct store_view *v);
size_t store_view_len(const struct store_view *v);
/* Row i (0-based) of the view, NULL past the end or of another kind. */
struct store_proc *store_view_proc(const struct store_view *v, size_t i);
struct store_conn *store_view_conn(const struct store_view *v, size_t i);
struct store_item *store_view_item(const struct store_view *v, size_t i);

/* The filter's protocol bits (FILTER_P_*) of a decoded protocol and of an
 * event source (enum ec_source). */
uint32_t store_proto_bits(enum dec_proto p);
uint32_t store_source_bits(uint32_t source);

/* Monotonic clock in ns (CLOCK_MONOTONIC), for budgets. */
uint64_t store_now_ns(void);

#endif
