/*
 * The receive checksum fused with the copy into the receive buffer (issue
 * 16 item 4; RFC 1071 2(C); wire_tcp_parse_deferred, tcp_rcv_precopy).  A
 * segment whose checksum is wrong is dropped and counted exactly as the
 * network layer counts it (tcpInErrs, InCsumErrors, the drop reason, no
 * tcpInSegs), and nothing of it is taken: not its text (RCV.NXT, the
 * buffer), not its ACK (SND.UNA), not its window, no ACK sent.  Whatever
 * path it takes: in order into a buffer with room (copied while summed),
 * the first text into an empty buffer, out of order, with a FIN, as a
 * zero-window probe, or split where the buffer wraps.
 * After t_establish_passive: RCV.NXT = 1001, SND.NXT = ISS+1.
 */
#include "script.h"
#include "wire/wire.h"

/* IPv4 header of 20 bytes, then TCP (t_build); no options unless asked. */
#define IP_HL 20

/* Builds the peer's segment, corrupts the byte at off (from the TCP
 * header's start) and hands it to the stack; returns synack_input's
 * result. */
static int peer_corrupt(struct t *t, const char *flags, uint32_t seq, uint32_t ack, uint32_t len,
                        size_t off)
{
	static uint8_t pkt[70000];
	size_t n = t_build(t, pkt, sizeof pkt, flags, seq, ack, len);
	CHECK(IP_HL + off < n);
	pkt[IP_HL + off] ^= 0x5a;
	return t_input_raw(t, pkt, n);
}

/* The counters one wrong checksum moves, checked against before. */
struct counts {
	uint64_t segs, errs, csum, drops;
};

static struct counts counts_now(struct t *t)
{
	struct counts c = {t_counter_get(t, "InSegs"), t_counter_get(t, "InErrs"),
	                   t_counter_get(t, "InCsumErrors"), 0};
	struct synack_stats s;
	synack_stats(t->st, &s);
	c.drops = s.drops[SYNACK_DROP_TCP_BAD_CHECKSUM];
	return c;
}

static void check_one_bad(struct t *t, struct counts before)
{
	struct counts now = counts_now(t);
	CHECK_EQ_U64(now.segs, before.segs);
	CHECK_EQ_U64(now.errs, before.errs + 1);
	CHECK_EQ_U64(now.csum, before.csum + 1);
	CHECK_EQ_U64(now.drops, before.drops + 1);
	CHECK(t_trace_has_drop(t, SYNACK_DROP_TCP_BAD_CHECKSUM));
}

/* In order into a buffer that already holds text (the copy-while-summing
 * path): a flipped payload byte drops the segment; RCV.NXT, the buffer,
 * SND.UNA and the peer's window stay; the good copy that follows is
 * delivered byte for byte over the bytes the bad one left past the end. */
static void rxcsum_in_order_bad_payload_takes_nothing(void)
{
	struct t *t = t_new();
	t_establish_passive(t);
	t_peer(t, "P.", 1001, T_ISS + 1, 100);
	t_expect(t, ".", T_ISS + 1, 1101, 0);
	t_send(t, 50);
	t_expect(t, "P.", T_ISS + 1, 1101, 50);
	struct synack_tcp_info i0 = t_info(t);
	struct counts c0 = counts_now(t);
	uint16_t wnd = t->peer_wnd;
	t->peer_wnd = 7; /* a window the drop must not take either */
	CHECK_EQ(peer_corrupt(t, "P.", 1101, T_ISS + 51, 200, 20 + 150),
	         SYNACK_DROP_TCP_BAD_CHECKSUM);
	t->peer_wnd = wnd;
	t_expect_nothing(t);
	check_one_bad(t, c0);
	struct synack_tcp_info i1 = t_info(t);
	CHECK_EQ(i1.rcv_nxt, i0.rcv_nxt);
	CHECK_EQ(i1.snd_una, i0.snd_una);
	CHECK_EQ(i1.snd_wnd, i0.snd_wnd);
	CHECK_EQ_U64(i1.bytes_received, i0.bytes_received);
	CHECK_EQ(synack_events(t->st, t->sock) & SYNACK_POLLIN, SYNACK_POLLIN);
	t_recv(t, 100);
	t_recv_err(t, -EAGAIN);
	/* The good segment: taken, its ACK too. */
	t_peer(t, "P.", 1101, T_ISS + 51, 200);
	t_expect(t, ".", T_ISS + 51, 1301, 0);
	t_recv(t, 200);
	t_counter(t, "InCsumErrors", 1);
	t_free(t);
}

