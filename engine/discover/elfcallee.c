// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "engine/discover/elfcallee.h"

#include <errno.h>
#include <gelf.h>
#include <libelf.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/discover/elfsym.h"
#include "engine/discover/gobin.h"

/* Direct call/jump targets remembered per function: SSL_read has a handful. */
#define MAX_TARGETS 32

/* DWARF pointer encodings (LSB "Linux Standard Base Core Specification", section
 * "DWARF Extensions": .eh_frame_hdr). The search table GNU ld and lld write is
 * datarel|sdata4: 4-byte signed values relative to the start of .eh_frame_hdr. */
#define DW_EH_PE_omit	 0xff
#define DW_EH_PE_udata4	 0x03
#define DW_EH_PE_sdata4	 0x0b
#define DW_EH_PE_pcrel	 0x10
#define DW_EH_PE_datarel 0x30

struct image {
	int fd;
	const uint8_t *raw; /* the whole file, through libelf's mapping (not for code) */
	size_t size;
	GElf_Phdr text[8]; /* executable PT_LOAD segments */
	size_t n_text;
	const uint8_t *table; /* .eh_frame_hdr search table: (start, fde) pairs */
	uint64_t table_base;  /* what the table's values are relative to */
	uint32_t n_fde;
};

/* The file bytes of [vaddr, vaddr + len) if an executable segment holds them all. */
static const uint8_t *code_at(const struct image *im, uint64_t vaddr, uint64_t len,
			      uint64_t *file_off)
{
	size_t i;

	for (i = 0; i < im->n_text; i++) {
		const GElf_Phdr *ph = &im->text[i];

		if (vaddr < ph->p_vaddr || vaddr - ph->p_vaddr > ph->p_filesz ||
		    len > ph->p_filesz - (vaddr - ph->p_vaddr))
			continue;
		if (ph->p_offset > im->size || vaddr - ph->p_vaddr + len > im->size - ph->p_offset)
			return NULL;
		if (file_off)
			*file_off = ph->p_offset + (vaddr - ph->p_vaddr);
		return im->raw + ph->p_offset + (vaddr - ph->p_vaddr);
	}
	return NULL;
}

/*
 * Code bytes, read from the file itself. Not through a mapping: the kernel writes the
 * breakpoints of uprobes already set on this file (by another ecaptop, or any tracer)
 * into every mapping of it that could execute, a private read-only one included, so
 * a mapping can show 0xcc where the file has the real instruction. The page cache,
 * which pread returns, never has them. 0 or -errno.
 */
static int read_code(const struct image *im, uint64_t vaddr, uint64_t len, uint8_t *buf)
{
	uint64_t off;

	if (!code_at(im, vaddr, len, &off))
		return -ENOEXEC;
	if (pread(im->fd, buf, len, (off_t)off) != (ssize_t)len)
		return -EIO;
	return 0;
}

