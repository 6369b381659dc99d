// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "engine/discover/targets.h"

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <glob.h>
#include <libelf.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "engine/discover/elfcallee.h"
#include "engine/discover/elfsym.h"
#include "engine/engine.h"
#include "engine/discover/gobin.h"
#include "engine/discover/procscan.h"
#include "engine/log.h"
#include "tls.skel.h"

/* One file seen in some process's maps, keyed by (dev, ino) as the maps file gives them. */
struct target {
	dev_t dev;
	ino_t ino;
	unsigned syms;	      /* SYM_* bits; 0 = not a TLS target (cached so we never look again) */
	char *path;	      /* as attached (NULL for non-targets) */
	uint64_t attached_ns; /* CLOCK_MONOTONIC */
	bool exec_seen;	      /* targets_first_exec was asked */
	struct bpf_link **links;
	int n_links, cap_links;
};

struct targets {
	struct tls_bpf *skel; /* borrowed */
	struct target *v;     /* open-addressing hash table */
	size_t cap;	      /* power of two */
	size_t n;
	size_t n_attached;
	struct target **attached; /* insertion order, for status lines */
	size_t attached_cap;
	/* With --pid: probes go into these processes only (fewer traps elsewhere). */
	pid_t pids[ENGINE_MAX_FILTER];
	size_t n_pids;
};

static size_t key_hash(dev_t dev, ino_t ino)
{
	uint64_t h = (uint64_t)dev * 0x9e3779b97f4a7c15ULL ^ (uint64_t)ino * 0xc2b2ae3d27d4eb4fULL;

	return (size_t)(h ^ (h >> 29));
}

static struct target *slot_find(struct target *v, size_t cap, dev_t dev, ino_t ino, bool *found)
{
	size_t i = key_hash(dev, ino) & (cap - 1);

	/* An empty slot has ino 0: no real file has inode 0 in a maps line we keep. */
	while (v[i].ino) {
		if (v[i].dev == dev && v[i].ino == ino) {
			*found = true;
			return &v[i];
		}
		i = (i + 1) & (cap - 1);
	}
	*found = false;
	return &v[i];
}

static int table_grow(struct targets *t)
{
	size_t ncap = t->cap * 2, i;
	struct target *nv = calloc(ncap, sizeof(*nv));
	bool found;

	if (!nv)
		return -ENOMEM;
	for (i = 0; i < t->cap; i++) {
		if (t->v[i].ino)
			*slot_find(nv, ncap, t->v[i].dev, t->v[i].ino, &found) = t->v[i];
		/* (links arrays move with their entries: they are separate allocations) */
	}
	/* The attached[] list points into the table: rebuild it. */
	t->n_attached = 0;
	for (i = 0; i < ncap; i++)
		if (nv[i].ino && nv[i].n_links)
			t->attached[t->n_attached++] = &nv[i];
	free(t->v);
	t->v = nv;
	t->cap = ncap;
	return 0;
}

struct targets *targets_new(struct tls_bpf *skel, const uint32_t *pids, size_t n_pids)
{
	struct targets *t = calloc(1, sizeof(*t));
	size_t i;

	if (!t)
		return NULL;
	t->skel = skel;
	for (i = 0; i < n_pids && i < ENGINE_MAX_FILTER; i++)
		t->pids[t->n_pids++] = (pid_t)pids[i];
	t->cap = 1024;
	t->v = calloc(t->cap, sizeof(*t->v));
	t->attached_cap = 64;
	t->attached = calloc(t->attached_cap, sizeof(*t->attached));
	if (!t->v || !t->attached) {
		free(t->v);
		free(t->attached);
		free(t);
		errno = ENOMEM;
		return NULL;
	}
	elf_version(EV_CURRENT);
	return t;
}

void targets_free(struct targets *t)
{
	size_t i;
	int j;

	if (!t)
		return;
	for (i = 0; i < t->cap; i++) {
		for (j = 0; j < t->v[i].n_links; j++)
			bpf_link__destroy(t->v[i].links[j]);
		free(t->v[i].links);
		free(t->v[i].path);
	}
	free(t->v);
	free(t->attached);
	free(t);
}

size_t targets_count(const struct targets *t)
{
	return t->n_attached;
}

const char *targets_path(const struct targets *t, size_t i)
{
	return i < t->n_attached ? t->attached[i]->path : NULL;
}

/* Does a version definition section (.gnu.version_d) define a version named
 * OPENSSL_* (OpenSSL's libssl.map: OPENSSL_1_1_0, OPENSSL_3.0.0, ...)? */
