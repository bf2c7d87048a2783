/*
 * Table-driven flag parsing for the synack subcommands.  A command
 * describes its flags once, in a static table of struct cli_opt (the
 * flag's name, the kind of value, where in the command's options struct it
 * goes, its bounds and the words of its error sentence), and cli_parse()
 * walks argv: "--flag value" and "--flag=value" alike, a switch without a
 * value, the command's positional arguments and other flag groups (the
 * device and impairment flags of tools/net.c, impair_flags.c) through
 * hooks.  Every refusal is one sentence naming the flag and what it
 * expected ("--seed: 'x' is not a whole number in [0, 18446744073709551615]"),
 * which the command prints after its name and exits 2, as before.
 */
#ifndef SYNACK_TOOLS_CLI_PARSE_H
#define SYNACK_TOOLS_CLI_PARSE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum cli_kind {
	CLI_SWITCH = 1, /* no value: the int at off becomes 1 */
	CLI_U64,        /* a whole number in [min, max]: uint64_t */
	CLI_I64,        /* a whole number in [min, max]: int64_t */
	CLI_INT,        /* a whole number in [min, max]: int */
	CLI_UINT,       /* a whole number in [min, max]: unsigned */
	CLI_PROB,       /* a probability in [0, 1]: double */
	CLI_DOUBLE,     /* a decimal number in [dmin, dmax]: double */
	CLI_BYTES,      /* a size with an optional unit, at most max: uint64_t */
	CLI_TIME_MS,    /* a time with an optional unit, at most max ms: uint64_t */
	CLI_PATH,       /* a file name, not empty: const char * */
	CLI_CUSTOM,     /* fn judges and stores the value */
};

struct cli_opt {
	const char *name; /* "--seed" */
	int kind;         /* enum cli_kind */
	size_t off;       /* offsetof(the options struct, its field) */
	/* CLI_U64 ... CLI_UINT: the range; CLI_BYTES, CLI_TIME_MS: max. */
	uint64_t min, max;
	/* CLI_DOUBLE: the range. */
	double dmin, dmax;
	/* CLI_U64 ... CLI_UINT, CLI_DOUBLE: the sentence of a bad value is
	 * "FLAG: 'VALUE' is not WHAT in [MIN, MAX]NOTE"; WHAT defaults to "a
	 * whole number" ("a number" for CLI_DOUBLE).  A whole number below
	 * min says "FLAG: LOW" instead when low is set. */
	const char *what, *note, *low;
	/* CLI_CUSTOM: 0 stored, or -1 with a sentence in err. */
	int (*fn)(void *opts, const char *flag, const char *val, char *err, size_t errlen);
	/* 1 + offsetof an int set to 1 when the flag is given (0: none). */
	size_t seen;
};

/* The start of a table row, designated (the other members follow as
 * .max = ...): flag n of kind k into the field f of struct type t. */
#define CLI_OPT(t, n, k, f) .name = (n), .kind = (k), .off = offsetof(t, f)
/* cli_table.opts and .n for the array a of rows. */
#define CLI_ROWS(a) .opts = (a), .n = sizeof(a) / sizeof((a)[0])
/* cli_opt.seen for the int field f of struct type t. */
#define CLI_SEEN(t, f) (offsetof(t, f) + 1)

struct cli_table {
	const struct cli_opt *opts;
	size_t n;
	/* The sentence of an unknown flag: "UNKNOWN 'ARG' HINT", e.g.
	 * "unknown option '--x' (synack demo --help)". */
	const char *unknown, *hint;
	/* --help and -h set the int at 1 + help (0: the command has none);
	 * with help_stops parsing ends there (the rest is not judged). */
	size_t help;
	int help_stops;
	/* An argument that is not a flag ("-" included): 0 taken, 1 stop
	 * here (cli_parse returns its index), -1 with a sentence.  NULL: an
	 * "unexpected argument 'ARG' HINT", or with args_are_flags the
	 * sentence of an unknown flag. */
	int (*positional)(void *opts, const char *arg, char *err, size_t errlen);
	int args_are_flags;
	/* "--" ends the flags: cli_parse returns the index after it. */
	int dashdash;
	/* Flags parsed elsewhere, tried before the table: 1 taken (*i moved
	 * past a value), 0 not one of them, -1 with a sentence. */
	int (*more)(void *opts, int argc, char **argv, int *i, char *err, size_t errlen);
};

/*
 * Parses argv[0..argc-1] into opts by the table.  Returns the index of
 * the first argument not parsed (argc when all were; less when help_stops
 * or positional stopped it), or -1 with one sentence in err.
 */
int cli_parse(const struct cli_table *t, void *opts, int argc, char **argv, char *err,
              size_t errlen);

/*
 * Whether usage (a command's --help text) names every flag of the table,
 * each as a word of its own: 0, or -1 with the first one missing in err.
 */
int cli_usage_check(const struct cli_table *t, void (*usage)(FILE *out), char *err, size_t errlen);

#endif
