/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Where TLS libraries hand their secrets to a key-log function of their own, and the
 * key-log uprobes on them (engine-private; bpf/keylog.bpf.c, --keylog):
 *
 *   OpenSSL 1.1.1/3.x: nss_keylog_int (ssl/ssl_lib.c), a local function. From a
 *     .symtab where there is one; otherwise from the machine code: the one function
 *     whose code loads the address of the string "CLIENT_RANDOM" and then calls a
 *     function (ssl_log_secret) that passes the client random's length, 32, and jumps
 *     to or calls nss_keylog_int. x86-64 only.
 *   GnuTLS 3.6.13+: _gnutls_call_keylog_func, a local function: the one function that
 *     loads the session's key-log function pointer, at the offset the exported
 *     gnutls_session_set_keylog_function stores it to, and calls it. The client
 *     random's offset in the session is read from gnutls_session_get_random's code.
 *     x86-64 only.
 *   BoringSSL: ssl_log_secret (ssl/ssl_lib.cc), a local function: from a .symtab where
 *     there is one; otherwise the one function called after the load of every
 *     key-log label's address. Its line needs ssl->s3->client_random: both offsets are
 *     read from the exported SSL_get_client_random's code and must be found in
 *     ssl_log_secret's too. x86-64 only.
 *   Go crypto/tls: (*Config).writeKeyLog, from the pclntab (engine/discover/gobin.h);
 *     go1.17+ (register ABI) only.
 *
 * Each file with TLS probes (engine/discover/targets.h) is looked at once.
 */
#ifndef ECAPTOP_ENGINE_DISCOVER_KEYLOG_H
#define ECAPTOP_ENGINE_DISCOVER_KEYLOG_H

#include <stddef.h>
#include <stdint.h>

struct keylog_bpf;
struct targets;
struct keylog_probes;

/* A place to probe: the function's link-time address and its file offset. */
struct keylog_site {
	uint64_t vaddr;
	uint64_t file_off;
	uint64_t cookie; /* GnuTLS: the client random's offset in the session; BoringSSL:
			  * s3's offset << 32 | the random's */
	int how;	 /* KEYLOG_FOUND_* */
};

#define KEYLOG_FOUND_SYMTAB 1 /* named in .symtab */
#define KEYLOG_FOUND_CODE   2 /* found by machine-code analysis */
#define KEYLOG_FOUND_PCLN   3 /* Go's function table */

/* OpenSSL's nss_keylog_int in the ELF file at path. 0 and *out; -ENOENT when it is
 * not there or not recognised; -ENOTSUP for a file we cannot analyse; -errno. */
int keylog_find_openssl(const char *path, struct keylog_site *out);

/* GnuTLS's _gnutls_call_keylog_func in the ELF file at path, and in out->cookie the
 * offset of the client random in a session. Returns as keylog_find_openssl. */
int keylog_find_gnutls(const char *path, struct keylog_site *out);

/* BoringSSL's ssl_log_secret in the ELF file at path, and in out->cookie where the
 * client random is: ssl->s3 at (cookie >> 32) in the SSL, client_random at the low 32
 * bits in s3. Returns as keylog_find_openssl, and -EPROTO when ssl_log_secret's code
 * does not read the client random where SSL_get_client_random does. */
int keylog_find_boringssl(const char *path, struct keylog_site *out);

/* Go's (*Config).writeKeyLog in the file at path. 0 and *out; -ENOENT when the file
 * is not a Go program with crypto/tls; -ENOTSUP before go1.17 (arguments on the
 * stack); -errno. */
int keylog_find_go(const char *path, struct keylog_site *out);

/* Borrows skel (must outlive the table). NULL + errno. */
struct keylog_probes *keylog_probes_new(struct keylog_bpf *skel);
/* Detaches every probe. Accepts NULL. */
void keylog_probes_free(struct keylog_probes *kp);
/* Look at every file of t not looked at yet and attach the key-log probe where its
 * function is found (each file logged once, with how, or why not). Returns the
 * number of files newly attached. */
int keylog_probes_sync(struct keylog_probes *kp, const struct targets *t);
/* Files with a key-log probe. */
size_t keylog_probes_count(const struct keylog_probes *kp);

#endif