static bool defines_openssl_version(Elf *elf, Elf_Scn *scn, const GElf_Shdr *sh)
{
	Elf_Data *data = elf_getdata(scn, NULL);
	size_t off = 0, i;
	GElf_Verdef vd;

	if (!data)
		return false;
	/* sh_info is the number of definitions: the loop cannot run forever even if
	 * vd_next points back. */
	for (i = 0; i < sh->sh_info && gelf_getverdef(data, (int)off, &vd); i++) {
		GElf_Verdaux va;
		const char *name;

		if (vd.vd_cnt && gelf_getverdaux(data, (int)(off + vd.vd_aux), &va)) {
			name = elf_strptr(elf, sh->sh_link, va.vda_name);
			if (name && !strncmp(name, "OPENSSL_", 8))
				return true;
		}
		if (!vd.vd_next)
			break;
		off += vd.vd_next;
	}
	return false;
}

unsigned targets_elf_syms(const char *path)
{
	static const struct {
		const char *name;
		unsigned bit;
	} wanted[] = {
	    {"SSL_write", SYM_SSL_WRITE},
	    {"SSL_read", SYM_SSL_READ},
	    {"SSL_write_ex", SYM_SSL_WRITE_EX},
	    {"SSL_read_ex", SYM_SSL_READ_EX},
	    {"gnutls_record_send", SYM_GNUTLS_SEND},
	    {"gnutls_record_recv", SYM_GNUTLS_RECV},
	    {"PR_Write", SYM_PR_WRITE},
	    {"PR_Read", SYM_PR_READ},
	    {"PR_Send", SYM_PR_SEND},
	    {"PR_Recv", SYM_PR_RECV},
	    {"PR_Writev", SYM_PR_WRITEV},
	    {"SSL_ImportFD", SYM_NSS_SSL},
	    {"SSL_write_ex2", SYM_SSL_WRITE_EX2},
	    {"ssl_read_internal", SYM_OPENSSL_VER},
	};
	unsigned found = 0;
	Elf_Scn *scn = NULL;
	Elf *elf;
	int fd;

	if (elf_version(EV_CURRENT) == EV_NONE)
		return 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf || elf_kind(elf) != ELF_K_ELF)
		goto out;
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		Elf_Data *data;
		size_t i, n;

		if (!gelf_getshdr(scn, &sh))
			continue;
		if (sh.sh_type == SHT_GNU_verdef) {
			if (defines_openssl_version(elf, scn, &sh))
				found |= SYM_OPENSSL_VER;
			continue;
		}
		if ((sh.sh_type != SHT_DYNSYM && sh.sh_type != SHT_SYMTAB) || !sh.sh_entsize)
			continue;
		data = elf_getdata(scn, NULL);
		if (!data)
			continue;
		n = sh.sh_size / sh.sh_entsize;
		for (i = 0; i < n; i++) {
			GElf_Sym sym;
			const char *name;
			size_t k;
			int type;

			if (!gelf_getsym(data, (int)i, &sym))
				break;
			type = GELF_ST_TYPE(sym.st_info);
			/* Defined functions only: an undefined SSL_write is an import. */
			if ((type != STT_FUNC && type != STT_GNU_IFUNC) ||
			    sym.st_shndx == SHN_UNDEF || !sym.st_value)
				continue;
			name = elf_strptr(elf, sh.sh_link, sym.st_name);
			if (!name ||
			    (name[0] != 'S' && name[0] != 'g' && name[0] != 'P' && name[0] != 's'))
				continue;
			for (k = 0; k < sizeof(wanted) / sizeof(wanted[0]); k++)
				if (!strcmp(name, wanted[k].name))
					found |= wanted[k].bit;
		}
	}
out:
	if (elf)
		elf_end(elf);
	close(fd);
	return found;
}

bool targets_boringssl(const char *path)
{
	char name[128];
	uint64_t at;

	return !elfsym_lookup(path, "SSL_CTX_set_select_certificate_cb", &at) ||
	       !elfsym_lookup(path, "SSL_CTX_set_custom_verify", &at) ||
	       !elfsym_find_prefix(path, "_ZN4bssl", name, sizeof(name));
}

static int keep_link(struct target *tg, struct bpf_link *l)
{
	if (tg->n_links == tg->cap_links) {
		int ncap = tg->cap_links ? 2 * tg->cap_links : 8;
		struct bpf_link **nl = realloc(tg->links, ncap * sizeof(*nl));

		if (!nl) {
			bpf_link__destroy(l);
			return -ENOMEM;
		}
		tg->links = nl;
		tg->cap_links = ncap;
	}
	tg->links[tg->n_links++] = l;
	return 0;
}

