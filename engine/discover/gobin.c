// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Go ELF analysis: pclntab, build info, and the return sites of crypto/tls's
 * functions. Formats:
 *   ELF: System V gABI (ELF-64 object file format).
 *   pclntab: Go's runtime/symtab.go and cmd/internal/objfile (headers for go1.2,
 *     go1.16 and go1.18+; magic 0xfffffffb, 0xfffffffa, 0xfffffff0, 0xfffffff1).
 *   build info: Go's debug/buildinfo ("\xff Go buildinf:", inline strings since
 *     go1.18, pointers before).
 *   x86-64 encodings: Intel SDM vol. 2, chapter 2 and appendix A (opcode maps).
 */
#include "engine/discover/gobin.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <Zydis/Decoder.h>

#define EM_X86_64_  62
#define EM_AARCH64_ 183
#define ET_DYN_	    3
#define PT_LOAD_    1
#define PF_X_	    1
#define PF_W_	    2
#define SHT_SYMTAB_ 2

#define MAGIC_12  0xfffffffbu
#define MAGIC_116 0xfffffffau
#define MAGIC_118 0xfffffff0u
#define MAGIC_120 0xfffffff1u

#define FN_WRITE_RECORD "crypto/tls.(*Conn).writeRecordLocked"
#define FN_READ		"crypto/tls.(*Conn).Read"
#define FN_FLUSH	"crypto/tls.(*Conn).flush"
#define FN_KEYLOG	"crypto/tls.(*Config).writeKeyLog"

/* ---- bounds-checked little-endian reads ---- */

static bool rd(const uint8_t *b, size_t n, uint64_t off, unsigned size, uint64_t *out)
{
	uint64_t v = 0;
	unsigned i;

	if (off > n || size > n - off)
		return false;
	for (i = 0; i < size; i++)
		v |= (uint64_t)b[off + i] << (8 * i);
	*out = v;
	return true;
}

static uint64_t rdz(const uint8_t *b, size_t n, uint64_t off, unsigned size)
{
	uint64_t v;

	return rd(b, n, off, size, &v) ? v : 0;
}

/* ---- ELF ---- */

struct elf_img {
	const uint8_t *b;
	size_t n;
	uint16_t type, machine;
	uint64_t phoff, shoff;
	unsigned phnum, shnum, shstrndx;
};

static bool elf_parse(struct elf_img *e, const uint8_t *b, size_t n)
{
	memset(e, 0, sizeof(*e));
	e->b = b;
	e->n = n;
	/* e_ident: magic, ELFCLASS64 (2), ELFDATA2LSB (1). */
	if (n < 64 ||
	    memcmp(b,
		   "\x7f"
		   "ELF",
		   4) ||
	    b[4] != 2 || b[5] != 1)
		return false;
	e->type = (uint16_t)rdz(b, n, 16, 2);
	e->machine = (uint16_t)rdz(b, n, 18, 2);
	e->phoff = rdz(b, n, 32, 8);
	e->shoff = rdz(b, n, 40, 8);
	e->phnum = (unsigned)rdz(b, n, 56, 2);
	e->shnum = (unsigned)rdz(b, n, 60, 2);
	e->shstrndx = (unsigned)rdz(b, n, 62, 2);
	if (rdz(b, n, 54, 2) != 56)
		e->phnum = 0;
	if (rdz(b, n, 58, 2) != 64)
		e->shnum = 0;
	return true;
}

struct seg {
	uint32_t flags;
	uint64_t off, vaddr, filesz;
};

static bool elf_phdr(const struct elf_img *e, unsigned i, uint32_t *type, struct seg *s)
{
	uint64_t p = e->phoff + (uint64_t)i * 56, v;

	if (!rd(e->b, e->n, p, 4, &v))
		return false;
	*type = (uint32_t)v;
	s->flags = (uint32_t)rdz(e->b, e->n, p + 4, 4);
	s->off = rdz(e->b, e->n, p + 8, 8);
	s->vaddr = rdz(e->b, e->n, p + 16, 8);
	s->filesz = rdz(e->b, e->n, p + 32, 8);
	return rd(e->b, e->n, p + 48, 8, &v);
}

