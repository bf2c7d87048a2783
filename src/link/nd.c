/*
 * IPv6 over Ethernet and neighbour discovery (RFC 4861) for TAP links; see
 * nd.h for the shape.
 *
 * The cache is a small array searched linearly, bounded by cache_max, as
 * ARP's is (arp.c): a link has a handful of neighbours.  A full cache
 * makes room by forgetting the resolved entry used least recently (RFC
 * 4861 7.3.2 leaves the policy to the implementation; an LRU is what it
 * suggests), never one still resolving.  Entries are created only by our
 * own resolutions and by solicitations that carry the sender's link-layer
 * address (7.2.3); an advertisement nobody asked for creates nothing
 * (7.2.5), so unsolicited traffic cannot fill the cache.
 */
#include "link/nd.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct nd_entry {
	uint8_t addr[16];
	uint8_t mac[6];
	int state;              /* enum nd_state */
	uint64_t due;           /* next solicitation, or the state's end */
	uint64_t used;          /* last time a datagram went to it */
	uint32_t tries;         /* solicitations sent in this round */
	uint8_t src[16];        /* the source our solicitations carry */
	struct neigh_fifo held; /* datagrams waiting for the MAC */
};

/* The Option Types of RFC 4861 4.6. */
enum { OPT_SOURCE_LLA = 1, OPT_TARGET_LLA = 2 };
/* Neighbor Advertisement flags (RFC 4861 4.4), in the first byte after
 * the checksum. */
enum { NA_ROUTER = 0x80, NA_SOLICITED = 0x40, NA_OVERRIDE = 0x20 };

#define ETH_HLEN 14
#define ND_MSG_LEN 24    /* type .. target address */
#define ND_LLA_OPT_LEN 8 /* an Ethernet address option (RFC 2464 6) */
#define ND_FRAME_LEN (ETH_HLEN + ND_IP6_HLEN + ND_MSG_LEN + ND_LLA_OPT_LEN)
#define ND_HOP_LIMIT 255 /* RFC 4861 7.1: proof the sender is on-link */
#define IPPROTO_ICMPV6_NUM 58

static const uint8_t ALL_NODES[16] = {0xff, 0x02, [15] = 1};

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static int is_multicast(const uint8_t a[16])
{
	return a[0] == 0xff;
}

static int is_unspecified(const uint8_t a[16])
{
	static const uint8_t zero[16];
	return memcmp(a, zero, 16) == 0;
}

static void drop(struct nd *n, int reason)
{
	n->stats->drops[reason]++;
}

void nd_link_local(const uint8_t mac[6], uint8_t out[16])
{
	/* RFC 4291 appendix A: the 48-bit MAC becomes an interface
	 * identifier with ff:fe in the middle and the universal/local bit
	 * inverted; RFC 4291 2.5.6: fe80::/64 before it. */
	memset(out, 0, 16);
	out[0] = 0xfe;
	out[1] = 0x80;
	out[8] = mac[0] ^ 0x02;
	out[9] = mac[1];
	out[10] = mac[2];
	out[11] = 0xff;
	out[12] = 0xfe;
	out[13] = mac[3];
	out[14] = mac[4];
	out[15] = mac[5];
}

void nd_solicited_node(const uint8_t a[16], uint8_t out[16])
{
	/* RFC 4291 2.7.1: ff02::1:ff00:0/104 and the low 24 bits. */
	static const uint8_t prefix[13] = {0xff, 0x02, [11] = 0x01, [12] = 0xff};
	memcpy(out, prefix, 13);
	memcpy(out + 13, a + 13, 3);
}

/* RFC 2464 7: a multicast address's frame goes to 33:33 and its last 32
 * bits. */
static void multicast_mac(const uint8_t a[16], uint8_t mac[6])
{
	mac[0] = 0x33;
	mac[1] = 0x33;
	memcpy(mac + 2, a + 12, 4);
}

int nd_is_ours(const struct nd *n, const uint8_t a[16])
{
	for (uint32_t i = 0; i < n->naddrs; i++)
		if (memcmp(n->addrs[i], a, 16) == 0)
			return 1;
	return 0;
}

