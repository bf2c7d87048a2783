/*
 * `synack demo`: scripted scenarios that run two synack stacks (a client at
 * 10.0.0.1 and a server at 10.0.0.2) over the simulated network and show, from
 * the trace, what each point of the article looks like on the wire.
 *
 * A scenario is a small C script of application calls driven by readiness.
 * The engine collects every trace record of both stacks, every application
 * call and every fate of a datagram (from the sim tap), then renders them in
 * virtual-time order as a ladder diagram or as JSON lines, and checks the
 * facts the scenario is meant to show.
 *
 * This header is the public face of the demo, used by the CLI, transfer.c,
 * attack.c and the tests.  Behind it: demo.c (the command: options, list,
 * demo_run and its summaries), demo_engine.c (the engine), demo_checks.c
 * (the checks, demo_result_check, demo_state_path, demo_figure) and
 * demo_scenarios.c (the scenario table and each scenario's checks; the
 * timelines are examples/scenarios/NAME.synack, run by script_run.c).
 */
#ifndef SYNACK_TOOLS_DEMO_H
#define SYNACK_TOOLS_DEMO_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "synack/synack.h"

#define DEMO_CLIENT 0
#define DEMO_SERVER 1

/* What the user asked for.  A negative *_ms means "not given". */
struct cli_table;

struct demo_opts {
	const char *scenario;      /* NULL: "handshake" */
	uint64_t seed;             /* default 1 */
	double loss, dup, reorder; /* per path, both directions */
	int64_t delay_ms;          /* one-way delay; default 10 */
	int64_t time_wait_ms;      /* both stacks; default: the stack default */
	int64_t fin_timeout_ms;    /* both stacks; default: the stack default */
	int64_t count;             /* attack scenarios: forged segments; default per scenario */
	int64_t clients;           /* attack scenarios: legitimate clients; default per scenario */
	int json;                  /* JSON lines instead of the ladder */
	int list;                  /* --list */
	int help;                  /* --help */
	/* Pictures and the capture (svg.h, html.h, capture.h); NULL: none. */
	const char *svg, *html, *pcap;
	int ipv6;          /* --ipv6: both hosts speak IPv6, 2001:db8::1 and ::2 (issue 14) */
	int have_scenario; /* a SCENARIO was given */
};

/* The flags of `synack demo` (tools/cli_parse.h). */
extern const struct cli_table demo_cli;

void demo_opts_default(struct demo_opts *o);
/*
 * Parses the arguments after "demo".  Returns 0, or -1 and a sentence in err
 * for an unknown scenario, an unknown flag, a missing value or a bad value.
 */
int demo_parse_args(int argc, char **argv, struct demo_opts *o, char *err, size_t errlen);
/* Usage text of `synack demo`. */
void demo_usage(FILE *out);
/* Writes the scenario list, one name and one line of description each. */
void demo_list(FILE *out);

struct demo_scenario_info {
	const char *name;
	const char *description;
};
size_t demo_scenario_count(void);
const struct demo_scenario_info *demo_scenario_info(size_t i);
/* Index of the scenario called name, or -1. */
int demo_scenario_find(const char *name);

#define DEMO_MAX_TRANSITIONS 64
#define DEMO_MAX_CHECKS 32

/* One state change of one connection of a host. */
struct demo_transition {
	uint64_t t_us;
	struct synack_endpoint local, remote;
	uint8_t from, to, cause;
};

struct demo_host_result {
	struct demo_transition tr[DEMO_MAX_TRANSITIONS];
	size_t ntr;
	uint32_t iss; /* ISS of the host's first SYN, 0 if it sent none */
	int sent_syn;
	struct synack_stats stats; /* counters at the end of the run */
};

struct demo_check {
	char what[120];
	int ok;
};

#define DEMO_MAX_FIGURES 32

struct demo_figure {
	char name[32]; /* a JSON key of the summary: "legit_ok" */
	uint64_t value;
};

struct demo_result {
	int ok; /* every check held */
	char scenario[32];
	uint64_t end_us; /* virtual time at the end */
	int capped;      /* the run hit the virtual-time or step cap */
	struct demo_host_result host[2];
	struct demo_check checks[DEMO_MAX_CHECKS];
	size_t nchecks;
	char error[200]; /* set when demo_run fails to run at all */
	/* Attack scenarios: the figures of the summary, by name, in order. */
	struct demo_figure figures[DEMO_MAX_FIGURES];
	size_t nfigures;
};

/* Records a check: its sentence (printf-style) and whether it held; one
 * that failed makes the whole result fail. */
void demo_result_check(struct demo_result *res, int ok, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The value of the attack figure called name, or UINT64_MAX. */
uint64_t demo_figure(const struct demo_result *res, const char *name);

/*
 * Runs the scenario and writes its rendering to out (which may be NULL).
 * Returns 0 when it ran (res->ok says whether its checks held), or a
 * negative errno with res->error set (bad option values, out of memory).
 */
int demo_run(const struct demo_opts *o, FILE *out, struct demo_result *res);

/*
 * Writes a host's state path into buf: one chain per connection in order of
 * first appearance, "FROM>TO>TO...", connections separated by "; ".  Returns buf.
 */
const char *demo_state_path(const struct demo_result *res, int host, char *buf, size_t len);

#endif
