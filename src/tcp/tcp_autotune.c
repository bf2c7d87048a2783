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

/* Where the window-based measure of the round trip ends: one advertised
 * window past RCV.NXT (Linux's rcv_nxt + rcv_wnd, the window being what
 * the last ACK offered beyond what it acknowledged). */
static void rcv_rtt_window_begin(struct tcb *tcb)
{
	uint32_t now = (uint32_t)ENV(tcb->st)->now;
	tcb->sender->rcv_rtt_seq = tcb->rcv_nxt + (tcb->rcv_adv - tcb->rcv_acked);
	tcb->sender->rcv_rtt_at = now ? now : 1; /* 0: no measure yet */
}

void tcp_autotune_init(struct tcb *tcb)
{
	uint32_t space = RCV_SPACE_INIT_SEGS * tcb->rcv_mss;
	tcb->rcv_space = space < tcb->rcv_buf.cap ? space : tcb->rcv_buf.cap;
	tcb->rcv_space_seq = tcb->rcv_nxt;
	tcb->rcv_space_at = (uint32_t)ENV(tcb->st)->now;
	/* The first data begins the window's measure (the time before it
	 * is the application's, not the path's).  The measure lives in the
	 * sender's state; a connection closed in SYN-RECEIVED has none and
	 * takes no more data to measure. */
	if (tcb->sender)
		tcb->sender->rcv_rtt_at = 0;
}

/*
 * The receiver's round trip, as Linux keeps it (tcp_rcv_rtt_update): a
 * sample smaller than the estimate replaces it at once; a larger one is
 * smoothed in by 1/8 if it measured the round trip, but not while the
 * application has data it has not read (the round trip would grow with
 * its slowness to drain the queue, and the buffer with it), and never if
 * it only bounds the round trip from above (bound: the window's samples,
 * which include the time the sender took to fill it, and a timestamp's
 * of one tick).
 */
static void rcv_rtt_update(struct tcb *tcb, uint32_t r, int bound)
{
	if (tcb->rcv_rtt_us == 0 || r < tcb->rcv_rtt_us)
		tcb->rcv_rtt_us = r;
	else if (!bound && tcp_unread(tcb) == 0)
		tcb->rcv_rtt_us = tcb->rcv_rtt_us - tcb->rcv_rtt_us / 8 + r / 8;
}

void tcp_rcv_rtt_sample(struct tcb *tcb, const struct wire_tcp *w)
{
	/* Linux's tcp_rcv_rtt_measure_ts: data echoing one of our
	 * timestamps tells the receiver the round trip. */
	if (!(tcb->options & SYNACK_TCPI_OPT_TIMESTAMPS) || !w->opts.has_ts ||
	    w->opts.ts_ecr == 0 || w->data_len == 0)
		return;
	uint32_t ticks = tcp_ts_clock(tcb->st) + tcb->ts_offset - w->opts.ts_ecr;
	/* An echo within the tick it was sent in says only that the round
	 * trip is shorter than the timestamp clock's tick (RFC 7323 5.4;
	 * 1 ms here).  Counted as a whole tick, it sized the buffer for a
	 * millisecond of data on paths of microseconds: megabytes at memory
	 * speed, where the copies then miss the cache.  Linux 6.16 drops
	 * such samples too ("tcp: remove zero TCP TS samples for
	 * autotuning") and relies on the window's (tcp_rcv_rtt_window). */
	if (ticks == 0 || ticks > INT32_MAX / 1000)
		return;
	/* One tick says no more than that the round trip is shorter than
	 * two (the echo may have left at the end of a tick and come back at
	 * the start of the next, or a whole tick later): a bound, kept only
	 * when smaller, as the window's samples are.  Smoothed in, a stream
	 * of them raised a round trip of microseconds to a millisecond
	 * whenever the sender paused between segments. */
	rcv_rtt_update(tcb, ticks * 1000u, ticks == 1);
}

void tcp_rcv_rtt_window(struct tcb *tcb)
{
	/* Linux's tcp_rcv_rtt_measure: the data that ends the window
	 * offered when the measure began has arrived.  The sender could
	 * not send it before that window reached it, so the time since is
	 * at least a round trip, plus however long the sender took to fill
	 * the window: an upper bound, in microseconds, which on a path
	 * shorter than the timestamp's tick is the only measure there is. */
	if (tcb->sender->rcv_rtt_at == 0) {
		rcv_rtt_window_begin(tcb);
		return;
	}
	if (seq_lt(tcb->rcv_nxt, tcb->sender->rcv_rtt_seq))
		return;
	uint32_t r = (uint32_t)ENV(tcb->st)->now - tcb->sender->rcv_rtt_at;
	if (r <= INT32_MAX)
		rcv_rtt_update(tcb, r ? r : 1, 1);
	rcv_rtt_window_begin(tcb);
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
	if (rtt == 0 || (uint32_t)now - tcb->rcv_space_at < rtt)
		return;
	/* What the application read in the last round trip. */
	uint32_t unread = tcp_unread(tcb);
	uint32_t copied_seq = tcb->rcv_nxt - unread - tcb->rcv_fin;
	uint32_t copied = copied_seq - tcb->rcv_space_seq;
	/* Less what still waits in the queue: an application that does not
	 * drain it in a round trip needs no larger buffer for what it reads
	 * (Linux: "tcp: add receive queue awareness in
	 * tcp_rcv_space_adjust()"). */
	copied = copied > unread ? copied - unread : 0;
	if (copied > tcb->rcv_space) {
		/* Room for two round trips of it, and room to grow as fast
		 * as slow start does (Linux: 2 * copied + 16 MSS, plus twice
		 * the growth since the last measure).  Slow start at most
		 * doubles what a round trip carries: a larger growth is an
		 * application reading in bursts, or a measure longer than
		 * the round trip, and counted whole it multiplied the buffer
		 * by up to 2 x copied / rcv_space at once (megabytes for an
		 * in-memory path whose round trip is microseconds); it counts
		 * as a doubling. */
		uint64_t want = 2ull * copied + 16ull * tcb->rcv_mss;
		uint32_t growth = copied - tcb->rcv_space;
		if (growth > tcb->rcv_space)
			growth = tcb->rcv_space;
		want += 2 * want * growth / tcb->rcv_space;
		if (want > cfg->rmem_max)
			want = cfg->rmem_max;
		if (!(tcb->buf_locks & TCP_LOCK_RCVBUF) && want > tcb->rcv_buf.cap)
			(void)ring_set_cap(&tcb->rcv_buf, (uint32_t)want);
		tcb->rcv_space = copied;
	}
	tcb->rcv_space_seq = copied_seq;
	tcb->rcv_space_at = (uint32_t)now;
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
