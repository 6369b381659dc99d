// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The filter language (tui/session/filter.h): every term kind, negation, alternation,
 * regex case, errors with positions, kernel-side extraction. */
#include "unit.h"
#include "tui/session/filter.h"

#include <errno.h>

static struct filter_subject subj(uint32_t pid, uint32_t uid, const char *comm)
{
	struct filter_subject s;

	memset(&s, 0, sizeof(s));
	s.has_pid = s.has_uid = true;
	s.pid = pid;
	s.uid = uid;
	s.comm = comm;
	return s;
}

static bool m(const char *text, const struct filter_subject *s)
{
	char err[256];
	struct filter *f = filter_compile(text, err, sizeof(err), NULL, NULL);
	bool r;

	if (!f) {
		printf("  unexpected compile error for '%s': %s\n", text, err);
		unit_failed_now = 1;
		return false;
	}
	r = filter_match(f, s);
	filter_free(f);
	return r;
}

static void test_empty(void)
{
	struct filter_subject s = subj(1, 0, "x");
	struct filter *f = filter_compile("   ", NULL, 0, NULL, NULL);

	CHECK(f != NULL);
	CHECK(filter_match(f, &s));
	CHECK_EQ_INT(filter_fields(f), 0);
	filter_free(f);
	CHECK(filter_match(NULL, &s));
}

static void test_pid_uid_comm(void)
{
	struct filter_subject s = subj(1234, 1000, "curl");

	CHECK(m("pid:1234", &s));
	CHECK(!m("pid:123", &s));
	CHECK(m("pid:1|1234|7", &s));
	CHECK(m("uid:1000", &s));
	CHECK(!m("uid:0", &s));
	CHECK(m("comm:curl", &s));
	CHECK(!m("comm:cur", &s));
	CHECK(m("comm:bash|curl", &s));
	CHECK(m("pid:1234 uid:1000 comm:curl", &s));
	CHECK(!m("pid:1234 uid:0", &s));
	/* a subject without a pid does not match pid:, and matches !pid: */
	s.has_pid = false;
	CHECK(!m("pid:1234", &s));
	CHECK(m("!pid:1234", &s));
}

static void test_comm_truncated(void)
{
	struct filter_subject s = subj(1, 0, "systemd-resolve");

	/* the kernel keeps 15 bytes: a longer name is rejected as typed */
	CHECK(m("comm:systemd-resolve", &s));
	CHECK(!m("comm:systemd-resolvX", &s));
}

static void test_proto(void)
{
	struct filter_subject s = subj(1, 0, "x");

	s.protos = FILTER_P_HTTP2 | FILTER_P_TLS;
	CHECK(m("proto:http", &s)); /* http means any HTTP version */
	CHECK(m("proto:http2", &s));
	CHECK(m("proto:tls", &s));
	CHECK(!m("proto:socket", &s));
	CHECK(m("proto:mysql|pgsql|tls", &s));
	CHECK(!m("proto:mysql|pgsql", &s));
	s.protos = FILTER_P_HTTP;
	CHECK(!m("proto:http2", &s));
	s.protos = FILTER_P_BASH;
	CHECK(m("proto:bash", &s));
	CHECK(!m("proto:zsh", &s));
	CHECK(m("!proto:zsh", &s));
}

static void test_port_host_status(void)
{
	struct filter_subject s = subj(1, 0, "x");

	s.ports[0] = 51000;
	s.ports[1] = 443;
	s.n_ports = 2;
	s.hosts[0] = "127.0.0.1";
	s.hosts[1] = "Example.COM";
	s.n_hosts = 2;
	s.status = 404;
	CHECK(m("port:443", &s));
	CHECK(m("port:51000", &s));
	CHECK(!m("port:80", &s));
	CHECK(m("port:80|443", &s));
	CHECK(m("host:example.com", &s));
	CHECK(m("host:127.0", &s));
	CHECK(!m("host:google", &s));
	CHECK(m("status:404", &s));
	CHECK(m("status:4xx", &s));
	CHECK(!m("status:5xx", &s));
	CHECK(m("status:200|404", &s));
	CHECK(m("!status:500", &s));
	s.status = 0;
	CHECK(!m("status:404", &s));
	CHECK(m("!status:404", &s));
}

