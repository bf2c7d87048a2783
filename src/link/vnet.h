/*
 * The offloads of a TUN/TAP device, sans IO: the virtio_net_hdr that
 * precedes every frame on a device opened with IFF_VNET_HDR, and the
 * coalescing of TCP segments into the super-segments the kernel segments
 * itself (TSO/GSO).
 *
 * The header (virtio 1.2, 5.1.6 "Device Operation"; Linux's
 * include/uapi/linux/virtio_net.h) says of a frame:
 *  - flags NEEDS_CSUM: the transport checksum is partial.  The field at
 *    csum_start + csum_offset holds the sum of the pseudo-header only, and
 *    the sum from csum_start to the end is still to be added (what Linux
 *    calls CHECKSUM_PARTIAL).  DATA_VALID: the checksum was verified.
 *  - gso_type TCPV4 (ECN: the first segment carries CWR): the frame is a
 *    super-segment of up to 64 KiB whose payload the device cuts into
 *    segments of gso_size bytes, each with a copy of the headers (hdr_len
 *    bytes), PSH and FIN on the last one only, CWR on the first only.
 * Fields are little-endian (the link asks TUNSETVNETLE; the legacy header
 * of a little-endian host is the same).
 *
 * Receiving, the link asks the kernel (TUNSETOFFLOAD) for partial checksums
 * and TSO super-segments; vnet_rx() completes a partial checksum, so the
 * stack verifies the datagram as if it had crossed the wire whole, and
 * hands a super-segment on as one datagram (TCP takes a segment longer than
 * the MSS it advertised, as Linux does after GRO).
 *
 * Sending, TCP keeps its per-segment logic exact: it builds MSS-sized
 * segments one by one (every one counted by cwnd, rwnd, the SACK
 * scoreboard and RACK as on any link) and the link joins consecutive
 * full-sized segments of one connection that it sends in one go
 * (struct tso) into one super-segment for the kernel to cut again: what
 * reaches the wire is what TCP built.
 */
#ifndef SYNACK_LINK_VNET_H
#define SYNACK_LINK_VNET_H

#include <stddef.h>
#include <stdint.h>

/* struct virtio_net_hdr_v1: the 10 bytes of the legacy header and
 * num_buffers, which keeps a TUN datagram 4-byte aligned after it. */
#define VNET_HDR_LEN 12
#define VNET_F_NEEDS_CSUM 1
#define VNET_F_DATA_VALID 2
#define VNET_GSO_NONE 0
#define VNET_GSO_TCPV4 1
#define VNET_GSO_TCPV6 4 /* issue 14: TSO6 */
#define VNET_GSO_ECN 0x80
/* The longest datagram IPv4 can describe, and so the longest
 * super-segment (Linux's GSO_LEGACY_MAX_SIZE is 65536). */
#define VNET_MAX_DGRAM 65535u

struct vnet_hdr {
	uint8_t flags, gso_type;
	uint16_t hdr_len, gso_size, csum_start, csum_offset;
};

void vnet_parse(const uint8_t in[VNET_HDR_LEN], struct vnet_hdr *h);
void vnet_emit(uint8_t out[VNET_HDR_LEN], const struct vnet_hdr *h);

/*
 * A frame read from the device (l3: the offset of its IP header, 0 for
 * TUN, 14 for TAP) with its header h.  Completes a partial checksum in
 * place.  Returns 0, or -1 when the header is malformed (a GSO type other
 * than TCPV4 and TCPV6, or not the datagram's family, a super-segment
 * with no gso_size or no partial checksum, csum_start or csum_offset
 * outside the datagram): the link counts such a frame as a vnet_bad drop.
 * *gso is set to 1 for a super-segment.
 */
int vnet_rx(const struct vnet_hdr *h, uint8_t *frame, size_t len, size_t l3, int *gso);

/*
 * The checksum state of a frame as Linux's skb->ip_summed (issue 16 item
 * 2): what vnet_rx_state() found, before anything is summed.
 */
struct vnet_rx {
	int gso;     /* a super-segment */
	int partial; /* NEEDS_CSUM (CHECKSUM_PARTIAL): the field at csum_start +
	              * csum_offset holds the pseudo-header's sum alone */
	int valid;   /* DATA_VALID (CHECKSUM_UNNECESSARY): the device verified it */
	int tcp;     /* partial, and the field is the TCP checksum of an unfragmented
	              * datagram, which the stack may take as it is
	              * (SYNACK_INPUT_CSUM_UNNECESSARY) */
	size_t end;  /* where the datagram ends in the frame (past Ethernet padding) */
};
/* vnet_rx without the completion: validates the header (the same -1)
 * and fills *rx.  vnet_rx_complete() completes a partial checksum. */
int vnet_rx_state(const struct vnet_hdr *h, const uint8_t *frame, size_t len, size_t l3,
                  struct vnet_rx *rx);
void vnet_rx_complete(const struct vnet_hdr *h, uint8_t *frame, const struct vnet_rx *rx);

/* Completes the checksum at frame[start + off] over frame[start..end),
 * whose field holds the pseudo-header's sum (RFC 1071). */
void vnet_csum_complete(uint8_t *frame, size_t start, size_t off, size_t end);

/* The super-segment being built.  buf has room for l3 link header bytes
 * and VNET_MAX_DGRAM; the datagram starts at buf + l3. */
struct tso {
	uint8_t *buf;
	size_t l3;
	size_t len;    /* of the datagram so far; 0: none pending */
	uint16_t iphl; /* its IP header: 20 (IPv4) or 40 (IPv6, TSO6) */
	uint16_t hlen; /* its IP and TCP headers */
	uint16_t mss;  /* the payload of its first segment: gso_size */
	uint32_t nxt;  /* where a joining segment's sequence number must start */
	uint32_t segs;
	int closed; /* a short, PSH or FIN segment ended it */
};

/* 1 when the datagram (a TCP segment with data, ACK set and no other flag
 * but ECE) may start a super-segment. */
int tso_can_start(const uint8_t *pkt, size_t len);
/* Starts one with the datagram (tso_can_start said yes). */
void tso_start(struct tso *t, const uint8_t *pkt, size_t len);
/* Appends the datagram's payload when it continues the pending one exactly
 * (same headers but the sequence number, IP identification and checksums;
 * PSH or FIN end it): 1 joined, 0 not. */
int tso_join(struct tso *t, const uint8_t *pkt, size_t len);
/* Readies the pending datagram for the device: its length and IP header
 * checksum, and for more than one segment the partial TCP checksum and the
 * GSO fields of *h (an all-zero *h otherwise: the segment went as TCP built
 * it).  Returns the datagram's length; the pending one is gone. */
size_t tso_finish(struct tso *t, struct vnet_hdr *h);

#endif
