/*
 * The simulated network: routing, impairments, filters, down hosts and
 * determinism, driven with real stacks.  Traffic comes from injected SYNs to
 * a closed port: RFC 9293 3.10.7.1 makes the receiving stack answer each one
 * with a RST, which then crosses the simulated path back to the sender's
 * address, so every datagram the tests measure was emitted by a stack.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "synack/sim.h"
#include "synack/synack.h"

#define ADDR_A 0x0a000001u      /* 10.0.0.1 */
#define ADDR_B 0x0a000002u      /* 10.0.0.2 */
#define ADDR_NOBODY 0x0a000009u /* 10.0.0.9, owned by no host */
#define CLOSED_PORT 9
#define SNAP 64 /* bytes of each datagram the recorder keeps */

/* ------------------------------------------------------------------ */
/* A tap that records every event.                                     */

struct ev {
	uint64_t t;
	int event, from, to;
	size_t len;
	uint64_t hash;
	uint8_t bytes[SNAP];
};

struct log {
	struct ev *v;
	size_t n, cap;
};

static uint64_t fnv1a(const uint8_t *p, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

static void record(void *ctx, int event, int from, int to, const uint8_t *pkt, size_t len,
                   uint64_t now)
{
	struct log *log = ctx;
	if (log->n == log->cap) {
		size_t cap = log->cap ? log->cap * 2 : 256;
		struct ev *v = realloc(log->v, cap * sizeof(*v));
		if (!v)
			abort();
		log->v = v;
		log->cap = cap;
	}
	struct ev *e = &log->v[log->n++];
	memset(e, 0, sizeof(*e));
	e->t = now;
	e->event = event;
	e->from = from;
	e->to = to;
	e->len = len;
	e->hash = fnv1a(pkt, len);
	memcpy(e->bytes, pkt, len < SNAP ? len : SNAP);
}

static size_t count_events(const struct log *log, int event, int from, int to)
{
	size_t n = 0;
	for (size_t i = 0; i < log->n; i++)
		n += log->v[i].event == event && log->v[i].from == from && log->v[i].to == to;
	return n;
}

/* The events of one kind and direction, in the order they happened. */
static size_t select_events(const struct log *log, int event, int from, int to,
                            const struct ev **out)
{
	size_t n = 0;
	for (size_t i = 0; i < log->n; i++)
		if (log->v[i].event == event && log->v[i].from == from && log->v[i].to == to)
			out[n++] = &log->v[i];
	return n;
}

/* ------------------------------------------------------------------ */
/* Two stacks on one simulator.                                        */

struct net {
	struct synack_sim *sim;
	struct synack_stack *st[2];
	int a, b;
	struct log log;
};

static struct synack_stack *stack_at(uint32_t addr)
{
	struct synack_config cfg;
	synack_config_default(&cfg);
	cfg.addr = addr;
	for (int i = 0; i < 16; i++)
		cfg.secret[i] = (uint8_t)(7 * i + 1);
	int err = 0;
	struct synack_stack *st = synack_stack_new(&cfg, &err);
	CHECK(st != NULL);
	CHECK_EQ(err, 0);
	return st;
}

static int net_open(struct net *n, uint64_t seed)
{
	memset(n, 0, sizeof(*n));
	n->sim = synack_sim_new(seed);
	CHECK(n->sim != NULL);
	n->st[0] = stack_at(ADDR_A);
	n->st[1] = stack_at(ADDR_B);
	if (!n->sim || !n->st[0] || !n->st[1])
		return -1;
	n->a = synack_sim_add_host(n->sim, n->st[0], "a");
	n->b = synack_sim_add_host(n->sim, n->st[1], "b");
	CHECK_EQ(n->a, 0);
	CHECK_EQ(n->b, 1);
	synack_sim_set_tap(n->sim, record, &n->log);
	return 0;
}

static void net_close(struct net *n)
{
	synack_sim_free(n->sim);
	for (int i = 0; i < 2; i++)
		if (n->st[i])
			synack_stack_free(n->st[i]);
	free(n->log.v);
}

/* ------------------------------------------------------------------ */
/* Hand-built datagrams.                                               */

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

static uint32_t get32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static uint32_t sum16(uint32_t sum, const uint8_t *p, size_t len)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)((p[i] << 8) | p[i + 1]);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

static uint16_t fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* A 40-byte IPv4 + TCP SYN with valid checksums.  Returns its length. */
static size_t build_syn(uint8_t *buf, uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport,
                        uint32_t seq)
{
	memset(buf, 0, 40);
	buf[0] = 0x45;
	put16(buf + 2, 40);
	put16(buf + 4, (uint16_t)seq);
	buf[6] = 0x40; /* DF */
	buf[8] = 64;
	buf[9] = 6;
	put32(buf + 12, src);
	put32(buf + 16, dst);
	put16(buf + 10, fold(sum16(0, buf, 20)));

	uint8_t *tcp = buf + 20;
	put16(tcp, sport);
	put16(tcp + 2, dport);
	put32(tcp + 4, seq);
	tcp[12] = 5 << 4;
	tcp[13] = SYNACK_TH_SYN;
	put16(tcp + 14, 65535);
	uint8_t pseudo[12];
	put32(pseudo, src);
	put32(pseudo + 4, dst);
	pseudo[8] = 0;
	pseudo[9] = 6;
	put16(pseudo + 10, 20);
	put16(tcp + 16, fold(sum16(sum16(0, pseudo, 12), tcp, 20)));
	return 40;
}

/* Queues count SYNs to host b's closed port, claiming to come from src, the
 * i-th at start + i * spacing.  Each draws one RST from b. */
static void inject_syns(struct net *n, uint32_t src, size_t count, uint64_t start, uint64_t spacing)
{
	uint8_t pkt[40];
	for (size_t i = 0; i < count; i++) {
		size_t len = build_syn(pkt, src, ADDR_B, (uint16_t)(1024 + i % 60000), CLOSED_PORT,
		                       (uint32_t)(1000003u * i + 17));
		CHECK_EQ(synack_sim_inject(n->sim, n->b, pkt, len, start + i * spacing), 0);
	}
}

/* ------------------------------------------------------------------ */
/* Hosts and arguments.                                                */

static void hosts_are_named_and_found_by_address(void)
{
	struct synack_sim *sim = synack_sim_new(1);
	struct synack_stack *a = stack_at(ADDR_A), *b = stack_at(ADDR_B), *a2 = stack_at(ADDR_A);
	char name[8] = "alpha";
	CHECK_EQ(synack_sim_add_host(sim, a, name), 0);
	strcpy(name, "xxxx");
	CHECK_EQ(synack_sim_add_host(sim, b, NULL), 1);
	CHECK_EQ(synack_sim_add_host(sim, a2, "again"), -EEXIST);
	CHECK_EQ(synack_sim_add_host(sim, NULL, "none"), -EINVAL);

	CHECK_STR(synack_sim_host_name(sim, 0), "alpha");
	CHECK(synack_sim_host_name(sim, 1) != NULL);
	CHECK(synack_sim_host_name(sim, 2) == NULL);
	CHECK(synack_sim_host_name(sim, -1) == NULL);
	CHECK(synack_sim_stack(sim, 0) == a);
	CHECK(synack_sim_stack(sim, 1) == b);
	CHECK(synack_sim_stack(sim, 2) == NULL);
	CHECK_EQ(synack_sim_host_by_addr(sim, ADDR_A), 0);
	CHECK_EQ(synack_sim_host_by_addr(sim, ADDR_B), 1);
	CHECK_EQ(synack_sim_host_by_addr(sim, ADDR_NOBODY), -1);

	synack_sim_free(sim);
	synack_stack_free(a);
	synack_stack_free(b);
	synack_stack_free(a2);
}

