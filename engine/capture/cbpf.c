// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The -f pcap filter: libpcap compiles it, bpf/cbpf.bpf.h runs it (cbpf.h). */
#include "engine/capture/cbpf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* libpcap's struct bpf_insn (classic) and libbpf's (eBPF, linux/bpf.h) share a name. */
#define bpf_insn pcap_bpf_insn
#include <pcap/pcap.h>
#undef bpf_insn
#include <bpf/bpf.h>

_Static_assert(sizeof(struct cbpf_insn) == sizeof(struct pcap_bpf_insn), "cbpf_insn layout");

/* The largest packet TC hands a classifier (64 KiB GSO and more): libpcap's own default. */
#define CBPF_SNAPLEN 262144

int cbpf_compile(struct cbpf *f, const char *expr, char *err, size_t errlen)
{
	struct bpf_program prog;
	pcap_t *p;
	uint32_t i;

	memset(f, 0, sizeof(*f));
	p = pcap_open_dead(DLT_EN10MB, CBPF_SNAPLEN);
	if (!p) {
		snprintf(err, errlen, "-f '%s': libpcap: out of memory", expr);
		return -1;
	}
	if (pcap_compile(p, &prog, expr, 1, PCAP_NETMASK_UNKNOWN) < 0) {
		snprintf(err, errlen, "-f '%s': %s", expr, pcap_geterr(p));
		pcap_close(p);
		return -1;
	}
	pcap_close(p);
	if (prog.bf_len == 0 || prog.bf_len > CBPF_MAX_INSNS) {
		snprintf(err, errlen,
			 "-f '%s': %u classic BPF instructions, the kernel side holds %d", expr,
			 prog.bf_len, CBPF_MAX_INSNS);
		pcap_freecode(&prog);
		return -1;
	}
	f->insns = calloc(prog.bf_len, sizeof(*f->insns));
	if (!f->insns) {
		snprintf(err, errlen, "-f '%s': out of memory", expr);
		pcap_freecode(&prog);
		return -1;
	}
	for (i = 0; i < prog.bf_len; i++)
		f->insns[i] = (struct cbpf_insn){prog.bf_insns[i].code, prog.bf_insns[i].jt,
						 prog.bf_insns[i].jf, prog.bf_insns[i].k};
	f->len = prog.bf_len;
	f->owned = true;
	pcap_freecode(&prog);
	return 0;
}

int cbpf_load(const struct cbpf *f, int insns_fd, volatile uint32_t *len_slot, bool has_bpf_loop,
	      char *err, size_t errlen)
{
	uint32_t i;

	if (f->len == 0 || f->len > CBPF_MAX_INSNS) {
		snprintf(err, errlen, "pcap filter: %u instructions, the kernel side holds 1 to %d",
			 f->len, CBPF_MAX_INSNS);
		return -1;
	}
	*len_slot = 0; /* keep all while the instructions change */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (!has_bpf_loop)
		return CBPF_IN_USER;
	for (i = 0; i < f->len; i++) {
		if (bpf_map_update_elem(insns_fd, &i, &f->insns[i], BPF_ANY)) {
			snprintf(err, errlen, "pcap filter: writing instruction %u: %s", i,
				 strerror(errno));
			return -1;
		}
	}
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	*len_slot = f->len;
	return CBPF_IN_KERNEL;
}

void cbpf_unload(volatile uint32_t *len_slot)
{
	*len_slot = 0;
}

uint32_t cbpf_user_match(const struct cbpf *f, const uint8_t *pkt, uint32_t caplen,
			 uint32_t wire_len)
{
	return bpf_filter((const struct pcap_bpf_insn *)f->insns, pkt, wire_len, caplen);
}

void cbpf_free(struct cbpf *f)
{
	if (f->owned)
		free(f->insns);
	memset(f, 0, sizeof(*f));
}
