/*
 * The zero-copy receive queue (issue 16 item 2, src/tcp/tcp_rcvq.c): text
 * that arrives in order inside a block the caller lends
 * (synack_input_block) stays there until recv() copies it out, charged to
 * the receive buffer at the block's size; small text is copied (into the
 * ring, or behind held blocks), and the bytes come out in order whatever
 * mix of ring, held blocks and copies holds them.  ASan checks that every
 * kept block is freed: when read, on close with data queued, and when the
 * socket keeps the data after the connection ended.
 * After t_establish_passive: RCV.NXT = 1001, SND.NXT = ISS+1.
 */
#include <stdlib.h>
#include <string.h>

#include "script.h"

#define BLOCK 4096u /* text of at least 2048 bytes in it is kept */
#define LEAD 64u    /* where the datagram starts in the block */

/* The peer's segment built into a fresh block and lent with it; returns
 * whether the stack kept the block (else it is freed here). */
static int peer_block(struct t *t, const char *flags, uint32_t seq, uint32_t len)
{
	uint8_t *b = malloc(BLOCK);
	CHECK(b != NULL);
	if (!b)
		return 0;
	size_t n = t_build(t, b + LEAD, BLOCK - LEAD, flags, seq, T_ISS + 1, len);
	int kept = -1;
	t->last_input = synack_input_block(t->st, t->now, b + LEAD, n,
	                                   SYNACK_INPUT_CSUM_UNNECESSARY, b, BLOCK, &kept);
	CHECK_EQ(t->last_input, 0);
	CHECK(kept == 0 || kept == 1);
	if (kept != 1)
		free(b);
	return kept == 1;
}

/* Reads exactly n bytes (more may wait), checking them. */
static void recv_part(struct t *t, uint32_t n)
{
	static uint8_t buf[65536];
	CHECK_EQ(synack_recv(t->st, t->sock, buf, n, 0), (ssize_t)n);
	for (uint32_t i = 0; i < n; i++)
		if (buf[i] != t_pattern(t->rcv_seq + i)) {
			CHECK_EQ(buf[i], t_pattern(t->rcv_seq + i));
			break;
		}
	t->rcv_seq += n;
}

/* In order and big enough: kept, not copied; read in two parts.  The
 * block is charged at its size until it is all read: a partial read that
 * would open the window by more than an MSS for copied text does not. */
static void rcvq_in_order_kept_and_read_in_parts(void)
{
	struct t *t = t_new();
	t_establish_passive(t);
	CHECK_EQ(peer_block(t, "P.", 1001, 3000), 1);
	t_counter(t, "TCPRcvQueueRef", 1);
	t_counter(t, "TCPRcvCollapsed", 0);
	t_expect(t, ".", T_ISS + 1, 4001, 0);
	CHECK_EQ(t->seg.wnd, T_RCVBUF - 3000);
	CHECK_EQ(t_info(t).recv_queue, 3000);
	recv_part(t, 2000);
	t_expect_nothing(t);
	CHECK_EQ(t_info(t).recv_queue, 1000);
	CHECK_EQ(t_info(t).rcv_wnd, T_RCVBUF - 3000);
	t_recv(t, 1000);
	t_expect(t, ".", T_ISS + 1, 4001, 0);
	CHECK_EQ(t->seg.wnd, T_RCVBUF);
	CHECK_EQ(t_info(t).recv_queue, 0);
	t_free(t);
}

/* The same text copied: the partial read opens the window. */
static void rcvq_copied_partial_read_opens_window(void)
{
	struct t *t = t_new();
	t_establish_passive(t);
	t_peer(t, "P.", 1001, T_ISS + 1, 3000);
	t_expect(t, ".", T_ISS + 1, 4001, 0);
	recv_part(t, 2000);
	t_expect(t, ".", T_ISS + 1, 4001, 0);
	CHECK_EQ(t->seg.wnd, T_RCVBUF - 1000);
	t_recv(t, 1000);
	t_drain(t);
	t_free(t);
}

/* Text filling less than half of the block is copied: the block stays
 * the caller's. */
static void rcvq_small_text_is_copied(void)
{
	struct t *t = t_new();
	t_establish_passive(t);
	CHECK_EQ(peer_block(t, "P.", 1001, 100), 0);
	CHECK_EQ(peer_block(t, "P.", 1101, 2047), 0);
	t_counter(t, "TCPRcvQueueRef", 0);
	t_drain(t);
	t_recv(t, 2147);
	t_drain(t);
	t_free(t);
}

/* Ring, then held block, then copies behind it: read in order, also
 * peeked across the seams; once drained, text goes to the ring again. */
