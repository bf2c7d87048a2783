/*
 * `synack run -- PROGRAM ARGS` (issue 15 item 5): runs an unmodified
 * program over a synack stack on a TUN/TAP device by setting LD_PRELOAD to
 * libsynack-preload.so and the SYNACK_* environment that configures it
 * (docs/PRELOAD.md) from the flags of `synack serve` and `synack connect`,
 * then executing the program in place of itself.
 */
#ifndef SYNACK_TOOLS_RUN_H
#define SYNACK_TOOLS_RUN_H

#include <stddef.h>
#include <stdio.h>

#include "net.h"

struct run_opts {
	struct net_opts net;
	const char *preload; /* --preload FILE; NULL: found beside the synack binary */
	int debug;           /* --debug: SYNACK_DEBUG=1 */
	int print_env;       /* --print-env: print the environment and the command, run nothing */
	char **argv;         /* the program and its arguments (NULL-terminated) */
	int argc;
	int help;
};

/* The flags of `synack run` (tools/cli_parse.h; net.c's through its hook). */
struct cli_table;
extern const struct cli_table run_cli;

void run_opts_default(struct run_opts *o);
/* 0, or -1 with a sentence in err (the caller prefixes "synack run: "). */
int run_parse_args(int argc, char **argv, struct run_opts *o, char *err, size_t errlen);
void run_usage(FILE *out);
/*
 * The environment the program gets, "NAME=VALUE" lines in order: LD_PRELOAD
 * (what LD_PRELOAD held, then the library), SYNACK_DEV, SYNACK_TAP or
 * SYNACK_TUN, SYNACK_CREATE, SYNACK_ADDR (a comma list), SYNACK_GW,
 * SYNACK_PCAP, SYNACK_TXQUEUELEN, SYNACK_DEBUG and one
 * SYNACK_<SETTING> per setting given.  Returns the number of entries
 * written into env (at most max, each a string in buf), or -1 with a
 * sentence in err when the library cannot be found or buf is too small.
 */
int run_environment(const struct run_opts *o, const char *self, char **env, size_t max, char *buf,
                    size_t buflen, char *err, size_t errlen);
/* Sets the environment and executes the program: returns only on failure,
 * with the exit status (2 no library, 126 not executable, 127 not found). */
int run_main(const struct run_opts *o);

#endif
