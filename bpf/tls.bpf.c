// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * TLS plaintext from every TLS library ecaptop knows, in one object so the engine
 * loads and shares it once:
 *   OpenSSL/BoringSSL  SSL_write/SSL_read and the _ex pair (entry + return); or, where
 *                      user space finds them, ssl_write_internal/ssl_read_internal,
 *                      which both pairs call (one cheaper trap per call)
 *   GnuTLS             gnutls_record_send/gnutls_record_recv (entry + return)
 *   NSS                PR_Write/PR_Send/PR_Read/PR_Recv of NSPR, SSL-layer descriptors only
 *   Go crypto/tls      (*Conn).writeRecordLocked and (*Conn).Read: entry + each RET
 *                      instruction (never a uretprobe: it breaks Go's stack handling)
 * The entry probe remembers the buffer; the return probe copies exactly the bytes
 * the call transferred (per its return value) in EC_CHUNK-sized records.
 *
 * Attribution without per-version struct offsets: while a thread is inside a TLS
 * call, the raw sys_enter tracepoint notes the fd of the socket syscalls it makes
 * (the library reads or writes the socket from inside the call). The return probe
 * turns that fd into the connection through CO-RE reads (sockinfo.bpf.h) and caches
 * it per library object (SSL*, gnutls_session_t, PRFileDesc*, *tls.Conn) for calls
 * served from the library's buffer without any syscall.
 */
#include "common.bpf.h"
#include <bpf/bpf_endian.h>

#include "emit.bpf.h"
#include "sockinfo.bpf.h"
#include "tlsshare.bpf.h"

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

/* ssl_key, ssl_conns: tlsshare.bpf.h. */

/* ---- NSS: which PRFileDesc layers are NSS's SSL layer ---- */

/* A file holding NSS's SSL layer (libssl3.so, or an executable with it linked in),
 * by the identity the kernel gives the mapped file: s_dev in the kernel's encoding
 * (major << 20 | minor) and the inode. Filled by user space at discovery. */
struct file_key {
	__u32 dev;
	__u32 pad;
	__u64 ino;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, struct file_key);
	__type(value, __u8);
} nss_ssl_files SEC(".maps");

struct methods_key {
	__u64 methods;
	__u32 tgid;
	__u32 pad;
};

/* PRIOMethods tables found to be the SSL layer's, per process (positive verdicts
 * only: a negative one may change once libssl3 is discovered). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, struct methods_key);
	__type(value, __u8);
} nss_ssl_methods SEC(".maps");

/* ---- Go ---- */

struct go_key {
	__u64 g; /* the goroutine's g pointer: stable for its life, unlike the thread */
	__u32 tgid;
	__u32 dir;
};

struct go_call {
	__u64 conn; /* *tls.Conn */
	__u64 buf;
	__u64 len;
	__u64 start_ns;
	__s32 fd;  /* last fd of a read/write syscall made by the goroutine in the call */
	__u32 typ; /* writeRecordLocked's record type */
};

/* LRU: a goroutine whose process is killed inside a call never reaches a RET probe, and
 * no exit tracepoint names a goroutine; the oldest entries go first when it is full. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct go_key);
	__type(value, struct go_call);
} go_calls SEC(".maps");

/* Go calls in flight on the machine: when 0, syscalls outside a tls_calls entry need
 * no goroutine lookup. An estimate (a call that never reaches a RET probe keeps it
 * above 0); it only decides whether to look. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __s64);
} go_active SEC(".maps");

/* go_key.dir of (*Conn).flush: learns the connection's socket, reports nothing. */
#define GO_DIR_FLUSH 3

/* crypto/tls recordTypeApplicationData (RFC 8446 section 5.1: ContentType 23). */
#define GO_RECORD_APPDATA 23

