/*
 * RFC 7323 scripted: window scale and timestamps negotiated (or not) from
 * either side, scaled windows both ways, TS.Recent and what our ACKs echo,
 * RTTM with several segments in flight, PAWS (accept, reject, the RST
 * exception, 24 days idle), and TIME_WAIT records: reopening by a newer
 * timestamp (RFC 6191), refusal of an older one, restarting in place and
 * limiting their challenge ACKs (RFC 5961 7).
 *
 * Our window scale with the default rmem_max (6 MiB) is 7; the harness
 * gives us a receive buffer of 65535 (T_RCVBUF), so an empty buffer
 * offers 65535 on a SYN and 65408 (511 units of 128) after it.
 */
#include "script.h"

#define OUR_WSCALE 7

/* The peer sends timestamps from now on: TSval val, TSecr ecr. */
static void peer_ts(struct t *t, uint32_t val, uint32_t ecr)
{
	t->peer_ts = 1;
	t->peer_tsval = val;
	t->peer_tsecr = ecr;
}

/* ------------------------------------------------------------------ */
/* Negotiation.                                                        */

/* A passive open whose SYN offers both: the SYN-ACK offers both back, with
 * the window unscaled; afterwards our windows are scaled by 7 and every
 * segment carries timestamps echoing the peer's. */
static void listen_syn_with_both_options_gets_both_back(void)
{
	struct t *t = t_new();
	t->peer_wscale = 2;
	peer_ts(t, 5000, 0);
	t_listen(t);
	t_peer(t, "S", T_PEER_ISN, 0, 0);
	t_expect(t, "S.", T_ISS, T_PEER_ISN + 1, 0);
	t_expect_win(t, 65535);
	t_expect_wscale(t, OUR_WSCALE);
	uint32_t our_ts = t_expect_ts(t, 1, 5000);
	t_expect_mss(t, T_MSS);
	peer_ts(t, 5001, our_ts);
	t_peer(t, ".", T_PEER_ISN + 1, T_ISS + 1, 0);
	t_accept(t);
	t_state(t, SYNACK_ESTABLISHED);
	peer_ts(t, 5002, our_ts);
	t_peer(t, "P.", 1001, T_ISS + 1, 100);
	t_expect(t, ".", T_ISS + 1, 1101, 0);
	t_expect_ts(t, 1, 5002);
	t_expect_wscale(t, -1); /* only on the SYN */
	/* 65535 - 100 rounded up to whole units of 128 (RFC 7323 2.4): the
	 * edge promised before the data is not taken back. */
	t_expect_win(t, (65535 - 100 + 127) / 128);
	struct synack_tcp_info i = t_info(t);
	CHECK_EQ(i.mss, T_MSS - 12);
	/* The peer's window field 1000 means 4000 bytes after its SYN. */
	t->peer_wnd = 1000;
	t_peer(t, ".", 1101, T_ISS + 1, 0);
	CHECK_EQ(t_info(t).snd_wnd, 4000);
	t_free(t);
}

/* A SYN with timestamps but no window scale: no scale on either side, so
 * windows are the raw field; timestamps still agreed. */
static void listen_syn_without_wscale_gets_no_scaling(void)
{
	struct t *t = t_new();
	peer_ts(t, 77, 0);
	t_listen(t);
	t_peer(t, "S", T_PEER_ISN, 0, 0);
	t_expect(t, "S.", T_ISS, T_PEER_ISN + 1, 0);
	t_expect_wscale(t, -1);
	uint32_t our_ts = t_expect_ts(t, 1, 77);
	peer_ts(t, 78, our_ts);
	t_peer(t, ".", T_PEER_ISN + 1, T_ISS + 1, 0);
	t_accept(t);
	t_peer(t, "P.", 1001, T_ISS + 1, 100);
	t_expect(t, ".", T_ISS + 1, 1101, 0);
	t_expect_win(t, 65535 - 100);
	t_expect_ts(t, 1, 78);
	t->peer_wnd = 1000;
	t_peer(t, ".", 1101, T_ISS + 1, 0);
	CHECK_EQ(t_info(t).snd_wnd, 1000);
	t_free(t);
}

/* A SYN with window scale but no timestamps: scaling both ways, no
 * timestamps anywhere, the whole MSS for data. */
static void listen_syn_without_timestamps_gets_none(void)
{
	struct t *t = t_new();
	t->peer_wscale = 14;
	t_listen(t);
	t_peer(t, "S", T_PEER_ISN, 0, 0);
	t_expect(t, "S.", T_ISS, T_PEER_ISN + 1, 0);
	t_expect_wscale(t, OUR_WSCALE);
	t_expect_ts(t, 0, T_ANY);
	t_peer(t, ".", T_PEER_ISN + 1, T_ISS + 1, 0);
	t_accept(t);
	t_peer(t, "P.", 1001, T_ISS + 1, 10);
	t_expect(t, ".", T_ISS + 1, 1011, 0);
	t_expect_ts(t, 0, T_ANY);
	CHECK_EQ(t_info(t).mss, T_MSS);
	/* A shift of 14 at most: 1 unit is 16384 bytes. */
	t->peer_wnd = 2;
	t_peer(t, ".", 1011, T_ISS + 1, 0);
	CHECK_EQ(t_info(t).snd_wnd, 32768);
	t_free(t);
}

