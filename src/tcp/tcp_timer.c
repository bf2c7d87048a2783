/*
 * Timeouts (RFC 9293 3.10.8): retransmission (with RFC 6298 estimation and
 * exponential backoff), the orphaned FIN_WAIT_2 timeout, the CLOSE_WAIT
 * timeout and the end of TIME_WAIT.  Each connection has one timer armed
 * at the earliest of its deadlines.  TIME_WAIT records have none of their
 * own: the stack's one tw_timer is armed for the oldest record, and its
 * expiry ends that record (tcp_timewait.c).
 */
#include <errno.h>

#include "tcp/tcp.h"

/* Clock granularity G of RFC 6298: our clock ticks in microseconds, but
 * a 1 ms floor keeps RTTVAR from collapsing on a perfectly steady path. */
#define RTO_GRANULARITY_US 1000u

static uint32_t clamp_rto(const struct tcp_layer *st, uint64_t rto)
{
	uint64_t lo = (uint64_t)ENV(st)->cfg.rto_min_ms * 1000u,
	         hi = (uint64_t)ENV(st)->cfg.rto_max_ms * 1000u;
	if (rto < lo)
		rto = lo;
	if (rto > hi)
		rto = hi;
	return (uint32_t)rto;
}

/* RFC 6298 2.2 and 2.3. */
void tcp_rtt_sample(struct tcb *tcb, uint32_t r)
{
	if (r == 0)
		r = 1;
	if (tcb->sender && (tcb->sender->min_rtt_us == 0 || r < tcb->sender->min_rtt_us))
		tcb->sender->min_rtt_us = r;
	if (tcb->srtt_us == 0) {
		tcb->srtt_us = r;
		tcb->rttvar_us = r / 2;
	} else {
		uint32_t delta = tcb->srtt_us > r ? tcb->srtt_us - r : r - tcb->srtt_us;
		tcb->rttvar_us = (3 * tcb->rttvar_us + delta) / 4;
		tcb->srtt_us = (7 * tcb->srtt_us + r) / 8;
	}
	uint64_t k = 4ull * tcb->rttvar_us;
	tcb->rto_us =
	    clamp_rto(tcb->st, tcb->srtt_us + (k > RTO_GRANULARITY_US ? k : RTO_GRANULARITY_US));
}

/* The moment TCP_USER_TIMEOUT gives up on outstanding data, or never. */
static uint64_t user_deadline(const struct tcb *tcb)
{
	if (!tcb->opts.user_timeout_ms || tcb->snd_una == tcb->snd_max)
		return SYNACK_NEVER;
	return tcb->unacked_since + (uint64_t)tcb->opts.user_timeout_ms * 1000u;
}

void tcp_arm_rtx(struct tcb *tcb)
{
	uint64_t at = ENV(tcb->st)->now + tcb->rto_us, user = user_deadline(tcb);
	tcb->rtx_kind = TCP_RTX_RTO;
	tcb->rtx_at = user < at ? (user > ENV(tcb->st)->now ? user : ENV(tcb->st)->now) : at;
	tcp_rearm(tcb);
}