/* A probe on func (by symbol) or, with func NULL, at file offset off. Without a PID
 * filter, pid -1: every process that maps this file, now and later. With one, only
 * in those processes: every other process running this code then pays no trap (a
 * uprobe hit costs microseconds whether or not the BPF filter drops it). */
static int attach_at(const struct targets *t, struct target *tg, struct bpf_program *prog,
		     const char *func, size_t off, bool ret, const char *what)
{
	LIBBPF_OPTS(bpf_uprobe_opts, o, .func_name = func, .retprobe = ret);
	size_t i, n = t->n_pids ? t->n_pids : 1;
	int err = 0, ok = 0;

	for (i = 0; i < n; i++) {
		struct bpf_link *l;

		l = bpf_program__attach_uprobe_opts(prog, t->n_pids ? t->pids[i] : -1, tg->path,
						    off, &o);
		if (!l) {
			err = -errno;
			/* A filtered process may be gone already: that is no failure. */
			if (t->n_pids && err == -ESRCH)
				continue;
			log_msg(LOG_WARN, "cannot attach %s%s in %s: %s", what,
				ret ? " (return)" : "", tg->path, strerror(-err));
			return err;
		}
		err = keep_link(tg, l);
		if (err)
			return err;
		ok++;
	}
	return ok ? 0 : err;
}

static int attach_one(struct targets *t, struct target *tg, struct bpf_program *prog,
		      const char *func, bool ret)
{
	return attach_at(t, tg, prog, func, 0, ret, func);
}

static void detach_target(struct target *tg)
{
	int j;

	for (j = 0; j < tg->n_links; j++)
		bpf_link__destroy(tg->links[j]);
	tg->n_links = 0;
}

static int remember_attached(struct targets *t, struct target *tg)
{
	if (t->n_attached == t->attached_cap) {
		struct target **na = realloc(t->attached, 2 * t->attached_cap * sizeof(*na));

		if (!na)
			return -ENOMEM;
		t->attached = na;
		t->attached_cap *= 2;
	}
	t->attached[t->n_attached++] = tg;
	return 0;
}

/*
 * OpenSSL 1.1.1 and 3.x: SSL_read and SSL_read_ex both call ssl_read_internal, and
 * the write pair ssl_write_internal; probing those two local functions instead of
 * the four public ones reports the same calls (SSL_write_ex2's too) for fewer and
 * cheaper traps: their first instruction is a push the kernel emulates, where
 * SSL_read and SSL_write begin with one it must single-step (about 5 us against
 * 19 per hit on a VM, measured on a loop calling a probed function). Only for a file
 * that OpenSSL's symbol versions mark as OpenSSL's (BoringSSL and LibreSSL differ
 * inside), and only when the callee is found without doubt (elfcallee.h). 0 when
 * attached; 1 to use the public functions instead (also when an attach failed: the
 * public functions are the proven path).
 */
static int attach_openssl_internal(struct targets *t, struct target *tg)
{
	struct tls_bpf *s = t->skel;
	struct elf_callee rd, wr;
	int err;

	/* The escape hatch (man page, ENVIRONMENT), and the tests' way to the other path. */
	if (getenv("ECAPTOP_OPENSSL_PUBLIC"))
		return 1;
	if ((tg->syms & SYM_OPENSSL_ALL) != SYM_OPENSSL_ALL || !(tg->syms & SYM_OPENSSL_VER))
		return 1;
	err = elf_common_callee(tg->path, "SSL_read", "SSL_read_ex", &rd);
	err = err ?: elf_common_callee(tg->path, "SSL_write", "SSL_write_ex", &wr);
	if (err || rd.vaddr == wr.vaddr || !rd.emulated || !wr.emulated) {
		char why[96];

		if (err == -ENOENT)
			snprintf(why, sizeof(why), "were not found");
		else if (err)
			snprintf(why, sizeof(why), "could not be read (%s)", strerror(-err));
		else
			snprintf(why, sizeof(why), "%s",
				 rd.vaddr == wr.vaddr ? "could not be told apart"
						      : "start with an instruction the kernel "
							"single-steps");
		/* Not the preferred path: slower, and BIO_f_ssl users (s_server -WWW) are
		 * not seen. Say so, with the reason. */
		log_msg(LOG_WARN,
			"%s: OpenSSL's ssl_read_internal/ssl_write_internal %s: probing "
			"SSL_read/SSL_write instead (slower; programs that use OpenSSL through "
			"BIO_f_ssl are not captured)",
			tg->path, why);
		return 1;
	}
	err = attach_at(t, tg, s->progs.ssl_read_ex_enter, NULL, rd.file_off, false,
			"ssl_read_internal");
	err = err
		  ?: attach_at(t, tg, s->progs.ssl_rw_ex_exit, NULL, rd.file_off, true,
			       "ssl_read_internal");
	/* From 3.3 (SSL_write_ex2), a flags argument comes before the count pointer. */
	err = err
		  ?: attach_at(t, tg,
			       (tg->syms & SYM_SSL_WRITE_EX2) ? s->progs.ssl_write_flags_enter
							      : s->progs.ssl_write_ex_enter,
			       NULL, wr.file_off, false, "ssl_write_internal");
	err = err
		  ?: attach_at(t, tg, s->progs.ssl_rw_ex_exit, NULL, wr.file_off, true,
			       "ssl_write_internal");
	if (err) {
		detach_target(tg);
		log_msg(LOG_WARN,
			"%s: probing OpenSSL's internal functions failed (%s): using "
			"SSL_read/SSL_write",
			tg->path, strerror(-err));
		return 1;
	}
	log_msg(LOG_INFO,
		"attached OpenSSL probes to %s (ssl_read_internal at %#llx and ssl_write_internal "
		"at %#llx, behind SSL_read, SSL_write and their _ex forms)",
		tg->path, (unsigned long long)rd.vaddr, (unsigned long long)wr.vaddr);
	return 0;
}

