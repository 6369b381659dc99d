// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Go ELF analysis (engine/discover/gobin.c): x86-64 instruction lengths, pc-value tables,
 * return-site finding with its table cross-check, and real Go binaries when the
 * Go toolchain (a Go program itself) is installed. */
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/discover/gobin.h"
#include "unit.h"

static void test_x86_lengths(void)
{
	static const struct {
		const char *bytes;
		int n, len;
	} cases[] = {
	    {"\xc3", 1, 1},					  /* ret */
	    {"\x55", 1, 1},					  /* push rbp */
	    {"\x48\x89\xe5", 3, 3},				  /* mov rbp, rsp */
	    {"\x48\x83\xec\x18", 4, 4},				  /* sub rsp, 0x18 */
	    {"\x48\x8b\x05\x00\x00\x00\x00", 7, 7},		  /* mov rax, [rip+0] */
	    {"\x64\x48\x8b\x04\x25\xf8\xff\xff\xff", 9, 9},	  /* mov rax, fs:[-8] */
	    {"\x48\xb8\x01\x02\x03\x04\x05\x06\x07\x08", 10, 10}, /* movabs rax, imm64 */
	    {"\x66\x0f\x1f\x84\x00\x00\x00\x00\x00", 9, 9},	  /* nopw */
	    {"\xf0\x41\x0f\xb1\x0b", 5, 5},			  /* lock cmpxchg [r11], ecx */
	    {"\x0f\x84\x10\x00\x00\x00", 6, 6},			  /* je rel32 */
	    {"\xe8\x00\x00\x00\x00", 5, 5},			  /* call rel32 */
	    {"\xf6\x40\x08\x01", 4, 4},				  /* test byte [rax+8], 1 */
	    {"\xf7\xd8", 2, 2},				    /* neg eax: group 3 without immediate */
	    {"\x66\x0f\x3a\x0f\xc1\x08", 6, 6},		    /* palignr xmm0, xmm1, 8 */
	    {"\xc5\xf8\x77", 3, 3},			    /* vzeroupper */
	    {"\xc4\xe2\x79\x18\x06", 5, 5},		    /* vbroadcastss xmm0, [rsi] */
	    {"\xc4\xe3\x7d\x39\xc1\x01", 6, 6},		    /* vextracti128 xmm1, ymm0, 1 */
	    {"\x62\xf1\x7c\x48\x10\x06", 6, 6},		    /* vmovups zmm0, [rsi] (EVEX) */
	    {"\xa1\x00\x00\x00\x00\x00\x00\x00\x00", 9, 9}, /* mov eax, moffs64 */
	    {"\x06", 1, -1},				    /* push es: invalid in 64-bit mode */
	    {"\x48\x8b", 2, -1},			    /* truncated: no ModRM */
	    {"\xe8\x00\x00", 3, -1},			    /* truncated immediate */
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int got = gobin_x86_insn_len((const uint8_t *)cases[i].bytes, cases[i].n);

		if (got != cases[i].len)
			printf("  case %zu: got %d want %d\n", i, got, cases[i].len);
		CHECK_EQ_INT(got, cases[i].len);
	}
}

struct ranges {
	uint64_t pc[8], end[8];
	int64_t val[8];
	int n;
};

static int collect(uint64_t pc, uint64_t end, int64_t val, void *arg)
{
	struct ranges *r = arg;

	if (r->n == 8)
		return 1;
	r->pc[r->n] = pc;
	r->end[r->n] = end;
	r->val[r->n++] = val;
	return 0;
}

