/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * HPACK header decompression (RFC 7541), decoding side only, through
 * libnghttp2's inflater (nghttp2_hd_inflate_*): one dynamic table (section 4)
 * per connection and direction (RFC 9113 section 4.3). HTTP/2 framing stays
 * ours (decoders/http2.c): the inflater is handed whole header blocks.
 *
 * A decoding error leaves the table in an unknown state (RFC 7541 section 2.3.3
 * makes it a connection error): the caller must stop using the table. The
 * inflater's own bound applies besides ours: a single field whose name and
 * value exceed 64 KiB (NGHTTP2_HD_MAX_NV) is a decoding error.
 */
#ifndef ECAPTOP_DECODERS_HPACK_H
#define ECAPTOP_DECODERS_HPACK_H

#include <stddef.h>
#include <stdint.h>

#define HPACK_STATIC_COUNT	 61   /* entries of the static table (Appendix A) */
#define HPACK_DEFAULT_TABLE_SIZE 4096 /* SETTINGS_HEADER_TABLE_SIZE initial value */
/* Our memory bound on a dynamic table's maximum size, whatever SETTINGS say:
 * a size update above it is an error. */
#define HPACK_TABLE_SIZE_CAP (1024 * 1024)

struct nghttp2_hd_inflater;

struct hpack_table {
	struct nghttp2_hd_inflater *inf; /* owned */
	size_t limit;			 /* largest maximum allowed (SETTINGS_HEADER_TABLE_SIZE) */
	char error[128];		 /* what the last failed call found wrong */
};

/* Called once per decoded field, in order. name and value are NUL-terminated
 * (they may also contain NUL bytes: trust the lengths) and borrowed for the
 * duration of the call. never_indexed is 1 for "literal never indexed"
 * (section 6.2.3). */
typedef void (*hpack_field_fn)(void *arg, const char *name, size_t name_len, const char *value,
			       size_t value_len, int never_indexed);

/* Empty table whose maximum size and limit are both `limit` (clamped to
 * HPACK_TABLE_SIZE_CAP). 0, or -ENOMEM (t is then zeroed). */
int hpack_table_init(struct hpack_table *t, size_t limit);
/* Frees what t owns; t may then be initialised again. Accepts a zeroed t. */
void hpack_table_free(struct hpack_table *t);
/* The decoding side announced SETTINGS_HEADER_TABLE_SIZE = limit: size updates
 * up to it are now allowed (clamped to HPACK_TABLE_SIZE_CAP). Never shrinks:
 * only a larger limit is taken. */
void hpack_table_set_limit(struct hpack_table *t, size_t limit);

/* The dynamic table: entries held, their size (section 4.1: name, value and
 * 32 bytes each) and its current maximum (changed by size updates). */
size_t hpack_table_count(const struct hpack_table *t);
size_t hpack_table_size(const struct hpack_table *t);
size_t hpack_table_max_size(const struct hpack_table *t);
/* Look up index (1-based over static then dynamic entries, section 2.3.3).
 * The strings are borrowed until the next change to t. 0, or -ERANGE if index
 * is 0 or past the end. */
int hpack_table_get(const struct hpack_table *t, uint64_t index, const char **name,
		    size_t *name_len, const char **value, size_t *value_len);

/* Decode a complete header block (section 3), updating t, calling fn (may be
 * NULL) for each field. 0, or a negative errno with t->error describing the
 * fault: -EBADMSG (malformed, truncated, an index past the table, bad Huffman,
 * integer overflow, a size update above the limit or after a field: the
 * inflater does not tell these apart), -ENOBUFS (a field above 64 KiB),
 * -ENOMEM, -EINVAL (t not initialised). After an error the table is unusable. */
int hpack_decode_block(struct hpack_table *t, const uint8_t *buf, size_t len, hpack_field_fn fn,
		       void *arg);

#endif
