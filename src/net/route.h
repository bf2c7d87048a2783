/*
 * The stack's addresses and its routing table (RFC 1122 3.3.1: "a host
 * MUST ... determine the next hop"), family-neutral: prefixes are struct
 * addr values with a length in their family's bits, so IPv6 adds rows, not
 * code.  Only IPv4 is accepted for now (-EAFNOSUPPORT).
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

/* The table's edits (the public calls in stack.c check their arguments'
 * family and shape): 0 or a negative errno. */
int route_addr_add(struct net_layer *n, const struct addr *a, uint8_t len);
int route_addr_del(struct net_layer *n, const struct addr *a, uint8_t len);
int route_add(struct net_layer *n, const struct addr *dst, uint8_t len, const struct addr *via);
int route_del(struct net_layer *n, const struct addr *dst, uint8_t len);

#endif
