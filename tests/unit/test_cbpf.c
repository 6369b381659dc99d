// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The in-kernel pcap filter (bpf/cbpf.bpf.h) must agree with libpcap: every pair of
 * (packet, expression) runs through cbpf_match() with BPF_PROG_TEST_RUN and through
 * pcap_offline_filter, and the verdicts (drop vs keep) must be equal. The packets are a
 * tcpdump -i lo capture of real traffic this test makes (curl against a local server,
 * a refused curl over IPv6, ICMP echo v4/v6, UDP to closed ports and the ICMP errors
 * they bring back) plus synthetic edge cases (VLAN, fragments, truncated headers).
 * Needs root and BPF; without them the kernel cases say SKIP and why.
 */
#include "engine/capture/cbpf.h"

/* libpcap's struct bpf_insn (classic) and libbpf's (eBPF) share a name */
#define bpf_insn pcap_bpf_insn
#include <pcap/pcap.h>
#undef bpf_insn

#include "cbpf_test.skel.h"
#include "unit.h"

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_PKTS 512
#define MAX_PKT	 4096

struct pkt {
	uint8_t d[MAX_PKT];
	uint32_t len;
	const char *what;
};

static struct pkt pkts[MAX_PKTS];
static int npkts, ncaptured;

static const char *const exprs[] = {
    "tcp port 443",
    "host 127.0.0.1 and not port 22",
    "ip6",
    "tcp[tcpflags] & tcp-syn != 0",
    "tcp[tcpflags] & (tcp-syn|tcp-ack) = tcp-syn",
    "greater 100",
    "less 80",
    "portrange 8000-9000",
    "udp and dst port 53",
    "vlan and tcp",
    "vlan 100 and udp",
    "ether[12:2] = 0x0800",
    "tcp[((tcp[12:1] & 0xf0) >> 2):4] = 0x47455420",
    "len > 60 and len < 1000",
    "icmp",
    "icmp6",
    "icmp[icmptype] = icmp-echo",
    "ip6 and tcp and port 9",
    "ip[6:2] & 0x1fff != 0",
    "ip and udp[8] = 0xab",
    "tcp and (tcp[13] & 2 != 0 or tcp[13] & 4 != 0)",
    "net 127.0.0.0/8 and tcp",
    "src host ::1",
    "ether host 00:00:00:00:00:00",
    "arp",
    "ip[2:2] % 7 = 3",
    "ip[2:2] / 3 > 20",
    "ip[2:2] * 3 - 1 > 250",
    "(ip[8] ^ 0x40) | 1 = 1",
    "ip[1] << 2 = 0",
    "tcp",
    "udp",
};

static void add(const void *d, uint32_t len, const char *what)
{
	if (npkts >= MAX_PKTS || len > MAX_PKT)
		return;
	memcpy(pkts[npkts].d, d, len);
	pkts[npkts].len = len;
	pkts[npkts].what = what;
	npkts++;
}

/* ---- synthetic packets ---- */

