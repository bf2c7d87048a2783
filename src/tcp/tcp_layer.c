/*
 * TCP's state in a stack (struct tcp_layer): made, torn down, its timers
 * run, and what it holds counted for synack_memory() and synack_stats().
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tcp/tcp.h"

/* The layer's caches of objects, for what is done to each of them. */
#define TCP_CACHES 9
static void tcp_caches(struct tcp_layer *tl, struct slab *out[TCP_CACHES])
{
	struct slab *c[TCP_CACHES] = {&tl->tcb_slab,       &tl->child_slab, &tl->rare_slab,
	                              &tl->txq_slab,       &tl->tw_slab,    &tl->buf_pool.small,
	                              &tl->buf_pool.first, &tl->ofo_slab,   &tl->rcvq_slab};
	memcpy(out, c, sizeof(c));
}

void tcp_pool_trim(struct tcp_layer *tl)
{
	uint32_t ms = ENV(tl)->cfg.pool_trim_ms;
	if (!ms) {
		tl->pool_trim_at = SYNACK_NEVER;
		return;
	}
	struct slab *caches[TCP_CACHES];
	tcp_caches(tl, caches);
	for (size_t i = 0; i < TCP_CACHES; i++)
		slab_trim(caches[i]);
	bslab_trim(&tl->sender_slab);
	tcp_rcvq_spare_trim(tl, 0);
	tl->pool_trim_at = ENV(tl)->now + (uint64_t)ms * 1000u;
}

int tcp_layer_init(struct tcp_layer *tl)
{
	timer_queue_init(&tl->timers);
	timer_node_init(&tl->tw_timer);
	/* The caches keep what a burst of this many connections frees. */
	slab_init(&tl->tcb_slab, sizeof(struct tcb), 256);
	slab_init(&tl->child_slab, sizeof(struct tcp_child), 256);
	slab_init(&tl->rare_slab, sizeof(struct tcb_rare), 256);
	bslab_init(&tl->sender_slab, sizeof(struct tcp_sender));
	slab_init(&tl->txq_slab, TCP_TXQ_FIRST_BYTES, 256);
	slab_init(&tl->tw_slab, sizeof(struct tw), 1024);
	ring_pool_init(&tl->buf_pool, 256);
	slab_init(&tl->ofo_slab, sizeof(struct ofo_seg) + ENV(tl)->cfg.mtu, 256);
	slab_init(&tl->rcvq_slab,
	          sizeof(struct rcv_ref) > sizeof(struct rcvq) ? sizeof(struct rcv_ref)
	                                                       : sizeof(struct rcvq),
	          256);
	/* The caches follow the load (issue 16, core/slab.h). */
	struct slab *caches[TCP_CACHES];
	tcp_caches(tl, caches);
	for (size_t i = 0; i < TCP_CACHES; i++)
		caches[i]->keep_pct = ENV(tl)->cfg.pool_keep_pct;
	tl->pool_trim_at = 0; /* the first tick starts the first period */
	/* The configuration was checked, so the name is known. */
	int cc = tcp_cc_lookup(ENV(tl)->cfg.congestion_control);
	tl->cc_default = cc < 0 ? 0 : (uint8_t)cc;
	if (htable_init(&tl->conns, tl->key_hash, 64) != 0)
		return -ENOMEM;
	if (htable_init(&tl->listeners, tl->key_hash, 16) != 0) {
		htable_fini(&tl->conns);
		return -ENOMEM;
	}
	return 0;
}

void tcp_each_kept_for_accept(const struct tcb *l, void (*fn)(void *ctx, struct tcb *c), void *ctx)
{
	struct tcb *c = tcp_acceptq_head(l);
	while (c) {
		struct tcb *next = tcp_child(c)->acq_next; /* fn may free c */
		if (c->state == SYNACK_CLOSED)
			fn(ctx, c);
		c = next;
	}
}

static void free_kept(void *ctx, struct tcb *c)
{
	(void)ctx;
	tcp_tcb_free(c);
}

struct collect {
	struct conn_head **v;
	size_t n, cap;
};

static void collect_conn(void *ctx, struct hnode *n)
{
	struct collect *c = ctx;
	if (c->n < c->cap)
		c->v[c->n++] = container_of(n, struct conn_head, node);
}

void tcp_layer_fini(struct tcp_layer *tl)
{
	/* The connections are collected first: freeing one takes it out of
	 * its table, which must not change while it is walked.  Teardown
	 * uses the one path that frees a TCB (it sends and traces nothing). */
	struct collect c = {0};
	c.cap = tl->conns.count + tl->listeners.count;
	c.v = c.cap ? malloc(c.cap * sizeof(*c.v)) : NULL;
	if (c.v) {
		htable_foreach(&tl->conns, collect_conn, &c);
		htable_foreach(&tl->listeners, collect_conn, &c);
		/* First the connections kept for accept(), which are in no
		 * table: found through their listeners' queues while every
		 * child in them is still there. */
		for (size_t i = 0; i < c.n; i++) {
			struct tcb *t = container_of(c.v[i], struct tcb, h);
			if (c.v[i]->node.kind == CONN_TCB && tcp_lsn(t))
				tcp_each_kept_for_accept(t, free_kept, NULL);
		}
		for (size_t i = 0; i < c.n; i++)
			if (c.v[i]->node.kind == CONN_TCB)
				tcp_tcb_free(container_of(c.v[i], struct tcb, h));
		free(c.v);
	}
	tcp_tw_free_all(tl);
	tcp_fastopen_fini(tl);
	tcp_rcvq_spare_trim(tl, 1);
	struct slab *caches[TCP_CACHES];
	tcp_caches(tl, caches);
	for (size_t i = 0; i < TCP_CACHES; i++)
		slab_fini(caches[i]);
	bslab_fini(&tl->sender_slab);
	htable_fini(&tl->conns);
	htable_fini(&tl->listeners);
	timer_queue_fini(&tl->timers);
}

