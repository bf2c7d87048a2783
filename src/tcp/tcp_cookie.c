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
 * echoes them in its TSecr (tcp_cookie_ts_make, tcp_cookie_ts_check, below).
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

/*
 * The options in the timestamp, Linux's layout (cookie_init_timestamp,
 * include/net/tcp.h TS_OPT_*): the low 6 bits of TSval are
 *
 *   | ECN (1) | SACK-permitted (1) | window scale (4, 15 = none) |
 *
 * The value is our clock with its low 6 bits replaced, moved back 64 ticks
 * when that would put it ahead of the clock: a timestamp never runs ahead
 * (RFC 7323 5.4's PAWS at the peer compares it with later ones).  The
 * peer echoes it in TSecr.  Not covered by the MAC: a peer that forges
 * them changes only its own connection's options, as on Linux.
 */
#define TS_OPT_WSCALE_MASK 0xfu
#define TS_OPT_SACK (1u << 4)
#define TS_OPT_ECN (1u << 5)
#define TS_OPT_BITS 6u

struct tcp_cookie_opts tcp_cookie_syn_opts(const struct tcp_layer *st, const struct wire_tcp *syn)
{
	struct tcp_cookie_opts o;
	/* The wire layer clamps a window scale above 14 (RFC 7323 2.3). */
	o.wscale = syn->opts.has_wscale && ENV(st)->cfg.window_scaling ? syn->opts.wscale
	                                                               : TCP_COOKIE_NO_WSCALE;
	o.sack_ok = syn->opts.sack_permitted && ENV(st)->cfg.sack;
	o.ecn_ok = (uint8_t)tcp_ecn_syn_accept(st, syn);
	return o;
}

uint32_t tcp_cookie_ts_encode(uint32_t ts_now, struct tcp_cookie_opts o)
{
	uint32_t bits = (o.wscale < TCP_COOKIE_NO_WSCALE ? o.wscale : TCP_COOKIE_NO_WSCALE) &
	                TS_OPT_WSCALE_MASK;
	if (o.sack_ok)
		bits |= TS_OPT_SACK;
	if (o.ecn_ok)
		bits |= TS_OPT_ECN;
	uint32_t low = (1u << TS_OPT_BITS) - 1;
	uint32_t ts = (ts_now & ~low) | bits;
	/* Modular: ts is ahead of ts_now by less than 64. */
	if ((ts & low) > (ts_now & low))
		ts -= 1u << TS_OPT_BITS;
	return ts;
}

struct tcp_cookie_opts tcp_cookie_ts_decode(uint32_t ts_ecr)
{
	struct tcp_cookie_opts o;
	o.wscale = (uint8_t)(ts_ecr & TS_OPT_WSCALE_MASK);
	/* 15 is none; 14 is the largest shift (RFC 7323 2.3), so a forged
	 * 15 cannot become a shift either. */
	if (o.wscale > 14)
		o.wscale = TCP_COOKIE_NO_WSCALE;
	o.sack_ok = (ts_ecr & TS_OPT_SACK) != 0;
	o.ecn_ok = (ts_ecr & TS_OPT_ECN) != 0;
	return o;
}

uint32_t tcp_cookie_ts_make(const struct tcp_layer *st, const struct tuple *t,
                            struct tcp_cookie_opts o)
{
	return tcp_cookie_ts_encode(tcp_ts_clock(st) + tcp_ts_offset(st, t), o);
}

int tcp_cookie_ts_check(const struct tcp_layer *st, const struct tuple *t, uint32_t ecr,
                        struct tcp_cookie_opts *o)
{
	/* An echo of a TSval we sent within a cookie's life (two 64 s
	 * slots), else the options are not trusted. */
	uint32_t now = tcp_ts_clock(st) + tcp_ts_offset(st, t);
	if (now - ecr > 2 * COOKIE_SLOT_US / 1000 + (1u << TS_OPT_BITS))
		return -1;
	*o = tcp_cookie_ts_decode(ecr);
	return 0;
}
