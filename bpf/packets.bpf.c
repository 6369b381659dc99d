// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Packet mode (--packets): TC classifiers (tcx links, or clsact filters on older
 * kernels) copy each packet of the chosen interfaces into a ring buffer of their
 * own, with the process it belongs to. No kprobes: the process is learnt at the
 * socket syscalls (raw tracepoints: the fd's socket inode -> the task), and matched
 * in TC through the packet's socket: skb->sk at egress, a socket lookup by the
 * packet's addresses at ingress (and, on loopback, for the receiver), then the
 * socket's inode through CO-RE reads.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_tracing.h>

#include "packets.h"
#include "cbpf.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define TC_ACT_UNSPEC -1
#define ETH_P_IP      0x0800
#define ETH_P_IPV6    0x86DD
#define S_IFMT_	      00170000
#define S_IFSOCK_     0140000

/* Set by user space before load (engine/capture/packets.c). */
const volatile bool use_boot_ns = true;
const volatile bool has_ancestor_cgroup = true;
const volatile long nr_read = -1, nr_write = -1, nr_readv = -1, nr_writev = -1;
const volatile long nr_sendto = -1, nr_recvfrom = -1, nr_sendmsg = -1, nr_recvmsg = -1;
const volatile long nr_connect = -1, nr_accept = -1, nr_accept4 = -1, nr_listen = -1;
const volatile long nr_bind = -1, nr_sendmmsg = -1, nr_recvmmsg = -1, nr_shutdown = -1;
const volatile __u32 n_cpus = 1;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 24);
} pkt_rb SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, EC_PKT_L_MAX);
	__type(key, __u32);
	__type(value, __u64);
} pkt_losses SEC(".maps");

/* Interfaces captured: ifindex -> how to read them. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, struct ec_pkt_if);
} pkt_ifs SEC(".maps");

/* Socket inode -> the process last seen using it (LRU: old sockets age out). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, struct ec_pkt_owner);
} pkt_owners SEC(".maps");

/* --cgroup on: socket inode -> its process's cgroup and ancestors (root first), for
 * the filter in TC, where the task is not at hand. */
#define CG_DEPTH 16
struct pkt_cgroups {
	__u64 ids[CG_DEPTH];
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, struct pkt_cgroups);
} pkt_owner_cg SEC(".maps");

/* The record is built here: one slot per CPU (a plain array: per-CPU values are
 * limited to 32 KiB, a packet is not). TC programs do not nest on a CPU. */
struct pkt_scratch {
	struct ec_pkt hdr;
	__u8 data[EC_PKT_SNAP + 1];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1); /* n_cpus, set by user space */
	__type(key, __u32);
	__type(value, struct pkt_scratch);
} pkt_scratch SEC(".maps");

/* The live PID/UID/cgroup filters: the same maps as the other objects' (user space
 * hands their fds over), so packet mode never keeps more than the user allowed. */
#include "filters.bpf.h"

static __always_inline void count(__u32 what)
{
	__u64 *v = bpf_map_lookup_elem(&pkt_losses, &what);

	if (v)
		*v += 1; /* per-CPU slot */
}

static __always_inline void learn_cgroups(__u64 ino)
{
	__u32 zero = 0, *on = bpf_map_lookup_elem(&cgroup_on, &zero);
	struct pkt_cgroups cg = {};
	int level;

	if (!on || !*on || !has_ancestor_cgroup)
		return;
	for (level = 0; level < CG_DEPTH; level++) {
		cg.ids[level] = bpf_get_current_ancestor_cgroup_id(level);
		if (!cg.ids[level])
			break;
	}
	bpf_map_update_elem(&pkt_owner_cg, &ino, &cg, BPF_ANY);
}

/* ---- learning: socket fd of the current task -> its inode -> the task ---- */

static __always_inline void learn_fd(int fd)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct ec_pkt_owner o = {};
	struct file **fdarr;
	struct file *f = NULL;
	unsigned int max_fds;
	__u64 id, ino;
	umode_t mode;

	if (fd < 0)
		return;
	max_fds = BPF_CORE_READ(task, files, fdt, max_fds);
	if ((unsigned int)fd >= max_fds)
		return;
	fdarr = BPF_CORE_READ(task, files, fdt, fd);
	if (bpf_probe_read_kernel(&f, sizeof(f), &fdarr[fd]) || !f)
		return;
	mode = BPF_CORE_READ(f, f_inode, i_mode);
	if ((mode & S_IFMT_) != S_IFSOCK_)
		return;
	ino = BPF_CORE_READ(f, f_inode, i_ino);
	id = bpf_get_current_pid_tgid();
	o.pid = id >> 32;
	o.tid = (__u32)id;
	o.uid = (__u32)bpf_get_current_uid_gid();
	o.cgroup = bpf_get_current_cgroup_id();
	bpf_get_current_comm(o.comm, sizeof(o.comm));
	bpf_map_update_elem(&pkt_owners, &ino, &o, BPF_ANY);
	learn_cgroups(ino);
}

