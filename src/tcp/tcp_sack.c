/*
 * SACK on the send side: the scoreboard over the transmit records (RFC
 * 6675 section 4's IsLost and SetPipe, NextSeg's first rule) and the
 * blocks of arriving ACKs (RFC 2018 3, D-SACK of RFC 2883 4).  Recovery
 * itself (when to enter it, PRR's window) is tcp_recovery.c's; the
 * records and their splitting are tcp_snd.c's.
 *
 * The scoreboard is the records' marks: TXREC_SACKED for what a block
 * covered, TXREC_LOST for what IsLost says is gone and has not been sent
 * again.  tcp_sack_update walks the records once, from the highest
 * down, so that "SACKed bytes above this one" is a running sum.
 */
#include "tcp/tcp.h"

/* Some record in [start, end) was sent more than once. */
static int sent_again(const struct tcb *tcb, uint32_t start, uint32_t end)
{
	for (uint32_t i = 0, n = tcp_snd_records(tcb); i < n; i++) {
		const struct tcp_txrec *r = tcp_snd_record(tcb, i);
		if (!seq_lt(r->seq, end))
			break;
		if (seq_gt(r->seq + r->len, start) && (r->flags & TXREC_RETRANS))
			return 1;
	}
	return 0;
}

/* A D-SACK block [start, end) arrived (RFC 2883): RACK widens its
 * reordering window (RFC 8985 6.2 step 4) and undo counts it.  A
 * duplicate of data we still hold counts for undo only if we sent that
 * data again (RFC 3708 3.2; Linux's tcp_sacktag_one): a copy the network
 * made of a segment sent once says nothing about our retransmissions, and
 * counting those undid reductions for real losses on a duplicating path.
 * Data already acknowledged is counted as it comes (its records are gone;
 * Linux's tcp_check_dsack counts so too). */
static void tcp_sack_dsack(struct tcb *tcb, uint32_t start, uint32_t end, int held)
{
	if (tcp_rack_on(tcb))
		tcp_rack_dsack(tcb);
	if (!held || sent_again(tcb, start, end))
		tcp_recovery_dsack_undo(tcb, end);
}

void tcp_sack_delivered(struct tcb *tcb, const struct tcp_txrec *r)
{
	struct tcp_sender *sd = tcb->sender;
	uint32_t end = r->seq + r->len;
	/* Sent once and delivered now, below the highest end an earlier ACK
	 * delivered: the network reordered it by that much (as Linux's
	 * tcp_sacktag_one and tcp_clean_rtx_queue find their reord).  A
	 * retransmission proves nothing: its copies may have crossed.  A
	 * copy the network duplicated is no delivery (it draws a D-SACK),
	 * so duplication alone never raises DupThresh. */
	if (!(r->flags & TXREC_RETRANS) && sd->rack_prior_valid && seq_lt(end, sd->rack_fack_prior))
		tcp_reordering_update(tcb, r->seq, sd->rack_fack_prior);
	/* RACK.fack (RFC 8985 6.2 step 3), Linux's highest SACKed end. */
	if (!sd->rack_fack_valid || seq_gt(end, sd->rack_fack)) {
		sd->rack_fack = end;
		sd->rack_fack_valid = 1;
	}
}

uint32_t tcp_sack_take(struct tcb *tcb, const struct wire_tcp_opts *o, uint32_t ack)
{
	struct tcp_layer *st = tcb->st;
	uint32_t newly = 0, floor = seq_gt(ack, tcb->snd_una) ? ack : tcb->snd_una;
	for (unsigned i = 0; i < o->sack_count; i++) {
		uint32_t start = o->sack[i].start, end = o->sack[i].end;
		if (!seq_lt(start, end)) {
			STAT_INC(st, TCPSACKDiscard);
			continue;
		}
		/* RFC 2883 4: the first block reports a duplicate when it lies
		 * below the cumulative ACK or inside the second block. */
		if (i == 0 && seq_leq(end, ack)) {
			STAT_INC(st, TCPDSACKRecv);
			tcp_sack_dsack(tcb, start, end, 0);
			continue;
		}
		if (i == 0 && o->sack_count > 1 && seq_geq(start, o->sack[1].start) &&
		    seq_leq(end, o->sack[1].end)) {
			STAT_INC(st, TCPDSACKOfoRecv);
			tcp_sack_dsack(tcb, start, end, 1);
			continue;
		}
		/* A block must lie within what we sent and the peer has not
		 * acknowledged (RFC 2018 3); anything else is ignored, as
		 * Linux's tcp_is_sackblock_valid does. */
		if (seq_gt(end, tcb->snd_max) || !seq_gt(end, floor) ||
		    seq_lt(start, tcb->snd_una - tcb->max_snd_wnd)) {
			STAT_INC(st, TCPSACKDiscard);
			continue;
		}
		int64_t m =
		    tcp_snd_mark(tcb, seq_lt(start, floor) ? floor : start, end, TXREC_SACKED);
		if (m > 0)
			newly += (uint32_t)m;
	}
	return newly;
}

