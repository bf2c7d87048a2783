/*
 * RFC 5961 in full: challenge ACKs for an in-window RST (3.2) and for any
 * SYN in a synchronized state (4.2), ACK validation against blind data
 * injection (5.2), and the per-connection rate limit on challenge ACKs
 * (section 7, challenge_ack_limit), on the virtual clock.
 */
#include "script.h"

static struct t *established_with_limit(uint32_t limit)
{
	struct synack_config cfg;
	t_config(&cfg);
	cfg.challenge_ack_limit = limit;
	struct t *t = t_new_with(&cfg);
	t_establish_passive(t);
	return t;
}

/* The challenge ACK is <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK> with our window. */
static void challenge_ack_contents(void)
{
	struct t *t = established_with_limit(100);
	t_peer(t, "P.", 1001, T_ISS + 1, 10);
	t_expect(t, ".", T_ISS + 1, 1011, 0);
	t_recv(t, 10);
	t_send(t, 5);
	t_expect(t, "P.", T_ISS + 1, 1011, 5);
	/* Unacknowledged data out: SND.NXT = ISS+6, SND.UNA = ISS+1. */
	t_peer(t, "R", 1500, 0, 0);
	t_expect(t, ".", T_ISS + 6, 1011, 0);
	t_expect_win(t, T_RCVBUF - 10); /* the window edge advertised stays */
	t_dropped(t, SYNACK_DROP_RST_CHALLENGED);
	t_peer(t, "S", 77777, 0, 0);
	t_expect(t, ".", T_ISS + 6, 1011, 0);
	t_dropped(t, SYNACK_DROP_SYN_CHALLENGED);
	t_counter(t, "RstChallenge", 1);
	t_counter(t, "SynChallenge", 1);
	t_counter(t, "ChallengeAcks", 2);
	t_state(t, SYNACK_ESTABLISHED);
	t_free(t);
}

/* RFC 5961 4.2: a SYN outside the window gets the challenge too. */
static void syn_outside_window_is_challenged(void)
{
	struct t *t = established_with_limit(100);
	t_peer(t, "S", 1001 + 3 * T_RCVBUF, 0, 0);
	t_expect(t, ".", T_ISS + 1, 1001, 0);
	t_dropped(t, SYNACK_DROP_SYN_CHALLENGED);
	t_counter(t, "SynChallenge", 1);
	t_counter(t, "ChallengeAcks", 1);
	t_state(t, SYNACK_ESTABLISHED);
	t_free(t);
}

/* RFC 5961 5.2: text whose ACK acknowledges what we never sent, or lies
 * more than MAX.SND.WND below SND.UNA, is dropped unread and challenged. */
static void blind_data_with_bad_ack_is_not_delivered(void)
{
	struct t *t = established_with_limit(100);
	t_peer(t, "P.", 1001, T_ISS + 2, 100); /* above SND.MAX */
	t_expect(t, ".", T_ISS + 1, 1001, 0);
	t_dropped(t, SYNACK_DROP_ACK_FUTURE);
	t_peer(t, "P.", 1001, T_ISS + 1 - 65535 - 10, 100); /* below SND.UNA - MAX.SND.WND */
	t_expect(t, ".", T_ISS + 1, 1001, 0);
	t_dropped(t, SYNACK_DROP_ACK_UNACCEPTABLE);
	t_counter(t, "AckChallenge", 2);
	t_counter(t, "ChallengeAcks", 2);
	t_recv_err(t, -EAGAIN);
	/* The edges themselves are acceptable: SND.UNA - MAX.SND.WND and SND.MAX. */
	t_peer(t, "P.", 1001, T_ISS + 1 - 65535, 10);
	t_expect(t, ".", T_ISS + 1, 1011, 0);
	t_peer(t, "P.", 1011, T_ISS + 1, 10);
	t_expect(t, ".", T_ISS + 1, 1021, 0);
	t_recv(t, 20);
	t_counter(t, "AckChallenge", 2);
	t_free(t);
}

/* Section 7: at most challenge_ack_limit per second per connection; the
 * rest are counted as ChallengeAcksLimited and the segments still dropped.
 * A new second allows new ones. */
