// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * TLS plaintext from OpenSSL and BoringSSL: uprobes on SSL_write/SSL_read and the
 * _ex pair. The entry probe remembers the buffer; the return probe copies exactly
 * the bytes the call transferred (per its return value) in EC_CHUNK-sized records.
 *
 * Attribution without per-version struct offsets: while a thread is inside a TLS
 * call, the raw sys_enter tracepoint notes the fd of the socket syscalls it makes
 * (the library's BIO reads or writes the socket from inside SSL_read/SSL_write).
 * The return probe turns that fd into the connection through CO-RE reads
 * (sockinfo.bpf.h) and caches it per SSL object for calls served from the
 * library's buffer without any syscall.
 */
#include "common.bpf.h"
#include <bpf/bpf_endian.h>

#include "emit.bpf.h"
#include "sockinfo.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Syscall numbers differ per architecture: user space sets them from <sys/syscall.h>. */
const volatile long nr_read = -1;
const volatile long nr_write = -1;
const volatile long nr_readv = -1;
const volatile long nr_writev = -1;
const volatile long nr_sendto = -1;
const volatile long nr_recvfrom = -1;
const volatile long nr_sendmsg = -1;
const volatile long nr_recvmsg = -1;

struct tls_call {
	__u64 buf; /* the caller's plaintext buffer */
	__u64 len_ptr; /* _ex calls: where the library stores the byte count */
	__u64 ssl; /* the SSL object: key of the connection cache */
	__u64 start_ns;
	__s32 fd; /* last fd of a socket syscall made inside the call, -1 if none */
	__u32 source;
	__u32 dir;
	__u32 pad;
};

/* Threads inside a TLS call, keyed by pid_tgid. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, struct tls_call);
} tls_calls SEC(".maps");

struct ssl_key {
	__u64 ssl;
	__u32 tgid;
	__u32 pad;
};

/* The connection last seen under each SSL object. LRU: SSL objects are freed
 * without a probe telling us. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct ssl_key);
	__type(value, struct conn_info);
} ssl_conns SEC(".maps");

static __always_inline int tls_enter(__u32 source, __u32 dir, void *ssl, const void *buf,
				     void *len_ptr)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 uid = (__u32)bpf_get_current_uid_gid();
	struct tls_call c = {};

	if (!pass_filter(id >> 32, uid))
		return 0;
	c.buf = (__u64)buf;
	c.len_ptr = (__u64)len_ptr;
	c.ssl = (__u64)ssl;
	c.start_ns = now_ns();
	c.fd = -1;
	c.source = source;
	c.dir = dir;
	bpf_map_update_elem(&tls_calls, &id, &c, BPF_ANY);
	return 0;
}

static __always_inline int tls_exit(void *ctx, long ret, bool ex)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct tls_call *c = bpf_map_lookup_elem(&tls_calls, &id);
	struct conn_info ci = {};
	struct ssl_key key = {};
	struct conn_info *cached;
	struct scratch *s;
	__u64 total;

	if (!c)
		return 0;
	if (ex) {
		/* SSL_read_ex/SSL_write_ex return 1 on success and store the count. */
		__u64 n = 0;

		if (ret != 1)
			goto out;
		if (bpf_probe_read_user(&n, sizeof(n), (void *)c->len_ptr)) {
			count_loss(EC_L_READ, c->source);
			goto out;
		}
		total = n;
	} else {
		if (ret <= 0)
			goto out;
		total = ret;
	}
	if (!total)
		goto out;
	s = scratch_get();
	if (!s)
		goto out;
	hdr_init(&s->hdr, EC_K_DATA, c->source);
	s->hdr.dir = c->dir;
	s->hdr.call_id = c->start_ns;
	s->hdr.aux = 0;

	key.ssl = c->ssl;
	key.tgid = id >> 32;
	if (c->fd >= 0 && sock_from_fd(c->fd, &ci) == 0) {
		bpf_map_update_elem(&ssl_conns, &key, &ci, BPF_ANY);
	} else {
		cached = bpf_map_lookup_elem(&ssl_conns, &key);
		if (cached)
			ci = *cached;
		else
			s->hdr.flags |= EC_F_NO_SOCKET;
	}
	s->hdr.fd = ci.conn_id ? ci.fd : -1;
	s->hdr.family = ci.family;
	s->hdr.lport = ci.lport;
	s->hdr.rport = ci.rport;
	__builtin_memcpy(s->hdr.laddr, ci.laddr, 16);
	__builtin_memcpy(s->hdr.raddr, ci.raddr, 16);
	/* Without a socket, the SSL object is the best identity of the connection. */
	s->hdr.conn_id = ci.conn_id ? ci.conn_id : c->ssl;
	emit_payload(ctx, s, c->buf, total);
out:
	bpf_map_delete_elem(&tls_calls, &id);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(ssl_write_enter, void *ssl, const void *buf, int num)
{
	return tls_enter(EC_S_OPENSSL, EC_DIR_SEND, ssl, buf, NULL);
}

SEC("uprobe")
int BPF_KPROBE(ssl_read_enter, void *ssl, void *buf, int num)
{
	return tls_enter(EC_S_OPENSSL, EC_DIR_RECV, ssl, buf, NULL);
}

SEC("uprobe")
int BPF_KPROBE(ssl_write_ex_enter, void *ssl, const void *buf, __u64 num, __u64 *written)
{
	return tls_enter(EC_S_OPENSSL, EC_DIR_SEND, ssl, buf, written);
}

SEC("uprobe")
int BPF_KPROBE(ssl_read_ex_enter, void *ssl, void *buf, __u64 num, __u64 *readbytes)
{
	return tls_enter(EC_S_OPENSSL, EC_DIR_RECV, ssl, buf, readbytes);
}

SEC("uretprobe")
int BPF_KRETPROBE(ssl_rw_exit, int ret)
{
	return tls_exit(ctx, ret, false);
}

SEC("uretprobe")
int BPF_KRETPROBE(ssl_rw_ex_exit, int ret)
{
	return tls_exit(ctx, ret, true);
}

/* Note the socket fd of read/write family syscalls made inside a TLS call. One hash
 * lookup for the threads that matter; nothing else for the rest of the machine. */
SEC("raw_tp/sys_enter")
int tls_sys_enter(struct bpf_raw_tracepoint_args *ctx)
{
	long nr = ctx->args[1];
	struct tls_call *c;
	struct pt_regs *regs;
	__u64 id;

	if (nr != nr_read && nr != nr_write && nr != nr_sendto && nr != nr_recvfrom &&
	    nr != nr_readv && nr != nr_writev && nr != nr_sendmsg && nr != nr_recvmsg)
		return 0;
	id = bpf_get_current_pid_tgid();
	c = bpf_map_lookup_elem(&tls_calls, &id);
	if (!c)
		return 0;
	regs = (struct pt_regs *)ctx->args[0];
	c->fd = (__s32)PT_REGS_PARM1_CORE_SYSCALL(regs);
	return 0;
}
