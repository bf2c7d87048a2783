/*
 * TCP: the transmission control block, TIME_WAIT records, and the entry
 * points of the state machine (RFC 9293 3.10).  One section per module:
 * tcp_tcb.c (lifecycle, state changes, demux tables), tcp_input.c (segment
 * arrival, RFC 9293 3.10.7), tcp_listen.c (LISTEN, the SYN and accept
 * queues, SYN cookies with tcp_cookie.c), tcp_timewait.c (TIME-WAIT
 * records), tcp_rcv.c (the receive side), tcp_opt.c (TCP options), then
 * output, timers, congestion control and the user calls.
 */
#ifndef SYNACK_TCP_H
#define SYNACK_TCP_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#include "core/bslab.h"
#include "core/env.h"
#include "core/hash.h"
#include "core/ring.h"
#include "core/slab.h"
#include "core/timer.h"
#include "net/net.h"
#include "tcp/seq.h"
#include "tcp/tcp_cc.h"
#include "wire/wire.h"

struct tw;

/* What TCP tells the socket that owns a connection (tcp_sock_event). */
enum tcp_sock_ev {
	/* The socket's readiness may have changed: it is queued for
	 * synack_event_next (err unused). */
	TCP_SOCK_READY,
	/* The connection is about to be freed, still intact: the socket lets
	 * go of it, keeps the unread data, and is told err (0 for a normal
	 * end, else the negative errno the application sees). */
	TCP_SOCK_DETACH,
};

/*
 * TCP's state in a stack: the demux tables, the timer wheel, the TIME_WAIT
 * records, the caches of its objects, its keys.  It begins with the
 * network layer's state (env.h says why) and knows nothing of sockets:
 * what happens to a connection reaches its socket through sock_event, the
 * one function the layer above gives it when the stack is assembled.
 */
/* Blocks kept for reuse by the zero-copy receive queue (tcp_rcvq.c). */
#define TCP_RX_SPARE 128

struct tcp_layer {
	struct net_layer net;

	/* Keys derived from cfg.secret, one per use, so that no two uses of
	 * the secret can be compared against each other. */
	uint8_t key_isn[16], key_hash[16], key_cookie[16];

	struct htable conns;     /* TCBs and TIME_WAIT records by 4-tuple */
	struct htable listeners; /* listening TCBs by (local address, port) */
	struct timer_queue timers;

	/* TIME_WAIT records, oldest first, and the one timer for the oldest
	 * live one; tw_records counts the dead ones still listed too. */
	struct tw *tw_oldest, *tw_youngest;
	struct timer_node tw_timer;
	uint64_t tw_records;

	/* Caches of fixed-size objects. */
	struct slab tcb_slab, tw_slab;
	struct slab child_slab; /* passive children's links until accepted */
	struct slab rare_slab;  /* connections' rarely used state (struct tcb_rare) */
	/* The sender's state beside each TCB (struct tcp_sender), from blocks
	 * (core/bslab.h: taken at the handshake, given back when the
	 * connection goes quiet, it must not leave holes between TCBs). */
	struct bslab sender_slab;
	struct slab txq_slab;      /* first blocks of transmit records (TCP_TXQ_FIRST_BYTES) */
	struct ring_pool buf_pool; /* rings' buffers of the pooled sizes (core/ring.h) */
	struct slab ofo_slab;      /* out-of-order segments, room for a whole datagram */
	/* The zero-copy receive queue's headers (tcp_rcvq.c): a connection's
	 * struct rcvq and each held block's struct rcv_ref, one size for both,
	 * so that holding a frame costs no malloc once the stack has warmed up. */
	struct slab rcvq_slab;
	uint64_t ofo_total; /* out-of-order bytes held by every connection (ofo_budget) */

	/* The socket layer's one entry for TCP's news (enum tcp_sock_ev). */
	void (*sock_event)(struct tcp_layer *tl, int sockfd, int ev, int err);

	/* Congestion control (CUBIC): cfg.congestion_control resolved once,
	 * at creation, to its place in tcp_cc.c's list. */
	uint8_t cc_default;

	/* TCP Fast Open (RFC 7413, tcp_fastopen.c): the key of the cookies
	 * we give, and the cookies we were given (allocated on first use). */
	uint8_t key_tfo[16];
	struct tcp_tfo_cache *tfo_cache;

	/* Memory (issue 16 item 4, idle endpoints): when the caches above
	 * next give back what a whole period left unused (pool_trim_ms,
	 * tcp_pool_tick). */
	uint64_t pool_trim_at;

	/* The zero-copy receive queue (issue 16 item 2, tcp_rcvq.c): the
	 * block holding the datagram being input when its caller lends it
	 * (synack_input_block), and whether a connection kept it. */
	const uint8_t *rx_block;
	uint32_t rx_block_size;
	uint8_t rx_block_kept;
	/* Blocks of that size the application has read, for the caller to
	 * lend again (synack_block_spare): a fresh 64 KiB block per datagram
	 * costs page faults where the allocator gives memory back, and the
	 * simulator hands them to the sending stack's datagram pool instead
	 * of a malloc per segment there and a free per segment here.  A list
	 * through the blocks themselves, rx_spare_n long, at most the blocks
	 * held at once (rx_held, its peak rx_held_peak since the last trim)
	 * or TCP_RX_SPARE; the fewest lying here through a pool_trim_ms
	 * period are freed at its end, as the caches' decay. */
	void *rx_spare;
	uint32_t rx_spare_n, rx_spare_low, rx_spare_size;
	uint32_t rx_held, rx_held_peak;
};
_Static_assert(offsetof(struct tcp_layer, net) == 0, "a layer begins with the one below (env.h)");

/* The one way TCP tells the socket layer about an event on the socket
 * sockfd, at the moment it happens. */
static inline void tcp_sock_event(struct tcp_layer *tl, int sockfd, int ev, int err)
{
	tl->sock_event(tl, sockfd, ev, err);
}

/* tcp_layer.c: the layer's state made (for a checked configuration, keys
 * set; 0 or -ENOMEM) and torn down (every connection and record freed,
 * nothing sent or traced), its timers run, and what it holds. */
int tcp_layer_init(struct tcp_layer *tl);
void tcp_layer_fini(struct tcp_layer *tl);
/* tcp_advance (tcp_timer.c's section) runs the due timers. */
static inline uint64_t tcp_next_deadline(const struct tcp_layer *tl)
{
	return timer_next(&tl->timers);
}
/* The caches' decay (pool_trim_ms, core/slab.h's slab_trim): at the end of
 * each period the objects that lay in a cache through all of it go back
 * to the allocator.  Run when the stack is entered, as net_pool_tick, never
 * a deadline of its own (an idle stack is not woken for it). */
void tcp_pool_trim(struct tcp_layer *tl);
static inline int tcp_pool_due(const struct tcp_layer *tl)
{
	return ENV(tl)->now >= tl->pool_trim_at;
}
/* Bytes in connections' buffers and reassembly queues (bytes_buffered). */
uint64_t tcp_bytes_buffered(const struct tcp_layer *tl);
/* Fills what TCP holds into *out: tcbs, syn_pending, time_wait, buffers,
 * cached; adds its tables and timers to other. */
void tcp_memory(const struct tcp_layer *tl, struct synack_mem *out);
/* Calls fn for each connection that ended while it waited in listener l's
 * accept queue: tcp_done keeps them there, in no table, until accept()
 * (fn may free c). */
void tcp_each_kept_for_accept(const struct tcb *l, void (*fn)(void *ctx, struct tcb *c), void *ctx);

/* node.kind: a TIME_WAIT record that left the table (after a reset, a new
 * SYN or a restart) waits as CONN_TW_DEAD until the list reaches it. */
enum conn_kind { CONN_TCB = 1, CONN_TW, CONN_TW_DEAD };
enum conn_hashed { HASHED_CONNS = 1, HASHED_LISTENERS };

/* What TCBs and TIME_WAIT records share: the demux node, whose key is the
 * local and remote address and port, node.kind an enum conn_kind and
 * node.table an enum conn_hashed (0 when in no table). */
struct conn_head {
	struct hnode node;
};

/* Per-connection options the application sets (socket options). */
struct tcp_opts {
	uint32_t ka_idle_ms;      /* TCP_KEEPIDLE */
	uint32_t ka_intvl_ms;     /* TCP_KEEPINTVL */
	uint32_t user_timeout_ms; /* TCP_USER_TIMEOUT, 0 = off */
	uint8_t ka_cnt;           /* TCP_KEEPCNT */
	uint8_t cc_algo;          /* TCP_CONGESTION: 1 + tcp_cc.c's index; 0 = congestion_control */
	/* Flags, one bit each, to keep the TCB and the socket small (issue
	 * 16 item 4; each is set from 0 or 1). */
	unsigned nodelay : 1;   /* TCP_NODELAY: no Nagle */
	unsigned keepalive : 1; /* SO_KEEPALIVE */
	/* Socket calls (issue 17 item 11): */
	unsigned cork : 1; /* TCP_CORK: a partial last segment waits (tcp_output.c) */
	/* SO_RCVLOWAT above 1: a read waits for more than the text there is,
	 * so no ACK waits for it (ack_on_read, tcp_timer.c). */
	unsigned lowat : 1;
};

/* An out-of-order segment held until the gap before it fills. */
struct ofo_seg {
	struct ofo_seg *next;
	uint32_t seq, len; /* payload sequence and length */
	uint8_t fin;       /* a FIN follows the payload */
	uint8_t big;       /* longer than the stack's MTU: malloc'd, not from ofo_slab */
	uint8_t data[];
};

/*
 * The transmission control block (RFC 9293 3.3.1), with the variable names
 * of the RFC.  Send sequence space:
 *
 *   iss      snd_una        snd_nxt              snd_una + snd_wnd
 *    | SYN |  acked  | sent, unacked | may send  |
 *
 * snd_buf holds the data bytes from snd_buf_seq on: sent-unacked, then not
 * yet sent.  When the application has closed its sending side, our FIN
 * occupies the sequence number just after the last byte (fin_seq()).
 */
struct tcb {
	/* The demux node, whose key is the connection's 4-tuple: t names the
	 * key (a listener's has raddr and rport 0, as its t always had). */
	union {
		struct conn_head h;
		struct {
			struct hnode *h_next_; /* h.node.next */
			struct tuple t;
		};
	};
	struct timer_node timer; /* the earliest of the deadlines below */
	struct tcp_layer *st;
	uint64_t state_since;
	int sockfd; /* owning socket, -1 for an orphan or a pending child */
	struct tcp_opts opts;
	uint8_t state; /* enum synack_state: changed only by tcp_set_state */
	/* Flags, one bit each. */
	unsigned passive : 1;    /* opened by a listener (SYN_RECEIVED returns to LISTEN) */
	unsigned fin_queued : 1; /* the application closed its sending side */
	unsigned rcv_fin : 1;    /* the peer's FIN has been received in sequence */
	unsigned in_acceptq : 1;
	unsigned orphan : 1;     /* the application closed the socket; the connection goes on */
	unsigned rtt_timing : 1; /* rtt_seq is being timed */
	/* The last send stopped at cwnd, not the peer's window or the app. */
	unsigned cwnd_limited : 1;
	unsigned cookie_sent : 1; /* a listener that ever answered with a SYN cookie */
	unsigned listening : 1;   /* a listener: ext.lsn, else ext.ch */
	/* An arriving segment asked for an ACK that no segment sent since has
	 * carried (set and consumed by tcp_input.c's exit block, cleared by
	 * every segment that leaves with the ACK bit). */
	unsigned ack_owed : 1;
	/* Memory for the transmit records ran out: txq is NULL and not a
	 * true picture of the flight until everything sent is acknowledged. */
	unsigned txq_untracked : 1;
	/* ECN (RFC 3168, tcp_ecn.c).  ecn_ok: both ends agreed in the
	 * handshake (until then: we asked, or the peer's SYN did and we
	 * agree).  ecn_demand_cwr: a CE mark arrived, our ACKs carry ECE until
	 * the peer's CWR.  ecn_queue_cwr: we reduced for an ECE, CWR goes on
	 * the next new data.  ecn_cwr: that reduction's round trip runs
	 * (until SND.UNA passes sender->ecn_cwr_end). */
	unsigned ecn_ok : 1;
	unsigned ecn_demand_cwr : 1;
	unsigned ecn_queue_cwr : 1;
	unsigned ecn_cwr : 1;
	/* SACK (RFC 2018): both ends sent SACK-permitted in their SYNs. */
	unsigned sack_ok : 1;
	/* TCP Fast Open (RFC 7413, tcp_fastopen.c).  Client: tfo_defer, the
	 * SYN waits for the first send (TCP_FASTOPEN_CONNECT with a cookie);
	 * tfo_req, our SYN carries the option (cookie or request);
	 * tfo_syn_data, it carries data too (snd_max is past it).  Server:
	 * tfo_child, made from SYN data and counted in its listener's queue
	 * until it leaves SYN-RECEIVED; tfo_cookie_out, our SYN-ACK carries
	 * a cookie (tfo_exp: in the experimental form the client used).
	 * tfo_used: data in the SYN was taken (TCPI_OPT_SYN_DATA). */
	unsigned tfo_defer : 1, tfo_req : 1, tfo_syn_data : 1;
	unsigned tfo_child : 1, tfo_cookie_out : 1, tfo_exp : 1, tfo_used : 1;
	/* Socket calls (issue 17 item 11; tcp_quickack.c).  more: the send
	 * being pushed had MSG_MORE, so its partial last segment waits.
	 * Linux's quick-ACK mode: quickacks ACKs still to send at once,
	 * pingpong once a reply followed our receipt within the delayed-ACK
	 * time (request/response: ACKs wait to ride on the reply),
	 * data_seen once any data came, sender->last_data_rcv when it last
	 * did.  Here among the flags, and quickacks in what was padding,
	 * to keep the TCB small (issue 16 item 4). */
	unsigned more : 1;
	unsigned pingpong : 1;
	unsigned data_seen : 1;
	uint8_t ka_probes; /* keepalives sent without an answer */
	uint8_t backoff;   /* consecutive retransmission timeouts without progress */
	uint8_t ca_state;  /* enum synack_ca_state */
	uint8_t dupacks;   /* consecutive duplicate ACKs */
	uint8_t cc_algo;   /* congestion control: the algorithm's place in tcp_cc.c's list */
	uint8_t rtx_kind;  /* what rtx_at is, while data is outstanding: enum tcp_rtx_kind */
	uint8_t quickacks;