static uint16_t csum(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint32_t s = 0;

	for (; n > 1; n -= 2, b += 2)
		s += (uint32_t)b[0] << 8 | b[1];
	if (n)
		s += (uint32_t)b[0] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* Ethernet (+ optional 802.1Q tag) + IPv4 + L4 header + payload. */
static uint32_t mk4(uint8_t *b, int vlan, uint8_t proto, uint16_t sport, uint16_t dport,
		    uint16_t frag, uint8_t tcpflags, const char *payload, uint32_t plen)
{
	uint32_t o = 12, l4len = proto == IPPROTO_TCP ? 20 : 8, iplen = 20 + l4len + plen;

	memset(b, 0, 14 + 4 + iplen);
	memcpy(b, "\x02\x00\x00\x00\x00\x01\x02\x00\x00\x00\x00\x02", 12);
	if (vlan >= 0) {
		b[o] = 0x81, b[o + 1] = 0x00, b[o + 2] = (uint8_t)(vlan >> 8),
		b[o + 3] = (uint8_t)vlan;
		o += 4;
	}
	b[o] = 0x08, b[o + 1] = 0x00;
	o += 2;
	uint8_t *ip = b + o;
	ip[0] = 0x45, ip[2] = (uint8_t)(iplen >> 8), ip[3] = (uint8_t)iplen,
	ip[6] = (uint8_t)(frag >> 8), ip[7] = (uint8_t)frag, ip[8] = 64, ip[9] = proto;
	memcpy(ip + 12, "\x7f\x00\x00\x01\x7f\x00\x00\x01", 8);
	ip[10] = 0, ip[11] = 0;
	uint16_t c = csum(ip, 20);
	ip[10] = (uint8_t)(c >> 8), ip[11] = (uint8_t)c;
	uint8_t *l4 = ip + 20;
	l4[0] = (uint8_t)(sport >> 8), l4[1] = (uint8_t)sport, l4[2] = (uint8_t)(dport >> 8),
	l4[3] = (uint8_t)dport;
	if (proto == IPPROTO_TCP) {
		l4[12] = 0x50, l4[13] = tcpflags;
	} else {
		l4[4] = (uint8_t)((8 + plen) >> 8), l4[5] = (uint8_t)(8 + plen);
	}
	memcpy(l4 + l4len, payload, plen);
	return o + iplen;
}

static uint32_t mk6(uint8_t *b, uint8_t proto, uint16_t sport, uint16_t dport, uint8_t tcpflags,
		    const char *payload, uint32_t plen)
{
	uint32_t l4len = proto == IPPROTO_TCP ? 20 : 8, pl = l4len + plen;

	memset(b, 0, 14 + 40 + pl);
	b[12] = 0x86, b[13] = 0xdd;
	uint8_t *ip = b + 14;
	ip[0] = 0x60, ip[4] = (uint8_t)(pl >> 8), ip[5] = (uint8_t)pl, ip[6] = proto, ip[7] = 64;
	ip[23] = 1, ip[39] = 1; /* ::1 -> ::1 */
	uint8_t *l4 = ip + 40;
	l4[0] = (uint8_t)(sport >> 8), l4[1] = (uint8_t)sport, l4[2] = (uint8_t)(dport >> 8),
	l4[3] = (uint8_t)dport;
	if (proto == IPPROTO_TCP)
		l4[12] = 0x50, l4[13] = tcpflags;
	memcpy(l4 + l4len, payload, plen);
	return 14 + 40 + pl;
}

static void add_synthetic(void)
{
	static const char get[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
	static char big[1400];
	uint8_t b[MAX_PKT];
	uint32_t n;

	memset(big, 0xab, sizeof(big));
	n = mk4(b, -1, IPPROTO_TCP, 40000, 443, 0, 0x02, "", 0);
	add(b, n, "syn 443");
	n = mk4(b, -1, IPPROTO_TCP, 40000, 8080, 0x4000, 0x18, get, sizeof(get) - 1);
	add(b, n, "GET 8080");
	n = mk4(b, 100, IPPROTO_TCP, 40000, 80, 0, 0x12, "", 0);
	add(b, n, "vlan 100 syn-ack");
	n = mk4(b, 100, IPPROTO_UDP, 5353, 53, 0, 0, big, 40);
	add(b, n, "vlan 100 udp 53");
	n = mk4(b, 7, IPPROTO_TCP, 40000, 22, 0, 0x18, get, sizeof(get) - 1);
	add(b, n, "vlan 7 GET 22");
	n = mk4(b, -1, IPPROTO_UDP, 5353, 53, 0, 0, big, 30);
	add(b, n, "udp 53");
	n = mk4(b, -1, IPPROTO_UDP, 5353, 53, 0x00b9, 0, big, 600);
	add(b, n, "udp fragment offset 1480");
	n = mk4(b, -1, IPPROTO_TCP, 40000, 443, 0x2000, 0x10, big, 1400);
	add(b, n, "tcp first fragment, 1454 bytes");
	n = mk4(b, -1, IPPROTO_TCP, 8500, 22, 0, 0x04, "", 0);
	add(b, n, "rst portrange");
	n = mk6(b, IPPROTO_TCP, 40000, 9, 0x02, "", 0);
	add(b, n, "ip6 syn 9");
	n = mk6(b, IPPROTO_TCP, 40000, 443, 0x18, get, sizeof(get) - 1);
	add(b, n, "ip6 GET 443");
	n = mk6(b, IPPROTO_UDP, 40000, 53, 0, big, 100);
	add(b, n, "ip6 udp 53");
	/* truncated: the filter's loads run past the end */
	n = mk4(b, -1, IPPROTO_TCP, 40000, 443, 0, 0x02, "", 0);
	add(b, 14 + 20 + 4, "tcp truncated in the header");
	add(b, 14 + 20 + 13, "tcp truncated before the flags");
	n = mk4(b, -1, IPPROTO_TCP, 40000, 80, 0, 0x18, get, sizeof(get) - 1);
	add(b, n - 26, "GET truncated in the payload");
	n = mk6(b, IPPROTO_TCP, 40000, 443, 0x02, "", 0);
	add(b, 14 + 40 + 2, "ip6 tcp truncated");
	memset(b, 0, 60);
	add(b, 14, "ethernet header only, type 0");
	b[12] = 0x08, b[13] = 0x06;
	b[14] = 0, b[15] = 1, b[16] = 8, b[17] = 0, b[18] = 6, b[19] = 4, b[21] = 1;
	add(b, 42, "arp request");
	b[12] = 0x81, b[13] = 0x00;
	add(b, 16, "vlan tag cut short");
	b[12] = 0x88, b[13] = 0xcc;
	add(b, 60, "lldp");
}

/* ---- a real capture ---- */

static int listen_on(int family, int *port)
{
	struct sockaddr_storage ss = {0};
	socklen_t sl;
	int s = socket(family, SOCK_STREAM, 0), one = 1;

	if (s < 0)
		return -1;
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (family == AF_INET) {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;
		a->sin_family = AF_INET;
		a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		sl = sizeof(*a);
	} else {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
		a->sin6_family = AF_INET6;
		a->sin6_addr = in6addr_loopback;
		sl = sizeof(*a);
	}
	if (bind(s, (struct sockaddr *)&ss, sl) || listen(s, 4) ||
	    getsockname(s, (struct sockaddr *)&ss, &sl)) {
		close(s);
		return -1;
	}
	*port = ntohs(family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
					: ((struct sockaddr_in6 *)&ss)->sin6_port);
	return s;
}

static void udp_to(int family, const char *addr, int port, const char *msg)
{
	struct sockaddr_storage ss = {0};
	socklen_t sl;
	int s = socket(family, SOCK_DGRAM, 0);

	if (s < 0)
		return;
	if (family == AF_INET) {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;
		a->sin_family = AF_INET, a->sin_port = htons((uint16_t)port);
		inet_pton(AF_INET, addr, &a->sin_addr);
		sl = sizeof(*a);
	} else {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
		a->sin6_family = AF_INET6, a->sin6_port = htons((uint16_t)port);
		inet_pton(AF_INET6, addr, &a->sin6_addr);
		sl = sizeof(*a);
	}
	sendto(s, msg, strlen(msg), 0, (struct sockaddr *)&ss, sl);
	close(s);
}

static void icmp_echo(int family)
{
	uint8_t m[64] = {family == AF_INET ? 8 : 128, 0, 0, 0, 0x12, 0x34, 0, 1};
	struct sockaddr_storage ss = {0};
	socklen_t sl;
	int s = socket(family, SOCK_RAW, family == AF_INET ? IPPROTO_ICMP : IPPROTO_ICMPV6);

	if (s < 0)
		return;
	memset(m + 8, 'p', sizeof(m) - 8);
	if (family == AF_INET) {
		uint16_t c = csum(m, sizeof(m));
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;
		m[2] = (uint8_t)(c >> 8), m[3] = (uint8_t)c;
		a->sin_family = AF_INET, a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		sl = sizeof(*a);
	} else { /* the kernel sums ICMPv6 on raw sockets */
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
		a->sin6_family = AF_INET6, a->sin6_addr = in6addr_loopback;
		sl = sizeof(*a);
	}
	sendto(s, m, sizeof(m), 0, (struct sockaddr *)&ss, sl);
	close(s);
}

/* One HTTP exchange for curl: read the request, answer with 3 KB so there are full
 * segments too. */
static void serve_one(int ls)
{
	char req[2048], body[3000];
	int c = accept(ls, NULL, NULL);

	if (c < 0)
		_exit(1);
	if (read(c, req, sizeof(req)) < 0)
		_exit(1);
	memset(body, 'b', sizeof(body));
	dprintf(c, "HTTP/1.0 200 OK\r\nContent-Length: %zu\r\n\r\n", sizeof(body));
	if (write(c, body, sizeof(body)) < 0)
		_exit(1);
	close(c);
	_exit(0);
}

static int run(char *const argv[])
{
	int st;
	pid_t p = fork();

	if (p == 0) {
		int dn = open("/dev/null", O_WRONLY);
		dup2(dn, 1), dup2(dn, 2);
		execvp(argv[0], argv);
		_exit(127);
	}
	if (p < 0 || waitpid(p, &st, 0) < 0)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static bool file_has(const char *path, const char *needle)
{
	static char buf[1 << 20];
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf));
	close(fd);
	return n > 0 && memmem(buf, (size_t)n, needle, strlen(needle));
}

/* tcpdump -i lo -w while this makes traffic; returns the number of packets read. */
static int capture_lo(char *why, size_t whylen)
{
	char dir[] = "/tmp/ecaptop-cbpf-XXXXXX", path[64], url4[64], url6[64], line[256];
	char errbuf[PCAP_ERRBUF_SIZE];
	int ep[2], ls4, port4, ls6, port6, n0 = npkts, i;
	pid_t td, srv;
	FILE *err;

	if (!mkdtemp(dir) || pipe(ep)) {
		snprintf(why, whylen, "mkdtemp/pipe: %s", strerror(errno));
		return -1;
	}
	snprintf(path, sizeof(path), "%s/lo.pcap", dir);
	td = fork();
	if (td == 0) {
		dup2(ep[1], 2);
		close(ep[0]);
		execlp("tcpdump", "tcpdump", "-i", "lo", "-U", "-n", "-s", "0", "-w", path, NULL);
		_exit(127);
	}
	close(ep[1]);
	err = fdopen(ep[0], "r");
	/* tcpdump says "listening on lo" once the capture runs */
	while (err && fgets(line, sizeof(line), err) && !strstr(line, "listening on"))
		;
	if (!err || !strstr(line, "listening on")) {
		snprintf(why, whylen, "tcpdump -i lo did not start");
		kill(td, SIGTERM);
		waitpid(td, NULL, 0);
		return -1;
	}

	ls4 = listen_on(AF_INET, &port4);
	ls6 = listen_on(AF_INET6, &port6);
	if (ls4 >= 0) {
		srv = fork();
		if (srv == 0)
			serve_one(ls4);
		snprintf(url4, sizeof(url4), "http://127.0.0.1:%d/index.html", port4);
		run((char *[]){"curl", "-s", "-o", "/dev/null", url4, NULL});
		waitpid(srv, NULL, 0);
		close(ls4);
	}
	if (ls6 >= 0) { /* closed again before curl: SYN, RST */
		close(ls6);
		snprintf(url6, sizeof(url6), "http://[::1]:%d/", port6);
		run((char *[]){"curl", "-s", "-o", "/dev/null", url6, NULL});
	}
	icmp_echo(AF_INET);
	icmp_echo(AF_INET6);
	udp_to(AF_INET, "127.0.0.1", 53, "\xab\x01 dns-ish");
	udp_to(AF_INET6, "::1", 53, "\xab\x02 dns-ish v6");
	udp_to(AF_INET, "127.0.0.1", port6, "closed port v4"); /* ICMP port unreachable */
	udp_to(AF_INET6, "::1", port4, "closed port v6");
	udp_to(AF_INET, "127.0.0.1", 9, "ecaptop-cbpf-end-marker");
	/* -U writes each packet as it comes: wait for the last one to be in the file */
	for (i = 0; i < 1000 && !file_has(path, "ecaptop-cbpf-end-marker"); i++)
		poll(NULL, 0, 10);
	kill(td, SIGINT);
	waitpid(td, NULL, 0);
	fclose(err);

	pcap_t *p = pcap_open_offline(path, errbuf);
	if (!p) {
		snprintf(why, whylen, "reading the capture: %.200s", errbuf);
		return -1;
	}
	struct pcap_pkthdr *h;
	const u_char *d;
	while (pcap_next_ex(p, &h, &d) == 1)
		if (h->caplen == h->len)
			add(d, h->caplen, "captured on lo");
	pcap_close(p);
	unlink(path);
	rmdir(dir);
	return npkts - n0;
}

/* ---- the cases ---- */

static struct cbpf_test_bpf *skel;
static int prog_fd, insns_fd;
static char skip_why[256];

/* The kernel's verdict; -1 when BPF_PROG_TEST_RUN refuses the frame (an IPv4/IPv6
 * ethertype with less than the fixed header behind it: TC never sees such a frame). */
static long long kernel_verdict(const struct pkt *k)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = k->d, .data_size_in = k->len, .repeat = 1);

	if (bpf_prog_test_run_opts(prog_fd, &o))
		return -1;
	return o.retval;
}

