/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Text formatting for the panels: sizes, times, user names, and the one-line
 * summary of an event or record ("GET /path -> 200 12 ms", "bash: ls -la").
 */
#ifndef ECAPTOP_TUI_FORMAT_H
#define ECAPTOP_TUI_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "decoders/util/strbuf.h"
#include "tui/session/store.h"

/* "0", "999", "1.2K", "3.4M", "5.6G" (powers of 1024). Returns buf. */
char *fmt_bytes(uint64_t n, char *buf, size_t len);
/* Unix epoch ns as local "HH:MM:SS.mmm". Returns buf. */
char *fmt_clock(uint64_t ts_ns, char *buf, size_t len);
/* Time since ts_ns (Unix epoch ns) until now: "4s", "12m", "3h", "2d"; "-" if 0. */
char *fmt_age(uint64_t ts_ns, uint64_t now_ns, char *buf, size_t len);
/* A duration with a unit that keeps it readable: "850 ns", "198 µs" ("us"
 * without UTF-8), "2.31 ms", "140 ms", "1.25 s", "2m05s". Returns buf. */
char *fmt_duration(uint64_t ns, char *buf, size_t len);
/* User name of uid, or the number. Cached. Returns a pointer valid until the next call. */
const char *fmt_user(uint32_t uid);
/* "→" where the terminal speaks UTF-8, "->" otherwise. */
const char *fmt_arrow(void);
void fmt_set_utf8(bool on);
/* A protocol label for an item or connection: http, http2, mysql, pgsql, tls,
 * bash, zsh, mysqld, postgres, exec, exit, or the capture source for raw data. */
const char *fmt_proto_conn(const struct store_conn *c);
const char *fmt_proto_item(const struct store_item *it);
/* The summary line of an item, appended to sb (printable ASCII/UTF-8 only). */
void fmt_summary(const struct store_item *it, struct strbuf *sb);
/* Copy at most len bytes of s into sb with control bytes as '.', invalid UTF-8
 * as '?' (so the screen never receives escape sequences). */
void fmt_printable(struct strbuf *sb, const void *s, size_t len);
/* "addr:port" (IPv6 in brackets) of one side of a connection. */
char *fmt_endpoint(const char *addr, uint16_t port, char *buf, size_t len);

#endif
