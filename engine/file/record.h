/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Recording (-w): a sink of the pipeline, fed by the front end with each event it
 * takes from the queue (after engine_pop), so no file I/O runs inside the queue's
 * consumer call. What is written reaches the file at least once a second.
 */
#ifndef ECAPTOP_ENGINE_FILE_RECORD_H
#define ECAPTOP_ENGINE_FILE_RECORD_H

#include "engine/event.h"

struct pcapng_writer;
struct recorder;

/* A recorder writing into w (borrowed: the caller closes it after recorder_free).
 * NULL when out of memory. */
struct recorder *recorder_new(struct pcapng_writer *w);
/* Consumer: write ev (borrowed). A write error is logged once and recording stops;
 * an event the file cannot represent is logged and skipped. r may be NULL. */
void recorder_feed(struct recorder *r, const struct ec_event *ev);
/* Consumer, at least every few hundred milliseconds even when nothing comes (an
 * output that stalls): push the file's buffer to disk once a second. r may be NULL. */
void recorder_tick(struct recorder *r);
/* Flushes nothing (pcapng_writer_close does). Accepts NULL. */
void recorder_free(struct recorder *r);

#endif
