/*
 * The network layer's family-neutral parts: telling the IP versions apart
 * on input, and the outbox of datagrams for the caller of the stack.
 */
#include <errno.h>
#include <stdlib.h>

#include "net/net.h"

int net_layer_init(struct net_layer *n)
{
	n->pkt_size = ENV(n)->cfg.mtu;
	/* The ICMP error bucket starts full. */
	n->icmp_credit_us =
	    (uint64_t)ENV(n)->cfg.icmp_ratelimit_burst * ENV(n)->cfg.icmp_ratelimit_ms * 1000u;
	n->pkt_free_low = 0;
	n->pool_trim_at = 0; /* the first tick starts the first period */
	n->small_slab = bslab_new(sizeof(struct pkt) + NET_PKT_SMALL);
	if (!n->small_slab)
		return -ENOMEM;
	return route_init(n);
}

static void pkt_list_free(struct pkt *p)
{
	while (p) {
		struct pkt *next = p->next;
		net_pkt_release(p);
		p = next;
	}
}

void net_layer_fini(struct net_layer *n)
{
	pkt_list_free(n->out_head);
	pkt_list_free(n->pkt_free);
	pkt_list_free(n->small_free);
	pkt_list_free(n->lo_head);
	n->out_head = n->out_tail = n->pkt_free = n->small_free = n->lo_head = n->lo_tail = NULL;
	n->out_len = n->pkt_free_len = n->small_free_len = n->lo_len = 0;
	/* Small datagrams a link took out and still holds keep their blocks. */
	bslab_release(n->small_slab);
	n->small_slab = NULL;
	reasm4_fini(n);
	route_fini(n);
}

static uint64_t pkt_bytes(const struct net_layer *n, const struct pkt *p)
{
	return sizeof(struct pkt) + net_pkt_cap(n, p);
}

uint64_t net_memory(const struct net_layer *n)
{
	/* The queues hold both classes (at most outbox_max each). */
	uint64_t sum = (uint64_t)n->pkt_free_len * (sizeof(struct pkt) + n->pkt_size) +
	               (uint64_t)n->small_free_len * (sizeof(struct pkt) + NET_PKT_SMALL);
	for (const struct pkt *p = n->out_head; p; p = p->next)
		sum += pkt_bytes(n, p);
	for (const struct pkt *p = n->lo_head; p; p = p->next)
		sum += pkt_bytes(n, p);
	/* The small class's blocks: their free slots and headers. */
	sum += bslab_cached_bytes(n->small_slab);
	return sum + reasm4_memory(n);
}

/* Gives back the first k datagrams of a pool; returns how many it did. */
static uint32_t pool_give_back(struct pkt **head, uint32_t k)
{
	uint32_t i = 0;
	for (; i < k && *head; i++) {
		struct pkt *p = *head;
		*head = p->next;
		net_pkt_release(p);
	}
	return i;
}

void net_pool_trim(struct net_layer *n)
{
	uint32_t ms = ENV(n)->cfg.packet_pool_trim_ms;
	if (!ms) {
		n->pool_trim_at = SYNACK_NEVER;
		return;
	}
	/* pkt_free_low datagrams stayed in the pool the whole period. */
	n->pkt_free_len -= pool_give_back(&n->pkt_free, n->pkt_free_low);
	n->pkt_free_low = n->pkt_free_len;
	n->small_free_len -= pool_give_back(&n->small_free, n->small_free_low);
	n->small_free_low = n->small_free_len;
	bslab_trim(n->small_slab);
	n->pool_trim_at = ENV(n)->now + (uint64_t)ms * 1000u;
}

struct pkt *net_pkt_alloc_slow(struct net_layer *n)
{
	/* From malloc, one block each: a link may lend it to another stack
	 * (synack_output_block), which keeps it or gives it on. */
	struct pkt *p = malloc(sizeof(*p) + n->pkt_size);
	if (p) {
		p->next = NULL;
		p->len = 0;
		p->small = 0;
	}
	return p;
}

void net_pkt_adopt(struct net_layer *n, void *block)
{
	struct pkt *p = block;
	p->next = NULL;
	p->len = 0;
	p->small = 0;
	net_pkt_free(n, p);
}

struct pkt *net_pkt_alloc_small_slow(struct net_layer *n)
{
	if (n->pkt_size <= NET_PKT_SMALL) /* a tiny MTU: one class is enough */
		return net_pkt_alloc(n);
	struct pkt *p = bslab_alloc(n->small_slab);
	if (p) {
		p->next = NULL;
		p->len = 0;
		p->small = 1;
	}
	return p;
}

void net_outbox_push(struct net_layer *n, struct pkt *p)
{
	if (n->out_len >= ENV(n)->cfg.outbox_max) {
		STAT_INC(n, IpOutDiscards);
		env_count_drop(ENV(n), SYNACK_DROP_OUTBOX_FULL);
		net_pkt_free(n, p);
		return;
	}
	p->next = NULL;
	if (n->out_tail)
		n->out_tail->next = p;
	else
		n->out_head = p;
	n->out_tail = p;
	uint32_t held = ++n->out_len + n->out_taken;
	if (held > n->pkt_peak)
		n->pkt_peak = held;
}

void net_loopback_push(struct net_layer *n, struct pkt *p)
{
	if (n->lo_len >= ENV(n)->cfg.outbox_max) {
		STAT_INC(n, IpOutDiscards);
		env_count_drop(ENV(n), SYNACK_DROP_OUTBOX_FULL);
		net_pkt_free(n, p);
		return;
	}
	p->next = NULL;
	if (n->lo_tail)
		n->lo_tail->next = p;
	else
		n->lo_head = p;
	n->lo_tail = p;
	n->lo_len++;
}

/*
 * The token bucket of the ICMP errors we send.  Credit is kept in
 * microseconds of virtual time: one token is icmp_ratelimit_ms, the bucket
 * holds icmp_ratelimit_burst tokens.  Linux limits per destination
 * (icmp_ratelimit, a burst of 6) and globally (icmp_msgs_per_sec,
 * icmp_msgs_burst); one bucket for all destinations keeps no per-peer
 * state an attacker could make us allocate.  ICMPv4 and ICMPv6 errors
 * share the bucket, as they share the settings.
 */
int net_icmp_ratelimit_allows(struct net_layer *st)
{
	uint64_t token = (uint64_t)ENV(st)->cfg.icmp_ratelimit_ms * 1000u;
	uint64_t full = token * ENV(st)->cfg.icmp_ratelimit_burst;
	uint64_t gap = ENV(st)->now - st->icmp_credit_at;
	if (token == 0)
		return 1;
	st->icmp_credit_at = ENV(st)->now;
	st->icmp_credit_us = gap >= full - st->icmp_credit_us ? full : st->icmp_credit_us + gap;
	if (st->icmp_credit_us < token)
		return 0;
	st->icmp_credit_us -= token;
	return 1;
}