static void bad_arguments_are_refused(void)
{
	struct net n;
	if (net_open(&n, 1) == 0) {
		struct synack_sim_path ok = {.loss = 1.0, .dup = 0.0};
		CHECK_EQ(synack_sim_set_path(n.sim, n.a, n.b, &ok), 0);
		CHECK_EQ(synack_sim_set_path(n.sim, n.a, 2, &ok), -EINVAL);
		CHECK_EQ(synack_sim_set_path(n.sim, -1, n.b, &ok), -EINVAL);
		CHECK_EQ(synack_sim_set_path(n.sim, n.a, n.b, NULL), -EINVAL);
		struct synack_sim_path bad = {.loss = -0.1};
		CHECK_EQ(synack_sim_set_path(n.sim, n.a, n.b, &bad), -EINVAL);
		bad = (struct synack_sim_path){.dup = 1.5};
		CHECK_EQ(synack_sim_set_path(n.sim, n.a, n.b, &bad), -EINVAL);
		bad = (struct synack_sim_path){.reorder = NAN};
		CHECK_EQ(synack_sim_set_path(n.sim, n.a, n.b, &bad), -EINVAL);
		bad = (struct synack_sim_path){.corrupt = 2};
		CHECK_EQ(synack_sim_set_path(n.sim, n.a, n.b, &bad), -EINVAL);
		CHECK_EQ(synack_sim_set_down(n.sim, 5, 1), -EINVAL);

		uint8_t pkt[40];
		size_t len = build_syn(pkt, ADDR_A, ADDR_B, 1000, CLOSED_PORT, 1);
		CHECK_EQ(synack_sim_inject(n.sim, 2, pkt, len, 0), -EINVAL);
		CHECK_EQ(synack_sim_inject(n.sim, -1, pkt, len, 0), -EINVAL);
		CHECK_EQ(synack_sim_inject(n.sim, n.b, pkt, 0, 0), -EINVAL);
		CHECK_EQ(synack_sim_inject(n.sim, n.b, pkt, 65536, 0), -EINVAL);
		synack_sim_run_until(n.sim, 5000);
		CHECK_EQ_U64(synack_sim_now(n.sim), 5000);
		CHECK_EQ(synack_sim_inject(n.sim, n.b, pkt, len, 4999), -EINVAL);
		CHECK_EQ(synack_sim_inject(n.sim, n.b, pkt, len, 5000), 0);

		struct synack_sim_counters c;
		memset(&c, 0xff, sizeof(c));
		synack_sim_counters(n.sim, n.a, 7, &c);
		CHECK_EQ_U64(c.sent + c.delivered + c.lost + c.no_route, 0);
	}
	net_close(&n);
}

/* ------------------------------------------------------------------ */
/* Time and ordering.                                                  */

static void idle_network_has_no_next_event(void)
{
	struct synack_sim *empty = synack_sim_new(3);
	CHECK_EQ_U64(synack_sim_step(empty), SYNACK_NEVER);
	CHECK_EQ_U64(synack_sim_next_event(empty), SYNACK_NEVER);
	synack_sim_run_until(empty, 700);
	CHECK_EQ_U64(synack_sim_now(empty), 700);
	synack_sim_free(empty);

	struct net n;
	if (net_open(&n, 3) == 0) {
		CHECK_EQ_U64(synack_sim_next_event(n.sim), SYNACK_NEVER);
		CHECK_EQ_U64(synack_sim_step(n.sim), SYNACK_NEVER);
		CHECK_EQ_U64(synack_sim_now(n.sim), 0);
		CHECK_EQ(n.log.n, 0);
	}
	net_close(&n);
}

static void injected_datagrams_arrive_in_time_then_queue_order(void)
{
	struct net n;
	if (net_open(&n, 4) == 0) {
		uint8_t pkt[6][40];
		uint64_t at[6] = {300, 100, 200, 400, 400, 400};
		for (int i = 0; i < 6; i++) {
			size_t len = build_syn(pkt[i], ADDR_A, ADDR_B, (uint16_t)(2000 + i),
			                       CLOSED_PORT, (uint32_t)i);
			CHECK_EQ(synack_sim_inject(n.sim, n.b, pkt[i], len, at[i]), 0);
		}
		CHECK_EQ_U64(synack_sim_next_event(n.sim), 100);
		CHECK_EQ_U64(synack_sim_step(n.sim), 100);
		CHECK_EQ_U64(synack_sim_now(n.sim), 100);
		synack_sim_run_until(n.sim, 1000);
		CHECK_EQ_U64(synack_sim_now(n.sim), 1000);

		const struct ev *got[16];
		size_t k = select_events(&n.log, SYNACK_SIM_DELIVERED, -1, n.b, got);
		int want[6] = {1, 2, 0, 3, 4, 5};
		CHECK_EQ(k, 6);
		for (size_t i = 0; i < k && i < 6; i++) {
			CHECK_EQ_U64(got[i]->t, at[want[i]]);
			CHECK_EQ_U64(got[i]->hash, fnv1a(pkt[want[i]], 40));
		}
		/* Injected datagrams come from no host and count on no path. */
		CHECK_EQ(count_events(&n.log, SYNACK_SIM_SENT, -1, n.b), 0);
		struct synack_sim_counters c;
		synack_sim_counters(n.sim, n.a, n.b, &c);
		CHECK_EQ_U64(c.delivered, 0);
	}
	net_close(&n);
}

/* RFC 9293 3.10.7.1: a SYN to a closed port draws <SEQ=0><ACK=SEG.SEQ+1><CTL=RST,ACK>. */
static void syn_to_closed_port_draws_rst_across_the_path(void)
{
	struct net n;
	if (net_open(&n, 5) == 0) {
		struct synack_sim_path p = {.delay_us = 2500};
		CHECK_EQ(synack_sim_set_path(n.sim, n.b, n.a, &p), 0);
		uint8_t syn[40];
		size_t len = build_syn(syn, ADDR_A, ADDR_B, 40000, CLOSED_PORT, 0x12345678);
		CHECK_EQ(synack_sim_inject(n.sim, n.b, syn, len, 1000), 0);
		CHECK_EQ_U64(synack_sim_step(n.sim), 1000);
		CHECK_EQ(count_events(&n.log, SYNACK_SIM_SENT, n.b, n.a), 1);
		CHECK_EQ_U64(synack_sim_next_event(n.sim), 3500);
		CHECK_EQ_U64(synack_sim_step(n.sim), 3500);

		const struct ev *got[4];
		CHECK_EQ(select_events(&n.log, SYNACK_SIM_DELIVERED, n.b, n.a, got), 1);
		if (n.log.n >= 3 && got[0]->len >= 40) {
			const uint8_t *rst = got[0]->bytes;
			CHECK_EQ(get32(rst + 12), ADDR_B);
			CHECK_EQ(get32(rst + 16), ADDR_A);
			CHECK_EQ(rst[9], 6);
			CHECK_EQ(rst[20 + 13] & (SYNACK_TH_RST | SYNACK_TH_ACK),
			         SYNACK_TH_RST | SYNACK_TH_ACK);
			CHECK_EQ(get32(rst + 28), 0x12345679u);
			CHECK_EQ_U64(got[0]->t, 3500);
		}
		struct synack_sim_counters c;
		synack_sim_counters(n.sim, n.b, n.a, &c);
		CHECK_EQ_U64(c.sent, 1);
		CHECK_EQ_U64(c.delivered, 1);
		/* A answers no RST, so the network falls silent. */
		CHECK_EQ_U64(synack_sim_step(n.sim), SYNACK_NEVER);
	}
	net_close(&n);
}