/* With both settings off the SYN-ACK offers neither, whatever the SYN
 * says, and the peer's window is never shifted. */
static void listen_settings_off_offer_nothing(void)
{
	struct synack_config cfg;
	t_config(&cfg);
	cfg.window_scaling = 0;
	cfg.timestamps = 0;
	struct t *t = t_new_with(&cfg);
	t->peer_wscale = 5;
	peer_ts(t, 1, 0);
	t_to_syn_received(t);
	t_expect_wscale(t, -1);
	t_expect_ts(t, 0, T_ANY);
	t_peer(t, ".", T_PEER_ISN + 1, T_ISS + 1, 0);
	t_accept(t);
	t->peer_wnd = 100;
	t_peer(t, ".", T_PEER_ISN + 1, T_ISS + 1, 0);
	CHECK_EQ(t_info(t).snd_wnd, 100);
	t_free(t);
}

/* Our SYN offers both (TSecr 0, the window unscaled); a SYN-ACK with both
 * agrees, and our ACK already echoes its TSval. */
static void connect_offers_both_and_takes_the_peers(void)
{
	struct t *t = t_new();
	t_connect(t);
	t_expect(t, "S", T_ISS, 0, 0);
	t_expect_win(t, 65535);
	t_expect_wscale(t, OUR_WSCALE);
	uint32_t our_ts = t_expect_ts(t, 1, 0);
	t->peer_wscale = 3;
	peer_ts(t, 9000, our_ts);
	t->peer_wnd = 8000; /* a SYN's window: not scaled */
	t_peer(t, "S.", T_PEER_ISN, T_ISS + 1, 0);
	t_expect(t, ".", T_ISS + 1, T_PEER_ISN + 1, 0);
	t_expect_ts(t, 1, 9000);
	t_expect_win(t, 65535 >> OUR_WSCALE);
	CHECK_EQ(t_info(t).snd_wnd, 8000);
	t->peer_wnd = 8000; /* 64000 now */
	peer_ts(t, 9001, our_ts);
	t_peer(t, ".", T_PEER_ISN + 1, T_ISS + 1, 0);
	CHECK_EQ(t_info(t).snd_wnd, 64000);
	t_free(t);
}

/* A SYN-ACK without options: nothing is agreed, our ACK carries no
 * timestamps and our windows are not scaled. */
static void connect_synack_without_options_agrees_on_none(void)
{
	struct t *t = t_new();
	t_establish_active(t);
	t_expect_ts(t, 0, T_ANY);
	t_expect_win(t, 65535);
	t_send(t, 10);
	t_expect(t, "P.", T_ISS + 1, T_PEER_ISN + 1, 10);
	t_expect_ts(t, 0, T_ANY);
	CHECK_EQ(t_info(t).mss, T_MSS);
	t_free(t);
}

/* SO_RCVBUF before connect() decides the scale (as Linux): 1 MiB needs 5. */
static void connect_rcvbuf_set_before_decides_the_scale(void)
{
	struct synack_config cfg;
	t_config(&cfg);
	cfg.rmem_max = 65535; /* no scaling needed for the default */
	struct t *t = t_new_with(&cfg);
	/* Without SO_RCVBUF the small rmem_max gives a shift of 0. */
	t_connect(t);
	t_expect(t, "S", T_ISS, 0, 0);
	t_expect_wscale(t, 0);
	t_free(t);
	t = t_new_with(&cfg);
	int s = synack_socket(t->st);
	CHECK_EQ(synack_setsockopt(t->st, s, SYNACK_SO_RCVBUF, 1 << 20), 0);
	struct synack_endpoint peer = t_endpoint(1, T_PEER_PORT), local;
	CHECK_EQ(synack_connect(t->st, s, &peer), -EINPROGRESS);
	CHECK_EQ(synack_getsockname(t->st, s, &local), 0);
	t->sock = s;
	t->our_port = local.port;
	t_expect(t, "S", T_ISS, 0, 0);
	t_expect_wscale(t, 5);
	t_free(t);
}

/* ------------------------------------------------------------------ */
/* Scaled windows.                                                     */

static uint64_t stats_drop(struct t *t, int reason)
{
	struct synack_stats st;
	synack_stats(t->st, &st);
	return st.drops[reason];
}

/* A passive connection with both options, our buffer 131072 (scale 7). */
static struct t *scaled(uint32_t rcvbuf, int peer_wscale)
{
	struct synack_config cfg;
	t_config(&cfg);
	cfg.rmem_default = rcvbuf;
	struct t *t = t_new_with(&cfg);
	t->peer_wscale = peer_wscale;
	t_establish_passive(t);
	return t;
}

/* Our window: the buffer's room in units of 128, a new edge rounded down;
 * the edge already offered is never taken back, rounded up when the room
 * is less (RFC 7323 2.4, RFC 9293 3.8.6). */
