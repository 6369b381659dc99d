/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The ABI between the BPF programs and user space: every record a BPF program
 * writes into a ring buffer (or perf buffer) starts with struct ec_rec_hdr.
 * Fixed-width types, explicit padding, variable-length payload last; only the
 * filled payload bytes are sent. User space checks a record's size before
 * reading it (engine/capture/engine.c).
 */
#ifndef ECAPTOP_BPF_EVENTS_H
#define ECAPTOP_BPF_EVENTS_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define EC_COMM_LEN 16
/* Payload bytes per record. A larger call is split into several records. */
#define EC_CHUNK 16384
/* A single library call is split into at most this many records (64 MiB) where the
 * kernel has bpf_loop (5.17+), and at most EC_MAX_SEGS_OLD (128 KiB) where it has not: the
 * verifier of 5.10 walks each of them. */
#define EC_MAX_SEGS	4096
#define EC_MAX_SEGS_OLD 8

/* What a record is. */
enum ec_kind {
	EC_K_DATA = 1,	  /* plaintext bytes of one direction of a connection */
	EC_K_EXEC = 2,	  /* a process called execve */
	EC_K_EXIT = 3,	  /* a process (thread group leader) exited */
	EC_K_COMMAND = 4, /* a shell command line */
	EC_K_QUERY = 5,	  /* a query as a database server saw it */
	/* Not from the kernel: a replay restarted from the beginning (a seek); the
	 * consumer drops what it built and rebuilds from the events that follow. */
	EC_K_RESET = 6,
	/* TLS secrets of one connection (struct ec_keylog payload): consumed by the engine
	 * thread, which writes the key log (--keylog); never queued. */
	EC_K_KEYLOG = 7,
	/* Kernel to the reader only (engine/capture/reader.c), never to the consumer:
	 * the connection of the DATA records of call call_id on thread tid that carry
	 * EC_F_ATTR_LATER. */
	EC_K_ATTR = 8,
	/* Not from the tracing programs: a packet of --packets (engine/capture/packets.c),
	 * no payload but its pcapng comment; aux = bytes on the wire, call_id = ifindex,
	 * conn_id = the local socket's inode, EC_F_NO_SOCKET when no process was found. */
	EC_K_PACKET = 9,
};

/* Where a record came from. Keep in step with engine/event.c names. */
enum ec_source {
	EC_S_NONE = 0,
	EC_S_OPENSSL = 1,
	EC_S_GNUTLS = 2,
	EC_S_NSS = 3,
	EC_S_GOTLS = 4,
	EC_S_SOCKET = 5,
	EC_S_BASH = 6,
	EC_S_ZSH = 7,
	EC_S_MYSQLD = 8,
	EC_S_POSTGRES = 9,
	EC_S_PROC = 10,
	EC_S_MAX
};

enum ec_dir {
	EC_DIR_NONE = 0,
	EC_DIR_SEND = 1,
	EC_DIR_RECV = 2,
};

/* ec_rec_hdr.family; the values of AF_INET and AF_INET6. */
#define EC_AF_UNKNOWN 0
#define EC_AF_INET    2
#define EC_AF_INET6   10

/* ec_rec_hdr.flags */
#define EC_F_TRUNCATED 0x1  /* the call carried more bytes than were sent */
#define EC_F_CONT      0x2  /* a continuation record of one call */
#define EC_F_NO_SOCKET 0x4  /* the connection's socket could not be found */
#define EC_F_STATUS    0x8  /* COMMAND: a status record for the command with this call_id */
#define EC_F_HELD      0x10 /* EXEC: stopped (--hold-new) until discovery continues it */
/* DATA: a memory-BIO write whose connection an EC_K_ATTR record will name (the reader
 * holds the record back until then, and clears this flag) */
#define EC_F_ATTR_LATER 0x20
/* EXEC: not an exec but a fork: a new process (the payload has no command line; it
 * runs its parent's, aux names the parent) */