	/* Send sequence variables. */
	uint32_t iss, snd_una, snd_nxt, snd_wnd, snd_wl1, snd_wl2;
	uint32_t snd_max; /* highest sequence number sent + 1 (snd_nxt goes back on a timeout) */
	uint32_t max_snd_wnd; /* largest window the peer offered (RFC 5961 5.2) */
	uint32_t snd_mss;     /* what we may put in one segment */
	uint32_t snd_buf_seq; /* sequence number of snd_buf's first byte */

	/* Receive sequence variables.  RCV.WND is not kept: tcp_rcv_window()
	 * computes it from the buffer. */
	uint32_t irs, rcv_nxt;
	uint32_t rcv_adv;   /* right edge of the window we last advertised */
	uint32_t rcv_mss;   /* what we announced */
	uint32_t ofo_bytes; /* payload bytes held in ofo */
	uint32_t rcv_acked; /* RCV.NXT we last acknowledged */

	struct ring snd_buf;
	struct ring rcv_buf; /* in-order data the application has not read */
	struct ofo_seg *ofo; /* out-of-order segments by sequence */
	uint64_t last_rcv;   /* when a segment last arrived (keepalive idleness) */

	/* Retransmission (RFC 6298). */
	uint32_t rto_us, srtt_us, rttvar_us;
	uint32_t rtt_seq;       /* segment being timed, valid while rtt_timing */
	uint32_t rtt_start;     /* low 32 bits of the time rtt_seq was sent (samples are 32-bit) */
	uint32_t total_retrans; /* segments sent again (32 bits, as Linux's tcpi_total_retrans) */
	uint64_t unacked_since; /* when the oldest unacknowledged data was sent (user timeout) */

	/* Congestion control (tcp_cc.c) and loss recovery (tcp_recovery.c). */
	uint32_t cwnd, ssthresh;
	/* The algorithm's state and the transmit records, out of line; NULL
	 * while snd_rest holds it compressed (tcp_snd_rest.c). */
	struct tcp_sender *sender;
	struct tcp_snd_rest *snd_rest;

	/* Deadlines; SYNACK_NEVER when off.  timer holds the earliest. */
	uint64_t rtx_at; /* retransmission of SYN, SYN-ACK, data or FIN */
	/* One deadline for FIN_WAIT_2 and CLOSE_WAIT, which exclude each
	 * other (the state says which of the two timeouts it is). */
	union {
		uint64_t fin2_at;       /* orphaned FIN_WAIT_2 */
		uint64_t close_wait_at; /* CLOSE_WAIT left open by the application */
	};
	uint64_t delack_at; /* delayed ACK (RFC 1122 4.2.3.2) */
	uint64_t ka_at;     /* next keepalive probe or keepalive deadline */
	/* When buffers kept at their grown size after draining go back
	 * (tcp_buf_kept, ring_consume_keep) if the connection is quiet. */
	uint64_t reclaim_at;

	/* Listener side, out of line: a listener's queues (listening set), or
	 * a passive child's links until it is accepted (NULL after). */
	union {
		struct tcp_listen *lsn;
		struct tcp_child *ch;
	} ext;
	struct tcb_rare *rare; /* allocated on first use (tcp_rare), else NULL */

	/* RFC 7323 (tcp_opt.c): window scaling, timestamps and PAWS.  The
	 * options in SYNACK_TCPI_OPT_* bits: what our SYN offers until the
	 * peer's SYN or SYN-ACK arrives, then what both sides agreed on.
	 * Last.ACK.sent is rcv_acked. */
	uint8_t options;
	uint8_t snd_wscale; /* Snd.Wind.Shift: the peer's, applied to SEG.WND */
	uint8_t rcv_wscale; /* Rcv.Wind.Shift: ours, applied to the window we send */
	/* SO_RCVBUF, SO_SNDBUF set by the application (TCP_LOCK_*): the
	 * buffer keeps that size, autotuning leaves it alone (as Linux). */
	uint8_t buf_locks;
	uint32_t ts_offset;    /* added to our clock in TSval (7.1) */
	uint32_t ts_recent;    /* TS.Recent */
	uint64_t ts_recent_at; /* when TS.Recent was set (5.5) */

	/* Issue 16 item 4 (idle endpoints): what changes only while data
	 * moves lives in struct tcp_sender, which an idle connection keeps
	 * compressed: recovery's recover and limited_tx, the minimum RTT,
	 * the pacing deadline, when data was last sent and last came, the
	 * bytes received, the largest segment received and the receiver's
	 * window-based RTT measure. */

	/* Buffer autotuning (tcp_autotune.c) and what STATUS reports of it. */
	uint32_t rcv_space;     /* bytes the application read in the last measured RTT */
	uint32_t rcv_space_seq; /* the first byte of the current measure */
	uint32_t rcv_space_at;  /* when the current measure began (low 32 bits of the time) */
	uint32_t rcv_rtt_us;    /* the round trip the receiver measured */
	uint64_t bytes_acked;   /* RFC 4898 tcpEStatsAppHCThruOctetsAcked */
};

/* What few connections ever use, allocated on first use from the stack's
 * rare_slab and freed with the TCB: the answers to misbehaving peers and
 * ICMP's soft error. */
struct tcb_rare {
	uint64_t oow_ack_at; /* when we last answered an unacceptable pure ACK, or SYNACK_NEVER */
	/* RFC 5961 section 7: challenge ACKs sent in the current one-second
	 * window, and when it began. */
	uint64_t chack_since;
	uint32_t chack_count;
	/* The last ICMP soft error (RFC 1122 4.2.3.9), a negative errno or 0:
	 * reported instead of -ETIMEDOUT if the connection times out. */
	int soft_err;
	/* SACK blocks we send (RFC 2018 4, RFC 2883; tcp_rcv.c): a sequence
	 * number inside each block we last reported, the most recent first
	 * (the latest arrival's in front), and a D-SACK block waiting to go
	 * first on the next ACK. */
	uint32_t sack_recent[WIRE_SACK_MAX];
	uint8_t sack_nrecent;
	uint8_t dsack_pending;
	struct wire_sack dsack;
	/* In-order text held by reference (issue 16 item 2, tcp_rcvq.c),
	 * after the receive ring's bytes; NULL when there is none. */
	struct rcvq *rq;
};

/* The connection's rare state, allocated now if it has none; NULL when
 * memory ran out (callers take the cautious course). */
struct tcb_rare *tcp_rare(struct tcb *tcb);
static inline int tcp_soft_err(const struct tcb *tcb)
{
	return tcb->rare ? tcb->rare->soft_err : 0;
}

/* A listener's children (pending and ready) and accept queue; allocated
 * with the listening TCB, so a connection pays nothing for it. */
struct tcp_listen {
	struct tcb *children, *acq_head, *acq_tail;
	uint64_t cookie_sent_at; /* when this listener last answered with a SYN cookie */
	uint32_t acq_len, syn_len, backlog;
	/* TCP Fast Open: TCP_FASTOPEN's queue length, and the children made
	 * from SYN data still in SYN-RECEIVED (tcp_fastopen.c). */
	uint32_t tfo_qlen, tfo_pending;
};

/* A passive child's place among its listener's children, from the SYN (or
 * cookie ACK) that made it until accept() or its end; from the stack's
 * child_slab. */
struct tcp_child {
	struct tcb *listener;            /* the listener that made us */
	struct tcb *prev, *next;         /* listener's children (pending and ready) */
	struct tcb *acq_prev, *acq_next; /* accept queue, oldest first */
	/* What a connection that ended while it waited in the accept queue
	 * (CLOSED there, tcp_done) tells its socket at accept(): 0 or -errno. */
	int err;
};

static inline struct tcp_listen *tcp_lsn(const struct tcb *tcb)
{
	return tcb->listening ? tcb->ext.lsn : NULL;
}
static inline struct tcp_child *tcp_child(const struct tcb *tcb)
{
	return tcb->listening ? NULL : tcb->ext.ch;
}
/* For a child not yet accepted: the listener that made it, else NULL. */
static inline struct tcb *tcp_listener_of(const struct tcb *tcb)
{
	const struct tcp_child *ch = tcp_child(tcb);
	return ch ? ch->listener : NULL;
}

_Static_assert(offsetof(struct tcb, t) == offsetof(struct tcb, h.node.key),
               "tcb->t is the demux key");
/* Issue 16 item 4: glibc's malloc chunks are the size plus 8 bytes of
 * header, in 16-byte steps: a TCB of 424 bytes is a chunk of 432 (480
 * bytes were one of 496).  It is 424 since what changes only while data
 * moves went to struct tcp_sender, which an idle connection keeps
 * compressed (tcp_snd_rest.c); a field added here takes the place of one
 * that moves out, or the TCB grows by a 16-byte step. */
_Static_assert(sizeof(struct tcb) <= 424, "struct tcb fits a 432-byte malloc chunk");

/*
 * A connection in TIME_WAIT, shrunk to what RFC 9293 needs to answer
 * stragglers (96 bytes: 64 before addresses became 128 bits wide for
 * IPv6 and each record kept the time of its last answer to a stray ACK);
 * the TCB and its buffers are gone.  Every record
 * lasts time_wait_ms from when it was made, so the records expire in the
 * order they were made: they form one list, oldest first, and the stack
 * arms one timer for the oldest instead of one per record.  A record that
 * ends early leaves the demux table at once and the list when it reaches
 * the front.  The window we advertised is kept in h.node.aux.
 */
struct tw {
	struct conn_head h;
	struct tw *older_next; /* the next younger record */
	uint32_t snd_nxt, rcv_nxt, iss, irs;
	uint64_t expires;
	/* When TIME_WAIT began, as expires minus this (saturating at about 71
	 * minutes, which only a peer restarting the record for that long
	 * reaches). */
	uint32_t since_before;
	/* The low 32 bits of the timer arming number the record took when it
	 * was made, so that its expiry breaks ties with other timers exactly
	 * as its own timer would have. */
	uint32_t order_lo;
	/* When the record last answered an unacceptable segment (a pure
	 * ACK under invalid_ratelimit_ms, a SYN or RST under
	 * challenge_ack_limit), in milliseconds of the clock modulo 2^31
	 * (24 days; the record was made "long ago").  Each record keeps its
	 * own, as Linux's TIME_WAIT sockets do: a time shared by every
	 * record would let an observer learn from one connection's answers
	 * whether another connection's record exists (the side channel of
	 * CVE-2016-5696, which made the challenge ACK limit per
	 * connection). */
	uint32_t oow_ack_ms : 31;
	/* RFC 7323: the connection used timestamps; ts_recent is its
	 * TS.Recent (PAWS in TIME_WAIT, RFC 6191's reopening). */
	uint32_t ts_ok : 1;
	uint32_t ts_recent;
};

_Static_assert(sizeof(struct tw) <= 96, "a TIME_WAIT record fits in 96 bytes");

/* The window field of the record's ACKs: what the connection last
 * advertised, as it was written on the wire. */
static inline uint16_t tcp_tw_rcv_wnd(const struct tw *tw)
{
	return tw->h.node.aux;
}
static inline uint64_t tcp_tw_since(const struct tw *tw)
{
	return tw->expires - tw->since_before;
}

/* States in which the peer may still send text: its FIN has not come
 * (RFC 9293 3.10.7.4, seventh step). */
static inline int tcp_receives_text(int state)
{
	return state == SYNACK_ESTABLISHED || state == SYNACK_FIN_WAIT_1 ||
	       state == SYNACK_FIN_WAIT_2;
}

/* tcp_tcb.c: lifecycle, state changes, demux */
struct tcb *tcp_tcb_new(struct tcp_layer *st);
/* Frees the listener's queues or the child's links (no unlinking), the
 * rare state and the sender's state. */
