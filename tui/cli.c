// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The command line: the option table, getopt_long and the usage text built from it.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tui/cli.h"

#ifndef ECAPTOP_VERSION
#define ECAPTOP_VERSION "0.0.0"
#endif

/* What an option's handler tells the parser. */
enum cli_next {
	CLI_GO = 0,    /* parsed; go on */
	CLI_DONE = 1,  /* the option did its whole job (--help): exit 0 */
	CLI_FAIL = -1, /* a bad value, already said on stderr: exit 1 */
};

struct cli_option {
	const char *name; /* the long name, without "--" */
	char key;	  /* the short letter, or 0 */
	const char *arg;  /* the value's name in the usage text; NULL: takes none */
	const char *help; /* the usage text; each '\n' continues at the help column */
	enum { CLI_TRUE, CLI_STRING, CLI_CALL } kind;
	size_t off; /* CLI_TRUE: a bool in struct cli; CLI_STRING: a const char * there */
	enum cli_next (*call)(struct cli *c, const char *arg); /* CLI_CALL */
};

#define SET_TRUE(field)	  .kind = CLI_TRUE, .off = offsetof(struct cli, field)
#define SET_STRING(field) .kind = CLI_STRING, .off = offsetof(struct cli, field)
#define CALL(fn)	  .kind = CLI_CALL, .call = fn

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

static enum cli_next opt_pid(struct cli *c, const char *arg)
{
	return parse_list(arg, "pid", c->eo.pids, &c->eo.n_pids) ? CLI_FAIL : CLI_GO;
}

static enum cli_next opt_uid(struct cli *c, const char *arg)
{
	return parse_list(arg, "uid", c->eo.uids, &c->eo.n_uids) ? CLI_FAIL : CLI_GO;
}

static enum cli_next opt_cgroup(struct cli *c, const char *arg)
{
	char err[512];

	if (c->eo.n_cgroups == ENGINE_MAX_FILTER) {
		fprintf(stderr, "ecaptop: at most %d --cgroup\n", ENGINE_MAX_FILTER);
		return CLI_FAIL;
	}
	if (engine_cgroup_id(arg, &c->eo.cgroups[c->eo.n_cgroups], err, sizeof(err))) {
		fprintf(stderr, "ecaptop: %s\n", err);
		return CLI_FAIL;
	}
	c->eo.n_cgroups++;
	return CLI_GO;
}

static enum cli_next opt_duration(struct cli *c, const char *arg)
{
	char *end;

	c->bo.duration_s = strtod(arg, &end);
	if (*end || end == arg || c->bo.duration_s <= 0) {
		fprintf(stderr, "ecaptop: invalid duration '%s': expected seconds > 0\n", arg);
		return CLI_FAIL;
	}
	return CLI_GO;
}

static enum cli_next opt_speed(struct cli *c, const char *arg)
{
	char *end;

	c->speed = strtod(arg, &end);
	if (*end || end == arg || !(c->speed > 0)) {
		fprintf(stderr, "ecaptop: invalid speed '%s': expected a factor > 0\n", arg);
		return CLI_FAIL;
	}
	return CLI_GO;
}

static enum cli_next opt_max_events(struct cli *c, const char *arg)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(arg, &end, 10);
	if (errno || *end || end == arg || !v || arg[0] == '-') {
		fprintf(stderr, "ecaptop: invalid --max-events '%s': expected a number > 0\n", arg);
		return CLI_FAIL;
	}
	c->max_events = (size_t)v;
	return CLI_GO;
}

/* "64M", "2G", "1048576" (bytes; K, M, G: powers of 1024), at least 1 MiB. */
static enum cli_next opt_max_memory(struct cli *c, const char *arg)
{
	unsigned long long v;
	unsigned shift = 0;
	char *end;

	errno = 0;
	v = strtoull(arg, &end, 10);
	if (!errno && end != arg && arg[0] != '-') {
		if (*end == 'K' || *end == 'k')
			shift = 10;
		else if (*end == 'M' || *end == 'm')
			shift = 20;
		else if (*end == 'G' || *end == 'g')
			shift = 30;
		if (shift)
			end++;
		if (!*end && v <= (UINT64_MAX >> shift) && (v << shift) >= (1ull << 20)) {
			c->max_memory = v << shift;
			return CLI_GO;
		}
	}
	fprintf(stderr,
		"ecaptop: invalid --max-memory '%s': expected a size of at least 1M, such as "
		"64M or 2G\n",
		arg);
	return CLI_FAIL;
}

