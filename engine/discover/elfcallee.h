/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The function that two exported functions both call (engine-private): for OpenSSL,
 * ssl_read_internal behind SSL_read and SSL_read_ex, a local function that no
 * stripped library names. Probing it instead of the two public functions costs one
 * trap per call that the kernel emulates (its first instruction is a push) instead
 * of one it must single-step (SSL_read starts with `sub $n, %rsp`): about 5 us
 * instead of 19 on a VM, measured.
 */
#ifndef ECAPTOP_ENGINE_ELFCALLEE_H
#define ECAPTOP_ENGINE_ELFCALLEE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct callee_info {
	uint64_t vaddr;	   /* the callee's start */
	uint64_t file_off; /* the same place as a file offset (what a uprobe takes) */
	bool emulated;	   /* the kernel emulates its first instruction (x86: push, nop5) */
};

/*
 * In the ELF file at path, the one function that both functions a and b (symbols of
 * .dynsym or .symtab) reach by a direct call or jump, where the target is a function
 * start listed in .eh_frame_hdr (so that a stray 0xe8 byte inside some instruction
 * can never name a place to probe). x86-64 only.
 * 0 and *out; -ENOENT when there is none or more than one; -ENOTSUP for another
 * architecture or an .eh_frame_hdr encoding it does not read; -errno otherwise.
 */
int find_common_callee(const char *path, const char *a, const char *b, struct callee_info *out);

/* Does the x86-64 instruction starting at code[0..n) run without single-stepping
 * when a uprobe sits on it? The kernel emulates push, call and jmp; newer kernels
 * also nops, and 6.18 turns a probed 5-byte nop into a call. */
bool x86_entry_emulated(const uint8_t *code, size_t n);

/*
 * An x86-64 ELF file's code for analyses of one library's machine code (the key-log
 * function of OpenSSL, engine/discover/keylog.c): its executable bytes, the function
 * starts listed in .eh_frame_hdr, and C strings in its read-only data.
 */
struct code_img;
/* 0 and *out (give it back with code_img_close); -ENOTSUP for another architecture
 * or no .eh_frame_hdr table we read; -ENOEXEC, -ENOMEM, -errno otherwise. */
int code_img_open(const char *path, struct code_img **out);
/* Accepts NULL. */
void code_img_close(struct code_img *c);
/* The bytes [vaddr, vaddr + len) if one executable segment of the file holds them
 * all (borrowed from c), and their file offset in *file_off if non-NULL; else NULL. */
const uint8_t *code_img_bytes(const struct code_img *c, uint64_t vaddr, uint64_t len,
			      uint64_t *file_off);
/* Function starts with unwind information, ascending: how many, the i-th (0 past
 * the end), and whether vaddr is one. */
size_t code_img_nfuncs(const struct code_img *c);
uint64_t code_img_func(const struct code_img *c, size_t i);
bool code_img_is_func(const struct code_img *c, uint64_t vaddr);
/* The addresses of the C string s (a whole string: a NUL before it, its own NUL
 * after) in loadable, non-executable segments (a string may be there more than once
 * where compilation units were not merged). How many (up to max) into vaddrs. */
size_t code_img_find_cstr(const struct code_img *c, const char *s, uint64_t *vaddrs, size_t max);

#endif
