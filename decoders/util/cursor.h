/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A checked cursor over untrusted bytes, for every decoder: tcpdump's GET_*
 * idea (each read is bounds-checked against the end of what was captured), but
 * a short read returns false instead of jumping out of the parser, so the
 * caller decides what a truncated field means.
 *
 * Every reader either consumes its bytes and returns true, or, when fewer
 * bytes are left than it needs, returns false, stores 0 (NULL for cur_bytes)
 * and leaves the cursor where it was. Nothing here allocates or fails
 * otherwise. The cursor borrows the bytes.
 */
#ifndef ECAPTOP_DECODERS_UTIL_CURSOR_H
#define ECAPTOP_DECODERS_UTIL_CURSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cursor {
	const uint8_t *p; /* next byte */
	size_t left;	  /* bytes from p to the end */
};

/* A cursor over buf[0, len). */
static inline struct cursor cur_make(const void *buf, size_t len)
{
	struct cursor c = {(const uint8_t *)buf, len};

	return c;
}

/* A cursor over buf[off, len): empty if off is past the end. */
static inline struct cursor cur_at(const void *buf, size_t len, size_t off)
{
	struct cursor c = {(const uint8_t *)buf + (off < len ? off : len),
			   off < len ? len - off : 0};

	return c;
}

static inline bool cur_skip(struct cursor *c, size_t n)
{
	if (c->left < n)
		return false;
	c->p += n;
	c->left -= n;
	return true;
}

/* *out points at the next n bytes (borrowed), which are consumed. */
static inline bool cur_bytes(struct cursor *c, size_t n, const uint8_t **out)
{
	if (c->left < n) {
		*out = NULL;
		return false;
	}
	*out = c->p;
	c->p += n;
	c->left -= n;
	return true;
}

/* An unsigned integer of `size` bytes (1 to 4), big- or little-endian. */
static inline bool cur_uint(struct cursor *c, size_t size, bool big, uint32_t *v)
{
	uint32_t x = 0;
	size_t i;

	*v = 0;
	if (c->left < size)
		return false;
	for (i = 0; i < size; i++)
		x |= (uint32_t)c->p[i] << (8 * (big ? size - 1 - i : i));
	*v = x;
	c->p += size;
	c->left -= size;
	return true;
}

static inline bool cur_u8(struct cursor *c, uint8_t *v)
{
	uint32_t x;
	bool ok = cur_uint(c, 1, true, &x);

	*v = (uint8_t)x;
	return ok;
}

static inline bool cur_be16(struct cursor *c, uint32_t *v)
{
	return cur_uint(c, 2, true, v);
}

static inline bool cur_be24(struct cursor *c, uint32_t *v)
{
	return cur_uint(c, 3, true, v);
}

static inline bool cur_be32(struct cursor *c, uint32_t *v)
{
	return cur_uint(c, 4, true, v);
}

static inline bool cur_le16(struct cursor *c, uint32_t *v)
{
	return cur_uint(c, 2, false, v);
}

static inline bool cur_le24(struct cursor *c, uint32_t *v)
{
	return cur_uint(c, 3, false, v);
}

static inline bool cur_le32(struct cursor *c, uint32_t *v)
{
	return cur_uint(c, 4, false, v);
}

/*
 * One field at a fixed offset, for headers read in place: the value, or -1 if
 * buf[off, off + size) is not within len. Never reads past len.
 */
static inline int64_t cur_uint_at(const void *buf, size_t len, size_t off, size_t size, bool big)
{
	struct cursor c = cur_at(buf, len, off);
	uint32_t v;

	return cur_uint(&c, size, big, &v) ? (int64_t)v : -1;
}

static inline int64_t cur_be16_at(const void *buf, size_t len, size_t off)
{
	return cur_uint_at(buf, len, off, 2, true);
}

static inline int64_t cur_be32_at(const void *buf, size_t len, size_t off)
{
	return cur_uint_at(buf, len, off, 4, true);
}

static inline int64_t cur_le16_at(const void *buf, size_t len, size_t off)
{
	return cur_uint_at(buf, len, off, 2, false);
}

static inline int64_t cur_le24_at(const void *buf, size_t len, size_t off)
{
	return cur_uint_at(buf, len, off, 3, false);
}

static inline int64_t cur_le32_at(const void *buf, size_t len, size_t off)
{
	return cur_uint_at(buf, len, off, 4, false);
}

#endif
