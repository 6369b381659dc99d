/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * JSON form of a decoded record (struct dec_record), shared by the batch
 * printer and the decoder tests so both print exactly the same fields.
 */
#ifndef ECAPTOP_DECODERS_RECORD_JSON_H
#define ECAPTOP_DECODERS_RECORD_JSON_H

#include "decoder.h"
#include "json.h"

/*
 * Append r's fields to sb as JSON object members, without braces, each one
 * written with sb_json_key() so they compose after other members (or directly
 * after a '{'). Borrows sb and r. Absent strings are written as null; bodies as
 * JSON strings (bytes that are not UTF-8 are escaped, so the output stays valid
 * JSON). Field names per record type:
 *   http:  type version method path host status reason [stream_id, HTTP/2 only]
 *          latency_us req_bytes resp_bytes req_headers resp_headers req_body
 *          resp_body [req_body_truncated] [resp_body_truncated] (only when true)
 *   mysql: type command query rows columns error error_code user database latency_us
 *   pgsql: type query tag rows error sqlstate user database latency_us
 *   note:  type proto text
 * Allocation failure is reported through sb->failed.
 */
void dec_record_json(struct strbuf *sb, const struct dec_record *r);

#endif
