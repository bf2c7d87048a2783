/*
 * Ethernet and ARP for a TAP link, sans IO: frames in, frames out, time
 * given.  The link (link.c) reads and writes the device; this module decides.
 *
 *  - arp_frame_in() takes every frame read from the device: ARP frames are
 *    answered or learnt from (RFC 826), IPv4 frames for our MAC (or
 *    broadcast) are handed back as a datagram view, the rest is dropped and
 *    counted.
 *  - arp_send_ip() wraps a datagram for its next hop: at once when the next
 *    hop's MAC is known, otherwise the datagram is held (a few per address)
 *    while requests go out every retry_ms, retries times, after which the
 *    held datagrams are dropped and counted (arp_unresolved), and the
 *    address is queued for arp_failed_next() so the caller can tell the
 *    stack (Linux reports a failed neighbour to the sockets whose datagrams
 *    it held, as an ICMP host unreachable).
 *  - Every frame the module itself wants sent (requests, replies, the
 *    gratuitous announcement, held datagrams once resolved) waits in an
 *    output queue read with arp_output().
 *  - A resolved entry is used for lifetime_ms; if it was used meanwhile it
 *    is then confirmed with a unicast request while still in use (as
 *    Linux's neighbour table goes STALE -> PROBE), and forgotten when the
 *    confirmation gets no answer; an unused one is simply forgotten.
 */
#ifndef SYNACK_LINK_ARP_H
#define SYNACK_LINK_ARP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "link/neigh.h"
#include "synack/link.h"

#define ARP_ETH_HLEN 14
#define ARP_ETHERTYPE_IPV4 0x0800
#define ARP_ETHERTYPE_ARP 0x0806
#define ARP_FRAME_LEN 42 /* Ethernet header + ARP for IPv4 */
#define ARP_OP_REQUEST 1
#define ARP_OP_REPLY 2

struct arp_config {
	uint32_t lifetime_ms, retry_ms, retries, queue_len, cache_max;
};

struct arp_entry;

#define ARP_EXTRA_MAX 15 /* addresses beside the first */

struct arp {
	struct arp_config cfg;
	uint8_t mac[6];
	uint32_t addr;
	/* Further addresses of the stack it answers for (issue 17 item 1). */
	uint32_t extra[ARP_EXTRA_MAX];
	uint32_t nextra;
	struct synack_link_stats *stats; /* counters live in the link's stats */
	struct arp_entry *entries;       /* cache_max slots */
	size_t nentries;
	struct neigh_fifo out;      /* frames to send, oldest first */
	struct neigh_failed failed; /* cache_max addresses given up on */
};

/* Answers for addr too (and takes a claim on it as a conflict): 0, or
 * -ENOSPC past ARP_EXTRA_MAX. */
int arp_add_addr(struct arp *a, uint32_t addr);

/* Returns 0 or -ENOMEM.  stats must outlive the module. */
int arp_init(struct arp *a, const struct arp_config *cfg, const uint8_t mac[6], uint32_t addr,
             struct synack_link_stats *stats);
void arp_free(struct arp *a);

/* Queues a gratuitous ARP request announcing our address (RFC 5227 2.3). */
void arp_announce(struct arp *a);

/*
 * One frame from the device.  Returns 1 and sets *ip, *iplen when it carries
 * an IPv4 datagram for the stack; 0 when it was ARP (handled) or dropped
 * (counted).
 */
int arp_frame_in(struct arp *a, uint64_t now, const uint8_t *frame, size_t len, const uint8_t **ip,
                 size_t *iplen);

/*
 * One datagram for next hop nexthop.  When its MAC is known, writes the
 * whole frame into frame (cap >= len + ARP_ETH_HLEN) and returns its length;
 * otherwise holds a copy (or drops it, counted) and returns 0.
 */
size_t arp_send_ip(struct arp *a, uint64_t now, uint32_t nexthop, const uint8_t *pkt, size_t len,
                   uint8_t *frame, size_t cap);

/*
 * When nexthop's MAC is known: writes the Ethernet header of an IPv4
 * datagram to it into hdr, marks the entry used (as arp_send_ip() does) and
 * returns 1; 0 otherwise.  For a datagram written from where it lies.
 */
int arp_eth_header(struct arp *a, uint64_t now, uint32_t nexthop, uint8_t hdr[ARP_ETH_HLEN]);

/* Retries, expiry and give-ups due at or before now. */
void arp_advance(struct arp *a, uint64_t now);
uint64_t arp_next_deadline(const struct arp *a);

/*
 * Copies the next queued frame into buf.  Returns its length, 0 when none
 * is queued, or -EMSGSIZE when cap is too small (it stays queued).
 */
ssize_t arp_output(struct arp *a, uint8_t *buf, size_t cap);

/*
 * The next address whose resolution was given up: returns 1 and sets *addr,
 * or 0 when none is left.  At most cache_max wait; a give-up finding the
 * ring full is not queued (its connections then time out as before).
 */
int arp_failed_next(struct arp *a, uint32_t *addr);

/* The cache entry for addr: 1 and *mac when resolved, 0 otherwise. */
int arp_lookup(const struct arp *a, uint32_t addr, uint8_t mac[6]);

#endif
