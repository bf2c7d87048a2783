/* ICMP for IPv4 (RFC 792, RFC 1122 3.2.2): echo replies, the errors we send,
 * and errors about our own datagrams handed to TCP. */
#ifndef SYNACK_ICMP_H
#define SYNACK_ICMP_H

#include <stddef.h>
#include <stdint.h>

#include "net/net.h"
#include "wire/wire.h"

/* The largest ICMP error we send, IP header included (RFC 1812 4.3.2.3). */
#define ICMP_ERROR_MAX 576

struct net_up;

/* Handles an ICMP message addressed to us; an error about one of our TCP
 * segments is translated into up->err for TCP (up->kind NET_UP_TCP_ERROR).
 * Returns 0 or the enum synack_drop reason it was dropped for (the caller
 * counts and traces it). */
int icmp_input(struct net_layer *st, const struct wire_ip4 *ip, struct net_up *up);

/*
 * Sends an ICMP error of type and code (rest: bytes 4..7 of its header)
 * about the datagram pkt of len bytes, whose IPv4 header the caller has
 * validated, to that datagram's source.  Nothing is sent where RFC 1122
 * 3.2.2 forbids an error (about an ICMP error, a datagram not addressed to
 * our unicast address, a fragment other than the first, a source that is
 * not a unicast address) or when the rate limit says no.  Returns 1 when
 * the error was queued, else 0.
 */
int icmp_send_error(struct net_layer *st, const uint8_t *pkt, size_t len, uint8_t type,
                    uint8_t code, uint32_t rest);

#endif
