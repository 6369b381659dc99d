/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The in-memory log. While curses runs nothing may be printed to the terminal,
 * so every message goes here first: a bounded ring of recent lines the TUI can
 * show, optionally mirrored to stderr (batch mode) and to a file (--log FILE).
 * Thread-safe (a mutex: logging is rare and never on the hot path).
 */
#ifndef ECAPTOP_ENGINE_LOG_H
#define ECAPTOP_ENGINE_LOG_H

#include <stddef.h>
#include <stdint.h>

enum log_level { LOG_DEBUG = 0, LOG_INFO, LOG_WARN, LOG_ERROR };

#define LOG_RING 512 /* lines kept in memory */

void log_msg(enum log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Mirror messages at or above min_level to stderr (1) or not (0). */
void log_set_stderr(int on, enum log_level min_level);
/* Append messages to path: created 0600 (an existing file is made 0600), never
 * through a symlink, never blocking at open (a FIFO without a reader is refused),
 * a regular file only. 0, or -errno with a one-line reason in err. A failed write
 * later is logged once (stderr or the TUI's log) and the file given up. */
int log_set_file(const char *path, char *err, size_t errlen);
/* The errno of a failed write to the log file, or 0. */
int log_file_error(void);
/* Copy the i-th most recent line (0 = newest) into buf. Returns 0, or -1 past the end. */
int log_get(size_t i, char *buf, size_t len, enum log_level *lvl);
/* Lines logged so far (monotonic; the ring keeps the last LOG_RING). */
uint64_t log_count(void);
/* Close the log file: 0, or the errno of a write to it that failed. */
int log_close(void);

#endif
