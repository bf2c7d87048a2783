/*
 * The attack scenarios of `synack demo` on the simulated network, asserted
 * through their figures: every legitimate connection succeeds with its data
 * intact, no established connection is reset or corrupted, the defences
 * were exercised (cookies, challenge ACKs), and the server's memory, counted
 * in TCBs, stays under 1 (listener) + the SYN queue (1024) + one per client
 * whatever the size of the attack.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "demo.h"

static struct demo_result *run(const char *scenario, int64_t count, int64_t clients, uint64_t seed,
                               char **json, size_t *len)
{
	struct demo_opts o;
	demo_opts_default(&o);
	o.scenario = scenario;
	o.count = count;
	o.clients = clients;
	o.seed = seed;
	o.json = json != NULL;
	struct demo_result *res = calloc(1, sizeof(*res));
	FILE *out = json ? open_memstream(json, len) : NULL;
	CHECK_EQ(demo_run(&o, out, res), 0);
	if (out)
		fclose(out);
	for (size_t i = 0; i < res->nchecks; i++)
		if (!res->checks[i].ok)
			fprintf(stderr, "  %s: check failed: %s\n", scenario, res->checks[i].what);
	return res;
}

static uint64_t fig(const struct demo_result *r, const char *name)
{
	uint64_t v = demo_figure(r, name);
	if (v == UINT64_MAX)
		fprintf(stderr, "  no figure %s\n", name);
	return v;
}

static void common(const struct demo_result *r, uint64_t clients)
{
	CHECK(r->ok);
	CHECK(!r->capped);
	CHECK_EQ_U64(fig(r, "clients"), clients);
	CHECK_EQ_U64(fig(r, "legit_ok"), clients);
	CHECK_EQ_U64(fig(r, "legit_failed"), 0);
	CHECK_EQ_U64(fig(r, "legit_corrupted"), 0);
	CHECK_EQ_U64(fig(r, "legit_reset"), 0);
	CHECK_EQ_U64(fig(r, "accepted"), clients);
	CHECK(fig(r, "peak_conns") <= 1 + 1024 + clients);
	CHECK_EQ_U64(fig(r, "conns_bound"), 1 + 1024 + clients);
	CHECK_EQ_U64(fig(r, "final_conns"), 1);
}

/* The full demo: 1,000,000 spoofed SYNs from random sources while 1,000
 * clients connect; every one gets through on a cookie. */
static void syn_flood_million(void)
{
	struct demo_result *r = run("syn-flood", -1, -1, 1, NULL, NULL);
	common(r, 1000);
	CHECK_EQ_U64(fig(r, "spoofed_syns"), 1000000);
	CHECK_EQ_U64(fig(r, "syn_queue_max"), 1024);
	/* The queue holds 1024; every other SYN, spoofed or not, got a cookie. */
	CHECK_EQ_U64(fig(r, "syncookies_sent") + 1024, 1000000 + 1000);
	CHECK_EQ_U64(fig(r, "syncookies_recv"), 1000);
	CHECK_EQ_U64(fig(r, "syncookies_failed"), 0);
	CHECK_EQ_U64(fig(r, "listen_drops"), 0);
	CHECK_EQ_U64(fig(r, "synack_timeouts"), 1024);
	CHECK_EQ_U64(r->host[DEMO_SERVER].stats.PassiveOpens, 1024 + 1000);
	free(r);
}

/* The bound does not grow with the attack: a hundred times fewer SYNs,
 * the same peak within the clients' share. */
static void syn_flood_memory_independent_of_size(void)
{
	struct demo_result *small = run("syn-flood", 10000, 50, 3, NULL, NULL);
	struct demo_result *big = run("syn-flood", 1000000, 50, 3, NULL, NULL);
	common(small, 50);
	common(big, 50);
	CHECK(fig(small, "peak_conns") >= 1 + 1024);
	CHECK(fig(big, "peak_conns") <= 1 + 1024 + 50);
	/* In bytes (synack_memory): a hundred times the SYNs may add reused
	 * packet buffers (bounded by the outbox), nothing per SYN. */
	CHECK(fig(small, "peak_mem_bytes") > 0);
	CHECK(fig(big, "peak_mem_bytes") < 2 * fig(small, "peak_mem_bytes"));
	CHECK(fig(big, "syncookies_sent") > 90 * fig(small, "syncookies_sent"));
	free(small);
	free(big);
}

static void blind_reset_resets_nothing(void)
{
	struct demo_result *r = run("blind-reset", -1, -1, 1, NULL, NULL);
	common(r, 4);
	CHECK_EQ_U64(fig(r, "forged_rsts"), 4 * 65538);
	CHECK_EQ_U64(fig(r, "estab_resets"), 0);
	/* A sweep a window at a time lands in every window about once. */
	CHECK(fig(r, "rst_challenges") >= 4);
	CHECK_EQ_U64(fig(r, "challenge_acks") + fig(r, "challenge_acks_limited"),
	             fig(r, "rst_challenges"));
	CHECK(fig(r, "rounds") >= 100 * 4);
	free(r);
}

static void blind_data_corrupts_nothing(void)
{
	for (uint64_t seed = 1; seed <= 3; seed++) {
		struct demo_result *r = run("blind-data", -1, 3, seed, NULL, NULL);
		common(r, 3);
		CHECK_EQ_U64(fig(r, "forged_segments"), 3 * 65538);
		CHECK(fig(r, "ack_challenges") >= 3);
		CHECK_EQ_U64(fig(r, "estab_resets"), 0);
		free(r);
	}
}

static void ack_flood_makes_no_connection(void)
{
	struct demo_result *r = run("ack-flood", 200000, 200, 1, NULL, NULL);
	common(r, 200);
	CHECK_EQ_U64(fig(r, "spoofed_acks"), 200000);
	CHECK_EQ_U64(fig(r, "syncookies_failed"), 200000);
	CHECK_EQ_U64(fig(r, "syncookies_recv"), 200);
	CHECK(fig(r, "rsts_sent") >= 200000);
	CHECK(fig(r, "peak_conns") <= 1 + 200);
	free(r);
}

/* Same seed, same summary; the summary names the figures. */
static void attack_json_is_deterministic(void)
{
	static const char *const names[] = {"syn-flood", "blind-reset", "blind-data", "ack-flood"};
	for (size_t i = 0; i < 4; i++) {
		char *a = NULL, *b = NULL;
		size_t na = 0, nb = 0;
		free(run(names[i], 20000, 5, 9, &a, &na));
		free(run(names[i], 20000, 5, 9, &b, &nb));
		CHECK(na > 0 && na == nb && memcmp(a, b, na) == 0);
		CHECK(a && strncmp(a, "{\"ev\":\"summary\",\"ok\":true,", 26) == 0);
		CHECK(a && strstr(a, "\"legit_ok\":5,\"legit_failed\":0,") != NULL);
		CHECK(a && strchr(a, '\n') == a + na - 1);
		free(a);
		free(b);
	}
}

int main(void)
{
	RUN(syn_flood_million);
	RUN(syn_flood_memory_independent_of_size);
	RUN(blind_reset_resets_nothing);
	RUN(blind_data_corrupts_nothing);
	RUN(ack_flood_makes_no_connection);
	RUN(attack_json_is_deterministic);
	return check_summary("test_hostile_demo");
}