/*
 * Go's internal register ABI (go1.17+ on amd64, go1.18+ on arm64; see
 * https://go.dev/s/regabi): integer arguments and results in RAX, RBX, RCX, RDI, RSI,
 * R8.. on amd64 and R0, R1, .. on arm64; the current goroutine's g in R14 (amd64) or
 * R28 (arm64). A slice argument takes three registers (pointer, length, capacity).
 */
#if defined(__TARGET_ARCH_x86)
#define GO_ARG1(r) ((r)->ax)
#define GO_ARG2(r) ((r)->bx)
#define GO_ARG3(r) ((r)->cx)
#define GO_ARG4(r) ((r)->di)
#define GO_G(r)	   ((r)->r14)
/* At a uretprobe the return address has been popped: sp is the entry sp + 8. */
#define RET_SP_ADJ 8
#elif defined(__TARGET_ARCH_arm64)
#define GO_ARG1(r) (((struct user_pt_regs *)(r))->regs[0])
#define GO_ARG2(r) (((struct user_pt_regs *)(r))->regs[1])
#define GO_ARG3(r) (((struct user_pt_regs *)(r))->regs[2])
#define GO_ARG4(r) (((struct user_pt_regs *)(r))->regs[3])
#define GO_G(r)	   (((struct user_pt_regs *)(r))->regs[28])
/* The return address is in the link register: sp is unchanged by the return. */
#define RET_SP_ADJ 0
#else
#error "ecaptop's TLS probes support x86 and arm64"
#endif

static __always_inline int tls_enter(void *ctx, __u32 source, __u32 dir, void *ssl, const void *buf,
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
	c.sp = PT_REGS_SP((struct pt_regs *)ctx);
	if (bpf_map_update_elem(&tls_calls, &id, &c, BPF_ANY))
		count_loss(EC_L_MAPFULL, source);
	return 0;
}

/* How long before a memory-BIO call the thread's socket syscall may be: an event loop
 * moves the ciphertext and calls the library in one turn. */
#define NEARBY_NS (2ull * 1000000000)

/*
 * A call that made no socket syscall (a memory BIO, or bytes the library had
 * buffered), on an object whose socket is not known from a syscall inside an earlier
 * call: take the socket the thread moved ciphertext on last (tlsshare.bpf.h:
 * thread_socks). An event loop reads a connection's socket just before feeding
 * SSL_read, so for a read that socket is the one; a write's ciphertext leaves after
 * the call, so a write takes the socket the thread last used for any connection
 * (a handshake's last read on that connection, in a client that has not written
 * yet) and a later read corrects it. Returns true with ci filled when it found one
 * that differs from cached (NULL: none known).
 */
static __always_inline bool nearby_sock(__u64 id, __u32 dir, __u64 start_ns,
					const struct conn_info *cached, struct conn_info *ci)
{
	struct thread_sock *ts = bpf_map_lookup_elem(&thread_socks, &id);

	if (!ts || ts->ts > start_ns || start_ns - ts->ts > NEARBY_NS)
		return false;
	if (cached &&
	    (dir != EC_DIR_RECV || ts->dir != EC_DIR_RECV || cached->sock_ino == ts->ci.sock_ino))
		return false;
	*ci = ts->ci;
	ci->how = CI_NEARBY;
	return true;
}

/* Fill the scratch header of a call on the library connection object obj; fd is the
 * socket seen inside the call (-1 if none). NULL when there is nothing to report. */
