/*
 * TCB lifecycle: creation, the one function that changes state, the end of a
 * connection, the demux tables, and initial sequence numbers.  TIME_WAIT
 * records are tcp_timewait.c's, a listener's queues tcp_listen.c's.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/siphash.h"
#include "tcp/tcp.h"

struct tcb *tcp_tcb_new(struct tcp_layer *st)
{
	struct tcb *tcb = slab_alloc(&st->tcb_slab);
	if (!tcb)
		return NULL;
	mem_zero(tcb, sizeof(*tcb));
	tcb->st = st;
	tcb->h.node.kind = CONN_TCB;
	timer_node_init(&tcb->timer);
	tcb->state = SYNACK_CLOSED;
	tcb->state_since = ENV(st)->now;
	tcb->sockfd = -1;
	tcb->rto_us = ENV(st)->cfg.rto_initial_ms * 1000u;
	tcb->rtx_at = tcb->fin2_at = tcb->close_wait_at = SYNACK_NEVER;
	tcb->delack_at = tcb->ka_at = tcb->reclaim_at = SYNACK_NEVER;
	tcb->snd_mss = 536; /* RFC 9293 3.7.1: the default when no MSS option arrives */
	ring_init(&tcb->snd_buf, ENV(st)->cfg.wmem_default);
	ring_init(&tcb->rcv_buf, ENV(st)->cfg.rmem_default);
	ENV(st)->stats.conns_live++;
	return tcb;
}

struct tcb_rare *tcp_rare(struct tcb *tcb)
{
	if (tcb->rare)
		return tcb->rare;
	struct tcb_rare *r = slab_alloc(&tcb->st->rare_slab);
	if (!r)
		return NULL;
	memset(r, 0, sizeof(*r));
	r->oow_ack_at = SYNACK_NEVER;
	tcb->rare = r;
	return r;
}

void tcp_tcb_ext_free(struct tcb *tcb)
{
	tcp_listen_ext_free(tcb);
	tcp_snd_free(tcb);
	slab_free(&tcb->st->rare_slab, tcb->rare);
	tcb->rare = NULL;
}

void tcp_tcb_free(struct tcb *tcb)
{
	struct tcp_layer *st = tcb->st;
	timer_cancel(&st->timers, &tcb->timer);
	tcp_tcb_unhash(tcb);
	tcp_ofo_purge(tcb);
	ring_fini_pool(&tcb->snd_buf, &st->buf_pool);
	ring_fini_pool(&tcb->rcv_buf, &st->buf_pool);
	tcp_rcvq_free(tcb);
	tcp_tcb_ext_free(tcb);
	if (tcb->orphan)
		ENV(st)->stats.orphans_live--;
	ENV(st)->stats.conns_live--;
	slab_free(&st->tcb_slab, tcb);
}

int tcp_tcb_hash(struct tcb *tcb, int listening)
{
	struct tcp_layer *st = tcb->st;
	int err;
	if (tcb->h.node.table)
		return 0;
	tcb->h.node.key = tcb->t;
	if (listening) {
		/* The unspecified remote of the local address's family; a
		 * listener on :: with IPV6_V6ONLY comes keyed with 0.0.0.0
		 * (tcp_find_listener), which stays. */
		if (!addr_is_any(&tcb->t.raddr))
			tcb->h.node.key.raddr = addr_any_like(&tcb->t.laddr);
		tcb->h.node.key.rport = 0;
	}
	err = htable_insert(listening ? &st->listeners : &st->conns, &tcb->h.node);
	if (err == 0)
		tcb->h.node.table = listening ? HASHED_LISTENERS : HASHED_CONNS;
	return err;
}

void tcp_tcb_unhash(struct tcb *tcb)
{
	struct tcp_layer *st = tcb->st;
	if (!tcb->h.node.table)
		return;
	htable_remove(tcb->h.node.table == HASHED_LISTENERS ? &st->listeners : &st->conns,
	              &tcb->h.node);
	tcb->h.node.table = 0;
}

void tcp_trace_state(struct tcp_layer *st, const struct tuple *t, uint32_t iss, uint32_t irs,
                     int from, int to, int cause)
{
	struct trace_rec *r = trace_add(ENV(st), SYNACK_TRACE_STATE);
	if (!r)
		return;
	env_trace_tuple(ENV(st), r, t);
	r->from = (uint8_t)from;
	r->to = (uint8_t)to;
	r->cause = (uint8_t)cause;
	r->iss = iss;
	r->irs = irs;
}

static int counts_as_established(int state)
{
	/* RFC 4022 tcpCurrEstab: connections in ESTABLISHED or CLOSE-WAIT. */
	return state == SYNACK_ESTABLISHED || state == SYNACK_CLOSE_WAIT;
}

