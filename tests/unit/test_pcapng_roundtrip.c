// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The pcapng writer and the reader of our own files: round trips of many
 * events, the packets checked independently (checksums, sequence numbers),
 * file creation rules, gzip, truncation at every byte, filters, write errors.
 */
#include "unit.h"
#include "test_pcapng_lib.h"

#include <signal.h>
#include <sys/resource.h>

#define MAXEV 512

static struct ec_event *evs[MAXEV];
static size_t n_evs;

static void add(struct ec_event *e)
{
	if (n_evs < MAXEV)
		evs[n_evs++] = e;
}

static void free_evs(struct ec_event **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
}

static const uint32_t sizes[] = {0, 1, 17, 1400, 65000, 65001, 130001, 200000};

/* A mixed capture: four connections (IPv4, IPv6, a server-side socket whose
 * server speaks first, an unknown family) and journal events. */
static void build_events(void)
{
	static uint8_t payload[200000 + 512];
	uint64_t ts = 1700000000000000000ULL;
	size_t i;

	free_evs(evs, n_evs);
	n_evs = 0;
	for (i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)tl_rand();
	/* C: local is the MySQL server (port 3306), it sends the greeting first. */
	add(tl_data(EC_AF_INET, "10.1.2.3", 3306, "10.1.2.4", 51000, 0xffff8880c0de0000ULL,
		    EC_DIR_SEND, payload, 78, ts += 1000));
	for (i = 0; i < 24; i++) {
		uint32_t len = sizes[i % 8];
		struct ec_event *e;

		switch (i % 4) {
		case 0:
			e = tl_data(EC_AF_INET, "127.0.0.1", 45000, "127.0.0.1", 8080,
				    0xffff8881000a0000ULL, i % 8 < 4 ? EC_DIR_SEND : EC_DIR_RECV,
				    payload + i, len, ts += 12345);
			break;
		case 1:
			e = tl_data(EC_AF_INET6, "::1", 50000, "2001:db8::7", 443,
				    0xffff8881000b0000ULL, (i / 4) % 2 ? EC_DIR_SEND : EC_DIR_RECV,
				    payload + 7 * i, len, ts += 777);
			e->h.source = EC_S_GNUTLS;
			break;
		case 2:
			e = tl_data(EC_AF_INET, "10.1.2.3", 3306, "10.1.2.4", 51000,
				    0xffff8880c0de0000ULL, i % 3 ? EC_DIR_RECV : EC_DIR_SEND,
				    payload + 3 * i, len, ts += 1);
			e->h.source = EC_S_SOCKET;
			snprintf(e->h.comm, sizeof(e->h.comm), "mysqld");
			break;
		default:
			/* Unknown family: addresses zero, one port unknown. */
			e = tl_data(EC_AF_UNKNOWN, NULL, 0, NULL, 5432, 0xffff8882000d0000ULL,
				    i % 8 < 4 ? EC_DIR_SEND : EC_DIR_RECV, payload + 11 * i, len,
				    ts += 99);
			e->h.source = EC_S_GOTLS;
			e->h.flags = EC_F_NO_SOCKET;
			break;
		}
		e->h.tid = 40000 + (uint32_t)i;
		e->h.fd = (int32_t)(3 + i);
		e->h.call_id = i * 1000003ULL;
		e->h.aux = (uint32_t)i % 3;
		if (i == 5)
			e->h.flags |= EC_F_TRUNCATED;
		if (i == 9) /* any byte of comm survives */
			memcpy(e->h.comm, "we\\ird\nn\xff\x01me", 12);
		add(e);
	}
	add(tl_note(EC_K_COMMAND, EC_S_BASH, 555, "bash", "ls -la /tmp", 11, ts += 5));
	add(tl_note(EC_K_QUERY, EC_S_MYSQLD, 556, "mysqld", "SELECT 'a\nb', '\0'", 18, ts += 5));
	add(tl_note(EC_K_EXEC, EC_S_PROC, 557, "curl", "curl\0-s\0https://x/\0", 19, ts += 5));
	struct ec_event *x = tl_note(EC_K_EXIT, EC_S_PROC, 557, "curl", NULL, 0, ts += 5);

	x->h.aux = 7;
	x->h.fd = -1;
	add(x);
	add(tl_data(EC_AF_INET6, "::1", 50000, "2001:db8::7", 443, 0xffff8881000b0000ULL,
		    EC_DIR_SEND, "tail", 4, ts += 5));
}

