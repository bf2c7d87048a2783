/*
 * Wire formats of IPv6 (RFC 8200) and ICMPv6 (RFC 4443): parse and emit
 * views, the extension-header walk, and the text form of an IPv6 address
 * (RFC 4291 2.2 in, RFC 5952 out).  Pure functions like wire.h's: no state,
 * no allocation; the parsers treat their input as hostile and say why they
 * reject it with an enum synack_drop.
 */
#ifndef SYNACK_WIRE6_H
#define SYNACK_WIRE6_H

#include <stddef.h>
#include <stdint.h>

#include "core/addr.h"
#include "wire/wire.h"

#define WIRE_IP6_HDR_LEN 40
#define WIRE_IP6_MIN_MTU 1280 /* RFC 8200 5: every link carries this */

/* Next Header values (RFC 8200 4, IANA "Assigned Internet Protocol Numbers"). */
enum {
	WIRE_IPPROTO_HOPOPTS = 0,
	WIRE_IPPROTO_ROUTING = 43,
	WIRE_IPPROTO_FRAGMENT = 44,
	WIRE_IPPROTO_ICMPV6 = 58,
	WIRE_IPPROTO_NONE = 59,
	WIRE_IPPROTO_DSTOPTS = 60,
};

/* Extension headers one datagram may carry before the upper layer; one
 * more is dropped as ip6_ext_too_many.  RFC 8200 4.1 recommends at most
 * one of each (hop-by-hop, destination options twice, routing, fragment):
 * 5; 8 leaves room for headers we skip without knowing (RFC 7045). */
#define WIRE_IP6_MAX_EXT 8

/* A parsed IPv6 datagram, its extension headers walked. */
struct wire_ip6 {
	struct addr src, dst;
	uint8_t tclass; /* Traffic Class: DSCP and the ECN field (RFC 3168 5) */
	uint8_t hop_limit;
	uint8_t proto;          /* the upper-layer Next Header after the extension headers */
	uint32_t flow;          /* the 20-bit flow label (RFC 6437) */
	uint16_t payload_len;   /* from the header: bytes after the fixed 40 */
	uint16_t nh_off;        /* offset in the datagram of the Next Header field naming proto */
	const uint8_t *payload; /* the upper-layer header, into the datagram */
	size_t payload_len_up;  /* its length: payload_len less the extension headers */
	/* A Parameter Problem (RFC 4443 3.4) the receiver must send for the
	 * rejection: pp_code + 1 (0: none) and the offset it points at. */
	uint8_t pp;
	uint32_t pp_ptr;
	/* With IP6_FRAGMENT: the offset of the Fragment header (RFC 8200
	 * 4.5), what comes before it being the unfragmentable part; nh_off
	 * then points at the Next Header field naming it. */
	uint16_t frag_off;
};

/*
 * Parses an IPv6 datagram and walks its extension headers in order (RFC
 * 8200 4.1): hop-by-hop options only first; destination options; a routing
 * header is skipped when Segments Left is 0 and otherwise refused (no type
 * is processed: RFC 5095 3 forbids type 0, and RFC 8200 4.4 treats every
 * type as unrecognized then); a fragment header ends the walk unless it is
 * an atomic fragment (offset 0, M clear, RFC 6946), which is whole: the
 * others return IP6_FRAGMENT with frag_off and nh_off set, for reassembly
 * (what follows the fragment header is walked in the datagram put
 * together).  Options are handled by the two high bits of their type
 * (RFC 8200 4.2).  Returns SYNACK_DROP_NONE or:
 * IP_TRUNCATED (len < 40 or < 40 + payload length), IP_BAD_VERSION,
 * IP6_HOP_LIMIT (hop limit 0), IP6_EXT_TRUNCATED (a header running past
 * the payload), IP6_EXT_TOO_MANY, IP6_HBH_NOT_FIRST, IP6_BAD_OPTION (an
 * option running past its header, or more than 7 bytes of padding in a
 * row), IP6_UNKNOWN_OPTION (an unknown option whose high bits say discard),
 * IP6_ROUTING, IP6_FRAGMENT.  *out is filled as far as the walk went; pp
 * says whether an ICMPv6 Parameter Problem is due.
 */
int wire_ip6_parse(const uint8_t *pkt, size_t len, struct wire_ip6 *out);

/* Writes the fixed 40-byte header (no extension headers) for a payload of
 * payload_len bytes: Traffic Class ecn (the DSCP 0), the flow label. */
void wire_ip6_emit(uint8_t *buf, const struct addr *src, const struct addr *dst, uint8_t proto,
                   uint8_t hop_limit, uint32_t flow, size_t payload_len, uint8_t ecn);

/* The offset of the upper-layer header of the IPv6 datagram q (n bytes,
 * at least a fixed header), its Next Header in *proto, the extension
 * headers skipped without looking into them; 0 when they run past n, are
 * too many, or the datagram is a fragment other than the first. */
size_t wire_ip6_upper(const uint8_t *q, size_t n, uint8_t *proto);

