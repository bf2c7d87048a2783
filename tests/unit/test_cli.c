/*
 * The command-line tools' shared parsers (tools/cli.c), the settings table
 * of --set (tools/settings.c) against struct synack_config, the flags of
 * `synack serve` and `synack connect`, and `synack transfer` as a library
 * call: sizes and times with units, numbers at their limits, the
 * transfer's option rules, and runs whose result fields say what happened;
 * `synack bridge`'s flags, each direction's impairments on its own.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apps.h"
#include "bridge.h"
#include "check.h"
#include "cli.h"
#include "cli_parse.h"
#include "connect.h"
#include "demo.h"
#include "run.h"
#include "script_pcap.h"
#include "serve.h"
#include "settings.h"
#include "transfer.h"

static void cli_parse_bytes_units(void)
{
	uint64_t v = 0;
	CHECK_EQ(cli_parse_bytes("0", 100, &v), 0);
	CHECK_EQ_U64(v, 0);
	CHECK_EQ(cli_parse_bytes("1048576", UINT64_MAX, &v), 0);
	CHECK_EQ_U64(v, 1048576);
	CHECK_EQ(cli_parse_bytes("3K", UINT64_MAX, &v), 0);
	CHECK_EQ_U64(v, 3000);
	CHECK_EQ(cli_parse_bytes("3k", UINT64_MAX, &v), 0);
	CHECK_EQ_U64(v, 3000);
	CHECK_EQ(cli_parse_bytes("2M", UINT64_MAX, &v), 0);
	CHECK_EQ_U64(v, 2000000);
	CHECK_EQ(cli_parse_bytes("1G", UINT64_MAX, &v), 0);
	CHECK_EQ_U64(v, 1000000000);
	CHECK_EQ(cli_parse_bytes("64KiB", UINT64_MAX, &v), 0);
	CHECK_EQ_U64(v, 65536);
	CHECK_EQ(cli_parse_bytes("1MiB", UINT64_MAX, &v), 0);
	CHECK_EQ_U64(v, 1048576);
	CHECK_EQ(cli_parse_bytes("4GiB", 1ull << 32, &v), 0);
	CHECK_EQ_U64(v, 1ull << 32);
	/* Past the maximum, with or without a unit, and one digit past a
	 * maximum below ten (which once wrapped around). */
	CHECK_EQ(cli_parse_bytes("5GiB", 1ull << 32, &v), -1);
	CHECK_EQ(cli_parse_bytes("4294967297", 1ull << 32, &v), -1);
	CHECK_EQ(cli_parse_bytes("99999999999999999999999", UINT64_MAX, &v), -1);
	CHECK_EQ(cli_parse_u64("5", 4, &v), -1);
	CHECK_EQ(cli_parse_u64("4", 4, &v), 0);
	/* Not a size. */
	const char *bad[] = {"",    "-1",  "+1", " 1",  "1 ",   "1.5M", "1m",
	                     "1KB", "1Ki", "K",  "1e3", "0x10", "1KiBx"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK_EQ(cli_parse_bytes(bad[i], UINT64_MAX, &v), -1);
	CHECK_EQ(cli_parse_bytes(NULL, UINT64_MAX, &v), -1);
}

