// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The filter language: see filter.h. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "tui/session/filter.h"

#include <ctype.h>
#include <errno.h>
#include <pcre2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define FILTER_MAX_ALTS	 64
#define FILTER_MAX_TERMS 64

enum term_kind { T_PID, T_UID, T_COMM, T_PROTO, T_PORT, T_HOST, T_STATUS, T_REGEX, T_CGROUP };

struct alt {
	char *s;    /* comm, host, cgroup (with a leading '/', none trailing) */
	uint32_t n; /* pid, uid, port, proto bits, status (or class 1..9 when cls) */
	bool cls;   /* status class: "5xx" */
};

struct term {
	enum term_kind kind;
	bool neg;
	unsigned group; /* terms of one group are ANDed; groups are ORed */
	struct alt alts[FILTER_MAX_ALTS];
	size_t n_alts;
	pcre2_code *re;
	pcre2_match_data *md;
};

struct filter {
	char *text;
	struct term *terms;
	size_t n_terms;
	unsigned fields;
	unsigned groups; /* "a or b": two groups */
};

static const struct {
	const char *name;
	enum term_kind kind;
	unsigned field;
} keys[] = {
    {"pid", T_PID, FILTER_F_PID},	   {"uid", T_UID, FILTER_F_UID},
    {"comm", T_COMM, FILTER_F_COMM},	   {"proto", T_PROTO, FILTER_F_PROTO},
    {"port", T_PORT, FILTER_F_PORT},	   {"host", T_HOST, FILTER_F_HOST},
    {"status", T_STATUS, FILTER_F_STATUS}, {"cgroup", T_CGROUP, FILTER_F_CGROUP},
};

static const struct {
	const char *name;
	uint32_t bits;
} protos[] = {
    /* "http" means HTTP of any version: what a user typing it expects. */
    {"http", FILTER_P_HTTP | FILTER_P_HTTP2},
    {"http2", FILTER_P_HTTP2},
    {"mysql", FILTER_P_MYSQL},
    {"pgsql", FILTER_P_PGSQL},
    {"bash", FILTER_P_BASH},
    {"zsh", FILTER_P_ZSH},
    {"tls", FILTER_P_TLS},
    {"socket", FILTER_P_SOCKET},
};

uint32_t filter_proto_bit(const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < sizeof(protos) / sizeof(protos[0]); i++)
		if (strlen(protos[i].name) == len && !strncasecmp(protos[i].name, name, len))
			return protos[i].bits;
	return 0;
}

static void term_clear(struct term *t)
{
	size_t i;

	for (i = 0; i < t->n_alts; i++)
		free(t->alts[i].s);
	pcre2_match_data_free(t->md);
	pcre2_code_free(t->re);
}

void filter_free(struct filter *f)
{
	size_t i;

	if (!f)
		return;
	for (i = 0; i < f->n_terms; i++)
		term_clear(&f->terms[i]);
	free(f->terms);
	free(f->text);
	free(f);
}

/* Error reporting: message, and the span of text to mark. */
struct perr {
	char *buf;
	size_t len;
	size_t pos, span;
};

static int fail(struct perr *e, size_t pos, size_t span, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail(struct perr *e, size_t pos, size_t span, const char *fmt, ...)
{
	va_list ap;

	if (e->buf && e->len) {
		va_start(ap, fmt);
		vsnprintf(e->buf, e->len, fmt, ap);
		va_end(ap);
	}
	e->pos = pos;
	e->span = span ? span : 1;
	return -EINVAL;
}

/* Parse a decimal number of at most max; -1 if not one. */
static long long parse_num(const char *s, size_t len, unsigned long long max)
{
	unsigned long long v = 0;
	size_t i;

	if (!len || len > 20)
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned)(s[i] - '0');
		if (v > max)
			return -1;
	}
	return (long long)v;
}

/* One alternative of key:value, at text offset pos. */
static int parse_alt(struct term *t, const char *s, size_t len, size_t pos, const char *key,
		     struct perr *e)
{
	struct alt *a = &t->alts[t->n_alts];
	long long v;