int nd_add_addr(struct nd *n, const uint8_t a[16])
{
	if (is_unspecified(a) || is_multicast(a))
		return -EINVAL;
	if (nd_is_ours(n, a))
		return 0;
	if (n->naddrs >= ND_ADDR_MAX)
		return -ENOSPC;
	memcpy(n->addrs[n->naddrs++], a, 16);
	return 0;
}

int nd_init(struct nd *n, const struct nd_config *cfg, const uint8_t mac[6],
            struct synack_link_stats *stats)
{
	memset(n, 0, sizeof(*n));
	n->cfg = *cfg;
	memcpy(n->mac, mac, 6);
	n->stats = stats;
	nd_link_local(mac, n->addrs[0]);
	n->naddrs = 1;
	size_t slots = cfg->cache_max ? cfg->cache_max : 1;
	n->entries = calloc(slots, sizeof(*n->entries));
	if (!n->entries || neigh_failed_init(&n->failed, slots) != 0) {
		nd_free(n);
		return -ENOMEM;
	}
	return 0;
}

void nd_free(struct nd *n)
{
	for (size_t i = 0; i < n->nentries; i++)
		neigh_fifo_clear(&n->entries[i].held, n->stats, 0);
	free(n->entries);
	neigh_failed_free(&n->failed);
	neigh_fifo_clear(&n->out, n->stats, 0);
	memset(n, 0, sizeof(*n));
}

/* ------------------------------------------------------------------ */
/* Checksums and messages.                                             */

static uint32_t sum16(uint32_t s, const uint8_t *p, size_t len)
{
	for (; len > 1; p += 2, len -= 2)
		s += get16(p);
	if (len)
		s += (uint32_t)p[0] << 8;
	return s;
}

/* The ICMPv6 checksum (RFC 4443 2.3) over the pseudo-header of RFC 8200
 * 8.1 and the message m of mlen bytes: 0 when a received one is right. */
