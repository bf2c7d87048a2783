/*
 * SACK, segment by segment: SACK-permitted negotiation (RFC 2018 2), the
 * blocks our ACKs carry for out-of-order data (RFC 2018 4) and D-SACK for
 * duplicates (RFC 2883 4), the sender's scoreboard over its transmit
 * records (RFC 6675 4: IsLost, pipe), SACK loss recovery that repairs
 * several holes in one round trip (RFC 6675 5), PRR's send amounts (RFC
 * 6937 3) and a timeout that skips what was SACKed (RFC 6675 5.1).
 */
#include <string.h>

#include "script.h"

/* Our sequence number of data segment k (T_MSS each) after the SYN. */
#define S(k) (T_ISS + 1 + (uint32_t)(k)*T_MSS)

/* The worked points below are RFC 6675's and RFC 6937's, with Reno's
 * halving (ssthresh = FlightSize / 2) and standard slow start; CUBIC's
 * 0.7 and HyStart++ have their own tests (test_cubic.c). */
static struct t *new_with(void (*tune)(struct synack_config *))
{
	struct synack_config cfg;
	t_config(&cfg);
	snprintf(cfg.congestion_control, sizeof(cfg.congestion_control), "reno");
	cfg.hystart = 0;
	if (tune)
		tune(&cfg);
	return t_new_with(&cfg);
}

/* Sends n segments of data of which `sent` leave at once. */
static void fill(struct t *t, int n, int sent)
{
	t_send(t, (size_t)n * T_MSS);
	for (int k = 0; k < sent; k++)
		t_expect(t, ".", S(k), 1001, T_MSS);
	t_expect_nothing(t);
}

/* Sends n more segments, from segment k, all leaving at once. */
static void fill_from(struct t *t, int k, int n)
{
	t_send(t, (size_t)n * T_MSS);
	for (int j = k; j < k + n; j++)
		t_expect(t, ".", S(j), 1001, T_MSS);
	t_expect_nothing(t);
}

static void sack_off(struct synack_config *cfg)
{
	cfg->sack = 0;
}

static void dsack_off(struct synack_config *cfg)
{
	cfg->dsack = 0;
}

/* An out-of-order segment from the peer: the ACK says whether SACK is on. */
static void ofo_ack_has_blocks(struct t *t, int on)
{
	t_peer(t, ".", 1101, T_ISS + 1, 100);
	t_expect(t, ".", T_ISS + 1, 1001, 0);
	if (on)
		t_expect_sack(t, 1, 1101u, 1201u);
	else
		t_expect_sack(t, 0);
}

/* ------------------------------------------------------------------ */
/* RFC 2018 2: SACK-permitted, in the SYN and only when offered in the  */
/* SYN-ACK.                                                             */

static void syn_offers_sack_and_peer_sack_ok_turns_it_on(void)
{
	struct t *t = new_with(NULL);
	t->peer_sack_ok = 1;
	t_connect(t);
	t_expect(t, "S", T_ISS, 0, 0);
	CHECK(t->seg.opts.sack_permitted);
	t_peer(t, "S.", T_PEER_ISN, T_ISS + 1, 0);
	t_expect(t, ".", T_ISS + 1, 1001, 0);
	ofo_ack_has_blocks(t, 1);
	t_free(t);
}

static void syn_ack_without_sack_permitted_leaves_sack_off(void)
{
	struct t *t = new_with(NULL);
	t_establish_active(t);
	ofo_ack_has_blocks(t, 0);
	t_free(t);
}

static void listen_answers_sack_permitted_only_when_offered(void)
{
	struct t *t = new_with(NULL);
	t_to_syn_received(t); /* the peer's SYN has no SACK-permitted */
	CHECK(!t->seg.opts.sack_permitted);
	t_peer(t, ".", 1001, T_ISS + 1, 0);
	t_accept(t);
	ofo_ack_has_blocks(t, 0);
	t_free(t);

	t = new_with(NULL);
	t->peer_sack_ok = 1;
	t_to_syn_received(t);
	CHECK(t->seg.opts.sack_permitted);
	t_peer(t, ".", 1001, T_ISS + 1, 0);
	t_accept(t);
	ofo_ack_has_blocks(t, 1);
	t_free(t);
}

static void sack_setting_off_neither_offers_nor_accepts(void)
{
	struct t *t = new_with(sack_off);
	t->peer_sack_ok = 1;
	t_connect(t);
	t_expect(t, "S", T_ISS, 0, 0);
	CHECK(!t->seg.opts.sack_permitted);
	t_peer(t, "S.", T_PEER_ISN, T_ISS + 1, 0);
	t_expect(t, ".", T_ISS + 1, 1001, 0);
	ofo_ack_has_blocks(t, 0);
	t_free(t);

	t = new_with(sack_off);
	t->peer_sack_ok = 1;
	t_to_syn_received(t);
	CHECK(!t->seg.opts.sack_permitted);
	t_free(t);
}

/* ------------------------------------------------------------------ */
/* RFC 2018 4: the blocks of our ACKs.                                  */

static struct t *established_with_sack(void (*tune)(struct synack_config *))
{
	struct t *t = new_with(tune);
	t->peer_sack_ok = 1;
	t_establish_passive(t);
	return t;
}

/* The block of the latest arrival first, then the most recently reported
 * ones; four fit without timestamps, and a block that grows by a filled
 * gap keeps its place as the latest. */
static void ofo_blocks_latest_first_at_most_four(void)
{
	struct t *t = established_with_sack(NULL);
	t_peer(t, ".", 1101, T_ISS + 1, 100);
	t_expect(t, ".", T_ISS + 1, 1001, 0);
	t_expect_sack(t, 1, 1101u, 1201u);
	t_peer(t, ".", 1301, T_ISS + 1, 100);
	t_expect(t, ".", T_ISS + 1, 1001, 0);
	t_expect_sack(t, 2, 1301u, 1401u, 1101u, 1201u);
	t_peer(t, ".", 1501, T_ISS + 1, 100);
	t_expect(t, ".", T_ISS + 1, 1001, 0);
	t_expect_sack(t, 3, 1501u, 1601u, 1301u, 1401u, 1101u, 1201u);
	t_peer(t, ".", 1701, T_ISS + 1, 100);
	t_expect(t, ".", T_ISS + 1, 1001, 0);
	t_expect_sack(t, 4, 1701u, 1801u, 1501u, 1601u, 1301u, 1401u, 1101u, 1201u);
	/* A fifth run: the oldest reported one is left out. */
	t_peer(t, ".", 1901, T_ISS + 1, 100);
	t_expect(t, ".", T_ISS + 1, 1001, 0);
	t_expect_sack(t, 4, 1901u, 2001u, 1701u, 1801u, 1501u, 1601u, 1301u, 1401u);
	/* 1201 joins 1101 and 1301: the merged block comes first. */
	t_peer(t, ".", 1201, T_ISS + 1, 100);
	t_expect(t, ".", T_ISS + 1, 1001, 0);
	t_expect_sack(t, 4, 1101u, 1401u, 1901u, 2001u, 1701u, 1801u, 1501u, 1601u);
	/* The hole at 1001 fills: what is still held is reported, most
	 * recently reported first. */
	t_peer(t, ".", 1001, T_ISS + 1, 100);
	t_expect(t, ".", T_ISS + 1, 1401, 0);
	t_expect_sack(t, 3, 1901u, 2001u, 1701u, 1801u, 1501u, 1601u);
	t_recv(t, 400);
	/* The holes fill one by one: the blocks shrink to none. */
	t_peer(t, ".", 1401, T_ISS + 1, 100);
	t_expect(t, ".", T_ISS + 1, 1601, 0);
	t_expect_sack(t, 2, 1901u, 2001u, 1701u, 1801u);
	t_peer(t, ".", 1601, T_ISS + 1, 100);
	t_expect(t, ".", T_ISS + 1, 1801, 0);
	t_expect_sack(t, 1, 1901u, 2001u);
	t_peer(t, ".", 1801, T_ISS + 1, 100);
	t_expect(t, ".", T_ISS + 1, 2001, 0);
	t_expect_sack(t, 0);
	t_free(t);
}

