/*
 * TCP Fast Open (RFC 7413), as Linux offers it: data in the SYN, taken by
 * a server that recognises the client's cookie, saving the round trip of
 * the handshake.
 *
 * Server (4.1.2, 4.2.2): a listener with a queue length (TCP_FASTOPEN)
 * answers a cookie request with a cookie, a MAC of the client's address
 * (SipHash under a key derived from the stack secret; Linux uses 8 bytes,
 * so do we); a SYN with a valid cookie makes the connection at once, in
 * SYN-RECEIVED and in the accept queue, its data delivered and
 * acknowledged by the SYN-ACK.  At most the queue length of these
 * connections may wait for their handshake to complete (Linux's
 * fastopenq), so a flood of replayed SYN data cannot exhaust the server
 * (RFC 7413 5.1).  An invalid cookie: a normal handshake, the data not
 * acknowledged, a fresh cookie in the SYN-ACK.
 *
 * Client (4.1.3, 4.2.1): a per-stack cache of cookies by server address.
 * TCP_FASTOPEN_CONNECT with a cookie defers the SYN to the first send,
 * which it carries; without one the SYN asks for a cookie.  A SYN-ACK that
 * acknowledges only the SYN means the data is sent again after the
 * handshake; a SYN that times out is sent again without data or cookie,
 * and a destination that drops SYN data is spared it for a while (Linux's
 * syn_loss backoff, 4.1.3.1).
 */
#include <stdlib.h>
#include <string.h>

#include "core/siphash.h"
#include "tcp/tcp.h"

/* Linux's cookie length (TCP_FASTOPEN_COOKIE_SIZE). */
#define TFO_COOKIE_LEN 8u

/* One server the client knows: its cookie and the MSS its SYN-ACK gave. */
struct tcp_tfo_entry {
	struct addr addr;
	uint64_t used;    /* tick of the last use, for the least recently used */
	uint64_t loss_at; /* when a SYN with data last timed out */
	uint16_t mss;
	uint8_t len; /* cookie bytes, 0 for none yet */
	uint8_t syn_loss;
	uint8_t cookie[WIRE_TFO_COOKIE_MAX];
};

struct tcp_tfo_cache {
	uint32_t n;
	uint64_t tick;
	struct tcp_tfo_entry e[];
};

void tcp_fastopen_fini(struct tcp_layer *tl)
{
	free(tl->tfo_cache);
	tl->tfo_cache = NULL;
}

uint64_t tcp_fastopen_bytes(const struct tcp_layer *tl)
{
	if (!tl->tfo_cache)
		return 0;
	return sizeof(struct tcp_tfo_cache) +
	       (uint64_t)ENV(tl)->cfg.fastopen_cache_size * sizeof(struct tcp_tfo_entry);
}

/* The entry for addr, or NULL; with make, a new one (the least recently
 * used replaced) when there is room for a cache at all. */
static struct tcp_tfo_entry *cache_find(struct tcp_layer *tl, const struct addr *addr, int make)
{
	uint32_t cap = ENV(tl)->cfg.fastopen_cache_size;
	if (cap == 0)
		return NULL;
	if (!tl->tfo_cache) {
		if (!make)
			return NULL;
		tl->tfo_cache = calloc(1, sizeof(struct tcp_tfo_cache) +
		                              (size_t)cap * sizeof(struct tcp_tfo_entry));
		if (!tl->tfo_cache)
			return NULL;
	}
	struct tcp_tfo_cache *c = tl->tfo_cache;
	struct tcp_tfo_entry *e = NULL;
	for (uint32_t i = 0; i < c->n; i++)
		if (addr_eq(&c->e[i].addr, addr)) {
			e = &c->e[i];
			break;
		}
	if (!e && make) {
		if (c->n < cap) {
			e = &c->e[c->n++];
		} else {
			e = &c->e[0];
			for (uint32_t i = 1; i < c->n; i++)
				if (c->e[i].used < e->used)
					e = &c->e[i];
		}
		memset(e, 0, sizeof(*e));
		e->addr = *addr;
	}
	if (e)
		e->used = ++c->tick;
	return e;
}

/* ------------------------------------------------------------------ */
/* Server (RFC 7413 4.1.2, 4.2.2).                                     */

/* The cookie for a client address: the first bytes of SipHash-2-4 of the
 * address under the stack's TFO key. */
static void cookie_make(const struct tcp_layer *tl, const struct addr *client,
                        uint8_t out[TFO_COOKIE_LEN])
{
	uint64_t h = siphash24(tl->key_tfo, client->w, sizeof(client->w));
	for (unsigned i = 0; i < TFO_COOKIE_LEN; i++)
		out[i] = (uint8_t)(h >> (8 * i));
}

static int cookie_valid(const struct tcp_layer *tl, const struct addr *client,
                        const struct wire_tcp_opts *o)
{
	uint8_t want[TFO_COOKIE_LEN];
	if (o->tfo != WIRE_TFO_COOKIE || o->tfo_len != TFO_COOKIE_LEN)
		return 0;
	cookie_make(tl, client, want);
	return memcmp(want, o->tfo_cookie, TFO_COOKIE_LEN) == 0;
}

