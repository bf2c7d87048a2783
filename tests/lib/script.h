/*
 * Scripted segment tests: one real stack ("us", 10.0.0.1) and a remote peer
 * (10.0.0.2) that the test plays by hand, on a virtual clock.  A test reads
 * like a packet trace:
 *
 *	t_at(t, 0);
 *	t_peer(t, "S", 1000, 0, 0);            // < S seq 1000
 *	t_expect(t, "S.", T_ISS + 0, 1001, 0); // > S. our seq, ack 1001, len 0
 *	t_peer(t, ".", 1001, T_ISS + 1, 0);    // < .
 *	t_state(t, SYNACK_ESTABLISHED);
 *
 * Numbering: the peer's sequence numbers are absolute (the peer's ISN is
 * T_PEER_ISN = 1000 in the helpers).  Our sequence numbers are unpredictable
 * (RFC 6528), so everything that names one of ours -- the seq of a segment we
 * send, the ack of a segment the peer sends -- is written relative to our ISS,
 * which the harness learns from the first SYN we send.  T_ISS is that origin
 * (0).  Before we have sent a SYN (a RST from a port with no connection, for
 * instance) relative and absolute numbers are the same.
 *
 * Flags are written as tcpdump writes them: S F R P U E W and "." for ACK.
 * PSH is not compared (it is a hint, not protocol state).  A '*' in the
 * expected flags ("R*") leaves the ACK bit and the ack field uncompared.
 *
 * Strictness: every segment we send must be expected.  t_peer, t_at,
 * t_advance_ms, the socket calls and t_free report any segment still waiting
 * in the outbox as unexpected; t_drain discards them on purpose.
 *
 * Payload: a byte at peer sequence number s is t_pattern(s); t_recv checks
 * what the application reads against it.
 */
#ifndef SYNACK_TEST_SCRIPT_H
#define SYNACK_TEST_SCRIPT_H

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "synack/synack.h"
#include "wire/wire.h"
#include "wire/wire6.h"

#define T_US_ADDR 0x0a000001u   /* 10.0.0.1: the stack under test */
#define T_PEER_ADDR 0x0a000002u /* 10.0.0.2: the scripted peer */
#define T_LISTEN_PORT 80
#define T_PEER_PORT 40000
#define T_PEER_ISN 1000u
#define T_ISS 0u         /* origin of our sequence numbers (see above) */
#define T_ANY UINT64_MAX /* a seq, ack or len that is not compared */
#define T_MSS 1460
#define T_RCVBUF 65535

/*
 * The family switch (issue 14): with SYNACK_TEST_FAMILY=6 in the
 * environment the same scripts run over IPv6, us 2001:db8::1 and the peer
 * 2001:db8::2 (RFC 3849's documentation prefix).  The MTU is then 1520, so
 * that the MSS (the MTU less 60) is the T_MSS the scripts count in.  A
 * test that builds IPv4 datagrams by hand skips itself there
 * (t_ipv4_only).
 */
extern const uint8_t T_US_ADDR6[16], T_PEER_ADDR6[16];
int t_family6(void);
/* Whether the test may go on: 0 (and a note) under SYNACK_TEST_FAMILY=6. */
int t_ipv4_only(const char *what);
/* The network header length of the datagrams the harness builds: 20 or 40. */
size_t t_ip_hdr_len(void);
/* The peer's (peer 1) or our (0) endpoint at port, in the harness's family:
 * what a test connects or binds to so that it runs over both. */
struct synack_endpoint t_endpoint(int peer, uint16_t port);

