/*
 * The scenarios of `synack demo`: the table of every scenario (name, one line
 * of description, the moral printed at the end) and, for the scripted ones,
 * the script that drives the engine and the checks run on the finished run.
 * The attack scenarios are in the table too; attack.c runs them.
 */
#ifndef SYNACK_TOOLS_DEMO_SCENARIOS_H
#define SYNACK_TOOLS_DEMO_SCENARIOS_H

#include <stddef.h>

#include "demo.h"

struct demo;
struct demo_scenario {
	struct demo_scenario_info info;
	const char *moral;             /* what the run showed, printed at the end */
	void (*run)(struct demo *d);   /* the script; NULL: examples/scenarios/NAME.synack */
	void (*check)(struct demo *d); /* its checks, on the finished run */
	int attack;                    /* enum attack_kind: run by attack.c, not scripted */
};

/* The ith scenario of the table (i < demo_scenario_count()). */
const struct demo_scenario *demo_scenario_at(size_t i);
/* The fastopen setting both hosts of scenario sc run with (0: the default). */
unsigned demo_scenario_fastopen(const struct demo_scenario *sc);

#endif