/* ------------------------------------------------------------------ */
/* Impairments.                                                        */

#define MANY 10000
#define SPACING 10

/* Sends MANY RSTs from b to a over path p, one every SPACING us. */
static void run_many(struct net *n, const struct synack_sim_path *p)
{
	CHECK_EQ(synack_sim_set_path(n->sim, n->b, n->a, p), 0);
	inject_syns(n, ADDR_A, MANY, 0, SPACING);
	synack_sim_run_until(n->sim, (uint64_t)MANY * SPACING + 10000000);
	CHECK_EQ(count_events(&n->log, SYNACK_SIM_SENT, n->b, n->a), MANY);
}

static int within(uint64_t v, double lo, double hi)
{
	return (double)v >= lo && (double)v <= hi;
}

static void loss_rate_follows_probability(void)
{
	struct net n;
	if (net_open(&n, 6) == 0) {
		struct synack_sim_path p = {.loss = 0.1, .delay_us = 100};
		run_many(&n, &p);
		struct synack_sim_counters c;
		synack_sim_counters(n.sim, n.b, n.a, &c);
		CHECK_EQ_U64(c.sent, MANY);
		CHECK(within(c.lost, 0.08 * MANY, 0.12 * MANY));
		CHECK_EQ_U64(c.delivered + c.lost, c.sent);
		CHECK_EQ_U64(c.duplicated + c.reordered + c.corrupted + c.filtered + c.no_route, 0);
		CHECK_EQ(count_events(&n.log, SYNACK_SIM_DELIVERED, n.b, n.a), c.delivered);
		CHECK_EQ(count_events(&n.log, SYNACK_SIM_LOST, n.b, n.a), c.lost);
	}
	net_close(&n);
}

static void duplicates_follow_one_microsecond_later(void)
{
	struct net n;
	if (net_open(&n, 7) == 0) {
		struct synack_sim_path p = {.dup = 0.2, .delay_us = 50};
		run_many(&n, &p);
		struct synack_sim_counters c;
		synack_sim_counters(n.sim, n.b, n.a, &c);
		CHECK(within(c.duplicated, 0.17 * MANY, 0.23 * MANY));
		CHECK_EQ_U64(c.delivered, c.sent + c.duplicated);

		const struct ev **got = calloc(2 * MANY, sizeof(*got));
		size_t k = select_events(&n.log, SYNACK_SIM_DELIVERED, n.b, n.a, got);
		size_t pairs = 0;
		for (size_t i = 1; i < k; i++)
			pairs += got[i]->hash == got[i - 1]->hash && got[i]->t == got[i - 1]->t + 1;
		CHECK_EQ_U64(pairs, c.duplicated);
		free((void *)got);
	}
	net_close(&n);
}

/* Delivery delay of every datagram b sent to a, matched by content. */
struct sent_at {
	uint64_t hash, t;
};

static int by_hash(const void *x, const void *y)
{
	const struct sent_at *a = x, *b = y;
	if (a->hash != b->hash)
		return a->hash < b->hash ? -1 : 1;
	return 0;
}

/* Fills lat[] with delivery - send time for each delivery from b to a
 * recorded from log entry `first` on; -1 when unmatched. */
static size_t latencies(const struct net *n, size_t first, int64_t *lat)
{
	struct sent_at *sent = calloc(MANY, sizeof(*sent));
	size_t ns = 0, nl = 0;
	for (size_t i = first; i < n->log.n; i++) {
		const struct ev *e = &n->log.v[i];
		if (e->event == SYNACK_SIM_SENT && e->from == n->b && ns < MANY)
			sent[ns++] = (struct sent_at){e->hash, e->t};
	}
	qsort(sent, ns, sizeof(*sent), by_hash);
	for (size_t i = first; i < n->log.n; i++) {
		const struct ev *e = &n->log.v[i];
		if (e->event != SYNACK_SIM_DELIVERED || e->from != n->b)
			continue;
		struct sent_at key = {e->hash, 0};
		struct sent_at *s = bsearch(&key, sent, ns, sizeof(*sent), by_hash);
		lat[nl++] = s ? (int64_t)(e->t - s->t) : -1;
	}
	free(sent);
	return nl;
}

static void delay_is_exact_without_jitter(void)
{
	struct net n;
	if (net_open(&n, 8) == 0) {
		struct synack_sim_path p = {.delay_us = 3000};
		run_many(&n, &p);
		int64_t *lat = calloc(MANY, sizeof(*lat));
		size_t k = latencies(&n, 0, lat);
		CHECK_EQ(k, MANY);
		size_t exact = 0;
		for (size_t i = 0; i < k; i++)
			exact += lat[i] == 3000;
		CHECK_EQ(exact, MANY);
		free(lat);
	}
	net_close(&n);
}

static void jitter_stays_within_bounds(void)
{
	struct net n;
	if (net_open(&n, 9) == 0) {
		struct synack_sim_path p = {.delay_us = 2000, .jitter_us = 500};
		run_many(&n, &p);
		int64_t *lat = calloc(MANY, sizeof(*lat));
		size_t k = latencies(&n, 0, lat);
		CHECK_EQ(k, MANY);
		int64_t lo = INT64_MAX, hi = INT64_MIN;
		for (size_t i = 0; i < k; i++) {
			lo = lat[i] < lo ? lat[i] : lo;
			hi = lat[i] > hi ? lat[i] : hi;
		}
		CHECK(lo >= 2000 && lo < 2050);
		CHECK(hi <= 2500 && hi > 2450);
		free(lat);
	}
	net_close(&n);
}

static void reordered_datagrams_are_overtaken(void)
{
	struct net n;
	if (net_open(&n, 10) == 0) {
		/* Default hold: 2 * delay + 1 ms = 3 ms, 300 later datagrams. */
		struct synack_sim_path p = {.reorder = 0.25, .delay_us = 1000};
		run_many(&n, &p);
		struct synack_sim_counters c;
		synack_sim_counters(n.sim, n.b, n.a, &c);
		CHECK(within(c.reordered, 0.22 * MANY, 0.28 * MANY));
		CHECK_EQ_U64(c.delivered, MANY);

		int64_t *lat = calloc(MANY, sizeof(*lat));
		size_t k = latencies(&n, 0, lat);
		size_t held = 0, plain = 0;
		for (size_t i = 0; i < k; i++) {
			held += lat[i] == 4000;
			plain += lat[i] == 1000;
		}
		CHECK_EQ_U64(held, c.reordered);
		CHECK_EQ_U64(plain + held, MANY);

		/* An explicit hold replaces the default. */
		p.reorder_us = 150;
		CHECK_EQ(synack_sim_set_path(n.sim, n.b, n.a, &p), 0);
		size_t before = n.log.n;
		uint64_t start = synack_sim_now(n.sim);
		inject_syns(&n, ADDR_A, 1000, start, SPACING);
		synack_sim_run_until(n.sim, start + 100000);
		struct synack_sim_counters c2;
		synack_sim_counters(n.sim, n.b, n.a, &c2);
		k = latencies(&n, before, lat);
		CHECK_EQ(k, 1000);
		held = plain = 0;
		for (size_t i = 0; i < k; i++) {
			held += lat[i] == 1150;
			plain += lat[i] == 1000;
		}
		CHECK(held > 0);
		CHECK_EQ_U64(held, c2.reordered - c.reordered);
		CHECK_EQ_U64(plain + held, 1000);
		free(lat);
	}
	net_close(&n);
}