struct t {
	struct synack_stack *st;
	struct synack_config cfg;
	uint64_t now;       /* microseconds */
	int listener, sock; /* -1 when none */
	uint16_t our_port, peer_port;
	uint32_t iss;
	int iss_known;
	uint16_t peer_wnd; /* window field of the peer's segments */
	uint16_t peer_mss; /* MSS option on the peer's SYNs; 0: none (default T_MSS) */
	/* RFC 7323 on the peer's segments: its window scale on SYNs (-1, the
	 * default: none) and, when peer_ts, timestamps on every segment. */
	int peer_wscale;
	int peer_ts;
	uint32_t peer_tsval, peer_tsecr;
	uint8_t peer_ecn;     /* IP ECN codepoint of the peer's datagrams (WIRE_ECN_*; default 0) */
	uint8_t peer_sack_ok; /* SACK-permitted on the peer's SYNs (default off) */
	/* SACK blocks on the peer's next segment (t_peer_sack), relative to T_ISS. */
	uint8_t peer_nsack;
	struct wire_sack peer_sack[WIRE_SACK_MAX];
	uint32_t rcv_seq; /* peer sequence number of the next byte t_recv reads */
	int last_input;   /* what synack_input returned for the last t_peer */
	/* The last segment we sent, as popped by t_expect. */
	uint8_t pkt[65536 + 128];
	struct wire_ip4 ip; /* IPv4 only: under the family switch, see seg's addresses */
	struct wire_tcp seg;
	struct wire_icmp icmp; /* the last ICMP message, as popped by t_expect_icmp */
	size_t pkt_len;        /* length of the datagram in pkt */
	/* Trace records read so far (printed when a test fails). */
	struct synack_trace *trace;
	size_t ntrace, trace_cap;
	/* TCP Fast Open (RFC 7413) on the peer's SYNs: WIRE_TFO_* in
	 * peer_tfo (default none), the cookie, the experimental kind. */
	uint8_t peer_tfo, peer_tfo_exp, peer_tfo_len;
	uint8_t peer_tfo_cookie[WIRE_TFO_COOKIE_MAX];
};

/* The harness configuration: defaults, 10.0.0.1, a fixed secret. */
void t_config(struct synack_config *cfg);
struct t *t_new(void);
struct t *t_new_with(const struct synack_config *cfg);
#define t_free(t) t_free_at(t, __FILE__, __LINE__)
void t_free_at(struct t *t, const char *file, int line);
/* synack_tcp_info of the connection under test; a failure fails the test. */
static inline struct synack_tcp_info t_info(struct t *t)
{
	struct synack_tcp_info i;
	memset(&i, 0, sizeof i);
	CHECK_EQ(synack_tcp_info(t->st, t->sock, &i), 0);
	return i;
}

static inline uint8_t t_pattern(uint32_t seq)
{
	return (uint8_t)('a' + seq % 26);
}

/* Time, in milliseconds since the test began.  Timers run in order. */
#define t_at(t, ms) t_at_at(t, __FILE__, __LINE__, ms)
#define t_advance_ms(t, ms) t_at_at(t, __FILE__, __LINE__, (t)->now / 1000 + (ms))
void t_at_at(struct t *t, const char *file, int line, uint64_t ms);
uint64_t t_now_ms(const struct t *t);

/* < the peer sends a segment: flags, seq (absolute), ack (relative to T_ISS), len. */
#define t_peer(t, flags, seq, ack, len) t_peer_at(t, __FILE__, __LINE__, flags, seq, ack, len)
int t_peer_at(struct t *t, const char *file, int line, const char *flags, uint32_t seq,
              uint32_t ack, uint32_t len);
/* Builds the datagram t_peer would send into buf (for corrupting); returns its length. */
size_t t_build(struct t *t, uint8_t *buf, size_t cap, const char *flags, uint32_t seq, uint32_t ack,
               uint32_t len);
/* Hands a raw datagram to the stack; returns synack_input's result. */
int t_input_raw(struct t *t, const uint8_t *pkt, size_t len);
/* Recomputes the TCP checksum of a datagram built by t_build (IP header of 20 bytes). */
void t_fix_tcp_csum(uint8_t *pkt, size_t len);
/* Recomputes the IP header checksum. */
void t_fix_ip_csum(uint8_t *pkt);

