/*
 * `synack serve`: a synack stack on a TUN/TAP device, listening on one or
 * more ports, each with an application (echo, discard, http) on every
 * connection it accepts.  Event driven: one run loop, readiness from
 * synack_event_next(), any number of connections.
 */
#ifndef SYNACK_TOOLS_SERVE_H
#define SYNACK_TOOLS_SERVE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "net.h"

#define SERVE_MAX_LISTEN 64
#define SERVE_MAX_THREADS 256 /* the queues of a TUN/TAP device */

struct serve_listen {
	int app;       /* enum app_kind */
	uint16_t port; /* 1..65535 */
};

struct serve_opts {
	struct net_opts net;
	int app;  /* --app: enum app_kind, 0 when not given */
	int port; /* --port: -1 until given (then the app's default) */
	/* Every listener: --listen PORT:APP in order, then --app/--port;
	 * complete after serve_parse_args(). */
	struct serve_listen listen[SERVE_MAX_LISTEN];
	size_t nlisten;
	uint64_t http_size;
	double stats_every; /* seconds; 0: never */
	int json;           /* --json: the stats blocks as JSON objects */
	uint64_t drain_ms;  /* --drain-ms: how long responses may finish at a stop */
	int help;
	/* --threads N (issue 16 item 3): N stacks on N queues of a
	 * multi-queue device, one thread each (1: one stack, no thread). */
	unsigned threads;
};

/* The flags of `synack serve` (tools/cli_parse.h; net.c's through its hook). */
struct cli_table;
extern const struct cli_table serve_cli;

void serve_opts_default(struct serve_opts *o);
/* 0, or -1 with a sentence in err (bad flag, value, missing flag). */
int serve_parse_args(int argc, char **argv, struct serve_opts *o, char *err, size_t errlen);
void serve_usage(FILE *out);
/*
 * Runs until SIGINT/SIGTERM; returns the exit status (0, 1, 2 with a line on
 * stderr).  The first signal stops accepting and lets the connections busy
 * sending finish for up to drain_ms (idle ones get a FIN at once), then
 * aborts what is left with RSTs; a second signal aborts at once (status 1).
 */
int serve_main(const struct serve_opts *o);

#endif
