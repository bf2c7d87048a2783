/*
 * Resource limits under attack: max_orphans (a closing socket past it is
 * reset at once), the stack-wide reassembly budget ofo_budget (out-of-order
 * text past it is dropped and counted, in-order text never), and RFC 1337
 * protection of TIME_WAIT (rfc1337 = 1 ignores RSTs; 0, the default,
 * handles them as RFC 5961 says).
 */
#include "script.h"

static struct t *with(void (*set)(struct synack_config *))
{
	struct synack_config cfg;
	t_config(&cfg);
	set(&cfg);
	return t_new_with(&cfg);
}

static void one_orphan(struct synack_config *c)
{
	c->max_orphans = 1;
}

static int last_cause_to(struct t *t, int state)
{
	int cause = -1;
	t_trace_sync(t);
	for (size_t i = 0; i < t->ntrace; i++)
		if (t->trace[i].kind == SYNACK_TRACE_STATE && t->trace[i].to == state)
			cause = t->trace[i].cause;
	return cause;
}

/* Past max_orphans a newly orphaned connection is reset at once
 * (Linux's "too many orphaned sockets"), counted and traced. */
static void max_orphans_resets_the_next_orphan(void)
{
	struct t *t = with(one_orphan);
	t_establish_passive(t);
	int first = t->sock;
	t->peer_port = T_PEER_PORT + 1;
	t_forget_iss(t);
	t_peer(t, "S", 1000, 0, 0);
	t_expect(t, "S.", T_ISS, 1001, 0);
	t_peer(t, ".", 1001, T_ISS + 1, 0);
	t_accept(t);
	int second = t->sock;
	uint32_t iss2 = t->iss;
	/* The first close: an orphan within the limit, closing gracefully. */
	t->peer_port = T_PEER_PORT;
	t_forget_iss(t);
	t->sock = first;
	t_close(t);
	t_expect(t, "F.", T_ANY, 1001, 0);
	t_state(t, SYNACK_FIN_WAIT_1);
	struct synack_stats s;
	synack_stats(t->st, &s);
	CHECK_EQ_U64(s.orphans_live, 1);
	/* The second: one orphan too many, reset. */
	t->peer_port = T_PEER_PORT + 1;
	t->iss = iss2;
	t->iss_known = 1;
	t->sock = second;
	t_close(t);
	t_expect(t, "R.", T_ISS + 1, 1001, 0);
	t_state(t, SYNACK_CLOSED);
	t_counter(t, "OrphanOverflow", 1);
	CHECK_EQ(last_cause_to(t, SYNACK_CLOSED), SYNACK_CAUSE_ORPHAN_OVERFLOW);
	synack_stats(t->st, &s);
	CHECK_EQ_U64(s.orphans_live, 1);
	/* The first goes on undisturbed. */
	t->peer_port = T_PEER_PORT;
	t_state(t, SYNACK_FIN_WAIT_1);
	t_free(t);
}

static void budget_100(struct synack_config *c)
{
	c->ofo_budget = 100;
}

/* Out-of-order text is held up to the stack's budget; past it, dropped
 * (OfoDrop, drop reason ofo_budget) but still acknowledged; text in order
 * is taken whatever the budget says, and nothing is corrupted. */
static void ofo_budget_drops_only_out_of_order_text(void)
{
	struct t *t = with(budget_100);
	t_establish_passive(t);
	t_peer(t, "P.", 1101, T_ISS + 1, 60);
	t_expect(t, ".", T_ISS + 1, 1001, 0);
	t_counter(t, "OfoQueued", 1);
	t_peer(t, "P.", 1201, T_ISS + 1, 60); /* 120 > 100 */
	t_expect(t, ".", T_ISS + 1, 1001, 0);
	t_counter(t, "OfoDrop", 1);
	t_drops(t, SYNACK_DROP_OFO_BUDGET, 1);
	/* In order, 100 bytes: taken, and the held 60 follow. */
	t_peer(t, "P.", 1001, T_ISS + 1, 100);
	t_expect(t, ".", T_ISS + 1, 1161, 0);
	/* The rest in order, more than the budget at once. */
	t_peer(t, "P.", 1161, T_ISS + 1, 300);
	t_expect(t, ".", T_ISS + 1, 1461, 0);
	t_recv(t, 460);
	t_counter(t, "OfoDrop", 1);
	struct synack_stats s;
	synack_stats(t->st, &s);
	CHECK_EQ_U64(s.bytes_buffered, 0);
	t_free(t);
}

static void budget_0(struct synack_config *c)
{
	c->ofo_budget = 0;
}

/* A budget of 0 holds nothing out of order; a bare FIN out of order costs
 * no bytes and is still held. */
