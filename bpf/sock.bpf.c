// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Plain TCP sockets: the bytes of read/write/send/recv/readv/writev/sendmsg/recvmsg
 * on TCP sockets, so plaintext HTTP, MySQL and PostgreSQL are seen. Raw sys_enter
 * and sys_exit tracepoints (no tracefs needed).
 *
 * Ciphertext is never reported: syscalls made inside a TLS library call are skipped
 * (the TLS source reports their plaintext), and a socket whose first bytes are a TLS
 * record is marked TLS and skipped from then on (programs whose TLS library we do
 * not probe).
 */
#include "common.bpf.h"
#include <bpf/bpf_endian.h>

#include "emit.bpf.h"
#include "sockinfo.bpf.h"
#include "tlsshare.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

const volatile long nr_read = -1;
const volatile long nr_write = -1;
const volatile long nr_readv = -1;
const volatile long nr_writev = -1;
const volatile long nr_sendto = -1;
const volatile long nr_recvfrom = -1;
const volatile long nr_sendmsg = -1;
const volatile long nr_recvmsg = -1;

#define MAX_IOV	    64 /* buffers of one readv/writev/sendmsg/recvmsg walked (bpf_loop) */
#define MAX_IOV_OLD 4  /* the same without bpf_loop */

enum sock_call_kind {
	SC_BUF = 0, /* read, write, sendto, recvfrom: (fd, buf, len) */
	SC_IOV = 1, /* readv, writev: (fd, iov, iovcnt) */
	SC_MSG = 2, /* sendmsg, recvmsg: (fd, msghdr) */
};

struct sock_call {
	__u64 arg; /* buf, iov or msghdr */
	__u64 iovcnt;
	__u64 start_ns;
	__u32 kind;
	__u32 dir;
	struct conn_info ci;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, struct sock_call);
} sock_calls SEC(".maps");

#define SOCK_PLAIN     1
#define SOCK_ENCRYPTED 2 /* TLS records or SSH: never reported */
#define SSH_PORT       22

/* What the first bytes of each socket said, by socket inode. LRU: sockets close
 * without telling us. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, __u8);
} sock_kind SEC(".maps");

struct iovec_user {
	__u64 base;
	__u64 len;
};

SEC("raw_tp/sys_enter")
int sock_sys_enter(struct bpf_raw_tracepoint_args *ctx)
{
	long nr = ctx->args[1];
	struct sock_call c = {};
	struct pt_regs *regs;
	__u64 id;
	__u8 *kind;
	int fd;

	if (nr == nr_read || nr == nr_recvfrom) {
		c.kind = SC_BUF;
		c.dir = EC_DIR_RECV;
	} else if (nr == nr_write || nr == nr_sendto) {
		c.kind = SC_BUF;
		c.dir = EC_DIR_SEND;
	} else if (nr == nr_readv) {
		c.kind = SC_IOV;
		c.dir = EC_DIR_RECV;
	} else if (nr == nr_writev) {
		c.kind = SC_IOV;
		c.dir = EC_DIR_SEND;
	} else if (nr == nr_recvmsg) {
		c.kind = SC_MSG;
		c.dir = EC_DIR_RECV;
	} else if (nr == nr_sendmsg) {
		c.kind = SC_MSG;
		c.dir = EC_DIR_SEND;
	} else {
		return 0;
	}
	id = bpf_get_current_pid_tgid();
	if (bpf_map_lookup_elem(&tls_calls, &id))
		return 0;
	if (!pass_filter(id >> 32, (__u32)bpf_get_current_uid_gid()))
		return 0;
	regs = (struct pt_regs *)ctx->args[0];
	fd = (int)PT_REGS_PARM1_CORE_SYSCALL(regs);
	if (sock_from_fd(fd, &c.ci))
		return 0;
	/* SSH is never plaintext, and an ssh session started before us cannot be told by
	 * its banner: without this, ecaptop's own output over ssh would feed itself. */
	if (c.ci.lport == SSH_PORT || c.ci.rport == SSH_PORT)
		return 0;
	kind = bpf_map_lookup_elem(&sock_kind, &c.ci.sock_ino);
	if ((kind && *kind == SOCK_ENCRYPTED) || bpf_map_lookup_elem(&tls_socks, &c.ci.sock_ino))
		return 0;
	c.arg = PT_REGS_PARM2_CORE_SYSCALL(regs);
	c.iovcnt = PT_REGS_PARM3_CORE_SYSCALL(regs);
	c.start_ns = now_ns();
	bpf_map_update_elem(&sock_calls, &id, &c, BPF_ANY);
	return 0;
}

/* Encrypted from the first bytes: a TLS record header (content type 20..23, version
 * 3.x; RFC 8446 section 5.1) or an SSH identification string (RFC 4253 section 4.2). */