static uint32_t user_verdict(const struct cbpf *f, const struct pkt *k)
{
	struct pcap_pkthdr h = {.caplen = k->len, .len = k->len};
	struct bpf_program prog = {f->len, (struct pcap_bpf_insn *)f->insns};

	return pcap_offline_filter(&prog, &h, k->d) ? 1 : 0;
}

static void test_cbpf_bad_expression(void)
{
	struct cbpf f;
	char err[512] = "";

	CHECK_EQ_INT(cbpf_compile(&f, "tcp prot 443", err, sizeof(err)), -1);
	printf("  %s\n", err);
	CHECK(strstr(err, "'tcp prot 443'") != NULL);
	CHECK(strstr(err, "syntax error") != NULL);
	CHECK_EQ_INT(cbpf_compile(&f, "port 70000", err, sizeof(err)), -1);
	printf("  %s\n", err);
	CHECK(strstr(err, "'port 70000'") != NULL && strstr(err, "70000") != strrchr(err, '\''));
	CHECK_EQ_INT(cbpf_compile(&f, "tcp port 443", err, sizeof(err)), 0);
	CHECK(f.len > 0);
	cbpf_free(&f);
}

static void test_cbpf_user_fallback(void)
{
	struct cbpf f;
	char err[256];
	uint8_t b[MAX_PKT];
	uint32_t n, slot = 77;

	CHECK_EQ_INT(cbpf_compile(&f, "udp and dst port 53", err, sizeof(err)), 0);
	/* no bpf_loop: the kernel keeps all, user space filters */
	CHECK_EQ_INT(cbpf_load(&f, -1, &slot, false, err, sizeof(err)), CBPF_IN_USER);
	CHECK_EQ_INT(slot, 0);
	n = mk4(b, -1, IPPROTO_UDP, 5353, 53, 0, 0, "q", 1);
	CHECK(cbpf_user_match(&f, b, n, n) != 0);
	n = mk4(b, -1, IPPROTO_UDP, 53, 5353, 0, 0, "q", 1);
	CHECK_EQ_INT(cbpf_user_match(&f, b, n, n), 0);
	cbpf_free(&f);
}

