// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Fuzz the filter language (tui/session/filter.c): the input's first line is the
 * filter text, the rest the payload it is matched against. Checks that an error
 * always names a span inside the text and that compile/match/extract never
 * crash or read out of bounds.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tui/session/filter.h"

#define ENGINE_IDS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	size_t tlen = nl ? (size_t)(nl - data) : size;
	char *text = malloc(tlen + 1), err[256];
	struct filter_subject s;
	uint32_t ids[ENGINE_IDS];
	struct filter *f;
	size_t pos = 0, len = 0;

	if (!text)
		return 0;
	memcpy(text, data, tlen);
	text[tlen] = '\0';
	f = filter_compile(text, err, sizeof(err), &pos, &len);
	if (!f) {
		/* the marked span lies within the text (or just past its end, for "add
		 * something here") and the message is a string */
		if (pos > strlen(text) || pos + len > strlen(text) + 1 || !err[0] ||
		    !memchr(err, '\0', sizeof(err)))
			abort();
		free(text);
		return 0;
	}
	memset(&s, 0, sizeof(s));
	s.has_pid = s.has_uid = true;
	s.pid = 1234;
	s.uid = 1000;
	s.comm = "curl";
	s.protos = FILTER_P_HTTP | FILTER_P_TLS;
	s.ports[0] = 443;
	s.ports[1] = 51000;
	s.n_ports = 2;
	s.hosts[0] = "127.0.0.1";
	s.hosts[1] = "example.com";
	s.n_hosts = 2;
	s.status = 200;
	if (nl) {
		s.text[0].p = nl + 1;
		s.text[0].len = size - tlen - 1;
		s.n_text = 1;
	}
	(void)filter_match(f, &s);
	if (filter_kernel_pids(f, ids, ENGINE_IDS) > ENGINE_IDS ||
	    filter_kernel_uids(f, ids, ENGINE_IDS) > ENGINE_IDS)
		abort();
	(void)filter_fields(f);
	if (strcmp(filter_text(f), text))
		abort();
	filter_free(f);
	free(text);
	return 0;
}
