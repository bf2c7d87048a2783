/*
 * Fuzz targets.  Each fuzz_*.c defines the libFuzzer entry point below and
 * nothing else that another target would clash with.  The same file is
 * built two ways: with clang -fsanitize=fuzzer (cmake -DSYNACK_FUZZ=ON) as
 * a libFuzzer binary, and in every normal build linked with replay_main.c,
 * which runs the committed corpus and crash regressions through it.
 *
 * A target reports a broken invariant with fuzz_fail(), which prints the
 * sentence and aborts, so libFuzzer saves the input and ctest fails.
 */
#ifndef SYNACK_FUZZ_H
#define SYNACK_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Prints "fuzz: <sentence>" on stderr and aborts. */
void fuzz_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