/* File offset of the virtual address v and the bytes available there in its segment;
 * false if no loaded segment holds it in the file. */
static bool elf_v2off(const struct elf_img *e, uint64_t v, uint64_t *off, uint64_t *avail,
		      uint32_t *flags)
{
	unsigned i;

	for (i = 0; i < e->phnum; i++) {
		struct seg s;
		uint32_t type;

		if (!elf_phdr(e, i, &type, &s) || type != PT_LOAD_)
			continue;
		if (v < s.vaddr || v - s.vaddr >= s.filesz)
			continue;
		if (s.off > e->n || s.filesz > e->n - s.off)
			return false; /* the segment claims bytes past the file's end */
		*off = s.off + (v - s.vaddr);
		*avail = s.filesz - (v - s.vaddr);
		if (flags)
			*flags = s.flags;
		return true;
	}
	return false;
}

struct sect {
	uint32_t type;
	uint64_t addr, off, size;
};

static bool elf_shdr(const struct elf_img *e, unsigned i, struct sect *s, const char **name)
{
	uint64_t p = e->shoff + (uint64_t)i * 64, nameoff, stroff, strsize;
	uint64_t sp = e->shoff + (uint64_t)e->shstrndx * 64;

	if (!rd(e->b, e->n, p, 4, &nameoff) || !rd(e->b, e->n, p + 56, 8, &strsize))
		return false;
	s->type = (uint32_t)rdz(e->b, e->n, p + 4, 4);
	s->addr = rdz(e->b, e->n, p + 16, 8);
	s->off = rdz(e->b, e->n, p + 24, 8);
	s->size = rdz(e->b, e->n, p + 32, 8);
	*name = "";
	if (e->shstrndx < e->shnum && rd(e->b, e->n, sp + 24, 8, &stroff) &&
	    rd(e->b, e->n, sp + 32, 8, &strsize) && stroff <= e->n && strsize <= e->n - stroff &&
	    nameoff < strsize && memchr(e->b + stroff + nameoff, 0, strsize - nameoff))
		*name = (const char *)e->b + stroff + nameoff;
	return true;
}

/* The section called name, with its bytes inside the file; false if absent. */
static bool elf_section(const struct elf_img *e, const char *name, struct sect *out)
{
	unsigned i;

	for (i = 0; i < e->shnum; i++) {
		const char *nm;

		if (!elf_shdr(e, i, out, &nm) || strcmp(nm, name))
			continue;
		/* SHT_NOBITS has no bytes in the file. */
		if (out->type == 8 || out->off > e->n || out->size > e->n - out->off)
			return false;
		return true;
	}
	return false;
}

/* ---- pclntab ---- */

struct pcln {
	const uint8_t *b; /* from the header to the end of what holds it */
	size_t n;
	uint32_t magic;
	unsigned quantum, ptrsize;
	uint64_t nfunc, text_start;
	uint64_t funcname_off, pctab_off, functab_off;
};