/* Hand-written programs for what pcap_compile rarely emits: X operands, scratch
 * memory, division by X == 0, shifts by 32, loads past the end, RET A. */
static const struct pcap_bpf_insn hand[][12] = {
    {/* A = len; X = 0; A /= X: drop */
     BPF_STMT(BPF_LD | BPF_W | BPF_LEN, 0), BPF_STMT(BPF_LDX | BPF_W | BPF_IMM, 0),
     BPF_STMT(BPF_ALU | BPF_DIV | BPF_X, 0), BPF_STMT(BPF_RET | BPF_K, 1)},
    {/* A %= X (0): drop */
     BPF_STMT(BPF_LD | BPF_W | BPF_LEN, 0), BPF_STMT(BPF_LDX | BPF_W | BPF_IMM, 0),
     BPF_STMT(BPF_ALU | BPF_MOD | BPF_X, 0), BPF_STMT(BPF_RET | BPF_K, 1)},
    {/* M[3] = len; X = 7; A = M[3]; A %= X; A <<= X(7); A = -A; ret A&0xffff */
     BPF_STMT(BPF_LD | BPF_W | BPF_LEN, 0), BPF_STMT(BPF_ST, 3),
     BPF_STMT(BPF_LDX | BPF_W | BPF_IMM, 7), BPF_STMT(BPF_LD | BPF_MEM, 3),
     BPF_STMT(BPF_ALU | BPF_MOD | BPF_X, 0), BPF_STMT(BPF_ALU | BPF_LSH | BPF_X, 0),
     BPF_STMT(BPF_ALU | BPF_NEG, 0), BPF_STMT(BPF_ALU | BPF_AND | BPF_K, 0xffff),
     BPF_STMT(BPF_RET | BPF_A, 0)},
    {/* X = 40; A = len; A <<= X (>= 32 -> 0); ret A+1 when 0 */
     BPF_STMT(BPF_LDX | BPF_W | BPF_IMM, 40), BPF_STMT(BPF_LD | BPF_W | BPF_LEN, 0),
     BPF_STMT(BPF_ALU | BPF_LSH | BPF_X, 0), BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 1),
     BPF_STMT(BPF_RET | BPF_K, 5), BPF_STMT(BPF_RET | BPF_K, 0)},
    {/* X = 4*(P[14]&0xf); M[1] = X; A = P[X+14:2]; X = A; A = M[1]; jgt X; txa; jset X; ldx M[1]; jge X; ret */
     BPF_STMT(BPF_LDX | BPF_B | BPF_MSH, 14), BPF_STMT(BPF_STX, 1),
     BPF_STMT(BPF_LD | BPF_H | BPF_IND, 14), BPF_STMT(BPF_MISC | BPF_TAX, 0),
     BPF_STMT(BPF_LD | BPF_MEM, 1), BPF_JUMP(BPF_JMP | BPF_JGT | BPF_X, 0, 2, 0),
     BPF_STMT(BPF_MISC | BPF_TXA, 0), BPF_JUMP(BPF_JMP | BPF_JSET | BPF_X, 0, 1, 0),
     BPF_STMT(BPF_RET | BPF_K, 0), BPF_STMT(BPF_LDX | BPF_MEM, 1),
     BPF_JUMP(BPF_JMP | BPF_JGE | BPF_X, 0, 0, 0), BPF_STMT(BPF_RET | BPF_K, 262144)},
    {/* a word far past the end: drop */
     BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 100000), BPF_STMT(BPF_RET | BPF_K, 1)},
    {/* IND past 2^32: drop */
     BPF_STMT(BPF_LDX | BPF_W | BPF_IMM, 0xfffffff0), BPF_STMT(BPF_LD | BPF_B | BPF_IND, 0x20),
     BPF_STMT(BPF_RET | BPF_K, 1)},
    {/* JA over a drop; SUB, MUL, DIV K, OR/XOR X, RSH K; ret A when nonzero */
     BPF_STMT(BPF_JMP | BPF_JA, 1), BPF_STMT(BPF_RET | BPF_K, 0),
     BPF_STMT(BPF_LD | BPF_W | BPF_LEN, 0), BPF_STMT(BPF_ALU | BPF_SUB | BPF_K, 10),
     BPF_STMT(BPF_ALU | BPF_MUL | BPF_K, 3), BPF_STMT(BPF_ALU | BPF_DIV | BPF_K, 2),
     BPF_STMT(BPF_LDX | BPF_W | BPF_IMM, 0x55), BPF_STMT(BPF_ALU | BPF_XOR | BPF_X, 0),
     BPF_STMT(BPF_ALU | BPF_OR | BPF_X, 0), BPF_STMT(BPF_ALU | BPF_RSH | BPF_K, 1),
     BPF_STMT(BPF_ALU | BPF_ADD | BPF_X, 0), BPF_STMT(BPF_RET | BPF_A, 0)},
};
static const unsigned hand_len[] = {4, 4, 9, 6, 12, 2, 3, 12};

