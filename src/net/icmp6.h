/* ICMPv6 (RFC 4443): echo replies, the errors we send, and errors about
 * our own datagrams handed to TCP. */
#ifndef SYNACK_ICMP6_H
#define SYNACK_ICMP6_H

#include <stddef.h>
#include <stdint.h>

#include "net/net.h"
#include "wire/wire6.h"

/* Handles an ICMPv6 message addressed to us (carried by ip); an error about
 * one of our TCP segments is translated into up->err for TCP (up->kind
 * NET_UP_TCP_ERROR).  Returns 0 or the enum synack_drop reason it was
 * dropped for (the caller counts and traces it). */
int icmp6_input(struct net_layer *st, const struct wire_ip6 *ip, struct net_up *up);

/*
 * Sends an ICMPv6 error of type and code (rest: bytes 4..7 of its header,
 * the pointer of a Parameter Problem) about the datagram pkt of len bytes
 * (its fixed header whole) to that datagram's source.  Nothing is sent
 * where RFC 4443 2.4 (e) forbids an error (about an ICMPv6 error or a
 * Redirect, a datagram not to our unicast address, a source that names no
 * single node) or when the rate limit (f) says no.  Returns 1 when the
 * error was queued, else 0.
 */
int icmp6_send_error(struct net_layer *st, const uint8_t *pkt, size_t len, uint8_t type,
                     uint8_t code, uint32_t rest);

#endif