static int same_event(const struct ec_event *a, const struct ec_event *b)
{
	return a->h.len == b->h.len && !memcmp(&a->h, &b->h, sizeof(a->h)) &&
	       !memcmp(a->data, b->data, a->h.len);
}

static void describe_diff(size_t i, const struct ec_event *a, const struct ec_event *b)
{
	printf("  event %zu differs: kind %u/%u len %u/%u pid %u/%u dir %u/%u fam %u/%u ports "
	       "%u:%u/%u:%u ts %llu/%llu conn %llx/%llx flags %x/%x\n",
	       i, a->h.kind, b->h.kind, a->h.len, b->h.len, a->h.pid, b->h.pid, a->h.dir, b->h.dir,
	       a->h.family, b->h.family, a->h.lport, a->h.rport, b->h.lport, b->h.rport,
	       (unsigned long long)a->h.ts_ns, (unsigned long long)b->h.ts_ns,
	       (unsigned long long)a->h.conn_id, (unsigned long long)b->h.conn_id, a->h.flags,
	       b->h.flags);
}

static int write_all(const char *path, int with_close_conn, struct pcapng_writer_stats *st)
{
	struct pcapng_meta m = {.filter = "pid:31337 proto:http"};
	struct pcapng_meta fin = m;
	char err[256];
	struct pcapng_writer *w = pcapng_writer_open(path, &m, true, err, sizeof(err));
	size_t i;
	int rc = 0;

	if (!w) {
		printf("  open %s: %s\n", path, err);
		return -1;
	}
	for (i = 0; i < n_evs && !rc; i++) {
		rc = pcapng_write_event(w, evs[i]);
		if (rc)
			printf("  write %zu: %s\n", i, pcapng_writer_error(w));
		/* Close connection A half way: its next event starts a new handshake. */
		if (with_close_conn && i == 12)
			rc = pcapng_write_close_conn(w, &evs[1]->h);
	}
	fin.events = 123456;
	fin.bytes = 9876543;
	fin.lost.queue = 7;
	fin.lost.reserve = 3;
	fin.evicted = 11;
	if (pcapng_writer_close(w, &fin, st, err, sizeof(err))) {
		printf("  close: %s\n", err);
		return -1;
	}
	return rc;
}

static void test_roundtrip_many(void)
{
	struct pcapng_writer_stats st;
	struct ec_event *got[MAXEV];
	const char *path = tl_path("rt.pcapng");
	char err[256];
	int rc;
	struct stat sb;

	build_events();
	CHECK_EQ_INT(write_all(path, 1, &st), 0);
	CHECK_EQ_INT(st.events, n_evs);
	CHECK_EQ_INT(st.connections, 5); /* A twice (closed, reopened), B, C, D */
	CHECK(stat(path, &sb) == 0 && (uint64_t)sb.st_size == st.file_bytes);
	CHECK_EQ_INT(st.file_bytes, st.bytes);

	struct pcapng_reader *r = pcapng_reader_open(path, NULL, err, sizeof(err));

	CHECK(r != NULL);
	if (!r) {
		printf("  %s\n", err);
		return;
	}
	CHECK(pcapng_reader_is_own(r));
	size_t n = tl_read_all(r, got, MAXEV, &rc);

	CHECK_EQ_INT(rc, 0);
	CHECK_EQ_INT(n, n_evs);
	for (size_t i = 0; i < n && i < n_evs; i++) {
		if (!same_event(got[i], evs[i])) {
			describe_diff(i, got[i], evs[i]);
			CHECK(0);
		}
	}
	const struct pcapng_meta *m = pcapng_reader_meta(r);
	struct pcapng_reader_stats rs;

	pcapng_reader_stats(r, &rs);
	CHECK_EQ_INT(rs.connections, 5);
	CHECK_EQ_INT(rs.packets, st.packets);
	CHECK(m->has_final);
	CHECK_EQ_STR(m->filter, "pid:31337 proto:http");
	CHECK_EQ_INT(m->events, 123456);
	CHECK_EQ_INT(m->bytes, 9876543);
	CHECK_EQ_INT(m->lost.queue, 7);
	CHECK_EQ_INT(m->lost.reserve, 3);
	CHECK_EQ_INT(m->evicted, 11);
	CHECK(m->userappl && !strncmp(m->userappl, "ecaptop ", 8));
	CHECK(m->os && strstr(m->os, "Linux"));
	free_evs(got, n);
	pcapng_reader_close(r);
}

