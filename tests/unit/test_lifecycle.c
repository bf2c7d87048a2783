/*
 * Accounting returns to zero.  Two stacks on the simulated network open 200
 * connections in batches of 10 at a time, exchange data, and end them five
 * ways: the client closes first, the server closes first, the client aborts
 * (SO_LINGER 0), the server aborts, or the connection is refused.  Once
 * every timeout has run (past time_wait_ms and fin_timeout_ms), nothing may
 * be left: no TCBs but the listener, no TIME_WAIT records, no orphans, no
 * buffered bytes, no timers, and the RFC 4022 counters must have exactly the
 * values the scenario implies.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "synack/sim.h"
#include "synack/synack.h"

#define ADDR_A 0x0a000001u /* 10.0.0.1: clients */
#define ADDR_B 0x0a000002u /* 10.0.0.2: the server */
#define PORT 80
#define CLOSED_PORT 81
#define NCONN 200
#define BATCH 10
#define MSG 3000

enum kind {
	CLIENT_CLOSES_FIRST,
	SERVER_CLOSES_FIRST,
	CLIENT_ABORTS,
	SERVER_ABORTS,
	REFUSED,
	KINDS
};

struct world {
	struct synack_sim *sim;
	struct synack_stack *a, *b;
	int listener;
};

static struct synack_stack *new_stack(uint32_t addr)
{
	struct synack_config cfg;
	synack_config_default(&cfg);
	cfg.addr = addr;
	for (int i = 0; i < 16; i++)
		cfg.secret[i] = (uint8_t)(addr + 13 * (uint32_t)i);
	int err = 0;
	struct synack_stack *st = synack_stack_new(&cfg, &err);
	if (!st)
		abort();
	return st;
}

static void world_open(struct world *w, uint64_t seed)
{
	memset(w, 0, sizeof(*w));
	w->sim = synack_sim_new(seed);
	if (!w->sim)
		abort();
	w->a = new_stack(ADDR_A);
	w->b = new_stack(ADDR_B);
	int ha = synack_sim_add_host(w->sim, w->a, "client");
	int hb = synack_sim_add_host(w->sim, w->b, "server");
	CHECK(ha >= 0 && hb >= 0);
	struct synack_sim_path p;
	memset(&p, 0, sizeof p);
	p.delay_us = 1000;
	p.jitter_us = 500;
	CHECK_EQ(synack_sim_set_path(w->sim, ha, hb, &p), 0);
	CHECK_EQ(synack_sim_set_path(w->sim, hb, ha, &p), 0);
	w->listener = synack_socket(w->b);
	struct synack_endpoint local = {.addr = 0, .port = PORT};
	CHECK_EQ(synack_bind(w->b, w->listener, &local), 0);
	CHECK_EQ(synack_listen(w->b, w->listener, 64), 0);
}

static void world_close(struct world *w)
{
	synack_sim_free(w->sim);
	synack_stack_free(w->a);
	synack_stack_free(w->b);
}

/* Runs the network for ms of virtual time. */
static void run_ms(struct world *w, uint64_t ms)
{
	synack_sim_flush(w->sim);
	synack_sim_run_until(w->sim, synack_sim_now(w->sim) + ms * 1000);
}

static uint8_t byte_at(int conn, size_t i)
{
	return (uint8_t)(conn * 7 + i * 13 + (i >> 8));
}

/* Reads exactly len bytes of connection conn's stream (offset *off). */
static void read_all(struct synack_stack *st, int s, int conn, size_t *off, size_t len)
{
	uint8_t buf[4096];
	while (*off < len) {
		ssize_t n = synack_recv(st, s, buf, sizeof buf, 0);
		if (n <= 0)
			break;
		for (ssize_t i = 0; i < n; i++)
			if (buf[i] != byte_at(conn, *off + (size_t)i)) {
				check_fail(__FILE__, __LINE__, "conn %d: byte %zu corrupt", conn,
				           *off + (size_t)i);
				break;
			}
		*off += (size_t)n;
	}
}

struct conn {
	int id;
	enum kind kind;
	int c, s; /* client and server sockets (-1: none) */
};

