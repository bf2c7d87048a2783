/*
 * The `synack demo` command: its options, the scenario list, and demo_run,
 * which runs a two-host scenario's built-in file (script_run.c, on the
 * engine of demo_engine.c) with its checks (demo_scenarios.c), or an attack's
 * (crowd.c, with the file's checks), and writes the run as a ladder
 * (render.c) or as JSON lines,
 * each followed by its summary.
 */
#include "demo.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "capture.h"
#include "cli.h"
#include "cli_parse.h"
#include "demo_checks.h"
#include "demo_engine.h"
#include "demo_scenarios.h"
#include "html.h"
#include "render.h"
#include "script.h"

/* ------------------------------------------------------------------ */
/* Options.                                                            */

void demo_opts_default(struct demo_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->scenario = "handshake";
	o->seed = 1;
	o->delay_ms = -1;
	o->time_wait_ms = -1;
	o->fin_timeout_ms = -1;
	o->count = -1;
	o->clients = -1;
}

void demo_usage(FILE *out)
{
	fputs(
	    "usage: synack demo [SCENARIO] [--seed N] [--loss P] [--dup P] [--reorder P]\n"
	    "                   [--delay-ms N] [--time-wait-ms N] [--fin-timeout-ms N] [--json]\n"
	    "                   [--svg FILE] [--html FILE] [--pcap FILE] [--ipv6]\n"
	    "       synack demo --list\n"
	    "\n"
	    "Runs two synack stacks (client 10.0.0.1, server 10.0.0.2) over the simulated\n"
	    "network on a virtual clock and draws what happens as a ladder diagram, or as\n"
	    "JSON lines with --json.  SCENARIO defaults to handshake.  Most scenarios are\n"
	    "scripts built in from examples/scenarios/NAME.synack; synack script runs your\n"
	    "own (docs/SCRIPTS.md).\n"
	    "\n"
	    "  --seed N            seed of the network and of both hosts' secrets (default 1)\n"
	    "  --loss P            probability a datagram is lost, each direction (0..1)\n"
	    "  --dup P             probability a datagram is duplicated (0..1)\n"
	    "  --reorder P         probability a datagram is held back and overtaken (0..1)\n"
	    "  --delay-ms N        one-way delay in milliseconds (default 10)\n"
	    "  --time-wait-ms N    TIME_WAIT length of both hosts (default: the stack's, 60000)\n"
	    "  --fin-timeout-ms N  orphaned FIN_WAIT_2 lifetime (default: the stack's, 60000)\n"
	    "  --count N           attack scenarios: forged segments (syn-flood, ack-flood:\n"
	    "                      1000000; blind-*: one sweep of the sequence space per client)\n"
	    "  --clients N         attack scenarios: legitimate clients (floods 1000, blind-* 4)\n"
	    "  --json              one JSON object per line; the last is the summary\n"
	    "  --svg FILE          also draw the run as a ladder diagram in FILE (SVG)\n"
	    "  --html FILE         also write one self-contained page with the picture and a\n"
	    "                      table of the events\n"
	    "  --pcap FILE         also capture every datagram of both hosts, stamped with the\n"
	    "                      virtual time, as a pcap file (raw IP)\n"
	    "  --ipv6              the hosts speak IPv6 (2001:db8::1, 2001:db8::2; the attack\n"
	    "                      scenarios' clients 2001:db8:1::/64, their forgeries IPv6)\n"
	    "  --list              list the scenarios\n"
	    "\n"
	    "Exit status: 0 when the scenario showed what it should, 1 when not, 2 on bad usage.\n",
	    out);
}

void demo_list(FILE *out)
{
	for (size_t i = 0; i < demo_scenario_count(); i++)
		fprintf(out, "%-22s %s\n", demo_scenario_info(i)->name,
		        demo_scenario_info(i)->description);
}

