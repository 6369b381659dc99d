/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A classic-BPF (struct sock_filter) interpreter in eBPF, for TC (sched_cls) programs:
 * the pcap filter expression of -f, compiled by libpcap in user space
 * (engine/capture/cbpf.c), runs in the kernel on every packet.
 *
 *   cbpf_insns   BPF_MAP_TYPE_ARRAY, CBPF_MAX_INSNS struct cbpf_insn (user space fills it)
 *   cbpf_len     global: the program's length; 0 = no filter, keep every packet
 *   cbpf_match() the verdict for one skb: 0 = drop, otherwise keep (the snap length
 *                the filter returned, as a cBPF socket filter does)
 *
 * Semantics follow libpcap's bpf_filter() (what pcap_offline_filter runs): a load
 * outside the packet drops it, so does a division by X == 0, and a shift by 32 or more
 * gives 0. The step loop is one bpf_loop body (5.17+), so the verifier sees the
 * interpreter once whatever the filter; cBPF has no backward jumps, so CBPF_MAX_INSNS
 * steps always finish it. A build without callbacks (EC_NO_CALLBACKS, the *_nocb
 * objects) keeps every packet: user space then filters (cbpf_user_match) and says so.
 */
#ifndef ECAPTOP_BPF_CBPF_BPF_H
#define ECAPTOP_BPF_CBPF_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define CBPF_MAX_INSNS 512
#define CBPF_MEMWORDS  16

/* Same layout as struct sock_filter / struct bpf_insn of libpcap. */
struct cbpf_insn {
	__u16 code;
	__u8 jt;
	__u8 jf;
	__u32 k;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, CBPF_MAX_INSNS);
	__type(key, __u32);
	__type(value, struct cbpf_insn);
} cbpf_insns SEC(".maps");

/* Written by user space after the instructions (cbpf_load); read once per packet. */
__u32 cbpf_len = 0;

/* The cBPF opcode fields (linux/filter.h, linux/bpf_common.h). */
#define CB_CLASS(c)  ((c)&0x07)
#define CB_SIZE(c)   ((c)&0x18)
#define CB_MODE(c)   ((c)&0xe0)
#define CB_OP(c)     ((c)&0xf0)
#define CB_SRC(c)    ((c)&0x08)
#define CB_RVAL(c)   ((c)&0x18)
#define CB_MISCOP(c) ((c)&0xf8)
enum {
	CB_LD = 0x00,
	CB_LDX = 0x01,
	CB_ST = 0x02,
	CB_STX = 0x03,
	CB_ALU = 0x04,
	CB_JMP = 0x05,
	CB_RET = 0x06,
	CB_MISC = 0x07,
	CB_W = 0x00,
	CB_H = 0x08,
	CB_B = 0x10,
	CB_IMM = 0x00,
	CB_ABS = 0x20,
	CB_IND = 0x40,
	CB_MEM = 0x60,
	CB_LEN = 0x80,
	CB_MSH = 0xa0,
	CB_ADD = 0x00,
	CB_SUB = 0x10,
	CB_MUL = 0x20,
	CB_DIV = 0x30,
	CB_OR = 0x40,
	CB_AND = 0x50,
	CB_LSH = 0x60,
	CB_RSH = 0x70,
	CB_NEG = 0x80,
	CB_MOD = 0x90,
	CB_XOR = 0xa0,
	CB_JA = 0x00,
	CB_JEQ = 0x10,
	CB_JGT = 0x20,
	CB_JGE = 0x30,
	CB_JSET = 0x40,
	CB_K = 0x00,
	CB_X = 0x08,
	CB_A = 0x10,
	CB_TAX = 0x00,
	CB_TXA = 0x80,
};

#ifndef EC_NO_CALLBACKS
struct cbpf_vm {
	struct __sk_buff *skb;
	__u32 a, x, pc, len, ret;
	__u32 mem[CBPF_MEMWORDS];
};

/* A big-endian load of size 1, 2 or 4 at off; -1 when outside the packet. */
static __always_inline int cbpf_load(struct __sk_buff *skb, __u32 off, __u32 size, __u32 *out)
{
	__u8 b[4] = {};

	if (size == 4) {
		if (bpf_skb_load_bytes(skb, off, b, 4))
			return -1;
		*out = ((__u32)b[0] << 24) | ((__u32)b[1] << 16) | ((__u32)b[2] << 8) | b[3];
	} else if (size == 2) {
		if (bpf_skb_load_bytes(skb, off, b, 2))
			return -1;
		*out = ((__u32)b[0] << 8) | b[1];
	} else {
		if (bpf_skb_load_bytes(skb, off, b, 1))
			return -1;
		*out = b[0];
	}
	return 0;
}

#define CBPF_STOP(v, r)                                                                            \
	do {                                                                                       \
		(v)->ret = (r);                                                                    \
		return 1;                                                                          \
	} while (0)

