// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * What we write must decode in tshark (Debian package "tshark"): HTTP/1.1
 * requests with the process comment, a request split over packets, MySQL and
 * PostgreSQL queries, journal entries, valid checksums and no TCP analysis
 * complaints. Without tshark each case prints "SKIP name: tshark not
 * installed" instead of PASS.
 */
#include "unit.h"
#include "test_pcapng_lib.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <sys/socket.h>
#include <unistd.h>

int unit_failed_now;

static char *run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Run a shell command; its standard output (NUL-terminated, caller frees). */
static char *run(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;
	size_t n = 0, cap = 65536;
	char *out = malloc(cap);
	FILE *p;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	p = popen(cmd, "r");
	if (!p) {
		out[0] = '\0';
		return out;
	}
	for (;;) {
		size_t k = fread(out + n, 1, cap - n - 1, p);

		if (!k)
			break;
		n += k;
		if (n + 1 == cap)
			out = realloc(out, cap *= 2);
	}
	out[n] = '\0';
	pclose(p);
	return out;
}

#define TSHARK "tshark -n -o tcp.desegment_tcp_streams:TRUE -r"

static uint64_t ts = 1712000000000000000ULL;

static struct ec_event *proc(struct ec_event *e, uint32_t pid, const char *comm)
{
	e->h.pid = pid;
	e->h.tid = pid;
	snprintf(e->h.comm, sizeof(e->h.comm), "%s", comm);
	return e;
}

static int write_events(const char *path, struct ec_event **evs, size_t n)
{
	char err[256];
	struct pcapng_writer *w = pcapng_writer_open(path, NULL, true, err, sizeof(err));
	int rc = 0;

	if (!w) {
		printf("  %s\n", err);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		rc |= pcapng_write_event(w, evs[i]);
		free(evs[i]);
	}
	rc |= pcapng_writer_close(w, NULL, NULL, err, sizeof(err));
	return rc;
}

static const char *http_file(const char *name)
{
	static char body[150000];
	char req[256];
	struct ec_event *evs[8];
	const char *path = tl_path(name);
	size_t n = 0;
	int l;

	memset(body, 'b', sizeof(body));
#define V4(dir, p, len)                                                                            \
	proc(tl_data(EC_AF_INET, "127.0.0.1", 45678, "127.0.0.1", 8080, 0xffff888100001000ULL,     \
		     dir, p, (uint32_t)(len), ts += 1000000),                                      \
	     4242, "curl")
	static const char r1[] = "GET /ecaptop/check?q=1 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n"
				 "User-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n";
	static const char a1[] = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n"
				 "Content-Type: text/plain\r\n\r\nhello";
	evs[n++] = V4(EC_DIR_SEND, r1, sizeof(r1) - 1);
	evs[n++] = V4(EC_DIR_RECV, a1, sizeof(a1) - 1);
	/* A request larger than one packet: headers, then the body in one event
	 * that the writer splits in three segments. */
	l = snprintf(req, sizeof(req),
		     "POST /upload HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nContent-Length: %zu\r\n\r\n",
		     sizeof(body));
	evs[n++] = V4(EC_DIR_SEND, req, l);
	evs[n++] = V4(EC_DIR_SEND, body, sizeof(body));
	static const char a2[] = "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n";
	evs[n++] = V4(EC_DIR_RECV, a2, sizeof(a2) - 1);
	static const char r3[] = "GET /v6path HTTP/1.1\r\nHost: [::1]:80\r\n\r\n";
	evs[n++] = proc(tl_data(EC_AF_INET6, "::1", 40000, "::1", 80, 0xffff888100002000ULL,
				EC_DIR_SEND, r3, sizeof(r3) - 1, ts += 1000),
			5151, "wget");
	evs[n++] = tl_note(EC_K_COMMAND, EC_S_BASH, 777, "bash", "ls -la", 6, ts += 1000);
	CHECK_EQ_INT(write_events(path, evs, n), 0);
	return path;
}

static int has_line(const char *out, const char *a, const char *b)
{
	const char *p = out;

	while (p && *p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		char line[4096];

		if (len >= sizeof(line))
			len = sizeof(line) - 1;
		memcpy(line, p, len);
		line[len] = '\0';
		if (strstr(line, a) && (!b || strstr(line, b)))
			return 1;
		p = nl ? nl + 1 : NULL;
	}
	return 0;
}