static void rcvq_order_ring_block_copies(void)
{
	struct t *t = t_new();
	t_establish_passive(t);
	CHECK_EQ(peer_block(t, "P.", 1001, 100), 0); /* into the ring */
	t_drain(t);
	CHECK_EQ(peer_block(t, "P.", 1101, 3000), 1);
	t_drain(t);
	CHECK_EQ(peer_block(t, "P.", 4101, 200), 0); /* behind the block */
	t_drain(t);
	t_peer(t, "P.", 4301, T_ISS + 1, 5000); /* not lent: copied too */
	t_counter(t, "TCPRcvQueueRef", 1);
	t_counter(t, "TCPRcvCollapsed", 2);
	t_drain(t);
	CHECK_EQ(t_info(t).recv_queue, 8300);
	/* A peek across the ring's end and into the block, then one from
	 * inside the block into the copies (SO_PEEK_OFF's offsets). */
	uint8_t buf[8300];
	CHECK_EQ(synack_recv(t->st, t->sock, buf, 600, SYNACK_MSG_PEEK), 600);
	for (uint32_t i = 0; i < 600; i++)
		CHECK_EQ(buf[i], t_pattern(1001 + i));
	recv_part(t, 50);
	CHECK_EQ(synack_recv(t->st, t->sock, buf, 3200, SYNACK_MSG_PEEK), 3200);
	for (uint32_t i = 0; i < 3200; i++)
		CHECK_EQ(buf[i], t_pattern(1051 + i));
	recv_part(t, 3100);
	t_recv(t, 5150);
	t_recv_err(t, -EAGAIN);
	t_drain(t);
	CHECK_EQ(peer_block(t, "P.", 9301, 100), 0);
	t_counter(t, "TCPRcvCollapsed", 2);
	t_recv(t, 100);
	t_drain(t);
	t_free(t);
}

/* Out of order: the held segment is copied (reassembly queue), the one
 * filling the gap is kept, and the rest follows it as a copy; SACK and
 * the ACKs say what arrived. */
static void rcvq_out_of_order(void)
{
	struct t *t = t_new();
	t->peer_sack_ok = 1;
	t_establish_passive(t);
	CHECK_EQ(peer_block(t, "P.", 4001, 3000), 0);
	t_expect(t, ".", T_ISS + 1, 1001, 0);
	t_expect_sack(t, 1, 4001, 7001);
	CHECK_EQ(peer_block(t, "P.", 1001, 3000), 1);
	t_expect(t, ".", T_ISS + 1, 7001, 0);
	t_counter(t, "TCPRcvCollapsed", 1);
	t_recv(t, 6000);
	t_drain(t);
	t_free(t);
}

/* close() with text queued in a held block: a reset (RFC 9293 3.10.4),
 * and the block is freed (ASan). */
static void rcvq_close_with_data_queued(void)
{
	struct t *t = t_new();
	t_establish_passive(t);
	CHECK_EQ(peer_block(t, "P.", 1001, 3000), 1);
	t_drain(t);
	t_close(t);
	t_expect(t, "R.", T_ISS + 1, 4001, 0);
	t_free(t);
}

/* The connection ends (a reset) with held text unread: the socket keeps
 * it, in order, then reports the error. */
static void rcvq_data_outlives_connection(void)
{
	struct t *t = t_new();
	t_establish_passive(t);
	CHECK_EQ(peer_block(t, "P.", 1001, 100), 0);
	CHECK_EQ(peer_block(t, "P.", 1101, 3000), 1);
	CHECK_EQ(peer_block(t, "P.", 4101, 10), 0);
	t_drain(t);
	t_peer(t, "R", 4111, 0, 0);
	t_recv(t, 3110);
	t_recv_err(t, -ECONNRESET);
	t_free(t);
}

/* A stack torn down with a held block frees it (ASan); blocks read come
 * back through synack_block_spare for the size asked for. */
static void rcvq_spare_blocks(void)
{
	struct t *t = t_new();
	t_establish_passive(t);
	CHECK(synack_block_spare(t->st, BLOCK) == NULL); /* the size to keep */
	CHECK_EQ(peer_block(t, "P.", 1001, 3000), 1);
	t_drain(t);
	CHECK(synack_block_spare(t->st, BLOCK) == NULL); /* not read yet */
	t_recv(t, 3000);
	t_drain(t);
	void *b = synack_block_spare(t->st, BLOCK);
	CHECK(b != NULL);
	free(b);
	CHECK(synack_block_spare(t->st, BLOCK) == NULL);
	CHECK_EQ(peer_block(t, "P.", 4001, 3000), 1);
	t_drain(t);
	t_free(t); /* held at teardown */
}

