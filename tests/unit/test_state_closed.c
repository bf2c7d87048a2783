/*
 * CLOSED: segments that find no connection (RFC 9293 3.10.7.1) and the user
 * calls on a socket that has none yet.
 */
#include "script.h"

/* RFC 9293 3.10.7.1: no ACK bit -> <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>. */
static void closed_syn_gets_rst_ack(void)
{
	struct t *t = t_new();
	t_at(t, 0);
	t_peer(t, "S", 1000, 0, 0);
	t_expect(t, "R.", 0, 1001, 0);
	t_dropped(t, SYNACK_DROP_NO_SOCKET);
	t_counter(t, "OutRsts", 1);
	t_counter(t, "AttemptFails", 0);
	t_free(t);
}

/* SEG.LEN counts the SYN and the data it carries. */
static void closed_syn_with_data_gets_rst_ack_covering_it(void)
{
	struct t *t = t_new();
	t_peer(t, "S", 1000, 0, 10);
	t_expect(t, "R.", 0, 1011, 0);
	t_free(t);
}

/* RFC 9293 3.10.7.1: ACK bit on -> <SEQ=SEG.ACK><CTL=RST>. */
static void closed_ack_gets_rst_with_seq_of_ack(void)
{
	struct t *t = t_new();
	t_peer(t, ".", 1000, 5000, 0);
	t_expect(t, "R", 5000, 0, 0);
	t_dropped(t, SYNACK_DROP_NO_SOCKET);
	t_free(t);
}

static void closed_syn_ack_gets_rst_with_seq_of_ack(void)
{
	struct t *t = t_new();
	t_peer(t, "S.", 1000, 7777, 0);
	t_expect(t, "R", 7777, 0, 0);
	t_free(t);
}

static void closed_data_with_ack_gets_rst_with_seq_of_ack(void)
{
	struct t *t = t_new();
	t_peer(t, "P.", 1000, 4242, 100);
	t_expect(t, "R", 4242, 0, 0);
	t_free(t);
}

static void closed_data_without_ack_gets_rst_ack_covering_it(void)
{
	struct t *t = t_new();
	t_peer(t, "P", 1000, 0, 100);
	t_expect(t, "R.", 0, 1100, 0);
	t_free(t);
}

/* A FIN occupies a sequence number too. */
static void closed_fin_without_ack_gets_rst_ack_covering_it(void)
{
	struct t *t = t_new();
	t_peer(t, "F", 1000, 0, 0);
	t_expect(t, "R.", 0, 1001, 0);
	t_free(t);
}

static void closed_fin_with_ack_gets_rst_with_seq_of_ack(void)
{
	struct t *t = t_new();
	t_peer(t, "F.", 1000, 9000, 0);
	t_expect(t, "R", 9000, 0, 0);
	t_free(t);
}

/* RFC 9293 3.10.7.1: "An incoming segment containing a RST is discarded." */
static void closed_rst_is_dropped_silently(void)
{
	struct t *t = t_new();
	t_peer(t, "R", 1000, 0, 0);
	t_expect_nothing(t);
	t_dropped(t, SYNACK_DROP_CLOSED_RST);
	t_drops(t, SYNACK_DROP_CLOSED_RST, 1);
	t_counter(t, "OutRsts", 0);
	CHECK(t_trace_has_drop(t, SYNACK_DROP_CLOSED_RST));
	t_free(t);
}

static void closed_rst_ack_is_dropped_silently(void)
{
	struct t *t = t_new();
	t_peer(t, "R.", 1000, 5000, 0);
	t_expect_nothing(t);
	t_dropped(t, SYNACK_DROP_CLOSED_RST);
	t_free(t);
}

/* Once a connection is gone its 4-tuple is CLOSED again: segments get RSTs. */
static void closed_after_reset_segments_get_rst(void)
{
	struct t *t = t_new();
	t_establish_passive(t);
	t_peer(t, "R", 1001, 0, 0);
	t_expect_nothing(t);
	t_state(t, SYNACK_CLOSED);
	t_peer(t, "P.", 1001, T_ISS + 1, 10);
	t_expect(t, "R", T_ISS + 1, 0, 0);
	t_free(t);
}