static __always_inline struct scratch *call_hdr(__u32 source, __u32 dir, __u64 obj, __s32 fd,
						__u64 total, __u64 start_ns)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct conn_info ci = {};
	struct ssl_key key = {};
	struct conn_info *cached;
	struct scratch *s;
	__u32 one = 1;

	key.ssl = obj;
	key.tgid = id >> 32;
	/* Learn the connection even when nothing is reported (a Go handshake record),
	 * so calls served from the library's buffer later are attributed. */
	if (fd >= 0 && sock_from_fd(fd, &ci) == 0) {
		/* An LRU update costs several times a lookup, and nearly every call
		 * finds what the previous call on this object stored. */
		cached = bpf_map_lookup_elem(&ssl_conns, &key);
		if (!cached || cached->sock_ino != ci.sock_ino || cached->fd != ci.fd)
			bpf_map_update_elem(&ssl_conns, &key, &ci, BPF_ANY);
		if (!bpf_map_lookup_elem(&tls_socks, &ci.sock_ino))
			bpf_map_update_elem(&tls_socks, &ci.sock_ino, &one, BPF_ANY);
	} else {
		cached = bpf_map_lookup_elem(&ssl_conns, &key);
		if (source != EC_S_GOTLS && (!cached || cached->how == CI_NEARBY) &&
		    nearby_sock(id, dir, start_ns, cached, &ci)) {
			bpf_map_update_elem(&ssl_conns, &key, &ci, BPF_ANY);
			if (!bpf_map_lookup_elem(&tls_socks, &ci.sock_ino))
				bpf_map_update_elem(&tls_socks, &ci.sock_ino, &one, BPF_ANY);
		} else if (cached) {
			ci = *cached;
		}
	}
	if (!total)
		return NULL;
	s = scratch_get();
	if (!s)
		return NULL;
	hdr_init(&s->hdr, EC_K_DATA, source);
	/* Bytes sent leave the program when it hands them to the library (the call's
	 * entry): a peer's read of them, stamped at its return, can come before this
	 * call returns. */
	if (dir == EC_DIR_SEND)
		s->hdr.ts_ns = start_ns;
	if (dir == EC_DIR_SEND && source != EC_S_GOTLS && fd < 0 &&
	    (!ci.conn_id || ci.how == CI_NEARBY)) {
		/* A memory-BIO write: the socket write that follows names the connection. */
		struct pending_send ps = {.ssl = obj, .call_id = start_ns, .source = source};

		if (!bpf_map_update_elem(&pending_sends, &id, &ps, BPF_ANY))
			s->hdr.flags |= EC_F_ATTR_LATER;
	}
	s->hdr.dir = dir;
	s->hdr.call_id = start_ns;
	s->hdr.aux = 0;
	if (!ci.conn_id)
		s->hdr.flags |= EC_F_NO_SOCKET;
	s->hdr.fd = ci.conn_id ? ci.fd : -1;
	s->hdr.family = ci.family;
	s->hdr.lport = ci.lport;
	s->hdr.rport = ci.rport;
	__builtin_memcpy(s->hdr.laddr, ci.laddr, 16);
	__builtin_memcpy(s->hdr.raddr, ci.raddr, 16);
	/* Without a socket, the library object is the best identity of the connection. */
	s->hdr.conn_id = ci.conn_id ? ci.conn_id : obj;
	return s;
}

/* Report total bytes at buf, transferred by one call. */
static __always_inline void emit_call(void *ctx, __u32 source, __u32 dir, __u64 obj, __s32 fd,
				      __u64 buf, __u64 total, __u64 start_ns)
{
	struct scratch *s = call_hdr(source, dir, obj, fd, total, start_ns);

	if (s)
		emit_payload(ctx, s, buf, total);
}

/* NSPR's PRIOVec (prio.h): { char *iov_base; int iov_len; }; PR_Writev takes at most
 * PR_MAX_IOVECTOR_SIZE (16) of them. */
#define PR_MAX_IOV 16

struct pr_iovec {
	__u64 base;
	__s32 len;
	__s32 pad;
};

struct iov_ctx {
	void *ctx;
	struct scratch *s;
	__u64 iov;
	__u64 total;
	__u32 cnt;
	__u32 source;
};

