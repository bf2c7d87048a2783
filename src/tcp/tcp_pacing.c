/*
 * Pacing (issue 13), as Linux's internal TCP pacing (the one it runs
 * without the fq qdisc: tcp_update_pacing_rate, tcp_update_skb_after_send,
 * tcp_pacing_check).  Without it a sender puts each window out in a burst
 * at the speed of its link, and in slow start, where every ACK releases
 * two segments, the bursts grow until a queue shallower than a round
 * trip's worth overflows before the RTT the queue adds could tell
 * HyStart++ (RFC 9406) to stop.  Paced, segments leave at a rate of
 *
 *   max(cwnd, flight) / SRTT x pacing_ss_ratio %   while cwnd < ssthresh / 2
 *   max(cwnd, flight) / SRTT x pacing_ca_ratio %   after (Linux: 200 %, 120 %)
 *
 * in bursts of at most about a millisecond's worth (Linux's TSO autosizing:
 * the rate >> sk_pacing_shift 10, at least two segments, at most 64 KiB),
 * so the queue sees the rate and the RTT grows smoothly.  A connection
 * keeps the earliest time its next segment may leave (Linux's
 * tcp_wstamp_ns, here sender->pace_ns); tcp_output stops when that is
 * more than a burst ahead of the clock and the connection's timer (the
 * pace_at deadline) sends the rest.  Where the rate does not bind, as on
 * an in-memory link whose RTT is microseconds, the cost is one comparison
 * per segment and a division per segment sent.
 */
#include "tcp/tcp.h"

/* Linux's sch_fq and internal pacing leave the first ten segments
 * unpaced (tcp_update_skb_after_send, data_segs_out >= 10): nothing is
 * known of the path yet. */
#define TCP_PACE_FREE_SEGS 10u
/* Linux's sk_pacing_shift (a burst of rate >> 10 bytes, about 1 ms) and
 * GSO's largest burst. */
#define PACE_SHIFT 10u
#define PACE_BURST_MAX 65536u
#define NS_PER_S 1000000000ull

static uint64_t pacing_rate(const struct tcb *tcb)
{
	const struct synack_config *cfg = &ENV(tcb->st)->cfg;
	uint32_t srtt = tcb->sender->pace_srtt_us;
	if (!cfg->pacing || srtt == 0)
		return 0;
	/* Linux's tcp_update_pacing_rate: "Normal Slow Start condition is
	 * (tp->snd_cwnd < tp->snd_ssthresh); if snd_cwnd >= snd_ssthresh / 2
	 * we are approaching the end of slow start and should slow down." */
	uint32_t ratio =
	    tcb->cwnd < tcb->ssthresh / 2 ? cfg->pacing_ss_ratio : cfg->pacing_ca_ratio;
	uint32_t flight = tcp_cc_flight(tcb);
	uint64_t w = tcb->cwnd > flight ? tcb->cwnd : flight;
	/* bytes / s = w x ratio / 100 x 10^6 / SRTT(us); w < 2^32, ratio
	 * <= 1000: no overflow. */
	return w * ratio * 10000u / srtt;
}

void tcp_pacing_update(struct tcb *tcb)
{
	struct tcp_sender *s = tcb->sender;
	uint64_t rate = pacing_rate(tcb);
	s->pace_rate = rate;
	if (rate == 0)
		return;
	/* The burst that may leave at once (Linux's tcp_tso_autosize), as
	 * time at the rate; never less than a tick of our clock, which is
	 * as soon as a timer can wait for. */
	uint64_t burst = rate >> PACE_SHIFT;
	if (burst < 2ull * tcb->snd_mss)
		burst = 2ull * tcb->snd_mss;
	if (burst > PACE_BURST_MAX)
		burst = PACE_BURST_MAX;
	s->pace_slack_ns = burst * NS_PER_S / rate;
	if (s->pace_slack_ns < 1000u)
		s->pace_slack_ns = 1000u;
}

void tcp_pacing_sent(struct tcb *tcb, uint32_t len)
{
	struct tcp_sender *s = tcb->sender;
	if (!s)
		return;
	uint64_t now_ns = ENV(tcb->st)->now * 1000u, prior = s->pace_ns;
	if (s->pace_ns < now_ns)
		s->pace_ns = now_ns;
	if (s->pace_segs < TCP_PACE_FREE_SEGS) {
		s->pace_segs++;
		return;
	}
	if (s->pace_rate == 0)
		return;
	/* Linux's tcp_update_skb_after_send: the time the segment takes at
	 * the rate, less up to half of it for the time the connection stood
	 * idle before (the credit, "OS jitter"). */
	uint64_t len_ns = (uint64_t)len * NS_PER_S / s->pace_rate, credit = s->pace_ns - prior;
	len_ns -= len_ns / 2 < credit ? len_ns / 2 : credit;
	s->pace_ns += len_ns;
}

void tcp_pacing_hold(struct tcb *tcb)
{
	/* The timer fires when the whole burst's time has passed (the
	 * next burst may then go), rounded up to our clock's microsecond. */
	uint64_t at = (tcb->sender->pace_ns + 999u) / 1000u;
	if (at < tcb->sender->pace_at) {
		tcb->sender->pace_at = at;
		tcp_rearm(tcb);
	}
}

void tcp_pacing_timeout(struct tcb *tcb)
{
	tcb->sender->pace_at = SYNACK_NEVER;
	tcp_output(tcb);
}
