/*
 * fuzz_cli: the command-line parsers of the tools on any arguments.
 *
 * The input is split at NUL bytes into at most 32 arguments, which go to
 * the argument parsers of `synack demo` and `synack transfer` and, one by
 * one, to the value parsers they share and to synack_endpoint_parse.
 * Nothing may crash or read past an argument; a refusal must come with a
 * sentence; what is accepted must be in range, and an endpoint must print
 * and parse back to itself.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "demo.h"
#include "fuzz.h"
#include "transfer.h"

#define MAX_ARGS 32

static void check_sentence(int rc, const char *err, const char *what)
{
	if (!memchr(err, '\0', 200))
		fuzz_fail("%s: the error sentence is not terminated", what);
	if (rc != 0 && err[0] == '\0')
		fuzz_fail("%s: refused without a sentence", what);
}

static void one_value(const char *a)
{
	uint64_t u;
	double d;
	if (cli_parse_u64(a, 1000, &u) == 0 && u > 1000)
		fuzz_fail("cli_parse_u64 gave %llu above 1000", (unsigned long long)u);
	if (cli_parse_prob(a, &d) == 0 && !(d >= 0 && d <= 1))
		fuzz_fail("cli_parse_prob gave %g", d);
	if (cli_parse_double(a, -5, 5, &d) == 0 && !(d >= -5 && d <= 5))
		fuzz_fail("cli_parse_double gave %g outside -5..5", d);
	if (cli_parse_bytes(a, 1u << 30, &u) == 0 && u > 1u << 30)
		fuzz_fail("cli_parse_bytes gave %llu above 2^30", (unsigned long long)u);
	struct synack_endpoint ep, back;
	if (synack_endpoint_parse(a, &ep) == 0) {
		char buf[32];
		synack_endpoint_str(&ep, buf, sizeof(buf));
		if (synack_endpoint_parse(buf, &back) != 0 || back.addr != ep.addr ||
		    back.port != ep.port)
			fuzz_fail("endpoint '%s' prints as '%s', which does not parse back", a,
			          buf);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* A private NUL-terminated copy, so every argument ends. */
	char *copy = malloc(size + 1);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	copy[size] = '\0';
	char *argv[MAX_ARGS + 1];
	int argc = 0;
	for (size_t i = 0; i <= size && argc < MAX_ARGS;) {
		argv[argc++] = copy + i;
		i += strlen(copy + i) + 1;
	}
	argv[argc] = NULL;

	char err[200];
	struct demo_opts d;
	demo_opts_default(&d);
	memset(err, 0, sizeof(err));
	int rc = demo_parse_args(argc, argv, &d, err, sizeof(err));
	check_sentence(rc, err, "demo");
	if (rc == 0 && !(d.loss >= 0 && d.loss <= 1 && d.dup >= 0 && d.dup <= 1 && d.reorder >= 0 &&
	                 d.reorder <= 1))
		fuzz_fail("demo: a probability outside [0, 1] was accepted");
	if (rc == 0 && d.scenario && demo_scenario_find(d.scenario) < 0)
		fuzz_fail("demo: unknown scenario '%s' accepted", d.scenario);

	struct transfer_opts t;
	transfer_opts_default(&t);
	memset(err, 0, sizeof(err));
	rc = transfer_parse_args(argc, argv, &t, err, sizeof(err));
	check_sentence(rc, err, "transfer");
	if (rc == 0 && !(t.loss >= 0 && t.loss <= 1 && t.dup >= 0 && t.dup <= 1 && t.reorder >= 0 &&
	                 t.reorder <= 1))
		fuzz_fail("transfer: a probability outside [0, 1] was accepted");
	if (rc == 0 && (t.bytes > TRANSFER_MAX_BYTES || isnan(t.bw_mbps)))
		fuzz_fail("transfer: bytes %llu or rate %g accepted", (unsigned long long)t.bytes,
		          t.bw_mbps);

	for (int i = 0; i < argc; i++)
		one_value(argv[i]);
	free(copy);
	return 0;
}
