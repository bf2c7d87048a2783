/*
 * Issue 16 item 4: an idle established connection in its small form.
 * Quiet for a retransmission timeout (RFC 5681 4.1's idle), a connection
 * keeps only its TCB: the state that lives while data moves (struct
 * tcp_sender: congestion control, recovery, RACK, pacing, the minimum
 * RTT) rests compressed (tcp_snd_rest.c), and its buffers are gone.
 * Scripted: the connection drops to that form, and everything it does
 * afterwards works from the state it kept: tcp_info while idle (without
 * waking it), PAWS against the TS.Recent it kept, data both ways,
 * keepalive probes, and a fast retransmit from the recovery state it kept.
 * And the socket's rarely set options, out of line.
 */
#include "script.h"
#include "sock/sock.h"

/* The peer sends timestamps from now on: TSval val, TSecr ecr. */
static void peer_ts(struct t *t, uint32_t val, uint32_t ecr)
{
	t->peer_ts = 1;
	t->peer_tsval = val;
	t->peer_tsecr = ecr;
}

static struct tcb *conn(struct t *t)
{
	struct sock *so = sock_get(sock_layer_of(t->st), t->sock);
	CHECK(so != NULL && so->tcb != NULL);
	return so->tcb;
}

/* The small form: no sender's state awake, no buffer allocated. */
static int small_form(struct t *t)
{
	const struct tcb *tcb = conn(t);
	return !tcb->sender && tcb->snd_rest && !tcb->snd_buf.buf && !tcb->rcv_buf.buf;
}

/* A full segment's payload: the MSS less the timestamps option. */
#define SEG (T_MSS - 12)

/* A passive open with timestamps and SACK, then 10 bytes each way: the
 * connection has measured its RTT and has congestion state. */
static uint32_t established_with_data(struct t *t)
{
	t->peer_sack_ok = 1;
	peer_ts(t, 100, 0);
	t_listen(t);
	t_peer(t, "S", T_PEER_ISN, 0, 0);
	t_expect(t, "S.", T_ISS, T_PEER_ISN + 1, 0);
	uint32_t our = t_expect_ts(t, 1, 100);
	t_advance_ms(t, 10);
	peer_ts(t, 110, our);
	t_peer(t, ".", T_PEER_ISN + 1, T_ISS + 1, 0);
	t_accept(t);
	t_state(t, SYNACK_ESTABLISHED);
	peer_ts(t, 111, our);
	t_peer(t, "P.", T_PEER_ISN + 1, T_ISS + 1, 10);
	t_expect(t, ".", T_ISS + 1, T_PEER_ISN + 11, 0);
	t_recv(t, 10);
	t_send(t, 10);
	t_expect(t, "P.", T_ISS + 1, T_PEER_ISN + 11, 10);
	our = t_expect_ts(t, 1, 111);
	t_advance_ms(t, 10);
	peer_ts(t, 121, our);
	t_peer(t, ".", T_PEER_ISN + 11, T_ISS + 11, 0);
	t_expect_nothing(t);
	return our;
}

/* Quiet for longer than the RTO (1 s floor): the connection rests. */
static void go_idle(struct t *t)
{
	t_advance_ms(t, 1500);
	t_expect_nothing(t);
	CHECK(small_form(t));
}

/* The small form is smaller: the TCB of an idle endpoint is a 432-byte
 * malloc chunk (480 bytes, a 496-byte chunk, before), and its resting
 * sender's state a few words; tcp_info reads the same values at rest as
 * awake, without waking it. */
