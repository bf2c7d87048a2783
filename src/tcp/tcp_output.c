/*
 * Segment output: new data and FIN within the peer's window, SYN and
 * SYN-ACK, ACKs, retransmissions and resets.
 */
#include <errno.h>
#include <string.h>

#include "net/net.h"
#include "tcp/tcp.h"

int tcp_send_raw_ecn(struct tcp_layer *st, const struct tuple *t, uint32_t seq, uint32_t ack,
                     uint8_t flags, uint16_t wnd, const struct wire_tcp_opts *opts,
                     const struct ring *buf, uint32_t buf_off, uint32_t len, uint32_t iss,
                     uint32_t irs, uint8_t ecn)
{
	static const struct wire_tcp_opts no_opts;
	struct wire_tcp_out o;
	struct pkt *p;
	size_t n;
	memset(&o, 0, sizeof(o));
	o.saddr = t->laddr;
	o.daddr = t->raddr;
	o.sport = t->lport;
	o.dport = t->rport;
	o.seq = seq;
	o.ack = ack;
	o.flags = flags;
	o.wnd = wnd;
	o.opts = opts ? *opts : no_opts;
	/* The payload goes from the send buffer straight into the datagram,
	 * summed for the checksum on the way: one pass over the bytes. */
	/* The network header goes in front; its length depends on the
	 * family (net.h), which TCP never asks for itself. */
	size_t ip_len = ip_hdr_len(&t->raddr);
	size_t hdr_len = wire_tcp_hdr_len(&o), room = st->net.pkt_size - ip_len - hdr_len;
	uint32_t sum = 0;
	n = 0;
	if (!buf || buf_off >= buf->len)
		len = 0;
	else if (len > buf->len - buf_off)
		len = buf->len - buf_off;
	/* A datagram of the size this one needs: control segments and short
	 * ones come from the small class (net.h). */
	p = net_pkt_alloc_small(&st->net, ip_len + hdr_len + len);
	if (!p) {
		STAT_INC(st, IpOutDiscards);
		return -ENOMEM;
	}
	if (len <= room) { /* always: the MSS fits the MTU */
		uint8_t *dst = p->data + ip_len + hdr_len;
		if (len) {
			uint32_t first;
			const uint8_t *a = ring_span(buf, buf_off, len, &first);
			sum = wire_csum_copy(0, dst, a, first);
			if (len > first) {
				/* The second piece starts at an odd offset when
				 * the first is odd in length (RFC 1071 2(B)). */
				uint32_t rest =
				    wire_csum_copy(0, dst + first, buf->buf, len - first);
				uint64_t all =
				    (uint64_t)sum + (first & 1 ? wire_csum_swap(rest) : rest);
				sum = (uint32_t)((all & 0xffffffffu) + (all >> 32));
			}
		}
		n = wire_tcp_emit_summed(p->data + ip_len, net_pkt_cap(&st->net, p) - ip_len, &o,
		                         len, sum);
	}
	if (n == 0) {
		net_pkt_free(&st->net, p);
		STAT_INC(st, IpOutDiscards);
		return -ENOMEM;
	}

	STAT_INC(st, OutSegs);
	if (flags & SYNACK_TH_RST)
		STAT_INC(st, OutRsts);
	struct trace_rec *r = trace_add(ENV(st), SYNACK_TRACE_TX);
	if (r) {
		env_trace_tuple(ENV(st), r, t);
		r->flags = flags;
		r->seq = seq;
		r->ack = ack;
		r->len = len;
		r->win = wnd;
		r->iss = iss;
		r->irs = irs;
		tcp_trace_opts(st, r, flags, opts);
		r->ecn = ecn;
		if (o.opts.sack_count)
			tcp_trace_sack(st, r, &o.opts);
	}
	ip_output(&st->net, &t->laddr, &t->raddr, WIRE_IPPROTO_TCP, p, n, ecn);
	return 0;
}

/* Sends one segment of this connection at sequence number seq.  Every
 * segment advertises the window (32 bits here, the header field only at
 * tcp_wnd_to_wire). */
