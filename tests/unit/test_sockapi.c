/*
 * The socket calls of issue 17 item 11, segment by segment and errno by
 * errno: TCP_CORK and MSG_MORE (what they hold, what lets it go), quick-ACK
 * mode and TCP_QUICKACK (which ACKs go at once, which wait), SO_PEEK_OFF,
 * SO_RCVLOWAT and TCP_NOTSENT_LOWAT readiness, the queue ioctls, vectored
 * send and receive, and SO_RCVBUF set past what the window scale
 * expresses (item 12).
 */
#include <limits.h>
#include <string.h>

#include "script.h"

static struct t *new_delack(uint32_t max_quickacks)
{
	struct synack_config cfg;
	t_config(&cfg);
	cfg.delack_ms = 40;
	cfg.max_quickacks = max_quickacks;
	return t_new_with(&cfg);
}

static void setopt(struct t *t, int opt, int value)
{
	CHECK_EQ(synack_setsockopt(t->st, t->sock, opt, value), 0);
}

static int getopt_(struct t *t, int opt)
{
	int v = -12345;
	CHECK_EQ(synack_getsockopt(t->st, t->sock, opt, &v), 0);
	return v;
}

static int ioctl_(struct t *t, unsigned long req)
{
	int v = -12345;
	CHECK_EQ(synack_ioctl(t->st, t->sock, req, &v), 0);
	return v;
}

/* n pattern bytes as the harness sends them (t_send's bytes). */
static void our_bytes(uint8_t *buf, size_t n, uint32_t from)
{
	for (size_t i = 0; i < n; i++)
		buf[i] = t_pattern(from + (uint32_t)i);
}

/* The peer's bytes at its sequence numbers seq.. are in buf. */
static int peer_bytes_are(const uint8_t *buf, size_t n, uint32_t seq)
{
	for (size_t i = 0; i < n; i++)
		if (buf[i] != t_pattern(seq + (uint32_t)i))
			return 0;
	return 1;
}

/* ------------------------------------------------------------------ */
/* TCP_CORK and MSG_MORE.                                              */

static void cork_holds_the_partial_segment_until_uncorked(void)
{
	struct t *t = t_new();
	t_establish_passive(t);
	setopt(t, SYNACK_TCP_NODELAY, 1);
	setopt(t, SYNACK_TCP_CORK, 1);
	CHECK_EQ(getopt_(t, SYNACK_TCP_CORK), 1);
	t_send(t, 100);
	t_expect_nothing(t); /* corked: even TCP_NODELAY waits */
	t_send(t, 1400);     /* 1500 queued: one full segment goes, 40 wait */
	t_expect(t, ".", T_ISS + 1, 1001, T_MSS);
	t_expect_nothing(t);
	CHECK_EQ(ioctl_(t, SYNACK_SIOCOUTQ), 1500);
	CHECK_EQ(ioctl_(t, SYNACK_SIOCOUTQNSD), 40);
	t_peer(t, ".", 1001, T_ISS + 1 + T_MSS, 0);
	t_expect_nothing(t); /* all acknowledged: still corked */
	CHECK_EQ(ioctl_(t, SYNACK_SIOCOUTQ), 40);
	setopt(t, SYNACK_TCP_CORK, 0);
	t_expect(t, "P.", T_ISS + 1 + T_MSS, 1001, 40);
	CHECK_EQ(ioctl_(t, SYNACK_SIOCOUTQNSD), 0);
	t_free(t);
}

static void cork_is_released_by_the_fin(void)
{
	struct t *t = t_new();
	t_establish_passive(t);
	setopt(t, SYNACK_TCP_CORK, 1);
	t_send(t, 10);
	t_expect_nothing(t);
	t_shutdown_wr(t);
	t_expect(t, "F.", T_ISS + 1, 1001, 10);
	t_free(t);
}

/* Linux's probe timer: corked data with nothing in flight goes at the
 * RTO (at least rto_min_ms). */
static void cork_ceiling_is_the_persist_timer(void)
{
	struct t *t = t_new();
	t_establish_passive(t);
	struct synack_tcp_info i;
	CHECK_EQ(synack_tcp_info(t->st, t->sock, &i), 0);
	uint64_t rto_ms = i.rto_us / 1000;
	CHECK(rto_ms >= 200);
	setopt(t, SYNACK_TCP_CORK, 1);
	t_send(t, 10);
	t_at(t, rto_ms - 1);
	t_expect_nothing(t);
	t_at(t, rto_ms);
	t_expect(t, "P.", T_ISS + 1, 1001, 10);
	t_free(t);
}

