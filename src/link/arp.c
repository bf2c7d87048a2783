/*
 * Ethernet framing and ARP (RFC 826) for TAP links; see arp.h for the shape.
 *
 * The cache is a small array searched linearly: a link has a handful of
 * neighbours (the kernel's end of the device, a few hosts on its prefix),
 * and the array is bounded by cache_max so hostile ARP traffic cannot grow
 * it.  Only ARP frames addressed to us (or answering our requests, or
 * updating an entry we already hold) are learnt from, as RFC 826's merge
 * rule says, so other hosts' chatter costs nothing.
 */
#include "link/arp.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

enum arp_state {
	ARP_INCOMPLETE = 1, /* requests out, datagrams held */
	ARP_REACHABLE,      /* resolved; due = end of its lifetime */
	ARP_PROBE,          /* lifetime over while in use: confirming, still used */
};

struct arp_entry {
	uint32_t addr;
	uint8_t mac[6];
	int state;
	uint64_t due;           /* next request (INCOMPLETE, PROBE) or end of life */
	uint64_t used;          /* last time a datagram went to it */
	uint64_t confirmed;     /* last time it was resolved or confirmed */
	uint32_t tries;         /* requests sent in this round */
	struct neigh_fifo held; /* datagrams waiting for the MAC */
};