static void corruption_flips_exactly_one_bit(void)
{
	struct net n;
	if (net_open(&n, 11) == 0) {
		struct synack_sim_path p = {.corrupt = 0.1, .delay_us = 5};
		run_many(&n, &p);
		struct synack_sim_counters c;
		synack_sim_counters(n.sim, n.b, n.a, &c);
		CHECK(within(c.corrupted, 0.08 * MANY, 0.12 * MANY));
		CHECK_EQ_U64(c.delivered, MANY);

		/* Fixed delay and spacing keep deliveries in sending order. */
		const struct ev **sent = calloc(MANY, sizeof(*sent));
		const struct ev **got = calloc(MANY, sizeof(*got));
		size_t ns = select_events(&n.log, SYNACK_SIM_SENT, n.b, n.a, sent);
		size_t nd = select_events(&n.log, SYNACK_SIM_DELIVERED, n.b, n.a, got);
		CHECK_EQ(ns, nd);
		size_t flipped = 0, worse = 0;
		for (size_t i = 0; i < ns && i < nd; i++) {
			int bits = 0;
			size_t len = sent[i]->len < SNAP ? sent[i]->len : SNAP;
			for (size_t j = 0; j < len; j++)
				bits += __builtin_popcount(sent[i]->bytes[j] ^ got[i]->bytes[j]);
			flipped += bits == 1;
			worse += bits > 1;
		}
		CHECK_EQ_U64(flipped, c.corrupted);
		CHECK_EQ(worse, 0);
		free((void *)sent);
		free((void *)got);
	}
	net_close(&n);
}

/* ------------------------------------------------------------------ */
/* The bottleneck.                                                     */

/* Times of b's RSTs reaching a, in order. */
static size_t rst_arrivals(const struct net *n, uint64_t *t, size_t max)
{
	size_t k = 0;
	for (size_t i = 0; i < n->log.n && k < max; i++)
		if (n->log.v[i].event == SYNACK_SIM_DELIVERED && n->log.v[i].from == n->b &&
		    n->log.v[i].to == n->a)
			t[k++] = n->log.v[i].t;
	return k;
}

/* An established connection a -> b on port 80: *cs on a, *as on b. */
static void connect_pair(struct net *n, int *cs, int *as)
{
	int ls = synack_socket(n->st[1]);
	struct synack_endpoint srv = {.addr = ADDR_B, .port = 80};
	CHECK_EQ(synack_bind(n->st[1], ls, &srv), 0);
	CHECK_EQ(synack_listen(n->st[1], ls, 8), 0);
	*cs = synack_socket(n->st[0]);
	CHECK_EQ(synack_connect(n->st[0], *cs, &srv), -EINPROGRESS);
	synack_sim_run_until(n->sim, synack_sim_now(n->sim) + 100000);
	*as = synack_accept(n->st[1], ls, NULL);
	CHECK(*as >= 0);
	CHECK_EQ(synack_close(n->st[1], ls), 0);
}

/* Sends len bytes of a pattern a -> b and reads them back; returns how
 * many came back as sent (len when all did). */
static size_t transfer_pattern(struct net *n, int cs, int as, size_t len)
{
	static uint8_t out[(1 << 16) + 256], in[1 << 16];
	size_t sent = 0, got = 0, same = 0;
	for (size_t i = 0; i < sizeof out; i++)
		out[i] = (uint8_t)(i % 251 * 7 + 3);
	for (int round = 0; round < 10000 && got < len; round++) {
		if (sent < len) {
			size_t want = len - sent < (1 << 16) ? len - sent : (1 << 16);
			ssize_t k = synack_send(n->st[0], cs, out + sent % 251, want);
			if (k > 0)
				sent += (size_t)k;
		}
		synack_sim_run_until(n->sim, synack_sim_now(n->sim) + 1000);
		ssize_t k;
		while ((k = synack_recv(n->st[1], as, in, sizeof in, 0)) > 0) {
			for (ssize_t i = 0; i < k; i++)
				same += in[i] == (uint8_t)((got + (size_t)i) % 251 * 7 + 3);
			got += (size_t)k;
		}
	}
	return got == len ? same : 0;
}

/* synack_sim_set_csum_trust (issue 16 item 4): the intact segments of a
 * host reach the other as known good, a corrupted one is checked. */
static void csum_trust_vouches_only_for_intact_segments(void)
{
	CHECK_EQ(synack_sim_set_csum_trust(NULL, 1), -EINVAL);
	for (int trust = 0; trust < 2; trust++) {
		struct net n;
		if (net_open(&n, 5) != 0) {
			net_close(&n);
			continue;
		}
		CHECK_EQ(synack_sim_set_csum_trust(n.sim, trust), 0);
		int cs, as;
		connect_pair(&n, &cs, &as);
		CHECK_EQ(transfer_pattern(&n, cs, as, 200000), 200000);
		struct synack_stats st;
		synack_stats(n.st[1], &st);
		/* Off (the default), every checksum is summed. */
		CHECK_EQ_U64(st.InCsumTrusted, trust ? st.InSegs : 0);
		CHECK_EQ_U64(st.InCsumErrors, 0);
		/* Corrupted on the way: summed, caught and dropped, and the
		 * data still arrives as sent. */
		struct synack_sim_path p = {.corrupt = 0.2};
		CHECK_EQ(synack_sim_set_path(n.sim, n.a, n.b, &p), 0);
		uint64_t trusted = st.InCsumTrusted, segs = st.InSegs;
		CHECK_EQ(transfer_pattern(&n, cs, as, 200000), 200000);
		synack_stats(n.st[1], &st);
		struct synack_sim_counters c;
		synack_sim_counters(n.sim, n.a, n.b, &c);
		CHECK(c.corrupted > 0);
		CHECK(st.InCsumErrors > 0);
		if (trust)
			CHECK(st.InCsumTrusted - trusted < st.InSegs - segs + st.InCsumErrors);
		net_close(&n);
	}
}

/* 1500 bytes take exactly 1 ms at 12 Mbit/s: a burst of ten full segments
 * leaves the link 1 ms apart and arrives 1 ms apart after the delay. */