static void msg_more_holds_for_that_send_only(void)
{
	struct t *t = t_new();
	t_establish_passive(t);
	uint8_t buf[200];
	our_bytes(buf, sizeof buf, 0);
	struct synack_iovec iov = {buf, 100};
	CHECK_EQ(synack_sendv(t->st, t->sock, &iov, 1, SYNACK_MSG_MORE), 100);
	t_expect_nothing(t);
	iov.base = buf + 100;
	CHECK_EQ(synack_sendv(t->st, t->sock, &iov, 1, 0), 100);
	t_expect(t, "P.", T_ISS + 1, 1001, 200);
	/* MSG_MORE on a send that fills segments: the full ones go. */
	static uint8_t big[3000];
	iov.base = big;
	iov.len = sizeof big;
	CHECK_EQ(synack_sendv(t->st, t->sock, &iov, 1, SYNACK_MSG_MORE), 3000);
	t_expect(t, ".", T_ISS + 201, 1001, T_MSS);
	t_expect(t, ".", T_ISS + 201 + T_MSS, 1001, T_MSS);
	t_expect_nothing(t);
	/* The next ACK lets the rest go by the usual rules (Linux's
	 * tcp_push_pending_frames). */
	t_peer(t, ".", 1001, T_ISS + 201 + 2 * T_MSS, 0);
	t_expect(t, "P.", T_ISS + 201 + 2 * T_MSS, 1001, 3000 - 2 * T_MSS);
	t_free(t);
}

/* ------------------------------------------------------------------ */
/* Quick-ACK mode and TCP_QUICKACK.                                    */

static void first_segments_are_acked_at_once_then_delayed(void)
{
	struct t *t = new_delack(3);
	t_establish_passive(t);
	uint32_t seq = 1001;
	for (int i = 0; i < 3; i++) {
		t_at(t, (uint64_t)i);
		t_peer(t, "P.", seq, T_ISS + 1, 100);
		seq += 100;
		t_expect(t, ".", T_ISS + 1, seq, 0); /* quick ACK */
	}
	t_at(t, 3);
	t_peer(t, "P.", seq, T_ISS + 1, 100);
	seq += 100;
	t_expect_nothing(t); /* the quick ACKs are used up: delayed */
	t_at(t, 3 + 39);
	t_expect_nothing(t);
	t_at(t, 3 + 40);
	t_expect(t, ".", T_ISS + 1, seq, 0);
	t_counter(t, "DelayedACKs", 1);
	t_free(t);
}

static void quickacks_are_capped_by_the_window(void)
{
	/* 16 allowed, but a 1000-byte window holds no pair of segments:
	 * Linux's floor of 2 quick ACKs. */
	struct t *t = new_delack(16);
	t_listen(t);
	CHECK_EQ(synack_setsockopt(t->st, t->listener, SYNACK_SO_RCVBUF, 1000), 0);
	t_peer(t, "S", 1000, 0, 0);
	t_expect(t, "S.", T_ISS, 1001, 0);
	t_peer(t, ".", 1001, T_ISS + 1, 0);
	t_accept(t);
	t_peer(t, "P.", 1001, T_ISS + 1, 10);
	t_expect(t, ".", T_ISS + 1, 1011, 0);
	t_peer(t, "P.", 1011, T_ISS + 1, 10);
	t_expect(t, ".", T_ISS + 1, 1021, 0);
	t_peer(t, "P.", 1021, T_ISS + 1, 10);
	t_expect_nothing(t);
	t_free(t);
}

static void request_response_delays_acks_onto_replies(void)
{
	struct t *t = new_delack(16);
	t_establish_passive(t);
	CHECK_EQ(getopt_(t, SYNACK_TCP_QUICKACK), 1);
	t_peer(t, "P.", 1001, T_ISS + 1, 100);
	t_expect(t, ".", T_ISS + 1, 1101, 0); /* the first request: at once */
	t_at(t, 5);
	t_recv(t, 100);
	t_send(t, 50); /* the reply, within delack_ms: request/response */
	t_expect(t, "P.", T_ISS + 1, 1101, 50);
	CHECK_EQ(getopt_(t, SYNACK_TCP_QUICKACK), 0);
	t_at(t, 100);
	t_peer(t, "P.", 1101, T_ISS + 51, 100);
	t_expect_nothing(t); /* quick ACKs remain, but ACKs wait for replies now */
	t_at(t, 110);
	t_recv(t, 100);
	t_send(t, 50);
	t_expect(t, "P.", T_ISS + 51, 1201, 50);
	/* No reply this time: the delayed ACK goes at the timer and ends
	 * request/response mode; the next data is acknowledged at once. */
	t_at(t, 200);
	t_peer(t, "P.", 1201, T_ISS + 101, 100);
	t_expect_nothing(t);
	t_at(t, 240);
	t_expect(t, ".", T_ISS + 101, 1301, 0);
	CHECK_EQ(getopt_(t, SYNACK_TCP_QUICKACK), 1);
	t_at(t, 250);
	t_peer(t, "P.", 1301, T_ISS + 101, 100);
	t_expect(t, ".", T_ISS + 101, 1401, 0);
	t_free(t);
}

