// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * dectest: feed a recorded connection (a .stream file) through the dispatcher
 * (decoders/stream.h) and print one line per record, "{" + dec_record_json() +
 * "}", then "proto=<name> role=client|server|unknown".
 *
 * usage: dectest [--as-server] [--proto NAME] [--ports LOCAL,REMOTE] [--chunk N] FILE
 *   --as-server  the local process is the server: "c>" lines are bytes it
 *                received (default: it is the client, "c>" lines are sent)
 *   --proto      skip recognition: http, http2, mysql, pgsql, tls, unknown
 *   --ports      give the dispatcher the local and remote port as a hint
 *   --chunk N    split every segment into feeds of at most N bytes (N >= 1),
 *                to show a decoder copes with a message cut anywhere
 *
 * Stream file lines (tests/decoders/streams/README in dectest.md terms):
 *   # comment             blank lines are ignored too
 *   at USEC               capture time of the following segments, microseconds
 *   c> TEXT               client->server bytes, C escapes (\r \n \t \\ \xHH \0),
 *   s> TEXT               server->client; one space after '>' is the separator;
 *                         no implicit newline; every line is a separate feed
 *   cx> HEX / sx> HEX     the same as hex digits (whitespace ignored)
 *   repeat c|s N TEXT     TEXT (escapes allowed) N times as a single feed, for
 *                         large inputs without large files
 *   gap c|s N             N bytes in that direction were lost
 *   close                 the connection ended
 * Exit status: 0, or 2 for a bad command line or stream file.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decoders/decoder.h"
#include "decoders/util/strbuf.h"
#include "decoders/record_json.h"
#include "decoders/stream.h"

struct opts {
	int as_server;
	int have_proto;
	enum dec_proto proto;
	int have_ports;
	uint16_t lport, rport;
	size_t chunk;
};

static void print_record(const struct dec_record *r, void *arg)
{
	struct strbuf *sb = arg;

	sb_reset(sb);
	sb_puts(sb, "{");
	dec_record_json(sb, r);
	sb_puts(sb, "}");
	if (sb->failed) {
		fprintf(stderr, "dectest: out of memory formatting a record\n");
		exit(2);
	}
	fwrite(sb->buf, 1, sb->len, stdout);
	fputc('\n', stdout);
}

static int parse_proto(const char *name, enum dec_proto *p)
{
	int i;

	for (i = 0; i < DEC_P_MAX; i++) {
		if (!strcmp(name, dec_proto_name((enum dec_proto)i))) {
			*p = (enum dec_proto)i;
			return 0;
		}
	}
	return -1;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decode C escapes of s in place; returns the length or -1. */
static long unescape(char *s)
{
	char *o = s, *p = s;

	while (*p) {
		if (*p != '\\') {
			*o++ = *p++;
			continue;
		}
		p++;
		switch (*p) {
		case 'r':
			*o++ = '\r';
			break;
		case 'n':
			*o++ = '\n';
			break;
		case 't':
			*o++ = '\t';
			break;
		case '0':
			*o++ = '\0';
			break;
		case '\\':
			*o++ = '\\';
			break;
		case 'x': {
			int h = hexval((unsigned char)p[1]),
			    l = h < 0 ? -1 : hexval((unsigned char)p[2]);

			if (h < 0 || l < 0)
				return -1;
			*o++ = (char)(h * 16 + l);
			p += 2;
			break;
		}
		default:
			return -1;
		}
		p++;
	}
	return o - s;
}

/* Decode hex digits of s in place, whitespace ignored; returns the length or -1. */
static long unhex(char *s)
{
	char *o = s, *p = s;
	int hi = -1;

	for (; *p; p++) {
		int v;

		if (*p == ' ' || *p == '\t')
			continue;
		v = hexval((unsigned char)*p);
		if (v < 0)
			return -1;
		if (hi < 0) {
			hi = v;
		} else {
			*o++ = (char)(hi * 16 + v);
			hi = -1;
		}
	}
	return hi < 0 ? o - s : -1;
}

static void feed(struct dec_stream *st, const struct opts *o, int client, const uint8_t *b,
		 size_t n, uint64_t ts)
{
	/* "c>" is the client's bytes: sent by the local process if it is the client. */
	int local_send = client ? !o->as_server : o->as_server;
	size_t step = o->chunk ? o->chunk : n;

	while (n > 0) {
		size_t k = n < step ? n : step;

		dec_stream_feed(st, local_send, b, k, ts);
		b += k;
		n -= k;
	}
}

static int side_of(const char *w, int *client)
{
	if (!strcmp(w, "c"))
		*client = 1;
	else if (!strcmp(w, "s"))
		*client = 0;
	else
		return -1;
	return 0;
}

static int run(FILE *f, const char *path, struct dec_stream *st, const struct opts *o)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t got;
	unsigned lineno = 0;
	uint64_t ts = 0;
	int rc = 0;

	while ((got = getline(&line, &cap, f)) >= 0) {
		char *p = line;
		long n;
		int client;

		lineno++;
		while (got > 0 && (line[got - 1] == '\n' || line[got - 1] == '\r'))
			line[--got] = '\0';
		if (!*p || *p == '#')
			continue;
		if (!strncmp(p, "c>", 2) || !strncmp(p, "s>", 2) || !strncmp(p, "cx>", 3) ||
		    !strncmp(p, "sx>", 3)) {
			int hex = p[1] == 'x';

			client = p[0] == 'c';
			p += hex ? 3 : 2;
			if (*p == ' ')
				p++;
			n = hex ? unhex(p) : unescape(p);
			if (n < 0)
				goto bad;
			feed(st, o, client, (const uint8_t *)p, (size_t)n, ts);
		} else if (!strncmp(p, "at ", 3)) {
			char *e;
			unsigned long long us;

			errno = 0;
			us = strtoull(p + 3, &e, 10);
			if (errno || *e || e == p + 3)
				goto bad;
			ts = (uint64_t)us * 1000;
		} else if (!strncmp(p, "gap ", 4)) {
			char side[8];
			unsigned long long len;

			if (sscanf(p + 4, "%7s %llu", side, &len) != 2 || side_of(side, &client))
				goto bad;
			dec_stream_gap(st, client ? !o->as_server : o->as_server, len);
		} else if (!strncmp(p, "repeat ", 7)) {
			char side[8], *text, *buf;
			unsigned long times, i;
			int used = 0;

			if (sscanf(p + 7, "%7s %lu %n", side, &times, &used) != 2 || !used ||
			    side_of(side, &client) || times > 64ul * 1024 * 1024)
				goto bad;
			text = p + 7 + used;
			n = unescape(text);
			if (n <= 0 || (unsigned long)n * times > 64ul * 1024 * 1024)
				goto bad;
			buf = malloc((size_t)n * times);
			if (!buf) {
				rc = 2;
				break;
			}
			for (i = 0; i < times; i++)
				memcpy(buf + i * (size_t)n, text, (size_t)n);
			feed(st, o, client, (const uint8_t *)buf, (size_t)n * times, ts);
			free(buf);
		} else if (!strcmp(p, "close")) {
			dec_stream_close(st, ts);
		} else {
			goto bad;
		}
		continue;
	bad:
		fprintf(stderr, "dectest: %s:%u: cannot parse this line\n", path, lineno);
		rc = 2;
		break;
	}
	free(line);
	return rc;
}

