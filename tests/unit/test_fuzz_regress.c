/*
 * Regressions for what the fuzz targets (fuzz/) found, one test per
 * finding, each named after the state and event as the state tests are.
 * The input that found it is kept in fuzz/regress/<target>/ and replayed
 * by the fuzz_<target>_corpus test.
 */
#include <errno.h>
#include <string.h>

#include "check.h"
#include "script.h"

/*
 * fuzz_stack: close() in SYN_RECEIVED of an active (simultaneous) open goes
 * to FIN_WAIT_1 without passing ESTABLISHED, where congestion control is set
 * up; the retransmission timeout then used the connection's missing
 * algorithm (a NULL dereference).  Now the connection retransmits and the
 * peer's ACK of the SYN and FIN completes the close.
 */
static void syn_received_active_close_then_timeout_retransmits(void)
{
	struct t *t = t_new();
	t_at(t, 0);
	t_to_syn_sent(t);
	t_peer(t, "S", 1000, 0, 0);
	t_expect(t, "S.", T_ISS, 1001, 0);
	t_state(t, SYNACK_SYN_RECEIVED);
	t_close(t);
	t_state(t, SYNACK_FIN_WAIT_1);
	t_drain(t);
	t_at(t, 10000);
	CHECK(t_drain(t) > 0);
	t_state(t, SYNACK_FIN_WAIT_1);
	t_peer(t, ".", 1001, T_ISS + 2, 0);
	t_drain(t);
	t_state(t, SYNACK_FIN_WAIT_2);
	t_free(t);
}

/* invalid_ratelimit_ms: 0 (answer every one) up to a minute. */
static void config_invalid_ratelimit_bounds(void)
{
	struct synack_config c;
	char msg[160];
	t_config(&c);
	CHECK_EQ(c.invalid_ratelimit_ms, 500u);
	c.invalid_ratelimit_ms = 0;
	CHECK_EQ(synack_config_check(&c, msg, sizeof msg), 0);
	c.invalid_ratelimit_ms = 60000;
	CHECK_EQ(synack_config_check(&c, msg, sizeof msg), 0);
	c.invalid_ratelimit_ms = 60001;
	CHECK_EQ(synack_config_check(&c, msg, sizeof msg), -EINVAL);
	CHECK(strstr(msg, "invalid_ratelimit_ms") != NULL);
}

/*
 * fuzz_stack: a socket connected to itself, whose SYN reached it with a
 * changed sequence number, disagreed with itself about the sequence
 * numbers: every ACK it sent was out of its own window and was answered
 * with another ACK, forever, at no cost in time.  An unacceptable pure ACK
 * is now answered once per invalid_ratelimit_ms (the script below).  And
 * since routing (issue 17 item 4) the SYN of a socket connected to itself
 * never leaves the stack: it comes back through the loopback queue, a
 * simultaneous open with itself as on Linux, which ends ESTABLISHED and
 * closes in a bounded number of steps; a copy of it from the link (what
 * fuzz_stack sent) is a martian, dropped (test_route).
 */
static void self_connect_stays_inside_and_settles(void)
{
	struct synack_config c;
	t_config(&c);
	struct synack_stack *st = synack_stack_new(&c, NULL);
	CHECK(st != NULL);
	int s = synack_socket(st);
	struct synack_endpoint self = {.addr = T_US_ADDR, .port = 5000};
	CHECK_EQ(synack_bind(st, s, &self), 0);
	CHECK_EQ(synack_connect(st, s, &self), -EINPROGRESS);
	CHECK_EQ(synack_output_pending(st), 0);
	int steps = 0;
	while (synack_next_deadline(st) == 0 && steps < 1000) {
		synack_advance(st, 0);
		steps++;
	}
	CHECK(steps < 20);
	struct synack_tcp_info info;
	CHECK_EQ(synack_tcp_info(st, s, &info), 0);
	CHECK_EQ(info.state, SYNACK_ESTABLISHED);
	CHECK_EQ(synack_send(st, s, "x", 1), 1);
	synack_close(st, s);
	/* Everything it sends goes back to it, with no time passing. */
	while (synack_next_deadline(st) == 0 && steps < 1000) {
		synack_advance(st, 0);
		steps++;
	}
	CHECK(steps < 40);
	CHECK_EQ(synack_output_pending(st), 0);
	struct synack_stats stats;
	synack_stats(st, &stats);
	CHECK_EQ_U64(stats.conns_live, 0);
	synack_stack_free(st);
}

/* The limit in a script: a second unacceptable pure ACK within 500 ms goes
 * unanswered (and counted), data out of the window is always answered,
 * and after 500 ms a pure ACK is answered again. */
static void established_out_of_window_pure_ack_answered_once_per_limit(void)
{
	struct t *t = t_new();
	t_at(t, 0);
	t_establish_passive(t);
	t_peer(t, ".", 1001 + 100000, T_ISS + 1, 0);
	t_dropped(t, SYNACK_DROP_SEQ_OUT_OF_WINDOW);
	t_expect(t, ".", T_ISS + 1, 1001, 0);
	t_at(t, 499);
	t_peer(t, ".", 1001 + 100000, T_ISS + 1, 0);
	t_expect_nothing(t);
	t_counter(t, "AckSkippedSeq", 1);
	t_peer(t, "P.", 1001 + 100000, T_ISS + 1, 10);
	t_expect(t, ".", T_ISS + 1, 1001, 0);
	t_at(t, 500);
	t_peer(t, ".", 1001 + 100000, T_ISS + 1, 0);
	t_expect(t, ".", T_ISS + 1, 1001, 0);
	t_counter(t, "AckSkippedSeq", 1);
	t_free(t);
}

int main(void)
{
	RUN(syn_received_active_close_then_timeout_retransmits);
	RUN(config_invalid_ratelimit_bounds);
	RUN(self_connect_stays_inside_and_settles);
	RUN(established_out_of_window_pure_ack_answered_once_per_limit);
	return check_summary("test_fuzz_regress");
}