static void tcp_quickack_sends_the_pending_ack(void)
{
	struct t *t = new_delack(16);
	t_establish_passive(t);
	setopt(t, SYNACK_TCP_QUICKACK, 0); /* delay from the start */
	CHECK_EQ(getopt_(t, SYNACK_TCP_QUICKACK), 0);
	t_peer(t, "P.", 1001, T_ISS + 1, 100);
	t_expect_nothing(t);
	t_at(t, 10);
	setopt(t, SYNACK_TCP_QUICKACK, 1);
	t_expect(t, ".", T_ISS + 1, 1101, 0);
	CHECK_EQ(getopt_(t, SYNACK_TCP_QUICKACK), 1);
	setopt(t, SYNACK_TCP_QUICKACK, 1); /* nothing pending: nothing sent */
	t_expect_nothing(t);
	t_free(t);
}

static void idle_longer_than_the_rto_restarts_quickacks(void)
{
	struct t *t = new_delack(1);
	t_establish_passive(t);
	t_peer(t, "P.", 1001, T_ISS + 1, 100);
	t_expect(t, ".", T_ISS + 1, 1101, 0);
	t_at(t, 1);
	t_peer(t, "P.", 1101, T_ISS + 1, 100);
	t_expect_nothing(t);
	t_at(t, 41);
	t_expect(t, ".", T_ISS + 1, 1201, 0);
	struct synack_tcp_info i;
	CHECK_EQ(synack_tcp_info(t->st, t->sock, &i), 0);
	t_at(t, 41 + i.rto_us / 1000 + 1);
	t_peer(t, "P.", 1201, T_ISS + 1, 100);
	t_expect(t, ".", T_ISS + 1, 1301, 0); /* after the idle period: at once */
	t_free(t);
}

static void max_quickacks_zero_is_the_old_delayed_ack(void)
{
	struct t *t = new_delack(0);
	t_establish_passive(t);
	t_peer(t, "P.", 1001, T_ISS + 1, 100);
	t_expect_nothing(t);
	t_at(t, 40);
	t_expect(t, ".", T_ISS + 1, 1101, 0);
	t_free(t);
}

/* ------------------------------------------------------------------ */
/* ack_on_read (issue 16 item 2): the ACK of unread text waits for the  */
/* read, as Linux's receiver (__tcp_ack_snd_check, tcp_cleanup_rbuf).   */

static struct t *new_ack_on_read(uint32_t on)
{
	struct synack_config cfg;
	t_config(&cfg);
	cfg.delack_ms = 40;
	cfg.max_quickacks = 0; /* no quick ACKs: the every-second-segment rule */
	cfg.ack_on_read = on;
	return t_new_with(&cfg);
}

/* Segments the link coalesced (GRO; the kernel's TSO super-segments on
 * a TAP device with offloads): more text than one MSS each. */
#define T_SUPER (3 * T_MSS)

static void unread_text_is_acked_by_the_read(void)
{
	struct t *t = new_ack_on_read(1);
	t_establish_passive(t);
	/* Two coalesced segments, unread: the window they would be
	 * acknowledged with is smaller than the last one offered, so the
	 * ACK waits. */
	t_peer(t, ".", 1001, T_ISS + 1, T_SUPER);
	t_expect_nothing(t);
	t_peer(t, ".", 1001 + T_SUPER, T_ISS + 1, T_SUPER);
	t_expect_nothing(t);
	/* The read: one ACK for both, with the window it opened. */
	t_at(t, 5);
	t_recv(t, 2 * T_SUPER);
	t_expect(t, ".", T_ISS + 1, 1001 + 2 * T_SUPER, 0);
	t_expect_nothing(t);
	t_counter(t, "DelayedACKs", 0);
	t_free(t);
}