static const uint8_t BROADCAST[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
static const uint8_t ZERO_MAC[6] = {0};

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static void drop(struct arp *a, int reason)
{
	a->stats->drops[reason]++;
}

static int is_ours(const struct arp *a, uint32_t ip)
{
	if (ip == a->addr)
		return 1;
	for (uint32_t i = 0; i < a->nextra; i++)
		if (ip == a->extra[i])
			return 1;
	return 0;
}

int arp_add_addr(struct arp *a, uint32_t addr)
{
	if (is_ours(a, addr))
		return 0;
	if (a->nextra >= ARP_EXTRA_MAX)
		return -ENOSPC;
	a->extra[a->nextra++] = addr;
	return 0;
}

int arp_init(struct arp *a, const struct arp_config *cfg, const uint8_t mac[6], uint32_t addr,
             struct synack_link_stats *stats)
{
	memset(a, 0, sizeof(*a));
	a->cfg = *cfg;
	memcpy(a->mac, mac, 6);
	a->addr = addr;
	a->stats = stats;
	size_t slots = cfg->cache_max ? cfg->cache_max : 1;
	a->entries = calloc(slots, sizeof(*a->entries));
	if (!a->entries || neigh_failed_init(&a->failed, slots) != 0) {
		arp_free(a);
		return -ENOMEM;
	}
	return 0;
}

void arp_free(struct arp *a)
{
	for (size_t i = 0; i < a->nentries; i++)
		neigh_fifo_clear(&a->entries[i].held, a->stats, 0);
	free(a->entries);
	neigh_failed_free(&a->failed);
	neigh_fifo_clear(&a->out, a->stats, 0);
	memset(a, 0, sizeof(*a));
}

static void eth_header(uint8_t *f, const uint8_t dst[6], const uint8_t src[6], uint16_t type)
{
	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	put16(f + 12, type);
}

/* Queues an ARP frame: op, to eth_dst, asking about or answering tpa/tha. */
static int send_arp(struct arp *a, uint16_t op, const uint8_t eth_dst[6], const uint8_t tha[6],
                    uint32_t spa, uint32_t tpa)
{
	struct neigh_frame *f = neigh_frame_new(ARP_FRAME_LEN, a->stats);
	if (!f)
		return -ENOMEM;
	uint8_t *p = f->data;
	eth_header(p, eth_dst, a->mac, ARP_ETHERTYPE_ARP);
	p += ARP_ETH_HLEN;
	put16(p, 1);                      /* hardware: Ethernet */
	put16(p + 2, ARP_ETHERTYPE_IPV4); /* protocol: IPv4 */
	p[4] = 6;
	p[5] = 4;
	put16(p + 6, op);
	memcpy(p + 8, a->mac, 6);
	put32(p + 14, spa);
	memcpy(p + 18, tha, 6);
	put32(p + 24, tpa);
	neigh_fifo_push(&a->out, f);
	return 0;
}

void arp_announce(struct arp *a)
{
	/* RFC 5227 2.3: an announcement is a request with our address as both
	 * sender and target, so every neighbour updates a stale entry. */
	if (send_arp(a, ARP_OP_REQUEST, BROADCAST, ZERO_MAC, a->addr, a->addr) == 0)
		a->stats->arp_gratuitous_out++;
}

static void send_request(struct arp *a, struct arp_entry *e, uint64_t now)
{
	/* A first resolution asks everyone; a confirmation asks the MAC we
	 * have, as Linux's unicast probes do. */
	const uint8_t *dst = e->state == ARP_PROBE ? e->mac : BROADCAST;
	if (send_arp(a, ARP_OP_REQUEST, dst, ZERO_MAC, a->addr, e->addr) == 0)
		a->stats->arp_requests_out++;
	e->tries++;
	e->due = now + (uint64_t)a->cfg.retry_ms * 1000;
}

static struct arp_entry *find(const struct arp *a, uint32_t addr)
{
	for (size_t i = 0; i < a->nentries; i++)
		if (a->entries[i].addr == addr)
			return &a->entries[i];
	return NULL;
}

static void remove_entry(struct arp *a, struct arp_entry *e, int held_reason)
{
	neigh_fifo_clear(&e->held, a->stats, held_reason);
	*e = a->entries[--a->nentries];
	memset(&a->entries[a->nentries], 0, sizeof(*e));
	a->stats->arp_entries = a->nentries;
}

/* A new entry; when the cache is full the resolved entry used least
 * recently makes room.  NULL when every entry is still resolving. */
static struct arp_entry *add_entry(struct arp *a, uint32_t addr)
{
	if (a->nentries == a->cfg.cache_max) {
		struct arp_entry *victim = NULL;
		for (size_t i = 0; i < a->nentries; i++) {
			struct arp_entry *e = &a->entries[i];
			if (e->state != ARP_INCOMPLETE && (!victim || e->used < victim->used))
				victim = e;
		}
		if (!victim)
			return NULL;
		remove_entry(a, victim, SYNACK_LINK_DROP_ARP_CACHE_FULL);
	}
	struct arp_entry *e = &a->entries[a->nentries++];
	memset(e, 0, sizeof(*e));
	e->addr = addr;
	a->stats->arp_entries = a->nentries;
	return e;
}

/* The entry's MAC is known (again) at now: send what it held. */
static void resolved(struct arp *a, struct arp_entry *e, const uint8_t mac[6], uint64_t now)
{
	memcpy(e->mac, mac, 6);
	e->state = ARP_REACHABLE;
	e->tries = 0;
	e->confirmed = now;
	e->due = now + (uint64_t)a->cfg.lifetime_ms * 1000;
	a->stats->arp_resolved++;
	if (e->held.n)
		e->used = now;
	struct neigh_frame *f;
	while ((f = neigh_fifo_pop(&e->held))) {
		eth_header(f->data, e->mac, a->mac, ARP_ETHERTYPE_IPV4);
		neigh_fifo_push(&a->out, f);
	}
}

static void arp_input(struct arp *a, uint64_t now, const uint8_t *p, size_t len)
{
	if (len < 28 || get16(p) != 1 || get16(p + 2) != ARP_ETHERTYPE_IPV4 || p[4] != 6 ||
	    p[5] != 4) {
		drop(a, SYNACK_LINK_DROP_ARP_BAD);
		return;
	}
	uint16_t op = get16(p + 6);
	const uint8_t *sha = p + 8;
	uint32_t spa = get32(p + 14);
	uint32_t tpa = get32(p + 24);
	/* A sender hardware address that is multicast (broadcast included)
	 * can never be a neighbour's. */
	if ((op != ARP_OP_REQUEST && op != ARP_OP_REPLY) || (sha[0] & 1)) {
		drop(a, SYNACK_LINK_DROP_ARP_BAD);
		return;
	}
	if (op == ARP_OP_REQUEST)
		a->stats->arp_requests_in++;
	else
		a->stats->arp_replies_in++;

	if (is_ours(a, spa)) {
		/* Someone else claims our address (RFC 5227 2.4); we neither
		 * learn from it nor answer it. */
		if (memcmp(sha, a->mac, 6) != 0)
			drop(a, SYNACK_LINK_DROP_ARP_CONFLICT);
		return;
	}

	/* RFC 826: update an entry we already have for the sender ... */
	int merged = 0;
	struct arp_entry *e = spa ? find(a, spa) : NULL;
	if (e) {
		resolved(a, e, sha, now);
		merged = 1;
	}
	if (!is_ours(a, tpa)) {
		if (!merged)
			drop(a, SYNACK_LINK_DROP_ARP_IGNORED);
		return;
	}
	/* ... and, when the frame is for us, learn the sender (a probe from
	 * 0.0.0.0 teaches nothing) and answer a request. */
	if (!merged && spa) {
		e = add_entry(a, spa);
		if (e)
			resolved(a, e, sha, now);
	}
	if (op == ARP_OP_REQUEST && send_arp(a, ARP_OP_REPLY, sha, sha, tpa, spa) == 0)
		a->stats->arp_replies_out++;
}

int arp_frame_in(struct arp *a, uint64_t now, const uint8_t *frame, size_t len, const uint8_t **ip,
                 size_t *iplen)
{
	if (len < ARP_ETH_HLEN) {
		drop(a, SYNACK_LINK_DROP_FRAME_SHORT);
		return 0;
	}
	if (memcmp(frame, a->mac, 6) != 0 && memcmp(frame, BROADCAST, 6) != 0) {
		drop(a, SYNACK_LINK_DROP_NOT_FOR_US);
		return 0;
	}
	uint16_t type = get16(frame + 12);
	const uint8_t *p = frame + ARP_ETH_HLEN;
	size_t n = len - ARP_ETH_HLEN;
	if (type == ARP_ETHERTYPE_ARP) {
		arp_input(a, now, p, n);
		return 0;
	}
	if (type != ARP_ETHERTYPE_IPV4) {
		drop(a, SYNACK_LINK_DROP_ETHERTYPE);
		return 0;
	}
	/* A short datagram comes padded to Ethernet's 60-byte minimum; the
	 * IPv4 total length says where it really ends. */
	if (n >= 20 && (p[0] >> 4) == 4) {
		size_t total = get16(p + 2);
		if (total >= 20 && total < n)
			n = total;
	}
	*ip = p;
	*iplen = n;
	return 1;
}

int arp_eth_header(struct arp *a, uint64_t now, uint32_t nexthop, uint8_t hdr[ARP_ETH_HLEN])
{
	struct arp_entry *e = find(a, nexthop);
	if (!e || e->state == ARP_INCOMPLETE)
		return 0;
	eth_header(hdr, e->mac, a->mac, ARP_ETHERTYPE_IPV4);
	e->used = now;
	return 1;
}

size_t arp_send_ip(struct arp *a, uint64_t now, uint32_t nexthop, const uint8_t *pkt, size_t len,
                   uint8_t *frame, size_t cap)
{
	if (cap >= len + ARP_ETH_HLEN && arp_eth_header(a, now, nexthop, frame)) {
		memcpy(frame + ARP_ETH_HLEN, pkt, len);
		return len + ARP_ETH_HLEN;
	}
	struct arp_entry *e = find(a, nexthop);
	if (e && e->state != ARP_INCOMPLETE) {
		drop(a, SYNACK_LINK_DROP_TOO_BIG);
		return 0;
	}
	if (!e) {
		e = add_entry(a, nexthop);
		if (!e) {
			drop(a, SYNACK_LINK_DROP_ARP_CACHE_FULL);
			return 0;
		}
		e->state = ARP_INCOMPLETE;
		send_request(a, e, now);
	}
	neigh_hold(&e->held, a->cfg.queue_len, pkt, len, ARP_ETH_HLEN, a->stats,
	           SYNACK_LINK_DROP_ARP_QUEUE_FULL);
	return 0;
}

static void failed(struct arp *a, uint32_t addr)
{
	a->stats->arp_failed++;
	uint8_t b[16] = {0};
	memcpy(b, &addr, sizeof(addr));
	neigh_failed_push(&a->failed, b);
}

int arp_failed_next(struct arp *a, uint32_t *addr)
{
	uint8_t b[16];
	if (!neigh_failed_pop(&a->failed, b))
		return 0;
	memcpy(addr, b, sizeof(*addr));
	return 1;
}

void arp_advance(struct arp *a, uint64_t now)
{
	size_t i = 0;
	while (i < a->nentries) {
		struct arp_entry *e = &a->entries[i];
		if (e->due > now) {
			i++;
			continue;
		}
		if (e->state == ARP_REACHABLE) {
			/* Its lifetime is over: confirm it if it is in use,
			 * forget it otherwise. */
			if (e->used > e->confirmed) {
				e->state = ARP_PROBE;
				e->tries = 0;
				send_request(a, e, now);
				i++;
			} else {
				remove_entry(a, e, SYNACK_LINK_DROP_ARP_UNRESOLVED);
			}
			continue;
		}
		if (e->tries >= a->cfg.retries) {
			/* No answer: what it held is lost; the next datagram
			 * starts a new resolution.  A first resolution failing
			 * is reported (RFC 1122 4.2.3.9: TCP hears of it); a
			 * confirmation failing is not, as in Linux, whose
			 * probes hold no datagrams: the next datagram's own
			 * resolution fails and reports. */
			if (e->state == ARP_INCOMPLETE)
				failed(a, e->addr);
			remove_entry(a, e, SYNACK_LINK_DROP_ARP_UNRESOLVED);
			continue;
		}
		send_request(a, e, now);
		i++;
	}
}

uint64_t arp_next_deadline(const struct arp *a)
{
	uint64_t t = SYNACK_NEVER;
	for (size_t i = 0; i < a->nentries; i++)
		if (a->entries[i].due < t)
			t = a->entries[i].due;
	return t;
}

ssize_t arp_output(struct arp *a, uint8_t *buf, size_t cap)
{
	return neigh_fifo_output(&a->out, buf, cap);
}

int arp_lookup(const struct arp *a, uint32_t addr, uint8_t mac[6])
{
	const struct arp_entry *e = find(a, addr);
	if (!e || e->state == ARP_INCOMPLETE)
		return 0;
	memcpy(mac, e->mac, 6);
	return 1;
}