static void test_regex(void)
{
	struct filter_subject s = subj(1, 0, "x");
	static const char payload[] = "GET /Secret/a HTTP/1.1\r\n\0binary";

	s.text[0].p = payload;
	s.text[0].len = sizeof(payload) - 1;
	s.n_text = 1;
	CHECK(m("/Secret/", &s));
	CHECK(!m("/secret/", &s));
	CHECK(m("/secret/i", &s));
	CHECK(m("/^GET \\/Secret/", &s)); /* \/ is a slash */
	CHECK(m("/bin.ry$/", &s));	  /* bytes after a NUL are searched */
	CHECK(m("/a b|Secret/", &s));	  /* a regex may hold spaces and | */
	CHECK(!m("!/Secret/", &s));
	CHECK(m("/nothing/ pid:2", &s) == false);
	/* invalid UTF-8 in the subject does not stop the match */
	s.text[0].p = "\xff\xfe abc";
	s.text[0].len = 6;
	CHECK(m("/abc/", &s));
	/* a subject without text does not match a regex */
	s.n_text = 0;
	CHECK(!m("/abc/", &s));
}

static void test_fields(void)
{
	struct filter *f = filter_compile("pid:1 !/x/ host:a", NULL, 0, NULL, NULL);

	CHECK(f != NULL);
	CHECK_EQ_INT(filter_fields(f), FILTER_F_PID | FILTER_F_REGEX | FILTER_F_HOST);
	CHECK_EQ_STR(filter_text(f), "pid:1 !/x/ host:a");
	filter_free(f);
}

/* Compile must fail with a message containing want, at pos/len. */
static void bad(const char *text, const char *want, size_t want_pos, size_t want_len)
{
	char err[256];
	size_t pos = 999, len = 999;
	struct filter *f = filter_compile(text, err, sizeof(err), &pos, &len);

	CHECK(f == NULL);
	if (f) {
		printf("  '%s' compiled\n", text);
		filter_free(f);
		return;
	}
	CHECK_EQ_INT(errno, EINVAL);
	if (!strstr(err, want)) {
		printf("  '%s': message '%s' lacks '%s'\n", text, err, want);
		unit_failed_now = 1;
	}
	if (pos != want_pos || (want_len && len != want_len)) {
		printf("  '%s': position %zu+%zu, want %zu+%zu\n", text, pos, len, want_pos,
		       want_len);
		unit_failed_now = 1;
	}
}

static void test_errors(void)
{
	bad("pid:abc", "not a number", 4, 3);
	bad("pid:1 uid:", "empty value", 10, 1);
	bad("pid:1 uid:5| ", "empty value", 12, 1);
	bad("foo:1", "unknown key 'foo:'", 0, 3);
	bad("curl", "is not a term", 0, 4);
	bad("pid:1 proto:ftp", "unknown protocol 'ftp'", 12, 3);
	bad("port:70000", "not a port number", 5, 5);
	bad("status:99", "not an HTTP status", 7, 2);
	bad("status:6yy", "not an HTTP status", 7, 3);
	bad("status:6xx", "not an HTTP status", 7, 3);
	bad("status:600", "not an HTTP status", 7, 3);
	bad("comm:systemd-resolved", "longer than the 15 characters", 5, 16);
	bad("or pid:1", "must come before", 0, 2);
	bad("pid:1 or", "must come after", 7, 1);
	bad("pid:1 or or pid:2", "must come before", 9, 2);
	bad("/abc", "unterminated regex", 0, 4);
	bad("pid:1 /a(b/", "regex:", 9, 1);
	bad("/abc/x", "unknown flag 'x'", 5, 1);
	bad("! pid:1", "must be followed", 0, 1);
	bad("!!pid:1", "negate a term once", 0, 2);
	bad("//", "empty regex", 0, 2);
	bad("pid:99999999999", "not a number", 4, 11);
}

