/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The maps tls.bpf.c and sock.bpf.c share (user space loads tls first and hands its
 * maps to sock: engine.c, share_maps), in one place so both objects declare them
 * alike.
 */
#ifndef ECAPTOP_BPF_TLSSHARE_BPF_H
#define ECAPTOP_BPF_TLSSHARE_BPF_H

#include "common.bpf.h"
#include "sockinfo.bpf.h"

/*
 * A thread inside a TLS call (map tls_calls, key pid_tgid). Other sources use the
 * map's presence to skip the ciphertext syscalls the library makes inside the call.
 * For Go (source EC_S_GOTLS) goid is the goroutine (its g pointer) that owns the
 * entry: a goroutine can park inside the call and resume on another thread, leaving
 * this entry behind; it is stale as soon as the thread runs another goroutine
 * (the user's g register, R14 on amd64 and R28 on arm64, differs from goid), and
 * tls_sys_enter removes it at that thread's next read/write-family syscall.
 */
struct tls_call {
	__u64 buf;     /* the caller's plaintext buffer */
	__u64 len_ptr; /* _ex calls: where the library stores the byte count */
	__u64 ssl;     /* the library's connection object: key of the connection cache */
	__u64 start_ns;
	__s32 fd; /* last fd of a socket syscall made inside the call, -1 if none */
	__u32 source;
	__u32 dir;
	__u32 iovcnt; /* PR_Writev: buf is a PRIOVec array of this many entries */
	__u64 sp;     /* C libraries: stack pointer at entry, to match the return to it */
	__u64 goid;   /* Go: the goroutine's g pointer; 0 for C libraries */
};

/* Threads inside a TLS call, keyed by pid_tgid. Emptied by the return probes and, for
 * threads that die inside a call, by the thread-exit tracepoint (tls.bpf.c:
 * tls_task_exit); an insert that fails is counted (EC_L_MAPFULL). User space may
 * shrink it before load (ECAPTOP_TEST_TLS_CALLS, for the tests). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, struct tls_call);
} tls_calls SEC(".maps");

/* Sockets a TLS library call was seen using (key: the socket's inode number). Their
 * bytes are ciphertext, whatever the first ones looked like (Go's TLS, a STARTTLS
 * upgrade): the socket source never reports them. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, __u32);
} tls_socks SEC(".maps");

struct ssl_key {
	__u64 ssl;
	__u32 tgid;
	__u32 pad;
};

/* The connection last seen under each library connection object. LRU: the objects
 * are freed without a probe telling us. Shared with sock.bpf.c, which learns it for
 * memory-BIO writes (pending_sends). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct ssl_key);
	__type(value, struct conn_info);
} ssl_conns SEC(".maps");

/*
 * A memory-BIO write (tls.bpf.c: call_hdr) whose connection was not known for sure:
 * its ciphertext leaves right after the call, on the same thread. The socket source
 * learns the connection from that write (ssl_conns) and sends an EC_K_ATTR record
 * naming the call, with which user space corrects the call's records it held back
 * (engine/capture/reader.c). Key pid_tgid.
 */
struct pending_send {
	__u64 ssl;
	__u64 call_id;
	__u32 source;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, struct pending_send);
} pending_sends SEC(".maps");

/* conn_info.how */
#define CI_NEARBY 1 /* from the thread's syscall before the call (tls.bpf.c: nearby_sock) */
#define CI_AFTER  2 /* from the write that followed a memory-BIO write: as good as inside */

/*
 * The last ciphertext socket each thread read or wrote outside a TLS call (key
 * pid_tgid). Event-loop programs (node, python asyncio, libuv users) move the
 * ciphertext themselves and hand it to the library through memory BIOs, so no socket
 * syscall happens inside SSL_read/SSL_write; they read a connection's socket just
 * before its SSL_read and write it just after its SSL_write, on the same thread. The
 * TLS probes attribute such a call to this socket (tls.bpf.c: call_hdr). LRU: a
 * thread that exits leaves its entry behind.
 */
struct thread_sock {
	struct conn_info ci;
	__u64 ts;  /* when the syscall entered (now_ns) */
	__u32 dir; /* EC_DIR_SEND or EC_DIR_RECV */
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, struct thread_sock);
} thread_socks SEC(".maps");

#endif
