/*
 * SYN cookies (RFC 4987 section 3.6): a listener whose SYN queue is full (or,
 * with syncookies = 2, every listener) answers a SYN without keeping any
 * state.  What it would have kept goes into the ISN of its SYN-ACK, and the
 * peer's ACK (SEG.ACK - 1) gives it back.
 *
 * Layout of the 32 bits, before an offset is added:
 *
 *   | t mod 32 (5) | MSS index (3) | MAC (24) |
 *
 * t counts 64-second slots of the stack's clock.  The MAC is SipHash-2-4,
 * under a key derived for cookies alone, of the 4-tuple, the peer's ISN, the
 * full slot number and the MSS index; a cookie is valid in its slot and the
 * next one.  The whole value is then shifted by a second keyed hash of the
 * 4-tuple and the peer's ISN, so that a cookie ISN is as unpredictable off
 * the path as an RFC 6528 one: nothing in it counts visibly.  A forger who
 * does not see our SYN-ACK has one chance in 2^24 per guess of a live slot.
 *
 * The ISN has no spare bits for the options the SYN offered; when it
 * carried timestamps they go in our TSval instead, as Linux puts them
 * (cookie_init_timestamp): the low 6 bits of the SYN-ACK's TSval hold the
 * peer's window scale (15 for none), SACK-permitted and ECN, and the ACK
 * echoes them in its TSecr (tcp_cookie_ts_make, tcp_cookie_ts_check).
 */
#include "core/siphash.h"
#include "tcp/tcp.h"

#define COOKIE_SLOT_US (64ull * 1000000u)
#define COOKIE_MAC_MASK 0xffffffu

/* The MSS values a cookie can carry, ascending.  The peer's MSS is rounded
 * down to one of them (536 when it announced none, RFC 9293 3.7.1). */
static const uint16_t COOKIE_MSS[8] = {64, 536, 1200, 1300, 1380, 1420, 1440, 1460};

/* The connection and the peer's ISN, as the bytes both hashes start
 * with; returns their length (16 for IPv4, 40 for IPv6). */
static size_t put_tuple(uint8_t *b, const struct tuple *t, uint32_t peer_isn)
{
	size_t n = tuple_put(b, t);
	wire_put32(b + n, peer_isn);
	return n + 4;
}

static uint32_t cookie_offset(const struct tcp_layer *st, const struct tuple *t, uint32_t peer_isn)
{
	uint8_t b[TUPLE_BYTES_MAX + 5];
	size_t n = put_tuple(b, t, peer_isn);
	b[n++] = 'o';
	return (uint32_t)siphash24(st->key_cookie, b, n);
}

static uint32_t cookie_mac(const struct tcp_layer *st, const struct tuple *t, uint32_t peer_isn,
                           uint32_t slot, uint32_t idx)
{
	uint8_t b[TUPLE_BYTES_MAX + 10];
	size_t n = put_tuple(b, t, peer_isn);
	wire_put32(b + n, slot);
	b[n + 4] = (uint8_t)idx;
	b[n + 5] = 'm';
	return (uint32_t)siphash24(st->key_cookie, b, n + 6) & COOKIE_MAC_MASK;
}

uint32_t tcp_cookie_make(const struct tcp_layer *st, const struct tuple *t, uint32_t peer_isn,
                         uint32_t peer_mss)
{
	uint32_t slot = (uint32_t)(ENV(st)->now / COOKIE_SLOT_US);
	uint32_t idx = 0;
	for (uint32_t i = 0; i < 8; i++)
		if (COOKIE_MSS[i] <= peer_mss)
			idx = i;
	uint32_t v = (slot & 31u) << 27 | idx << 24 | cookie_mac(st, t, peer_isn, slot, idx);
	return v + cookie_offset(st, t, peer_isn);
}

/* The low bits of a cookie SYN-ACK's TSval (Linux's TS_OPT_*). */
#define TS_OPT_WSCALE_MASK 0xfu
#define TS_OPT_SACK (1u << 4)
#define TS_OPT_ECN (1u << 5)
#define TS_OPT_BITS 6u

uint32_t tcp_cookie_ts_make(const struct tcp_layer *st, const struct tuple *t, int wscale)
{
	/* Our clock with its low bits replaced, never ahead of the clock:
	 * the peer's PAWS must see it count on.  SACK-permitted and ECN are
	 * not carried yet (the stack does neither). */
	uint32_t now = tcp_ts_clock(st) + tcp_ts_offset(st, t);
	uint32_t opts = wscale >= 0 ? (uint32_t)wscale : TS_OPT_WSCALE_MASK;
	uint32_t ts = (now & ~((1u << TS_OPT_BITS) - 1)) | opts;
	if ((int32_t)(ts - now) > 0)
		ts -= 1u << TS_OPT_BITS;
	return ts;
}

int tcp_cookie_ts_check(const struct tcp_layer *st, const struct tuple *t, uint32_t ecr)
{
	/* An echo of a TSval we sent within a cookie's life (two 64 s
	 * slots), else the options are not trusted; -1 for no window scale
	 * (or none to be had). */
	uint32_t now = tcp_ts_clock(st) + tcp_ts_offset(st, t);
	if (now - ecr > 2 * COOKIE_SLOT_US / 1000 + (1u << TS_OPT_BITS))
		return -2;
	uint32_t ws = ecr & TS_OPT_WSCALE_MASK;
	return ws > 14 ? -1 : (int)ws;
}

int tcp_cookie_check(const struct tcp_layer *st, const struct tuple *t, uint32_t peer_isn,
                     uint32_t cookie, uint32_t *mss)
{
	uint32_t v = cookie - cookie_offset(st, t, peer_isn);
	uint32_t now_slot = (uint32_t)(ENV(st)->now / COOKIE_SLOT_US);
	uint32_t age = (now_slot - (v >> 27)) & 31u;
	uint32_t idx = (v >> 24) & 7u;
	/* The slot it was made in or the one before: 64 to 128 s of life. */
	if (age > 1)
		return -1;
	if (cookie_mac(st, t, peer_isn, now_slot - age, idx) != (v & COOKIE_MAC_MASK))
		return -1;
	*mss = COOKIE_MSS[idx];
	return 0;
}
