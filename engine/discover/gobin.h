/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Go executables (engine-private): find crypto/tls's functions in a Go ELF binary,
 * stripped or not, PIE or not, and the places to probe them.
 *
 * Functions come from the binary's pclntab (the runtime's own function table, kept
 * by "-ldflags -s -w"), found by section name (.gopclntab, .data.rel.ro.gopclntab)
 * or, without section headers, by its header magic in a read-only segment. The Go
 * version comes from the build info (.go.buildinfo, "\xff Go buildinf:").
 *
 * Return sites: a uretprobe rewrites the return address on the stack, which Go's
 * stack copying and unwinding do not expect, so every RET instruction of a function
 * is probed instead. On arm64 an instruction is 4 bytes and RET is d65f03c0. On
 * x86-64 the function's bytes are decoded instruction by instruction with a length
 * decoder covering the general-purpose, x87, SSE, VEX and EVEX encodings; the result
 * is only trusted when every pc at which the function's stack-pointer table (pcsp)
 * and line table (pcln) change falls on a decoded instruction boundary, and a RET
 * counts only where the pcsp table says the frame is gone (SP delta 0). Anything
 * else and the function is refused: a probe inside an instruction would corrupt the
 * program.
 *
 * All reads of the file are bounds-checked: a truncated or hostile file yields an
 * error, never a read past its end.
 */
#ifndef ECAPTOP_ENGINE_GOBIN_H
#define ECAPTOP_ENGINE_GOBIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GOBIN_MAX_RETS 32

/* One function of the binary. */
struct gobin_func {
	bool found;
	uint64_t vaddr;	    /* entry, link-time virtual address */
	uint64_t size;	    /* bytes up to the next function */
	uint64_t entry_off; /* file offset of the entry (uprobe offsets are file offsets) */
	size_t n_rets;
	uint64_t ret_off[GOBIN_MAX_RETS]; /* file offsets of the RET instructions */
	char why[128];			  /* found but no usable return sites: the reason */
};

struct gobin_info {
	bool is_go;	  /* a pclntab was found */
	uint16_t machine; /* EM_X86_64 or EM_AARCH64 */
	bool pie;	  /* ET_DYN */
	bool has_symtab;  /* .symtab present (not built with -s) */
	uint32_t pcln_magic;
	char version[32];		/* "go1.19.8"; "" when there is no build info */
	bool reg_abi;			/* arguments in registers (go1.17+ amd64, go1.18+ arm64) */
	struct gobin_func write_record; /* crypto/tls.(*Conn).writeRecordLocked */
	struct gobin_func read;		/* crypto/tls.(*Conn).Read */
	struct gobin_func flush;	/* crypto/tls.(*Conn).flush (optional) */
	struct gobin_func keylog;	/* crypto/tls.(*Config).writeKeyLog (--keylog) */
};

/* Analyse the file at path. Returns 1 if it is a Go binary (gi->is_go; the TLS
 * functions may still be absent: see gi->*.found), 0 if it is not a Go ELF binary,
 * -errno if it cannot be read. */
int gobin_analyze(const char *path, struct gobin_info *gi);

/* The same over an ELF image in memory (borrows buf for the call only). */
int gobin_analyze_mem(const uint8_t *buf, size_t len, struct gobin_info *gi);

/* Length of the x86-64 (64-bit mode) instruction at p, reading at most n bytes;
 * -1 if it is invalid in 64-bit mode or runs past n. */
int gobin_x86_insn_len(const uint8_t *p, size_t n);

/*
 * Walk a Go pc-value table (runtime/symtab.go: pairs of a zig-zag varint value delta
 * and a uvarint pc delta times quantum, starting from value -1 at the function's
 * entry, ended by a zero value delta after the first pair). cb is called for each
 * range [pc, end) with its value; a non-zero return stops the walk and is returned.
 * Returns 0 at the table's end, -EINVAL if it is malformed or runs past n bytes.
 */
int gobin_pcvalue_walk(const uint8_t *tab, size_t n, uint64_t entry, unsigned quantum,
		       int (*cb)(uint64_t pc, uint64_t end, int64_t val, void *arg), void *arg);

/*
 * Find the RET instructions of an x86-64 function of size bytes at code (loaded at
 * entry). pcsp/pcln are the function's pc-value tables (may be NULL with length 0 to
 * skip that check). Fills ret_pc (up to max) and returns how many (0: none), -EINVAL
 * when the decoding cannot be trusted (why says which pc), -E2BIG past max.
 */
int gobin_x86_rets(const uint8_t *code, size_t size, uint64_t entry, const uint8_t *pcsp,
		   size_t pcsp_len, const uint8_t *pcln, size_t pcln_len, uint64_t *ret_pc,
		   size_t max, char *why, size_t whylen);

/* Decode every function of an x86-64 Go binary image and check each against its
 * tables, as gobin_x86_rets does (a self-test of the decoder on real code). Counts
 * the functions that passed, those refused (why names the first: hand-written
 * assembly may keep data between instructions) and the confirmed returns. 0, or
 * -EINVAL if the image is not an x86-64 Go binary or its function table is broken. */
int gobin_verify_all(const uint8_t *buf, size_t len, size_t *n_ok, size_t *n_refused,
		     size_t *n_rets, char *why, size_t whylen);

#endif