static void scaled_receive_window_never_retracts(void)
{
	struct t *t = scaled(131072, 0);
	t_peer(t, "P.", 1001, T_ISS + 1, 1000);
	t_expect(t, ".", T_ISS + 1, 2001, 0);
	/* The SYN-ACK's 65535 opens to the buffer: (131072 - 1000) rounded down. */
	t_expect_win(t, (131072 - 1000) / 128);
	uint32_t edge = 2001 + (131072 - 1000) / 128 * 128;
	/* Reading frees 1000 bytes, less than an MSS: no window update. */
	t_recv(t, 1000);
	t_expect_nothing(t);
	/* 100 more bytes, unread: the edge stays where it was, the window
	 * rounded up to reach it. */
	t_peer(t, "P.", 2001, T_ISS + 1, 100);
	t_expect(t, ".", T_ISS + 1, 2101, 0);
	t_expect_win(t, (edge - 2101 + 127) / 128);
	struct synack_tcp_info i = t_info(t);
	CHECK(i.rcv_nxt + i.rcv_wnd >= edge);
	CHECK_EQ(i.rcv_wnd % 128, 0);
	edge = 2101 + (edge - 2101 + 127) / 128 * 128; /* what the peer now knows */
	/* Nothing read, 1000 more: the window shrinks by whole units only
	 * as the left edge moves, never its right edge. */
	t_peer(t, "P.", 2101, T_ISS + 1, 1000);
	t_expect(t, ".", T_ISS + 1, 3101, 0);
	t_expect_win(t, (edge - 3101 + 127) / 128);
	t_free(t);
}

/* RFC 7323 Appendix F: an application that never reads, a peer that fills
 * every window we offer to its edge.  Each promised edge, rounded up from a
 * new left edge, may overshoot the buffer by less than a unit and no more
 * (it crept without bound: a 64 KiB buffer was promised 33 KB too much),
 * and every byte sent within an offered window is taken: no drop, no
 * retransmission, until the window closes. */
static void scaled_window_filled_to_each_edge_drops_nothing(void)
{
	struct t *t = scaled(65536, 0);
	uint32_t seq = 1001;
	int rounds = 0;
	t->peer_wscale = 0;
	for (;;) {
		uint32_t edge = (uint32_t)t->seg.ack + ((uint32_t)t->seg.wnd << 7);
		if (t->seg.ack == 0 || (t->seg.flags & SYNACK_TH_SYN))
			edge = 1001 + 65535; /* the SYN-ACK's unscaled window */
		struct synack_tcp_info i = t_info(t);
		CHECK(edge - i.rcv_nxt <= 65536 - i.recv_queue + 127);
		if (edge == seq) {
			/* Filled: the delayed ACK says where the edge is now. */
			t_at(t, t_now_ms(t) + 500);
			if (t_drain(t) == 0)
				break;
			continue;
		}
		uint32_t n = edge - seq < 1448 ? edge - seq : 1448;
		t_peer(t, "P.", seq, T_ISS + 1, n);
		seq += n;
		t_drain(t);
		CHECK_EQ_U64(stats_drop(t, SYNACK_DROP_NO_MEMORY), 0);
		if (++rounds > 200)
			break;
	}
	CHECK(rounds < 200);
	CHECK_EQ(t_info(t).rcv_nxt, seq);
	CHECK(t_info(t).recv_queue >= 65536);
	t_free(t);
}

/* A scaled window is accepted as far as it reaches: data beyond the edge
 * the scaled field gives is trimmed. */
static void scaled_receive_window_trims_beyond_the_edge(void)
{
	struct t *t = scaled(4096, 0);
	/* 4096 bytes: window 4096, scale 7 from rmem_max: 32 units. */
	t_peer(t, "P.", 1001, T_ISS + 1, 1000);
	t_expect(t, ".", T_ISS + 1, 2001, 0);
	t_expect_win(t, (4096 - 1000 + 127) / 128);
	/* The edge offered is 2001 + 25 units (3200 bytes), 104 bytes past the
	 * buffer's room (3096), less than a unit: all of it is taken
	 * (tcp_rcv_deliver's slack); 3300 bytes: the 100 beyond it are
	 * trimmed. */
	t_peer(t, "P.", 2001, T_ISS + 1, 3300);
	t_expect(t, ".", T_ISS + 1, 2001 + 3200, 0);
	t_expect_win(t, 0);
	CHECK_EQ_U64(stats_drop(t, SYNACK_DROP_NO_MEMORY), 0);
	/* Reading it all opens the whole buffer again. */
	t_recv(t, 4200);
	t_expect(t, ".", T_ISS + 1, 2001 + 3200, 0);
	t_expect_win(t, 4096 / 128);
	t_free(t);
}

/* The peer's scaled window limits what we send; when it retracts its
 * window (RFC 7323 2.4 allows that a shift makes it appear to), we send
 * no further than the new right edge. */