static void cli_parse_time_units(void)
{
	uint64_t v = 0;
	CHECK_EQ(cli_parse_time_ms("250", 1000000, &v), 0);
	CHECK_EQ_U64(v, 250);
	CHECK_EQ(cli_parse_time_ms("250ms", 1000000, &v), 0);
	CHECK_EQ_U64(v, 250);
	CHECK_EQ(cli_parse_time_ms("30s", 1000000, &v), 0);
	CHECK_EQ_U64(v, 30000);
	CHECK_EQ(cli_parse_time_ms("2min", 1000000, &v), 0);
	CHECK_EQ_U64(v, 120000);
	CHECK_EQ(cli_parse_time_ms("1h", 3600000, &v), 0);
	CHECK_EQ_U64(v, 3600000);
	CHECK_EQ(cli_parse_time_ms("2h", 3600000, &v), -1);
	const char *bad[] = {"", "s", "1.5s", "1m", "1 s", "-1", "1sec", "1S", "1hh"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK_EQ(cli_parse_time_ms(bad[i], UINT64_MAX, &v), -1);

	/* The refusals name the units. */
	char err[300];
	CHECK_EQ(cli_flag_bytes("--http-size", "10XB", 16ull << 30, &v, err, sizeof(err)), -1);
	CHECK(strstr(err, "--http-size: '10XB' is not a size in bytes up to 16GiB") == err);
	CHECK(strstr(err, "KiB, MiB, GiB") != NULL && strstr(err, "K, M, G") != NULL);
	CHECK_EQ(cli_flag_time_ms("--x-ms", "3d", 1000, &v, err, sizeof(err)), -1);
	CHECK(strstr(err, "--x-ms: '3d' is not a time up to 1000 ms") == err);
	CHECK(strstr(err, "ms, s, min, h") != NULL);
}

/*
 * Every field of struct synack_config is in the settings table (but addr
 * and secret): the bytes no row covers are padding, which is never as
 * wide as the 4-byte fields the settings are.  A new setting missing
 * from tools/settings.c fails here.
 */
static void settings_cover_the_config(void)
{
	unsigned char covered[sizeof(struct synack_config)];
	memset(covered, 0, sizeof(covered));
	memset(covered + offsetof(struct synack_config, addr), 1,
	       sizeof(((struct synack_config *)0)->addr));
	memset(covered + offsetof(struct synack_config, secret), 1,
	       sizeof(((struct synack_config *)0)->secret));
	/* The IPv6 address, like addr, is no setting (issue 14). */
	memset(covered + offsetof(struct synack_config, addr6), 1,
	       sizeof(((struct synack_config *)0)->addr6));
	CHECK(settings_count() > 30);
	for (size_t i = 0; i < settings_count(); i++) {
		const struct setting *r = settings_at(i);
		CHECK(r->offset + r->size <= sizeof(covered));
		for (size_t b = 0; b < r->size; b++) {
			if (covered[r->offset + b])
				check_fail(__FILE__, __LINE__, "setting %s overlaps another",
				           r->name);
			covered[r->offset + b] = 1;
		}
		CHECK(settings_find(r->name) == r);
	}
	CHECK(settings_at(settings_count()) == NULL);
	/* net_opts marks each given: synack run passes those on. */
	CHECK(settings_count() <= NET_MAX_SETTINGS);
	for (size_t b = 0; b < sizeof(covered);) {
		size_t run = 0;
		while (b + run < sizeof(covered) && !covered[b + run])
			run++;
		if (run >= 4)
			check_fail(__FILE__, __LINE__,
			           "bytes %zu..%zu of struct synack_config are in no row of "
			           "tools/settings.c: a setting is missing",
			           b, b + run - 1);
		b += run ? run : 1;
	}
}

static void settings_parse_values(void)
{
	struct synack_config cfg, def;
	synack_config_default(&cfg);
	synack_config_default(&def);
	char err[4096]; /* the unknown-setting message lists every setting */
	CHECK(settings_parse("--set", "time_wait_ms=30s", &cfg, err, sizeof(err)) >= 0);
	CHECK_EQ(cfg.time_wait_ms, 30000);
	CHECK(settings_parse("--set", "ttl=255", &cfg, err, sizeof(err)) >= 0);
	CHECK_EQ(cfg.ttl, 255);
	CHECK(settings_parse("--set", "ephemeral_port_max=65535", &cfg, err, sizeof(err)) >= 0);
	CHECK_EQ(cfg.ephemeral_port_max, 65535);
	CHECK_EQ(cfg.ephemeral_port_min, def.ephemeral_port_min);
	CHECK(settings_parse("--set", "rcvbuf=64KiB", &cfg, err, sizeof(err)) >= 0);
	CHECK_EQ(cfg.rcvbuf, 65536);
	CHECK_EQ(cfg.sndbuf, def.sndbuf);
	CHECK(settings_parse("--set", "congestion_control=reno", &cfg, err, sizeof(err)) >= 0);
	CHECK_STR(cfg.congestion_control, "reno");
	int row = settings_parse("--set", "keepalive_probes=3", &cfg, err, sizeof(err));
	CHECK(row >= 0);
	CHECK_STR(settings_at((size_t)row)->name, "keepalive_probes");
	CHECK_EQ(cfg.keepalive_probes, 3);
	char buf[32];
	settings_str(settings_find("time_wait_ms"), &cfg, buf, sizeof(buf));
	CHECK_STR(buf, "30000");

	/* Too wide for the field, not of the kind, no '=', unknown. */
	CHECK_EQ(settings_parse("--set", "ttl=256", &cfg, err, sizeof(err)), -1);
	CHECK(strstr(err, "--set ttl: '256' is not a whole number in [0, 255]") == err);
	CHECK_EQ(cfg.ttl, 255);
	CHECK_EQ(settings_parse("--set", "ephemeral_port_max=65536", &cfg, err, sizeof(err)), -1);
	CHECK_EQ(settings_parse("--set", "rcvbuf=1TB", &cfg, err, sizeof(err)), -1);
	CHECK(strstr(err, "KiB, MiB, GiB") != NULL);
	CHECK_EQ(settings_parse("--set", "time_wait_ms=1.5s", &cfg, err, sizeof(err)), -1);
	CHECK(strstr(err, "ms, s, min, h") != NULL);
	CHECK_EQ(settings_parse("--set", "congestion_control=", &cfg, err, sizeof(err)), -1);
	CHECK_EQ(
	    settings_parse("--set", "congestion_control=name-of-16-chars", &cfg, err, sizeof(err)),
	    -1);
	CHECK_STR(cfg.congestion_control, "reno");
	CHECK_EQ(settings_parse("--set", "time_wait_ms", &cfg, err, sizeof(err)), -1);
	CHECK(strstr(err, "is not NAME=VALUE") != NULL);
	CHECK_EQ(settings_parse("--set", "=5", &cfg, err, sizeof(err)), -1);
	CHECK_EQ(settings_parse("--set", "addr=10.0.0.1", &cfg, err, sizeof(err)), -1);
	CHECK_EQ(settings_parse("--set", "secret=x", &cfg, err, sizeof(err)), -1);
	CHECK_EQ(settings_parse("--set", "time_wait=5", &cfg, err, sizeof(err)), -1);
	CHECK(strstr(err, "--set: unknown setting 'time_wait' (the settings are: mtu, ttl, ") ==
	      err);
	for (size_t i = 0; i < settings_count(); i++)
		CHECK(strstr(err, settings_at(i)->name) != NULL);
}

/* The link's settings: each is a field of struct synack_link_config of its
 * own, named as no stack setting, taken by --set into the link's
 * configuration only where the command has a link, and a value out of
 * range is refused by synack_link_config_check naming the setting. */
static void link_settings_values(void)
{
	unsigned char covered[sizeof(struct synack_link_config)];
	memset(covered, 0, sizeof(covered));
	CHECK(link_settings_count() >= 18);
	for (size_t i = 0; i < link_settings_count(); i++) {
		const struct setting *r = link_settings_at(i);
		CHECK(r->offset + r->size <= sizeof(covered));
		for (size_t b = 0; b < r->size; b++) {
			CHECK(!covered[r->offset + b]);
			covered[r->offset + b] = 1;
		}
		CHECK(link_settings_find(r->name) == r);
		CHECK(settings_find(r->name) == NULL);
	}
	CHECK(link_settings_at(link_settings_count()) == NULL);
	CHECK(link_settings_count() <= 8 * sizeof(((struct net_opts *)0)->link_given));
	CHECK(link_settings_find("arp_retries") != NULL);
	CHECK(link_settings_find("nd_retrans_ms") != NULL);
	CHECK(link_settings_find("link_up_wait_ms") != NULL);

	struct synack_config cfg, def;
	struct synack_link_config lc, ldef;
	synack_config_default(&cfg);
	synack_config_default(&def);
	synack_link_config_default(&lc);
	synack_link_config_default(&ldef);
	const struct setting *row;
	char err[4096];
	CHECK_EQ(settings_parse_link("--set", "arp_retries=7", &cfg, &lc, &row, err, sizeof(err)),
	         1);
	CHECK_STR(row->name, "arp_retries");
	CHECK_EQ(lc.arp_retries, 7);
	CHECK_EQ(
	    settings_parse_link("--set", "nd_retrans_ms=2s", &cfg, &lc, &row, err, sizeof(err)), 1);
	CHECK_EQ(lc.nd_retrans_ms, 2000);
	CHECK_EQ(settings_parse_link("--set", "gro=0", &cfg, &lc, &row, err, sizeof(err)), 1);
	CHECK_EQ(lc.gro, 0);
	CHECK_EQ(lc.tso, ldef.tso);
	CHECK_EQ(settings_parse_link("--set", "time_wait_ms=5s", &cfg, &lc, &row, err, sizeof(err)),
	         0);
	CHECK_EQ(cfg.time_wait_ms, 5000);
	CHECK(memcmp(&cfg.ttl, &def.ttl, sizeof(cfg.ttl)) == 0);
	char buf[32];
	link_settings_str(link_settings_find("nd_retrans_ms"), &lc, buf, sizeof(buf));
	CHECK_STR(buf, "2000");
	/* Out of range: the link's check names it. */
	CHECK_EQ(
	    settings_parse_link("--set", "link_up_wait_ms=61s", &cfg, &lc, &row, err, sizeof(err)),
	    1);
	lc.addr = 0x0a070002;
	CHECK(synack_link_config_check(&lc, err, sizeof(err)) != 0);
	CHECK(strstr(err, "link_up_wait_ms") == err);
	lc.link_up_wait_ms = 0;
	CHECK_EQ(synack_link_config_check(&lc, err, sizeof(err)), 0);
	lc.gratuitous_arp = 2;
	CHECK(synack_link_config_check(&lc, err, sizeof(err)) != 0);
	CHECK(strstr(err, "gratuitous_arp") == err);
	/* Not of the kind; unknown: both lists named. */
	CHECK_EQ(
	    settings_parse_link("--set", "arp_retry_ms=soon", &cfg, &lc, &row, err, sizeof(err)),
	    -1);
	CHECK(strstr(err, "--set arp_retry_ms: 'soon' is not a time") == err);
	CHECK_EQ(settings_parse_link("--set", "arp=1", &cfg, &lc, &row, err, sizeof(err)), -1);
	CHECK(strstr(err, "; of the link: arp_lifetime_ms, ") != NULL);
	for (size_t i = 0; i < link_settings_count(); i++)
		CHECK(strstr(err, link_settings_at(i)->name) != NULL);
	CHECK(err[strlen(err) - 1] == ')');
	/* Without a link (synack transfer, scripts) they are unknown. */
	CHECK_EQ(settings_parse("--set", "arp_retries=2", &cfg, err, sizeof(err)), -1);
	CHECK(strstr(err, "unknown setting 'arp_retries'") != NULL);
	CHECK(strstr(err, "of the link") == NULL);
}

/* The table-driven parser (tools/cli_parse.c) on a table of every kind. */
struct toy {
	uint64_t n, size, ms;
	int64_t count;
	double p, rate;
	const char *file;
	int on, help, seen_n;
	const char *word;
};

static int toy_word(void *opts, const char *a, char *err, size_t errlen)
{
	struct toy *t = opts;
	if (strcmp(a, "stop") == 0)
		return 1;
	if (t->word) {
		snprintf(err, errlen, "one word only");
		return -1;
	}
	t->word = a;
	return 0;
}

#define T(n, k, f) CLI_OPT(struct toy, n, k, f)
static const struct cli_opt TOY_FLAGS[] = {
    {T("--n", CLI_U64, n), .min = 2, .max = 9, .what = "a number of things", .note = " (note)",
     .seen = CLI_SEEN(struct toy, seen_n)},
    {T("--count", CLI_I64, count), .min = 1, .max = 5, .low = "at least one"},
    {T("--size", CLI_BYTES, size), .max = 1 << 20},
    {T("--ms", CLI_TIME_MS, ms), .max = 60000},
    {T("--p", CLI_PROB, p)},
    {T("--rate", CLI_DOUBLE, rate), .dmin = 0.5, .dmax = 2, .what = "a rate"},
    {T("--file", CLI_PATH, file)},
    {T("--on", CLI_SWITCH, on)},
};
#undef T
static const struct cli_table TOY = {
    CLI_ROWS(TOY_FLAGS),    .unknown = "unknown flag",
    .hint = "(toy --help)", .help = CLI_SEEN(struct toy, help),
    .positional = toy_word,
};

static void toy_usage(FILE *out)
{
	fputs("toy [--n N] [--count N] [--size B] [--ms T] [--p P] [--rate R] [--file F] [--on]\n",
	      out);
}

static void toy_usage_short(FILE *out)
{
	fputs(
	    "toy [--n N] [--count N] [--size B] [--ms T] [--p P] [--rate R] [--file F] [--only]\n",
	    out);
}

static int toy_parse(struct toy *t, char *err, size_t errlen, ...)
{
	char *argv[64];
	va_list ap;
	va_start(ap, errlen);
	int argc = 0;
	for (const char *a; argc < 63 && (a = va_arg(ap, const char *)) != NULL;)
		argv[argc++] = (char *)a;
	va_end(ap);
	memset(t, 0, sizeof(*t));
	err[0] = 0;
	return cli_parse(&TOY, t, argc, argv, err, errlen);
}

static void cli_parse_table(void)
{
	struct toy t;
	char err[512];
	CHECK_EQ(toy_parse(&t, err, sizeof(err), "--n", "3", "--count=4", "--size", "2KiB",
	                   "--ms=2s", "--p", "0.25", "--rate=1.5", "--file", "x.pcap", "--on",
	                   "word", NULL),
	         13);
	CHECK_EQ_U64(t.n, 3);
	CHECK(t.seen_n);
	CHECK_EQ(t.count, 4);
	CHECK_EQ_U64(t.size, 2048);
	CHECK_EQ_U64(t.ms, 2000);
	CHECK(t.p == 0.25 && t.rate == 1.5);
	CHECK_STR(t.file, "x.pcap");
	CHECK(t.on && !t.help);
	CHECK_STR(t.word, "word");
	/* A positional argument may stop the parse; --help is a switch. */
	CHECK_EQ(toy_parse(&t, err, sizeof(err), "--on", "stop", "--bogus", NULL), 1);
	CHECK_EQ(toy_parse(&t, err, sizeof(err), "-h", "--on", NULL), 2);
	CHECK(t.help && t.on);
	/* Each refusal is one sentence naming the flag. */
	CHECK_EQ(toy_parse(&t, err, sizeof(err), "--n", "10", NULL), -1);
	CHECK_STR(err, "--n: '10' is not a number of things in [2, 9] (note)");
	CHECK_EQ(toy_parse(&t, err, sizeof(err), "--n=1", NULL), -1);
	CHECK_STR(err, "--n: '1' is not a number of things in [2, 9] (note)");
	CHECK_EQ(toy_parse(&t, err, sizeof(err), "--count", "0", NULL), -1);
	CHECK_STR(err, "--count: at least one");
	CHECK_EQ(toy_parse(&t, err, sizeof(err), "--count", "-1", NULL), -1);
	CHECK_STR(err, "--count: '-1' is not a whole number in [1, 5]");
	CHECK_EQ(toy_parse(&t, err, sizeof(err), "--rate", "3", NULL), -1);
	CHECK_STR(err, "--rate: '3' is not a rate in [0.5, 2]");
	CHECK_EQ(toy_parse(&t, err, sizeof(err), "--p", "2", NULL), -1);
	CHECK(strstr(err, "--p: '2' is not a probability") == err);
	CHECK_EQ(toy_parse(&t, err, sizeof(err), "--size", "2MiB", NULL), -1);
	CHECK(strstr(err, "--size: '2MiB' is not a size in bytes up to 1MiB") == err);
	CHECK_EQ(toy_parse(&t, err, sizeof(err), "--ms", "2min", NULL), -1);
	CHECK(strstr(err, "--ms: '2min' is not a time up to 60000 ms") == err);
	CHECK_EQ(toy_parse(&t, err, sizeof(err), "--file=", NULL), -1);
	CHECK_STR(err, "--file: needs a file name");
	CHECK_EQ(toy_parse(&t, err, sizeof(err), "--on", "--ms", NULL), -1);
	CHECK_STR(err, "--ms needs a value");
	CHECK_EQ(toy_parse(&t, err, sizeof(err), "--on=1", NULL), -1);
	CHECK_STR(err, "unknown flag '--on=1' (toy --help)");
	CHECK_EQ(toy_parse(&t, err, sizeof(err), "--nn", "3", NULL), -1);
	CHECK_STR(err, "unknown flag '--nn' (toy --help)");
	CHECK_EQ(toy_parse(&t, err, sizeof(err), "a", "b", NULL), -1);
	CHECK_STR(err, "one word only");
	/* --help names every flag of the table. */
	CHECK_EQ(cli_usage_check(&TOY, toy_usage, err, sizeof(err)), 0);
	CHECK_EQ(cli_usage_check(&TOY, toy_usage_short, err, sizeof(err)), -1);
	CHECK_STR(err, "--on is not in the help text");
}

/* tools/script.h's (tests/lib/script.h has the name here). */
extern const struct cli_table script_cli;
void script_usage(FILE *out);

/* Each command's --help names every flag of its table. */
static void cli_tables_match_help(void)
{
	static const struct {
		const struct cli_table *t;
		void (*usage)(FILE *);
	} CMDS[] = {
	    {&demo_cli, demo_usage},         {&script_cli, script_usage},
	    {&frompcap_cli, frompcap_usage}, {&transfer_cli, transfer_usage},
	    {&bridge_cli, bridge_usage},     {&serve_cli, serve_usage},
	    {&connect_cli, connect_usage},   {&run_cli, run_usage},
	};
	char err[256];
	for (size_t i = 0; i < sizeof(CMDS) / sizeof(CMDS[0]); i++) {
		if (cli_usage_check(CMDS[i].t, CMDS[i].usage, err, sizeof(err)) != 0)
			check_fail(__FILE__, __LINE__, "command %zu: %s", i, err);
	}
}

/* argv from a NULL-terminated list of arguments; returns argc. */
static int argv_of(char *argv[64], va_list ap)
{
	int argc = 0;
	char *a;
	while ((a = va_arg(ap, char *)) != NULL && argc < 63)
		argv[argc++] = a;
	argv[argc] = NULL;
	return argc;
}

/* serve's parser on the arguments up to NULL; err gets the sentence. */
static int sargs(struct serve_opts *o, char *err, size_t errlen, ...)
{
	char *argv[64];
	va_list ap;
	va_start(ap, errlen);
	int argc = argv_of(argv, ap);
	va_end(ap);
	serve_opts_default(o);
	err[0] = 0;
	return serve_parse_args(argc, argv, o, err, errlen);
}

#define NETARGS "--dev", "tap0", "--tap", "--addr", "10.7.0.2/24"

static void serve_flags(void)
{
	struct serve_opts o;
	char err[1024];
	CHECK_EQ(sargs(&o, err, sizeof(err), NETARGS, "--listen", "80:http", "--listen=7:echo",
	               "--listen", "discard", NULL),
	         0);
	CHECK_EQ(o.nlisten, 3);
	CHECK_EQ(o.listen[0].port, 80);
	CHECK_EQ(o.listen[0].app, APP_HTTP);
	CHECK_EQ(o.listen[1].port, 7);
	CHECK_EQ(o.listen[1].app, APP_ECHO);
	CHECK_EQ(o.listen[2].port, 9);
	CHECK_EQ(o.listen[2].app, APP_DISCARD);
	/* The old flags are one listener; with --listen, one more. */
	CHECK_EQ(sargs(&o, err, sizeof(err), NETARGS, "--app", "http", "--port", "8080", NULL), 0);
	CHECK_EQ(o.nlisten, 1);
	CHECK_EQ(o.listen[0].port, 8080);
	CHECK_EQ(o.listen[0].app, APP_HTTP);
	CHECK_EQ(sargs(&o, err, sizeof(err), NETARGS, "--app", "echo", "--listen", "80:http", NULL),
	         0);
	CHECK_EQ(o.nlisten, 2);
	CHECK_EQ(o.listen[1].port, 7);
	CHECK_EQ(sargs(&o, err, sizeof(err), NETARGS, "--app", "echo", "--listen", "7:http", NULL),
	         -1);
	CHECK(strstr(err, "port 7 is given twice") != NULL);
	const char *bad_listen[] = {"0:http", "65536:http", "80:gopher",    "80:", ":http",
	                            "x:echo", "80",         "1234567:echo", ""};
	for (size_t i = 0; i < sizeof(bad_listen) / sizeof(bad_listen[0]); i++) {
		CHECK_EQ(sargs(&o, err, sizeof(err), NETARGS, "--listen", bad_listen[i], NULL), -1);
		CHECK(strstr(err, "--listen: '") == err);
	}
	CHECK_EQ(sargs(&o, err, sizeof(err), NETARGS, "--port", "80", "--listen", "7:echo", NULL),
	         -1);
	CHECK_EQ(sargs(&o, err, sizeof(err), NETARGS, NULL), -1);
	CHECK(strstr(err, "--app echo|discard|http is required") == err);

	/* Settings: --set and the named flags land in the config. */
	CHECK_EQ(sargs(&o, err, sizeof(err), NETARGS, "--app", "http", "--set", "time_wait_ms=2s",
	               "--fin-timeout-ms", "1500", "--syn-retries=3", "--orphan-retries", "2",
	               "--set=rcvbuf=32KiB", "--json", "--stats-every", "0.5", NULL),
	         0);
	CHECK_EQ(o.net.cfg.time_wait_ms, 2000);
	CHECK_EQ(o.net.cfg.fin_timeout_ms, 1500);
	CHECK_EQ(o.net.cfg.syn_retries, 3);
	CHECK_EQ(o.net.cfg.orphan_retries, 2);
	CHECK_EQ(o.net.cfg.rcvbuf, 32768);
	CHECK_EQ(o.json, 1);
	CHECK_EQ(o.net.keepalive, 0);
	CHECK_EQ(o.net.user_timeout_ms, -1);
	CHECK_EQ(o.net.create, 0);
	CHECK_EQ(sargs(&o, err, sizeof(err), NETARGS, "--app", "http", "--keepalive-time-ms", "1s",
	               "--keepalive-intvl-ms", "200", "--keepalive-probes", "4",
	               "--user-timeout-ms", "5s", "--create", NULL),
	         0);
	CHECK_EQ(o.net.cfg.keepalive_time_ms, 1000);
	CHECK_EQ(o.net.cfg.keepalive_intvl_ms, 200);
	CHECK_EQ(o.net.cfg.keepalive_probes, 4);
	CHECK_EQ(o.net.keepalive, 1);
	CHECK_EQ(o.net.user_timeout_ms, 5000);
	CHECK_EQ(o.net.create, 1);
	CHECK_EQ(sargs(&o, err, sizeof(err), NETARGS, "--app", "http", "--keepalive", NULL), 0);
	CHECK_EQ(o.net.keepalive, 1);
	/* The link's settings land in the link's configuration; out of
	 * range, synack_link_config_check's sentence. */
	CHECK_EQ(sargs(&o, err, sizeof(err), NETARGS, "--app", "http", "--set", "arp_retries=5",
	               "--set=arp_retry_ms=100ms", "--set", "link_up_wait_ms=0", NULL),
	         0);
	CHECK_EQ(o.net.link.arp_retries, 5);
	CHECK_EQ(o.net.link.arp_retry_ms, 100);
	CHECK_EQ(o.net.link.link_up_wait_ms, 0);
	uint64_t want = 0;
	for (size_t i = 0; i < link_settings_count(); i++)
		if (strstr(" arp_retries arp_retry_ms link_up_wait_ms ", link_settings_at(i)->name))
			want |= 1ull << i;
	CHECK_EQ_U64(o.net.link_given, want);
	CHECK_EQ(
	    sargs(&o, err, sizeof(err), NETARGS, "--app", "http", "--set", "arp_retries=0", NULL),
	    -1);
	CHECK_STR(err, "arp_retries: 0 is outside 1..100");
	/* Out of range: synack_config_check's sentence. */
	CHECK_EQ(sargs(&o, err, sizeof(err), NETARGS, "--app", "http", "--time-wait-ms", "0", NULL),
	         -1);
	CHECK_STR(err, "time_wait_ms: 0 is outside 1..3600000");
	CHECK_EQ(
	    sargs(&o, err, sizeof(err), NETARGS, "--app", "http", "--set", "syncookies=3", NULL),
	    -1);
	CHECK(strstr(err, "syncookies: 3 is not 0") == err);
	CHECK_EQ(
	    sargs(&o, err, sizeof(err), NETARGS, "--app", "http", "--keepalive-probes", "x", NULL),
	    -1);
	CHECK(strstr(err, "--keepalive-probes: 'x' is not a whole number") == err);
	CHECK_EQ(sargs(&o, err, sizeof(err), NETARGS, "--app", "http", "--user-timeout-ms",
	               "2147483648", NULL),
	         -1);
	CHECK_EQ(sargs(&o, err, sizeof(err), NETARGS, "--app", "http", "--set", NULL), -1);
	CHECK_STR(err, "--set needs a value");
	CHECK_EQ(sargs(&o, err, sizeof(err), NETARGS, "--app", "http", "--http-size", "1TB", NULL),
	         -1);
	CHECK(strstr(err, "--http-size: '1TB' is not a size in bytes up to 16GiB (") == err);
}

static int cargs(struct connect_opts *o, char *err, size_t errlen, ...)
{
	char *argv[64];
	va_list ap;
	va_start(ap, errlen);
	int argc = argv_of(argv, ap);
	va_end(ap);
	connect_opts_default(o);
	err[0] = 0;
	return connect_parse_args(argc, argv, o, err, errlen);
}

static void connect_flags(void)
{
	struct connect_opts o;
	char err[1024];
	CHECK_EQ(cargs(&o, err, sizeof(err), NETARGS, "10.7.0.1:80", NULL), 0);
	CHECK_EQ(o.connect_timeout_ms, -1);
	CHECK_EQ(o.idle_timeout_ms, -1);
	CHECK_EQ(cargs(&o, err, sizeof(err), NETARGS, "10.7.0.1:80", "--connect-timeout-ms", "1s",
	               "--idle-timeout-ms=2min", "--time-wait-ms", "100", NULL),
	         0);
	CHECK_EQ(o.connect_timeout_ms, 1000);
	CHECK_EQ(o.idle_timeout_ms, 120000);
	CHECK_EQ(o.net.cfg.time_wait_ms, 100);
	CHECK_EQ(
	    cargs(&o, err, sizeof(err), NETARGS, "10.7.0.1:80", "--connect-timeout-ms", "0", NULL),
	    -1);
	CHECK_EQ(
	    cargs(&o, err, sizeof(err), NETARGS, "10.7.0.1:80", "--idle-timeout-ms", "25h", NULL),
	    -1);
	CHECK(strstr(err, "--idle-timeout-ms: '25h' is not a time up to 86400000 ms") == err);
	CHECK_EQ(
	    cargs(&o, err, sizeof(err), NETARGS, "10.7.0.1:80", "--set", "trace_capacity=0", NULL),
	    -1);
	CHECK(strstr(err, "trace_capacity=0") != NULL);
	CHECK_EQ(cargs(&o, err, sizeof(err), NETARGS, "10.7.0.1:80", "--send-bytes", "3XB", NULL),
	         -1);
	CHECK(strstr(err, "--send-bytes: '3XB' is not a size in bytes up to 1024GiB (") == err);
}

static void cli_parse_double_range(void)
{
	double d = -1;
	CHECK_EQ(cli_parse_double("0.5", 0.001, 10, &d), 0);
	CHECK(d == 0.5);
	CHECK_EQ(cli_parse_double("1e1", 0.001, 10, &d), 0);
	CHECK(d == 10);
	CHECK_EQ(cli_parse_double("10.01", 0.001, 10, &d), -1);
	CHECK_EQ(cli_parse_double("0", 0.001, 10, &d), -1);
	CHECK_EQ(cli_parse_double("nan", 0, 10, &d), -1);
	CHECK_EQ(cli_parse_double("inf", 0, 1e308, &d), -1);
	CHECK_EQ(cli_parse_double(" 1", 0, 10, &d), -1);
	CHECK_EQ(cli_parse_double("1x", 0, 10, &d), -1);
	CHECK_EQ(cli_parse_prob("1", &d), 0);
	CHECK_EQ(cli_parse_prob("1.0000001", &d), -1);
}

static void cli_flag_value_forms(void)
{
	static const char *const names[] = {"--bytes", "--bw-mbps"};
	char err[128] = "";
	const char *val = NULL;
	char *argv[] = {"--bytes=7", "--bw-mbps", "2", "--bytesx", "--bw-mbps"};
	int i = 0;
	CHECK_EQ(cli_flag_value(5, argv, &i, names, 2, &val, err, sizeof(err)), 0);
	CHECK_STR(val, "7");
	CHECK_EQ(i, 0);
	i = 1;
	CHECK_EQ(cli_flag_value(5, argv, &i, names, 2, &val, err, sizeof(err)), 1);
	CHECK_STR(val, "2");
	CHECK_EQ(i, 2);
	i = 3;
	CHECK_EQ(cli_flag_value(5, argv, &i, names, 2, &val, err, sizeof(err)), -1);
	i = 4;
	CHECK_EQ(cli_flag_value(5, argv, &i, names, 2, &val, err, sizeof(err)), -2);
	CHECK_STR(err, "--bw-mbps needs a value");
}

static int targs(struct transfer_opts *o, int argc, const char *a0, const char *a1, const char *a2,
                 const char *a3)
{
	char *argv[4] = {(char *)a0, (char *)a1, (char *)a2, (char *)a3};
	char err[256] = "";
	transfer_opts_default(o);
	int r = transfer_parse_args(argc, argv, o, err, sizeof(err));
	if (r != 0)
		CHECK(strlen(err) > 0);
	return r;
}

static void transfer_args(void)
{
	struct transfer_opts o;
	CHECK_EQ(targs(&o, 0, NULL, NULL, NULL, NULL), 0);
	CHECK_EQ_U64(o.bytes, TRANSFER_DEFAULT_BYTES);
	CHECK_EQ(o.delay_ms, TRANSFER_DEFAULT_DELAY_MS);
	CHECK_EQ_U64(o.seed, 1);
	CHECK(o.bw_mbps == 0 && o.queue_pkts == -1 && !o.json);
	CHECK_EQ(targs(&o, 4, "--bytes", "2MiB", "--bw-mbps=0.5", "--json"), 0);
	CHECK_EQ_U64(o.bytes, 2097152);
	CHECK(o.bw_mbps == 0.5 && o.json);
	CHECK_EQ(targs(&o, 3, "--bw-mbps", "3", "--queue=0", NULL), 0);
	CHECK_EQ(o.queue_pkts, 0);
	CHECK_EQ(targs(&o, 2, "--loss", "0.1", NULL, NULL), 0);
	CHECK(o.loss == 0.1);

	CHECK_EQ(targs(&o, 2, "--queue", "5", NULL, NULL), -1); /* no bottleneck */
	CHECK_EQ(targs(&o, 2, "--bw-mbps", "0", NULL, NULL), -1);
	CHECK_EQ(targs(&o, 2, "--delay-ms", "60001", NULL, NULL), -1);
	CHECK_EQ(targs(&o, 2, "--bytes", "5GiB", NULL, NULL), -1);
	CHECK_EQ(targs(&o, 1, "scenario", NULL, NULL, NULL), -1);
	CHECK_EQ(targs(&o, 1, "--seed", NULL, NULL, NULL), -1);
	CHECK_EQ(targs(&o, 2, "--dup", "-0", NULL, NULL), -1);
}

static struct transfer_result *trun(struct transfer_opts *o, char **text)
{
	struct transfer_result *r = calloc(1, sizeof(*r));
	size_t n = 0;
	FILE *out = text ? open_memstream(text, &n) : NULL;
	CHECK_EQ(transfer_run(o, out, r), 0);
	if (out)
		fclose(out);
	if (!r->ok)
		fprintf(stderr, "  transfer failed: %s\n", r->error);
	return r;
}

/* A clean run: every byte, the same hash, both ends closed in order. */
static void transfer_clean_run(void)
{
	struct transfer_opts o;
	transfer_opts_default(&o);
	o.bytes = 100000;
	struct transfer_result *r = trun(&o, NULL);
	CHECK(r->ok);
	CHECK_EQ_U64(r->bytes_sent, 100000);
	CHECK_EQ_U64(r->bytes_received, 100000);
	CHECK(r->hash_sent == r->hash_received);
	CHECK(r->first_bad == UINT64_MAX);
	CHECK_EQ(r->state[0], SYNACK_CLOSED);
	CHECK_EQ(r->state[1], SYNACK_CLOSED);
	CHECK_EQ(r->cause[0], SYNACK_CAUSE_TIME_WAIT_EXPIRED);
	CHECK_EQ(r->cause[1], SYNACK_CAUSE_RCV_ACK_OF_FIN);
	CHECK(r->orderly[0] && r->orderly[1]);
	CHECK_STR(r->path[0], "CLOSED>SYN_SENT>ESTABLISHED>FIN_WAIT_1>FIN_WAIT_2>TIME_WAIT>CLOSED");
	CHECK_STR(r->path[1], "LISTEN>SYN_RECEIVED>ESTABLISHED>CLOSE_WAIT>LAST_ACK>CLOSED");
	CHECK_EQ_U64(r->retransmits, 0);
	CHECK(r->info_seen && r->cwnd > 0 && r->mss == 1448); /* 1460 less timestamps */
	CHECK(r->virtual_ms > 0 && r->goodput_mbps > 0);
	/* TIME_WAIT ran to its end in virtual time. */
	CHECK(r->t_end_us >= r->t_eof_us + 60000000ull);
	CHECK_EQ_U64(r->stats[0].TraceLost, 0);
	CHECK_EQ_U64(r->stats[1].TraceLost, 0);
	free(r);
}

/* No delay and no bottleneck: no virtual time passes, and the goodput has
 * no value (a NAN the summary writes as null), though the transfer works. */
static void transfer_in_no_time(void)
{
	struct transfer_opts o;
	transfer_opts_default(&o);
	o.delay_ms = 0;
	o.json = 1;
	char *t = NULL;
	struct transfer_result *r = trun(&o, &t);
	CHECK(r->ok && r->eof);
	CHECK_EQ_U64(r->t_eof_us, 0);
	CHECK(r->virtual_ms == 0);
	CHECK(r->goodput_mbps != r->goodput_mbps);
	CHECK(t && strstr(t, ",\"virtual_ms\":0.000,\"goodput_mbps\":null,") != NULL);
	free(t);
	free(r);
}

/* Loss, duplication and reordering: retransmissions, still every byte. */
static void transfer_lossy_runs(void)
{
	for (uint64_t seed = 1; seed <= 20; seed++) {
		struct transfer_opts o;
		transfer_opts_default(&o);
		o.bytes = 150000;
		o.seed = seed;
		o.loss = 0.05;
		o.dup = 0.02;
		o.reorder = 0.02;
		struct transfer_result *r = trun(&o, NULL);
		CHECK(r->ok);
		CHECK(r->retransmits > 0);
		CHECK(r->bytes_received == o.bytes && r->hash_received == r->hash_sent);
		free(r);
	}
}

/* Output is a function of the options: the same seed, the same text. */
static void transfer_same_seed_same_json(void)
{
	struct transfer_opts o;
	transfer_opts_default(&o);
	o.bytes = 200000;
	o.loss = 0.03;
	o.bw_mbps = 5;
	o.json = 1;
	char *a = NULL, *b = NULL;
	struct transfer_result *ra = trun(&o, &a);
	struct transfer_result *rb = trun(&o, &b);
	CHECK(a && b && strcmp(a, b) == 0);
	CHECK(a && strstr(a, "{\"ev\":\"summary\",\"ok\":true,\"bytes\":200000,\"retransmits\":"));
	free(a);
	free(b);
	free(ra);
	free(rb);
}

/* retrans_bytes and spurious_bytes (tools/rtx_meter.c): the network's own
 * copies are not retransmissions; on a path that only loses, no
 * retransmission is needless; on one that only reorders, every one is. */
static void transfer_counts_retransmitted_and_spurious_bytes(void)
{
	struct transfer_opts o;
	transfer_opts_default(&o);
	o.bytes = 300000;
	o.dup = 0.3;
	struct transfer_result *r = trun(&o, NULL);
	CHECK(r->ok);
	CHECK(r->net[0].duplicated > 0);
	CHECK_EQ_U64(r->retrans_bytes, 0);
	CHECK_EQ_U64(r->spurious_bytes, 0);
	free(r);

	transfer_opts_default(&o);
	o.bytes = 300000;
	o.loss = 0.02;
	r = trun(&o, NULL);
	CHECK(r->ok);
	CHECK(r->retrans_bytes >= 3 * 1448);
	CHECK_EQ_U64(r->spurious_bytes, 0);
	free(r);

	transfer_opts_default(&o);
	o.bytes = 300000;
	o.reorder = 0.05;
	r = trun(&o, NULL);
	CHECK(r->ok);
	CHECK(r->retrans_bytes > 0);
	CHECK_EQ_U64(r->spurious_bytes, r->retrans_bytes);
	free(r);
}

/* A transfer that cannot happen fails with a reason, not a hang. */
static void transfer_failure_is_reported(void)
{
	struct transfer_opts o;
	transfer_opts_default(&o);
	o.bytes = 1000;
	o.loss = 1;
	struct transfer_result *r = calloc(1, sizeof(*r));
	CHECK_EQ(transfer_run(&o, NULL, r), 0);
	CHECK(!r->ok);
	CHECK(strstr(r->error, "connect failed") != NULL);
	CHECK_EQ_U64(r->bytes_received, 0);
	free(r);

	/* A day of virtual time is not enough for 20 MB at 1 kbit/s. */
	transfer_opts_default(&o);
	o.bytes = 20000000;
	o.bw_mbps = 0.001;
	r = calloc(1, sizeof(*r));
	CHECK_EQ(transfer_run(&o, NULL, r), 0);
	CHECK(!r->ok && r->capped);
	CHECK(strstr(r->error, "cap") != NULL);
	free(r);
}

/* synack bridge: the impairment flags apply to both directions, or after
 * --dir to one; the rest keeps its default. */
static void bridge_flags_per_direction(void)
{
	char *argv[] = {"--dev-a", "ta",     "--dev-b",      "tb",         "--loss",
	                "0.1",     "--dir",  "a-to-b",       "--delay-ms", "5",
	                "--dir",   "b-to-a", "--bw-mbps",    "10",         "--queue",
	                "3",       "--dir",  "both",         "--dup",      "0.5",
	                "--seed",  "9",      "--limit-pkts", "7",          "--stats-interval",
	                "2s",      "--json"};
	struct bridge_opts o;
	char err[256] = "";
	bridge_opts_default(&o);
	CHECK_EQ(
	    bridge_parse_args((int)(sizeof(argv) / sizeof(argv[0])), argv, &o, err, sizeof(err)),
	    0);
	CHECK(!strcmp(o.dev[0], "ta") && !strcmp(o.dev[1], "tb"));
	CHECK(o.dir[0].loss == 0.1 && o.dir[1].loss == 0.1);
	CHECK(o.dir[0].dup == 0.5 && o.dir[1].dup == 0.5);
	CHECK_EQ(o.dir[0].delay_ms, 5);
	CHECK_EQ(o.dir[1].delay_ms, 0);
	CHECK(o.dir[0].bw_mbps == 0 && o.dir[1].bw_mbps == 10);
	CHECK_EQ(o.dir[0].queue_pkts, -1);
	CHECK_EQ(o.dir[1].queue_pkts, 3);
	CHECK_EQ_U64(o.seed, 9);
	CHECK_EQ_U64(o.limit_pkts, 7);
	CHECK_EQ_U64(o.limit_bytes, BRIDGE_DEFAULT_LIMIT_BYTES);
	CHECK_EQ_U64(o.stats_interval_ms, 2000);
	CHECK(o.json && !o.create && !o.help);
	CHECK_EQ_U64(o.mtu, BRIDGE_DEFAULT_MTU);
}

int main(void)
{
	RUN(cli_parse_bytes_units);
	RUN(cli_parse_time_units);
	RUN(settings_cover_the_config);
	RUN(settings_parse_values);
	RUN(link_settings_values);
	RUN(cli_parse_table);
	RUN(cli_tables_match_help);
	RUN(serve_flags);
	RUN(connect_flags);
	RUN(cli_parse_double_range);
	RUN(cli_flag_value_forms);
	RUN(transfer_args);
	RUN(bridge_flags_per_direction);
	RUN(transfer_clean_run);
	RUN(transfer_in_no_time);
	RUN(transfer_lossy_runs);
	RUN(transfer_same_seed_same_json);
	RUN(transfer_failure_is_reported);
	RUN(transfer_counts_retransmitted_and_spurious_bytes);
	return check_summary("test_cli");
}