/* RFC 2883 4.1.1: a segment that all arrived before is reported in a
 * D-SACK block, once; the part of a segment below RCV.NXT likewise. */
static void duplicate_below_rcv_nxt_gets_dsack_once(void)
{
	struct t *t = established_with_sack(NULL);
	t_peer(t, ".", 1001, T_ISS + 1, 100);
	t_expect(t, ".", T_ISS + 1, 1101, 0);
	t_expect_sack(t, 0);
	t_peer(t, ".", 1001, T_ISS + 1, 100); /* again */
	t_expect(t, ".", T_ISS + 1, 1101, 0);
	t_expect_sack(t, 1, 1001u, 1101u);
	t_counter(t, "TCPDSACKOldSent", 1);
	t_peer(t, ".", 1051, T_ISS + 1, 100); /* half old, half new */
	t_expect(t, ".", T_ISS + 1, 1151, 0);
	t_expect_sack(t, 1, 1051u, 1101u);
	t_peer(t, ".", 1151, T_ISS + 1, 100);
	t_expect(t, ".", T_ISS + 1, 1251, 0);
	t_expect_sack(t, 0);
	t_counter(t, "TCPDSACKOldSent", 2);
	t_free(t);
}

/* RFC 2883 4.1.2: a duplicate of held out-of-order data: the D-SACK block,
 * then the block that holds it. */
static void duplicate_of_held_data_gets_dsack_then_its_block(void)
{
	struct t *t = established_with_sack(NULL);
	t_peer(t, ".", 1101, T_ISS + 1, 200);
	t_expect(t, ".", T_ISS + 1, 1001, 0);
	t_peer(t, ".", 1201, T_ISS + 1, 50);
	t_expect(t, ".", T_ISS + 1, 1001, 0);
	t_expect_sack(t, 2, 1201u, 1251u, 1101u, 1301u);
	t_counter(t, "TCPDSACKOfoSent", 1);
	t_free(t);
}

static void dsack_setting_off_sends_no_dsack(void)
{
	struct t *t = established_with_sack(dsack_off);
	t_peer(t, ".", 1001, T_ISS + 1, 100);
	t_expect(t, ".", T_ISS + 1, 1101, 0);
	t_peer(t, ".", 1001, T_ISS + 1, 100);
	t_expect(t, ".", T_ISS + 1, 1101, 0);
	t_expect_sack(t, 0);
	t_counter(t, "TCPDSACKOldSent", 0);
	t_free(t);
}

/* ------------------------------------------------------------------ */
/* The sender: scoreboard, recovery, PRR.                               */

static void rack_off(struct synack_config *cfg)
{
	cfg->recovery = 0;
}

/* A sender with SACK and RFC 6675's duplicate threshold alone: RACK-TLP
 * off (at the scripts' zero RTT, RACK would deem every hole lost at the
 * first SACK; its own tests below run with a real RTT). */
static struct t *sender_with_sack(void)
{
	struct t *t = new_with(rack_off);
	t->peer_sack_ok = 1;
	t_establish_active(t);
	return t;
}

/* SACK blocks mark the records they cover, splitting a record a block
 * edge falls inside; D-SACK blocks and blocks outside the flight mark
 * nothing and are counted. */
static void sack_blocks_mark_and_split_records(void)
{
	struct t *t = sender_with_sack();
	fill(t, 4, 4);
	/* Half of segment 1 and all of 2. */
	t_peer_sack(t, 1, S(1) + 730, S(3));
	t_peer(t, ".", 1001, T_ISS + 1, 0);
	struct synack_tcp_info i = t_info(t);
	CHECK_EQ(i.sacked, 730 + T_MSS);
	CHECK_EQ(i.lost, 0);
	CHECK_EQ(i.ca_state, SYNACK_CA_OPEN);
	/* A D-SACK (below the cumulative ACK) and a block past SND.MAX. */
	t_peer_sack(t, 1, T_ISS + 1, S(1));
	t_peer(t, ".", 1001, S(1), 0);
	t_counter(t, "TCPDSACKRecv", 1);
	t_peer_sack(t, 1, S(4), S(5));
	t_peer(t, ".", 1001, S(1), 0);
	t_counter(t, "TCPSACKDiscard", 1);
	CHECK_EQ(t_info(t).sacked, 730 + T_MSS);
	t_drain(t);
	t_free(t);
}

/*
 * Several holes in one window: segments 0, 2 and 4 of ten are lost.  The
 * third duplicate ACK starts recovery, and with the SACKs showing all
 * three holes lost (RFC 6675 IsLost) all three go at once: one round
 * trip repairs them, where NewReno needs one per hole.
 */
static void sack_recovery_repairs_several_holes_in_one_round_trip(void)
{
	struct t *t = sender_with_sack();
	fill(t, 10, 10);
	t_peer_sack(t, 1, S(1), S(2));
	t_peer(t, ".", 1001, T_ISS + 1, 0);
	t_expect_nothing(t);
	t_peer_sack(t, 2, S(3), S(4), S(1), S(2));
	t_peer(t, ".", 1001, T_ISS + 1, 0);
	t_expect_nothing(t);
	CHECK_EQ(t_info(t).ca_state, SYNACK_CA_OPEN);
	t_peer_sack(t, 3, S(5), S(10), S(3), S(4), S(1), S(2));
	t_peer(t, ".", 1001, T_ISS + 1, 0);
	t_expect(t, ".", S(0), 1001, T_MSS);
	t_expect(t, ".", S(2), 1001, T_MSS);
	t_expect(t, ".", S(4), 1001, T_MSS);
	t_expect_nothing(t);
	struct synack_tcp_info i = t_info(t);
	CHECK_EQ(i.ca_state, SYNACK_CA_RECOVERY);
	CHECK_EQ(i.ssthresh, 5 * T_MSS);
	CHECK_EQ(i.sacked, 7 * T_MSS);
	CHECK_EQ(i.retrans, 3 * T_MSS);
	CHECK_EQ(i.lost, 0);
	t_counter(t, "TCPSACKRecovery", 1);
	t_counter(t, "FastRetrans", 1);
	/* The repairs arrive: one ACK of everything ends recovery, cwnd =
	 * ssthresh (RFC 6937). */
	t_peer(t, ".", 1001, S(10), 0);
	i = t_info(t);
	CHECK_EQ(i.ca_state, SYNACK_CA_OPEN);
	CHECK_EQ(i.cwnd, 5 * T_MSS);
	t_counter(t, "RetransSegs", 3);
	t_counter(t, "Timeouts", 0);
	t_free(t);
}

