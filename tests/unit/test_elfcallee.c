// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Finding the function two functions both call (engine/discover/elfcallee.c): on this test
 * binary's own functions, on the system's OpenSSL when it is installed, and on
 * files that must be refused. */
#include <errno.h>
#include <stdint.h>
#include <unistd.h>

#include "engine/discover/elfcallee.h"
#include "unit.h"

volatile unsigned fixture_sink;

/* noclone: a constant-propagated copy would be a different callee per caller. */
__attribute__((noinline, noclone)) static unsigned fixture_common(unsigned x)
{
	fixture_sink += x;
	return fixture_sink * 3;
}

__attribute__((noinline, noclone)) static unsigned fixture_other(unsigned x)
{
	fixture_sink ^= x;
	return fixture_sink + 1;
}

__attribute__((noinline, noclone)) unsigned fixture_a(unsigned x)
{
	return fixture_common(x + 1) + 2;
}

__attribute__((noinline, noclone)) unsigned fixture_b(unsigned x)
{
	return fixture_common(x * 5) - 7;
}

__attribute__((noinline, noclone)) unsigned fixture_c(unsigned x)
{
	return fixture_other(x) * 2;
}

/* Calls both: shares two callees with fixture_a + fixture_c's union, but with
 * fixture_a only fixture_common. */
__attribute__((noinline, noclone)) unsigned fixture_d(unsigned x)
{
	return fixture_common(x) + fixture_other(x);
}

__attribute__((noinline, noclone)) unsigned fixture_e(unsigned x)
{
	return fixture_other(x - 1) - fixture_common(x + 2);
}

static void test_own_functions(void)
{
	struct callee_info c = {0};
	int r;

	r = find_common_callee("/proc/self/exe", "fixture_a", "fixture_b", &c);
#if defined(__x86_64__)
	struct callee_info o = {0};

	CHECK_EQ_INT(r, 0);
	/* fixture_c and fixture_d share fixture_other only. */
	CHECK_EQ_INT(find_common_callee("/proc/self/exe", "fixture_c", "fixture_d", &o), 0);
	CHECK(o.vaddr != c.vaddr);
	/* Both are where the functions run, less the same load bias. */
	CHECK_EQ_INT((uintptr_t)fixture_common - c.vaddr, (uintptr_t)fixture_other - o.vaddr);
	CHECK(c.file_off && o.file_off);
	/* fixture_d and fixture_e call both: ambiguous, so nothing. */
	CHECK_EQ_INT(find_common_callee("/proc/self/exe", "fixture_d", "fixture_e", &o), -ENOENT);
	CHECK_EQ_INT(find_common_callee("/proc/self/exe", "fixture_a", "fixture_c", &o), -ENOENT);
	CHECK_EQ_INT(find_common_callee("/proc/self/exe", "fixture_a", "no_such_fn", &o), -ENOENT);
#else
	CHECK_EQ_INT(r, -ENOTSUP);
#endif
	(void)fixture_a(1);
	(void)fixture_b(2);
	(void)fixture_c(3);
	(void)fixture_d(4);
	(void)fixture_e(5);
}

static void test_bad_files(void)
{
	struct callee_info c;
	char path[] = "/tmp/ecaptop-elfcallee-XXXXXX";
	int fd = mkstemp(path);

	CHECK(fd >= 0);
	CHECK(write(fd, "not an ELF file at all\n", 23) == 23);
	close(fd);
	CHECK_EQ_INT(find_common_callee(path, "a", "b", &c), -ENOEXEC);
	unlink(path);
	CHECK_EQ_INT(find_common_callee("/nonexistent/libssl.so.3", "SSL_read", "SSL_read_ex", &c),
		     -ENOENT);
}

/* Debian's OpenSSL 3: SSL_read and SSL_read_ex both call ssl_read_internal, which
 * starts with a push; the write pair has its own. */
static void test_system_openssl(void)
{
	static const char *const libs[] = {"/usr/lib/x86_64-linux-gnu/libssl.so.3",
					   "/usr/lib/x86_64-linux-gnu/libssl.so.1.1"};
	struct callee_info rd, wr;
	size_t i;

	for (i = 0; i < sizeof(libs) / sizeof(libs[0]); i++) {
		if (access(libs[i], R_OK))
			continue;
		printf("  %s\n", libs[i]);
		CHECK_EQ_INT(find_common_callee(libs[i], "SSL_read", "SSL_read_ex", &rd), 0);
		CHECK_EQ_INT(find_common_callee(libs[i], "SSL_write", "SSL_write_ex", &wr), 0);
		CHECK(rd.vaddr != wr.vaddr);
		CHECK(rd.emulated);
		CHECK(wr.emulated);
		/* Reading and writing have nothing in common at this level. */
		CHECK_EQ_INT(find_common_callee(libs[i], "SSL_read", "SSL_write", &rd), -ENOENT);
		return;
	}
	printf("  no system libssl: only the test binary's functions were used\n");
}

static void test_emulated_first_instruction(void)
{
	static const struct {
		const char *bytes;
		size_t n;
		bool want;
	} cases[] = {
	    {"\x55", 1, true},		       /* push %rbp */
	    {"\x41\x55", 2, true},	       /* push %r13 */
	    {"\x0f\x1f\x44\x00\x00", 5, true}, /* nopl 0(%rax,%rax): a 5-byte nop */
	    {"\xe8\x00\x00\x00\x00", 5, true}, /* call */
	    {"\x48\x83\xec\x18", 4, false},    /* sub $0x18,%rsp: single-stepped */
	    {"\xf3\x0f\x1e\xfa", 4, false},    /* endbr64 */
	    {"\x41", 1, false},		       /* a REX prefix cut short */
	    {"\x0f\x1f\x44\x00", 4, false},    /* a 5-byte nop cut short */
	    {"\x48\x89\xe5", 3, false},	       /* mov %rsp,%rbp */
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bool got = x86_entry_emulated((const uint8_t *)cases[i].bytes, cases[i].n);

		if (got != cases[i].want)
			printf("  case %zu: got %d\n", i, got);
		CHECK(got == cases[i].want);
	}
}

UNIT_MAIN(UNIT(test_own_functions), UNIT(test_bad_files), UNIT(test_system_openssl),
	  UNIT(test_emulated_first_instruction))