static void idle_connection_drops_to_the_small_form(void)
{
	struct t *t = t_new();
	established_with_data(t);
	CHECK(!small_form(t));
	struct synack_tcp_info busy = t_info(t);
	CHECK(busy.min_rtt > 0);
	go_idle(t);
	uint64_t rest = tcp_snd_rest_bytes(conn(t));
	printf("  idle endpoint: TCB %zu bytes, its sender's state at rest %llu\n",
	       sizeof(struct tcb), (unsigned long long)rest);
	CHECK(sizeof(struct tcb) <= 424);
	CHECK(rest > 0 && rest < sizeof(struct tcp_sender));
	struct synack_tcp_info quiet = t_info(t);
	CHECK(small_form(t));
	CHECK_EQ(quiet.min_rtt, busy.min_rtt);
	CHECK_EQ(quiet.srtt_us, busy.srtt_us);
	CHECK_EQ(quiet.cwnd, busy.cwnd);
	CHECK_EQ(quiet.ssthresh, busy.ssthresh);
	CHECK_EQ(quiet.rcv_nxt, busy.rcv_nxt);
	CHECK_EQ(quiet.state, SYNACK_ESTABLISHED);
	t_free(t);
}

/* RFC 7323 5: TS.Recent outlives the rest; an old duplicate after the
 * idle period is dropped by PAWS and answered, a newer segment taken. */
static void paws_after_idle(void)
{
	struct t *t = t_new();
	uint32_t our = established_with_data(t);
	go_idle(t);
	peer_ts(t, 120, our); /* older than TS.Recent (121) */
	t_peer(t, "P.", T_PEER_ISN + 11, T_ISS + 11, 10);
	t_dropped(t, SYNACK_DROP_PAWS);
	t_expect(t, ".", T_ISS + 11, T_PEER_ISN + 11, 0);
	t_expect_ts(t, 1, 121);
	t_counter(t, "PAWSEstab", 1);
	peer_ts(t, 2000, our);
	t_peer(t, "P.", T_PEER_ISN + 11, T_ISS + 11, 10);
	t_expect(t, ".", T_ISS + 11, T_PEER_ISN + 21, 0);
	t_expect_ts(t, 1, 2000);
	t_recv(t, 10);
	t_free(t);
}

/* Data both ways after the rest, from the sequence state kept; and the
 * connection rests again once quiet. */
static void data_both_ways_after_idle(void)
{
	struct t *t = t_new();
	uint32_t our = established_with_data(t);
	go_idle(t);
	t_send(t, 100);
	t_expect(t, "P.", T_ISS + 11, T_PEER_ISN + 11, 100);
	CHECK(!small_form(t));
	our = t_expect_ts(t, 1, 121);
	t_advance_ms(t, 10);
	peer_ts(t, 3000, our);
	t_peer(t, "P.", T_PEER_ISN + 11, T_ISS + 111, 20);
	t_expect(t, ".", T_ISS + 111, T_PEER_ISN + 31, 0);
	t_recv(t, 20);
	CHECK_EQ(t_info(t).bytes_acked, 111); /* the SYN counts, as Linux's */
	go_idle(t);
	/* And again from the peer's side first. */
	peer_ts(t, 5000, our);
	t_peer(t, "P.", T_PEER_ISN + 31, T_ISS + 111, 5);
	t_expect(t, ".", T_ISS + 111, T_PEER_ISN + 36, 0);
	t_recv(t, 5);
	CHECK_EQ(t_info(t).bytes_received, 35);
	t_free(t);
}

/* RFC 1122 4.2.3.6: keepalive probes go from the small form, and the
 * peer's answer keeps the connection. */
static void keepalive_while_idle(void)
{
	struct t *t = t_new();
	uint32_t our = established_with_data(t);
	CHECK_EQ(synack_setsockopt(t->st, t->sock, SYNACK_SO_KEEPALIVE, 1), 0);
	CHECK_EQ(synack_setsockopt(t->st, t->sock, SYNACK_TCP_KEEPIDLE, 5000), 0);
	CHECK_EQ(synack_setsockopt(t->st, t->sock, SYNACK_TCP_KEEPINTVL, 1000), 0);
	go_idle(t);
	/* Idle for TCP_KEEPIDLE since the last segment came (at 20 ms). */
	t_at(t, 5019);
	t_expect_nothing(t);
	t_at(t, 5020);
	t_expect(t, ".", T_ISS + 10, T_PEER_ISN + 11, 0);
	t_counter(t, "KeepAliveProbes", 1);
	peer_ts(t, 9000, our);
	t_peer(t, ".", T_PEER_ISN + 11, T_ISS + 11, 0);
	t_expect_nothing(t);
	t_state(t, SYNACK_ESTABLISHED);
	go_idle(t);
	t_counter(t, "KeepAliveProbes", 1);
	t_free(t);
}

