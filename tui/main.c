// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * ecaptop: command line, then the front end (TUI, or the batch printer).
 */
#include <errno.h>
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
#include "tui/batch.h"

#ifndef ECAPTOP_VERSION
#define ECAPTOP_VERSION "0.0.0"
#endif

enum {
	OPT_JSON = 0x100,
	OPT_PERF_BUFFER,
	OPT_CHECK,
	OPT_BTF,
	OPT_LOG,
};

static const struct option long_opts[] = {
	{"batch", no_argument, NULL, 'b'},
	{"json", no_argument, NULL, OPT_JSON},
	{"pid", required_argument, NULL, 'p'},
	{"uid", required_argument, NULL, 'u'},
	{"duration", required_argument, NULL, 'd'},
	{"perf-buffer", no_argument, NULL, OPT_PERF_BUFFER},
	{"check", no_argument, NULL, OPT_CHECK},
	{"btf", required_argument, NULL, OPT_BTF},
	{"log", required_argument, NULL, OPT_LOG},
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, 'V'},
	{NULL, 0, NULL, 0},
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: ecaptop [OPTIONS]\n"
		"Show, per process and connection, the plaintext of TLS traffic on this machine.\n"
		"\n"
		"  (no options)            live capture of the whole machine (interactive view)\n"
		"  -b, --batch             no TUI: print events to standard output until interrupted\n"
		"      --json              with --batch: one JSON object per line\n"
		"  -p, --pid PID[,PID...]  only these processes (filtered in the kernel)\n"
		"  -u, --uid UID[,UID...]  only these users (filtered in the kernel)\n"
		"  -d, --duration SECS     stop by itself after SECS seconds\n"
		"      --perf-buffer       use perf buffers even where ring buffers exist\n"
		"      --btf FILE          kernel BTF for kernels without /sys/kernel/btf/vmlinux\n"
		"      --log FILE          also append log messages to FILE (created 0600)\n"
		"      --check             report what this kernel supports; exit 0 if capture can work\n"
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

static void on_signal(int sig)
{
	(void)sig;
	batch_stop_requested = 1;
}

int main(int argc, char **argv)
{
	struct engine_opts eo = {0};
	struct batch_opts bo = {0};
	bool batch = false, check = false;
	const char *log_path = NULL;
	char err[512] = "";
	struct engine *e;
	struct sigaction sa;
	struct engine_stats st;
	size_t i;
	int c, status;

	while ((c = getopt_long(argc, argv, "bp:u:d:hV", long_opts, NULL)) != -1) {
		switch (c) {
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
				fprintf(stderr, "ecaptop: invalid duration '%s': expected seconds > 0\n",
					optarg);
				return 1;
			}
			break;
		}
		case OPT_PERF_BUFFER:
			eo.perf_buffer = true;
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
		/* Until the TUI exists every run is a batch run; --json implies it. */
		batch = true;
	}
	if (log_path) {
		int r = log_set_file(log_path);

		if (r) {
			fprintf(stderr, "ecaptop: cannot open log file %s: %s\n", log_path,
				strerror(-r));
			return 1;
		}
	}
	if (check)
		return engine_check(&eo, stdout);

	(void)batch; /* the interactive view arrives with the TUI; until then, batch */
	log_set_stderr(1, LOG_INFO);

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	e = engine_new(&eo, err, sizeof(err));
	if (!e) {
		fprintf(stderr, "ecaptop: %s\n", err);
		return 1;
	}
	if (engine_start(e, err, sizeof(err))) {
		fprintf(stderr, "ecaptop: %s\n", err);
		engine_free(e);
		return 1;
	}
	engine_stats(e, &st);
	fprintf(stderr, "ecaptop: ready: %s, %llu TLS target file%s attached", 
		st.ringbuf ? "ring buffer" : "perf buffer", (unsigned long long)st.libs_attached,
		st.libs_attached == 1 ? "" : "s");
	if (eo.n_pids) {
		fprintf(stderr, ", pid filter");
		for (i = 0; i < eo.n_pids; i++)
			fprintf(stderr, "%c%u", i ? ',' : ' ', eo.pids[i]);
	}
	if (eo.n_uids) {
		fprintf(stderr, ", uid filter");
		for (i = 0; i < eo.n_uids; i++)
			fprintf(stderr, "%c%u", i ? ',' : ' ', eo.uids[i]);
	}
	fprintf(stderr, "\n");

	bo.filter = &eo;
	status = batch_run(e, &bo);
	engine_free(e);
	log_close();
	return status;
}
