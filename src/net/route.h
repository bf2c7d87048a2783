/*
 * The stack's addresses and its routing table (RFC 1122 3.3.1: "a host
 * MUST ... determine the next hop"), family-neutral: prefixes are struct
 * addr values with a length in their family's bits, so IPv6 adds rows, not
 * code: one table holds both families, a route matching only destinations
 * of its own (an IPv6 ::/0 is not a route for IPv4, whose addresses are
 * ::ffff:0:0/96 in the 128-bit form).
 *
 * The table is small and bounded (max_addrs, max_routes settings) and kept
 * sorted, longest prefix first, so the first match is the longest one;
 * among routes of one length the one added last comes first, so a default
 * route added to a stack whose address covers everything (prefix_len 0)
 * takes over.  Each address brings its connected (on-link) route; routes
 * added with a gateway reach it through one of them.  Destinations that
 * are ours (every address, and 127.0.0.0/8 as on Linux's lo) are local:
 * their datagrams never reach the link but come back in through the
 * loopback queue (net.h).
 *
 * IPv6 (issue 14) differs in three ways.  A stack has one link, so a
 * link-local destination (fe80::/10) needs no zone: it is on that link
 * (RFC 4861 5.2: the link-local prefix is on-link), with or without a
 * link-local address of ours.  A connection's source is chosen among our
 * IPv6 addresses by the rules of RFC 6724 5 that a static setup meets
 * (route_source6), not taken from the route.  And a datagram's next hop
 * is looked up again when the link takes it (route_next_hop): a queued
 * datagram keeps only 32 bits of next hop (net.h's struct pkt).
 */
#ifndef SYNACK_ROUTE_H
#define SYNACK_ROUTE_H

#include <stdint.h>

#include "core/addr.h"

struct net_layer;

struct route {
	struct addr dst;  /* the prefix, its host bits zero */
	struct addr mask; /* of len, in the 128-bit form (IPv4: w[0..2] all ones) */
	struct addr via;  /* the gateway (kind SYNACK_ROUTE_GATEWAY) */
	struct addr src;  /* preferred source address (RFC 1122 3.3.4.3) */
	uint8_t len;      /* prefix length in the family's bits */
	uint8_t kind;     /* enum synack_route_kind */
	uint8_t v6;       /* an IPv6 route: it matches IPv6 destinations only */
};

struct route_addr {
	struct addr a;
	uint8_t len; /* the on-link prefix */
};

struct route_table {
	uint32_t naddrs, nroutes;
	uint32_t cap_addrs, cap_routes; /* grown on demand up to max_addrs, max_routes */
	struct route_addr *addrs;       /* addrs[0] is cfg.addr */
	struct route *routes;           /* longest prefix first */
	/* The last IPv4 destination looked up for a datagram and what it
	 * came to (ip4.c): a connection sends its segments to one peer, so
	 * most lookups are this one.  Every edit of the table clears it. */
	uint32_t cache_dst, cache_hop;
	uint8_t cache_ok, cache_verdict;
	uint16_t naddrs6; /* of the addresses, IPv6 ones (issue 14; in padding) */
};

/* What a destination is to us. */
enum route_verdict {
	ROUTE_NONE,      /* no route: ENETUNREACH */
	ROUTE_VIA,       /* out through the link to *hop (the gateway or dst) */
	ROUTE_LOCAL,     /* one of ours: the loopback queue */
	ROUTE_BROADCAST, /* a broadcast or multicast address: refused */
};

/* Makes the table (cfg.addr and its connected route of cfg.prefix_len).
 * Returns 0 or -ENOMEM. */
int route_init(struct net_layer *n);
void route_fini(struct net_layer *n);
/* Bytes the table holds (synack_memory's other). */
uint64_t route_memory(const struct net_layer *n);

/* Whether a is one of the stack's addresses; loopback: 127.0.0.0/8 too
 * (for datagrams that came through the loopback queue). */
int route_is_ours(const struct net_layer *n, const struct addr *a, int loopback);

/*
 * Looks dst up: ROUTE_VIA with the next hop in *hop, ROUTE_LOCAL (*hop is
 * dst), ROUTE_NONE or ROUTE_BROADCAST.  src, when not NULL, gets the
 * source address a new connection to dst takes.  rt, when not NULL, the
 * route (NULL for local destinations).
 */
int route_lookup(const struct net_layer *n, const struct addr *dst, struct addr *hop,
                 struct addr *src, const struct route **rt);

/* The next hop of a datagram to dst the link takes now: the gateway of
 * its route, else dst itself (no route: dst, as the datagram was routed
 * when it was queued). */
struct addr route_next_hop(const struct net_layer *n, const struct addr *dst);

/* The table's edits (the public calls in stack.c check their arguments'
 * family and shape): 0 or a negative errno. */
int route_addr_add(struct net_layer *n, const struct addr *a, uint8_t len);
int route_addr_del(struct net_layer *n, const struct addr *a, uint8_t len);
int route_add(struct net_layer *n, const struct addr *dst, uint8_t len, const struct addr *via);
int route_del(struct net_layer *n, const struct addr *dst, uint8_t len);

#endif
