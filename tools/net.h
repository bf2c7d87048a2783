/*
 * What `synack serve` and `synack connect` share: the flags that choose and
 * impair the device (--dev, --tap/--tun, --addr, --pcap, --loss, --dup,
 * --reorder, --delay-ms, --seed), opening the link, the stack and the run
 * loop (SIGINT and SIGTERM watched), and the ss-like stats block.
 */
#ifndef SYNACK_TOOLS_NET_H
#define SYNACK_TOOLS_NET_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "synack/link.h"
#include "synack/run.h"
#include "synack/synack.h"

#define NET_MAX_DELAY_MS 60000

struct net_opts {
	const char *dev;
	int kind; /* SYNACK_LINK_TAP, SYNACK_LINK_TUN; 0 until given */
	uint32_t addr, prefix_len;
	int have_addr;
	const char *pcap;
	double loss, dup, reorder;
	int64_t delay_ms;
	uint64_t seed;
};

struct net_env {
	struct synack_link *link;
	struct synack_stack *st;
	struct synack_run *run;
};

void net_opts_default(struct net_opts *o);
/*
 * If argv[*i] is one of the shared flags, takes it (and its value) and
 * returns 1; returns 0 when it is not one of them, -1 with a sentence in err
 * when its value is bad.
 */
int net_parse_flag(int argc, char **argv, int *i, struct net_opts *o, char *err, size_t errlen);
/* After all flags: -1 with a sentence when --dev, --tap/--tun or --addr is missing. */
int net_check(const struct net_opts *o, char *err, size_t errlen);
/* "A.B.C.D/NN" with NN in 1..32. */
int net_parse_cidr(const char *s, uint32_t *addr, uint32_t *prefix_len);
/* Usage lines of the shared flags. */
void net_usage(FILE *out);

/*
 * Opens the device, the capture, the stack (secret from getrandom, MTU
 * from the device; trace_capacity as given) and the run loop, with SIGINT
 * and SIGTERM watched.  Returns 0, or a negative errno with a sentence in
 * err; nothing is left open on failure.
 */
int net_open(const struct net_opts *o, uint32_t trace_capacity, struct net_env *env, char *err,
             size_t errlen);
void net_close(struct net_env *env);

/*
 * The stats block: "--- synack stats at T s: N connections (STATE n, ...)",
 * the ss-like table, the counter lines, a blank line.
 */
void net_print_stats(FILE *out, struct net_env *env);
/* "LISTEN 1, TIME_WAIT 2" style counts into buf; returns the total. */
size_t net_state_counts(struct synack_stack *st, size_t counts[SYNACK_STATE_COUNT]);

#endif