static void check_http(const char *path)
{
	char *o = run(TSHARK " '%s' -Y http.request -T fields -e http.request.uri -e frame.comment "
			     "2>&1",
		      path);

	CHECK(has_line(o, "/ecaptop/check?q=1", "PID: 4242"));
	CHECK(has_line(o, "/ecaptop/check?q=1", "Cmd: curl"));
	CHECK(has_line(o, "/upload", "PID: 4242"));
	CHECK(has_line(o, "/v6path", "PID: 5151"));
	if (unit_failed_now)
		printf("  tshark said:\n%s\n", o);
	free(o);
	o = run(TSHARK " '%s' -Y http.response -T fields -e http.response.code 2>&1", path);
	CHECK(has_line(o, "200", NULL));
	CHECK(has_line(o, "201", NULL));
	free(o);
}

static void test_http_request_uri_and_pid(void)
{
	check_http(http_file("http.pcapng"));
}

static void test_http_gzip(void)
{
	check_http(http_file("http.pcapng.gz"));
}

static void test_checksums_and_tcp_analysis(void)
{
	const char *path = http_file("check.pcapng");
	char *o = run(TSHARK " '%s' -o ip.check_checksum:TRUE -o tcp.check_checksum:TRUE "
			     "-Y 'tcp.checksum.status != 1 || (ip && ip.checksum.status != 1)' "
			     "-T fields -e frame.number 2>/dev/null",
		      path);

	CHECK_EQ_STR(o, "");
	free(o);
	/* Sequence and acknowledgement numbers as TCP analysis sees them. */
	o = run(TSHARK " '%s' -Y 'tcp.analysis.flags && !tcp.analysis.window_update' -T fields "
		       "-e frame.number -e _ws.expert.message 2>/dev/null",
		path);
	CHECK_EQ_STR(o, "");
	free(o);
	o = run(TSHARK " '%s' -Y 'tcp' 2>/dev/null | wc -l", path);
	CHECK(atoi(o) >= 12);
	free(o);
}

static void test_journal_entry(void)
{
	const char *path = http_file("journal.pcapng");
	char *o = run(TSHARK " '%s' -Y systemd_journal -T fields -e systemd_journal.comm "
			     "-e systemd_journal.pid -e systemd_journal.message 2>&1",
		      path);

	CHECK(has_line(o, "bash\t777\tls -la", NULL));
	if (unit_failed_now)
		printf("  tshark said:\n%s\n", o);
	free(o);
}

static size_t mysql_pkt(uint8_t *out, uint8_t seq, const void *p, size_t n)
{
	/* MySQL packet: 3-byte little-endian length, sequence id, payload
	 * (dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_basic_packets.html) */
	out[0] = (uint8_t)n, out[1] = (uint8_t)(n >> 8), out[2] = (uint8_t)(n >> 16);
	out[3] = seq;
	memcpy(out + 4, p, n);
	return n + 4;
}

static void test_mysql_query(void)
{
	const char *path = tl_path("mysql.pcapng");
	struct ec_event *evs[4];
	uint8_t g[128], b[160];
	size_t gl = 0, n;

	/* Server greeting, protocol 10: version, thread id, salt part 1, filler,
	 * capabilities (PROTOCOL_41 | SECURE_CONNECTION | TRANSACTIONS, PLUGIN_AUTH
	 * in the upper half; no SSL), charset, status, salt length, reserved,
	 * salt part 2, plugin name (page_protocol_connection_phase_packets). */
	g[gl++] = 10;
	memcpy(g + gl, "8.0.36\0", 7), gl += 7;
	memcpy(g + gl, "\x2a\0\0\0", 4), gl += 4;
	memcpy(g + gl, "abcdefgh\0", 9), gl += 9;
	memcpy(g + gl, "\x00\xa2\x21\x02\x00\x08\x00\x15", 8), gl += 8;
	memset(g + gl, 0, 10), gl += 10;
	memcpy(g + gl, "ijklmnopqrst\0", 13), gl += 13;
	memcpy(g + gl, "mysql_native_password\0", 22), gl += 22;
	n = mysql_pkt(b, 0, g, gl);
#define M(dir, p, len)                                                                             \
	proc(tl_data(EC_AF_INET, "127.0.0.1", 51000, "127.0.0.1", 3306, 0xffff888100003000ULL,     \
		     dir, p, (uint32_t)(len), ts += 1000),                                         \
	     6060, "mysql")
	evs[0] = M(EC_DIR_RECV, b, n);
	/* Handshake response 41: capabilities, max packet, charset, 23 zero
	 * bytes, user, empty auth response, plugin name. */
	gl = 0;
	memcpy(g + gl, "\x00\xa2\x08\x00\x00\x00\x00\x01\x21", 9), gl += 9;
	memset(g + gl, 0, 23), gl += 23;
	memcpy(g + gl, "root\0\0", 6), gl += 6;
	memcpy(g + gl, "mysql_native_password\0", 22), gl += 22;
	n = mysql_pkt(b, 1, g, gl);
	evs[1] = M(EC_DIR_SEND, b, n);
	n = mysql_pkt(b, 2, "\x00\x00\x00\x02\x00\x00\x00", 7); /* OK */
	evs[2] = M(EC_DIR_RECV, b, n);
	n = mysql_pkt(b, 0, "\x03SELECT 1", 9); /* COM_QUERY */
	evs[3] = M(EC_DIR_SEND, b, n);
	CHECK_EQ_INT(write_events(path, evs, 4), 0);
	char *o =
	    run(TSHARK " '%s' -Y mysql.query -T fields -e mysql.query -e frame.comment 2>&1", path);

	CHECK(has_line(o, "SELECT 1", "PID: 6060"));
	if (unit_failed_now)
		printf("  tshark said:\n%s\n", o);
	free(o);
}