/* OpenSSL/BoringSSL. The write and read entry probes need their return probe: a
 * call is only reported once its return value is known. */
static int attach_openssl(struct targets *t, struct target *tg)
{
	struct tls_bpf *s = t->skel;
	int err = 0;

	if (!attach_openssl_internal(t, tg))
		return 0;
	if ((tg->syms & (SYM_SSL_WRITE | SYM_SSL_READ)) == (SYM_SSL_WRITE | SYM_SSL_READ)) {
		err = attach_one(t, tg, s->progs.ssl_write_enter, "SSL_write", false);
		err = err ?: attach_one(t, tg, s->progs.ssl_rw_exit, "SSL_write", true);
		err = err ?: attach_one(t, tg, s->progs.ssl_read_enter, "SSL_read", false);
		err = err ?: attach_one(t, tg, s->progs.ssl_rw_exit, "SSL_read", true);
	}
	if (!err && (tg->syms & SYM_SSL_WRITE_EX)) {
		/* SSL_read_ex/SSL_write_ex do not call SSL_read/SSL_write (both call
		 * ssl_read_internal/ssl_write_internal), so no byte is reported twice. */
		err = attach_one(t, tg, s->progs.ssl_write_ex_enter, "SSL_write_ex", false);
		err = err ?: attach_one(t, tg, s->progs.ssl_rw_ex_exit, "SSL_write_ex", true);
	}
	if (!err && (tg->syms & SYM_SSL_READ_EX)) {
		err = attach_one(t, tg, s->progs.ssl_read_ex_enter, "SSL_read_ex", false);
		err = err ?: attach_one(t, tg, s->progs.ssl_rw_ex_exit, "SSL_read_ex", true);
	}
	if (err)
		return err;
	/* BoringSSL: the same public functions, and no struct offset in this path (the
	 * connection comes from the socket calls made inside them). */
	log_msg(LOG_INFO, "attached %s probes to %s (%s%s)",
		targets_boringssl(tg->path) ? "BoringSSL" : "OpenSSL", tg->path,
		"SSL_read, SSL_write",
		(tg->syms & (SYM_SSL_READ_EX | SYM_SSL_WRITE_EX)) ==
			(SYM_SSL_READ_EX | SYM_SSL_WRITE_EX)
		    ? ", SSL_read_ex, SSL_write_ex"
		    : "");
	return 0;
}

/* GnuTLS: gnutls_record_send/recv return the bytes moved, or a negative error code. */
static int attach_gnutls(struct targets *t, struct target *tg)
{
	struct tls_bpf *s = t->skel;
	int err;

	err = attach_one(t, tg, s->progs.gnutls_send_enter, "gnutls_record_send", false);
	err = err ?: attach_one(t, tg, s->progs.gnutls_rw_exit, "gnutls_record_send", true);
	err = err ?: attach_one(t, tg, s->progs.gnutls_recv_enter, "gnutls_record_recv", false);
	err = err ?: attach_one(t, tg, s->progs.gnutls_rw_exit, "gnutls_record_recv", true);
	if (err)
		return err;
	log_msg(LOG_INFO, "attached GnuTLS probes to %s (gnutls_record_send, gnutls_record_recv)",
		tg->path);
	return 0;
}

