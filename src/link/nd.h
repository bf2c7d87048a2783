/*
 * IPv6 over Ethernet (RFC 2464) and neighbour discovery (RFC 4861) for a
 * TAP link, sans IO, as arp.c is for IPv4: frames in, frames out, time
 * given.
 *
 *  - nd_frame_in() takes every IPv6 frame read from the device (EtherType
 *    0x86DD).  It accepts our MAC and the multicast MACs of the groups we
 *    belong to (RFC 2464 7: 33:33 and the group's last 32 bits; all-nodes
 *    ff02::1 and the solicited-node group ff02::1:ffXX:XXXX of each of our
 *    addresses, RFC 4291 2.7.1), answers and learns from neighbour
 *    solicitations and advertisements, and hands every other datagram
 *    back for the stack.
 *  - nd_eth_header()/nd_send_ip() frame a datagram for its next hop: at once
 *    when the neighbour cache knows its MAC, otherwise the datagram is held
 *    (queue_len per neighbour) while solicitations go out every retrans_ms,
 *    max_multicast_solicit times, after which the held datagrams are
 *    dropped (nd_unresolved) and the address queued for nd_failed_next().
 *  - The cache follows RFC 4861 7.3.2's states: INCOMPLETE (resolving),
 *    REACHABLE (confirmed within reachable_ms), STALE (not lately
 *    confirmed; still used), DELAY (used while STALE: waits
 *    delay_first_probe_ms for a confirmation) and PROBE (unicast
 *    solicitations every retrans_ms, max_unicast_solicit times, then the
 *    entry is deleted).  Only a solicited advertisement (S flag) makes an
 *    entry REACHABLE; no upper-layer hint is taken (TCP's progress does
 *    not reach the link), so an entry in use is re-confirmed every
 *    reachable_ms + delay_first_probe_ms, as RFC 4861 7.3.1 allows.
 *  - Our link-local address is fe80::/64 with the modified EUI-64 of our
 *    MAC (RFC 4291 2.5.1 and appendix A, RFC 2464 4); solicitations for it
 *    and for every address given with nd_add_addr() are answered.
 *    Duplicate address detection (RFC 4862 5.4) is not done: the addresses
 *    are configured by hand, and an advertisement or a solicitation from
 *    another MAC claiming one of them is dropped and counted
 *    (nd_conflict) instead.  Router solicitations, advertisements and
 *    redirects are not taken (nd_ignored): the default gateway is
 *    configured (the link's gw6).
 *  - Every frame the module itself sends waits in an output queue read
 *    with nd_output().
 */
#ifndef SYNACK_LINK_ND_H
#define SYNACK_LINK_ND_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "link/neigh.h"
#include "synack/link.h"

#define ND_ETHERTYPE_IPV6 0x86dd
#define ND_IP6_HLEN 40
#define ND_ADDR_MAX 16 /* our addresses: the link-local and 15 more */

/* ICMPv6 types of neighbour discovery (RFC 4861 4). */
enum {
	ND_ROUTER_SOLICIT = 133,
	ND_ROUTER_ADVERT = 134,
	ND_NEIGH_SOLICIT = 135,
	ND_NEIGH_ADVERT = 136,
	ND_REDIRECT = 137,
};

/* The constants of RFC 4861 10, as settings. */
struct nd_config {
	uint32_t reachable_ms;          /* ReachableTime (REACHABLE_TIME 30 s) */
	uint32_t retrans_ms;            /* RetransTimer (RETRANS_TIMER 1 s) */
	uint32_t delay_first_probe_ms;  /* DELAY_FIRST_PROBE_TIME (5 s) */
	uint32_t max_multicast_solicit; /* MAX_MULTICAST_SOLICIT (3) */
	uint32_t max_unicast_solicit;   /* MAX_UNICAST_SOLICIT (3) */
	uint32_t queue_len;             /* datagrams held per neighbour */
	uint32_t cache_max;             /* neighbour cache entries */
};

enum nd_state {
	ND_INCOMPLETE = 1,
	ND_REACHABLE,
	ND_STALE,
	ND_DELAY,
	ND_PROBE,
};

struct nd_entry;

struct nd {
	struct nd_config cfg;
	uint8_t mac[6];
	uint8_t addrs[ND_ADDR_MAX][16]; /* ours; [0] is the link-local */
	uint32_t naddrs;
	struct synack_link_stats *stats; /* counters live in the link's stats */
	struct nd_entry *entries;        /* cache_max slots */
	size_t nentries;
	struct neigh_fifo out;      /* frames to send, oldest first */
	struct neigh_failed failed; /* cache_max addresses given up on */
};

/* fe80::/64 with the modified EUI-64 of mac (RFC 4291 2.5.1, RFC 2464 4). */
void nd_link_local(const uint8_t mac[6], uint8_t out[16]);
/* The solicited-node multicast address of a (RFC 4291 2.7.1). */
void nd_solicited_node(const uint8_t a[16], uint8_t out[16]);

/* Returns 0 or -ENOMEM.  The link-local address of mac is ours from the
 * start.  stats must outlive the module. */
int nd_init(struct nd *n, const struct nd_config *cfg, const uint8_t mac[6],
            struct synack_link_stats *stats);
void nd_free(struct nd *n);
/* Answers solicitations for a (a unicast address) too: 0, -EINVAL or
 * -ENOSPC past ND_ADDR_MAX. */
int nd_add_addr(struct nd *n, const uint8_t a[16]);
/* 1 when a is one of our addresses. */
int nd_is_ours(const struct nd *n, const uint8_t a[16]);

/*
 * One IPv6 frame from the device (its EtherType already 0x86DD).  Returns
 * 1 and sets *ip, *iplen (trimmed to the payload length) when it carries a
 * datagram for the stack; 0 when it was neighbour discovery (handled) or
 * dropped (counted).
 */
int nd_frame_in(struct nd *n, uint64_t now, const uint8_t *frame, size_t len, const uint8_t **ip,
                size_t *iplen);

/*
 * When next hop hop's MAC is known (or hop is multicast): writes the
 * Ethernet header of an IPv6 datagram to it into hdr, notes the use
 * (STALE -> DELAY) and returns 1; 0 otherwise.
 */
int nd_eth_header(struct nd *n, uint64_t now, const uint8_t hop[16], uint8_t hdr[14]);
/* A datagram whose next hop hop is not resolved: held, resolution started
 * (or dropped, counted). */
void nd_hold(struct nd *n, uint64_t now, const uint8_t hop[16], const uint8_t *pkt, size_t len);

/* Retransmissions, state changes and give-ups due at or before now. */
void nd_advance(struct nd *n, uint64_t now);
uint64_t nd_next_deadline(const struct nd *n);
/* Copies the next queued frame into buf: its length, 0 when none, or
 * -EMSGSIZE (it stays queued). */
ssize_t nd_output(struct nd *n, uint8_t *buf, size_t cap);
/* The next address whose resolution was given up: 1 and *addr, or 0. */
int nd_failed_next(struct nd *n, uint8_t addr[16]);
/* The cache entry for a: its state (enum nd_state) and *mac, or 0 when
 * there is none. */
int nd_lookup(const struct nd *n, const uint8_t a[16], uint8_t mac[6]);

#endif