/* Vector i of a gather write. Returns 1 to stop. */
static long emit_iov_cb(__u32 i, void *data)
{
	struct iov_ctx *x = data;
	struct pr_iovec v;
	__u64 n;

	if (i >= x->cnt || !x->total)
		return 1;
	if (bpf_probe_read_user(&v, sizeof(v), (void *)(x->iov + i * sizeof(v)))) {
		count_loss(EC_L_READ, x->source);
		return 1;
	}
	if (v.len <= 0)
		return 0;
	n = (__u64)v.len < x->total ? (__u64)v.len : x->total;
	emit_payload(x->ctx, x->s, v.base, n);
	/* The records of the next vector continue the same call. */
	x->s->hdr.flags |= EC_F_CONT;
	x->total -= n;
	return 0;
}

/* Report the first total bytes of a gather write, vector by vector. Without
 * bpf_loop the verifier would walk every vector's copy loop: only the first few
 * vectors are then reported (the rest counted as truncated). */
static __always_inline void emit_iov(void *ctx, struct tls_call *c, __u64 total)
{
	struct scratch *s = call_hdr(c->source, c->dir, c->ssl, c->fd, total, c->start_ns);
	struct iov_ctx x = {.ctx = ctx,
			    .s = s,
			    .iov = c->buf,
			    .total = total,
			    .cnt = c->iovcnt,
			    .source = c->source};
	__u32 i;

	if (!s)
		return;
	if (has_bpf_loop) {
#ifndef EC_NO_CALLBACKS
		bpf_loop(PR_MAX_IOV, emit_iov_cb, &x, 0);
#endif
		return;
	}
	for (i = 0; i < 2; i++)
		if (emit_iov_cb(i, &x))
			break;
	if (x.total && x.cnt > 2)
		count_loss(EC_L_TRUNC, c->source);
}

static __always_inline int tls_exit(void *ctx, long ret, bool ex, bool iov)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct tls_call *c = bpf_map_lookup_elem(&tls_calls, &id);
	__u64 total = 0;

	if (!c)
		return 0;
	/* The return of a nested call of the same function (whose entry was not
	 * recorded because its descriptor was not TLS) is not the recorded call's. */
	if (PT_REGS_SP((struct pt_regs *)ctx) != c->sp + RET_SP_ADJ)
		return 0;
	if (ex) {
		/* SSL_read_ex/SSL_write_ex (and ssl_read_internal/ssl_write_internal
		 * behind them) return 1 on success and store the count. */
		__u64 n = 0;

		if (ret <= 0)
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
	if (iov)
		emit_iov(ctx, c, total);
	else if (!c->iovcnt)
		emit_call(ctx, c->source, c->dir, c->ssl, c->fd, c->buf, total, c->start_ns);
out:
	bpf_map_delete_elem(&tls_calls, &id);
	return 0;
}

/* ---- OpenSSL, BoringSSL ---- */

SEC("uprobe")
int BPF_KPROBE(ssl_write_enter, void *ssl, const void *buf, int num)
{
	return tls_enter(ctx, EC_S_OPENSSL, EC_DIR_SEND, ssl, buf, NULL);
}

SEC("uprobe")
int BPF_KPROBE(ssl_read_enter, void *ssl, void *buf, int num)
{
	return tls_enter(ctx, EC_S_OPENSSL, EC_DIR_RECV, ssl, buf, NULL);
}

SEC("uprobe")
int BPF_KPROBE(ssl_write_ex_enter, void *ssl, const void *buf, __u64 num, __u64 *written)
{
	return tls_enter(ctx, EC_S_OPENSSL, EC_DIR_SEND, ssl, buf, written);
}

SEC("uprobe")
int BPF_KPROBE(ssl_read_ex_enter, void *ssl, void *buf, __u64 num, __u64 *readbytes)
{
	return tls_enter(ctx, EC_S_OPENSSL, EC_DIR_RECV, ssl, buf, readbytes);
}

/* OpenSSL 3.3 and later (those with SSL_write_ex2): ssl_write_internal(s, buf, num,
 * flags, written). Older ones have SSL_write_ex's arguments, and ssl_read_internal
 * has SSL_read_ex's in every version: those use the _ex programs above. */