static void usage(void)
{
	fprintf(stderr, "usage: dectest [--as-server] [--proto NAME] [--ports LOCAL,REMOTE] "
			"[--chunk N] FILE\n");
	exit(2);
}

int main(int argc, char **argv)
{
	struct strbuf sb = STRBUF_INIT;
	struct opts o = {0};
	struct dec_stream *st;
	const char *path = NULL;
	const char *role;
	FILE *f;
	int i, rc, lic;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--as-server")) {
			o.as_server = 1;
		} else if (!strcmp(argv[i], "--proto") && i + 1 < argc) {
			if (parse_proto(argv[++i], &o.proto))
				usage();
			o.have_proto = 1;
		} else if (!strcmp(argv[i], "--ports") && i + 1 < argc) {
			unsigned l, r;

			if (sscanf(argv[++i], "%u,%u", &l, &r) != 2 || l > 65535 || r > 65535)
				usage();
			o.have_ports = 1;
			o.lport = (uint16_t)l;
			o.rport = (uint16_t)r;
		} else if (!strcmp(argv[i], "--chunk") && i + 1 < argc) {
			o.chunk = strtoul(argv[++i], NULL, 10);
			if (!o.chunk)
				usage();
		} else if (argv[i][0] == '-' || path) {
			usage();
		} else {
			path = argv[i];
		}
	}
	if (!path)
		usage();
	f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "dectest: %s: %s\n", path, strerror(errno));
		return 2;
	}
	st = dec_stream_new(print_record, &sb);
	if (!st) {
		fprintf(stderr, "dectest: %s\n", strerror(errno));
		fclose(f);
		return 2;
	}
	if (o.have_ports)
		dec_stream_set_port_hint(st, o.lport, o.rport);
	if (o.have_proto) {
		rc = dec_stream_force(st, o.proto, !o.as_server);
		if (rc) {
			fprintf(stderr, "dectest: cannot decode as %s: %s\n",
				dec_proto_name(o.proto), strerror(-rc));
			dec_stream_free(st);
			fclose(f);
			return 2;
		}
	}
	rc = run(f, path, st, &o);
	fclose(f);
	lic = dec_stream_local_is_client(st);
	role = lic == 1 ? "client" : lic == 0 ? "server" : "unknown";
	printf("proto=%s role=%s\n", dec_proto_name(dec_stream_proto(st)), role);
	dec_stream_free(st);
	sb_free(&sb);
	return rc;
}