/* NSPR's PR_Write/PR_Read (+ PR_Send/PR_Recv): the BPF side keeps SSL-layer
 * descriptors only, judged by the file their code comes from (nss_ssl_files). */
static int attach_nspr(struct targets *t, struct target *tg)
{
	struct tls_bpf *s = t->skel;
	int err;

	err = attach_one(t, tg, s->progs.nss_write_enter, "PR_Write", false);
	err = err ?: attach_one(t, tg, s->progs.ssl_rw_exit, "PR_Write", true);
	err = err ?: attach_one(t, tg, s->progs.nss_read_enter, "PR_Read", false);
	err = err ?: attach_one(t, tg, s->progs.ssl_rw_exit, "PR_Read", true);
	if (!err && (tg->syms & SYM_PR_SEND)) {
		err = attach_one(t, tg, s->progs.nss_write_enter, "PR_Send", false);
		err = err ?: attach_one(t, tg, s->progs.ssl_rw_exit, "PR_Send", true);
	}
	if (!err && (tg->syms & SYM_PR_RECV)) {
		err = attach_one(t, tg, s->progs.nss_read_enter, "PR_Recv", false);
		err = err ?: attach_one(t, tg, s->progs.ssl_rw_exit, "PR_Recv", true);
	}
	if (!err && (tg->syms & SYM_PR_WRITEV)) {
		err = attach_one(t, tg, s->progs.nss_writev_enter, "PR_Writev", false);
		err = err ?: attach_one(t, tg, s->progs.nss_writev_exit, "PR_Writev", true);
	}
	if (err)
		return err;
	log_msg(LOG_INFO,
		"attached NSS probes to %s (PR_Write, PR_Read%s%s%s; SSL-layer descriptors only%s)",
		tg->path, tg->syms & SYM_PR_SEND ? ", PR_Send" : "",
		tg->syms & SYM_PR_RECV ? ", PR_Recv" : "",
		tg->syms & SYM_PR_WRITEV ? ", PR_Writev" : "",
		libbpf_probe_bpf_helper(BPF_PROG_TYPE_KPROBE, BPF_FUNC_find_vma, NULL) == 1
		    ? ""
		    : "; this kernel lacks bpf_find_vma (5.17+), so any layered descriptor "
		      "counts as SSL");
	return 0;
}

/* NSS's SSL layer (libssl3.so): no probe of its own, but its PRFileDesc methods tell
 * SSL descriptors apart in the NSPR probes, by the file (device, inode) their code
 * is mapped from. dev is as user space sees it; the kernel's s_dev packs it as
 * major << 20 | minor (include/linux/kdev_t.h MKDEV). */
static int register_nss_ssl(struct targets *t, struct target *tg)
{
	struct {
		__u32 dev;
		__u32 pad;
		__u64 ino;
	} key = {.dev = (major(tg->dev) << 20) | minor(tg->dev), .ino = tg->ino};
	__u8 one = 1;

	if (bpf_map__update_elem(t->skel->maps.nss_ssl_files, &key, sizeof(key), &one, sizeof(one),
				 BPF_ANY)) {
		int err = -errno;

		log_msg(LOG_WARN, "cannot register NSS's SSL layer in %s: %s", tg->path,
			strerror(-err));
		return err;
	}
	log_msg(LOG_INFO, "found NSS's SSL layer in %s (captured through the NSPR probes)",
		tg->path);
	return 0;
}

static const char *go_fn_short(const struct gobin_func *f, const struct gobin_info *gi)
{
	return f == &gi->write_record ? "writeRecordLocked" : f == &gi->read ? "Read" : "flush";
}

/* Go crypto/tls: writeRecordLocked, Read and (where it can be) flush, each at its
 * entry and at every return instruction. */
