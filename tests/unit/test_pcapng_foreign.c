// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Foreign captures through libpcap: recorded tcpdump/tshark files must
 * reassemble to exactly the bytes tshark extracted from them; synthetic
 * captures (written here with libpcap's own dumper) cover link types, IPv6,
 * out-of-order and retransmitted segments, holes, snap-length cuts, mid-stream
 * starts, filters and truncation.
 */
#include "unit.h"
#include "test_pcapng_lib.h"

#include <pcap/pcap.h>
#include <zlib.h>

#ifndef DLT_LINUX_SLL2
#define DLT_LINUX_SLL2 276
#endif

#define FILES "tests/integration/pcapng-files/"
#define MAXEV 4096
/* TCP flags, RFC 9293 section 3.1 */
#define T_FIN 0x01
#define T_SYN 0x02
#define T_PSH 0x08
#define T_ACK 0x10

struct streams {
	uint8_t *req, *resp;
	size_t req_len, resp_len;
	size_t n_events;
	uint64_t conn_id;
	int conns;	/* distinct conn_ids */
	int bad_fields; /* events whose process fields are not the foreign defaults */
	uint16_t gap_flags, trunc_flags;
	struct ec_event *first;
	int rc;
	char err[320];
};

static void streams_free(struct streams *s)
{
	free(s->req);
	free(s->resp);
	free(s->first);
	memset(s, 0, sizeof(*s));
}

static void append(uint8_t **b, size_t *n, const uint8_t *p, size_t k)
{
	*b = realloc(*b, *n + k + 1);
	memcpy(*b + *n, p, k);
	*n += k;
}

static int read_streams(const char *path, const char *filter, struct streams *s)
{
	struct pcapng_reader *r;
	struct ec_event *ev;

	memset(s, 0, sizeof(*s));
	r = pcapng_reader_open(path, filter, s->err, sizeof(s->err));
	if (!r)
		return -1;
	CHECK(!pcapng_reader_is_own(r));
	while ((s->rc = pcapng_reader_next(r, &ev)) == 1) {
		s->n_events++;
		if (ev->h.conn_id != s->conn_id) {
			s->conns++;
			s->conn_id = ev->h.conn_id;
		}
		if (ev->h.kind != EC_K_DATA || ev->h.pid || ev->h.comm[0] || ev->h.fd != -1 ||
		    ev->h.source != EC_S_SOCKET)
			s->bad_fields++;
		s->gap_flags |= ev->h.flags & EC_F_GAP;
		s->trunc_flags |= ev->h.flags & EC_F_TRUNCATED;
		if (ev->h.dir == EC_DIR_SEND)
			append(&s->req, &s->req_len, ev->data, ev->h.len);
		else
			append(&s->resp, &s->resp_len, ev->data, ev->h.len);
		if (!s->first)
			s->first = ev;
		else
			free(ev);
	}
	if (s->rc < 0)
		snprintf(s->err, sizeof(s->err), "%s", pcapng_reader_error(r));
	pcapng_reader_close(r);
	return 0;
}

static int same_file(const uint8_t *b, size_t n, const char *path)
{
	size_t len;
	uint8_t *f = tl_slurp(path, &len);
	int ok = f && len == n && !memcmp(f, b, n);

	if (!ok)
		printf("  bytes differ from %s (%zu vs %zu)\n", path, n, f ? len : 0);
	free(f);
	return ok;
}

static void check_recorded(const char *cap, const char *base, int family, const char *addr,
			   uint16_t sport)
{
	char req[256], resp[256], a[64];
	struct streams s;

	snprintf(req, sizeof(req), FILES "%s.req", base);
	snprintf(resp, sizeof(resp), FILES "%s.resp", base);
	CHECK_EQ_INT(read_streams(cap, NULL, &s), 0);
	if (!s.first) {
		printf("  %s: %s\n", cap, s.err);
		CHECK(0);
		return;
	}
	CHECK_EQ_INT(s.rc, 0);
	CHECK(same_file(s.req, s.req_len, req));
	CHECK(same_file(s.resp, s.resp_len, resp));
	CHECK_EQ_INT(s.conns, 1);
	CHECK_EQ_INT(s.bad_fields, 0);
	CHECK_EQ_INT(s.gap_flags, 0);
	/* The SYN sender (curl) is the local side; its bytes are "send". */
	CHECK_EQ_INT(s.first->h.dir, EC_DIR_SEND);
	CHECK_EQ_INT(s.first->h.family, family);
	CHECK_EQ_STR(ec_addr_str(s.first->h.family, s.first->h.laddr, a, sizeof(a)), addr);
	CHECK_EQ_INT(s.first->h.rport, sport);
	CHECK(s.first->h.lport != sport && s.first->h.lport > 1024);
	CHECK(s.first->h.ts_ns > 1700000000000000000ULL);
	streams_free(&s);
}

static void test_recorded_tcpdump_pcap(void)
{
	check_recorded(FILES "http-lo.pcap", "http-lo", EC_AF_INET, "127.0.0.1", 18081);
}

static void test_recorded_tshark_pcapng_ipv6(void)
{
	check_recorded(FILES "http-any-v6.pcapng", "http-any-v6", EC_AF_INET6, "::1", 18082);
}

static void test_recorded_gzip(void)
{
	size_t len;
	uint8_t *f = tl_slurp(FILES "http-lo.pcap", &len);
	const char *path = tl_path("http-lo-compressed.cap"); /* no .gz: found by magic */
	gzFile gz = gzopen(path, "wb");

	CHECK(f && gz);
	if (!f || !gz)
		return;
	CHECK_EQ_INT(gzwrite(gz, f, (unsigned)len), (int)len);
	CHECK_EQ_INT(gzclose(gz), Z_OK);
	free(f);
	check_recorded(path, "http-lo", EC_AF_INET, "127.0.0.1", 18081);
}

static void test_recorded_filter(void)
{
	struct streams s;

	CHECK_EQ_INT(read_streams(FILES "http-lo.pcap", "tcp port 18081", &s), 0);
	CHECK(same_file(s.req, s.req_len, FILES "http-lo.req"));
	streams_free(&s);
	CHECK_EQ_INT(read_streams(FILES "http-lo.pcap", "tcp port 9", &s), 0);
	CHECK_EQ_INT(s.n_events, 0);
	CHECK_EQ_INT(s.rc, 0);
	streams_free(&s);
	/* Only the server's packets: its bytes arrive, the client's do not. */
	CHECK_EQ_INT(read_streams(FILES "http-lo.pcap", "tcp src port 18081", &s), 0);
	CHECK_EQ_INT(s.req_len, 0);
	CHECK(same_file(s.resp, s.resp_len, FILES "http-lo.resp"));
	streams_free(&s);
	CHECK_EQ_INT(read_streams(FILES "http-lo.pcap", "tcp port", &s), -1);
	CHECK(strstr(s.err, "invalid filter") != NULL);
}

static void test_recorded_truncated(void)
{
	size_t len, cut;
	uint8_t *f = tl_slurp(FILES "http-lo.pcap", &len);
	const char *path = tl_path("http-lo-cut.pcap");
	struct streams s;

	CHECK(f != NULL);
	if (!f)
		return;
	/* Cut inside frame 8 (the response body): skip the 24-byte file header
	 * and seven records (16-byte header + captured length each). */
	cut = 24;
	for (int i = 0; i < 7 && cut + 16 <= len; i++)
		cut += 16 + tl_le32(f + cut + 8);
	cut += 16 + 40;
	CHECK(cut < len);
	CHECK(tl_spit(path, f, cut) == 0);
	CHECK_EQ_INT(read_streams(path, NULL, &s), 0);
	CHECK(s.rc < 0);
	CHECK(strstr(s.err, "offset") != NULL);
	CHECK(strstr(s.err, "truncated") != NULL);
	CHECK(same_file(s.req, s.req_len, FILES "http-lo.req"));
	CHECK(s.resp_len > 0 && s.resp_len < 243);
	streams_free(&s);
	free(f);
}

/* ---- synthetic captures ---- */

struct syn {
	pcap_t *p;
	pcap_dumper_t *d;
	int dlt, ver;
	uint8_t caddr[16], saddr[16];
	uint16_t cport, sport;
	uint64_t ts_us;
};

static int syn_open(struct syn *y, const char *path, int dlt, int ver)
{
	memset(y, 0, sizeof(*y));
	y->dlt = dlt;
	y->ver = ver;
	y->p = pcap_open_dead(dlt, 262144);
	y->d = y->p ? pcap_dump_open(y->p, path) : NULL;
	if (ver == 4) {
		inet_pton(AF_INET, "192.168.7.1", y->caddr);
		inet_pton(AF_INET, "192.168.7.2", y->saddr);
	} else {
		inet_pton(AF_INET6, "fe80::1", y->caddr);
		inet_pton(AF_INET6, "2001:db8::2", y->saddr);
	}
	y->cport = 50123;
	y->sport = 8080;
	y->ts_us = 1700000000000000ULL;
	return y->d ? 0 : -1;
}

/* One segment from the client (from_client) or the server; caplen_cut > 0
 * cuts the frame to that many bytes, as a snap length would. */
static void syn_seg(struct syn *y, int from_client, uint32_t seq, uint8_t flags,
		    const void *payload, size_t len, size_t caplen_cut)
{
	static uint8_t fr[70000];
	size_t l2 = 0, iphl = y->ver == 4 ? 20 : 40, al = y->ver == 4 ? 4 : 16;
	uint16_t et = y->ver == 4 ? 0x0800 : 0x86dd;
	struct pcap_pkthdr ph;

	memset(fr, 0, 80);
	switch (y->dlt) {
	case DLT_EN10MB:
		memcpy(fr, "\x02\0\0\0\0\x02\x02\0\0\0\0\x01", 12);
		/* with an 802.1Q tag */
		fr[12] = 0x81, fr[13] = 0x00, fr[14] = 0, fr[15] = 5;
		fr[16] = (uint8_t)(et >> 8), fr[17] = (uint8_t)et;
		l2 = 18;
		break;
	case DLT_LINUX_SLL2:
		fr[0] = (uint8_t)(et >> 8), fr[1] = (uint8_t)et;
		l2 = 20;
		break;
	case DLT_NULL: {
		uint32_t af = y->ver == 4 ? 2 : 24;

		memcpy(fr, &af, 4);
		l2 = 4;
		break;
	}
	default: /* DLT_RAW */
		l2 = 0;
	}
	uint8_t *ip = fr + l2, *tcp = ip + iphl;
	const uint8_t *src = from_client ? y->caddr : y->saddr;
	const uint8_t *dst = from_client ? y->saddr : y->caddr;

	if (y->ver == 4) {
		ip[0] = 0x45;
		ip[2] = (uint8_t)((20 + 20 + len) >> 8), ip[3] = (uint8_t)(20 + 20 + len);
		ip[8] = 64, ip[9] = 6;
		memcpy(ip + 12, src, al);
		memcpy(ip + 16, dst, al);
	} else {
		ip[0] = 0x60;
		ip[4] = (uint8_t)((20 + len) >> 8), ip[5] = (uint8_t)(20 + len);
		ip[6] = 6, ip[7] = 64;
		memcpy(ip + 8, src, al);
		memcpy(ip + 24, dst, al);
	}
	uint16_t sp = from_client ? y->cport : y->sport, dp = from_client ? y->sport : y->cport;

	tcp[0] = (uint8_t)(sp >> 8), tcp[1] = (uint8_t)sp;
	tcp[2] = (uint8_t)(dp >> 8), tcp[3] = (uint8_t)dp;
	tcp[4] = (uint8_t)(seq >> 24), tcp[5] = (uint8_t)(seq >> 16);
	tcp[6] = (uint8_t)(seq >> 8), tcp[7] = (uint8_t)seq;
	tcp[12] = 0x50;
	tcp[13] = flags;
	if (len)
		memcpy(tcp + 20, payload, len);
	ph.len = (bpf_u_int32)(l2 + iphl + 20 + len);
	ph.caplen = caplen_cut ? (bpf_u_int32)caplen_cut : ph.len;
	y->ts_us += 10;
	ph.ts.tv_sec = (time_t)(y->ts_us / 1000000);
	ph.ts.tv_usec = (suseconds_t)(y->ts_us % 1000000);
	pcap_dump((u_char *)y->d, &ph, fr);
}

static void syn_close(struct syn *y)
{
	pcap_dump_close(y->d);
	pcap_close(y->p);
}

static uint8_t client_bytes[5000], server_bytes[3000];

static void fill_bytes(void)
{
	for (size_t i = 0; i < sizeof(client_bytes); i++)
		client_bytes[i] = (uint8_t)tl_rand();
	for (size_t i = 0; i < sizeof(server_bytes); i++)
		server_bytes[i] = (uint8_t)tl_rand();
}

/* Client bytes in five 1000-byte segments sent in the order 0 2 1 4 3, with
 * segment 1 retransmitted and an overlapping segment; then the response. */
static void write_reordered(const char *path, int dlt, int ver)
{
	struct syn y;
	uint32_t c = 0xfffff000u, s = 777; /* the client's numbers wrap past 2^32 */
	static const int order[] = {0, 2, 1, 4, 1, 3};

	CHECK_EQ_INT(syn_open(&y, path, dlt, ver), 0);
	syn_seg(&y, 1, c, T_SYN, NULL, 0, 0);
	syn_seg(&y, 0, s, T_SYN | T_ACK, NULL, 0, 0);
	syn_seg(&y, 1, c + 1, T_ACK, NULL, 0, 0);
	for (int i = 0; i < 6; i++)
		syn_seg(&y, 1, c + 1 + 1000u * (uint32_t)order[i], T_ACK | T_PSH,
			client_bytes + 1000 * order[i], 1000, 0);
	/* overlap: bytes 4500..5000 again plus nothing new */
	syn_seg(&y, 1, c + 1 + 4500, T_ACK, client_bytes + 4500, 500, 0);
	syn_seg(&y, 0, s + 1, T_ACK | T_PSH, server_bytes, 1500, 0);
	syn_seg(&y, 0, s + 1 + 1500, T_ACK | T_PSH, server_bytes + 1500, 1500, 0);
	syn_seg(&y, 1, c + 5001, T_FIN | T_ACK, NULL, 0, 0);
	syn_seg(&y, 0, s + 3001, T_FIN | T_ACK, NULL, 0, 0);
	syn_close(&y);
}

static void test_link_types_and_reordering(void)
{
	static const int dlts[] = {DLT_EN10MB, DLT_LINUX_SLL2, DLT_NULL, DLT_RAW};
	struct streams s;
	char a[64];

	fill_bytes();
	for (int v = 4; v <= 6; v += 2) {
		for (size_t i = 0; i < sizeof(dlts) / sizeof(dlts[0]); i++) {
			const char *path = tl_path("reordered.pcap");

			write_reordered(path, dlts[i], v);
			CHECK_EQ_INT(read_streams(path, NULL, &s), 0);
			if (!s.first) {
				printf("  dlt %d ipv%d: no events (%s)\n", dlts[i], v, s.err);
				CHECK(0);
				continue;
			}
			CHECK_EQ_INT(s.rc, 0);
			CHECK(s.req_len == sizeof(client_bytes) &&
			      !memcmp(s.req, client_bytes, s.req_len));
			CHECK(s.resp_len == sizeof(server_bytes) &&
			      !memcmp(s.resp, server_bytes, s.resp_len));
			CHECK_EQ_INT(s.gap_flags, 0);
			CHECK_EQ_INT(s.conns, 1);
			CHECK_EQ_STR(ec_addr_str(s.first->h.family, s.first->h.laddr, a, sizeof(a)),
				     v == 4 ? "192.168.7.1" : "fe80::1");
			CHECK_EQ_INT(s.first->h.lport, 50123);
			CHECK_EQ_INT(s.first->h.rport, 8080);
			streams_free(&s);
		}
	}
}

static void test_hole_gives_gap(void)
{
	const char *path = tl_path("hole.pcap");
	struct pcapng_reader_stats st;
	struct syn y;
	struct streams s;
	uint32_t c = 1000;
	int i;

	fill_bytes();
	CHECK_EQ_INT(syn_open(&y, path, DLT_RAW, 4), 0);
	syn_seg(&y, 1, c, T_SYN, NULL, 0, 0);
	/* 100 segments of 10 bytes; segment 3 never arrives. */
	for (i = 0; i < 100; i++)
		if (i != 3)
			syn_seg(&y, 1, c + 1 + 10u * (uint32_t)i, T_ACK, client_bytes + 10 * i, 10,
				0);
	syn_close(&y);
	CHECK_EQ_INT(read_streams(path, NULL, &s), 0);
	CHECK_EQ_INT(s.rc, 0);
	CHECK_EQ_INT(s.req_len, 990);
	CHECK(s.req && !memcmp(s.req, client_bytes, 30) &&
	      !memcmp(s.req + 30, client_bytes + 40, 960));
	CHECK_EQ_INT(s.gap_flags, EC_F_GAP);
	streams_free(&s);
	/* The same hole at the end of the file is given up there. */
	{
		char err[256];
		struct ec_event *ev;
		int rc;

		CHECK_EQ_INT(syn_open(&y, path, DLT_RAW, 4), 0);
		syn_seg(&y, 1, c, T_SYN, NULL, 0, 0);
		syn_seg(&y, 1, c + 1, T_ACK, client_bytes, 10, 0);
		syn_seg(&y, 1, c + 21, T_ACK, client_bytes + 20, 10, 0);
		syn_close(&y);
		struct pcapng_reader *r = pcapng_reader_open(path, NULL, err, sizeof(err));

		CHECK(r != NULL);
		if (!r)
			return;
		size_t n = 0, flagged = 0;

		while ((rc = pcapng_reader_next(r, &ev)) == 1) {
			n++;
			flagged += (ev->h.flags & EC_F_GAP) != 0;
			free(ev);
		}
		CHECK_EQ_INT(rc, 0);
		CHECK_EQ_INT(n, 2);
		CHECK_EQ_INT(flagged, 1);
		pcapng_reader_stats(r, &st);
		CHECK_EQ_INT(st.gaps, 1);
		CHECK_EQ_INT(st.gap_bytes, 10);
		pcapng_reader_close(r);
	}
}

static void test_snaplen_cut(void)
{
	const char *path = tl_path("snap.pcap");
	struct syn y;
	struct streams s;

	fill_bytes();
	CHECK_EQ_INT(syn_open(&y, path, DLT_RAW, 4), 0);
	syn_seg(&y, 1, 1, T_SYN, NULL, 0, 0);
	syn_seg(&y, 1, 2, T_ACK, client_bytes, 1000, 40 + 300); /* 300 of 1000 kept */
	syn_seg(&y, 1, 1002, T_ACK, client_bytes + 1000, 100, 0);
	syn_close(&y);
	CHECK_EQ_INT(read_streams(path, NULL, &s), 0);
	CHECK_EQ_INT(s.rc, 0);
	CHECK_EQ_INT(s.req_len, 400);
	CHECK(s.req && !memcmp(s.req, client_bytes, 300) &&
	      !memcmp(s.req + 300, client_bytes + 1000, 100));
	CHECK_EQ_INT(s.trunc_flags, EC_F_TRUNCATED);
	CHECK_EQ_INT(s.gap_flags, EC_F_GAP);
	streams_free(&s);
}

/* No handshake in the file; the server (port 3306) speaks first: the ports
 * say who the client is. */
static void test_midstream_port_guess(void)
{
	const char *path = tl_path("mid.pcap");
	struct syn y;
	struct streams s;

	CHECK_EQ_INT(syn_open(&y, path, DLT_EN10MB, 4), 0);
	y.sport = 3306;
	y.cport = 51000;
	syn_seg(&y, 0, 5000, T_ACK | T_PSH, "greeting", 8, 0);
	syn_seg(&y, 1, 9000, T_ACK | T_PSH, "login", 5, 0);
	syn_close(&y);
	CHECK_EQ_INT(read_streams(path, NULL, &s), 0);
	CHECK(s.first != NULL);
	if (s.first) {
		CHECK_EQ_INT(s.first->h.dir, EC_DIR_RECV);
		CHECK_EQ_INT(s.first->h.lport, 51000);
		CHECK_EQ_INT(s.first->h.rport, 3306);
	}
	CHECK(s.req_len == 5 && !memcmp(s.req, "login", 5));
	CHECK(s.resp_len == 8 && !memcmp(s.resp, "greeting", 8));
	streams_free(&s);
}

/* A 4-tuple reused after FIN: a second connection with its own id. */
static void test_reused_tuple(void)
{
	const char *path = tl_path("reuse.pcap");
	struct syn y;
	struct streams s;

	CHECK_EQ_INT(syn_open(&y, path, DLT_RAW, 6), 0);
	for (int k = 0; k < 2; k++) {
		uint32_t c = 100000u * (uint32_t)(k + 1), sv = 7;

		syn_seg(&y, 1, c, T_SYN, NULL, 0, 0);
		syn_seg(&y, 0, sv, T_SYN | T_ACK, NULL, 0, 0);
		syn_seg(&y, 1, c + 1, T_ACK | T_PSH, "ping", 4, 0);
		syn_seg(&y, 0, sv + 1, T_ACK | T_PSH, "pong", 4, 0);
		syn_seg(&y, 1, c + 5, T_ACK | T_FIN, NULL, 0, 0);
		syn_seg(&y, 0, sv + 5, T_ACK | T_FIN, NULL, 0, 0);
	}
	syn_close(&y);
	CHECK_EQ_INT(read_streams(path, NULL, &s), 0);
	CHECK_EQ_INT(s.n_events, 4);
	CHECK_EQ_INT(s.conns, 2);
	CHECK(s.req_len == 8 && !memcmp(s.req, "pingping", 8));
	streams_free(&s);
}

static void test_unsupported_link_type(void)
{
	const char *path = tl_path("usb.pcap");
	char err[256];
	pcap_t *p = pcap_open_dead(DLT_USB_LINUX, 65535);
	pcap_dumper_t *d = pcap_dump_open(p, path);

	pcap_dump_close(d);
	pcap_close(p);
	CHECK(pcapng_reader_open(path, NULL, err, sizeof(err)) == NULL);
	CHECK(strstr(err, "unsupported link type") != NULL);
}

UNIT_MAIN(UNIT(test_recorded_tcpdump_pcap), UNIT(test_recorded_tshark_pcapng_ipv6),
	  UNIT(test_recorded_gzip), UNIT(test_recorded_filter), UNIT(test_recorded_truncated),
	  UNIT(test_link_types_and_reordering), UNIT(test_hole_gives_gap), UNIT(test_snaplen_cut),
	  UNIT(test_midstream_port_guess), UNIT(test_reused_tuple),
	  UNIT(test_unsupported_link_type))