static bool pcln_parse(struct pcln *p, const uint8_t *b, size_t n, uint64_t text_addr)
{
	memset(p, 0, sizeof(*p));
	p->b = b;
	p->n = n;
	if (n < 16)
		return false;
	p->magic = (uint32_t)rdz(b, n, 0, 4);
	p->quantum = b[6];
	p->ptrsize = b[7];
	if (b[4] || b[5] || (p->quantum != 1 && p->quantum != 2 && p->quantum != 4) ||
	    (p->ptrsize != 4 && p->ptrsize != 8))
		return false;
	p->nfunc = rdz(b, n, 8, p->ptrsize);
	switch (p->magic) {
	case MAGIC_118:
	case MAGIC_120:
		/* magic, pad, quantum, ptrsize, nfunc, nfiles, textStart, funcnameOffset,
		 * cuOffset, filetabOffset, pctabOffset, pclnOffset */
		p->text_start = rdz(b, n, 8 + 2 * p->ptrsize, p->ptrsize);
		p->funcname_off = rdz(b, n, 8 + 3 * p->ptrsize, p->ptrsize);
		p->pctab_off = rdz(b, n, 8 + 6 * p->ptrsize, p->ptrsize);
		p->functab_off = rdz(b, n, 8 + 7 * p->ptrsize, p->ptrsize);
		/* In a PIE the field may be left to a dynamic relocation: .text starts
		 * the text the offsets count from. */
		if (!p->text_start)
			p->text_start = text_addr;
		break;
	case MAGIC_116:
		/* as above without textStart */
		p->funcname_off = rdz(b, n, 8 + 2 * p->ptrsize, p->ptrsize);
		p->pctab_off = rdz(b, n, 8 + 5 * p->ptrsize, p->ptrsize);
		p->functab_off = rdz(b, n, 8 + 6 * p->ptrsize, p->ptrsize);
		break;
	case MAGIC_12:
		/* magic, pad, quantum, ptrsize, nfunc, then the function table; every
		 * other offset counts from the header */
		p->functab_off = 8 + p->ptrsize;
		break;
	default:
		return false;
	}
	/* The table of nfunc + 1 entries must fit. */
	if (!p->nfunc || p->nfunc > (1u << 24) || p->functab_off > n ||
	    (p->nfunc + 1) * 2 * (p->magic >= MAGIC_118 ? 4 : p->ptrsize) > n - p->functab_off)
		return false;
	return true;
}

/* Entry i of the function table: entry address and the _func record's offset. */
static bool pcln_functab(const struct pcln *p, uint64_t i, uint64_t *entry, uint64_t *func)
{
	uint64_t e, f;

	if (p->magic >= MAGIC_118) {
		if (!rd(p->b, p->n, p->functab_off + i * 8, 4, &e) ||
		    !rd(p->b, p->n, p->functab_off + i * 8 + 4, 4, &f))
			return false;
		*entry = p->text_start + e;
		*func = p->functab_off + f;
		return true;
	}
	if (!rd(p->b, p->n, p->functab_off + i * 2 * p->ptrsize, p->ptrsize, &e) ||
	    !rd(p->b, p->n, p->functab_off + (i * 2 + 1) * p->ptrsize, p->ptrsize, &f))
		return false;
	*entry = e;
	*func = p->magic == MAGIC_116 ? p->functab_off + f : f;
	return true;
}

/* _func fields: name (NUL-terminated inside the table), pcsp and pcln table offsets. */
static bool pcln_func(const struct pcln *p, uint64_t func, const char **name, uint64_t *pcsp,
		      uint64_t *pcline)
{
	uint64_t nameoff, base, sp, ln, name_at;
	unsigned f0 = p->magic >= MAGIC_118 ? 4 : p->ptrsize; /* size of the entry field */

	/* entry, nameoff, args, deferreturn, pcsp, pcfile, pcln */
	if (!rd(p->b, p->n, func + f0, 4, &nameoff) || !rd(p->b, p->n, func + f0 + 12, 4, &sp) ||
	    !rd(p->b, p->n, func + f0 + 20, 4, &ln))
		return false;
	base = p->magic == MAGIC_12 ? 0 : p->funcname_off;
	name_at = base + (uint32_t)nameoff;
	if (name_at >= p->n || !memchr(p->b + name_at, 0, p->n - name_at))
		return false;
	*name = (const char *)p->b + name_at;
	/* Offset 0 means no table (functions from C objects linked in by cgo). */
	base = p->magic == MAGIC_12 ? 0 : p->pctab_off;
	*pcsp = sp ? base + (uint32_t)sp : 0;
	*pcline = ln ? base + (uint32_t)ln : 0;
	return *pcsp < p->n && *pcline < p->n;
}

static bool uvarint(const uint8_t *b, size_t n, size_t *pos, uint64_t *out)
{
	uint64_t v = 0;
	unsigned shift = 0;

	while (*pos < n && shift < 64) {
		uint8_t c = b[(*pos)++];

		v |= (uint64_t)(c & 0x7f) << shift;
		if (!(c & 0x80)) {
			*out = v;
			return true;
		}
		shift += 7;
	}
	return false;
}

