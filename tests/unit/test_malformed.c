/*
 * Malformed datagrams: each is dropped with its reason, counted in
 * synack_stats (drops[] and the MIB counter that names it), traced as
 * SYNACK_TRACE_DROP, never answered, and never changes a connection.
 * Each test aims the bad datagram at an ESTABLISHED connection (RCV.NXT 1001).
 */
#include "script.h"

#define EXPECT_DROP(t, r, reason) expect_drop(t, __FILE__, __LINE__, r, reason)

static void expect_drop(struct t *t, const char *file, int line, int r, int reason)
{
	if (r != reason)
		check_fail(file, line, "synack_input: expected %s, got %d (%s)",
		           synack_drop_name(reason), r, r > 0 ? synack_drop_name(r) : "accepted");
	t_drops_at(t, file, line, reason, 1);
	if (!t_trace_has_drop(t, reason))
		check_fail(file, line, "no SYNACK_TRACE_DROP record with reason %s",
		           synack_drop_name(reason));
	t_expect_nothing_at(t, file, line);
	t_state_at(t, file, line, SYNACK_ESTABLISHED);
}

/* A good data segment (seq 1001, 10 bytes) for the established connection. */
static size_t good(struct t *t, uint8_t *pkt, size_t cap)
{
	return t_build(t, pkt, cap, "P.", 1001, T_ISS + 1, 10);
}

static struct t *established(void)
{
	struct t *t = t_new();
	t_establish_passive(t);
	return t;
}

/* The stack is still fine: the good segment is taken after the bad one. */
static void still_works(struct t *t)
{
	uint8_t pkt[256];
	size_t n = good(t, pkt, sizeof pkt);
	CHECK_EQ(t_input_raw(t, pkt, n), 0);
	t_expect(t, ".", T_ISS + 1, 1011, 0);
	t_recv(t, 10);
}

/* ------------------------------------------------------------------ IPv4 */

static void malformed_ip_shorter_than_header_is_dropped(void)
{
	struct t *t = established();
	uint8_t pkt[256];
	good(t, pkt, sizeof pkt);
	EXPECT_DROP(t, t_input_raw(t, pkt, 12), SYNACK_DROP_IP_TRUNCATED);
	CHECK_EQ(t_input_raw(t, pkt, 0), SYNACK_DROP_IP_TRUNCATED);
	t_drops(t, SYNACK_DROP_IP_TRUNCATED, 2);
	t_expect_nothing(t);
	still_works(t);
	t_free(t);
}

static void malformed_ip_total_len_past_datagram_is_dropped(void)
{
	struct t *t = established();
	uint8_t pkt[256];
	size_t n = good(t, pkt, sizeof pkt);
	wire_put16(pkt + 2, (uint16_t)(n + 20));
	t_fix_ip_csum(pkt);
	EXPECT_DROP(t, t_input_raw(t, pkt, n), SYNACK_DROP_IP_TRUNCATED);
	still_works(t);
	t_free(t);
}

static void malformed_ip_bad_version_is_dropped(void)
{
	struct t *t = established();
	uint8_t pkt[256];
	size_t n = good(t, pkt, sizeof pkt);
	/* Version 5: neither IPv4 nor IPv6 (version 6 is IPv6 now, issue 14:
	 * this datagram would be one not for us). */
	pkt[0] = (uint8_t)(0x50 | (pkt[0] & 0x0f));
	t_fix_ip_csum(pkt);
	EXPECT_DROP(t, t_input_raw(t, pkt, n), SYNACK_DROP_IP_BAD_VERSION);
	t_counter(t, "IpInHdrErrors", 1);
	pkt[0] = (uint8_t)(0x60 | (pkt[0] & 0x0f));
	EXPECT_DROP(t, t_input_raw(t, pkt, n), SYNACK_DROP_IP_NOT_FOR_US);
	t_counter(t, "Ip6InAddrErrors", 1);
	t_counter(t, "IpInHdrErrors", 1);
	still_works(t);
	t_free(t);
}

static void malformed_ip_bad_ihl_is_dropped(void)
{
	struct t *t = established();
	uint8_t pkt[256];
	size_t n = good(t, pkt, sizeof pkt);
	pkt[0] = 0x44; /* IHL 4: 16 bytes, shorter than any IPv4 header */
	EXPECT_DROP(t, t_input_raw(t, pkt, n), SYNACK_DROP_IP_BAD_IHL);
	t_counter(t, "IpInHdrErrors", 1);
	t_free(t);
}