/* A listener on another port does not answer for this one. */
static void closed_port_next_to_a_listener_gets_rst(void)
{
	struct t *t = t_new();
	t_listen(t);
	t->our_port = 81;
	t_peer(t, "S", 1000, 0, 0);
	t_expect(t, "R.", 0, 1001, 0);
	t_counter(t, "PassiveOpens", 0);
	t_free(t);
}

/* RFC 9293 3.10.1: OPEN active in CLOSED sends a SYN and enters SYN_SENT. */
static void closed_connect_sends_syn_and_enters_syn_sent(void)
{
	struct t *t = t_new();
	t_connect(t);
	t_expect(t, "S", T_ISS, 0, 0);
	t_expect_mss(t, T_MSS);
	t_expect_win(t, T_RCVBUF);
	t_state(t, SYNACK_SYN_SENT);
	t_counter(t, "ActiveOpens", 1);
	t_free(t);
}

/* RFC 9293 3.10.1: OPEN passive in CLOSED enters LISTEN and sends nothing. */
static void closed_listen_enters_listen_silently(void)
{
	struct t *t = t_new();
	t_listen(t);
	t_expect_nothing(t);
	struct synack_tcp_info info;
	CHECK_EQ(synack_tcp_info(t->st, t->listener, &info), 0);
	CHECK_EQ(info.state, SYNACK_LISTEN);
	t_free(t);
}

/* RFC 9293 3.10.2-3.10.4: SEND, RECEIVE, CLOSE with no connection: errors. */
static void closed_send_on_unconnected_socket_fails(void)
{
	struct t *t = t_new();
	t->sock = synack_socket(t->st);
	CHECK(t->sock >= 0);
	ssize_t r = synack_send(t->st, t->sock, "x", 1);
	CHECK(r == -ENOTCONN || r == -EPIPE);
	t_expect_nothing(t);
	t_free(t);
}

static void closed_recv_on_unconnected_socket_fails(void)
{
	struct t *t = t_new();
	t->sock = synack_socket(t->st);
	t_recv_err(t, -ENOTCONN);
	t_free(t);
}

static void closed_shutdown_on_unconnected_socket_fails(void)
{
	struct t *t = t_new();
	t->sock = synack_socket(t->st);
	CHECK_EQ(synack_shutdown(t->st, t->sock, SYNACK_SHUT_WR), -ENOTCONN);
	t_expect_nothing(t);
	t_free(t);
}

static void closed_close_of_fresh_socket_is_silent(void)
{
	struct t *t = t_new();
	t->sock = synack_socket(t->st);
	t_close(t);
	t_expect_nothing(t);
	t_free(t);
}

int main(void)
{
	RUN(closed_syn_gets_rst_ack);
	RUN(closed_syn_with_data_gets_rst_ack_covering_it);
	RUN(closed_ack_gets_rst_with_seq_of_ack);
	RUN(closed_syn_ack_gets_rst_with_seq_of_ack);
	RUN(closed_data_with_ack_gets_rst_with_seq_of_ack);
	RUN(closed_data_without_ack_gets_rst_ack_covering_it);
	RUN(closed_fin_without_ack_gets_rst_ack_covering_it);
	RUN(closed_fin_with_ack_gets_rst_with_seq_of_ack);
	RUN(closed_rst_is_dropped_silently);
	RUN(closed_rst_ack_is_dropped_silently);
	RUN(closed_after_reset_segments_get_rst);
	RUN(closed_port_next_to_a_listener_gets_rst);
	RUN(closed_connect_sends_syn_and_enters_syn_sent);
	RUN(closed_listen_enters_listen_silently);
	RUN(closed_send_on_unconnected_socket_fails);
	RUN(closed_recv_on_unconnected_socket_fails);
	RUN(closed_shutdown_on_unconnected_socket_fails);
	RUN(closed_close_of_fresh_socket_is_silent);
	return check_summary("test_state_closed");
}