/*
 * PRR (RFC 6937 3) at worked points.  Twelve segments in flight (ten,
 * then two by limited transmit), segment 0 lost, the rest SACKed one by
 * one.  ssthresh = 6 SMSS, RecoverFS = 12 SMSS.
 *   ack of 3: pipe 8 > ssthresh: sndcnt = ceil(1 * 6/12) SMSS, but the
 *             fast retransmit always goes: segment 0, prr_out = 1.
 *   ack of 4: pipe 8 (7 + the retransmission): ceil(2 * 6/12) - 1 = 0.
 *   ack of 5: pipe 7: ceil(3 * 6/12) - 1 = half an SMSS: nothing.
 *   ack of 6: pipe 6 = ssthresh: PRR-SSRB, min(ssthresh - pipe, ...) = 0.
 *   ack of 7: pipe 5: min(1, max(5 - 1, 1) + 1) SMSS: segment 12.
 */
static void prr_sends_at_worked_points(void)
{
	struct t *t = sender_with_sack();
	fill(t, 20, 10);
	t_peer_sack(t, 1, S(1), S(2));
	t_peer(t, ".", 1001, T_ISS + 1, 0);
	t_expect(t, ".", S(10), 1001, T_MSS); /* limited transmit */
	t_peer_sack(t, 1, S(1), S(3));
	t_peer(t, ".", 1001, T_ISS + 1, 0);
	t_expect(t, ".", S(11), 1001, T_MSS);
	t_peer_sack(t, 1, S(1), S(4));
	t_peer(t, ".", 1001, T_ISS + 1, 0);
	t_expect(t, ".", S(0), 1001, T_MSS);
	t_expect_nothing(t);
	CHECK_EQ(t_info(t).ssthresh, 6 * T_MSS);
	CHECK_EQ(t_info(t).cwnd, 9 * T_MSS);
	t_peer_sack(t, 1, S(1), S(5));
	t_peer(t, ".", 1001, T_ISS + 1, 0);
	t_expect_nothing(t);
	CHECK_EQ(t_info(t).cwnd, 8 * T_MSS);
	t_peer_sack(t, 1, S(1), S(6));
	t_peer(t, ".", 1001, T_ISS + 1, 0);
	t_expect_nothing(t);
	CHECK_EQ(t_info(t).cwnd, 7 * T_MSS + T_MSS / 2);
	t_peer_sack(t, 1, S(1), S(7));
	t_peer(t, ".", 1001, T_ISS + 1, 0);
	t_expect_nothing(t);
	CHECK_EQ(t_info(t).cwnd, 6 * T_MSS);
	t_peer_sack(t, 1, S(1), S(8));
	t_peer(t, ".", 1001, T_ISS + 1, 0);
	t_expect(t, ".", S(12), 1001, T_MSS);
	t_expect_nothing(t);
	CHECK_EQ(t_info(t).cwnd, 6 * T_MSS);
	t_free(t);
}

/*
 * RFC 6937 3: DeliveredData = (delta snd.una) + (delta SACKd), so data
 * SACKed earlier counts once, when SACKed, not again when the cumulative
 * ACK passes it.  The start of prr_sends_at_worked_points (segments 1-4
 * SACKed, segment 0 sent again, prr_delivered 2, prr_out 1), then the
 * repair arrives: the ACK of 5 delivers segment 0 alone.  pipe 7 (5-11) >
 * ssthresh 6: prr_delivered 3 SMSS, sndcnt = 3 * 6/12 - 1 = half an SMSS:
 * nothing goes, cwnd = 7.5 SMSS.  Counting 1-4 again (prr_delivered 7)
 * would give 2.5 SMSS and send two segments, growing the flight back
 * towards the window that overflowed.
 */
static void prr_counts_sacked_data_once_when_acked(void)
{
	struct t *t = sender_with_sack();
	fill(t, 20, 10);
	t_peer_sack(t, 1, S(1), S(2));
	t_peer(t, ".", 1001, T_ISS + 1, 0);
	t_expect(t, ".", S(10), 1001, T_MSS);
	t_peer_sack(t, 1, S(1), S(3));
	t_peer(t, ".", 1001, T_ISS + 1, 0);
	t_expect(t, ".", S(11), 1001, T_MSS);
	t_peer_sack(t, 1, S(1), S(4));
	t_peer(t, ".", 1001, T_ISS + 1, 0);
	t_expect(t, ".", S(0), 1001, T_MSS);
	t_peer_sack(t, 1, S(1), S(5));
	t_peer(t, ".", 1001, T_ISS + 1, 0);
	t_expect_nothing(t);
	t_peer(t, ".", 1001, S(5), 0);
	t_expect_nothing(t);
	struct synack_tcp_info i = t_info(t);
	CHECK_EQ(i.ca_state, SYNACK_CA_RECOVERY);
	CHECK_EQ(i.sacked, 0);
	CHECK_EQ(i.cwnd, 7 * T_MSS + T_MSS / 2);
	t_free(t);
}

/* Without SACK on the connection the same losses take NewReno: one hole
 * per round trip (the comparison the sack-recovery demo shows). */
static void without_sack_newreno_repairs_one_hole_per_round_trip(void)
{
	struct t *t = new_with(NULL);
	t_establish_active(t);
	fill(t, 10, 10);
	for (int k = 0; k < 3; k++)
		t_peer(t, ".", 1001, T_ISS + 1, 0);
	t_expect(t, ".", S(0), 1001, T_MSS);
	t_expect_nothing(t);
	t_peer(t, ".", 1001, S(2), 0); /* partial: the next hole only */
	t_expect(t, ".", S(2), 1001, T_MSS);
	t_expect_nothing(t);
	t_counter(t, "TCPSACKRecovery", 0);
	t_free(t);
}

/* RFC 6675 5.1: after a timeout what the peer SACKed is not sent again
 * (RACK-TLP off: its probe would come first). */
static void timeout_skips_sacked_data(void)
{
	struct t *t = new_with(rack_off);
	t->peer_sack_ok = 1;
	t_establish_active(t);
	fill(t, 4, 4);
	t_peer_sack(t, 1, S(1), S(3));
	t_peer(t, ".", 1001, T_ISS + 1, 0);
	t_expect_nothing(t);
	t_at(t, 200);
	t_expect(t, ".", S(0), 1001, T_MSS);
	t_expect_nothing(t);
	CHECK_EQ(t_info(t).ca_state, SYNACK_CA_LOSS);
	t_peer_sack(t, 1, S(1), S(3));
	t_peer(t, ".", 1001, S(1), 0);
	t_expect(t, ".", S(3), 1001, T_MSS);
	t_expect_nothing(t);
	t_peer(t, ".", 1001, S(4), 0);
	CHECK_EQ(t_info(t).ca_state, SYNACK_CA_OPEN);
	t_free(t);
}

/* ------------------------------------------------------------------ */
/* RACK-TLP (RFC 8985) and undo.                                        */

/* An active open whose handshake took 20 ms: SRTT 20 ms, RTO 200 ms (the
 * floor). */
