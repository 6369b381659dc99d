/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Packet mode (--packets): the record bpf/packets.bpf.c writes into its own ring
 * buffer for each packet its TC classifiers see, read by engine/capture/packets.c.
 * Fixed-width types, explicit padding; cap_len packet bytes follow the header.
 */
#ifndef ECAPTOP_BPF_PACKETS_H
#define ECAPTOP_BPF_PACKETS_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define EC_COMM_LEN_PKT 16
/* Most packet bytes kept per packet (a GSO packet on lo may be 64 KiB). */
#define EC_PKT_SNAP 65535

/* ec_pkt.why: how the packet's process was found, or why it was not. */
enum ec_pkt_why {
	EC_PKT_OWNER = 0,    /* its socket's inode was seen in a socket syscall of pid */
	EC_PKT_NO_SOCK = 1,  /* no local socket (forwarded, ARP, a closed port, not TCP) */
	EC_PKT_NO_OWNER = 2, /* a local socket no process was seen using yet */
	EC_PKT_NOT_IP = 3,   /* not IPv4/IPv6 */
	EC_PKT_CLOSED = 4,   /* its socket is closed (TIME_WAIT, or its process let go) */
};

/* ec_pkt.dir */
#define EC_PKT_EGRESS  1
#define EC_PKT_INGRESS 2

/* pkt_ifs values: how to read the packets of an interface. */
struct ec_pkt_if {
	__u32 l2_len; /* bytes before the IP header: 14 (Ethernet, lo), 0 (raw IP) */
	/* 1: loopback; its ingress is skipped, every packet is seen once, at egress,
	 * where its sender's socket is known (the receiver is looked up there too). */
	__u32 loopback;
};

/* Losses of packet mode (pkt_losses, per CPU). */
enum ec_pkt_loss {
	EC_PKT_L_RESERVE = 0, /* the packet ring buffer was full */
	EC_PKT_L_READ = 1,    /* the packet's bytes could not be copied */
	EC_PKT_L_TRUNC = 2,   /* bytes past EC_PKT_SNAP cut (the packet is kept) */
	EC_PKT_L_FILTER = 3,  /* not kept: the PID/UID/cgroup filter (not a loss) */
	EC_PKT_L_SEEN = 4,    /* every packet the classifiers looked at */
	EC_PKT_L_MAX
};

struct ec_pkt_owner {
	__u32 pid; /* tgid */
	__u32 tid;
	__u32 uid;
	__u32 pad;
	__u64 cgroup; /* cgroup v2 id */
	char comm[EC_COMM_LEN_PKT];
};

struct ec_pkt {
	__u64 ts_ns;	/* CLOCK_BOOTTIME (or MONOTONIC, as the other sources) */
	__u64 sock_ino; /* the local socket's inode, 0 if none */
	__u32 ifindex;
	__u32 wire_len; /* skb->len */
	__u32 cap_len;	/* bytes that follow */
	__u8 dir;	/* EC_PKT_EGRESS / EC_PKT_INGRESS */
	__u8 why;	/* enum ec_pkt_why */
	__u8 family;	/* 2, 10, or 0 */
	__u8 proto;	/* IPPROTO_* */
	__u16 sport;	/* host order */
	__u16 dport;
	__u8 peer_why; /* loopback: the receiver's enum ec_pkt_why */
	__u8 pad[7];
	struct ec_pkt_owner owner; /* the sender (egress) or receiver (ingress) */
	struct ec_pkt_owner peer;  /* loopback egress: the receiving socket's process */
	__u8 saddr[16];
	__u8 daddr[16];
	/* __u8 data[cap_len] follows */
};

#endif
