/*
 * The network layer's family-neutral parts: telling the IP versions apart
 * on input, and the outbox of datagrams for the caller of the stack.
 */
#include <errno.h>
#include <stdlib.h>

#include "net/net.h"

void net_layer_init(struct net_layer *n)
{
	n->pkt_size = ENV(n)->cfg.mtu;
	/* The ICMP error bucket starts full. */
	n->icmp_credit_us =
	    (uint64_t)ENV(n)->cfg.icmp_ratelimit_burst * ENV(n)->cfg.icmp_ratelimit_ms * 1000u;
}

static void pkt_list_free(struct pkt *p)
{
	while (p) {
		struct pkt *next = p->next;
		free(p);
		p = next;
	}
}

void net_layer_fini(struct net_layer *n)
{
	pkt_list_free(n->out_head);
	pkt_list_free(n->pkt_free);
	n->out_head = n->out_tail = n->pkt_free = NULL;
	n->out_len = n->pkt_free_len = 0;
}

int net_input(struct net_layer *st, const uint8_t *pkt, size_t len, struct net_up *up)
{
	/* IPv6 (version 6) will be told apart here. */
	return ip4_input(st, pkt, len, up);
}

struct pkt *net_pkt_alloc(struct net_layer *n)
{
	struct pkt *p = n->pkt_free;
	if (p) {
		n->pkt_free = p->next;
		n->pkt_free_len--;
	} else {
		p = malloc(sizeof(*p) + n->pkt_size);
		if (!p)
			return NULL;
	}
	p->next = NULL;
	p->len = 0;
	return p;
}

void net_pkt_free(struct net_layer *n, struct pkt *p)
{
	/* Keep a bounded free list so a burst does not pin memory forever. */
	if (n->pkt_free_len >= 256) {
		free(p);
		return;
	}
	p->next = n->pkt_free;
	n->pkt_free = p;
	n->pkt_free_len++;
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
	n->out_len++;
}
