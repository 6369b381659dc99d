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
#define SOCK_PENDING   3 /* fewer than 5 first bytes, which may begin a TLS record */
#define SSH_PORT       22
#define MSG_PEEK_FLAG  2 /* MSG_PEEK in <sys/socket.h> */
#define TLS_HDR	       5 /* a TLS record header: type, version (2), length (2) */
#define PREFIX_MAX     8 /* first bytes a call is judged by */

/* What the first bytes of each socket said. While a socket is SOCK_PENDING its first
 * bytes (fewer than a record header, read by a short first read) are held here, not
 * reported, until the next bytes tell whether they began a TLS record. */
struct sock_state {
	__u8 kind;
	__u8 n;	  /* SOCK_PENDING: bytes held */
	__u8 dir; /* SOCK_PENDING: their direction */
	__u8 pad[5];
	__u8 held[PREFIX_MAX];
	__u64 call_id; /* SOCK_PENDING: the call that read them */
};

/* By socket inode. LRU: sockets close without telling us. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, struct sock_state);
} sock_kind SEC(".maps");

struct iovec_user {
	__u64 base;
	__u64 len;
};

/* This thread moved ciphertext on this socket outside a TLS call: what the TLS
 * probes attribute its next memory-BIO calls to (tlsshare.bpf.h). */
static __always_inline void note_thread_sock(__u64 id, struct conn_info *ci, __u32 dir)
{
	struct thread_sock ts = {.ci = *ci, .ts = now_ns(), .dir = dir};

	bpf_map_update_elem(&thread_socks, &id, &ts, BPF_ANY);
}

/* The ciphertext of a memory-BIO write leaves: this is its connection (tlsshare.bpf.h:
 * pending_sends). Remember it for the object's next calls and tell user space. */
static __always_inline void resolve_pending_send(void *ctx, __u64 id, struct conn_info *ci)
{
	struct pending_send *ps = bpf_map_lookup_elem(&pending_sends, &id);
	struct ssl_key key = {};
	struct conn_info learnt;
	struct scratch *s;

	if (!ps)
		return;
	key.ssl = ps->ssl;
	key.tgid = id >> 32;
	learnt = *ci;
	learnt.how = CI_AFTER;
	bpf_map_update_elem(&ssl_conns, &key, &learnt, BPF_ANY);
	s = scratch_get();
	if (s) {
		hdr_init(&s->hdr, EC_K_ATTR, ps->source);
		s->hdr.dir = EC_DIR_SEND;
		s->hdr.call_id = ps->call_id;
		s->hdr.fd = ci->fd;
		s->hdr.family = ci->family;
		s->hdr.lport = ci->lport;
		s->hdr.rport = ci->rport;
		__builtin_memcpy(s->hdr.laddr, ci->laddr, 16);
		__builtin_memcpy(s->hdr.raddr, ci->raddr, 16);
		s->hdr.conn_id = ci->conn_id;
		output(ctx, s, 0);
	}
	bpf_map_delete_elem(&pending_sends, &id);
}

SEC("raw_tp/sys_enter")
int sock_sys_enter(struct bpf_raw_tracepoint_args *ctx)
{
	long nr = ctx->args[1];
	struct sock_call c = {};
	struct sock_state *st;
	struct pt_regs *regs;
	__u64 id;
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
	st = bpf_map_lookup_elem(&sock_kind, &c.ci.sock_ino);
	if ((st && st->kind == SOCK_ENCRYPTED) || bpf_map_lookup_elem(&tls_socks, &c.ci.sock_ino)) {
		note_thread_sock(id, &c.ci, c.dir);
		if (c.dir == EC_DIR_SEND)
			resolve_pending_send(ctx, id, &c.ci);
		return 0;
	}
	/* A peek's bytes are read again by the next read: reported (and judged) then. */
	if (nr == nr_recvfrom && (PT_REGS_PARM4_CORE_SYSCALL(regs) & MSG_PEEK_FLAG))
		return 0;
	if (nr == nr_recvmsg && (PT_REGS_PARM3_CORE_SYSCALL(regs) & MSG_PEEK_FLAG))
		return 0;
	c.arg = PT_REGS_PARM2_CORE_SYSCALL(regs);
	c.iovcnt = PT_REGS_PARM3_CORE_SYSCALL(regs);
	c.start_ns = now_ns();
	if (bpf_map_update_elem(&sock_calls, &id, &c, BPF_ANY))
		count_loss(EC_L_MAPFULL, EC_S_SOCKET);
	return 0;
}

