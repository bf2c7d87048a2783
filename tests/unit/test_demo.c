/*
 * The demo scenarios as tests: each must end ok and each host must go
 * through exactly the states the article draws.  Also: the same seed gives
 * byte-identical JSON, different seeds give different ISNs, and the option
 * parser refuses what it must.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "demo.h"

#define ACTIVE_CLIENT "CLOSED>SYN_SENT>ESTABLISHED>FIN_WAIT_1>FIN_WAIT_2>TIME_WAIT>CLOSED"
#define PASSIVE_CLIENT "CLOSED>SYN_SENT>ESTABLISHED>CLOSE_WAIT>LAST_ACK>CLOSED"
#define LISTENER "CLOSED>LISTEN"
#define PASSIVE_SERVER LISTENER "; LISTEN>SYN_RECEIVED>ESTABLISHED>CLOSE_WAIT>LAST_ACK>CLOSED"
#define ACTIVE_SERVER                                                                              \
	LISTENER "; LISTEN>SYN_RECEIVED>ESTABLISHED>FIN_WAIT_1>FIN_WAIT_2>TIME_WAIT>CLOSED"

struct expect {
	const char *scenario;
	const char *client;
	const char *server;
};

static const struct expect EXPECT[] = {
    {"handshake", ACTIVE_CLIENT, PASSIVE_SERVER},
    {"server-closes-first", PASSIVE_CLIENT, ACTIVE_SERVER},
    {"simultaneous-open",
     "CLOSED>SYN_SENT>SYN_RECEIVED>ESTABLISHED>FIN_WAIT_1>FIN_WAIT_2>TIME_WAIT>CLOSED",
     "CLOSED>SYN_SENT>SYN_RECEIVED>ESTABLISHED>CLOSE_WAIT>LAST_ACK>CLOSED"},
    {"simultaneous-close", "CLOSED>SYN_SENT>ESTABLISHED>FIN_WAIT_1>CLOSING>TIME_WAIT>CLOSED",
     LISTENER "; LISTEN>SYN_RECEIVED>ESTABLISHED>FIN_WAIT_1>CLOSING>TIME_WAIT>CLOSED"},
    {"half-close", ACTIVE_CLIENT, PASSIVE_SERVER},
    {"fin-before-data", ACTIVE_CLIENT, PASSIVE_SERVER},
    {"time-wait-straggler", ACTIVE_CLIENT, PASSIVE_SERVER},
    {"refused", "CLOSED>SYN_SENT>CLOSED", LISTENER},
    {"syn-lost", ACTIVE_CLIENT, PASSIVE_SERVER},
    {"close-wait-leak", "CLOSED>SYN_SENT>ESTABLISHED>FIN_WAIT_1>FIN_WAIT_2>CLOSED",
     LISTENER "; LISTEN>SYN_RECEIVED>ESTABLISHED>CLOSE_WAIT"},
    {"fin-wait-1-stuck", "CLOSED>SYN_SENT>ESTABLISHED>FIN_WAIT_1>CLOSED",
     LISTENER "; LISTEN>SYN_RECEIVED>ESTABLISHED"},
    {"fin-wait-2-timeout", "CLOSED>SYN_SENT>ESTABLISHED>CLOSE_WAIT",
     LISTENER "; LISTEN>SYN_RECEIVED>ESTABLISHED>FIN_WAIT_1>FIN_WAIT_2>CLOSED"},
    {"zero-window", ACTIVE_CLIENT, PASSIVE_SERVER},
    {"retransmit", ACTIVE_CLIENT, PASSIVE_SERVER},
    {"window-scale", ACTIVE_CLIENT "; " ACTIVE_CLIENT,
     "CLOSED>LISTEN>CLOSED; LISTEN>SYN_RECEIVED>ESTABLISHED>CLOSE_WAIT>LAST_ACK>CLOSED; "
     "CLOSED>LISTEN>CLOSED; LISTEN>SYN_RECEIVED>ESTABLISHED>CLOSE_WAIT>LAST_ACK>CLOSED"},
    {"paws", ACTIVE_CLIENT, PASSIVE_SERVER},
    {"sack-recovery", ACTIVE_CLIENT, PASSIVE_SERVER},
    {"tail-loss", ACTIVE_CLIENT, PASSIVE_SERVER},
    {"fast-open", ACTIVE_CLIENT "; " ACTIVE_CLIENT,
     PASSIVE_SERVER "; LISTEN>SYN_RECEIVED>ESTABLISHED>CLOSE_WAIT>LAST_ACK>CLOSED"},
};

#define NEXPECT (sizeof(EXPECT) / sizeof(EXPECT[0]))

/* The attack scenarios print figures, not a ladder; test_hostile_demo.c
 * runs them. */