static void send_at(struct tcb *tcb, uint32_t seq, uint32_t len, uint8_t flags)
{
	struct wire_tcp_opts opts;
	uint32_t wnd;
	uint32_t ack = 0;
	uint8_t ecn = WIRE_ECN_NOT_ECT; /* RFC 3168 6.1.1: never on a SYN or SYN-ACK */
	memset(&opts, 0, sizeof(opts));
	if (flags & SYNACK_TH_SYN) {
		/* RFC 7323 2.2: a SYN's window is not scaled, so it is the
		 * (empty) buffer's room up to the field's 65535, not rounded
		 * to the unit of the scale it announces. */
		tcp_opt_syn(tcb, &opts);
		flags |= tcp_ecn_syn_flags(tcb);
		wnd = ring_space(&tcb->rcv_buf);
		if (wnd > 65535u)
			wnd = 65535u;
	} else {
		ecn = tcp_ecn_out(tcb, seq, len, &flags);
		tcp_opt_segment(tcb, &opts);
		wnd = tcp_rcv_window(tcb);
	}
	if (tcb->state != SYNACK_SYN_SENT) {
		flags |= SYNACK_TH_ACK;
		ack = tcb->rcv_nxt;
		if (seq_gt(tcb->rcv_nxt + wnd, tcb->rcv_adv))
			tcb->rcv_adv = tcb->rcv_nxt + wnd;
		/* Every segment acknowledges: a pending delayed ACK rides on it.
		 * One that acknowledges new data uses up a quick ACK (Linux's
		 * tcp_dec_quickack_mode). */
		if (tcb->quickacks && tcb->rcv_acked != tcb->rcv_nxt)
			tcb->quickacks--;
		tcb->rcv_acked = tcb->rcv_nxt;
		tcb->delack_at = SYNACK_NEVER;
	}
	/* RFC 2018 4: every ACK carries SACK blocks while data is held out
	 * of order (and a D-SACK block once after a duplicate). */
	if (tcp_rcv_sacks(tcb) && !(flags & SYNACK_TH_SYN))
		tcp_rcv_sack_fill(tcb, &opts);
	if (tcp_send_raw_ecn(tcb->st, &tcb->t, seq, ack, flags, tcp_wnd_to_wire(tcb, wnd, flags),
	                     &opts, &tcb->snd_buf,
	                     seq + !!(flags & SYNACK_TH_SYN) - tcb->snd_buf_seq, len, tcb->iss,
	                     tcb->irs, ecn) == 0 &&
	    (flags & SYNACK_TH_ACK))
		tcb->ack_owed = 0; /* the ACK an arriving segment asked for left with it */
}

void tcp_send_syn(struct tcb *tcb)
{
	/* RFC 7413: a client's SYN may carry data (tcp_fastopen.c). */
	send_at(tcb, tcb->iss, tcp_fastopen_syn_len(tcb), SYNACK_TH_SYN);
}

void tcp_send_syn_first(struct tcb *tcb)
{
	/* RFC 6298 2.2 and 3: the SYN, or the SYN-ACK of a passive open, is
	 * timed; the ACK of it gives the first RTT sample (tcp_snd_acked),
	 * so that data after the handshake need not wait a full initial RTO.
	 * RFC 6298 5.1: the timer starts with it. */
	tcb->rtt_timing = 1;
	tcb->rtt_seq = tcb->iss;
	tcb->rtt_start = ENV(tcb->st)->now;
	tcp_send_syn(tcb);
	tcp_arm_rtx(tcb);
}

void tcp_send_syn_again(struct tcb *tcb)
{
	/* RFC 6298 3 (Karn): once ISS went twice, its ACK may answer either
	 * copy and times nothing. */
	tcb->rtt_timing = 0;
	tcp_send_syn(tcb);
}

/* A segment without text: its sequence number is SND.MAX, the highest we
 * sent.  After a timeout SND.NXT goes back below what the peer may already
 * hold, and an ACK numbered below the peer's RCV.NXT would be refused with
 * its acknowledgment unread (RFC 9293 3.10.7.4) -- two such senders would
 * trade refusals forever.  BSD numbers pure ACKs the same way. */
void tcp_send_ack(struct tcb *tcb)
{
	send_at(tcb, tcb->snd_max, 0, 0);
}