static void ofo_budget_zero_holds_nothing(void)
{
	struct t *t = with(budget_0);
	t_establish_passive(t);
	t_peer(t, "P.", 1002, T_ISS + 1, 1);
	t_expect(t, ".", T_ISS + 1, 1001, 0);
	t_counter(t, "OfoDrop", 1);
	t_counter(t, "OfoQueued", 0);
	t_peer(t, "F.", 1011, T_ISS + 1, 0);
	t_expect(t, ".", T_ISS + 1, 1001, 0);
	t_counter(t, "DelayedFinQueued", 1);
	t_peer(t, "P.", 1001, T_ISS + 1, 10);
	t_expect(t, ".", T_ISS + 1, 1012, 0);
	t_state(t, SYNACK_CLOSE_WAIT);
	t_recv(t, 10);
	t_recv(t, 0);
	t_free(t);
}

/* The budget is the stack's: what one connection holds, another cannot;
 * freed when it is delivered or the connection ends. */
static void ofo_budget_is_shared_by_the_stack(void)
{
	struct t *t = with(budget_100);
	t_establish_passive(t);
	t_peer(t, "P.", 1101, T_ISS + 1, 80);
	t_expect(t, ".", T_ISS + 1, 1001, 0);
	uint32_t iss1 = t->iss;
	t->peer_port = T_PEER_PORT + 1;
	t_forget_iss(t);
	t_peer(t, "S", 1000, 0, 0);
	t_expect(t, "S.", T_ISS, 1001, 0);
	t_peer(t, ".", 1001, T_ISS + 1, 0);
	t_peer(t, "P.", 1101, T_ISS + 1, 30);
	t_expect(t, ".", T_ISS + 1, 1001, 0);
	t_counter(t, "OfoDrop", 1);
	uint32_t iss2 = t->iss;
	/* The first connection is reset: its 80 bytes are freed. */
	t->peer_port = T_PEER_PORT;
	t->iss = iss1;
	t_peer(t, "R", 1001, 0, 0);
	t_state(t, SYNACK_CLOSED);
	t->peer_port = T_PEER_PORT + 1;
	t->iss = iss2;
	t_peer(t, "P.", 1101, T_ISS + 1, 30);
	t_expect(t, ".", T_ISS + 1, 1001, 0);
	t_counter(t, "OfoDrop", 1);
	t_counter(t, "OfoQueued", 2);
	t_free(t);
}

static void rfc1337_on(struct synack_config *c)
{
	c->rfc1337 = 1;
}

/* rfc1337 = 1: no RST ends TIME_WAIT, exact or not; it lasts its 2 MSL. */
static void rfc1337_time_wait_ignores_rst(void)
{
	struct t *t = with(rfc1337_on);
	t_at(t, 0);
	t_to_time_wait(t);
	t_peer(t, "R", 1002, 0, 0);
	t_expect_nothing(t);
	t_dropped(t, SYNACK_DROP_TIME_WAIT_RST);
	t_peer(t, "R", 1500, 0, 0);
	t_expect_nothing(t);
	t_state(t, SYNACK_TIME_WAIT);
	t_counter(t, "TimeWaitRstIgnored", 2);
	t_counter(t, "RstChallenge", 0);
	t_at(t, t->cfg.time_wait_ms - 1);
	t_state(t, SYNACK_TIME_WAIT);
	t_at(t, t->cfg.time_wait_ms);
	t_state(t, SYNACK_CLOSED);
	t_counter(t, "TimeWaitExpired", 1);
	t_free(t);
}

/* rfc1337 = 0 (the default, as Linux): the exact RST ends TIME_WAIT, an
 * in-window one is challenged. */
static void rfc1337_off_time_wait_takes_exact_rst(void)
{
	struct t *t = t_new();
	CHECK_EQ(t->cfg.rfc1337, 0);
	t_to_time_wait(t);
	t_peer(t, "R", 1500, 0, 0);
	t_expect(t, ".", T_ISS + 2, 1002, 0);
	t_peer(t, "R", 1002, 0, 0);
	t_expect_nothing(t);
	t_state(t, SYNACK_CLOSED);
	t_counter(t, "TimeWaitRstIgnored", 0);
	t_free(t);
}

/* The defaults, as docs/BEHAVIOUR.md states them. */
static void hostile_defaults(void)
{
	struct synack_config c;
	synack_config_default(&c);
	CHECK_EQ(c.max_syn_backlog, 4096);
	CHECK_EQ(c.syncookies, 1);
	CHECK_EQ(c.abort_on_overflow, 0);
	CHECK_EQ(c.challenge_ack_limit, 100);
	CHECK_EQ(c.rfc1337, 0);
	CHECK_EQ(c.ofo_budget, 32u << 20);
	CHECK_EQ(c.max_orphans, 65536);
}

int main(void)
{
	RUN(max_orphans_resets_the_next_orphan);
	RUN(ofo_budget_drops_only_out_of_order_text);
	RUN(ofo_budget_zero_holds_nothing);
	RUN(ofo_budget_is_shared_by_the_stack);
	RUN(rfc1337_time_wait_ignores_rst);
	RUN(rfc1337_off_time_wait_takes_exact_rst);
	RUN(hostile_defaults);
	return check_summary("test_hostile_limits");
}
