/*
 * Reassembly of IPv4 (RFC 791 3.2, RFC 815, RFC 1122 3.3.2) and IPv6 (RFC
 * 8200 4.5) datagrams: fragments held per datagram until the datagram is
 * whole, within a memory budget (ipfrag_high_thresh) and a time limit
 * (ipfrag_time_ms) both families share.  Only src/net uses this; the
 * state lives in struct net_layer.
 */
#ifndef SYNACK_REASM4_H
#define SYNACK_REASM4_H

#include <stddef.h>
#include <stdint.h>

#include "core/hash.h"
#include "synack/synack.h"

struct net_layer;
struct wire_ip4;
struct wire_ip6;
struct reasm4_q; /* one datagram being reassembled (reasm4.c) */

/* The reassembly state of a network layer (net_layer.reasm), allocated
 * with the first fragment and kept until the stack is freed. */
struct reasm4 {
	/* The datagrams being reassembled by (source, destination, protocol,
	 * identification), RFC 791 3.2's key, held in a struct tuple:
	 * laddr = destination, raddr = source, lport = identification,
	 * rport = protocol; IPv6's by (source, destination, identification),
	 * RFC 8200 4.5's, the 32-bit identification in lport (high half) and
	 * rport.  Hashed with a key derived from the stack's secret, so a
	 * peer cannot aim many datagrams at one bucket. */
	struct htable queues;
	/* The same datagrams in the order their first fragment came, which is
	 * the order they expire in (the timeout is fixed, RFC 1122 3.3.2),
	 * and the order they are evicted in. */
	struct reasm4_q *oldest, *newest;
	/* When reasm4_expire must run: oldest's expiry, SYNACK_NEVER when
	 * none, or at once while done is held. */
	uint64_t deadline;
	uint64_t bytes; /* what the queues hold, against ipfrag_high_thresh */
	/* The last datagram put together, which what net_input handed up
	 * points into.  It is freed by the next synack_advance (the deadline
	 * says "now" while it is held) or the next fragment, so no call on
	 * the path of every datagram has to ask for it. */
	uint8_t *done;
	size_t done_len;
};

/* Sentinel of reasm4_input: the fragment was kept, nothing is whole yet. */
#define REASM4_HELD (-1)

/*
 * Takes a fragment addressed to us (ip, parsed from its datagram pkt).
 * Returns SYNACK_DROP_NONE when it completed its datagram, which *whole
 * (which may be ip itself) then describes, in r->done until the next
 * fragment or synack_advance; REASM4_HELD when it was kept; or the enum
 * synack_drop reason it was dropped for (IpReasmFails is counted here; the
 * caller counts the reason and traces the drop, *whole untouched).
 */
int reasm4_input(struct net_layer *st, const struct wire_ip4 *ip, const uint8_t *pkt,
                 struct wire_ip4 *whole);
/*
 * Takes an IPv6 fragment addressed to us: ip as wire_ip6_parse left it
 * (IP6_FRAGMENT, frag_off set), pkt its datagram.  Returns SYNACK_DROP_NONE
 * when it completed its datagram, which r->done (r->done_len bytes) then
 * holds until the next fragment or synack_advance, for the caller to parse
 * again; REASM4_HELD; or the drop reason (Ip6ReasmFails counted, and the
 * Parameter Problem RFC 8200 4.5 or RFC 7112 asks for sent).
 */
int reasm6_input(struct net_layer *st, const struct wire_ip6 *ip, const uint8_t *pkt);
/* Frees the last datagram put together and discards the datagrams whose
 * time ran out (ICMP Time Exceeded for those whose first fragment came). */
void reasm4_expire(struct net_layer *st);
/* Frees the last datagram put together. */
void reasm4_release(struct net_layer *st);
/* Frees everything (teardown). */
void reasm4_fini(struct net_layer *st);
/* Bytes held: the state, the queues, the hash table and the last datagram
 * (0 before the first fragment). */
uint64_t reasm4_memory(const struct net_layer *st);

#endif
