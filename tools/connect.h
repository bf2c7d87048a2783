/*
 * `synack connect`: one connection from a synack stack on a TUN/TAP device
 * to HOST:PORT: sends a file or N bytes of the body pattern while reading
 * everything the peer sends, closes in the order asked for, and reports
 * every state change of the connection on stderr.
 */
#ifndef SYNACK_TOOLS_CONNECT_H
#define SYNACK_TOOLS_CONNECT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "net.h"

struct connect_opts {
	struct net_opts net;
	struct synack_endpoint peer;
	int have_peer;
	const char *send_file;
	uint64_t send_bytes;
	int have_send_bytes;
	const char *output;
	int wait_eof;
	int64_t close_after_ms;     /* -1: not given */
	int64_t connect_timeout_ms; /* -1: not given (syn_retries decide) */
	int64_t idle_timeout_ms;    /* -1: not given */
	int fastopen;               /* --fastopen: TCP_FASTOPEN_CONNECT (RFC 7413) */
	int help;
};

/* Exit statuses besides 0 (done), 1 (a connection error), 2 (bad usage). */
#define CONNECT_EXIT_CONNECT_TIMEOUT 3 /* --connect-timeout-ms ran out */
#define CONNECT_EXIT_IDLE_TIMEOUT 4    /* --idle-timeout-ms ran out */

/* The flags of `synack connect` (tools/cli_parse.h; net.c's through its hook). */
struct cli_table;
extern const struct cli_table connect_cli;

void connect_opts_default(struct connect_opts *o);
int connect_parse_args(int argc, char **argv, struct connect_opts *o, char *err, size_t errlen);
void connect_usage(FILE *out);
/* Returns the exit status: 0 the exchange completed, 1 a connection error, 2 bad usage,
 * 3 and 4 the timeouts above. */
int connect_main(const struct connect_opts *o);

#endif