static void bottleneck_spaces_full_segments_by_their_transmission_time(void)
{
	struct net n;
	if (net_open(&n, 20) == 0) {
		struct synack_sim_path p = {.delay_us = 2000, .rate_bps = 12000000};
		CHECK_EQ(synack_sim_set_path(n.sim, n.a, n.b, &p), 0);
		CHECK_EQ(synack_sim_set_path(n.sim, n.b, n.a, &p), 0);
		int cs, as;
		connect_pair(&n, &cs, &as);
		size_t before = n.log.n;
		uint64_t t0 = synack_sim_now(n.sim);

		static uint8_t data[14600];
		for (size_t i = 0; i < sizeof(data); i++)
			data[i] = (uint8_t)(i * 7);
		CHECK_EQ(synack_send(n.st[0], cs, data, sizeof(data)), (ssize_t)sizeof(data));
		synack_sim_run_until(n.sim, t0 + 100000);

		uint64_t sent[10], got[10];
		size_t ns = 0, ng = 0;
		for (size_t i = before; i < n.log.n; i++) {
			const struct ev *e = &n.log.v[i];
			if (e->from != n.a || e->len != 1500)
				continue;
			if (e->event == SYNACK_SIM_SENT && ns < 10)
				sent[ns++] = e->t;
			if (e->event == SYNACK_SIM_DELIVERED && ng < 10)
				got[ng++] = e->t;
		}
		CHECK_EQ(ns, 10);
		CHECK_EQ(ng, 10);
		for (size_t i = 0; i < ns && i < ng; i++) {
			CHECK_EQ_U64(sent[i], t0);
			CHECK_EQ_U64(got[i], t0 + 1000 * (i + 1) + 2000);
		}
		uint8_t buf[sizeof(data)];
		CHECK_EQ(synack_recv(n.st[1], as, buf, sizeof(buf), 0), (ssize_t)sizeof(data));
		CHECK(memcmp(buf, data, sizeof(data)) == 0);

		struct synack_sim_counters c;
		synack_sim_counters(n.sim, n.a, n.b, &c);
		CHECK_EQ(c.queue_max, 9); /* one on the wire, nine waiting */
		CHECK_EQ_U64(c.queue_drops, 0);
	}
	net_close(&n);
}

/* A 40-byte RST takes 1000/3 us at 960 kbit/s: the fractions add up, and
 * each arrives at the first whole microsecond after its last bit. */
static void bottleneck_carries_fractions_of_a_microsecond(void)
{
	struct net n;
	if (net_open(&n, 21) == 0) {
		struct synack_sim_path p = {.delay_us = 100, .rate_bps = 960000};
		CHECK_EQ(synack_sim_set_path(n.sim, n.b, n.a, &p), 0);
		inject_syns(&n, ADDR_A, 30, 1000, 0);
		synack_sim_run_until(n.sim, 1000000);
		uint64_t t[30];
		CHECK_EQ(rst_arrivals(&n, t, 30), 30);
		for (uint64_t k = 1; k <= 30; k++)
			CHECK_EQ_U64(t[k - 1], 1000 + (k * 1000 + 2) / 3 + 100);
	}
	net_close(&n);
}

/* Offered far above the rate, the link runs at exactly the rate: the last
 * of N datagrams leaves N * len * 8 / rate seconds after the first began. */
static void bottleneck_long_run_rate_is_exact(void)
{
	struct net n;
	if (net_open(&n, 22) == 0) {
		const uint64_t rate = 1000003; /* a prime: nothing divides evenly */
		struct synack_sim_path p = {.delay_us = 5000, .rate_bps = rate};
		CHECK_EQ(synack_sim_set_path(n.sim, n.b, n.a, &p), 0);
		inject_syns(&n, ADDR_A, MANY, 0, SPACING);
		synack_sim_run_until(n.sim, 100000000);
		uint64_t *t = calloc(MANY, sizeof(*t));
		CHECK_EQ(rst_arrivals(&n, t, MANY), MANY);
		const uint64_t bits = 40 * 8;
		for (uint64_t k = 1; k <= MANY; k += 997)
			CHECK_EQ_U64(t[k - 1], (k * bits * 1000000 + rate - 1) / rate + 5000);
		CHECK_EQ_U64(t[MANY - 1],
		             ((uint64_t)MANY * bits * 1000000 + rate - 1) / rate + 5000);
		free(t);

		struct synack_sim_counters c;
		synack_sim_counters(n.sim, n.b, n.a, &c);
		CHECK_EQ_U64(c.delivered, MANY);
		CHECK_EQ_U64(c.queue_drops, 0);
		/* 10 us apart in, 320 us apart out: by the last arrival 100 ms
		 * in, about 313 have started and the rest wait. */
		CHECK(c.queue_max > MANY - 320 && c.queue_max < MANY - 300);
	}
	net_close(&n);
}

/* A queue of five: a burst of twenty keeps one on the wire and five waiting;
 * the rest are dropped, counted and tapped as lost. */
static void bottleneck_queue_drops_the_tail(void)
{
	struct net n;
	if (net_open(&n, 23) == 0) {
		/* 40 bytes at 320 kbit/s: one RST per millisecond. */
		struct synack_sim_path p = {.delay_us = 50, .rate_bps = 320000, .queue_pkts = 5};
		CHECK_EQ(synack_sim_set_path(n.sim, n.b, n.a, &p), 0);
		inject_syns(&n, ADDR_A, 20, 0, 0);
		/* At 2.5 ms the third is on the wire and three wait: two more
		 * fit, three do not. */
		inject_syns(&n, ADDR_A, 5, 2500, 0);
		synack_sim_run_until(n.sim, 1000000);

		struct synack_sim_counters c;
		synack_sim_counters(n.sim, n.b, n.a, &c);
		CHECK_EQ_U64(c.sent, 25);
		CHECK_EQ_U64(c.queue_drops, 14 + 3);
		CHECK_EQ_U64(c.lost, 14 + 3);
		CHECK_EQ_U64(c.delivered, 8);
		CHECK_EQ(c.queue_max, 5);
		CHECK_EQ(count_events(&n.log, SYNACK_SIM_LOST, n.b, n.a), 17);
		uint64_t t[8];
		CHECK_EQ(rst_arrivals(&n, t, 8), 8);
		for (uint64_t k = 1; k <= 8; k++)
			CHECK_EQ_U64(t[k - 1], 1000 * k + 50);

		/* The tail that was dropped is the tail that was sent. */
		const struct ev *sent[25], *lost[17];
		CHECK_EQ(select_events(&n.log, SYNACK_SIM_SENT, n.b, n.a, sent), 25);
		CHECK_EQ(select_events(&n.log, SYNACK_SIM_LOST, n.b, n.a, lost), 17);
		for (size_t i = 0; i < 14; i++)
			CHECK_EQ_U64(lost[i]->hash, sent[6 + i]->hash);
		for (size_t i = 0; i < 3; i++)
			CHECK_EQ_U64(lost[14 + i]->hash, sent[22 + i]->hash);

		/* A queue of one: one on the wire, one waiting. */
		p.queue_pkts = 1;
		CHECK_EQ(synack_sim_set_path(n.sim, n.b, n.a, &p), 0);
		inject_syns(&n, ADDR_A, 4, 2000000, 0);
		synack_sim_run_until(n.sim, 3000000);
		struct synack_sim_counters c2;
		synack_sim_counters(n.sim, n.b, n.a, &c2);
		CHECK_EQ_U64(c2.delivered - c.delivered, 2);
		CHECK_EQ_U64(c2.queue_drops - c.queue_drops, 2);
	}
	net_close(&n);
}