static void test_pcvalue(void)
{
	/* value -1+1=0 for 4 bytes, +8 for 10, -8 for 1, then the end: zig-zag deltas
	 * 2 (=+1), 16 (=+8), 15 (=-8). */
	static const uint8_t tab[] = {2, 4, 16, 10, 15, 1, 0};
	struct ranges r = {0};

	CHECK_EQ_INT(gobin_pcvalue_walk(tab, sizeof(tab), 0x1000, 1, collect, &r), 0);
	CHECK_EQ_INT(r.n, 3);
	CHECK_EQ_INT(r.pc[0], 0x1000);
	CHECK_EQ_INT(r.end[0], 0x1004);
	CHECK_EQ_INT(r.val[0], 0);
	CHECK_EQ_INT(r.val[1], 8);
	CHECK_EQ_INT(r.end[1], 0x100e);
	CHECK_EQ_INT(r.val[2], 0);
	/* Cut anywhere: an error, never a read past the end. */
	for (size_t n = 0; n + 1 < sizeof(tab); n++) {
		struct ranges q = {0};

		CHECK(gobin_pcvalue_walk(tab, n, 0x1000, 1, collect, &q) < 0);
	}
}

/* sub rsp,8; mov eax,0xc3 (a c3 byte inside an immediate); add rsp,8; ret; int3 */
static const uint8_t fn_code[] = {0x48, 0x83, 0xec, 0x08, 0xb8, 0xc3, 0x00, 0x00,
				  0x00, 0x48, 0x83, 0xc4, 0x08, 0xc3, 0xcc, 0xcc};

static void test_x86_rets(void)
{
	/* pcsp: 0 for [0,4), 8 for [4,13), 0 for [13,16). */
	static const uint8_t pcsp[] = {2, 4, 16, 9, 15, 3, 0};
	/* a stack table whose change point falls inside mov's immediate */
	static const uint8_t bad[] = {2, 6, 16, 7, 15, 3, 0};
	uint64_t rets[4];
	char why[128] = "";
	int n;

	n = gobin_x86_rets(fn_code, sizeof(fn_code), 0x2000, pcsp, sizeof(pcsp), NULL, 0, rets, 4,
			   why, sizeof(why));
	CHECK_EQ_INT(n, 1);
	CHECK_EQ_INT(rets[0], 0x200d);
	n = gobin_x86_rets(fn_code, sizeof(fn_code), 0x2000, bad, sizeof(bad), NULL, 0, rets, 4,
			   why, sizeof(why));
	CHECK(n < 0);
	CHECK(strstr(why, "stack table") != NULL);
}

/* Every function of the Go toolchain's own binaries decodes in agreement with its
 * tables (all but the few assembly functions that keep data in their code). */
static void test_real_go_binaries(void)
{
	static const char *const paths[] = {"/usr/lib/go-1.19/bin/go",
					    "/usr/lib/go-1.19/pkg/tool/linux_amd64/compile",
					    "/usr/lib/go/bin/go"};
	size_t i, tried = 0;

	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		size_t ok, refused, rets;
		char why[256];
		struct stat st;
		void *m;
		int fd = open(paths[i], O_RDONLY);

		if (fd < 0)
			continue;
		fstat(fd, &st);
		m = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
		close(fd);
		CHECK(m != MAP_FAILED);
		if (m == MAP_FAILED)
			continue;
		tried++;
		CHECK_EQ_INT(
		    gobin_verify_all(m, st.st_size, &ok, &refused, &rets, why, sizeof(why)), 0);
		printf("  %s: %zu functions decoded and confirmed (%zu returns), %zu refused%s%s\n",
		       paths[i], ok, rets, refused, refused ? ": first " : "", why);
		CHECK(ok > 1000);
		CHECK(refused <= 2);
		munmap(m, st.st_size);
	}
	if (!tried)
		printf("  no Go toolchain binary here (golang-go): real-binary check not run\n");
}

static void test_truncated_elf(void)
{
	struct gobin_info gi;
	uint8_t buf[64] = {0x7f, 'E', 'L', 'F', 2, 1};

	CHECK_EQ_INT(gobin_analyze_mem(buf, sizeof(buf), &gi), 0);
	CHECK_EQ_INT(gobin_analyze_mem(buf, 10, &gi), 0);
	CHECK(!gi.is_go);
}

UNIT_MAIN(UNIT(test_x86_lengths), UNIT(test_pcvalue), UNIT(test_x86_rets),
	  UNIT(test_real_go_binaries), UNIT(test_truncated_elf))
