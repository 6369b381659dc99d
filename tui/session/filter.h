/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The filter language of the TUI (issue 4), compiled once and matched against
 * processes, connections, events and decoded records.
 *
 *   pid:N  uid:N  comm:NAME  proto:P  port:N  host:TEXT  status:N  cgroup:PATH
 *   /REGEX/  /REGEX/i  !TERM  key:a|b
 *
 * Space-separated terms are ANDed. `!` negates one term. Inside a key's value
 * `a|b` means either (a regex keeps its `|`). Meanings:
 *   pid, uid     the process's tgid / user id (decimal)
 *   comm         the command name, exactly (as the kernel keeps it: 15 bytes)
 *   proto        http (HTTP/1 and HTTP/2), http2, mysql, pgsql, bash, zsh,
 *                tls (captured from a TLS library), socket (plain socket)
 *   port         local or remote port
 *   host         case-insensitive substring of an address or the HTTP host
 *   status       HTTP status, exact ("404") or a class ("5xx")
 *   cgroup       the process's cgroup v2 path is PATH or below it, whole path
 *                components ("/system.slice" holds "/system.slice/nginx.service",
 *                not "/system.slice2"); a process whose cgroup is unknown does not
 *                match
 *   /REGEX/      PCRE2 over payload bytes and decoded text; /REGEX/i ignores case;
 *                write \/ for a slash inside the regex
 * A term whose field the subject does not have (status: on a shell command)
 * does not match; negated, it does.
 *
 * Not thread-safe: one filter is matched from one thread (pcre2 match data is
 * kept in the filter).
 */
#ifndef ECAPTOP_ENGINE_FILTER_H
#define ECAPTOP_ENGINE_FILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Protocol bits of filter_subject.protos. */
#define FILTER_P_HTTP	0x01 /* HTTP/1.x */
#define FILTER_P_HTTP2	0x02
#define FILTER_P_MYSQL	0x04
#define FILTER_P_PGSQL	0x08
#define FILTER_P_BASH	0x10
#define FILTER_P_ZSH	0x20
#define FILTER_P_TLS	0x40 /* plaintext from a TLS library */
#define FILTER_P_SOCKET 0x80 /* plaintext from a plain socket */

/* Fields a filter uses (filter_fields()); lets the store know which terms need
 * per-event data. */
#define FILTER_F_PID	0x001
#define FILTER_F_UID	0x002
#define FILTER_F_COMM	0x004
#define FILTER_F_PROTO	0x008
#define FILTER_F_PORT	0x010
#define FILTER_F_HOST	0x020
#define FILTER_F_STATUS 0x040
#define FILTER_F_REGEX	0x080
#define FILTER_F_CGROUP 0x100

#define FILTER_MAX_TEXT	 8
#define FILTER_MAX_HOSTS 4

/* What a filter is matched against. Everything is borrowed; a field is absent
 * when its has_ flag is false, its pointer NULL or its count 0. */
struct filter_subject {
	bool has_pid, has_uid;
	uint32_t pid, uid;
	const char *comm;
	const char *cgroup; /* "/a/b" as /proc/PID/cgroup shows it */
	uint32_t protos;    /* FILTER_P_* */
	uint16_t ports[2];
	size_t n_ports;
	const char *hosts[FILTER_MAX_HOSTS];
	size_t n_hosts;
	int status; /* 0: none */
	struct {
		const void *p;
		size_t len;
	} text[FILTER_MAX_TEXT];
	size_t n_text;
};

struct filter;

/* Compile text. On success returns the filter (an empty text gives a filter that
 * matches everything). On a syntax error returns NULL with errno = EINVAL and
 * writes a message into err and the offending term's byte offset and length in
 * text into *pos and *len (either may be NULL). NULL with errno = ENOMEM when out
 * of memory. Borrows text. */
struct filter *filter_compile(const char *text, char *err, size_t errlen, size_t *pos, size_t *len);
void filter_free(struct filter *f); /* accepts NULL */

/* Whether the subject passes. A NULL filter passes everything. Borrows both. */
bool filter_match(struct filter *f, const struct filter_subject *s);
/* FILTER_F_* bits of every field the filter uses (0 for NULL or empty). */
unsigned filter_fields(const struct filter *f);
/* The source text it was compiled from ("" for NULL). */
const char *filter_text(const struct filter *f);

/* The set to put in the kernel-side pid (uid) filter: the filter's positive,
 * top-level pid: (uid:) terms, intersected when there are several. Pushing them
 * to the kernel is sound whatever the other terms are, because every term must
 * hold for a row to pass. Writes at most max ids into ids and returns how many
 * (0: keep the kernel filter open: no such term, or a negated one only). An
 * intersection that is empty, or larger than max, returns 0 too (open), since
 * an empty kernel set would mean "everything". */
size_t filter_kernel_pids(const struct filter *f, uint32_t *ids, size_t max);
size_t filter_kernel_uids(const struct filter *f, uint32_t *ids, size_t max);

/* Protocol name (as in proto:NAME) to FILTER_P_* bit; 0 if unknown. */
uint32_t filter_proto_bit(const char *name, size_t len);

#endif
