/*
 * TCP Fast Open (RFC 7413), both sides, segment by segment: the cookie a
 * listener gives when asked, SYN data taken with a valid cookie (the
 * connection accepted before its handshake completes, the data delivered
 * once however often the SYN comes), refused with a bad one or past the
 * listener's queue length, alongside SYN cookies; the client's cookie
 * request, its SYN carrying the first send, its fallback when the SYN-ACK
 * acknowledges only the SYN, and its SYN sent again without data or cookie
 * after a timeout.
 */
#include <string.h>

#include "script.h"

#define QLEN 4

static struct t *server(uint32_t fastopen, int qlen)
{
	struct synack_config cfg;
	t_config(&cfg);
	cfg.fastopen = fastopen;
	struct t *t = t_new_with(&cfg);
	t->listener = synack_socket(t->st);
	CHECK(t->listener >= 0);
	struct synack_endpoint ep = {.addr = 0, .port = T_LISTEN_PORT};
	CHECK_EQ(synack_bind(t->st, t->listener, &ep), 0);
	CHECK_EQ(synack_setsockopt(t->st, t->listener, SYNACK_TCP_FASTOPEN, qlen), 0);
	CHECK_EQ(synack_listen(t->st, t->listener, 16), 0);
	return t;
}

/* A new client connection: another port, our ISS learned afresh. */
static void next_client(struct t *t, uint16_t port)
{
	t->peer_port = port;
	t->rcv_seq = T_PEER_ISN + 1;
	t_forget_iss(t);
}

static void peer_cookie(struct t *t, const uint8_t *cookie, uint8_t len)
{
	t->peer_tfo = WIRE_TFO_COOKIE;
	t->peer_tfo_len = len;
	memcpy(t->peer_tfo_cookie, cookie, len);
}

/* The TFO option of the segment t_expect just matched: WIRE_TFO_*, and the
 * cookie into out (16 bytes) when there is one. */
static int sent_tfo(struct t *t, uint8_t *out, uint8_t *len)
{
	if (out && t->seg.opts.tfo == WIRE_TFO_COOKIE) {
		memcpy(out, t->seg.opts.tfo_cookie, t->seg.opts.tfo_len);
		*len = t->seg.opts.tfo_len;
	}
	return t->seg.opts.tfo;
}

/* A SYN from port with len bytes of data gets a plain SYN-ACK: the data
 * not acknowledged, no cookie. */
static void plain_synack(struct t *t, uint16_t port, uint32_t len)
{
	next_client(t, port);
	t_peer(t, "S", T_PEER_ISN, 0, len);
	t_expect(t, "S.", T_ISS, T_PEER_ISN + 1, 0);
	CHECK_EQ(sent_tfo(t, NULL, NULL), WIRE_TFO_NONE);
}

/* Asks the listener for a cookie from port 50000 (a SYN with an empty
 * option), completes that handshake and returns the cookie. */
static uint8_t get_cookie(struct t *t, uint8_t *cookie)
{
	uint8_t len = 0;
	next_client(t, 50000);
	t->peer_tfo = WIRE_TFO_REQUEST;
	t_peer(t, "S", T_PEER_ISN, 0, 0);
	t_expect(t, "S.", T_ISS, T_PEER_ISN + 1, 0);
	CHECK_EQ(sent_tfo(t, cookie, &len), WIRE_TFO_COOKIE);
	CHECK_EQ(len, 8); /* Linux's length */
	t_peer(t, ".", T_PEER_ISN + 1, T_ISS + 1, 0);
	t_state(t, SYNACK_ESTABLISHED);
	t->peer_tfo = WIRE_TFO_NONE;
	return len;
}

static uint32_t sock_options(struct t *t, int s)
{
	struct synack_tcp_info info;
	CHECK_EQ(synack_tcp_info(t->st, s, &info), 0);
	return info.options;
}

/* RFC 7413 4.1.2: an empty option asks for a cookie; the SYN-ACK carries
 * it, the same for every connection from that address. */
