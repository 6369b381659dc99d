// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * HPACK decoding (RFC 7541). See hpack.h.
 */
#include "hpack.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* RFC 7541 Appendix A. */
/* clang-format off */
static const struct {
	const char *name;
	const char *value;
} hpack_static[HPACK_STATIC_COUNT] = {
	{":authority", ""},
	{":method", "GET"},
	{":method", "POST"},
	{":path", "/"},
	{":path", "/index.html"},
	{":scheme", "http"},
	{":scheme", "https"},
	{":status", "200"},
	{":status", "204"},
	{":status", "206"},
	{":status", "304"},
	{":status", "400"},
	{":status", "404"},
	{":status", "500"},
	{"accept-charset", ""},
	{"accept-encoding", "gzip, deflate"},
	{"accept-language", ""},
	{"accept-ranges", ""},
	{"accept", ""},
	{"access-control-allow-origin", ""},
	{"age", ""},
	{"allow", ""},
	{"authorization", ""},
	{"cache-control", ""},
	{"content-disposition", ""},
	{"content-encoding", ""},
	{"content-language", ""},
	{"content-length", ""},
	{"content-location", ""},
	{"content-range", ""},
	{"content-type", ""},
	{"cookie", ""},
	{"date", ""},
	{"etag", ""},
	{"expect", ""},
	{"expires", ""},
	{"from", ""},
	{"host", ""},
	{"if-match", ""},
	{"if-modified-since", ""},
	{"if-none-match", ""},
	{"if-range", ""},
	{"if-unmodified-since", ""},
	{"last-modified", ""},
	{"link", ""},
	{"location", ""},
	{"max-forwards", ""},
	{"proxy-authenticate", ""},
	{"proxy-authorization", ""},
	{"range", ""},
	{"referer", ""},
	{"refresh", ""},
	{"retry-after", ""},
	{"server", ""},
	{"set-cookie", ""},
	{"strict-transport-security", ""},
	{"transfer-encoding", ""},
	{"user-agent", ""},
	{"vary", ""},
	{"via", ""},
	{"www-authenticate", ""},
};
/* clang-format on */

/*
 * Huffman decoding. The Appendix B code is canonical: the codes of one length
 * are consecutive integers, and every code of length L is numerically above the
 * L-bit prefixes of all shorter codes. So reading bits MSB first into `code`,
 * a symbol is complete at the first length L where
 * code - first[L] < count[L], and it is sym[index[L] + code - first[L]].
 * The tables are derived once from hpack_huff_codes.
 */
#define HUFF_MAX_LEN 30

static struct {
	uint32_t first[HUFF_MAX_LEN + 1]; /* smallest code of each length */
	uint32_t count[HUFF_MAX_LEN + 1]; /* codes of each length */
	uint16_t index[HUFF_MAX_LEN + 1]; /* position in sym[] of the first one */
	uint16_t sym[HPACK_HUFF_EOS + 1]; /* symbols sorted by (length, code) */
	int ok;				  /* the table really is canonical */
} huff;
static pthread_once_t huff_once = PTHREAD_ONCE_INIT;

static void huff_build(void)
{
	unsigned len, s, n = 0;

	for (len = 1; len <= HUFF_MAX_LEN; len++) {
		uint32_t lo = UINT32_MAX;

		huff.index[len] = (uint16_t)n;
		for (s = 0; s <= HPACK_HUFF_EOS; s++) {
			if (hpack_huff_codes[s].len != len)
				continue;
			if (hpack_huff_codes[s].code < lo)
				lo = hpack_huff_codes[s].code;
			huff.count[len]++;
		}
		huff.first[len] = huff.count[len] ? lo : 0;
		/* Place the symbols of this length by code offset; a duplicate or
		 * a gap means the data is not canonical. */
		for (s = 0; s <= HPACK_HUFF_EOS; s++) {
			uint32_t off;

			if (hpack_huff_codes[s].len != len)
				continue;
			off = hpack_huff_codes[s].code - lo;
			if (off >= huff.count[len])
				return;
			huff.sym[n + off] = (uint16_t)s;
		}
		n += huff.count[len];
	}
	huff.ok = n == HPACK_HUFF_EOS + 1;
}

