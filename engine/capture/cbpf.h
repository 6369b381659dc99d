/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The pcap filter expression of -f: compiled by libpcap for Ethernet (DLT_EN10MB,
 * what TC sees on lo and veths) into classic BPF, loaded into the cbpf_insns map of a
 * TC object that includes bpf/cbpf.bpf.h, and run there by cbpf_match(). Kernels
 * without bpf_loop (before 5.17) cannot run the interpreter: cbpf_load() then leaves
 * the kernel keeping every packet and says the caller must filter with
 * cbpf_user_match() in user space.
 */
#ifndef ECAPTOP_ENGINE_CAPTURE_CBPF_H
#define ECAPTOP_ENGINE_CAPTURE_CBPF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CBPF_MAX_INSNS 512 /* bpf/cbpf.bpf.h */

/* struct sock_filter, libpcap's struct bpf_insn and bpf/cbpf.bpf.h's struct cbpf_insn
 * (this header stays free of both libpcap's and libbpf's headers: the two disagree
 * on what struct bpf_insn is). */
struct cbpf_insn {
	uint16_t code;
	uint8_t jt;
	uint8_t jf;
	uint32_t k;
};

struct cbpf {
	uint32_t len;
	struct cbpf_insn *insns; /* malloc'd (cbpf_compile) or the caller's */
	bool owned;
};

/* Compile expr (optimized, netmask unknown). On error -1 and err says
 * "-f 'EXPR': LIBPCAP'S MESSAGE" (or that the program is too long for the kernel). */
int cbpf_compile(struct cbpf *f, const char *expr, char *err, size_t errlen);

enum cbpf_where {
	CBPF_IN_KERNEL = 1, /* cbpf_match() filters */
	CBPF_IN_USER = 2,   /* the kernel keeps all; call cbpf_user_match() on each packet */
};

/* Write the program into the insns map (fd of cbpf_insns) and then its length into
 * *len_slot (the object's cbpf_len, e.g. &skel->bss->cbpf_len), or leave *len_slot 0
 * when !has_bpf_loop. Returns the cbpf_where, or -1 with err set. */
int cbpf_load(const struct cbpf *f, int insns_fd, volatile uint32_t *len_slot, bool has_bpf_loop,
	      char *err, size_t errlen);

/* Stop filtering in the kernel: every packet is kept again. */
void cbpf_unload(volatile uint32_t *len_slot);

/* libpcap's verdict for one packet (caplen bytes of a wire_len-byte frame, from its
 * Ethernet header on): 0 = drop, otherwise the snap length. */
uint32_t cbpf_user_match(const struct cbpf *f, const uint8_t *pkt, uint32_t caplen,
			 uint32_t wire_len);

void cbpf_free(struct cbpf *f);

#endif
