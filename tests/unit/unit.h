/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A minimal unit-test harness. Each test is a function registered with TEST();
 * main() is provided by UNIT_MAIN(). Every test prints "PASS name" or
 * "FAIL name: file:line: expression" on stdout; the binary exits 1 if any failed.
 */
#ifndef ECAPTOP_TESTS_UNIT_H
#define ECAPTOP_TESTS_UNIT_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct unit_case {
	const char *name;
	void (*fn)(void);
};

extern int unit_failed_now;

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			printf("  check failed: %s:%d: %s\n", __FILE__, __LINE__, #cond);          \
			unit_failed_now = 1;                                                       \
		}                                                                                  \
	} while (0)

#define CHECK_EQ_INT(a, b)                                                                         \
	do {                                                                                       \
		long long _a = (long long)(a), _b = (long long)(b);                                \
		if (_a != _b) {                                                                    \
			printf("  check failed: %s:%d: %s == %s (%lld != %lld)\n", __FILE__,       \
			       __LINE__, #a, #b, _a, _b);                                          \
			unit_failed_now = 1;                                                       \
		}                                                                                  \
	} while (0)

#define CHECK_EQ_STR(a, b)                                                                         \
	do {                                                                                       \
		const char *_a = (a), *_b = (b);                                                   \
		if (!_a || !_b || strcmp(_a, _b)) {                                                \
			printf("  check failed: %s:%d: %s == %s (\"%s\" != \"%s\")\n", __FILE__,   \
			       __LINE__, #a, #b, _a ? _a : "(null)", _b ? _b : "(null)");          \
			unit_failed_now = 1;                                                       \
		}                                                                                  \
	} while (0)

#define UNIT_MAIN(...)                                                                             \
	int unit_failed_now;                                                                       \
	int main(void)                                                                             \
	{                                                                                          \
		static const struct unit_case cases[] = {__VA_ARGS__};                             \
		size_t i;                                                                          \
		int failed = 0;                                                                    \
		for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {                           \
			unit_failed_now = 0;                                                       \
			cases[i].fn();                                                             \
			printf("%s %s\n", unit_failed_now ? "FAIL" : "PASS", cases[i].name);       \
			fflush(stdout);                                                            \
			failed |= unit_failed_now;                                                 \
		}                                                                                  \
		return failed;                                                                     \
	}

#define UNIT(fn)                                                                                   \
	{                                                                                          \
#fn, fn                                                                            \
	}

#endif