SEC("raw_tp/sys_enter")
int pkt_sys_enter(struct bpf_raw_tracepoint_args *ctx)
{
	long nr = ctx->args[1];
	struct pt_regs *regs;

	if (nr != nr_read && nr != nr_write && nr != nr_readv && nr != nr_writev &&
	    nr != nr_sendto && nr != nr_recvfrom && nr != nr_sendmsg && nr != nr_recvmsg &&
	    nr != nr_connect && nr != nr_accept && nr != nr_accept4 && nr != nr_listen &&
	    nr != nr_bind && nr != nr_sendmmsg && nr != nr_recvmmsg && nr != nr_shutdown)
		return 0;
	regs = (struct pt_regs *)ctx->args[0];
	learn_fd((int)PT_REGS_PARM1_CORE_SYSCALL(regs));
	return 0;
}

/* The socket accept() made: known before the connection's first read. */
SEC("raw_tp/sys_exit")
int pkt_sys_exit(struct bpf_raw_tracepoint_args *ctx)
{
	struct pt_regs *regs = (struct pt_regs *)ctx->args[0];
#if defined(__TARGET_ARCH_arm64)
	long nr = BPF_CORE_READ(regs, syscallno);
#else
	long nr = BPF_CORE_READ(regs, orig_ax);
#endif

	if (nr != nr_accept && nr != nr_accept4)
		return 0;
	learn_fd((int)ctx->args[1]);
	return 0;
}

/* ---- matching in TC ---- */

/* The inode of the socket behind a TCP socket TC handed us (a full socket, a
 * request socket: its listener's); ~0 for a socket without one (TIME_WAIT, closed). */
static __always_inline __u64 sock_inode(struct bpf_sock *sk)
{
	struct tcp_request_sock *req;
	struct tcp_sock *tp;
	struct sock *l;
	__u64 ino = 0;

	tp = bpf_skc_to_tcp_sock(sk);
	if (tp) {
		ino = BPF_CORE_READ(tp, inet_conn.icsk_inet.sk.sk_socket, file, f_inode, i_ino);
	} else {
		req = bpf_skc_to_tcp_request_sock(sk);
		l = req ? BPF_CORE_READ(req, req.req.__req_common.skc_listener) : NULL;
		if (l)
			ino = BPF_CORE_READ(l, sk_socket, file, f_inode, i_ino);
	}
	return ino ? ino : ~0ULL;
}

/* Fill o from the socket's inode: the why code. ino ~0: a socket without a file. */
static __always_inline __u8 owner_of(__u64 ino, struct ec_pkt_owner *o)
{
	struct ec_pkt_owner *v;

	if (!ino)
		return EC_PKT_NO_SOCK;
	if (ino == ~0ULL)
		return EC_PKT_CLOSED;
	v = bpf_map_lookup_elem(&pkt_owners, &ino);
	if (!v)
		return EC_PKT_NO_OWNER;
	__builtin_memcpy(o, v, sizeof(*o));
	return EC_PKT_OWNER;
}

/* Look the local socket of this packet up (the one that receives it). */
static __always_inline __u64 lookup_inode(struct __sk_buff *skb, struct ec_pkt *h)
{
	struct bpf_sock_tuple t = {};
	struct bpf_sock *sk;
	__u32 size;
	__u64 ino;

	if (h->proto != IPPROTO_TCP)
		return 0;
	if (h->family == 2) {
		__builtin_memcpy(&t.ipv4.saddr, h->saddr, 4);
		__builtin_memcpy(&t.ipv4.daddr, h->daddr, 4);
		t.ipv4.sport = bpf_htons(h->sport);
		t.ipv4.dport = bpf_htons(h->dport);
		size = sizeof(t.ipv4);
	} else {
		__builtin_memcpy(t.ipv6.saddr, h->saddr, 16);
		__builtin_memcpy(t.ipv6.daddr, h->daddr, 16);
		t.ipv6.sport = bpf_htons(h->sport);
		t.ipv6.dport = bpf_htons(h->dport);
		size = sizeof(t.ipv6);
	}
	sk = bpf_skc_lookup_tcp(skb, &t, size, (__u64)(__s64)-1 /* BPF_F_CURRENT_NETNS */, 0);
	if (!sk)
		return 0;
	ino = sock_inode(sk);
	bpf_sk_release(sk);
	return ino;
}

/* Addresses and ports (family 0 when not IP). */
static __always_inline void parse(struct __sk_buff *skb, __u32 l2, struct ec_pkt *h)
{
	__u8 b[40];
	__u32 l4;

	if (skb->protocol == bpf_htons(ETH_P_IP)) {
		if (bpf_skb_load_bytes(skb, l2, b, 20))
			return;
		h->family = 2;
		h->proto = b[9];
		__builtin_memcpy(h->saddr, b + 12, 4);
		__builtin_memcpy(h->daddr, b + 16, 4);
		l4 = l2 + (b[0] & 15) * 4;
	} else if (skb->protocol == bpf_htons(ETH_P_IPV6)) {
		if (bpf_skb_load_bytes(skb, l2, b, 40))
			return;
		h->family = 10;
		h->proto = b[6]; /* extension headers are not followed */
		__builtin_memcpy(h->saddr, b + 8, 16);
		__builtin_memcpy(h->daddr, b + 24, 16);
		l4 = l2 + 40;
	} else {
		return;
	}
	if ((h->proto == IPPROTO_TCP || h->proto == IPPROTO_UDP) &&
	    !bpf_skb_load_bytes(skb, l4, b, 4)) {
		h->sport = ((__u16)b[0] << 8) | b[1];
		h->dport = ((__u16)b[2] << 8) | b[3];
	}
}