static void scaled_send_window_follows_the_peer_and_its_retraction(void)
{
	struct t *t = scaled(65535, 4); /* 16-byte units */
	t->peer_wnd = 200;              /* 3200 bytes */
	t_peer(t, ".", 1001, T_ISS + 1, 0);
	CHECK_EQ(t_info(t).snd_wnd, 3200);
	t_send(t, 5000);
	/* Two full segments; the 280 bytes left of the window wait (sender
	 * silly-window avoidance, less than half the largest window). */
	t_expect(t, ".", T_ISS + 1, 1001, T_MSS);
	t_expect(t, ".", T_ISS + 1 + T_MSS, 1001, T_MSS);
	t_expect_nothing(t);
	/* The first segment is acknowledged and the window retracts to 50
	 * units (800 bytes): the edge moves back from 3201 to 1461 + 800,
	 * below what was sent; nothing more goes. */
	t->peer_wnd = 50;
	t_peer(t, ".", 1001, T_ISS + 1 + T_MSS, 0);
	t_expect_nothing(t);
	CHECK_EQ(t_info(t).snd_wnd, 800);
	/* Everything sent is acknowledged, 200 units: 3200 bytes more, of
	 * which 5000 - 2920 = 2080 remain. */
	t->peer_wnd = 200;
	t_peer(t, ".", 1001, T_ISS + 1 + 2 * T_MSS, 0);
	t_expect(t, ".", T_ISS + 1 + 2 * T_MSS, 1001, T_MSS);
	/* The last 620 go too: no short segment is outstanding (Nagle as
	 * Minshall, as Linux). */
	t_expect(t, "P.", T_ISS + 1 + 3 * T_MSS, 1001, 5000 - 3 * T_MSS);
	t_expect_nothing(t);
	t_free(t);
}

/* ------------------------------------------------------------------ */
/* Timestamps: what our segments echo, RTTM.                           */

/* A passive connection with timestamps; returns our TSval of the SYN-ACK.
 * The peer's clock starts at 100. */
static uint32_t ts_established(struct t *t)
{
	peer_ts(t, 100, 0);
	t_listen(t);
	t_peer(t, "S", T_PEER_ISN, 0, 0);
	t_expect(t, "S.", T_ISS, T_PEER_ISN + 1, 0);
	uint32_t our_ts = t_expect_ts(t, 1, 100);
	peer_ts(t, 101, our_ts);
	t_peer(t, ".", T_PEER_ISN + 1, T_ISS + 1, 0);
	t_accept(t);
	t_state(t, SYNACK_ESTABLISHED);
	return our_ts;
}

/* RFC 7323 4.3: TS.Recent comes from segments at or left of Last.ACK.sent.
 * An out-of-order segment does not set it; the one filling the hole does,
 * and a delayed ACK echoes the earliest of the segments it covers. */
static void ts_echo_follows_last_ack_sent(void)
{
	struct synack_config cfg;
	t_config(&cfg);
	cfg.delack_ms = 40;
	cfg.max_quickacks = 0; /* delayed ACKs from the first segment on */
	struct t *t = t_new_with(&cfg);
	uint32_t our = ts_established(t);
	/* A segment, its ACK delayed; a second one: the ACK of both (every
	 * second segment is acknowledged at once) echoes the first. */
	peer_ts(t, 110, our);
	t_peer(t, "P.", 1001, T_ISS + 1, 10);
	t_expect_nothing(t);
	peer_ts(t, 111, our);
	t_peer(t, "P.", 1011, T_ISS + 1, 10);
	t_expect(t, ".", T_ISS + 1, 1021, 0);
	t_expect_ts(t, 1, 110);
	/* Out of order (beyond Last.ACK.sent): acknowledged at once, its
	 * TSval 130 not taken. */
	peer_ts(t, 130, our);
	t_peer(t, "P.", 1031, T_ISS + 1, 10);
	t_expect(t, ".", T_ISS + 1, 1021, 0);
	t_expect_ts(t, 1, 110);
	/* The hole fills with TSval 120: echoed, the newer 130 not. */
	peer_ts(t, 120, our);
	t_peer(t, "P.", 1021, T_ISS + 1, 10);
	t_expect(t, ".", T_ISS + 1, 1041, 0);
	t_expect_ts(t, 1, 120);
	t_free(t);
}

/* Our TSval counts milliseconds of the stack's clock from a random offset. */
static void ts_val_counts_milliseconds(void)
{
	struct t *t = t_new();
	t_at(t, 0);
	uint32_t our = ts_established(t);
	t_at(t, 250);
	t_send(t, 10);
	t_expect(t, "P.", T_ISS + 1, 1001, 10);
	CHECK_EQ(t_expect_ts(t, 1, 101) - our, 250);
	t_free(t);
}

/* RFC 7323 4.1: one RTT sample per ACK from its TSecr, with several
 * segments in flight, and from the ACK of a retransmission too (Karn's
 * rule is not needed). */