static void one_batch(struct world *w, int first)
{
	struct conn cs[BATCH];
	uint8_t msg[MSG];
	/* Open. */
	for (int j = 0; j < BATCH; j++) {
		struct conn *k = &cs[j];
		k->id = first + j;
		k->kind = (enum kind)(k->id % KINDS);
		k->s = -1;
		k->c = synack_socket(w->a);
		CHECK(k->c >= 0);
		struct synack_endpoint peer = {.addr = ADDR_B,
		                               .port = k->kind == REFUSED ? CLOSED_PORT : PORT};
		CHECK_EQ(synack_connect(w->a, k->c, &peer), -EINPROGRESS);
	}
	run_ms(w, 50);
	/* Accept, in whatever order the handshakes completed. */
	int accepted[BATCH], na = 0;
	int s;
	while ((s = synack_accept(w->b, w->listener, NULL)) >= 0 && na < BATCH)
		accepted[na++] = s;
	CHECK_EQ(s, -EAGAIN);
	CHECK_EQ(na, BATCH - BATCH / KINDS);
	for (int i = 0; i < na; i++) {
		struct synack_endpoint peer, name;
		CHECK_EQ(synack_getpeername(w->b, accepted[i], &peer), 0);
		for (int j = 0; j < BATCH; j++)
			if (cs[j].kind != REFUSED &&
			    synack_getsockname(w->a, cs[j].c, &name) == 0 && name.port == peer.port)
				cs[j].s = accepted[i];
	}
	/* Refused ones failed; the others exchange MSG bytes each way. */
	for (int j = 0; j < BATCH; j++) {
		struct conn *k = &cs[j];
		if (k->kind == REFUSED) {
			CHECK_EQ(synack_socket_error(w->a, k->c), -ECONNREFUSED);
			CHECK_EQ(synack_close(w->a, k->c), 0);
			continue;
		}
		CHECK(k->s >= 0);
		for (size_t i = 0; i < MSG; i++)
			msg[i] = byte_at(k->id, i);
		CHECK_EQ(synack_send(w->a, k->c, msg, MSG), MSG);
		CHECK_EQ(synack_send(w->b, k->s, msg, MSG), MSG);
	}
	run_ms(w, 50);
	for (int j = 0; j < BATCH; j++) {
		struct conn *k = &cs[j];
		if (k->kind == REFUSED)
			continue;
		size_t off = 0;
		read_all(w->b, k->s, k->id, &off, MSG);
		CHECK_EQ(off, MSG);
		off = 0;
		read_all(w->a, k->c, k->id, &off, MSG);
		CHECK_EQ(off, MSG);
	}
	/* First move of each ending. */
	for (int j = 0; j < BATCH; j++) {
		struct conn *k = &cs[j];
		switch (k->kind) {
		case CLIENT_CLOSES_FIRST:
			CHECK_EQ(synack_close(w->a, k->c), 0);
			break;
		case SERVER_CLOSES_FIRST:
			CHECK_EQ(synack_close(w->b, k->s), 0);
			break;
		case CLIENT_ABORTS:
			CHECK_EQ(synack_setsockopt(w->a, k->c, SYNACK_SO_LINGER, 0), 0);
			CHECK_EQ(synack_close(w->a, k->c), 0);
			break;
		case SERVER_ABORTS:
			CHECK_EQ(synack_setsockopt(w->b, k->s, SYNACK_SO_LINGER, 0), 0);
			CHECK_EQ(synack_close(w->b, k->s), 0);
			break;
		default:
			break;
		}
	}
	run_ms(w, 50);
	/* The other side sees EOF or the reset, and closes. */
	uint8_t b[16];
	for (int j = 0; j < BATCH; j++) {
		struct conn *k = &cs[j];
		switch (k->kind) {
		case CLIENT_CLOSES_FIRST:
			CHECK_EQ(synack_recv(w->b, k->s, b, sizeof b, 0), 0);
			CHECK_EQ(synack_close(w->b, k->s), 0);
			break;
		case SERVER_CLOSES_FIRST:
			CHECK_EQ(synack_recv(w->a, k->c, b, sizeof b, 0), 0);
			CHECK_EQ(synack_close(w->a, k->c), 0);
			break;
		case CLIENT_ABORTS:
			CHECK_EQ(synack_recv(w->b, k->s, b, sizeof b, 0), -ECONNRESET);
			CHECK_EQ(synack_close(w->b, k->s), 0);
			break;
		case SERVER_ABORTS:
			CHECK_EQ(synack_recv(w->a, k->c, b, sizeof b, 0), -ECONNRESET);
			CHECK_EQ(synack_close(w->a, k->c), 0);
			break;
		default:
			break;
		}
	}
	run_ms(w, 50);
}