static void server_gives_cookie_on_request(void)
{
	struct t *t = server(3, QLEN);
	uint8_t c1[16], c2[16], len = 0;
	get_cookie(t, c1);
	t_counter(t, "TCPFastOpenCookieReqd", 1);
	next_client(t, 50001);
	t->peer_tfo = WIRE_TFO_REQUEST;
	t_peer(t, "S", T_PEER_ISN, 0, 0);
	t_expect(t, "S.", T_ISS, T_PEER_ISN + 1, 0);
	CHECK_EQ(sent_tfo(t, c2, &len), WIRE_TFO_COOKIE);
	CHECK(memcmp(c1, c2, 8) == 0);
	t_counter(t, "TCPFastOpenCookieReqd", 2);
	t_counter(t, "TCPFastOpenPassive", 0);
	/* A SYN without the option gets none back. */
	t->peer_tfo = WIRE_TFO_NONE;
	plain_synack(t, 50002, 0);
	t_free(t);
}

/* RFC 7413 4.2.2: a valid cookie with data makes the connection at once:
 * accept() returns it in SYN_RECEIVED with the data readable, the SYN-ACK
 * acknowledges the data, and a retransmitted SYN delivers nothing twice. */
static void server_takes_syn_data_with_valid_cookie(void)
{
	struct t *t = server(3, QLEN);
	uint8_t cookie[16];
	uint8_t len = get_cookie(t, cookie);
	next_client(t, 50010);
	peer_cookie(t, cookie, len);
	t_peer(t, "S", T_PEER_ISN, 0, 100);
	t_expect(t, "S.", T_ISS, T_PEER_ISN + 101, 0);
	CHECK_EQ(sent_tfo(t, NULL, NULL), WIRE_TFO_NONE); /* the client has its cookie */
	t_state(t, SYNACK_SYN_RECEIVED);
	t_counter(t, "TCPFastOpenPassive", 1);
	t_counter(t, "TCPFastOpenPassiveFail", 0);
	/* The first connection (port 50000) waits in the queue first. */
	int first = synack_accept(t->st, t->listener, NULL);
	CHECK(first >= 0);
	t_accept(t);
	CHECK(sock_options(t, t->sock) & SYNACK_TCPI_OPT_SYN_DATA);
	CHECK(!(sock_options(t, first) & SYNACK_TCPI_OPT_SYN_DATA));
	t_recv(t, 100);
	/* The SYN again (our SYN-ACK lost): the SYN-ACK again, no data. */
	t_peer(t, "S", T_PEER_ISN, 0, 100);
	t_expect(t, "S.", T_ISS, T_PEER_ISN + 101, 0);
	t_recv_err(t, -EAGAIN);
	t_peer(t, ".", T_PEER_ISN + 101, T_ISS + 1, 0);
	t_state(t, SYNACK_ESTABLISHED);
	/* And again once established: a challenge ACK, still no data. */
	t_peer(t, "S", T_PEER_ISN, 0, 100);
	t_expect(t, ".", T_ISS + 1, T_PEER_ISN + 101, 0);
	t_recv_err(t, -EAGAIN);
	/* The connection goes on as any other. */
	t_peer(t, ".", T_PEER_ISN + 101, T_ISS + 1, 10);
	t_expect(t, ".", T_ISS + 1, T_PEER_ISN + 111, 0);
	t_recv(t, 10);
	t_counter(t, "TCPFastOpenPassive", 1);
	t_free(t);
}

/* RFC 7413 4.2.2: the connection made from SYN data answers before its
 * handshake completes, right behind the SYN-ACK; the ACK of both completes
 * it. */