void tcp_challenge_ack(struct tcb *tcb)
{
	struct tcp_layer *st = tcb->st;
	uint32_t limit = ENV(st)->cfg.challenge_ack_limit;
	/* RFC 5961 section 7: at most challenge_ack_limit per second, counted
	 * per connection.  A limit shared by the whole stack (Linux before
	 * 2016, CVE-2016-5696) lets an off-path attacker count the challenges
	 * other connections send, and so find their sequence numbers. */
	if (limit) {
		/* Without memory to count them: none (the cautious side). */
		struct tcb_rare *r = tcp_rare(tcb);
		if (r && (r->chack_count == 0 || ENV(st)->now - r->chack_since >= 1000000u)) {
			r->chack_since = ENV(st)->now;
			r->chack_count = 0;
		}
		if (!r || r->chack_count >= limit) {
			STAT_INC(st, ChallengeAcksLimited);
			return;
		}
		r->chack_count++;
	}
	/* RFC 5961 3.2 and 4.2: <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>, SND.MAX
	 * here for the reason above. */
	STAT_INC(st, ChallengeAcks);
	send_at(tcb, tcb->snd_max, 0, 0);
}

void tcp_tw_challenge_ack(struct tcp_layer *st, struct tw *tw)
{
	/* RFC 5961 section 7, per record like a connection's (struct tw says
	 * why): no counter fits in the record, so the limit is kept as the
	 * least time between two answers. */
	uint32_t limit = ENV(st)->cfg.challenge_ack_limit;
	if (limit && !tcp_tw_may_answer(st, tw, 1000u / limit)) {
		STAT_INC(st, ChallengeAcksLimited);
		return;
	}
	STAT_INC(st, ChallengeAcks);
	tcp_tw_send_ack(st, tw);
}

void tcp_send_rst_for(struct tcb *tcb)
{
	/* RFC 9293 3.10.5 ABORT: <SEQ=SND.NXT><CTL=RST> (SND.MAX, see above); like Linux we also
	 * acknowledge what we received so the peer can tell which data was lost. */
	uint32_t ack = tcb->state == SYNACK_SYN_SENT ? 0 : tcb->rcv_nxt;
	uint8_t flags = SYNACK_TH_RST | (tcb->state == SYNACK_SYN_SENT ? 0 : SYNACK_TH_ACK);
	tcp_send_raw(tcb->st, &tcb->t, tcb->snd_max, ack, flags, 0, NULL, NULL, 0, 0, tcb->iss,
	             tcb->irs);
}

void tcp_reset_reply(struct tcp_layer *st, const struct wire_tcp *w)
{
	struct tuple t = tcp_seg_tuple(w);
	uint32_t seg_len =
	    w->data_len + !!(w->flags & SYNACK_TH_SYN) + !!(w->flags & SYNACK_TH_FIN);
	/* RFC 9293 3.10.7.1: an incoming RST is discarded; otherwise, if the
	 * ACK bit is on <SEQ=SEG.ACK><CTL=RST>, else
	 * <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>. */
	if (w->flags & SYNACK_TH_RST)
		return;
	if (w->flags & SYNACK_TH_ACK)
		tcp_send_raw(st, &t, w->ack, 0, SYNACK_TH_RST, 0, NULL, NULL, 0, 0, w->ack, w->seq);
	else
		tcp_send_raw(st, &t, 0, w->seq + seg_len, SYNACK_TH_RST | SYNACK_TH_ACK, 0, NULL,
		             NULL, 0, 0, 0, w->seq);
}

void tcp_tw_send_ack(struct tcp_layer *st, struct tw *tw)
{
	/* RFC 7323 3.2: timestamps on every segment, the record's too; the
	 * offset is the connection's (a hash of the 4-tuple, not stored). */
	struct wire_tcp_opts opts;
	memset(&opts, 0, sizeof(opts));
	if (tw->ts_ok) {
		opts.has_ts = 1;
		opts.ts_val = tcp_ts_clock(st) + tcp_ts_offset(st, &tw->h.node.key);
		opts.ts_ecr = tw->ts_recent;
	}
	tcp_send_raw(st, &tw->h.node.key, tw->snd_nxt, tw->rcv_nxt, SYNACK_TH_ACK,
	             tcp_tw_rcv_wnd(tw), &opts, NULL, 0, 0, tw->iss, tw->irs);
}