void tcp_tcb_ext_free(struct tcb *tcb);
/* The one path that frees a TCB: its timer, its place in the tables, its
 * buffers and reassembly queue, its out-of-line parts, its counts.  It
 * sends nothing and traces nothing, so stack teardown may use it too. */
void tcp_tcb_free(struct tcb *tcb);
void tcp_set_state(struct tcb *tcb, int to, int cause);
/* The keyed hash of a 4-tuple (SipHash under key_isn). */
uint64_t tcp_tuple_hash(const struct tcp_layer *st, const struct tuple *t);
/* RFC 6528's ISN for t, and in *ts_offset its timestamp offset (the hash's
 * other half, RFC 7323 7.1). */
uint32_t tcp_isn(struct tcp_layer *st, const struct tuple *t, uint32_t *ts_offset);
int tcp_tcb_hash(struct tcb *tcb, int listening);
void tcp_tcb_unhash(struct tcb *tcb);
/* Ends the connection: CLOSED, timers off, out of the tables, the socket
 * told err (0 for a normal end, TCP_SOCK_DETACH), and the TCB freed.  One
 * waiting in the accept queue of a listener its application still holds
 * stays there instead, CLOSED, with its unread data and err, until accept()
 * hands it out (tcp_accept) or the listener closes: as Linux does. */
void tcp_done(struct tcb *tcb, int cause, int err);
/* Takes the TCB out of every table and away from its socket (told err),
 * then frees it; its state is already CLOSED or TIME_WAIT. */
void tcp_tcb_release(struct tcb *tcb, int err);
/* Arms the connection's one timer for the earliest of its deadlines
 * (inline: every segment in and out ends with it, and most of the time the
 * timer is already where it should be).  fin2_at and close_wait_at share
 * their storage (one deadline for FIN_WAIT_2 or CLOSE_WAIT). */
static inline void tcp_rearm(struct tcb *tcb); /* below struct tcp_sender */
/* Our FIN's sequence number: just after the last byte of the send buffer
 * (once the application has closed; inline, asked on every ACK). */
static inline uint32_t tcp_fin_seq(const struct tcb *tcb)
{
	return tcb->snd_buf_seq + tcb->snd_buf.len;
}
static inline int tcp_fin_acked(const struct tcb *tcb)
{
	return tcb->fin_queued && seq_gt(tcb->snd_una, tcp_fin_seq(tcb));
}

/* Bytes sent and not yet acknowledged. */
static inline uint32_t tcp_cc_flight(const struct tcb *tcb)
{
	return tcb->snd_max - tcb->snd_una;
}

/* Grow only while cwnd is what limits sending: neither an application
 * that sends little nor the peer's window may inflate it (RFC 7661 2, as
 * Linux's tcp_is_cwnd_limited).  In slow start a flight of half the
 * window counts too, since ACKs come back before the window fills. */
static inline int tcp_cc_cwnd_limited(const struct tcb *tcb, uint32_t flight_before)
{
	int in_ss = tcb->cwnd < tcb->ssthresh;
	return tcb->cwnd_limited ||
	       (in_ss && 2 * (uint64_t)flight_before >= tcb->cwnd && tcb->cwnd < tcb->snd_wnd);
}
void tcp_trace_state(struct tcp_layer *st, const struct tuple *t, uint32_t iss, uint32_t irs,
                     int from, int to, int cause);
/* The SACK blocks of a segment into its trace record. */
static inline void tcp_trace_sack(struct tcp_layer *st, struct trace_rec *r,
                                  const struct wire_tcp_opts *o)
{
	r->sack_count = o->sack_count;
	if (!o->sack_count)
		return;
	struct trace_ext *x = trace_ext(ENV(st), r);
	for (unsigned i = 0; i < o->sack_count; i++) {
		x->sack[i].start = o->sack[i].start;
		x->sack[i].end = o->sack[i].end;
	}
}

/*
 * Segment arrival: what the steps of RFC 9293 3.10.7 learn about the
 * segment, and the verdict each returns.  A step never sends, ends a
 * connection or rearms a timer itself: it says so in its verdict, and
 * tcp_input.c's exit block does it, in this order: trace and count the
 * arrival, send, end the connection, rearm its timer.
 */
struct tcp_rx {
	const struct wire_tcp *w;
	uint32_t seq, ack, len; /* SEG.SEQ, SEG.ACK, SEG.LEN (SYN and FIN count) */
	uint32_t wnd;           /* SEG.WND, held in 32 bits (tcp_seg_wnd) */
	uint8_t flags;
	/* The text after trimming to the window. */
	const uint8_t *data;
	uint32_t data_seq, data_len;
	uint8_t fin;        /* the segment's FIN survives trimming */
	uint8_t fin_in_seq; /* a FIN (this one or a held one) is next in sequence */
	uint8_t need_ack;   /* the segment asks for an ACK */
	uint8_t ack_now;    /* the ACK may not be delayed (out of order, gap filled, FIN) */
	uint8_t dropped;    /* the drop reason, once decided */
	uint32_t iss, irs;  /* for the trace, once known */
	uint64_t trace_idx;
	/* What the verdict's effects apply to: a connection (or, for a
	 * cookie SYN-ACK, the listener), or a TIME-WAIT record. */
	struct tcb *tcb;
	struct tw *tw;
	/* The receive checksum fused with the copy (tcp_rcv_precopy):
	 * pre_len bytes of text verified into the receive buffer's tail as
	 * the buffer then was (pre_ring), delivered by committing them.
	 * Both are last: tcp_input clears what comes before them. */
	struct ring pre_ring;
	uint32_t pre_len;
};

/* A SYN's options into its trace record (the ladder and --json show
 * them in tcpdump's notation); other segments' are left out. */
static inline void tcp_trace_opts(struct tcp_layer *st, struct trace_rec *r, uint8_t flags,
                                  const struct wire_tcp_opts *o)
{
	if (!(flags & SYNACK_TH_SYN) || !o)
		return;
	struct trace_ext *x = trace_ext(ENV(st), r);
	r->opts = (uint8_t)((o->has_mss ? SYNACK_TRACE_OPT_MSS : 0) |
	                    (o->has_wscale ? SYNACK_TRACE_OPT_WSCALE : 0) |
	                    (o->sack_permitted ? SYNACK_TRACE_OPT_SACK_PERM : 0) |
	                    (o->has_ts ? SYNACK_TRACE_OPT_TS : 0));
	x->opt_mss = o->mss;
	x->opt_wscale = o->wscale;
	x->opt_ts_val = o->ts_val;
	x->opt_ts_ecr = o->ts_ecr;
	if (o->tfo) {
		r->opts |= o->tfo_exp ? SYNACK_TRACE_OPT_TFO_EXP : SYNACK_TRACE_OPT_TFO;
		x->opt_tfo_len = o->tfo == WIRE_TFO_COOKIE ? o->tfo_len : 0;
		memcpy(x->opt_tfo_cookie, o->tfo_cookie, x->opt_tfo_len);
	}
}

/* The connection an arriving segment belongs to, as we name it: our end
 * (its destination) first. */
static inline struct tuple tcp_seg_tuple(const struct wire_tcp *w)
{
	struct tuple t = {
	    .laddr = w->daddr, .raddr = w->saddr, .lport = w->dport, .rport = w->sport};
	return t;
}

static inline int tcp_rx_has(const struct tcp_rx *s, uint8_t f)
{
	return (s->flags & f) != 0;
}

enum tcp_action {
	TCP_V_CONTINUE, /* go on to the next step */
	TCP_V_ACCEPT,   /* processed; stop here */
	TCP_V_DROP,     /* dropped for the verdict's reason; stop here */
};

/* What the exit block sends for a verdict. */
enum tcp_send {
	TCP_SEND_NONE,
	TCP_SEND_ACK,            /* an ACK now (of the connection or the TIME-WAIT record) */
	TCP_SEND_OOW_ACK,        /* the ACK answering an unacceptable segment (of the connection
	                          * or the TIME-WAIT record), pure ACKs rate-limited */
	TCP_SEND_CHALLENGE_ACK,  /* RFC 5961's challenge ACK, rate-limited */
	TCP_SEND_RST_REPLY,      /* a reset in reply to the segment (RFC 9293 3.10.7.1 form) */
	TCP_SEND_RST_CONN,       /* a reset of the connection, <SEQ=SND.NXT> (3.10.5 form) */
	TCP_SEND_SYN_ACK,        /* a new connection's first SYN-ACK: timed, its timer started */
	TCP_SEND_SYN_AGAIN,      /* our SYN or SYN-ACK again (no longer timed: Karn) */
	TCP_SEND_COOKIE_SYN_ACK, /* the listener's stateless SYN-ACK, ISN s->iss */
	/* What the windows allow, which carries the acknowledgment the
	 * segment asked for; else that ACK on its own, now or delayed. */
	TCP_SEND_DATA,
};

/* How the connection ends after the sends, if it does. */
enum tcp_end {
	TCP_END_NONE,
	TCP_END_CLOSED,    /* tcp_done(cause, err) */
	TCP_END_TIME_WAIT, /* tcp_time_wait(cause) */
	TCP_END_TW,        /* the TIME-WAIT record ends (tcp_tw_free) */
};

struct tcp_verdict {
	uint8_t action; /* enum tcp_action */
	uint8_t send;   /* enum tcp_send */
	uint8_t reason; /* enum synack_drop, when dropped */
	uint8_t end;    /* enum tcp_end */
	uint8_t cause;  /* enum synack_cause of the end */
	uint8_t rearm;  /* rearm the connection's timer last */
	int16_t err;    /* with TCP_END_CLOSED: what the socket is told, 0 or -errno */
};