/* Random loss comes first: a lost datagram never occupies the link. */
static void bottleneck_sees_only_what_loss_spared(void)
{
	struct net n;
	if (net_open(&n, 24) == 0) {
		struct synack_sim_path p = {.loss = 0.5, .rate_bps = 320000, .queue_pkts = 1000};
		CHECK_EQ(synack_sim_set_path(n.sim, n.b, n.a, &p), 0);
		inject_syns(&n, ADDR_A, 200, 0, 0);
		synack_sim_run_until(n.sim, 10000000);
		struct synack_sim_counters c;
		synack_sim_counters(n.sim, n.b, n.a, &c);
		CHECK_EQ_U64(c.queue_drops, 0);
		CHECK(c.lost > 60 && c.lost < 140);
		CHECK_EQ_U64(c.delivered + c.lost, 200);
		CHECK_EQ_U64(c.queue_max, c.delivered - 1);
		uint64_t t[200];
		size_t k = rst_arrivals(&n, t, 200);
		CHECK_EQ_U64(k, c.delivered);
		if (k)
			CHECK_EQ_U64(t[k - 1], 1000 * k);
	}
	net_close(&n);
}

/* A datagram a filter delays skips the random impairments, not the link. */
static int delay_all(void *ctx, int from, int to, const uint8_t *pkt, size_t len, uint64_t now,
                     uint32_t *extra)
{
	(void)ctx;
	(void)from;
	(void)to;
	(void)pkt;
	(void)len;
	(void)now;
	*extra = 300;
	return SYNACK_SIM_DELAY;
}

static void bottleneck_also_carries_filter_delayed_datagrams(void)
{
	struct net n;
	if (net_open(&n, 25) == 0) {
		synack_sim_set_filter(n.sim, delay_all, NULL);
		struct synack_sim_path p = {
		    .loss = 1.0, .delay_us = 20, .rate_bps = 320000, .queue_pkts = 2};
		CHECK_EQ(synack_sim_set_path(n.sim, n.b, n.a, &p), 0);
		inject_syns(&n, ADDR_A, 5, 0, 0);
		synack_sim_run_until(n.sim, 1000000);
		struct synack_sim_counters c;
		synack_sim_counters(n.sim, n.b, n.a, &c);
		CHECK_EQ_U64(c.delivered, 3);
		CHECK_EQ_U64(c.queue_drops, 2);
		uint64_t t[3];
		CHECK_EQ(rst_arrivals(&n, t, 3), 3);
		for (uint64_t k = 1; k <= 3; k++)
			CHECK_EQ_U64(t[k - 1], 1000 * k + 320);
	}
	net_close(&n);
}

/* Any rate is valid, even one so fast a datagram takes a fraction of a
 * picosecond: it is still handed over at the next whole microsecond. */
static void bottleneck_takes_any_rate(void)
{
	struct net n;
	if (net_open(&n, 26) == 0) {
		struct synack_sim_path p = {
		    .delay_us = 10, .rate_bps = UINT64_MAX, .queue_pkts = 0};
		CHECK_EQ(synack_sim_set_path(n.sim, n.b, n.a, &p), 0);
		inject_syns(&n, ADDR_A, 100, 0, 0);
		synack_sim_run_until(n.sim, 1000);
		uint64_t t[100];
		CHECK_EQ(rst_arrivals(&n, t, 100), 100);
		for (size_t i = 0; i < 100; i++)
			CHECK_EQ_U64(t[i], 11);

		/* The slowest rate: a 40-byte datagram takes 320 seconds. */
		p.rate_bps = 1;
		CHECK_EQ(synack_sim_set_path(n.sim, n.b, n.a, &p), 0);
		inject_syns(&n, ADDR_A, 2, 2000, 0);
		synack_sim_run_until(n.sim, 1000000000);
		uint64_t more[103];
		CHECK_EQ(rst_arrivals(&n, more, 103), 102);
		CHECK_EQ_U64(more[100], 2000 + 320000000 + 10);
		CHECK_EQ_U64(more[101], 2000 + 640000000 + 10);
	}
	net_close(&n);
}

/* ------------------------------------------------------------------ */
/* Filters, down hosts, routes.                                        */

struct filter_ctx {
	size_t calls;
	int verdict;
	uint32_t extra;
	int bad_args;
	uint64_t last_now;
};

static int every_other(void *ctx, int from, int to, const uint8_t *pkt, size_t len, uint64_t now,
                       uint32_t *extra)
{
	struct filter_ctx *f = ctx;
	if (from != 1 || to != 0 || len < 20 || get32(pkt + 16) != ADDR_A || now < f->last_now)
		f->bad_args++;
	f->last_now = now;
	*extra = f->extra;
	return f->calls++ % 2 == 0 ? f->verdict : SYNACK_SIM_PASS;
}

static void filter_drop_counts_and_taps_lost(void)
{
	struct net n;
	if (net_open(&n, 12) == 0) {
		struct filter_ctx f = {.verdict = SYNACK_SIM_DROP};
		synack_sim_set_filter(n.sim, every_other, &f);
		struct synack_sim_path p = {.delay_us = 10};
		CHECK_EQ(synack_sim_set_path(n.sim, n.b, n.a, &p), 0);
		inject_syns(&n, ADDR_A, 1000, 0, 100);
		synack_sim_run_until(n.sim, 1000000);
		CHECK_EQ(f.calls, 1000);
		CHECK_EQ(f.bad_args, 0);
		struct synack_sim_counters c;
		synack_sim_counters(n.sim, n.b, n.a, &c);
		CHECK_EQ_U64(c.filtered, 500);
		CHECK_EQ_U64(c.delivered, 500);
		CHECK_EQ_U64(c.lost, 0);
		CHECK_EQ(count_events(&n.log, SYNACK_SIM_LOST, n.b, n.a), 500);
	}
	net_close(&n);
}

static void filter_delay_bypasses_impairments(void)
{
	struct net n;
	if (net_open(&n, 13) == 0) {
		struct filter_ctx f = {.verdict = SYNACK_SIM_DELAY, .extra = 7000};
		synack_sim_set_filter(n.sim, every_other, &f);
		/* Everything that passes is lost; what the filter delays is not. */
		struct synack_sim_path p = {.loss = 1.0, .dup = 1.0, .delay_us = 300};
		CHECK_EQ(synack_sim_set_path(n.sim, n.b, n.a, &p), 0);
		inject_syns(&n, ADDR_A, 200, 0, 100);
		synack_sim_run_until(n.sim, 1000000);
		struct synack_sim_counters c;
		synack_sim_counters(n.sim, n.b, n.a, &c);
		CHECK_EQ_U64(c.sent, 200);
		CHECK_EQ_U64(c.delivered, 100);
		CHECK_EQ_U64(c.lost, 100);
		CHECK_EQ_U64(c.duplicated, 0);

		const struct ev *sent[200], *got[200];
		size_t ns = select_events(&n.log, SYNACK_SIM_SENT, n.b, n.a, sent);
		size_t nd = select_events(&n.log, SYNACK_SIM_DELIVERED, n.b, n.a, got);
		CHECK_EQ(ns, 200);
		CHECK_EQ(nd, 100);
		for (size_t i = 0; i < nd && 2 * i < ns; i++) {
			CHECK_EQ_U64(got[i]->t, sent[2 * i]->t + 7300);
			CHECK_EQ_U64(got[i]->hash, sent[2 * i]->hash);
		}
	}
	net_close(&n);
}