static void unread_text_is_acked_by_the_timer_without_a_read(void)
{
	struct t *t = new_ack_on_read(1);
	t_establish_passive(t);
	t_peer(t, ".", 1001, T_ISS + 1, T_SUPER);
	t_at(t, 39);
	t_expect_nothing(t);
	/* No read: delack_ms bounds the wait (RFC 1122 4.2.3.2). */
	t_at(t, 40);
	t_expect(t, ".", T_ISS + 1, 1001 + T_SUPER, 0);
	t_counter(t, "DelayedACKs", 1);
	/* The read after that has nothing to acknowledge; the room it frees
	 * is a window update as before. */
	t_recv(t, T_SUPER);
	t_expect(t, ".", T_ISS + 1, 1001 + T_SUPER, 0);
	t_free(t);
}

static void full_segments_are_acked_every_second_one_all_the_same(void)
{
	/* Segments of one MSS, unread: RFC 1122 4.2.3.2 as before, for a
	 * sender that counts ACKs (RFC 3465 2.2). */
	struct t *t = new_ack_on_read(1);
	t_establish_passive(t);
	t_peer(t, ".", 1001, T_ISS + 1, T_MSS);
	t_expect_nothing(t);
	t_peer(t, ".", 1001 + T_MSS, T_ISS + 1, T_MSS);
	t_expect(t, ".", T_ISS + 1, 1001 + 2 * T_MSS, 0);
	t_free(t);
}

static void rcvlowat_above_one_acks_coalesced_text_at_once(void)
{
	/* The read waits for SO_RCVLOWAT bytes, which may need the sender
	 * to hear from us first: no ACK waits for it. */
	struct t *t = new_ack_on_read(1);
	t_establish_passive(t);
	setopt(t, SYNACK_SO_RCVLOWAT, 4 * T_SUPER);
	t_peer(t, ".", 1001, T_ISS + 1, T_SUPER);
	t_expect(t, ".", T_ISS + 1, 1001 + T_SUPER, 0);
	t_free(t);
}

static void ack_on_read_off_acks_coalesced_text_at_once(void)
{
	struct t *t = new_ack_on_read(0);
	t_establish_passive(t);
	t_peer(t, ".", 1001, T_ISS + 1, T_SUPER);
	t_expect(t, ".", T_ISS + 1, 1001 + T_SUPER, 0);
	t_free(t);
}

/* ------------------------------------------------------------------ */
/* SO_PEEK_OFF, lowats, the queue ioctls.                              */

static void peek_offsets_follow_peeks_and_reads(void)
{
	struct t *t = t_new();
	t_establish_passive(t);
	CHECK_EQ(getopt_(t, SYNACK_SO_PEEK_OFF), -1);
	t_peer(t, "P.", 1001, T_ISS + 1, 100);
	t_drain(t);
	uint8_t buf[200];
	/* Off: every peek starts at the first unread byte. */
	CHECK_EQ(synack_recv(t->st, t->sock, buf, 10, SYNACK_MSG_PEEK), 10);
	CHECK_EQ(synack_recv(t->st, t->sock, buf, 10, SYNACK_MSG_PEEK), 10);
	CHECK(peer_bytes_are(buf, 10, 1001));
	setopt(t, SYNACK_SO_PEEK_OFF, 0);
	CHECK_EQ(synack_recv(t->st, t->sock, buf, 10, SYNACK_MSG_PEEK), 10);
	CHECK(peer_bytes_are(buf, 10, 1001));
	CHECK_EQ(synack_recv(t->st, t->sock, buf, 10, SYNACK_MSG_PEEK), 10);
	CHECK(peer_bytes_are(buf, 10, 1011));
	CHECK_EQ(getopt_(t, SYNACK_SO_PEEK_OFF), 20);
	/* A read takes from the front and moves the offset back. */
	CHECK_EQ(synack_recv(t->st, t->sock, buf, 5, 0), 5);
	CHECK(peer_bytes_are(buf, 5, 1001));
	CHECK_EQ(getopt_(t, SYNACK_SO_PEEK_OFF), 15);
	CHECK_EQ(synack_recv(t->st, t->sock, buf, sizeof buf, SYNACK_MSG_PEEK), 80);
	CHECK(peer_bytes_are(buf, 80, 1021));
	CHECK_EQ(getopt_(t, SYNACK_SO_PEEK_OFF), 95);
	/* Past the unread bytes: nothing yet. */
	CHECK_EQ(synack_recv(t->st, t->sock, buf, sizeof buf, SYNACK_MSG_PEEK), -EAGAIN);
	t_peer(t, "P.", 1101, T_ISS + 1, 10);
	t_drain(t);
	CHECK_EQ(synack_recv(t->st, t->sock, buf, sizeof buf, SYNACK_MSG_PEEK), 10);
	CHECK(peer_bytes_are(buf, 10, 1101));
	/* A read past the offset leaves it at 0. */
	CHECK_EQ(synack_recv(t->st, t->sock, buf, sizeof buf, 0), 105);
	CHECK(peer_bytes_are(buf, 105, 1006));
	CHECK_EQ(getopt_(t, SYNACK_SO_PEEK_OFF), 0);
	setopt(t, SYNACK_SO_PEEK_OFF, -7);
	CHECK_EQ(getopt_(t, SYNACK_SO_PEEK_OFF), -1);
	/* At the end of the stream a peek past the data is 0. */
	t_peer(t, "P.", 1111, T_ISS + 1, 10);
	t_drain(t);
	t_peer(t, "F.", 1121, T_ISS + 1, 0);
	t_drain(t);
	setopt(t, SYNACK_SO_PEEK_OFF, 10);
	CHECK_EQ(synack_recv(t->st, t->sock, buf, sizeof buf, SYNACK_MSG_PEEK), 0);
	t_free(t);
}

