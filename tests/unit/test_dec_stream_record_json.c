// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Unit tests of dec_record_json() and dec_proto_name(). */
#include "unit.h"
#include "decoders/record_json.h"

static void test_http(void)
{
	struct strbuf sb = STRBUF_INIT;
	struct dec_header rq[] = {{"Host", "h"}, {"X", "a\"b"}};
	struct dec_record r;

	memset(&r, 0, sizeof(r));
	r.type = DEC_R_HTTP;
	r.proto = DEC_P_HTTP1;
	r.latency_us = 7;
	r.http.version = "1.1";
	r.http.method = "GET";
	r.http.path = "/p";
	r.http.status = 200;
	r.http.reason = "OK";
	r.http.req_headers = rq;
	r.http.n_req_headers = 2;
	r.http.resp_body = (const uint8_t *)"\xff\x00z";
	r.http.resp_body_len = 3;
	r.http.resp_body_truncated = 1;
	r.http.req_bytes = 10;
	r.http.resp_bytes = 20;
	sb_puts(&sb, "{");
	dec_record_json(&sb, &r);
	sb_puts(&sb, "}");
	CHECK_EQ_STR(sb.buf,
		     "{\"type\":\"http\",\"version\":\"1.1\",\"method\":\"GET\",\"path\":\"/p\","
		     "\"host\":null,\"status\":200,\"reason\":\"OK\",\"latency_us\":7,"
		     "\"req_bytes\":10,\"resp_bytes\":20,"
		     "\"req_headers\":[[\"Host\",\"h\"],[\"X\",\"a\\\"b\"]],\"resp_headers\":[],"
		     "\"req_body\":\"\",\"resp_body\":\"\\u00ff\\u0000z\","
		     "\"resp_body_truncated\":true}");
	/* HTTP/2 adds stream_id; composing after other members adds a comma */
	sb_reset(&sb);
	sb_puts(&sb, "{\"pid\":1");
	r.proto = DEC_P_HTTP2;
	r.http.stream_id = 3;
	r.http.resp_body_truncated = 0;
	r.http.req_body_truncated = 1;
	dec_record_json(&sb, &r);
	CHECK(strstr(sb.buf, "{\"pid\":1,\"type\":\"http\"") == sb.buf);
	CHECK(strstr(sb.buf, "\"reason\":\"OK\",\"stream_id\":3,\"latency_us\":7") != NULL);
	CHECK(strstr(sb.buf, "\"req_body_truncated\":true") != NULL);
	CHECK(strstr(sb.buf, "resp_body_truncated") == NULL);
	sb_free(&sb);
}

static void test_mysql_pgsql_note(void)
{
	struct strbuf sb = STRBUF_INIT;
	struct dec_record r;

	memset(&r, 0, sizeof(r));
	r.type = DEC_R_MYSQL;
	r.proto = DEC_P_MYSQL;
	r.latency_us = 5;
	r.mysql.command = "COM_QUERY";
	r.mysql.query = "SELECT 1";
	r.mysql.rows = 1;
	r.mysql.columns = -1;
	r.mysql.error_code = 1064;
	r.mysql.user = "u";
	r.mysql.req_bytes = 13;
	r.mysql.resp_bytes = 40;
	r.mysql.result = "1\n1\n";
	dec_record_json(&sb, &r);
	CHECK_EQ_STR(sb.buf, "\"type\":\"mysql\",\"command\":\"COM_QUERY\",\"query\":\"SELECT 1\","
			     "\"rows\":1,\"columns\":-1,\"error\":null,\"error_code\":1064,"
			     "\"sqlstate\":null,\"user\":\"u\",\"database\":null,"
			     "\"latency_us\":5,\"req_bytes\":13,\"resp_bytes\":40,"
			     "\"result\":\"1\\n1\\n\"");
	sb_reset(&sb);
	r.mysql.error = "You have an error in your SQL syntax";
	r.mysql.sqlstate = "42000";
	dec_record_json(&sb, &r);
	CHECK(strstr(sb.buf, "\"error_code\":1064,\"sqlstate\":\"42000\",\"user\"") != NULL);
	sb_reset(&sb);
	memset(&r, 0, sizeof(r));
	r.type = DEC_R_PGSQL;
	r.proto = DEC_P_PGSQL;
	r.pgsql.query = "select\n1";
	r.pgsql.tag = "SELECT 1";
	r.pgsql.rows = -1;
	r.pgsql.sqlstate = "42601";
	dec_record_json(&sb, &r);
	CHECK_EQ_STR(sb.buf, "\"type\":\"pgsql\",\"query\":\"select\\n1\",\"tag\":\"SELECT 1\","
			     "\"rows\":-1,\"error\":null,\"sqlstate\":\"42601\",\"user\":null,"
			     "\"database\":null,\"latency_us\":0,\"req_bytes\":0,\"resp_bytes\":0");
	sb_reset(&sb);
	memset(&r, 0, sizeof(r));
	r.type = DEC_R_NOTE;
	r.proto = DEC_P_HTTP1;
	r.note.text = "broken";
	dec_record_json(&sb, &r);
	CHECK_EQ_STR(sb.buf, "\"type\":\"note\",\"proto\":\"http\",\"text\":\"broken\"");
	sb_free(&sb);
}

static void test_proto_names(void)
{
	CHECK_EQ_STR(dec_proto_name(DEC_P_UNKNOWN), "unknown");
	CHECK_EQ_STR(dec_proto_name(DEC_P_HTTP1), "http");
	CHECK_EQ_STR(dec_proto_name(DEC_P_HTTP2), "http2");
	CHECK_EQ_STR(dec_proto_name(DEC_P_MYSQL), "mysql");
	CHECK_EQ_STR(dec_proto_name(DEC_P_PGSQL), "pgsql");
	CHECK_EQ_STR(dec_proto_name(DEC_P_TLS), "tls");
	CHECK_EQ_STR(dec_proto_name(DEC_P_MAX), "unknown");
	CHECK_EQ_STR(dec_proto_name((enum dec_proto)99), "unknown");
}

UNIT_MAIN(UNIT(test_http), UNIT(test_mysql_pgsql_note), UNIT(test_proto_names))