/* Encrypted from the first n bytes of a socket: a TLS record header (content type
 * 20..23, version 3.x; RFC 8446 section 5.1) or an SSH identification string (RFC 4253
 * section 4.2). */
static __always_inline bool starts_encrypted(const __u8 *p, __u32 n)
{
	if (n >= 4 && p[0] == 'S' && p[1] == 'S' && p[2] == 'H' && p[3] == '-')
		return true;
	return n >= TLS_HDR && p[0] >= 20 && p[0] <= 23 && p[1] == 3 && p[2] <= 4;
}

/* Could the n (< TLS_HDR) first bytes of a socket still begin a TLS record or an SSH
 * banner? Then they are held until more bytes tell. */
static __always_inline bool may_start_encrypted(const __u8 *p, __u32 n)
{
	if (!n)
		return false;
	if (p[0] == 'S')
		return (n < 2 || p[1] == 'S') && (n < 3 || p[2] == 'H') && (n < 4 || p[3] == '-');
	return p[0] >= 20 && p[0] <= 23 && (n < 2 || p[1] == 3) && (n < 3 || p[2] <= 4);
}

/* A TLS ClientHello or ServerHello record on a socket that was plaintext so far: a
 * STARTTLS upgrade (MySQL's SSL request, PostgreSQL's SSLRequest, SMTP, ...). Stricter
 * than the first-bytes test, since plaintext protocols carry binary data: handshake
 * record type 22, version 3.1 to 3.3, a plausible length, and, where those bytes were
 * read (OpenSSL reads the 5-byte header on its own first), handshake type 1 or 2 with
 * a length below 64 KiB. */
static __always_inline bool is_tls_hello(const __u8 *p, __u32 n)
{
	__u32 len;

	if (n < TLS_HDR || p[0] != 22 || p[1] != 3 || p[2] < 1 || p[2] > 3)
		return false;
	len = (__u32)p[3] << 8 | p[4];
	if (len < 38 || len > 16384 + 2048)
		return false;
	if (n >= 6 && p[5] != 1 && p[5] != 2)
		return false;
	return n < 7 || p[6] == 0;
}

/* Append up to len bytes at src to the prefix w (byte i in bits 8i..8i+7, as a
 * little-endian load of the bytes would give; a word, not an array, so the verifier
 * sees no variable stack offset) at byte at. Returns the new fill. */
static __always_inline __u32 prefix_add(__u64 *w, __u32 at, __u64 src, __u64 len)
{
	__u8 b;
	__u32 i;

	if (!at && len >= PREFIX_MAX && !bpf_probe_read_user(w, PREFIX_MAX, (void *)src))
		return PREFIX_MAX;
	for (i = 0; i < PREFIX_MAX; i++) {
		if (i >= len || at >= PREFIX_MAX)
			break;
		if (bpf_probe_read_user(&b, 1, (void *)(src + i)))
			break;
		*w |= (__u64)b << ((at & (PREFIX_MAX - 1)) * 8);
		at++;
	}
	return at;
}

/* The first bytes (up to PREFIX_MAX) a call moved: from its buffer, or from its first
 * two buffers (a header in a buffer of its own). */
static __always_inline __u32 call_prefix(struct sock_call *c, __u64 iov, __u64 iovcnt, long ret,
					 __u64 *w)
{
	struct iovec_user v = {};
	__u64 left = ret;
	__u32 n;

	if (c->kind == SC_BUF)
		return prefix_add(w, 0, c->arg, left);
	if (!iovcnt || bpf_probe_read_user(&v, sizeof(v), (void *)iov))
		return 0;
	n = prefix_add(w, 0, v.base, v.len < left ? v.len : left);
	if (n >= PREFIX_MAX || n >= left || iovcnt < 2 || v.len > n)
		return n;
	left -= n;
	if (bpf_probe_read_user(&v, sizeof(v), (void *)(iov + sizeof(v))))
		return n;
	return prefix_add(w, n, v.base, v.len < left ? v.len : left);
}

/* Report the bytes a socket's short first read(s) held once they turn out not to
 * begin a TLS record. */
static __always_inline void emit_held(void *ctx, struct sock_state *st, struct conn_info *ci)
{
	struct scratch *s = scratch_get();
	__u32 n = st->n;

	if (!s || !n)
		return;
	hdr_init(&s->hdr, EC_K_DATA, EC_S_SOCKET);
	s->hdr.dir = st->dir;
	s->hdr.call_id = st->call_id;
	s->hdr.fd = ci->fd;
	s->hdr.family = ci->family;
	s->hdr.lport = ci->lport;
	s->hdr.rport = ci->rport;
	__builtin_memcpy(s->hdr.laddr, ci->laddr, 16);
	__builtin_memcpy(s->hdr.raddr, ci->raddr, 16);
	s->hdr.conn_id = ci->conn_id;
	__builtin_memcpy(s->data, st->held, PREFIX_MAX);
	if (n > PREFIX_MAX)
		n = PREFIX_MAX;
	s->hdr.len = n;
	output(ctx, s, n);
}