int gobin_pcvalue_walk(const uint8_t *tab, size_t n, uint64_t entry, unsigned quantum,
		       int (*cb)(uint64_t pc, uint64_t end, int64_t val, void *arg), void *arg)
{
	uint64_t pc = entry, uv, pcd;
	int64_t val = -1;
	size_t pos = 0;
	bool first = true;
	int ret;

	for (;;) {
		if (!uvarint(tab, n, &pos, &uv))
			return -EINVAL;
		if (!uv && !first)
			return 0;
		first = false;
		/* zig-zag: the low bit says negative */
		val += (uv & 1) ? -(int64_t)((uv >> 1) + 1) : (int64_t)(uv >> 1);
		if (!uvarint(tab, n, &pos, &pcd) || !pcd || pcd > (1u << 28))
			return -EINVAL;
		ret = cb(pc, pc + pcd * quantum, val, arg);
		if (ret)
			return ret;
		pc += pcd * quantum;
	}
}

/* ---- x86-64 instruction lengths ---- */

/* Zydis in its minimal mode: lengths only, no operand decoding. A decoder is a few
 * fields set by ZydisDecoderInit, so each call keeps its own (no shared state
 * between discovery's threads). */
int gobin_x86_insn_len(const uint8_t *p, size_t n)
{
	ZydisDecodedInstruction insn;
	ZydisDecoderContext ctx;
	ZydisDecoder dec;

	if (ZYAN_FAILED(ZydisDecoderInit(&dec, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64)) ||
	    ZYAN_FAILED(ZydisDecoderEnableMode(&dec, ZYDIS_DECODER_MODE_MINIMAL, ZYAN_TRUE)))
		return -1;
	if (ZYAN_FAILED(ZydisDecoderDecodeInstruction(&dec, &ctx, p, n, &insn)))
		return -1;
	return insn.length;
}

/* ---- return sites ---- */

struct ret_check {
	const uint8_t *bound; /* 1 where an instruction starts (index = pc - entry) */
	uint64_t entry, size;
	const uint64_t *cand; /* candidate RET pcs */
	size_t n_cand;
	bool *ok; /* per candidate: SP delta 0 there */
	uint64_t bad_pc;
};

static int check_bounds_cb(uint64_t pc, uint64_t end, int64_t val, void *arg)
{
	struct ret_check *rc = arg;
	size_t i;

	(void)end;
	if (pc < rc->entry || pc - rc->entry > rc->size) {
		rc->bad_pc = pc;
		return 1;
	}
	if (pc - rc->entry < rc->size && !rc->bound[pc - rc->entry]) {
		rc->bad_pc = pc;
		return 1;
	}
	if (rc->ok)
		for (i = 0; i < rc->n_cand; i++)
			if (rc->cand[i] >= pc && rc->cand[i] < end && val == 0)
				rc->ok[i] = true;
	return 0;
}

/* Keep the candidates the pcsp table confirms; check both tables' change points. */
static int confirm_rets(struct ret_check *rc, const uint8_t *pcsp, size_t pcsp_len,
			const uint8_t *pcln, size_t pcln_len, unsigned quantum, uint64_t *ret_pc,
			size_t n_cand, char *why, size_t whylen)
{
	bool ok[GOBIN_MAX_RETS] = {false};
	size_t i, n = 0;
	int r;

	rc->ok = ok;
	if (pcsp) {
		r = gobin_pcvalue_walk(pcsp, pcsp_len, rc->entry, quantum, check_bounds_cb, rc);
		if (r) {
			snprintf(why, whylen,
				 r > 0 ? "instruction decoding disagrees with the "
					 "stack table at +%#llx"
				       : "malformed stack table",
				 (unsigned long long)(rc->bad_pc - rc->entry));
			return -EINVAL;
		}
	}
	rc->ok = NULL;
	if (pcln) {
		r = gobin_pcvalue_walk(pcln, pcln_len, rc->entry, quantum, check_bounds_cb, rc);
		if (r) {
			snprintf(why, whylen,
				 r > 0 ? "instruction decoding disagrees with the "
					 "line table at +%#llx"
				       : "malformed line table",
				 (unsigned long long)(rc->bad_pc - rc->entry));
			return -EINVAL;
		}
	}
	for (i = 0; i < n_cand; i++)
		if (!pcsp || ok[i])
			ret_pc[n++] = rc->cand[i];
	return (int)n;
}