static void malformed_ip_total_len_below_header_is_dropped(void)
{
	struct t *t = established();
	uint8_t pkt[256];
	size_t n = good(t, pkt, sizeof pkt);
	wire_put16(pkt + 2, 12);
	t_fix_ip_csum(pkt);
	EXPECT_DROP(t, t_input_raw(t, pkt, n), SYNACK_DROP_IP_BAD_TOTAL_LEN);
	t_counter(t, "IpInHdrErrors", 1);
	t_free(t);
}

static void malformed_ip_bad_checksum_is_dropped(void)
{
	struct t *t = established();
	uint8_t pkt[256];
	size_t n = good(t, pkt, sizeof pkt);
	pkt[10] ^= 0x5a;
	EXPECT_DROP(t, t_input_raw(t, pkt, n), SYNACK_DROP_IP_BAD_CHECKSUM);
	t_counter(t, "IpInHdrErrors", 1);
	t_counter(t, "InErrs", 0); /* TCP never saw it */
	still_works(t);
	t_free(t);
}

static void malformed_ip_fragment_is_dropped(void)
{
	/* Fragments are reassembled (test_reasm.c); these can never be part
	 * of a datagram and are dropped alone, before they cost any state. */
	struct t *t = established();
	uint8_t pkt[256];
	size_t n = good(t, pkt, sizeof pkt);
	pkt[6] = 0x60; /* DF and MF, offset 0 */
	pkt[7] = 0;
	t_fix_ip_csum(pkt);
	EXPECT_DROP(t, t_input_raw(t, pkt, n), SYNACK_DROP_FRAG_DF);
	n = good(t, pkt, sizeof pkt);
	pkt[6] = 0x20; /* MF with 30 bytes: not a multiple of 8 */
	pkt[7] = 0;
	t_fix_ip_csum(pkt);
	EXPECT_DROP(t, t_input_raw(t, pkt, n), SYNACK_DROP_FRAG_BAD_LEN);
	n = good(t, pkt, sizeof pkt);
	pkt[6] = 0x1f; /* a last fragment at 65528: it would end past 65535 */
	pkt[7] = 0xff;
	t_fix_ip_csum(pkt);
	EXPECT_DROP(t, t_input_raw(t, pkt, n), SYNACK_DROP_FRAG_TOO_BIG);
	t_counter(t, "IpReasmReqds", 3);
	t_counter(t, "IpReasmFails", 3);
	t_drops(t, SYNACK_DROP_IP_FRAGMENT, 0);
	still_works(t);
	t_free(t);
}

/* A protocol we do not implement: dropped, and answered with Protocol
 * Unreachable (RFC 1122 3.2.2.1) quoting the datagram. */
static void malformed_ip_not_tcp_is_dropped(void)
{
	struct t *t = established();
	uint8_t pkt[256];
	size_t n = good(t, pkt, sizeof pkt);
	pkt[9] = 17; /* UDP */
	t_fix_ip_csum(pkt);
	CHECK_EQ(t_input_raw(t, pkt, n), SYNACK_DROP_IP_NOT_TCP);
	if (t_expect_icmp(t, WIRE_ICMP_DEST_UNREACH, WIRE_ICMP_PROTO_UNREACH)) {
		CHECK_EQ(t->icmp.data_len, n);
		CHECK(memcmp(t->icmp.data, pkt, n) == 0);
	}
	EXPECT_DROP(t, SYNACK_DROP_IP_NOT_TCP, SYNACK_DROP_IP_NOT_TCP);
	t_counter(t, "IpInUnknownProtos", 1);
	t_counter(t, "IcmpOutDestUnreachs", 1);
	t_free(t);
}

static void malformed_ip_not_for_us_is_dropped(void)
{
	struct t *t = established();
	uint8_t pkt[256];
	size_t n = good(t, pkt, sizeof pkt);
	wire_put32(pkt + 16, 0x0a000009);
	t_fix_ip_csum(pkt);
	t_fix_tcp_csum(pkt, n);
	EXPECT_DROP(t, t_input_raw(t, pkt, n), SYNACK_DROP_IP_NOT_FOR_US);
	t_counter(t, "IpInAddrErrors", 1);
	t_free(t);
}

/* ------------------------------------------------------------------ TCP */