SEC("uprobe")
int BPF_KPROBE(ssl_write_flags_enter, void *ssl, const void *buf, __u64 num, __u64 flags,
	       __u64 *written)
{
	return tls_enter(ctx, EC_S_OPENSSL, EC_DIR_SEND, ssl, buf, written);
}

/* int SSL_read/SSL_write; NSS's PRInt32 PR_Read/PR_Write/PR_Recv/PR_Send too. */
SEC("uretprobe")
int BPF_KRETPROBE(ssl_rw_exit, int ret)
{
	return tls_exit(ctx, ret, false, false);
}

SEC("uretprobe")
int BPF_KRETPROBE(ssl_rw_ex_exit, int ret)
{
	return tls_exit(ctx, ret, true, false);
}

/* ---- GnuTLS: ssize_t gnutls_record_send/recv(gnutls_session_t, void *, size_t) ---- */

SEC("uprobe")
int BPF_KPROBE(gnutls_send_enter, void *session, const void *data, __u64 size)
{
	return tls_enter(ctx, EC_S_GNUTLS, EC_DIR_SEND, session, data, NULL);
}

SEC("uprobe")
int BPF_KPROBE(gnutls_recv_enter, void *session, void *data, __u64 size)
{
	return tls_enter(ctx, EC_S_GNUTLS, EC_DIR_RECV, session, data, NULL);
}

SEC("uretprobe")
int BPF_KRETPROBE(gnutls_rw_exit, long ret)
{
	return tls_exit(ctx, ret, false, false);
}

/* ---- NSS/NSPR ---- */

/*
 * NSPR's public ABI (nspr/prio.h, unchanged since NSPR 4.0):
 *   struct PRFileDesc { const PRIOMethods *methods; PRFilePrivate *secret;
 *                       PRFileDesc *lower, *higher; void (*dtor)(PRFileDesc *);
 *                       PRDescIdentity identity; };
 *   struct PRIOMethods { PRDescType file_type; PRCloseFN close; PRReadFN read; ... };
 * A layered descriptor (file_type PR_DESC_LAYERED) is NSS's SSL layer when its
 * methods are NSS's: the read method's code lies in a file user space registered as
 * holding the SSL layer (nss_ssl_files). The layer's identity number is assigned at
 * run time (PR_GetUniqueIdentity), so the code's file is the stable test.
 */
#define PR_DESC_LAYERED 4
#define PRFD_METHODS	0
#define PRFD_LOWER	16
#define PRIO_READ	16 /* PRIOMethods.read: after the 4-byte file_type padded to 8 */
#define NSS_MAX_LAYERS	4  /* another layer may sit above the SSL layer */

struct vma_ctx {
	bool ssl;
};

#ifndef EC_NO_CALLBACKS
static long nss_vma_cb(struct task_struct *task, struct vm_area_struct *vma, void *data)
{
	struct vma_ctx *v = data;
	struct file_key k = {};
	struct file *f = BPF_CORE_READ(vma, vm_file);

	if (!f)
		return 0;
	k.dev = BPF_CORE_READ(f, f_inode, i_sb, s_dev);
	k.ino = BPF_CORE_READ(f, f_inode, i_ino);
	v->ssl = bpf_map_lookup_elem(&nss_ssl_files, &k) != NULL;
	return 0;
}
#endif

