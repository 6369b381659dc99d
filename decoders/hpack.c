// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * HPACK decoding (RFC 7541) through libnghttp2's inflater. See hpack.h.
 */
#include "hpack.h"

#include <errno.h>
#include <nghttp2/nghttp2.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>

static size_t clamp(size_t limit)
{
	return limit < HPACK_TABLE_SIZE_CAP ? limit : HPACK_TABLE_SIZE_CAP;
}

/* Feed one block; 0 or a negative errno (t->error set). */
static int inflate_block(struct hpack_table *t, const uint8_t *buf, size_t len, hpack_field_fn fn,
			 void *arg)
{
	for (;;) {
		nghttp2_nv nv;
		int flags = 0;
		ssize_t rv = nghttp2_hd_inflate_hd2(t->inf, &nv, &flags, buf, len, 1);

		if (rv < 0) {
			snprintf(t->error, sizeof(t->error), "nghttp2: %s",
				 nghttp2_strerror((int)rv));
			return rv == NGHTTP2_ERR_NOMEM		? -ENOMEM
			       : rv == NGHTTP2_ERR_BUFFER_ERROR ? -ENOBUFS
								: -EBADMSG;
		}
		if (rv > 0) { /* an empty block may come as NULL: no offset on it */
			buf += rv;
			len -= (size_t)rv;
		}
		if ((flags & NGHTTP2_HD_INFLATE_EMIT) && fn)
			fn(arg, (const char *)nv.name, nv.namelen, (const char *)nv.value,
			   nv.valuelen, (nv.flags & NGHTTP2_NV_FLAG_NO_INDEX) != 0);
		if (flags & NGHTTP2_HD_INFLATE_FINAL) {
			nghttp2_hd_inflate_end_headers(t->inf);
			return 0;
		}
		if (!(flags & NGHTTP2_HD_INFLATE_EMIT) && !len) {
			snprintf(t->error, sizeof(t->error), "header block ends inside a field");
			return -EBADMSG;
		}
	}
}

int hpack_table_init(struct hpack_table *t, size_t limit)
{
	memset(t, 0, sizeof(*t));
	if (nghttp2_hd_inflate_new(&t->inf)) {
		t->inf = NULL;
		return -ENOMEM;
	}
	t->limit = HPACK_DEFAULT_TABLE_SIZE;
	limit = clamp(limit);
	if (limit > HPACK_DEFAULT_TABLE_SIZE) {
		hpack_table_set_limit(t, limit);
	} else if (limit < HPACK_DEFAULT_TABLE_SIZE) {
		/* The inflater starts at 4096 and would wait for the encoder's size
		 * update after a smaller setting; a table that starts smaller is
		 * that update already applied (section 6.3: 001 + 5-bit integer). */
		uint8_t upd[8];
		size_t n = 0, v = limit;

		nghttp2_hd_inflate_change_table_size(t->inf, limit);
		if (v < 31) {
			upd[n++] = (uint8_t)(0x20 | v);
		} else {
			upd[n++] = 0x3f;
			for (v -= 31; v >= 128; v >>= 7)
				upd[n++] = (uint8_t)(0x80 | (v & 0x7f));
			upd[n++] = (uint8_t)v;
		}
		t->limit = limit;
		if (inflate_block(t, upd, n, NULL, NULL)) {
			hpack_table_free(t);
			return -ENOMEM;
		}
	}
	return 0;
}

void hpack_table_free(struct hpack_table *t)
{
	if (t->inf)
		nghttp2_hd_inflate_del(t->inf);
	memset(t, 0, sizeof(*t));
}

void hpack_table_set_limit(struct hpack_table *t, size_t limit)
{
	limit = clamp(limit);
	if (!t->inf || limit <= t->limit)
		return;
	/* Between blocks (the only place we call it) this cannot fail. */
	if (!nghttp2_hd_inflate_change_table_size(t->inf, limit))
		t->limit = limit;
}

size_t hpack_table_count(const struct hpack_table *t)
{
	return t->inf ? nghttp2_hd_inflate_get_num_table_entries(t->inf) - HPACK_STATIC_COUNT : 0;
}

size_t hpack_table_size(const struct hpack_table *t)
{
	return t->inf ? nghttp2_hd_inflate_get_dynamic_table_size(t->inf) : 0;
}

size_t hpack_table_max_size(const struct hpack_table *t)
{
	return t->inf ? nghttp2_hd_inflate_get_max_dynamic_table_size(t->inf) : 0;
}

int hpack_table_get(const struct hpack_table *t, uint64_t index, const char **name,
		    size_t *name_len, const char **value, size_t *value_len)
{
	const nghttp2_nv *nv;

	if (!t->inf || !index || index > nghttp2_hd_inflate_get_num_table_entries(t->inf))
		return -ERANGE;
	nv = nghttp2_hd_inflate_get_table_entry(t->inf, (size_t)index);
	if (!nv)
		return -ERANGE;
	*name = (const char *)nv->name;
	*name_len = nv->namelen;
	*value = (const char *)nv->value;
	*value_len = nv->valuelen;
	return 0;
}

int hpack_decode_block(struct hpack_table *t, const uint8_t *buf, size_t len, hpack_field_fn fn,
		       void *arg)
{
	t->error[0] = '\0';
	if (!t->inf) {
		snprintf(t->error, sizeof(t->error), "no table");
		return -EINVAL;
	}
	return inflate_block(t, buf, len, fn, arg);
}
