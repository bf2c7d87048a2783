/*
 * What ARP (arp.c, IPv4) and neighbour discovery (nd.c, IPv6) share on a
 * TAP link: a queue of frames (the module's own to send, or datagrams held
 * while their next hop resolves), the bounded hold of RFC 1122 2.3.2.2 and
 * RFC 4861 7.2.2 (the oldest makes room, as Linux's unres_qlen), and the
 * ring of next hops given up on, for the caller to tell the stack.
 */
#ifndef SYNACK_LINK_NEIGH_H
#define SYNACK_LINK_NEIGH_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "synack/link.h"

/* A frame to send, or a datagram held with room for its Ethernet header. */
struct neigh_frame {
	struct neigh_frame *next;
	size_t len;
	uint8_t data[];
};

struct neigh_fifo {
	struct neigh_frame *head, *tail;
	size_t n;
};

/* A frame of len bytes (not queued), or NULL, counted as no_memory. */
struct neigh_frame *neigh_frame_new(size_t len, struct synack_link_stats *stats);
void neigh_fifo_push(struct neigh_fifo *q, struct neigh_frame *f);
/* The oldest frame, taken off the queue (NULL when empty). */
struct neigh_frame *neigh_fifo_pop(struct neigh_fifo *q);
/* Frees every frame, each counted as a drop of reason (0: not counted). */
void neigh_fifo_clear(struct neigh_fifo *q, struct synack_link_stats *stats, int reason);
/*
 * Copies the oldest frame into buf and frees it: its length, 0 when none
 * is queued, -EMSGSIZE when cap is too small (it stays queued).
 */
ssize_t neigh_fifo_output(struct neigh_fifo *q, uint8_t *buf, size_t cap);
/*
 * Holds a copy of datagram pkt behind hlen bytes of room for the link
 * header, at most max per queue: past it the oldest makes room (the newest,
 * a retransmission say, is worth more), counted as full_reason; max 0
 * drops pkt itself so.
 */
void neigh_hold(struct neigh_fifo *q, uint32_t max, const uint8_t *pkt, size_t len, size_t hlen,
                struct synack_link_stats *stats, int full_reason);

/* Next hops given up on, oldest first: a ring of cap 16-byte addresses
 * (an IPv4 one in its first 4 bytes, host order). */
struct neigh_failed {
	uint8_t (*v)[16];
	size_t cap, head, n;
};
/* 0 or -ENOMEM. */
int neigh_failed_init(struct neigh_failed *r, size_t cap);
void neigh_failed_free(struct neigh_failed *r);
/* Queues addr (when the ring is full it is not: its connections then time
 * out as before). */
void neigh_failed_push(struct neigh_failed *r, const uint8_t addr[16]);
/* 1 and the oldest in addr, or 0 when none is left. */
int neigh_failed_pop(struct neigh_failed *r, uint8_t addr[16]);

#endif