static void server_answers_in_syn_received(void)
{
	struct t *t = server(3, QLEN);
	uint8_t cookie[16];
	uint8_t len = get_cookie(t, cookie);
	CHECK(synack_accept(t->st, t->listener, NULL) >= 0); /* port 50000's */
	next_client(t, 50015);
	peer_cookie(t, cookie, len);
	t_peer(t, "S", T_PEER_ISN, 0, 30);
	t_expect(t, "S.", T_ISS, T_PEER_ISN + 31, 0);
	t_accept(t);
	CHECK(synack_events(t->st, t->sock) & SYNACK_POLLOUT); /* as Linux's tcp_poll */
	t_recv(t, 30);
	t_send(t, 50);
	t_expect(t, "P.", T_ISS + 1, T_PEER_ISN + 31, 50);
	t_state(t, SYNACK_SYN_RECEIVED);
	t_peer(t, ".", T_PEER_ISN + 31, T_ISS + 51, 0);
	t_state(t, SYNACK_ESTABLISHED);
	t_expect_nothing(t);
	/* The SYN-ACK lost instead: it goes again on its timeout, then
	 * the data; the client's ACK of the SYN alone completes it. */
	next_client(t, 50016);
	t_peer(t, "S", T_PEER_ISN, 0, 30);
	t_expect(t, "S.", T_ISS, T_PEER_ISN + 31, 0);
	t_accept(t);
	t_send(t, 20);
	t_expect(t, "P.", T_ISS + 1, T_PEER_ISN + 31, 20);
	t_advance_ms(t, 1000);
	t_expect(t, "S.", T_ISS, T_PEER_ISN + 31, 0);
	t_peer(t, ".", T_PEER_ISN + 31, T_ISS + 1, 0);
	t_state(t, SYNACK_ESTABLISHED);
	t_drain(t);
	t_peer(t, ".", T_PEER_ISN + 31, T_ISS + 21, 0);
	t_drain(t);
	struct synack_tcp_info info;
	CHECK_EQ(synack_tcp_info(t->st, t->sock, &info), 0);
	CHECK_EQ(info.send_queue, 0);
	t_free(t);
}

/* RFC 7413 4.2.2: an invalid cookie: a normal handshake, the data not
 * acknowledged (the client sends it again), a valid cookie back. */
static void server_refuses_bad_cookie(void)
{
	struct t *t = server(3, QLEN);
	uint8_t bad[8] = {1, 2, 3, 4, 5, 6, 7, 8}, good[16], len = 0;
	next_client(t, 50020);
	peer_cookie(t, bad, 8);
	t_peer(t, "S", T_PEER_ISN, 0, 100);
	t_expect(t, "S.", T_ISS, T_PEER_ISN + 1, 0);
	CHECK_EQ(sent_tfo(t, good, &len), WIRE_TFO_COOKIE);
	CHECK(memcmp(good, bad, 8) != 0);
	t_counter(t, "TCPFastOpenPassiveFail", 1);
	t_counter(t, "TCPFastOpenPassive", 0);
	CHECK_EQ(synack_accept(t->st, t->listener, NULL), -EAGAIN);
	t_peer(t, ".", T_PEER_ISN + 1, T_ISS + 1, 100);
	t_state(t, SYNACK_ESTABLISHED);
	t_accept(t);
	t_recv(t, 100);
	CHECK(!(sock_options(t, t->sock) & SYNACK_TCPI_OPT_SYN_DATA));
	/* The cookie it gave works. */
	next_client(t, 50021);
	peer_cookie(t, good, len);
	t_drain(t);
	t_peer(t, "S", T_PEER_ISN, 0, 50);
	t_expect(t, "S.", T_ISS, T_PEER_ISN + 51, 0);
	t_counter(t, "TCPFastOpenPassive", 1);
	t_free(t);
}

/* RFC 7413 5.1: at most qlen connections made from SYN data wait for their
 * handshake; one more gets a normal handshake (its data not taken, no
 * cookie), counted; once one completes, TFO works again. */
