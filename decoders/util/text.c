// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Strings out of untrusted bytes (see text.h). */
#include "text.h"

#include <stdlib.h>
#include <string.h>

char *dec_strndup(const uint8_t *p, size_t n)
{
	char *s = malloc(n + 1);

	if (!s)
		return NULL;
	if (n)
		memcpy(s, p, n);
	s[n] = '\0';
	return s;
}

size_t dec_cstr_len(const uint8_t *p, size_t n)
{
	const uint8_t *z = memchr(p, 0, n);

	return z ? (size_t)(z - p) : n;
}

void dec_replace(char **dst, char *s)
{
	free(*dst);
	*dst = s;
}

int dec_texty(const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] < 0x20 && p[i] != '\t' && p[i] != '\n' && p[i] != '\r')
			return 0;
	return 1;
}
