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
	size_t i, k, n = 0, nf, n_labels;
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
	nf = elf_code_nfuncs(c);
	for (i = 0; i < nf; i++) {
		uint64_t start = elf_code_func(c, i),
			 end = i + 1 < nf ? elf_code_func(c, i + 1) : 0;
		uint64_t size = end > start ? end - start : 0;

		while (!end && size < FUNC_MAX && elf_code_bytes(c, start, size + 1, NULL))
			size++; /* the last function: up to the end of its segment */
		if (size && size <= FUNC_MAX)
			label_calls(c, start, size, labels, n_labels, cands, &n,
				    sizeof(cands) / sizeof(cands[0]));
	}
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
	struct seen *v;
	size_t n, cap;
	size_t n_links;
};

struct keylog_probes *keylog_probes_new(struct keylog_bpf *skel)
{
	struct keylog_probes *kp = calloc(1, sizeof(*kp));

	if (kp)
		kp->skel = skel;
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

	if (targets_elf_syms(path) & SYM_OPENSSL_VER) {
		what = "OpenSSL nss_keylog_int";
		prog = kp->skel->progs.ossl_keylog;
		ret = keylog_find_openssl(path, &site);
	} else {
		what = "Go crypto/tls (*Config).writeKeyLog";
		prog = kp->skel->progs.go_keylog;
		ret = keylog_find_go(path, &site);
		if (ret == -ENOENT)
			return NULL; /* GnuTLS, NSS, BoringSSL: not covered (README) */
	}
	if (ret) {
		log_msg(LOG_WARN, "key log: %s not found in %s (%s): its secrets are not logged",
			what, path,
			ret == -ENOTSUP ? "not analysable: x86-64 OpenSSL, Go 1.17+ only"
					: strerror(-ret));
		return NULL;
	}
	l = bpf_program__attach_uprobe_opts(prog, -1, path, site.file_off, &uo);
	if (!l) {
		log_msg(LOG_WARN, "key log: cannot attach to %s in %s: %s", what, path,
			strerror(errno));
		return NULL;
	}
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