static int32_t rd32(const uint8_t *p)
{
	int32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* Find the search table of .eh_frame_hdr (PT_GNU_EH_FRAME). 0 or -ENOTSUP. */
static int eh_table(struct image *im, const GElf_Phdr *ph)
{
	const uint8_t *h;
	size_t need;

	if (ph->p_offset > im->size || ph->p_filesz > im->size - ph->p_offset || ph->p_filesz < 12)
		return -ENOTSUP;
	h = im->raw + ph->p_offset;
	/* version 1; eh_frame_ptr in any 4-byte encoding; the count as udata4; the
	 * table as datarel|sdata4 (anything else: no table we can binary-search). */
	if (h[0] != 1 || h[1] == DW_EH_PE_omit || (h[1] & 0x0f) != DW_EH_PE_sdata4 ||
	    h[2] != DW_EH_PE_udata4 || h[3] != (DW_EH_PE_datarel | DW_EH_PE_sdata4))
		return -ENOTSUP;
	im->n_fde = (uint32_t)rd32(h + 8);
	need = 12 + (size_t)im->n_fde * 8;
	if (need > ph->p_filesz)
		return -ENOTSUP;
	im->table = h + 12;
	im->table_base = ph->p_vaddr;
	return 0;
}

/* Is vaddr the first address of a function that has unwind information? */
static bool fde_start(const struct image *im, uint64_t vaddr)
{
	uint32_t lo = 0, hi = im->n_fde;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		uint64_t start =
		    im->table_base + (uint64_t)(int64_t)rd32(im->table + (size_t)mid * 8);

		if (start == vaddr)
			return true;
		if (start < vaddr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

struct fn {
	const char *name;
	uint64_t vaddr, size;
	uint64_t targets[MAX_TARGETS];
	size_t n_targets;
};

struct fns {
	struct fn *f;
	size_t n;
};

static int visit_fn(const char *name, const GElf_Sym *sym, void *arg)
{
	struct fns *fs = arg;
	size_t k;

	if (GELF_ST_TYPE(sym->st_info) != STT_FUNC || !sym->st_size)
		return 0;
	for (k = 0; k < fs->n; k++)
		if (!fs->f[k].vaddr && !strcmp(name, fs->f[k].name)) {
			fs->f[k].vaddr = sym->st_value;
			fs->f[k].size = sym->st_size;
		}
	return 0;
}

/* Every rel32 call (e8) or jump (e9) target in f's code that starts a function,
 * decoding f instruction by instruction from its start (an e8 byte inside another
 * instruction is no call). Code the decoder does not know ends the search: the
 * caller then probes the public functions. */
static int scan_targets(const struct image *im, struct fn *f)
{
	uint8_t *code = malloc(f->size);
	uint64_t i, t;
	size_t k;
	int len, ret;

	if (!code)
		return -ENOMEM;
	ret = read_code(im, f->vaddr, f->size, code);
	if (ret) {
		free(code);
		return ret;
	}
	for (i = 0; i < f->size; i += (uint64_t)len) {
		len = gobin_x86_insn_len(code + i, f->size - i);
		if (len <= 0) {
			free(code);
			return -ENOENT;
		}
		if (len != 5 || (code[i] != 0xe8 && code[i] != 0xe9))
			continue;
		t = f->vaddr + i + 5 + (uint64_t)(int64_t)rd32(code + i + 1);
		if (t == f->vaddr || !code_at(im, t, 1, NULL) || !fde_start(im, t))
			continue;
		for (k = 0; k < f->n_targets && f->targets[k] != t; k++)
			;
		if (k == f->n_targets && f->n_targets < MAX_TARGETS)
			f->targets[f->n_targets++] = t;
	}
	free(code);
	return 0;
}

bool x86_entry_emulated(const uint8_t *code, size_t n)
{
	static const uint8_t nop5[] = {0x0f, 0x1f, 0x44, 0x00, 0x00};

	if (n >= 1 && code[0] >= 0x50 && code[0] <= 0x57)
		return true; /* push %rax..%rdi */
	if (n >= 2 && code[0] == 0x41 && code[1] >= 0x50 && code[1] <= 0x57)
		return true; /* push %r8..%r15 */
	if (n >= 1 && (code[0] == 0xe8 || code[0] == 0xe9))
		return true; /* call/jmp rel32 */
	return n >= sizeof(nop5) && !memcmp(code, nop5, sizeof(nop5));
}

int find_common_callee(const char *path, const char *a, const char *b, struct callee_info *out)
{
	struct fn f[2] = {{.name = a}, {.name = b}};
	struct image im = {0};
	bool have_hdr = false;
	uint64_t found = 0;
	size_t i, j, nph, n_found = 0;
	GElf_Ehdr eh;
	Elf *elf;
	int fd, ret;

	ret = elfsym_open(path, &fd, &elf);
	if (ret)
		return ret;
	im.fd = fd;
	if (!gelf_getehdr(elf, &eh) || elf_getphdrnum(elf, &nph)) {
		ret = -ENOEXEC;
		goto out;
	}
	if (eh.e_machine != EM_X86_64 || gelf_getclass(elf) != ELFCLASS64) {
		ret = -ENOTSUP;
		goto out;
	}
	im.raw = (const uint8_t *)elf_rawfile(elf, &im.size);
	ret = -ENOTSUP;
	for (i = 0; im.raw && i < nph; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(elf, (int)i, &ph))
			continue;
		if (ph.p_type == PT_LOAD && (ph.p_flags & PF_X) &&
		    im.n_text < sizeof(im.text) / sizeof(im.text[0]))
			im.text[im.n_text++] = ph;
		else if (ph.p_type == PT_GNU_EH_FRAME)
			have_hdr = !(ret = eh_table(&im, &ph));
	}
	if (!have_hdr)
		goto out;
	elfsym_visit(elf, visit_fn, &(struct fns){f, 2});
	ret = -ENOENT;
	if (!f[0].vaddr || !f[1].vaddr)
		goto out;
	for (i = 0; i < 2; i++) {
		ret = scan_targets(&im, &f[i]);
		if (ret)
			goto out;
	}
	for (i = 0; i < f[0].n_targets; i++)
		for (j = 0; j < f[1].n_targets; j++)
			if (f[0].targets[i] == f[1].targets[j] && f[0].targets[i] != f[1].vaddr &&
			    f[0].targets[i] != f[0].vaddr) {
				found = f[0].targets[i];
				n_found++;
			}
	ret = -ENOENT;
	if (n_found == 1) {
		uint8_t code[5];
		uint64_t avail = 1;

		/* How many bytes follow in the segment, up to an instruction's worth. */
		while (avail < sizeof(code) && code_at(&im, found, avail + 1, NULL))
			avail++;
		out->vaddr = found;
		ret = code_at(&im, found, 1, &out->file_off) ? read_code(&im, found, avail, code)
							     : -ENOEXEC;
		out->emulated = !ret && x86_entry_emulated(code, avail);
	}
out:
	elfsym_close(fd, elf);
	return ret;
}

/* ---- an open file's code (elf_code_*) ---- */

struct code_img {
	int fd;
	Elf *elf;
	struct image im;
	GElf_Phdr data[8]; /* loadable segments that are not executable */
	size_t n_data;
};

int code_img_open(const char *path, struct code_img **out)
{
	struct code_img *c = calloc(1, sizeof(*c));
	bool have_hdr = false;
	size_t i, nph;
	GElf_Ehdr eh;
	int ret;

	if (!c)
		return -ENOMEM;
	ret = elfsym_open(path, &c->fd, &c->elf);
	if (ret) {
		free(c);
		return ret;
	}
	ret = -ENOEXEC;
	if (!gelf_getehdr(c->elf, &eh) || elf_getphdrnum(c->elf, &nph))
		goto fail;
	ret = -ENOTSUP;
	if (eh.e_machine != EM_X86_64 || gelf_getclass(c->elf) != ELFCLASS64)
		goto fail;
	c->im.raw = (const uint8_t *)elf_rawfile(c->elf, &c->im.size);
	for (i = 0; c->im.raw && i < nph; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(c->elf, (int)i, &ph))
			continue;
		if (ph.p_type == PT_LOAD && (ph.p_flags & PF_X) &&
		    c->im.n_text < sizeof(c->im.text) / sizeof(c->im.text[0]))
			c->im.text[c->im.n_text++] = ph;
		else if (ph.p_type == PT_LOAD && c->n_data < sizeof(c->data) / sizeof(c->data[0]))
			c->data[c->n_data++] = ph;
		else if (ph.p_type == PT_GNU_EH_FRAME)
			have_hdr = !(ret = eh_table(&c->im, &ph));
	}
	if (!have_hdr)
		goto fail;
	*out = c;
	return 0;
fail:
	code_img_close(c);
	return ret;
}

void code_img_close(struct code_img *c)
{
	if (!c)
		return;
	elfsym_close(c->fd, c->elf);
	free(c);
}

const uint8_t *code_img_bytes(const struct code_img *c, uint64_t vaddr, uint64_t len,
			      uint64_t *file_off)
{
	return code_at(&c->im, vaddr, len, file_off);
}

size_t code_img_nfuncs(const struct code_img *c)
{
	return c->im.n_fde;
}

uint64_t code_img_func(const struct code_img *c, size_t i)
{
	if (i >= c->im.n_fde)
		return 0;
	return c->im.table_base + (uint64_t)(int64_t)rd32(c->im.table + i * 8);
}

bool code_img_is_func(const struct code_img *c, uint64_t vaddr)
{
	return fde_start(&c->im, vaddr);
}

size_t code_img_find_cstr(const struct code_img *c, const char *s, uint64_t *vaddrs, size_t max)
{
	size_t n = strlen(s) + 1, i, found = 0;

	for (i = 0; i < c->n_data; i++) {
		const GElf_Phdr *ph = &c->data[i];
		const uint8_t *seg, *p;
		size_t len;

		if (ph->p_offset > c->im.size || ph->p_filesz > c->im.size - ph->p_offset)
			continue;
		seg = c->im.raw + ph->p_offset;
		len = ph->p_filesz;
		for (p = seg; (p = memmem(p, len - (size_t)(p - seg), s, n)); p++) {
			if (p > seg && p[-1] == '\0' && found < max)
				vaddrs[found++] = ph->p_vaddr + (uint64_t)(p - seg);
			if ((size_t)(p - seg) + n >= len)
				break;
		}
	}
	return found;
}