static void rttm_one_sample_per_ack(void)
{
	struct t *t = t_new();
	t_at(t, 0);
	uint32_t offset = ts_established(t); /* our TSval at time 0 */
	t_at(t, 1000);
	t_send(t, 3 * (T_MSS - 12));
	uint32_t v0 = 0;
	for (int i = 0; i < 3; i++) {
		t_expect(t, i == 2 ? "P." : ".", T_ISS + 1 + (uint32_t)i * (T_MSS - 12), 1001,
		         T_MSS - 12);
		v0 = t_expect_ts(t, 1, 101);
	}
	/* The handshake measured one tick (its ACK came at once). */
	CHECK_EQ(t_info(t).srtt_us, 1000);
	/* The first segment's ACK at +100 ms: RFC 6298 2.3 with 100 ms. */
	t_at(t, 1100);
	peer_ts(t, 200, v0);
	t_peer(t, ".", 1001, T_ISS + 1 + (T_MSS - 12), 0);
	uint32_t srtt = (7 * 1000 + 100000) / 8;
	CHECK_EQ(t_info(t).srtt_us, srtt);
	/* The second at +180 ms echoes the same TSval: a second sample from
	 * the same flight, 180 ms. */
	t_at(t, 1180);
	t_peer(t, ".", 1001, T_ISS + 1 + 2 * (T_MSS - 12), 0);
	srtt = (7 * srtt + 180000) / 8;
	CHECK_EQ(t_info(t).srtt_us, srtt);
	/* The third is lost; the timeout sends it again, and its ACK echoes
	 * the retransmission's TSval: a sample of 20 ms. */
	t_advance_ms(t, t_info(t).rto_us / 1000 + 1);
	t_expect(t, "P.", T_ISS + 1 + 2 * (T_MSS - 12), 1001, T_MSS - 12);
	uint32_t v1 = t_expect_ts(t, 1, 200); /* TS.Recent is the last ACK's */
	t_advance_ms(t, 20);
	peer_ts(t, 201, v1);
	uint32_t before = t_info(t).srtt_us;
	t_peer(t, ".", 1001, T_ISS + 1 + 3 * (T_MSS - 12), 0);
	uint32_t sample_ms = (uint32_t)t_now_ms(t) + offset - v1; /* 20, or 21 ticks */
	CHECK(sample_ms == 20 || sample_ms == 21);
	CHECK_EQ(t_info(t).srtt_us, (7 * before + sample_ms * 1000) / 8);
	t_free(t);
}

/* A TSecr from the future measures nothing (a broken or hostile peer):
 * the timed segment's sample (50 ms) counts instead. */
static void rttm_ignores_a_tsecr_from_the_future(void)
{
	struct t *t = t_new();
	t_at(t, 0);
	uint32_t our = ts_established(t);
	uint32_t srtt = t_info(t).srtt_us;
	t_send(t, 10);
	t_expect(t, "P.", T_ISS + 1, 1001, 10);
	t_at(t, 50);
	peer_ts(t, 102, our + 100000);
	t_peer(t, ".", 1001, T_ISS + 11, 0);
	CHECK_EQ(t_info(t).srtt_us, (7 * srtt + 50000) / 8);
	t_free(t);
}

/* ------------------------------------------------------------------ */
/* PAWS (RFC 7323 5).                                                  */

/* An old duplicate (TSval older than TS.Recent) is dropped and answered
 * with an ACK, its data not delivered; PAWSEstab counts it.  A newer
 * timestamp is accepted again. */
static void paws_rejects_an_older_timestamp(void)
{
	struct t *t = t_new();
	uint32_t our = ts_established(t);
	peer_ts(t, 500, our);
	t_peer(t, "P.", 1001, T_ISS + 1, 10);
	t_expect(t, ".", T_ISS + 1, 1011, 0);
	peer_ts(t, 499, our);
	t_peer(t, "P.", 1011, T_ISS + 1, 10);
	t_dropped(t, SYNACK_DROP_PAWS);
	t_expect(t, ".", T_ISS + 1, 1011, 0);
	t_expect_ts(t, 1, 500);
	t_drops(t, SYNACK_DROP_PAWS, 1);
	t_counter(t, "PAWSEstab", 1);
	CHECK_EQ(t_info(t).rcv_nxt, 1011);
	/* TSval equal to TS.Recent is not older: accepted. */
	peer_ts(t, 500, our);
	t_peer(t, "P.", 1011, T_ISS + 1, 10);
	t_expect(t, ".", T_ISS + 1, 1021, 0);
	t_recv(t, 20);
	t_expect_nothing(t);
	t_free(t);
}

/* Timestamps compare modulo 2^32: a TSval that wrapped is newer. */
static void paws_compares_across_the_wrap(void)
{
	struct t *t = t_new();
	peer_ts(t, 0xfffffff0u, 0);
	t_listen(t);
	t_peer(t, "S", T_PEER_ISN, 0, 0);
	t_expect(t, "S.", T_ISS, T_PEER_ISN + 1, 0);
	uint32_t our = t_expect_ts(t, 1, 0xfffffff0u);
	peer_ts(t, 5, our); /* 21 ticks later */
	t_peer(t, ".", T_PEER_ISN + 1, T_ISS + 1, 0);
	t_accept(t);
	t_state(t, SYNACK_ESTABLISHED);
	t_counter(t, "PAWSEstab", 0);
	t_free(t);
}

/* Pure ACKs rejected by PAWS are answered at most once per
 * invalid_ratelimit_ms, like other unacceptable ACKs.  Their TSval is
 * older than TS.Recent by more than the RTO (one second here): not a
 * duplicate ACK merely held back (paws_takes_a_disordered_duplicate_ack). */
static void paws_answers_pure_acks_rate_limited(void)
{
	struct t *t = t_new();
	t_at(t, 0);
	uint32_t our = ts_established(t);
	peer_ts(t, 101u - 5000u, our);
	t_peer(t, ".", 1001, T_ISS + 1, 0);
	t_expect(t, ".", T_ISS + 1, 1001, 0);
	t_peer(t, ".", 1001, T_ISS + 1, 0);
	t_expect_nothing(t);
	t_counter(t, "AckSkippedSeq", 1);
	t_counter(t, "PAWSEstab", 2);
	t_free(t);
}