static int attach_go(struct targets *t, struct target *tg, const struct gobin_info *gi)
{
	struct tls_bpf *s = t->skel;
	const struct gobin_func *fns[3] = {&gi->write_record, &gi->read, &gi->flush};
	struct bpf_program *enter[3] = {s->progs.go_write_enter, s->progs.go_read_enter,
					s->progs.go_flush_enter};
	struct bpf_program *ret[3] = {s->progs.go_write_ret, s->progs.go_read_ret,
				      s->progs.go_flush_ret};
	char what[96], flush[96] = "";
	size_t i, k;
	int err = 0;

	for (i = 0; i < 3; i++) {
		const struct gobin_func *f = fns[i];

		/* flush only helps attribution (a server's first request): optional. */
		if (!f->found || !f->n_rets)
			continue;
		snprintf(what, sizeof(what), "crypto/tls.(*Conn).%s", go_fn_short(f, gi));
		err = attach_at(t, tg, enter[i], NULL, f->entry_off, false, what);
		for (k = 0; !err && k < f->n_rets; k++) {
			snprintf(what, sizeof(what), "crypto/tls.(*Conn).%s return at %#llx",
				 go_fn_short(f, gi), (unsigned long long)f->ret_off[k]);
			err = attach_at(t, tg, ret[i], NULL, f->ret_off[k], false, what);
		}
		if (err)
			return err;
	}
	if (gi->flush.found && gi->flush.n_rets)
		snprintf(flush, sizeof(flush), ", flush: entry + %zu returns", gi->flush.n_rets);
	log_msg(LOG_INFO,
		"attached Go crypto/tls probes to %s (%s, %s, %s; writeRecordLocked: entry + %zu "
		"returns, Read: entry + %zu returns%s)",
		tg->path, gi->version[0] ? gi->version : "Go version unknown",
		gi->pie ? "PIE" : "not PIE",
		gi->has_symtab ? "symbols present" : "no symbol table: functions from .gopclntab",
		gi->write_record.n_rets, gi->read.n_rets, flush);
	return 0;
}

/* A Go binary: probe crypto/tls where it can be done safely; otherwise say why. */
static int try_go(struct targets *t, struct target *tg, const struct gobin_info *gi)
{
	const struct gobin_func *w = &gi->write_record, *r = &gi->read;

	if (!w->found && !r->found)
		return 0; /* a Go program without crypto/tls */
	if (gi->machine != EM_X86_64 && gi->machine != EM_AARCH64)
		return 0;
	if (!gi->reg_abi) {
		log_msg(LOG_WARN,
			"Go program %s (%s) uses crypto/tls but was built before the register "
			"calling convention (go1.17 on x86-64, go1.18 on arm64): not supported, "
			"its TLS traffic is not captured",
			tg->path, gi->version[0] ? gi->version : "version unknown");
		return 0;
	}
	if (!w->found || !r->found || !w->n_rets || !r->n_rets) {
		const struct gobin_func *bad = !w->found || !w->n_rets ? w : r;

		log_msg(LOG_WARN,
			"Go program %s uses crypto/tls but crypto/tls.(*Conn).%s cannot be probed "
			"(%s): its TLS traffic is not captured",
			tg->path, go_fn_short(bad, gi),
			bad->found ? bad->why : "function not found");
		return 0;
	}
	return attach_go(t, tg, gi) ?: 1;
}

/* No TLS symbol in the file: say so where TLS code is evidently inside it anyway
 * (a stripped static OpenSSL/BoringSSL keeps its source file names for errors).
 * Programs only (ET_EXEC, or ET_DYN with an interpreter), and only their .rodata:
 * scanning every large shared library would stall discovery. */
static bool stripped_tls(const char *path)
{
	/* Kept reversed, so that ecaptop's own binary does not hold the markers. */
	static const char *const rmarkers[] = {"c.3s_reyal_cer/drocer/lss", "cc.tkp_3s/lss"};
	char markers[2][32];
	bool program = false, found = false;
	Elf_Scn *scn = NULL;
	size_t i, k, n, shstrndx, nph;
	GElf_Ehdr eh;
	Elf *elf;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf || elf_kind(elf) != ELF_K_ELF || !gelf_getehdr(elf, &eh) ||
	    elf_getshdrstrndx(elf, &shstrndx) || elf_getphdrnum(elf, &nph))
		goto out;
	program = eh.e_type == ET_EXEC;
	for (i = 0; i < nph && !program; i++) {
		GElf_Phdr ph;

		if (gelf_getphdr(elf, (int)i, &ph) && ph.p_type == PT_INTERP)
			program = true;
	}
	if (!program)
		goto out;
	for (i = 0; i < 2; i++) {
		n = strlen(rmarkers[i]);
		for (k = 0; k < n; k++)
			markers[i][k] = rmarkers[i][n - 1 - k];
		markers[i][n] = '\0';
	}
	while ((scn = elf_nextscn(elf, scn))) {
		const char *name;
		Elf_Data *d;
		GElf_Shdr sh;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_PROGBITS)
			continue;
		name = elf_strptr(elf, shstrndx, sh.sh_name);
		if (!name || strcmp(name, ".rodata"))
			continue;
		d = elf_getdata(scn, NULL);
		if (!d || !d->d_buf)
			break;
		for (i = 0; i < 2 && !found; i++)
			found = memmem(d->d_buf, d->d_size, markers[i], strlen(markers[i])) != NULL;
		break;
	}