/* After 100 bytes in order (1001..1100), the peer's segment corrupt at
 * off: dropped, nothing sent, nothing taken; the connection stays
 * ESTABLISHED with the 100 bytes to read and no more. */
static void bad_after_100(const char *flags, uint32_t seq, uint32_t len, size_t off)
{
	struct t *t = t_new();
	t_establish_passive(t);
	t_peer(t, "P.", 1001, T_ISS + 1, 100);
	t_expect(t, ".", T_ISS + 1, 1101, 0);
	struct counts c0 = counts_now(t);
	CHECK_EQ(peer_corrupt(t, flags, seq, T_ISS + 1, len, off), SYNACK_DROP_TCP_BAD_CHECKSUM);
	t_expect_nothing(t);
	check_one_bad(t, c0);
	t_counter(t, "OfoQueued", 0);
	t_state(t, SYNACK_ESTABLISHED);
	t_recv(t, 100);
	t_recv_err(t, -EAGAIN);
	t_free(t);
}

/* A corrupt header of an in-order data segment (its ACK field here) is
 * the checksum's as much as the payload. */
static void rxcsum_in_order_bad_header_takes_nothing(void)
{
	bad_after_100("P.", 1101, 300, 9);
}

/* The first text, into an empty buffer (summed in place, then copied). */
static void rxcsum_first_text_bad_is_dropped(void)
{
	struct t *t = t_new();
	t_establish_passive(t);
	struct counts c0 = counts_now(t);
	CHECK_EQ(peer_corrupt(t, "P.", 1001, T_ISS + 1, 300, 20 + 299),
	         SYNACK_DROP_TCP_BAD_CHECKSUM);
	t_expect_nothing(t);
	check_one_bad(t, c0);
	t_recv_err(t, -EAGAIN);
	t_peer(t, "P.", 1001, T_ISS + 1, 300);
	t_expect(t, ".", T_ISS + 1, 1301, 0);
	t_recv(t, 300);
	t_free(t);
}

/* Out of order: no duplicate ACK, nothing held. */
static void rxcsum_out_of_order_bad_is_dropped(void)
{
	bad_after_100("P.", 1201, 300, 20 + 3);
}

/* A FIN with text: the connection stays ESTABLISHED, no ACK, no text. */
static void rxcsum_fin_bad_is_dropped(void)
{
	bad_after_100("FP.", 1101, 100, 20 + 50);
}

/* A zero-window probe (one byte at RCV.NXT into a full buffer): not
 * answered, as a good one would be. */
static void rxcsum_zero_window_probe_bad_is_dropped(void)
{
	struct t *t = t_new();
	t_establish_passive(t);
	uint32_t seq = 1001;
	while (t_info(t).rcv_wnd > 0) {
		uint32_t n = t_info(t).rcv_wnd < 1000 ? t_info(t).rcv_wnd : 1000;
		t_peer(t, ".", seq, T_ISS + 1, n);
		seq += n;
		t_drain(t);
	}
	struct synack_tcp_info i0 = t_info(t);
	struct counts c0 = counts_now(t);
	CHECK_EQ(peer_corrupt(t, ".", seq, T_ISS + 1, 1, 20), SYNACK_DROP_TCP_BAD_CHECKSUM);
	t_expect_nothing(t);
	check_one_bad(t, c0);
	CHECK_EQ(t_info(t).rcv_nxt, i0.rcv_nxt);
	/* A good probe is answered with the zero window. */
	t_peer(t, ".", seq, T_ISS + 1, 1);
	t_expect(t, ".", T_ISS + 1, seq, 0);
	t_free(t);
}