/* "or" between terms: either group of ANDed terms; "a,b" as "a|b". */
static void test_or_and_commas(void)
{
	struct filter_subject s = subj(7, 0, "psql");
	uint32_t ids[8];
	struct filter *f;

	s.protos = FILTER_P_PGSQL;
	s.ports[0] = 5432;
	s.n_ports = 1;
	CHECK(m("port:5432 or proto:bash", &s));
	CHECK(m("proto:bash or port:5432", &s));
	CHECK(m("proto:bash OR pid:7 comm:psql", &s));
	CHECK(!m("proto:bash or pid:7 comm:curl", &s));
	CHECK(!m("proto:bash or port:80", &s));
	CHECK(m("pid:1,7", &s));
	CHECK(m("pid:1,2|7", &s));
	CHECK(!m("pid:1,2", &s));
	CHECK(m("port:80,5432 uid:0", &s));
	/* a comm or host named "or..." is a term, not the keyword */
	CHECK(!m("comm:orca", &s));
	/* with "or", the kernel cannot be narrowed */
	f = filter_compile("pid:7 or pid:8", NULL, 0, NULL, NULL);
	CHECK(f != NULL);
	CHECK_EQ_INT(filter_kernel_pids(f, ids, 8), 0);
	filter_free(f);
	f = filter_compile("pid:7,8", NULL, 0, NULL, NULL);
	CHECK_EQ_INT(filter_kernel_pids(f, ids, 8), 2);
	filter_free(f);
}

static void test_kernel_ids(void)
{
	uint32_t ids[8];
	struct filter *f;
	size_t n;

	f = filter_compile("pid:10|20|30 proto:http pid:20|30|40", NULL, 0, NULL, NULL);
	n = filter_kernel_pids(f, ids, 8);
	CHECK_EQ_INT(n, 2);
	CHECK_EQ_INT(ids[0], 20);
	CHECK_EQ_INT(ids[1], 30);
	CHECK_EQ_INT(filter_kernel_uids(f, ids, 8), 0);
	filter_free(f);

	/* a negated pid term cannot narrow the kernel's view */
	f = filter_compile("!pid:10 uid:0|1000", NULL, 0, NULL, NULL);
	CHECK_EQ_INT(filter_kernel_pids(f, ids, 8), 0);
	n = filter_kernel_uids(f, ids, 8);
	CHECK_EQ_INT(n, 2);
	CHECK_EQ_INT(ids[0], 0);
	CHECK_EQ_INT(ids[1], 1000);
	/* more ids than fit: stay open */
	CHECK_EQ_INT(filter_kernel_uids(f, ids, 1), 0);
	filter_free(f);

	/* an empty intersection stays open (the user-space filter shows nothing) */
	f = filter_compile("pid:1 pid:2", NULL, 0, NULL, NULL);
	CHECK_EQ_INT(filter_kernel_pids(f, ids, 8), 0);
	filter_free(f);
	CHECK_EQ_INT(filter_kernel_pids(NULL, ids, 8), 0);
}

/* cgroup: the process's cgroup or one below it, whole path components. */
static void test_cgroup(void)
{
	struct filter_subject s = subj(1, 0, "nginx");

	CHECK(!m("cgroup:/system.slice", &s)); /* unknown cgroup: no match */
	CHECK(m("!cgroup:/system.slice", &s));
	s.cgroup = "/system.slice/nginx.service";
	CHECK(m("cgroup:/system.slice", &s));
	CHECK(m("cgroup:/system.slice/", &s));
	CHECK(m("cgroup:system.slice/nginx.service", &s));
	CHECK(m("cgroup:/", &s));
	CHECK(!m("cgroup:/system", &s)); /* not a whole component */
	CHECK(!m("cgroup:/system.slice/nginx.service/x", &s));
	CHECK(!m("cgroup:/user.slice", &s));
	CHECK(m("cgroup:/user.slice|/system.slice", &s));
	CHECK(!m("!cgroup:/system.slice", &s));
	CHECK(m("cgroup:/system.slice comm:nginx", &s));
}

UNIT_MAIN(UNIT(test_empty), UNIT(test_cgroup), UNIT(test_pid_uid_comm), UNIT(test_comm_truncated),
	  UNIT(test_proto), UNIT(test_port_host_status), UNIT(test_regex), UNIT(test_fields),
	  UNIT(test_errors), UNIT(test_or_and_commas), UNIT(test_kernel_ids))