	if (!len)
		return fail(e, pos, 1, "%s: empty value (write %s:VALUE, or a|b for either)", key,
			    key);
	if (t->n_alts == FILTER_MAX_ALTS)
		return fail(e, pos, len, "%s: more than %d alternatives", key, FILTER_MAX_ALTS);
	memset(a, 0, sizeof(*a));
	switch (t->kind) {
	case T_PID:
	case T_UID:
		v = parse_num(s, len, UINT32_MAX);
		if (v < 0)
			return fail(e, pos, len, "%s: '%.*s' is not a number (0 to 4294967295)",
				    key, (int)len, s);
		a->n = (uint32_t)v;
		break;
	case T_PORT:
		v = parse_num(s, len, 65535);
		if (v < 0)
			return fail(e, pos, len, "port: '%.*s' is not a port number (0 to 65535)",
				    (int)len, s);
		a->n = (uint32_t)v;
		break;
	case T_STATUS:
		if (len == 3 && s[0] >= '1' && s[0] <= '5' && tolower((unsigned char)s[1]) == 'x' &&
		    tolower((unsigned char)s[2]) == 'x') {
			a->cls = true;
			a->n = (uint32_t)(s[0] - '0');
			break;
		}
		v = parse_num(s, len, 599);
		if (v < 100 || (len == 3 && s[0] > '5' && tolower((unsigned char)s[1]) == 'x'))
			return fail(e, pos, len,
				    "status: '%.*s' is not an HTTP status (100 to 599, or a class "
				    "1xx to 5xx)",
				    (int)len, s);
		a->n = (uint32_t)v;
		break;
	case T_PROTO:
		a->n = filter_proto_bit(s, len);
		if (!a->n)
			return fail(
			    e, pos, len,
			    "proto: unknown protocol '%.*s' (http, http2, mysql, pgsql, bash, "
			    "zsh, tls, socket)",
			    (int)len, s);
		break;
	case T_COMM:
		if (len > 15)
			return fail(
			    e, pos, len,
			    "comm: '%.*s' is longer than the 15 characters the kernel keeps "
			    "of a name",
			    (int)len, s);
		/* fall through */
	case T_HOST:
		a->s = strndup(s, len);
		if (!a->s)
			return -ENOMEM;
		break;
	case T_CGROUP:
		/* As /proc/PID/cgroup writes it: "/a/b"; "a/b/" means the same. */
		while (len > 1 && s[len - 1] == '/')
			len--;
		a->s = malloc(len + 2);
		if (!a->s)
			return -ENOMEM;
		snprintf(a->s, len + 2, "%s%.*s", s[0] == '/' ? "" : "/", (int)len, s);
		break;
	case T_REGEX:
		return -EINVAL;
	}
	t->n_alts++;
	return 0;
}

static int parse_regex(struct term *t, const char *text, size_t start, size_t end, size_t body,
		       size_t body_end, bool icase, struct perr *e)
{
	uint32_t opts = PCRE2_UTF | PCRE2_MATCH_INVALID_UTF;
	PCRE2_UCHAR msg[160];
	PCRE2_SIZE eoff;
	char *pat;
	size_t i, n = 0;
	int ec;

	/* \/ inside the regex stands for a slash (the delimiter); every other escape is
	 * PCRE2's. */
	pat = malloc(body_end - body + 1);
	if (!pat)
		return -ENOMEM;
	for (i = body; i < body_end; i++) {
		if (text[i] == '\\' && i + 1 < body_end && text[i + 1] == '/')
			i++;
		pat[n++] = text[i];
	}
	pat[n] = '\0';
	if (!n) {
		free(pat);
		return fail(e, start, end - start, "empty regex: write /TEXT/");
	}
	if (icase)
		opts |= PCRE2_CASELESS;
	t->re = pcre2_compile((PCRE2_SPTR)pat, n, opts, &ec, &eoff, NULL);
	free(pat);
	if (!t->re) {
		pcre2_get_error_message(ec, msg, sizeof(msg));
		/* eoff counts pattern bytes; map it back to the text (escaped slashes
		 * add one byte each before it). */
		for (i = body, n = 0; i < body_end && n < eoff; i++, n++)
			if (text[i] == '\\' && i + 1 < body_end && text[i + 1] == '/')
				i++;
		return fail(e, i < body_end ? i : body_end - 1, 1, "regex: %s (at offset %zu)",
			    (const char *)msg, (size_t)eoff);
	}
	/* JIT where the platform has it; pcre2_match falls back to the interpreter
	 * when it is not available, so a failure here is not an error. */
	pcre2_jit_compile(t->re, PCRE2_JIT_COMPLETE);
	t->md = pcre2_match_data_create_from_pattern(t->re, NULL);
	if (!t->md)
		return -ENOMEM;
	return 0;
}

/* Parse the term at text[start..]: returns its end offset via *endp. */
static int parse_term(struct filter *f, const char *text, size_t start, size_t *endp,
		      struct perr *e)
{
	struct term *t = &f->terms[f->n_terms];
	size_t p = start, end, k, vstart, i, astart;
	const char *key;
	bool neg = false;
	int err;

