// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * ecaptop: command line, then the front end (TUI, or the batch printer).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/engine.h"
#include "engine/log.h"
#include "engine/file/pcapng.h"
#include "tui/session/store.h"
#include "tui/batch.h"
#include "tui/tui.h"

#ifndef ECAPTOP_VERSION
#define ECAPTOP_VERSION "0.0.0"
#endif

enum {
	OPT_JSON = 0x100,
	OPT_PERF_BUFFER,
	OPT_CHECK,
	OPT_BTF,
	OPT_LOG,
	OPT_THEME,
	OPT_MAX_EVENTS,
	OPT_MAX_MEMORY,
	OPT_FORCE,
	OPT_SPEED,
	OPT_HOLD_NEW,
	OPT_KEYLOG,
	OPT_CGROUP,
};

static const struct option long_opts[] = {
    {"batch", no_argument, NULL, 'b'},
    {"json", no_argument, NULL, OPT_JSON},
    {"pid", required_argument, NULL, 'p'},
    {"uid", required_argument, NULL, 'u'},
    {"duration", required_argument, NULL, 'd'},
    {"perf-buffer", no_argument, NULL, OPT_PERF_BUFFER},
    {"hold-new", no_argument, NULL, OPT_HOLD_NEW},
    {"check", no_argument, NULL, OPT_CHECK},
    {"btf", required_argument, NULL, OPT_BTF},
    {"log", required_argument, NULL, OPT_LOG},
    {"theme", required_argument, NULL, OPT_THEME},
    {"read", required_argument, NULL, 'r'},
    {"write", required_argument, NULL, 'w'},
    {"force", no_argument, NULL, OPT_FORCE},
    {"filter", required_argument, NULL, 'f'},
    {"speed", required_argument, NULL, OPT_SPEED},
    {"max-events", required_argument, NULL, OPT_MAX_EVENTS},
    {"max-memory", required_argument, NULL, OPT_MAX_MEMORY},
    {"keylog", required_argument, NULL, OPT_KEYLOG},
    {"cgroup", required_argument, NULL, OPT_CGROUP},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "Usage: ecaptop [OPTIONS]\n"
	    "Show, per process and connection, the plaintext of TLS traffic on this machine.\n"
	    "\n"
	    "  (no options)            live capture of the whole machine in the interactive view\n"
	    "  -b, --batch             no TUI: print events to standard output until interrupted\n"
	    "      --json              with --batch: one JSON object per line\n"
	    "  -p, --pid PID[,PID...]  only these processes (filtered in the kernel)\n"
	    "  -u, --uid UID[,UID...]  only these users (filtered in the kernel)\n"
	    "      --cgroup PATH       only processes in this cgroup v2 or below (repeatable;\n"
	    "                          /sys/fs/cgroup/... or /a/b as /proc/PID/cgroup shows it)\n"
	    "  -d, --duration SECS     stop by itself after SECS seconds\n"
	    "      --perf-buffer       use perf buffers even where ring buffers exist\n"
	    "      --hold-new          stop a program never seen before at its exec until its TLS\n"
	    "                          probes are attached (at most 200 ms), so its first run is\n"
	    "                          captured whole\n"
	    "  -w, --write FILE        record everything captured to FILE (pcapng; .gz "
	    "compresses)\n"
	    "      --force             let -w overwrite an existing file\n"
	    "      --keylog FILE       append the TLS secrets to FILE (SSLKEYLOGFILE lines, for\n"
	    "                          Wireshark; created 0600): OpenSSL, GnuTLS and Go\n"
	    "  -r, --read FILE         replay a saved capture (pcapng or pcap, .gz too); no root\n"
	    "  -f, --filter EXPR       with -r: a pcap filter expression limiting what is read\n"
	    "      --speed X           with -r: replay at X times the original pace (batch "
	    "default:\n"
	    "                          as fast as possible)\n"
	    "      --btf FILE          kernel BTF for kernels without /sys/kernel/btf/vmlinux\n"
	    "      --log FILE          also append log messages to FILE (created 0600)\n"
	    "      --theme NAME        TUI colour theme (dark, light, mono; default: the saved "
	    "one)\n"
	    "      --max-events N      TUI: events kept in memory, oldest evicted (default "
	    "1000000)\n"
	    "      --max-memory SIZE   TUI: bytes the stored events may hold (K, M, G; default "
	    "96M),\n"
	    "                          oldest evicted and counted\n"
	    "      --check             report what this kernel supports; exit 0 if capture can "
	    "work\n"
	    "  -h, --help              this text\n"
	    "  -V, --version           the version\n"
	    "\n"
	    "Needs root (or CAP_BPF and CAP_PERFMON) for live capture. See ecaptop(8).\n");
}