/* Every packet, checked without the writer's code: IPv4 header and TCP
 * checksums, sequence and acknowledgement numbers continuous per direction. */
static void test_packets_consistent(void)
{
	struct pcapng_writer_stats st;
	struct tl_block bl[2048];
	const char *path = tl_path("pk.pcapng");
	size_t len, nb, i, npk = 0, bad_ip = 0, bad_tcp = 0, bad_seq = 0, bad_ack = 0, big = 0;
	struct {
		uint8_t key[36];
		uint32_t next;
	} dirs[64];
	size_t nd = 0;

	build_events();
	CHECK_EQ_INT(write_all(path, 1, &st), 0);
	uint8_t *f = tl_slurp(path, &len);

	CHECK(f != NULL);
	if (!f)
		return;
	nb = tl_walk(f, len, bl, 2048);
	CHECK(nb > 10);
	CHECK_EQ_INT(bl[nb - 1].off + bl[nb - 1].len, len);
	CHECK_EQ_INT(bl[0].type, 0x0A0D0D0A);
	CHECK_EQ_INT(bl[1].type, 1);
	CHECK_EQ_INT(tl_le16(f + bl[1].off + 8), 101); /* LINKTYPE_RAW */
	for (i = 0; i < nb; i++) {
		if (bl[i].type != 6)
			continue;
		const uint8_t *b = f + bl[i].off, *ip = b + 28;
		uint32_t caplen = tl_le32(b + 20);
		size_t iphl, al;
		uint32_t s;
		uint8_t key[36], rkey[36];

		npk++;
		if ((ip[0] >> 4) == 4) {
			iphl = 20;
			al = 4;
			if (tl_fold(tl_sum(0, ip, 20)) != 0xffff)
				bad_ip++;
			if ((size_t)(ip[2] << 8 | ip[3]) != caplen)
				bad_ip++;
			s = tl_sum(0, ip + 12, 8);
		} else {
			iphl = 40;
			al = 16;
			if ((size_t)(ip[4] << 8 | ip[5]) + 40 != caplen)
				bad_ip++;
			s = tl_sum(0, ip + 8, 32);
		}
		const uint8_t *tcp = ip + iphl;
		size_t tl = caplen - iphl, thl = (size_t)(tcp[12] >> 4) * 4, pl = tl - thl;

		s += 6 + (uint32_t)tl; /* pseudo-header: protocol, TCP length */
		s = tl_sum(s, tcp, tl);
		if (tl_fold(s) != 0xffff)
			bad_tcp++;
		if (pl > 65000)
			big++;
		/* direction keys: src addr, src port, dst addr, dst port */
		memset(key, 0, sizeof(key));
		memset(rkey, 0, sizeof(rkey));
		memcpy(key, ip + (al == 4 ? 12 : 8), al);
		memcpy(key + 16, tcp, 2);
		memcpy(key + 18, ip + (al == 4 ? 16 : 24), al);
		memcpy(key + 34, tcp + 2, 2);
		memcpy(rkey, key + 18, 18);
		memcpy(rkey + 18, key, 18);
		uint32_t seq = (uint32_t)tcp[4] << 24 | tcp[5] << 16 | tcp[6] << 8 | tcp[7];
		uint32_t ack = (uint32_t)tcp[8] << 24 | tcp[9] << 16 | tcp[10] << 8 | tcp[11];
		uint8_t fl = tcp[13];
		size_t d, rd;

		for (d = 0; d < nd && memcmp(dirs[d].key, key, 36); d++)
			;
		if (fl & 0x02) { /* SYN: (re)starts the direction */
			if (d == nd && nd < 64)
				memcpy(dirs[nd++].key, key, 36);
			dirs[d].next = seq + 1;
		} else if (d == nd || dirs[d].next != seq) {
			bad_seq++;
		} else {
			dirs[d].next += (uint32_t)pl + ((fl & 0x01) ? 1 : 0);
		}
		for (rd = 0; rd < nd && memcmp(dirs[rd].key, rkey, 36); rd++)
			;
		if ((fl & 0x10) && rd < nd && !(fl & 0x01) && dirs[rd].next != ack)
			bad_ack++;
		if ((fl & 0x10) && (fl & 0x01) && rd < nd && dirs[rd].next != ack &&
		    dirs[rd].next != ack + 1)
			bad_ack++;
	}
	CHECK_EQ_INT(npk, st.packets);
	CHECK(npk > 40);
	CHECK_EQ_INT(bad_ip, 0);
	CHECK_EQ_INT(bad_tcp, 0);
	CHECK_EQ_INT(bad_seq, 0);
	CHECK_EQ_INT(bad_ack, 0);
	CHECK_EQ_INT(big, 0);
	free(f);
}

