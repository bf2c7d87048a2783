/*
 * ECN (RFC 3168 section 6.1) segment by segment: the negotiation in the
 * handshake for ecn = 0, 1, 2 on either side (an ECN-setup SYN is always
 * answered), the codepoint of every kind of segment (ECT(0) on new data
 * only), CE answered with ECE until CWR, one window reduction per round
 * trip on ECE with CWR on the next new data, ECE ignored in loss recovery
 * and on a connection without ECN; and the options a SYN cookie keeps in
 * its timestamp (issue 13 item 5).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "link/impair.h"
#include "render.h"
#include "script.h"
#include "tcp/tcp.h"
#include "transfer.h"

static struct t *with_ecn(uint32_t ecn)
{
	struct synack_config cfg;
	t_config(&cfg);
	cfg.ecn = ecn;
	return t_new_with(&cfg);
}

/* A passive open whose SYN asked for ECN and whose SYN-ACK agreed. */
static void establish_passive_ecn(struct t *t)
{
	t_listen(t);
	t_peer(t, "SEW", T_PEER_ISN, 0, 0);
	t_expect(t, "S.E", T_ISS, T_PEER_ISN + 1, 0);
	t_expect_ecn(t, WIRE_ECN_NOT_ECT);
	t_peer(t, ".", T_PEER_ISN + 1, T_ISS + 1, 0);
	t_accept(t);
	t_state(t, SYNACK_ESTABLISHED);
	CHECK_EQ(t_info(t).ecn, SYNACK_TCPI_ECN_OK);
}

/* An active open with ecn = 1 that the peer's SYN-ACK agreed to. */
static void establish_active_ecn(struct t *t)
{
	t_connect(t);
	t_expect(t, "SEW", T_ISS, 0, 0);
	t_expect_ecn(t, WIRE_ECN_NOT_ECT);
	t_peer(t, "S.E", T_PEER_ISN, T_ISS + 1, 0);
	t_expect(t, ".", T_ISS + 1, T_PEER_ISN + 1, 0);
	t_expect_ecn(t, WIRE_ECN_NOT_ECT);
	t_state(t, SYNACK_ESTABLISHED);
	CHECK_EQ(t_info(t).ecn, SYNACK_TCPI_ECN_OK);
}

/* ------------------------------------------------------------------ */
/* Negotiation (RFC 3168 6.1.1).                                       */

/* A listener answers an ECN-setup SYN with ECE alone for ecn 1 and 2, and
 * without ECN for ecn 0: answered every time, never dropped. */
static void listen_ecn_setup_syn_is_always_answered(void)
{
	for (uint32_t ecn = 0; ecn <= 2; ecn++) {
		struct t *t = with_ecn(ecn);
		t_listen(t);
		t_peer(t, "SEW", T_PEER_ISN, 0, 0);
		t_expect(t, ecn ? "S.E" : "S.", T_ISS, T_PEER_ISN + 1, 0);
		t_expect_ecn(t, WIRE_ECN_NOT_ECT);
		t_state(t, SYNACK_SYN_RECEIVED);
		t_peer(t, ".", T_PEER_ISN + 1, T_ISS + 1, 0);
		t_accept(t);
		t_state(t, SYNACK_ESTABLISHED);
		CHECK_EQ(t_info(t).ecn, ecn ? SYNACK_TCPI_ECN_OK : 0u);
		/* New data goes ECT(0) only when ECN was agreed. */
		t_send(t, 100);
		t_expect(t, "P.", T_ISS + 1, T_PEER_ISN + 1, 100);
		t_expect_ecn(t, ecn ? WIRE_ECN_ECT0 : WIRE_ECN_NOT_ECT);
		t_free(t);
	}
}

/* The SYN-ACK sent again after a timeout still agrees (ECE, Not-ECT): the
 * half-open child remembers the answer; and CE on out-of-order data is
 * echoed as on in-order data. */
static void syn_received_synack_again_still_agrees(void)
{
	struct t *t = with_ecn(2);
	t_listen(t);
	t_peer(t, "SEW", T_PEER_ISN, 0, 0);
	t_expect(t, "S.E", T_ISS, T_PEER_ISN + 1, 0);
	t_advance_ms(t, 1000);
	t_expect(t, "S.E", T_ISS, T_PEER_ISN + 1, 0);
	t_expect_ecn(t, WIRE_ECN_NOT_ECT);
	t_peer(t, ".", T_PEER_ISN + 1, T_ISS + 1, 0);
	t_accept(t);
	CHECK_EQ(t_info(t).ecn, SYNACK_TCPI_ECN_OK);
	t->peer_ecn = WIRE_ECN_CE;
	t_peer(t, "P.", 1101, T_ISS + 1, 100); /* 1001..1100 missing */
	t_expect(t, "E.", T_ISS + 1, 1001, 0);
	t->peer_ecn = WIRE_ECN_ECT0;
	t_peer(t, "PW.", 1001, T_ISS + 1, 100);
	t_expect(t, ".", T_ISS + 1, 1201, 0);
	t_recv(t, 200);
	t_free(t);
}

