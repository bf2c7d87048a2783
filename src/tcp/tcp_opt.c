/*
 * TCP options for a connection (RFC 9293 3.1, 3.7.1): what we announce in
 * our SYN and SYN-ACK, and what we learn from the peer's.  The wire layer
 * parses and writes the option bytes (struct wire_tcp_opts); this module
 * decides what they mean.
 *
 * The MSS (RFC 9293 3.7.1) and RFC 7323's two options:
 *   - window scale (RFC 7323 2): offered in tcp_opt_syn, agreed in
 *     tcp_opt_learn, applied by tcp_wnd_to_wire and tcp_seg_wnd (tcp.h),
 *     whose shifts are the only place a window meets the 16-bit field;
 *   - timestamps (RFC 7323 3, 4): offered in tcp_opt_syn, then on every
 *     segment (tcp_opt_segment); TS.Recent, RTTM and PAWS (RFC 7323 5)
 *     are tcp_input.c's, TIME_WAIT's are tcp_timewait.c's.
 * and SACK-permitted (RFC 2018), offered in tcp_opt_syn and agreed in
 * tcp_opt_learn; the SACK blocks themselves come from tcp_rcv.c and are
 * read by tcp_sack.c.
 * SYN cookies have no spare bits for them (see tcp_cookie.c).
 */
#include "tcp/tcp.h"

/* RFC 9293 3.7.1: the MSS assumed when the peer announces none. */
#define DEFAULT_MSS 536u
#define DEFAULT_MSS6 1220u

uint32_t tcp_ts_offset(const struct tcp_layer *st, const struct tuple *t)
{
	/* RFC 7323 7.1: a random offset per connection, so that the clock
	 * tells an observer neither our uptime nor which connections share
	 * a host; from a keyed hash of the 4-tuple (as Linux's
	 * tcp_timestamps = 1), so a new incarnation of a 4-tuple counts on
	 * from the old one and RFC 6191 can tell them apart.  The half of
	 * the ISN's hash that the ISN does not use (tcp_isn). */
	return (uint32_t)(tcp_tuple_hash(st, t) >> 32);
}

/* RFC 7323 2.3: the smallest shift that lets the field carry the largest
 * window we may offer, at most 14 (as Linux's tcp_select_initial_window). */
static uint8_t wscale_for(uint32_t space)
{
	uint8_t shift = 0;
	while (space > 65535u && shift < 14) {
		space >>= 1;
		shift++;
	}
	return shift;
}

void tcp_opt_open(struct tcb *tcb)
{
	const struct synack_config *cfg = &ENV(tcb->st)->cfg;
	tcb->options = 0;
	tcb->snd_wscale = tcb->rcv_wscale = 0;
	if (cfg->timestamps)
		tcb->options |= SYNACK_TCPI_OPT_TIMESTAMPS; /* ts_offset came with the ISN */
	if (cfg->window_scaling) {
		tcb->options |= SYNACK_TCPI_OPT_WSCALE;
		tcb->rcv_wscale = tcp_opt_wscale_of(tcb);
	}
}

uint8_t tcp_opt_wscale_of(const struct tcb *tcb)
{
	/* The largest buffer we may grow to decides the shift, since it
	 * cannot change later: rmem_max, or the size SO_RCVBUF fixed before
	 * connect() or listen(), as on Linux. */
	uint32_t space =
	    (tcb->buf_locks & TCP_LOCK_RCVBUF) ? tcb->rcv_buf.cap : ENV(tcb->st)->cfg.rmem_max;
	if (space < tcb->rcv_buf.cap)
		space = tcb->rcv_buf.cap;
	return wscale_for(space);
}

