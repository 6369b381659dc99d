// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * synth: the benchmarks' synthetic producer and counting sink (tests/bench/run.sh).
 *
 *   synth produce --target PID [--rate EV_PER_S] [--secs S] [--len BYTES]
 *       Write data records into the ring buffer (or perf buffer) of the running
 *       ecaptop PID through bpf/bench.bpf.c, at RATE records/s (0: as fast as it
 *       can) for S seconds. Prints "offered=N accepted=N secs=S".
 *   synth sink
 *       Read ecaptop --batch --json output on standard input; print
 *       "events=N span_s=S rate=R stats=<the stats record>", where span is the time
 *       from the first to the last data line read.
 *   synth store [--items N] [--max-memory BYTES]
 *       Run the engine in this process, feed synthetic HTTP/1 exchanges through the
 *       ring buffer and engine queue into a session store that keeps N items
 *       (events and decoded records), and print the resident memory when idle and
 *       when the store is full. Without --max-memory the byte budget is off (every
 *       item is kept); with it, N items are fed through a store with that budget
 *       (the interactive view's default: STORE_DEFAULT_MAX_BYTES) and the evictions
 *       it made are printed.
 *
 * Records bypass the PID/UID filters (they come from no probe), so ecaptop can run
 * with -p 1 to keep real traffic on the machine out of the figures.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bench.skel.h"
#include "engine/engine.h"
#include "tui/session/store.h"

#define BURST	64 /* records per BPF_PROG_TEST_RUN */
#define N_CONNS 64

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The id of the map called name among the BPF maps process pid holds open, or 0. */
static __u32 map_id_of(pid_t pid, const char *name)
{
	char dpath[64], fpath[320], line[128];
	struct dirent *de;
	__u32 found = 0;
	DIR *d;

	snprintf(dpath, sizeof(dpath), "/proc/%d/fdinfo", (int)pid);
	d = opendir(dpath);
	if (!d)
		return 0;
	while (!found && (de = readdir(d))) {
		unsigned id = 0;
		FILE *f;

		snprintf(fpath, sizeof(fpath), "%s/%s", dpath, de->d_name);
		f = fopen(fpath, "re");
		if (!f)
			continue;
		while (fgets(line, sizeof(line), f))
			if (sscanf(line, "map_id: %u", &id) == 1)
				break;
		fclose(f);
		if (id) {
			struct bpf_map_info info = {};
			__u32 len = sizeof(info);
			int fd = bpf_map_get_fd_by_id(id);

			if (fd < 0)
				continue;
			if (!bpf_obj_get_info_by_fd(fd, &info, &len) && !strcmp(info.name, name))
				found = id;
			close(fd);
		}
	}
	closedir(d);
	return found;
}

/* Open bench.bpf.c with the buffers and loss counters of process pid. */
static struct bench_bpf *bench_open(pid_t pid)
{
	static const char *const shared[] = {"rb", "pb", "losses"};
	struct bench_bpf *b = bench_bpf__open();
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	size_t i;
	int rb_fd = -1;

	if (!b) {
		fprintf(stderr, "synth: cannot open the BPF object: %s\n", strerror(errno));
		return NULL;
	}
	for (i = 0; i < sizeof(shared) / sizeof(shared[0]); i++) {
		struct bpf_map *m = bpf_object__find_map_by_name(b->obj, shared[i]);
		__u32 id = map_id_of(pid, shared[i]);
		int fd = id ? bpf_map_get_fd_by_id(id) : -1;

		if (fd < 0 || !m || bpf_map__reuse_fd(m, fd)) {
			fprintf(stderr, "synth: process %d has no usable BPF map '%s'\n", (int)pid,
				shared[i]);
			goto fail;
		}
		if (!strcmp(shared[i], "rb"))
			rb_fd = fd;
		else
			close(fd); /* reuse_fd took its own duplicate */
	}
	/* ecaptop keeps the ring buffer one page long when it uses perf buffers. */
	if (bpf_obj_get_info_by_fd(rb_fd, &info, &len))
		goto fail;
	b->rodata->use_ringbuf = info.max_entries > (__u32)sysconf(_SC_PAGESIZE);
	close(rb_fd);
	rb_fd = -1;
	if (bench_bpf__load(b)) {
		fprintf(stderr, "synth: the kernel refused bench.bpf.c: %s\n", strerror(errno));
		goto fail;
	}
	return b;
fail:
	if (rb_fd >= 0)
		close(rb_fd);
	bench_bpf__destroy(b);
	return NULL;
}

/* Put payload (len bytes) in the scratch record of every CPU. */
static int bench_payload(struct bench_bpf *b, const char *payload, size_t len)
{
	int ncpu = libbpf_num_possible_cpus();
	size_t vsz = bpf_map__value_size(b->maps.scratch_map);
	__u32 zero = 0;
	char *vals;
	int i, ret;

	if (ncpu <= 0 || len > EC_CHUNK)
		return -EINVAL;
	vals = calloc((size_t)ncpu, vsz);
	if (!vals)
		return -ENOMEM;
	for (i = 0; i < ncpu; i++)
		memcpy(vals + (size_t)i * vsz + sizeof(struct ec_rec_hdr), payload, len);
	ret = bpf_map_update_elem(bpf_map__fd(b->maps.scratch_map), &zero, vals, BPF_ANY);
	free(vals);
	return ret ? -errno : 0;
}

/* Write n records; returns how many the buffer accepted, or -errno. */
static long bench_emit(struct bench_bpf *b, __u64 n, __u64 conn_base, __u32 dir, __u32 len)
{
	__u64 args[5] = {n, conn_base, N_CONNS, dir, len};
	LIBBPF_OPTS(bpf_test_run_opts, o, .ctx_in = args, .ctx_size_in = sizeof(args));
	int ret = bpf_prog_test_run_opts(bpf_program__fd(b->progs.bench_emit), &o);

	return ret ? -errno : (long)o.retval;
}

static void fill_text(char *buf, size_t len)
{
	static const char head[] = "GET /bench HTTP/1.1\r\nHost: bench.invalid\r\nX-Pad: ";
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = i < sizeof(head) - 1 ? head[i] : (char)('a' + i % 26);
}

static int cmd_produce(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"target", required_argument, NULL, 't'},
	    {"rate", required_argument, NULL, 'r'},
	    {"secs", required_argument, NULL, 's'},
	    {"len", required_argument, NULL, 'l'},
	    {NULL, 0, NULL, 0},
	};
	double rate = 0, secs = 1, start, t;
	unsigned long long offered = 0, accepted = 0;
	char payload[EC_CHUNK];
	struct bench_bpf *b;
	unsigned len = 100;
	pid_t target = 0;
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 't':
			target = atoi(optarg);
			break;
		case 'r':
			rate = atof(optarg);
			break;
		case 's':
			secs = atof(optarg);
			break;
		case 'l':
			len = (unsigned)atoi(optarg);
			break;
		default:
			return 2;
		}
	}
	if (target <= 0 || len > EC_CHUNK || secs <= 0) {
		fprintf(stderr, "synth produce: --target PID, --len <= %d, --secs > 0\n", EC_CHUNK);
		return 2;
	}
	b = bench_open(target);
	if (!b)
		return 1;
	fill_text(payload, len);
	if (bench_payload(b, payload, len)) {
		fprintf(stderr, "synth: cannot set the payload\n");
		bench_bpf__destroy(b);
		return 1;
	}
	start = now_s();
	while ((t = now_s() - start) < secs) {
		long got;

		/* Paced: stay at rate * elapsed, sleeping in short steps when ahead. */
		if (rate > 0 && offered >= rate * t) {
			struct timespec ts = {0, 20000};

			nanosleep(&ts, NULL);
			continue;
		}
		got = bench_emit(b, BURST, 0xbe0000000000ULL, EC_DIR_RECV, len);
		if (got < 0) {
			fprintf(stderr, "synth: test run failed: %s\n", strerror((int)-got));
			break;
		}
		offered += BURST;
		accepted += (unsigned long long)got;
	}
	printf("offered=%llu accepted=%llu secs=%.3f\n", offered, accepted, now_s() - start);
	bench_bpf__destroy(b);
	return 0;
}