static struct t *sender_with_rtt_tuned(void (*tune)(struct synack_config *))
{
	struct t *t = new_with(tune);
	t->peer_sack_ok = 1;
	t_at(t, 0);
	t_connect(t);
	t_expect(t, "S", T_ISS, 0, 0);
	t_at(t, 20);
	t_peer(t, "S.", T_PEER_ISN, T_ISS + 1, 0);
	t_expect(t, ".", T_ISS + 1, 1001, 0);
	CHECK_EQ(t_info(t).srtt_us, 20000);
	return t;
}
static struct t *sender_with_rtt(void)
{
	return sender_with_rtt_tuned(NULL);
}
/* The segments an ACK releases all leave at once (test_pacing.c paces them). */
static void pacing_off(struct synack_config *cfg)
{
	cfg->pacing = 0;
}

/*
 * RFC 8985 7: the last segment of a flight is lost and nothing more will
 * be sent.  The probe timeout (2 SRTT + the worst-case delayed ACK for a
 * single outstanding segment, but never after the RTO would fire) sends
 * the last segment again as a probe: no timeout, no collapse of cwnd.  Its
 * ACK shows it repaired a loss (TCPLossProbeRecovery).
 */
static void tlp_probe_repairs_tail_loss_before_the_rto(void)
{
	struct t *t = sender_with_rtt();
	fill(t, 4, 4);
	t_at(t, 40);
	t_peer(t, ".", 1001, S(3), 0); /* segments 0-2 arrived; 3 is lost */
	t_expect_nothing(t);
	t_at(t, 239);
	t_expect_nothing(t);
	t_at(t, 240);
	t_expect(t, ".", S(3), 1001, T_MSS);
	t_expect_nothing(t);
	t_counter(t, "TCPLossProbes", 1);
	t_counter(t, "Timeouts", 0);
	struct synack_tcp_info i = t_info(t);
	CHECK_EQ(i.ca_state, SYNACK_CA_OPEN);
	CHECK(i.cwnd >= 10 * T_MSS);
	t_at(t, 260);
	t_peer(t, ".", 1001, S(4), 0);
	t_counter(t, "TCPLossProbeRecovery", 1);
	t_counter(t, "Timeouts", 0);
	CHECK_EQ(t_info(t).ssthresh, 2 * T_MSS); /* the loss is answered */
	t_free(t);
}

/* With several segments outstanding the probe comes after 2 SRTT, and
 * sends new data when there is some. */
static void tlp_probe_sends_new_data_after_two_srtt(void)
{
	struct t *t = sender_with_rtt_tuned(pacing_off);
	fill(t, 20, 10);
	t_at(t, 40);
	t_peer(t, ".", 1001, S(2), 0);
	/* cwnd grew by two: four new segments, then cwnd is full. */
	for (int k = 10; k < 14; k++)
		t_expect(t, ".", S(k), 1001, T_MSS);
	t_expect_nothing(t);
	t_at(t, 79);
	t_expect_nothing(t);
	t_at(t, 80);
	t_expect(t, ".", S(14), 1001, T_MSS); /* the probe: new data, beyond cwnd */
	t_expect_nothing(t);
	t_counter(t, "TCPLossProbes", 1);
	t_drain(t);
	t_free(t);
}

/*
 * RFC 8985 6.2 and 6.3: segment 1 is SACKed 20 ms after all four went;
 * segment 0, sent at the same time, is lost once RACK.rtt plus the
 * reordering window (min_RTT / 4 = 5 ms) has passed since it was sent.
 * At the SACK that is 5 ms away: the reordering timer waits for it, then
 * recovery starts and segment 0 goes again.
 */
static void rack_reorder_timer_marks_the_hole_lost(void)
{
	struct t *t = sender_with_rtt();
	fill(t, 4, 4);
	t_at(t, 40);
	t_peer_sack(t, 1, S(1), S(2));
	t_peer(t, ".", 1001, T_ISS + 1, 0);
	t_expect_nothing(t);
	t_at(t, 44);
	t_expect_nothing(t);
	CHECK_EQ(t_info(t).ca_state, SYNACK_CA_OPEN);
	t_at(t, 45);
	t_expect(t, ".", S(0), 1001, T_MSS);
	t_expect_nothing(t);
	CHECK_EQ(t_info(t).ca_state, SYNACK_CA_RECOVERY);
	t_counter(t, "TCPSACKRecovery", 1);
	t_counter(t, "Timeouts", 0);
	t_free(t);
}

/* The same SACK, then segment 0's ACK 3 ms later, within the reordering
 * window: nothing was lost, nothing goes again, and the reordering is
 * seen (TCPSACKReorder). */
static void rack_reordering_within_the_window_sends_nothing(void)
{
	struct t *t = sender_with_rtt();
	fill(t, 4, 4);
	t_at(t, 40);
	t_peer_sack(t, 1, S(1), S(2));
	t_peer(t, ".", 1001, T_ISS + 1, 0);
	t_at(t, 43);
	t_peer(t, ".", 1001, S(4), 0);
	t_at(t, 300);
	t_expect_nothing(t);
	t_counter(t, "TCPSACKReorder", 1);
	t_counter(t, "RetransSegs", 0);
	CHECK_EQ(t_info(t).ca_state, SYNACK_CA_OPEN);
	t_free(t);
}

/* RFC 8985 6.2 step 4: a D-SACK grows the reordering window from one
 * quarter of min_RTT (RACK.reo_wnd_mult starts at 1) to two: segment 2 is
 * lost 10 ms after RACK.rtt, not 5.  (The first D-SACK once left the
 * multiplier at 1: the window did not grow until the second round.) */
static void rack_dsack_grows_the_reordering_window(void)
{
	struct t *t = sender_with_rtt();
	fill(t, 4, 4);
	t_at(t, 40);
	t_peer_sack(t, 1, S(0), S(1)); /* D-SACK: segment 0 came twice */
	t_peer(t, ".", 1001, S(2), 0);
	t_counter(t, "TCPDSACKRecv", 1);
	t_peer_sack(t, 1, S(3), S(4));
	t_peer(t, ".", 1001, S(2), 0);
	t_at(t, 45);
	t_expect_nothing(t);
	t_at(t, 49);
	t_expect_nothing(t);
	t_at(t, 50);
	t_expect(t, ".", S(2), 1001, T_MSS);
	t_expect_nothing(t);
	t_free(t);
}

/* tsoff (issue 13): without timestamps a segment the network held back
 * past later ones is timed when it comes, as the echo of its TSval would
 * time it (RFC 7323 4.3): segment 1 arrives 3 ms after segment 2 was
 * SACKed and its 23 ms sample enters SRTT, 20 ms -> 20.375 ms.  Only the
 * timed segment of each round trip (segment 0 here) gave samples before,
 * so SRTT never saw the reordering, and RACK's window, bounded by SRTT
 * (RFC 8985 6.2), could never cover a delay of one RTT or more. */
static void rack_reordered_segment_times_srtt_without_timestamps(void)
{
	struct t *t = sender_with_rtt();
	fill(t, 4, 4);
	t_at(t, 40);
	t_peer_sack(t, 1, S(2), S(3));
	t_peer(t, ".", 1001, S(1), 0);
	CHECK_EQ(t_info(t).srtt_us, 20000);
	t_at(t, 43);
	t_peer(t, ".", 1001, S(4), 0);
	CHECK_EQ(t_info(t).srtt_us, 20375);
	t_counter(t, "TCPSACKReorder", 1);
	t_counter(t, "RetransSegs", 0);
	t_free(t);
}