static const char *const ATTACKS[] = {"syn-flood", "blind-reset", "blind-data", "ack-flood"};
#define NATTACKS (sizeof(ATTACKS) / sizeof(ATTACKS[0]))

/* Runs over IPv6 (--ipv6) while set (issue 14). */
static int over_ipv6;

static struct demo_result *run(const char *scenario, uint64_t seed, int json, char **text,
                               size_t *len)
{
	struct demo_opts o;
	demo_opts_default(&o);
	o.ipv6 = over_ipv6;
	o.scenario = scenario;
	o.seed = seed;
	o.json = json;
	struct demo_result *res = calloc(1, sizeof(*res));
	FILE *out = NULL;
	if (text)
		out = open_memstream(text, len);
	int rc = demo_run(&o, out, res);
	if (out)
		fclose(out);
	CHECK_EQ(rc, 0);
	return res;
}

static void show_failed_checks(const struct demo_result *res)
{
	for (size_t i = 0; i < res->nchecks; i++)
		if (!res->checks[i].ok)
			fprintf(stderr, "  %s: check failed: %s\n", res->scenario,
			        res->checks[i].what);
}

static void one_scenario(const struct expect *e)
{
	char path[512];
	struct demo_result *res = run(e->scenario, 1, 0, NULL, NULL);
	CHECK(res->ok);
	CHECK(!res->capped);
	CHECK(res->nchecks > 0);
	CHECK_STR(demo_state_path(res, DEMO_CLIENT, path, sizeof(path)), e->client);
	CHECK_STR(demo_state_path(res, DEMO_SERVER, path, sizeof(path)), e->server);
	if (!res->ok)
		show_failed_checks(res);
	free(res);
}

/* --ipv6 (issue 14): every two-host scenario with the same state paths and
 * the same checks, the hosts speaking IPv6 only; the attack scenarios too
 * (small sizes here; cli test_demo compares their figures with IPv4's). */
static void demo_every_scenario_over_ipv6(void)
{
	over_ipv6 = 1;
	for (size_t i = 0; i < NEXPECT; i++) {
		one_scenario(&EXPECT[i]);
		struct demo_result *res = run(EXPECT[i].scenario, 1, 0, NULL, NULL);
		for (int h = 0; h < 2; h++) {
			CHECK(res->host[h].stats.Ip6InReceives > 0);
			CHECK_EQ_U64(res->host[h].stats.IpInReceives, 0);
		}
		free(res);
	}
	over_ipv6 = 0;
	struct demo_opts o;
	demo_opts_default(&o);
	o.ipv6 = 1;
	struct demo_result *res = calloc(1, sizeof(*res));
	o.clients = 2;
	for (size_t i = 0; i < NATTACKS; i++) {
		o.scenario = ATTACKS[i];
		/* The floods fill the SYN queue with 5000; a blind sweep needs
		 * its default count to cover the sequence space. */
		o.count = strstr(ATTACKS[i], "flood") ? 5000 : -1;
		memset(res, 0, sizeof(*res));
		CHECK_EQ(demo_run(&o, NULL, res), 0);
		CHECK(res->ok);
	}
	free(res);
}

static void demo_handshake_states(void)
{
	one_scenario(&EXPECT[0]);
}
static void demo_server_closes_first_states(void)
{
	one_scenario(&EXPECT[1]);
}
static void demo_simultaneous_open_states(void)
{
	one_scenario(&EXPECT[2]);
}
static void demo_simultaneous_close_states(void)
{
	one_scenario(&EXPECT[3]);
}
static void demo_half_close_states(void)
{
	one_scenario(&EXPECT[4]);
}
static void demo_fin_before_data_states(void)
{
	one_scenario(&EXPECT[5]);
}
static void demo_time_wait_straggler_states(void)
{
	one_scenario(&EXPECT[6]);
}
static void demo_refused_states(void)
{
	one_scenario(&EXPECT[7]);
}
static void demo_syn_lost_states(void)
{
	one_scenario(&EXPECT[8]);
}
static void demo_close_wait_leak_states(void)
{
	one_scenario(&EXPECT[9]);
}
static void demo_fin_wait_1_stuck_states(void)
{
	one_scenario(&EXPECT[10]);
}
static void demo_fin_wait_2_timeout_states(void)
{
	one_scenario(&EXPECT[11]);
}
static void demo_zero_window_states(void)
{
	one_scenario(&EXPECT[12]);
}
static void demo_retransmit_states(void)
{
	one_scenario(&EXPECT[13]);
}