static int can_send_data(int state)
{
	/* Data queued before a close is still sent after it (RFC 9293 3.10.4:
	 * the FIN follows all preceding SENDs). */
	switch (state) {
	case SYNACK_ESTABLISHED:
	case SYNACK_CLOSE_WAIT:
	case SYNACK_FIN_WAIT_1:
	case SYNACK_CLOSING:
	case SYNACK_LAST_ACK:
		return 1;
	default:
		return 0;
	}
}

static void start_timing(struct tcb *tcb, uint32_t seq)
{
	/* RFC 6298 3: time one segment per round trip, never one sent
	 * before (Karn). */
	if (tcb->rtt_timing || seq != tcb->snd_max)
		return;
	tcb->rtt_timing = 1;
	tcb->rtt_seq = seq;
	tcb->rtt_start = ENV(tcb->st)->now;
}

/*
 * Sends the data at seq (len bytes of it, and our FIN when it follows
 * them) and accounts for it: a retransmission when
 * seq is below snd_max, otherwise new data, timed.  Returns the sequence
 * space used.
 */
static uint32_t xmit(struct tcb *tcb, uint32_t seq, uint32_t len)
{
	struct tcp_layer *st = tcb->st;
	uint32_t data_end = tcp_fin_seq(tcb);
	uint8_t flags = 0;
	if (seq + len == data_end) {
		if (len)
			flags |= SYNACK_TH_PSH;
		if (tcb->fin_queued)
			flags |= SYNACK_TH_FIN;
	}
	uint32_t used = len + !!(flags & SYNACK_TH_FIN);
	if (used == 0)
		return 0;
	int idle = tcb->snd_una == tcb->snd_max;
	if (idle)
		tcb->unacked_since = ENV(st)->now; /* the oldest outstanding byte leaves now */
	if (seq_lt(seq, tcb->snd_max)) {
		STAT_INC(st, RetransSegs);
		tcb->total_retrans++;
		if (tcb->sender)
			tcb->sender->bytes_retrans += len;
	} else {
		start_timing(tcb, seq);
		/* Minshall's Nagle: remember where the last short segment of
		 * new data ended (Linux's tcp_minshall_update). */
		if (len < tcb->snd_mss && tcb->sender)
			tcb->sender->snd_sml = seq + used;
	}
	send_at(tcb, seq, len, flags);
	tcp_snd_sent(tcb, seq, used);
	if (len)
		tcp_pacing_sent(tcb, len);
	/* RFC 6937: what recovery sends counts against PRR's budget; each
	 * retransmission, in recovery or after a timeout, is one a D-SACK
	 * or the timestamps may later show needless (undo). */
	int sack_rec = tcp_sack_recovering(tcb);
	if (sack_rec)
		tcb->sender->prr_out += used;
	/* RFC 6675 4, SetPipe: each transmission is in flight from now on,
	 * whatever sent it (the timeout's first segment, the scoreboard, new
	 * data, a probe).  Out of the open state the next tcp_output takes
	 * its room from pipe before an ACK recounts it: a send() right after
	 * a timeout must find the one segment of cwnd taken. */
	if (tcb->sack_ok && tcb->ca_state != SYNACK_CA_OPEN && tcb->sender)
		tcb->sender->pipe += used;
	if (tcb->ca_state != SYNACK_CA_OPEN && tcb->sender && seq_lt(seq, tcb->snd_max)) {
		tcb->sender->undo_retrans++;
		tcp_recovery_eifel_mark(tcb, seq);
	}
	if (seq_gt(seq + used, tcb->snd_max))
		tcb->snd_max = seq + used;
	if (len && tcb->sender) {
		tcb->sender->last_send = ENV(st)->now;
		/* A reply within the delayed-ACK time of the data it answers:
		 * request/response, where ACKs had better wait and ride on
		 * the replies (Linux's tcp_event_data_sent, pingpong). */
		if (tcb->data_seen && ENV(st)->now - tcb->sender->last_data_rcv <
		                          (uint64_t)ENV(st)->cfg.delack_ms * 1000u)
			tcb->pingpong = 1;
	}
	/* RFC 6298 5.1; a persist timer running until now gives way. */
	if (tcb->rtx_at == SYNACK_NEVER || idle)
		tcp_arm_rtx(tcb);
	return used;
}