static void test_mode_0600(void)
{
	const char *path = tl_path("mode.pcapng");
	char err[256];
	struct stat sb;
	mode_t old = umask(0);
	struct pcapng_writer *w = pcapng_writer_open(path, NULL, false, err, sizeof(err));

	umask(old);
	CHECK(w != NULL);
	CHECK_EQ_INT(pcapng_writer_close(w, NULL, NULL, err, sizeof(err)), 0);
	CHECK(stat(path, &sb) == 0);
	CHECK_EQ_INT(sb.st_mode & 07777, 0600);
	/* Overwriting a wider file with force narrows it to 0600 too. */
	CHECK(chmod(path, 0644) == 0);
	w = pcapng_writer_open(path, NULL, true, err, sizeof(err));
	CHECK(w != NULL);
	CHECK_EQ_INT(pcapng_writer_close(w, NULL, NULL, err, sizeof(err)), 0);
	CHECK(stat(path, &sb) == 0);
	CHECK_EQ_INT(sb.st_mode & 07777, 0600);
}

static void test_symlink_refused(void)
{
	const char *target = tl_path("sym-target");
	const char *link = tl_path("sym-link.pcapng");
	const char *target2 = tl_path("sym-target2");
	const char *link2 = tl_path("sym-link2.pcapng");
	char err[256];
	size_t len;
	struct stat sb;

	CHECK(symlink(target, link) == 0);
	CHECK(pcapng_writer_open(link, NULL, false, err, sizeof(err)) == NULL);
	CHECK_EQ_INT(errno, ELOOP);
	CHECK(strstr(err, "symbolic link") != NULL);
	CHECK(pcapng_writer_open(link, NULL, true, err, sizeof(err)) == NULL);
	CHECK_EQ_INT(errno, ELOOP);
	CHECK(lstat(target, &sb) < 0); /* nothing created through the link */
	/* A link to an existing file: the file stays as it was, force or not. */
	CHECK(tl_spit(target2, "precious", 8) == 0);
	CHECK(symlink(target2, link2) == 0);
	CHECK(pcapng_writer_open(link2, NULL, true, err, sizeof(err)) == NULL);
	uint8_t *b = tl_slurp(target2, &len);

	CHECK(b && len == 8 && !memcmp(b, "precious", 8));
	free(b);
}