struct tally {
	long pairs, agree, keep, drop, refused;
};

/* Run every packet through the loaded program and libpcap. The kernel must also give
 * the same snap length when exact is set (hand-written programs return computed A). */
static void compare(const char *name, const struct cbpf *f, struct tally *t, bool exact)
{
	long keep = 0, drop = 0, bad = 0;
	int i;

	for (i = 0; i < npkts; i++) {
		long long kv = kernel_verdict(&pkts[i]);
		struct pcap_pkthdr h = {.caplen = pkts[i].len, .len = pkts[i].len};
		uint32_t uv =
		    bpf_filter((const struct pcap_bpf_insn *)f->insns, pkts[i].d, h.len, h.caplen);

		if (kv < 0) {
			t->refused++;
			continue;
		}
		t->pairs++;
		if ((kv != 0) == (user_verdict(f, &pkts[i]) != 0) &&
		    (!exact || (uint32_t)kv == uv)) {
			t->agree++;
		} else if (bad++ < 3) {
			printf("  disagree: '%s' on packet %d (%s, %u bytes): kernel %lld, libpcap "
			       "%u\n",
			       name, i, pkts[i].what, pkts[i].len, kv, uv);
		}
		if (kv)
			keep++;
		else
			drop++;
	}
	t->keep += keep;
	t->drop += drop;
	printf("  %-48s keep %3ld drop %3ld%s\n", name, keep, drop, bad ? "  DISAGREES" : "");
	CHECK_EQ_INT(bad, 0);
}