#define EC_F_FORK 0x40
/* EXEC: not an exec but a move of the process to another cgroup v2 (its new cgroup;
 * no command line) */
#define EC_F_MOVED 0x80
/* Bits 0x100 and up are never set by BPF programs: user-space readers' flags. */
#define EC_F_GAP      0x100 /* a replayed foreign capture: bytes are missing before this event */
#define EC_F_EXISTING 0x200 /* EXEC: a process already running when capture started */

/* Loss causes counted in the per-CPU "losses" array, index = cause * EC_S_MAX + source. */
enum ec_loss {
	EC_L_RESERVE = 0, /* ring buffer full: reserve/output failed */
	EC_L_READ = 1,	  /* bpf_probe_read_user failed (page not present) */
	EC_L_TRUNC = 2,	  /* a call larger than EC_CHUNK * EC_MAX_SEGS */
	/* A per-thread or per-call map was full: a call that could not be followed (its
	 * bytes are not reported). */
	EC_L_MAPFULL = 3,
	EC_L_MAX
};

struct ec_rec_hdr {
	__u32 kind;   /* enum ec_kind */
	__u32 source; /* enum ec_source */
	__u64 ts_ns;  /* CLOCK_BOOTTIME ns (bpf_ktime_get_boot_ns) */
	__u32 pid;    /* tgid */
	__u32 tid;
	__u32 uid;
	__s32 fd; /* -1 where unknown */
	char comm[EC_COMM_LEN];
	__u8 dir;	/* enum ec_dir */
	__u8 family;	/* EC_AF_* */
	__u16 lport;	/* host byte order */
	__u16 rport;	/* host byte order */
	__u16 flags;	/* EC_F_* */
	__u8 laddr[16]; /* IPv4 in the first 4 bytes, network order */
	__u8 raddr[16];
	/* EXEC, from the kernel only: the executable's identity (conn_id = inode, call_id =
	 * device as the kernel packs it, major << 20 | minor) and, in rport, the length of
	 * its path (bprm->interp, NUL included) at the end of data, after the command
	 * line; the process's start (ns since boot) in laddr[0..8) and its cgroup v2 id
	 * in raddr[0..8) (EXEC with EC_F_FORK or EC_F_MOVED too). The engine takes them off before the
	 * event goes further (engine/capture/reader.c): from there on an EXEC has
	 * call_id = the process's start time (Unix epoch ns; it tells a reused pid from
	 * the process that had it), conn_id = its cgroup v2 id (0: unknown), and its
	 * cgroup path (as /proc/PID/cgroup shows it, no NUL) in the last rport bytes of
	 * data, after the command line (rport 0: unknown). */
	__u64 conn_id; /* identity of the connection (socket address in the kernel) */
	__u64 call_id; /* per-thread sequence of the library call (joins split records) */
	/* Per kind: DATA: bytes of this call lost after this record (unreadable or past the
	 * per-call limit); EXEC: parent tgid; EXIT: exit status; COMMAND: exit status + 1, or 0
	 * where unknown. */
	__u32 aux;
	__u32 len; /* payload bytes that follow */
		   /* __u8 data[len] follows */
};

/* EC_K_KEYLOG payload: one key-log line's parts as the TLS library handed them to
 * its own key-log function (NSS key log format: LABEL <client random> <secret>).
 * Lengths are what the library passed; bytes past the arrays were not read. */
#define EC_KEYLOG_LABEL	 48
#define EC_KEYLOG_RANDOM 32
#define EC_KEYLOG_SECRET 64
struct ec_keylog {
	__u32 label_len; /* without a terminating NUL */
	__u32 random_len;
	__u32 secret_len;
	__u32 pad;
	char label[EC_KEYLOG_LABEL];
	__u8 random[EC_KEYLOG_RANDOM];
	__u8 secret[EC_KEYLOG_SECRET];
};

#endif