/* > we must send this segment next (seq relative to T_ISS, ack absolute). */
#define t_expect(t, flags, seq, ack, len) t_expect_at(t, __FILE__, __LINE__, flags, seq, ack, len)
int t_expect_at(struct t *t, const char *file, int line, const char *flags, uint64_t seq,
                uint64_t ack, uint64_t len);
/* The window field of the segment t_expect just matched. */
#define t_expect_win(t, win) t_expect_win_at(t, __FILE__, __LINE__, win)
void t_expect_win_at(struct t *t, const char *file, int line, uint32_t win);
/* The window scale option of the segment t_expect just matched (-1: none). */
#define t_expect_wscale(t, ws) t_expect_wscale_at(t, __FILE__, __LINE__, ws)
void t_expect_wscale_at(struct t *t, const char *file, int line, int ws);
/* The segment t_expect just matched carries timestamps echoing ecr (or
 * none, when ecr is T_ANY and has is 0); returns its TSval. */
#define t_expect_ts(t, has, ecr) t_expect_ts_at(t, __FILE__, __LINE__, has, ecr)
uint32_t t_expect_ts_at(struct t *t, const char *file, int line, int has, uint64_t ecr);
/* The IP ECN codepoint (WIRE_ECN_*) of the segment t_expect just matched. */
#define t_expect_ecn(t, ecn) t_expect_ecn_at(t, __FILE__, __LINE__, ecn)
void t_expect_ecn_at(struct t *t, const char *file, int line, int ecn);
/* The SACK blocks of the segment t_expect just matched: n pairs of
 * start, end (the peer's absolute numbers) follow, in order. */
#define t_expect_sack(t, ...) t_expect_sack_at(t, __FILE__, __LINE__, __VA_ARGS__)
void t_expect_sack_at(struct t *t, const char *file, int line, unsigned n, ...);
/* The peer's next segment carries these n SACK blocks (start, end pairs
 * relative to T_ISS, as acks are); consumed by that segment. */
void t_peer_sack(struct t *t, unsigned n, ...);
/* The MSS option of the segment t_expect just matched. */
#define t_expect_mss(t, mss) t_expect_mss_at(t, __FILE__, __LINE__, mss)
void t_expect_mss_at(struct t *t, const char *file, int line, int mss);
/* > we must send an ICMP message of this type and code next (to the peer,
 * from us, checksum verified by the wire parser); it stays in t->pkt,
 * t->ip and t->icmp for closer checks.  Returns 1 when it matched. */
#define t_expect_icmp(t, type, code) t_expect_icmp_at(t, __FILE__, __LINE__, type, code)
int t_expect_icmp_at(struct t *t, const char *file, int line, int type, int code);
/* > nothing is sent. */
#define t_expect_nothing(t) t_expect_nothing_at(t, __FILE__, __LINE__)
void t_expect_nothing_at(struct t *t, const char *file, int line);
/* Discards whatever we sent and returns how many segments that was. */
int t_drain(struct t *t);
/* Relearn our ISS from the next SYN we send (a new incarnation of the 4-tuple). */
void t_forget_iss(struct t *t);

/* State of the connection on our 4-tuple (socket, orphan or TIME_WAIT). */
#define t_state(t, state) t_state_at(t, __FILE__, __LINE__, state)
void t_state_at(struct t *t, const char *file, int line, int state);
int t_get_state(struct t *t);
/* Counter by its netstat name ("ChallengeAcks"), absolute value. */
#define t_counter(t, name, value) t_counter_at(t, __FILE__, __LINE__, name, value)
void t_counter_at(struct t *t, const char *file, int line, const char *name, uint64_t value);
uint64_t t_counter_get(struct t *t, const char *name);
/* stats.drops[reason] == value. */
#define t_drops(t, reason, value) t_drops_at(t, __FILE__, __LINE__, reason, value)
void t_drops_at(struct t *t, const char *file, int line, int reason, uint64_t value);
/* The last t_peer segment was dropped for this reason (synack_input's result). */
#define t_dropped(t, reason) t_dropped_at(t, __FILE__, __LINE__, reason)
void t_dropped_at(struct t *t, const char *file, int line, int reason);
/* The trace holds a SYNACK_TRACE_DROP record with this reason. */
int t_trace_has_drop(struct t *t, int reason);
/* Reads the stack's trace ring into t->trace. */
void t_trace_sync(struct t *t);

