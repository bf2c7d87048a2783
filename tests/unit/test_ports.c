/*
 * Local port bookkeeping: bind, listen, SO_REUSEADDR changes and close in a
 * random order, checked against the rule written out over every socket (a
 * port is taken by another bound socket, unless both sides allow reuse and
 * the other is not listening), and the ephemeral port search never hands
 * out a port a listener holds.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/rng.h"
#include "synack/synack.h"

#define NSOCK 200

struct model {
	int fd; /* -1: closed */
	int bound, listening, reuse;
	uint16_t port;
};

static int model_taken(const struct model *m, int self, uint16_t port)
{
	for (int i = 0; i < NSOCK; i++) {
		if (i == self || m[i].fd < 0 || !m[i].bound || m[i].port != port)
			continue;
		if (m[self].reuse && m[i].reuse && !m[i].listening)
			continue;
		return 1;
	}
	return 0;
}

static void bind_matches_the_rule_over_every_socket(void)
{
	struct synack_config cfg;
	synack_config_default(&cfg);
	cfg.addr = 0x0a000001;
	struct synack_stack *st = synack_stack_new(&cfg, NULL);
	struct model m[NSOCK];
	struct rng r;
	CHECK(st != NULL);
	rng_seed(&r, 5);
	for (int i = 0; i < NSOCK; i++)
		m[i].fd = -1;
	for (int step = 0; step < 20000 && !check_failures_in_test; step++) {
		int i = (int)rng_below(&r, NSOCK);
		uint64_t op = rng_below(&r, 10);
		if (m[i].fd < 0) {
			m[i] = (struct model){synack_socket(st), 0, 0, 0, 0};
			CHECK(m[i].fd >= 0);
			continue;
		}
		if (op < 4 && !m[i].bound) {
			/* Few ports, so that collisions are common. */
			uint16_t port = (uint16_t)(1000 + rng_below(&r, 12));
			int want = model_taken(m, i, port) ? -EADDRINUSE : 0;
			struct synack_endpoint e = {.addr = 0, .port = port};
			CHECK_EQ(synack_bind(st, m[i].fd, &e), want);
			if (want == 0) {
				m[i].bound = 1;
				m[i].port = port;
			}
		} else if (op < 6) {
			int v = (int)rng_below(&r, 2);
			CHECK_EQ(synack_setsockopt(st, m[i].fd, SYNACK_SO_REUSEADDR, v), 0);
			m[i].reuse = v;
		} else if (op < 7 && m[i].bound && !m[i].listening) {
			/* listen() refuses only when another listener holds the port. */
			int other = 0;
			for (int j = 0; j < NSOCK; j++)
				other |= j != i && m[j].fd >= 0 && m[j].listening &&
				         m[j].port == m[i].port;
			int got = synack_listen(st, m[i].fd, 4);
			CHECK_EQ(got, other ? -EADDRINUSE : 0);
			m[i].listening = got == 0;
		} else if (op < 9) {
			CHECK_EQ(synack_close(st, m[i].fd), 0);
			m[i].fd = -1;
		}
	}
	synack_stack_free(st);
}

static void ephemeral_ports_avoid_listeners_and_bound_ports(void)
{
	struct synack_config cfg;
	synack_config_default(&cfg);
	cfg.addr = 0x0a000001;
	cfg.ephemeral_port_min = 40000;
	cfg.ephemeral_port_max = 40009;
	struct synack_stack *st = synack_stack_new(&cfg, NULL);
	CHECK(st != NULL);
	/* Five of the ten ports are bound by hand; the five listeners that
	 * pick a port get the other five, all different; the next fails. */
	uint8_t used[10] = {0};
	for (int p = 0; p < 10; p += 2) {
		int s = synack_socket(st);
		struct synack_endpoint e = {.addr = 0, .port = (uint16_t)(40000 + p)};
		CHECK_EQ(synack_bind(st, s, &e), 0);
		used[p] = 1;
	}
	for (int k = 0; k < 5; k++) {
		int s = synack_socket(st);
		CHECK_EQ(synack_listen(st, s, 1), 0);
		struct synack_endpoint e;
		CHECK_EQ(synack_getsockname(st, s, &e), 0);
		CHECK(e.port >= 40000 && e.port <= 40009);
		if (e.port >= 40000 && e.port <= 40009) {
			CHECK(!used[e.port - 40000]);
			used[e.port - 40000] = 1;
		}
	}
	int s = synack_socket(st);
	CHECK_EQ(synack_listen(st, s, 1), -EADDRNOTAVAIL);
	/* Closing a listener frees its port for the next one. */
	CHECK_EQ(synack_close(st, s - 1), 0);
	CHECK_EQ(synack_listen(st, s, 1), 0);
	synack_stack_free(st);
}

int main(void)
{
	RUN(bind_matches_the_rule_over_every_socket);
	RUN(ephemeral_ports_avoid_listeners_and_bound_ports);
	return check_summary("test_ports");
}