/* tsoff (issue 13): segment 0 goes again at 45 ms (RACK, as in
 * rack_reorder_timer_marks_the_hole_lost), and the ACK of everything comes
 * 1 ms later, sooner than min_RTT after the retransmission: the original
 * answered (RFC 8985 6.2 step 2), held back 26 ms.  That is reordering
 * (TCPSACKReorder), and without timestamps the original's 26 ms is an
 * RTT sample (20 ms -> 20.75 ms): Karn's ambiguity does not arise for a
 * segment sent twice whose ACK no retransmission could have drawn. */
static void rack_original_answering_after_its_retransmission_times_srtt(void)
{
	struct t *t = sender_with_rtt();
	fill(t, 4, 4);
	t_at(t, 40);
	t_peer_sack(t, 1, S(1), S(2));
	t_peer(t, ".", 1001, T_ISS + 1, 0);
	t_at(t, 45);
	t_expect(t, ".", S(0), 1001, T_MSS);
	t_expect_nothing(t);
	t_at(t, 46);
	t_peer(t, ".", 1001, S(4), 0);
	CHECK_EQ(t_info(t).srtt_us, 20750);
	t_counter(t, "TCPSACKReorder", 1);
	t_free(t);
}

/* A segment sent three times: which copy answered is not known, so no
 * sample comes from it. */
static void rack_segment_sent_thrice_gives_no_sample(void)
{
	struct t *t = sender_with_rtt();
	fill(t, 4, 4);
	t_at(t, 40);
	t_peer_sack(t, 1, S(1), S(2));
	t_peer(t, ".", 1001, T_ISS + 1, 0);
	t_at(t, 45);
	t_expect(t, ".", S(0), 1001, T_MSS);
	t_expect_nothing(t);
	uint32_t rto_ms = t_info(t).rto_us / 1000;
	t_at(t, 45 + rto_ms);
	t_expect(t, ".", S(0), 1001, T_MSS); /* the RTO */
	t_at(t, 46 + rto_ms);
	t_peer(t, ".", 1001, S(4), 0);
	CHECK_EQ(t_info(t).srtt_us, 20000);
	t_drain(t);
	t_free(t);
}

/* With recovery = 0 there is no RACK and no probe: the same SACK waits
 * for the duplicate ACK threshold or the RTO. */
static void recovery_setting_off_leaves_rack_tlp_out(void)
{
	struct t *t = new_with(rack_off);
	t->peer_sack_ok = 1;
	t_at(t, 0);
	t_connect(t);
	t_expect(t, "S", T_ISS, 0, 0);
	t_at(t, 20);
	t_peer(t, "S.", T_PEER_ISN, T_ISS + 1, 0);
	t_expect(t, ".", T_ISS + 1, 1001, 0);
	fill(t, 4, 4);
	t_at(t, 40);
	t_peer_sack(t, 1, S(1), S(2));
	t_peer(t, ".", 1001, T_ISS + 1, 0);
	t_at(t, 219);
	t_expect_nothing(t);
	t_at(t, 220);
	t_expect(t, ".", S(0), 1001, T_MSS); /* the RTO */
	t_counter(t, "Timeouts", 1);
	t_counter(t, "TCPLossProbes", 0);
	t_drain(t);
	t_free(t);
}

/*
 * Undo (RFC 3708 3.2 as Linux's tcp_try_undo_dsack): segment 0 was only
 * delayed.  Three SACKs start recovery and send it again; then the
 * original arrives, everything is acknowledged, and the retransmission
 * comes back as a D-SACK: the reduction was needless and is undone.
 */
static void dsack_of_every_retransmission_undoes_the_reduction(void)
{
	struct t *t = sender_with_sack();
	fill(t, 10, 10);
	uint32_t cwnd_before = t_info(t).cwnd, ssthresh_before = t_info(t).ssthresh;
	t_peer_sack(t, 1, S(1), S(2));
	t_peer(t, ".", 1001, T_ISS + 1, 0);
	t_peer_sack(t, 1, S(1), S(3));
	t_peer(t, ".", 1001, T_ISS + 1, 0);
	t_peer_sack(t, 1, S(1), S(4));
	t_peer(t, ".", 1001, T_ISS + 1, 0);
	t_expect(t, ".", S(0), 1001, T_MSS);
	t_expect_nothing(t);
	t_peer(t, ".", 1001, S(10), 0);
	CHECK_EQ(t_info(t).cwnd, 5 * T_MSS);
	t_peer_sack(t, 1, S(0), S(1));
	t_peer(t, ".", 1001, S(10), 0);
	t_counter(t, "TCPDSACKRecv", 1);
	t_counter(t, "TCPDSACKUndo", 1);
	struct synack_tcp_info i = t_info(t);
	CHECK_EQ(i.cwnd, cwnd_before);
	CHECK_EQ(i.ssthresh, ssthresh_before);
	CHECK_EQ(i.ca_state, SYNACK_CA_OPEN);
	t_free(t);
}

/* A D-SACK of data from before the reduction (the network's own
 * duplicate) undoes nothing. */
static void dsack_of_older_data_undoes_nothing(void)
{
	struct t *t = sender_with_sack();
	fill(t, 12, 10);
	t_peer(t, ".", 1001, S(2), 0);
	t_drain(t);
	t_peer_sack(t, 3, S(3), S(4), S(5), S(6), S(7), S(8));
	t_peer(t, ".", 1001, S(2), 0);
	t_drain(t);
	t_peer_sack(t, 1, S(0), S(1)); /* below the recovery's start */
	t_peer(t, ".", 1001, S(2), 0);
	t_counter(t, "TCPDSACKRecv", 1);
	t_counter(t, "TCPDSACKUndo", 0);
	t_drain(t);
	t_free(t);
}

/* A D-SACK of held data that we sent only once (the network duplicated
 * segment 2) says nothing about the retransmission of segment 0: the
 * reduction stands (Linux's tcp_sacktag_one counts only retransmitted
 * segments).  Counting it undid reductions for real losses on a path that
 * duplicates. */
static void dsack_of_data_sent_once_undoes_nothing(void)
{
	struct t *t = sender_with_sack();
	fill(t, 10, 10);
	t_peer_sack(t, 1, S(1), S(2));
	t_peer(t, ".", 1001, T_ISS + 1, 0);
	t_peer_sack(t, 1, S(1), S(3));
	t_peer(t, ".", 1001, T_ISS + 1, 0);
	t_peer_sack(t, 1, S(1), S(4));
	t_peer(t, ".", 1001, T_ISS + 1, 0);
	t_expect(t, ".", S(0), 1001, T_MSS);
	t_expect_nothing(t);
	uint32_t cwnd = t_info(t).cwnd;
	t_peer_sack(t, 2, S(2), S(3), S(1), S(4));
	t_peer(t, ".", 1001, T_ISS + 1, 0);
	t_counter(t, "TCPDSACKOfoRecv", 1);
	t_counter(t, "TCPDSACKUndo", 0);
	struct synack_tcp_info i = t_info(t);
	CHECK_EQ(i.ca_state, SYNACK_CA_RECOVERY);
	CHECK(i.cwnd <= cwnd);
	t_drain(t);
	t_free(t);
}