static void test_existing_refused(void)
{
	const char *path = tl_path("exists.pcapng");
	char err[256];
	size_t len;
	int rc;
	struct ec_event *got[4];

	CHECK(tl_spit(path, "keep me", 7) == 0);
	CHECK(pcapng_writer_open(path, NULL, false, err, sizeof(err)) == NULL);
	CHECK_EQ_INT(errno, EEXIST);
	CHECK(strstr(err, "--force") != NULL);
	uint8_t *b = tl_slurp(path, &len);

	CHECK(b && len == 7 && !memcmp(b, "keep me", 7));
	free(b);
	struct pcapng_writer *w = pcapng_writer_open(path, NULL, true, err, sizeof(err));

	CHECK(w != NULL);
	CHECK_EQ_INT(pcapng_writer_close(w, NULL, NULL, err, sizeof(err)), 0);
	struct pcapng_reader *r = pcapng_reader_open(path, NULL, err, sizeof(err));

	CHECK(r != NULL);
	if (r) {
		CHECK_EQ_INT(tl_read_all(r, got, 4, &rc), 0);
		CHECK_EQ_INT(rc, 0);
		pcapng_reader_close(r);
	}
}

static void test_gzip_roundtrip(void)
{
	struct pcapng_writer_stats st;
	struct ec_event *got[MAXEV];
	const char *path = tl_path("rt.pcapng.gz"), *plain_name = tl_path("gz-without-suffix");
	char err[256];
	size_t len, n;
	int rc;

	build_events();
	CHECK_EQ_INT(write_all(path, 0, &st), 0);
	CHECK(st.file_bytes > 0 && st.file_bytes < st.bytes);
	uint8_t *b = tl_slurp(path, &len);

	CHECK(b && len > 2 && b[0] == 0x1f && b[1] == 0x8b);
	CHECK_EQ_INT(len, st.file_bytes);
	/* Recognised by its magic, not its name. */
	CHECK(b && tl_spit(plain_name, b, len) == 0);
	free(b);
	const char *names[] = {path, plain_name};

	for (int k = 0; k < 2; k++) {
		struct pcapng_reader *r = pcapng_reader_open(names[k], NULL, err, sizeof(err));

		CHECK(r != NULL);
		if (!r)
			continue;
		n = tl_read_all(r, got, MAXEV, &rc);
		CHECK_EQ_INT(rc, 0);
		CHECK_EQ_INT(n, n_evs);
		for (size_t i = 0; i < n && i < n_evs; i++)
			CHECK(same_event(got[i], evs[i]));
		CHECK(pcapng_reader_meta(r)->has_final);
		free_evs(got, n);
		pcapng_reader_close(r);
	}
}

/* A small file cut at every byte: the events wholly before the cut, then a
 * clear error naming the offset (or a clean end exactly at a block boundary
 * that does not split an event). */
