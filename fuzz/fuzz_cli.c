/*
 * fuzz_cli: the command-line parsers of the tools on any arguments.
 *
 * The input is split at NUL bytes into at most 32 arguments, which go to
 * the argument parsers of `synack demo`, `synack transfer`, `synack serve`,
 * `synack connect` and `synack run` and, one by one, to the value parsers they share,
 * to `--set`'s, to synack_endpoint_parse and synack_prefix_parse.  Nothing may crash or read
 * past an argument; a refusal must come with a sentence; what is accepted
 * must be in range (settings accepted by serve and connect pass
 * synack_config_check), and an endpoint must print and parse back to
 * itself.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "apps.h"
#include "cli.h"
#include "connect.h"
#include "demo.h"
#include "fuzz.h"
#include "run.h"
#include "serve.h"
#include "settings.h"
#include "transfer.h"

#define MAX_ARGS 32

static void check_sentence(int rc, const char *err, const char *what)
{
	if (!memchr(err, '\0', 200))
		fuzz_fail("%s: the error sentence is not terminated", what);
	if (rc != 0 && err[0] == '\0')
		fuzz_fail("%s: refused without a sentence", what);
}

/* The settings serve or connect accepted are ones the stack takes. */
static void check_settings(const struct net_opts *o, const char *what)
{
	struct synack_config cfg = o->cfg;
	cfg.addr = o->addr;
	if (synack_config_check(&cfg, NULL, 0) != 0)
		fuzz_fail("%s: settings synack_config_check refuses were accepted", what);
	struct synack_link_config lc = o->link;
	lc.addr = o->addr;
	lc.prefix_len = o->prefix_len;
	if (synack_link_config_check(&lc, NULL, 0) != 0)
		fuzz_fail("%s: link settings synack_link_config_check refuses were accepted", what);
}

