/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Packet mode (--packets): the TC classifiers of bpf/packets.bpf.c on the chosen
 * interfaces, their ring buffer read by the engine thread (at each turn of its
 * loop, at most POLL_MS apart), each packet checked against the -f pcap filter, held at most
 * PACKETS_HOLD_MS so packets leave in time order and the TLS secrets read meanwhile
 * are written first, then written to the -w pcapng (engine/file/pcapng_pkt.h) and
 * queued to the front end as an EC_K_PACKET event.
 *
 * Threads: packets_new and packets_free from the front end's thread before the
 * engine thread starts and after it stopped; everything else from the engine
 * thread, except packets_stats (atomics).
 */
#ifndef ECAPTOP_ENGINE_CAPTURE_PACKETS_H
#define ECAPTOP_ENGINE_CAPTURE_PACKETS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "bpf/events.h"
#include "engine/engine.h"

#define PACKETS_HOLD_MS 300

struct engine;
struct packets;
struct ring_buffer;

/* Open and load the packet object, compile the filter, resolve the interfaces,
 * create the -w file. NULL with a one-line reason in err. */
struct packets *packets_new(struct engine *e, char *err, size_t errlen);
/* Remove what a killed ecaptop left on the interfaces, attach the classifiers and
 * the socket-learning tracepoints, open the packet ring buffer (rb: unused). 0 or -errno. */
int packets_attach(struct packets *p, struct ring_buffer *rb, char *err, size_t errlen);
/* Engine thread: write and queue the packets held longer than PACKETS_HOLD_MS
 * (all of them when final). The number queued. */
size_t packets_tick(struct packets *p, bool final);
/* Engine thread: a TLS secret; written as a Decryption Secrets Block at once (each
 * line once). */
void packets_secret(struct packets *p, const struct ec_keylog *k);
void packets_stats(struct packets *p, struct engine_packet_stats *st);
/* Detach, close the file (with per-interface statistics), log a summary. NULL ok. */
void packets_free(struct packets *p);
/* Remove clsact filters (and the clsact qdiscs ecaptop created) that a killed
 * ecaptop left; say so on out (a FILE *, or NULL: the log). The number removed. */
int packets_cleanup_leftovers(FILE *out);

#endif