/* Text whose checksum is still to verify (no CSUM_UNNECESSARY) is summed
 * where it lies and kept, even while the ring has room for it: summing it
 * as it is copied into the ring (tcp_rcv_precopy) would cost a copy that
 * keeping it saves.  A damaged one is still caught, and not kept. */
static void rcvq_unverified_text_summed_in_place_and_kept(void)
{
	struct t *t = t_new();
	t_establish_passive(t);
	CHECK_EQ(peer_block(t, "P.", 1001, 100), 0); /* the ring, allocated */
	t_drain(t);
	uint8_t *b = malloc(BLOCK);
	CHECK(b != NULL);
	size_t n = t_build(t, b + LEAD, BLOCK - LEAD, "P.", 1101, T_ISS + 1, 3000);
	b[LEAD + n - 1] ^= 1; /* the last byte of text */
	int kept = -1;
	/* The drop reason comes back (and is counted). */
	CHECK(synack_input_block(t->st, t->now, b + LEAD, n, 0, b, BLOCK, &kept) > 0);
	CHECK_EQ(kept, 0);
	t_counter(t, "InCsumErrors", 1);
	b[LEAD + n - 1] ^= 1;
	CHECK_EQ(synack_input_block(t->st, t->now, b + LEAD, n, 0, b, BLOCK, &kept), 0);
	CHECK_EQ(kept, 1);
	if (kept != 1)
		free(b);
	t_counter(t, "TCPRcvQueueRef", 1);
	t_drain(t);
	recv_part(t, 3100);
	t_drain(t);
	t_free(t);
}

/* Read-out blocks wait as spares for as many as were held at once, not
 * a fixed few: a simulated receiver reads a whole window of them in one
 * go and the simulator hands every one back to the sender's pool. */
#define SMALL_BLOCK 128u /* a 50-byte segment fills half of it */
static void rcvq_spares_as_many_as_were_held(void)
{
	struct t *t = t_new();
	t_establish_passive(t);
	CHECK(synack_block_spare(t->st, SMALL_BLOCK) == NULL); /* the size to keep */
	enum { HELD = 200 };
	uint32_t seq = 1001;
	for (int i = 0; i < HELD; i++) {
		uint8_t *b = malloc(SMALL_BLOCK);
		CHECK(b != NULL);
		size_t n = t_build(t, b, SMALL_BLOCK, "P.", seq, T_ISS + 1, 64);
		int kept = -1;
		CHECK_EQ(synack_input_block(t->st, t->now, b, n, SYNACK_INPUT_CSUM_UNNECESSARY, b,
		                            SMALL_BLOCK, &kept),
		         0);
		if (kept != 1)
			free(b);
		seq += 64;
		t_drain(t);
	}
	t_counter(t, "TCPRcvQueueRef", HELD);
	recv_part(t, HELD * 64);
	t_drain(t);
	int spares = 0;
	void *b;
	while ((b = synack_block_spare(t->st, SMALL_BLOCK)) != NULL) {
		free(b);
		spares++;
	}
	CHECK_EQ(spares, HELD);
	t_free(t);
}

/* Bad arguments: a datagram outside its block, no *kept. */
static void rcvq_bad_arguments(void)
{
	struct t *t = t_new();
	uint8_t b[64] = {0};
	int kept = 7;
	CHECK_EQ(synack_input_block(t->st, 0, b + 32, 40, 0, b, sizeof b, &kept), -EINVAL);
	CHECK_EQ(kept, 0);
	CHECK_EQ(synack_input_block(t->st, 0, b, 40, 0, b + 1, sizeof b, &kept), -EINVAL);
	CHECK_EQ(synack_input_block(t->st, 0, b, 40, 0, b, sizeof b, NULL), -EINVAL);
	t_free(t);
}

int main(void)
{
	RUN(rcvq_in_order_kept_and_read_in_parts);
	RUN(rcvq_copied_partial_read_opens_window);
	RUN(rcvq_small_text_is_copied);
	RUN(rcvq_order_ring_block_copies);
	RUN(rcvq_out_of_order);
	RUN(rcvq_close_with_data_queued);
	RUN(rcvq_data_outlives_connection);
	RUN(rcvq_spare_blocks);
	RUN(rcvq_unverified_text_summed_in_place_and_kept);
	RUN(rcvq_spares_as_many_as_were_held);
	RUN(rcvq_bad_arguments);
	return check_summary("test_rcvq");
}
