/*
 * The delivery rate (issue 13): draft-cheng-iccrg-delivery-rate-estimation,
 * as Linux's tcp_rate.c computes it for tcpi_delivery_rate, in bytes.
 *
 * Each transmit record takes, when it is sent, the connection's delivered
 * count, the time of its last delivery and the send time of the first
 * segment of the current sampling interval.  When an ACK delivers records
 * (cumulatively or by SACK), the most recently sent of them gives the
 * sample: the bytes delivered since it was sent, over the longer of its
 * send phase (from the interval's first send to its own) and its ACK phase
 * (from the delivery before it was sent to now), so that neither ACK
 * compression nor a burst of sends can inflate the rate.  A sample over
 * less than the minimum RTT is discarded (draft 3.3; Linux's tcp_rate_gen).
 * Samples taken while the application left the pipe unfilled are marked
 * app-limited: such a sample replaces the kept rate only when it is higher.
 */
#include "tcp/tcp.h"

void tcp_rate_sent(struct tcb *tcb, struct tcp_txrec *r)
{
	struct tcp_sender *s = tcb->sender;
	uint64_t now = ENV(tcb->st)->now;
	/* Nothing in flight: the sampling interval starts with this send
	 * (draft 3.2, "C.first_sent_time = C.delivered_time = Now"). */
	if (tcb->snd_una == tcb->snd_max)
		s->rate_first_tx = s->rate_dlv_time = now;
	r->first_tx = (uint32_t)s->rate_first_tx;
	r->dlv_time = (uint32_t)s->rate_dlv_time;
	r->dlv = s->rate_dlv;
	if (s->rate_app_limited)
		r->flags |= TXREC_APP_LIMITED;
	else
		r->flags &= (uint8_t)~TXREC_APP_LIMITED;
}

void tcp_rate_delivered(struct tcb *tcb, const struct tcp_txrec *r)
{
	struct tcp_sender *s = tcb->sender;
	uint32_t end = r->seq + r->len;
	s->rate_dlv += r->len;
	/* The sample comes from the most recently sent record this ACK
	 * delivers (RFC 8985's RACK_sent_after order). */
	if (s->rs_valid &&
	    !(r->xmit_at > s->rs_xmit || (r->xmit_at == s->rs_xmit && seq_gt(end, s->rs_end_seq))))
		return;
	s->rs_valid = 1;
	s->rs_prior_dlv = r->dlv;
	s->rs_prior_time = r->dlv_time;
	s->rs_app_limited = (r->flags & TXREC_APP_LIMITED) != 0;
	s->rs_retrans = (r->flags & TXREC_RETRANS) != 0;
	s->rs_xmit = r->xmit_at;
	s->rs_end_seq = end;
	/* The send phase of the interval; the next one starts with this
	 * record's send time. */
	s->rs_send_us = (uint32_t)r->xmit_at - r->first_tx;
	s->rate_first_tx = r->xmit_at;
}

void tcp_rate_gen(struct tcb *tcb)
{
	struct tcp_sender *s = tcb->sender;
	uint32_t now = (uint32_t)ENV(tcb->st)->now;
	/* The app-limited bubble has been delivered: it is gone. */
	if (s->rate_app_limited && seq_gt(s->rate_dlv, s->rate_app_limited))
		s->rate_app_limited = 0;
	if (!s->rs_valid)
		return;
	s->rs_valid = 0;
	s->rate_dlv_time = ENV(tcb->st)->now;
	uint32_t delivered = s->rate_dlv - s->rs_prior_dlv;
	uint32_t ack_us = now - s->rs_prior_time;
	uint32_t interval = s->rs_send_us > ack_us ? s->rs_send_us : ack_us;
	/* Shorter than a round trip: not a rate the path sustains. */
	if (interval == 0 || interval < s->rate_min_rtt_us)
		return;
	/* Keep the last sample that was not app-limited, or an app-limited
	 * one higher than what is kept (it is then no underestimate). */
	if (!s->rs_app_limited ||
	    (uint64_t)delivered * s->rate_interval_us >= (uint64_t)s->rate_delivered * interval) {
		s->rate_delivered = delivered;
		s->rate_interval_us = interval;
		s->rate_is_app_limited = s->rs_app_limited;
	}
}

void tcp_rate_check_app_limited(struct tcb *tcb)
{
	struct tcp_sender *s = tcb->sender;
	if (!s)
		return;
	uint32_t flight = tcp_cc_flight(tcb), fin = tcp_fin_seq(tcb);
	uint32_t unsent = seq_lt(tcb->snd_nxt, fin) ? fin - tcb->snd_nxt : 0;
	/* Linux's tcp_rate_check_app_limited: less than a segment waits to
	 * be sent, cwnd is not what limits, every lost segment was sent
	 * again.  What is delivered up to what is now in flight was sent
	 * app-limited. */
	if (unsent < tcb->snd_mss && flight < tcb->cwnd && s->lost == 0) {
		uint32_t mark = s->rate_dlv + flight;
		s->rate_app_limited = mark ? mark : 1;
	}
}

uint64_t tcp_rate_bps(const struct tcb *tcb, int *app_limited)
{
	const struct tcp_sender *s = tcb->sender;
	*app_limited = s ? s->rate_is_app_limited : 0;
	if (!s || s->rate_interval_us == 0)
		return 0;
	return (uint64_t)s->rate_delivered * 1000000u / s->rate_interval_us;
}