static uint16_t icmp6_sum(const uint8_t src[16], const uint8_t dst[16], const uint8_t *m,
                          size_t mlen)
{
	uint32_t s = sum16(0, src, 16);
	s = sum16(s, dst, 16);
	s += (uint32_t)(mlen >> 16) + (uint32_t)(mlen & 0xffff) + IPPROTO_ICMPV6_NUM;
	s = sum16(s, m, mlen);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/*
 * Queues a solicitation (type 135) or advertisement (136) about target,
 * from src to dst, to Ethernet eth_dst, carrying our MAC as the source or
 * target link-layer address option.  flags: an advertisement's.
 */
static int send_nd(struct nd *n, int type, const uint8_t src[16], const uint8_t dst[16],
                   const uint8_t eth_dst[6], const uint8_t target[16], uint8_t flags)
{
	struct neigh_frame *f = neigh_frame_new(ND_FRAME_LEN, n->stats);
	if (!f)
		return -ENOMEM;
	uint8_t *p = f->data;
	memset(p, 0, ND_FRAME_LEN);
	memcpy(p, eth_dst, 6);
	memcpy(p + 6, n->mac, 6);
	put16(p + 12, ND_ETHERTYPE_IPV6);
	uint8_t *ip = p + ETH_HLEN;
	ip[0] = 0x60;
	put16(ip + 4, ND_MSG_LEN + ND_LLA_OPT_LEN);
	ip[6] = IPPROTO_ICMPV6_NUM;
	ip[7] = ND_HOP_LIMIT;
	memcpy(ip + 8, src, 16);
	memcpy(ip + 24, dst, 16);
	uint8_t *m = ip + ND_IP6_HLEN;
	m[0] = (uint8_t)type;
	if (type == ND_NEIGH_ADVERT)
		m[4] = flags;
	memcpy(m + 8, target, 16);
	m[24] = type == ND_NEIGH_SOLICIT ? OPT_SOURCE_LLA : OPT_TARGET_LLA;
	m[25] = 1; /* in units of 8 bytes */
	memcpy(m + 26, n->mac, 6);
	put16(m + 2, icmp6_sum(src, dst, m, ND_MSG_LEN + ND_LLA_OPT_LEN));
	neigh_fifo_push(&n->out, f);
	return 0;
}

/* ------------------------------------------------------------------ */
/* The neighbour cache.                                                */

static struct nd_entry *find(const struct nd *n, const uint8_t a[16])
{
	for (size_t i = 0; i < n->nentries; i++)
		if (memcmp(n->entries[i].addr, a, 16) == 0)
			return &n->entries[i];
	return NULL;
}

static void remove_entry(struct nd *n, struct nd_entry *e, int held_reason)
{
	neigh_fifo_clear(&e->held, n->stats, held_reason);
	*e = n->entries[--n->nentries];
	memset(&n->entries[n->nentries], 0, sizeof(*e));
	n->stats->nd_entries = n->nentries;
}

/* A new entry; when the cache is full the resolved entry used least
 * recently makes room.  NULL when every entry is still resolving. */
static struct nd_entry *add_entry(struct nd *n, const uint8_t a[16])
{
	if (n->nentries == n->cfg.cache_max) {
		struct nd_entry *victim = NULL;
		for (size_t i = 0; i < n->nentries; i++) {
			struct nd_entry *e = &n->entries[i];
			if (e->state != ND_INCOMPLETE && (!victim || e->used < victim->used))
				victim = e;
		}
		if (!victim)
			return NULL;
		remove_entry(n, victim, SYNACK_LINK_DROP_ND_CACHE_FULL);
	}
	struct nd_entry *e = &n->entries[n->nentries++];
	memset(e, 0, sizeof(*e));
	memcpy(e->addr, a, 16);
	memcpy(e->src, n->addrs[0], 16);
	n->stats->nd_entries = n->nentries;
	return e;
}

/* A solicitation for the entry's address: to its solicited-node group
 * while resolving (RFC 4861 7.2.2), to the address and MAC we hold while
 * probing (7.3.3). */
static void solicit(struct nd *n, struct nd_entry *e, uint64_t now)
{
	uint8_t dst[16], mac[6];
	if (e->state == ND_PROBE) {
		memcpy(dst, e->addr, 16);
		memcpy(mac, e->mac, 6);
	} else {
		nd_solicited_node(e->addr, dst);
		multicast_mac(dst, mac);
	}
	if (send_nd(n, ND_NEIGH_SOLICIT, e->src, dst, mac, e->addr, 0) == 0)
		n->stats->nd_solicits_out++;
	e->tries++;
	e->due = now + (uint64_t)n->cfg.retrans_ms * 1000;
}

static void set_state(struct nd *n, struct nd_entry *e, int state, uint64_t now)
{
	e->state = state;
	e->tries = 0;
	if (state == ND_REACHABLE)
		e->due = now + (uint64_t)n->cfg.reachable_ms * 1000;
	else if (state == ND_DELAY)
		e->due = now + (uint64_t)n->cfg.delay_first_probe_ms * 1000;
	else
		e->due = SYNACK_NEVER; /* STALE waits for a datagram */
}

/* The entry's MAC became known (again): record it and send what it held. */
static void learn(struct nd *n, struct nd_entry *e, const uint8_t mac[6], int state, uint64_t now)
{
	int was_incomplete = e->state == ND_INCOMPLETE;
	memcpy(e->mac, mac, 6);
	set_state(n, e, state, now);
	if (was_incomplete)
		n->stats->nd_resolved++;
	if (e->held.n)
		e->used = now;
	struct neigh_frame *f;
	while ((f = neigh_fifo_pop(&e->held))) {
		memcpy(f->data, e->mac, 6);
		memcpy(f->data + 6, n->mac, 6);
		put16(f->data + 12, ND_ETHERTYPE_IPV6);
		neigh_fifo_push(&n->out, f);
	}
}

/* ------------------------------------------------------------------ */
/* Receiving.                                                          */

/*
 * The options after the fixed part (RFC 4861 4.6): 0 and *lla (the one
 * link-layer address option of kind want, or NULL), or -1 when one has
 * length 0, runs past the message, or is a link-layer address option of
 * another size than Ethernet's (RFC 2464 6).
 */
static int parse_options(const uint8_t *o, size_t len, int want, const uint8_t **lla)
{
	*lla = NULL;
	while (len) {
		if (len < 2 || o[1] == 0 || (size_t)o[1] * 8 > len)
			return -1;
		size_t olen = (size_t)o[1] * 8;
		if (o[0] == OPT_SOURCE_LLA || o[0] == OPT_TARGET_LLA) {
			if (olen != ND_LLA_OPT_LEN)
				return -1;
			if (o[0] == want)
				*lla = o + 2;
		}
		o += olen;
		len -= olen;
	}
	return 0;
}

/* A solicitation that passed RFC 4861 7.1.1. */
static void solicit_in(struct nd *n, uint64_t now, const uint8_t *src, const uint8_t *eth_src,
                       const uint8_t *target, const uint8_t *slla)
{
	n->stats->nd_solicits_in++;
	if (!nd_is_ours(n, target)) {
		drop(n, SYNACK_LINK_DROP_ND_IGNORED);
		return;
	}
	int dad = is_unspecified(src);
	const uint8_t *peer_mac = slla ? slla : eth_src;
	if (!dad && nd_is_ours(n, src)) {
		/* Our own address as the sender: a duplicate, or our own
		 * solicitation looped back; neither is answered. */
		if (memcmp(peer_mac, n->mac, 6) != 0)
			drop(n, SYNACK_LINK_DROP_ND_CONFLICT);
		return;
	}
	/* 7.2.3: the sender's link-layer address creates or updates its
	 * entry, STALE when new or changed (reachability is unproven). */
	if (slla && !dad) {
		struct nd_entry *e = find(n, src);
		if (!e) {
			e = add_entry(n, src);
			if (e)
				learn(n, e, slla, ND_STALE, now);
		} else if (e->state == ND_INCOMPLETE || memcmp(e->mac, slla, 6) != 0) {
			learn(n, e, slla, ND_STALE, now);
		}
	}
	/* 7.2.4: a solicitation from the unspecified address (duplicate
	 * address detection) is answered to all nodes, unsolicited; any other
	 * to its sender, solicited, our MAC as the target's. */
	uint8_t mac[6];
	const uint8_t *dst = dad ? ALL_NODES : src;
	if (dad)
		multicast_mac(ALL_NODES, mac);
	else
		memcpy(mac, peer_mac, 6);
	uint8_t flags = (uint8_t)(NA_OVERRIDE | (dad ? 0 : NA_SOLICITED));
	if (send_nd(n, ND_NEIGH_ADVERT, target, dst, mac, target, flags) == 0)
		n->stats->nd_adverts_out++;
}

/* An advertisement that passed RFC 4861 7.1.2: 7.2.5. */
static void advert_in(struct nd *n, uint64_t now, uint8_t flags, const uint8_t *target,
                      const uint8_t *tlla)
{
	n->stats->nd_adverts_in++;
	if (nd_is_ours(n, target)) {
		/* RFC 4862 5.4.4: another node claims our address. */
		if (!tlla || memcmp(tlla, n->mac, 6) != 0)
			drop(n, SYNACK_LINK_DROP_ND_CONFLICT);
		return;
	}
	struct nd_entry *e = find(n, target);
	if (!e) {
		/* No entry: an unsolicited advertisement creates none. */
		drop(n, SYNACK_LINK_DROP_ND_IGNORED);
		return;
	}
	int solicited = (flags & NA_SOLICITED) != 0;
	if (e->state == ND_INCOMPLETE) {
		if (!tlla) {
			drop(n, SYNACK_LINK_DROP_ND_IGNORED);
			return;
		}
		learn(n, e, tlla, solicited ? ND_REACHABLE : ND_STALE, now);
		return;
	}
	int differs = tlla && memcmp(tlla, e->mac, 6) != 0;
	if (!(flags & NA_OVERRIDE) && differs) {
		/* Another MAC without the override flag: not taken; a
		 * REACHABLE entry becomes STALE, to be confirmed. */
		if (e->state == ND_REACHABLE)
			set_state(n, e, ND_STALE, now);
		drop(n, SYNACK_LINK_DROP_ND_IGNORED);
		return;
	}
	if (differs)
		memcpy(e->mac, tlla, 6);
	if (solicited)
		learn(n, e, e->mac, ND_REACHABLE, now);
	else if (differs)
		set_state(n, e, ND_STALE, now);
}

/* An ICMPv6 message of neighbour discovery (type 133..137) in datagram p
 * (hlen header bytes, plen payload) from eth_src: RFC 4861 7.1's checks,
 * then what 7.2 says. */
static void nd_input(struct nd *n, uint64_t now, const uint8_t *eth_src, const uint8_t *p,
                     size_t plen)
{
	const uint8_t *src = p + 8, *dst = p + 24, *m = p + ND_IP6_HLEN;
	if (p[7] != ND_HOP_LIMIT || plen < 8 || icmp6_sum(src, dst, m, plen) != 0 || m[1] != 0) {
		drop(n, SYNACK_LINK_DROP_ND_BAD);
		return;
	}
	int type = m[0];
	if (type != ND_NEIGH_SOLICIT && type != ND_NEIGH_ADVERT) {
		drop(n, SYNACK_LINK_DROP_ND_IGNORED); /* routers' messages */
		return;
	}
	const uint8_t *target = m + 8, *lla;
	if (plen < ND_MSG_LEN || is_multicast(target) || is_multicast(src) ||
	    parse_options(m + ND_MSG_LEN, plen - ND_MSG_LEN,
	                  type == ND_NEIGH_SOLICIT ? OPT_SOURCE_LLA : OPT_TARGET_LLA, &lla) != 0 ||
	    (lla && (lla[0] & 1)) || (eth_src[0] & 1)) {
		drop(n, SYNACK_LINK_DROP_ND_BAD);
		return;
	}
	if (type == ND_NEIGH_SOLICIT) {
		uint8_t sn[16];
		nd_solicited_node(target, sn);
		/* 7.1.1: from the unspecified address only to the target's
		 * solicited-node group, and without the source's MAC. */
		if (is_unspecified(src) && (memcmp(dst, sn, 16) != 0 || lla)) {
			drop(n, SYNACK_LINK_DROP_ND_BAD);
			return;
		}
		solicit_in(n, now, src, eth_src, target, lla);
		return;
	}
	/* 7.1.2: an advertisement to a multicast group is never solicited. */
	if (is_multicast(dst) && (m[4] & NA_SOLICITED)) {
		drop(n, SYNACK_LINK_DROP_ND_BAD);
		return;
	}
	advert_in(n, now, m[4], target, lla);
}

/* Whether a frame to dst is ours: our MAC, all nodes, or the
 * solicited-node group of one of our addresses. */
static int mac_wanted(const struct nd *n, const uint8_t dst[6])
{
	if (memcmp(dst, n->mac, 6) == 0)
		return 1;
	if (dst[0] != 0x33 || dst[1] != 0x33)
		return 0;
	uint8_t mac[6], sn[16];
	multicast_mac(ALL_NODES, mac);
	if (memcmp(dst, mac, 6) == 0)
		return 1;
	for (uint32_t i = 0; i < n->naddrs; i++) {
		nd_solicited_node(n->addrs[i], sn);
		multicast_mac(sn, mac);
		if (memcmp(dst, mac, 6) == 0)
			return 1;
	}
	return 0;
}

int nd_frame_in(struct nd *n, uint64_t now, const uint8_t *frame, size_t len, const uint8_t **ip,
                size_t *iplen)
{
	if (len < ETH_HLEN) {
		drop(n, SYNACK_LINK_DROP_FRAME_SHORT);
		return 0;
	}
	if (!mac_wanted(n, frame)) {
		drop(n, SYNACK_LINK_DROP_NOT_FOR_US);
		return 0;
	}
	const uint8_t *p = frame + ETH_HLEN;
	size_t len6 = len - ETH_HLEN;
	if (len6 >= ND_IP6_HLEN && (p[0] >> 4) == 6) {
		/* A short datagram comes padded to Ethernet's minimum; the
		 * payload length says where it ends (0 is a jumbogram's,
		 * left to the stack to refuse). */
		size_t plen = get16(p + 4);
		if (plen && ND_IP6_HLEN + plen < len6)
			len6 = ND_IP6_HLEN + plen;
		/* Neighbour discovery directly after the header; behind
		 * extension headers it goes to the stack, which drops it. */
		if (p[6] == IPPROTO_ICMPV6_NUM && len6 > ND_IP6_HLEN &&
		    p[ND_IP6_HLEN] >= ND_ROUTER_SOLICIT && p[ND_IP6_HLEN] <= ND_REDIRECT) {
			if (plen != len6 - ND_IP6_HLEN)
				drop(n, SYNACK_LINK_DROP_ND_BAD); /* truncated */
			else
				nd_input(n, now, frame + 6, p, plen);
			return 0;
		}
	}
	*ip = p;
	*iplen = len6;
	return 1;
}

/* ------------------------------------------------------------------ */
/* Sending.                                                            */

int nd_eth_header(struct nd *n, uint64_t now, const uint8_t hop[16], uint8_t hdr[14])
{
	uint8_t mac[6];
	if (is_multicast(hop)) {
		multicast_mac(hop, mac);
	} else {
		struct nd_entry *e = find(n, hop);
		if (!e || e->state == ND_INCOMPLETE)
			return 0;
		/* 7.3.3: the first datagram to a STALE neighbour starts the
		 * wait for a confirmation. */
		if (e->state == ND_STALE)
			set_state(n, e, ND_DELAY, now);
		e->used = now;
		memcpy(mac, e->mac, 6);
	}
	memcpy(hdr, mac, 6);
	memcpy(hdr + 6, n->mac, 6);
	put16(hdr + 12, ND_ETHERTYPE_IPV6);
	return 1;
}

void nd_hold(struct nd *n, uint64_t now, const uint8_t hop[16], const uint8_t *pkt, size_t len)
{
	struct nd_entry *e = find(n, hop);
	if (e && e->state != ND_INCOMPLETE) {
		drop(n, SYNACK_LINK_DROP_TOO_BIG); /* resolved, but no room to frame it */
		return;
	}
	if (!e) {
		e = add_entry(n, hop);
		if (!e) {
			drop(n, SYNACK_LINK_DROP_ND_CACHE_FULL);
			return;
		}
		/* 7.2.2: the datagram's own source when it is ours. */
		if (len >= ND_IP6_HLEN && nd_is_ours(n, pkt + 8))
			memcpy(e->src, pkt + 8, 16);
		e->state = ND_INCOMPLETE;
		solicit(n, e, now);
	}
	neigh_hold(&e->held, n->cfg.queue_len, pkt, len, ETH_HLEN, n->stats,
	           SYNACK_LINK_DROP_ND_QUEUE_FULL);
}

void nd_advance(struct nd *n, uint64_t now)
{
	size_t i = 0;
	while (i < n->nentries) {
		struct nd_entry *e = &n->entries[i];
		if (e->due > now) {
			i++;
			continue;
		}
		switch (e->state) {
		case ND_REACHABLE:
			set_state(n, e, ND_STALE, now);
			break;
		case ND_DELAY:
			set_state(n, e, ND_PROBE, now);
			solicit(n, e, now);
			break;
		case ND_INCOMPLETE:
			if (e->tries >= n->cfg.max_multicast_solicit) {
				/* No answer: the held datagrams are lost and the
				 * stack hears of it (RFC 4861 7.2.2: ICMPv6
				 * address unreachable, RFC 1122 4.2.3.9). */
				n->stats->nd_failed++;
				neigh_failed_push(&n->failed, e->addr);
				remove_entry(n, e, SYNACK_LINK_DROP_ND_UNRESOLVED);
				continue;
			}
			solicit(n, e, now);
			break;
		default: /* ND_PROBE */
			if (e->tries >= n->cfg.max_unicast_solicit) {
				remove_entry(n, e, SYNACK_LINK_DROP_ND_UNRESOLVED);
				continue;
			}
			solicit(n, e, now);
			break;
		}
		i++;
	}
}

uint64_t nd_next_deadline(const struct nd *n)
{
	uint64_t t = SYNACK_NEVER;
	for (size_t i = 0; i < n->nentries; i++)
		if (n->entries[i].due < t)
			t = n->entries[i].due;
	return t;
}

ssize_t nd_output(struct nd *n, uint8_t *buf, size_t cap)
{
	return neigh_fifo_output(&n->out, buf, cap);
}

int nd_failed_next(struct nd *n, uint8_t addr[16])
{
	return neigh_failed_pop(&n->failed, addr);
}

int nd_lookup(const struct nd *n, const uint8_t a[16], uint8_t mac[6])
{
	const struct nd_entry *e = find(n, a);
	if (!e)
		return 0;
	memcpy(mac, e->mac, 6);
	return e->state;
}
