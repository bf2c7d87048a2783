/*
 * `synack serve`: a synack stack on a TUN/TAP device, listening on one port
 * with an application (echo, discard, http) on every connection.  Event
 * driven: one run loop, readiness from synack_event_next(), any number of
 * connections.
 */
#ifndef SYNACK_TOOLS_SERVE_H
#define SYNACK_TOOLS_SERVE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "net.h"

struct serve_opts {
	struct net_opts net;
	int app;  /* enum app_kind */
	int port; /* -1: the app's default */
	uint64_t http_size;
	double stats_every; /* seconds; 0: never */
	int help;
};

void serve_opts_default(struct serve_opts *o);
/* 0, or -1 with a sentence in err (bad flag, value, missing flag). */
int serve_parse_args(int argc, char **argv, struct serve_opts *o, char *err, size_t errlen);
void serve_usage(FILE *out);
/* Runs until SIGINT/SIGTERM; returns the exit status (0, 1, 2 with a line on stderr). */
int serve_main(const struct serve_opts *o);

#endif