static void malformed_tcp_truncated_header_is_dropped(void)
{
	struct t *t = established();
	uint8_t pkt[256];
	good(t, pkt, sizeof pkt);
	/* An IP datagram whose payload holds only 12 bytes of TCP header. */
	wire_put16(pkt + 2, 20 + 12);
	t_fix_ip_csum(pkt);
	EXPECT_DROP(t, t_input_raw(t, pkt, 32), SYNACK_DROP_TCP_TRUNCATED);
	t_counter(t, "InErrs", 1);
	t_counter(t, "InCsumErrors", 0);
	still_works(t);
	t_free(t);
}

static void malformed_tcp_bad_checksum_is_dropped(void)
{
	struct t *t = established();
	uint8_t pkt[256];
	size_t n = good(t, pkt, sizeof pkt);
	pkt[n - 1] ^= 0x01; /* one payload bit */
	EXPECT_DROP(t, t_input_raw(t, pkt, n), SYNACK_DROP_TCP_BAD_CHECKSUM);
	t_counter(t, "InErrs", 1);
	t_counter(t, "InCsumErrors", 1);
	t_recv_err(t, -EAGAIN);
	still_works(t);
	t_free(t);
}

/* A RST that would reset the connection does nothing when its checksum is bad. */
static void malformed_tcp_bad_checksum_rst_does_not_reset(void)
{
	struct t *t = established();
	uint8_t pkt[256];
	size_t n = t_build(t, pkt, sizeof pkt, "R", 1001, 0, 0);
	pkt[20 + 16] ^= 0xff;
	EXPECT_DROP(t, t_input_raw(t, pkt, n), SYNACK_DROP_TCP_BAD_CHECKSUM);
	t_counter(t, "EstabResets", 0);
	still_works(t);
	t_free(t);
}

static void malformed_tcp_data_offset_below_five_is_dropped(void)
{
	struct t *t = established();
	uint8_t pkt[256];
	size_t n = good(t, pkt, sizeof pkt);
	pkt[20 + 12] = (uint8_t)(4 << 4);
	t_fix_tcp_csum(pkt, n);
	EXPECT_DROP(t, t_input_raw(t, pkt, n), SYNACK_DROP_TCP_BAD_OFFSET);
	t_counter(t, "InErrs", 1);
	t_counter(t, "InCsumErrors", 0);
	still_works(t);
	t_free(t);
}

static void malformed_tcp_data_offset_past_segment_is_dropped(void)
{
	struct t *t = established();
	uint8_t pkt[256];
	size_t n = t_build(t, pkt, sizeof pkt, ".", 1001, T_ISS + 1, 0); /* 20-byte header */
	pkt[20 + 12] = (uint8_t)(15 << 4);                               /* claims 60 bytes */
	t_fix_tcp_csum(pkt, n);
	EXPECT_DROP(t, t_input_raw(t, pkt, n), SYNACK_DROP_TCP_BAD_OFFSET);
	t_counter(t, "InErrs", 1);
	still_works(t);
	t_free(t);
}

/*
 * A segment with a 4-byte option area holding one option (kind, length,
 * value) -- the MSS option of a SYN; then its length byte is set to len.
 */
static size_t segment_with_option_len(struct t *t, uint8_t *pkt, size_t cap, uint8_t len)
{
	size_t n = t_build(t, pkt, cap, "S", 1001, 0, 0);
	CHECK_EQ(n, 20 + 24);
	CHECK_EQ(pkt[40], 2); /* MSS kind */
	pkt[41] = len;
	t_fix_tcp_csum(pkt, n);
	return n;
}

static void malformed_tcp_option_length_zero_is_dropped(void)
{
	struct t *t = established();
	uint8_t pkt[256];
	size_t n = segment_with_option_len(t, pkt, sizeof pkt, 0);
	EXPECT_DROP(t, t_input_raw(t, pkt, n), SYNACK_DROP_TCP_BAD_OPTION);
	t_counter(t, "InErrs", 1);
	t_counter(t, "SynChallenge", 0);
	still_works(t);
	t_free(t);
}

static void malformed_tcp_option_length_one_is_dropped(void)
{
	struct t *t = established();
	uint8_t pkt[256];
	size_t n = segment_with_option_len(t, pkt, sizeof pkt, 1);
	EXPECT_DROP(t, t_input_raw(t, pkt, n), SYNACK_DROP_TCP_BAD_OPTION);
	t_counter(t, "InErrs", 1);
	t_free(t);
}