/* Is this PRFileDesc, or one of the layers below it, NSS's SSL layer? */
static __always_inline bool nss_is_ssl(const void *fd)
{
	struct methods_key mk = {.tgid = bpf_get_current_pid_tgid() >> 32};
	__u64 methods, readfn;
	__u32 type;
	__u8 one = 1;
	int i;

	for (i = 0; i < NSS_MAX_LAYERS && fd; i++) {
		if (bpf_probe_read_user(&methods, sizeof(methods), fd + PRFD_METHODS) || !methods)
			return false;
		if (bpf_probe_read_user(&type, sizeof(type), (void *)methods))
			return false;
		if (type != PR_DESC_LAYERED)
			return false; /* the bottom (a file, pipe or plain socket) */
		mk.methods = methods;
		if (bpf_map_lookup_elem(&nss_ssl_methods, &mk))
			return true;
		if (bpf_core_enum_value_exists(enum bpf_func_id, BPF_FUNC_find_vma)) {
			struct vma_ctx v = {};

			if (bpf_probe_read_user(&readfn, sizeof(readfn),
						(void *)methods + PRIO_READ))
				return false;
#ifndef EC_NO_CALLBACKS
			bpf_find_vma(bpf_get_current_task_btf(), readfn, nss_vma_cb, &v, 0);
#endif
			if (v.ssl) {
				bpf_map_update_elem(&nss_ssl_methods, &mk, &one, BPF_ANY);
				return true;
			}
		} else {
			/* Kernels before 5.17 cannot tell whose code a layer runs: take
			 * any layered descriptor. Plain files and sockets still never
			 * pass, and the return probe needs bytes moved. */
			return true;
		}
		if (bpf_probe_read_user(&fd, sizeof(fd), fd + PRFD_LOWER))
			return false;
	}
	return false;
}

static __always_inline int nss_enter(void *ctx, __u32 dir, void *fd, const void *buf)
{
	if (!nss_is_ssl(fd))
		return 0;
	return tls_enter(ctx, EC_S_NSS, dir, fd, buf, NULL);
}

SEC("uprobe")
int BPF_KPROBE(nss_write_enter, void *fd, const void *buf, int amount)
{
	return nss_enter(ctx, EC_DIR_SEND, fd, buf);
}

SEC("uprobe")
int BPF_KPROBE(nss_read_enter, void *fd, void *buf, int amount)
{
	return nss_enter(ctx, EC_DIR_RECV, fd, buf);
}

/* PR_Send/PR_Recv(fd, buf, amount, flags, timeout) share the first arguments. */

/* PRInt32 PR_Writev(PRFileDesc *fd, const PRIOVec *iov, PRInt32 iov_size, timeout) */
SEC("uprobe")
int BPF_KPROBE(nss_writev_enter, void *fd, const void *iov, int iov_size)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct tls_call *c;

	if (iov_size <= 0 || nss_enter(ctx, EC_DIR_SEND, fd, iov))
		return 0;
	c = bpf_map_lookup_elem(&tls_calls, &id);
	if (c && c->buf == (__u64)iov && c->source == EC_S_NSS)
		c->iovcnt = iov_size > PR_MAX_IOV ? PR_MAX_IOV : iov_size;
	return 0;
}

SEC("uretprobe")
int BPF_KRETPROBE(nss_writev_exit, int ret)
{
	return tls_exit(ctx, ret, false, true);
}

/* ---- Go crypto/tls ---- */

static __always_inline void go_active_add(__s64 n)
{
	__u32 zero = 0;
	__s64 *v = bpf_map_lookup_elem(&go_active, &zero);

	if (!v)
		return;
	if (n < 0 && *v <= 0)
		return;
	__sync_fetch_and_add(v, n);
}

static __always_inline int go_enter(struct pt_regs *ctx, __u32 dir, __u64 conn, __u64 buf,
				    __u64 len, __u32 typ)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 uid = (__u32)bpf_get_current_uid_gid();
	struct go_key k = {.g = GO_G(ctx), .tgid = id >> 32, .dir = dir};
	struct go_call gc = {}, *old;
	struct tls_call tc = {};

	if (!pass_filter(id >> 32, uid) || !k.g)
		return 0;
	/* An entry already there is this same call run again from the top after its
	 * stack grew (runtime.morestack restarts the function): replace it. */
	old = bpf_map_lookup_elem(&go_calls, &k);
	gc.conn = conn;
	gc.buf = buf;
	gc.len = len;
	gc.start_ns = now_ns();
	gc.fd = old && old->conn == conn ? old->fd : -1;
	gc.typ = typ;
	if (bpf_map_update_elem(&go_calls, &k, &gc, BPF_ANY)) {
		count_loss(EC_L_MAPFULL, EC_S_GOTLS);
		return 0;
	}
	if (!old)
		go_active_add(1);
	tc.ssl = conn;
	tc.buf = buf;
	tc.start_ns = gc.start_ns;
	tc.fd = -1;
	tc.source = EC_S_GOTLS;
	tc.dir = dir;
	tc.goid = k.g;
	if (bpf_map_update_elem(&tls_calls, &id, &tc, BPF_ANY))
		count_loss(EC_L_MAPFULL, EC_S_GOTLS);
	return 0;
}

