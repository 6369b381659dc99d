/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Find the TCP connection behind a file descriptor of the current task, through
 * CO-RE reads of task->files->fdt->fd[fd]->private_data (struct socket) -> sk.
 * No per-library struct offsets: the TLS probes only need the fd, which they learn
 * from the socket syscalls made inside the library call (see tls.bpf.c).
 */
#ifndef ECAPTOP_BPF_SOCKINFO_BPF_H
#define ECAPTOP_BPF_SOCKINFO_BPF_H

#include "common.bpf.h"

#define EC_S_IFMT      00170000
#define EC_S_IFSOCK    0140000
#define EC_SOCK_STREAM 1

struct conn_info {
	__u64 conn_id; /* struct sock address: stable for the socket's life */
	/* The socket's inode number: unique per socket, unlike its address, which the
	 * kernel reuses for a new socket once the old one is freed. Key of the BPF maps
	 * that remember things about a socket. */
	__u64 sock_ino;
	__s32 fd;
	__u8 family;
	/* tls.bpf.c: CI_NEARBY when learnt from the thread's socket syscall around a
	 * memory-BIO call rather than from one inside the call. */
	__u8 how;
	__u16 lport;
	__u16 rport;
	__u16 pad2;
	__u8 laddr[16];
	__u8 raddr[16];
};

/* Returns 0 and fills ci if fd is a TCP (stream) socket of family INET/INET6. */
static __always_inline int sock_from_fd(int fd, struct conn_info *ci)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct file **fdarr;
	struct file *f = NULL;
	struct socket *sock;
	struct sock *sk;
	unsigned int max_fds;
	umode_t mode;
	short type;
	__u16 family;

	if (fd < 0)
		return -1;
	max_fds = BPF_CORE_READ(task, files, fdt, max_fds);
	if ((unsigned int)fd >= max_fds)
		return -1;
	fdarr = BPF_CORE_READ(task, files, fdt, fd);
	if (bpf_probe_read_kernel(&f, sizeof(f), &fdarr[fd]) || !f)
		return -1;
	mode = BPF_CORE_READ(f, f_inode, i_mode);
	ci->sock_ino = BPF_CORE_READ(f, f_inode, i_ino);
	if ((mode & EC_S_IFMT) != EC_S_IFSOCK)
		return -1;
	sock = BPF_CORE_READ(f, private_data);
	if (!sock)
		return -1;
	type = BPF_CORE_READ(sock, type);
	if (type != EC_SOCK_STREAM)
		return -1;
	sk = BPF_CORE_READ(sock, sk);
	if (!sk)
		return -1;
	family = BPF_CORE_READ(sk, __sk_common.skc_family);
	if (family != EC_AF_INET && family != EC_AF_INET6)
		return -1;
	ci->conn_id = (__u64)sk;
	ci->fd = fd;
	ci->family = family;
	ci->lport = BPF_CORE_READ(sk, __sk_common.skc_num);
	ci->rport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	/* Explicit sizes: BPF_CORE_READ_INTO would size the copy by the u8 element. */
	if (family == EC_AF_INET) {
		bpf_core_read(ci->laddr, 4, &sk->__sk_common.skc_rcv_saddr);
		bpf_core_read(ci->raddr, 4, &sk->__sk_common.skc_daddr);
	} else {
		bpf_core_read(ci->laddr, 16, &sk->__sk_common.skc_v6_rcv_saddr);
		bpf_core_read(ci->raddr, 16, &sk->__sk_common.skc_v6_daddr);
	}
	return 0;
}

#endif
