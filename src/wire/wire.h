/*
 * Wire formats: parse and emit views of IPv4 and TCP headers, and the
 * Internet checksum.  Pure functions: no state, no allocation.  Parsers
 * reject what can never be valid and say why with an enum synack_drop.
 */
#ifndef SYNACK_WIRE_H
#define SYNACK_WIRE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/addr.h"
#include "synack/synack.h"

#define WIRE_IP4_HDR_LEN 20
#define WIRE_TCP_HDR_LEN 20
#define WIRE_TCP_MAX_OPT_LEN 40
#define WIRE_IPPROTO_TCP 6
#define WIRE_IPPROTO_ICMP 1

/* RFC 791 3.1: the flags and fragment offset word (the offset counts
 * 8-byte units). */
#define WIRE_IP4_DF 0x4000
#define WIRE_IP4_MF 0x2000
#define WIRE_IP4_OFFSET_MASK 0x1fff

/* A parsed IPv4 header; addresses in host byte order. */
struct wire_ip4 {
	uint32_t src, dst;
	uint8_t proto, ttl, tos;
	uint16_t id;
	uint16_t frag;          /* flags and fragment offset (WIRE_IP4_DF, _MF, _OFFSET_MASK) */
	uint16_t hdr_len;       /* IHL * 4 */
	uint16_t total_len;     /* from the header; bytes past it are link padding */
	const uint8_t *payload; /* points into the datagram */
	size_t payload_len;     /* total_len - hdr_len */
};

/*
 * Parses an IPv4 header.  Returns SYNACK_DROP_NONE or the reason it is
 * invalid: IP_TRUNCATED (len < 20 or < IHL*4 or < total length),
 * IP_BAD_VERSION, IP_BAD_IHL (IHL < 5), IP_BAD_TOTAL_LEN (total < IHL*4),
 * IP_BAD_CHECKSUM, IP_FRAGMENT (MF set or a non-zero fragment offset: a
 * valid header of a piece of a datagram, *out filled for reassembly; the
 * payload is the fragment's data).  Options are skipped, not interpreted.
 */
int wire_ip4_parse(const uint8_t *pkt, size_t len, struct wire_ip4 *out);

/*
 * Writes a 20-byte IPv4 header (no options) with its checksum for a
 * payload of payload_len bytes, with the flags and fragment offset word
 * frag: a fragment (RFC 791 3.2) carries WIRE_IP4_MF unless it is the
 * last, and its offset in 8-byte units; payload_len is the fragment's.
 * buf must hold 20 bytes.
 */
void wire_ip4_emit_frag(uint8_t *buf, uint32_t src, uint32_t dst, uint8_t proto, uint8_t ttl,
                        uint16_t id, size_t payload_len, uint16_t frag);
/* The same for a whole datagram, with DF set: we do path MTU discovery
 * rather than let routers fragment (RFC 1191). */
void wire_ip4_emit(uint8_t *buf, uint32_t src, uint32_t dst, uint8_t proto, uint8_t ttl,
                   uint16_t id, size_t payload_len);

/*
 * The ECN field (RFC 3168 5): the two low bits of IPv4's TOS byte and of
 * IPv6's Traffic Class, the same codepoints in both families.
 */
enum {
	WIRE_ECN_NOT_ECT = 0, /* not ECN-capable transport */
	WIRE_ECN_ECT1 = 1,    /* ECN-capable, ECT(1) */
	WIRE_ECN_ECT0 = 2,    /* ECN-capable, ECT(0): what an RFC 3168 sender sets */
	WIRE_ECN_CE = 3,      /* congestion experienced, set by a router */
	WIRE_ECN_MASK = 3,
};
/* wire_ip4_emit with the ECN field set to ecn (a WIRE_ECN_* codepoint);
 * the DSCP stays 0. */
void wire_ip4_emit_ecn(uint8_t *buf, uint32_t src, uint32_t dst, uint8_t proto, uint8_t ttl,
                       uint16_t id, size_t payload_len, uint8_t ecn);

/*
 * What a transport parser needs of the network header that carried it,
 * whatever its family: the addresses (for the pseudo-header checksum, RFC
 * 9293 3.1 for IPv4, RFC 8200 8.1 for IPv6) and the transport payload.
 */
struct wire_net {
	struct addr src, dst;
	const uint8_t *payload; /* points into the datagram */
	size_t payload_len;
	uint8_t ecn; /* the ECN field of the header (WIRE_ECN_*), for the transport */
};

/* The network part of an IPv4 datagram. */
static inline struct wire_net wire_ip4_net(const struct wire_ip4 *ip)
{
	struct wire_net n = {addr_v4(ip->src), addr_v4(ip->dst), ip->payload, ip->payload_len,
	                     (uint8_t)(ip->tos & WIRE_ECN_MASK)};
	return n;
}

