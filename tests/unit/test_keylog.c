// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The key log: line format, each line once, the file's safety (engine/capture/keylog.c);
 * finding OpenSSL's key-log function (engine/discover/keylog.c) in this test binary's
 * own OpenSSL-shaped functions and in the system's libssl; GnuTLS's and BoringSSL's in
 * Debian's builds. */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/capture/keylog.h"
#include "engine/discover/elfcallee.h"
#include "engine/discover/elfsym.h"
#include "engine/discover/keylog.h"
#include "unit.h"

static struct ec_keylog make_key(const char *label, uint8_t r, uint8_t s, uint32_t slen)
{
	struct ec_keylog k;

	memset(&k, 0, sizeof(k));
	k.label_len = (uint32_t)strlen(label);
	memcpy(k.label, label, k.label_len);
	k.random_len = 32;
	memset(k.random, r, sizeof(k.random));
	k.secret_len = slen;
	memset(k.secret, s, slen);
	return k;
}

static void test_format(void)
{
	struct ec_keylog k = make_key("CLIENT_RANDOM", 0xab, 0x01, 48);
	char buf[512], want[512];
	int n;

	n = keylog_format(&k, buf, sizeof(buf));
	snprintf(want, sizeof(want), "CLIENT_RANDOM %s %s\n",
		 "abababababababababababababababababababababababababababababababab",
		 "010101010101010101010101010101010101010101010101010101010101010101010101010101"
		 "010101010101010101");
	CHECK_EQ_STR(buf, want);
	CHECK_EQ_INT(n, strlen(want));
	/* Too small a buffer, a label that is no label, parts longer than were read. */
	CHECK_EQ_INT(keylog_format(&k, buf, 40), -ENOSPC);
	k.label[3] = ' ';
	CHECK_EQ_INT(keylog_format(&k, buf, sizeof(buf)), -EINVAL);
	k = make_key("EXPORTER_SECRET", 1, 2, 48);
	k.secret_len = EC_KEYLOG_SECRET + 1;
	CHECK_EQ_INT(keylog_format(&k, buf, sizeof(buf)), -EINVAL);
	k.secret_len = 0;
	CHECK_EQ_INT(keylog_format(&k, buf, sizeof(buf)), -EINVAL);
	k = make_key("", 1, 2, 48);
	CHECK_EQ_INT(keylog_format(&k, buf, sizeof(buf)), -EINVAL);
}

