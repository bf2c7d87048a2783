/*
 * LISTEN (RFC 9293 3.10.7.2): first check RST, second ACK, third SYN, fourth
 * anything else; and the user calls on a listening socket.
 */
#include "script.h"

static void listen_syn_gets_syn_ack_and_enters_syn_received(void)
{
	struct t *t = t_new();
	t_listen(t);
	t_at(t, 0);
	t_peer(t, "S", 1000, 0, 0);
	t_expect(t, "S.", T_ISS, 1001, 0);
	t_expect_mss(t, T_MSS);
	t_expect_win(t, T_RCVBUF);
	t_state(t, SYNACK_SYN_RECEIVED);
	t_counter(t, "PassiveOpens", 1);
	t_dropped(t, SYNACK_DROP_NONE);
	t_free(t);
}

/* RFC 9293 3.10.7.2, first: "An incoming RST segment could not be valid ... ignore it." */
static void listen_rst_is_ignored(void)
{
	struct t *t = t_new();
	t_listen(t);
	t_peer(t, "R", 1000, 0, 0);
	t_expect_nothing(t);
	t_dropped(t, SYNACK_DROP_LISTEN_RST);
	t_drops(t, SYNACK_DROP_LISTEN_RST, 1);
	t_peer(t, "R.", 1000, 5000, 0);
	t_expect_nothing(t);
	t_state(t, SYNACK_CLOSED);
	t_free(t);
}

/* RFC 9293 3.10.7.2, second: an ACK is bad in LISTEN -> <SEQ=SEG.ACK><CTL=RST>. */
static void listen_ack_gets_rst(void)
{
	struct t *t = t_new();
	t_listen(t);
	t_peer(t, ".", 1000, 5000, 0);
	t_expect(t, "R", 5000, 0, 0);
	t_dropped(t, SYNACK_DROP_LISTEN_ACK);
	t_state(t, SYNACK_CLOSED);
	t_free(t);
}

/* The ACK check comes before the SYN check: a SYN-ACK to a listener gets a RST. */
static void listen_syn_ack_gets_rst(void)
{
	struct t *t = t_new();
	t_listen(t);
	t_peer(t, "S.", 1000, 5000, 0);
	t_expect(t, "R", 5000, 0, 0);
	t_state(t, SYNACK_CLOSED);
	t_counter(t, "PassiveOpens", 0);
	t_free(t);
}

static void listen_data_with_ack_gets_rst(void)
{
	struct t *t = t_new();
	t_listen(t);
	t_peer(t, "P.", 1000, 5000, 20);
	t_expect(t, "R", 5000, 0, 0);
	t_free(t);
}

/* RFC 9293 3.10.7.2, fourth: "Any other control or text-bearing segment ... drop it." */
static void listen_data_without_flags_is_dropped(void)
{
	struct t *t = t_new();
	t_listen(t);
	t_peer(t, "", 1000, 0, 20);
	t_expect_nothing(t);
	t_dropped(t, SYNACK_DROP_LISTEN_NO_SYN);
	t_state(t, SYNACK_CLOSED);
	t_free(t);
}

static void listen_fin_without_ack_is_dropped(void)
{
	struct t *t = t_new();
	t_listen(t);
	t_peer(t, "F", 1000, 0, 0);
	t_expect_nothing(t);
	t_dropped(t, SYNACK_DROP_LISTEN_NO_SYN);
	t_free(t);
}

/* Each SYN from a new 4-tuple gets its own connection and its own ISS. */
static void listen_syns_from_two_ports_make_two_connections(void)
{
	struct t *t = t_new();
	t_listen(t);
	t_peer(t, "S", 1000, 0, 0);
	t_expect(t, "S.", T_ISS, 1001, 0);
	uint32_t iss1 = t->iss;
	t->peer_port = T_PEER_PORT + 1;
	t_forget_iss(t);
	t_peer(t, "S", 3000, 0, 0);
	t_expect(t, "S.", T_ISS, 3001, 0);
	CHECK(t->iss != iss1);
	t_state(t, SYNACK_SYN_RECEIVED);
	t->peer_port = T_PEER_PORT;
	t_state(t, SYNACK_SYN_RECEIVED);
	t_counter(t, "PassiveOpens", 2);
	t_free(t);
}

