/* IPv6 in and out (RFC 8200): validate and hand up, and wrap outgoing
 * transport payloads in a header.  Behind net.h's family-neutral
 * functions; only src/net calls these. */
#ifndef SYNACK_IP6_H
#define SYNACK_IP6_H

#include <stddef.h>
#include <stdint.h>

struct addr;
struct net_up;
struct net_layer;
struct pkt;

/* Validates an IPv6 datagram and says in *up what it carries up (a TCP
 * segment, or an ICMPv6 error about one of ours); answers echo requests
 * and sends the Parameter Problems RFC 8200 asks for itself.  csum: enum
 * net_csum, as ip4_input.  Returns 0 or the enum synack_drop reason it was
 * dropped for (counted and traced). */
int ip6_input(struct net_layer *st, const uint8_t *pkt, size_t len, int csum, struct net_up *up);
/* Writes the IPv6 header (Traffic Class ecn, RFC 3168 5; the flow label of
 * the flow, RFC 6437) in front of a transport payload of len bytes already
 * at p->data + 40 and queues the datagram for the caller. */
void ip6_output(struct net_layer *st, const struct addr *src, const struct addr *dst, uint8_t proto,
                struct pkt *p, size_t len, uint8_t ecn);
/* The flow label of a flow (RFC 6437 3): a keyed hash of the addresses, the
 * ports of the transport header l4 (l4_len bytes; none for ICMPv6) and the
 * protocol under the stack's key_flow, 20 bits. */
uint32_t ip6_flow_label(const struct net_layer *st, const struct addr *src, const struct addr *dst,
                        uint8_t proto, const uint8_t *l4, size_t l4_len);

#endif