static void malformed_tcp_option_past_header_is_dropped(void)
{
	struct t *t = established();
	uint8_t pkt[256];
	size_t n = segment_with_option_len(t, pkt, sizeof pkt, 8);
	EXPECT_DROP(t, t_input_raw(t, pkt, n), SYNACK_DROP_TCP_BAD_OPTION);
	t_counter(t, "InErrs", 1);
	t_free(t);
}

static void malformed_tcp_mss_option_wrong_length_is_dropped(void)
{
	struct t *t = established();
	uint8_t pkt[256];
	size_t n = segment_with_option_len(t, pkt, sizeof pkt, 3);
	EXPECT_DROP(t, t_input_raw(t, pkt, n), SYNACK_DROP_TCP_BAD_OPTION);
	t_free(t);
}

static void malformed_tcp_syn_fin_is_dropped(void)
{
	struct t *t = established();
	uint8_t pkt[256];
	size_t n = t_build(t, pkt, sizeof pkt, "SF", 1001, 0, 0);
	EXPECT_DROP(t, t_input_raw(t, pkt, n), SYNACK_DROP_TCP_BAD_FLAGS);
	t_counter(t, "SynChallenge", 0);
	t_free(t);
}

static void malformed_tcp_syn_rst_is_dropped(void)
{
	struct t *t = established();
	uint8_t pkt[256];
	size_t n = t_build(t, pkt, sizeof pkt, "SR", 1001, 0, 0);
	EXPECT_DROP(t, t_input_raw(t, pkt, n), SYNACK_DROP_TCP_BAD_FLAGS);
	t_counter(t, "EstabResets", 0);
	t_free(t);
}

static void malformed_tcp_port_zero_is_dropped(void)
{
	struct t *t = established();
	uint8_t pkt[256];
	size_t n = good(t, pkt, sizeof pkt);
	wire_put16(pkt + 20, 0); /* source port */
	t_fix_tcp_csum(pkt, n);
	EXPECT_DROP(t, t_input_raw(t, pkt, n), SYNACK_DROP_TCP_BAD_PORT);
	t_free(t);
}

/* Not malformed: an unknown option is skipped and the SYN is answered normally. */
static void malformed_tcp_unknown_option_is_skipped(void)
{
	struct t *t = t_new();
	t_listen(t);
	uint8_t pkt[256];
	size_t n = t_build(t, pkt, sizeof pkt, "S", 1000, 0, 0); /* 20 + 24 bytes */
	/* Insert kind 99, length 4 before the MSS option: a 28-byte header. */
	memmove(pkt + 44, pkt + 40, 4);
	pkt[40] = 99;
	pkt[41] = 4;
	pkt[42] = 0xab;
	pkt[43] = 0xcd;
	pkt[20 + 12] = (uint8_t)(7 << 4);
	n += 4;
	wire_put16(pkt + 2, (uint16_t)n);
	t_fix_ip_csum(pkt);
	t_fix_tcp_csum(pkt, n);
	CHECK_EQ(t_input_raw(t, pkt, n), 0);
	t_expect(t, "S.", T_ISS, 1001, 0);
	t_state(t, SYNACK_SYN_RECEIVED);
	t_counter(t, "InErrs", 0);
	t_free(t);
}

/* Every malformed datagram leaves the stack as it was: nothing is leaked or sent. */
/* ------------------------------------------------------------------ ICMP */

/* A Port Unreachable from the peer about our connection's segment at
 * SND.UNA, with quote bytes of the quoted datagram; returns its length. */
static size_t icmp_unreach(struct t *t, uint8_t *pkt, size_t cap, size_t quote)
{
	uint8_t q[64];
	memset(q, 0, sizeof q);
	wire_ip4_emit(q, T_US_ADDR, T_PEER_ADDR, WIRE_IPPROTO_TCP, 64, 0, 20);
	wire_put16(q + 20, T_LISTEN_PORT);
	wire_put16(q + 22, T_PEER_PORT);
	wire_put32(q + 24, t->iss + 1);
	size_t n = wire_icmp_emit(pkt + 20, cap - 20, WIRE_ICMP_DEST_UNREACH,
	                          WIRE_ICMP_PORT_UNREACH, 0, q, quote);
	wire_ip4_emit(pkt, T_PEER_ADDR, T_US_ADDR, WIRE_IPPROTO_ICMP, 64, 0, n);
	return n + 20;
}