static void server_queue_overflow(void)
{
	struct t *t = server(3, 1);
	uint8_t cookie[16];
	uint8_t len = get_cookie(t, cookie);
	next_client(t, 50030);
	peer_cookie(t, cookie, len);
	t_peer(t, "S", T_PEER_ISN, 0, 10);
	t_expect(t, "S.", T_ISS, T_PEER_ISN + 11, 0);
	uint32_t iss_a = t->iss;
	plain_synack(t, 50031, 10);
	t_counter(t, "TCPFastOpenListenOverflow", 1);
	t_counter(t, "TCPFastOpenPassive", 1);
	/* The first completes its handshake: the queue has room again. */
	t->peer_port = 50030;
	t->iss = iss_a;
	t_peer(t, ".", T_PEER_ISN + 11, T_ISS + 1, 0);
	t_state(t, SYNACK_ESTABLISHED);
	next_client(t, 50032);
	t_peer(t, "S", T_PEER_ISN, 0, 10);
	t_expect(t, "S.", T_ISS, T_PEER_ISN + 11, 0);
	t_counter(t, "TCPFastOpenPassive", 2);
	t_counter(t, "TCPFastOpenListenOverflow", 1);
	t_free(t);
}

/* Without the server bit, or without TCP_FASTOPEN on the listener, SYN
 * data is never taken and no cookie given; 0x200 takes data without one. */
static void server_off_and_no_cookie_mode(void)
{
	uint8_t cookie[8] = {0};
	struct t *t = server(1, QLEN);
	t->peer_tfo = WIRE_TFO_REQUEST;
	plain_synack(t, 50040, 10);
	t_free(t);

	t = server(3, 0);
	peer_cookie(t, cookie, 8);
	plain_synack(t, 50041, 10);
	t_counter(t, "TCPFastOpenPassiveFail", 0);
	t_free(t);

	t = server(0x203, QLEN);
	next_client(t, 50042);
	t_peer(t, "S", T_PEER_ISN, 0, 10);
	t_expect(t, "S.", T_ISS, T_PEER_ISN + 11, 0);
	t_accept(t);
	t_recv(t, 10);
	t_counter(t, "TCPFastOpenPassive", 0); /* no cookie was checked */
	t_free(t);
}

/* The experimental option (kind 254, magic 0xF989) is understood, and
 * answered in the same form. */
static void server_answers_experimental_option(void)
{
	struct t *t = server(3, QLEN);
	next_client(t, 50050);
	t->peer_tfo = WIRE_TFO_REQUEST;
	t->peer_tfo_exp = 1;
	t_peer(t, "S", T_PEER_ISN, 0, 0);
	t_expect(t, "S.", T_ISS, T_PEER_ISN + 1, 0);
	CHECK_EQ(sent_tfo(t, NULL, NULL), WIRE_TFO_COOKIE);
	CHECK_EQ(t->seg.opts.tfo_exp, 1);
	t_counter(t, "TCPFastOpenCookieReqd", 1);
	t_free(t);
}

/* SYN cookies answer every SYN (syncookies = 2), yet a valid TFO cookie
 * still makes its connection with its data. */
static void server_tfo_beside_syncookies(void)
{
	struct synack_config cfg;
	struct t *t = server(3, QLEN);
	uint8_t cookie[16];
	uint8_t len = get_cookie(t, cookie);
	t_free(t);
	t_config(&cfg);
	cfg.fastopen = 3;
	cfg.syncookies = 2;
	t = t_new_with(&cfg);
	t->listener = synack_socket(t->st);
	struct synack_endpoint ep = {.addr = 0, .port = T_LISTEN_PORT};
	CHECK_EQ(synack_bind(t->st, t->listener, &ep), 0);
	CHECK_EQ(synack_setsockopt(t->st, t->listener, SYNACK_TCP_FASTOPEN, QLEN), 0);
	CHECK_EQ(synack_listen(t->st, t->listener, 16), 0);
	/* The same secret (t_config's): the cookie is still good. */
	next_client(t, 50060);
	peer_cookie(t, cookie, len);
	t_peer(t, "S", T_PEER_ISN, 0, 20);
	t_expect(t, "S.", T_ISS, T_PEER_ISN + 21, 0);
	t_state(t, SYNACK_SYN_RECEIVED);
	t_counter(t, "SyncookiesSent", 0);
	t_accept(t);
	t_recv(t, 20);
	/* Without a TFO cookie: a SYN cookie. */
	next_client(t, 50061);
	t->peer_tfo = WIRE_TFO_NONE;
	t_peer(t, "S", T_PEER_ISN, 0, 20);
	t_expect(t, "S.", T_ISS, T_PEER_ISN + 1, 0);
	t_counter(t, "SyncookiesSent", 1);
	t_free(t);
}