int hpack_huffman_decode(const uint8_t *in, size_t len, uint8_t *out, size_t out_cap,
			 size_t *out_len)
{
	uint32_t code = 0;
	unsigned bits = 0, b;
	size_t i, o = 0;

	pthread_once(&huff_once, huff_build);
	if (!huff.ok)
		return -EBADMSG;
	for (i = 0; i < len; i++) {
		for (b = 0; b < 8; b++) {
			code = code << 1 | ((in[i] >> (7 - b)) & 1);
			bits++;
			if (code - huff.first[bits] < huff.count[bits]) {
				unsigned s = huff.sym[huff.index[bits] + code - huff.first[bits]];

				/* Section 5.2: an encoded EOS is a decoding error. */
				if (s == HPACK_HUFF_EOS)
					return -EBADMSG;
				if (o >= out_cap)
					return -ENOBUFS;
				out[o++] = (uint8_t)s;
				code = 0;
				bits = 0;
			} else if (bits >= HUFF_MAX_LEN) {
				/* Unreachable with a complete code; kept as a guard. */
				return -EBADMSG;
			}
		}
	}
	/* Section 5.2: padding is at most 7 bits, all ones (the top of EOS). */
	if (bits > 7 || code != (1u << bits) - 1)
		return -EBADMSG;
	*out_len = o;
	return 0;
}

int hpack_decode_int(const uint8_t *buf, size_t len, unsigned prefix, uint32_t *value, size_t *used)
{
	uint32_t max = (1u << prefix) - 1;
	uint64_t v;
	unsigned shift = 0;
	size_t i = 1;

	if (!len || prefix < 1 || prefix > 8)
		return -EBADMSG;
	v = buf[0] & max;
	if (v < max) {
		*value = (uint32_t)v;
		*used = 1;
		return 0;
	}
	/* Section 5.1: continuation bytes carry 7 bits each, least significant
	 * group first, with the top bit set on all but the last. */
	for (;;) {
		if (i >= len)
			return -EBADMSG;
		if (shift > 28)
			return -EOVERFLOW;
		v += (uint64_t)(buf[i] & 0x7f) << shift;
		if (v > HPACK_INT_MAX)
			return -EOVERFLOW;
		shift += 7;
		if (!(buf[i++] & 0x80))
			break;
	}
	*value = (uint32_t)v;
	*used = i;
	return 0;
}