static void test_truncated_every_byte(void)
{
	struct tl_block bl[256];
	const char *path = tl_path("trunc.pcapng");
	struct ec_event *got[64];
	char err[320];
	size_t len, nb, L, bad = 0, checked = 0;
	uint64_t ts = 1710000000000000000ULL;
	static uint8_t big[70000];

	free_evs(evs, n_evs);
	n_evs = 0;
	memset(big, 'x', sizeof(big));
	add(tl_data(EC_AF_INET, "127.0.0.1", 40000, "127.0.0.1", 80, 1, EC_DIR_SEND,
		    "GET / HTTP/1.1\r\n\r\n", 18, ts += 1000));
	add(tl_data(EC_AF_INET, "127.0.0.1", 40000, "127.0.0.1", 80, 1, EC_DIR_RECV, big,
		    sizeof(big), ts += 1000));
	add(tl_note(EC_K_COMMAND, EC_S_BASH, 9, "bash", "echo hi", 7, ts += 1000));
	add(tl_data(EC_AF_INET6, "::1", 40001, "::1", 443, 2, EC_DIR_SEND, "abc", 3, ts += 1));
	{
		struct pcapng_meta m = {0};
		struct pcapng_writer *w = pcapng_writer_open(path, &m, true, err, sizeof(err));

		CHECK(w != NULL);
		if (!w)
			return;
		for (size_t i = 0; i < n_evs; i++)
			CHECK_EQ_INT(pcapng_write_event(w, evs[i]), 0);
		CHECK_EQ_INT(pcapng_writer_close(w, &m, NULL, err, sizeof(err)), 0);
	}
	uint8_t *f = tl_slurp(path, &len);

	CHECK(f != NULL);
	if (!f)
		return;
	nb = tl_walk(f, len, bl, 256);
	CHECK(nb > 8);
	for (L = 0; L <= len; L++) {
		size_t expect = 0, i, near = 0;
		int boundary = 0, split = 0, rc;

		/* Every byte near a block boundary and in the first blocks; elsewhere
		 * (the bulk of a 70 KB packet) every 509th byte, to stay fast. */
		for (i = 0; i < nb; i++)
			near |= L + 24 >= bl[i].off + bl[i].len && L <= bl[i].off + bl[i].len + 24;
		if (!near && L > 2048 && L % 509)
			continue;

		for (i = 0; i < nb && bl[i].off + bl[i].len <= L; i++) {
			expect += (size_t)bl[i].completes_event;
			split = bl[i].opens_split;
			boundary = bl[i].off + bl[i].len == L;
		}
		struct pcapng_reader *r = pcapng_reader_open_mem(f, L, NULL, err, sizeof(err));

		checked++;
		if (!r) {
			/* Only a cut inside the section header can fail the open. */
			if (L >= bl[0].len || (!strstr(err, "offset") && !strstr(err, "empty"))) {
				if (bad++ < 5)
					printf("  cut at %zu: open failed: %s\n", L, err);
			}
			continue;
		}
		size_t n = tl_read_all(r, got, 64, &rc);
		int ok = n == expect;

		for (i = 0; ok && i < n; i++)
			ok = same_event(got[i], evs[i]);
		if (boundary && !split)
			ok = ok && rc == 0;
		else
			ok = ok && rc < 0 && strstr(pcapng_reader_error(r), "offset");
		if (!ok && bad++ < 5)
			printf("  cut at %zu of %zu: %zu events (expected %zu), rc %d: %s\n", L,
			       len, n, expect, rc, pcapng_reader_error(r));
		free_evs(got, n);
		pcapng_reader_close(r);
	}
	CHECK_EQ_INT(bad, 0);
	CHECK(checked > 2048 + nb * 40);
	free(f);
}

/* A gzip file cut anywhere: never a crash, the events before, then an error
 * that says the stream ends early. */
static void test_truncated_gzip(void)
{
	const char *path = tl_path("trunc.pcapng.gz");
	struct ec_event *got[MAXEV];
	char err[320];
	size_t len, L, bad = 0;
	int rc;

	build_events();
	CHECK_EQ_INT(write_all(path, 0, NULL), 0);
	uint8_t *f = tl_slurp(path, &len);

	CHECK(f != NULL);
	if (!f)
		return;
	for (L = 20; L < len; L += len / 50 + 1) {
		struct pcapng_reader *r = pcapng_reader_open_mem(f, L, NULL, err, sizeof(err));

		if (!r)
			continue; /* cut inside the section header */
		size_t n = tl_read_all(r, got, MAXEV, &rc);
		int ok = rc < 0 && n < n_evs && strstr(pcapng_reader_error(r), "gzip");

		for (size_t i = 0; ok && i < n; i++)
			ok = same_event(got[i], evs[i]);
		if (!ok && bad++ < 5)
			printf("  gzip cut at %zu: %zu events, rc %d: %s\n", L, n, rc,
			       pcapng_reader_error(r));
		free_evs(got, n);
		pcapng_reader_close(r);
	}
	CHECK_EQ_INT(bad, 0);
	free(f);
}