static void test_pgsql_query(void)
{
	const char *path = tl_path("pgsql.pcapng");
	struct ec_event *evs[3];
	/* StartupMessage v3.0, AuthenticationOk + ReadyForQuery, Query
	 * (postgresql.org/docs/current/protocol-message-formats.html). */
	static const char su[] = "\0\0\0\x24\0\x03\0\0user\0postgres\0database\0app\0";
	static const char ok[] = "R\0\0\0\x08\0\0\0\0Z\0\0\0\x05I";
	static const char q[] = "Q\0\0\0\x0eSELECT 2;";
#define P(dir, p, len)                                                                             \
	proc(tl_data(EC_AF_INET6, "::1", 52000, "::1", 5432, 0xffff888100004000ULL, dir, p,        \
		     (uint32_t)(len), ts += 1000),                                                 \
	     7070, "psql")
	evs[0] = P(EC_DIR_SEND, su, sizeof(su) - 1 + 1);
	evs[1] = P(EC_DIR_RECV, ok, sizeof(ok) - 1);
	evs[2] = P(EC_DIR_SEND, q, sizeof(q));
	CHECK_EQ_INT(write_events(path, evs, 3), 0);
	char *o =
	    run(TSHARK " '%s' -Y pgsql.query -T fields -e pgsql.query -e frame.comment 2>&1", path);

	CHECK(has_line(o, "SELECT 2;", "PID: 7070"));
	if (unit_failed_now)
		printf("  tshark said:\n%s\n", o);
	free(o);
}

/* Both ends of one loopback connection captured (curl's socket and the
 * server's): the two views share sequence numbers, so tshark sees the second
 * as retransmissions and decodes the exchange once. */