static enum cli_next opt_help(struct cli *c, const char *arg)
{
	(void)c;
	(void)arg;
	cli_usage(stdout);
	return CLI_DONE;
}

static enum cli_next opt_version(struct cli *c, const char *arg)
{
	(void)c;
	(void)arg;
	printf("ecaptop %s\n", ECAPTOP_VERSION);
	return CLI_DONE;
}

/* Every option, in the order the usage text lists them. */
static const struct cli_option options[] = {
    {"batch", 'b', NULL, "no TUI: print events to standard output until interrupted",
     SET_TRUE(batch)},
    {"json", 0, NULL, "with --batch: one JSON object per line", SET_TRUE(bo.json)},
    {"pid", 'p', "PID[,PID...]", "only these processes (filtered in the kernel)", CALL(opt_pid)},
    {"uid", 'u', "UID[,UID...]", "only these users (filtered in the kernel)", CALL(opt_uid)},
    {"cgroup", 0, "PATH",
     "only processes in this cgroup v2 or below (repeatable;\n"
     "/sys/fs/cgroup/... or /a/b as /proc/PID/cgroup shows it)",
     CALL(opt_cgroup)},
    {"duration", 'd', "SECS", "stop by itself after SECS seconds", CALL(opt_duration)},
    {"perf-buffer", 0, NULL, "use perf buffers even where ring buffers exist",
     SET_TRUE(eo.perf_buffer)},
    {"hold-new", 0, NULL,
     "stop a program never seen before at its exec until its TLS\n"
     "probes are attached (at most 200 ms), so its first run is\n"
     "captured whole",
     SET_TRUE(eo.hold_new)},
    {"write", 'w', "FILE", "record everything captured to FILE (pcapng; .gz compresses)",
     SET_STRING(write_path)},
    {"force", 0, NULL, "let -w overwrite an existing file", SET_TRUE(force)},
    {"keylog", 0, "FILE",
     "append the TLS secrets to FILE (SSLKEYLOGFILE lines, for\n"
     "Wireshark; created 0600): OpenSSL, BoringSSL, GnuTLS, Go",
     SET_STRING(eo.keylog_path)},
    {"packets", 0, NULL,
     "capture real packets (TC) with their processes; with -w:\n"
     "pcapng with the TLS secrets inside (opens decrypted)",
     SET_TRUE(eo.packets)},
    {"interface", 'i', "IF[,IF]", "with --packets: these interfaces (default: every one up)",
     SET_STRING(eo.ifaces)},
    {"tc-classic", 0, NULL, "with --packets: clsact filters instead of tcx links",
     SET_TRUE(eo.tc_classic)},
    {"read", 'r', "FILE", "replay a saved capture (pcapng or pcap, .gz too); no root",
     SET_STRING(read_path)},
    {"filter", 'f', "EXPR",
     "with -r or --packets: a pcap filter expression limiting\n"
     "what is read or captured",
     SET_STRING(pcap_filter)},
    {"speed", 0, "X",
     "with -r: replay at X times the original pace (batch default:\n"
     "as fast as possible)",
     CALL(opt_speed)},
    {"btf", 0, "FILE", "kernel BTF for kernels without /sys/kernel/btf/vmlinux",
     SET_STRING(eo.btf_path)},
    {"log", 0, "FILE", "also append log messages to FILE (created 0600)", SET_STRING(log_path)},
    {"theme", 0, "NAME", "TUI colour theme (dark, light, mono; default: the saved one)",
     SET_STRING(theme)},
    {"max-events", 0, "N", "TUI: events kept in memory, oldest evicted (default 1000000)",
     CALL(opt_max_events)},
    {"max-memory", 0, "SIZE",
     "TUI: bytes the stored events may hold (K, M, G; default 96M),\n"
     "oldest evicted and counted",
     CALL(opt_max_memory)},
    {"check", 0, NULL, "report what this kernel supports; exit 0 if capture can work",
     SET_TRUE(check)},
    {"help", 'h', NULL, "this text", CALL(opt_help)},
    {"version", 'V', NULL, "the version", CALL(opt_version)},
};
#define N_OPTIONS (sizeof(options) / sizeof(options[0]))

/* getopt_long's value for an option without a short letter: past every char. */
#define LONG_ONLY_BASE 0x100

