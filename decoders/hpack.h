/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * HPACK header decompression (RFC 7541), decoding side only: the integer and
 * string primitives (section 5), Huffman decoding (section 5.2, Appendix B),
 * the static table (Appendix A) and one dynamic table (section 4) with size
 * updates and eviction. HTTP/2 keeps one struct hpack_table per connection and
 * direction (RFC 9113 section 4.3).
 *
 * A decoding error leaves the table in an unknown state (RFC 7541 section 2.3.3
 * makes it a connection error): the caller must stop using the table.
 */
#ifndef ECAPTOP_DECODERS_HPACK_H
#define ECAPTOP_DECODERS_HPACK_H

#include <stddef.h>
#include <stdint.h>

#define HPACK_STATIC_COUNT	 61   /* entries of the static table (Appendix A) */
#define HPACK_DEFAULT_TABLE_SIZE 4096 /* SETTINGS_HEADER_TABLE_SIZE initial value */
/* Our memory bound on a dynamic table's maximum size, whatever SETTINGS say:
 * a size update above it is treated as an error. */
#define HPACK_TABLE_SIZE_CAP (1024 * 1024)
/* Per-entry overhead counted in the table size (RFC 7541 section 4.1). */
#define HPACK_ENTRY_OVERHEAD 32
/* Largest integer accepted by hpack_decode_int: more is a decoding error
 * (RFC 7541 section 5.1 asks decoders to bound integers). */
#define HPACK_INT_MAX 0x7fffffffu

struct hpack_entry {
	char *name;  /* owned; one allocation holding "name\0value\0" */
	char *value; /* points into the same allocation */
	uint32_t name_len;
	uint32_t value_len;
};

struct hpack_table {
	struct hpack_entry *ring; /* owned; ring_cap slots, a power of two */
	size_t ring_cap;
	size_t oldest;	  /* slot of the oldest entry */
	size_t count;	  /* entries held */
	size_t size;	  /* sum of name_len + value_len + 32 (section 4.1) */
	size_t max_size;  /* current maximum, changed by size updates (section 6.3) */
	size_t limit;	  /* largest maximum the decoder allows (SETTINGS_HEADER_TABLE_SIZE) */
	uint8_t *scratch; /* owned; decoded strings of the field being processed */
	size_t scratch_cap;
	char error[128]; /* what the last failed call found wrong */
};

/* Called once per decoded field, in order. name and value are NUL-terminated
 * (they may also contain NUL bytes: trust the lengths) and borrowed for the
 * duration of the call. never_indexed is 1 for "literal never indexed"
 * (section 6.2.3). */
typedef void (*hpack_field_fn)(void *arg, const char *name, size_t name_len, const char *value,
			       size_t value_len, int never_indexed);

/* Empty table with maximum size and limit both `limit` (clamped to
 * HPACK_TABLE_SIZE_CAP). Never fails: storage grows on first insertion. */
void hpack_table_init(struct hpack_table *t, size_t limit);
/* Frees what t owns; t may then be initialised again. Accepts a zeroed t. */
void hpack_table_free(struct hpack_table *t);
/* The decoding side announced SETTINGS_HEADER_TABLE_SIZE = limit: size updates
 * up to it are now allowed (clamped to HPACK_TABLE_SIZE_CAP). Never shrinks the
 * current table: the encoder does that with a size update (section 4.2). */
void hpack_table_set_limit(struct hpack_table *t, size_t limit);

/* Look up index (1-based over static then dynamic entries, section 2.3.3).
 * The strings are borrowed until the next change to t. 0, or -ERANGE if index
 * is 0 or past the end. */
int hpack_table_get(const struct hpack_table *t, uint64_t index, const char **name,
		    size_t *name_len, const char **value, size_t *value_len);

/* Decode one integer with an N-bit prefix (section 5.1), 1 <= prefix <= 8, from
 * buf (the prefix bits are the low bits of buf[0]). On success stores the value
 * and the bytes used. 0, -EBADMSG if buf ends first, -EOVERFLOW if the value
 * exceeds HPACK_INT_MAX or uses needless continuation bytes past 32 bits. */
int hpack_decode_int(const uint8_t *buf, size_t len, unsigned prefix, uint32_t *value,
		     size_t *used);

/* The Huffman code of RFC 7541 Appendix B, indexed by symbol (256 = EOS): the
 * code aligned to the least significant bit, and its length in bits. Spec
 * data, in decoders/hpack_huffman.c. */
struct hpack_huff_code {
	uint32_t code;
	uint8_t len;
};
#define HPACK_HUFF_EOS 256
extern const struct hpack_huff_code hpack_huff_codes[HPACK_HUFF_EOS + 1];

/* Huffman-decode len bytes (section 5.2, Appendix B) into out (out_cap bytes;
 * len * 8 / 5 + 1 always suffices). 0 with *out_len set; -EBADMSG if the input
 * holds the EOS symbol or padding longer than 7 bits or not all ones; -ENOBUFS if
 * out_cap is too small. */
int hpack_huffman_decode(const uint8_t *in, size_t len, uint8_t *out, size_t out_cap,
			 size_t *out_len);

/* Decode a complete header block (section 3), updating t, calling fn for each
 * field. 0, or a negative errno with t->error describing the fault: -EBADMSG
 * (truncated or malformed representation, bad Huffman), -EOVERFLOW (integer
 * too large), -ERANGE (index past the table), -EPROTO (size update above the
 * limit or after a field), -ENOMEM. After an error the table is unusable for
 * further blocks (its state no longer matches the encoder's). */
int hpack_decode_block(struct hpack_table *t, const uint8_t *buf, size_t len, hpack_field_fn fn,
		       void *arg);

#endif