/*
 * A full accept queue refuses new SYNs silently (the peer retries), counted as
 * ListenOverflows and ListenDrops as Linux counts them.
 */
static void listen_backlog_full_drops_syn(void)
{
	struct t *t = t_new();
	t_listen_backlog(t, 1);
	t_peer(t, "S", 1000, 0, 0);
	t_expect(t, "S.", T_ISS, 1001, 0);
	t_peer(t, ".", 1001, T_ISS + 1, 0);
	t_state(t, SYNACK_ESTABLISHED);
	/* Not accepted: the queue of one is full. */
	t->peer_port = T_PEER_PORT + 1;
	t_forget_iss(t);
	t_peer(t, "S", 5000, 0, 0);
	t_expect_nothing(t);
	t_dropped(t, SYNACK_DROP_LISTEN_OVERFLOW);
	t_state(t, SYNACK_CLOSED);
	t_counter(t, "ListenOverflows", 1);
	t_counter(t, "ListenDrops", 1);
	/* Accepting makes room again. */
	t->peer_port = T_PEER_PORT;
	t_accept(t);
	t->peer_port = T_PEER_PORT + 1;
	t->sock = -1;
	t_peer(t, "S", 5000, 0, 0);
	t_expect(t, "S.", T_ISS, 5001, 0);
	t_free(t);
}

static void listen_accept_without_connection_would_block(void)
{
	struct t *t = t_new();
	t_listen(t);
	CHECK_EQ(synack_accept(t->st, t->listener, NULL), -EAGAIN);
	t_peer(t, "S", 1000, 0, 0);
	t_expect(t, "S.", T_ISS, 1001, 0);
	/* A connection still in SYN_RECEIVED is not ready either. */
	CHECK_EQ(synack_accept(t->st, t->listener, NULL), -EAGAIN);
	t_free(t);
}

/* RFC 9293 3.10.2: SEND in LISTEN without a foreign socket is an error. */
static void listen_send_fails(void)
{
	struct t *t = t_new();
	t_listen(t);
	CHECK(synack_send(t->st, t->listener, "x", 1) < 0);
	CHECK(synack_recv(t->st, t->listener, (char[4]){0}, 4, 0) < 0);
	t_expect_nothing(t);
	t_free(t);
}

/* RFC 9293 3.10.4: CLOSE in LISTEN deletes the TCB; the port is closed after. */
static void listen_close_then_syn_gets_rst(void)
{
	struct t *t = t_new();
	t_listen(t);
	CHECK_EQ(synack_close(t->st, t->listener), 0);
	t->listener = -1;
	t_expect_nothing(t);
	t_peer(t, "S", 1000, 0, 0);
	t_expect(t, "R.", 0, 1001, 0);
	t_free(t);
}

/* The listener keeps listening after a connection is accepted. */
static void listen_stays_listening_after_accept(void)
{
	struct t *t = t_new();
	t_establish_passive(t);
	struct synack_tcp_info info;
	CHECK_EQ(synack_tcp_info(t->st, t->listener, &info), 0);
	CHECK_EQ(info.state, SYNACK_LISTEN);
	t_free(t);
}

/*
 * The accept queue stays first-in first-out while children leave it from
 * either end: accept() takes the oldest; closing the listener resets the
 * rest newest first (its children list), each unlinked from the tail of the
 * doubly linked queue (before, each unlink walked the queue from its head:
 * O(backlog^2) for a full queue).
 */
