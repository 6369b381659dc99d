// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Finding the TLS libraries' key-log functions and attaching the key-log uprobes.
 * OpenSSL's code (1.1.1 and 3.x, ssl/ssl_lib.c):
 *
 *   int ssl_log_secret(SSL *s, const char *label, const uint8_t *secret, size_t len)
 *   { return nss_keylog_int(label, s, s->s3.client_random, SSL3_RANDOM_SIZE,
 *                           secret, len); }
 *
 * and the TLS 1.2 master secret is logged as ssl_log_secret(s, "CLIENT_RANDOM", ...)
 * (MASTER_SECRET_LABEL). x86-64 encodings: Intel SDM vol. 2 (LEA 8D /r with RIP-relative
 * ModRM 00 xxx 101; CALL E8 cd; JMP E9 cd; MOV r32, imm32 B8+rd id).
 */
#include "engine/discover/keylog.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <bpf/libbpf.h>

#include "engine/discover/elfcallee.h"
#include "engine/discover/elfsym.h"
#include "engine/discover/gobin.h"
#include "engine/discover/targets.h"
#include "engine/log.h"
#include "keylog.skel.h"

/* Instructions after the label's LEA within which the call to ssl_log_secret comes
 * (the other arguments are set in between). */
#define CALL_WINDOW 8
/* ssl_log_secret is a handful of moves and a jump. */
#define LOG_SECRET_MAX 64
/* A function longer than this is not decoded (no OpenSSL function is). */
#define FUNC_MAX (256u << 10)