/* The retransmission timeout (RFC 9293 3.10.8, RFC 6298 5.4-5.6). */
static void retransmission_timeout(struct tcb *tcb)
{
	struct tcp_layer *st = tcb->st;
	uint32_t limit;
	int cause;
	tcb->rtx_at = SYNACK_NEVER;
	if (user_deadline(tcb) <= ENV(st)->now) {
		/* RFC 9293 3.8.3 / RFC 5482: the user timeout overrides the
		 * retransmission count. */
		STAT_INC(st, UserTimeouts);
		tcp_send_rst_for(tcb);
		tcp_done(tcb, SYNACK_CAUSE_USER_TIMEOUT, tcp_timeout_error(tcb));
		return;
	}
	switch (tcb->state) {
	case SYNACK_SYN_SENT:
		limit = ENV(st)->cfg.syn_retries;
		cause = SYNACK_CAUSE_SYN_TIMEOUT;
		break;
	case SYNACK_SYN_RECEIVED:
		limit = ENV(st)->cfg.synack_retries;
		cause = SYNACK_CAUSE_SYNACK_TIMEOUT;
		break;
	default:
		limit = tcb->orphan ? ENV(st)->cfg.orphan_retries : ENV(st)->cfg.retries2;
		cause = tcb->orphan ? SYNACK_CAUSE_ORPHAN_RETRIES : SYNACK_CAUSE_RETRANS_TIMEOUT;
		break;
	}
	if (tcb->backoff >= limit) {
		switch (cause) {
		case SYNACK_CAUSE_SYN_TIMEOUT:
			STAT_INC(st, SynRetransTimeouts);
			break;
		case SYNACK_CAUSE_SYNACK_TIMEOUT:
			STAT_INC(st, SynAckRetransTimeouts);
			break;
		case SYNACK_CAUSE_ORPHAN_RETRIES:
			STAT_INC(st, OrphanRetriesExceeded);
			break;
		default:
			STAT_INC(st, DataRetransTimeouts);
			break;
		}
		tcp_done(tcb, cause, tcp_timeout_error(tcb));
		return;
	}
	/* Data (or our FIN) outstanding: recovery sends it all again and
	 * congestion control learns of the loss (the persist timer's expiry
	 * says nothing about congestion).  A timeout in SACK recovery means
	 * the recovery failed (Linux's tcp_retransmit_timer counts it). */
	if (tcb->ca_state == SYNACK_CA_RECOVERY && tcb->sack_ok)
		STAT_INC(st, TCPSackRecoveryFail);
	/* RFC 7413 4.1.3.1: a SYN with TFO goes again without it. */
	if (tcb->state == SYNACK_SYN_SENT && (tcb->tfo_req || tcb->tfo_syn_data))
		tcp_fastopen_syn_timeout(tcb);
	tcp_recovery_timeout(tcb);
	/* RFC 6298 5.5: back off the timer. */
	if (tcb->backoff < 255)
		tcb->backoff++;
	tcb->rto_us = clamp_rto(st, 2ull * tcb->rto_us);
	tcp_retransmit(tcb);
	if (tcb->snd_una != tcb->snd_max || seq_lt(tcb->snd_nxt, tcp_fin_seq(tcb)))
		tcp_arm_rtx(tcb); /* still outstanding, or still waiting for a window */
	else
		tcp_rearm(tcb);
}

/* ------------------------------------------------------------------ */
/* Delayed ACK (RFC 1122 4.2.3.2, RFC 9293 3.8.6.3).                   */

/*
 * Whether the ACK of in-order text may wait for the application's read
 * (ack_on_read), after Linux's __tcp_ack_snd_check: the every-second-
 * segment rule of RFC 1122 4.2.3.2 sends at once only while "the right
 * edge of the window advances far enough", that is while the window we
 * would offer now is no smaller than the one the last ACK offered (the
 * application keeps the buffer empty).  Text that waits unread in the
 * buffer shrinks it, and an ACK then would tell the sender nothing but
 * the acknowledgment: the read that follows frees the room and sends one
 * ACK for all of it with the window (receive_done in tcp_user.c, as
 * Linux's tcp_cleanup_rbuf), and the delayed-ACK timer stays the bound
 * when no read comes (RFC 1122 4.2.3.2: at most 500 ms; delack_ms).  On
 * a TAP device each ACK costs the kernel's sender a write and its whole
 * receive path, in our process (docs/PERFORMANCE.md, branch taprecv).
 *
 * Only for a segment the link coalesced (more text than one MSS: GRO,
 * or the kernel's TSO super-segments on a TAP device with offloads).
 * Its ACK is a stretch ACK already, and its sender counts bytes, not
 * ACKs (it is the kernel's TSO).  Segments of at most one MSS keep the
 * every-second-segment ACK: a sender that grows its window by at most
 * two segments per ACK (RFC 3465 2.2, L = 2, as ours) would see its
 * slow start stretched by ACKs that wait for reads.  Nor while the
 * application asked for more than one byte per read (SO_RCVLOWAT): the
 * read may wait for text that only our ACK lets come, as Linux's check
 * of sk_rcvlowat says.
 */