/* Judge a call's bytes by the socket's state. Returns true when they are ciphertext
 * (or held) and must not be reported. */
static __always_inline bool judge(void *ctx, struct sock_call *c, __u64 iov, __u64 iovcnt, long ret)
{
	struct sock_state *st, ns = {};
	__u8 p[PREFIX_MAX], q[PREFIX_MAX];
	__u64 w = 0, wq;
	__u32 pn, qn;

	pn = call_prefix(c, iov, iovcnt, ret, &w);
	__builtin_memcpy(p, &w, PREFIX_MAX);
	st = bpf_map_lookup_elem(&sock_kind, &c->ci.sock_ino);
	if (!st) {
		if (pn < TLS_HDR && pn == ret && may_start_encrypted(p, pn)) {
			/* A short first read (a protocol sniffer's one byte): hold it. */
			ns.kind = SOCK_PENDING;
			ns.n = pn;
			ns.dir = c->dir;
			ns.call_id = c->start_ns;
			__builtin_memcpy(ns.held, p, PREFIX_MAX);
			bpf_map_update_elem(&sock_kind, &c->ci.sock_ino, &ns, BPF_ANY);
			return true;
		}
		ns.kind = starts_encrypted(p, pn) ? SOCK_ENCRYPTED : SOCK_PLAIN;
		bpf_map_update_elem(&sock_kind, &c->ci.sock_ino, &ns, BPF_ANY);
		return ns.kind == SOCK_ENCRYPTED;
	}
	if (st->kind == SOCK_ENCRYPTED)
		return true;
	if (st->kind == SOCK_PENDING) {
		if (st->dir == c->dir) {
			/* The held bytes (fewer than TLS_HDR) and this call's, in order. */
			__builtin_memcpy(&wq, st->held, PREFIX_MAX);
			qn = st->n;
			if (qn >= TLS_HDR)
				qn = TLS_HDR - 1;
			wq |= w << (qn * 8);
			qn += pn;
			if (qn > PREFIX_MAX)
				qn = PREFIX_MAX;
			__builtin_memcpy(q, &wq, PREFIX_MAX);
			if (st->n + ret < TLS_HDR && may_start_encrypted(q, qn)) {
				__builtin_memcpy(st->held, q, PREFIX_MAX);
				st->n = qn;
				return true;
			}
			if (starts_encrypted(q, qn)) {
				st->kind = SOCK_ENCRYPTED;
				return true;
			}
		}
		/* Not TLS after all (or the other side spoke first: a TLS peer waits for
		 * the whole hello): the held bytes come first. */
		emit_held(ctx, st, &c->ci);
		st->kind = SOCK_PLAIN;
		st->n = 0;
		return false;
	}
	if (is_tls_hello(p, pn)) {
		st->kind = SOCK_ENCRYPTED;
		return true;
	}
	return false;
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
	__u64 iov, iovcnt;
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
	/* TLS records or an SSH banner mean ciphertext: from the first bytes on, or from
	 * a STARTTLS upgrade's hello on. */
	if (judge(ctx, c, iov, iovcnt, ret)) {
		note_thread_sock(id, &c->ci, c->dir);
		goto out;
	}
	s = scratch_get();
	if (!s)
		goto out;
	hdr_init(&s->hdr, EC_K_DATA, EC_S_SOCKET);
	s->hdr.dir = c->dir;
	s->hdr.call_id = c->start_ns;
	/* A send is stamped when it was made (tls.bpf.c: call_hdr). */
	if (c->dir == EC_DIR_SEND)
		s->hdr.ts_ns = c->start_ns;
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

/* A thread that exits inside a socket call (killed in a blocking read) never reaches
 * sys_exit: its per-thread entries go when it exits (see tls.bpf.c: tls_task_exit). */
SEC("raw_tp/sched_process_exit")
int sock_task_exit(struct bpf_raw_tracepoint_args *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();

	bpf_map_delete_elem(&sock_calls, &id);
	bpf_map_delete_elem(&thread_socks, &id);
	bpf_map_delete_elem(&pending_sends, &id);
	return 0;
}
