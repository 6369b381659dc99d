/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Strings out of untrusted bytes, for the decoders: copies that are always
 * NUL-terminated, lengths that never run past what was captured.
 */
#ifndef ECAPTOP_DECODERS_UTIL_TEXT_H
#define ECAPTOP_DECODERS_UTIL_TEXT_H

#include <stddef.h>
#include <stdint.h>

/* n bytes of p as a new NUL-terminated string (malloc'd), NULL on ENOMEM. */
char *dec_strndup(const uint8_t *p, size_t n);
/* The length of the NUL-terminated string at p within n bytes, or n if it is
 * not terminated there. */
size_t dec_cstr_len(const uint8_t *p, size_t n);
/* Free *dst and take s (owned, may be NULL) in its place. */
void dec_replace(char **dst, char *s);
/* 1 if the n bytes look like text a person typed: no control bytes but tab and
 * line ends (bytes >= 0x80 pass: UTF-8). */
int dec_texty(const uint8_t *p, size_t n);

#endif