static void listen_accept_queue_fifo_and_listener_close_resets_rest(void)
{
	struct t *t = t_new();
	t_listen_backlog(t, 8);
	for (int i = 0; i < 5; i++) {
		t->peer_port = (uint16_t)(T_PEER_PORT + i);
		t_forget_iss(t);
		t_peer(t, "S", 1000, 0, 0);
		t_expect(t, "S.", T_ISS, 1001, 0);
		t_peer(t, ".", 1001, T_ISS + 1, 0);
	}
	for (int i = 0; i < 2; i++) {
		struct synack_endpoint peer;
		int s = synack_accept(t->st, t->listener, &peer);
		CHECK(s >= 0);
		CHECK_EQ(peer.port, T_PEER_PORT + i);
		CHECK_EQ(synack_close(t->st, s), 0);
		t_drain(t); /* its FIN */
	}
	/* The listener, three queued, the two accepted in FIN-WAIT-1. */
	struct synack_stats before;
	synack_stats(t->st, &before);
	CHECK_EQ_U64(before.conns_live, 6);
	uint64_t rsts = t_counter_get(t, "OutRsts");
	CHECK_EQ(synack_close(t->st, t->listener), 0);
	t->listener = -1;
	/* Each queued one reset, once. */
	CHECK_EQ(t_drain(t), 3);
	CHECK_EQ_U64(t_counter_get(t, "OutRsts"), rsts + 3);
	struct synack_stats after;
	synack_stats(t->st, &after);
	CHECK_EQ_U64(after.conns_live, 2);
	t_free(t);
}

/*
 * An accepted socket inherits its listener's options, as Linux's clone of
 * the listener does: SO_REUSEADDR above all, so that a restarted server
 * can bind its port while the old connections live.  The listener closes;
 * a new one binds the port with the connection still ESTABLISHED.
 */
static void listen_accepted_socket_inherits_reuseaddr_so_new_listener_binds(void)
{
	struct t *t = t_new();
	t_listen(t);
	int opts[][2] = {
	    {SYNACK_SO_REUSEADDR, 1},    {SYNACK_SO_LINGER, 5},
	    {SYNACK_TCP_NODELAY, 1},     {SYNACK_SO_KEEPALIVE, 1},
	    {SYNACK_TCP_KEEPIDLE, 7000}, {SYNACK_TCP_KEEPINTVL, 3000},
	    {SYNACK_TCP_KEEPCNT, 4},     {SYNACK_TCP_USER_TIMEOUT, 9000},
	    {SYNACK_SO_RCVBUF, 20000},   {SYNACK_SO_SNDBUF, 30000},
	};
	size_t n = sizeof opts / sizeof opts[0];
	for (size_t i = 0; i < n; i++)
		CHECK_EQ(synack_setsockopt(t->st, t->listener, opts[i][0], opts[i][1]), 0);
	t_peer(t, "S", 1000, 0, 0);
	t_expect(t, "S.", T_ISS, 1001, 0);
	t_expect_win(t, 20000);
	t_peer(t, ".", 1001, T_ISS + 1, 0);
	t_accept(t);
	for (size_t i = 0; i < n; i++) {
		int v = -1;
		CHECK_EQ(synack_getsockopt(t->st, t->sock, opts[i][0], &v), 0);
		if (v != opts[i][1])
			check_fail(__FILE__, __LINE__, "option %d: %d, expected %d", opts[i][0], v,
			           opts[i][1]);
	}
	CHECK_EQ(synack_close(t->st, t->listener), 0);
	t->listener = -1;
	int s = synack_socket(t->st);
	struct synack_endpoint e = {.family = SYNACK_AF_INET, .addr = 0, .port = T_LISTEN_PORT};
	CHECK_EQ(synack_setsockopt(t->st, s, SYNACK_SO_REUSEADDR, 1), 0);
	CHECK_EQ(synack_bind(t->st, s, &e), 0);
	CHECK_EQ(synack_listen(t->st, s, 8), 0);
	t_expect_nothing(t);
	t_state(t, SYNACK_ESTABLISHED);
	t->listener = s;
	t_free(t);
}

