// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The key log file. Format: NSS key log (Mozilla's "NSS Key Log Format" page, as
 * Wireshark's TLS dissector reads it): one line per secret, "LABEL CLIENTRANDOM SECRET"
 * in lower-case hex. Lines already written in this run are recognised by two
 * independent 64-bit hashes of the whole line (a false match needs both to collide).
 */
#include "engine/capture/keylog.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* LABEL + ' ' + 64 hex + ' ' + 128 hex + '\n' + NUL */
#define LINE_MAX_ (EC_KEYLOG_LABEL + 2 * EC_KEYLOG_RANDOM + 2 * EC_KEYLOG_SECRET + 4)

struct line_id {
	uint64_t a, b; /* a == 0 marks a free slot (a is forced non-zero) */
};

struct keylog_file {
	int fd;
	struct line_id *set; /* open addressing, power-of-two size */
	size_t cap, n;
	struct keylog_counts c;
};

struct keylog_file *keylog_file_open(const char *path, char *err, size_t errlen)
{
	struct keylog_file *kf;
	struct stat st;
	int fd;

	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(err, errlen, "cannot open the key log %s: %s%s", path, strerror(errno),
			 errno == ELOOP ? " (a symbolic link: refused)" : "");
		return NULL;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "the key log %s is not a regular file", path);
		close(fd);
		return NULL;
	}
	kf = calloc(1, sizeof(*kf));
	if (!kf) {
		snprintf(err, errlen, "out of memory");
		close(fd);
		return NULL;
	}
	kf->fd = fd;
	return kf;
}

void keylog_file_close(struct keylog_file *kf)
{
	if (!kf)
		return;
	close(kf->fd);
	free(kf->set);
	free(kf);
}

static bool label_ok(const char *s, uint32_t n)
{
	uint32_t i;

	if (!n)
		return false;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return false;
	return true;
}

static char *hex(char *o, const uint8_t *p, uint32_t n)
{
	static const char digits[] = "0123456789abcdef";
	uint32_t i;

	for (i = 0; i < n; i++) {
		*o++ = digits[p[i] >> 4];
		*o++ = digits[p[i] & 15];
	}
	return o;
}

int keylog_format(const struct ec_keylog *k, char *buf, size_t len)
{
	char *o = buf;

	if (k->label_len >= EC_KEYLOG_LABEL || !label_ok(k->label, k->label_len) ||
	    !k->random_len || k->random_len > EC_KEYLOG_RANDOM || !k->secret_len ||
	    k->secret_len > EC_KEYLOG_SECRET)
		return -EINVAL;
	if (len < (size_t)k->label_len + 2 * k->random_len + 2 * k->secret_len + 4)
		return -ENOSPC;
	memcpy(o, k->label, k->label_len);
	o += k->label_len;
	*o++ = ' ';
	o = hex(o, k->random, k->random_len);
	*o++ = ' ';
	o = hex(o, k->secret, k->secret_len);
	*o++ = '\n';
	*o = '\0';
	return (int)(o - buf);
}

static uint64_t hash(const char *s, size_t n, uint64_t h)
{
	size_t i;

	/* FNV-1a with the given offset basis. */
	for (i = 0; i < n; i++) {
		h ^= (uint8_t)s[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

/* Insert id unless present: 1 inserted, 0 present, -ENOMEM. */
static int set_add(struct keylog_file *kf, struct line_id id)
{
	size_t i, mask;

	if (2 * (kf->n + 1) > kf->cap) {
		size_t nc = kf->cap ? 2 * kf->cap : 256, j;
		struct line_id *nv = calloc(nc, sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		for (j = 0; j < kf->cap; j++) {
			if (!kf->set[j].a)
				continue;
			for (i = kf->set[j].a & (nc - 1); nv[i].a; i = (i + 1) & (nc - 1))
				;
			nv[i] = kf->set[j];
		}
		free(kf->set);
		kf->set = nv;
		kf->cap = nc;
	}
	mask = kf->cap - 1;
	for (i = id.a & mask; kf->set[i].a; i = (i + 1) & mask)
		if (kf->set[i].a == id.a && kf->set[i].b == id.b)
			return 0;
	kf->set[i] = id;
	kf->n++;
	return 1;
}

int keylog_file_add(struct keylog_file *kf, const struct ec_keylog *k)
{
	char line[LINE_MAX_];
	struct line_id id;
	int n, r;

	n = keylog_format(k, line, sizeof(line));
	if (n < 0) {
		kf->c.malformed++;
		return -EINVAL;
	}
	id.a = hash(line, (size_t)n, 0xcbf29ce484222325ull) | 1;
	id.b = hash(line, (size_t)n, 0x84222325cbf29ce4ull);
	r = set_add(kf, id);
	if (r == 0) {
		kf->c.duplicates++;
		return 0;
	}
	/* One write(2) per line with O_APPEND: a reader never sees half a line from us. */
	if (write(kf->fd, line, (size_t)n) != n) {
		r = errno ? -errno : -EIO;
		kf->c.failed++;
		return r;
	}
	kf->c.written++;
	return 1;
}

void keylog_file_counts(const struct keylog_file *kf, struct keylog_counts *out)
{
	if (kf)
		*out = kf->c;
	else
		memset(out, 0, sizeof(*out));
}