int gobin_x86_rets(const uint8_t *code, size_t size, uint64_t entry, const uint8_t *pcsp,
		   size_t pcsp_len, const uint8_t *pcln, size_t pcln_len, uint64_t *ret_pc,
		   size_t max, char *why, size_t whylen)
{
	uint64_t cand[GOBIN_MAX_RETS];
	struct ret_check rc = {.entry = entry, .size = size, .cand = cand};
	uint8_t *bound;
	size_t pos = 0, n_cand = 0;
	int r, k;

	if (!size || size > (1u << 24)) {
		snprintf(why, whylen, "implausible function size %zu", size);
		return -EINVAL;
	}
	bound = calloc(size, 1);
	if (!bound)
		return -ENOMEM;
	while (pos < size) {
		int len = gobin_x86_insn_len(code + pos, size - pos);

		if (len <= 0) {
			snprintf(why, whylen, "cannot decode the instruction at +%#zx", pos);
			free(bound);
			return -EINVAL;
		}
		bound[pos] = 1;
		/* Go's assembler writes LOCK, REP and REPN as instructions of their own,
		 * so its line table may change right after such a prefix. Such a point
		 * is accepted by the table check but is never a probe site. */
		for (k = 0; k < len - 1 && (code[pos + k] == 0xf0 || code[pos + k] == 0xf2 ||
					    code[pos + k] == 0xf3);
		     k++)
			bound[pos + k + 1] = 2;
		if (len == 1 && code[pos] == 0xc3) {
			if (n_cand == GOBIN_MAX_RETS || n_cand == max) {
				snprintf(why, whylen, "more than %zu return instructions", n_cand);
				free(bound);
				return -E2BIG;
			}
			cand[n_cand++] = entry + pos;
		}
		pos += len;
	}
	rc.bound = bound;
	rc.n_cand = n_cand;
	r = confirm_rets(&rc, pcsp, pcsp_len, pcln, pcln_len, 1, ret_pc, n_cand, why, whylen);
	free(bound);
	return r;
}

/* arm64: fixed 4-byte instructions; RET (to X30) is d65f03c0. */
static int arm64_rets(const uint8_t *code, size_t size, uint64_t entry, const uint8_t *pcsp,
		      size_t pcsp_len, uint64_t *ret_pc, size_t max, char *why, size_t whylen)
{
	uint64_t cand[GOBIN_MAX_RETS];
	struct ret_check rc = {.entry = entry, .size = size, .cand = cand};
	uint8_t *bound;
	size_t pos, n_cand = 0;
	int r;

	if (!size || size > (1u << 24) || size % 4) {
		snprintf(why, whylen, "implausible function size %zu", size);
		return -EINVAL;
	}
	bound = calloc(size, 1);
	if (!bound)
		return -ENOMEM;
	for (pos = 0; pos < size; pos += 4) {
		bound[pos] = 1;
		if (rdz(code, size, pos, 4) == 0xd65f03c0u) {
			if (n_cand == GOBIN_MAX_RETS || n_cand == max) {
				free(bound);
				snprintf(why, whylen, "too many return instructions");
				return -E2BIG;
			}
			cand[n_cand++] = entry + pos;
		}
	}
	rc.bound = bound;
	rc.n_cand = n_cand;
	r = confirm_rets(&rc, pcsp, pcsp_len, NULL, 0, 4, ret_pc, n_cand, why, whylen);
	free(bound);
	return r;
}

/* ---- the whole binary ---- */