static void down_host_loses_everything(void)
{
	struct net n;
	if (net_open(&n, 14) == 0) {
		struct synack_sim_path p = {.delay_us = 1000};
		CHECK_EQ(synack_sim_set_path(n.sim, n.b, n.a, &p), 0);

		/* A down receiver: the injected SYN never reaches b. */
		CHECK_EQ(synack_sim_set_down(n.sim, n.b, 1), 0);
		inject_syns(&n, ADDR_A, 1, 100, 1);
		synack_sim_run_until(n.sim, 10000);
		CHECK_EQ(count_events(&n.log, SYNACK_SIM_LOST, -1, n.b), 1);
		CHECK_EQ(count_events(&n.log, SYNACK_SIM_DELIVERED, -1, n.b), 0);
		CHECK_EQ(count_events(&n.log, SYNACK_SIM_SENT, n.b, n.a), 0);

		/* A down destination: b's RST is lost as it leaves. */
		CHECK_EQ(synack_sim_set_down(n.sim, n.b, 0), 0);
		CHECK_EQ(synack_sim_set_down(n.sim, n.a, 1), 0);
		inject_syns(&n, ADDR_A, 1, 20000, 1);
		synack_sim_run_until(n.sim, 30000);
		struct synack_sim_counters c;
		synack_sim_counters(n.sim, n.b, n.a, &c);
		CHECK_EQ_U64(c.sent, 1);
		CHECK_EQ_U64(c.lost, 1);
		CHECK_EQ_U64(c.delivered, 0);

		/* Going down while a datagram is in flight loses it on arrival. */
		CHECK_EQ(synack_sim_set_down(n.sim, n.a, 0), 0);
		inject_syns(&n, ADDR_A, 1, 40000, 1);
		CHECK_EQ_U64(synack_sim_step(n.sim), 40000);
		CHECK_EQ(synack_sim_set_down(n.sim, n.a, 1), 0);
		synack_sim_run_until(n.sim, 50000);
		synack_sim_counters(n.sim, n.b, n.a, &c);
		CHECK_EQ_U64(c.sent, 2);
		CHECK_EQ_U64(c.lost, 2);
		CHECK_EQ_U64(c.delivered, 0);
		CHECK_EQ(count_events(&n.log, SYNACK_SIM_LOST, n.b, n.a), 2);

		/* Back up, traffic flows again. */
		CHECK_EQ(synack_sim_set_down(n.sim, n.a, 0), 0);
		inject_syns(&n, ADDR_A, 1, 60000, 1);
		synack_sim_run_until(n.sim, 70000);
		synack_sim_counters(n.sim, n.b, n.a, &c);
		CHECK_EQ_U64(c.delivered, 1);
	}
	net_close(&n);
}

static void unknown_destination_counts_no_route(void)
{
	struct net n;
	if (net_open(&n, 15) == 0) {
		inject_syns(&n, ADDR_NOBODY, 3, 100, 100);
		synack_sim_run_until(n.sim, 10000);
		struct synack_sim_counters c;
		synack_sim_counters(n.sim, n.b, n.b, &c);
		CHECK_EQ_U64(c.sent, 3);
		CHECK_EQ_U64(c.no_route, 3);
		CHECK_EQ_U64(c.delivered + c.lost, 0);
		CHECK_EQ(count_events(&n.log, SYNACK_SIM_SENT, n.b, -1), 3);
		CHECK_EQ(count_events(&n.log, SYNACK_SIM_LOST, n.b, -1), 3);
		synack_sim_counters(n.sim, n.b, n.a, &c);
		CHECK_EQ_U64(c.sent, 0);
	}
	net_close(&n);
}

/* ------------------------------------------------------------------ */
/* Determinism.                                                        */

/* Both directions impaired, traffic both ways, a filter in the middle. */
static int hold_some(void *ctx, int from, int to, const uint8_t *pkt, size_t len, uint64_t now,
                     uint32_t *extra)
{
	(void)ctx;
	(void)from;
	(void)to;
	(void)now;
	*extra = 250;
	return len >= 24 && pkt[23] % 7 == 0 ? SYNACK_SIM_DELAY : SYNACK_SIM_PASS;
}

/* bottleneck: 0 none, 1 a queue limit without a rate (no effect), 2 a rate
 * and a queue on both directions. */
static void scripted_run(uint64_t seed, int third_host, int bottleneck, struct log *out)
{
	struct net n;
	struct synack_stack *c = NULL;
	if (net_open(&n, seed) == 0) {
		if (third_host) {
			/* A third host with its own lossy path to a, set up first. */
			c = stack_at(0x0a000003u);
			CHECK_EQ(synack_sim_add_host(n.sim, c, "c"), 2);
			struct synack_sim_path lossy = {.loss = 0.5, .delay_us = 3};
			CHECK_EQ(synack_sim_set_path(n.sim, 2, n.a, &lossy), 0);
		}
		struct synack_sim_path p = {.loss = 0.1,
		                            .dup = 0.1,
		                            .reorder = 0.1,
		                            .corrupt = 0.05,
		                            .delay_us = 500,
		                            .jitter_us = 300};
		if (bottleneck)
			p.queue_pkts = 8;
		if (bottleneck == 2)
			p.rate_bps = 2000000;
		CHECK_EQ(synack_sim_set_path(n.sim, n.b, n.a, &p), 0);
		p.delay_us = 700;
		p.reorder_us = 90;
		CHECK_EQ(synack_sim_set_path(n.sim, n.a, n.b, &p), 0);
		synack_sim_set_filter(n.sim, hold_some, NULL);

		inject_syns(&n, ADDR_A, 500, 0, 37);
		/* SYNs to a from b's address make a answer b. */
		uint8_t pkt[40];
		for (size_t i = 0; i < 500; i++) {
			size_t len = build_syn(pkt, ADDR_B, ADDR_A, (uint16_t)(3000 + i),
			                       CLOSED_PORT, (uint32_t)(7919 * i));
			CHECK_EQ(synack_sim_inject(n.sim, n.a, pkt, len, 5 + 41 * i), 0);
		}
		synack_sim_run_until(n.sim, 100000);
	}
	*out = n.log;
	n.log = (struct log){0};
	net_close(&n);
	if (c)
		synack_stack_free(c);
}

static int logs_equal(const struct log *x, const struct log *y)
{
	if (x->n != y->n)
		return 0;
	for (size_t i = 0; i < x->n; i++) {
		const struct ev *a = &x->v[i], *b = &y->v[i];
		if (a->t != b->t || a->event != b->event || a->from != b->from || a->to != b->to ||
		    a->len != b->len || a->hash != b->hash)
			return 0;
	}
	return 1;
}

static void same_seed_same_events(void)
{
	struct log one, two, other;
	scripted_run(42, 0, 0, &one);
	scripted_run(42, 0, 0, &two);
	scripted_run(43, 0, 0, &other);
	CHECK(one.n > 2000);
	CHECK(logs_equal(&one, &two));
	CHECK(!logs_equal(&one, &other));
	free(one.v);
	free(two.v);
	free(other.v);
}

