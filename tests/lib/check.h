/*
 * A minimal test framework.  A test program defines `static void name(void)`
 * functions and lists them in main() with RUN(name); CHECK* record failures
 * and keep going, so one run shows every broken expectation.  main returns
 * check_summary(), which prints "N passed, M failed" and the exit status.
 */
#ifndef SYNACK_CHECK_H
#define SYNACK_CHECK_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

extern int check_failures_in_test;
extern int check_tests_passed, check_tests_failed;
extern const char *check_current_test;

void check_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void check_run(const char *name, void (*fn)(void));
int check_summary(const char *program);
/* Non-zero when the test name matches the filter given in SYNACK_TEST_FILTER. */
int check_selected(const char *name);

#define RUN(fn) check_run(#fn, fn)

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond))                                                                       \
			check_fail(__FILE__, __LINE__, "CHECK(%s)", #cond);                        \
	} while (0)

#define CHECK_EQ(a, b)                                                                             \
	do {                                                                                       \
		long long check_a_ = (long long)(a), check_b_ = (long long)(b);                    \
		if (check_a_ != check_b_)                                                          \
			check_fail(__FILE__, __LINE__, "%s == %s: %lld != %lld", #a, #b, check_a_, \
			           check_b_);                                                      \
	} while (0)

#define CHECK_EQ_U64(a, b)                                                                         \
	do {                                                                                       \
		uint64_t check_a_ = (uint64_t)(a), check_b_ = (uint64_t)(b);                       \
		if (check_a_ != check_b_)                                                          \
			check_fail(__FILE__, __LINE__, "%s == %s: %" PRIu64 " != %" PRIu64, #a,    \
			           #b, check_a_, check_b_);                                        \
	} while (0)

#define CHECK_STR(a, b)                                                                            \
	do {                                                                                       \
		const char *check_a_ = (a), *check_b_ = (b);                                       \
		if (!check_a_ || !check_b_ || strcmp(check_a_, check_b_) != 0)                     \
			check_fail(__FILE__, __LINE__, "%s == %s: \"%s\" != \"%s\"", #a, #b,       \
			           check_a_ ? check_a_ : "(null)",                                 \
			           check_b_ ? check_b_ : "(null)");                                \
	} while (0)

#endif