/* TCP options we understand. */
/* One SACK block (RFC 2018 3): the sequence space [start, end). */
struct wire_sack {
	uint32_t start, end;
};
/* SACK blocks one segment can carry: 2 + 8 n option bytes within the 40
 * (RFC 2018 3), 3 beside timestamps. */
#define WIRE_SACK_MAX 4
/* TCP Fast Open (RFC 7413 4.1.1): the option carries no cookie (a cookie
 * request) or one of 4 to 16 bytes. */
#define WIRE_TFO_COOKIE_MIN 4
#define WIRE_TFO_COOKIE_MAX 16
enum { WIRE_TFO_NONE = 0, WIRE_TFO_REQUEST, WIRE_TFO_COOKIE };

struct wire_tcp_opts {
	uint8_t has_mss, has_wscale, sack_permitted, has_ts;
	uint16_t mss;
	uint8_t wscale;
	uint8_t sack_count; /* SACK blocks (kind 5) in sack[] */
	uint32_t ts_val, ts_ecr;
	struct wire_sack sack[WIRE_SACK_MAX];
	/* TCP Fast Open (RFC 7413 4.1.1): WIRE_TFO_* in tfo; a cookie of
	 * tfo_len bytes (4..16, even, as Linux takes them).  tfo_exp: it came
	 * as the experimental option (kind 254, magic 0xF989). */
	uint8_t tfo, tfo_exp, tfo_len;
	uint8_t tfo_cookie[WIRE_TFO_COOKIE_MAX];
};

/* A parsed TCP segment. */
struct wire_tcp {
	struct addr saddr, daddr; /* from the network header */
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags; /* SYNACK_TH_* */
	uint16_t wnd;  /* unscaled window field */
	uint16_t urp;
	uint16_t hdr_len; /* data offset * 4 */
	struct wire_tcp_opts opts;
	const uint8_t *data; /* payload, points into the datagram */
	uint32_t data_len;
	uint8_t ecn; /* the ECN field of the network header that carried it (WIRE_ECN_*) */
	/* Receive checksum fused with the copy (wire_tcp_parse_deferred):
	 * the payload's part of the checksum is still to be verified, by
	 * wire_tcp_verify or wire_tcp_verify_copy; csum_part is the sum of the
	 * pseudo-header and the TCP header. */
	uint8_t csum_pending;
	uint32_t csum_part;
};

/*
 * Parses the TCP segment carried by a network header of either family.
 * Returns SYNACK_DROP_NONE or:
 * TCP_TRUNCATED (fewer than 20 bytes), TCP_BAD_OFFSET (data offset < 5 or
 * past the segment), TCP_BAD_CHECKSUM (pseudo-header checksum, RFC 9293
 * 3.1), TCP_BAD_OPTION (an option length of 0 or 1, or running past the
 * header; a known option with the wrong length), TCP_BAD_FLAGS (SYN with
 * FIN, SYN with RST), TCP_BAD_PORT (source or destination port 0).
 * Unknown options are skipped; EOL ends the list.
 */
int wire_tcp_parse_net(const struct wire_net *net, struct wire_tcp *out);
/* The same for a segment carried by IPv4. */
int wire_tcp_parse(const struct wire_ip4 *ip, struct wire_tcp *out);
/*
 * wire_tcp_parse for the receive path, which verifies the checksum of an
 * in-sequence data segment while it copies the text into the receive
 * buffer (RFC 1071 2(C): the sum can be computed during the copy).  A
 * segment that carries WIRE_TCP_DEFER_MIN bytes of text or more and no
 * control bit but ACK and PSH comes back
 * with csum_pending set and only its pseudo-header and header summed; the
 * caller must then call wire_tcp_verify or wire_tcp_verify_copy before it
 * acts on any field.  Every other segment, and one whose header is wrong
 * in any way, is checked whole as wire_tcp_parse checks it, so a segment
 * that fails its checksum is TCP_BAD_CHECKSUM whatever else is wrong.
 */
int wire_tcp_parse_deferred(const struct wire_ip4 *ip, struct wire_tcp *out);
/*
 * wire_tcp_parse_net for a segment whose checksum the link vouched for
 * (Linux's CHECKSUM_UNNECESSARY, or CHECKSUM_PARTIAL from the local
 * kernel: net_input's NET_CSUM_UNNECESSARY): every check but the checksum.
 */
int wire_tcp_parse_trusted(const struct wire_net *net, struct wire_tcp *out);
/* Text shorter than this is summed with its header in one pass: below the
 * vector loop's length, a fused copy saves nothing. */