static void tbl_error(struct hpack_table *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void tbl_error(struct hpack_table *t, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(t->error, sizeof(t->error), fmt, ap);
	va_end(ap);
}

void hpack_table_init(struct hpack_table *t, size_t limit)
{
	memset(t, 0, sizeof(*t));
	if (limit > HPACK_TABLE_SIZE_CAP)
		limit = HPACK_TABLE_SIZE_CAP;
	t->limit = t->max_size = limit;
}

static void tbl_evict_oldest(struct hpack_table *t)
{
	struct hpack_entry *e = &t->ring[t->oldest];

	t->size -= (size_t)e->name_len + e->value_len + HPACK_ENTRY_OVERHEAD;
	free(e->name);
	e->name = e->value = NULL;
	t->oldest = (t->oldest + 1) & (t->ring_cap - 1);
	t->count--;
}

void hpack_table_free(struct hpack_table *t)
{
	while (t->count)
		tbl_evict_oldest(t);
	free(t->ring);
	free(t->scratch);
	t->ring = NULL;
	t->scratch = NULL;
	t->ring_cap = t->scratch_cap = 0;
	t->size = 0;
}

void hpack_table_set_limit(struct hpack_table *t, size_t limit)
{
	if (limit > HPACK_TABLE_SIZE_CAP)
		limit = HPACK_TABLE_SIZE_CAP;
	t->limit = limit;
}

int hpack_table_get(const struct hpack_table *t, uint64_t index, const char **name,
		    size_t *name_len, const char **value, size_t *value_len)
{
	const struct hpack_entry *e;

	if (index == 0)
		return -ERANGE;
	if (index <= HPACK_STATIC_COUNT) {
		*name = hpack_static[index - 1].name;
		*value = hpack_static[index - 1].value;
		*name_len = strlen(*name);
		*value_len = strlen(*value);
		return 0;
	}
	index -= HPACK_STATIC_COUNT + 1;
	if (index >= t->count)
		return -ERANGE;
	/* Section 2.3.3: the newest entry has the lowest dynamic index. */
	e = &t->ring[(t->oldest + t->count - 1 - index) & (t->ring_cap - 1)];
	*name = e->name;
	*value = e->value;
	*name_len = e->name_len;
	*value_len = e->value_len;
	return 0;
}

/* Evict oldest entries until the table fits `room` more bytes under max_size. */
static void tbl_make_room(struct hpack_table *t, size_t room)
{
	while (t->count && t->size + room > t->max_size)
		tbl_evict_oldest(t);
}

/* Section 4.4: add an entry, evicting first; an entry larger than the maximum
 * empties the table and is not added. */
static int tbl_insert(struct hpack_table *t, const char *name, size_t nlen, const char *value,
		      size_t vlen)
{
	size_t esize = nlen + vlen + HPACK_ENTRY_OVERHEAD;
	struct hpack_entry *e;
	char *mem;

	if (esize > t->max_size) {
		tbl_make_room(t, SIZE_MAX / 2);
		return 0;
	}
	/* name and value may point into an entry about to be evicted: copy first. */
	mem = malloc(nlen + vlen + 2);
	if (!mem) {
		tbl_error(t, "out of memory");
		return -ENOMEM;
	}
	memcpy(mem, name, nlen);
	mem[nlen] = '\0';
	memcpy(mem + nlen + 1, value, vlen);
	mem[nlen + 1 + vlen] = '\0';
	tbl_make_room(t, esize);
	if (t->count == t->ring_cap) {
		size_t ncap = t->ring_cap ? t->ring_cap * 2 : 16, i;
		struct hpack_entry *nr = calloc(ncap, sizeof(*nr));

		if (!nr) {
			free(mem);
			tbl_error(t, "out of memory");
			return -ENOMEM;
		}
		for (i = 0; i < t->count; i++)
			nr[i] = t->ring[(t->oldest + i) & (t->ring_cap - 1)];
		free(t->ring);
		t->ring = nr;
		t->ring_cap = ncap;
		t->oldest = 0;
	}
	e = &t->ring[(t->oldest + t->count) & (t->ring_cap - 1)];
	e->name = mem;
	e->value = mem + nlen + 1;
	e->name_len = (uint32_t)nlen;
	e->value_len = (uint32_t)vlen;
	t->count++;
	t->size += esize;
	return 0;
}

static int tbl_reserve(struct hpack_table *t, size_t need)
{
	uint8_t *n;

	if (need <= t->scratch_cap)
		return 0;
	n = realloc(t->scratch, need);
	if (!n) {
		tbl_error(t, "out of memory");
		return -ENOMEM;
	}
	t->scratch = n;
	t->scratch_cap = need;
	return 0;
}

/*
 * Read a string literal (section 5.2) at buf[*pos] into scratch at offset at,
 * NUL-terminated. Sets *out_len. `what` names it for errors.
 */
static int read_string(struct hpack_table *t, const uint8_t *buf, size_t len, size_t *pos,
		       size_t at, size_t *out_len, const char *what)
{
	uint32_t slen;
	size_t used, cap;
	int huffman, rc;

	if (*pos >= len) {
		tbl_error(t, "header block ends before the %s string", what);
		return -EBADMSG;
	}
	huffman = buf[*pos] & 0x80;
	rc = hpack_decode_int(buf + *pos, len - *pos, 7, &slen, &used);
	if (rc) {
		tbl_error(t, "%s length: %s", what,
			  rc == -EOVERFLOW ? "integer overflow" : "truncated integer");
		return rc;
	}
	*pos += used;
	if (slen > len - *pos) {
		tbl_error(t, "%s string of %u bytes runs past the header block (%zu left)", what,
			  slen, len - *pos);
		return -EBADMSG;
	}
	/* Huffman codes are at least 5 bits long, so slen bytes decode to at
	 * most slen * 8 / 5 symbols. */
	cap = huffman ? (size_t)slen * 8 / 5 + 1 : slen;
	rc = tbl_reserve(t, at + cap + 1);
	if (rc)
		return rc;
	if (huffman) {
		rc = hpack_huffman_decode(buf + *pos, slen, t->scratch + at, cap, out_len);
		if (rc) {
			tbl_error(t, "%s string: invalid Huffman code (EOS or bad padding)", what);
			return -EBADMSG;
		}
	} else {
		memcpy(t->scratch + at, buf + *pos, slen);
		*out_len = slen;
	}
	t->scratch[at + *out_len] = '\0';
	*pos += slen;
	return 0;
}

int hpack_decode_block(struct hpack_table *t, const uint8_t *buf, size_t len, hpack_field_fn fn,
		       void *arg)
{
	size_t pos = 0, used;
	int seen_field = 0, rc;

	t->error[0] = '\0';
	while (pos < len) {
		uint8_t b = buf[pos];
		uint32_t idx;
		unsigned prefix;
		int incremental = 0, never = 0;
		const char *name, *value;
		size_t nlen, vlen;

		if (b & 0x80) {
			/* Section 6.1: indexed header field. */
			rc = hpack_decode_int(buf + pos, len - pos, 7, &idx, &used);
			if (rc)
				goto bad_int;
			pos += used;
			if (hpack_table_get(t, idx, &name, &nlen, &value, &vlen)) {
				tbl_error(t, "index %u past the table (%u entries)", idx,
					  (unsigned)(HPACK_STATIC_COUNT + t->count));
				return -ERANGE;
			}
			if (fn)
				fn(arg, name, nlen, value, vlen, 0);
			seen_field = 1;
			continue;
		}
		if ((b & 0xe0) == 0x20) {
			/* Section 6.3: dynamic table size update. Section 4.2:
			 * only at the start of a block. */
			rc = hpack_decode_int(buf + pos, len - pos, 5, &idx, &used);
			if (rc)
				goto bad_int;
			pos += used;
			if (seen_field) {
				tbl_error(t, "dynamic table size update after a header field");
				return -EPROTO;
			}
			if (idx > t->limit) {
				tbl_error(t, "dynamic table size update to %u above the limit %zu",
					  idx, t->limit);
				return -EPROTO;
			}
			t->max_size = idx;
			tbl_make_room(t, 0);
			continue;
		}
		if (b & 0x40) {
			incremental = 1; /* section 6.2.1 */
			prefix = 6;
		} else {
			never = (b & 0x10) != 0; /* sections 6.2.2 and 6.2.3 */
			prefix = 4;
		}
		rc = hpack_decode_int(buf + pos, len - pos, prefix, &idx, &used);
		if (rc)
			goto bad_int;
		pos += used;
		if (idx) {
			const char *tv;
			size_t tvlen;

			if (hpack_table_get(t, idx, &name, &nlen, &tv, &tvlen)) {
				tbl_error(t, "name index %u past the table (%u entries)", idx,
					  (unsigned)(HPACK_STATIC_COUNT + t->count));
				return -ERANGE;
			}
			/* Copy the name into scratch: the entry may be evicted
			 * while the new one is inserted. */
			rc = tbl_reserve(t, nlen + 1);
			if (rc)
				return rc;
			memcpy(t->scratch, name, nlen);
			t->scratch[nlen] = '\0';
		} else {
			rc = read_string(t, buf, len, &pos, 0, &nlen, "name");
			if (rc)
				return rc;
		}
		rc = read_string(t, buf, len, &pos, nlen + 1, &vlen, "value");
		if (rc)
			return rc;
		name = (const char *)t->scratch;
		value = (const char *)t->scratch + nlen + 1;
		if (incremental) {
			rc = tbl_insert(t, name, nlen, value, vlen);
			if (rc)
				return rc;
		}
		if (fn)
			fn(arg, name, nlen, value, vlen, never);
		seen_field = 1;
	}
	return 0;

bad_int:
	if (rc == -EOVERFLOW)
		tbl_error(t, "integer overflow in a field representation");
	else
		tbl_error(t, "header block ends inside an integer");
	return rc;
}