out:
	if (elf)
		elf_end(elf);
	close(fd);
	return found;
}

/* The machine this build runs on: a library or program of another (the arm64
 * libssl of a multiarch system, a binary run through qemu-user) is never ours to
 * probe, and is left alone without a word. */
#if defined(__x86_64__)
#define NATIVE_MACHINE EM_X86_64
#elif defined(__aarch64__)
#define NATIVE_MACHINE EM_AARCH64
#endif

static bool native_elf(const char *path)
{
#ifdef NATIVE_MACHINE
	Elf64_Ehdr eh;
	ssize_t n = -1;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd >= 0) {
		n = pread(fd, &eh, sizeof(eh), 0);
		close(fd);
	}
	/* Unreadable or short: not judged here; the readers below say why. */
	if (n != (ssize_t)sizeof(eh) || memcmp(eh.e_ident, ELFMAG, SELFMAG))
		return true;
	return eh.e_ident[EI_CLASS] == ELFCLASS64 && eh.e_machine == NATIVE_MACHINE;
#else
	(void)path;
	return true;
#endif
}

int targets_examine(const char *path, struct targets_exam *x)
{
	memset(x, 0, sizeof(*x));
	if (!native_elf(path))
		return 0;
	x->syms = targets_elf_syms(path);
	if (x->syms)
		return 0;
	x->gi = malloc(sizeof(*x->gi));
	if (!x->gi)
		return -ENOMEM;
	x->go = gobin_analyze(path, x->gi);
	if (x->go <= 0) {
		free(x->gi);
		x->gi = NULL;
		if (!x->go)
			x->stripped_tls = stripped_tls(path);
	}
	return 0;
}

void targets_exam_free(struct targets_exam *x)
{
	free(x->gi);
	x->gi = NULL;
}

/* Attach what the file's content allows. Returns 1 if probes were attached, 0 if
 * it is not a TLS target, -errno on failure (nothing left attached). */
static int attach_target(struct targets *t, struct target *tg, const struct targets_exam *x)
{
	bool any = false;
	int err = 0;

	if ((tg->syms & (SYM_SSL_WRITE | SYM_SSL_READ)) == (SYM_SSL_WRITE | SYM_SSL_READ)) {
		err = attach_openssl(t, tg);
		any = true;
	}
	if (!err && (tg->syms & (SYM_GNUTLS_SEND | SYM_GNUTLS_RECV)) ==
			(SYM_GNUTLS_SEND | SYM_GNUTLS_RECV)) {
		err = attach_gnutls(t, tg);
		any = true;
	}
	if (!err && (tg->syms & (SYM_PR_WRITE | SYM_PR_READ)) == (SYM_PR_WRITE | SYM_PR_READ)) {
		err = attach_nspr(t, tg);
		any = true;
	}
	if (!err && (tg->syms & SYM_NSS_SSL))
		register_nss_ssl(t, tg); /* not a probe: no entry in the attached list */
	if (!err && !tg->syms && x->gi) {
		int r = try_go(t, tg, x->gi);

		if (r > 0)
			any = true;
		else if (r < 0)
			err = r;
	} else if (!err && !tg->syms && x->stripped_tls) {
		log_msg(LOG_WARN,
			"%s contains OpenSSL/BoringSSL code but no SSL_read/SSL_write symbol "
			"(stripped): its TLS traffic cannot be captured; a build with a symbol "
			"table (.symtab) can",
			tg->path);
	}
	if (err) {
		detach_target(tg);
		return err;
	}
	if (!any || !tg->n_links)
		return 0;
	err = remember_attached(t, tg);
	if (err) {
		detach_target(tg);
		return err;
	}
	return 1;
}

/* The file at path (as reachable from here) with identity dev/ino, examined (x) or
 * not (NULL: examined here). */
