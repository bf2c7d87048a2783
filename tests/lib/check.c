#include "check.h"

#include <stdarg.h>
#include <stdlib.h>

int check_failures_in_test;
int check_tests_passed, check_tests_failed;
const char *check_current_test = "?";

void check_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "FAIL %s (%s:%d): ", check_current_test, file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	check_failures_in_test++;
}

int check_selected(const char *name)
{
	const char *f = getenv("SYNACK_TEST_FILTER");
	return !f || !*f || strstr(name, f) != NULL;
}

void check_run(const char *name, void (*fn)(void))
{
	if (!check_selected(name))
		return;
	check_current_test = name;
	check_failures_in_test = 0;
	fn();
	if (check_failures_in_test) {
		check_tests_failed++;
		fprintf(stderr, "not ok %s\n", name);
	} else {
		check_tests_passed++;
		if (getenv("SYNACK_TEST_VERBOSE"))
			fprintf(stderr, "ok %s\n", name);
	}
}

int check_summary(const char *program)
{
	printf("%s: %d passed, %d failed\n", program, check_tests_passed, check_tests_failed);
	return check_tests_failed ? 1 : 0;
}