/* Find the pclntab without section names: its header in a non-executable segment. */
static bool find_pcln_scan(const struct elf_img *e, uint64_t text_addr, struct pcln *p)
{
	unsigned i;

	for (i = 0; i < e->phnum; i++) {
		struct seg s;
		uint32_t type;
		uint64_t o;

		if (!elf_phdr(e, i, &type, &s) || type != PT_LOAD_ || (s.flags & PF_X_) ||
		    s.off > e->n || s.filesz > e->n - s.off)
			continue;
		for (o = 0; o + 64 <= s.filesz; o += 8) {
			const uint8_t *b = e->b + s.off + o;
			uint32_t m = (uint32_t)rdz(b, 4, 0, 4);
			uint64_t entry, func, pcsp, pcline;
			const char *name;

			if (m != MAGIC_118 && m != MAGIC_120 && m != MAGIC_116 && m != MAGIC_12)
				continue;
			if (!pcln_parse(p, b, s.filesz - o, text_addr))
				continue;
			/* The first function must have a readable name: rules out stray
			 * copies of the magic. */
			if (pcln_functab(p, 0, &entry, &func) &&
			    pcln_func(p, func, &name, &pcsp, &pcline) && name[0])
				return true;
		}
	}
	return false;
}

static void read_buildinfo(const struct elf_img *e, struct gobin_info *gi)
{
	static const char magic[] = "\xff Go buildinf:";
	const uint8_t *b = NULL;
	uint64_t n = 0;
	struct sect s;
	unsigned i;

	if (elf_section(e, ".go.buildinfo", &s)) {
		b = e->b + s.off;
		n = s.size;
	} else {
		/* Without section headers: the header is 16-byte aligned in a writable
		 * segment. */
		for (i = 0; i < e->phnum && !b; i++) {
			struct seg sg;
			uint32_t type;
			uint64_t o;

			if (!elf_phdr(e, i, &type, &sg) || type != PT_LOAD_ ||
			    !(sg.flags & PF_W_) || sg.off > e->n || sg.filesz > e->n - sg.off)
				continue;
			for (o = 0; o + 32 <= sg.filesz; o += 16)
				if (!memcmp(e->b + sg.off + o, magic, 14)) {
					b = e->b + sg.off + o;
					n = sg.filesz - o;
					break;
				}
		}
	}
	if (!b || n < 32 || memcmp(b, magic, 14))
		return;
	if (b[15] & 2) {
		/* go1.18+: the version inline after the 32-byte header, length-prefixed. */
		size_t pos = 32;
		uint64_t len;

		if (uvarint(b, n, &pos, &len) && len < sizeof(gi->version) && len <= n - pos) {
			memcpy(gi->version, b + pos, len);
			gi->version[len] = '\0';
		}
	} else {
		/* Before: a pointer to the version's string header {data, len}. */
		unsigned ps = b[14];
		uint64_t hdr, data, len, off, avail;

		if ((ps != 4 && ps != 8) || !rd(b, n, 16, ps, &hdr) ||
		    !elf_v2off(e, hdr, &off, &avail, NULL) || avail < 2 * ps)
			return;
		data = rdz(e->b, e->n, off, ps);
		len = rdz(e->b, e->n, off + ps, ps);
		if (!len || len >= sizeof(gi->version) || !elf_v2off(e, data, &off, &avail, NULL) ||
		    avail < len)
			return;
		memcpy(gi->version, e->b + off, len);
		gi->version[len] = '\0';
	}
}

/* go1.N's N from a version string ("go1.19.8", "devel go1.22-abc"); 0 if unknown. */
static int go_minor(const char *v)
{
	const char *p = strstr(v, "go1.");
	int minor = 0;

	if (!p)
		return 0;
	for (p += 4; *p >= '0' && *p <= '9'; p++)
		minor = minor * 10 + (*p - '0');
	return minor;
}

/* fd >= 0: read the code with pread rather than through the mapping. A mapping of
 * the file shares the uprobes already set on it (by this or another tracer): the
 * kernel writes their breakpoint bytes into every executable-capable mapping, and
 * a PROT_READ file mapping counts. The page cache, which read() returns, does not
 * have them. */