/*
 * Nagle as Minshall (draft-minshall-nagle-01, Linux's tcp_minshall_check):
 * a short segment is held only while an earlier *short* segment is
 * unacknowledged, not while any data is.  The tail of a response written
 * in one go (full segments, then a short one) leaves at once; a stream of
 * small writes still sends one small segment per round trip (RFC 896).
 * Without a sender (nothing sent yet) nothing short is outstanding.
 */
static int short_unacked(const struct tcb *tcb)
{
	if (!tcb->sender)
		return tcb->snd_una != tcb->snd_max;
	uint32_t sml = tcb->sender->snd_sml;
	return seq_gt(sml, tcb->snd_una) && seq_leq(sml, tcb->snd_nxt);
}

/*
 * May a segment of n bytes (of the avail that wait at snd_nxt) go now?
 * RFC 9293 3.7.4 (Nagle, with Minshall's refinement above) and 3.8.6.2.1
 * (sender silly-window avoidance): a full segment always; the last piece
 * of the data when no short segment is outstanding, Nagle is off or the
 * application closed (its FIN pushes it); a piece cut by the window when
 * it is at least half the largest window the peer offered.  Data sent
 * again after a timeout always goes.
 */
static int worth_sending(const struct tcb *tcb, uint32_t n, uint32_t avail)
{
	if (n >= tcb->snd_mss || seq_lt(tcb->snd_nxt, tcb->snd_max))
		return 1;
	/* TCP_CORK, and MSG_MORE for the send that asked: the last piece
	 * waits for more data, the uncork, the FIN or the persist timer
	 * (the end of tcp_output arms it; Linux's probe timer). */
	if (n == avail && (tcb->opts.cork || tcb->more) && !tcb->fin_queued)
		return 0;
	/* A connection made from SYN data sends its first answer at once:
	 * its SYN-ACK is no data for Nagle to wait on (RFC 7413 4.2.2). */
	if (n == avail)
		return tcb->opts.nodelay || tcb->fin_queued || tcb->snd_una == tcb->snd_max ||
		       tcb->tfo_child || !short_unacked(tcb);
	return tcb->max_snd_wnd && n >= tcb->max_snd_wnd / 2;
}

/*
 * Sends what the windows allow, from snd_nxt: data in segments of at most
 * snd_mss within min(cwnd, the peer's window) of snd_una (RFC 5681 2),
 * then our FIN once every byte before it is sent.  After a timeout
 * without RACK snd_nxt is below snd_max and this sends the old data
 * again; with RACK the scoreboard says what goes again (RFC 8985 6.3).
 */