static void test_mirrored_views(void)
{
	const char *path = tl_path("mirror.pcapng");
	static const char rq[] = "GET /mirror HTTP/1.1\r\nHost: x\r\n\r\n";
	static const char rs[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi";
	struct ec_event *evs[4];
#define CL(dir, p)                                                                                 \
	proc(tl_data(EC_AF_INET, "127.0.0.1", 45678, "127.0.0.1", 8000, 0xbbbb, dir, p,            \
		     sizeof(p) - 1, ts += 1000),                                                   \
	     200, "curl")
#define SV(dir, p)                                                                                 \
	proc(tl_data(EC_AF_INET, "127.0.0.1", 8000, "127.0.0.1", 45678, 0xaaaa, dir, p,            \
		     sizeof(p) - 1, ts += 1000),                                                   \
	     100, "python3")
	evs[0] = CL(EC_DIR_SEND, rq);
	evs[1] = SV(EC_DIR_RECV, rq);
	evs[2] = SV(EC_DIR_SEND, rs);
	evs[3] = CL(EC_DIR_RECV, rs);
	CHECK_EQ_INT(write_events(path, evs, 4), 0);
	char *o =
	    run(TSHARK " '%s' -Y http.request -T fields -e http.request.uri 2>/dev/null", path);

	CHECK_EQ_STR(o, "/mirror\n");
	free(o);
	o = run(TSHARK " '%s' -Y 'http.response.code == 200' -T fields -e http.response.code "
		       "2>/dev/null",
		path);
	CHECK_EQ_STR(o, "200\n");
	free(o);
}

/* Both ends of a MySQL-like connection on two ephemeral ports (the server, which
 * greets first, listens on a real socket so the writer can tell), the views
 * arriving slightly out of time order and the receiver reading in other
 * pieces: one clean TCP stream from the client, each byte once, both processes
 * in the comments, time never backwards; the reader gives back every event of
 * both views exactly. */
static void test_both_ends_one_stream(void)
{
	const char *path = tl_path("both.pcapng");
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t sl = sizeof(sa);
	int ls = socket(AF_INET, SOCK_STREAM, 0);
	static const char greet[] = "\x0a"
				    "5.5.5-fake-greeting-bytes";
	static const char req[] = "\x03select 1, 'both-ends'";
	static const char resp[] = "result-set-bytes-0123456789";
	struct ec_event *evs[8], *orig[8], *got[32];
	uint64_t t0 = 1712000000000000000ULL;
	uint16_t sp, cp = 61000;
	size_t n = 0, i, k;
	int rc;

	CHECK(ls >= 0 && bind(ls, (struct sockaddr *)&sa, sizeof(sa)) == 0 && listen(ls, 1) == 0 &&
	      getsockname(ls, (struct sockaddr *)&sa, &sl) == 0);
	sp = ntohs(sa.sin_port);
	if (sp == cp)
		cp++;
#define SRV(dir, p, off, len, t)                                                                   \
	proc(tl_data(EC_AF_INET, "127.0.0.1", sp, "127.0.0.1", cp, 0xaaaa, dir, (p) + (off), len,  \
		     t0 + (t)),                                                                    \
	     100, "mariadbd")
#define CLI(dir, p, off, len, t)                                                                   \
	proc(tl_data(EC_AF_INET, "127.0.0.1", cp, "127.0.0.1", sp, 0xbbbb, dir, (p) + (off), len,  \
		     t0 + (t)),                                                                    \
	     200, "mariadb")
	/* in arrival order: the client's recv of the greeting comes first */
	evs[n++] = CLI(EC_DIR_RECV, greet, 0, 10, 2000);
	evs[n++] = SRV(EC_DIR_SEND, greet, 0, sizeof(greet) - 1, 1000);
	evs[n++] = CLI(EC_DIR_RECV, greet, 10, sizeof(greet) - 11, 2500);
	evs[n++] = CLI(EC_DIR_SEND, req, 0, sizeof(req) - 1, 3000);
	evs[n++] = SRV(EC_DIR_RECV, req, 0, sizeof(req) - 1, 4000);
	/* the receiver's view of the response is stamped before the sender's */
	evs[n++] = CLI(EC_DIR_RECV, resp, 0, sizeof(resp) - 1, 5500);
	evs[n++] = SRV(EC_DIR_SEND, resp, 0, sizeof(resp) - 1, 6000);
	for (i = 0; i < n; i++)
		orig[i] = ec_event_dup(evs[i]);
	CHECK_EQ_INT(write_events(path, evs, n), 0);
	close(ls);

	char *o = run("tshark -n -r '%s' -Y 'tcp.analysis.flags && !tcp.analysis.window_update' "
		      "2>/dev/null | wc -l",
		      path);
	CHECK_EQ_STR(o, "0\n");
	free(o);
	o = run(
	    "tshark -n -r '%s' -T fields -e frame.time_epoch 2>/dev/null | sort -c && echo sorted",
	    path);
	CHECK_EQ_STR(o, "sorted\n");
	free(o);
	/* the SYN goes to the listening port */
	o = run(
	    "tshark -n -r '%s' -Y 'tcp.flags.syn==1 && tcp.flags.ack==0' -T fields -e tcp.dstport "
	    "2>/dev/null",
	    path);
	char want[16];

	snprintf(want, sizeof(want), "%u\n", sp);
	CHECK_EQ_STR(o, want);
	free(o);
	/* each byte once: the payload is exactly the three messages */
	o = run("tshark -n -r '%s' -Y 'tcp.len > 0' -T fields -e tcp.len 2>/dev/null | "
		"awk '{s += $1} END {print s}'",
		path);
	snprintf(want, sizeof(want), "%zu\n",
		 sizeof(greet) - 1 + sizeof(req) - 1 + sizeof(resp) - 1);
	CHECK_EQ_STR(o, want);
	free(o);
	o = run("tshark -n -r '%s' -Y 'tcp.len > 0 && frame.comment contains \"PID: 200\" && "
		"frame.comment contains \"Peer PID: 100\"' 2>/dev/null | wc -l",
		path);
	CHECK_EQ_STR(o, "1\n");
	free(o);

	/* every data packet names its sender's process first */
	o = run(
	    "tshark -n -r '%s' -Y 'tcp.len > 0' -T fields -e tcp.srcport -e frame.comment "
	    "2>/dev/null | awk -F '\\t' -v sp=%u '{ want = $1 == sp ? \"PID: 100\" : \"PID: 200\"; "
	    "if (index($2, want) != 1) bad++ } END { print bad + 0 }'",
	    path, sp);
	CHECK_EQ_STR(o, "0\n");
	free(o);

	char err[256];
	struct pcapng_reader *r = pcapng_reader_open(path, NULL, err, sizeof(err));

	CHECK(r != NULL);
	if (!r)
		goto out;
	size_t m = tl_read_all(r, got, 32, &rc);

	CHECK_EQ_INT(rc, 0);
	CHECK_EQ_INT(m, n);
	/* every event back exactly */
	for (i = 0; i < n; i++) {
		int found = 0;

		for (k = 0; k < m && !found; k++)
			found = got[k]->h.len == orig[i]->h.len &&
				!memcmp(&got[k]->h, &orig[i]->h, sizeof(orig[i]->h)) &&
				!memcmp(got[k]->data, orig[i]->data, orig[i]->h.len);
		if (!found)
			printf("  event %zu (pid %u dir %u len %u) not restored\n", i,
			       orig[i]->h.pid, orig[i]->h.dir, orig[i]->h.len);
		CHECK(found);
	}
	for (k = 0; k < m; k++)
		free(got[k]);
	pcapng_reader_close(r);
out:
	for (i = 0; i < n; i++)
		free(orig[i]);
#undef SRV
#undef CLI
}

/* A recording's decode hint: HTTP/1.1 on port 41234 (tshark needs -d) and on
 * 8080 (it does not). The options come back from close, the section header
 * comment holds them (plain and .gz: the rewritten SHB member), and before
 * close the comment says the hint is not known. */
static void check_hint(const char *name)
{
	static const char rq[] = "GET /hinted HTTP/1.1\r\nHost: x\r\n\r\n";
	static const char rs[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
	const char *path = tl_path(name);
	struct pcapng_writer_stats st;
	char err[256], *o;
	struct pcapng_writer *w = pcapng_writer_open(path, NULL, true, err, sizeof(err));
	struct ec_event *e;

	CHECK(w != NULL);
	if (!w)
		return;
	for (int i = 0; i < 4; i++) {
		e = tl_data(EC_AF_INET, "127.0.0.1", 45000, "127.0.0.1", i < 2 ? 41234 : 8080,
			    0xffff888100009000ULL + (i < 2 ? 0 : 0x100),
			    i % 2 ? EC_DIR_RECV : EC_DIR_SEND, i % 2 ? rs : rq,
			    i % 2 ? sizeof(rs) - 1 : sizeof(rq) - 1, ts += 1000000);
		CHECK_EQ_INT(pcapng_write_event(w, e), 0);
		free(e);
	}
	CHECK_EQ_INT(pcapng_writer_flush(w), 0);
	o = run("capinfos '%s' 2>&1", path);
	CHECK(has_line(o, "Capture comment:", "Decode with: not known"));
	free(o);
	CHECK_EQ_INT(pcapng_writer_close(w, NULL, &st, err, sizeof(err)), 0);
	CHECK_EQ_STR(st.decode, "-d tcp.port==41234,http");
	o = run("capinfos '%s' 2>&1", path);
	CHECK(has_line(o, "Capture comment:", "Decode with: tshark -d tcp.port==41234,http  "));
	if (unit_failed_now)
		printf("  capinfos said:\n%s\n", o);
	free(o);
	o = run(TSHARK
		" '%s' -d tcp.port==41234,http -Y http.request -T fields -e http.request.uri "
		"2>&1",
		path);
	CHECK(has_line(o, "/hinted", NULL));
	free(o);
}

static void test_decode_hint(void)
{
	check_hint("hint.pcapng");
}

static void test_decode_hint_gzip(void)
{
	check_hint("hint.pcapng.gz");
}

int main(void)
{
	static const struct unit_case cases[] = {
	    UNIT(test_http_request_uri_and_pid),
	    UNIT(test_http_gzip),
	    UNIT(test_checksums_and_tcp_analysis),
	    UNIT(test_journal_entry),
	    UNIT(test_mysql_query),
	    UNIT(test_pgsql_query),
	    UNIT(test_mirrored_views),
	    UNIT(test_both_ends_one_stream),
	    UNIT(test_decode_hint),
	    UNIT(test_decode_hint_gzip),
	};
	int have = system("command -v tshark >/dev/null 2>&1") == 0, failed = 0;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (!have) {
			printf("SKIP %s: tshark not installed (apt-get install tshark)\n",
			       cases[i].name);
			continue;
		}
		unit_failed_now = 0;
		cases[i].fn();
		printf("%s %s\n", unit_failed_now ? "FAIL" : "PASS", cases[i].name);
		fflush(stdout);
		failed |= unit_failed_now;
	}
	return failed;
}