/* A SYN that does not ask (neither bit, or only one of them) gets a plain
 * SYN-ACK whatever the setting. */
static void listen_syn_not_asking_gets_no_ecn(void)
{
	static const char *const syns[] = {"S", "SE", "SW"};
	for (size_t k = 0; k < 3; k++) {
		struct t *t = with_ecn(1);
		t_listen(t);
		t_peer(t, syns[k], T_PEER_ISN, 0, 0);
		t_expect(t, "S.", T_ISS, T_PEER_ISN + 1, 0);
		t_peer(t, ".", T_PEER_ISN + 1, T_ISS + 1, 0);
		t_accept(t);
		CHECK_EQ(t_info(t).ecn, 0u);
		t_free(t);
	}
}

/* An ECN-setup SYN that arrives ECN-marked itself was rewritten on its way
 * (a SYN must be Not-ECT): answered, ECN declined, as Linux does. */
static void listen_ecn_setup_syn_marked_ect_is_answered_without_ecn(void)
{
	struct t *t = with_ecn(2);
	t_listen(t);
	t->peer_ecn = WIRE_ECN_ECT0;
	t_peer(t, "SEW", T_PEER_ISN, 0, 0);
	t_expect(t, "S.", T_ISS, T_PEER_ISN + 1, 0);
	t->peer_ecn = WIRE_ECN_NOT_ECT;
	t_peer(t, ".", T_PEER_ISN + 1, T_ISS + 1, 0);
	t_accept(t);
	CHECK_EQ(t_info(t).ecn, 0u);
	t_free(t);
}

/* ecn = 1 asks in the SYN; ecn 0 and 2 (the default) do not. */
static void syn_sent_asks_only_with_ecn_1(void)
{
	for (uint32_t ecn = 0; ecn <= 2; ecn++) {
		struct t *t = with_ecn(ecn);
		t_connect(t);
		t_expect(t, ecn == 1 ? "SEW" : "S", T_ISS, 0, 0);
		t_expect_ecn(t, WIRE_ECN_NOT_ECT);
		/* A peer that agrees anyway does not turn ECN on for a
		 * connection that did not ask. */
		t_peer(t, "S.E", T_PEER_ISN, T_ISS + 1, 0);
		t_expect(t, ".", T_ISS + 1, T_PEER_ISN + 1, 0);
		CHECK_EQ(t_info(t).ecn, ecn == 1 ? SYNACK_TCPI_ECN_OK : 0u);
		t_free(t);
	}
}

/* Only an ECN-setup SYN-ACK (ECE without CWR) agrees; a plain one or one
 * that reflects both bits leaves ECN off. */
static void syn_sent_only_ece_alone_agrees(void)
{
	static const char *const synacks[] = {"S.", "S.EW", "S.W"};
	for (size_t k = 0; k < 3; k++) {
		struct t *t = with_ecn(1);
		t_connect(t);
		t_expect(t, "SEW", T_ISS, 0, 0);
		t_peer(t, synacks[k], T_PEER_ISN, T_ISS + 1, 0);
		t_expect(t, ".", T_ISS + 1, T_PEER_ISN + 1, 0);
		CHECK_EQ(t_info(t).ecn, 0u);
		t_send(t, 10);
		t_expect(t, "P.", T_ISS + 1, T_PEER_ISN + 1, 10);
		t_expect_ecn(t, WIRE_ECN_NOT_ECT);
		t_free(t);
	}
}

/* RFC 3168 6.1.1.1 with Linux's tcp_ecn_fallback: the SYN sent again after
 * a timeout no longer asks; with ecn_fallback = 0 it still does. */
static void syn_sent_retransmission_falls_back(void)
{
	for (uint32_t fallback = 0; fallback <= 1; fallback++) {
		struct synack_config cfg;
		t_config(&cfg);
		cfg.ecn = 1;
		cfg.ecn_fallback = fallback;
		struct t *t = t_new_with(&cfg);
		t_connect(t);
		t_expect(t, "SEW", T_ISS, 0, 0);
		t_advance_ms(t, 1000);
		t_expect(t, fallback ? "S" : "SEW", T_ISS, 0, 0);
		/* The answer to the first SYN still agrees. */
		t_peer(t, "S.E", T_PEER_ISN, T_ISS + 1, 0);
		t_expect(t, ".", T_ISS + 1, T_PEER_ISN + 1, 0);
		CHECK_EQ(t_info(t).ecn, SYNACK_TCPI_ECN_OK);
		t_free(t);
	}
}

/* Simultaneous open (RFC 3168 6.1.1 leaves it open; as Linux): ECN stays on
 * when the peer's SYN asks too, and our SYN-ACK then agrees with ECE
 * alone; a plain SYN from the peer turns it off. */