/* "12,34" into vals[]; 0, or -1 with a message. */
static int parse_list(const char *arg, const char *what, uint32_t *vals, size_t *n)
{
	char *copy = strdup(arg), *tok, *save = NULL;

	if (!copy)
		return -1;
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *end;
		unsigned long v;

		errno = 0;
		v = strtoul(tok, &end, 10);
		if (errno || *end || end == tok || v > UINT32_MAX || tok[0] == '-') {
			fprintf(stderr, "ecaptop: invalid %s '%s': expected a number\n", what, tok);
			free(copy);
			return -1;
		}
		if (*n == ENGINE_MAX_FILTER) {
			fprintf(stderr, "ecaptop: at most %d values for --%s\n", ENGINE_MAX_FILTER,
				what);
			free(copy);
			return -1;
		}
		vals[(*n)++] = (uint32_t)v;
	}
	free(copy);
	if (!*n) {
		fprintf(stderr, "ecaptop: --%s needs at least one number\n", what);
		return -1;
	}
	return 0;
}

/* The --pid and --uid values in buf as "<pid_key>1<sep>2 <uid_key>0": the two
 * spellings below. NULL when there are none. */
static const char *filter_terms(const struct engine_opts *eo, const char *pid_key,
				const char *uid_key, const char *sep, char *buf, size_t len)
{
	size_t i, n = 0;

	buf[0] = '\0';
	for (i = 0; i < eo->n_pids && n < len; i++)
		n += (size_t)snprintf(buf + n, len - n, "%s%u", i ? sep : pid_key, eo->pids[i]);
	for (i = 0; i < eo->n_uids && n < len; i++)
		n += (size_t)snprintf(buf + n, len - n, "%s%s%u", !i && n ? " " : "",
				      i ? sep : uid_key, eo->uids[i]);
	return buf[0] ? buf : NULL;
}

/* The capture's filter, as the file's section header records it. */
static const char *capture_filter_desc(const struct engine_opts *eo, char *buf, size_t len)
{
	return filter_terms(eo, "--pid ", "--uid ", ",", buf, len);
}

/* --pid/--uid as the TUI's first filter ("pid:1|2 uid:0"), so editing the filter
 * there starts from them rather than silently dropping them. */
static const char *initial_filter(const struct engine_opts *eo, char *buf, size_t len)
{
	return filter_terms(eo, "pid:", "uid:", "|", buf, len);
}

/* Close the -w file with the final loss counters; report what was saved. */
static int finish_recording(struct engine *e, struct pcapng_writer *w, const char *path,
			    const struct engine_opts *eo)
{
	struct pcapng_writer_stats ws;
	struct engine_stats st;
	char err[256], ftext[256];
	struct pcapng_meta meta;

	engine_stats(e, &st);
	memset(&meta, 0, sizeof(meta));
	meta.filter = capture_filter_desc(eo, ftext, sizeof(ftext));
	meta.events = st.events;
	meta.bytes = st.bytes;
	meta.lost_reserve = st.lost_reserve;
	meta.lost_read = st.lost_read;
	meta.lost_trunc = st.lost_trunc;
	meta.lost_perf = st.lost_perf;
	meta.lost_queue = st.lost_queue;
	meta.lost_malformed = st.lost_malformed;
	meta.lost_alloc = st.lost_alloc;
	if (pcapng_writer_close(w, &meta, &ws, err, sizeof(err))) {
		fprintf(stderr, "ecaptop: writing %s failed: %s\n", path, err);
		return -1;
	}
	fprintf(stderr, "ecaptop: saved %llu events, %llu connections, %llu bytes to %s\n",
		(unsigned long long)ws.events, (unsigned long long)ws.connections,
		(unsigned long long)ws.file_bytes, path);
	return 0;
}

/* "64M", "2G", "1048576" (bytes; K, M, G: powers of 1024) into *out, at least 1 MiB.
 * 0, or -1. */