static void challenge_acks_are_rate_limited(void)
{
	struct t *t = established_with_limit(3);
	t_at(t, 1000);
	for (int i = 0; i < 3; i++) {
		t_peer(t, "R", 1500 + (uint32_t)i, 0, 0);
		t_expect(t, ".", T_ISS + 1, 1001, 0);
	}
	for (int i = 0; i < 5; i++) {
		t_peer(t, i % 2 ? "S" : "R", 2000 + (uint32_t)i, 0, 0);
		t_expect_nothing(t);
		t_dropped(t, i % 2 ? SYNACK_DROP_SYN_CHALLENGED : SYNACK_DROP_RST_CHALLENGED);
	}
	t_peer(t, "P.", 1001, T_ISS + 9, 10);
	t_expect_nothing(t);
	t_counter(t, "ChallengeAcks", 3);
	t_counter(t, "ChallengeAcksLimited", 6);
	t_state(t, SYNACK_ESTABLISHED);
	/* 999 ms after the first: still the same second. */
	t_at(t, 1999);
	t_peer(t, "R", 1500, 0, 0);
	t_expect_nothing(t);
	t_at(t, 2000);
	t_peer(t, "R", 1500, 0, 0);
	t_expect(t, ".", T_ISS + 1, 1001, 0);
	t_counter(t, "ChallengeAcks", 4);
	t_counter(t, "ChallengeAcksLimited", 7);
	/* Ordinary traffic is never limited. */
	t_peer(t, "P.", 1001, T_ISS + 1, 10);
	t_expect(t, ".", T_ISS + 1, 1011, 0);
	t_recv(t, 10);
	t_free(t);
}

/* 0 means no limit. */
static void challenge_ack_limit_zero_is_unlimited(void)
{
	struct t *t = established_with_limit(0);
	for (int i = 0; i < 500; i++) {
		t_peer(t, "R", 1500 + (uint32_t)i, 0, 0);
		t_expect(t, ".", T_ISS + 1, 1001, 0);
	}
	t_counter(t, "ChallengeAcks", 500);
	t_counter(t, "ChallengeAcksLimited", 0);
	t_free(t);
}

/* The limit is per connection: one connection under attack does not use
 * up another's challenges (a global limit leaks, CVE-2016-5696). */
static void challenge_ack_limit_is_per_connection(void)
{
	struct t *t = established_with_limit(2);
	int sent = 0;
	for (int i = 0; i < 4; i++) {
		t_peer(t, "R", 1500, 0, 0);
		sent += t_drain(t);
	}
	CHECK_EQ(sent, 2);
	t_counter(t, "ChallengeAcksLimited", 2);
	/* A second connection from another port. */
	t->peer_port = T_PEER_PORT + 1;
	t_forget_iss(t);
	t_peer(t, "S", 1000, 0, 0);
	t_expect(t, "S.", T_ISS, 1001, 0);
	t_peer(t, ".", 1001, T_ISS + 1, 0);
	t_state(t, SYNACK_ESTABLISHED);
	t_peer(t, "R", 1500, 0, 0);
	t_expect(t, ".", T_ISS + 1, 1001, 0);
	t_peer(t, "R", 1500, 0, 0);
	t_expect(t, ".", T_ISS + 1, 1001, 0);
	t_peer(t, "R", 1500, 0, 0);
	t_expect_nothing(t);
	t_counter(t, "ChallengeAcks", 4);
	t_counter(t, "ChallengeAcksLimited", 3);
	t_free(t);
}

/* Only the exact RST resets; the rate limit never makes a RST count. */
static void exact_rst_still_resets_when_limited(void)
{
	struct t *t = established_with_limit(1);
	t_peer(t, "R", 1500, 0, 0);
	t_expect(t, ".", T_ISS + 1, 1001, 0);
	t_peer(t, "R", 1501, 0, 0);
	t_expect_nothing(t);
	t_state(t, SYNACK_ESTABLISHED);
	t_peer(t, "R", 1001, 0, 0);
	t_expect_nothing(t);
	t_state(t, SYNACK_CLOSED);
	t_counter(t, "EstabResets", 1);
	t_free(t);
}

int main(void)
{
	RUN(challenge_ack_contents);
	RUN(syn_outside_window_is_challenged);
	RUN(blind_data_with_bad_ack_is_not_delivered);
	RUN(challenge_acks_are_rate_limited);
	RUN(challenge_ack_limit_zero_is_unlimited);
	RUN(challenge_ack_limit_is_per_connection);
	RUN(exact_rst_still_resets_when_limited);
	return check_summary("test_rfc5961");
}