void tcp_output(struct tcb *tcb)
{
	/* A quiet connection's sender's state comes back first; without
	 * memory for it nothing is sent now (tcp_snd_rest.c). */
	if (tcp_snd_wake(tcb) != 0)
		return;
	/* RFC 7413 4.2.2: a connection made from SYN data may send in
	 * SYN-RECEIVED, in the SYN-ACK's flight (as Linux). */
	if (!can_send_data(tcb->state) && !(tcb->tfo_child && tcb->state == SYNACK_SYN_RECEIVED))
		return;
	tcp_recovery_idle_check(tcb);
	tcb->cwnd_limited = 0;
	/* SACK recovery (RFC 6675 5 step C): the holes deemed lost go
	 * first; new data then gets what cwnd - pipe leaves, not the
	 * window counted from SND.UNA. */
	int sack_rec = tcp_sack_recovering(tcb) || tcp_rack_loss_recovering(tcb);
	int frto_new = tcb->ca_state == SYNACK_CA_LOSS && tcb->sender && tcb->sender->frto_new;
	if (frto_new)
		tcp_frto_output(tcb);
	/* After a timeout with RACK (RFC 8985 6.3) the lost segments go
	 * from the scoreboard, in slow start; F-RTO's step 2b sends only its
	 * new segments on that ACK (Linux's REXMIT_NEW). */
	uint32_t sack_room =
	    sack_rec && !(frto_new && tcb->sender->frto) ? tcp_sack_output(tcb) : 0;
	for (;;) {
		/* After a timeout with SACK (RFC 6675 5.1): what the peer
		 * SACKed is not sent again and takes no room in cwnd. */
		uint32_t sacked_below = 0;
		if (tcb->sack_ok && tcb->ca_state == SYNACK_CA_LOSS &&
		    seq_lt(tcb->snd_nxt, tcb->snd_max)) {
			tcb->snd_nxt = tcp_sack_skip(tcb, tcb->snd_nxt);
			sacked_below = tcp_sack_below(tcb, tcb->snd_nxt);
		}
		uint32_t data_end = tcp_fin_seq(tcb);
		uint32_t avail = seq_lt(tcb->snd_nxt, data_end) ? data_end - tcb->snd_nxt : 0;
		if (avail == 0) {
			/* A bare FIN: it takes no window. */
			if (tcb->fin_queued && tcb->snd_nxt == data_end)
				tcb->snd_nxt += xmit(tcb, tcb->snd_nxt, 0);
			break;
		}
		uint32_t cwnd = tcb->cwnd + tcb->sender->limited_tx;
		uint32_t wnd = tcb->snd_wnd < cwnd ? tcb->snd_wnd : cwnd;
		uint32_t wnd_end = tcb->snd_una + wnd;
		if (sacked_below) {
			uint32_t cwnd_end = tcb->snd_una + cwnd + sacked_below;
			uint32_t peer_end = tcb->snd_una + tcb->snd_wnd;
			wnd_end = seq_lt(cwnd_end, peer_end) ? cwnd_end : peer_end;
		}
		uint32_t usable = seq_gt(wnd_end, tcb->snd_nxt) ? wnd_end - tcb->snd_nxt : 0;
		if (sack_rec) {
			wnd_end = tcb->snd_una + tcb->snd_wnd;
			usable = seq_gt(wnd_end, tcb->snd_nxt) ? wnd_end - tcb->snd_nxt : 0;
			if (usable > sack_room)
				usable = sack_room;
		}
		uint32_t n = avail < usable ? avail : usable;
		if (n > tcb->snd_mss)
			n = tcb->snd_mss;
		if (n == 0 || !worth_sending(tcb, n, avail)) {
			/* Held back by cwnd rather than by the peer's window or
			 * a lack of data: only then may cwnd grow (RFC 7661). */
			tcb->cwnd_limited = cwnd <= tcb->snd_wnd && usable < avail;
			break;
		}
		if (tcp_pacing_held(tcb)) {
			/* The pacing rate holds it (tcp_pacing.c): the timer
			 * sends it.  The rate follows cwnd, so with more data
			 * than cwnd allows it is still cwnd that limits. */
			tcb->cwnd_limited = cwnd <= tcb->snd_wnd && usable < avail;
			tcp_pacing_hold(tcb);
			break;
		}
		uint32_t used = xmit(tcb, tcb->snd_nxt, n);
		tcb->snd_nxt += used;
		sack_room = sack_room > used ? sack_room - used : 0;
	}
	/* RFC 8985 7.2: new data went out; a tail loss probe may watch it. */
	if (tcb->rtx_kind == TCP_RTX_RTO && tcp_rack_on(tcb))
		tcp_rack_timers(tcb);
	/* Data waits behind the peer's window with nothing in flight: the
	 * retransmission timer doubles as the persist timer (RFC 9293
	 * 3.8.6.1), and its expiry sends a probe. */
	if (tcb->snd_una == tcb->snd_max && seq_lt(tcb->snd_nxt, tcp_fin_seq(tcb)) &&
	    tcb->rtx_at == SYNACK_NEVER)
		tcp_arm_rtx(tcb);
}

