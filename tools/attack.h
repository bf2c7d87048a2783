/*
 * The attack scenarios of `synack demo` (syn-flood, blind-reset, blind-data,
 * ack-flood): many legitimate clients and an off-path attacker against one
 * server on the simulated network.  They print a summary of named figures,
 * not a ladder: a million segments do not make a readable diagram.
 */
#ifndef SYNACK_TOOLS_ATTACK_H
#define SYNACK_TOOLS_ATTACK_H

#include <stdint.h>
#include <stdio.h>

#include "core/addr.h"
#include "core/rng.h"
#include "demo.h"

enum attack_kind {
	ATTACK_NONE = 0,
	ATTACK_SYN_FLOOD,
	ATTACK_BLIND_RESET,
	ATTACK_BLIND_DATA,
	ATTACK_ACK_FLOOD,
};

/* Defaults of --clients and --count for a scenario. */
uint64_t attack_default_clients(int kind);
uint64_t attack_default_count(int kind, uint64_t clients);

/* Runs the scenario; the demo_run contract (0, or a negative errno with
 * res->error set). */
int attack_run(const struct demo_opts *o, int kind, const char *moral, FILE *out,
               struct demo_result *res);

/* A forged source no host of a run owns, drawn from rng: IPv4 outside
 * 10/8, 0/8, 127/8 and multicast/reserved; IPv6 (v6) in 2001:db8:8000::/33.
 * The attack scenarios and the scripts' `flood` use it. */
struct addr attack_spoofed_source(struct rng *rng, int v6);

#endif