static void syn_sent_simultaneous_open_keeps_ecn_only_if_both_ask(void)
{
	for (int asks = 0; asks <= 1; asks++) {
		struct t *t = with_ecn(1);
		t_connect(t);
		t_expect(t, "SEW", T_ISS, 0, 0);
		t_peer(t, asks ? "SEW" : "S", 1000, 0, 0);
		t_expect(t, asks ? "S.E" : "S.", T_ISS, 1001, 0);
		t_expect_ecn(t, WIRE_ECN_NOT_ECT);
		t_peer(t, ".", 1001, T_ISS + 1, 0);
		t_state(t, SYNACK_ESTABLISHED);
		CHECK_EQ(t_info(t).ecn, asks ? SYNACK_TCPI_ECN_OK : 0u);
		t_free(t);
	}
}

/* A stack of the harness's configuration at addr with the setting ecn. */
static struct synack_stack *stack_at(uint32_t addr, uint32_t ecn)
{
	struct synack_config cfg;
	t_config(&cfg);
	cfg.addr = addr;
	cfg.ecn = ecn;
	return synack_stack_new(&cfg, NULL);
}

/* Moves every queued datagram from one stack to the other. */
static void carry(struct synack_stack *from, struct synack_stack *to)
{
	uint8_t pkt[2048];
	ssize_t n;
	while ((n = synack_output(from, pkt, sizeof pkt)) > 0)
		synack_input(to, 0, pkt, (size_t)n);
}

/* Both ends are this stack: ECN is on exactly when the client asks (1)
 * and the server accepts (1 or 2). */
static void negotiation_matrix_between_two_stacks(void)
{
	for (uint32_t client = 0; client <= 2; client++) {
		for (uint32_t server = 0; server <= 2; server++) {
			struct synack_stack *c = stack_at(T_US_ADDR, client);
			struct synack_stack *s = stack_at(T_PEER_ADDR, server);
			struct synack_endpoint srv = {.addr = T_PEER_ADDR, .port = 80};
			int l = synack_socket(s), cs = synack_socket(c);
			CHECK_EQ(synack_bind(s, l, &srv), 0);
			CHECK_EQ(synack_listen(s, l, 4), 0);
			CHECK_EQ(synack_connect(c, cs, &srv), -EINPROGRESS);
			carry(c, s); /* SYN */
			carry(s, c); /* SYN-ACK */
			carry(c, s); /* ACK */
			int as = synack_accept(s, l, NULL);
			CHECK(as >= 0);
			struct synack_tcp_info ci, si;
			CHECK_EQ(synack_tcp_info(c, cs, &ci), 0);
			CHECK_EQ(synack_tcp_info(s, as, &si), 0);
			CHECK_EQ(ci.state, SYNACK_ESTABLISHED);
			CHECK_EQ(si.state, SYNACK_ESTABLISHED);
			uint32_t want = client == 1 && server != 0 ? SYNACK_TCPI_ECN_OK : 0;
			CHECK_EQ(ci.ecn, want);
			CHECK_EQ(si.ecn, want);
			synack_stack_free(c);
			synack_stack_free(s);
		}
	}
}

/* ------------------------------------------------------------------ */
/* The receiver (RFC 3168 6.1.3).                                      */

/* A CE mark on data is echoed with ECE on every ACK until a segment with
 * CWR arrives; pure ACKs are Not-ECT. */
static void established_ce_is_echoed_until_cwr(void)
{
	struct t *t = with_ecn(2);
	establish_passive_ecn(t);
	t->peer_ecn = WIRE_ECN_ECT0;
	t_peer(t, "P.", 1001, T_ISS + 1, 100);
	t_expect(t, ".", T_ISS + 1, 1101, 0);
	t_expect_ecn(t, WIRE_ECN_NOT_ECT);
	t->peer_ecn = WIRE_ECN_CE;
	t_peer(t, "P.", 1101, T_ISS + 1, 100);
	t_expect(t, "E.", T_ISS + 1, 1201, 0);
	t_expect_ecn(t, WIRE_ECN_NOT_ECT);
	CHECK(t_info(t).ecn & SYNACK_TCPI_ECN_ECE);
	/* Unmarked data: the echo goes on, CWR has not come. */
	t->peer_ecn = WIRE_ECN_ECT0;
	t_peer(t, "P.", 1201, T_ISS + 1, 100);
	t_expect(t, "E.", T_ISS + 1, 1301, 0);
	/* Our data carries the echo too, and is ECT(0). */
	t_send(t, 10);
	t_expect(t, "PE.", T_ISS + 1, 1301, 10);
	t_expect_ecn(t, WIRE_ECN_ECT0);
	t_peer(t, ".", 1301, T_ISS + 11, 0);
	t_expect_nothing(t);
	/* CWR: the peer reduced; the echo stops. */
	t_peer(t, "PW.", 1301, T_ISS + 11, 100);
	t_expect(t, ".", T_ISS + 11, 1401, 0);
	CHECK_EQ(t_info(t).ecn, SYNACK_TCPI_ECN_OK);
	/* CWR and a new CE mark on one segment: the echo starts again. */
	t->peer_ecn = WIRE_ECN_CE;
	t_peer(t, "PW.", 1401, T_ISS + 11, 100);
	t_expect(t, "E.", T_ISS + 11, 1501, 0);
	t_counter(t, "IpExtInCEPkts", 2);
	t_counter(t, "IpExtInECT0Pkts", 4);
	t_recv(t, 500);
	t_free(t);
}

