/*
 * The checksum state a link hands the stack with a datagram (issue 16
 * item 2; synack_input_flags, SYNACK_INPUT_CSUM_UNNECESSARY), as Linux's
 * skb->ip_summed: a TCP segment the link vouches for is taken without
 * its checksum being summed (InCsumTrusted), so one with a wrong checksum
 * is accepted only through that path; the same segment through
 * synack_input is dropped and counted (InCsumErrors).  The flag covers
 * the TCP checksum of a datagram in one piece only: the IPv4 header
 * checksum is verified as ever.  Both families (SYNACK_TEST_FAMILY=6).
 * After t_establish_passive: RCV.NXT = 1001, SND.NXT = ISS+1.
 */
#include <string.h>

#include "script.h"
#include "wire/wire.h"

/* The peer's segment with its TCP checksum wrong (the field flipped, so
 * the payload stays the pattern t_recv checks), into pkt. */
static size_t bad_checksum(struct t *t, uint8_t *pkt, size_t cap, uint32_t seq, uint32_t len)
{
	size_t n = t_build(t, pkt, cap, "P.", seq, T_ISS + 1, len);
	pkt[t_ip_hdr_len() + 16] ^= 0x5a;
	return n;
}

static int input_trusted(struct t *t, const uint8_t *pkt, size_t n)
{
	return synack_input_flags(t->st, t->now, pkt, n, SYNACK_INPUT_CSUM_UNNECESSARY);
}

/* Trusted: taken, ACKed and read; the same bytes untrusted: dropped. */
static void trusted_segment_is_taken_unsummed(void)
{
	static uint8_t pkt[70000];
	struct t *t = t_new();
	t_establish_passive(t);
	size_t n = bad_checksum(t, pkt, sizeof pkt, 1001, 300);
	CHECK_EQ(t_input_raw(t, pkt, n), SYNACK_DROP_TCP_BAD_CHECKSUM);
	t_expect_nothing(t);
	t_counter(t, "InCsumErrors", 1);
	t_counter(t, "InCsumTrusted", 0);
	CHECK_EQ(input_trusted(t, pkt, n), 0);
	t_expect(t, ".", T_ISS + 1, 1301, 0);
	t_counter(t, "InCsumErrors", 1);
	t_counter(t, "InCsumTrusted", 1);
	t_recv(t, 300);
	/* Text above WIRE_TCP_DEFER_MIN and below it, and a FIN: every
	 * path the deferred checksum takes. */
	n = bad_checksum(t, pkt, sizeof pkt, 1301, 2 * T_MSS);
	CHECK_EQ(input_trusted(t, pkt, n), 0);
	n = bad_checksum(t, pkt, sizeof pkt, 1301 + 2 * T_MSS, 10);
	CHECK_EQ(input_trusted(t, pkt, n), 0);
	n = t_build(t, pkt, sizeof pkt, "F.", 1311 + 2 * T_MSS, T_ISS + 1, 0);
	pkt[t_ip_hdr_len() + 16] ^= 0x5a;
	CHECK_EQ(input_trusted(t, pkt, n), 0);
	t_drain(t);
	t_recv(t, 2 * T_MSS + 10);
	t_state(t, SYNACK_CLOSE_WAIT);
	t_counter(t, "InCsumTrusted", 4);
	t_counter(t, "InCsumErrors", 1);
	t_free(t);
}

/* The flag vouches for TCP's checksum, not the IPv4 header's. */
static void ip_header_checksum_is_still_verified(void)
{
	if (!t_ipv4_only("IPv6 has no header checksum"))
		return;
	static uint8_t pkt[70000];
	struct t *t = t_new();
	t_establish_passive(t);
	size_t n = t_build(t, pkt, sizeof pkt, "P.", 1001, T_ISS + 1, 100);
	pkt[10] ^= 0x5a;
	CHECK_EQ(input_trusted(t, pkt, n), SYNACK_DROP_IP_BAD_CHECKSUM);
	t_expect_nothing(t);
	t_counter(t, "InCsumTrusted", 0);
	t_free(t);
}

/* The link vouched for each fragment, not for the datagram put together
 * from them: its checksum is verified, and a wrong one dropped. */
static void reassembled_segment_is_verified(void)
{
	if (!t_ipv4_only("the fragments are built as IPv4"))
		return;
	static uint8_t pkt[70000], f[2000];
	struct t *t = t_new();
	t_establish_passive(t);
	size_t n = bad_checksum(t, pkt, sizeof pkt, 1001, 1000);
	wire_put16(pkt + 6, 0); /* no DF: it may be fragmented */
	size_t first = 512, rest = n - WIRE_IP4_HDR_LEN - first;
	for (int i = 0; i < 2; i++) {
		size_t off = i ? first : 0, len = i ? rest : first;
		memcpy(f, pkt, WIRE_IP4_HDR_LEN);
		memcpy(f + WIRE_IP4_HDR_LEN, pkt + WIRE_IP4_HDR_LEN + off, len);
		wire_put16(f + 2, (uint16_t)(WIRE_IP4_HDR_LEN + len));
		wire_put16(f + 6, (uint16_t)((off / 8) | (i ? 0 : WIRE_IP4_MF)));
		t_fix_ip_csum(f);
		CHECK_EQ(input_trusted(t, f, WIRE_IP4_HDR_LEN + len),
		         i ? SYNACK_DROP_TCP_BAD_CHECKSUM : 0);
	}
	t_expect_nothing(t);
	t_counter(t, "InCsumTrusted", 0);
	t_counter(t, "InCsumErrors", 1);
	t_free(t);
}

/* Flags the stack does not know are refused; synack_input is no flags. */
static void unknown_flags_are_refused(void)
{
	static uint8_t pkt[2000];
	struct t *t = t_new();
	t_establish_passive(t);
	size_t n = t_build(t, pkt, sizeof pkt, "P.", 1001, T_ISS + 1, 10);
	CHECK_EQ(synack_input_flags(t->st, t->now, pkt, n, 0x2), -EINVAL);
	CHECK_EQ(synack_input_flags(NULL, t->now, pkt, n, 0), -EINVAL);
	CHECK_EQ(synack_input_flags(t->st, t->now, pkt, n, 0), 0);
	t_expect(t, ".", T_ISS + 1, 1011, 0);
	t_counter(t, "InCsumTrusted", 0);
	t_recv(t, 10);
	t_free(t);
}

int main(void)
{
	RUN(trusted_segment_is_taken_unsummed);
	RUN(ip_header_checksum_is_still_verified);
	RUN(reassembled_segment_is_verified);
	RUN(unknown_flags_are_refused);
	return check_summary("test_csum_trust");
}