static int cmd_sink(void)
{
	static char buf[1 << 20];
	char last[4096] = "", line[4096];
	size_t line_len = 0;
	unsigned long long events = 0;
	double first = 0, lastt = 0;
	ssize_t n;

	/* A large pipe, so the printer rarely waits for this reader to be scheduled (it
	 * shares its CPU with the producer). */
	fcntl(0, F_SETPIPE_SZ, 1 << 20);
	/* Count complete lines; remember the stats line (the last one). Reading in large
	 * chunks keeps the sink far cheaper than the printer it measures. */
	while ((n = read(0, buf, sizeof(buf))) > 0 || (n < 0 && errno == EINTR)) {
		ssize_t i;
		int data = 0;

		for (i = 0; i < n; i++) {
			if (line_len < sizeof(line) - 1)
				line[line_len++] = buf[i];
			if (buf[i] != '\n')
				continue;
			line[line_len] = '\0';
			if (!strncmp(line, "{\"type\":\"data\"", 14)) {
				events++;
				data = 1;
			} else if (!strncmp(line, "{\"type\":\"stats\"", 15)) {
				snprintf(last, sizeof(last), "%.*s", (int)line_len - 1, line);
			}
			line_len = 0;
		}
		if (data) {
			lastt = now_s();
			if (!first)
				first = lastt;
		}
	}
	printf("events=%llu span_s=%.3f rate=%.0f stats=%s\n", events, lastt - first,
	       lastt > first ? events / (lastt - first) : 0.0, last[0] ? last : "{}");
	return 0;
}

