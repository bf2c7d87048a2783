/* IPv4 in and out (RFC 791, RFC 1122 3.2.1): validate, deliver to TCP,
 * and wrap outgoing segments in a header. */
#ifndef SYNACK_IP4_H
#define SYNACK_IP4_H

#include <stddef.h>
#include <stdint.h>

#include "core/stack.h"

/* Validates a datagram and hands TCP segments to tcp_input, ICMP messages
 * to icmp_input; other protocols get Protocol Unreachable.  Returns 0 or
 * the enum synack_drop reason it was dropped for (counted and traced). */
int ip4_input(struct synack_stack *st, const uint8_t *pkt, size_t len);
/* Writes the IPv4 header in front of a transport payload of len bytes
 * already at p->data + 20. */
void ip4_finish(struct synack_stack *st, struct pkt *p, uint32_t src, uint32_t dst, uint8_t proto,
                size_t len);
/* Queues a finished datagram for the caller. */
void ip4_send(struct synack_stack *st, struct pkt *p);
/* A pkt_size scratch buffer for assembling payloads. */
uint8_t *ip4_scratch(struct synack_stack *st);

#endif