uint32_t tcp_fastopen_qlen(const struct tcb *l)
{
	uint32_t f = ENV(l->st)->cfg.fastopen;
	const struct tcp_listen *q = tcp_lsn(l);
	if (!(f & SYNACK_FASTOPEN_SERVER))
		return 0;
	if (q->tfo_qlen == 0 && (f & SYNACK_FASTOPEN_SERVER_ALL))
		return q->backlog;
	return q->tfo_qlen;
}

void tcp_fastopen_set_qlen(struct tcb *l, uint32_t qlen)
{
	tcp_lsn(l)->tfo_qlen = qlen;
}

int tcp_fastopen_syn(struct tcb *l, const struct tcp_rx *s)
{
	struct tcp_layer *st = l->st;
	const struct wire_tcp *w = s->w;
	const struct wire_tcp_opts *o = &w->opts;
	struct tcp_listen *q = tcp_lsn(l);
	if (o->tfo == WIRE_TFO_REQUEST)
		STAT_INC(st, TCPFastOpenCookieReqd);
	/* Only a listener that takes TFO, for a SYN with data or the option
	 * (Linux's tcp_try_fastopen). */
	uint32_t qlen = tcp_fastopen_qlen(l);
	if (qlen == 0 || (!w->data_len && !o->tfo))
		return 0;
	/* RFC 7413 5.1: the connections made from SYN data and still in
	 * SYN-RECEIVED are limited; past it, a normal handshake without a
	 * cookie. */
	if (q->tfo_pending >= qlen) {
		STAT_INC(st, TCPFastOpenListenOverflow);
		return 0;
	}
	int back = o->tfo ? TCP_TFO_COOKIE : 0;
	if (ENV(st)->cfg.fastopen & SYNACK_FASTOPEN_SERVER_NO_COOKIE)
		return TCP_TFO_CHILD;
	if (o->tfo != WIRE_TFO_COOKIE)
		return back; /* a cookie request: answered */
	if (cookie_valid(st, &w->saddr, o)) {
		STAT_INC(st, TCPFastOpenPassive);
		return TCP_TFO_CHILD; /* no cookie back: the client has it */
	}
	STAT_INC(st, TCPFastOpenPassiveFail);
	return back;
}

int tcp_fastopen_child(struct tcb *c, const struct tcp_rx *s)
{
	const struct wire_tcp *w = s->w;
	/* The connection may send before the handshake completes, in the
	 * SYN-ACK's flight (tcp_output): its sender's state and congestion
	 * control come now, not with the ACK. */
	if (tcp_snd_new(c) != 0)
		return -1;
	tcp_cc_init(c);
	/* RFC 7413 4.2.2: the data is the application's at once, and the
	 * SYN-ACK acknowledges it (RCV.NXT past it).  A FIN with it is left
	 * for the client to send again. */
	uint32_t room = ring_space(&c->rcv_buf);
	uint32_t n = w->data_len < room ? w->data_len : room;
	n = ring_write_pool(&c->rcv_buf, &c->st->buf_pool, w->data, n);
	c->rcv_nxt += n;
	c->sender->bytes_received += n;
	c->tfo_child = 1;
	c->tfo_used = n != 0;
	return 0;
}

void tcp_fastopen_child_done(struct tcb *c)
{
	/* The connection left SYN-RECEIVED: it no longer counts against its
	 * listener's queue.  Found by its address, since accept() may have
	 * taken it from the listener's lists already. */
	struct tcb *l = tcp_listener_of(c);
	if (!l)
		l = tcp_find_listener(c->st, &c->t.laddr, c->t.lport);
	c->tfo_child = 0;
	if (l && tcp_lsn(l)->tfo_pending)
		tcp_lsn(l)->tfo_pending--;
}

void tcp_fastopen_opt(const struct tcb *tcb, struct wire_tcp_opts *o)
{
	if (tcb->state == SYNACK_SYN_SENT) {
		if (!tcb->tfo_req)
			return;
		/* Our SYN: the cookie we hold, else a request (RFC 7413
		 * 4.1.3). */
		struct tcp_tfo_entry *e = cache_find(tcb->st, &tcb->t.raddr, 0);
		o->tfo = WIRE_TFO_REQUEST;
		if (e && e->len) {
			o->tfo = WIRE_TFO_COOKIE;
			o->tfo_len = e->len;
			memcpy(o->tfo_cookie, e->cookie, e->len);
		}
		return;
	}
	if (!tcb->tfo_cookie_out)
		return;
	/* A SYN-ACK: the client's cookie, in the form it asked in. */
	o->tfo = WIRE_TFO_COOKIE;
	o->tfo_exp = tcb->tfo_exp;
	o->tfo_len = TFO_COOKIE_LEN;
	cookie_make(tcb->st, &tcb->t.raddr, o->tfo_cookie);
}