/* With delayed ACKs on, the first CE mark of an episode is acknowledged at
 * once (Linux's quick-ack on CE), later marked data is delayed as usual,
 * and the segment with CWR is acknowledged at once. */
static void established_first_ce_is_acked_at_once(void)
{
	struct synack_config cfg;
	t_config(&cfg);
	cfg.delack_ms = 40;
	cfg.max_quickacks = 0; /* delayed ACKs from the first segment on */
	struct t *t = t_new_with(&cfg);
	establish_passive_ecn(t);
	t->peer_ecn = WIRE_ECN_ECT0;
	t_peer(t, "P.", 1001, T_ISS + 1, 100);
	t_expect_nothing(t); /* delayed */
	t->peer_ecn = WIRE_ECN_CE;
	t_peer(t, "P.", 1101, T_ISS + 1, 100);
	t_expect(t, "E.", T_ISS + 1, 1201, 0);
	t_peer(t, "P.", 1201, T_ISS + 1, 100);
	t_expect_nothing(t); /* the echo is already on: delayed again */
	t_advance_ms(t, 40);
	t_expect(t, "E.", T_ISS + 1, 1301, 0);
	t->peer_ecn = WIRE_ECN_ECT0;
	t_peer(t, "PW.", 1301, T_ISS + 1, 100);
	t_expect(t, ".", T_ISS + 1, 1401, 0);
	t_recv(t, 400);
	t_free(t);
}

/* Hostile or confused peers: a connection that did not negotiate ECN
 * echoes no CE mark and ignores ECE and CWR. */
static void established_without_ecn_ignores_ce_ece_and_cwr(void)
{
	struct t *t = with_ecn(0);
	t_listen(t);
	t_peer(t, "SEW", T_PEER_ISN, 0, 0);
	t_expect(t, "S.", T_ISS, T_PEER_ISN + 1, 0);
	t_peer(t, ".", T_PEER_ISN + 1, T_ISS + 1, 0);
	t_accept(t);
	t->peer_ecn = WIRE_ECN_CE;
	t_peer(t, "P.", 1001, T_ISS + 1, 100);
	t_expect(t, ".", T_ISS + 1, 1101, 0);
	t_send(t, 3 * T_MSS);
	for (uint32_t k = 0; k < 3; k++) {
		t_expect(t, ".", T_ISS + 1 + k * T_MSS, 1101, T_MSS);
		t_expect_ecn(t, WIRE_ECN_NOT_ECT);
	}
	uint32_t cwnd = t_info(t).cwnd;
	t_peer(t, "E.", 1101, T_ISS + 1 + T_MSS, 0);
	t_peer(t, "EW.", 1101, T_ISS + 1 + 3 * T_MSS, 0);
	struct synack_tcp_info i = t_info(t);
	CHECK(i.cwnd >= cwnd); /* grew as usual, never reduced */
	CHECK_EQ(i.ssthresh, UINT32_MAX);
	CHECK_EQ(i.ecn, 0u);
	t_counter(t, "TCPDeliveredCE", 0);
	t_send(t, 10);
	t_expect(t, "P.", T_ISS + 1 + 3 * T_MSS, 1101, 10); /* no CWR */
	t_recv(t, 100);
	t_free(t);
}

/* ------------------------------------------------------------------ */
/* The sender (RFC 3168 6.1.2).                                        */

/* An ECE halves the window once (ssthresh from the algorithm, cwnd to it),
 * nothing is sent again, and the next new data carries CWR, once.  More
 * ECEs in the same round trip change nothing; one after the data that
 * carried CWR is acknowledged reduces again. */