/* Without SO_REUSEADDR on the old listener the accepted connection holds
 * the port, as on Linux: the new listener's bind is refused. */
static void listen_accepted_socket_without_reuseaddr_keeps_port(void)
{
	struct t *t = t_new();
	t_establish_passive(t);
	CHECK_EQ(synack_close(t->st, t->listener), 0);
	t->listener = -1;
	int s = synack_socket(t->st);
	struct synack_endpoint e = {.family = SYNACK_AF_INET, .addr = 0, .port = T_LISTEN_PORT};
	CHECK_EQ(synack_setsockopt(t->st, s, SYNACK_SO_REUSEADDR, 1), 0);
	CHECK_EQ(synack_bind(t->st, s, &e), -EADDRINUSE);
	CHECK_EQ(synack_close(t->st, s), 0);
	t_free(t);
}

/*
 * setsockopt(TCP_MAXSEG) on a listener is accepted (it used to be
 * -EISCONN) and applies to the connections it makes from then on: their
 * SYN-ACK announces it, and the accepted socket reports it.
 */
static void listen_maxseg_set_on_listener_is_announced_in_syn_ack(void)
{
	struct t *t = t_new();
	t_listen(t);
	CHECK_EQ(synack_setsockopt(t->st, t->listener, SYNACK_TCP_MAXSEG, 1000), 0);
	int v = 0;
	CHECK_EQ(synack_getsockopt(t->st, t->listener, SYNACK_TCP_MAXSEG, &v), 0);
	CHECK_EQ(v, 1000);
	t_peer(t, "S", 1000, 0, 0);
	t_expect(t, "S.", T_ISS, 1001, 0);
	t_expect_mss(t, 1000);
	t_peer(t, ".", 1001, T_ISS + 1, 0);
	t_accept(t);
	/* Like Linux's user_mss, it bounds what we send as well. */
	t_send(t, 1460);
	t_expect(t, ".", T_ISS + 1, 1001, 1000);
	t_expect(t, "P.", T_ISS + 1001, 1001, 460);
	t_free(t);

	/* A SYN cookie's SYN-ACK announces it too. */
	struct synack_config cfg;
	t_config(&cfg);
	cfg.syncookies = 2;
	t = t_new_with(&cfg);
	t_listen(t);
	CHECK_EQ(synack_setsockopt(t->st, t->listener, SYNACK_TCP_MAXSEG, 1200), 0);
	t_peer(t, "S", 1000, 0, 0);
	t_expect(t, "S.", T_ISS, 1001, 0);
	t_expect_mss(t, 1200);
	t_free(t);
}

int main(void)
{
	RUN(listen_syn_gets_syn_ack_and_enters_syn_received);
	RUN(listen_accepted_socket_inherits_reuseaddr_so_new_listener_binds);
	RUN(listen_accepted_socket_without_reuseaddr_keeps_port);
	RUN(listen_maxseg_set_on_listener_is_announced_in_syn_ack);
	RUN(listen_rst_is_ignored);
	RUN(listen_ack_gets_rst);
	RUN(listen_syn_ack_gets_rst);
	RUN(listen_data_with_ack_gets_rst);
	RUN(listen_data_without_flags_is_dropped);
	RUN(listen_fin_without_ack_is_dropped);
	RUN(listen_syns_from_two_ports_make_two_connections);
	RUN(listen_backlog_full_drops_syn);
	RUN(listen_accept_queue_fifo_and_listener_close_resets_rest);
	RUN(listen_accept_without_connection_would_block);
	RUN(listen_send_fails);
	RUN(listen_close_then_syn_gets_rst);
	RUN(listen_stays_listening_after_accept);
	return check_summary("test_state_listen");
}