static void rcvlowat_decides_readability(void)
{
	struct t *t = t_new();
	t_establish_passive(t);
	CHECK_EQ(getopt_(t, SYNACK_SO_RCVLOWAT), 1);
	setopt(t, SYNACK_SO_RCVLOWAT, 150);
	t_peer(t, "P.", 1001, T_ISS + 1, 100);
	t_drain(t);
	CHECK_EQ(ioctl_(t, SYNACK_FIONREAD), 100);
	CHECK(!(synack_events(t->st, t->sock) & SYNACK_POLLIN));
	t_peer(t, "P.", 1101, T_ISS + 1, 100);
	t_drain(t);
	CHECK(synack_events(t->st, t->sock) & SYNACK_POLLIN);
	/* A plain recv returns what is there, lowat or not. */
	uint8_t buf[300];
	CHECK_EQ(synack_recv(t->st, t->sock, buf, 120, 0), 120);
	CHECK(!(synack_events(t->st, t->sock) & SYNACK_POLLIN));
	/* The end of the stream is readable below the mark. */
	t_peer(t, "F.", 1201, T_ISS + 1, 0);
	t_drain(t);
	CHECK(synack_events(t->st, t->sock) & SYNACK_POLLIN);
	/* 0 is taken as 1; a mark past half the buffer counts as half. */
	setopt(t, SYNACK_SO_RCVLOWAT, 0);
	CHECK_EQ(getopt_(t, SYNACK_SO_RCVLOWAT), 1);
	CHECK_EQ(synack_setsockopt(t->st, t->sock, SYNACK_SO_RCVLOWAT, -1), -EINVAL);
	t_free(t);

	t = t_new();
	t_establish_passive(t);
	setopt(t, SYNACK_SO_RCVLOWAT, INT_MAX);
	t_peer(t, "P.", 1001, T_ISS + 1, T_MSS);
	t_drain(t);
	CHECK(!(synack_events(t->st, t->sock) & SYNACK_POLLIN));
	int half = getopt_(t, SYNACK_SO_RCVBUF) / 2;
	for (uint32_t seq = 1001 + T_MSS; ioctl_(t, SYNACK_FIONREAD) < half; seq += T_MSS) {
		t_peer(t, ".", seq, T_ISS + 1, T_MSS);
		t_drain(t);
	}
	CHECK(synack_events(t->st, t->sock) & SYNACK_POLLIN);
	t_free(t);
}