/*
 * Eifel detection (RFC 3522) with timestamps: ten segments leave at 20 ms,
 * three SACKs at 40 ms start recovery and segment 0 goes again (its TSval
 * is RetransmitTS).  The ACK of everything echoes the TSval of segment 0's
 * first transmission (it had only been delayed): the retransmission was
 * needless, the reduction is undone at once (TCPFullUndo).  With the echo
 * of the retransmission the reduction stands.
 */
#define TS_MSS (T_MSS - 12)
#define ST(k) (T_ISS + 1 + (uint32_t)(k)*TS_MSS)
static void eifel_run(int echo_original)
{
	struct t *t = new_with(rack_off);
	t->peer_sack_ok = 1;
	t->peer_ts = 1;
	t->peer_tsval = 500;
	t_at(t, 0);
	t_connect(t);
	t_expect(t, "S", T_ISS, 0, 0);
	uint32_t syn_ts = t_expect_ts(t, 1, 0);
	t_at(t, 20);
	t->peer_tsecr = syn_ts;
	t_peer(t, "S.", T_PEER_ISN, T_ISS + 1, 0);
	t_expect(t, ".", T_ISS + 1, 1001, 0);
	t_send(t, 10 * TS_MSS);
	t_expect(t, ".", ST(0), 1001, TS_MSS);
	uint32_t orig_ts = t_expect_ts(t, 1, 500);
	for (int k = 1; k < 10; k++)
		t_expect(t, ".", ST(k), 1001, TS_MSS);
	t_expect_nothing(t);
	uint32_t cwnd_before = t_info(t).cwnd, ssthresh_before = t_info(t).ssthresh;
	t_at(t, 40);
	t->peer_tsecr = orig_ts;
	for (int k = 2; k <= 4; k++) {
		t_peer_sack(t, 1, ST(1), ST(k));
		t_peer(t, ".", 1001, T_ISS + 1, 0);
	}
	t_expect(t, ".", ST(0), 1001, TS_MSS);
	uint32_t rtx_ts = t_expect_ts(t, 1, 500);
	CHECK(rtx_ts != orig_ts);
	t_drain(t);
	CHECK_EQ(t_info(t).ca_state, SYNACK_CA_RECOVERY);
	t_at(t, 45);
	t->peer_tsecr = echo_original ? orig_ts : rtx_ts;
	t_peer(t, ".", 1001, ST(10), 0);
	struct synack_tcp_info i = t_info(t);
	if (echo_original) {
		t_counter(t, "TCPFullUndo", 1);
		CHECK(i.cwnd >= cwnd_before); /* restored, then this ACK's growth */
		CHECK_EQ(i.ssthresh, ssthresh_before);
	} else {
		t_counter(t, "TCPFullUndo", 0);
		CHECK(i.ssthresh < ssthresh_before);
		CHECK(i.cwnd < cwnd_before);
	}
	CHECK_EQ(i.ca_state, SYNACK_CA_OPEN);
	t_counter(t, "TCPPartialUndo", 0);
	t_drain(t);
	t_free(t);
}

static void eifel_undoes_a_recovery_the_original_answered(void)
{
	eifel_run(1);
}

static void eifel_keeps_a_recovery_the_retransmission_answered(void)
{
	eifel_run(0);
}

/* The retransmission timer fires during SACK recovery: the recovery
 * failed (TcpExt TCPSackRecoveryFail, as Linux's tcp_retransmit_timer
 * counts it); later timeouts, in the loss state, are not counted again. */
static void timeout_in_sack_recovery_counts_a_failed_recovery(void)
{
	struct t *t = sender_with_sack();
	fill(t, 10, 10);
	t_peer_sack(t, 1, S(1), S(2));
	t_peer(t, ".", 1001, T_ISS + 1, 0);
	t_peer_sack(t, 1, S(1), S(3));
	t_peer(t, ".", 1001, T_ISS + 1, 0);
	t_peer_sack(t, 1, S(1), S(4));
	t_peer(t, ".", 1001, T_ISS + 1, 0);
	t_expect(t, ".", S(0), 1001, T_MSS);
	t_drain(t);
	CHECK_EQ(t_info(t).ca_state, SYNACK_CA_RECOVERY);
	CHECK_EQ_U64(t_info(t).bytes_retrans, T_MSS);
	t_counter(t, "TCPSackRecoveryFail", 0);
	t_at(t, 5000);
	t_drain(t);
	CHECK_EQ(t_info(t).ca_state, SYNACK_CA_LOSS);
	CHECK(t_info(t).total_retrans >= 3);
	t_counter(t, "TCPSackRecoveryFail", 1);
	t_free(t);
}

/* sender_with_rtt with RACK-TLP off, so that the RTO is what fires. */
static struct t *sender_with_rtt_no_rack(void)
{
	struct t *t = new_with(rack_off);
	t->peer_sack_ok = 1;
	t_at(t, 0);
	t_connect(t);
	t_expect(t, "S", T_ISS, 0, 0);
	t_at(t, 20);
	t_peer(t, "S.", T_PEER_ISN, T_ISS + 1, 0);
	t_expect(t, ".", T_ISS + 1, 1001, 0);
	return t;
}

/*
 * F-RTO (RFC 5682 3): the flight was only delayed.  The timeout sends
 * segment 0 again; the ACK that comes back covers segments 1-3 too, which
 * were sent before the timeout and never again: the timeout was spurious,
 * and cwnd and ssthresh come back (TCPSpuriousRTOs).
 */
static void frto_undoes_a_spurious_timeout(void)
{
	struct t *t = sender_with_rtt_no_rack();
	fill(t, 4, 4);
	uint32_t cwnd_before = t_info(t).cwnd, ssthresh_before = t_info(t).ssthresh;
	t_at(t, 220);
	t_expect(t, ".", S(0), 1001, T_MSS);
	t_expect_nothing(t);
	CHECK_EQ(t_info(t).cwnd, T_MSS);
	t_at(t, 230);
	t_peer(t, ".", 1001, S(4), 0);
	t_counter(t, "TCPSpuriousRTOs", 1);
	struct synack_tcp_info i = t_info(t);
	CHECK_EQ(i.ca_state, SYNACK_CA_OPEN);
	CHECK(i.cwnd >= cwnd_before);
	CHECK_EQ(i.ssthresh, ssthresh_before);
	t_free(t);
}

/* The loss was real: the ACK of the retransmission covers nothing sent
 * before the timeout, so go-back-N goes on in slow start, nothing undone. */
static void frto_keeps_a_real_timeout(void)
{
	struct t *t = sender_with_rtt_no_rack();
	fill(t, 4, 4);
	t_at(t, 220);
	t_expect(t, ".", S(0), 1001, T_MSS);
	t_at(t, 240);
	t_peer(t, ".", 1001, S(1), 0);
	t_expect(t, ".", S(1), 1001, T_MSS);
	t_expect(t, ".", S(2), 1001, T_MSS);
	t_expect_nothing(t);
	t_counter(t, "TCPSpuriousRTOs", 0);
	CHECK_EQ(t_info(t).ca_state, SYNACK_CA_LOSS);
	t_drain(t);
	t_free(t);
}