static void established_ece_reduces_once_per_round_trip(void)
{
	/* Reno's arithmetic, the simplest to check: ssthresh = max(flight/2,
	 * 2 SMSS).  CUBIC's 0.7 of the flight is checked below. */
	struct synack_config cfg;
	t_config(&cfg);
	cfg.ecn = 1;
	snprintf(cfg.congestion_control, sizeof cfg.congestion_control, "reno");
	struct t *t = t_new_with(&cfg);
	establish_active_ecn(t);
	t_send(t, 4 * T_MSS);
	for (uint32_t k = 0; k < 4; k++) {
		t_expect(t, ".", T_ISS + 1 + k * T_MSS, 1001, T_MSS);
		t_expect_ecn(t, WIRE_ECN_ECT0);
	}
	t_expect_nothing(t);
	/* The ECE arrives with 4 segments in flight: ssthresh = 2 segments. */
	t_peer(t, "E.", 1001, T_ISS + 1 + T_MSS, 0);
	struct synack_tcp_info i = t_info(t);
	CHECK_EQ(i.ssthresh, 2 * T_MSS);
	CHECK_EQ(i.cwnd, 2 * T_MSS);
	CHECK_EQ(i.ca_state, SYNACK_CA_OPEN);
	CHECK(i.ecn & SYNACK_TCPI_ECN_CWR);
	t_counter(t, "TCPDeliveredCE", 1);
	t_counter(t, "RetransSegs", 0);
	t_expect_nothing(t); /* 3 segments in flight, cwnd 2 */
	/* The same round trip's ECEs: no further reduction. */
	t_peer(t, "E.", 1001, T_ISS + 1 + 2 * T_MSS, 0);
	t_peer(t, "E.", 1001, T_ISS + 1 + 3 * T_MSS, 0);
	CHECK_EQ(t_info(t).ssthresh, 2 * T_MSS);
	t_counter(t, "TCPDeliveredCE", 3);
	/* The next new data carries CWR; the one after it does not. */
	t_send(t, 2 * T_MSS);
	t_expect(t, "W.", T_ISS + 1 + 4 * T_MSS, 1001, T_MSS);
	t_expect_ecn(t, WIRE_ECN_ECT0);
	t_expect_nothing(t); /* cwnd: two segments in flight */
	/* An ECE acknowledging up to the CWR segment still answers marks of
	 * the old round trip. */
	t_peer(t, "E.", 1001, T_ISS + 1 + 4 * T_MSS, 0);
	t_expect(t, ".", T_ISS + 1 + 5 * T_MSS, 1001, T_MSS);
	t_expect_ecn(t, WIRE_ECN_ECT0);
	CHECK_EQ(t_info(t).ssthresh, 2 * T_MSS);
	CHECK(t_info(t).ecn & SYNACK_TCPI_ECN_CWR);
	/* The CWR segment is acknowledged: the round trip is over. */
	t_peer(t, ".", 1001, T_ISS + 1 + 5 * T_MSS, 0);
	CHECK_EQ(t_info(t).ecn, SYNACK_TCPI_ECN_OK);
	t_peer(t, ".", 1001, T_ISS + 1 + 6 * T_MSS, 0);
	/* The next ECE is new congestion: a second reduction, a second CWR. */
	uint32_t cwnd = t_info(t).cwnd;
	CHECK(cwnd >= 2 * T_MSS);
	t_send(t, 2 * T_MSS);
	t_expect(t, ".", T_ISS + 1 + 6 * T_MSS, 1001, T_MSS);
	t_expect(t, ".", T_ISS + 1 + 7 * T_MSS, 1001, T_MSS);
	t_expect_nothing(t);
	t_peer(t, "E.", 1001, T_ISS + 1 + 7 * T_MSS, 0);
	struct synack_tcp_info j = t_info(t);
	CHECK_EQ(j.ssthresh, 2 * T_MSS); /* two segments in flight: the floor */
	CHECK(j.cwnd <= cwnd);
	CHECK(j.ecn & SYNACK_TCPI_ECN_CWR);
	t_send(t, T_MSS);
	t_expect(t, "W.", T_ISS + 1 + 8 * T_MSS, 1001, T_MSS);
	t_counter(t, "TCPDeliveredCE", 5);
	t_counter(t, "RetransSegs", 0);
	t_drain(t);
	t_free(t);
}

/* With CUBIC (the default) the same ECE asks its ssthresh: beta_cubic =
 * 0.7 of the flight (RFC 9438 4.6 applies to ECN as to loss), cwnd to it,
 * once per round trip. */
static void established_ece_with_cubic_reduces_to_0_7_of_the_flight(void)
{
	struct t *t = with_ecn(1);
	establish_active_ecn(t);
	t_send(t, 10 * T_MSS);
	for (uint32_t k = 0; k < 10; k++)
		t_expect(t, ".", T_ISS + 1 + k * T_MSS, 1001, T_MSS);
	t_peer(t, "E.", 1001, T_ISS + 1 + T_MSS, 0);
	struct synack_tcp_info i = t_info(t);
	CHECK_EQ(i.ssthresh, 10 * T_MSS * 7 / 10);
	CHECK(i.cwnd <= i.ssthresh + T_MSS);
	CHECK(i.ecn & SYNACK_TCPI_ECN_CWR);
	t_peer(t, "E.", 1001, T_ISS + 1 + 2 * T_MSS, 0);
	CHECK_EQ(t_info(t).ssthresh, 10 * T_MSS * 7 / 10);
	t_drain(t);
	t_free(t);
}

/* In loss recovery the window was already reduced for this round trip: an
 * ECE there changes nothing (RFC 3168 6.1.2), and a retransmission is
 * Not-ECT (6.1.5), whether fast or after a timeout. */