/* The scenario: one, by its name. */
static int demo_positional(void *opts, const char *a, char *err, size_t errlen)
{
	struct demo_opts *o = opts;
	if (o->have_scenario) {
		snprintf(err, errlen, "only one scenario at a time ('%s' and '%s')", o->scenario,
		         a);
		return -1;
	}
	if (demo_scenario_find(a) < 0) {
		snprintf(err, errlen, "unknown scenario '%s' (synack demo --list shows them)", a);
		return -1;
	}
	o->scenario = a;
	o->have_scenario = 1;
	return 0;
}

#define MS "a whole number of milliseconds"
#define O(n, k, f) CLI_OPT(struct demo_opts, n, k, f)
static const struct cli_opt DEMO_FLAGS[] = {
    {O("--seed", CLI_U64, seed), .max = UINT64_MAX},
    {O("--loss", CLI_PROB, loss)},
    {O("--dup", CLI_PROB, dup)},
    {O("--reorder", CLI_PROB, reorder)},
    {O("--delay-ms", CLI_I64, delay_ms), .max = UINT32_MAX / 1000, .what = MS},
    {O("--time-wait-ms", CLI_I64, time_wait_ms), .max = UINT32_MAX, .what = MS},
    {O("--fin-timeout-ms", CLI_I64, fin_timeout_ms), .max = UINT32_MAX, .what = MS},
    {O("--count", CLI_I64, count), .max = 100000000},
    {O("--clients", CLI_I64, clients), .min = 1, .max = 60000, .low = "at least 1"},
    {O("--svg", CLI_PATH, svg)},
    {O("--html", CLI_PATH, html)},
    {O("--pcap", CLI_PATH, pcap)},
    {O("--ipv6", CLI_SWITCH, ipv6)},
    {O("--json", CLI_SWITCH, json)},
    {O("--list", CLI_SWITCH, list)},
};

const struct cli_table demo_cli = {
    CLI_ROWS(DEMO_FLAGS),           .unknown = "unknown option",
    .hint = "(synack demo --help)", .help = CLI_SEEN(struct demo_opts, help),
    .positional = demo_positional,
};
#undef O
#undef MS

int demo_parse_args(int argc, char **argv, struct demo_opts *o, char *err, size_t errlen)
{
	return cli_parse(&demo_cli, o, argc, argv, err, errlen) < 0 ? -1 : 0;
}

/* ------------------------------------------------------------------ */
/* The run and its summaries.                                          */

struct ss_ctx {
	FILE *out;
	const char *host;
	uint64_t now;
	int json;
	int first;
};

static void ss_line(void *ctx, const struct synack_conn *c)
{
	struct ss_ctx *x = ctx;
	char l[64], r[64]; /* IPv6 endpoints: up to 48 bytes */
	synack_endpoint_str(&c->local, l, sizeof(l));
	if (cli_endpoint_addr_is_any(&c->remote) && c->remote.port == 0)
		snprintf(r, sizeof(r), "*:*");
	else
		synack_endpoint_str(&c->remote, r, sizeof(r));
	uint64_t age = x->now >= c->state_since_us ? x->now - c->state_since_us : 0;
	if (x->json) {
		fprintf(x->out,
		        "%s{\"state\":\"%s\",\"local\":\"%s\",\"peer\":\"%s\",\"age_us\":%llu",
		        x->first ? "" : ",", synack_state_name(c->state), l, r,
		        (unsigned long long)age);
		/* A connection that sends: its window, RTT and algorithm. */
		if (c->congestion[0])
			fprintf(x->out, ",\"cwnd\":%u,\"rtt_us\":%u,\"congestion\":\"%s\"", c->cwnd,
			        c->srtt_us, c->congestion);
		fputc('}', x->out);
		x->first = 0;
		return;
	}
	fprintf(x->out, "  %-7s %-12s %-22s %-22s %6u %6u %11.3f s%s", x->host,
	        synack_state_name(c->state), l, r, (unsigned)c->recv_queue, (unsigned)c->send_queue,
	        (double)age / 1e6, c->socket < 0 ? "  (orphan)" : "");
	/* As `ss -ti`, on a line of its own: the algorithm, cwnd (bytes
	 * here) and the RTT. */
	if (c->congestion[0])
		fprintf(x->out, "\n\t %s cwnd:%u rtt:%.3fms", c->congestion, c->cwnd,
		        (double)c->srtt_us / 1000.0);
	fputc('\n', x->out);
}

