/*
 * The offloads of a TUN/TAP device, sans IO (vnet.h says what and why).
 */
#include "link/vnet.h"

#include <string.h>

#define TH_FIN 0x01
#define TH_PSH 0x08
#define TH_ACK 0x10
#define TH_ECE 0x40
#define IP4_HLEN 20
#define IP6_HLEN 40
#define TCP_HLEN 20
#define IPPROTO_TCP_NUM 6

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static void put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

void vnet_parse(const uint8_t in[VNET_HDR_LEN], struct vnet_hdr *h)
{
	h->flags = in[0];
	h->gso_type = in[1];
	h->hdr_len = le16(in + 2);
	h->gso_size = le16(in + 4);
	h->csum_start = le16(in + 6);
	h->csum_offset = le16(in + 8);
}

void vnet_emit(uint8_t out[VNET_HDR_LEN], const struct vnet_hdr *h)
{
	out[0] = h->flags;
	out[1] = h->gso_type;
	put_le16(out + 2, h->hdr_len);
	put_le16(out + 4, h->gso_size);
	put_le16(out + 6, h->csum_start);
	put_le16(out + 8, h->csum_offset);
	put_le16(out + 10, 0); /* num_buffers: the device's business */
}

/*
 * The one's complement sum of n bytes (RFC 1071), in the host's byte
 * order: summed as the host loads them and stored back the same way, the
 * checksum's bytes come out right on either byte order (RFC 1071 2.B).
 * Eight bytes at a time with the carry wrapped around.
 */
static uint16_t sum_native(const uint8_t *p, size_t n)
{
	uint64_t acc = 0;
	for (; n >= 8; p += 8, n -= 8) {
		uint64_t w;
		memcpy(&w, p, 8);
		acc += w;
		acc += acc < w;
	}
	uint8_t tail[8] = {0};
	memcpy(tail, p, n);
	uint64_t w;
	memcpy(&w, tail, 8);
	acc += w;
	acc += acc < w;
	acc = (acc & 0xffffffffu) + (acc >> 32);
	acc = (acc & 0xffffffffu) + (acc >> 32);
	acc = (acc & 0xffff) + (acc >> 16);
	acc = (acc & 0xffff) + (acc >> 16);
	return (uint16_t)acc;
}

void vnet_csum_complete(uint8_t *frame, size_t start, size_t off, size_t end)
{
	uint16_t c = (uint16_t)~sum_native(frame + start, end - start);
	memcpy(frame + start + off, &c, 2);
}

int vnet_rx(const struct vnet_hdr *h, uint8_t *frame, size_t len, size_t l3, int *gso)
{
	struct vnet_rx rx;
	*gso = 0;
	if (vnet_rx_state(h, frame, len, l3, &rx) != 0)
		return -1;
	vnet_rx_complete(h, frame, &rx);
	*gso = rx.gso;
	return 0;
}

void vnet_rx_complete(const struct vnet_hdr *h, uint8_t *frame, const struct vnet_rx *rx)
{
	if (rx->partial)
		vnet_csum_complete(frame, h->csum_start, h->csum_offset, rx->end);
}

/* 1 when the partial checksum at csum_start + csum_offset is the TCP
 * checksum of an IPv4 datagram without fragmentation (RFC 791 3.1), or
 * of an IPv6 one with TCP right after the header. */
static int partial_is_tcp(const struct vnet_hdr *h, const uint8_t *ip, size_t l3, int v4)
{
	size_t th = l3 + (v4 ? (size_t)(ip[0] & 0xf) * 4 : IP6_HLEN);
	int tcp = v4 ? ip[9] == IPPROTO_TCP_NUM && (get16(ip + 6) & 0x3fff) == 0
	             : ip[6] == IPPROTO_TCP_NUM;
	return tcp && h->csum_start == th && h->csum_offset == 16;
}