/* ------------------------------------------------------------------ */
/* Client (RFC 7413 4.1.3, 4.2.1).                                     */

int tcp_fastopen_connect(struct tcb *tcb)
{
	struct tcp_layer *st = tcb->st;
	uint32_t f = ENV(st)->cfg.fastopen;
	if (!(f & SYNACK_FASTOPEN_CLIENT))
		return 0;
	tcb->tfo_req = 1;
	struct tcp_tfo_entry *e = cache_find(st, &tcb->t.raddr, 0);
	/* 4.1.3.1 as Linux does it: after SYNs with data were lost more than
	 * once, none is sent to that server for 60 s << losses (capped). */
	if (e && e->syn_loss > 1) {
		unsigned sh = e->syn_loss < 10 ? e->syn_loss : 10;
		if (ENV(st)->now < e->loss_at + (60ull * 1000000u << sh))
			return 0;
	}
	if ((e && e->len) || (f & SYNACK_FASTOPEN_CLIENT_NO_COOKIE)) {
		tcb->tfo_defer = 1;
		return 1;
	}
	return 0;
}

void tcp_fastopen_send_syn(struct tcb *tcb)
{
	/* The data the SYN carries: what fits in a segment to this server
	 * (the MSS it gave before, or ours) less the most the options may
	 * take, as Linux's tcp_send_syn_data. */
	struct tcp_tfo_entry *e = cache_find(tcb->st, &tcb->t.raddr, 0);
	uint32_t mss = tcb->rcv_mss;
	if (e && e->mss && e->mss < mss)
		mss = e->mss;
	uint32_t room = mss > WIRE_TCP_MAX_OPT_LEN ? mss - WIRE_TCP_MAX_OPT_LEN : 0;
	uint32_t n = tcb->snd_buf.len < room ? tcb->snd_buf.len : room;
	tcb->tfo_defer = 0;
	tcb->tfo_syn_data = n != 0;
	tcb->snd_nxt = tcb->snd_max = tcb->iss + 1 + n;
	tcp_send_syn_first(tcb);
}

uint32_t tcp_fastopen_syn_len(const struct tcb *tcb)
{
	/* Only the first SYN: one sent again after a timeout goes without
	 * (tfo_req cleared), its data still counted as sent. */
	return tcb->tfo_syn_data && tcb->tfo_req ? tcb->snd_max - tcb->iss - 1 : 0;
}

void tcp_fastopen_syn_timeout(struct tcb *tcb)
{
	/* RFC 7413 4.1.3.1: the SYN, or what it carried, may be what the
	 * path drops: the next goes without data or cookie, and the server
	 * is remembered as one whose SYN data got lost.  The data stays in
	 * the sequence space sent (SND.MAX past it): a late SYN-ACK of the
	 * first SYN may still acknowledge it (tcp_fastopen_synack). */
	if (tcb->tfo_syn_data && tcb->tfo_req) {
		struct tcp_tfo_entry *e = cache_find(tcb->st, &tcb->t.raddr, 1);
		if (e) {
			if (e->syn_loss < 255)
				e->syn_loss++;
			e->loss_at = ENV(tcb->st)->now;
		}
	}
	tcb->tfo_req = 0;
}

void tcp_fastopen_synack(struct tcb *tcb, const struct tcp_rx *s)
{
	struct tcp_layer *st = tcb->st;
	const struct wire_tcp_opts *o = &s->w->opts;
	/* A cookie we asked for (an unsolicited one is ignored, as Linux;
	 * so is one after our SYN went again without the option). */
	if (tcb->tfo_req && o->tfo == WIRE_TFO_COOKIE) {
		struct tcp_tfo_entry *e = cache_find(st, &tcb->t.raddr, 1);
		if (e) {
			e->len = o->tfo_len;
			memcpy(e->cookie, o->tfo_cookie, o->tfo_len);
			e->mss = (uint16_t)tcp_opt_peer_mss(s->w);
		}
	}
	tcb->tfo_req = 0;
	if (!tcb->tfo_syn_data)
		return;
	tcb->tfo_syn_data = 0;
	uint32_t acked = s->ack - (tcb->iss + 1);
	if (acked) {
		/* RFC 7413 4.2.1: the server took the data. */
		STAT_INC(st, TCPFastOpenActive);
		ring_consume_pool(&tcb->snd_buf, &st->buf_pool, acked);
		tcb->snd_buf_seq += acked;
		tcb->bytes_acked += acked;
		tcb->tfo_used = 1;
		struct tcp_tfo_entry *e = cache_find(st, &tcb->t.raddr, 0);
		if (e)
			e->syn_loss = 0;
	} else {
		/* Only the SYN acknowledged: the data goes again once
		 * established, as new data (it was never recorded as sent). */
		STAT_INC(st, TCPFastOpenActiveFail);
	}
	tcb->snd_nxt = tcb->snd_max = s->ack;
}