static void established_ece_in_recovery_is_ignored_and_retransmissions_not_ect(void)
{
	struct t *t = with_ecn(1);
	establish_active_ecn(t);
	t_send(t, 6 * T_MSS);
	for (uint32_t k = 0; k < 6; k++)
		t_expect(t, ".", T_ISS + 1 + k * T_MSS, 1001, T_MSS);
	/* The first segment is lost: three duplicate ACKs. */
	t_peer(t, ".", 1001, T_ISS + 1, 0);
	t_peer(t, ".", 1001, T_ISS + 1, 0);
	t_peer(t, ".", 1001, T_ISS + 1, 0);
	t_expect(t, ".", T_ISS + 1, 1001, T_MSS); /* fast retransmit */
	t_expect_ecn(t, WIRE_ECN_NOT_ECT);
	struct synack_tcp_info i = t_info(t);
	CHECK_EQ(i.ca_state, SYNACK_CA_RECOVERY);
	uint32_t ssthresh = i.ssthresh;
	t_peer(t, "E.", 1001, T_ISS + 1, 0);
	CHECK_EQ(t_info(t).ssthresh, ssthresh);
	CHECK(!(t_info(t).ecn & SYNACK_TCPI_ECN_CWR));
	/* A timeout sends the head again, Not-ECT too. */
	t_expect_nothing(t);
	t_advance_ms(t, 200); /* the RTO, at rto_min after a 0 ms RTT */
	t_expect(t, ".", T_ISS + 1, 1001, T_MSS);
	t_expect_ecn(t, WIRE_ECN_NOT_ECT);
	t_counter(t, "Timeouts", 1);
	t_drain(t);
	t_free(t);
}

/* ------------------------------------------------------------------ */
/* SYN cookies keep the options in the timestamp (issue 13 item 5).    */

/* Every combination survives the round trip through TSval and TSecr. */
static void cookie_ts_options_round_trip(void)
{
	for (uint32_t ws = 0; ws <= TCP_COOKIE_NO_WSCALE; ws++) {
		for (int sack = 0; sack <= 1; sack++) {
			for (int ecn = 0; ecn <= 1; ecn++) {
				struct tcp_cookie_opts o = {(uint8_t)ws, (uint8_t)sack,
				                            (uint8_t)ecn};
				uint32_t now = 0x12345678u + ws * 1000u;
				uint32_t ts = tcp_cookie_ts_encode(now, o);
				struct tcp_cookie_opts d = tcp_cookie_ts_decode(ts);
				CHECK_EQ(d.wscale, ws);
				CHECK_EQ(d.sack_ok, sack);
				CHECK_EQ(d.ecn_ok, ecn);
				/* Never ahead of the clock, and less than 64 behind. */
				CHECK(now - ts < 64u);
			}
		}
	}
}

/* Linux's layout: wscale in bits 0-3 (15: none), SACK bit 4, ECN bit 5;
 * the clock's own low bits are replaced, stepping back 64 when needed,
 * modulo 2^32. */
static void cookie_ts_layout_is_linux(void)
{
	struct tcp_cookie_opts o = {7, 1, 1};
	CHECK_EQ(tcp_cookie_ts_encode(1000 * 64 + 63, o), 1000u * 64 + 0x37);
	CHECK_EQ(tcp_cookie_ts_encode(1000 * 64 + 0x10, o), 999u * 64 + 0x37);
	struct tcp_cookie_opts none = {TCP_COOKIE_NO_WSCALE, 0, 0};
	CHECK_EQ(tcp_cookie_ts_encode(640, none), 640u - 64 + 15);
	/* At the start of the clock the value wraps, as a 32-bit TSval does. */
	CHECK_EQ(tcp_cookie_ts_encode(3, o), 0xffffffc0u + 0x37);
	struct tcp_cookie_opts d = tcp_cookie_ts_decode(0x2e);
	CHECK_EQ(d.wscale, 14);
	CHECK_EQ(d.sack_ok, 0);
	CHECK_EQ(d.ecn_ok, 1);
	d = tcp_cookie_ts_decode(0x1f);
	CHECK_EQ(d.wscale, TCP_COOKIE_NO_WSCALE);
	CHECK_EQ(d.sack_ok, 1);
	CHECK_EQ(d.ecn_ok, 0);
}

/* Today a cookie SYN-ACK carries no timestamp, so it has nowhere to keep
 * ECN: an ECN-setup SYN is still answered, with ECN declined, and the
 * connection the cookie's ACK makes runs without it. */
static void cookie_without_timestamp_answers_ecn_setup_syn_without_ecn(void)
{
	struct synack_config cfg;
	t_config(&cfg);
	cfg.syncookies = 2;
	cfg.ecn = 1;
	struct t *t = t_new_with(&cfg);
	t_listen(t);
	t_peer(t, "SEW", T_PEER_ISN, 0, 0);
	t_expect(t, "S.", T_ISS, T_PEER_ISN + 1, 0);
	t_counter(t, "SyncookiesSent", 1);
	t_peer(t, ".", T_PEER_ISN + 1, T_ISS + 1, 0);
	t_state(t, SYNACK_ESTABLISHED);
	t_accept(t);
	CHECK_EQ(t_info(t).ecn, 0u);
	t_send(t, 10);
	t_expect(t, "P.", T_ISS + 1, T_PEER_ISN + 1, 10);
	t_expect_ecn(t, WIRE_ECN_NOT_ECT);
	t_free(t);
}