static void malformed_icmp_truncated_is_dropped(void)
{
	struct t *t = established();
	uint8_t pkt[256];
	icmp_unreach(t, pkt, sizeof pkt, 28);
	wire_put16(pkt + 2, 20 + 7);
	t_fix_ip_csum(pkt);
	EXPECT_DROP(t, t_input_raw(t, pkt, 27), SYNACK_DROP_ICMP_TRUNCATED);
	t_counter(t, "IcmpInErrors", 1);
	still_works(t);
	t_free(t);
}

static void malformed_icmp_bad_checksum_is_dropped(void)
{
	struct t *t = established();
	uint8_t pkt[256];
	size_t n = icmp_unreach(t, pkt, sizeof pkt, 28);
	pkt[n - 1] ^= 0x10;
	EXPECT_DROP(t, t_input_raw(t, pkt, n), SYNACK_DROP_ICMP_BAD_CHECKSUM);
	t_counter(t, "IcmpInErrors", 1);
	t_counter(t, "IcmpInCsumErrors", 1);
	still_works(t);
	t_free(t);
}

static void malformed_icmp_quote_cut_short_is_dropped(void)
{
	struct t *t = established();
	uint8_t pkt[256];
	/* The IP header and 4 of the 8 bytes RFC 792 requires. */
	size_t n = icmp_unreach(t, pkt, sizeof pkt, 24);
	EXPECT_DROP(t, t_input_raw(t, pkt, n), SYNACK_DROP_ICMP_BAD_QUOTE);
	t_counter(t, "IcmpInErrors", 1);
	still_works(t);
	t_free(t);
}

static void malformed_flood_changes_nothing(void)
{
	struct t *t = established();
	uint8_t pkt[256];
	size_t n = good(t, pkt, sizeof pkt);
	for (size_t cut = 0; cut < n; cut++) {
		int r = t_input_raw(t, pkt, cut);
		CHECK(r > 0);
	}
	for (size_t i = 0; i < n; i++) {
		uint8_t save = pkt[i];
		pkt[i] ^= 0x80;
		int r = t_input_raw(t, pkt, n);
		pkt[i] = save;
		/* Flipping one bit breaks a checksum, or is caught by a check before it. */
		CHECK(r > 0);
	}
	t_expect_nothing(t);
	t_state(t, SYNACK_ESTABLISHED);
	struct synack_stats s;
	synack_stats(t->st, &s);
	CHECK_EQ(s.bytes_buffered, 0);
	still_works(t);
	t_free(t);
}

int main(void)
{
	RUN(malformed_ip_shorter_than_header_is_dropped);
	RUN(malformed_ip_total_len_past_datagram_is_dropped);
	RUN(malformed_ip_bad_version_is_dropped);
	RUN(malformed_ip_bad_ihl_is_dropped);
	RUN(malformed_ip_total_len_below_header_is_dropped);
	RUN(malformed_ip_bad_checksum_is_dropped);
	RUN(malformed_ip_fragment_is_dropped);
	RUN(malformed_ip_not_tcp_is_dropped);
	RUN(malformed_ip_not_for_us_is_dropped);
	RUN(malformed_tcp_truncated_header_is_dropped);
	RUN(malformed_tcp_bad_checksum_is_dropped);
	RUN(malformed_tcp_bad_checksum_rst_does_not_reset);
	RUN(malformed_tcp_data_offset_below_five_is_dropped);
	RUN(malformed_tcp_data_offset_past_segment_is_dropped);
	RUN(malformed_tcp_option_length_zero_is_dropped);
	RUN(malformed_tcp_option_length_one_is_dropped);
	RUN(malformed_tcp_option_past_header_is_dropped);
	RUN(malformed_tcp_mss_option_wrong_length_is_dropped);
	RUN(malformed_tcp_syn_fin_is_dropped);
	RUN(malformed_tcp_syn_rst_is_dropped);
	RUN(malformed_tcp_port_zero_is_dropped);
	RUN(malformed_tcp_unknown_option_is_skipped);
	RUN(malformed_icmp_truncated_is_dropped);
	RUN(malformed_icmp_bad_checksum_is_dropped);
	RUN(malformed_icmp_quote_cut_short_is_dropped);
	RUN(malformed_flood_changes_nothing);
	return check_summary("test_malformed");
}
