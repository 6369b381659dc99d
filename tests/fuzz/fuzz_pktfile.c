// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * libFuzzer target for what packet mode (--packets) reads of a captured packet in
 * user space: the TLS ClientHello random (pcapng_pkt_client_random, which decides
 * which secrets go into the file) and the -f filter run over the packet. The first
 * input byte picks the link type; the rest is the packet, as the kernel copied it.
 * Seeds: tests/fuzz/corpus/fuzz_pktfile/ (a loopback TLS 1.3 ClientHello).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/file/pcapng_pkt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pcapng_pkt_filter *f[2];
	uint16_t lt;
	uint8_t random[32];
	uint8_t *pkt;
	char err[256];
	uint32_t n;
	int k;

	if (!size || size > 70000)
		return 0;
	k = data[0] & 1;
	lt = k ? PCAPNG_LINKTYPE_RAW : PCAPNG_LINKTYPE_ETHERNET;
	n = (uint32_t)size - 1;
	/* An exact-size copy: ASan sees a read one byte past the packet. */
	pkt = malloc(n ? n : 1);
	if (!pkt)
		return 0;
	memcpy(pkt, data + 1, n);
	if (pcapng_pkt_client_random(pkt, n, lt, random)) {
		volatile uint8_t sink = 0;

		for (int i = 0; i < 32; i++)
			sink ^= random[i];
		(void)sink;
	}
	if (!f[k])
		f[k] = pcapng_pkt_filter_new("tcp port 443 or (ip6 and udp)", lt, 65535, err,
					     sizeof(err));
	if (f[k])
		pcapng_pkt_filter_match(f[k], pkt, n, n);
	free(pkt);
	return 0;
}