static __always_inline int go_ret(struct pt_regs *ctx, __u32 dir)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct go_key k = {.g = GO_G(ctx), .tgid = id >> 32, .dir = dir};
	struct go_call *gc = bpf_map_lookup_elem(&go_calls, &k);
	struct tls_call *tc;
	__s64 n = (__s64)GO_ARG1(ctx); /* the int result */
	__u64 total;

	if (!gc)
		return 0;
	total = n > 0 ? (__u64)n : 0;
	if (total > gc->len)
		total = gc->len;
	/* A handshake or alert record, or a flush of the handshake's buffered
	 * records: learn the socket only. */
	if ((dir == EC_DIR_SEND && gc->typ != GO_RECORD_APPDATA) || dir == GO_DIR_FLUSH)
		total = 0;
	emit_call(ctx, EC_S_GOTLS, dir == GO_DIR_FLUSH ? EC_DIR_SEND : dir, gc->conn, gc->fd,
		  gc->buf, total, gc->start_ns);
	bpf_map_delete_elem(&go_calls, &k);
	go_active_add(-1);
	/* The thread stays "inside a TLS call" while the goroutine has another one open
	 * (Read runs the handshake, which writes records). */
	tc = bpf_map_lookup_elem(&tls_calls, &id);
	if (!tc || tc->goid != k.g)
		return 0;
	k.dir = EC_DIR_SEND;
	if (bpf_map_lookup_elem(&go_calls, &k))
		return 0;
	k.dir = EC_DIR_RECV;
	if (bpf_map_lookup_elem(&go_calls, &k))
		return 0;
	k.dir = GO_DIR_FLUSH;
	if (bpf_map_lookup_elem(&go_calls, &k))
		return 0;
	bpf_map_delete_elem(&tls_calls, &id);
	return 0;
}

/* func (c *Conn) writeRecordLocked(typ recordType, data []byte) (int, error):
 * c in arg 1, typ (a uint8) in arg 2, data's pointer and length in args 3 and 4. */
SEC("uprobe")
int go_write_enter(struct pt_regs *ctx)
{
	return go_enter(ctx, EC_DIR_SEND, GO_ARG1(ctx), GO_ARG3(ctx), GO_ARG4(ctx),
			GO_ARG2(ctx) & 0xff);
}

SEC("uprobe")
int go_write_ret(struct pt_regs *ctx)
{
	return go_ret(ctx, EC_DIR_SEND);
}

/* func (c *Conn) Read(b []byte) (int, error): c in arg 1, b's pointer and length
 * in args 2 and 3. */
SEC("uprobe")
int go_read_enter(struct pt_regs *ctx)
{
	return go_enter(ctx, EC_DIR_RECV, GO_ARG1(ctx), GO_ARG2(ctx), GO_ARG3(ctx), 0);
}

SEC("uprobe")
int go_read_ret(struct pt_regs *ctx)
{
	return go_ret(ctx, EC_DIR_RECV);
}

/* func (c *Conn) flush() (int, error): the handshake buffers its records and writes
 * them here, so a server learns its socket before the first application record. */