static int32_t rd32(const uint8_t *p)
{
	int32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* Is the instruction at p (len bytes) `lea reg64, [rip + disp32]`? Its target then. */
static bool lea_rip(const uint8_t *p, int len, uint64_t pc, uint64_t *target)
{
	if (len != 7 || (p[0] & 0xf8) != 0x48 || p[1] != 0x8d || (p[2] & 0xc7) != 0x05)
		return false;
	*target = pc + 7 + (uint64_t)(int64_t)rd32(p + 3);
	return true;
}

/* In the function [start, start + size): after each load of the label's address, the
 * first direct call within CALL_WINDOW instructions. Adds distinct function-start
 * targets to cands (up to max). Code the decoder does not know ends this function. */
static void label_calls(const struct elf_code *c, uint64_t start, uint64_t size,
			const uint64_t *labels, size_t n_labels, uint64_t *cands, size_t *n,
			size_t max)
{
	const uint8_t *code = elf_code_bytes(c, start, size, NULL);
	uint64_t i, t;
	int len, after = -1;
	size_t k;

	if (!code)
		return;
	for (i = 0; i < size; i += (uint64_t)len) {
		len = gobin_x86_insn_len(code + i, size - i);
		if (len <= 0)
			return;
		if (lea_rip(code + i, len, start + i, &t)) {
			for (k = 0; k < n_labels && labels[k] != t; k++)
				;
			if (k < n_labels) {
				after = 0;
				continue;
			}
		}
		if (after < 0)
			continue;
		if (++after > CALL_WINDOW) {
			after = -1;
			continue;
		}
		if (len != 5 || code[i] != 0xe8)
			continue;
		after = -1;
		t = start + i + 5 + (uint64_t)(int64_t)rd32(code + i + 1);
		if (!elf_code_is_func(c, t))
			continue;
		for (k = 0; k < *n && cands[k] != t; k++)
			;
		if (k == *n && *n < max)
			cands[(*n)++] = t;
	}
}

/* label_calls over every function of the file. */
static void all_label_calls(const struct elf_code *c, const uint64_t *labels, size_t n_labels,
			    uint64_t *cands, size_t *n, size_t max)
{
	size_t i, nf = elf_code_nfuncs(c);

	for (i = 0; i < nf; i++) {
		uint64_t start = elf_code_func(c, i),
			 end = i + 1 < nf ? elf_code_func(c, i + 1) : 0;
		uint64_t size = end > start ? end - start : 0;

		while (!end && size < FUNC_MAX && elf_code_bytes(c, start, size + 1, NULL))
			size++; /* the last function: up to the end of its segment */
		if (size && size <= FUNC_MAX)
			label_calls(c, start, size, labels, n_labels, cands, n, max);
	}
}

/* ssl_log_secret at s: it sets the fourth argument to 32 (mov $0x20, %ecx: the
 * client random's length) and then jumps to or calls nss_keylog_int. Its address. */
static int log_secret_callee(const struct elf_code *c, uint64_t s, uint64_t *callee)
{
	static const uint8_t mov_ecx_32[] = {0xb9, 0x20, 0x00, 0x00, 0x00};
	const uint8_t *code = NULL;
	uint64_t size = LOG_SECRET_MAX, i, t;
	bool random_len = false;
	int len;

	while (size && !(code = elf_code_bytes(c, s, size, NULL)))
		size--;
	for (i = 0; code && i < size; i += (uint64_t)len) {
		len = gobin_x86_insn_len(code + i, size - i);
		if (len <= 0 || code[i] == 0xc3)
			return -ENOENT;
		if (len == 5 && !memcmp(code + i, mov_ecx_32, sizeof(mov_ecx_32)))
			random_len = true;
		if (len != 5 || (code[i] != 0xe8 && code[i] != 0xe9))
			continue;
		t = s + i + 5 + (uint64_t)(int64_t)rd32(code + i + 1);
		if (!random_len || !elf_code_is_func(c, t))
			return -ENOENT;
		*callee = t;
		return 0;
	}
	return -ENOENT;
}

int keylog_find_openssl(const char *path, struct keylog_site *out)
{
	uint64_t labels[8], cands[16], vaddr, callee = 0;
	struct elf_code *c;
	size_t i, k, n = 0, n_labels;
	int ret;

	ret = elf_code_open(path, &c);
	if (ret)
		return ret;
	/* A symbol table (a static build, debug symbols) names it. */
	if (!elfsym_lookup(path, "nss_keylog_int", &vaddr) &&
	    elf_code_bytes(c, vaddr, 1, &out->file_off)) {
		out->vaddr = vaddr;
		out->how = KEYLOG_FOUND_SYMTAB;
		ret = 0;
		goto done;
	}
	ret = -ENOENT;
	n_labels =
	    elf_code_find_cstr(c, "CLIENT_RANDOM", labels, sizeof(labels) / sizeof(labels[0]));
	if (!n_labels)
		goto done;
	all_label_calls(c, labels, n_labels, cands, &n, sizeof(cands) / sizeof(cands[0]));
	/* Exactly one of the functions called there is ssl_log_secret (another may take
	 * the label for something else). */
	ret = -ENOENT;
	for (i = 0, k = 0; i < n; i++) {
		uint64_t t;

		if (log_secret_callee(c, cands[i], &t) || (k && t == callee))
			continue;
		callee = t;
		k++;
	}
	if (k != 1 || !elf_code_bytes(c, callee, 1, &out->file_off))
		goto done;
	out->vaddr = callee;
	out->how = KEYLOG_FOUND_CODE;
	ret = 0;
done:
	elf_code_close(c);
	return ret;
}

/* The first instructions of the exported function name (len bytes at most; an endbr64
 * skipped). NULL if it is not there. */
static const uint8_t *sym_code(const struct elf_code *c, const char *path, const char *name,
			       uint64_t *len)
{
	static const uint8_t endbr64[] = {0xf3, 0x0f, 0x1e, 0xfa};
	const uint8_t *code = NULL;
	uint64_t at;

	if (elfsym_lookup(path, name, &at))
		return NULL;
	while (*len && !(code = elf_code_bytes(c, at, *len, NULL)))
		(*len)--;
	if (code && *len >= 4 && !memcmp(code, endbr64, 4)) {
		code += 4;
		*len -= 4;
	}
	return code;
}

/* A ModRM byte's displacement from %rdi (mod 01 or 10, r/m 111, no SIB). */
static bool disp_rdi(const uint8_t *p, int len, int modrm_at, uint64_t *disp)
{
	uint8_t m = p[modrm_at];

	if ((m & 0xc7) == 0x47 && len == modrm_at + 2) {
		*disp = (uint64_t)(int64_t)(int8_t)p[modrm_at + 1];
		return true;
	}
	if ((m & 0xc7) == 0x87 && len == modrm_at + 5) {
		*disp = (uint64_t)(int64_t)rd32(p + modrm_at + 1);
		return true;
	}
	return false;
}

/* gnutls_session_set_keylog_function(session, func): `mov %rsi, disp(%rdi)`. */
static int gnutls_keylog_field(const struct elf_code *c, const char *path, uint64_t *off)
{
	uint64_t n = 16;
	const uint8_t *p = sym_code(c, path, "gnutls_session_set_keylog_function", &n);
	int len = p ? gobin_x86_insn_len(p, n) : -1;

	if (len < 3 || p[0] != 0x48 || p[1] != 0x89 || ((p[2] >> 3) & 7) != 6 ||
	    !disp_rdi(p, len, 2, off))
		return -ENOENT;
	return 0;
}

/* gnutls_session_get_random(session, client, server): the first `lea disp(%rdi), reg`
 * is the client random's address, stored with its size 32 (`movl $0x20, 8(%rsi)`). */
static int gnutls_random_field(const struct elf_code *c, const char *path, uint64_t *off)
{
	static const uint8_t size32[] = {0xc7, 0x46, 0x08, 0x20, 0x00, 0x00, 0x00};
	uint64_t n = 64, i;
	const uint8_t *p = sym_code(c, path, "gnutls_session_get_random", &n);
	bool have = false;
	int len;

	for (i = 0; p && i < n; i += (uint64_t)len) {
		len = gobin_x86_insn_len(p + i, n - i);
		if (len <= 0 || p[i] == 0xc3)
			break;
		if (!have && len >= 3 && (p[i] & 0xfb) == 0x48 && p[i + 1] == 0x8d &&
		    disp_rdi(p + i, len, 2, off))
			have = true;
		else if (have && len == 7 && !memcmp(p + i, size32, sizeof(size32)))
			return 0;
	}
	return -ENOENT;
}

/* Does the function [start, start + size) load disp(%rdi) (into any register) within
 * its first instructions and make an indirect call (call *%reg) later? */
static bool loads_and_calls(const struct elf_code *c, uint64_t start, uint64_t size, uint64_t disp)
{
	const uint8_t *p = elf_code_bytes(c, start, size, NULL);
	uint64_t i, d;
	bool loaded = false;
	int len, k;

	for (i = 0, k = 0; p && i < size; i += (uint64_t)len, k++) {
		len = gobin_x86_insn_len(p + i, size - i);
		if (len <= 0)
			return false;
		if (!loaded && k < 8 && len >= 3 && (p[i] & 0xfb) == 0x48 && p[i + 1] == 0x8b &&
		    disp_rdi(p + i, len, 2, &d) && d == disp)
			loaded = true;
		if (!loaded && k >= 8)
			return false;
		if (loaded &&
		    ((len == 2 && p[i] == 0xff && (p[i + 1] & 0xf8) == 0xd0) ||
		     (len == 3 && p[i] == 0x41 && p[i + 1] == 0xff && (p[i + 2] & 0xf8) == 0xd0)))
			return true;
	}
	return false;
}

int keylog_find_gnutls(const char *path, struct keylog_site *out)
{
	uint64_t field = 0, rnd = 0, found = 0;
	struct elf_code *c;
	size_t i, nf, n = 0;
	int ret;

	ret = elf_code_open(path, &c);
	if (ret)
		return ret;
	ret = -ENOENT;
	if (gnutls_keylog_field(c, path, &field) || gnutls_random_field(c, path, &rnd))
		goto done;
	nf = elf_code_nfuncs(c);
	for (i = 0; i + 1 < nf; i++) {
		uint64_t start = elf_code_func(c, i), end = elf_code_func(c, i + 1);

		if (end > start && end - start <= FUNC_MAX &&
		    loads_and_calls(c, start, end - start, field)) {
			found = start;
			n++;
		}
	}
	if (n != 1 || !elf_code_bytes(c, found, 1, &out->file_off))
		goto done;
	out->vaddr = found;
	out->cookie = rnd;
	out->how = KEYLOG_FOUND_CODE;
	ret = 0;
done:
	elf_code_close(c);
	return ret;
}

/* ---- BoringSSL ----
 *
 *   bool ssl_log_secret(const SSL *ssl, const char *label, Span<const uint8_t> secret)
 *
 * (ssl/ssl_lib.cc), a local function every secret goes through: each label's LEA is
 * followed by a call to it. Its line needs ssl->s3->client_random, so the two offsets
 * are read from the exported SSL_get_client_random (a load from %rdi, then an add or a
 * LEA on the loaded pointer, then the call to memcpy) and must also appear, in that
 * order, in ssl_log_secret's own code. */

/* The BoringSSL labels (ssl/internal.h, tls13_enc.cc, handshake_client.cc): an
 * address loaded just before each call to ssl_log_secret. */
static const char *const boring_labels[] = {
    "CLIENT_RANDOM",	       "CLIENT_HANDSHAKE_TRAFFIC_SECRET", "SERVER_HANDSHAKE_TRAFFIC_SECRET",
    "CLIENT_TRAFFIC_SECRET_0", "SERVER_TRAFFIC_SECRET_0",	  "EXPORTER_SECRET",
};

/* `mov disp(%base), %reg` (REX.W 8B, mod 01 or 10, no SIB): disp, and the
 * destination and base registers (0-15). */
static bool load_disp(const uint8_t *p, int len, uint64_t *disp, int *dst, int *base)
{
	uint8_t m;

	if (len < 4 || (p[0] & 0xf8) != 0x48 || p[1] != 0x8b)
		return false;
	m = p[2];
	if ((m & 7) == 4)
		return false;
	*dst = ((p[0] & 4) << 1) | ((m >> 3) & 7);
	*base = ((p[0] & 1) << 3) | (m & 7);
	if ((m & 0xc0) == 0x40 && len == 4) {
		*disp = (uint64_t)(int64_t)(int8_t)p[3];
		return true;
	}
	if ((m & 0xc0) == 0x80 && len == 7) {
		*disp = (uint64_t)(int64_t)rd32(p + 3);
		return true;
	}
	return false;
}

/* The constant added to register reg: `add $imm, %reg` (REX.W 83 /0 ib, 81 /0 id,
 * 05 id for %rax) or `lea disp(%reg), %any` (REX.W 8D, mod 01 or 10). */
static bool add_to(const uint8_t *p, int len, int reg, uint64_t *imm)
{
	uint8_t rex = 0x48 | (reg >= 8);

	if (len == 4 && p[0] == rex && p[1] == 0x83 && p[2] == (0xc0 | (reg & 7))) {
		*imm = (uint64_t)(int64_t)(int8_t)p[3];
		return true;
	}
	if (len == 7 && p[0] == rex && p[1] == 0x81 && p[2] == (0xc0 | (reg & 7))) {
		*imm = (uint64_t)(int64_t)rd32(p + 3);
		return true;
	}
	if (len == 6 && reg == 0 && p[0] == 0x48 && p[1] == 0x05) {
		*imm = (uint64_t)(int64_t)rd32(p + 2);
		return true;
	}
	if (len >= 4 && (p[0] & 0xfa) == 0x48 && (p[0] & 1) == (reg >= 8) && p[1] == 0x8d &&
	    (p[2] & 7) == (reg & 7) && (p[2] & 7) != 4) {
		if ((p[2] & 0xc0) == 0x40 && len == 4) {
			*imm = (uint64_t)(int64_t)(int8_t)p[3];
			return true;
		}
		if ((p[2] & 0xc0) == 0x80 && len == 7) {
			*imm = (uint64_t)(int64_t)rd32(p + 3);
			return true;
		}
	}
	return false;
}

/* In [p, p + n): a load at disp s3 (from base, or any base with base < 0) into some
 * register, then that register plus rnd, within the same straight run. With rnd_want
 * 0 the first such pair's offsets come back in *s3_out / *rnd_out. */
static bool s3_random_pair(const uint8_t *p, uint64_t n, int base, uint64_t s3_want,
			   uint64_t rnd_want, uint64_t *s3_out, uint64_t *rnd_out)
{
	uint64_t i, d, imm;
	int len, dst, b, held = -1, since = 0;

	for (i = 0; i < n; i += (uint64_t)len) {
		len = gobin_x86_insn_len(p + i, n - i);
		if (len <= 0)
			return false;
		if (load_disp(p + i, len, &d, &dst, &b) && (base < 0 || b == base) &&
		    (!s3_want || d == s3_want) && d < 4096) {
			held = dst;
			since = 0;
			*s3_out = d;
			continue;
		}
		if (held >= 0 && add_to(p + i, len, held, &imm) && imm < 4096 &&
		    (!rnd_want || imm == rnd_want)) {
			*rnd_out = imm;
			return true;
		}
		if (held >= 0 && ++since > 8)
			held = -1;
	}
	return false;
}

/* SSL_get_client_random(ssl, out, max_out): ssl->s3 (a load from %rdi) and the
 * client random's place in it (added to that pointer before memcpy). */
static int boring_random_field(const struct elf_code *c, const char *path, uint64_t *s3,
			       uint64_t *rnd)
{
	uint64_t n = 64, i;
	const uint8_t *p = sym_code(c, path, "SSL_get_client_random", &n);
	int len;

	if (!p)
		return -ENOENT;
	/* Up to its first return: the code that copies. */
	for (i = 0; i < n; i += (uint64_t)len) {
		len = gobin_x86_insn_len(p + i, n - i);
		if (len <= 0 || p[i] == 0xc3)
			break;
	}
	return s3_random_pair(p, i, 7, 0, 0, s3, rnd) ? 0 : -ENOENT;
}

/* The one function called after the load of every BoringSSL label that the file
 * holds (at least two labels must be there). */
static int boring_log_secret(const struct elf_code *c, uint64_t *out)
{
	uint64_t labels[8], cands[16], common[16];
	size_t i, k, j, n_common = 0, n_label_sets = 0;

	for (i = 0; i < sizeof(boring_labels) / sizeof(boring_labels[0]); i++) {
		size_t n_labels = elf_code_find_cstr(c, boring_labels[i], labels,
						     sizeof(labels) / sizeof(labels[0]));
		size_t n = 0, kept = 0;

		if (!n_labels)
			continue;
		all_label_calls(c, labels, n_labels, cands, &n, sizeof(cands) / sizeof(cands[0]));
		if (!n_label_sets++) {
			memcpy(common, cands, n * sizeof(cands[0]));
			n_common = n;
			continue;
		}
		for (k = 0; k < n_common; k++) {
			for (j = 0; j < n && cands[j] != common[k]; j++)
				;
			if (j < n)
				common[kept++] = common[k];
		}
		n_common = kept;
	}
	if (n_label_sets < 2 || n_common != 1)
		return -ENOENT;
	*out = common[0];
	return 0;
}

int keylog_find_boringssl(const char *path, struct keylog_site *out)
{
	uint64_t vaddr = 0, s3 = 0, rnd = 0, s3b = 0, rndb = 0, size = 0;
	const uint8_t *p = NULL;
	char name[128];
	struct elf_code *c;
	size_t i, nf;
	int ret;

	ret = elf_code_open(path, &c);
	if (ret)
		return ret;
	ret = -ENOENT;
	if (boring_random_field(c, path, &s3, &rnd))
		goto done;
	/* A symbol table (a static build) names it: bssl::ssl_log_secret(const ssl_st *,
	 * const char *, bssl::Span<const uint8_t>). */
	if (!elfsym_find_prefix(path, "_ZN4bssl14ssl_log_secret", name, sizeof(name)) &&
	    !elfsym_lookup(path, name, &vaddr))
		out->how = KEYLOG_FOUND_SYMTAB;
	else if (!boring_log_secret(c, &vaddr))
		out->how = KEYLOG_FOUND_CODE;
	else
		goto done;
	nf = elf_code_nfuncs(c);
	for (i = 0; i + 1 < nf && elf_code_func(c, i) != vaddr; i++)
		;
	if (i + 1 < nf && elf_code_func(c, i + 1) > vaddr)
		size = elf_code_func(c, i + 1) - vaddr;
	if (!size || size > 2048)
		size = 2048;
	while (size && !(p = elf_code_bytes(c, vaddr, size, NULL)))
		size--;
	/* The same two offsets in ssl_log_secret's own reading of the client random: the
	 * structures are as SSL_get_client_random says, or nothing is attached. */
	if (!p || !s3_random_pair(p, size, -1, s3, rnd, &s3b, &rndb) ||
	    !elf_code_bytes(c, vaddr, 1, &out->file_off)) {
		ret = -EPROTO;
		goto done;
	}
	out->vaddr = vaddr;
	out->cookie = s3 << 32 | rnd;
	ret = 0;
done:
	elf_code_close(c);
	return ret;
}

int keylog_find_go(const char *path, struct keylog_site *out)
{
	struct gobin_info *gi = malloc(sizeof(*gi));
	int ret;

	if (!gi)
		return -ENOMEM;
	ret = gobin_analyze(path, gi);
	if (ret < 0)
		goto done;
	ret = -ENOENT;
	if (!gi->is_go || !gi->keylog.found || !gi->keylog.entry_off)
		goto done;
	ret = -ENOTSUP;
	if (!gi->reg_abi)
		goto done;
	out->vaddr = gi->keylog.vaddr;
	out->file_off = gi->keylog.entry_off;
	out->how = KEYLOG_FOUND_PCLN;
	ret = 0;
done:
	free(gi);
	return ret;
}

/* ---- attaching ---- */

struct seen {
	dev_t dev;
	ino_t ino;
	struct bpf_link *link; /* NULL: looked at, nothing to probe */
};

struct keylog_probes {
	struct keylog_bpf *skel;
	bool has_cookie; /* bpf_get_attach_cookie (GnuTLS's random offset) */
	struct seen *v;
	size_t n, cap;
	size_t n_links;
};

struct keylog_probes *keylog_probes_new(struct keylog_bpf *skel)
{
	struct keylog_probes *kp = calloc(1, sizeof(*kp));

	if (kp) {
		kp->skel = skel;
		kp->has_cookie = skel->rodata->has_cookie;
	}
	return kp;
}

void keylog_probes_free(struct keylog_probes *kp)
{
	size_t i;

	if (!kp)
		return;
	for (i = 0; i < kp->n; i++)
		bpf_link__destroy(kp->v[i].link);
	free(kp->v);
	free(kp);
}

size_t keylog_probes_count(const struct keylog_probes *kp)
{
	return kp ? kp->n_links : 0;
}

static const char *how_name(int how)
{
	switch (how) {
	case KEYLOG_FOUND_SYMTAB:
		return "named in .symtab";
	case KEYLOG_FOUND_CODE:
		return "found in the machine code";
	default:
		return "found in the pclntab";
	}
}

/* Look at one file: the probe's link, or NULL (logged either way). */
static struct bpf_link *attach_file(struct keylog_probes *kp, const char *path)
{
	LIBBPF_OPTS(bpf_uprobe_opts, uo);
	struct bpf_program *prog;
	struct keylog_site site;
	struct bpf_link *l;
	const char *what;
	int ret;

	unsigned syms = targets_elf_syms(path);

	memset(&site, 0, sizeof(site));
	if (syms & SYM_OPENSSL_VER) {
		what = "OpenSSL nss_keylog_int";
		prog = kp->skel->progs.ossl_keylog;
		ret = keylog_find_openssl(path, &site);
	} else if ((syms & SYM_SSL_READ) && targets_boringssl(path)) {
		what = "BoringSSL ssl_log_secret";
		prog = kp->skel->progs.boring_keylog;
		ret = keylog_find_boringssl(path, &site);
		if (!ret && !kp->has_cookie)
			ret = -ENOTSUP;
	} else if (syms & SYM_GNUTLS_SEND) {
		what = "GnuTLS _gnutls_call_keylog_func";
		prog = kp->skel->progs.gnutls_keylog;
		ret = keylog_find_gnutls(path, &site);
		if (!ret && !kp->has_cookie)
			ret = -ENOTSUP;
	} else {
		what = "Go crypto/tls (*Config).writeKeyLog";
		prog = kp->skel->progs.go_keylog;
		ret = keylog_find_go(path, &site);
		if (ret == -ENOENT && (syms & SYM_PR_WRITE))
			/* Once per file, so the gap is not silent (README, TLS key log). */
			log_msg(LOG_WARN,
				"key log: NSS secrets are not logged (%s): NSS hands its key-log "
				"code a PKCS #11 key handle, not the secret's bytes",
				path);
		if (ret == -ENOENT)
			return NULL;
	}
	if (ret) {
		log_msg(LOG_WARN, "key log: %s not found in %s (%s): its secrets are not logged",
			what, path,
			ret == -ENOTSUP
			    ? "not analysable: x86-64 OpenSSL, BoringSSL and GnuTLS (kernel "
			      "5.15+), Go 1.17+ only"
			: ret == -EPROTO ? "its code does not read the client random where "
					   "SSL_get_client_random does"
					 : strerror(-ret));
		return NULL;
	}
	uo.bpf_cookie = site.cookie;
	l = bpf_program__attach_uprobe_opts(prog, -1, path, site.file_off, &uo);
	if (!l) {
		log_msg(LOG_WARN, "key log: cannot attach to %s in %s: %s", what, path,
			strerror(errno));
		return NULL;
	}
	if (prog == kp->skel->progs.boring_keylog)
		/* Offsets, not arguments: say which, and how they were checked. */
		log_msg(LOG_INFO,
			"key log: attached to %s in %s at 0x%llx (%s; client random at "
			"*(ssl + %#llx) + %#llx, read from SSL_get_client_random's code and "
			"found the same in ssl_log_secret's)",
			what, path, (unsigned long long)site.vaddr, how_name(site.how),
			(unsigned long long)(site.cookie >> 32),
			(unsigned long long)(uint32_t)site.cookie);
	else
		log_msg(LOG_INFO, "key log: attached to %s in %s at 0x%llx (%s)", what, path,
			(unsigned long long)site.vaddr, how_name(site.how));
	return l;
}

int keylog_probes_sync(struct keylog_probes *kp, const struct targets *t)
{
	size_t i, k, nt = targets_count(t);
	int added = 0;

	for (i = 0; i < nt; i++) {
		const char *path = targets_path(t, i);
		struct stat st;

		if (!path || stat(path, &st))
			continue;
		for (k = 0; k < kp->n; k++)
			if (kp->v[k].dev == st.st_dev && kp->v[k].ino == st.st_ino)
				break;
		if (k < kp->n)
			continue;
		if (kp->n == kp->cap) {
			size_t nc = kp->cap ? 2 * kp->cap : 16;
			struct seen *nv = realloc(kp->v, nc * sizeof(*nv));

			if (!nv)
				return added;
			kp->v = nv;
			kp->cap = nc;
		}
		kp->v[kp->n] = (struct seen){st.st_dev, st.st_ino, attach_file(kp, path)};
		if (kp->v[kp->n].link) {
			kp->n_links++;
			added++;
		}
		kp->n++;
	}
	return added;
}