static void find_rets(const struct elf_img *e, const struct pcln *p, struct gobin_func *f,
		      uint64_t pcsp, uint64_t pcline, int fd)
{
	uint64_t off, avail, pcs[GOBIN_MAX_RETS];
	const uint8_t *code;
	uint8_t *copy = NULL;
	uint32_t flags;
	size_t i;
	int r;

	if (!elf_v2off(e, f->vaddr, &off, &avail, &flags) || !(flags & PF_X_) || avail < f->size) {
		snprintf(f->why, sizeof(f->why), "code not in an executable segment of the file");
		return;
	}
	f->entry_off = off;
	/* Without its stack table a return cannot be told from a stray c3 byte. */
	if (!pcsp) {
		snprintf(f->why, sizeof(f->why), "no stack-pointer table");
		return;
	}
	code = e->b + off;
	if (fd >= 0) {
		copy = malloc(f->size);
		if (!copy || pread(fd, copy, f->size, (off_t)off) != (ssize_t)f->size) {
			snprintf(f->why, sizeof(f->why), "cannot read the function's code");
			free(copy);
			return;
		}
		code = copy;
	}
	if (e->machine == EM_X86_64_)
		r = gobin_x86_rets(code, f->size, f->vaddr, p->b + pcsp, p->n - pcsp,
				   pcline ? p->b + pcline : NULL, p->n - pcline, pcs,
				   GOBIN_MAX_RETS, f->why, sizeof(f->why));
	else
		r = arm64_rets(code, f->size, f->vaddr, p->b + pcsp, p->n - pcsp, pcs,
			       GOBIN_MAX_RETS, f->why, sizeof(f->why));
	free(copy);
	if (r < 0)
		return;
	if (!r) {
		snprintf(f->why, sizeof(f->why), "no return instruction found");
		return;
	}
	for (i = 0; i < (size_t)r; i++)
		f->ret_off[i] = off + (pcs[i] - f->vaddr);
	f->n_rets = (size_t)r;
}

static int analyze(const uint8_t *buf, size_t len, int fd, struct gobin_info *gi)
{
	struct elf_img e;
	struct pcln p;
	struct sect s;
	uint64_t text_addr = 0, i;
	bool have = false;

	memset(gi, 0, sizeof(*gi));
	if (!elf_parse(&e, buf, len))
		return 0;
	if (e.machine != EM_X86_64_ && e.machine != EM_AARCH64_)
		return 0;
	gi->machine = e.machine;
	gi->pie = e.type == ET_DYN_;
	if (elf_section(&e, ".text", &s))
		text_addr = s.addr;
	for (i = 0; i < e.shnum; i++) {
		const char *nm;

		if (elf_shdr(&e, (unsigned)i, &s, &nm) && s.type == SHT_SYMTAB_)
			gi->has_symtab = true;
	}
	/* Non-PIE builds name it .gopclntab; PIE builds put it in .data.rel.ro. */
	if (elf_section(&e, ".gopclntab", &s) || elf_section(&e, ".data.rel.ro.gopclntab", &s))
		have = pcln_parse(&p, buf + s.off, s.size, text_addr);
	/* The search for its header, only without section headers: a file that has them
	 * and no Go section is no Go program (and most executables are not). */
	if (!have && !e.shnum)
		have = find_pcln_scan(&e, text_addr, &p);
	if (!have)
		return 0;
	gi->is_go = true;
	gi->pcln_magic = p.magic;
	read_buildinfo(&e, gi);
	if (gi->version[0]) {
		int minor = go_minor(gi->version);

		gi->reg_abi = (e.machine == EM_X86_64_ && minor >= 17) ||
			      (e.machine == EM_AARCH64_ && minor >= 18);
	} else {
		/* No build info: a go1.18+ table implies the register ABI on both. */
		gi->reg_abi = p.magic == MAGIC_118 || p.magic == MAGIC_120;
	}
	for (i = 0; i < p.nfunc; i++) {
		uint64_t entry, func, next, nfunc_unused, pcsp, pcline;
		struct gobin_func *f;
		const char *name;

		if (!pcln_functab(&p, i, &entry, &func) ||
		    !pcln_func(&p, func, &name, &pcsp, &pcline))
			continue;
		if (strncmp(name, "crypto/tls.(*Conn).", 19) && strcmp(name, FN_KEYLOG))
			continue;
		if (!strcmp(name, FN_WRITE_RECORD))
			f = &gi->write_record;
		else if (!strcmp(name, FN_READ))
			f = &gi->read;
		else if (!strcmp(name, FN_FLUSH))
			f = &gi->flush;
		else if (!strcmp(name, FN_KEYLOG))
			f = &gi->keylog;
		else
			continue;
		if (!pcln_functab(&p, i + 1, &next, &nfunc_unused) || next <= entry)
			continue;
		f->found = true;
		f->vaddr = entry;
		f->size = next - entry;
		find_rets(&e, &p, f, pcsp, pcline, fd);
	}
	return 1;
}

