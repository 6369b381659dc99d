// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * libFuzzer target for the pcapng reader: any bytes, as a file (gzip or not,
 * ecaptop's own pcapng, a foreign pcapng or pcap), must give events and then
 * an end or a clear error, never a crash, a leak or an out-of-bounds read.
 * Seeds: tests/fuzz/corpus/fuzz_pcapng/ (own files, recorded captures).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/file/pcapng.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[320];
	/* One input in eight also goes through a compiled pcap filter. */
	const char *filter = size && (data[size - 1] & 7) == 0 ? "tcp port 80 or ip6" : NULL;
	struct pcapng_reader *r = pcapng_reader_open_mem(data, size, filter, err, sizeof(err));
	struct pcapng_reader_stats st;
	struct ec_event *ev;
	int rc, n = 0;

	if (!r)
		return 0;
	while ((rc = pcapng_reader_next(r, &ev)) == 1) {
		/* Touch every byte the reader claims to have delivered. */
		volatile uint8_t sink = 0;

		for (uint32_t i = 0; i < ev->h.len; i++)
			sink ^= ev->data[i];
		(void)sink;
		free(ev);
		if (++n > 100000)
			break;
	}
	if (rc < 0 && !pcapng_reader_error(r)[0])
		abort(); /* every error names its cause */
	pcapng_reader_meta(r);
	pcapng_reader_stats(r, &st);
	pcapng_reader_close(r);
	return 0;
}