static void notsent_lowat_decides_writability(void)
{
	struct t *t = t_new();
	t_establish_passive(t);
	CHECK_EQ(getopt_(t, SYNACK_TCP_NOTSENT_LOWAT), 0);
	setopt(t, SYNACK_TCP_NOTSENT_LOWAT, 100);
	setopt(t, SYNACK_TCP_CORK, 1);
	t_send(t, 50);
	CHECK_EQ(ioctl_(t, SYNACK_SIOCOUTQNSD), 50);
	CHECK(synack_events(t->st, t->sock) & SYNACK_POLLOUT);
	t_send(t, 60);
	CHECK_EQ(ioctl_(t, SYNACK_SIOCOUTQNSD), 110);
	CHECK_EQ(ioctl_(t, SYNACK_SIOCOUTQ), 110);
	CHECK(!(synack_events(t->st, t->sock) & SYNACK_POLLOUT));
	setopt(t, SYNACK_TCP_CORK, 0);
	t_expect(t, "P.", T_ISS + 1, 1001, 110);
	CHECK_EQ(ioctl_(t, SYNACK_SIOCOUTQNSD), 0);
	CHECK_EQ(ioctl_(t, SYNACK_SIOCOUTQ), 110);
	CHECK(synack_events(t->st, t->sock) & SYNACK_POLLOUT);
	t_peer(t, ".", 1001, T_ISS + 111, 0);
	CHECK_EQ(ioctl_(t, SYNACK_SIOCOUTQ), 0);
	t_free(t);
}

/* ------------------------------------------------------------------ */
/* Vectored calls.                                                     */

static void sendv_and_recvv_move_the_pieces_in_order(void)
{
	struct t *t = t_new();
	t_establish_passive(t);
	uint8_t a[30], b[1], c[70];
	our_bytes(a, sizeof a, 0);
	our_bytes(b, sizeof b, 30);
	our_bytes(c, sizeof c, 31);
	struct synack_iovec out[4] = {{a, sizeof a}, {NULL, 0}, {b, sizeof b}, {c, sizeof c}};
	CHECK_EQ(synack_sendv(t->st, t->sock, out, 4, 0), 101);
	t_expect(t, "P.", T_ISS + 1, 1001, 101);
	CHECK_EQ(synack_sendv(t->st, t->sock, out, 0, 0), 0);

	t_peer(t, "P.", 1001, T_ISS + 102, 100);
	t_drain(t);
	uint8_t x[10], y[50], z[100];
	struct synack_iovec in[3] = {{x, sizeof x}, {y, sizeof y}, {z, sizeof z}};
	CHECK_EQ(synack_recvv(t->st, t->sock, in, 3, SYNACK_MSG_PEEK), 100);
	CHECK_EQ(synack_recvv(t->st, t->sock, in, 2, 0), 60);
	CHECK(peer_bytes_are(x, 10, 1001));
	CHECK(peer_bytes_are(y, 50, 1011));
	CHECK_EQ(synack_recvv(t->st, t->sock, in, 3, SYNACK_MSG_WAITALL | SYNACK_MSG_DONTWAIT), 40);
	CHECK(peer_bytes_are(x, 10, 1061));
	CHECK(peer_bytes_are(y, 30, 1071));
	CHECK_EQ(synack_recvv(t->st, t->sock, in, 3, 0), -EAGAIN);
	t_free(t);
}

static void sendv_fills_the_buffer_piece_by_piece(void)
{
	struct t *t = t_new();
	t_listen(t);
	CHECK_EQ(synack_setsockopt(t->st, t->listener, SYNACK_SO_SNDBUF, 100), 0);
	t_peer(t, "S", 1000, 0, 0);
	t_expect(t, "S.", T_ISS, 1001, 0);
	t_peer(t, ".", 1001, T_ISS + 1, 0);
	t_accept(t);
	uint8_t a[60], b[60];
	our_bytes(a, sizeof a, 0);
	our_bytes(b, sizeof b, 60);
	struct synack_iovec out[2] = {{a, sizeof a}, {b, sizeof b}};
	CHECK_EQ(synack_sendv(t->st, t->sock, out, 2, 0), 100);
	t_expect(t, "P.", T_ISS + 1, 1001, 100);
	CHECK_EQ(synack_sendv(t->st, t->sock, out, 2, 0), -EAGAIN);
	t_free(t);
}

/* ------------------------------------------------------------------ */
/* SO_RCVBUF past the window scale (issue 17 item 12).                 */