int tcp_ack_on_read(const struct tcb *tcb, uint32_t len)
{
	if (!ENV(tcb->st)->cfg.ack_on_read || len <= tcb->rcv_mss || tcb->opts.lowat ||
	    !tcp_receives_text(tcb->state) || tcb->orphan || tcp_unread(tcb) == 0)
		return 0;
	uint32_t last = seq_gt(tcb->rcv_adv, tcb->rcv_acked) ? tcb->rcv_adv - tcb->rcv_acked : 0;
	return tcp_rcv_window(tcb) < last;
}

int tcp_two_segs_unacked(const struct tcb *tcb)
{
	uint32_t full =
	    tcb->sender && tcb->sender->rcv_seg_max ? tcb->sender->rcv_seg_max : tcb->rcv_mss;
	return tcb->rcv_nxt - tcb->rcv_acked >= 2 * full;
}

void tcp_ack_later(struct tcb *tcb, int now, uint32_t len)
{
	struct tcp_layer *st = tcb->st;
	/* An ACK at least for every second full-sized segment, and at once
	 * when asked (out-of-order data, a gap filled, a FIN) or when delayed
	 * ACKs are off. */
	if (now || ENV(st)->cfg.delack_ms == 0 ||
	    (tcp_two_segs_unacked(tcb) && !tcp_ack_on_read(tcb, len)) ||
	    (tcb->quickacks && !tcb->pingpong)) {
		tcp_send_ack(tcb);
		return;
	}
	if (tcb->delack_at == SYNACK_NEVER)
		tcb->delack_at = ENV(st)->now + (uint64_t)ENV(st)->cfg.delack_ms * 1000u;
}

static void delack_timeout(struct tcb *tcb)
{
	tcb->delack_at = SYNACK_NEVER;
	if (tcb->rcv_acked == tcb->rcv_nxt)
		return;
	/* No reply carried the ACK in time: not request/response after all
	 * (Linux leaves pingpong mode when a delayed ACK is missed). */
	tcb->pingpong = 0;
	STAT_INC(tcb->st, DelayedACKs);
	tcp_send_ack(tcb);
}

/* ------------------------------------------------------------------ */
/* Buffer memory.                                                      */

/*
 * A send or receive buffer drained to empty keeps its grown allocation
 * while the connection is busy (ring_consume_keep): regrowing it from the
 * first size on every burst copied the whole buffer again and again.  It
 * goes back once the connection has been quiet for a retransmission
 * timeout, the span after which RFC 5681 4.1 calls a connection idle.
 */
void tcp_buf_kept(struct tcb *tcb)
{
	if (tcb->reclaim_at == SYNACK_NEVER)
		tcb->reclaim_at = ENV(tcb->st)->now + tcb->rto_us;
}

static void reclaim_timeout(struct tcb *tcb)
{
	struct tcp_layer *st = tcb->st;
	tcb->reclaim_at = SYNACK_NEVER;
	/* A buffer holding data is busy: it is kept again when it drains. */
	ring_trim(&tcb->snd_buf, &st->buf_pool);
	ring_trim(&tcb->rcv_buf, &st->buf_pool);
	/* The sender's state too, when nothing is in flight. */
	tcp_snd_rest(tcb);
}

/* ------------------------------------------------------------------ */
/* Keepalive (RFC 1122 4.2.3.6).                                       */

/* Every synchronized state but TIME_WAIT, while the application holds the
 * socket.  Where our FIN is outstanding (FIN_WAIT_1, CLOSING, LAST_ACK) the
 * retransmission timer watches the peer and keepalive only looks again
 * later; naming those states too keeps the deadline alive across the
 * transitions (FIN_WAIT_1 -> FIN_WAIT_2 happens on an arriving segment). */
static int keepalive_applies(const struct tcb *tcb)
{
	return tcb->opts.keepalive && !tcb->orphan && tcb->state >= SYNACK_ESTABLISHED &&
	       tcb->state != SYNACK_TIME_WAIT;
}

void tcp_keepalive_reset(struct tcb *tcb)
{
	tcb->ka_probes = 0;
	tcb->ka_at = keepalive_applies(tcb) ? tcb->last_rcv + (uint64_t)tcb->opts.ka_idle_ms * 1000u
	                                    : SYNACK_NEVER;
}