static void demo_window_scale_states(void)
{
	one_scenario(&EXPECT[14]);
}

static void demo_paws_states(void)
{
	one_scenario(&EXPECT[15]);
}

/* The ladder of zero-window shows the closed window, the probes (named,
 * since on the wire they are plain ACKs) and the window update; the probes
 * were counted. */
static void demo_zero_window_shows_probes(void)
{
	char *t = NULL;
	size_t n = 0;
	struct demo_result *r = run("zero-window", 1, 0, &t, &n);
	CHECK(r->ok);
	CHECK(t && strstr(t, "S. seq 0 ack 1 win 2920") != NULL);
	CHECK(t && strstr(t, ". ack 2921 win 0 ") != NULL);
	CHECK(t && strstr(t, "window probe 1 (persist timer)") != NULL);
	CHECK(t && strstr(t, "window probe 2 (persist timer)") != NULL);
	CHECK(t && strstr(t, ". ack 2921 win 2920 ") != NULL);
	CHECK(r->host[DEMO_CLIENT].stats.WinProbes >= 2);
	free(t);
	free(r);
}

/* The SYN and SYN-ACK show their options in tcpdump's notation, in the
 * ladder under the arrow and in --json as "options"; other segments none. */
static void demo_handshake_shows_syn_options(void)
{
	char *t = NULL, *j = NULL;
	size_t n = 0, nj = 0;
	struct demo_result *r = run("handshake", 1, 0, &t, &n);
	struct demo_result *rj = run("handshake", 1, 1, &j, &nj);
	CHECK(r->ok && rj->ok);
	CHECK(t && strstr(t, "[mss 1460,sackOK,TS val ") != NULL);
	CHECK(t && strstr(t, " ecr 0,nop,wscale 7]") != NULL);
	const char *syn = j ? strstr(j, "\"ev\":\"tx\",\"flags\":\"S\"") : NULL;
	CHECK(syn && strstr(syn, "\"options\":\"mss 1460,sackOK,TS val ") != NULL);
	const char *synack = j ? strstr(j, "\"ev\":\"tx\",\"flags\":\"S.\"") : NULL;
	const char *nl = synack ? strchr(synack, '\n') : NULL;
	const char *o = synack ? strstr(synack, ",nop,wscale 7\"}") : NULL;
	CHECK(o && nl && o < nl);
	/* The ACK that completes the handshake carries none. */
	const char *ack = j ? strstr(j, "\"ev\":\"tx\",\"flags\":\".\"") : NULL;
	nl = ack ? strchr(ack, '\n') : NULL;
	o = ack ? strstr(ack, "options") : NULL;
	CHECK(ack && nl && (!o || o > nl));
	free(t);
	free(j);
	free(r);
	free(rj);
}

/* The ladder of retransmit shows the lost segment and names what repaired
 * it; a check says which mechanism it was. */
static void demo_retransmit_names_mechanism(void)
{
	char *t = NULL;
	size_t n = 0;
	struct demo_result *r = run("retransmit", 1, 0, &t, &n);
	CHECK(r->ok);
	CHECK(t && strstr(t, "seq 1449:2897(1448) ack 1 win 512 x") != NULL);
	int fast = t && strstr(t, "^ fast retransmit of seq 1449") != NULL;
	int rto = t && strstr(t, "^ retransmission timeout of seq 1449") != NULL;
	CHECK(fast + rto == 1);
	int named = 0;
	for (size_t i = 0; i < r->nchecks; i++)
		named += strncmp(r->checks[i].what, "repaired by ", 12) == 0;
	CHECK_EQ(named, 1);
	CHECK_EQ(fast, r->host[DEMO_CLIENT].stats.FastRetrans > 0);
	free(t);
	free(r);
}

/* Every listed scenario has an expectation here and runs in both formats. */
static void demo_every_scenario_is_tested(void)
{
	CHECK_EQ(demo_scenario_count(), NEXPECT + NATTACKS);
	for (size_t i = 0; i < demo_scenario_count(); i++) {
		const struct demo_scenario_info *info = demo_scenario_info(i);
		int found = 0;
		for (size_t j = 0; j < NEXPECT; j++)
			found += strcmp(info->name, EXPECT[j].scenario) == 0;
		for (size_t j = 0; j < NATTACKS; j++)
			found += strcmp(info->name, ATTACKS[j]) == 0;
		CHECK_EQ(found, 1);
		CHECK(strlen(info->description) > 10);
	}
	CHECK(demo_scenario_info(demo_scenario_count()) == NULL);
	CHECK_EQ(demo_scenario_find("no-such-thing"), -1);
}