void tcp_sack_update(struct tcb *tcb)
{
	struct tcp_sender *sd = tcb->sender;
	/* With RACK, time decides what is lost (RFC 8985 6.2; as Linux,
	 * the duplicate threshold then only shapes pipe).  There it stays
	 * the setting: the connection's raised DupThresh used there too
	 * (with limited transmit stretched to it) moved the defaults' 100
	 * Mbit/s duplicating and reordering path from 0.83 % of the bytes
	 * sent again needlessly to 1.15 %, and from 3.9 % sent again in all
	 * to 6.0 % (docs/PERFORMANCE.md, r13tail).  Without RACK it is the
	 * connection's (IsLost below). */
	int rack = tcp_rack_on(tcb);
	uint32_t dupthresh = rack ? ENV(tcb->st)->cfg.reordering : tcp_dupthresh(tcb);
	uint64_t bytes_above = (uint64_t)(dupthresh - 1) * tcb->snd_mss;
	uint32_t sacked_segs = 0;
	uint64_t sacked_above = 0;
	sd->sacked = sd->lost = sd->retrans_out = sd->pipe = 0;
	for (uint32_t i = tcp_snd_records(tcb); i-- > 0;) {
		struct tcp_txrec *r = tcp_snd_record(tcb, i);
		if (r->flags & TXREC_SACKED) {
			sacked_above += r->len;
			sacked_segs++;
			continue;
		}
		/* Deemed lost (by IsLost or RACK) and not sent again since:
		 * not in flight. */
		if (r->flags & TXREC_LOST) {
			sd->lost += r->len;
			continue;
		}
		/* RFC 6675 4, IsLost: DupThresh discontiguous SACKed segments
		 * above it, or more than (DupThresh - 1) * SMSS SACKed bytes. */
		int lost = sacked_segs >= dupthresh || sacked_above > bytes_above;
		if (lost && !(r->flags & TXREC_RETRANS) && !rack) {
			r->flags |= TXREC_LOST;
			sd->lost += r->len;
			continue;
		}
		/* SetPipe: (a) in flight unless lost, (b) and once more when
		 * sent again.  A segment RACK deemed lost after a timeout and
		 * sent again is in flight once (IsLost was true for it). */
		if (!lost && !(r->flags & TXREC_WAS_LOST))
			sd->pipe += r->len;
		if (r->flags & TXREC_RETRANS) {
			sd->pipe += r->len;
			sd->retrans_out += r->len;
		}
	}
	sd->sacked = (uint32_t)sacked_above;
}

int tcp_sack_head_lost(const struct tcb *tcb)
{
	return tcp_snd_records(tcb) && (tcp_snd_record(tcb, 0)->flags & TXREC_LOST);
}

uint32_t tcp_sack_output(struct tcb *tcb)
{
	struct tcp_sender *sd = tcb->sender;
	uint32_t cwnd = tcb->cwnd;
	uint32_t room = cwnd > sd->pipe ? cwnd - sd->pipe : 0;
	/* RFC 6675 5 step (C), NextSeg rule 1: the lowest hole deemed
	 * lost and not yet sent again, while cwnd - pipe allows. */
	uint32_t seq = tcb->snd_una;
	while (room && !tcb->txq_untracked) {
		uint32_t i, n = tcp_snd_records(tcb);
		for (i = 0; i < n; i++) {
			const struct tcp_txrec *r = tcp_snd_record(tcb, i);
			if ((r->flags & TXREC_LOST) && seq_geq(r->seq, seq))
				break;
		}
		if (i >= n)
			break;
		const struct tcp_txrec *r = tcp_snd_record(tcb, i);
		uint32_t len = r->len > tcb->snd_mss ? tcb->snd_mss : r->len;
		if (len > room && room < tcb->snd_mss)
			break;
		seq = r->seq;
		uint32_t used = tcp_retransmit_at(tcb, seq, len);
		if (used == 0)
			break;
		seq += used; /* xmit counted it in pipe */
		room = room > used ? room - used : 0;
	}
	return room;
}

uint32_t tcp_sack_skip(const struct tcb *tcb, uint32_t seq)
{
	/* RFC 6675 5.1: after a timeout, what the peer SACKed need not go
	 * again (the marks are kept, as Linux keeps them). */
	for (uint32_t i = 0, n = tcp_snd_records(tcb); i < n; i++) {
		const struct tcp_txrec *r = tcp_snd_record(tcb, i);
		if (seq_leq(r->seq + r->len, seq))
			continue;
		if (seq_gt(r->seq, seq) || !(r->flags & TXREC_SACKED))
			break;
		seq = r->seq + r->len;
	}
	return seq;
}

uint32_t tcp_sack_below(const struct tcb *tcb, uint32_t seq)
{
	uint32_t sum = 0;
	for (uint32_t i = 0, n = tcp_snd_records(tcb); i < n; i++) {
		const struct tcp_txrec *r = tcp_snd_record(tcb, i);
		if (!seq_lt(r->seq, seq))
			break;
		if (r->flags & TXREC_SACKED)
			sum += r->len;
	}
	return sum;
}
