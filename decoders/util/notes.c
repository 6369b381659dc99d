// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The per-connection note limiter (see notes.h). */
#include "notes.h"

#include <stdio.h>
#include <string.h>

void dec_notes_init(struct dec_notes *n, dec_emit_fn emit, void *arg, enum dec_proto proto,
		    const char *name, int prefixed, unsigned max)
{
	memset(n, 0, sizeof(*n));
	n->emit = emit;
	n->arg = arg;
	n->proto = proto;
	n->name = name;
	n->prefixed = prefixed;
	n->max = max < DEC_NOTES_MAX ? max : DEC_NOTES_MAX;
}

static void notes_emit(struct dec_notes *n, uint64_t ts_ns, const char *text)
{
	struct dec_record r;

	memset(&r, 0, sizeof(r));
	r.type = DEC_R_NOTE;
	r.proto = n->proto;
	r.req_ts_ns = ts_ns;
	r.note.text = text;
	n->emit(&r, n->arg);
}

/* FNV-1a: only to recognise a text seen before on the same connection. */
static uint32_t text_hash(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return h;
}

void dec_vnote(struct dec_notes *n, uint64_t ts_ns, const char *fmt, va_list ap)
{
	char text[448];
	uint32_t h;
	unsigned i;
	int k;

	if (n->count > n->max) {
		n->dropped++;
		return;
	}
	k = n->prefixed ? snprintf(text, sizeof(text), "%s: ", n->name) : 0;
	if (k < 0 || (size_t)k >= sizeof(text))
		k = 0;
	vsnprintf(text + k, sizeof(text) - (size_t)k, fmt, ap);
	h = text_hash(text);
	for (i = 0; i < n->count && i < n->max; i++) {
		if (n->seen[i] == h) {
			n->repeats++;
			return;
		}
	}
	if (n->count == n->max) {
		n->count++;
		n->dropped++;
		snprintf(text, sizeof(text),
			 "%s: more than %u problems on this connection; further notes suppressed",
			 n->name, n->max);
		notes_emit(n, ts_ns, text);
		return;
	}
	n->seen[n->count++] = h;
	notes_emit(n, ts_ns, text);
}

void dec_note(struct dec_notes *n, uint64_t ts_ns, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	dec_vnote(n, ts_ns, fmt, ap);
	va_end(ap);
}

void dec_notes_close(struct dec_notes *n, uint64_t ts_ns)
{
	char text[160];

	if (!n->repeats)
		return;
	snprintf(text, sizeof(text), "%s: %llu repeated note%s on this connection not shown again",
		 n->name, (unsigned long long)n->repeats, n->repeats == 1 ? "" : "s");
	n->repeats = 0;
	notes_emit(n, ts_ns, text);
}