static int consider_examined(struct targets *t, dev_t dev, ino_t ino, const char *path,
			     const struct targets_exam *x)
{
	struct targets_exam own;
	struct target *tg;
	bool found;
	int ret;

	if (!ino)
		return 0;
	tg = slot_find(t->v, t->cap, dev, ino, &found);
	if (found)
		return 0;
	if (!x) {
		ret = targets_examine(path, &own);
		if (ret)
			return ret;
	}
	if ((t->n + 1) * 2 > t->cap) {
		ret = table_grow(t);
		if (ret)
			goto out;
		tg = slot_find(t->v, t->cap, dev, ino, &found);
	}
	memset(tg, 0, sizeof(*tg));
	tg->dev = dev;
	tg->ino = ino;
	t->n++;
	tg->syms = (x ?: &own)->syms;
	tg->path = strdup(path);
	ret = -ENOMEM;
	if (!tg->path)
		goto out;
	/* Every file is looked at once (its entry stays, probed or not), so a file we
	 * cannot probe is not retried on every scan and its warning is logged once. */
	ret = attach_target(t, tg, x ?: &own);
	if (ret > 0) {
		struct timespec ts;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		tg->attached_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	}
	if (ret <= 0) {
		free(tg->path);
		tg->path = NULL;
	}
out:
	if (!x)
		targets_exam_free(&own);
	return ret;
}

static int consider(struct targets *t, dev_t dev, ino_t ino, const char *path)
{
	return consider_examined(t, dev, ino, path, NULL);
}

int targets_add_examined(struct targets *t, const char *path, const struct stat *st,
			 const struct targets_exam *x)
{
	return consider_examined(t, st->st_dev, st->st_ino, path, x);
}

int targets_try_file(struct targets *t, const char *path)
{
	char real[PATH_MAX];
	struct stat st;

	/* The file's own name, not a symlink's, in status lines. */
	if (!realpath(path, real) || stat(real, &st))
		return -errno;
	if (!S_ISREG(st.st_mode))
		return 0;
	return consider(t, st.st_dev, st.st_ino, real);
}

int targets_state(const struct targets *t, dev_t dev, ino_t ino)
{
	struct target *tg;
	bool found;

	tg = slot_find(t->v, t->cap, dev, ino, &found);
	return !found ? -1 : tg->n_links ? 1 : 0;
}

bool targets_first_exec(struct targets *t, dev_t dev, ino_t ino, uint64_t *attached_ns)
{
	struct target *tg;
	bool found;

	tg = slot_find(t->v, t->cap, dev, ino, &found);
	if (!found || !tg->n_links || tg->exec_seen)
		return false;
	tg->exec_seen = true;
	*attached_ns = tg->attached_ns;
	return true;
}

int targets_scan_maps(struct targets *t, pid_t pid, const struct proc_maps *m)
{
	char full[PATH_MAX + 64];
	int added = 0;
	size_t i;

	for (i = 0; i < m->n; i++) {
		bool found;

		slot_find(t->v, t->cap, m->v[i].dev, m->v[i].ino, &found);
		if (found)
			continue;
		/* Inside a container the path is relative to the process's root. */
		if (procscan_reach(pid, m->v[i].path, m->v[i].ino, full, sizeof(full)))
			continue;
		if (consider(t, m->v[i].dev, m->v[i].ino, full) > 0)
			added++;
	}
	return added;
}

int targets_scan_pid(struct targets *t, pid_t pid)
{
	struct proc_maps m = {0};
	int added = 0;

	if (!procscan_maps(pid, &m))
		added = targets_scan_maps(t, pid, &m);
	procscan_maps_free(&m);
	return added;
}

int targets_scan_libs(struct targets *t)
{
	/* OpenSSL's (and BoringSSL's) libssl.so*, GnuTLS's libgnutls.so*, NSPR's
	 * libnspr4.so and NSS's libssl3.so (not OpenSSL's: each file is judged by the
	 * symbols it defines). */
	static const char *const names[] = {"libssl.so*", "libgnutls.so*", "libnspr4.so*",
					    "libssl3.so*"};
	static const char *const dirs[] = {"/lib/*/", "/usr/lib/*/", "/lib64/", "/usr/lib64/",
					   "/usr/lib/", "/usr/local/lib/", "/usr/local/lib64/",
					   "/usr/lib/*/nss/",
					   /* Debian's BoringSSL (android-libboringssl) */
					   "/usr/lib/*/android/"};
	char pattern[PATH_MAX];
	size_t i, j;
	int added = 0;

	/* Well-known libraries first: a program that loads libssl later (python's
	 * "import ssl") is then covered without waiting for a rescan. */
	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		for (j = 0; j < sizeof(names) / sizeof(names[0]); j++) {
			glob_t g;
			size_t k;

			snprintf(pattern, sizeof(pattern), "%s%s", dirs[i], names[j]);
			if (glob(pattern, 0, NULL, &g))
				continue;
			for (k = 0; k < g.gl_pathc; k++)
				if (targets_try_file(t, g.gl_pathv[k]) > 0)
					added++;
			globfree(&g);
		}
	}
	return added;
}