/* Application calls on t->listener / t->sock.  Each checks its result. */
#define t_listen(t) t_listen_at(t, __FILE__, __LINE__, 16)
#define t_listen_backlog(t, backlog) t_listen_at(t, __FILE__, __LINE__, backlog)
void t_listen_at(struct t *t, const char *file, int line, int backlog);
#define t_accept(t) t_accept_at(t, __FILE__, __LINE__)
void t_accept_at(struct t *t, const char *file, int line);
#define t_connect(t) t_connect_at(t, __FILE__, __LINE__)
void t_connect_at(struct t *t, const char *file, int line);
/* Sends len pattern bytes; expects the whole length to be accepted. */
#define t_send(t, len) t_send_at(t, __FILE__, __LINE__, len)
void t_send_at(struct t *t, const char *file, int line, size_t len);
/* Reads; expects exactly len bytes (0: end of stream) matching the peer's pattern. */
#define t_recv(t, len) t_recv_at(t, __FILE__, __LINE__, len)
void t_recv_at(struct t *t, const char *file, int line, size_t len);
/* Reads; expects the error err (-EAGAIN, -ECONNRESET ...). */
#define t_recv_err(t, err) t_recv_err_at(t, __FILE__, __LINE__, err)
void t_recv_err_at(struct t *t, const char *file, int line, int err);
/* close() / shutdown(SHUT_WR) / SO_LINGER 0 + close(). */
#define t_close(t) t_close_at(t, __FILE__, __LINE__)
void t_close_at(struct t *t, const char *file, int line);
#define t_shutdown_wr(t) t_shutdown_wr_at(t, __FILE__, __LINE__)
void t_shutdown_wr_at(struct t *t, const char *file, int line);
#define t_abort(t) t_abort_at(t, __FILE__, __LINE__)
void t_abort_at(struct t *t, const char *file, int line);
/* The socket's pending error (SO_ERROR) as the API reports it. */
#define t_sock_error(t, err) t_sock_error_at(t, __FILE__, __LINE__, err)
void t_sock_error_at(struct t *t, const char *file, int line, int err);

/*
 * Shortcuts to each state, all at the current time, with the peer's ISN
 * T_PEER_ISN (1000) and no payload exchanged:
 *   passive: listen, < S 1000, > S. ISS ack 1001, < . 1001 ISS+1, accept
 *   active:  connect, > S ISS, < S. 1000 ISS+1, > . ISS+1 ack 1001
 * After these RCV.NXT = 1001 and SND.NXT = ISS+1.  The closing helpers start
 * from a passive open (the listener stays open) and close our side with
 * close() (an orphan) unless named _shutdown.
 */
void t_to_syn_sent(struct t *t);
void t_to_syn_received(struct t *t);
void t_establish_passive(struct t *t);
void t_establish_active(struct t *t);
void t_to_fin_wait_1(struct t *t); /* > F. ISS+1 1001 */
void t_to_fin_wait_1_shutdown(struct t *t);
void t_to_fin_wait_2(struct t *t); /* < . 1001 ISS+2 */
void t_to_fin_wait_2_shutdown(struct t *t);
void t_to_closing(struct t *t);    /* < F. 1001 ISS+1, > . ISS+2 1002 */
void t_to_time_wait(struct t *t);  /* FIN_WAIT_2, < F. 1001 ISS+2, > . ISS+2 1002 */
void t_to_close_wait(struct t *t); /* < F. 1001 ISS+1, > . ISS+1 1002 */
void t_to_last_ack(struct t *t);   /* close: > F. ISS+1 1002 */

#endif
