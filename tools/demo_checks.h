/*
 * The checks of `synack demo`'s scenarios: they read what the engine
 * collected in a finished run (the state transitions of each host, the trace
 * records in the log, the counters) and record each fact a scenario is meant
 * to show as a sentence and whether it held (demo_result_check, in demo.h).
 */
#ifndef SYNACK_TOOLS_DEMO_CHECKS_H
#define SYNACK_TOOLS_DEMO_CHECKS_H

#include <stdint.h>

#include "demo_engine.h"
#include "render.h"

/* "client" or "server". */
const char *demo_host_name(int h);

/* The nth (0-based) transition of host h into state `to`, or NULL. */
const struct demo_transition *demo_trans(struct demo *d, int h, int to, int nth);
/* The nth (0-based) trace record of host h of kind `kind` whose flags include
 * `all` and none of `none`, with payload when data > 0 and none when data < 0. */
const struct render_event *demo_seg(struct demo *d, int h, int kind, uint8_t all, uint8_t none,
                                    int data, int nth);
/* How many trace records demo_seg would find with the same arguments. */
int demo_seg_count(struct demo *d, int h, int kind, uint8_t all, uint8_t none, int data);
/* The counter called name of host h at the end of the run, or UINT64_MAX. */
uint64_t demo_counter(struct demo *d, int h, const char *name);
/* The same, from a result (a comparison run's). */
uint64_t demo_result_counter(const struct demo_result *r, int h, const char *name);

/* Host h went through exactly the states `want` (as demo_state_path writes them). */
void demo_check_path(struct demo *d, int h, const char *want);
/* Host h received exactly the string want. */
void demo_check_bytes(struct demo *d, int h, const char *want);
/* Counter name of host h ended at want. */
void demo_check_counter(struct demo *d, int h, const char *name, uint64_t want);
/* Host h's first visit of state st lasted want_us, the value of setting. */
void demo_check_timed_state(struct demo *d, int h, int st, uint64_t want_us, const char *setting);
/* Host h left TIME_WAIT time_wait_ms after entering it or after the last FIN. */
void demo_check_time_wait(struct demo *d, int h);
/* Host a closed actively and p passively with four separate segments. */
void demo_check_four_way(struct demo *d, int a, int p);
/* Both hosts sent a SYN, with different non-zero ISNs. */
void demo_check_isns(struct demo *d);

#endif