static void test_filter_own(void)
{
	struct ec_event *got[MAXEV];
	const char *path = tl_path("filter.pcapng");
	char err[320];
	size_t n, i, want = 0;
	int rc;

	build_events();
	CHECK_EQ_INT(write_all(path, 0, NULL), 0);
	struct pcapng_reader *r = pcapng_reader_open(path, "tcp port 8080", err, sizeof(err));

	CHECK(r != NULL);
	if (!r)
		return;
	n = tl_read_all(r, got, MAXEV, &rc);
	CHECK_EQ_INT(rc, 0);
	/* the data of the filter's packets, and every process's exec and exit (what
	 * the processes are), in file order */
	for (i = 0; i < n_evs; i++) {
		if ((evs[i]->h.kind == EC_K_DATA && evs[i]->h.rport == 8080) ||
		    evs[i]->h.kind == EC_K_EXEC || evs[i]->h.kind == EC_K_EXIT) {
			if (want < n)
				CHECK(same_event(got[want], evs[i]));
			want++;
		}
	}
	CHECK_EQ_INT(n, want);
	CHECK(want >= 8);
	free_evs(got, n);
	pcapng_reader_close(r);

	r = pcapng_reader_open(path, "ip6", err, sizeof(err));
	CHECK(r != NULL);
	if (r) {
		n = tl_read_all(r, got, MAXEV, &rc);
		CHECK_EQ_INT(rc, 0);
		CHECK(n > 0);
		for (i = 0; i < n; i++)
			if (got[i]->h.kind != EC_K_EXEC && got[i]->h.kind != EC_K_EXIT)
				CHECK_EQ_INT(got[i]->h.family, EC_AF_INET6);
		free_evs(got, n);
		pcapng_reader_close(r);
	}
	CHECK(pcapng_reader_open(path, "tcp port", err, sizeof(err)) == NULL);
	CHECK(strstr(err, "invalid filter") != NULL);
}

static void test_refuses_unknown(void)
{
	const char *path = tl_path("unknown.pcapng");
	char err[256];
	struct ec_event *e = tl_note(99, EC_S_NONE, 1, "x", "y", 1, 1);
	struct ec_event *d =
	    tl_data(EC_AF_INET, "1.2.3.4", 1, "5.6.7.8", 2, 3, EC_DIR_NONE, "z", 1, 2);
	struct ec_event *ok =
	    tl_data(EC_AF_INET, "1.2.3.4", 1, "5.6.7.8", 2, 3, EC_DIR_SEND, "z", 1, 2);
	struct pcapng_writer *w = pcapng_writer_open(path, NULL, false, err, sizeof(err));

	CHECK(w != NULL);
	if (!w)
		return;
	CHECK_EQ_INT(pcapng_write_event(w, e), -EINVAL);
	CHECK(strstr(pcapng_writer_error(w), "kind") != NULL);
	CHECK_EQ_INT(pcapng_write_event(w, d), -EINVAL);
	/* The writer is still usable. */
	CHECK_EQ_INT(pcapng_write_event(w, ok), 0);
	CHECK_EQ_INT(pcapng_write_close_conn(w, &e->h), -ENOENT);
	CHECK_EQ_INT(pcapng_writer_close(w, NULL, NULL, err, sizeof(err)), 0);
	free(e);
	free(d);
	free(ok);
}

/* A write error (file size limit) is reported with its errno and the path. */
static void test_write_error_reported(void)
{
	const char *path = tl_path("efbig.pcapng");
	char err[256];
	struct rlimit old, lim;
	static uint8_t p[60000];
	int rc = 0, i;

	signal(SIGXFSZ, SIG_IGN);
	CHECK(getrlimit(RLIMIT_FSIZE, &old) == 0);
	lim = old;
	lim.rlim_cur = 300000;
	CHECK(setrlimit(RLIMIT_FSIZE, &lim) == 0);
	struct pcapng_writer *w = pcapng_writer_open(path, NULL, false, err, sizeof(err));

	CHECK(w != NULL);
	if (w) {
		struct ec_event *e = tl_data(EC_AF_INET, "1.2.3.4", 1000, "5.6.7.8", 80, 3,
					     EC_DIR_SEND, p, sizeof(p), 2);

		for (i = 0; i < 40 && !rc; i++)
			rc = pcapng_write_event(w, e);
		if (!rc)
			rc = pcapng_writer_flush(w);
		CHECK_EQ_INT(rc, -EFBIG);
		CHECK(strstr(pcapng_writer_error(w), path) != NULL);
		/* Sticky: later calls and close report it too. */
		CHECK_EQ_INT(pcapng_write_event(w, e), -EFBIG);
		CHECK_EQ_INT(pcapng_writer_close(w, NULL, NULL, err, sizeof(err)), -EFBIG);
		CHECK(strstr(err, "File too large") != NULL);
		free(e);
	}
	setrlimit(RLIMIT_FSIZE, &old);
}