static int parse_size(const char *arg, uint64_t *out)
{
	unsigned long long v;
	unsigned shift = 0;
	char *end;

	errno = 0;
	v = strtoull(arg, &end, 10);
	if (errno || end == arg || arg[0] == '-')
		return -1;
	if (*end == 'K' || *end == 'k')
		shift = 10;
	else if (*end == 'M' || *end == 'm')
		shift = 20;
	else if (*end == 'G' || *end == 'g')
		shift = 30;
	if (shift)
		end++;
	if (*end || v > (UINT64_MAX >> shift) || (v << shift) < (1ull << 20))
		return -1;
	*out = v << shift;
	return 0;
}

static void on_signal(int sig)
{
	(void)sig;
	batch_request_stop();
}

int main(int argc, char **argv)
{
	struct engine_opts eo = {0};
	struct batch_opts bo = {0};
	bool batch = false, check = false;
	const char *log_path = NULL, *theme = NULL, *read_path = NULL, *write_path = NULL;
	const char *pcap_filter = NULL;
	bool force = false;
	double speed = -1;
	struct pcapng_writer *writer = NULL;
	size_t max_events = 0;
	uint64_t max_memory = 0;
	char err[512] = "";
	struct engine *e;
	struct sigaction sa;
	struct engine_stats st;
	char ready[1024];
	size_t i, n;
	int c, status;

	while ((c = getopt_long(argc, argv, "bp:u:d:r:w:f:hV", long_opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			read_path = optarg;
			break;
		case 'w':
			write_path = optarg;
			break;
		case 'f':
			pcap_filter = optarg;
			break;
		case OPT_FORCE:
			force = true;
			break;
		case OPT_SPEED: {
			char *end;

			speed = strtod(optarg, &end);
			if (*end || end == optarg || !(speed > 0)) {
				fprintf(stderr,
					"ecaptop: invalid speed '%s': expected a factor > 0\n",
					optarg);
				return 1;
			}
			break;
		}
		case 'b':
			batch = true;
			break;
		case OPT_JSON:
			bo.json = true;
			break;
		case 'p':
			if (parse_list(optarg, "pid", eo.pids, &eo.n_pids))
				return 1;
			break;
		case 'u':
			if (parse_list(optarg, "uid", eo.uids, &eo.n_uids))
				return 1;
			break;
		case 'd': {
			char *end;

			bo.duration_s = strtod(optarg, &end);
			if (*end || end == optarg || bo.duration_s <= 0) {
				fprintf(stderr,
					"ecaptop: invalid duration '%s': expected seconds > 0\n",
					optarg);
				return 1;
			}
			break;
		}
		case OPT_PERF_BUFFER:
			eo.perf_buffer = true;
			break;
		case OPT_HOLD_NEW:
			eo.hold_new = true;
			break;
		case OPT_CHECK:
			check = true;
			break;
		case OPT_BTF:
			eo.btf_path = optarg;
			break;
		case OPT_LOG:
			log_path = optarg;
			break;
		case OPT_KEYLOG:
			eo.keylog_path = optarg;
			break;
		case OPT_CGROUP:
			if (eo.n_cgroups == ENGINE_MAX_FILTER) {
				fprintf(stderr, "ecaptop: at most %d --cgroup\n",
					ENGINE_MAX_FILTER);
				return 1;
			}
			if (engine_cgroup_id(optarg, &eo.cgroups[eo.n_cgroups], err, sizeof(err))) {
				fprintf(stderr, "ecaptop: %s\n", err);
				return 1;
			}
			eo.n_cgroups++;
			break;
		case OPT_THEME:
			theme = optarg;
			break;
		case OPT_MAX_EVENTS: {
			char *end;
			unsigned long long v;

			errno = 0;
			v = strtoull(optarg, &end, 10);
			if (errno || *end || end == optarg || !v || optarg[0] == '-') {
				fprintf(
				    stderr,
				    "ecaptop: invalid --max-events '%s': expected a number > 0\n",
				    optarg);
				return 1;
			}
			max_events = (size_t)v;
			break;
		}
		case OPT_MAX_MEMORY:
			if (parse_size(optarg, &max_memory)) {
				fprintf(stderr,
					"ecaptop: invalid --max-memory '%s': expected a size of at "
					"least 1M, such as 64M or 2G\n",
					optarg);
				return 1;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("ecaptop %s\n", ECAPTOP_VERSION);
			return 0;
		default:
			usage(stderr);
			return 1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "ecaptop: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 1;
	}
	if (bo.json && !batch && !check) {
		fprintf(stderr, "ecaptop: --json goes with --batch\n");
		return 1;
	}
	if (log_path && log_set_file(log_path, err, sizeof(err))) {
		fprintf(stderr, "ecaptop: --log: %s\n", err);
		return 1;
	}
	if (check)
		return engine_check(&eo, stdout);
	if (eo.keylog_path && read_path) {
		fprintf(stderr, "ecaptop: --keylog goes with live capture, not -r\n");
		return 1;
	}
	if ((pcap_filter || speed > 0) && !read_path) {
		fprintf(stderr, "ecaptop: --filter and --speed go with -r FILE\n");
		return 1;
	}

	/* Until curses starts (or for good, in batch mode) messages go to stderr. */
	log_set_stderr(1, LOG_INFO);

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	/* A closed terminal or a supervisor's hangup ends the capture as cleanly as a
	 * stop: the -w file completed, the stats printed. */
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (read_path)
		/* Batch replays run as fast as they can; the TUI plays at the original pace. */
		e = engine_new_replay(read_path, pcap_filter,
				      speed > 0 ? speed
				      : batch	? 0
						: 1,
				      err, sizeof(err));
	else
		e = engine_new(&eo, err, sizeof(err));
	if (!e) {
		fprintf(stderr, "ecaptop: %s\n", err);
		return 1;
	}
	if (read_path && !strcmp(read_path, "-") && !batch) {
		/* The capture came on standard input (now read): the keys come from
		 * the terminal. */
		int tty = open("/dev/tty", O_RDWR | O_CLOEXEC);

		if (tty < 0 || dup2(tty, STDIN_FILENO) < 0) {
			fprintf(stderr, "ecaptop: -r -: no terminal for the interactive view (use "
					"--batch)\n");
			engine_free(e);
			return 1;
		}
		close(tty);
	}
	if (write_path) {
		struct pcapng_meta meta = {.filter = capture_filter_desc(&eo, err, sizeof(err))};

		writer = pcapng_writer_open(write_path, &meta, force, err, sizeof(err));
		if (!writer) {
			fprintf(stderr, "ecaptop: cannot write %s: %s\n", write_path, err);
			engine_free(e);
			return 1;
		}
		engine_set_recorder(e, writer);
	}
	if (engine_start(e, err, sizeof(err))) {
		fprintf(stderr, "ecaptop: %s\n", err);
		engine_free(e);
		return 1;
	}
	engine_stats(e, &st);
	/* Built whole and logged as one line, so that a message of the engine's
	 * threads (logged under the same lock) never lands inside it. */
	n = read_path
		? snprintf(ready, sizeof(ready), "ready: replaying %s",
			   strcmp(read_path, "-") ? read_path : "standard input")
		: snprintf(ready, sizeof(ready), "ready: %s, %llu TLS target file%s attached",
			   st.ringbuf ? "ring buffer" : "perf buffer",
			   (unsigned long long)st.libs_attached, st.libs_attached == 1 ? "" : "s");
	for (i = 0; i < eo.n_pids && n < sizeof(ready); i++)
		n += (size_t)snprintf(ready + n, sizeof(ready) - n, "%s%u",
				      i ? "," : ", pid filter ", eo.pids[i]);
	for (i = 0; i < eo.n_uids && n < sizeof(ready); i++)
		n += (size_t)snprintf(ready + n, sizeof(ready) - n, "%s%u",
				      i ? "," : ", uid filter ", eo.uids[i]);
	log_msg(LOG_INFO, "%s", ready);

	if (batch) {
		bo.filter = &eo;
		status = batch_run(e, &bo);
	} else {
		struct store_opts so = {
		    .max_events = max_events, .max_bytes = max_memory, .keep = true};
		char initial[ENGINE_MAX_FILTER * 2 * 12 + 16];
		struct tui_opts to = {.theme = theme,
				      .store_cap = max_events,
				      .store_mem = max_memory,
				      .source = read_path ? read_path : "live",
				      .log_path = log_path,
				      .filter = initial_filter(&eo, initial, sizeof(initial))};
		struct store *st = store_new(&so);

		if (!st) {
			fprintf(stderr, "ecaptop: cannot create the session store: %s\n",
				strerror(errno));
			engine_free(e);
			return 1;
		}
		status = tui_run(e, st, &to);
		store_free(st);
	}
	engine_stop(e);
	if (writer && finish_recording(e, writer, write_path, &eo))
		status = 1;
	engine_free(e);
	if (log_close())
		status = 1; /* said when it happened */
	return status;
}
