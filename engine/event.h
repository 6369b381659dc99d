/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * struct ec_event: one captured record as user space sees it, allocated as a
 * single block (header + payload). The header is the BPF ABI header
 * (bpf/events.h) with one change made by the engine: h.ts_ns is converted from
 * CLOCK_BOOTTIME to Unix-epoch nanoseconds. Whoever holds an ec_event owns it and
 * frees it with free().
 */
#ifndef ECAPTOP_ENGINE_EVENT_H
#define ECAPTOP_ENGINE_EVENT_H

#include <stddef.h>
#include <stdint.h>

#include "bpf/events.h"

struct ec_event {
	struct ec_rec_hdr h;
	uint8_t data[]; /* h.len bytes */
};

/* A new event with room for len payload bytes, header zeroed but h.len = len and
 * h.fd = -1. NULL with errno on failure. */
struct ec_event *ec_event_new(uint32_t len);
/* A copy of a whole event. NULL with errno on failure. */
struct ec_event *ec_event_dup(const struct ec_event *ev);

/* "openssl", "gnutls", "nss", "gotls", "socket", "bash", "zsh", "mysqld",
 * "postgres", "proc"; "unknown" for anything else. */
const char *ec_source_name(uint32_t source);
/* The inverse; EC_S_NONE if unknown. */
uint32_t ec_source_from_name(const char *name);
/* "data", "exec", "exit", "command", "query"; "unknown" otherwise. */
const char *ec_kind_name(uint32_t kind);
/* "send", "recv" or "none". */
const char *ec_dir_name(uint32_t dir);
/* Format an address of family EC_AF_INET/EC_AF_INET6 into buf (at least 46 bytes).
 * Returns buf; "" for an unknown family. */
char *ec_addr_str(uint8_t family, const uint8_t addr[16], char *buf, size_t len);
/* An EC_K_PACKET event in one line: "lo send 127.0.0.1:1234 -> 127.0.0.1:443 86 bytes"
 * (and "(no process)" when none was found). Returns buf. */
char *ec_packet_summary(const struct ec_event *ev, char *buf, size_t len);

#endif