static void rcvbuf_after_connect_is_cut_to_the_window_scale(void)
{
	/* The peer offers no window scale: the window field is all there
	 * is, 65535 bytes. */
	struct t *t = t_new();
	t_establish_passive(t);
	CHECK_EQ(synack_setsockopt(t->st, t->sock, SYNACK_SO_RCVBUF, 1 << 20), 0);
	CHECK_EQ(getopt_(t, SYNACK_SO_RCVBUF), 65535);
	CHECK_EQ(synack_setsockopt(t->st, t->sock, SYNACK_SO_RCVBUF, 30000), 0);
	CHECK_EQ(getopt_(t, SYNACK_SO_RCVBUF), 30000);
	t_free(t);

	/* Both scale: 65535 << 7 (rmem_max 6 MiB chose 7). */
	t = t_new();
	t->peer_wscale = 7;
	t_establish_passive(t);
	struct synack_tcp_info i;
	CHECK_EQ(synack_tcp_info(t->st, t->sock, &i), 0);
	CHECK_EQ(i.rcv_wscale, 7);
	CHECK_EQ(synack_setsockopt(t->st, t->sock, SYNACK_SO_RCVBUF, 1 << 30), 0);
	CHECK_EQ(getopt_(t, SYNACK_SO_RCVBUF), 65535 << 7);
	t_free(t);
}

/* ------------------------------------------------------------------ */
/* Every errno.                                                        */

static void api_errors_of_the_new_calls(void)
{
	struct t *t = t_new();
	struct synack_stack *st = t->st;
	uint8_t buf[8];
	int v;
	struct synack_iovec iov = {buf, sizeof buf}, nulls = {NULL, 4};
	struct synack_iovec huge[2] = {{buf, SIZE_MAX / 2}, {buf, 2}};
	int s = synack_socket(st);
	/* Stack and socket. */
	CHECK_EQ(synack_sendv(NULL, s, &iov, 1, 0), -EINVAL);
	CHECK_EQ(synack_recvv(NULL, s, &iov, 1, 0), -EINVAL);
	CHECK_EQ(synack_ioctl(NULL, s, SYNACK_FIONREAD, &v), -EINVAL);
	CHECK_EQ(synack_sendv(st, 999, &iov, 1, 0), -EBADF);
	CHECK_EQ(synack_recvv(st, -1, &iov, 1, 0), -EBADF);
	CHECK_EQ(synack_ioctl(st, 999, SYNACK_FIONREAD, &v), -EBADF);
	/* Flags, then the pieces, then the socket's state. */
	CHECK_EQ(synack_sendv(st, s, &iov, 1, SYNACK_MSG_PEEK), -EOPNOTSUPP);
	CHECK_EQ(synack_sendv(st, s, &iov, 1, SYNACK_MSG_WAITALL), -EOPNOTSUPP);
	CHECK_EQ(synack_recvv(st, s, &iov, 1, SYNACK_MSG_MORE), -EOPNOTSUPP);
	CHECK_EQ(synack_recv(st, s, buf, 1, SYNACK_MSG_NOSIGNAL), -EOPNOTSUPP);
	CHECK_EQ(synack_sendv(st, s, &iov, -1, 0), -EMSGSIZE);
	CHECK_EQ(synack_sendv(st, s, &iov, SYNACK_IOV_MAX + 1, 0), -EMSGSIZE);
	CHECK_EQ(synack_recvv(st, s, &iov, -1, 0), -EMSGSIZE);
	CHECK_EQ(synack_sendv(st, s, NULL, 1, 0), -EINVAL);
	CHECK_EQ(synack_recvv(st, s, NULL, 1, 0), -EINVAL);
	CHECK_EQ(synack_sendv(st, s, &nulls, 1, 0), -EINVAL);
	CHECK_EQ(synack_recvv(st, s, &nulls, 1, 0), -EINVAL);
	CHECK_EQ(synack_sendv(st, s, huge, 2, 0), -EINVAL);
	CHECK_EQ(synack_recvv(st, s, huge, 2, 0), -EINVAL);
	CHECK_EQ(synack_sendv(st, s, &iov, 1, SYNACK_MSG_DONTWAIT | SYNACK_MSG_NOSIGNAL),
	         -ENOTCONN);
	CHECK_EQ(synack_recvv(st, s, &iov, 1, SYNACK_MSG_DONTWAIT), -ENOTCONN);
	CHECK_EQ(synack_sendv(st, s, NULL, 0, 0), -ENOTCONN);
	/* ioctl: unknown request, NULL value, a listener. */
	CHECK_EQ(synack_ioctl(st, s, 0x5401 /* TCGETS */, &v), -ENOTTY);
	CHECK_EQ(synack_ioctl(st, s, SYNACK_FIONREAD, NULL), -EINVAL);
	v = -1;
	CHECK_EQ(synack_ioctl(st, s, SYNACK_SIOCOUTQ, &v), 0);
	CHECK_EQ(v, 0);
	/* Options. */
	CHECK_EQ(synack_setsockopt(st, s, SYNACK_SO_RCVLOWAT, -1), -EINVAL);
	CHECK_EQ(synack_setsockopt(st, s, SYNACK_TCP_INQ, 2), -EINVAL);
	CHECK_EQ(synack_setsockopt(st, s, SYNACK_TCP_INQ, 1), 0);
	CHECK_EQ(synack_getsockopt(st, s, SYNACK_TCP_INQ, &v), 0);
	CHECK_EQ(v, 1);
	CHECK_EQ(synack_setsockopt(st, s, SYNACK_TCP_NOTSENT_LOWAT, -5), 0);
	CHECK_EQ(synack_getsockopt(st, s, SYNACK_TCP_NOTSENT_LOWAT, NULL), -EINVAL);
	CHECK_EQ(synack_setsockopt(st, s, SYNACK_TCP_FASTOPEN_CONNECT + 1, 1), -ENOPROTOOPT);
	CHECK_EQ(synack_getsockopt(st, s, SYNACK_TCP_FASTOPEN_CONNECT + 1, &v), -ENOPROTOOPT);
	t_listen(t);
	CHECK_EQ(synack_ioctl(st, t->listener, SYNACK_SIOCINQ, &v), -EINVAL);
	CHECK_EQ(synack_ioctl(st, t->listener, SYNACK_SIOCOUTQNSD, &v), -EINVAL);
	CHECK_EQ(synack_recvv(st, t->listener, &iov, 1, 0), -ENOTCONN);
	CHECK_EQ(synack_sendv(st, t->listener, &iov, 1, 0), -ENOTCONN);
	CHECK_EQ(synack_close(st, s), 0);
	t_free(t);
}