static void one_value(const char *a)
{
	uint64_t u;
	double d;
	if (cli_parse_u64(a, 1000, &u) == 0 && u > 1000)
		fuzz_fail("cli_parse_u64 gave %llu above 1000", (unsigned long long)u);
	if (cli_parse_prob(a, &d) == 0 && !(d >= 0 && d <= 1))
		fuzz_fail("cli_parse_prob gave %g", d);
	if (cli_parse_double(a, -5, 5, &d) == 0 && !(d >= -5 && d <= 5))
		fuzz_fail("cli_parse_double gave %g outside -5..5", d);
	if (cli_parse_bytes(a, 1u << 30, &u) == 0 && u > 1u << 30)
		fuzz_fail("cli_parse_bytes gave %llu above 2^30", (unsigned long long)u);
	if (cli_parse_time_ms(a, 86400000, &u) == 0 && u > 86400000)
		fuzz_fail("cli_parse_time_ms gave %llu above a day", (unsigned long long)u);
	/* A setting written and read back is the value given, in the
	 * row's unit. */
	struct synack_config cfg;
	synack_config_default(&cfg);
	char err[200];
	memset(err, 0, sizeof(err));
	int row = settings_parse("--set", a, &cfg, err, sizeof(err));
	check_sentence(row < 0 ? -1 : 0, err, "settings_parse");
	if (row >= 0) {
		const struct setting *r = settings_at((size_t)row);
		char back[64], again[64];
		settings_str(r, &cfg, back, sizeof(back));
		struct synack_config cfg2;
		synack_config_default(&cfg2);
		if (settings_set("--set", r, back, &cfg2, err, sizeof(err)) != 0)
			fuzz_fail("setting %s: '%s' does not parse back", r->name, back);
		settings_str(r, &cfg2, again, sizeof(again));
		if (strcmp(back, again) != 0)
			fuzz_fail("setting %s: '%s' reads back as '%s'", r->name, back, again);
	}
	/* The same for a link setting (serve, connect, run --set). */
	struct synack_link_config lc, lc2;
	const struct setting *lrow;
	synack_link_config_default(&lc);
	memset(err, 0, sizeof(err));
	int link = settings_parse_link("--set", a, &cfg, &lc, &lrow, err, sizeof(err));
	check_sentence(link < 0 ? -1 : 0, err, "settings_parse_link");
	if (link == 1) {
		char back[64], again[64];
		link_settings_str(lrow, &lc, back, sizeof(back));
		synack_link_config_default(&lc2);
		if (link_settings_set("--set", lrow, back, &lc2, err, sizeof(err)) != 0)
			fuzz_fail("link setting %s: '%s' does not parse back", lrow->name, back);
		link_settings_str(lrow, &lc2, again, sizeof(again));
		if (strcmp(back, again) != 0)
			fuzz_fail("link setting %s: '%s' reads back as '%s'", lrow->name, back,
			          again);
	}
	/* A prefix (--addr, --route) prints and parses back to itself. */
	struct synack_prefix pf, pf2;
	if (synack_prefix_parse(a, &pf) == 0) {
		char buf[64]; /* the longest IPv6 prefix, "x:...:x/128", fits 44 */
		synack_prefix_str(&pf, buf, sizeof(buf));
		if (pf.len > (pf.family == SYNACK_AF_INET6 ? 128 : 32) ||
		    synack_prefix_parse(buf, &pf2) != 0 || pf2.family != pf.family ||
		    pf2.addr != pf.addr || memcmp(pf2.addr6, pf.addr6, sizeof(pf.addr6)) != 0 ||
		    pf2.len != pf.len)
			fuzz_fail("prefix '%s' prints as '%s', which does not parse back", a, buf);
	}
	struct synack_endpoint ep, back;
	if (synack_endpoint_parse(a, &ep) == 0) {
		char buf[48]; /* the longest IPv6 endpoint and its NUL (synack.h) */
		synack_endpoint_str(&ep, buf, sizeof(buf));
		if (synack_endpoint_parse(buf, &back) != 0 || back.family != ep.family ||
		    back.addr != ep.addr || memcmp(back.addr6, ep.addr6, sizeof(ep.addr6)) != 0 ||
		    back.port != ep.port)
			fuzz_fail("endpoint '%s' prints as '%s', which does not parse back", a,
			          buf);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* A private NUL-terminated copy, so every argument ends. */
	char *copy = malloc(size + 1);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	copy[size] = '\0';
	char *argv[MAX_ARGS + 1];
	int argc = 0;
	for (size_t i = 0; i <= size && argc < MAX_ARGS;) {
		argv[argc++] = copy + i;
		i += strlen(copy + i) + 1;
	}
	argv[argc] = NULL;

	char err[200];
	struct demo_opts d;
	demo_opts_default(&d);
	memset(err, 0, sizeof(err));
	int rc = demo_parse_args(argc, argv, &d, err, sizeof(err));
	check_sentence(rc, err, "demo");
	if (rc == 0 && !(d.loss >= 0 && d.loss <= 1 && d.dup >= 0 && d.dup <= 1 && d.reorder >= 0 &&
	                 d.reorder <= 1))
		fuzz_fail("demo: a probability outside [0, 1] was accepted");
	if (rc == 0 && d.scenario && demo_scenario_find(d.scenario) < 0)
		fuzz_fail("demo: unknown scenario '%s' accepted", d.scenario);

	struct transfer_opts t;
	transfer_opts_default(&t);
	memset(err, 0, sizeof(err));
	rc = transfer_parse_args(argc, argv, &t, err, sizeof(err));
	check_sentence(rc, err, "transfer");
	if (rc == 0 && !(t.loss >= 0 && t.loss <= 1 && t.dup >= 0 && t.dup <= 1 && t.reorder >= 0 &&
	                 t.reorder <= 1))
		fuzz_fail("transfer: a probability outside [0, 1] was accepted");
	if (rc == 0 && (t.bytes > TRANSFER_MAX_BYTES || isnan(t.bw_mbps)))
		fuzz_fail("transfer: bytes %llu or rate %g accepted", (unsigned long long)t.bytes,
		          t.bw_mbps);

	struct serve_opts so;
	serve_opts_default(&so);
	memset(err, 0, sizeof(err));
	rc = serve_parse_args(argc, argv, &so, err, sizeof(err));
	check_sentence(rc, err, "serve");
	if (rc == 0 && !so.help) {
		check_settings(&so.net, "serve");
		if (so.nlisten == 0 || so.nlisten > SERVE_MAX_LISTEN)
			fuzz_fail("serve: %zu listeners accepted", so.nlisten);
		for (size_t i = 0; i < so.nlisten; i++)
			if (so.listen[i].port == 0 || so.listen[i].app < APP_ECHO ||
			    so.listen[i].app > APP_HTTP)
				fuzz_fail("serve: listener %zu is port 0 or no app", i);
	}

	struct connect_opts co;
	connect_opts_default(&co);
	memset(err, 0, sizeof(err));
	rc = connect_parse_args(argc, argv, &co, err, sizeof(err));
	check_sentence(rc, err, "connect");
	if (rc == 0 && !co.help) {
		check_settings(&co.net, "connect");
		if (co.connect_timeout_ms == 0 || co.idle_timeout_ms == 0 ||
		    co.connect_timeout_ms > 86400000 || co.idle_timeout_ms > 86400000)
			fuzz_fail("connect: a timeout of %lld or %lld ms accepted",
			          (long long)co.connect_timeout_ms, (long long)co.idle_timeout_ms);
	}

	/* synack run (issue 15 item 5): at most one gateway (several
	 * addresses pass as a comma list), and a program that is one of the
	 * arguments. */
	struct run_opts ro;
	run_opts_default(&ro);
	memset(err, 0, sizeof(err));
	rc = run_parse_args(argc, argv, &ro, err, sizeof(err));
	check_sentence(rc, err, "run");
	if (rc == 0 && !ro.help) {
		check_settings(&ro.net, "run");
		if (ro.net.nroutes > 1 || ro.argc < 1 || ro.argv + ro.argc != argv + argc)
			fuzz_fail("run: %d addresses, %d routes or a program of %d words accepted",
			          ro.net.naddrs + 1, ro.net.nroutes, ro.argc);
	}

	for (int i = 0; i < argc; i++)
		one_value(argv[i]);
	free(copy);
	return 0;
}