SEC("uprobe")
int go_flush_enter(struct pt_regs *ctx)
{
	return go_enter(ctx, GO_DIR_FLUSH, GO_ARG1(ctx), 0, 0, 0);
}

SEC("uprobe")
int go_flush_ret(struct pt_regs *ctx)
{
	return go_ret(ctx, GO_DIR_FLUSH);
}

/* The user's g register at a syscall: Go's syscall paths keep the ABI's g register. */
static __always_inline __u64 user_g(struct pt_regs *regs)
{
#if defined(__TARGET_ARCH_x86)
	return BPF_CORE_READ(regs, r14);
#else
	return BPF_CORE_READ((struct user_pt_regs *)regs, regs[28]);
#endif
}

/* A syscall by a goroutine inside a Go TLS call: note its fd in the call. */
static __always_inline bool go_note_fd(__u64 g, __u32 tgid, __s32 fd)
{
	struct go_key k = {.g = g, .tgid = tgid, .dir = EC_DIR_SEND};
	struct go_call *gc;
	bool found = false;

	gc = bpf_map_lookup_elem(&go_calls, &k);
	if (gc) {
		gc->fd = fd;
		found = true;
	}
	k.dir = EC_DIR_RECV;
	gc = bpf_map_lookup_elem(&go_calls, &k);
	if (gc) {
		gc->fd = fd;
		found = true;
	}
	k.dir = GO_DIR_FLUSH;
	gc = bpf_map_lookup_elem(&go_calls, &k);
	if (gc) {
		gc->fd = fd;
		found = true;
	}
	return found;
}

/* Note the socket fd of read/write family syscalls made inside a TLS call. One hash
 * lookup for the threads that matter; nothing else for the rest of the machine
 * while no Go TLS call is in flight. */
SEC("raw_tp/sys_enter")
int tls_sys_enter(struct bpf_raw_tracepoint_args *ctx)
{
	long nr = ctx->args[1];
	struct tls_call *c, tc = {};
	struct pt_regs *regs;
	__s64 *active;
	__u32 zero = 0;
	__s32 fd;
	__u64 id, g;

	if (nr != nr_read && nr != nr_write && nr != nr_sendto && nr != nr_recvfrom &&
	    nr != nr_readv && nr != nr_writev && nr != nr_sendmsg && nr != nr_recvmsg)
		return 0;
	id = bpf_get_current_pid_tgid();
	regs = (struct pt_regs *)ctx->args[0];
	fd = (__s32)PT_REGS_PARM1_CORE_SYSCALL(regs);
	c = bpf_map_lookup_elem(&tls_calls, &id);
	if (c && c->source != EC_S_GOTLS) {
		c->fd = fd;
		return 0;
	}
	if (!c) {
		active = bpf_map_lookup_elem(&go_active, &zero);
		if (!active || *active <= 0)
			return 0;
	}
	g = user_g(regs);
	if (c && c->goid != g) {
		/* Another goroutine runs on this thread now: the entry is stale. */
		bpf_map_delete_elem(&tls_calls, &id);
		c = NULL;
	}
	if (!go_note_fd(g, id >> 32, fd))
		return 0;
	if (!c) {
		/* The goroutine resumed on this thread inside its call. */
		tc.fd = fd;
		tc.source = EC_S_GOTLS;
		tc.goid = g;
		if (bpf_map_update_elem(&tls_calls, &id, &tc, BPF_ANY))
			count_loss(EC_L_MAPFULL, EC_S_GOTLS);
	} else {
		c->fd = fd;
	}
	return 0;
}

/* sched_process_exit(struct task_struct *p) fires for every exiting thread, as that
 * thread: a thread killed inside a TLS call never returns from it, so its tls_calls
 * entry goes here, and the map (keyed by thread) cannot fill with dead threads. */
SEC("raw_tp/sched_process_exit")
int tls_task_exit(struct bpf_raw_tracepoint_args *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();

	bpf_map_delete_elem(&tls_calls, &id);
	return 0;
}
