/*
 * The scenarios of `synack demo`: the table of every scenario (name, one line
 * of description, the moral printed at the end) and, for the two-host ones
 * (whose timeline is the built-in file examples/scenarios/NAME.synack), the
 * checks run on the finished run.
 * The attack scenarios are in the table too: their files have `trace off`
 * and hold their own checks (crowd.c runs them).
 */
#ifndef SYNACK_TOOLS_DEMO_SCENARIOS_H
#define SYNACK_TOOLS_DEMO_SCENARIOS_H

#include <stddef.h>

#include "demo.h"

struct demo;
struct demo_scenario {
	struct demo_scenario_info info;
	const char *moral;             /* what the run showed, printed at the end */
	void (*check)(struct demo *d); /* the checks of examples/scenarios/NAME.synack's run */
	int crowd; /* 1: a file with trace off (crowd.h), judged by its own checks */
};

/* The ith scenario of the table (i < demo_scenario_count()). */
const struct demo_scenario *demo_scenario_at(size_t i);

#endif