/* RFC 5682 3 step 2b: the first ACK after the timeout covers only the
 * retransmission, so two new segments go (outside cwnd) instead of more
 * old data; the duplicate ACK they draw (with a SACK of them) says the
 * loss was real (step 3a), and go-back-N resumes at SND.UNA. */
static void frto_sends_new_data_then_goes_back(void)
{
	struct t *t = sender_with_rtt_no_rack();
	fill(t, 12, 10);
	t_at(t, 220);
	t_expect(t, ".", S(0), 1001, T_MSS);
	t_at(t, 240);
	t_peer(t, ".", 1001, S(1), 0);
	t_expect(t, ".", S(10), 1001, T_MSS);
	t_expect(t, ".", S(11), 1001, T_MSS);
	t_expect_nothing(t);
	t_at(t, 260);
	t_peer_sack(t, 1, S(10), S(12));
	t_peer(t, ".", 1001, S(1), 0);
	t_expect(t, ".", S(1), 1001, T_MSS);
	t_expect(t, ".", S(2), 1001, T_MSS);
	t_expect_nothing(t);
	t_counter(t, "TCPSpuriousRTOs", 0);
	t_drain(t);
	t_free(t);
}

static void frto_off(struct synack_config *cfg)
{
	cfg->recovery = 0;
	cfg->frto = 0;
}

/* frto = 0: the same delayed flight's timeout stands. */
static void frto_setting_off_undoes_nothing(void)
{
	struct t *t = new_with(frto_off);
	t->peer_sack_ok = 1;
	t_at(t, 0);
	t_connect(t);
	t_expect(t, "S", T_ISS, 0, 0);
	t_at(t, 20);
	t_peer(t, "S.", T_PEER_ISN, T_ISS + 1, 0);
	t_expect(t, ".", T_ISS + 1, 1001, 0);
	fill(t, 4, 4);
	t_at(t, 220);
	t_expect(t, ".", S(0), 1001, T_MSS);
	t_at(t, 230);
	t_peer(t, ".", 1001, S(4), 0);
	t_counter(t, "TCPSpuriousRTOs", 0);
	CHECK(t_info(t).cwnd < 4 * T_MSS);
	t_free(t);
}

/* ------------------------------------------------------------------ */
/* RACK after a retransmission timeout (RFC 8985 6.3).                  */

/* An ACK of everything below ack, which sends again segments first to
 * first + n - 1 and nothing more. */
static void ack_sends(struct t *t, uint32_t ack, int first, int n)
{
	t_peer(t, ".", 1001, ack, 0);
	for (int k = first; k < first + n; k++)
		t_expect(t, ".", S(k), 1001, T_MSS);
	t_expect_nothing(t);
}

static void rack_frto_off(struct synack_config *cfg)
{
	cfg->frto = 0;
	cfg->pacing = 0;
}

/*
 * RFC 8985 6.3, RACK_mark_losses_on_RTO: segment 0 is acknowledged at 40
 * ms (RACK.rtt 20 ms), segments 1-4 sent then are lost, and the probe
 * (7.3, at 80 ms) sends segment 4 again and is lost too.  Segment 5 leaves
 * at 275 ms, 5 ms before the timeout.  The timeout sends the first
 * segment again and marks lost only those whose RACK timeout has passed
 * (2-4), not segment 5: a classic timeout's go-back-N would send it
 * again blindly.  RACK goes on after the timeout: the ACK of segment 1
 * SACKs segment 5, and the slow-start window sends 2 and 3, then 4; the
 * ACK of everything ends the loss state.
 */
static void rack_timeout_marks_only_what_rack_timed_out(void)
{
	struct t *t = sender_with_rtt_tuned(rack_frto_off);
	fill(t, 1, 1);
	t_at(t, 40);
	t_peer(t, ".", 1001, S(1), 0);
	fill_from(t, 1, 4);
	t_at(t, 80);
	t_expect(t, ".", S(4), 1001, T_MSS); /* the probe: the last segment again */
	t_expect_nothing(t);
	t_counter(t, "TCPLossProbes", 1);
	t_at(t, 275);
	t_send(t, T_MSS);
	t_expect(t, ".", S(5), 1001, T_MSS);
	t_expect_nothing(t);
	t_at(t, 280);
	t_expect(t, ".", S(1), 1001, T_MSS); /* the timeout: the first segment */
	t_expect_nothing(t);
	t_counter(t, "Timeouts", 1);
	struct synack_tcp_info i = t_info(t);
	CHECK_EQ(i.ca_state, SYNACK_CA_LOSS);
	CHECK_EQ(i.lost, 3 * T_MSS); /* 2, 3 and 4; not 5 */
	CHECK_EQ(i.cwnd, T_MSS);
	t_at(t, 300);
	t_peer_sack(t, 1, S(5), S(6));
	ack_sends(t, S(2), 2, 2);
	t_at(t, 320);
	t_peer_sack(t, 1, S(5), S(6));
	t_peer(t, ".", 1001, S(4), 0);
	t_expect(t, ".", S(4), 1001, T_MSS);
	t_expect_nothing(t); /* segment 5 was SACKed: it never goes again */
	t_at(t, 340);
	t_peer(t, ".", 1001, S(6), 0);
	t_expect_nothing(t);
	CHECK_EQ(t_info(t).ca_state, SYNACK_CA_OPEN);
	t_counter(t, "RetransSegs", 5); /* the probe, 1, 2, 3, 4 */
	t_free(t);
}

/*
 * The timeout in SACK recovery (its retransmissions lost too): what the
 * peer SACKed is not marked lost and never goes again (RFC 6675 5.1, RFC
 * 8985 6.3); the first segment goes at once and the other hole is marked
 * lost, to go when the slow-start window opens.
 */
static void rack_timeout_leaves_sacked_data_alone(void)
{
	struct t *t = sender_with_rtt_tuned(rack_frto_off);
	fill(t, 5, 5);
	t_at(t, 40);
	t_peer_sack(t, 1, S(2), S(5)); /* three SACKed: 0 and 1 are lost */
	t_peer(t, ".", 1001, T_ISS + 1, 0);
	t_expect(t, ".", S(0), 1001, T_MSS);
	t_expect(t, ".", S(1), 1001, T_MSS);
	t_expect_nothing(t);
	CHECK_EQ(t_info(t).ca_state, SYNACK_CA_RECOVERY);
	t_at(t, 239);
	t_expect_nothing(t); /* no probe in recovery (RFC 8985 7.2) */
	t_at(t, 240);
	t_expect(t, ".", S(0), 1001, T_MSS); /* the timeout */
	t_expect_nothing(t);
	struct synack_tcp_info i = t_info(t);
	CHECK_EQ(i.ca_state, SYNACK_CA_LOSS);
	CHECK_EQ(i.lost, T_MSS);       /* segment 1 */
	CHECK_EQ(i.sacked, 3 * T_MSS); /* 2-4 stay SACKed */
	t_at(t, 260);
	t_peer_sack(t, 1, S(2), S(5));
	ack_sends(t, S(1), 1, 1);
	t_at(t, 280);
	t_peer(t, ".", 1001, S(5), 0);
	t_expect_nothing(t);
	CHECK_EQ(t_info(t).ca_state, SYNACK_CA_OPEN);
	t_free(t);
}