/* Figures, not checks: the verifier's work and the cost per packet (BPF_PROG_TEST_RUN,
 * repeat 20000) of the HTTP GET expression on the largest packet, against no filter. */
static void print_cost(void)
{
	struct bpf_prog_info info = {0};
	__u32 il = sizeof(info);
	struct cbpf f;
	char err[256];
	int i, big = 0;
	__u32 ns[2] = {0, 0};

	for (i = 0; i < npkts; i++)
		if (pkts[i].len > pkts[big].len)
			big = i;
	if (!bpf_obj_get_info_by_fd(prog_fd, &info, &il))
		printf("  verifier: %u instructions processed, xlated %u bytes\n",
		       info.verified_insns, info.xlated_prog_len);
	if (cbpf_compile(&f, exprs[12], err, sizeof(err)))
		return;
	for (i = 0; i < 2; i++) {
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = pkts[big].d,
			    .data_size_in = pkts[big].len, .repeat = 20000);
		if (i == 0)
			skel->bss->cbpf_len = 0;
		else
			cbpf_load(&f, insns_fd, &skel->bss->cbpf_len, true, err, sizeof(err));
		if (!bpf_prog_test_run_opts(prog_fd, &o))
			ns[i] = o.duration;
	}
	printf("  per packet (%u bytes): no filter %u ns, '%s' (%u cBPF insns) %u ns\n",
	       pkts[big].len, ns[0], exprs[12], f.len, ns[1]);
	skel->bss->cbpf_len = 0;
	cbpf_free(&f);
}