/* Text that wraps around the end of the buffer's allocation, split at an
 * odd offset (RFC 1071 2(B): the second piece sums byte-swapped): a good
 * segment is delivered whole; one corrupt in either piece is dropped. */
static void rxcsum_wrapped_odd_split(void)
{
	struct t *t = t_new();
	t_establish_passive(t);
	/* 3001 bytes into the first 4096-byte buffer, 3000 read: the next
	 * text starts at offset 3001, 1095 bytes before the end. */
	static const uint32_t len[] = {1000, 1000, 1001};
	for (uint32_t i = 0, seq = 1001; i < 3; seq += len[i++]) {
		t_peer(t, "P.", seq, T_ISS + 1, len[i]);
		t_drain(t);
	}
	static uint8_t buf[3000];
	CHECK_EQ(synack_recv(t->st, t->sock, buf, sizeof buf, 0), (ssize_t)sizeof buf);
	t->rcv_seq += sizeof buf;
	t_drain(t); /* the window update */
	uint32_t seq = 1001 + 3001;
	struct counts c0 = counts_now(t);
	CHECK_EQ(peer_corrupt(t, "P.", seq, T_ISS + 1, 1401, 20 + 1300),
	         SYNACK_DROP_TCP_BAD_CHECKSUM);
	check_one_bad(t, c0);
	CHECK_EQ(peer_corrupt(t, "P.", seq, T_ISS + 1, 1401, 20 + 7), SYNACK_DROP_TCP_BAD_CHECKSUM);
	t_expect_nothing(t);
	t_counter(t, "InCsumErrors", 2);
	t_peer(t, "P.", seq, T_ISS + 1, 1401);
	t_drain(t);
	t_recv(t, 1 + 1401);
	t_free(t);
}

/* A wrong checksum is the reason given even when an option is wrong too
 * (the order of the checks: the checksum first). */
static void rxcsum_bad_option_and_checksum_is_checksum(void)
{
	struct t *t = t_new();
	t_establish_passive(t);
	t->peer_ts = 1; /* a 12-byte option block: NOP NOP TS */
	static uint8_t pkt[2000];
	size_t n = t_build(t, pkt, sizeof pkt, "P.", 1001, T_ISS + 1, 100);
	t->peer_ts = 0;
	CHECK_EQ(pkt[IP_HL + 20 + 2], 8); /* the timestamp option */
	pkt[IP_HL + 20 + 3] = 0;          /* its length: 0, a bad option */
	t_fix_tcp_csum(pkt, n);
	CHECK_EQ(t_input_raw(t, pkt, n), SYNACK_DROP_TCP_BAD_OPTION);
	pkt[IP_HL + 20 + 12 + 5] ^= 1; /* and a payload byte */
	CHECK_EQ(t_input_raw(t, pkt, n), SYNACK_DROP_TCP_BAD_CHECKSUM);
	t_counter(t, "InCsumErrors", 1);
	t_free(t);
}

int main(void)
{
	if (!t_ipv4_only("the checksum is deferred on the IPv4 receive path"))
		return 0;
	RUN(rxcsum_in_order_bad_payload_takes_nothing);
	RUN(rxcsum_in_order_bad_header_takes_nothing);
	RUN(rxcsum_first_text_bad_is_dropped);
	RUN(rxcsum_out_of_order_bad_is_dropped);
	RUN(rxcsum_fin_bad_is_dropped);
	RUN(rxcsum_zero_window_probe_bad_is_dropped);
	RUN(rxcsum_wrapped_odd_split);
	RUN(rxcsum_bad_option_and_checksum_is_checksum);
	return check_summary("test_rxcsum");
}