int vnet_rx_state(const struct vnet_hdr *h, const uint8_t *frame, size_t len, size_t l3,
                  struct vnet_rx *rx)
{
	memset(rx, 0, sizeof(*rx));
	int type = h->gso_type & ~VNET_GSO_ECN;
	if (type != VNET_GSO_NONE && type != VNET_GSO_TCPV4 && type != VNET_GSO_TCPV6)
		return -1;
	if (type == VNET_GSO_NONE && h->gso_type != VNET_GSO_NONE)
		return -1;
	/* The datagram ends where its IPv4 total length says (an Ethernet
	 * frame may be padded). */
	size_t end = len;
	int is_ip4 = len >= l3 + IP4_HLEN && (frame[l3] >> 4) == 4;
	int is_ip6 = len >= l3 + IP6_HLEN && (frame[l3] >> 4) == 6;
	if (is_ip4) {
		size_t tot = get16(frame + l3 + 2);
		if (tot >= IP4_HLEN && l3 + tot <= len)
			end = l3 + tot;
	} else if (is_ip6) {
		size_t tot = IP6_HLEN + get16(frame + l3 + 4);
		if (tot > IP6_HLEN && l3 + tot <= len)
			end = l3 + tot;
	}
	rx->end = end;
	rx->valid = (h->flags & VNET_F_DATA_VALID) != 0;
	if (h->flags & VNET_F_NEEDS_CSUM) {
		if (h->csum_start < l3 || (size_t)h->csum_start + h->csum_offset + 2 > end)
			return -1;
		rx->partial = 1;
		rx->tcp = (is_ip4 || is_ip6) && partial_is_tcp(h, frame + l3, l3, is_ip4);
	}
	if (type == VNET_GSO_TCPV4 || type == VNET_GSO_TCPV6) {
		/* A super-segment's checksum is partial: the kernel never
		 * summed its whole.  IPv6 (TSO6): TCP right after the header. */
		int v4 = type == VNET_GSO_TCPV4;
		if (!(h->flags & VNET_F_NEEDS_CSUM) || h->gso_size == 0 ||
		    !(v4 ? is_ip4 : is_ip6) || frame[l3 + (v4 ? 9 : 6)] != IPPROTO_TCP_NUM)
			return -1;
		rx->gso = 1;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Coalescing (TSO).                                                   */

/* The TCP header length of the segment whose TCP header is at th. */
static size_t tcp_hlen(const uint8_t *th)
{
	return (size_t)(th[12] >> 4) * 4;
}

/* The IP header length (20 or 40) of the only kinds a super-segment is
 * made of, 0 for the others: an IPv4 datagram without options or
 * fragmentation, or an IPv6 one without extension headers (TSO6), carrying
 * TCP with data. */
static size_t plain_tcp(const uint8_t *pkt, size_t len)
{
	size_t iphl;
	if (len > VNET_MAX_DGRAM)
		return 0;
	if (len > IP4_HLEN + TCP_HLEN && pkt[0] == 0x45 && get16(pkt + 2) == len &&
	    (get16(pkt + 6) & 0x3fff) == 0 && pkt[9] == IPPROTO_TCP_NUM)
		iphl = IP4_HLEN;
	else if (len > IP6_HLEN + TCP_HLEN && (pkt[0] >> 4) == 6 &&
	         get16(pkt + 4) == len - IP6_HLEN && pkt[6] == IPPROTO_TCP_NUM)
		iphl = IP6_HLEN;
	else
		return 0;
	size_t thl = tcp_hlen(pkt + iphl);
	return thl >= TCP_HLEN && iphl + thl < len ? iphl : 0;
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)get16(p) << 16 | get16(p + 2);
}

int tso_can_start(const uint8_t *pkt, size_t len)
{
	/* ACK and perhaps ECE, which every segment of the burst repeats;
	 * not SYN, RST, URG, nor CWR (the first segment's alone), nor PSH
	 * or FIN (the last one's). */
	size_t iphl = plain_tcp(pkt, len);
	return iphl && (pkt[iphl + 13] & ~TH_ECE) == TH_ACK;
}

void tso_start(struct tso *t, const uint8_t *pkt, size_t len)
{
	memcpy(t->buf + t->l3, pkt, len);
	t->len = len;
	t->iphl = (uint16_t)plain_tcp(pkt, len);
	t->hlen = (uint16_t)(t->iphl + tcp_hlen(pkt + t->iphl));
	t->mss = (uint16_t)(len - t->hlen);
	t->nxt = get32(pkt + t->iphl + 4) + t->mss;
	t->segs = 1;
	t->closed = 0;
}

int tso_join(struct tso *t, const uint8_t *pkt, size_t len)
{
	size_t iphl = t->len && !t->closed ? plain_tcp(pkt, len) : 0;
	if (!iphl || iphl != t->iphl || iphl + tcp_hlen(pkt + iphl) != t->hlen)
		return 0;
	size_t pay = len - t->hlen;
	if (pay > t->mss || t->len + pay > VNET_MAX_DGRAM)
		return 0;
	const uint8_t *h = t->buf + t->l3;
	const uint8_t *th = h + iphl, *ph = pkt + iphl;
	/* The segments the kernel cuts repeat the first one's headers but
	 * for the sequence number, the IP identification (incremented), the
	 * lengths, the checksums, and PSH and FIN on the last.  IPv6: the
	 * traffic class and flow label, next header, hop limit, addresses. */
	int ip_same = iphl == IP4_HLEN ? h[1] == pkt[1] && memcmp(h + 6, pkt + 6, 4) == 0 &&
	                                     memcmp(h + 12, pkt + 12, 8) == 0
	                               : memcmp(h, pkt, 4) == 0 && memcmp(h + 6, pkt + 6, 34) == 0;
	if (!ip_same || get32(ph + 4) != t->nxt || memcmp(th, ph, 4) != 0 ||
	    memcmp(th + 8, ph + 8, 5) != 0 || memcmp(th + 14, ph + 14, 2) != 0 ||
	    memcmp(th + 18, ph + 18, t->hlen - iphl - 18) != 0 ||
	    (ph[13] & ~(TH_PSH | TH_FIN)) != th[13])
		return 0;
	memcpy(t->buf + t->l3 + t->len, pkt + t->hlen, pay);
	t->len += pay;
	t->nxt += (uint32_t)pay;
	t->segs++;
	if (pay < t->mss || (ph[13] & (TH_PSH | TH_FIN))) {
		t->closed = 1;
		t->buf[t->l3 + iphl + 13] |= ph[13] & (TH_PSH | TH_FIN);
	}
	return 1;
}

static uint32_t ip4_finish(uint8_t *d, size_t len);

size_t tso_finish(struct tso *t, struct vnet_hdr *h)
{
	size_t len = t->len;
	memset(h, 0, sizeof(*h));
	t->len = 0;
	if (t->segs <= 1)
		return len;
	uint8_t *d = t->buf + t->l3;
	uint32_t p;
	if (t->iphl == IP6_HLEN) {
		/* RFC 8200 3: the payload length; 8.1: the pseudo-header's
		 * share of the TCP checksum (addresses, upper-layer length,
		 * next header). */
		put16(d + 4, (uint16_t)(len - IP6_HLEN));
		p = IPPROTO_TCP_NUM + (uint32_t)(len - IP6_HLEN);
		for (int i = 8; i < IP6_HLEN; i += 2)
			p += get16(d + i);
		h->gso_type = VNET_GSO_TCPV6;
	} else {
		p = ip4_finish(d, len);
		h->gso_type = VNET_GSO_TCPV4;
	}
	p = (p & 0xffff) + (p >> 16);
	p = (p & 0xffff) + (p >> 16);
	put16(d + t->iphl + 16, (uint16_t)p);
	h->flags = VNET_F_NEEDS_CSUM;
	h->hdr_len = (uint16_t)(t->l3 + t->hlen);
	h->gso_size = t->mss;
	h->csum_start = (uint16_t)(t->l3 + t->iphl);
	h->csum_offset = 16;
	return len;
}

/* An IPv4 super-segment's total length and header checksum (RFC 791 3.1);
 * returns the pseudo-header's sum for its TCP checksum (RFC 9293 3.1),
 * unfolded. */
static uint32_t ip4_finish(uint8_t *d, size_t len)
{
	put16(d + 2, (uint16_t)len);
	put16(d + 10, 0);
	uint32_t s = 0;
	for (int i = 0; i < IP4_HLEN; i += 2)
		s += get16(d + i);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	put16(d + 10, (uint16_t)~s);
	/* The kernel adds each segment's own share. */
	return get16(d + 12) + get16(d + 14) + get16(d + 16) + get16(d + 18) + IPPROTO_TCP_NUM +
	       (uint32_t)(len - IP4_HLEN);
}
