/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * ELF symbol look-ups for attaching probes (engine-private): a defined symbol's
 * address, a symbol found by prefix (C++ mangled names), and where the first
 * executable segment starts (what the kernel records as mm->start_code).
 */
#ifndef ECAPTOP_ENGINE_ELFSYM_H
#define ECAPTOP_ENGINE_ELFSYM_H

#include <gelf.h>
#include <stddef.h>
#include <stdint.h>

/* Open path as an ELF file: 0 with *fd and *elf (give both back with elfsym_close),
 * or -errno (-ENOEXEC if it is not ELF). */
int elfsym_open(const char *path, int *fd, Elf **elf);
void elfsym_close(int fd, Elf *elf);

/* Called for each defined symbol (non-zero value) with a name; non-zero stops. */
typedef int (*elfsym_visit_fn)(const char *name, const GElf_Sym *sym, void *arg);

/* Visit the symbols of .symtab and .dynsym of an open ELF (borrowed) until visit
 * returns non-zero; returns that value, or 0. */
int elfsym_visit(Elf *elf, elfsym_visit_fn visit, void *arg);

/* Address (st_value) of the defined symbol name in .symtab or .dynsym.
 * 0 and *vaddr set, or -ENOENT / -errno. */
int elfsym_lookup(const char *path, const char *name, uint64_t *vaddr);
/* The first defined function whose name starts with prefix: its name into out.
 * 0, or -ENOENT / -ENAMETOOLONG / -errno. */
int elfsym_find_prefix(const char *path, const char *prefix, char *out, size_t outlen);
/* The lowest p_vaddr of an executable PT_LOAD segment. 0 or -errno. */
int elfsym_text_vaddr(const char *path, uint64_t *vaddr);

#endif