/* The trace records the codepoint of what was sent and received. */
static void trace_records_the_codepoint(void)
{
	struct t *t = with_ecn(2);
	establish_passive_ecn(t);
	t->peer_ecn = WIRE_ECN_CE;
	t_peer(t, "P.", 1001, T_ISS + 1, 100);
	t_expect(t, "E.", T_ISS + 1, 1101, 0);
	t_send(t, 10);
	t_expect(t, "PE.", T_ISS + 1, 1101, 10);
	t_trace_sync(t);
	int rx_ce = 0, tx_ect0 = 0, tx_ack_not_ect = 0;
	for (size_t i = 0; i < t->ntrace; i++) {
		const struct synack_trace *r = &t->trace[i];
		if (r->kind == SYNACK_TRACE_RX && r->len == 100)
			rx_ce += r->ecn == WIRE_ECN_CE;
		if (r->kind == SYNACK_TRACE_TX && r->len == 10)
			tx_ect0 += r->ecn == WIRE_ECN_ECT0;
		if (r->kind == SYNACK_TRACE_TX && r->len == 0 &&
		    r->flags == (SYNACK_TH_ECE | SYNACK_TH_ACK))
			tx_ack_not_ect += r->ecn == WIRE_ECN_NOT_ECT;
	}
	CHECK_EQ(rx_ce, 1);
	CHECK_EQ(tx_ect0, 1);
	CHECK_EQ(tx_ack_not_ect, 1);
	t_recv(t, 100);
	t_free(t);
}

/* The ladder and the JSON lines show ECE and CWR as E and W, and the
 * codepoint of a segment where it is not Not-ECT. */
static void render_shows_flags_and_codepoint(void)
{
	struct render_log log;
	render_log_init(&log);
	struct synack_endpoint c = {.addr = T_US_ADDR, .port = 40000};
	struct synack_endpoint srv = {.addr = T_PEER_ADDR, .port = 80};
	static const struct {
		int host;
		uint8_t kind, flags, ecn;
		uint32_t len;
	} segs[] = {
	    {0, SYNACK_TRACE_TX, SYNACK_TH_CWR | SYNACK_TH_ACK, WIRE_ECN_ECT0, 100},
	    {1, SYNACK_TRACE_RX, SYNACK_TH_CWR | SYNACK_TH_ACK, WIRE_ECN_CE, 100},
	    {1, SYNACK_TRACE_TX, SYNACK_TH_ECE | SYNACK_TH_ACK, WIRE_ECN_NOT_ECT, 0},
	};
	for (size_t i = 0; i < 3; i++) {
		struct render_event *e = render_log_add(&log, 1000 * i, segs[i].host, RENDER_TRACE);
		CHECK(e != NULL);
		e->tr.t_us = 1000 * i;
		e->tr.kind = segs[i].kind;
		e->tr.local = segs[i].host ? srv : c;
		e->tr.remote = segs[i].host ? c : srv;
		e->tr.flags = segs[i].flags;
		e->tr.ecn = segs[i].ecn;
		e->tr.len = segs[i].len;
		e->tr.seq = 1;
		e->tr.ack = 1;
		e->tr.win = 1000;
	}
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);
	CHECK(f != NULL);
	render_json(f, &log);
	fclose(f);
	CHECK(strstr(buf, "\"flags\":\"W.\"") != NULL);
	CHECK(strstr(buf, "\"flags\":\"E.\"") != NULL);
	CHECK(strstr(buf, "\"len\":100,\"win\":1000,\"ecn\":\"ECT(0)\"}") != NULL);
	CHECK(strstr(buf, "\"ecn\":\"CE\"}") != NULL);
	CHECK(strstr(buf, "Not-ECT") == NULL); /* the default is not shown */
	free(buf);
	buf = NULL;
	f = open_memstream(&buf, &n);
	CHECK(f != NULL);
	struct render_ladder_info info = {"ecn", "ECN", 1, c, srv};
	render_ladder(f, &log, &info);
	fclose(f);
	CHECK(strstr(buf, "W. ECT(0) seq 1:101(100) ack 1") != NULL);
	CHECK(strstr(buf, "E. ack 1 win 1000") != NULL);
	free(buf);
	render_log_free(&log);
}

/* ------------------------------------------------------------------ */
/* The simulator's bottleneck marks instead of dropping (AQM-like).    */

/* A datagram of the given ECN codepoint from the harness's builder. */
static size_t ip4_datagram(uint8_t *buf, uint8_t ecn)
{
	memset(buf, 0, 60);
	wire_ip4_emit_ecn(buf, T_PEER_ADDR, T_US_ADDR, WIRE_IPPROTO_TCP, 64, 1, 40, ecn);
	return 60;
}

/* With ecn_mark_pkts = 2, a datagram that finds two or more waiting ahead
 * of it is marked CE if it is ECN-capable (the IPv4 header checksum still
 * holds); Not-ECT datagrams are left alone; nothing is dropped for it. */
