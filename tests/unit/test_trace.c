/*
 * The trace ring keeps the newest trace_capacity records.  The same
 * exchange (a connection opened, 300 bytes each way, closed, and a segment
 * to a closed port) runs on pairs of stacks whose client has rings of
 * different sizes (and a runt datagram dropped); the records a small ring still holds must be
 * exactly (byte for byte, padding included) the newest records of a ring large enough for all of
 * them, TraceLost must count the rest, and reading part of the ring, then running on, must continue
 * where the read stopped. Small rings wrap many times, including while a received segment's record
 * (reserved on arrival, completed after the reply is traced) is overwritten
 * before it is completed.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "synack/sim.h"
#include "synack/synack.h"

#define ADDR_C 0x0a000001u
#define ADDR_S 0x0a000002u
#define BIG 100000u

struct pair {
	struct synack_sim *sim;
	struct synack_stack *c, *s;
};

static struct synack_stack *new_stack(uint32_t addr, uint32_t trace_capacity)
{
	struct synack_config cfg;
	synack_config_default(&cfg);
	cfg.addr = addr;
	cfg.trace_capacity = trace_capacity;
	for (int i = 0; i < 16; i++)
		cfg.secret[i] = (uint8_t)(addr * 7 + 11 * (uint32_t)i);
	int err = 0;
	struct synack_stack *st = synack_stack_new(&cfg, &err);
	if (!st)
		abort();
	return st;
}

static void run_ms(struct pair *p, uint64_t ms)
{
	synack_sim_run_until(p->sim, synack_sim_now(p->sim) + ms * 1000);
}

/* The exchange; reads the client's ring into out (up to max) halfway and at
 * the end, and returns how many records were read in all. */
static size_t exchange(uint32_t cap, struct synack_trace *out, size_t max, uint64_t *lost)
{
	struct pair p;
	p.sim = synack_sim_new(7);
	p.c = new_stack(ADDR_C, cap);
	p.s = new_stack(ADDR_S, BIG);
	if (!p.sim)
		abort();
	CHECK(synack_sim_add_host(p.sim, p.c, "client") >= 0);
	CHECK(synack_sim_add_host(p.sim, p.s, "server") >= 0);
	int l = synack_socket(p.s);
	struct synack_endpoint any = {.addr = 0, .port = 80}, dst = {.addr = ADDR_S, .port = 80},
	                       closed = {.addr = ADDR_S, .port = 81};
	CHECK_EQ(synack_bind(p.s, l, &any), 0);
	CHECK_EQ(synack_listen(p.s, l, 8), 0);
	int cs = synack_socket(p.c);
	CHECK_EQ(synack_connect(p.c, cs, &dst), -EINPROGRESS);
	run_ms(&p, 10);
	int ss = synack_accept(p.s, l, NULL);
	CHECK(ss >= 0);
	uint8_t buf[300];
	memset(buf, 'x', sizeof buf);
	CHECK_EQ(synack_send(p.c, cs, buf, sizeof buf), (ssize_t)sizeof buf);
	run_ms(&p, 10);
	CHECK_EQ(synack_recv(p.s, ss, buf, sizeof buf, 0), (ssize_t)sizeof buf);

	size_t n = synack_trace_read(p.c, out, max < 3 ? max : 3);
	/* A datagram too short for IPv4: dropped, and traced as a drop. */
	static const uint8_t runt[4] = {0x45, 0, 0, 4};
	CHECK(synack_input(p.c, synack_sim_now(p.sim), runt, sizeof runt) > 0);

	CHECK_EQ(synack_send(p.s, ss, buf, sizeof buf), (ssize_t)sizeof buf);
	run_ms(&p, 300);
	CHECK_EQ(synack_recv(p.c, cs, buf, sizeof buf, 0), (ssize_t)sizeof buf);
	CHECK_EQ(synack_close(p.c, cs), 0);
	run_ms(&p, 10);
	CHECK_EQ(synack_close(p.s, ss), 0);
	run_ms(&p, 300);
	int rs = synack_socket(p.c);
	CHECK_EQ(synack_connect(p.c, rs, &closed), -EINPROGRESS);
	run_ms(&p, 10);

	n += synack_trace_read(p.c, out + n, max - n);
	struct synack_stats st;
	synack_stats(p.c, &st);
	*lost = st.TraceLost;
	synack_sim_free(p.sim);
	synack_stack_free(p.c);
	synack_stack_free(p.s);
	return n;
}

static void trace_small_rings_hold_the_newest_records(void)
{
	static struct synack_trace all[512], part[512];
	uint64_t lost = 0;
	size_t total = exchange(BIG, all, 512, &lost);
	CHECK(total > 15 && total < 512);
	CHECK_EQ_U64(lost, 0);
	/* The reference run traced every kind of record. */
	int kinds = 0;
	for (size_t i = 0; i < total; i++)
		kinds |= 1 << all[i].kind;
	CHECK_EQ(kinds, (1 << SYNACK_TRACE_STATE) | (1 << SYNACK_TRACE_TX) |
	                    (1 << SYNACK_TRACE_RX) | (1 << SYNACK_TRACE_DROP));

	static const uint32_t caps[] = {1, 2, 3, 5, 7, 16};
	for (size_t k = 0; k < sizeof caps / sizeof caps[0]; k++) {
		uint32_t cap = caps[k];
		memset(part, 0xa5, sizeof part);
		size_t n = exchange(cap, part, 512, &lost);
		/* The first read took at most 3 records, the second at most
		 * the ring's capacity. */
		CHECK(n <= 3 + cap);
		CHECK(n >= 2);
		/* The tail of this run equals the tail of the reference. */
		size_t tail = cap < n ? cap : n;
		CHECK_EQ(memcmp(&part[n - tail], &all[total - tail], tail * sizeof(*all)), 0);
		/* Every record made was either read or counted lost. */
		CHECK_EQ_U64(lost + n, total);
	}
}

int main(void)
{
	RUN(trace_small_rings_hold_the_newest_records);
	return check_summary("test_trace");
}
