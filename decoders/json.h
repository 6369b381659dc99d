/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * JSON and base64 writers over a strbuf (util/strbuf.h). Used by the decoders'
 * record formatter and by the batch printer.
 */
#ifndef ECAPTOP_DECODERS_JSON_H
#define ECAPTOP_DECODERS_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "util/strbuf.h"

/* A JSON string literal, quotes included. Bytes that are not valid UTF-8 are
 * written as \u00XX of the byte (so output is always valid JSON). */
void sb_json_str(struct strbuf *sb, const char *s, size_t len);
/* Same, for a NUL-terminated string; NULL writes null. */
void sb_json_cstr(struct strbuf *sb, const char *s);
/* "key": prefixed by a comma unless the buffer ends with '{'. */
void sb_json_key(struct strbuf *sb, const char *key);
/* Standard base64 (RFC 4648 section 4) with padding, no quotes. */
void sb_base64(struct strbuf *sb, const uint8_t *data, size_t len);

#endif
