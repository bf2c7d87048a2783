/*
 * Scripts with `trace off` (docs/SCRIPTS.md, "Crowds and attacks at
 * scale"): one server and a crowd of client stacks running a built-in echo
 * application, off-path attackers flooding the server or sweeping the
 * crowd's connections, and a summary of named figures and checks instead of
 * a ladder.  `synack demo syn-flood`, `ack-flood`, `blind-reset` and
 * `blind-data` are such scripts (examples/scenarios).  The engine runs what
 * the file says; no scenario is written here.
 */
#ifndef SYNACK_TOOLS_CROWD_H
#define SYNACK_TOOLS_CROWD_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/addr.h"
#include "core/rng.h"
#include "demo.h"
#include "script.h"

#define CROWD_MAX_CLIENTS 60000     /* client stacks of one crowd */
#define CROWD_MAX_FORGED 100000000u /* segments of one flood or sweep */
#define CROWD_MAX_MSG 65536u        /* bytes of one echo */
#define CROWD_MAX_ROUNDS 1000000u   /* echoes of one client */
#define CROWD_MAX_CONDITIONS 8      /* comparisons of one expect figure */
#define CROWD_SWEEP_STEP 65535u     /* the largest window without scaling */

/* Looks a name of a figure expression up: 0 and its value, or -1. */
typedef int (*crowd_lookup_fn)(void *ctx, const char *name, size_t len, uint64_t *v);

/*
 * A figure expression, one word: sums of products of whole numbers and
 * names (1+syn_queue_max+clients, rounds_wanted*clients).  0 and the value
 * (sums and products saturate at UINT64_MAX); -1 when w is no expression
 * (*bad: the offset of the first character that does not fit), -2 when a
 * name is unknown to look (*bad: where the name starts, *badlen its length).
 */
int crowd_expr(const char *w, size_t len, crowd_lookup_fn look, void *ctx, uint64_t *v, size_t *bad,
               size_t *badlen);

/* 1 when name is a figure every crowd run has (clients, legit_ok ...),
 * a counter of synack (SyncookiesSent) or a drop reason (drop:paws). */
int crowd_known_name(const char *name, size_t len);

/*
 * Runs a script with `trace off` (s->trace_off) with demo's options (seed,
 * --ipv6, and --clients and --count over the file's crowd size and first
 * attack's count) and writes its summary to out (may be NULL); "synack demo"
 * or "synack script" (demo_mode) heads it.  Returns 0 when it ran
 * (res->ok: every expectation held; each that did not is written to errout
 * as FILE:LINE unless demo_mode), or a negative errno with res->error set.
 */
int crowd_run(const struct script *s, const struct demo_opts *o, int demo_mode, FILE *out,
              FILE *errout, struct demo_result *res);

/* A forged source no host of a run owns, drawn from rng: IPv4 outside
 * 10/8, 0/8, 127/8 and multicast/reserved; IPv6 (v6) in 2001:db8:8000::/33.
 * The crowd's floods and the two-host scripts' `flood` use it. */
struct addr crowd_spoofed_source(struct rng *rng, int v6);

#endif