static void test_not_a_capture(void)
{
	char err[256];
	const char *path = tl_path("garbage.bin");

	CHECK(tl_spit(path, "this is not a capture file at all, just text\n", 45) == 0);
	CHECK(pcapng_reader_open(path, NULL, err, sizeof(err)) == NULL);
	CHECK(err[0] != '\0');
	CHECK(pcapng_reader_open(tl_path("does-not-exist"), NULL, err, sizeof(err)) == NULL);
	CHECK_EQ_INT(errno, ENOENT);
	CHECK(pcapng_reader_open_mem("", 0, NULL, err, sizeof(err)) == NULL);
	CHECK(strstr(err, "empty") != NULL);
	/* pcapng magic with a lying block length */
	static const uint8_t bad[] = {0x0a, 0x0d, 0x0d, 0x0a, 0xff, 0xff, 0xff, 0x7f,
				      0x4d, 0x3c, 0x2b, 0x1a, 1,    0,	  0,	0};

	CHECK(pcapng_reader_open_mem(bad, sizeof(bad), NULL, err, sizeof(err)) == NULL);
	CHECK(strstr(err, "offset 0") != NULL);
}

/* Both ends of a connection whose views differ (one end read below the TLS
 * library): every event still comes back exactly. */
static void test_diverging_views(void)
{
	const char *path = tl_path("diverge.pcapng");
	struct ec_event *evs[3], *got[8];
	char err[256];
	size_t i, k, n;
	int rc;

	evs[0] = tl_data(EC_AF_INET, "127.0.0.1", 40001, "127.0.0.1", 50001, 0xa, EC_DIR_SEND,
			 "\x07\x00\x00\x03plain", 9, 1000);
	evs[1] = tl_data(EC_AF_INET, "127.0.0.1", 50001, "127.0.0.1", 40001, 0xb, EC_DIR_RECV,
			 "\x17\x03\x03\x00cipher-more", 15, 2000);
	evs[2] = tl_data(EC_AF_INET, "127.0.0.1", 40001, "127.0.0.1", 50001, 0xa, EC_DIR_SEND,
			 "next", 4, 3000);
	evs[1]->h.pid = 4242;
	evs[1]->h.source = EC_S_SOCKET;
	struct pcapng_writer *w = pcapng_writer_open(path, NULL, true, err, sizeof(err));

	CHECK(w != NULL);
	if (!w)
		return;
	for (i = 0; i < 3; i++)
		CHECK_EQ_INT(pcapng_write_event(w, evs[i]), 0);
	CHECK_EQ_INT(pcapng_writer_close(w, NULL, NULL, err, sizeof(err)), 0);
	struct pcapng_reader *r = pcapng_reader_open(path, NULL, err, sizeof(err));

	CHECK(r != NULL);
	n = r ? tl_read_all(r, got, 8, &rc) : 0;
	CHECK_EQ_INT(n, 3);
	for (i = 0; i < 3; i++) {
		int found = 0;

		for (k = 0; k < n && !found; k++)
			found = same_event(got[k], evs[i]);
		if (!found)
			printf("  event %zu not restored\n", i);
		CHECK(found);
	}
	free_evs(got, n);
	free_evs(evs, 3);
	pcapng_reader_close(r);
}

UNIT_MAIN(UNIT(test_diverging_views), UNIT(test_roundtrip_many), UNIT(test_packets_consistent),
	  UNIT(test_mode_0600), UNIT(test_symlink_refused), UNIT(test_existing_refused),
	  UNIT(test_gzip_roundtrip), UNIT(test_truncated_every_byte), UNIT(test_truncated_gzip),
	  UNIT(test_filter_own), UNIT(test_refuses_unknown), UNIT(test_write_error_reported),
	  UNIT(test_not_a_capture))