/*
 * A duplicate ACK the network held back past a later one, a TSval older
 * than TS.Recent by less than the RTO, acknowledging nothing new and not
 * moving the window, is taken (Linux's tcp_disordered_ack): it carries
 * SACK blocks (RFC 2018) the later ACK did not repeat.  Here the peer
 * SACKed segment 5 on an ACK that arrives after the one SACKing segment 2:
 * both count, and PAWS drops nothing.
 */
static void paws_takes_a_disordered_duplicate_ack(void)
{
	struct t *t = t_new();
	t->peer_sack_ok = 1;
	peer_ts(t, 500, 0);
	t_at(t, 0);
	t_connect(t);
	t_expect(t, "S", T_ISS, 0, 0);
	uint32_t syn_ts = t_expect_ts(t, 1, 0);
	t_at(t, 20);
	peer_ts(t, 500, syn_ts);
	t_peer(t, "S.", T_PEER_ISN, T_ISS + 1, 0);
	t_expect(t, ".", T_ISS + 1, T_PEER_ISN + 1, 0);
	uint32_t mss = T_MSS - 12, first = T_ISS + 1;
	t_send(t, 8 * (size_t)mss);
	for (int k = 0; k < 8; k++)
		t_expect(t, ".", first + k * mss, T_PEER_ISN + 1, mss);
	t_expect_nothing(t);
	t_at(t, 40);
	peer_ts(t, 520, syn_ts);
	t_peer_sack(t, 1, first + 2 * mss, first + 3 * mss);
	t_peer(t, ".", T_PEER_ISN + 1, first, 0);
	peer_ts(t, 518, syn_ts); /* sent before the one above, held back */
	t_peer_sack(t, 1, first + 5 * mss, first + 6 * mss);
	t_peer(t, ".", T_PEER_ISN + 1, first, 0);
	t_counter(t, "PAWSEstab", 0);
	CHECK_EQ(t_info(t).sacked, 2 * mss);
	t_drain(t);
	t_free(t);
}

/*
 * Data below RCV.NXT rejected by PAWS (a held-back original that came
 * after its retransmission) is a duplicate: the ACK that answers reports
 * it in a D-SACK block (RFC 2883 4.1.1, as Linux's tcp_send_dupack), so
 * the sender learns its retransmission was needless.
 */
static void paws_reject_of_old_data_is_dsacked(void)
{
	struct t *t = t_new();
	t->peer_sack_ok = 1;
	uint32_t our = ts_established(t);
	peer_ts(t, 500, our);
	t_peer(t, "P.", 1001, T_ISS + 1, 10);
	t_expect(t, ".", T_ISS + 1, 1011, 0);
	peer_ts(t, 499, our);
	t_peer(t, "P.", 1001, T_ISS + 1, 10);
	t_dropped(t, SYNACK_DROP_PAWS);
	t_expect(t, ".", T_ISS + 1, 1011, 0);
	t_expect_sack(t, 1, 1001u, 1011u);
	t_counter(t, "PAWSEstab", 1);
	t_counter(t, "TCPDSACKOldSent", 1);
	t_free(t);
}

/* RFC 7323 5.3: a RST is acceptable whatever its timestamp. */
static void paws_lets_a_rst_through(void)
{
	struct t *t = t_new();
	uint32_t our = ts_established(t);
	peer_ts(t, 1, our);
	t_peer(t, "R", 1001, 0, 0);
	t_expect_nothing(t);
	t_state(t, SYNACK_CLOSED);
	t_counter(t, "PAWSEstab", 0);
	t_free(t);
}

/* RFC 7323 5.5: after more than 24 days idle TS.Recent is no longer
 * valid: an "older" timestamp is taken and becomes TS.Recent. */
static void paws_forgets_ts_recent_after_24_days(void)
{
	struct t *t = t_new();
	t_at(t, 0);
	uint32_t our = ts_established(t);
	peer_ts(t, 1000000, our);
	t_peer(t, "P.", 1001, T_ISS + 1, 10);
	t_expect(t, ".", T_ISS + 1, 1011, 0);
	t_recv(t, 10);
	t_at(t, 24ull * 24 * 3600 * 1000);
	peer_ts(t, 10, our);
	t_peer(t, "P.", 1011, T_ISS + 1, 10);
	t_expect(t, ".", T_ISS + 1, 1011, 0); /* exactly 24 days: still valid */
	t_counter(t, "PAWSEstab", 1);
	t_at(t, 24ull * 24 * 3600 * 1000 + 1);
	t_peer(t, "P.", 1011, T_ISS + 1, 10);
	t_expect(t, ".", T_ISS + 1, 1021, 0);
	t_expect_ts(t, 1, 10);
	t_counter(t, "PAWSEstab", 1);
	t_recv(t, 10);
	t_free(t);
}