	memset(t, 0, sizeof(*t));
	t->group = f->groups;
	if (text[p] == '!') {
		neg = true;
		p++;
		if (!text[p] || text[p] == ' ' || text[p] == '\t')
			return fail(e, start, 1, "'!' must be followed by a term, as in !port:22");
		if (text[p] == '!')
			return fail(e, start, 2, "'!!' : negate a term once");
	}
	t->neg = neg;
	if (text[p] == '/') {
		size_t body = p + 1, q = body;
		bool icase = false;

		while (text[q] && text[q] != '/') {
			if (text[q] == '\\' && text[q + 1])
				q++;
			q++;
		}
		if (!text[q])
			return fail(e, start, q - start, "unterminated regex: close it with /");
		end = q + 1;
		while (text[end] && text[end] != ' ' && text[end] != '\t') {
			if (text[end] != 'i')
				return fail(e, end, 1,
					    "regex: unknown flag '%c' (only i, to ignore case)",
					    text[end]);
			icase = true;
			end++;
		}
		t->kind = T_REGEX;
		f->fields |= FILTER_F_REGEX;
		*endp = end;
		err = parse_regex(t, text, start, end, body, q, icase, e);
		if (err)
			term_clear(t);
		else
			f->n_terms++;
		return err;
	}
	end = p;
	while (text[end] && text[end] != ' ' && text[end] != '\t')
		end++;
	*endp = end;
	for (k = p; k < end && text[k] != ':'; k++)
		;
	if (k == end)
		return fail(e, start, end - start,
			    "'%.*s' is not a term: use pid:, uid:, comm:, proto:, port:, host:, "
			    "status:, cgroup: or /REGEX/",
			    (int)(end - p), text + p);
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strlen(keys[i].name) == k - p && !strncasecmp(keys[i].name, text + p, k - p))
			break;
	if (i == sizeof(keys) / sizeof(keys[0]))
		return fail(
		    e, p, k - p,
		    "unknown key '%.*s:' (pid, uid, comm, proto, port, host, status, cgroup)",
		    (int)(k - p), text + p);
	t->kind = keys[i].kind;
	f->fields |= keys[i].field;
	key = keys[i].name;
	vstart = k + 1;
	/* a|b or a,b: either (as -p 1,2 on the command line) */
	for (astart = vstart;; astart = i + 1) {
		for (i = astart; i < end && text[i] != '|' && text[i] != ','; i++)
			;
		err = parse_alt(t, text + astart, i - astart, astart, key, e);
		if (err) {
			term_clear(t);
			return err;
		}
		if (i >= end)
			break;
	}
	f->n_terms++;
	return 0;
}

struct filter *filter_compile(const char *text, char *err, size_t errlen, size_t *pos, size_t *len)
{
	struct perr e = {err, errlen, 0, 0};
	struct filter *f;
	size_t p = 0, end = 0;
	int rc = 0;

	if (err && errlen)
		err[0] = '\0';
	f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	f->text = strdup(text ? text : "");
	f->terms = calloc(FILTER_MAX_TERMS, sizeof(*f->terms));
	if (!f->text || !f->terms) {
		filter_free(f);
		errno = ENOMEM;
		return NULL;
	}
	text = f->text;
	for (;;) {
		while (text[p] == ' ' || text[p] == '\t')
			p++;
		if (!text[p])
			break;
		/* "or" between terms: either side's terms must all hold */
		if (!strncasecmp(text + p, "or", 2) &&
		    (!text[p + 2] || text[p + 2] == ' ' || text[p + 2] == '\t')) {
			if (!f->n_terms || f->terms[f->n_terms - 1].group != f->groups) {
				rc = fail(&e, p, 2, "or: a term must come before it");
				break;
			}
			f->groups++;
			p += 2;
			continue;
		}
		if (f->n_terms == FILTER_MAX_TERMS) {
			rc = fail(&e, p, strlen(text + p), "more than %d terms", FILTER_MAX_TERMS);
			break;
		}
		rc = parse_term(f, text, p, &end, &e);
		if (rc)
			break;
		p = end;
	}
	if (!rc && f->groups && (!f->n_terms || f->terms[f->n_terms - 1].group != f->groups))
		rc = fail(&e, strlen(text) ? strlen(text) - 1 : 0, 1,
			  "or: a term must come after it");
	if (rc) {
		filter_free(f);
		if (pos)
			*pos = e.pos;
		if (len)
			*len = e.span;
		errno = -rc;
		return NULL;
	}
	return f;
}

static bool num_in(const struct term *t, uint32_t v)
{
	size_t i;

	for (i = 0; i < t->n_alts; i++)
		if (t->alts[i].n == v)
			return true;
	return false;
}