#define WIRE_TCP_DEFER_MIN 128
/* A csum_pending segment's checksum is right (1) or not (0): the payload
 * summed in place. */
int wire_tcp_verify(const struct wire_tcp *w);
/* The same, copying the payload while summing it: the first `first' bytes
 * to dst, the rest (data_len - first) to rest.  The bytes are copied
 * whatever the verdict; a caller commits them only on 1. */
int wire_tcp_verify_copy(const struct wire_tcp *w, uint8_t *dst, uint32_t first, uint8_t *rest);

/* What wire_tcp_emit writes. */
struct wire_tcp_out {
	struct addr saddr, daddr; /* for the pseudo-header; both of one family */
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t wnd;
	struct wire_tcp_opts opts; /* MSS, window scale, SACK-permitted, timestamps */
};

/*
 * Writes a TCP header with options, copies len payload bytes after it and
 * fills in the checksum over the pseudo-header.  Returns the segment length
 * (header + options + payload) or 0 when cap is too small.  Options are
 * padded with NOPs/EOL to a multiple of 4.
 */
size_t wire_tcp_emit(uint8_t *buf, size_t cap, const struct wire_tcp_out *seg,
                     const uint8_t *payload, size_t len);
/*
 * The same for a payload the caller has already placed at buf + the header
 * length (wire_tcp_hdr_len()) and summed with wire_csum_add or
 * wire_csum_copy into payload_sum (starting from 0): only the header is
 * written and summed.
 */
size_t wire_tcp_emit_summed(uint8_t *buf, size_t cap, const struct wire_tcp_out *seg, size_t len,
                            uint32_t payload_sum);
/* Length of the header (with options) wire_tcp_emit writes for seg. */
size_t wire_tcp_hdr_len(const struct wire_tcp_out *seg);

/* Length of the options wire_tcp_emit would write for opts. */
size_t wire_tcp_opts_len(const struct wire_tcp_opts *opts);
/* SACK blocks that fit beside the other options of opts (RFC 2018 3: 4
 * alone, 3 beside timestamps); wire_tcp_emit writes at most that many. */
unsigned wire_tcp_sack_room(const struct wire_tcp_opts *opts);

/* ICMP (RFC 792). */
#define WIRE_ICMP_HDR_LEN 8
enum {
	WIRE_ICMP_ECHO_REPLY = 0,
	WIRE_ICMP_DEST_UNREACH = 3,
	WIRE_ICMP_SOURCE_QUENCH = 4,
	WIRE_ICMP_REDIRECT = 5,
	WIRE_ICMP_ECHO = 8,
	WIRE_ICMP_TIME_EXCEEDED = 11,
	WIRE_ICMP_PARAM_PROBLEM = 12,
};
/* Destination Unreachable codes (RFC 792, RFC 1122 3.2.2.1, RFC 1812 5.2.7.1). */
enum {
	WIRE_ICMP_NET_UNREACH = 0,
	WIRE_ICMP_HOST_UNREACH = 1,
	WIRE_ICMP_PROTO_UNREACH = 2,
	WIRE_ICMP_PORT_UNREACH = 3,
	WIRE_ICMP_FRAG_NEEDED = 4,
};

/* Time Exceeded codes (RFC 792). */
enum {
	WIRE_ICMP_TTL_EXCEEDED = 0,
	WIRE_ICMP_REASM_TIMEOUT = 1, /* fragment reassembly time exceeded */
};

/* The datagram an ICMP error quotes: its IPv4 header and what follows. */
struct wire_icmp_quote {
	uint32_t src, dst; /* host order */
	uint8_t proto;
	uint16_t hdr_len;   /* IHL * 4 */
	uint16_t total_len; /* as the quoted header says (the quote is usually shorter) */
	const uint8_t *l4;  /* the quoted transport header: 8 bytes or more, unless the
	                       quoted datagram itself was shorter */
	size_t l4_len;      /* bytes quoted after the IP header */
};

/* A parsed ICMP message. */
struct wire_icmp {
	uint8_t type, code;
	uint32_t rest;       /* bytes 4..7: id and sequence of an echo, the next-hop MTU ... */
	uint16_t id, seq;    /* echo and echo reply: the two halves of rest */
	uint16_t mtu;        /* Fragmentation Needed: next-hop MTU (RFC 1191), 0 if not given */
	const uint8_t *data; /* after the 8-byte header: echo data or the quote */
	size_t data_len;
	uint8_t is_error;             /* Destination Unreachable, Source Quench, Redirect,
	                                 Time Exceeded, Parameter Problem */
	struct wire_icmp_quote quote; /* errors only */
};

/* Is type one of the error messages of RFC 792 (a quote follows the header)? */
int wire_icmp_is_error(uint8_t type);