/* PAWS applies in SYN-RECEIVED too (Linux checks a pending SYN's ACK). */
static void paws_in_syn_received(void)
{
	struct t *t = t_new();
	peer_ts(t, 100, 0);
	t_listen(t);
	t_peer(t, "S", T_PEER_ISN, 0, 0);
	t_expect(t, "S.", T_ISS, T_PEER_ISN + 1, 0);
	uint32_t our = t_expect_ts(t, 1, 100);
	peer_ts(t, 99, our);
	t_peer(t, ".", T_PEER_ISN + 1, T_ISS + 1, 0);
	t_expect(t, ".", T_ISS + 1, T_PEER_ISN + 1, 0);
	t_drops(t, SYNACK_DROP_PAWS, 1);
	peer_ts(t, 101, our);
	t_peer(t, ".", T_PEER_ISN + 1, T_ISS + 1, 0);
	t_accept(t);
	t_state(t, SYNACK_ESTABLISHED);
	t_free(t);
}

/* ------------------------------------------------------------------ */
/* TIME_WAIT.                                                          */

/* TIME_WAIT with timestamps: the peer's last TSval was 300. */
static uint32_t ts_time_wait(struct t *t)
{
	t_at(t, 0);
	uint32_t our = ts_established(t);
	t_close(t);
	t_expect(t, "F.", T_ISS + 1, 1001, 0);
	peer_ts(t, 200, our);
	t_peer(t, ".", 1001, T_ISS + 2, 0);
	peer_ts(t, 300, our);
	t_peer(t, "F.", 1001, T_ISS + 2, 0);
	t_expect(t, ".", T_ISS + 2, 1002, 0);
	t_expect_ts(t, 1, 300);
	t_state(t, SYNACK_TIME_WAIT);
	return our;
}

/* RFC 6191: a SYN with a newer timestamp reopens the 4-tuple even with a
 * sequence number below the old RCV.NXT. */
static void time_wait_newer_timestamp_reopens(void)
{
	struct t *t = t_new();
	ts_time_wait(t);
	t_at(t, 1000);
	t_forget_iss(t);
	peer_ts(t, 301, 0);
	t_peer(t, "S", 500, 0, 0);
	t_expect(t, "S.", T_ISS, 501, 0);
	t_expect_ts(t, 1, 301);
	t_counter(t, "TimeWaitRecycled", 1);
	t_state(t, SYNACK_SYN_RECEIVED);
	t_free(t);
}

/* An older timestamp is refused (PAWS) whatever the sequence number: a
 * challenge ACK from the record, which stays. */
static void time_wait_older_timestamp_is_refused(void)
{
	struct t *t = t_new();
	ts_time_wait(t);
	t_at(t, 1000);
	peer_ts(t, 299, 0);
	t_peer(t, "S", 5000, 0, 0);
	t_expect(t, ".", T_ISS + 2, 1002, 0);
	t_expect_ts(t, 1, 300);
	t_counter(t, "TimeWaitRecycled", 0);
	t_counter(t, "PAWSEstab", 1);
	t_drops(t, SYNACK_DROP_PAWS, 1);
	t_state(t, SYNACK_TIME_WAIT);
	/* Old data with an old timestamp: PAWS as well, re-ACKed. */
	t_at(t, 2000);
	peer_ts(t, 250, 0);
	t_peer(t, "P.", 1001, T_ISS + 2, 10);
	t_expect(t, ".", T_ISS + 2, 1002, 0);
	t_counter(t, "PAWSEstab", 2);
	t_state(t, SYNACK_TIME_WAIT);
	t_free(t);
}

/* The peer's FIN again updates the record's TS.Recent. */
static void time_wait_fin_again_takes_its_timestamp(void)
{
	struct t *t = t_new();
	uint32_t our = ts_time_wait(t);
	peer_ts(t, 400, our);
	t_peer(t, "F.", 1001, T_ISS + 2, 0);
	t_expect(t, ".", T_ISS + 2, 1002, 0);
	t_expect_ts(t, 1, 400);
	t_free(t);
}

/* A record in TIME_WAIT made by port. */
static void time_wait_on(struct t *t, uint16_t port)
{
	t->peer_port = port;
	t->sock = -1;
	t_forget_iss(t);
	t_peer(t, "S", 1000, 0, 0);
	t_expect(t, "S.", T_ISS, 1001, 0);
	t_peer(t, ".", 1001, T_ISS + 1, 0);
	t_accept(t);
	t_close(t);
	t_expect(t, "F.", T_ISS + 1, 1001, 0);
	t_peer(t, "F.", 1001, T_ISS + 2, 0);
	t_expect(t, ".", T_ISS + 2, 1002, 0);
	t_state(t, SYNACK_TIME_WAIT);
}

/* A FIN resent to a record that is not the youngest restarts it in place:
 * no new record however often it comes, and it still ends time_wait_ms
 * after the last restart when it was the front of the list. */