static void demo_same_seed_same_json(void)
{
	for (size_t i = 0; i < NEXPECT; i++) {
		char *a = NULL, *b = NULL;
		size_t na = 0, nb = 0;
		struct demo_result *ra = run(EXPECT[i].scenario, 7, 1, &a, &na);
		struct demo_result *rb = run(EXPECT[i].scenario, 7, 1, &b, &nb);
		CHECK(na > 0);
		CHECK_EQ(na, nb);
		CHECK(a && b && na == nb && memcmp(a, b, na) == 0);
		CHECK(a && strstr(a, "{\"ev\":\"summary\",\"ok\":true") != NULL);
		free(a);
		free(b);
		free(ra);
		free(rb);
	}
}

static void demo_different_seeds_different_isns(void)
{
	char *a = NULL, *b = NULL;
	size_t na = 0, nb = 0;
	struct demo_result *ra = run("handshake", 1, 1, &a, &na);
	struct demo_result *rb = run("handshake", 2, 1, &b, &nb);
	CHECK(ra->host[DEMO_CLIENT].sent_syn && rb->host[DEMO_CLIENT].sent_syn);
	CHECK(ra->host[DEMO_CLIENT].iss != rb->host[DEMO_CLIENT].iss);
	CHECK(ra->host[DEMO_SERVER].iss != rb->host[DEMO_SERVER].iss);
	CHECK(ra->host[DEMO_CLIENT].iss != ra->host[DEMO_SERVER].iss);
	CHECK(ra->host[DEMO_CLIENT].iss != 0 && ra->host[DEMO_SERVER].iss != 0);
	CHECK(!(na == nb && memcmp(a, b, na) == 0));
	free(a);
	free(b);
	free(ra);
	free(rb);
}

/* The ladder names both hosts, draws arrows and ends with the verdict. */
static void demo_ladder_shape(void)
{
	char *t = NULL;
	size_t n = 0;
	struct demo_result *r = run("handshake", 1, 0, &t, &n);
	CHECK(t && strstr(t, "client 10.0.0.1:") != NULL);
	CHECK(t && strstr(t, "server 10.0.0.2:80") != NULL);
	CHECK(t && strstr(t, "SYN_SENT -> ESTABLISHED") != NULL);
	CHECK(t && strstr(t, "FIN_WAIT_1 -> FIN_WAIT_2") != NULL);
	CHECK(t && strstr(t, "S seq 0 win") != NULL);
	CHECK(t && strstr(t, "S. seq 0 ack 1 win") != NULL);
	CHECK(t && strstr(t, "----->|") != NULL);
	CHECK(t && strstr(t, "|<-----") != NULL);
	CHECK(t && n > 3 && strcmp(t + n - 3, "ok\n") == 0);
	/* Lines stay readable on a 100-column terminal. */
	for (char *p = t, *nl; p && *p; p = nl + 1) {
		nl = strchr(p, '\n');
		if (!nl)
			break;
		CHECK(nl - p <= 100);
	}
	free(t);
	free(r);

	t = NULL;
	r = run("syn-lost", 1, 0, &t, &n);
	CHECK(t && strstr(t, "x") != NULL && strstr(t, "lost") != NULL);
	free(t);
	free(r);
}

/* Settings given on the command line reach both stacks. */
static void demo_time_wait_flag_is_used(void)
{
	struct demo_opts o;
	demo_opts_default(&o);
	o.time_wait_ms = 1234;
	o.fin_timeout_ms = 4321;
	struct demo_result *res = calloc(1, sizeof(*res));
	CHECK_EQ(demo_run(&o, NULL, res), 0);
	CHECK(res->ok);
	const struct demo_host_result *c = &res->host[DEMO_CLIENT];
	uint64_t entered = 0, left = 0;
	for (size_t i = 0; i < c->ntr; i++) {
		if (c->tr[i].to == SYNACK_TIME_WAIT)
			entered = c->tr[i].t_us;
		if (c->tr[i].from == SYNACK_TIME_WAIT)
			left = c->tr[i].t_us;
	}
	CHECK_EQ_U64(left - entered, 1234000);
	free(res);

	o.scenario = "close-wait-leak";
	res = calloc(1, sizeof(*res));
	CHECK_EQ(demo_run(&o, NULL, res), 0);
	CHECK(res->ok);
	free(res);
}