static long vm_kib(const char *field)
{
	char line[256];
	long v = -1;
	FILE *f = fopen("/proc/self/status", "re");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, field, strlen(field)) && line[strlen(field)] == ':')
			v = atol(line + strlen(field) + 1);
	fclose(f);
	return v;
}

static int cmd_store(int argc, char **argv)
{
	static const char req[] = "GET /index.html HTTP/1.1\r\nHost: bench.invalid\r\n"
				  "User-Agent: synth\r\nAccept: */*\r\n\r\n";
	char resp[512];
	struct engine_opts eo = {0};
	struct store_opts so = {0};
	struct store_stats ss;
	struct engine *e = NULL;
	struct bench_bpf *b = NULL;
	struct store *st = NULL;
	unsigned long items = 1000000;
	long idle_rss, idle_hwm, idle_anon;
	char err[512] = "";
	int resp_len, ret = 1;
	__u64 round = 0;

	unsigned long long max_mem = 0;
	int i;

	for (i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--items"))
			items = strtoul(argv[i + 1], NULL, 10);
		else if (!strcmp(argv[i], "--max-memory"))
			max_mem = strtoull(argv[i + 1], NULL, 10);
	}
	resp_len = snprintf(resp, sizeof(resp),
			    "HTTP/1.1 200 OK\r\nServer: synth\r\nContent-Type: text/html\r\n"
			    "Content-Length: 100\r\n\r\n%0100d",
			    0);
	/* Only this process: real TLS traffic elsewhere stays out. */
	eo.pids[0] = (uint32_t)getpid();
	eo.n_pids = 1;
	e = engine_new(&eo, err, sizeof(err));
	if (!e || engine_start(e, err, sizeof(err))) {
		fprintf(stderr, "synth store: %s\n", err);
		goto out;
	}
	usleep(500000);
	idle_rss = vm_kib("VmRSS");
	idle_hwm = vm_kib("VmHWM");
	idle_anon = vm_kib("RssAnon");
	so.max_events = items;
	so.max_bytes = max_mem ? max_mem : UINT64_MAX;
	so.keep = true;
	st = store_new(&so);
	b = st ? bench_open(getpid()) : NULL;
	if (!b)
		goto out;
	for (;;) {
		struct ec_event *ev;
		int dir;

		store_get_stats(st, &ss);
		/* Full: the cap is reached once the store starts evicting. With a byte
		 * budget: N items have been through the store. */
		if (max_mem ? ss.stored + ss.evicted >= items : ss.stored >= items || ss.evicted)
			break;
		/* A request on each of N_CONNS connections, then their responses: the
		 * HTTP/1 decoder turns each pair into a record. */
		for (dir = 0; dir < 2; dir++) {
			const char *p = dir ? resp : req;
			unsigned plen = dir ? (unsigned)resp_len : sizeof(req) - 1;

			if (bench_payload(b, p, plen) ||
			    bench_emit(b, N_CONNS, 0xbe0000000000ULL + (round % 64) * N_CONNS,
				       dir ? EC_DIR_SEND : EC_DIR_RECV, plen) < 0) {
				fprintf(stderr, "synth store: producing failed: %s\n",
					strerror(errno));
				goto out;
			}
		}
		round++;
		/* The engine thread moves records from the ring into the queue. */
		usleep(200);
		while ((ev = engine_pop(e)))
			store_add(st, ev);
	}
	store_get_stats(st, &ss);
	/* What malloc hands out now (the store, decoders, exchanges), beside what the
	 * store counts against its budget. */
	struct mallinfo2 mi = mallinfo2();

	printf("heap_in_use=%zu ", mi.uordblks + mi.hblkhd);
	printf("req_bytes=%zu resp_bytes=%d idle_rss_kib=%ld idle_hwm_kib=%ld idle_anon_kib=%ld "
	       "items=%llu events=%llu records=%llu evicted=%llu rss_kib=%ld hwm_kib=%ld "
	       "anon_kib=%ld max_memory=%llu evicted_mem=%llu mem=%llu\n",
	       sizeof(req) - 1, resp_len, idle_rss, idle_hwm, idle_anon,
	       (unsigned long long)ss.stored, (unsigned long long)ss.added,
	       (unsigned long long)ss.records, (unsigned long long)ss.evicted, vm_kib("VmRSS"),
	       vm_kib("VmHWM"), vm_kib("RssAnon"), max_mem, (unsigned long long)ss.evicted_mem,
	       (unsigned long long)ss.mem);
	ret = 0;
out:
	bench_bpf__destroy(b);
	store_free(st);
	engine_free(e);
	return ret;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "produce"))
		return cmd_produce(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "sink"))
		return cmd_sink();
	if (argc >= 2 && !strcmp(argv[1], "store"))
		return cmd_store(argc - 1, argv + 1);
	fprintf(stderr, "usage: synth produce --target PID [--rate R] [--secs S] [--len N]\n"
			"       synth sink\n"
			"       synth store [--items N] [--max-memory BYTES]\n");
	return 2;
}