/*
 * A spurious timeout with RACK and F-RTO (RFC 5682 3, RFC 8985 6.3): the
 * probe and the timeout find the whole flight delayed.  The timeout marks
 * 1-3 lost and sends 0 again; the ACK of everything delivers originals
 * never sent again: the timeout was spurious, cwnd and ssthresh come back
 * and the loss marks go, so nothing more is sent again (TCPSpuriousRTOs).
 */
static void rack_spurious_timeout_is_undone_by_frto(void)
{
	struct t *t = sender_with_rtt_tuned(pacing_off);
	fill(t, 4, 4);
	uint32_t cwnd_before = t_info(t).cwnd, ssthresh_before = t_info(t).ssthresh;
	t_at(t, 60);
	t_expect(t, ".", S(3), 1001, T_MSS); /* the probe */
	t_expect_nothing(t);
	t_at(t, 260);
	t_expect(t, ".", S(0), 1001, T_MSS); /* the timeout */
	t_expect_nothing(t);
	CHECK_EQ(t_info(t).lost, 3 * T_MSS);
	t_at(t, 270);
	t_peer(t, ".", 1001, S(3), 0); /* 1 and 2: originals, sent once */
	t_expect_nothing(t);
	t_counter(t, "TCPSpuriousRTOs", 1);
	struct synack_tcp_info i = t_info(t);
	CHECK_EQ(i.ca_state, SYNACK_CA_OPEN);
	CHECK_EQ(i.lost, 0);
	CHECK(i.cwnd >= cwnd_before);
	CHECK_EQ(i.ssthresh, ssthresh_before);
	t_at(t, 280);
	t_peer(t, ".", 1001, S(4), 0);
	t_expect_nothing(t);
	t_counter(t, "RetransSegs", 2); /* the probe and the timeout's */
	t_free(t);
}

/*
 * TLP then RTO (RFC 8985 7.4 and 6.3): the whole flight and the probe
 * are lost.  The probe's episode ends with the timeout (no
 * TCPLossProbeRecovery); every segment has waited its RACK timeout, the
 * probe's copy of the last one too, so all are lost and go again in slow
 * start, the first at once.
 */
static void rack_probe_then_timeout_recovers_in_slow_start(void)
{
	struct t *t = sender_with_rtt_tuned(rack_frto_off);
	fill(t, 4, 4);
	t_at(t, 60);
	t_expect(t, ".", S(3), 1001, T_MSS); /* the probe */
	t_expect_nothing(t);
	t_at(t, 260);
	t_expect(t, ".", S(0), 1001, T_MSS);
	t_expect_nothing(t);
	CHECK_EQ(t_info(t).lost, 3 * T_MSS);
	t_at(t, 280);
	ack_sends(t, S(1), 1, 2);
	t_at(t, 300);
	ack_sends(t, S(3), 3, 1);
	t_at(t, 320);
	t_peer(t, ".", 1001, S(4), 0);
	t_expect_nothing(t);
	CHECK_EQ(t_info(t).ca_state, SYNACK_CA_OPEN);
	t_counter(t, "Timeouts", 1);
	t_counter(t, "TCPLossProbes", 1);
	t_counter(t, "TCPLossProbeRecovery", 0);
	t_free(t);
}

/*
 * F-RTO step 2b with RACK (RFC 5682 3, RFC 8985 6.3): the first ACK after
 * the timeout covers only the retransmission, so the one new segment goes
 * and none of the segments the timeout marked lost (Linux's REXMIT_NEW);
 * the duplicate ACK that SACKs it says the loss was real (step 3a), and the
 * lost segments go from the scoreboard as the slow-start window allows.
 */
static void rack_frto_sends_new_data_then_repairs_from_the_scoreboard(void)
{
	struct t *t = sender_with_rtt_tuned(pacing_off);
	fill(t, 12, 10);
	t_at(t, 60);
	t_expect(t, ".", S(10), 1001, T_MSS); /* the probe: new data */
	t_expect_nothing(t);
	t_at(t, 260);
	t_expect(t, ".", S(0), 1001, T_MSS); /* the timeout */
	t_expect_nothing(t);
	CHECK_EQ(t_info(t).lost, 10 * T_MSS); /* 1-10 */
	t_at(t, 280);
	t_peer(t, ".", 1001, S(1), 0);
	t_expect(t, "P.", S(11), 1001, T_MSS); /* new data, not 1 and 2 */
	t_expect_nothing(t);
	t_at(t, 300);
	t_peer_sack(t, 1, S(11), S(12));
	ack_sends(t, S(1), 1, 2);
	t_counter(t, "TCPSpuriousRTOs", 0);
	CHECK_EQ(t_info(t).ca_state, SYNACK_CA_LOSS);
	t_drain(t);
	t_free(t);
}

int main(void)
{
	RUN(syn_offers_sack_and_peer_sack_ok_turns_it_on);
	RUN(syn_ack_without_sack_permitted_leaves_sack_off);
	RUN(listen_answers_sack_permitted_only_when_offered);
	RUN(sack_setting_off_neither_offers_nor_accepts);
	RUN(ofo_blocks_latest_first_at_most_four);
	RUN(duplicate_below_rcv_nxt_gets_dsack_once);
	RUN(duplicate_of_held_data_gets_dsack_then_its_block);
	RUN(dsack_setting_off_sends_no_dsack);
	RUN(sack_blocks_mark_and_split_records);
	RUN(sack_recovery_repairs_several_holes_in_one_round_trip);
	RUN(prr_sends_at_worked_points);
	RUN(prr_counts_sacked_data_once_when_acked);
	RUN(without_sack_newreno_repairs_one_hole_per_round_trip);
	RUN(timeout_skips_sacked_data);
	RUN(tlp_probe_repairs_tail_loss_before_the_rto);
	RUN(tlp_probe_sends_new_data_after_two_srtt);
	RUN(rack_reorder_timer_marks_the_hole_lost);
	RUN(rack_reordering_within_the_window_sends_nothing);
	RUN(recovery_setting_off_leaves_rack_tlp_out);
	RUN(rack_reordered_segment_times_srtt_without_timestamps);
	RUN(rack_original_answering_after_its_retransmission_times_srtt);
	RUN(rack_segment_sent_thrice_gives_no_sample);
	RUN(rack_dsack_grows_the_reordering_window);
	RUN(dsack_of_every_retransmission_undoes_the_reduction);
	RUN(dsack_of_older_data_undoes_nothing);
	RUN(dsack_of_data_sent_once_undoes_nothing);
	RUN(eifel_undoes_a_recovery_the_original_answered);
	RUN(eifel_keeps_a_recovery_the_retransmission_answered);
	RUN(timeout_in_sack_recovery_counts_a_failed_recovery);
	RUN(frto_undoes_a_spurious_timeout);
	RUN(frto_keeps_a_real_timeout);
	RUN(frto_sends_new_data_then_goes_back);
	RUN(frto_setting_off_undoes_nothing);
	RUN(rack_timeout_marks_only_what_rack_timed_out);
	RUN(rack_timeout_leaves_sacked_data_alone);
	RUN(rack_spurious_timeout_is_undone_by_frto);
	RUN(rack_probe_then_timeout_recovers_in_slow_start);
	RUN(rack_frto_sends_new_data_then_repairs_from_the_scoreboard);
	return check_summary("test_sack");
}