static void print_ss(struct demo *d, FILE *out)
{
	fprintf(out, "\nss at %.3f ms:\n", (double)demo_now(d) / 1000.0);
	fprintf(out, "  %-7s %-12s %-22s %-22s %6s %6s %13s\n", "host", "State", "Local", "Peer",
	        "Recv-Q", "Send-Q", "Age");
	for (int h = 0; h < 2; h++) {
		struct ss_ctx x = {out, demo_host_name(h), demo_now(d), 0, 1};
		if (synack_conns(d->st[h], ss_line, &x) == 0)
			fprintf(out, "  %-7s (no connections)\n", demo_host_name(h));
	}
}

static const char *const SUMMARY_COUNTERS[] = {
    "ActiveOpens",      "PassiveOpens",    "AttemptFails",     "EstabResets",
    "OutSegs",          "InSegs",          "RetransSegs",      "OutRsts",
    "TimeWaitEntered",  "TimeWaitExpired", "FinWait2Timeouts", "OrphanRetriesExceeded",
    "DelayedFinQueued", "OfoQueued",       "ChallengeAcks",
};

static void json_summary(struct demo *d, FILE *out)
{
	struct demo_result *r = d->res;
	char path[512];
	fprintf(out,
	        "{\"ev\":\"summary\",\"ok\":%s,\"scenario\":\"%s\",\"seed\":%llu,\"t_us\":%llu",
	        r->ok ? "true" : "false", r->scenario, (unsigned long long)d->o->seed,
	        (unsigned long long)r->end_us);
	for (int h = 0; h < 2; h++) {
		fprintf(out, ",\"%s\":{\"iss\":%lu,\"states\":", demo_host_name(h),
		        (unsigned long)r->host[h].iss);
		render_json_string(out, demo_state_path(r, h, path, sizeof(path)));
		fprintf(out, ",\"conns\":[");
		struct ss_ctx x = {out, demo_host_name(h), demo_now(d), 1, 1};
		synack_conns(d->st[h], ss_line, &x);
		fprintf(out, "],\"counters\":{");
		for (size_t i = 0; i < sizeof(SUMMARY_COUNTERS) / sizeof(SUMMARY_COUNTERS[0]); i++)
			fprintf(out, "%s\"%s\":%llu", i ? "," : "", SUMMARY_COUNTERS[i],
			        (unsigned long long)demo_counter(d, h, SUMMARY_COUNTERS[i]));
		fprintf(out, "}}");
	}
	fprintf(out, ",\"capped\":%s,\"checks\":[", r->capped ? "true" : "false");
	for (size_t i = 0; i < r->nchecks; i++) {
		fprintf(out, "%s{\"ok\":%s,\"what\":", i ? "," : "",
		        r->checks[i].ok ? "true" : "false");
		render_json_string(out, r->checks[i].what);
		fputc('}', out);
	}
	fputs("]}\n", out);
}

/* Prints text as lines of at most width columns, broken at spaces; the first
 * line starts with `first`, the others with as many spaces. */
static void print_wrapped(FILE *out, const char *first, const char *text, int width)
{
	const char *p = text;
	int indent = (int)strlen(first);
	int avail = width - indent;
	fputs(first, out);
	while (*p) {
		int n = (int)strlen(p);
		if (n > avail) {
			n = avail;
			while (n > 0 && p[n] != ' ')
				n--;
			if (n == 0)
				n = avail;
		}
		fprintf(out, "%.*s\n", n, p);
		p += n;
		while (*p == ' ')
			p++;
		if (*p)
			fprintf(out, "%*s", indent, "");
	}
}