/* Returns 1 when the connection ended. */
static int keepalive_timeout(struct tcb *tcb)
{
	struct tcp_layer *st = tcb->st;
	tcb->ka_at = SYNACK_NEVER;
	if (!keepalive_applies(tcb))
		return 0;
	if (tcb->snd_una != tcb->snd_max || seq_lt(tcb->snd_nxt, tcp_fin_seq(tcb))) {
		/* Data is on its way; the retransmission or persist timer
		 * watches the peer.  Look again after a quiet period. */
		tcb->ka_at = ENV(st)->now + (uint64_t)tcb->opts.ka_idle_ms * 1000u;
		return 0;
	}
	if (tcb->ka_probes >= tcb->opts.ka_cnt) {
		/* As Linux: tell the peer with a reset, the application
		 * with -ETIMEDOUT (or the ICMP soft error that explains it). */
		STAT_INC(st, KeepAliveTimeouts);
		tcp_send_rst_for(tcb);
		tcp_done(tcb, SYNACK_CAUSE_KEEPALIVE_TIMEOUT, tcp_timeout_error(tcb));
		return 1;
	}
	/* The probe: <SEQ=SND.UNA-1><ACK=RCV.NXT>, no data; the peer finds
	 * it old and answers with an ACK (RFC 1122 4.2.3.6). */
	tcp_send_probe(tcb);
	tcb->ka_probes++;
	STAT_INC(st, KeepAliveProbes);
	tcb->ka_at = ENV(st)->now + (uint64_t)tcb->opts.ka_intvl_ms * 1000u;
	return 0;
}

/* The application never closed its CLOSE_WAIT connection within
 * close_wait_timeout_ms: end it with a reset so the peer learns it too, and
 * tell the application why. */
static void close_wait_timeout(struct tcb *tcb)
{
	tcb->close_wait_at = SYNACK_NEVER;
	STAT_INC(tcb->st, CloseWaitTimeouts);
	tcp_send_rst_for(tcb);
	tcp_done(tcb, SYNACK_CAUSE_CLOSE_WAIT_TIMEOUT, -ETIMEDOUT);
}

/* An orphan's FIN was acknowledged but the peer's FIN never came.  The
 * connection ends quietly: a reset would destroy data the peer may still
 * be reading. */
static void fin_wait_2_timeout(struct tcb *tcb)
{
	tcb->fin2_at = SYNACK_NEVER;
	STAT_INC(tcb->st, FinWait2Timeouts);
	tcp_done(tcb, SYNACK_CAUSE_FIN_WAIT_2_TIMEOUT, 0);
}

void tcp_timer_fire(struct tcp_layer *st, struct timer_node *n)
{
	if (n == &st->tw_timer) {
		/* RFC 9293 3.10.8: when the time-wait timeout expires,
		 * delete the TCB (here, the oldest record). */
		tcp_tw_expire(st);
		return;
	}
	struct tcb *tcb = container_of(n, struct tcb, timer);
	/* One deadline per call; the timer fires again at once for the next
	 * one due.  Those that may end the connection return right away. */
	if (tcb->state == SYNACK_CLOSE_WAIT && tcb->close_wait_at <= ENV(st)->now) {
		close_wait_timeout(tcb);
		return;
	}
	if (tcb->state != SYNACK_CLOSE_WAIT && tcb->fin2_at <= ENV(st)->now) {
		fin_wait_2_timeout(tcb);
		return;
	}
	if (tcb->rtx_at <= ENV(st)->now) {
		/* The one deadline is the retransmission timer's, or RACK-TLP's
		 * probe or reordering timer in its place (tcp_rack.c). */
		switch (tcb->rtx_kind) {
		case TCP_RTX_TLP:
			tcp_tlp_timeout(tcb);
			tcp_rearm(tcb);
			break;
		case TCP_RTX_REO:
			tcp_rack_timeout(tcb);
			tcp_rearm(tcb);
			break;
		default:
			retransmission_timeout(tcb);
			break;
		}
		return;
	}
	if (tcb->ka_at <= ENV(st)->now && keepalive_timeout(tcb))
		return;
	if (tcb->delack_at <= ENV(st)->now)
		delack_timeout(tcb);
	if (tcb->reclaim_at <= ENV(st)->now)
		reclaim_timeout(tcb);
	if (tcb->sender && tcb->sender->pace_at <= ENV(st)->now)
		tcp_pacing_timeout(tcb);
	tcp_rearm(tcb);
}