static void sum_tcb_buffers(void *ctx, struct tcb *t)
{
	uint64_t *sum = ctx;
	*sum += t->snd_buf.len + tcp_unread(t) + t->ofo_bytes;
}

static void sum_buffers(void *ctx, struct hnode *n)
{
	struct conn_head *h = container_of(n, struct conn_head, node);
	if (h->node.kind == CONN_TCB) {
		struct tcb *t = container_of(h, struct tcb, h);
		if (tcp_lsn(t))
			tcp_each_kept_for_accept(t, sum_tcb_buffers, ctx);
		else
			sum_tcb_buffers(ctx, t);
	}
}

uint64_t tcp_bytes_buffered(const struct tcp_layer *tl)
{
	/* Summed on demand rather than tracked on every packet: the hot path
	 * stays free of bookkeeping. */
	uint64_t sum = 0;
	htable_foreach(&tl->conns, sum_buffers, &sum);
	htable_foreach(&tl->listeners, sum_buffers, &sum);
	return sum;
}

struct mem_walk {
	const struct tcp_layer *tl;
	struct synack_mem *m;
	uint64_t syn_pending; /* TCBs in SYN_RECEIVED */
	uint64_t syn_ext;     /* bytes of their child links, rare state and sender */
	uint64_t listen_ext;  /* bytes of listeners' queues */
	uint64_t rest;        /* bytes of quiet connections' compressed senders */
};

static uint64_t tcb_buffer_bytes(const struct tcp_layer *tl, const struct tcb *t)
{
	uint64_t b = (uint64_t)t->snd_buf.alloc + t->rcv_buf.alloc + tcp_snd_bytes(t);
	const struct rcvq *q = tcp_rcvq(t);
	if (q)
		b += sizeof(*q) + q->charge;
	for (const struct ofo_seg *o = t->ofo; o; o = o->next)
		b += tcp_ofo_bytes(tl, o);
	return b;
}

static void mem_kept(void *ctx, struct tcb *t)
{
	struct mem_walk *w = ctx;
	w->m->buffers += tcb_buffer_bytes(w->tl, t);
}

static void mem_conn(void *ctx, struct hnode *n)
{
	struct mem_walk *w = ctx;
	struct conn_head *h = container_of(n, struct conn_head, node);
	if (h->node.kind != CONN_TCB)
		return; /* TIME_WAIT records are counted as a whole */
	const struct tcb *t = container_of(h, struct tcb, h);
	if (t->state == SYNACK_SYN_RECEIVED) {
		w->syn_pending++;
		if (tcp_child(t))
			w->syn_ext += sizeof(struct tcp_child);
		if (t->rare)
			w->syn_ext += sizeof(struct tcb_rare);
		if (t->sender)
			w->syn_ext += sizeof(struct tcp_sender);
	}
	w->rest += tcp_snd_rest_bytes(t);
	if (tcp_lsn(t)) {
		w->listen_ext += sizeof(struct tcp_listen);
		tcp_each_kept_for_accept(t, mem_kept, w);
	}
	w->m->buffers += tcb_buffer_bytes(w->tl, t);
}

/*
 * Walks the tables rather than counting on every allocation: the answer is
 * exact, and the per-packet paths carry no bookkeeping for a question asked
 * rarely.  Every TCB is counted through conns_live, so one that sits in no
 * table (none should) would still be seen.
 */
void tcp_memory(const struct tcp_layer *tl, struct synack_mem *out)
{
	struct mem_walk w = {tl, out, 0, 0, 0, 0};
	htable_foreach(&tl->conns, mem_conn, &w);
	htable_foreach(&tl->listeners, mem_conn, &w);
	/* Child links, rare state and the sender's state are counted with
	 * their TCB: in syn_pending while the handshake is open, else in
	 * tcbs; transmit records with the buffers. */
	out->syn_pending = w.syn_pending * sizeof(struct tcb) + w.syn_ext;
	out->tcbs = (ENV(tl)->stats.conns_live - w.syn_pending) * sizeof(struct tcb) +
	            slab_live_bytes(&tl->child_slab) + slab_live_bytes(&tl->rare_slab) +
	            bslab_live_bytes(&tl->sender_slab) - w.syn_ext + w.listen_ext + w.rest;
	out->time_wait = tl->tw_records * sizeof(struct tw);
	out->cached += slab_cached_bytes(&tl->tcb_slab) + slab_cached_bytes(&tl->child_slab) +
	               slab_cached_bytes(&tl->rare_slab) + bslab_cached_bytes(&tl->sender_slab) +
	               slab_cached_bytes(&tl->txq_slab) + slab_cached_bytes(&tl->tw_slab) +
	               slab_cached_bytes(&tl->buf_pool.small) +
	               slab_cached_bytes(&tl->buf_pool.first) + slab_cached_bytes(&tl->ofo_slab) +
	               slab_cached_bytes(&tl->rcvq_slab) +
	               (uint64_t)tl->rx_spare_n * tl->rx_spare_size;
	out->other += tcp_fastopen_bytes(tl);
	out->other += htable_bytes(&tl->conns) + htable_bytes(&tl->listeners) +
	              timer_queue_bytes(&tl->timers);
}