/* The network part of an IPv6 datagram, for the transport parsers. */
static inline struct wire_net wire_ip6_net(const struct wire_ip6 *ip)
{
	struct wire_net n = {ip->src, ip->dst, ip->payload, ip->payload_len_up,
	                     (uint8_t)(ip->tclass & WIRE_ECN_MASK)};
	return n;
}

/* ICMPv6 (RFC 4443 2.1): types below 128 are errors. */
enum {
	WIRE_ICMP6_DEST_UNREACH = 1,
	WIRE_ICMP6_PACKET_TOO_BIG = 2,
	WIRE_ICMP6_TIME_EXCEEDED = 3,
	WIRE_ICMP6_PARAM_PROBLEM = 4,
	WIRE_ICMP6_ECHO = 128,
	WIRE_ICMP6_ECHO_REPLY = 129,
};
/* Destination Unreachable codes (RFC 4443 3.1). */
enum {
	WIRE_ICMP6_NO_ROUTE = 0,
	WIRE_ICMP6_ADMIN_PROHIBITED = 1,
	WIRE_ICMP6_BEYOND_SCOPE = 2,
	WIRE_ICMP6_ADDR_UNREACH = 3,
	WIRE_ICMP6_PORT_UNREACH = 4,
	WIRE_ICMP6_POLICY_FAIL = 5,
	WIRE_ICMP6_REJECT_ROUTE = 6,
};
/* Time Exceeded codes (RFC 4443 3.3). */
enum {
	WIRE_ICMP6_HOP_LIMIT_EXCEEDED = 0,
	WIRE_ICMP6_REASM_TIMEOUT = 1, /* fragment reassembly time exceeded */
};
/* Parameter Problem codes (RFC 4443 3.4). */
enum {
	WIRE_ICMP6_PP_HEADER = 0,      /* erroneous header field */
	WIRE_ICMP6_PP_NEXT_HEADER = 1, /* unrecognized Next Header type */
	WIRE_ICMP6_PP_OPTION = 2,      /* unrecognized IPv6 option */
	WIRE_ICMP6_PP_CHAIN = 3,       /* first fragment without the header chain (RFC 7112) */
};

/* The datagram an ICMPv6 error quotes: its header, extension headers
 * walked to the transport header. */
struct wire_icmp6_quote {
	struct addr src, dst;
	uint8_t proto;        /* the upper layer after the quoted extension headers */
	uint16_t payload_len; /* as the quoted header says */
	const uint8_t *l4;    /* the quoted transport header */
	size_t l4_len;        /* bytes of it quoted */
};

/* A parsed ICMPv6 message. */
struct wire_icmp6 {
	uint8_t type, code;
	uint32_t rest;       /* bytes 4..7: id and sequence, the MTU, the pointer */
	uint16_t id, seq;    /* echo and echo reply */
	const uint8_t *data; /* after the 8-byte header */
	size_t data_len;
	uint8_t is_error;
	struct wire_icmp6_quote quote; /* errors only */
};

/*
 * Parses the ICMPv6 message carried by net (an IPv6 datagram's upper
 * layer).  Returns SYNACK_DROP_NONE or ICMP_TRUNCATED (fewer than 8 bytes),
 * ICMP_BAD_CHECKSUM (over the RFC 8200 8.1 pseudo-header and the message,
 * RFC 4443 2.3), ICMP_BAD_QUOTE (an error whose quote is no IPv6 header,
 * runs out inside its extension headers, is of a fragment other than the
 * first, or holds fewer than 8 bytes of the transport header).
 */
int wire_icmp6_parse(const struct wire_net *net, struct wire_icmp6 *out);
/*
 * Writes an ICMPv6 message from src to dst: the 8-byte header followed by
 * len bytes of data (which may already sit at buf + 8), its checksum over
 * the pseudo-header.  Returns the message length or 0 when cap is too small.
 */
size_t wire_icmp6_emit(uint8_t *buf, size_t cap, const struct addr *src, const struct addr *dst,
                       uint8_t type, uint8_t code, uint32_t rest, const uint8_t *data, size_t len);

/* IPv6 addresses as text.  An address of wire.h's struct addr from its 16
 * network-order bytes, and back. */
struct addr wire_addr6_from_bytes(const uint8_t b[16]);
void wire_addr6_to_bytes(const struct addr *a, uint8_t b[16]);
/* Parses RFC 4291 2.2's text forms (x:x:x:x:x:x:x:x, "::" once, a trailing
 * dotted IPv4 part) of exactly len bytes of s.  Returns 0 or -1. */
int wire_addr6_parse(const char *s, size_t len, uint8_t out[16]);
/* Writes RFC 5952 4's form (lower case, no leading zeros, the longest run
 * of two or more zero groups as "::", the first of equals; ::ffff:a.b.c.d
 * for an IPv4-mapped address, 5) into buf (>= 46 bytes); returns buf. */
char *wire_addr6_str(const uint8_t a[16], char *buf, size_t len);

#endif
