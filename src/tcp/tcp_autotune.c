/*
 * Buffer autotuning, as Linux does it: the receive buffer grows with what
 * the application reads per round trip (dynamic right-sizing, Linux's
 * tcp_rcv_space_adjust), the send buffer with the congestion window
 * (tcp_sndbuf_expand).  Both only grow, both stop at the settings'
 * rmem_max and wmem_max, and a buffer whose size the application set
 * (SO_RCVBUF, SO_SNDBUF: buf_locks) is left alone.  The window scale was
 * chosen from rmem_max (tcp_opt_open), so the window can always say what
 * the grown buffer holds.
 */
#include "tcp/tcp.h"

/* Linux's TCP_INIT_CWND: the first measure of what a round trip carries
 * is ten segments. */
#define RCV_SPACE_INIT_SEGS 10u

void tcp_autotune_init(struct tcb *tcb)
{
	uint32_t space = RCV_SPACE_INIT_SEGS * tcb->rcv_mss;
	tcb->rcv_space = space < tcb->rcv_buf.cap ? space : tcb->rcv_buf.cap;
	tcb->rcv_space_seq = tcb->rcv_nxt;
	tcb->rcv_space_at = ENV(tcb->st)->now;
}

void tcp_rcv_rtt_sample(struct tcb *tcb, const struct wire_tcp *w)
{
	/* Linux's tcp_rcv_rtt_measure_ts: data echoing one of our
	 * timestamps tells the receiver the round trip; the smallest recent
	 * sample counts at once, larger ones are smoothed in by 1/8. */
	if (!(tcb->options & SYNACK_TCPI_OPT_TIMESTAMPS) || !w->opts.has_ts ||
	    w->opts.ts_ecr == 0 || w->data_len == 0)
		return;
	uint32_t ticks = tcp_ts_clock(tcb->st) + tcb->ts_offset - w->opts.ts_ecr;
	if (ticks > INT32_MAX / 1000)
		return;
	uint32_t r = (ticks ? ticks : 1) * 1000u;
	if (tcb->rcv_rtt_us == 0 || r < tcb->rcv_rtt_us)
		tcb->rcv_rtt_us = r;
	else
		tcb->rcv_rtt_us = tcb->rcv_rtt_us - tcb->rcv_rtt_us / 8 + r / 8;
}

void tcp_rcv_space_adjust(struct tcb *tcb)
{
	const struct synack_config *cfg = &ENV(tcb->st)->cfg;
	uint64_t now = ENV(tcb->st)->now;
	/* The round trip as the receiver sees it, else as the sender does. */
	uint32_t rtt = tcb->rcv_rtt_us ? tcb->rcv_rtt_us : tcb->srtt_us;
	if (tcb->rcv_space == 0) {
		/* Closed before ESTABLISHED (from SYN-RECEIVED): no measure
		 * began there. */
		tcp_autotune_init(tcb);
		return;
	}
	if (rtt == 0 || now - tcb->rcv_space_at < rtt)
		return;
	/* What the application read in the last round trip. */
	uint32_t copied_seq = tcb->rcv_nxt - tcb->rcv_buf.len - tcb->rcv_fin;
	uint32_t copied = copied_seq - tcb->rcv_space_seq;
	if (copied > tcb->rcv_space) {
		/* Room for two round trips of it, and room to grow as fast
		 * as slow start does (Linux: 2 * copied + 16 MSS, plus twice
		 * the growth since the last measure). */
		uint64_t want = 2ull * copied + 16ull * tcb->rcv_mss;
		want += 2 * want * (copied - tcb->rcv_space) / tcb->rcv_space;
		if (want > cfg->rmem_max)
			want = cfg->rmem_max;
		if (!(tcb->buf_locks & TCP_LOCK_RCVBUF) && want > tcb->rcv_buf.cap)
			(void)ring_set_cap(&tcb->rcv_buf, (uint32_t)want);
		tcb->rcv_space = copied;
	}
	tcb->rcv_space_seq = copied_seq;
	tcb->rcv_space_at = now;
}

void tcp_snd_buf_expand(struct tcb *tcb)
{
	/* Linux's tcp_sndbuf_expand: room for twice the congestion window,
	 * so that the window never waits for the application while the
	 * ACKs of the last one come back. */
	if (tcb->buf_locks & TCP_LOCK_SNDBUF)
		return;
	uint64_t want = 2ull * tcb->cwnd;
	uint32_t max = ENV(tcb->st)->cfg.wmem_max;
	if (want > max)
		want = max;
	if (want > tcb->snd_buf.cap)
		(void)ring_set_cap(&tcb->snd_buf, (uint32_t)want);
}