static void test_cbpf_kernel_agrees(void)
{
	struct tally t = {0};
	char err[512];
	size_t i;

	/* no filter: every packet kept */
	skel->bss->cbpf_len = 0;
	for (i = 0; i < (size_t)npkts; i++) {
		long long kv = kernel_verdict(&pkts[i]);
		CHECK(kv != 0);
	}
	for (i = 0; i < sizeof(exprs) / sizeof(exprs[0]); i++) {
		struct cbpf f;
		long k0 = t.keep, d0 = t.drop;

		if (cbpf_compile(&f, exprs[i], err, sizeof(err))) {
			printf("  %s\n", err);
			CHECK(0);
			continue;
		}
		CHECK_EQ_INT(cbpf_load(&f, insns_fd, &skel->bss->cbpf_len, true, err, sizeof(err)),
			     CBPF_IN_KERNEL);
		compare(exprs[i], &f, &t, false);
		/* each expression keeps some packets and drops others: the test tells them apart */
		CHECK(t.keep > k0 && t.drop > d0);
		cbpf_free(&f);
	}
	for (i = 0; i < sizeof(hand) / sizeof(hand[0]); i++) {
		struct cbpf f = {.len = hand_len[i], .insns = (struct cbpf_insn *)hand[i]};
		char name[32];

		CHECK(bpf_validate(hand[i], (int)f.len));
		CHECK_EQ_INT(cbpf_load(&f, insns_fd, &skel->bss->cbpf_len, true, err, sizeof(err)),
			     CBPF_IN_KERNEL);
		snprintf(name, sizeof(name), "hand-written program %zu", i);
		compare(name, &f, &t, true);
	}
	skel->bss->cbpf_len = 0;
	printf("  %d packets (%d captured on lo), %zu expressions + %zu programs: %ld pairs, "
	       "%ld agree (%ld kept, %ld dropped), %ld frames refused by BPF_PROG_TEST_RUN\n",
	       npkts, ncaptured, sizeof(exprs) / sizeof(exprs[0]), sizeof(hand) / sizeof(hand[0]),
	       t.pairs, t.agree, t.keep, t.drop, t.refused);
	CHECK_EQ_INT(t.agree, t.pairs);
	CHECK(t.pairs > 1000);
	print_cost();
}

