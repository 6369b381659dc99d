// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * TLS key log: uprobes on the functions through which a TLS library hands each
 * secret to its own key-log code, with the label, the client random and the secret
 * as arguments (so no structure offsets of the library are needed):
 *
 *   OpenSSL 1.1.1/3.x  nss_keylog_int(const char *prefix, SSL *s, const uint8_t *p1,
 *                      size_t p1_len, const uint8_t *p2, size_t p2_len)
 *                      (ssl/ssl_lib.c; p1 is the client random for every label but
 *                      "RSA"). Its entry runs before the test for an application's
 *                      callback, so the probe sees every secret.
 *   GnuTLS 3.6.13+     _gnutls_call_keylog_func(gnutls_session_t session, const char *label,
 *                      const uint8_t *data, unsigned size) (lib/kx.c), which calls the
 *                      session's key-log function (by default the SSLKEYLOGFILE writer)
 *                      for every secret. The client random is in the session; its offset
 *                      is read by user space from gnutls_session_get_random's own code and
 *                      comes as the attach cookie.
 *   BoringSSL          bool ssl_log_secret(const SSL *ssl, const char *label,
 *                      Span<const uint8_t> secret) (ssl/ssl_lib.cc; the Span comes in two
 *                      registers, pointer and length), called for every secret; its test
 *                      for ssl->ctx->keylog_callback comes after the entry. The client random
 *                      is ssl->s3->client_random: both offsets are read by user space from
 *                      the exported SSL_get_client_random's own code, checked against
 *                      ssl_log_secret's, and come as the attach cookie (s3 << 32 | random).
 *   Go crypto/tls      (*Config).writeKeyLog(label string, clientRandom, secret []byte)
 *                      (crypto/tls/common.go), called for every secret; it returns
 *                      at once when KeyLogWriter is nil, after the probe has fired.
 *
 * Each hit sends one EC_K_KEYLOG record; user space writes the line
 * (engine/capture/keylog.c). Found by engine/discover/keylog.c.
 */
#include "common.bpf.h"

/* Go's register ABI (go1.17+ amd64, go1.18+ arm64; https://go.dev/s/regabi): the
 * receiver, then a string (pointer, length) and two slices (pointer, length, capacity)
 * take the integer registers in order. */
#if defined(__TARGET_ARCH_x86)
#define GO_R0(r) ((r)->ax)
#define GO_R1(r) ((r)->bx)
#define GO_R2(r) ((r)->cx)
#define GO_R3(r) ((r)->di)
#define GO_R4(r) ((r)->si)
#define GO_R6(r) ((r)->r9)
#define GO_R7(r) ((r)->r10)
/* The sixth C argument (System V AMD64 ABI); this libbpf has no PT_REGS_PARM6. */
#define C_ARG6(r) ((r)->r9)
#elif defined(__TARGET_ARCH_arm64)
#define GO_R0(r)  (((struct user_pt_regs *)(r))->regs[0])
#define GO_R1(r)  (((struct user_pt_regs *)(r))->regs[1])
#define GO_R2(r)  (((struct user_pt_regs *)(r))->regs[2])
#define GO_R3(r)  (((struct user_pt_regs *)(r))->regs[3])
#define GO_R4(r)  (((struct user_pt_regs *)(r))->regs[4])
#define GO_R6(r)  (((struct user_pt_regs *)(r))->regs[6])
#define GO_R7(r)  (((struct user_pt_regs *)(r))->regs[7])
#define C_ARG6(r) (((struct user_pt_regs *)(r))->regs[5])
#else
#error "ecaptop's key-log probes support x86 and arm64"
#endif

/* label_len 0: label is NUL-terminated (C); otherwise its length (Go). */
static __always_inline int keylog_emit(void *ctx, __u32 source, const char *label, __u64 label_len,
				       const void *rnd, __u64 rnd_len, const void *sec,
				       __u64 sec_len)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct ec_keylog *k;
	struct scratch *s;
	long n;

	if (!pass_filter(id >> 32, (__u32)bpf_get_current_uid_gid()))
		return 0;
	s = scratch_get();
	if (!s)
		return 0;
	hdr_init(&s->hdr, EC_K_KEYLOG, source);
	k = (struct ec_keylog *)s->data;
	__builtin_memset(k, 0, sizeof(*k));
	/* The lengths as passed: user space refuses a line whose parts do not fit. */
	k->random_len = rnd_len > 0xffff ? 0xffff : (__u32)rnd_len;
	k->secret_len = sec_len > 0xffff ? 0xffff : (__u32)sec_len;
	if (!label_len) {
		n = bpf_probe_read_user_str(k->label, sizeof(k->label), label);
		if (n <= 0)
			goto unreadable;
		k->label_len = (__u32)n - 1;
	} else {
		if (label_len > sizeof(k->label) - 1)
			label_len = sizeof(k->label) - 1;
		if (bpf_probe_read_user(k->label, label_len, label))
			goto unreadable;
		k->label_len = (__u32)label_len;
	}
	if (rnd_len > sizeof(k->random))
		rnd_len = sizeof(k->random);
	if (sec_len > sizeof(k->secret))
		sec_len = sizeof(k->secret);
	if ((rnd_len && bpf_probe_read_user(k->random, rnd_len, rnd)) ||
	    (sec_len && bpf_probe_read_user(k->secret, sec_len, sec)))
		goto unreadable;
	s->hdr.len = sizeof(*k);
	output(ctx, s, sizeof(*k));
	return 0;
unreadable:
	count_loss(EC_L_READ, source);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(ossl_keylog, const char *prefix, void *ssl, const void *p1, __u64 p1_len,
	       const void *p2)
{
	return keylog_emit(ctx, EC_S_OPENSSL, prefix, 0, p1, p1_len, p2, C_ARG6(ctx));
}

SEC("uprobe")
int BPF_KPROBE(gnutls_keylog, void *session, const char *label, const void *data, __u32 size)
{
	const char *rnd;

	/* Attached only where the kernel has the helper; the check lets older kernels
	 * load the object (the verifier skips what a constant rules out). */
	if (!has_cookie)
		return 0;
	rnd = (const char *)session + bpf_get_attach_cookie(ctx);
	return keylog_emit(ctx, EC_S_GNUTLS, label, 0, rnd, EC_KEYLOG_RANDOM, data, size);
}

SEC("uprobe")
int BPF_KPROBE(boring_keylog, void *ssl, const char *label, const void *sec, __u64 sec_len)
{
	__u64 cookie, s3 = 0;

	if (!has_cookie)
		return 0;
	cookie = bpf_get_attach_cookie(ctx);
	if (bpf_probe_read_user(&s3, sizeof(s3), (const char *)ssl + (cookie >> 32)) || !s3) {
		count_loss(EC_L_READ, EC_S_OPENSSL);
		return 0;
	}
	return keylog_emit(ctx, EC_S_OPENSSL, label, 0, (const char *)s3 + (__u32)cookie,
			   EC_KEYLOG_RANDOM, sec, sec_len);
}

SEC("uprobe")
int go_keylog(struct pt_regs *ctx)
{
	if (!GO_R2(ctx))
		return 0; /* an empty label: nothing to write */
	return keylog_emit(ctx, EC_S_GOTLS, (const char *)GO_R1(ctx), GO_R2(ctx),
			   (const void *)GO_R3(ctx), GO_R4(ctx), (const void *)GO_R6(ctx),
			   GO_R7(ctx));
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