#define TCP_CONTINUE ((struct tcp_verdict){.action = TCP_V_CONTINUE})
#define TCP_ACCEPT ((struct tcp_verdict){.action = TCP_V_ACCEPT})
#define TCP_ACCEPT_SEND(snd) ((struct tcp_verdict){.action = TCP_V_ACCEPT, .send = TCP_SEND_##snd})
#define TCP_DROP(r) ((struct tcp_verdict){.action = TCP_V_DROP, .reason = SYNACK_DROP_##r})
#define TCP_DROP_SEND(snd, r)                                                                      \
	((struct tcp_verdict){                                                                     \
	    .action = TCP_V_DROP, .send = TCP_SEND_##snd, .reason = SYNACK_DROP_##r})

/* The verdict v, after whose sends the connection ends as end says. */
static inline struct tcp_verdict tcp_v_end(struct tcp_verdict v, int end, int cause, int err)
{
	v.end = (uint8_t)end;
	v.cause = (uint8_t)cause;
	v.err = (int16_t)err;
	return v;
}

/* tcp_input.c: segment arrival (RFC 9293 3.10.7) */
/* Returns 0, or the enum synack_drop reason the segment was dropped for. */
int tcp_input(struct tcp_layer *st, const struct wire_tcp *w);
/* Takes what a SYN or SYN-ACK says about the peer (RFC 9293 3.10.7.2-3):
 * its ISN, its window and, with tcp_opt_learn, its MSS. */
void tcp_learn_peer(struct tcb *tcb, const struct tcp_rx *s);
/* The handshake is complete: ESTABLISHED, with what starts there. */
void tcp_enter_established(struct tcb *tcb, int cause);

/* tcp_listen.c: LISTEN (RFC 9293 3.10.7.2), the SYN queue and the accept
 * queue, SYN cookies (RFC 4987) */
/* A listener's queues or a child's links: allocated; freed (no unlinking)
 * by tcp_listen_ext_free. */
int tcp_tcb_listen_init(struct tcb *tcb, uint32_t backlog);
int tcp_tcb_child_init(struct tcb *tcb);
void tcp_listen_ext_free(struct tcb *tcb);
/* Takes a child out of its listener's lists (pending or accept queue). */
void tcp_unlink_child(struct tcb *tcb);
/* The listener for a local address and port (a wildcard one as well). */
struct tcb *tcp_find_listener(struct tcp_layer *st, const struct addr *addr, uint16_t port);
/* The segment arrives at listener l.  A SYN reopening a TIME-WAIT
 * connection passes use_floor: the new ISN must be above iss_floor.  When
 * child is not NULL an ACK may complete a SYN cookie's handshake: the new
 * connection is returned there, with the verdict TCP_CONTINUE, and takes
 * the segment from there. */
struct tcp_verdict tcp_listen_segment_arrives(struct tcb *l, struct tcp_rx *s, uint32_t iss_floor,
                                              int use_floor, struct tcb **child);
/* The handshake of a child of l completes: it joins the accept queue. */
void tcp_acceptq_add(struct tcb *l, struct tcb *c);
/* The handshake completes while the accept queue is full: the verdict
 * (drop, or reset with abort_on_overflow), counted. */
struct tcp_verdict tcp_accept_queue_overflow(struct tcp_layer *st);
/* Sends listener l's SYN-ACK with the cookie s->iss (TCP_SEND_COOKIE_SYN_ACK). */
void tcp_listen_send_cookie(struct tcb *l, const struct tcp_rx *s);

/* tcp_cookie.c: SYN cookies (RFC 4987).  A cookie is the ISN of a stateless
 * SYN-ACK; check returns 0 and the MSS it carries, or -1. */
uint32_t tcp_cookie_make(const struct tcp_layer *st, const struct tuple *t, uint32_t peer_isn,
                         uint32_t peer_mss);
int tcp_cookie_check(const struct tcp_layer *st, const struct tuple *t, uint32_t peer_isn,
                     uint32_t cookie, uint32_t *mss);
/*
 * The options a cookie keeps in the low bits of the SYN-ACK's timestamp
 * (TSval), which the peer echoes in the TSecr of its ACK, as Linux's
 * cookie_init_timestamp and cookie_timestamp_decode do: the peer's window
 * scale (TCP_COOKIE_NO_WSCALE when it sent none), SACK-permitted, and ECN
 * agreed.  Only when the SYN carried a timestamp: otherwise the cookie
 * SYN-ACK declines them.
 */
#define TCP_COOKIE_NO_WSCALE 15u
struct tcp_cookie_opts {
	uint8_t wscale; /* the shift the peer announced (0..14), or TCP_COOKIE_NO_WSCALE */
	uint8_t sack_ok;
	uint8_t ecn_ok;
};
/* What a SYN asked for that this stack grants (the settings'). */
struct tcp_cookie_opts tcp_cookie_syn_opts(const struct tcp_layer *st, const struct wire_tcp *syn);
/* Our TSval ts_now with o in its low 6 bits, never later than ts_now. */
uint32_t tcp_cookie_ts_encode(uint32_t ts_now, struct tcp_cookie_opts o);
/* The options the echoed TSecr carries. */
struct tcp_cookie_opts tcp_cookie_ts_decode(uint32_t ts_ecr);
/* The TSval of a cookie SYN-ACK for the 4-tuple: our clock for it with o
 * encoded; and from the ACK's TSecr, o, or -1 when the echo is not one of
 * ours from a live cookie (the options are then not trusted). */
uint32_t tcp_cookie_ts_make(const struct tcp_layer *st, const struct tuple *t,
                            struct tcp_cookie_opts o);
int tcp_cookie_ts_check(const struct tcp_layer *st, const struct tuple *t, uint32_t ecr,
                        struct tcp_cookie_opts *o);

/*
 * tcp_fastopen.c: TCP Fast Open (RFC 7413).
 */
struct tcp_tfo_cache;
void tcp_fastopen_fini(struct tcp_layer *tl);
/* Bytes the client's cookie cache holds (synack_memory's other). */
uint64_t tcp_fastopen_bytes(const struct tcp_layer *tl);
/* Server.  The queue length of listener l (0: it takes no TFO). */
uint32_t tcp_fastopen_qlen(const struct tcb *l);
void tcp_fastopen_set_qlen(struct tcb *l, uint32_t qlen);
/* What listener l does with a SYN, TCP_TFO_* bits: make the connection
 * at once with the SYN's data, send a cookie in the SYN-ACK; counted. */
enum { TCP_TFO_COOKIE = 1, TCP_TFO_CHILD = 2 };
int tcp_fastopen_syn(struct tcb *l, const struct tcp_rx *s);
/* Child c was made from the SYN s (TCP_TFO_CHILD): takes its data (the
 * caller counts it in its listener's tfo_pending).  0, or -1 without
 * memory. */
int tcp_fastopen_child(struct tcb *c, const struct tcp_rx *s);
/* A tfo_child leaves SYN-RECEIVED (tcp_set_state). */
void tcp_fastopen_child_done(struct tcb *c);
/* The TFO option of our SYN or SYN-ACK, if it has one. */
void tcp_fastopen_opt(const struct tcb *tcb, struct wire_tcp_opts *o);
/* Client.  An active open with TCP_FASTOPEN_CONNECT, before its SYN: 1 when
 * the SYN waits for the first send (tfo_defer), else 0. */
int tcp_fastopen_connect(struct tcb *tcb);
/* The deferred SYN goes, with what of the send buffer fits. */
void tcp_fastopen_send_syn(struct tcb *tcb);
/* Data bytes our SYN carries. */
uint32_t tcp_fastopen_syn_len(const struct tcb *tcb);
/* Our SYN timed out: the next goes without data or cookie. */
void tcp_fastopen_syn_timeout(struct tcb *tcb);
/* The SYN-ACK s arrived (SND.UNA already SEG.ACK): the cookie kept, the
 * SYN's data acknowledged or to be sent again. */
void tcp_fastopen_synack(struct tcb *tcb, const struct tcp_rx *s);

/*
 * tcp_ecn.c: Explicit Congestion Notification (RFC 3168, as Linux runs it
 * with tcp_ecn).  Negotiated in the handshake (6.1.1); then new data goes
 * ECT(0), a CE mark on arriving data is echoed with ECE until the peer's
 * CWR (6.1.3), and an ECE reduces the window once per round trip, the next
 * new data carrying CWR (6.1.2).
 */
/* The ECN flags of our SYN (ECE and CWR: an ECN-setup SYN) or SYN-ACK
 * (ECE alone, when we agreed). */
uint8_t tcp_ecn_syn_flags(const struct tcb *tcb);
/* Whether a listener agrees to the ECN a SYN asks for (the setting, and a
 * SYN that is itself not ECN-marked). */
int tcp_ecn_syn_accept(const struct tcp_layer *st, const struct wire_tcp *syn);
/* The peer's SYN-ACK (or SYN, in a simultaneous open) in SYN-SENT: ECN
 * stays on only if it agrees. */
void tcp_ecn_syn_sent(struct tcb *tcb, const struct wire_tcp *w);
/* Text arrived on an ECN connection: CWR and CE (RFC 3168 6.1.3). */
void tcp_ecn_text(struct tcb *tcb, struct tcp_rx *s);
/* An acceptable ACK with ECE arrived on an ECN connection, before it is
 * processed (RFC 3168 6.1.2). */
void tcp_ecn_echo(struct tcb *tcb, const struct tcp_rx *s);
/* The codepoint of a segment of len bytes at seq (before snd_max moves),
 * not a SYN, and its ECE and CWR flags added to *flags.  Inline: every
 * segment asks, and a connection without ECN pays one test. */
static inline uint8_t tcp_ecn_out(struct tcb *tcb, uint32_t seq, uint32_t len, uint8_t *flags)
{
	if (!tcb->ecn_ok)
		return WIRE_ECN_NOT_ECT;
	/* RFC 3168 6.1.3: ECE on every ACK while a CE mark waits for CWR. */
	if (tcb->ecn_demand_cwr)
		*flags |= SYNACK_TH_ECE;
	/* RFC 3168 6.1.4 and 6.1.5, as Linux: pure ACKs and retransmitted
	 * data are not ECN-capable (a router could otherwise mark what must
	 * not be dropped for congestion); only new data is ECT(0). */
	if (len == 0 || seq_lt(seq, tcb->snd_max))
		return WIRE_ECN_NOT_ECT;
	/* RFC 3168 6.1.2: the first new data after a reduction carries CWR. */
	if (tcb->ecn_queue_cwr) {
		tcb->ecn_queue_cwr = 0;
		*flags |= SYNACK_TH_CWR;
	}
	return WIRE_ECN_ECT0;
}
/* SYNACK_TCPI_ECN_* for synack_tcp_info. */
uint32_t tcp_ecn_info(const struct tcb *tcb);

/* tcp_timewait.c: TIME-WAIT records (RFC 9293 3.10.7.4, RFC 1337, RFC 6191) */
/* Moves a connection into TIME_WAIT: a compact record replaces the TCB. */
void tcp_time_wait(struct tcb *tcb, int cause);
/* The segment arrives at a record: its verdict (s->tw the record it
 * applies to), or a listener's when a SYN reopens the connection. */
struct tcp_verdict tcp_tw_segment_arrives(struct tcp_layer *st, struct tw *tw, struct tcp_rx *s);
void tcp_tw_free(struct tcp_layer *st, struct tw *tw, int cause);
/* The peer's FIN came again: TIME_WAIT starts over (RFC 9293 3.10.7.4).
 * Returns the record that now stands for the connection. */
struct tw *tcp_tw_restart(struct tcp_layer *st, struct tw *tw);
/* Whether the record may answer an unacceptable segment now, at most once
 * per interval_ms (then it notes the time). */
int tcp_tw_may_answer(struct tcp_layer *st, struct tw *tw, uint32_t interval_ms);
/* RFC 5961 section 7 for a record: a challenge ACK, at most
 * challenge_ack_limit per second (one per 1000 / limit ms). */
void tcp_tw_challenge_ack(struct tcp_layer *st, struct tw *tw);
/* The oldest record's time came: it ends. */
void tcp_tw_expire(struct tcp_layer *st);
/* Frees every record (stack teardown). */
void tcp_tw_free_all(struct tcp_layer *st);

/* tcp_rcv.c: the receive side (RFC 9293 3.8.6, 3.10.7.4 seventh step) */
/* RCV.WND, the window we offer, in 32 bits. */
uint32_t tcp_rcv_window(const struct tcb *tcb);
/* Appends in-order text to the receive buffer; RCV.NXT advances.  Returns
 * the bytes taken (fewer when memory ran out). */
uint32_t tcp_rcv_deliver(struct tcb *tcb, const uint8_t *data, uint32_t len);
/*
 * The receive checksum fused with the copy (RFC 1071 2(C)): for a segment
 * whose payload sum the parser left pending (wire_tcp_parse_deferred) and
 * whose text would be delivered in order at once (SEG.SEQ = RCV.NXT, room
 * in the buffer's allocation), copies the text to the buffer's tail while
 * summing it, committing nothing.  Returns 1 (right: copied, s->pre_len
 * set), 0 (wrong) or -1 (not such a segment: the caller sums in place).
 */
int tcp_rcv_precopy(struct tcb *tcb, struct tcp_rx *s);
/* Delivers the in-order text s->data, s->data_len: commits what
 * tcp_rcv_precopy copied if the buffer is as it was, else copies it
 * (tcp_rcv_deliver).  Returns the bytes taken. */
uint32_t tcp_rcv_deliver_rx(struct tcb *tcb, const struct tcp_rx *s);
/* Holds out-of-order text (and a FIN after it): 0, -ENOBUFS past the
 * reassembly budget, -ENOMEM. */
int tcp_ofo_insert(struct tcb *tcb, uint32_t seq, const uint8_t *data, uint32_t len, int fin);
/* Delivers held text that RCV.NXT reached; returns 1 when a held FIN is
 * now next in sequence. */
int tcp_ofo_pull(struct tcb *tcb);
/* Frees the whole reassembly queue. */
void tcp_ofo_purge(struct tcb *tcb);

/*
 * tcp_rcvq.c: the zero-copy receive queue (issue 16 item 2), as Linux
 * keeps skbs on sk_receive_queue: in-order text left in the link's frame
 * block it came in (synack_input_block), read out once by recv().  Its
 * bytes come after the receive ring's: the ring is written only while the
 * queue is empty, and text arriving behind a held block is copied into
 * chunks of the queue instead (tcp_collapse's job).  Each piece is charged
 * to the receive buffer at its true size (Linux's truesize), and a block is
 * held only when the text fills at least half of it.
 */
struct rcv_ref {
	struct rcv_ref *next;
	void *block;         /* the frame block, freed once read; NULL for a copy */
	const uint8_t *data; /* the first unread byte */
	uint32_t len;        /* unread bytes */
	uint32_t room;       /* a copy's free bytes after them */
	uint32_t truesize;   /* the memory it holds */
};
struct rcvq {
	struct rcv_ref *head, *tail;
	uint32_t len;    /* unread bytes */
	uint32_t charge; /* the pieces' true sizes */
};
static inline const struct rcvq *tcp_rcvq(const struct tcb *tcb)
{
	return tcb->rare ? tcb->rare->rq : NULL;
}
/* Keeps the in-order text by reference when it lies in the lent block
 * and fills at least half of it; returns 1 if it did (RCV.NXT is the
 * caller's). */
int tcp_rcvq_hold(struct tcb *tcb, const uint8_t *data, uint32_t len);
/* Whether tcp_rcvq_hold would keep that text by its place and size alone
 * (the lent block, half of it filled, not kept yet). */
int tcp_rcvq_may_hold(const struct tcp_layer *st, const uint8_t *data, uint32_t len);
/* Copies in-order text behind what the queue holds; returns the bytes
 * taken (fewer when memory ran out). */
uint32_t tcp_rcvq_copy(struct tcb *tcb, const uint8_t *data, uint32_t len);
/* Copies up to n bytes from off bytes into the queue. */
uint32_t tcp_rcvq_peek(const struct rcvq *q, uint32_t off, void *out, uint32_t n);
/* Removes n (<= len) bytes from the front of the queue. */
void tcp_rcvq_consume(struct tcb *tcb, uint32_t n);
/* Frees the queue and what it holds. */
void tcp_rcvq_free(struct tcb *tcb);
/* A block of size bytes to lend (synack_block_spare), or NULL; and the
 * spares freed (all, or the ones unused through a trim period). */
void *tcp_rcvq_spare(struct tcp_layer *tl, uint32_t size);
void tcp_rcvq_spare_trim(struct tcp_layer *tl, int all);
/* Frees one held segment. */
void tcp_ofo_free(struct tcp_layer *st, struct ofo_seg *o);
/* SACK blocks for an ACK we send (RFC 2018 4): a D-SACK block first when
 * one waits (RFC 2883), then the held runs, the latest arrival's first,
 * as many as fit beside o's other options. */
void tcp_rcv_sack_fill(struct tcb *tcb, struct wire_tcp_opts *o);
/* [start, end) arrived again (RFC 2883 4): the next ACK reports it as a
 * D-SACK block.  ofo: a duplicate of held out-of-order data. */
void tcp_rcv_dsack(struct tcb *tcb, uint32_t start, uint32_t end, int ofo);
/* Whether our ACKs carry SACK blocks now. */
static inline int tcp_rcv_sacks(const struct tcb *tcb)
{
	return tcb->sack_ok && tcb->rare && (tcb->ofo || tcb->rare->dsack_pending);
}
static inline uint64_t tcp_ofo_bytes(const struct tcp_layer *st, const struct ofo_seg *o)
{
	return o->big ? sizeof(*o) + o->len : st->ofo_slab.size;
}

/*
 * tcp_opt.c: TCP options (RFC 9293 3.1, 3.7.1).  Parsing the option bytes
 * is the wire layer's; this is what they mean to a connection.  Windows
 * are held in 32 bits and meet the 16-bit header field only through the
 * two conversions below, where window scaling (RFC 7323 2.3) will apply
 * its shifts.
 */
/* The smallest MSS we send with, whatever a peer's option or an ICMP
 * message says: a tiny one must not make us loop over one-byte segments
 * (Linux's tcp_min_snd_mss, for the same reason, CVE-2019-11479). */
#define TCP_MIN_MSS 64u
/* What a connection's SYN will offer (options and our window scale, from
 * the settings and the largest receive buffer it may have): at an active
 * open, and for a listener's child.  The timestamp offset comes with the
 * ISN (tcp_isn). */
void tcp_opt_open(struct tcb *tcb);
/* Our window scale for tcb's receive buffer (a listener's: its children's). */
uint8_t tcp_opt_wscale_of(const struct tcb *tcb);
/* The options of our SYN or SYN-ACK (the MSS we can receive, and what
 * tcb->options holds: window scale, timestamps). */
void tcp_opt_syn(const struct tcb *tcb, struct wire_tcp_opts *o);
/* The options of any other segment: timestamps once agreed (RFC 7323 3.2). */
void tcp_opt_segment(const struct tcb *tcb, struct wire_tcp_opts *o);
/* The MSS the peer announced, 536 when it said nothing (RFC 9293 3.7.1). */
uint32_t tcp_opt_peer_mss(const struct wire_tcp *w);
/* Takes the peer's MSS from its SYN or SYN-ACK into snd_mss, and agrees
 * on window scaling and timestamps (both sides must have sent them). */
void tcp_opt_learn(struct tcb *tcb, const struct wire_tcp *w);
/* The bytes the agreed options take in every segment after the SYN
 * (12 for timestamps), which the data gives up (RFC 9293 3.7.1). */
static inline uint32_t tcp_opt_overhead(const struct tcb *tcb)
{
	return (tcb->options & SYNACK_TCPI_OPT_TIMESTAMPS) ? 12u : 0u;
}
/* RFC 7323 4 and 7.1: our timestamp clock, 1 ms ticks of the stack's
 * clock, and the offset a connection adds to it (half of the keyed hash of
 * its 4-tuple, the ISN's other half, so that the same 4-tuple always
 * counts on from where it was; tcp_isn hands it out with the ISN). */
static inline uint32_t tcp_ts_clock(const struct tcp_layer *st)
{
	return (uint32_t)(ENV(st)->now / 1000u);
}
uint32_t tcp_ts_offset(const struct tcp_layer *st, const struct tuple *t);
/* RFC 7323 5.5: TS.Recent set this long ago is no longer valid. */
#define TCP_PAWS_IDLE_US (24ull * 24 * 3600 * 1000000)
/* The largest window we can offer: the field's 65535 scaled by our shift. */
static inline uint32_t tcp_rcv_wnd_max(const struct tcb *tcb)
{
	return 65535u << tcb->rcv_wscale;
}
/* Our window as the header field of a segment with these flags carries it:
 * RFC 7323 2.2, never scaled on a SYN; tcp_rcv_window keeps it a
 * multiple of the unit (2.4). */
static inline uint16_t tcp_wnd_to_wire(const struct tcb *tcb, uint32_t wnd, uint8_t flags)
{
	if (flags & SYNACK_TH_SYN)
		return (uint16_t)(wnd > 65535u ? 65535u : wnd);
	return (uint16_t)(wnd >> tcb->rcv_wscale);
}
/* SEG.WND in 32 bits from the header field (RFC 7323 2.3: shifted by
 * Snd.Wind.Shift, except on a SYN). */
static inline uint32_t tcp_seg_wnd(const struct tcb *tcb, const struct wire_tcp *w)
{
	if (w->flags & SYNACK_TH_SYN)
		return w->wnd;
	return (uint32_t)w->wnd << tcb->snd_wscale;
}

/* tcp_autotune.c: the buffers grow as Linux's do, within rmem_max and
 * wmem_max, unless the application set their size. */
/* The first measure, once the connection is established. */
void tcp_autotune_init(struct tcb *tcb);
/* A segment arrived: data echoing our timestamp measures the round trip
 * the receiver sees. */
void tcp_rcv_rtt_sample(struct tcb *tcb, const struct wire_tcp *w);
/* Data arrived in sequence (RCV.NXT moved): the time one advertised
 * window took to arrive measures it too, in microseconds. */
void tcp_rcv_rtt_window(struct tcb *tcb);
/* The application read: once per round trip, the receive buffer grows to
 * twice what it read then (dynamic right-sizing). */
void tcp_rcv_space_adjust(struct tcb *tcb);
/* An ACK arrived: the send buffer grows to twice the congestion window. */
void tcp_snd_buf_expand(struct tcb *tcb);

/* tcp_err.c: ICMP errors about our segments (RFC 5927, RFC 5461, RFC 1191) */
struct net_err;
/* e is an error about a TCP segment from our address, as the network layer
 * translated it (src/net/net.h).  Returns 0, or the enum synack_drop reason
 * the error was dropped for. */
int tcp_net_error(struct tcp_layer *st, const struct net_err *e);
/* A link cannot reach raddr (its neighbour resolution failed): every
 * connection to it, or routed through it (a gateway), takes err (a
 * negative errno) as for an ICMP host unreachable.  Returns the number of
 * those connections. */
size_t tcp_unreachable(struct tcp_layer *st, const struct addr *raddr, int err);
/* What a connection that timed out reports: its soft error, else -ETIMEDOUT. */
int tcp_timeout_error(const struct tcb *tcb);

/* tcp_output.c */
void tcp_output(struct tcb *tcb);
void tcp_send_ack(struct tcb *tcb);
void tcp_send_syn(struct tcb *tcb);
/* The first SYN or SYN-ACK: timed (RFC 6298 2.2), the timer started. */
void tcp_send_syn_first(struct tcb *tcb);
/* The SYN or SYN-ACK again, not on a timeout: no longer timed (Karn). */
void tcp_send_syn_again(struct tcb *tcb);
void tcp_send_rst_for(struct tcb *tcb);
void tcp_retransmit(struct tcb *tcb);
void tcp_send_probe(struct tcb *tcb);
void tcp_challenge_ack(struct tcb *tcb);
/* RFC 9293 3.10.7.1: the reset for a segment that found no connection. */
void tcp_reset_reply(struct tcp_layer *st, const struct wire_tcp *w);
void tcp_tw_send_ack(struct tcp_layer *st, struct tw *tw);
/* Returns 0 when the segment left, -ENOMEM when it could not be made.
 * The datagram carries the ECN codepoint ecn (WIRE_ECN_*, RFC 3168 5). */
int tcp_send_raw_ecn(struct tcp_layer *st, const struct tuple *t, uint32_t seq, uint32_t ack,
                     uint8_t flags, uint16_t wnd, const struct wire_tcp_opts *opts,
                     const struct ring *buf, uint32_t buf_off, uint32_t len, uint32_t iss,
                     uint32_t irs, uint8_t ecn);
/* The same, not ECN-capable (Not-ECT): every segment but new data on an
 * ECN connection. */
static inline int tcp_send_raw(struct tcp_layer *st, const struct tuple *t, uint32_t seq,
                               uint32_t ack, uint8_t flags, uint16_t wnd,
                               const struct wire_tcp_opts *opts, const struct ring *buf,
                               uint32_t buf_off, uint32_t len, uint32_t iss, uint32_t irs)
{
	return tcp_send_raw_ecn(st, t, seq, ack, flags, wnd, opts, buf, buf_off, len, iss, irs,
	                        WIRE_ECN_NOT_ECT);
}

/* tcp_timer.c */
void tcp_timer_fire(struct tcp_layer *st, struct timer_node *n);
/* Runs every timer that is due (the stack calls this whenever time moves). */
static inline void tcp_advance(struct tcp_layer *tl)
{
	struct timer_node *n;
	while ((n = timer_pop_due(&tl->timers, ENV(tl)->now)) != NULL)
		tcp_timer_fire(tl, n);
}
void tcp_arm_rtx(struct tcb *tcb);
void tcp_rtt_sample(struct tcb *tcb, uint32_t rtt_us);
/* Schedules (or sends at once) the ACK for data just received, len bytes
 * of text in the segment that asked for it. */
void tcp_ack_later(struct tcb *tcb, int now, uint32_t len);
/* Whether the ACK of len bytes of in-order text, arrived as one segment,
 * waits for the application's read (ack_on_read; tcp_timer.c). */
int tcp_ack_on_read(const struct tcb *tcb, uint32_t len);
/* Two full-sized segments or more arrived and are not acknowledged, the
 * point where RFC 1122 4.2.3.2 wants an ACK (full-sized: the largest
 * segment the peer sent so far, up to our MSS, as Linux's rcv_mss; the
 * MSS before any). */
int tcp_two_segs_unacked(const struct tcb *tcb);
/* A buffer drained and kept its allocation (ring_consume_keep): give it
 * back if the connection stays quiet (tcp_timer.c). */
void tcp_buf_kept(struct tcb *tcb);
/* Recomputes the keepalive deadline after a segment arrived or an option changed. */
void tcp_keepalive_reset(struct tcb *tcb);

/* Sends the earliest unacknowledged segment again, snd_nxt unchanged. */
void tcp_retransmit_head(struct tcb *tcb);
/* Sends [seq, seq + len) again (a FIN with it when it ends the data);
 * returns the sequence space sent. */
uint32_t tcp_retransmit_at(struct tcb *tcb, uint32_t seq, uint32_t len);

/* tcp_cc.c: congestion control, the registry and the signals (tcp_cc.h) */
/* The initial window and the algorithm, once the connection is synchronized. */
void tcp_cc_init(struct tcb *tcb);

/* tcp_recovery.c: loss recovery (RFC 5681 3.2, RFC 6582, RFC 3042) */
void tcp_recovery_init(struct tcb *tcb);
/* An ACK of new data (SND.UNA has advanced): end of a duplicate run,
 * NewReno full or partial acknowledgment; then congestion control's signal. */
void tcp_recovery_ack(struct tcb *tcb, const struct tcp_cc_ack *ack);
/* A duplicate ACK (RFC 5681 section 2) arrived. */
void tcp_recovery_dupack(struct tcb *tcb);
/* The retransmission timer expired: with data outstanding, go-back-N. */
void tcp_recovery_timeout(struct tcb *tcb);
/* About to send after a pause: RFC 5681 4.1 restart window.  After an
 * idle period longer than the RTO the ACK clock is gone; congestion
 * control restarts from a small window.  The test is inline (every
 * tcp_output asks it), the restart is not. */
void tcp_recovery_idle_restart(struct tcb *tcb);
static inline void tcp_recovery_idle_check(struct tcb *tcb); /* below struct tcp_sender */

/*
 * tcp_snd.c: the send side.  The send ring holds the data bytes from
 * snd_buf_seq on; beside it, one transmit record per segment sent, for
 * the sequence space [snd_una, snd_max) the peer has not acknowledged:
 * data and our FIN, never the SYN.  Records are contiguous and ordered,
 * oldest first; a retransmission marks the records it covers (splitting
 * one it covers only in part).  They are allocated on the first send and
 * freed when everything sent is acknowledged, so an idle connection holds
 * none.  Nothing decides from them yet; the SACK scoreboard (RFC 6675) and
 * RACK (RFC 8985 section 6.1's per-segment state) will.
 */
enum {
	TXREC_RETRANS = 1 << 0, /* sent more than once (RFC 8985 Segment.retransmitted) */
	TXREC_SACKED = 1 << 1,  /* reported by SACK (RFC 6675 2, "SACKed") */
	TXREC_LOST = 1 << 2,    /* deemed lost (RFC 6675 IsLost) and not sent again since */
	/* Delivery rate (tcp_rate.c): sent while the application left the
	 * pipe unfilled (P.is_app_limited). */
	TXREC_APP_LIMITED = 1 << 3,
	/* RACK after a timeout (RFC 8985 6.3): deemed lost, then sent
	 * again; pipe counts it once (RFC 6675 SetPipe: IsLost was true). */
	TXREC_WAS_LOST = 1 << 4,
};
struct tcp_txrec {
	uint64_t xmit_at; /* when last (re)transmitted (RFC 8985 Segment.xmit_ts) */
	uint32_t seq;     /* the first sequence number */
	uint16_t len;     /* sequence space: data bytes, and one for a FIN */
	uint8_t flags;    /* TXREC_* */
	uint8_t spare;
	/* Delivery rate (tcp_rate.c, Linux's skb tx fields): when last sent,
	 * the connection's delivered bytes (P.delivered), the time of its
	 * last delivery (P.delivered_time) and the send time of the first
	 * segment of the sampling interval (P.first_sent_time); times as the
	 * low 32 bits of the clock (intervals are differences). */
	uint32_t dlv, dlv_time, first_tx;
	/* tsoff: for a segment sent exactly twice, the microseconds from its
	 * first transmission to the second (0: never sent again, sent more
	 * often, or unknown), so that an ACK the original drew can be timed
	 * from the original (tcp_rack_delivered).  In the padding. */
	uint32_t first_gap;
};
_Static_assert(sizeof(struct tcp_txrec) == 32, "a transmit record stays 32 bytes");
/* A ring of records, allocated as one block. */
struct tcp_txq {
	uint32_t head, count, cap; /* cap is a power of two */
	uint32_t spare;
	struct tcp_txrec rec[];
};
/* Records in the first block, from the stack's txq_slab: the default
 * initial window (init_cwnd 10, RFC 6928) fits; a larger init_cwnd or
 * flight grows the block, doubling, from the allocator. */
#define TCP_TXQ_FIRST_CAP 16u
#define TCP_TXQ_FIRST_BYTES (sizeof(struct tcp_txq) + TCP_TXQ_FIRST_CAP * sizeof(struct tcp_txrec))
/*
 * What the sender keeps beside the TCB: congestion control's private area
 * (tcp_cc.h) and the records' ring.  From the stack's sender_slab, taken
 * when the connection will send: at an active open, or when a passive one
 * becomes synchronized (the ACK of our SYN-ACK, or a SYN cookie's ACK).
 * It is out of line so that the TCB stays at its size: listeners and
 * half-open children never use it, and an inline area of TCP_CC_PRIV_SIZE
 * would grow every TCB by that much.
 */
struct tcp_sender {
	_Alignas(uint64_t) unsigned char cc_priv[TCP_CC_PRIV_SIZE];
	struct tcp_txq *txq; /* NULL while nothing is outstanding */
	/* ECN (tcp_ecn.c): SND.MAX when we last reduced the window for an
	 * ECE; later ECEs are answered once SND.UNA is past it (RFC 3168
	 * 6.1.2: at most one reduction per round trip). */
	uint32_t ecn_cwr_end;
	/* The SACK scoreboard's sums over the records (tcp_sack.c), kept
	 * current by tcp_sack_update: bytes SACKed, deemed lost (and not
	 * sent again), sent again and still outstanding, and RFC 6675's
	 * pipe. */
	uint32_t sacked, lost, retrans_out, pipe;
	/* RFC 6937 PRR during SACK recovery: RecoverFS, prr_delivered,
	 * prr_out. */
	uint32_t recover_fs, prr_delivered, prr_out;
	/* Bytes newly SACKed or cumulatively acknowledged by the ACK being
	 * processed (RFC 6937 DeliveredData). */
	uint32_t delivered;
	/* RACK (RFC 8985 6.1, tcp_rack.c): the send time and end of the
	 * most recently sent segment delivered, its RTT, the minimum RTT,
	 * whether reordering was seen, the reordering window's multiplier
	 * and the SND.MAX at which D-SACK last grew it (6.2 step 4). */
	uint64_t rack_xmit_ts;
	uint32_t rack_end_seq, rack_rtt, rack_min_rtt;
	uint8_t rack_reordering_seen, rack_reo_wnd_mult;
	uint8_t rack_reo_wnd_persist; /* recoveries the grown window still lasts (6.2 step 4) */
	uint8_t rack_valid;           /* rack_xmit_ts and rack_end_seq hold a delivery */
	/* RACK.fack (the highest end delivered) now and before the ACK
	 * being processed, for reordering detection (6.2 step 3);
	 * rack_prior_valid is 2 once that ACK's reordering is counted. */
	uint32_t rack_fack, rack_fack_prior;
	uint8_t rack_fack_valid, rack_prior_valid;
	uint8_t tlp_retrans; /* the probe in flight sent old data again (TLP.is_retrans) */
	uint8_t tlp_dsack;   /* a D-SACK came during the probe's episode */
	uint32_t rack_dsack_round;
	/* TLP (RFC 8985 7): a probe is in flight (tlp_on), and SND.MAX
	 * after it (TLP.end_seq). */
	uint32_t tlp_end_seq;
	uint8_t tlp_on;
	/* The reordering this connection has seen, in segments: RFC 6675's
	 * DupThresh for it (Linux's tp->reordering), raised when a delivery
	 * or an undo shows the network reorders further than assumed
	 * (tcp_reordering_update); 0 while it is the reordering setting, so
	 * that a connection that never saw any rests with nothing stored. */
	uint16_t reordering;
	uint64_t reo_at; /* when RACK's reordering timer is due, 0 for none (6.3) */
	/* Undo (RFC 3708-style, Linux's undo_marker): cwnd and ssthresh
	 * before the last reduction, and how many of its retransmissions no
	 * D-SACK has shown needless yet; undo_on while that can still undo. */
	uint32_t prior_cwnd, prior_ssthresh, undo_retrans;
	uint32_t undo_marker; /* SND.UNA when the reduction began */
	/* How far the data that overtook the segment at undo_marker reached
	 * when that segment was first acknowledged, for DupThresh if the
	 * reduction is undone later (undo_marker itself until then). */
	uint32_t undo_fack;
	uint8_t undo_on;
	/* Eifel (RFC 3522): RetransmitTS, the TSval of the reduction's first
	 * retransmission, and that segment's sequence number; undo_ts 0
	 * before it went, 1 until the ACK that decides, 2 after. */
	uint8_t undo_ts;
	uint32_t undo_tsval, undo_ts_seq;
	/* F-RTO (RFC 5682 3): 1 after a first timeout, 2 once its first ACK
	 * sent new data; frto_orig: an ACK delivered data sent before the
	 * timeout and never sent again (frto_at), which the timeout's
	 * retransmission cannot explain. */
	uint8_t frto, frto_orig;
	uint8_t frto_new; /* step 2b's new segments wait for tcp_output */
	uint64_t frto_at;
	uint64_t bytes_retrans; /* payload bytes sent again (tcpi_bytes_retrans) */
	/* Pacing (issue 13, tcp_pacing.c), Linux's tcp_wstamp_ns: the
	 * earliest time, in nanoseconds of the stack's clock, the next
	 * segment may leave at the pacing rate; pace_slack_ns, how far ahead
	 * of the clock that may be (one burst, as Linux's TSO autosizing);
	 * pace_segs, data segments sent, up to the first TCP_PACE_FREE_SEGS
	 * which go unpaced. */
	uint64_t pace_ns, pace_slack_ns;
	uint64_t pace_rate; /* bytes per second, 0 unpaced (tcp_pacing_update) */
	uint32_t pace_segs;
	/* The smoothed RTT pacing divides by: RFC 6298's average (gain 1/8)
	 * of every ACK's sample from the send times of the records, in
	 * microseconds (Linux's srtt comes from those too; SRTT here may
	 * come from timestamps, whose millisecond ticks would make a short
	 * path look 1 ms long and pace it far too slowly); 0 before one. */
	uint32_t pace_srtt_us;
	/* Nagle as Minshall (draft-minshall-nagle, Linux's snd_sml): the end
	 * of the last short segment of new data sent. */
	uint32_t snd_sml;
	/* Delivery rate (tcp_rate.c; draft-cheng-iccrg-delivery-rate-
	 * estimation, Linux's tcp_rate.c).  The connection's C.delivered
	 * (bytes, modulo 2^32), C.delivered_time, C.first_sent_time and
	 * C.app_limited (0, or the delivered mark the app-limited phase ends
	 * at); the smallest record RTT sample (samples over a shorter
	 * interval are invalid); this ACK's sample: the most recently sent
	 * record it delivered (its P.delivered, P.delivered_time, send time
	 * and end, the send phase's length, P.is_app_limited); and the last
	 * rate kept (delivered bytes over the interval, and whether
	 * app-limited; Linux's rate_delivered, rate_interval_us,
	 * rate_app_limited). */
	uint32_t rate_dlv;
	uint64_t rate_dlv_time, rate_first_tx;
	uint32_t rate_app_limited;
	uint32_t rate_min_rtt_us;
	uint32_t rs_prior_dlv, rs_prior_time, rs_end_seq, rs_send_us;
	uint64_t rs_xmit;
	uint8_t rs_valid, rs_app_limited, rs_retrans;
	uint8_t rate_is_app_limited;
	uint32_t rate_delivered, rate_interval_us;
	/* Issue 16 item 4 (idle endpoints): moved here from struct tcb, state
	 * that only matters while data moves.  Loss recovery (tcp_recovery.c):
	 * RFC 6582's recover, SND.MAX when recovery or loss began, and RFC
	 * 3042's limited_tx, the bytes allowed beyond cwnd on early duplicate
	 * ACKs.  min_rtt_us: the smallest RTT sample, 0 before one (RFC 6298
	 * samples, tcpi_min_rtt).  pace_at (tcp_pacing.c): when the next
	 * segment the pacing rate held back may leave, a deadline of the
	 * connection's timer (tcp_rearm), or SYNACK_NEVER; always
	 * SYNACK_NEVER at rest, so the compressed form does not store it. */
	uint32_t limited_tx;
	/* Together in one 64-bit word: both are set at rest. */
	uint32_t recover, min_rtt_us;
	uint64_t pace_at;
	/* When we last sent data (RFC 5681 4.1's restart after idle,
	 * tcp_recovery_idle_check) and when data last came (see struct
	 * tcb's more; tcp_quickack.c). */
	uint64_t last_send, last_data_rcv;
	uint64_t bytes_received; /* RFC 4898 tcpEStatsAppHCThruOctetsReceived */
	/* The largest segment the peer sent (delayed-ACK counting). */
	uint32_t rcv_seg_max;
	/* The receiver's window-based measure of the round trip
	 * (tcp_autotune.c's tcp_rcv_rtt_window): when it began (low 32 bits,
	 * 0 before the first data) and, in rcv_rtt_seq, one advertised window
	 * past RCV.NXT then. */
	uint32_t rcv_rtt_at, rcv_rtt_seq;
};
/* tcp_rearm (declared above with the other deadlines' description). */
static inline void tcp_rearm(struct tcb *tcb)
{
	uint64_t at = tcb->rtx_at;
	if (tcb->fin2_at < at)
		at = tcb->fin2_at;
	if (tcb->delack_at < at)
		at = tcb->delack_at;
	if (tcb->ka_at < at)
		at = tcb->ka_at;
	if (tcb->reclaim_at < at)
		at = tcb->reclaim_at;
	/* Pacing's deadline is the sender's: at rest it is off
	 * (tcp_snd_rest.c). */
	if (tcb->sender && tcb->sender->pace_at < at)
		at = tcb->sender->pace_at;
	if (at == SYNACK_NEVER) {
		timer_cancel(&tcb->st->timers, &tcb->timer);
		return;
	}
	/* A deadline that moved later leaves the timer where it is: it fires
	 * early, finds nothing due and is armed again then.  RACK-TLP moves
	 * its probe deadline on every segment sent and every ACK (RFC 8985
	 * 7.2), and moving the timer each time cost more than the rest of
	 * the deadline work together. */
	if (timer_armed(&tcb->timer) && tcb->timer.at <= at)
		return;
	/* On allocation failure the connection runs without a timer; the
	 * next arming tries again.  Nothing is corrupted. */
	(void)timer_arm(&tcb->st->timers, &tcb->timer, at);
}
/* tcp_recovery_idle_check (declared above with the restart). */
static inline void tcp_recovery_idle_check(struct tcb *tcb)
{
	if (tcb->snd_una == tcb->snd_max && tcb->sender &&
	    ENV(tcb->st)->now - tcb->sender->last_send > tcb->rto_us)
		tcp_recovery_idle_restart(tcb);
}
/* Records held, and the i-th oldest (i < tcp_snd_records). */
static inline uint32_t tcp_snd_records(const struct tcb *tcb)
{
	return tcb->sender->txq ? tcb->sender->txq->count : 0;
}
static inline struct tcp_txrec *tcp_snd_record(const struct tcb *tcb, uint32_t i)
{
	const struct tcp_txq *q = tcb->sender->txq;
	return (struct tcp_txrec *)&q->rec[(q->head + i) & (q->cap - 1)];
}
/* Congestion control's private area. */
static inline void *tcp_cc_priv(struct tcb *tcb)
{
	return tcb->sender->cc_priv;
}
/* Allocates the sender's state unless the TCB has it: 0, or -ENOMEM. */
int tcp_snd_new(struct tcb *tcb);
/* Bytes the transmit records hold (synack_memory counts them as buffers). */
uint64_t tcp_snd_bytes(const struct tcb *tcb);
/* The segment [seq, seq + used) was just sent (before snd_max moves):
 * what lies below snd_max was sent before and is marked retransmitted,
 * the rest gets a new record. */
void tcp_snd_sent(struct tcb *tcb, uint32_t seq, uint32_t used);
/* SND.UNA advances to ack (RFC 9293 3.10.7.4, fifth step): the
 * acknowledged bytes and records go, the round trip is timed (ts_rtt_us,
 * the timestamps' sample, when not 0; RFC 7323 4.1), recovery and
 * congestion control hear of it and the retransmission timer is
 * restarted or stopped (RFC 6298 5.2, 5.3). */
void tcp_snd_acked(struct tcb *tcb, uint32_t ack, uint32_t ts_rtt_us);
/* Frees the sender's state and the records (the TCB's end, with its
 * other out-of-line parts in tcp_tcb_ext_free). */
void tcp_snd_free(struct tcb *tcb);
/*
 * tcp_snd_rest.c: the sender's state of a quiet connection, kept
 * compressed (issue 16 item 4).  tcp_snd_rest compresses it when nothing
 * is in flight (the reclaim deadline's work); tcp_snd_wake puts it back
 * before anything reads it, 0 or -ENOMEM (the entry points: a segment
 * for the connection, tcp_output, a change of algorithm); tcp_snd_view
 * gives readers that only report a TCB whose sender is decoded into the
 * temporaries (or the TCB itself when awake).
 */
struct tcp_snd_rest;
void tcp_snd_rest(struct tcb *tcb);
int tcp_snd_wake_slow(struct tcb *tcb);
static inline int tcp_snd_wake(struct tcb *tcb)
{
	return tcb->snd_rest ? tcp_snd_wake_slow(tcb) : 0;
}
const struct tcb *tcp_snd_view(const struct tcb *tcb, struct tcb *tcb_tmp,
                               struct tcp_sender *snd_tmp);
uint64_t tcp_snd_rest_bytes(const struct tcb *tcb);
void tcp_snd_rest_free(struct tcb *tcb);
/* The records of [from, to) are marked flag, split where a boundary
 * falls inside one; returns the bytes newly marked, or -1 when memory
 * for a split ran out (the records are then forgotten). */
int64_t tcp_snd_mark(struct tcb *tcb, uint32_t from, uint32_t to, uint8_t flag);

/*
 * tcp_sack.c: SACK on the send side (RFC 2018, RFC 2883, RFC 6675).  The
 * scoreboard is the transmit records' TXREC_SACKED and TXREC_LOST marks.
 */
/* Takes the SACK blocks of an acceptable ACK (RFC 2018 3; D-SACK, RFC
 * 2883, counted and not marked); returns the bytes newly SACKed. */
uint32_t tcp_sack_take(struct tcb *tcb, const struct wire_tcp_opts *o, uint32_t ack);
/* Recomputes the scoreboard's sums and loss marks (RFC 6675 IsLost with
 * DupThresh = the reordering setting) after the records changed. */
void tcp_sack_update(struct tcb *tcb);
/* RFC 6675 IsLost(SND.UNA): the first unacknowledged segment is lost. */
int tcp_sack_head_lost(const struct tcb *tcb);
/* RFC 6675 NextSeg (rule 1) within cwnd: sends the holes deemed lost
 * while pipe allows; returns the room cwnd leaves for new data. */
uint32_t tcp_sack_output(struct tcb *tcb);
/* The first sequence number from seq on that the peer has not SACKed. */
uint32_t tcp_sack_skip(const struct tcb *tcb, uint32_t seq);
/* Bytes the peer SACKed below seq: after a timeout they left the network
 * and take no room in cwnd. */
uint32_t tcp_sack_below(const struct tcb *tcb, uint32_t seq);
/*
 * tcp_rack.c: RACK-TLP (RFC 8985), on when the recovery setting has bit
 * 1 and the connection has SACK.  rtx_at is the retransmission timer's,
 * the tail loss probe's or RACK's reordering timer's deadline.
 */
enum tcp_rtx_kind {
	TCP_RTX_RTO = 0, /* retransmission (or persist) timeout, RFC 6298 */
	TCP_RTX_TLP,     /* probe timeout, RFC 8985 7.2 */
	TCP_RTX_REO,     /* RACK reordering timeout, RFC 8985 6.3 */
};
static inline int tcp_rack_on(const struct tcb *tcb)
{
	return tcb->sack_ok && (ENV(tcb->st)->cfg.recovery & 1);
}
/* Record r was just delivered (cumulatively acknowledged or SACKed): RACK
 * takes its send time (RFC 8985 6.2 step 2) and sees reordering (step 3). */
void tcp_rack_delivered(struct tcb *tcb, const struct tcp_txrec *r);
/* An ACK begins to be processed: what it delivers is compared with what
 * was delivered before it (6.2 step 3). */
static inline void tcp_rack_ack_begin(struct tcb *tcb)
{
	tcb->sender->rack_fack_prior = tcb->sender->rack_fack;
	tcb->sender->rack_prior_valid = tcb->sender->rack_fack_valid;
}
/* RFC 6675 2's DupThresh for this connection: the reordering setting
 * until reordering beyond it was seen (Linux's tp->reordering). */
static inline uint32_t tcp_dupthresh(const struct tcb *tcb)
{
	const struct tcp_sender *sd = tcb->sender;
	return sd && sd->reordering ? sd->reordering : ENV(tcb->st)->cfg.reordering;
}
/* Data from low_seq was delivered after data up to fack: the network
 * reorders by (fack - low_seq) bytes, and DupThresh grows to cover that
 * when it did not (Linux's tcp_check_sack_reordering). */
void tcp_reordering_update(struct tcb *tcb, uint32_t low_seq, uint32_t fack);
/* Record r was just delivered on a SACK connection (SACKed or
 * cumulatively acknowledged): the highest end delivered moves, and a
 * segment sent once and delivered below what an earlier ACK delivered
 * shows reordering (tcp_sack.c). */
void tcp_sack_delivered(struct tcb *tcb, const struct tcp_txrec *r);
/* A D-SACK arrived: the reordering window grows (6.2 step 4). */
void tcp_rack_dsack(struct tcb *tcb);
/* A fast or RTO recovery ended: after 16 without a D-SACK the
 * reordering window is reset (6.2 step 4). */
void tcp_rack_recovery_exit(struct tcb *tcb);
/* Marks what RACK deems lost (6.2 step 5) and arms the reordering timer
 * for what may soon be; returns 1 when something was marked. */
int tcp_rack_detect(struct tcb *tcb);
/* The retransmission timer expired: the first outstanding segment and
 * those whose RACK timeout has passed are lost (6.3,
 * RACK_mark_losses_on_RTO). */
void tcp_rack_mark_lost_on_rto(struct tcb *tcb);
/* After new data went out or an ACK came: the probe timer replaces the
 * retransmission timer when TLP may probe (7.2). */
void tcp_tlp_schedule(struct tcb *tcb);
/* After the retransmission timer was (re)armed: RACK's reordering timer,
 * else the probe timer, takes its place when due sooner. */
void tcp_rack_timers(struct tcb *tcb);
/* The probe timer or the reordering timer expired. */
void tcp_tlp_timeout(struct tcb *tcb);
void tcp_rack_timeout(struct tcb *tcb);
/* An ACK covering SND.UNA up to ack: whether the probe repaired a loss
 * (7.4); called before recovery hears of the ACK. */
void tcp_tlp_ack(struct tcb *tcb, uint32_t ack);
/* Enters SACK recovery for a loss RACK or a probe found (tcp_recovery.c). */
void tcp_recovery_rack_loss(struct tcb *tcb);
/* A D-SACK showed one retransmission needless: when all of the last
 * reduction's were, the reduction is undone (TCPDSACKUndo). */
void tcp_recovery_dsack_undo(struct tcb *tcb, uint32_t end);
/* Eifel detection (RFC 3522): a retransmission of seq leaves now (the
 * reduction's first one sets RetransmitTS); an ACK advancing SND.UNA to ack echoes
 * ts_ecr (timestamps on, has_ts).  An echo from before the retransmission
 * shows it needless: the reduction is undone (TCPFullUndo or
 * TCPPartialUndo). */
void tcp_recovery_eifel_mark(struct tcb *tcb, uint32_t seq);
void tcp_recovery_eifel_ack(struct tcb *tcb, uint32_t ack, uint32_t ts_ecr);

/* Record r was just delivered: during F-RTO, whether it is an original
 * that the timeout's retransmissions do not explain (tcp_recovery.c). */
static inline void tcp_frto_delivered(struct tcb *tcb, const struct tcp_txrec *r)
{
	if (tcb->sender->frto && !(r->flags & TXREC_RETRANS) && r->xmit_at < tcb->sender->frto_at)
		tcb->sender->frto_orig = 1;
}

/* F-RTO's new segments (RFC 5682 3 step 2b), sent by tcp_output once the
 * ACK that asked for them has set the window. */
void tcp_frto_output(struct tcb *tcb);

/*
 * tcp_pacing.c: pacing (issue 13), as Linux's internal TCP pacing.
 */
/* An ACK gave an RTT sample from a record's send time (tcp_snd_acked);
 * one of 0, below our clock's tick, leaves the rate unbounded: a path
 * that fast cannot be paced by a microsecond clock. */
static inline void tcp_pacing_rtt(struct tcb *tcb, uint32_t rtt_us)
{
	struct tcp_sender *s = tcb->sender;
	s->pace_srtt_us =
	    s->pace_srtt_us ? s->pace_srtt_us - s->pace_srtt_us / 8 + rtt_us / 8 : rtt_us;
}
/* An ACK was processed: the pacing rate (bytes per second, 0 when
 * unpaced) follows cwnd and SRTT, as Linux's tcp_update_pacing_rate. */
void tcp_pacing_update(struct tcb *tcb);
/* A data segment of len bytes left: the next may leave len / rate later. */
void tcp_pacing_sent(struct tcb *tcb, uint32_t len);
/* Whether the pacing rate holds the next segment back now (inline: asked
 * before every segment; one comparison when the rate does not bind). */
static inline int tcp_pacing_held(const struct tcb *tcb)
{
	const struct tcp_sender *s = tcb->sender;
	return s && s->pace_ns > ENV(tcb->st)->now * 1000u + s->pace_slack_ns;
}
/* The segment was held back: the pacing timer sends it when its time comes. */
void tcp_pacing_hold(struct tcb *tcb);
/* The pacing timer expired: what was held back goes. */
void tcp_pacing_timeout(struct tcb *tcb);

/*
 * tcp_rate.c: the delivery rate (draft-cheng-iccrg-delivery-rate-
 * estimation, as Linux's tcp_rate.c), in bytes.
 */
/* Record r is being (re)sent: it takes the connection's delivery state. */
void tcp_rate_sent(struct tcb *tcb, struct tcp_txrec *r);
/* An ACK begins: no sample yet. */
static inline void tcp_rate_ack_begin(struct tcb *tcb)
{
	tcb->sender->rs_valid = 0;
}
/* Record r was delivered (cumulatively acknowledged or SACKed). */
void tcp_rate_delivered(struct tcb *tcb, const struct tcp_txrec *r);
/* The ACK is processed: the sample it gives, if any, is kept. */
void tcp_rate_gen(struct tcb *tcb);
/* The application is about to queue data: if it had left the pipe
 * unfilled, the samples until what is in flight now is delivered are
 * app-limited. */
void tcp_rate_check_app_limited(struct tcb *tcb);
/* The delivery rate in bytes per second (0 before a sample), and whether
 * its sample was app-limited. */
uint64_t tcp_rate_bps(const struct tcb *tcb, int *app_limited);

/* SACK loss recovery is under way: RFC 6675 with PRR (RFC 6937). */
static inline int tcp_sack_recovering(const struct tcb *tcb)
{
	return tcb->sack_ok && tcb->ca_state == SYNACK_CA_RECOVERY;
}
/* After a timeout with RACK (RFC 8985 6.3): what RACK deems lost goes
 * again from the scoreboard, in slow start, instead of go-back-N.  Without
 * transmit records (memory ran out) there is no scoreboard: go-back-N. */
static inline int tcp_rack_loss_recovering(const struct tcb *tcb)
{
	return tcb->ca_state == SYNACK_CA_LOSS && tcp_rack_on(tcb) && !tcb->txq_untracked;
}

/*
 * tcp_user.c: the user calls of RFC 9293 3.10.1-3.10.6 (OPEN, SEND,
 * RECEIVE, CLOSE, ABORT, STATUS) and what BSD sockets need beyond them.
 * The socket layer reaches TCP only through this section and holds a TCB
 * as an opaque handle; TCP tells it about events through
 * tcp_sock_event(), the one function the socket layer gave it
 * (struct tcp_layer.sock_event).
 */
/* What a socket hands its connection or listener, and what an accepted
 * connection hands its new socket. */
struct tcp_user_cfg {
	uint32_t mss;            /* the MSS we announce (TCP_MAXSEG) */
	uint32_t rcvbuf, sndbuf; /* SO_RCVBUF, SO_SNDBUF */
	struct tcp_opts opts;
	uint8_t buf_locks; /* TCP_LOCK_*: which of the two the application set */
	/* TCP Fast Open: TCP_FASTOPEN_CONNECT; TCP_FASTOPEN's queue length. */
	uint8_t fastopen_connect;
	uint32_t fastopen_qlen;
};
/* tcb->buf_locks and tcp_user_cfg.buf_locks (Linux's SOCK_*BUF_LOCK). */
enum { TCP_LOCK_RCVBUF = 1, TCP_LOCK_SNDBUF = 2 };
/* OPEN, active: sends the SYN (RFC 9293 3.10.1).  0 or -ENOMEM. */
int tcp_open_active(struct tcp_layer *st, int sockfd, const struct tuple *t,
                    const struct tcp_user_cfg *cfg, struct tcb **out);
/* OPEN, passive: a listener on t's local address and port.  0 or -ENOMEM. */
int tcp_open_passive(struct tcp_layer *st, int sockfd, const struct tuple *t, uint32_t backlog,
                     const struct tcp_user_cfg *cfg, struct tcb **out);
/* RFC 9293 3.10.1's "connection already exists": whether a connection or
 * a TIME-WAIT record holds the 4-tuple t, or a listener t's local address
 * and port (t's remote half as a listener's key has it). */
static inline int tcp_conn_exists(struct tcp_layer *st, const struct tuple *t)
{
	return htable_find(&st->conns, t) != NULL;
}
static inline int tcp_listener_exists(struct tcp_layer *st, const struct tuple *t)
{
	return htable_find(&st->listeners, t) != NULL;
}
/* The MSS a connection from local address a announces: mss (the socket's
 * TCP_MAXSEG, or the IPv4 default it began with), at most what a link of
 * our MTU carries over a's family's header (RFC 9293 3.7.1; RFC 8200 8.3:
 * 20 less over IPv6).  Per connection, so a dual-stack listener's IPv4
 * children announce IPv4's (issue 14). */
static inline uint32_t tcp_mss_cap(const struct tcp_layer *st, const struct addr *a, uint32_t mss)
{
	uint32_t max = ENV(st)->cfg.mtu - (uint32_t)ip_hdr_len(a) - WIRE_TCP_HDR_LEN;
	return mss < max ? mss : max;
}
/* A TCP_FASTOPEN_CONNECT connection whose SYN waits for the first send. */
static inline int tcp_fastopen_deferred(const struct tcb *tcb)
{
	return tcb->tfo_defer;
}
/* It may send before ESTABLISHED: its SYN waits for the data, or it was
 * made from SYN data and answers in the SYN-ACK's flight (RFC 7413). */
static inline int tcp_fastopen_writable(const struct tcb *tcb)
{
	return tcb->tfo_defer || tcb->tfo_child;
}
/* listen() on a listener again: only the backlog changes, as on Linux. */
void tcp_set_backlog(struct tcb *l, uint32_t backlog);
/* The oldest connection in listener l's accept queue, or NULL: tcp_tuple
 * and tcp_user_cfg_of tell the new socket its addresses and what it
 * inherited from the listener. */
static inline struct tcb *tcp_acceptq_head(const struct tcb *l)
{
	return tcp_lsn(l)->acq_head;
}
/* The socket sockfd, which already holds c (tcp_acceptq_head) as its
 * handle, takes it off the accept queue.  A connection that ended while
 * it waited tells the socket at once (TCP_SOCK_DETACH: its unread data and
 * error) and is freed; the socket must not use c after this call. */
void tcp_accept(struct tcb *c, int sockfd);
/* SEND (RFC 9293 3.10.2): queues what fits and sends what the windows
 * allow.  Returns the bytes queued, or -EAGAIN when none fit. */
int tcp_send(struct tcb *tcb, const void *buf, uint32_t len);
/* SEND in pieces (writev): tcp_send_queue queues what fits of one piece
 * and returns how much; tcp_send_push then sends what the windows allow,
 * holding a partial last segment when more (MSG_MORE) is set. */
uint32_t tcp_send_queue(struct tcb *tcb, const void *buf, uint32_t len);
void tcp_send_push(struct tcb *tcb, int more);
/* RECEIVE's copy: up to len of the unread bytes (there are some) out and,
 * unless peek, consumed, telling the peer if the window opened.  Returns
 * the bytes copied. */
int tcp_receive_copy(struct tcb *tcb, void *buf, uint32_t len, int peek);
/* RECEIVE with nothing (more) to read: 0 at the end of the stream, else
 * -EAGAIN. */
static inline int tcp_receive_none(const struct tcb *tcb)
{
	/* Once the peer's FIN has come, or in a state where no more text can
	 * arrive, RECEIVE says "connection closing", which a socket reads as
	 * the end of the stream. */
	if (tcb->rcv_fin)
		return 0;
	switch (tcb->state) {
	case SYNACK_CLOSE_WAIT:
	case SYNACK_CLOSING:
	case SYNACK_LAST_ACK:
	case SYNACK_TIME_WAIT:
	case SYNACK_CLOSED:
		return 0;
	default:
		return -EAGAIN;
	}
}
/* RECEIVE (RFC 9293 3.10.3).  Returns the bytes copied; with none to read,
 * 0 at the end of the stream, else -EAGAIN (0 for a len of 0).  Inline,
 * since an application reads until it sees -EAGAIN. */
static inline int tcp_receive(struct tcb *tcb, void *buf, uint32_t len, int peek)
{
	if (tcb->rcv_buf.len || tcp_rcvq(tcb))
		return tcp_receive_copy(tcb, buf, len, peek);
	return len ? tcp_receive_none(tcb) : 0;
}
/* The application read n of the unread bytes (tcp_unread_ring): they go,
 * and the peer hears of a window that opened. */
void tcp_receive_consume(struct tcb *tcb, uint32_t n);
/* shutdown(SHUT_RD): drops what is unread. */
void tcp_receive_discard(struct tcb *tcb);
/* Moves the unread data into *out (the socket keeps it when the
 * connection ends); the receive buffer is left empty. */
void tcp_receive_take(struct tcb *tcb, struct ring *out);
/* CLOSE (RFC 9293 3.10.4): our side has no more to send; the FIN follows
 * queued data.  In SYN-SENT the connection ends. */
void tcp_close(struct tcb *tcb, int cause);
/* ABORT (RFC 9293 3.10.5): a reset where the peer may hold state, then the
 * connection ends. */
void tcp_abort(struct tcb *tcb, int cause);
/* How the socket lets go of its connection (close(2)). */
enum {
	TCP_CLOSE_LINGER_ZERO = 1 << 0, /* SO_LINGER with a zero timeout: ABORT */
	TCP_CLOSE_READ_SHUT = 1 << 1,   /* after shutdown(SHUT_RD): unread data is no loss */
};
/* The socket closes its handle on tcb (which no longer tells it anything):
 * a listener ends with its unaccepted connections; a connection ABORTs
 * when told so or when unread data would be lost, ends at once in
 * SYN-SENT, else is orphaned and CLOSEd (ABORTed past max_orphans). */
void tcp_close_handle(struct tcb *tcb, unsigned how);
/* Socket options: the connection takes them (push: TCP_NODELAY was set,
 * so data Nagle held goes now) and its keepalive restarts. */
void tcp_set_opts(struct tcb *tcb, const struct tcp_opts *opts, int push);
/* SO_RCVLOWAT above 1 (tcp_opts.lowat). */
void tcp_set_lowat(struct tcb *tcb, int lowat);
/* TCP_MAXSEG on listener l: the MSS its future connections announce. */
void tcp_set_maxseg(struct tcb *l, uint32_t mss);
/* TCP_CONGESTION: the connection (or a listener's future children) uses
 * algorithm algo (tcp_cc_lookup); a live connection switches at once. */
void tcp_set_congestion(struct tcb *tcb, uint8_t algo);
/* SO_RCVBUF, SO_SNDBUF: 0, or -1 when the buffer holds more than size.  A
 * receive buffer is never made larger than the window the connection's
 * scale can advertise (tcp_buf_size tells what it got). */
int tcp_set_rcvbuf(struct tcb *tcb, uint32_t size);
int tcp_set_sndbuf(struct tcb *tcb, uint32_t size);
/* The size of a connection's receive (rcv) or send buffer now: what was set,
 * or what autotuning grew it to (SO_RCVBUF and SO_SNDBUF read it, as on
 * Linux). */
uint32_t tcp_buf_size(const struct tcb *tcb, int rcv);
/* TCP_CORK (tcp_opts.cork) changed: with it off, what it held goes. */
void tcp_set_cork(struct tcb *tcb, int cork);
/* Quick-ACK mode (tcp_quickack.c), as Linux's.  In-order data arrived
 * (tcp_event_data_recv): the first data, or data after an idle RTO,
 * makes the next ACKs go at once. */
void tcp_quickack_data_rcvd(struct tcb *tcb);
/* TCP_QUICKACK: 1 leaves request/response (pingpong) mode and sends a
 * pending ACK now; 0 enters it (ACKs wait for a reply or the timer). */
void tcp_set_quickack(struct tcb *tcb, int on);
static inline int tcp_quickack_on(const struct tcb *tcb)
{
	return !tcb->pingpong;
}
/* STATUS (RFC 9293 3.10.6) of a connection or listener. */
void tcp_status(const struct tcb *tcb, struct synack_tcp_info *info);
/* STATUS of a connection no socket holds any more: TIME_WAIT while a
 * record for the tuple t remains, else CLOSED (t NULL: never connected). */
void tcp_status_gone(struct tcp_layer *st, const struct tuple *t, struct synack_tcp_info *info);
/* Calls fn for every listener, connection and TIME-WAIT record (as `ss`
 * lists them); returns how many there are. */
size_t tcp_conns(struct tcp_layer *st, synack_conn_fn fn, void *ctx);

/* What a socket asks of its connection for its own answers (readiness,
 * connect, send and recv errors, TCP_MAXSEG): inline, since readiness is
 * asked after every event. */
static inline int tcp_state_of(const struct tcb *tcb)
{
	return tcb->state;
}
/* Bytes received in order and not yet read. */
static inline uint32_t tcp_unread(const struct tcb *tcb)
{
	const struct rcvq *q = tcp_rcvq(tcb);
	return tcb->rcv_buf.len + (q ? q->len : 0);
}
/* The receive buffer's room: its size less what the ring and the queue
 * of held text take (tcp_rcvq.c), 0 when that passes it. */
static inline uint32_t tcp_rcv_space(const struct tcb *tcb)
{
	const struct rcvq *q = tcp_rcvq(tcb);
	uint64_t used = (uint64_t)tcb->rcv_buf.len + (q ? q->charge : 0);
	return tcb->rcv_buf.cap > used ? tcb->rcv_buf.cap - (uint32_t)used : 0;
}
/* Copies up to n unread bytes from off on (the ring's, then the queue's). */
uint32_t tcp_unread_peek(const struct tcb *tcb, uint32_t off, void *out, uint32_t n);
/* The peer's FIN has arrived in sequence: after the unread data, the end. */
static inline int tcp_fin_received(const struct tcb *tcb)
{
	return tcb->rcv_fin;
}
/* Room in the send buffer. */
static inline uint32_t tcp_send_space(const struct tcb *tcb)
{
	return ring_space(&tcb->snd_buf);
}
/* Bytes queued and not yet acknowledged (SIOCOUTQ), and those of them
 * never sent (SIOCOUTQNSD, TCP_NOTSENT_LOWAT): from SND.MAX on, since
 * snd_nxt steps back after a timeout. */
static inline uint32_t tcp_unacked_bytes(const struct tcb *tcb)
{
	return tcb->snd_buf.len;
}
static inline uint32_t tcp_notsent_bytes(const struct tcb *tcb)
{
	uint32_t end = tcb->snd_buf_seq + tcb->snd_buf.len;
	return seq_gt(end, tcb->snd_max) ? end - tcb->snd_max : 0;
}
/* The unread bytes, for a socket's copy out of them (tcp_receive_consume
 * then removes what it read). */
static inline const struct ring *tcp_unread_ring(const struct tcb *tcb)
{
	return &tcb->rcv_buf;
}
/* Connections waiting in listener l's accept queue. */
static inline uint32_t tcp_acceptq_len(const struct tcb *l)
{
	return tcp_lsn(l)->acq_len;
}
/* The connection's local and remote address and port. */
static inline const struct tuple *tcp_tuple(const struct tcb *tcb)
{
	return &tcb->t;
}
/* What the connection holds of the socket's settings (an accepted one
 * inherited them from its listener). */
static inline struct tcp_user_cfg tcp_user_cfg_of(const struct tcb *tcb)
{
	return (struct tcp_user_cfg){
	    tcb->rcv_mss, tcb->rcv_buf.cap, tcb->snd_buf.cap, tcb->opts, tcb->buf_locks, 0, 0};
}
/* What we may put in one segment (TCP_MAXSEG once connected). */
static inline uint32_t tcp_snd_mss(const struct tcb *tcb)
{
	return tcb->snd_mss;
}

#endif
