/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The notes a decoder emits about one connection (DEC_R_NOTE: malformed input,
 * lost bytes, resynchronisation), limited in one place for every decoder:
 * a note whose text was already emitted on the connection is not repeated
 * (dec_notes_close says how many were held back), and after `max` notes one
 * last note says further ones are suppressed.
 */
#ifndef ECAPTOP_DECODERS_UTIL_NOTES_H
#define ECAPTOP_DECODERS_UTIL_NOTES_H

#include <stdarg.h>
#include <stdint.h>

#include "../decoder.h"

#define DEC_NOTES_MAX 32 /* largest max a decoder may ask for */

struct dec_notes {
	dec_emit_fn emit; /* borrowed, with arg */
	void *arg;
	enum dec_proto proto;
	const char *name;	      /* borrowed, static: the decoder's name ("mysql") */
	int prefixed;		      /* every text starts "name: " */
	unsigned max;		      /* notes per connection, at most DEC_NOTES_MAX */
	unsigned count;		      /* notes emitted (the "suppressed" one included) */
	uint64_t repeats;	      /* notes not emitted because their text was */
	uint64_t dropped;	      /* notes not emitted because max was reached */
	uint32_t seen[DEC_NOTES_MAX]; /* hashes of the texts emitted */
};

/* Ready to emit through emit(rec, arg) for proto; max is clamped to
 * DEC_NOTES_MAX. The notes the limiter writes itself start "name: ". Never
 * fails. */
void dec_notes_init(struct dec_notes *n, dec_emit_fn emit, void *arg, enum dec_proto proto,
		    const char *name, int prefixed, unsigned max);
/* A note: the formatted text (cut at 440 bytes), after "name: " if prefixed;
 * ts_ns goes into the record's req_ts_ns (0: unknown). */
void dec_note(struct dec_notes *n, uint64_t ts_ns, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void dec_vnote(struct dec_notes *n, uint64_t ts_ns, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));
/* End of the connection: one note counting the repeats held back, if any. */
void dec_notes_close(struct dec_notes *n, uint64_t ts_ns);

#endif