/*
 * Every state change goes through here, so that each one is traced with
 * its cause, counted, and timed (synack_conns shows the time in state).
 */
void tcp_set_state(struct tcb *tcb, int to, int cause)
{
	struct tcp_layer *st = tcb->st;
	int from = tcb->state;
	struct tcb *l;
	if (from == to)
		return;
	tcb->state = (uint8_t)to;
	tcb->state_since = ENV(st)->now;
	/* RFC 4022 tcpActiveOpens, tcpPassiveOpens, tcpAttemptFails and
	 * tcpEstabResets are defined by these transitions. */
	if (from == SYNACK_CLOSED && to == SYNACK_SYN_SENT)
		STAT_INC(st, ActiveOpens);
	/* A SYN cookie's connection goes from LISTEN straight to ESTABLISHED. */
	if (from == SYNACK_LISTEN && (to == SYNACK_SYN_RECEIVED || to == SYNACK_ESTABLISHED))
		STAT_INC(st, PassiveOpens);
	if ((from == SYNACK_SYN_SENT || from == SYNACK_SYN_RECEIVED) &&
	    (to == SYNACK_CLOSED || to == SYNACK_LISTEN))
		STAT_INC(st, AttemptFails);
	if (counts_as_established(from) && to == SYNACK_CLOSED)
		STAT_INC(st, EstabResets);
	if (counts_as_established(from) && !counts_as_established(to))
		STAT_DEC(st, CurrEstab);
	if (!counts_as_established(from) && counts_as_established(to))
		STAT_INC(st, CurrEstab);
	if (tcb->tfo_child && from == SYNACK_SYN_RECEIVED)
		tcp_fastopen_child_done(tcb);
	tcp_trace_state(st, &tcb->t, tcb->iss, tcb->irs, from, to, cause);
	if (tcb->sockfd >= 0)
		tcp_sock_event(st, tcb->sockfd, TCP_SOCK_READY, 0);
	else if ((l = tcp_listener_of(tcb)) && l->sockfd >= 0)
		tcp_sock_event(st, l->sockfd, TCP_SOCK_READY, 0);
}

/* RFC 6528: ISN = M + F(localip, localport, remoteip, remoteport, secretkey),
 * M a timer ticking every 4 microseconds, F a keyed hash. */
uint64_t tcp_tuple_hash(const struct tcp_layer *st, const struct tuple *t)
{
	uint8_t b[TUPLE_BYTES_MAX];
	size_t n = tuple_put(b, t);
	return siphash24(st->key_isn, b, n);
}

uint32_t tcp_isn(struct tcp_layer *st, const struct tuple *t, uint32_t *ts_offset)
{
	/* RFC 6528: the low half of the keyed hash offsets the clock; RFC
	 * 7323 7.1: the high half is the timestamp offset (tcp_ts_offset),
	 * one hash for both. */
	uint64_t h = tcp_tuple_hash(st, t);
	*ts_offset = (uint32_t)(h >> 32);
	return (uint32_t)h + (uint32_t)(ENV(st)->now / 4);
}

void tcp_tcb_release(struct tcb *tcb, int err)
{
	struct tcp_layer *st = tcb->st;
	tcp_unlink_child(tcb);
	if (tcb->sockfd >= 0) {
		tcp_sock_event(st, tcb->sockfd, TCP_SOCK_DETACH, err);
		tcb->sockfd = -1;
	}
	tcp_tcb_free(tcb);
}

/*
 * A connection that ends while it waits in the accept queue of a listener
 * the application still holds is kept there, as Linux keeps it (a reset
 * child stays in the queue, CLOSED, with its error): accept() hands it
 * out, its data can be read, then the error.  It keeps only its unread
 * data and err: out of the demux table (a new segment for the 4-tuple
 * finds the listener, as on Linux), no timer, no send side, no held
 * out-of-order text.
 */
static int keep_for_accept(const struct tcb *tcb)
{
	const struct tcb *l = tcp_listener_of(tcb);
	return tcb->in_acceptq && l && l->sockfd >= 0;
}

static void keep_in_acceptq(struct tcb *tcb, int err)
{
	timer_cancel(&tcb->st->timers, &tcb->timer);
	tcp_tcb_unhash(tcb);
	tcp_ofo_purge(tcb);
	tcp_snd_free(tcb);
	tcp_child(tcb)->err = err;
}

void tcp_done(struct tcb *tcb, int cause, int err)
{
	if (tcb->state != SYNACK_CLOSED)
		tcp_set_state(tcb, SYNACK_CLOSED, cause);
	if (keep_for_accept(tcb)) {
		keep_in_acceptq(tcb, err);
		return;
	}
	tcp_tcb_release(tcb, err);
}