static __always_inline bool is_encrypted(__u64 buf, __u64 len)
{
	__u8 h[4];

	if (len < 4 || bpf_probe_read_user(h, sizeof(h), (void *)buf))
		return false;
	if (h[0] == 'S' && h[1] == 'S' && h[2] == 'H' && h[3] == '-')
		return true;
	return len >= 5 && h[0] >= 20 && h[0] <= 23 && h[1] == 3 && h[2] <= 4;
}

struct iov_ctx {
	void *ctx;
	struct scratch *s;
	__u64 iov;
	__u64 left;
	__u32 iovcnt;
};

static __always_inline long emit_iov(__u32 i, struct iov_ctx *c)
{
	struct iovec_user v;

	if (i >= c->iovcnt || !c->left)
		return 1;
	if (bpf_probe_read_user(&v, sizeof(v), (void *)(c->iov + i * sizeof(v))))
		return 1;
	if (v.len > c->left)
		v.len = c->left;
	if (!v.len)
		return 0;
	emit_payload(c->ctx, c->s, v.base, v.len);
	c->left -= v.len;
	/* Later buffers of the same call are continuations of this one. */
	c->s->hdr.flags |= EC_F_CONT;
	return 0;
}

#ifndef EC_NO_CALLBACKS
static long emit_iov_cb(__u32 i, void *data)
{
	return emit_iov(i, data);
}
#endif

SEC("raw_tp/sys_exit")
int sock_sys_exit(struct bpf_raw_tracepoint_args *ctx)
{
	long ret = ctx->args[1];
	struct sock_call *c;
	struct scratch *s;
	__u64 id = bpf_get_current_pid_tgid();
	__u64 first, iov, iovcnt;
	__u8 *kind, k;
	__u32 i;

	c = bpf_map_lookup_elem(&sock_calls, &id);
	if (!c)
		return 0;
	if (ret <= 0)
		goto out;
	if (c->kind == SC_MSG) {
		struct user_msghdr mh;

		if (bpf_probe_read_user(&mh, sizeof(mh), (void *)c->arg))
			goto out;
		iov = (__u64)mh.msg_iov;
		iovcnt = mh.msg_iovlen;
	} else {
		iov = c->arg;
		iovcnt = c->iovcnt;
	}
	/* Judge a socket by its first bytes: TLS records or an SSH banner mean ciphertext. */
	kind = bpf_map_lookup_elem(&sock_kind, &c->ci.sock_ino);
	if (!kind) {
		if (c->kind == SC_BUF) {
			first = c->arg;
		} else {
			struct iovec_user v = {};

			bpf_probe_read_user(&v, sizeof(v), (void *)iov);
			first = v.len >= 5 ? v.base : 0;
		}
		k = first && is_encrypted(first, ret) ? SOCK_ENCRYPTED : SOCK_PLAIN;
		bpf_map_update_elem(&sock_kind, &c->ci.sock_ino, &k, BPF_ANY);
		if (k == SOCK_ENCRYPTED)
			goto out;
	} else if (*kind == SOCK_ENCRYPTED) {
		goto out;
	}
	s = scratch_get();
	if (!s)
		goto out;
	hdr_init(&s->hdr, EC_K_DATA, EC_S_SOCKET);
	s->hdr.dir = c->dir;
	s->hdr.call_id = c->start_ns;
	s->hdr.fd = c->ci.fd;
	s->hdr.family = c->ci.family;
	s->hdr.lport = c->ci.lport;
	s->hdr.rport = c->ci.rport;
	__builtin_memcpy(s->hdr.laddr, c->ci.laddr, 16);
	__builtin_memcpy(s->hdr.raddr, c->ci.raddr, 16);
	s->hdr.conn_id = c->ci.conn_id;
	if (c->kind == SC_BUF) {
		emit_payload(ctx, s, c->arg, ret);
	} else {
		struct iov_ctx ic = {.ctx = ctx, .s = s, .iov = iov, .left = ret};

		ic.iovcnt = iovcnt > MAX_IOV ? MAX_IOV : iovcnt;
		if (has_bpf_loop) {
#ifndef EC_NO_CALLBACKS
			bpf_loop(MAX_IOV, emit_iov_cb, &ic, 0);
#endif
		} else {
			/* Unrolled by the verifier: keep it short. */
			if (ic.iovcnt > MAX_IOV_OLD)
				ic.iovcnt = MAX_IOV_OLD;
			for (i = 0; i < MAX_IOV_OLD; i++)
				if (emit_iov(i, &ic))
					break;
		}
		if (ic.left) {
			/* More buffers than we walk: say how much of the call is missing. */
			count_loss(EC_L_TRUNC, EC_S_SOCKET);
			s->hdr.flags |= EC_F_TRUNCATED;
			s->hdr.aux = ic.left;
			s->hdr.len = 0;
			output(ctx, s, 0);
		}
	}
out:
	bpf_map_delete_elem(&sock_calls, &id);
	return 0;
}