int gobin_analyze_mem(const uint8_t *buf, size_t len, struct gobin_info *gi)
{
	return analyze(buf, len, -1, gi);
}

int gobin_verify_all(const uint8_t *buf, size_t len, size_t *n_ok, size_t *n_refused,
		     size_t *n_rets, char *why, size_t whylen)
{
	struct elf_img e;
	struct pcln p;
	struct sect s;
	uint64_t text_addr = 0, i;

	*n_ok = *n_refused = *n_rets = 0;
	why[0] = '\0';
	if (!elf_parse(&e, buf, len) || e.machine != EM_X86_64_)
		return -EINVAL;
	if (elf_section(&e, ".text", &s))
		text_addr = s.addr;
	if (!((elf_section(&e, ".gopclntab", &s) ||
	       elf_section(&e, ".data.rel.ro.gopclntab", &s)) &&
	      pcln_parse(&p, buf + s.off, s.size, text_addr)) &&
	    !find_pcln_scan(&e, text_addr, &p))
		return -EINVAL;
	for (i = 0; i < p.nfunc; i++) {
		uint64_t entry, func, next, unused, pcsp, pcline, off, avail, pcs[GOBIN_MAX_RETS];
		const char *name;
		uint32_t flags;
		char w[128];
		int r;

		if (!pcln_functab(&p, i, &entry, &func) ||
		    !pcln_func(&p, func, &name, &pcsp, &pcline) ||
		    !pcln_functab(&p, i + 1, &next, &unused) || next <= entry ||
		    !elf_v2off(&e, entry, &off, &avail, &flags) || avail < next - entry) {
			snprintf(why, whylen, "function %llu: bad table entry",
				 (unsigned long long)i);
			return -EINVAL;
		}
		r = gobin_x86_rets(e.b + off, next - entry, entry, pcsp ? p.b + pcsp : NULL,
				   p.n - pcsp, pcline ? p.b + pcline : NULL, p.n - pcline, pcs,
				   GOBIN_MAX_RETS, w, sizeof(w));
		if (r == -E2BIG) {
			(*n_ok)++; /* decoded and checked; just too many returns to list */
			continue;
		}
		if (r < 0) {
			/* Refused: hand-written assembly can hold data between
			 * instructions. Name the first. */
			if (!(*n_refused)++)
				snprintf(why, whylen, "%s: %s", name, w);
			continue;
		}
		(*n_ok)++;
		*n_rets += (size_t)r;
	}
	return 0;
}

int gobin_analyze(const char *path, struct gobin_info *gi)
{
	struct stat st;
	void *m;
	int fd, ret;

	memset(gi, 0, sizeof(*gi));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size < 64) {
		close(fd);
		return 0;
	}
	m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (m == MAP_FAILED) {
		ret = -errno;
		close(fd);
		return ret;
	}
	ret = analyze(m, (size_t)st.st_size, fd, gi);
	munmap(m, (size_t)st.st_size);
	close(fd);
	return ret;
}