/* The option on the wire (RFC 7413 4.1.1): written and read back in both
 * forms and every cookie length; an odd length is ignored, not the
 * segment. */
static void wire_option_round_trip(void)
{
	struct t *t = t_new();
	uint8_t pkt[256];
	struct wire_ip4 ip;
	struct wire_tcp w;
	for (int exp = 0; exp < 2; exp++)
		for (unsigned len = 0; len <= WIRE_TFO_COOKIE_MAX; len += 2) {
			if (len && len < WIRE_TFO_COOKIE_MIN)
				continue;
			t->peer_tfo = len ? WIRE_TFO_COOKIE : WIRE_TFO_REQUEST;
			t->peer_tfo_exp = (uint8_t)exp;
			t->peer_tfo_len = (uint8_t)len;
			for (unsigned i = 0; i < len; i++)
				t->peer_tfo_cookie[i] = (uint8_t)(0xa0 + i);
			size_t n = t_build(t, pkt, sizeof pkt, "S", 1000, 0, 0);
			CHECK_EQ(wire_ip4_parse(pkt, n, &ip), SYNACK_DROP_NONE);
			CHECK_EQ(wire_tcp_parse(&ip, &w), SYNACK_DROP_NONE);
			CHECK_EQ(w.hdr_len % 4, 0);
			CHECK_EQ(w.opts.tfo, t->peer_tfo);
			CHECK_EQ(w.opts.tfo_exp, exp);
			CHECK_EQ(w.opts.tfo_len, len);
			CHECK(memcmp(w.opts.tfo_cookie, t->peer_tfo_cookie, len) == 0);
		}
	/* Kind 34 with a 6-byte cookie, its length byte made odd (7): the
	 * option is skipped by its length and the segment still parses. */
	t->peer_tfo = WIRE_TFO_COOKIE;
	t->peer_tfo_exp = 0;
	t->peer_tfo_len = 6;
	t->peer_tfo_cookie[5] = 1; /* a NOP where the odd option ends */
	size_t n = t_build(t, pkt, sizeof pkt, "S", 1000, 0, 0);
	uint8_t *opt = pkt + WIRE_IP4_HDR_LEN + WIRE_TCP_HDR_LEN + 4; /* after the MSS */
	CHECK(opt[0] == 34 && opt[1] == 8);
	opt[1] = 7;
	t_fix_tcp_csum(pkt, n);
	CHECK_EQ(wire_ip4_parse(pkt, n, &ip), SYNACK_DROP_NONE);
	CHECK_EQ(wire_tcp_parse(&ip, &w), SYNACK_DROP_NONE);
	CHECK_EQ(w.opts.tfo, WIRE_TFO_NONE);
	t_free(t);
}

/* ------------------------------------------------------------------ */
/* Client.                                                             */

/* A TCP_FASTOPEN_CONNECT socket to the peer from a fresh port; returns
 * connect()'s result. */
static int tfo_connect(struct t *t)
{
	struct synack_endpoint peer = {.addr = T_PEER_ADDR, .port = t->peer_port}, local;
	t->sock = synack_socket(t->st);
	CHECK(t->sock >= 0);
	CHECK_EQ(synack_setsockopt(t->st, t->sock, SYNACK_TCP_FASTOPEN_CONNECT, 1), 0);
	int r = synack_connect(t->st, t->sock, &peer);
	CHECK_EQ(synack_getsockname(t->st, t->sock, &local), 0);
	t->our_port = local.port;
	t_forget_iss(t);
	return r;
}

/* The first connection asks for a cookie and learns it from the SYN-ACK;
 * the next connect() returns at once and its first send rides in the SYN
 * with the cookie, which the SYN-ACK acknowledges (one RTT saved). */