void cli_usage(FILE *f)
{
	size_t i;

	fprintf(f, "Usage: ecaptop [OPTIONS]\n"
		   "Show, per process and connection, the plaintext of TLS traffic on this "
		   "machine.\n"
		   "\n"
		   "  (no options)            live capture of the whole machine in the interactive "
		   "view\n");
	for (i = 0; i < N_OPTIONS; i++) {
		const struct cli_option *o = &options[i];
		const char *h = o->help, *nl;
		char head[64];

		if (o->key)
			snprintf(head, sizeof(head), "  -%c, --%s%s%s", o->key, o->name,
				 o->arg ? " " : "", o->arg ? o->arg : "");
		else
			snprintf(head, sizeof(head), "      --%s%s%s", o->name, o->arg ? " " : "",
				 o->arg ? o->arg : "");
		fprintf(f, "%-24s  ", head);
		while ((nl = strchr(h, '\n'))) {
			fprintf(f, "%.*s\n%26s", (int)(nl - h), h, "");
			h = nl + 1;
		}
		fprintf(f, "%s\n", h);
	}
	fprintf(f, "\nNeeds root (or CAP_BPF and CAP_PERFMON) for live capture. See ecaptop(8).\n");
}

/* Apply one option's row to c. */
static enum cli_next cli_apply(struct cli *c, const struct cli_option *o, const char *arg)
{
	switch (o->kind) {
	case CLI_TRUE:
		*(bool *)((char *)c + o->off) = true;
		return CLI_GO;
	case CLI_STRING:
		*(const char **)((char *)c + o->off) = arg;
		return CLI_GO;
	case CLI_CALL:
		return o->call(c, arg);
	}
	return CLI_FAIL;
}

int cli_parse(struct cli *c, int argc, char **argv)
{
	struct option longs[N_OPTIONS + 1];
	char shorts[2 * N_OPTIONS + 1];
	size_t i, ns = 0;
	int v;

	memset(c, 0, sizeof(*c));
	c->speed = -1;
	for (i = 0; i < N_OPTIONS; i++) {
		const struct cli_option *o = &options[i];

		longs[i] = (struct option){o->name, o->arg ? required_argument : no_argument, NULL,
					   o->key ? o->key : LONG_ONLY_BASE + (int)i};
		if (o->key) {
			shorts[ns++] = o->key;
			if (o->arg)
				shorts[ns++] = ':';
		}
	}
	longs[N_OPTIONS] = (struct option){NULL, 0, NULL, 0};
	shorts[ns] = '\0';

	while ((v = getopt_long(argc, argv, shorts, longs, NULL)) != -1) {
		const struct cli_option *o = NULL;
		enum cli_next next;

		if (v >= LONG_ONLY_BASE && v < LONG_ONLY_BASE + (int)N_OPTIONS)
			o = &options[v - LONG_ONLY_BASE];
		for (i = 0; !o && v != '?' && i < N_OPTIONS; i++)
			if (options[i].key == v)
				o = &options[i];
		if (!o) {
			cli_usage(stderr);
			return 1;
		}
		next = cli_apply(c, o, optarg);
		if (next == CLI_DONE)
			return 0;
		if (next == CLI_FAIL)
			return 1;
	}
	if (optind < argc) {
		fprintf(stderr, "ecaptop: unexpected argument '%s'\n", argv[optind]);
		cli_usage(stderr);
		return 1;
	}
	if (c->bo.json && !c->batch && !c->check) {
		fprintf(stderr, "ecaptop: --json goes with --batch\n");
		return 1;
	}
	if ((c->eo.ifaces || c->eo.tc_classic) && !c->eo.packets) {
		fprintf(stderr, "ecaptop: -i and --tc-classic go with --packets\n");
		return 1;
	}
	if (c->eo.packets && c->read_path) {
		fprintf(stderr, "ecaptop: --packets goes with live capture, not -r\n");
		return 1;
	}
	if (c->eo.packets) {
		/* -f and -w are the packets' own: a pcap filter, and the pcapng of them. */
		c->eo.pkt_filter = c->pcap_filter;
		c->eo.pkt_path = c->write_path;
		c->eo.pkt_force = c->force;
		c->pcap_filter = c->write_path = NULL;
	}
	return -1;
}

int cli_check_source(const struct cli *c)
{
	if (c->eo.keylog_path && c->read_path) {
		fprintf(stderr, "ecaptop: --keylog goes with live capture, not -r\n");
		return 1;
	}
	if ((c->pcap_filter || c->speed > 0) && !c->read_path) {
		fprintf(stderr, "ecaptop: --filter and --speed go with -r FILE or --packets\n");
		return 1;
	}
	return 0;
}