static void test_file_once_and_safe(void)
{
	char dir[] = "/tmp/ecaptop-keylog-XXXXXX", path[128], link[128], err[256], buf[4096];
	struct keylog_counts c;
	struct keylog_file *kf;
	struct ec_keylog a = make_key("CLIENT_TRAFFIC_SECRET_0", 7, 8, 32);
	struct ec_keylog b = make_key("SERVER_TRAFFIC_SECRET_0", 7, 9, 32);
	struct stat st;
	ssize_t n;
	int fd, i;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/keys", dir);
	snprintf(link, sizeof(link), "%s/link", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	CHECK(fd >= 0);
	CHECK(write(fd, "# kept\n", 7) == 7);
	close(fd);
	kf = keylog_file_open(path, err, sizeof(err));
	CHECK(kf != NULL);
	CHECK_EQ_INT(keylog_file_add(kf, &a), 1);
	CHECK_EQ_INT(keylog_file_add(kf, &b), 1);
	for (i = 0; i < 1000; i++) /* the set grows past its first size */
		CHECK_EQ_INT(keylog_file_add(kf, &a), 0);
	a.label[0] = 'x';
	CHECK_EQ_INT(keylog_file_add(kf, &a), -EINVAL);
	keylog_file_counts(kf, &c);
	CHECK_EQ_INT(c.written, 2);
	CHECK_EQ_INT(c.duplicates, 1000);
	CHECK_EQ_INT(c.malformed, 1);
	keylog_file_close(kf);
	fd = open(path, O_RDONLY);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	CHECK(n > 0);
	buf[n > 0 ? n : 0] = '\0';
	/* Appended after what was there; two lines. */
	CHECK(!strncmp(buf, "# kept\nCLIENT_TRAFFIC_SECRET_0 0707", 35));
	CHECK(strstr(buf, "\nSERVER_TRAFFIC_SECRET_0 0707") != NULL);
	CHECK_EQ_INT(n, 7 + 2 * (23 + 1 + 64 + 1 + 64 + 1));

	/* Created 0600 whatever the umask; a symbolic link or a folder refused. */
	unlink(path);
	umask(0);
	kf = keylog_file_open(path, err, sizeof(err));
	umask(022);
	CHECK(kf != NULL);
	keylog_file_close(kf);
	CHECK(!stat(path, &st) && (st.st_mode & 0777) == 0600);
	CHECK(!symlink(path, link));
	CHECK(keylog_file_open(link, err, sizeof(err)) == NULL);
	CHECK(strstr(err, "symbolic link") != NULL);
	CHECK(keylog_file_open(dir, err, sizeof(err)) == NULL);
	unlink(link);
	unlink(path);
	rmdir(dir);
}

/* The shape of OpenSSL's code: a master-secret step logging "CLIENT_RANDOM" through
 * ssl_log_secret, which passes the client random and its length, 32, on to
 * nss_keylog_int. Named otherwise, so only the machine code can find them. */
volatile unsigned fixture_hits;
uint8_t fixture_random[32];

__attribute__((noinline, noclone)) int fixture_keylog_int(const char *prefix, void *s,
							  const uint8_t *p1, size_t p1_len,
							  const uint8_t *p2, size_t p2_len)
{
	fixture_hits += (unsigned)(prefix[0] + p1_len + p2_len + p1[0] + p2[0]) + (s != NULL);
	return 1;
}

__attribute__((noinline, noclone)) int fixture_log_secret(void *s, const char *label,
							  const uint8_t *secret, size_t len)
{
	return fixture_keylog_int(label, s, fixture_random, 32, secret, len);
}

__attribute__((noinline, noclone)) int fixture_master_secret(void *s, const uint8_t *secret)
{
	return fixture_log_secret(s, "CLIENT_RANDOM", secret, 48) + 1;
}

static void test_find_in_own_code(void)
{
	struct keylog_site site = {0};
	uint8_t secret[48] = {1};
	int r;

	(void)fixture_master_secret(secret, secret);
	r = keylog_find_openssl("/proc/self/exe", &site);
#if defined(__x86_64__)
	CHECK_EQ_INT(r, 0);
	CHECK_EQ_INT(site.how, KEYLOG_FOUND_CODE);
	/* Where it runs, less the load bias that fixture_log_secret has too. */
	{
		uint64_t ls;

		CHECK_EQ_INT(elfsym_lookup("/proc/self/exe", "fixture_log_secret", &ls), 0);
		CHECK_EQ_INT((uintptr_t)fixture_keylog_int - site.vaddr,
			     (uintptr_t)fixture_log_secret - ls);
	}
	CHECK(site.file_off != 0);
#else
	CHECK_EQ_INT(r, -ENOTSUP);
#endif
}

/* Debian's OpenSSL: the function found is the one that tests the application's key-log
 * callback, at the offset SSL_CTX_set_keylog_callback stores it to (read from that
 * exported function's own code: mov %rsi, disp32(%rdi)). */
static void test_system_openssl(void)
{
	static const char *const libs[] = {"/usr/lib/x86_64-linux-gnu/libssl.so.3",
					   "/usr/lib/x86_64-linux-gnu/libssl.so.1.1"};
	struct keylog_site site = {0};
	struct code_img *c;
	const uint8_t *set, *fn;
	uint64_t set_at;
	size_t i;

	for (i = 0; i < sizeof(libs) / sizeof(libs[0]); i++) {
		if (access(libs[i], R_OK))
			continue;
		printf("  %s\n", libs[i]);
		CHECK_EQ_INT(keylog_find_openssl(libs[i], &site), 0);
		CHECK_EQ_INT(site.how, KEYLOG_FOUND_CODE);
		CHECK_EQ_INT(code_img_open(libs[i], &c), 0);
		CHECK_EQ_INT(elfsym_lookup(libs[i], "SSL_CTX_set_keylog_callback", &set_at), 0);
		set = code_img_bytes(c, set_at, 7, NULL);
		fn = code_img_bytes(c, site.vaddr, 64, NULL);
		CHECK(set && fn);
		if (set && fn) {
			CHECK(set[0] == 0x48 && set[1] == 0x89 && set[2] == 0xb7);
			CHECK(memmem(fn, 64, set + 3, 4) != NULL);
			CHECK(x86_entry_emulated(fn, 64));
		}
		code_img_close(c);
		/* A library without it (GnuTLS has the string, not the function). */
		return;
	}
	printf("  no system libssl\n");
}

/* Debian's GnuTLS: the function found loads the key-log function pointer from the
 * offset gnutls_session_set_keylog_function stores to, and the random's offset is
 * where a real session's client random is (asked of the library itself). */
struct gnutls_datum_ {
	unsigned char *data;
	unsigned size;
};

static void test_system_gnutls(void)
{
	static const char lib[] = "/usr/lib/x86_64-linux-gnu/libgnutls.so.30";
	int (*init)(void **, unsigned);
	void (*deinit)(void *);
	void (*get_random)(void *, struct gnutls_datum_ *, struct gnutls_datum_ *);
	struct gnutls_datum_ cr = {0}, sr = {0};
	struct keylog_site site = {0};
	void *h, *session = NULL;

	if (access(lib, R_OK)) {
		printf("  no system GnuTLS\n");
		return;
	}
	CHECK_EQ_INT(keylog_find_gnutls(lib, &site), 0);
	CHECK_EQ_INT(site.how, KEYLOG_FOUND_CODE);
	CHECK(site.file_off != 0);
#ifndef __x86_64__
	/* Built for arm64 and run under qemu-user (tests/cross/run.sh): the x86-64 library is
	 * read, as above, but cannot be loaded into this process to ask it. */
	printf("  not an x86-64 process: %s read, not loaded\n", lib);
	return;
#endif
	h = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
	CHECK(h != NULL);
	if (!h)
		return;
	*(void **)&init = dlsym(h, "gnutls_init");
	*(void **)&deinit = dlsym(h, "gnutls_deinit");
	*(void **)&get_random = dlsym(h, "gnutls_session_get_random");
	CHECK(init && deinit && get_random);
	if (init && deinit && get_random && !init(&session, 2 /* GNUTLS_CLIENT */)) {
		get_random(session, &cr, &sr);
		CHECK_EQ_INT(cr.size, 32);
		CHECK_EQ_INT((uint64_t)(cr.data - (unsigned char *)session), site.cookie);
		deinit(session);
	}
	/* Not OpenSSL: nss_keylog_int is not there. */
	CHECK_EQ_INT(keylog_find_openssl(lib, &site), -ENOENT);
	dlclose(h);
}

/* Debian's BoringSSL (android-libboringssl, stripped): the function found is
 * ssl_log_secret, proved by calling it on a real SSL with a key-log callback set: the
 * line it makes carries the bytes put where the cookie says the client random is. */
static char boring_line[256];

static void boring_cb(const void *ssl, const char *line)
{
	(void)ssl;
	snprintf(boring_line, sizeof(boring_line), "%s", line);
}

static void test_system_boringssl(void)
{
	static const char lib[] = "/usr/lib/x86_64-linux-gnu/android/libssl.so.0";
	static const uint8_t secret[4] = {0xde, 0xad, 0xbe, 0xef};
	void *(*ctx_new)(const void *), *(*ssl_new)(void *), *(*method)(void);
	void (*set_cb)(void *, void (*)(const void *, const char *));
	void (*ssl_free)(void *), (*ctx_free)(void *);
	bool (*log_secret)(const void *, const char *, const uint8_t *, size_t);
	struct keylog_site site = {0};
	char want[160];
	uint8_t *rnd;
	void *h, *ctx, *ssl;
	Dl_info di;
	int i;

	if (access(lib, R_OK)) {
		printf("  no system BoringSSL (android-libboringssl)\n");
		return;
	}
	CHECK_EQ_INT(keylog_find_boringssl(lib, &site), 0);
	CHECK_EQ_INT(site.how, KEYLOG_FOUND_CODE);
	CHECK(site.file_off != 0);
	printf("  ssl_log_secret at %#llx, client random at *(ssl + %#llx) + %#llx\n",
	       (unsigned long long)site.vaddr, (unsigned long long)(site.cookie >> 32),
	       (unsigned long long)(uint32_t)site.cookie);
#ifndef __x86_64__
	/* Built for arm64 and run under qemu-user: the x86-64 library is read, as above,
	 * but cannot be loaded into this process to call it. */
	printf("  not an x86-64 process: %s read, not loaded\n", lib);
	return;
#endif
	h = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
	CHECK(h != NULL);
	if (!h)
		return;
	*(void **)&method = dlsym(h, "TLS_method");
	*(void **)&ctx_new = dlsym(h, "SSL_CTX_new");
	*(void **)&ssl_new = dlsym(h, "SSL_new");
	*(void **)&set_cb = dlsym(h, "SSL_CTX_set_keylog_callback");
	*(void **)&ssl_free = dlsym(h, "SSL_free");
	*(void **)&ctx_free = dlsym(h, "SSL_CTX_free");
	CHECK(method && ctx_new && ssl_new && set_cb && ssl_free && ctx_free);
	if (!method || !ctx_new || !ssl_new || !set_cb || !ssl_free || !ctx_free ||
	    !dladdr((void *)ctx_new, &di)) {
		dlclose(h);
		return;
	}
	ctx = ctx_new(method());
	ssl = ctx ? ssl_new(ctx) : NULL;
	CHECK(ssl != NULL);
	if (ssl) {
		set_cb(ctx, boring_cb);
		rnd = *(uint8_t **)((char *)ssl + (site.cookie >> 32)) + (uint32_t)site.cookie;
		for (i = 0; i < 32; i++)
			rnd[i] = (uint8_t)(0xa0 + i);
		/* A shared library's link-time addresses start at 0: base + vaddr. */
		*(void **)&log_secret = (char *)di.dli_fbase + site.vaddr;
		CHECK(log_secret(ssl, "UNIT_TEST_LABEL", secret, sizeof(secret)));
		snprintf(want, sizeof(want), "UNIT_TEST_LABEL ");
		for (i = 0; i < 32; i++)
			snprintf(want + strlen(want), 3, "%02x", 0xa0 + i);
		snprintf(want + strlen(want), sizeof(want) - strlen(want), " deadbeef");
		CHECK_EQ_STR(boring_line, want);
		ssl_free(ssl);
	}
	if (ctx)
		ctx_free(ctx);
	dlclose(h);
}

static void test_not_found(void)
{
	struct keylog_site site;
	char path[] = "/tmp/ecaptop-keylog-XXXXXX";
	int fd = mkstemp(path);

	CHECK(fd >= 0);
	CHECK(write(fd, "not an ELF file\n", 16) == 16);
	close(fd);
	CHECK_EQ_INT(keylog_find_openssl(path, &site), -ENOEXEC);
	CHECK_EQ_INT(keylog_find_go(path, &site), -ENOENT);
	unlink(path);
	CHECK_EQ_INT(keylog_find_openssl("/nonexistent/libssl.so.3", &site), -ENOENT);
	/* libc has neither. */
	if (!access("/usr/lib/x86_64-linux-gnu/libc.so.6", R_OK)) {
		CHECK_EQ_INT(keylog_find_openssl("/usr/lib/x86_64-linux-gnu/libc.so.6", &site),
			     -ENOENT);
		CHECK_EQ_INT(keylog_find_go("/usr/lib/x86_64-linux-gnu/libc.so.6", &site), -ENOENT);
		CHECK_EQ_INT(keylog_find_gnutls("/usr/lib/x86_64-linux-gnu/libc.so.6", &site),
			     -ENOENT);
		CHECK_EQ_INT(keylog_find_boringssl("/usr/lib/x86_64-linux-gnu/libc.so.6", &site),
			     -ENOENT);
	}
}

UNIT_MAIN(UNIT(test_format), UNIT(test_file_once_and_safe), UNIT(test_find_in_own_code),
	  UNIT(test_system_openssl), UNIT(test_system_gnutls), UNIT(test_system_boringssl),
	  UNIT(test_not_found))