/* Unread data outlives the connection: FIONREAD still counts it, and a
 * vectored read takes it before the error. */
static void ioctl_and_recvv_after_a_reset(void)
{
	struct t *t = t_new();
	t_establish_passive(t);
	t_peer(t, "P.", 1001, T_ISS + 1, 30);
	t_drain(t);
	t_peer(t, "R.", 1031, T_ISS + 1, 0);
	CHECK_EQ(ioctl_(t, SYNACK_FIONREAD), 30);
	CHECK_EQ(ioctl_(t, SYNACK_SIOCOUTQ), 0);
	uint8_t x[20], y[20];
	struct synack_iovec in[2] = {{x, sizeof x}, {y, sizeof y}};
	CHECK_EQ(synack_recvv(t->st, t->sock, in, 2, SYNACK_MSG_PEEK), 30);
	CHECK_EQ(synack_recvv(t->st, t->sock, in, 2, 0), 30);
	CHECK(peer_bytes_are(x, 20, 1001));
	CHECK(peer_bytes_are(y, 10, 1021));
	CHECK_EQ(ioctl_(t, SYNACK_FIONREAD), 0);
	CHECK_EQ(synack_recvv(t->st, t->sock, in, 2, 0), -ECONNRESET);
	CHECK_EQ(synack_recvv(t->st, t->sock, in, 2, 0), 0);
	t_free(t);
}

int main(void)
{
	RUN(cork_holds_the_partial_segment_until_uncorked);
	RUN(cork_is_released_by_the_fin);
	RUN(cork_ceiling_is_the_persist_timer);
	RUN(msg_more_holds_for_that_send_only);
	RUN(first_segments_are_acked_at_once_then_delayed);
	RUN(quickacks_are_capped_by_the_window);
	RUN(request_response_delays_acks_onto_replies);
	RUN(tcp_quickack_sends_the_pending_ack);
	RUN(idle_longer_than_the_rto_restarts_quickacks);
	RUN(max_quickacks_zero_is_the_old_delayed_ack);
	RUN(unread_text_is_acked_by_the_read);
	RUN(unread_text_is_acked_by_the_timer_without_a_read);
	RUN(full_segments_are_acked_every_second_one_all_the_same);
	RUN(rcvlowat_above_one_acks_coalesced_text_at_once);
	RUN(ack_on_read_off_acks_coalesced_text_at_once);
	RUN(peek_offsets_follow_peeks_and_reads);
	RUN(rcvlowat_decides_readability);
	RUN(notsent_lowat_decides_writability);
	RUN(sendv_and_recvv_move_the_pieces_in_order);
	RUN(sendv_fills_the_buffer_piece_by_piece);
	RUN(rcvbuf_after_connect_is_cut_to_the_window_scale);
	RUN(api_errors_of_the_new_calls);
	RUN(ioctl_and_recvv_after_a_reset);
	return check_summary("test_sockapi");
}