/*
 * Parses the ICMP message carried by ip.  Returns SYNACK_DROP_NONE or:
 * ICMP_TRUNCATED (fewer than 8 bytes), ICMP_BAD_CHECKSUM (RFC 792: over the
 * whole message), ICMP_BAD_QUOTE (an error message whose quote is not an
 * IPv4 header followed by at least 8 bytes -- RFC 792 and RFC 1122 3.2.2
 * promise that much, or the whole datagram when it was shorter -- or whose
 * quote is of a fragment other than the first, whose first 8 bytes are no
 * transport header).
 */
int wire_icmp_parse(const struct wire_ip4 *ip, struct wire_icmp *out);

/*
 * Writes an ICMP message: the 8-byte header (type, code, checksum, rest)
 * followed by len bytes of data (which may already sit at buf + 8).
 * Returns the message length or 0 when cap is too small.
 */
size_t wire_icmp_emit(uint8_t *buf, size_t cap, uint8_t type, uint8_t code, uint32_t rest,
                      const uint8_t *data, size_t len);
/* Writes only the 8-byte header of a message whose data, wherever it is,
 * sums to data_sum (wire_csum_add from 0): for a message sent in
 * fragments, whose data is not behind its header in one buffer. */
void wire_icmp_emit_hdr(uint8_t *buf, uint8_t type, uint8_t code, uint32_t rest, uint32_t data_sum);

/* One's-complement sum of len bytes added to sum (not folded, not inverted). */
uint32_t wire_csum_add(uint32_t sum, const void *data, size_t len);
/*
 * Copies len bytes from src to dst and returns sum plus their one's-
 * complement sum, as wire_csum_add would: one pass over the data where a
 * copy is needed anyway.  The regions must not overlap.
 */
uint32_t wire_csum_copy(uint32_t sum, void *dst, const void *src, size_t len);
/* The sum of data that starts at an odd offset of the checksummed region:
 * pass the sum computed as if it started at an even one (RFC 1071 2(B)). */
uint32_t wire_csum_swap(uint32_t sum);
/* Folds a 32-bit sum to 16 bits and inverts it: the value for the header. */
uint16_t wire_csum_fold(uint32_t sum);
/*
 * Sum of the TCP/UDP pseudo-header of IPv4 (RFC 9293 3.1): the source
 * address, the destination address, a zero byte, the protocol and the TCP
 * length (header plus data, not counting the pseudo-header).  len is
 * summed as two 16-bit halves so that lengths above 65535 are right too.
 * Inline: every segment in and out sums one.
 */
static inline uint32_t wire_csum_pseudo(uint32_t src, uint32_t dst, uint8_t proto, uint32_t len)
{
	return (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) + proto + (len >> 16) +
	       (len & 0xffff);
}

/* The same for addresses of either family: RFC 9293 3.1's for IPv4
 * addresses, RFC 8200 8.1's for IPv6 (both 128-bit addresses, a 32-bit
 * length, three zero bytes and the next header).  Every term is at most
 * 0xffff and there are 19 of them: no overflow of 32 bits. */
static inline uint32_t wire_csum_pseudo_net(const struct addr *src, const struct addr *dst,
                                            uint8_t proto, uint32_t len)
{
	if (addr_is_v4(src))
		return wire_csum_pseudo(addr_to_v4(src), addr_to_v4(dst), proto, len);
	uint32_t sum = proto + (len >> 16) + (len & 0xffff);
	for (int i = 0; i < 4; i++)
		sum += (src->w[i] >> 16) + (src->w[i] & 0xffff) + (dst->w[i] >> 16) +
		       (dst->w[i] & 0xffff);
	return sum;
}

/*
 * Big-endian loads and stores: one unaligned access and a byte swap on a
 * little-endian host (the test below is a constant the compiler folds),
 * not four byte accesses and shifts: every header field in and out goes
 * through these.
 */
static inline int wire_host_le(void)
{
	const uint16_t one = 1;
	uint8_t first;
	memcpy(&first, &one, 1);
	return first == 1;
}
static inline uint16_t wire_get16(const uint8_t *p)
{
	uint16_t v;
	memcpy(&v, p, sizeof(v));
	return wire_host_le() ? __builtin_bswap16(v) : v;
}
static inline uint32_t wire_get32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, sizeof(v));
	return wire_host_le() ? __builtin_bswap32(v) : v;
}
static inline void wire_put16(uint8_t *p, uint16_t v)
{
	v = wire_host_le() ? __builtin_bswap16(v) : v;
	memcpy(p, &v, sizeof(v));
}
static inline void wire_put32(uint8_t *p, uint32_t v)
{
	v = wire_host_le() ? __builtin_bswap32(v) : v;
	memcpy(p, &v, sizeof(v));
}

#endif