/* Case-insensitive substring search. */
static bool contains_icase(const char *hay, const char *needle)
{
	size_t n = strlen(needle);

	for (; *hay; hay++)
		if (!strncasecmp(hay, needle, n))
			return true;
	return !n;
}

/* Is path the cgroup want or one below it (whole components)? */
static bool cgroup_within(const char *path, const char *want)
{
	size_t n = strlen(want);

	if (n == 1)
		return path[0] == '/'; /* "/": the root holds every cgroup */
	return !strncmp(path, want, n) && (path[n] == '\0' || path[n] == '/');
}

static bool term_match(const struct term *t, const struct filter_subject *s)
{
	size_t i, j;

	switch (t->kind) {
	case T_PID:
		return s->has_pid && num_in(t, s->pid);
	case T_UID:
		return s->has_uid && num_in(t, s->uid);
	case T_COMM:
		if (!s->comm)
			return false;
		for (i = 0; i < t->n_alts; i++)
			/* The kernel keeps 15 bytes of the name: a longer NAME matches
			 * its first 15. */
			if (!strncmp(s->comm, t->alts[i].s, 15) &&
			    (strlen(t->alts[i].s) >= 15 || !strcmp(s->comm, t->alts[i].s)))
				return true;
		return false;
	case T_PROTO:
		for (i = 0; i < t->n_alts; i++)
			if (s->protos & t->alts[i].n)
				return true;
		return false;
	case T_PORT:
		for (j = 0; j < s->n_ports && j < 2; j++)
			if (num_in(t, s->ports[j]))
				return true;
		return false;
	case T_HOST:
		for (j = 0; j < s->n_hosts && j < FILTER_MAX_HOSTS; j++)
			for (i = 0; i < t->n_alts; i++)
				if (s->hosts[j] && contains_icase(s->hosts[j], t->alts[i].s))
					return true;
		return false;
	case T_STATUS:
		if (!s->status)
			return false;
		for (i = 0; i < t->n_alts; i++)
			if (t->alts[i].cls ? (uint32_t)s->status / 100 == t->alts[i].n
					   : (uint32_t)s->status == t->alts[i].n)
				return true;
		return false;
	case T_CGROUP:
		if (!s->cgroup)
			return false;
		for (i = 0; i < t->n_alts; i++)
			if (cgroup_within(s->cgroup, t->alts[i].s))
				return true;
		return false;
	case T_REGEX:
		for (j = 0; j < s->n_text && j < FILTER_MAX_TEXT; j++)
			if (s->text[j].p && pcre2_match(t->re, (PCRE2_SPTR)s->text[j].p,
							s->text[j].len, 0, 0, t->md, NULL) >= 0)
				return true;
		return false;
	}
	return false;
}

bool filter_match(struct filter *f, const struct filter_subject *s)
{
	size_t i;

	if (!f)
		return true;
	/* terms are in group order: a group fails at its first failing term */
	for (i = 0; i < f->n_terms;) {
		unsigned g = f->terms[i].group;
		bool ok = true;

		for (; i < f->n_terms && f->terms[i].group == g; i++)
			if (ok && term_match(&f->terms[i], s) == f->terms[i].neg)
				ok = false;
		if (ok)
			return true;
	}
	return !f->n_terms;
}

unsigned filter_fields(const struct filter *f)
{
	return f ? f->fields : 0;
}

const char *filter_text(const struct filter *f)
{
	return f ? f->text : "";
}

static size_t kernel_ids(const struct filter *f, enum term_kind kind, uint32_t *ids, size_t max)
{
	uint32_t set[FILTER_MAX_ALTS];
	size_t n = 0, i, j, k, m;
	bool first = true;

	/* with "or", a group without such a term lets anything through */
	if (!f || f->groups)
		return 0;
	for (i = 0; i < f->n_terms; i++) {
		const struct term *t = &f->terms[i];

		if (t->kind != kind || t->neg)
			continue;
		if (first) {
			for (j = 0; j < t->n_alts; j++)
				set[n++] = t->alts[j].n;
			first = false;
			continue;
		}
		/* intersect */
		for (j = 0, m = 0; j < n; j++) {
			for (k = 0; k < t->n_alts; k++)
				if (t->alts[k].n == set[j])
					break;
			if (k < t->n_alts)
				set[m++] = set[j];
		}
		n = m;
	}
	if (n > max)
		return 0;
	memcpy(ids, set, n * sizeof(*ids));
	return n;
}

size_t filter_kernel_pids(const struct filter *f, uint32_t *ids, size_t max)
{
	return kernel_ids(f, T_PID, ids, max);
}

size_t filter_kernel_uids(const struct filter *f, uint32_t *ids, size_t max)
{
	return kernel_ids(f, T_UID, ids, max);
}
