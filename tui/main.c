// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * ecaptop: command line, then the front end (TUI, or the batch printer).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/engine.h"
#include "engine/log.h"
#include "engine/file/pcapng.h"
#include "engine/file/record.h"
#include "tui/session/store.h"
#include "tui/batch.h"
#include "tui/cli.h"
#include "tui/stop.h"
#include "tui/tui.h"

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
	meta.lost = st.lost;
	if (pcapng_writer_close(w, &meta, &ws, err, sizeof(err))) {
		fprintf(stderr, "ecaptop: writing %s failed: %s\n", path, err);
		return -1;
	}
	fprintf(stderr, "ecaptop: saved %llu events, %llu connections, %llu bytes to %s\n",
		(unsigned long long)ws.events, (unsigned long long)ws.connections,
		(unsigned long long)ws.file_bytes, path);
	/* Wireshark decodes these protocols on other ports only when told: the
	 * options, also in the file's section header comment. */
	if (ws.decode[0])
		fprintf(stderr, "ecaptop: decode %s with: tshark %s\n", path, ws.decode);
	return 0;
}

/* The engine the command line asks for (live or replay), started, and the -w file
 * (*writer) with the sink that records into it (*rec). NULL (said on stderr) on
 * failure. */
static struct engine *open_engine(const struct cli *c, struct pcapng_writer **writer,
				  struct recorder **rec)
{
	char err[512] = "";
	struct engine *e;

	if (c->read_path)
		/* Batch replays run as fast as they can; the TUI plays at the original pace. */
		e = engine_new_replay(c->read_path, c->pcap_filter,
				      c->speed > 0 ? c->speed
				      : c->batch   ? 0
						   : 1,
				      err, sizeof(err));
	else
		e = engine_new(&c->eo, err, sizeof(err));
	if (!e) {
		fprintf(stderr, "ecaptop: %s\n", err);
		return NULL;
	}
	if (c->read_path && !strcmp(c->read_path, "-") && !c->batch) {
		/* The capture came on standard input (now read): the keys come from
		 * the terminal. */
		int tty = open("/dev/tty", O_RDWR | O_CLOEXEC);

		if (tty < 0 || dup2(tty, STDIN_FILENO) < 0) {
			fprintf(stderr, "ecaptop: -r -: no terminal for the interactive view (use "
					"--batch)\n");
			engine_free(e);
			return NULL;
		}
		close(tty);
	}
	if (c->write_path) {
		struct pcapng_meta meta = {.filter = capture_filter_desc(&c->eo, err, sizeof(err))};

		*writer = pcapng_writer_open(c->write_path, &meta, c->force, err, sizeof(err));
		if (!*writer) {
			fprintf(stderr, "ecaptop: cannot write %s: %s\n", c->write_path, err);
			engine_free(e);
			return NULL;
		}
		*rec = recorder_new(*writer);
		if (!*rec) {
			fprintf(stderr, "ecaptop: out of memory\n");
			engine_free(e);
			return NULL;
		}
	}
	if (engine_start(e, err, sizeof(err))) {
		fprintf(stderr, "ecaptop: %s\n", err);
		engine_free(e);
		return NULL;
	}
	return e;
}

/* The "ready" line the tests and scripts wait for. Built whole and logged as one
 * line, so that a message of the engine's threads (logged under the same lock)
 * never lands inside it. */
static void log_ready(struct engine *e, const struct cli *c)
{
	struct engine_stats st;
	char ready[1024];
	size_t i, n;

	engine_stats(e, &st);
	n = c->read_path
		? snprintf(ready, sizeof(ready), "ready: replaying %s",
			   strcmp(c->read_path, "-") ? c->read_path : "standard input")
		: snprintf(ready, sizeof(ready), "ready: %s, %llu TLS target file%s attached",
			   st.ringbuf ? "ring buffer" : "perf buffer",
			   (unsigned long long)st.libs_attached, st.libs_attached == 1 ? "" : "s");
	if (c->eo.packets && n < sizeof(ready))
		n += (size_t)snprintf(ready + n, sizeof(ready) - n, ", packet capture on");
	for (i = 0; i < c->eo.n_pids && n < sizeof(ready); i++)
		n += (size_t)snprintf(ready + n, sizeof(ready) - n, "%s%u",
				      i ? "," : ", pid filter ", c->eo.pids[i]);
	for (i = 0; i < c->eo.n_uids && n < sizeof(ready); i++)
		n += (size_t)snprintf(ready + n, sizeof(ready) - n, "%s%u",
				      i ? "," : ", uid filter ", c->eo.uids[i]);
	log_msg(LOG_INFO, "%s", ready);
}

/* The interactive view over a session store of its own. Its exit status. */
static int run_tui(struct engine *e, const struct cli *c, struct recorder *rec)
{
	struct store_opts so = {
	    .max_events = c->max_events, .max_bytes = c->max_memory, .keep = true};
	char initial[ENGINE_MAX_FILTER * 2 * 12 + 16];
	struct tui_opts to = {.theme = c->theme,
			      .store_cap = c->max_events,
			      .store_mem = c->max_memory,
			      .source = c->read_path ? c->read_path : "live",
			      .log_path = c->log_path,
			      .filter = initial_filter(&c->eo, initial, sizeof(initial)),
			      .rec = rec};
	struct store *st = store_new(&so);
	int status;

	if (!st) {
		fprintf(stderr, "ecaptop: cannot create the session store: %s\n", strerror(errno));
		return 1;
	}
	status = tui_run(e, st, &to);
	store_free(st);
	return status;
}

int main(int argc, char **argv)
{
	struct pcapng_writer *writer = NULL;
	struct recorder *rec = NULL;
	char err[512] = "";
	struct engine *e;
	struct cli c;
	int status;

	status = cli_parse(&c, argc, argv);
	if (status >= 0)
		return status;
	if (c.log_path && log_set_file(c.log_path, err, sizeof(err))) {
		fprintf(stderr, "ecaptop: --log: %s\n", err);
		return 1;
	}
	if (c.check)
		return engine_check(&c.eo, stdout);
	if (cli_check_source(&c))
		return 1;

	/* Until curses starts (or for good, in batch mode) messages go to stderr. */
	log_set_stderr(1, LOG_INFO);
	stop_catch_signals();
	e = open_engine(&c, &writer, &rec);
	if (!e)
		return 1;
	log_ready(e, &c);
	if (c.batch) {
		c.bo.filter = &c.eo;
		c.bo.rec = rec;
		status = batch_run(e, &c.bo);
	} else {
		status = run_tui(e, &c, rec);
	}
	engine_stop(e);
	recorder_free(rec);
	if (writer && finish_recording(e, writer, c.write_path, &c.eo))
		status = 1;
	engine_free(e);
	if (log_close())
		status = 1; /* said when it happened */
	return status;
}