static bool setup_kernel(void)
{
	char why[256];
	int err;

	if (geteuid() != 0) {
		snprintf(skip_why, sizeof(skip_why),
			 "needs root (BPF_PROG_TEST_RUN, tcpdump -i lo)");
		return false;
	}
	skel = cbpf_test_bpf__open_and_load();
	if (!skel) {
		err = errno;
		snprintf(skip_why, sizeof(skip_why), "loading the cbpf test program: %s",
			 strerror(err));
		errno = err; /* main() tells a missing BPF (skip) from a failure */
		/* only a kernel that cannot do BPF here is a skip; anything else is a failure */
		return false;
	}
	prog_fd = bpf_program__fd(skel->progs.cbpf_test);
	insns_fd = bpf_map__fd(skel->maps.cbpf_insns);
	add_synthetic();
	ncaptured = capture_lo(why, sizeof(why));
	if (ncaptured < 0) {
		printf("  capture on lo failed: %s\n", why);
		ncaptured = 0;
	}
	return true;
}

int unit_failed_now;

int main(void)
{
	static const struct unit_case cases[] = {UNIT(test_cbpf_bad_expression),
						 UNIT(test_cbpf_user_fallback)};
	int failed = 0, e;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		unit_failed_now = 0;
		cases[i].fn();
		printf("%s %s\n", unit_failed_now ? "FAIL" : "PASS", cases[i].name);
		failed |= unit_failed_now;
	}
	fflush(stdout);
	if (!setup_kernel()) {
		e = errno;
		/* EPERM/ENOSYS/EINVAL of a missing BPF or bpf_loop: skip; other errors fail */
		if (geteuid() != 0 || e == EPERM || e == ENOSYS || e == EOPNOTSUPP) {
			printf("SKIP test_cbpf_kernel_agrees: %s\n", skip_why);
			return failed;
		}
		printf("FAIL test_cbpf_kernel_agrees: %s\n", skip_why);
		return 1;
	}
	unit_failed_now = 0;
	/* the capture must have brought real traffic */
	CHECK(ncaptured >= 20);
	test_cbpf_kernel_agrees();
	printf("%s test_cbpf_kernel_agrees\n", unit_failed_now ? "FAIL" : "PASS");
	failed |= unit_failed_now;
	cbpf_test_bpf__destroy(skel);
	return failed;
}
