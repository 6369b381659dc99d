/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The TLS key log file (--keylog): NSS key log lines (SSLKEYLOGFILE format, as
 * Wireshark reads it: "LABEL <client random hex> <secret hex>"), each line once,
 * written by the engine thread as it reads the EC_K_KEYLOG record off the kernel's
 * buffer, so a connection's keys are in the file before any of its data is queued.
 */
#ifndef ECAPTOP_ENGINE_CAPTURE_KEYLOG_H
#define ECAPTOP_ENGINE_CAPTURE_KEYLOG_H

#include <stddef.h>
#include <stdint.h>

#include "bpf/events.h"

struct keylog_file;

/* Open path for appending: created 0600, never through a symlink, a regular file
 * only. NULL with a one-line reason in err. */
struct keylog_file *keylog_file_open(const char *path, char *err, size_t errlen);
/* Accepts NULL. */
void keylog_file_close(struct keylog_file *kf);

/* Format one record's line into buf (NUL-terminated). Its length, or -EINVAL when
 * the parts are not a key-log line (a label of other than A-Z, 0-9 and '_', a part
 * longer than was read, an empty part), -ENOSPC when buf is too small. */
int keylog_format(const struct ec_keylog *k, char *buf, size_t len);

/* Write k's line unless it was written before. 1 written, 0 a duplicate, -EINVAL a
 * malformed record, -errno a write error. */
int keylog_file_add(struct keylog_file *kf, const struct ec_keylog *k);

struct keylog_counts {
	uint64_t written, duplicates, malformed, failed;
};
void keylog_file_counts(const struct keylog_file *kf, struct keylog_counts *out);

#endif
