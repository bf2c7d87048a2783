/*
 * TCP options for a connection (RFC 9293 3.1, 3.7.1): what we announce in
 * our SYN and SYN-ACK, and what we learn from the peer's.  The wire layer
 * parses and writes the option bytes (struct wire_tcp_opts); this module
 * decides what they mean.
 *
 * Today that is the MSS and SACK-permitted.  The options still to come
 * each have their place here:
 *   - window scale (RFC 7323 2): announced in tcp_opt_syn, learned in
 *     tcp_opt_learn, applied by tcp_wnd_to_wire and tcp_seg_wnd (tcp.h),
 *     whose shifts are the only place a window meets the 16-bit field;
 *   - timestamps and PAWS (RFC 7323 3, 5): announced in tcp_opt_syn, then
 *     on every segment, checked on arrival before the sequence check;
 *   - SACK-permitted (RFC 2018), announced in tcp_opt_syn and learned in
 *     tcp_opt_learn (done); the SACK blocks themselves come from
 *     tcp_rcv.c and are read by tcp_sack.c.
 * SYN cookies have no spare bits for them (see tcp_cookie.c).
 */
#include "tcp/tcp.h"

/* RFC 9293 3.7.1: the MSS assumed when the peer announces none. */
#define DEFAULT_MSS 536u

/* The smallest MSS we take from a peer: a tiny one must not make us loop
 * over one-byte segments. */
#define MIN_MSS 64u

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
}

uint32_t tcp_opt_peer_mss(const struct wire_tcp *w)
{
	return w->opts.has_mss ? w->opts.mss : DEFAULT_MSS;
}

void tcp_opt_learn(struct tcb *tcb, const struct wire_tcp *w)
{
	/* We send no segment larger than either side's MSS. */
	tcb->snd_mss = tcp_opt_peer_mss(w);
	if (tcb->snd_mss > tcb->rcv_mss)
		tcb->snd_mss = tcb->rcv_mss;
	if (tcb->snd_mss < MIN_MSS)
		tcb->snd_mss =
		    MIN_MSS; /* RFC 2018 2: SACK is used when both SYNs carried SACK-permitted;
		              * on a SYN-ACK ours did whenever the setting is on. */
	tcb->sack_ok = ENV(tcb->st)->cfg.sack && w->opts.sack_permitted;
}
