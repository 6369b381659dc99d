// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The cBPF interpreter (cbpf.bpf.h) alone in a TC program, for tests/unit/test_cbpf.c:
 * BPF_PROG_TEST_RUN feeds it packets and compares its verdict with libpcap's.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#include "cbpf.bpf.h"

SEC("tc")
int cbpf_test(struct __sk_buff *skb)
{
	return (int)cbpf_match(skb);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