struct listed {
	int n, listeners, other;
};

static void count_conn(void *ctx, const struct synack_conn *c)
{
	struct listed *l = ctx;
	l->n++;
	if (c->state == SYNACK_LISTEN)
		l->listeners++;
	else
		l->other++;
}

static void check_empty(struct synack_stack *st, const char *who, uint64_t listeners)
{
	struct synack_stats s;
	synack_stats(st, &s);
	if (s.conns_live != listeners || s.time_wait_live || s.orphans_live || s.bytes_buffered ||
	    s.CurrEstab)
		check_fail(__FILE__, __LINE__,
		           "%s: conns_live %" PRIu64 " time_wait_live %" PRIu64
		           " orphans_live %" PRIu64 " bytes_buffered %" PRIu64
		           " CurrEstab %" PRIu64,
		           who, s.conns_live, s.time_wait_live, s.orphans_live, s.bytes_buffered,
		           s.CurrEstab);
	CHECK_EQ_U64(synack_next_deadline(st), SYNACK_NEVER);
	CHECK_EQ(synack_output_pending(st), 0);
	struct listed l = {0, 0, 0};
	CHECK_EQ(synack_conns(st, count_conn, &l), listeners);
	CHECK_EQ(l.listeners, listeners);
	CHECK_EQ(l.other, 0);
}

static void lifecycle_accounting_returns_to_zero(void)
{
	struct world w;
	world_open(&w, 20261124);
	for (int first = 0; first < NCONN; first += BATCH)
		one_batch(&w, first);

	/* Before the timeouts: one TIME_WAIT per graceful close, on the side
	 * that closed first; nothing established. */
	struct synack_stats sa, sb;
	synack_stats(w.a, &sa);
	synack_stats(w.b, &sb);
	CHECK_EQ_U64(sa.time_wait_live, NCONN / KINDS);
	CHECK_EQ_U64(sb.time_wait_live, NCONN / KINDS);
	CHECK_EQ_U64(sa.CurrEstab, 0);
	CHECK_EQ_U64(sb.CurrEstab, 0);
	CHECK_EQ_U64(sa.orphans_live, 0);
	CHECK_EQ_U64(sb.orphans_live, 0);

	/* Every timeout runs: TIME_WAIT (60 s) and FIN_WAIT_2 (60 s). */
	run_ms(&w, 3 * 60000);
	CHECK_EQ_U64(synack_sim_next_event(w.sim), SYNACK_NEVER);
	check_empty(w.a, "client", 0);
	check_empty(w.b, "server", 1);

	const uint64_t per = NCONN / KINDS;
	synack_stats(w.a, &sa);
	synack_stats(w.b, &sb);
	/* The clients: every connect is an active open; the refused ones
	 * failed; an abort on either side resets an established one. */
	CHECK_EQ_U64(sa.ActiveOpens, NCONN);
	CHECK_EQ_U64(sa.PassiveOpens, 0);
	CHECK_EQ_U64(sa.AttemptFails, per);
	CHECK_EQ_U64(sa.EstabResets, 2 * per);
	CHECK_EQ_U64(sa.TimeWaitEntered, per);
	CHECK_EQ_U64(sa.TimeWaitExpired, per);
	CHECK_EQ_U64(sa.AbortOnLinger, per);
	/* RSTs: at least the refusals and the aborts.  More may pass: a
	 * window update crossing an abort on the wire is answered with a RST
	 * by the side whose connection is already gone (RFC 9293 3.10.7.1). */
	CHECK(sa.InRsts >= per + per); /* refused + server aborts */
	CHECK(sa.OutRsts >= per);      /* client aborts */
	/* The server: every connection that reached the listener. */
	CHECK_EQ_U64(sb.ActiveOpens, 0);
	CHECK_EQ_U64(sb.PassiveOpens, NCONN - per);
	CHECK_EQ_U64(sb.AttemptFails, 0);
	CHECK_EQ_U64(sb.EstabResets, 2 * per);
	CHECK_EQ_U64(sb.TimeWaitEntered, per);
	CHECK_EQ_U64(sb.TimeWaitExpired, per);
	CHECK_EQ_U64(sb.AbortOnLinger, per);
	CHECK(sb.InRsts >= per);
	CHECK(sb.OutRsts >= per + per); /* refusals + aborts */
	/* Nothing timed out that should not have. */
	CHECK_EQ_U64(sa.FinWait2Timeouts + sb.FinWait2Timeouts, 0);
	CHECK_EQ_U64(sa.OrphanRetriesExceeded + sb.OrphanRetriesExceeded, 0);
	CHECK_EQ_U64(sa.TimeWaitOverflow + sb.TimeWaitOverflow, 0);

	/* The stacks are still usable: one more connection, then zero again. */
	int c = synack_socket(w.a);
	struct synack_endpoint peer = {.addr = ADDR_B, .port = PORT};
	CHECK_EQ(synack_connect(w.a, c, &peer), -EINPROGRESS);
	run_ms(&w, 50);
	int s = synack_accept(w.b, w.listener, NULL);
	CHECK(s >= 0);
	CHECK_EQ(synack_close(w.a, c), 0);
	CHECK_EQ(synack_close(w.b, s), 0);
	run_ms(&w, 3 * 60000);
	check_empty(w.a, "client", 0);
	check_empty(w.b, "server", 1);

	/* Closing the listener leaves nothing at all. */
	CHECK_EQ(synack_close(w.b, w.listener), 0);
	check_empty(w.b, "server", 0);
	world_close(&w);
}