static void bottleneck_marks_ect_datagrams_past_the_threshold(void)
{
	struct impair im;
	impair_init(&im, 1);
	struct synack_sim_path p;
	memset(&p, 0, sizeof(p));
	p.rate_bps = 480000; /* a 60-byte datagram takes 1 ms */
	p.queue_pkts = 10;
	p.ecn_mark_pkts = 2;
	impair_set_path(&im, &p);
	uint8_t pkt[60];
	uint64_t at[2];
	struct wire_ip4 ip;
	/* The first is on the wire, the next two wait behind none and one. */
	for (int k = 0; k < 3; k++) {
		ip4_datagram(pkt, WIRE_ECN_ECT0);
		CHECK_EQ(impair_decide(&im, 0, pkt, sizeof pkt, at), 1);
		CHECK_EQ(pkt[1] & 3, WIRE_ECN_ECT0);
	}
	/* Two wait ahead: marked, with a valid header. */
	ip4_datagram(pkt, WIRE_ECN_ECT0);
	CHECK_EQ(impair_decide(&im, 0, pkt, sizeof pkt, at), 1);
	CHECK_EQ(wire_ip4_parse(pkt, sizeof pkt, &ip), SYNACK_DROP_NONE);
	CHECK_EQ(ip.tos & 3, WIRE_ECN_CE);
	ip4_datagram(pkt, WIRE_ECN_ECT1);
	CHECK_EQ(impair_decide(&im, 0, pkt, sizeof pkt, at), 1);
	CHECK_EQ(wire_ip4_parse(pkt, sizeof pkt, &ip), SYNACK_DROP_NONE);
	CHECK_EQ(ip.tos & 3, WIRE_ECN_CE);
	/* Not ECN-capable: never marked. */
	ip4_datagram(pkt, WIRE_ECN_NOT_ECT);
	CHECK_EQ(impair_decide(&im, 0, pkt, sizeof pkt, at), 1);
	CHECK_EQ(pkt[1] & 3, WIRE_ECN_NOT_ECT);
	CHECK_EQ_U64(im.c.ce_marked, 2);
	CHECK_EQ_U64(im.c.lost, 0);
	/* Once the queue drained, nothing is marked. */
	ip4_datagram(pkt, WIRE_ECN_ECT0);
	CHECK_EQ(impair_decide(&im, 100 * 1000, pkt, sizeof pkt, at), 1);
	CHECK_EQ(pkt[1] & 3, WIRE_ECN_ECT0);
	impair_free(&im);
}

/* The same transfer through a 10 Mbit/s bottleneck with a 20-packet
 * drop-tail queue: without ECN the window overflows the queue and
 * segments are lost and sent again; with ECN and marking at 5 waiting the
 * senders slow down on the marks: nothing lost, nothing sent again, the
 * same goodput within 5 %, every byte intact. */
static void sim_transfer_with_ecn_marks_instead_of_losing(void)
{
	struct transfer_opts o;
	struct transfer_result drop, ecn;
	transfer_opts_default(&o);
	o.bytes = 2000000;
	o.delay_ms = 5;
	o.bw_mbps = 10;
	o.queue_pkts = 20;
	FILE *null = fopen("/dev/null", "w");
	CHECK(null != NULL);
	CHECK_EQ(transfer_run(&o, null, &drop), 0);
	o.ecn_mark_pkts = 5;
	CHECK_EQ(transfer_run(&o, null, &ecn), 0);
	fclose(null);
	CHECK(drop.ok);
	CHECK(ecn.ok);
	CHECK(!drop.ecn_ok);
	CHECK(ecn.ecn_ok);
	CHECK(drop.net[0].queue_drops > 0);
	CHECK(drop.retransmits > 0);
	CHECK(ecn.net[0].ce_marked > 0);
	CHECK_EQ_U64(ecn.net[0].lost + ecn.net[1].lost, 0);
	CHECK_EQ_U64(ecn.retransmits, 0);
	CHECK(ecn.goodput_mbps > 0.95 * drop.goodput_mbps);
}

int main(void)
{
	RUN(listen_ecn_setup_syn_is_always_answered);
	RUN(syn_received_synack_again_still_agrees);
	RUN(listen_syn_not_asking_gets_no_ecn);
	RUN(listen_ecn_setup_syn_marked_ect_is_answered_without_ecn);
	RUN(syn_sent_asks_only_with_ecn_1);
	RUN(syn_sent_only_ece_alone_agrees);
	RUN(syn_sent_retransmission_falls_back);
	RUN(syn_sent_simultaneous_open_keeps_ecn_only_if_both_ask);
	RUN(negotiation_matrix_between_two_stacks);
	RUN(established_ce_is_echoed_until_cwr);
	RUN(established_first_ce_is_acked_at_once);
	RUN(established_without_ecn_ignores_ce_ece_and_cwr);
	RUN(established_ece_reduces_once_per_round_trip);
	RUN(established_ece_with_cubic_reduces_to_0_7_of_the_flight);
	RUN(established_ece_in_recovery_is_ignored_and_retransmissions_not_ect);
	RUN(cookie_ts_options_round_trip);
	RUN(cookie_ts_layout_is_linux);
	RUN(cookie_without_timestamp_answers_ecn_setup_syn_without_ecn);
	RUN(trace_records_the_codepoint);
	RUN(render_shows_flags_and_codepoint);
	RUN(bottleneck_marks_ect_datagrams_past_the_threshold);
	RUN(sim_transfer_with_ecn_marks_instead_of_losing);
	return check_summary("test_ecn");
}
