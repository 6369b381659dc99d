/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Target discovery (engine-private): find the files that carry TLS functions
 * (shared libraries and executables, including those inside containers through
 * /proc/PID/root), and attach the TLS uprobes once per file (uprobes live on the
 * inode, so one attachment covers every process that maps the file, now or later):
 * OpenSSL/BoringSSL (exported or .symtab-only symbols), GnuTLS, NSS (probes in
 * NSPR, SSL layer recognised by the file of libssl3.so) and Go crypto/tls (found
 * through the pclntab, stripped or not). Each file found is logged once with what
 * was attached, or why it could not be.
 */
#ifndef ECAPTOP_ENGINE_TARGETS_H
#define ECAPTOP_ENGINE_TARGETS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct tls_bpf;
struct targets;
struct proc_maps;
struct gobin_info;
struct stat;

/* Bits of targets_elf_syms(). */
#define SYM_SSL_WRITE	  0x1
#define SYM_SSL_READ	  0x2
#define SYM_SSL_WRITE_EX  0x4
#define SYM_SSL_READ_EX	  0x8
#define SYM_GNUTLS_SEND	  0x10
#define SYM_GNUTLS_RECV	  0x20
#define SYM_PR_WRITE	  0x40 /* NSPR */
#define SYM_PR_READ	  0x80
#define SYM_PR_SEND	  0x100
#define SYM_PR_RECV	  0x200
#define SYM_PR_WRITEV	  0x800
#define SYM_NSS_SSL	  0x400	 /* SSL_ImportFD: NSS's SSL layer (libssl3.so), not OpenSSL */
#define SYM_SSL_WRITE_EX2 0x1000 /* OpenSSL 3.3+: ssl_write_internal takes flags */
/* OpenSSL itself: a symbol version OPENSSL_* (shared libssl) or its local
 * ssl_read_internal (a static build with a symbol table), not BoringSSL/LibreSSL. */
#define SYM_OPENSSL_VER 0x2000
#define SYM_OPENSSL_ALL (SYM_SSL_WRITE | SYM_SSL_READ | SYM_SSL_WRITE_EX | SYM_SSL_READ_EX)

/* Borrows skel (must outlive the table). pids (copied): with n_pids > 0 the probes go
 * into those processes only. NULL + errno. */
struct targets *targets_new(struct tls_bpf *skel, const uint32_t *pids, size_t n_pids);
/* Detaches every probe. Accepts NULL. */
void targets_free(struct targets *t);
/* Look at the well-known library folders; attach to what is new. Returns the
 * number of files newly attached. */
int targets_scan_libs(struct targets *t);
/* Look at one process's maps (after an exec). Returns files newly attached. */
int targets_scan_pid(struct targets *t, pid_t pid);
/* The same with the maps already read (procscan_maps). */
int targets_scan_maps(struct targets *t, pid_t pid, const struct proc_maps *m);
/* What is known of the file (dev, ino as stat gives them): -1 never looked at, 0 no
 * TLS target (or it could not be probed), 1 probes attached. */
int targets_state(const struct targets *t, dev_t dev, ino_t ino);
/* The first time it is asked for a file with probes: true, and when they were
 * attached (CLOCK_MONOTONIC ns). */
bool targets_first_exec(struct targets *t, dev_t dev, ino_t ino, uint64_t *attached_ns);
/* Try one file (a path as seen from this mount namespace). Returns 1 if newly
 * attached, 0 if known or not a TLS target, -errno on failure. */
int targets_try_file(struct targets *t, const char *path);
/* What a file's content offers, found without probing (any thread: no table). */
struct targets_exam {
	unsigned syms;	       /* SYM_* */
	int go;		       /* with no syms: gobin_analyze's result */
	struct gobin_info *gi; /* with go > 0 */
	bool stripped_tls;     /* a program with OpenSSL code but no symbols for it */
};
/* 0 and *x (give it back with targets_exam_free), or -ENOMEM. */
int targets_examine(const char *path, struct targets_exam *x);
void targets_exam_free(struct targets_exam *x);
/* targets_try_file with the file's identity (st) and content (x) known. */
int targets_add_examined(struct targets *t, const char *path, const struct stat *st,
			 const struct targets_exam *x);
/* Files with probes attached. */
size_t targets_count(const struct targets *t);
/* The i-th attached file's path, for status lines; NULL past the end. */
const char *targets_path(const struct targets *t, size_t i);
/* Is the file BoringSSL (or a program with it linked in)? It defines a function only
 * BoringSSL has (SSL_CTX_set_select_certificate_cb, SSL_CTX_set_custom_verify, or its
 * bssl:: namespace in a symbol table). */
bool targets_boringssl(const char *path);
/* Which TLS library functions a file defines (SYM_* bits), from .dynsym and
 * .symtab. 0 if none or not an ELF file. Go programs are recognised separately
 * (engine/discover/gobin.h). */
unsigned targets_elf_syms(const char *path);

#endif