/* Recovery's state (RFC 6582's recover, kept at rest) decides after the
 * idle period as it would have before: three duplicate ACKs retransmit. */
static void fast_retransmit_after_idle(void)
{
	struct t *t = t_new();
	uint32_t our = established_with_data(t);
	go_idle(t);
	t_send(t, 4 * SEG);
	for (int i = 0; i < 4; i++)
		t_expect(t, i == 3 ? "P." : ".", T_ISS + 11 + (uint32_t)i * SEG, T_PEER_ISN + 11,
		         SEG);
	t_advance_ms(t, 10);
	for (uint32_t i = 1; i <= 3; i++) {
		peer_ts(t, 4000 + i, our);
		t_peer_sack(t, 1, T_ISS + 11 + SEG, T_ISS + 11 + (1 + i) * SEG);
		t_peer(t, ".", T_PEER_ISN + 11, T_ISS + 11, 0);
	}
	t_expect(t, ".", T_ISS + 11, T_PEER_ISN + 11, SEG);
	t_counter(t, "FastRetrans", 1);
	t_free(t);
}

/* The socket of an idle endpoint is a 112-byte malloc chunk: the options
 * few applications set live out of line (struct sock_rare), allocated by
 * the first setsockopt of one and counted with the socket; an accepted
 * socket inherits the listener's SO_LINGER, SO_RCVLOWAT and
 * TCP_NOTSENT_LOWAT from there, and not SO_PEEK_OFF. */
static void rare_socket_options_out_of_line(void)
{
	struct t *t = t_new();
	struct synack_mem m0, m1;
	int v;
	CHECK(sizeof(struct sock) <= 104);
	t_listen(t);
	synack_memory(t->st, &m0);
	CHECK_EQ(synack_setsockopt(t->st, t->listener, SYNACK_SO_LINGER, 7), 0);
	CHECK_EQ(synack_setsockopt(t->st, t->listener, SYNACK_SO_RCVLOWAT, 100), 0);
	CHECK_EQ(synack_setsockopt(t->st, t->listener, SYNACK_TCP_NOTSENT_LOWAT, 5000), 0);
	CHECK_EQ(synack_setsockopt(t->st, t->listener, SYNACK_SO_PEEK_OFF, 3), 0);
	synack_memory(t->st, &m1);
	CHECK_EQ_U64(m1.sockets - m0.sockets, sizeof(struct sock_rare));
	t_peer(t, "S", T_PEER_ISN, 0, 0);
	t_expect(t, "S.", T_ISS, T_PEER_ISN + 1, 0);
	t_peer(t, ".", T_PEER_ISN + 1, T_ISS + 1, 0);
	t_accept(t);
	CHECK_EQ(synack_getsockopt(t->st, t->sock, SYNACK_SO_LINGER, &v), 0);
	CHECK_EQ(v, 7);
	CHECK_EQ(synack_getsockopt(t->st, t->sock, SYNACK_SO_RCVLOWAT, &v), 0);
	CHECK_EQ(v, 100);
	CHECK_EQ(synack_getsockopt(t->st, t->sock, SYNACK_TCP_NOTSENT_LOWAT, &v), 0);
	CHECK_EQ(v, 5000);
	CHECK_EQ(synack_getsockopt(t->st, t->sock, SYNACK_SO_PEEK_OFF, &v), 0);
	CHECK_EQ(v, -1);
	CHECK_EQ(synack_getsockopt(t->st, t->listener, SYNACK_SO_PEEK_OFF, &v), 0);
	CHECK_EQ(v, 3);
	t_free(t);
}

int main(void)
{
	RUN(idle_connection_drops_to_the_small_form);
	RUN(paws_after_idle);
	RUN(data_both_ways_after_idle);
	RUN(keepalive_while_idle);
	RUN(fast_retransmit_after_idle);
	RUN(rare_socket_options_out_of_line);
	return 0;
}
