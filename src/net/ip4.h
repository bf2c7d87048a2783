/* IPv4 in and out (RFC 791, RFC 1122 3.2.1): validate and hand up, and
 * wrap outgoing transport payloads in a header.  Behind net.h's
 * family-neutral functions; only src/net calls these. */
#ifndef SYNACK_IP4_H
#define SYNACK_IP4_H

#include <stddef.h>
#include <stdint.h>

struct net_up;
struct net_layer;
struct pkt;

/* Validates an IPv4 datagram and says in *up what it carries up (a TCP
 * segment, or an ICMP error about one of ours); answers echo requests and
 * sends Protocol Unreachable for other protocols itself.  A datagram of
 * version 6 goes to ip6_input (net_input's dispatch).  csum: enum
 * net_csum, the datagram's checksum state.  Returns 0 or the enum
 * synack_drop reason it was dropped for (counted and traced). */
int ip4_input(struct net_layer *st, const uint8_t *pkt, size_t len, int csum, struct net_up *up);
/* Writes the IPv4 header (ECN field ecn, RFC 3168 5) in front of a
 * transport payload of len bytes already at p->data + 20 and queues the
 * datagram for the caller. */
void ip4_output(struct net_layer *st, uint32_t src, uint32_t dst, uint8_t proto, struct pkt *p,
                size_t len, uint8_t ecn);
/*
 * Sends a transport payload made of head (head_len bytes) followed by body
 * (body_len bytes, at most 65515 in all): in one datagram when it fits the
 * MTU, else in fragments (RFC 791 3.2; IpFragOKs, IpFragCreates).  Only
 * echo replies take this path: TCP sizes its segments by the MSS and sends
 * with DF.  Fragments leave all or none: returns 0, SYNACK_DROP_NO_MEMORY
 * when one could not be allocated, or SYNACK_DROP_OUTBOX_FULL (counted in
 * IpOutDiscards) when the outbox has no room for all of them.
 */
int ip4_output_frags(struct net_layer *st, uint32_t src, uint32_t dst, uint8_t proto,
                     const uint8_t *head, size_t head_len, const uint8_t *body, size_t body_len);

#endif