static void ladder_summary(struct demo *d, FILE *out)
{
	struct demo_result *r = d->res;
	char path[512];
	if (d->show_ss)
		print_ss(d, out);
	fputc('\n', out);
	print_wrapped(out, "", d->sc->moral, 90);
	fputc('\n', out);
	for (int h = 0; h < 2; h++) {
		/* One line per host; a host with several connections (their
		 * paths joined by "; ") goes on over more lines past 96
		 * columns, breaking after a "; ". */
		const char *p = demo_state_path(r, h, path, sizeof(path));
		int col = fprintf(out, "  %s: ", demo_host_name(h));
		int indent = col;
		while (*p) {
			const char *semi = strstr(p, "; ");
			size_t n = semi ? (size_t)(semi - p) + 1 : strlen(p);
			if (col > indent && col + (int)n > 96)
				col = fprintf(out, "\n%*s", indent, "") - 1;
			col += fprintf(out, "%s%.*s", col > indent ? " " : "", (int)n, p);
			p += n;
			if (*p == ' ')
				p++;
		}
		fputc('\n', out);
	}
	fputc('\n', out);
	for (size_t i = 0; i < r->nchecks; i++)
		print_wrapped(out, r->checks[i].ok ? "  ok     " : "  FAILED ", r->checks[i].what,
		              96);
	if (r->capped)
		fprintf(out, "  FAILED the run hit its cap of virtual time or steps\n");
	fprintf(out, "\n%s\n", r->ok ? "ok" : "FAILED");
}

/* --svg and --html: the run as a picture (svg.h), and the page with it. */
static int write_pictures(struct demo *d)
{
	if (!d->o->svg && !d->o->html)
		return 0;
	char title[128];
	snprintf(title, sizeof(title), "synack demo %s (seed %llu)", d->sc->info.name,
	         (unsigned long long)d->o->seed);
	struct picture p = {
	    .log = &d->log,
	    .title = title,
	    .description = d->sc->info.description,
	    .client = d->ep[DEMO_CLIENT],
	    .server = d->ep[DEMO_SERVER],
	};
	return html_pictures(&p, d->o->svg, d->o->html, d->res->error, sizeof(d->res->error));
}

int demo_output(struct demo *d, FILE *out)
{
	if (out) {
		if (d->o->json) {
			render_json(out, &d->log);
			json_summary(d, out);
		} else {
			struct render_ladder_info info = {d->sc->info.name, d->sc->info.description,
			                                  d->o->seed, d->ep[DEMO_CLIENT],
			                                  d->ep[DEMO_SERVER]};
			render_ladder(out, &d->log, &info);
			ladder_summary(d, out);
		}
	}
	return write_pictures(d) != 0 ? -EIO : 0;
}

int demo_run(const struct demo_opts *o, FILE *out, struct demo_result *res)
{
	struct demo_opts defaults;
	if (!o) {
		demo_opts_default(&defaults);
		o = &defaults;
	}
	memset(res, 0, sizeof(*res));
	const char *name = o->scenario ? o->scenario : "handshake";
	int idx = demo_scenario_find(name);
	if (idx < 0) {
		snprintf(res->error, sizeof(res->error), "unknown scenario '%s'", name);
		return -EINVAL;
	}
	if (!(o->loss >= 0 && o->loss <= 1 && o->dup >= 0 && o->dup <= 1 && o->reorder >= 0 &&
	      o->reorder <= 1)) {
		snprintf(res->error, sizeof(res->error), "probabilities must be in [0, 1]");
		return -EINVAL;
	}
	const struct demo_scenario *sc = demo_scenario_at((size_t)idx);
	if (sc->crowd && (o->svg || o->html || o->pcap)) {
		snprintf(res->error, sizeof(res->error),
		         "--svg, --html and --pcap show the two-host scenarios, not '%s' (its "
		         "thousands of hosts fit no ladder)",
		         name);
		return -EINVAL;
	}
	/* Every scenario is a file, examples/scenarios/NAME.synack (issue 18),
	 * built in; a two-host one's C checks judge the run, an attack's
	 * (trace off) its own. */
	return script_demo_run(o, sc, out, res);
}