static uint8_t learn_cookie(struct t *t, const uint8_t *cookie)
{
	CHECK_EQ(tfo_connect(t), -EINPROGRESS);
	t_expect(t, "S", T_ISS, 0, 0);
	CHECK_EQ(sent_tfo(t, NULL, NULL), WIRE_TFO_REQUEST);
	peer_cookie(t, cookie, 8);
	t_peer(t, "S.", T_PEER_ISN, T_ISS + 1, 0);
	t_expect(t, ".", T_ISS + 1, T_PEER_ISN + 1, 0);
	t_state(t, SYNACK_ESTABLISHED);
	t->peer_tfo = WIRE_TFO_NONE;
	return 8;
}

static void client_sends_data_in_syn(void)
{
	struct t *t = t_new();
	const uint8_t cookie[8] = {0xab, 0xcd, 0xef, 1, 2, 3, 4, 5};
	uint8_t got[16], len = 0;
	learn_cookie(t, cookie);
	CHECK_EQ(synack_close(t->st, t->sock), 0);
	t_drain(t);
	t->peer_port++;
	CHECK_EQ(tfo_connect(t), 0); /* deferred: nothing sent yet */
	t_expect_nothing(t);
	t_state(t, SYNACK_SYN_SENT);
	CHECK(synack_events(t->st, t->sock) & SYNACK_POLLOUT);
	t_send(t, 300);
	t_expect(t, "S", T_ISS, 0, 300);
	CHECK_EQ(sent_tfo(t, got, &len), WIRE_TFO_COOKIE);
	CHECK_EQ(len, 8);
	CHECK(memcmp(got, cookie, 8) == 0);
	t_peer(t, "S.", T_PEER_ISN, T_ISS + 301, 0);
	t_expect(t, ".", T_ISS + 301, T_PEER_ISN + 1, 0);
	t_state(t, SYNACK_ESTABLISHED);
	t_counter(t, "TCPFastOpenActive", 1);
	t_counter(t, "TCPFastOpenActiveFail", 0);
	CHECK(sock_options(t, t->sock) & SYNACK_TCPI_OPT_SYN_DATA);
	/* More data follows in sequence. */
	t_send(t, 10);
	t_expect(t, "P.", T_ISS + 301, T_PEER_ISN + 1, 10);
	t_free(t);
}

/* The vectored send rides in the SYN too (the deferred SYN goes from the
 * push every send path shares, not from synack_send alone). */
static void client_sendv_data_rides_in_syn(void)
{
	struct t *t = t_new();
	const uint8_t cookie[8] = {7, 6, 5, 4, 3, 2, 1, 0};
	static const char a[100], b[200];
	struct synack_iovec iov[2] = {{(void *)a, sizeof(a)}, {(void *)b, sizeof(b)}};
	learn_cookie(t, cookie);
	t->peer_port++;
	CHECK_EQ(tfo_connect(t), 0);
	t_expect_nothing(t);
	CHECK_EQ(synack_sendv(t->st, t->sock, iov, 2, 0), 300);
	t_expect(t, "S", T_ISS, 0, 300);
	CHECK_EQ(sent_tfo(t, NULL, NULL), WIRE_TFO_COOKIE);
	t_free(t);
}

/* With the cookie learnt, a second connection: connect() returns at once
 * and the first send of n bytes goes in the SYN. */
static struct t *syn_with_data(const uint8_t *cookie, uint32_t n)
{
	struct t *t = t_new();
	learn_cookie(t, cookie);
	t->peer_port++;
	CHECK_EQ(tfo_connect(t), 0);
	t_send(t, n);
	t_expect(t, "S", T_ISS, 0, n);
	return t;
}

/* RFC 7413 4.2.1: the SYN-ACK acknowledges only the SYN (the server did not
 * take the data): the data goes again after the handshake. */
static void client_falls_back_when_data_not_acked(void)
{
	const uint8_t cookie[8] = {9, 9, 9, 9, 9, 9, 9, 9};
	struct t *t = syn_with_data(cookie, 200);
	t_peer(t, "S.", T_PEER_ISN, T_ISS + 1, 0);
	t_expect(t, "P.", T_ISS + 1, T_PEER_ISN + 1, 200);
	t_state(t, SYNACK_ESTABLISHED);
	t_counter(t, "TCPFastOpenActive", 0);
	t_counter(t, "TCPFastOpenActiveFail", 1);
	CHECK(!(sock_options(t, t->sock) & SYNACK_TCPI_OPT_SYN_DATA));
	t_peer(t, ".", T_PEER_ISN + 1, T_ISS + 201, 0);
	t_expect_nothing(t);
	t_free(t);
}