/* A segment of the data at seq: up to one MSS, ending at the FIN. */
static uint32_t segment_len(const struct tcb *tcb, uint32_t seq)
{
	uint32_t data_end = tcp_fin_seq(tcb);
	uint32_t len = seq_lt(seq, data_end) ? data_end - seq : 0;
	return len > tcb->snd_mss ? tcb->snd_mss : len;
}

uint32_t tcp_retransmit_at(struct tcb *tcb, uint32_t seq, uint32_t len)
{
	/* Karn's algorithm: a retransmission ends the RTT measurement. */
	tcb->rtt_timing = 0;
	uint32_t data_end = tcp_fin_seq(tcb);
	uint32_t data = seq_lt(seq, data_end) ? data_end - seq : 0;
	return xmit(tcb, seq, len < data ? len : data);
}

void tcp_retransmit_head(struct tcb *tcb)
{
	/* Karn's algorithm: a retransmission ends the RTT measurement. */
	tcb->rtt_timing = 0;
	/* Never past the peer's window: what overshoots it is cut off by the
	 * receiver, and snd_nxt would skip a hole only a timeout repairs
	 * (tests/XFER_FINDINGS.md X1).  A window believed closed gets one
	 * byte, whose answer tells the real window (RFC 9293 3.8.6.1). */
	uint32_t len = segment_len(tcb, tcb->snd_una);
	uint32_t room = tcb->snd_wnd ? tcb->snd_wnd : 1;
	uint32_t used = xmit(tcb, tcb->snd_una, len < room ? len : room);
	if (seq_gt(tcb->snd_una + used, tcb->snd_nxt))
		tcb->snd_nxt = tcb->snd_una + used;
}

/* An ACK one byte below the window (<SEQ=SND.UNA-1>, no data): the peer
 * must answer it with its current window.  Keepalives and zero-window
 * probes both use it, as Linux does; it takes no sequence space. */
void tcp_send_probe(struct tcb *tcb)
{
	struct wire_tcp_opts opts;
	memset(&opts, 0, sizeof(opts));
	tcp_opt_segment(tcb, &opts);
	tcp_send_raw(tcb->st, &tcb->t, tcb->snd_una - 1, tcb->rcv_nxt, SYNACK_TH_ACK,
	             tcp_wnd_to_wire(tcb, tcp_rcv_window(tcb), 0), &opts, NULL, 0, 0, tcb->iss,
	             tcb->irs);
	tcb->rcv_acked = tcb->rcv_nxt;
	tcb->delack_at = SYNACK_NEVER;
}

/*
 * The retransmission timer expired (RFC 6298 5.4): send the earliest
 * unacknowledged segment again, whatever the windows say.  With nothing
 * outstanding it is the persist timer (RFC 9293 3.8.6.1): a zero window
 * is probed; a window too small for silly-window avoidance gets what it
 * can take.
 */
void tcp_retransmit(struct tcb *tcb)
{
	struct tcp_layer *st = tcb->st;
	tcb->rtt_timing = 0;
	/* Our SYN is unacknowledged (SND.UNA = ISS, below the first data
	 * byte): it goes again, whatever state a CLOSE took the connection
	 * to (SYN-RECEIVED -> FIN-WAIT-1 after a simultaneous open).  The
	 * test is on the sequence numbers, not the state: data or a FIN
	 * sent at ISS without the SYN flag would be a different segment
	 * under the same number.  The FIN follows once the SYN is
	 * acknowledged (its own timer). */
	if (tcb->snd_una == tcb->iss && seq_lt(tcb->snd_una, tcb->snd_buf_seq)) {
		tcp_send_syn(tcb);
		STAT_INC(st, RetransSegs);
		tcb->total_retrans++;
		return;
	}
	if (!can_send_data(tcb->state))
		return;
	if (tcb->snd_una == tcb->snd_max) {
		uint32_t len = segment_len(tcb, tcb->snd_nxt);
		if (len == 0)
			return;
		if (tcb->snd_wnd == 0) {
			STAT_INC(st, WinProbes);
			tcp_send_probe(tcb);
			return;
		}
		if (len > tcb->snd_wnd)
			len = tcb->snd_wnd;
		tcb->snd_nxt += xmit(tcb, tcb->snd_nxt, len);
		return;
	}
	tcp_retransmit_head(tcb);
}