void tcp_opt_syn(const struct tcb *tcb, struct wire_tcp_opts *o)
{
	/* RFC 9293 3.7.1: announce the MSS we can receive. */
	o->has_mss = 1;
	o->mss = (uint16_t)tcb->rcv_mss;
	/* RFC 2018 2: SACK-permitted in a SYN, and in a SYN-ACK only when
	 * the SYN it answers carried it.  A listener's cookie SYN-ACK keeps
	 * nothing, so it never offers SACK (tcp_cookie.c). */
	o->sack_permitted =
	    ENV(tcb->st)->cfg.sack && (tcb->state == SYNACK_SYN_SENT || tcb->sack_ok);
	/* RFC 7323 2.2: the shift we will apply to the windows we send; a
	 * SYN-ACK carries it only when the SYN did (tcb->options says). */
	if (tcb->options & SYNACK_TCPI_OPT_WSCALE) {
		o->has_wscale = 1;
		o->wscale = tcb->rcv_wscale;
	}
	/* RFC 7323 3.2: TSecr is TS.Recent, the SYN's TSval in a SYN-ACK,
	 * and zero in a SYN (nothing has been received). */
	tcp_opt_segment(tcb, o);
	/* RFC 7413 4.1.1: a cookie or a cookie request (tcp_fastopen.c). */
	tcp_fastopen_opt(tcb, o);
}

void tcp_opt_segment(const struct tcb *tcb, struct wire_tcp_opts *o)
{
	if (!(tcb->options & SYNACK_TCPI_OPT_TIMESTAMPS))
		return;
	o->has_ts = 1;
	o->ts_val = tcp_ts_clock(tcb->st) + tcb->ts_offset;
	o->ts_ecr = tcb->state == SYNACK_SYN_SENT ? 0 : tcb->ts_recent;
}

uint32_t tcp_opt_peer_mss(const struct wire_tcp *w)
{
	/* RFC 9293 3.7.1: without the option, 536 over IPv4; RFC 8200 8.3:
	 * 1220 over IPv6 (its minimum MTU, 1280, less 60 bytes of headers). */
	if (w->opts.has_mss)
		return w->opts.mss;
	return addr_is_v4(&w->saddr) ? DEFAULT_MSS : DEFAULT_MSS6;
}

void tcp_opt_learn(struct tcb *tcb, const struct wire_tcp *w)
{
	/* We send no segment larger than either side's MSS. */
	tcb->snd_mss = tcp_opt_peer_mss(w);
	if (tcb->snd_mss > tcb->rcv_mss)
		tcb->snd_mss = tcb->rcv_mss;
	/* RFC 7323 2.2 and 3.2: an option is in effect only when both SYNs
	 * carried it; our offer stands in tcb->options until now. */
	if (!w->opts.has_wscale)
		tcb->options &= (uint8_t)~SYNACK_TCPI_OPT_WSCALE;
	if (!w->opts.has_ts)
		tcb->options &= (uint8_t)~SYNACK_TCPI_OPT_TIMESTAMPS;
	if (tcb->options & SYNACK_TCPI_OPT_WSCALE) {
		tcb->snd_wscale = w->opts.wscale; /* at most 14: the wire layer clamps */
	} else {
		tcb->snd_wscale = tcb->rcv_wscale = 0;
	}
	if (tcb->options & SYNACK_TCPI_OPT_TIMESTAMPS) {
		tcb->ts_recent = w->opts.ts_val;
		tcb->ts_recent_at = ENV(tcb->st)->now;
	}
	/* The timestamps take 12 bytes of every segment: the data gives
	 * them up, as Linux's mss_cache does (RFC 9293 3.7.1: the MSS counts
	 * neither header nor options). */
	tcb->snd_mss -= tcp_opt_overhead(tcb);
	if (tcb->snd_mss < TCP_MIN_MSS)
		tcb->snd_mss = TCP_MIN_MSS;
	/* RFC 2018 2: SACK is used when both SYNs carried SACK-permitted;
	 * on a SYN-ACK ours did whenever the setting is on. */
	tcb->sack_ok = ENV(tcb->st)->cfg.sack && w->opts.sack_permitted;
}