static int parse(const char *a0, const char *a1, const char *a2, struct demo_opts *o)
{
	char *argv[3] = {(char *)a0, (char *)a1, (char *)a2};
	int argc = a0 ? (a1 ? (a2 ? 3 : 2) : 1) : 0;
	char err[256] = "";
	demo_opts_default(o);
	int r = demo_parse_args(argc, argv, o, err, sizeof(err));
	if (r != 0)
		CHECK(strlen(err) > 0);
	return r;
}

static void demo_args_parse(void)
{
	struct demo_opts o;
	CHECK_EQ(parse(NULL, NULL, NULL, &o), 0);
	CHECK_STR(o.scenario, "handshake");
	CHECK_EQ_U64(o.seed, 1);
	CHECK_EQ(parse("refused", "--seed", "42", &o), 0);
	CHECK_STR(o.scenario, "refused");
	CHECK_EQ_U64(o.seed, 42);
	CHECK_EQ(parse("--loss=0.25", "--json", NULL, &o), 0);
	CHECK(o.loss == 0.25 && o.json);
	CHECK_EQ(parse("--delay-ms", "0", NULL, &o), 0);
	CHECK_EQ(o.delay_ms, 0);
	CHECK_EQ(parse("--time-wait-ms", "100", "--list", &o), 0);
	CHECK_EQ(o.time_wait_ms, 100);
	CHECK(o.list);

	CHECK_EQ(parse("no-such-scenario", NULL, NULL, &o), -1);
	CHECK_EQ(parse("--bogus", NULL, NULL, &o), -1);
	CHECK_EQ(parse("--seed", NULL, NULL, &o), -1);
	CHECK_EQ(parse("--seed", "-1", NULL, &o), -1);
	CHECK_EQ(parse("--seed", "abc", NULL, &o), -1);
	CHECK_EQ(parse("--loss", "1.5", NULL, &o), -1);
	CHECK_EQ(parse("--dup", "-0.1", NULL, &o), -1);
	CHECK_EQ(parse("--reorder", "nan", NULL, &o), -1);
	CHECK_EQ(parse("--delay-ms", "-5", NULL, &o), -1);
	CHECK_EQ(parse("--delay-ms", "10x", NULL, &o), -1);
	CHECK_EQ(parse("--fin-timeout-ms", "", NULL, &o), -1);
	CHECK_EQ(parse("handshake", "refused", NULL, &o), -1);
	CHECK_EQ(parse("syn-flood", "--count", "5000", &o), 0);
	CHECK_EQ(o.count, 5000);
	CHECK_EQ(o.clients, -1);
	CHECK_EQ(parse("--clients=7", NULL, NULL, &o), 0);
	CHECK_EQ(o.clients, 7);
	CHECK_EQ(parse("--clients", "0", NULL, &o), -1);
	CHECK_EQ(parse("--clients", "60001", NULL, &o), -1);
	CHECK_EQ(parse("--count", "-1", NULL, &o), -1);
	CHECK_EQ(parse("--count", "lots", NULL, &o), -1);
	CHECK_EQ(parse("handshake", "--ipv6", NULL, &o), 0);
	CHECK(o.ipv6);
	CHECK_EQ(parse("handshake", NULL, NULL, &o), 0);
	CHECK(!o.ipv6);
}

int main(void)
{
	RUN(demo_handshake_states);
	RUN(demo_server_closes_first_states);
	RUN(demo_simultaneous_open_states);
	RUN(demo_simultaneous_close_states);
	RUN(demo_half_close_states);
	RUN(demo_fin_before_data_states);
	RUN(demo_time_wait_straggler_states);
	RUN(demo_refused_states);
	RUN(demo_syn_lost_states);
	RUN(demo_close_wait_leak_states);
	RUN(demo_fin_wait_1_stuck_states);
	RUN(demo_fin_wait_2_timeout_states);
	RUN(demo_zero_window_states);
	RUN(demo_retransmit_states);
	RUN(demo_window_scale_states);
	RUN(demo_paws_states);
	RUN(demo_zero_window_shows_probes);
	RUN(demo_retransmit_names_mechanism);
	RUN(demo_handshake_shows_syn_options);
	RUN(demo_every_scenario_is_tested);
	RUN(demo_same_seed_same_json);
	RUN(demo_different_seeds_different_isns);
	RUN(demo_ladder_shape);
	RUN(demo_time_wait_flag_is_used);
	RUN(demo_args_parse);
	RUN(demo_every_scenario_over_ipv6);
	return check_summary("test_demo");
}