/* One instruction; 1 ends the loop with vm->ret as the verdict. */
static long cbpf_step(__u64 i, void *ctx)
{
	struct cbpf_vm *v = ctx;
	struct cbpf_insn *in;
	__u32 pc = v->pc, k, src, val, size, off;
	__u16 code;

	(void)i;
	if (pc >= v->len || pc >= CBPF_MAX_INSNS)
		CBPF_STOP(v, 0); /* ran off the end: libpcap's validator forbids it */
	in = bpf_map_lookup_elem(&cbpf_insns, &pc);
	if (!in)
		CBPF_STOP(v, 0);
	code = in->code;
	k = in->k;
	v->pc = pc + 1;

	switch (CB_CLASS(code)) {
	case CB_LD:
	case CB_LDX:
		switch (CB_MODE(code)) {
		case CB_IMM:
			val = k;
			break;
		case CB_LEN:
			val = v->skb->len;
			break;
		case CB_MEM:
			val = v->mem[k & (CBPF_MEMWORDS - 1)];
			break;
		case CB_ABS:
		case CB_IND:
			size = CB_SIZE(code) == CB_W ? 4 : CB_SIZE(code) == CB_H ? 2 : 1;
			off = k;
			if (CB_MODE(code) == CB_IND) {
				off = v->x + k;
				if (off < v->x) /* wrapped: past any packet */
					CBPF_STOP(v, 0);
			}
			if (cbpf_load(v->skb, off, size, &val))
				CBPF_STOP(v, 0);
			break;
		case CB_MSH:
			if (cbpf_load(v->skb, k, 1, &val))
				CBPF_STOP(v, 0);
			val = (val & 0xf) << 2;
			break;
		default:
			CBPF_STOP(v, 0);
		}
		if (CB_CLASS(code) == CB_LD)
			v->a = val;
		else
			v->x = val;
		return 0;
	case CB_ST:
		v->mem[k & (CBPF_MEMWORDS - 1)] = v->a;
		return 0;
	case CB_STX:
		v->mem[k & (CBPF_MEMWORDS - 1)] = v->x;
		return 0;
	case CB_ALU:
		src = CB_SRC(code) == CB_X ? v->x : k;
		switch (CB_OP(code)) {
		case CB_ADD:
			v->a += src;
			break;
		case CB_SUB:
			v->a -= src;
			break;
		case CB_MUL:
			v->a *= src;
			break;
		case CB_DIV:
			if (!src)
				CBPF_STOP(v, 0);
			v->a /= src;
			break;
		case CB_MOD:
			if (!src)
				CBPF_STOP(v, 0);
			v->a %= src;
			break;
		case CB_AND:
			v->a &= src;
			break;
		case CB_OR:
			v->a |= src;
			break;
		case CB_XOR:
			v->a ^= src;
			break;
		case CB_LSH:
			v->a = src < 32 ? v->a << (src & 31) : 0;
			break;
		case CB_RSH:
			v->a = src < 32 ? v->a >> (src & 31) : 0;
			break;
		case CB_NEG:
			v->a = -v->a;
			break;
		default:
			CBPF_STOP(v, 0);
		}
		return 0;
	case CB_JMP: {
		bool c;

		if (CB_OP(code) == CB_JA) {
			v->pc = pc + 1 + k;
			return 0;
		}
		src = CB_SRC(code) == CB_X ? v->x : k;
		switch (CB_OP(code)) {
		case CB_JEQ:
			c = v->a == src;
			break;
		case CB_JGT:
			c = v->a > src;
			break;
		case CB_JGE:
			c = v->a >= src;
			break;
		case CB_JSET:
			c = (v->a & src) != 0;
			break;
		default:
			CBPF_STOP(v, 0);
		}
		v->pc = pc + 1 + (c ? in->jt : in->jf);
		return 0;
	}
	case CB_RET:
		CBPF_STOP(v, CB_RVAL(code) == CB_A ? v->a : k);
	case CB_MISC:
		if (CB_MISCOP(code) == CB_TAX)
			v->x = v->a;
		else
			v->a = v->x;
		return 0;
	}
	CBPF_STOP(v, 0);
}
#endif /* !EC_NO_CALLBACKS */

static __always_inline __u32 cbpf_match(struct __sk_buff *skb)
{
	__u32 len = cbpf_len;

	if (!len)
		return 0xffffffff; /* no filter: keep all */
#ifdef EC_NO_CALLBACKS
	(void)skb;
	return 0xffffffff; /* user space filters (cbpf_user_match) and has said so */
#else
	struct cbpf_vm v = {.skb = skb, .len = len};

	if (bpf_loop(CBPF_MAX_INSNS + 1, cbpf_step, &v, 0) < 0)
		return 0;
	return v.ret;
#endif
}

#endif