static void time_wait_restart_allocates_nothing(void)
{
	struct t *t = t_new();
	t_at(t, 0);
	t_listen(t);
	time_wait_on(t, 40000);
	uint32_t iss_a = t->iss;
	t_at(t, 1000);
	time_wait_on(t, 40001);
	struct synack_mem before;
	synack_memory(t->st, &before);
	t->peer_port = 40000;
	t->iss = iss_a;
	for (int i = 0; i < 100; i++) {
		t_at(t, 2000 + (uint64_t)i);
		t_peer(t, "F.", 1001, T_ISS + 2, 0);
		t_expect(t, ".", T_ISS + 2, 1002, 0);
	}
	struct synack_mem after;
	synack_memory(t->st, &after);
	CHECK_EQ_U64(after.time_wait, before.time_wait);
	CHECK_EQ_U64(after.cached, before.cached);
	/* B (made at 1 s) ends first, then A, 60 s after its last FIN. */
	CHECK_EQ_U64(synack_next_deadline(t->st), 61000000);
	t_at(t, 61000);
	t->peer_port = 40001;
	t_state(t, SYNACK_CLOSED);
	t->peer_port = 40000;
	t_at(t, 62098);
	t_state(t, SYNACK_TIME_WAIT);
	t_at(t, 62099);
	t_state(t, SYNACK_CLOSED);
	t_free(t);
}

/* A record restarted in the middle of the list (younger records behind
 * it) keeps its place until it reaches the front, and never ends before
 * time_wait_ms after its restart. */
static void time_wait_restart_in_the_middle_never_ends_early(void)
{
	struct t *t = t_new();
	t_at(t, 0);
	t_listen(t);
	time_wait_on(t, 40000);
	t_at(t, 1000);
	time_wait_on(t, 40001);
	uint32_t iss_b = t->iss;
	t_at(t, 2000);
	time_wait_on(t, 40002);
	t_at(t, 3000);
	t->peer_port = 40001;
	t->iss = iss_b;
	t_peer(t, "F.", 1001, T_ISS + 2, 0);
	t_expect(t, ".", T_ISS + 2, 1002, 0);
	t_at(t, 62999);
	t->peer_port = 40001;
	t_state(t, SYNACK_TIME_WAIT);
	t->peer_port = 40000;
	t_state(t, SYNACK_CLOSED);
	t->peer_port = 40002;
	t_state(t, SYNACK_CLOSED);
	t_at(t, 63000);
	t->peer_port = 40001;
	t_state(t, SYNACK_CLOSED);
	CHECK_EQ_U64(synack_next_deadline(t->st), SYNACK_NEVER);
	t_free(t);
}

/* RFC 5961 7 in TIME_WAIT: SYNs and in-window RSTs get challenge ACKs at
 * most challenge_ack_limit per second from each record. */
static void time_wait_challenge_acks_are_limited(void)
{
	struct synack_config cfg;
	t_config(&cfg);
	cfg.challenge_ack_limit = 2; /* one per 500 ms */
	struct t *t = t_new_with(&cfg);
	t_at(t, 0);
	t_to_time_wait(t);
	t_at(t, 1000);
	t_peer(t, "S", 900, 0, 0); /* below RCV.NXT: not a new incarnation */
	t_expect(t, ".", T_ISS + 2, 1002, 0);
	for (int i = 0; i < 5; i++) {
		t_peer(t, "S", 900, 0, 0);
		t_peer(t, "R", 1005, 0, 0);
	}
	t_expect_nothing(t);
	t_counter(t, "ChallengeAcks", 1);
	t_counter(t, "ChallengeAcksLimited", 10);
	t_at(t, 1500);
	t_peer(t, "R", 1005, 0, 0);
	t_expect(t, ".", T_ISS + 2, 1002, 0);
	t_counter(t, "ChallengeAcks", 2);
	t_state(t, SYNACK_TIME_WAIT);
	t_free(t);
}

int main(void)
{
	RUN(listen_syn_with_both_options_gets_both_back);
	RUN(listen_syn_without_wscale_gets_no_scaling);
	RUN(listen_syn_without_timestamps_gets_none);
	RUN(listen_settings_off_offer_nothing);
	RUN(connect_offers_both_and_takes_the_peers);
	RUN(connect_synack_without_options_agrees_on_none);
	RUN(connect_rcvbuf_set_before_decides_the_scale);
	RUN(scaled_receive_window_never_retracts);
	RUN(scaled_window_filled_to_each_edge_drops_nothing);
	RUN(scaled_receive_window_trims_beyond_the_edge);
	RUN(scaled_send_window_follows_the_peer_and_its_retraction);
	RUN(ts_echo_follows_last_ack_sent);
	RUN(ts_val_counts_milliseconds);
	RUN(rttm_one_sample_per_ack);
	RUN(rttm_ignores_a_tsecr_from_the_future);
	RUN(paws_rejects_an_older_timestamp);
	RUN(paws_compares_across_the_wrap);
	RUN(paws_answers_pure_acks_rate_limited);
	RUN(paws_takes_a_disordered_duplicate_ack);
	RUN(paws_reject_of_old_data_is_dsacked);
	RUN(paws_lets_a_rst_through);
	RUN(paws_forgets_ts_recent_after_24_days);
	RUN(paws_in_syn_received);
	RUN(time_wait_newer_timestamp_reopens);
	RUN(time_wait_older_timestamp_is_refused);
	RUN(time_wait_fin_again_takes_its_timestamp);
	RUN(time_wait_restart_allocates_nothing);
	RUN(time_wait_restart_in_the_middle_never_ends_early);
	RUN(time_wait_challenge_acks_are_limited);
	return check_summary("test_rfc7323");
}