/* RFC 7413 4.1.3.1: the SYN with data times out: the next SYN goes without
 * data or cookie, and the data after the handshake. */
static void client_syn_timeout_retries_plain(void)
{
	const uint8_t cookie[8] = {7, 7, 7, 7, 7, 7, 7, 7};
	struct t *t = syn_with_data(cookie, 100);
	t_advance_ms(t, 1000); /* the initial RTO */
	t_expect(t, "S", T_ISS, 0, 0);
	CHECK_EQ(sent_tfo(t, NULL, NULL), WIRE_TFO_NONE);
	t_peer(t, "S.", T_PEER_ISN, T_ISS + 1, 0);
	t_expect(t, "P.", T_ISS + 1, T_PEER_ISN + 1, 100);
	t_state(t, SYNACK_ESTABLISHED);
	t_counter(t, "TCPFastOpenActive", 0);
	t_free(t);
}

/* The SYN-ACK of the first SYN comes after the plain SYN went again: it
 * still acknowledges the data, which is not sent again. */
static void client_late_synack_acks_syn_data(void)
{
	const uint8_t cookie[8] = {6, 6, 6, 6, 6, 6, 6, 6};
	struct t *t = syn_with_data(cookie, 100);
	t_advance_ms(t, 1000);
	t_expect(t, "S", T_ISS, 0, 0);
	t_peer(t, "S.", T_PEER_ISN, T_ISS + 101, 0);
	t_expect(t, ".", T_ISS + 101, T_PEER_ISN + 1, 0);
	t_state(t, SYNACK_ESTABLISHED);
	t_counter(t, "TCPFastOpenActive", 1);
	t_send(t, 10);
	t_expect(t, "P.", T_ISS + 101, T_PEER_ISN + 1, 10);
	t_free(t);
}

/* The client bit off: TCP_FASTOPEN_CONNECT is refused, as Linux does. */
static void client_needs_the_setting(void)
{
	struct synack_config cfg;
	t_config(&cfg);
	cfg.fastopen = 0;
	struct t *t = t_new_with(&cfg);
	int s = synack_socket(t->st);
	CHECK_EQ(synack_setsockopt(t->st, s, SYNACK_TCP_FASTOPEN_CONNECT, 1), -EOPNOTSUPP);
	CHECK_EQ(synack_setsockopt(t->st, s, SYNACK_TCP_FASTOPEN, -1), -EINVAL);
	CHECK_EQ(synack_setsockopt(t->st, s, SYNACK_TCP_FASTOPEN, 5), 0);
	int v = 0;
	CHECK_EQ(synack_getsockopt(t->st, s, SYNACK_TCP_FASTOPEN, &v), 0);
	CHECK_EQ(v, 5);
	cfg.fastopen = 0x800;
	char err[160];
	CHECK_EQ(synack_config_check(&cfg, err, sizeof err), -EINVAL);
	CHECK(strstr(err, "fastopen") != NULL);
	t_free(t);
}

int main(void)
{
	RUN(wire_option_round_trip);
	RUN(server_gives_cookie_on_request);
	RUN(server_takes_syn_data_with_valid_cookie);
	RUN(server_answers_in_syn_received);
	RUN(server_refuses_bad_cookie);
	RUN(server_queue_overflow);
	RUN(server_off_and_no_cookie_mode);
	RUN(server_answers_experimental_option);
	RUN(server_tfo_beside_syncookies);
	RUN(client_sends_data_in_syn);
	RUN(client_sendv_data_rides_in_syn);
	RUN(client_falls_back_when_data_not_acked);
	RUN(client_syn_timeout_retries_plain);
	RUN(client_late_synack_acks_syn_data);
	RUN(client_needs_the_setting);
	return check_summary("test_fastopen");
}
