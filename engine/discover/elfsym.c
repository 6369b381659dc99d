// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "engine/discover/elfsym.h"

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int elfsym_visit(Elf *elf, elfsym_visit_fn visit, void *arg)
{
	Elf_Scn *scn = NULL;
	int ret = 0;

	while (!ret && (scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		Elf_Data *data;
		size_t i, n;

		if (!gelf_getshdr(scn, &sh) ||
		    (sh.sh_type != SHT_DYNSYM && sh.sh_type != SHT_SYMTAB) || !sh.sh_entsize)
			continue;
		data = elf_getdata(scn, NULL);
		if (!data)
			continue;
		n = sh.sh_size / sh.sh_entsize;
		for (i = 0; i < n && !ret; i++) {
			GElf_Sym sym;
			const char *name;

			if (!gelf_getsym(data, (int)i, &sym))
				break;
			if (sym.st_shndx == SHN_UNDEF || !sym.st_value)
				continue;
			name = elf_strptr(elf, sh.sh_link, sym.st_name);
			if (name && *name)
				ret = visit(name, &sym, arg);
		}
	}
	return ret;
}

int elfsym_open(const char *path, int *fd, Elf **elf)
{
	if (elf_version(EV_CURRENT) == EV_NONE)
		return -EINVAL;
	*fd = open(path, O_RDONLY | O_CLOEXEC);
	if (*fd < 0)
		return -errno;
	*elf = elf_begin(*fd, ELF_C_READ_MMAP, NULL);
	if (!*elf || elf_kind(*elf) != ELF_K_ELF) {
		elfsym_close(*fd, *elf);
		return -ENOEXEC;
	}
	return 0;
}

void elfsym_close(int fd, Elf *elf)
{
	if (elf)
		elf_end(elf);
	close(fd);
}

/* elfsym_visit on the file at path. */
static int for_each_sym(const char *path, elfsym_visit_fn visit, void *arg)
{
	int fd, ret;
	Elf *elf;

	ret = elfsym_open(path, &fd, &elf);
	if (ret)
		return ret;
	ret = elfsym_visit(elf, visit, arg);
	elfsym_close(fd, elf);
	return ret;
}

struct lookup_arg {
	const char *name;
	uint64_t vaddr;
};

static int visit_lookup(const char *name, const GElf_Sym *sym, void *arg)
{
	struct lookup_arg *a = arg;

	if (strcmp(name, a->name))
		return 0;
	a->vaddr = sym->st_value;
	return 1;
}

int elfsym_lookup(const char *path, const char *name, uint64_t *vaddr)
{
	struct lookup_arg a = {name, 0};
	int ret = for_each_sym(path, visit_lookup, &a);

	if (ret < 0)
		return ret;
	if (!ret)
		return -ENOENT;
	*vaddr = a.vaddr;
	return 0;
}

struct prefix_arg {
	const char *prefix;
	size_t plen;
	char *out;
	size_t outlen;
};

static int visit_prefix(const char *name, const GElf_Sym *sym, void *arg)
{
	struct prefix_arg *a = arg;
	int type = GELF_ST_TYPE(sym->st_info);

	if ((type != STT_FUNC && type != STT_GNU_IFUNC) || strncmp(name, a->prefix, a->plen))
		return 0;
	if (strlen(name) >= a->outlen)
		return -ENAMETOOLONG;
	strcpy(a->out, name);
	return 1;
}

int elfsym_find_prefix(const char *path, const char *prefix, char *out, size_t outlen)
{
	struct prefix_arg a = {prefix, strlen(prefix), out, outlen};
	int ret = for_each_sym(path, visit_prefix, &a);

	return ret < 0 ? ret : ret ? 0 : -ENOENT;
}

int elfsym_text_vaddr(const char *path, uint64_t *vaddr)
{
	size_t i, n;
	bool found = false;
	int fd, ret = 0;
	Elf *elf;

	ret = elfsym_open(path, &fd, &elf);
	if (ret)
		return ret;
	if (elf_getphdrnum(elf, &n)) {
		ret = -ENOEXEC;
		goto out;
	}
	for (i = 0; i < n; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_LOAD || !(ph.p_flags & PF_X))
			continue;
		if (!found || ph.p_vaddr < *vaddr)
			*vaddr = ph.p_vaddr;
		found = true;
	}
	if (!found)
		ret = -ENOEXEC;
out:
	elfsym_close(fd, elf);
	return ret;
}