/* Another host and path leave the draws of the first two hosts' paths alone. */
static void paths_draw_independently(void)
{
	struct log plain, with_c;
	scripted_run(77, 0, 0, &plain);
	scripted_run(77, 1, 0, &with_c);
	CHECK(logs_equal(&plain, &with_c));
	free(plain.v);
	free(with_c.v);
}

/* A queue limit without a rate changes nothing; a bottleneck replays. */
static void bottleneck_is_deterministic_and_absent_without_a_rate(void)
{
	struct log plain, queue_only, slow, slow_again;
	scripted_run(91, 0, 0, &plain);
	scripted_run(91, 0, 1, &queue_only);
	scripted_run(91, 0, 2, &slow);
	scripted_run(91, 0, 2, &slow_again);
	CHECK(logs_equal(&plain, &queue_only));
	CHECK(logs_equal(&slow, &slow_again));
	CHECK(!logs_equal(&plain, &slow));
	size_t lost = count_events(&slow, SYNACK_SIM_LOST, 1, 0);
	CHECK(lost > count_events(&plain, SYNACK_SIM_LOST, 1, 0));
	free(plain.v);
	free(queue_only.v);
	free(slow.v);
	free(slow_again.v);
}

/* ------------------------------------------------------------------ */
/* Timers: a real handshake whose first SYN a filter drops.            */

static int drop_first_syn(void *ctx, int from, int to, const uint8_t *pkt, size_t len, uint64_t now,
                          uint32_t *extra)
{
	int *dropped = ctx;
	(void)from;
	(void)to;
	(void)now;
	(void)extra;
	if (!*dropped && len >= 40 && (pkt[33] & SYNACK_TH_SYN)) {
		*dropped = 1;
		return SYNACK_SIM_DROP;
	}
	return SYNACK_SIM_PASS;
}

static void lost_syn_is_retransmitted_on_the_virtual_clock(void)
{
	struct net n;
	if (net_open(&n, 16) == 0) {
		int dropped = 0;
		synack_sim_set_filter(n.sim, drop_first_syn, &dropped);
		struct synack_sim_path p = {.delay_us = 5000};
		CHECK_EQ(synack_sim_set_path(n.sim, n.a, n.b, &p), 0);
		CHECK_EQ(synack_sim_set_path(n.sim, n.b, n.a, &p), 0);

		int ls = synack_socket(n.st[1]);
		struct synack_endpoint any = {.addr = ADDR_B, .port = 80};
		CHECK_EQ(synack_bind(n.st[1], ls, &any), 0);
		CHECK_EQ(synack_listen(n.st[1], ls, 8), 0);
		int cs = synack_socket(n.st[0]);
		CHECK(cs >= 0);
		CHECK_EQ(synack_connect(n.st[0], cs, &any), -EINPROGRESS);
		synack_sim_run_until(n.sim, 10000000);

		CHECK_EQ(dropped, 1);
		struct synack_sim_counters c;
		synack_sim_counters(n.sim, n.a, n.b, &c);
		CHECK_EQ_U64(c.filtered, 1);
		/* The retransmitted SYN leaves after the initial RTO (RFC 6298 2.1). */
		const struct ev *sent[64];
		size_t k = select_events(&n.log, SYNACK_SIM_SENT, n.a, n.b, sent);
		CHECK(k >= 2);
		if (k >= 2)
			CHECK(sent[1]->t >= 1000000);
		struct synack_endpoint peer = {.addr = 0, .port = 0};
		int as = synack_accept(n.st[1], ls, &peer);
		CHECK(as >= 0);
		CHECK_EQ(peer.addr, ADDR_A);
		CHECK(synack_events(n.st[0], cs) & SYNACK_POLLOUT);
		CHECK_EQ(synack_send(n.st[0], cs, "hello", 5), 5);
		synack_sim_run_until(n.sim, 11000000);
		char buf[16] = {0};
		CHECK_EQ(synack_recv(n.st[1], as, buf, sizeof(buf), 0), 5);
		CHECK(memcmp(buf, "hello", 5) == 0);
	}
	net_close(&n);
}

/* A burst larger than the stack's outbox (outbox_max, 4,096 by default)
 * arriving in one step: the simulator moves the answers out as they are
 * made, as a driver's poll does every 64 frames (src/run/loop.c), so none
 * is dropped for a full outbox and every one crosses the path. */
#define BURST 10000
static void burst_in_one_step_leaves_no_answer_in_a_full_outbox(void)
{
	struct net n;
	if (net_open(&n, 17) == 0) {
		inject_syns(&n, ADDR_A, BURST, 1000, 0);
		synack_sim_run_until(n.sim, 2000);
		struct synack_stats st;
		synack_stats(n.st[1], &st);
		CHECK_EQ_U64(st.drops[SYNACK_DROP_OUTBOX_FULL], 0);
		CHECK_EQ_U64(st.OutRsts, BURST);
		struct synack_sim_counters c;
		synack_sim_counters(n.sim, n.b, n.a, &c);
		CHECK_EQ_U64(c.sent, BURST);
		CHECK_EQ_U64(c.delivered, BURST);
		/* In the order the SYNs came: the i-th RST answers port 1024 + i. */
		const struct ev *got[BURST];
		CHECK_EQ(select_events(&n.log, SYNACK_SIM_DELIVERED, n.b, n.a, got), BURST);
		for (size_t i = 0; i < BURST; i++)
			if (got[i]->len >= 40 &&
			    (size_t)(got[i]->bytes[22] << 8 | got[i]->bytes[23]) != 1024 + i) {
				CHECK(!"RSTs out of order");
				break;
			}
	}
	net_close(&n);
}

int main(void)
{
	RUN(hosts_are_named_and_found_by_address);
	RUN(bad_arguments_are_refused);
	RUN(idle_network_has_no_next_event);
	RUN(injected_datagrams_arrive_in_time_then_queue_order);
	RUN(syn_to_closed_port_draws_rst_across_the_path);
	RUN(loss_rate_follows_probability);
	RUN(duplicates_follow_one_microsecond_later);
	RUN(delay_is_exact_without_jitter);
	RUN(jitter_stays_within_bounds);
	RUN(reordered_datagrams_are_overtaken);
	RUN(corruption_flips_exactly_one_bit);
	RUN(csum_trust_vouches_only_for_intact_segments);
	RUN(filter_drop_counts_and_taps_lost);
	RUN(filter_delay_bypasses_impairments);
	RUN(down_host_loses_everything);
	RUN(unknown_destination_counts_no_route);
	RUN(bottleneck_spaces_full_segments_by_their_transmission_time);
	RUN(bottleneck_carries_fractions_of_a_microsecond);
	RUN(bottleneck_long_run_rate_is_exact);
	RUN(bottleneck_queue_drops_the_tail);
	RUN(bottleneck_sees_only_what_loss_spared);
	RUN(bottleneck_also_carries_filter_delayed_datagrams);
	RUN(bottleneck_takes_any_rate);
	RUN(same_seed_same_events);
	RUN(paths_draw_independently);
	RUN(bottleneck_is_deterministic_and_absent_without_a_rate);
	RUN(lost_syn_is_retransmitted_on_the_virtual_clock);
	RUN(burst_in_one_step_leaves_no_answer_in_a_full_outbox);
	return check_summary("test_sim");
}