/* Orphans that never finish: the peer vanishes mid-close.  The FIN_WAIT_2
 * and FIN retransmission limits still bring everything back to zero. */
static void lifecycle_vanished_peer_still_returns_to_zero(void)
{
	struct world w;
	world_open(&w, 7);
	int cs[4], ss[4];
	for (int i = 0; i < 4; i++) {
		cs[i] = synack_socket(w.a);
		struct synack_endpoint peer = {.addr = ADDR_B, .port = PORT};
		CHECK_EQ(synack_connect(w.a, cs[i], &peer), -EINPROGRESS);
	}
	run_ms(&w, 50);
	for (int i = 0; i < 4; i++) {
		ss[i] = synack_accept(w.b, w.listener, NULL);
		CHECK(ss[i] >= 0);
	}
	/* 0, 1: the client closes, the server ACKs the FIN and then goes
	 * down: the client's orphans sit in FIN_WAIT_2 until fin_timeout.
	 * 2, 3: the server goes down first: the client's FINs are never
	 * acknowledged and it gives up after orphan_retries. */
	CHECK_EQ(synack_close(w.a, cs[0]), 0);
	CHECK_EQ(synack_close(w.a, cs[1]), 0);
	run_ms(&w, 50);
	CHECK_EQ(synack_sim_set_down(w.sim, 1, 1), 0);
	CHECK_EQ(synack_close(w.a, cs[2]), 0);
	CHECK_EQ(synack_close(w.a, cs[3]), 0);
	struct synack_stats sa;
	synack_stats(w.a, &sa);
	CHECK_EQ_U64(sa.orphans_live, 4);
	run_ms(&w, 30 * 60000); /* orphan retries back off for minutes */
	check_empty(w.a, "client", 0);
	synack_stats(w.a, &sa);
	CHECK_EQ_U64(sa.FinWait2Timeouts, 2);
	CHECK_EQ_U64(sa.OrphanRetriesExceeded, 2);
	/* The server's side sits in CLOSE_WAIT until its app closes; then
	 * its FINs go nowhere and the retries end it. */
	for (int i = 0; i < 4; i++)
		CHECK_EQ(synack_close(w.b, ss[i]), 0);
	run_ms(&w, 60 * 60000);
	check_empty(w.b, "server", 1);
	world_close(&w);
}

int main(void)
{
	RUN(lifecycle_accounting_returns_to_zero);
	RUN(lifecycle_vanished_peer_still_returns_to_zero);
	return check_summary("test_lifecycle");
}