/* Does the packet's process pass the live filters? Unattributed packets pass only
 * when no filter is on. */
static __always_inline bool pass(const struct ec_pkt *h)
{
	__u32 k0 = 0, k1 = 1, *on;
	struct pkt_cgroups *cg;
	__u64 id;
	int level;

	on = bpf_map_lookup_elem(&filter_on, &k0);
	if (on && *on) {
		if (h->why != EC_PKT_OWNER || !bpf_map_lookup_elem(&pid_filter, &h->owner.pid))
			return false;
	}
	on = bpf_map_lookup_elem(&filter_on, &k1);
	if (on && *on) {
		if (h->why != EC_PKT_OWNER || !bpf_map_lookup_elem(&uid_filter, &h->owner.uid))
			return false;
	}
	on = bpf_map_lookup_elem(&cgroup_on, &k0);
	if (!on || !*on)
		return true;
	if (h->why != EC_PKT_OWNER)
		return false;
	id = h->owner.cgroup;
	if (bpf_map_lookup_elem(&cgroup_filter, &id))
		return true;
	cg = bpf_map_lookup_elem(&pkt_owner_cg, &h->sock_ino);
	if (!cg)
		return false;
	for (level = 0; level < CG_DEPTH; level++) {
		id = cg->ids[level];
		if (!id)
			break;
		if (bpf_map_lookup_elem(&cgroup_filter, &id))
			return true;
	}
	return false;
}

static __always_inline int capture(struct __sk_buff *skb, __u8 dir)
{
	__u32 ifindex = skb->ifindex, cpu = bpf_get_smp_processor_id(), len;
	struct bpf_sock *sk = NULL;
	struct pkt_scratch *s;
	struct ec_pkt_if *ifc;
	struct ec_pkt *h;
	__u64 ino = 0;

	ifc = bpf_map_lookup_elem(&pkt_ifs, &ifindex);
	if (!ifc)
		return TC_ACT_UNSPEC;
	if (dir == EC_PKT_INGRESS && ifc->loopback)
		return TC_ACT_UNSPEC; /* seen at its egress */
	count(EC_PKT_L_SEEN);
	s = bpf_map_lookup_elem(&pkt_scratch, &cpu);
	if (!s)
		return TC_ACT_UNSPEC;
	h = &s->hdr;
	__builtin_memset(h, 0, sizeof(*h));
	h->ts_ns = use_boot_ns ? bpf_ktime_get_boot_ns() : bpf_ktime_get_ns();
	h->ifindex = ifindex;
	h->wire_len = skb->len;
	h->dir = dir;
	parse(skb, ifc->l2_len, h);
	if (!h->family) {
		h->why = EC_PKT_NOT_IP;
	} else {
		if (dir == EC_PKT_EGRESS) {
			sk = skb->sk;
			if (sk)
				ino = sock_inode(sk);
		} else {
			ino = lookup_inode(skb, h);
		}
		h->sock_ino = ino == ~0ULL ? 0 : ino;
		h->why = owner_of(ino, &h->owner);
		if (dir == EC_PKT_EGRESS && ifc->loopback && h->family)
			h->peer_why = owner_of(lookup_inode(skb, h), &h->peer);
	}
	if (!pass(h)) {
		count(EC_PKT_L_FILTER);
		return TC_ACT_UNSPEC;
	}
	/* -f, compiled for Ethernet framing: run here on interfaces that have it (the
	 * others, raw IP, are filtered in user space). */
	if (ifc->l2_len == 14 && !cbpf_match(skb)) {
		count(EC_PKT_L_PCAP);
		return TC_ACT_UNSPEC;
	}
	len = skb->len;
	if (len > EC_PKT_SNAP) {
		count(EC_PKT_L_TRUNC);
		len = EC_PKT_SNAP;
	}
	len &= 0xffff;
	if (len && bpf_skb_load_bytes(skb, 0, s->data, len)) {
		count(EC_PKT_L_READ);
		return TC_ACT_UNSPEC;
	}
	h->cap_len = len;
	if (bpf_ringbuf_output(&pkt_rb, s, sizeof(*h) + len, 0))
		count(EC_PKT_L_RESERVE);
	return TC_ACT_UNSPEC;
}

SEC("tc")
int ecpkt_ingress(struct __sk_buff *skb)
{
	return capture(skb, EC_PKT_INGRESS);
}

SEC("tc")
int ecpkt_egress(struct __sk_buff *skb)
{
	return capture(skb, EC_PKT_EGRESS);
}
