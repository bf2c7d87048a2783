/*
 * fuzz_stack: two whole stacks driven by a byte stream.
 *
 * Stack A (10.0.0.1) and stack B (10.0.0.2) are joined by a network the
 * input controls: every datagram a stack sends to the other's address waits
 * in a queue until an operation delivers, drops, duplicates, reorders or
 * mutates it.  Other operations are socket calls with fuzzed arguments, time
 * steps, segments crafted against a live connection's sequence numbers (so
 * they pass the checksum and window checks and reach deep into the state
 * machine) and raw bytes.  fuzz_stack.h describes the input language.
 *
 * After every operation the harness checks what must always hold:
 *  - every datagram a stack sends parses cleanly and comes from its address;
 *  - the counters agree with each other (every received datagram is counted
 *    exactly once, drops by reason add up to the error counters) and with
 *    the connection list (CurrEstab, conns_live, time_wait_live);
 *  - no socket holds more than its buffer size; trace records and readiness
 *    reports name real states, causes, reasons and sockets;
 *  - no socket returns more bytes than the peers were given, and while
 *    nothing was forged, every byte read is the byte sent at that offset
 *    of the stream (send() writes a pattern that depends on the offset);
 * and at the end, once every socket is closed and every timer has run, both
 * stacks hold nothing (no connection, record, orphan or buffered byte), and
 * freeing them leaves no leak (ASan's leak check).
 *
 * FUZZ_VERBOSE=1 in the environment prints each operation and its result.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "fuzz.h"
#include "fuzz_stack.h"
#include "wire/wire.h"
#include "wire/wire6.h"

#define NFD 64          /* sockets whose streams are checked byte by byte */
#define QMAX 64         /* datagrams waiting for each stack */
#define HIST 16         /* datagrams remembered for REPLAY */
#define MAX_SEND 16384  /* bytes one SEND offers */
#define MAX_DGRAM 65536 /* bytes of one datagram */
#define DRAIN_STEPS 200000

struct dgram {
	uint8_t *b;
	size_t len;
	uint64_t sent_at;
};

struct queue {
	struct dgram d[QMAX];
	size_t head, len;
};

struct world {
	struct synack_stack *st[2];
	struct synack_config cfg[2];
	uint64_t now;
	uint64_t msl_us; /* queued datagrams older than this are lost */
	struct queue q[2];
	struct dgram hist[HIST];
	size_t hist_next;
	int max_fd[2];
	uint64_t sent_off[2][NFD], recv_off[2][NFD];
	/* The receive window scale each socket's connection had, for the
	 * data it keeps after the connection ended (tcp_info then says 0). */
	uint8_t rcv_wscale[2][NFD];
	int bound_port[2][NFD]; /* bind() gave the socket a port of its own */
	uint64_t total_sent, total_recv, injected;
	/* The 4-tuple of a closed connection may come back at once when a
	 * socket connects from a port of our own choosing or SO_REUSEADDR is
	 * on (ephemeral ports move on): then an old segment can land in the
	 * new connection, as TCP allows, and the data checks say nothing. */
	int reuse_hazard;
	const uint8_t *in;
	size_t in_len;
	int verbose;
	uint64_t op_index;
};

static uint8_t buf_send[MAX_SEND], buf_recv[MAX_SEND], buf_pkt[MAX_DGRAM + 64];

static void vlog(struct world *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void vlog(struct world *w, const char *fmt, ...)
{
	if (!w->verbose)
		return;
	va_list ap;
	fprintf(stderr, "[%" PRIu64 " t=%" PRIu64 "] ", w->op_index, w->now);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* ------------------------------------------------------------------ */
/* Reading the input: zeros past its end.                              */

static uint8_t u8(struct world *w)
{
	if (!w->in_len)
		return 0;
	w->in_len--;
	return *w->in++;
}

static uint16_t u16(struct world *w)
{
	uint16_t lo = u8(w);
	return (uint16_t)(lo | (uint16_t)u8(w) << 8);
}

static uint32_t u32(struct world *w)
{
	uint32_t lo = u16(w);
	return lo | (uint32_t)u16(w) << 16;
}

static int pick_stack(struct world *w)
{
	return u8(w) & 1;
}

/* Mostly a real descriptor; sometimes one that never was. */
static int pick_fd(struct world *w)
{
	uint8_t b = u8(w);
	if (b == 255)
		return -1;
	if (b == 254)
		return 1 << 20;
	return b % NFD;
}

/* The IPv6 address 2001:db8::last (FUZZ_ADDR6_LAST_*). */
static void addr6_of(uint8_t last, uint8_t out[16])
{
	static const uint8_t prefix[4] = {0x20, 0x01, 0x0d, 0xb8};
	memset(out, 0, 16);
	memcpy(out, prefix, 4);
	out[15] = last;
}

static void pick_ep(struct world *w, struct synack_endpoint *ep)
{
	static const uint32_t addrs[] = {0, FUZZ_ADDR_A, FUZZ_ADDR_B, FUZZ_ADDR_RAW, 0xffffffffu};
	uint8_t sel = u8(w);
	memset(ep, 0, sizeof(*ep));
	ep->addr = addrs[sel % 5];
	ep->port = u16(w);
	/* Now and then IPv6 (issue 14), or a family that does not exist. */
	if (sel >= 0xf0 && (sel & 1)) {
		ep->family = SYNACK_AF_INET6;
		ep->addr = 0;
		uint8_t k = (sel >> 1) & 3;
		if (k)
			addr6_of(k, ep->addr6);
	} else if (sel >= 0xf0) {
		ep->family = sel;
	}
}

static uint8_t pattern(uint64_t off)
{
	return (uint8_t)((uint32_t)(off * 0x9e3779b1u) >> 24);
}

/* ------------------------------------------------------------------ */
/* The network between the stacks.                                     */

static void dgram_free(struct dgram *d)
{
	free(d->b);
	d->b = NULL;
	d->len = 0;
}

static int dgram_copy(struct dgram *d, const uint8_t *p, size_t len, uint64_t at)
{
	d->b = malloc(len ? len : 1);
	if (!d->b)
		return -1;
	memcpy(d->b, p, len);
	d->len = len;
	d->sent_at = at;
	return 0;
}

static struct dgram *q_at(struct queue *q, size_t i)
{
	return &q->d[(q->head + i) % QMAX];
}

static void q_pop(struct queue *q)
{
	dgram_free(q_at(q, 0));
	q->head = (q->head + 1) % QMAX;
	q->len--;
}

/* What every datagram a stack sends must be: a clean IPv4 datagram from
 * its own address, within its MTU, carrying a TCP segment or an ICMP
 * message (an echo reply or an error) its own parsers accept, or a
 * fragment of an echo reply too large for the MTU. */
static void check_sent6(struct world *w, int h, const uint8_t *p, size_t len)
{
	struct wire_ip6 ip;
	int r = wire_ip6_parse(p, len, &ip);
	if (r != SYNACK_DROP_NONE)
		fuzz_fail("stack %c sent an IPv6 datagram its own parser refuses (%s)", 'A' + h,
		          synack_drop_name(r));
	uint8_t ours[16];
	wire_addr6_to_bytes(&ip.src, ours);
	if (memcmp(ours, w->cfg[h].addr6, 16) != 0 || ip.hop_limit != w->cfg[h].ttl ||
	    len > w->cfg[h].mtu || ip.payload != p + WIRE_IP6_HDR_LEN ||
	    (ip.proto != WIRE_IPPROTO_TCP && ip.proto != WIRE_IPPROTO_ICMPV6))
		fuzz_fail("stack %c sent a datagram with a wrong IPv6 header", 'A' + h);
	struct wire_net net = wire_ip6_net(&ip);
	if (ip.proto == WIRE_IPPROTO_ICMPV6) {
		struct wire_icmp6 m;
		r = wire_icmp6_parse(&net, &m);
		/* A Parameter Problem quotes the malformed datagram it is
		 * about: its extension headers may be past walking. */
		if (r == SYNACK_DROP_ICMP_BAD_QUOTE && m.type == WIRE_ICMP6_PARAM_PROBLEM)
			return;
		if (r != SYNACK_DROP_NONE)
			fuzz_fail("stack %c sent an ICMPv6 message its own parser refuses (%s)",
			          'A' + h, synack_drop_name(r));
		if (m.type != WIRE_ICMP6_ECHO_REPLY && m.type != WIRE_ICMP6_PARAM_PROBLEM)
			fuzz_fail("stack %c sent ICMPv6 type %u", 'A' + h, (unsigned)m.type);
		return;
	}
	struct wire_tcp t;
	r = wire_tcp_parse_net(&net, &t);
	if (r != SYNACK_DROP_NONE)
		fuzz_fail("stack %c sent a segment its own parser refuses (%s)", 'A' + h,
		          synack_drop_name(r));
	if ((t.flags & SYNACK_TH_SYN) && t.data_len)
		fuzz_fail("stack %c sent data on a SYN", 'A' + h);
}

static void check_sent(struct world *w, int h, const uint8_t *p, size_t len)
{
	struct wire_ip4 ip;
	struct wire_tcp t;
	if (len && (p[0] >> 4) == 6) {
		check_sent6(w, h, p, len);
		return;
	}
	int r = wire_ip4_parse(p, len, &ip);
	if (r == SYNACK_DROP_IP_FRAGMENT) {
		if (ip.src != w->cfg[h].addr || ip.proto != WIRE_IPPROTO_ICMP ||
		    ip.total_len != len || len > w->cfg[h].mtu || (ip.frag & WIRE_IP4_DF) ||
		    ((ip.frag & WIRE_IP4_MF) && ip.payload_len % 8))
			fuzz_fail("stack %c sent a wrong fragment", 'A' + h);
		return;
	}
	if (r != SYNACK_DROP_NONE)
		fuzz_fail("stack %c sent a datagram its own parser refuses (%s)", 'A' + h,
		          synack_drop_name(r));
	if (ip.src != w->cfg[h].addr ||
	    (ip.proto != WIRE_IPPROTO_TCP && ip.proto != WIRE_IPPROTO_ICMP) ||
	    ip.ttl != w->cfg[h].ttl || ip.total_len != len || len > w->cfg[h].mtu)
		fuzz_fail("stack %c sent a datagram with a wrong IPv4 header", 'A' + h);
	if (ip.proto == WIRE_IPPROTO_ICMP) {
		struct wire_icmp m;
		r = wire_icmp_parse(&ip, &m);
		if (r != SYNACK_DROP_NONE)
			fuzz_fail("stack %c sent an ICMP message its own parser refuses (%s)",
			          'A' + h, synack_drop_name(r));
		if (m.type != WIRE_ICMP_ECHO_REPLY && m.type != WIRE_ICMP_DEST_UNREACH &&
		    !(m.type == WIRE_ICMP_TIME_EXCEEDED && m.code == WIRE_ICMP_REASM_TIMEOUT))
			fuzz_fail("stack %c sent ICMP type %u", 'A' + h, (unsigned)m.type);
		return;
	}
	r = wire_tcp_parse(&ip, &t);
	if (r != SYNACK_DROP_NONE)
		fuzz_fail("stack %c sent a segment its own parser refuses (%s)", 'A' + h,
		          synack_drop_name(r));
	if ((t.flags & SYNACK_TH_SYN) && t.data_len)
		fuzz_fail("stack %c sent data on a SYN", 'A' + h);
}

/* Moves what both stacks sent into the queues (or loses it: a full queue,
 * an address with no stack), remembering the last HIST for REPLAY. */
static void collect(struct world *w)
{
	for (int h = 0; h < 2; h++) {
		ssize_t n;
		while ((n = synack_output(w->st[h], buf_pkt, sizeof(buf_pkt))) != 0) {
			if (n < 0)
				fuzz_fail("synack_output: %s", synack_strerror((int)n));
			size_t len = (size_t)n;
			check_sent(w, h, buf_pkt, len);
			struct dgram *hd = &w->hist[w->hist_next++ % HIST];
			dgram_free(hd);
			if (dgram_copy(hd, buf_pkt, len, w->now) != 0)
				fuzz_fail("out of memory");
			uint32_t dst = wire_get32(buf_pkt + 16);
			int to = dst == FUZZ_ADDR_A ? 0 : dst == FUZZ_ADDR_B ? 1 : -1;
			if ((buf_pkt[0] >> 4) == 6) {
				to = -1;
				for (int k = 0; k < 2; k++)
					if (memcmp(buf_pkt + 24, w->cfg[k].addr6, 16) == 0)
						to = k;
			}
			if (to < 0 || w->q[to].len == QMAX)
				continue;
			struct queue *q = &w->q[to];
			if (dgram_copy(q_at(q, q->len), buf_pkt, len, w->now) != 0)
				fuzz_fail("out of memory");
			q->len++;
		}
	}
}

/* Drops what has been in the queue longer than a maximum segment lifetime
 * (half of the shorter TIME_WAIT), as the Internet would. */
static void expire(struct world *w, int to)
{
	struct queue *q = &w->q[to];
	while (q->len && w->now - q_at(q, 0)->sent_at > w->msl_us)
		q_pop(q);
}

static void input(struct world *w, int to, const uint8_t *p, size_t len)
{
	int r = synack_input(w->st[to], w->now, p, len);
	if (r < 0 || r >= SYNACK_DROP_COUNT)
		fuzz_fail("synack_input returned %d", r);
	vlog(w, "  -> %c %zu bytes: %s", 'A' + to, len, r ? synack_drop_name(r) : "taken");
}

/* Payload bytes of a datagram we built or changed: they count as data the
 * peers were never given by send(). */
static size_t payload_of(const uint8_t *p, size_t len)
{
	/* IPv6: all of it, an allowance on the safe side. */
	if (len < 40 || (p[0] >> 4) == 6)
		return len;
	size_t ihl = (size_t)(p[0] & 0x0f) * 4, total = wire_get16(p + 2);
	if (total > len)
		total = len;
	if (ihl + 20 > total)
		return 0;
	size_t off = (size_t)(p[ihl + 12] >> 4) * 4;
	return ihl + off <= total ? total - ihl - off : 0;
}

/* Makes both checksums of a datagram with a 20-byte IPv4 header right. */
static void fix_checksums(uint8_t *p, size_t len)
{
	if (len < WIRE_IP4_HDR_LEN)
		return;
	size_t ihl = (size_t)(p[0] & 0x0f) * 4;
	if (ihl < WIRE_IP4_HDR_LEN || ihl > len)
		return;
	wire_put16(p + 10, 0);
	wire_put16(p + 10, wire_csum_fold(wire_csum_add(0, p, ihl)));
	size_t total = wire_get16(p + 2);
	if (total > len || total < ihl + WIRE_TCP_HDR_LEN)
		return;
	uint8_t *seg = p + ihl;
	size_t n = total - ihl;
	wire_put16(seg + 16, 0);
	uint32_t sum =
	    wire_csum_pseudo(wire_get32(p + 12), wire_get32(p + 16), WIRE_IPPROTO_TCP, (uint32_t)n);
	wire_put16(seg + 16, wire_csum_fold(wire_csum_add(sum, seg, n)));
}

/* One field of a datagram the stacks sent, changed. */
static void mutate(uint8_t *p, size_t *len, uint8_t field, uint32_t v)
{
	if (*len < 40 || (p[0] & 0x0f) != 5)
		return;
	uint8_t *t = p + 20;
	size_t hl = (size_t)(t[12] >> 4) * 4;
	switch (field % 8) {
	case 0:
		wire_put32(t + 4, wire_get32(t + 4) + v);
		break;
	case 1:
		wire_put32(t + 8, wire_get32(t + 8) + v);
		break;
	case 2:
		t[13] = (uint8_t)v;
		break;
	case 3:
		wire_put16(t + 14, (uint16_t)v);
		break;
	case 4: /* cut the payload short */
		if (*len >= 20 + hl) {
			size_t data = *len - 20 - hl;
			*len = 20 + hl + v % (data + 1);
			wire_put16(p + 2, (uint16_t)*len);
		}
		break;
	case 5: /* an option byte, or the urgent pointer when there is none */
		if (hl > 20 && hl <= *len - 20)
			t[20 + v % (hl - 20)] = (uint8_t)(v >> 8);
		else
			wire_put16(t + 18, (uint16_t)v);
		break;
	case 6: /* another connection: a port changed */
		wire_put16(t + ((v >> 16) & 1 ? 2 : 0), (uint16_t)v);
		break;
	default: /* the IPv4 header: TOS, id, flags and fragment offset, TTL */
		p[1] = (uint8_t)v;
		wire_put16(p + 4, (uint16_t)(v >> 8));
		wire_put16(p + 6, (uint16_t)(v >> 16) & 0xe000);
		p[8] = (uint8_t)(v >> 24);
		break;
	}
	fix_checksums(p, *len);
}

/* ------------------------------------------------------------------ */
/* Invariants.                                                         */

struct conn_tally {
	uint64_t all, tw, est, bad;
};

static void tally(void *ctx, const struct synack_conn *c)
{
	struct conn_tally *k = ctx;
	k->all++;
	if (c->state == SYNACK_TIME_WAIT)
		k->tw++;
	if (c->state == SYNACK_ESTABLISHED || c->state == SYNACK_CLOSE_WAIT)
		k->est++;
	/* CLOSED only for a connection reset while it waited in an accept
	 * queue: kept there, without a socket, until accept() hands it out. */
	if (c->state < 0 || c->state >= SYNACK_STATE_COUNT ||
	    (c->state == SYNACK_CLOSED && c->socket != -1))
		k->bad++;
}

static void check_trace(struct world *w, int h)
{
	struct synack_trace tr[64];
	size_t n;
	while ((n = synack_trace_read(w->st[h], tr, 64)) > 0) {
		for (size_t i = 0; i < n; i++) {
			const struct synack_trace *t = &tr[i];
			if (t->kind < SYNACK_TRACE_STATE || t->kind > SYNACK_TRACE_DROP)
				fuzz_fail("stack %c: trace record of kind %u", 'A' + h, t->kind);
			if (t->kind == SYNACK_TRACE_STATE &&
			    (t->from >= SYNACK_STATE_COUNT || t->to >= SYNACK_STATE_COUNT ||
			     t->cause >= SYNACK_CAUSE_COUNT || t->from == t->to))
				fuzz_fail("stack %c: state record %u -> %u cause %u", 'A' + h,
				          t->from, t->to, t->cause);
			if (t->kind == SYNACK_TRACE_DROP &&
			    (t->reason == SYNACK_DROP_NONE || t->reason >= SYNACK_DROP_COUNT))
				fuzz_fail("stack %c: drop record with reason %u", 'A' + h,
				          t->reason);
			if (t->t_us > w->now)
				fuzz_fail("stack %c: trace record from the future", 'A' + h);
			if (t->kind == SYNACK_TRACE_STATE)
				vlog(w, "  %c :%u-:%u %s -> %s (%s)", 'A' + h, t->local.port,
				     t->remote.port, synack_state_name(t->from),
				     synack_state_name(t->to), synack_cause_name(t->cause));
			else if (t->kind == SYNACK_TRACE_DROP)
				vlog(w, "  %c dropped: %s", 'A' + h, synack_drop_name(t->reason));
			else {
				char fl[16];
				vlog(w, "  %c %s %s seq %u ack %u len %u win %u", 'A' + h,
				     t->kind == SYNACK_TRACE_TX ? "sent" : "got",
				     synack_flags_str(t->flags, fl, sizeof(fl)), t->seq, t->ack,
				     t->len, t->win);
			}
		}
	}
}

static void check_events(struct world *w, int h)
{
	struct synack_event ev;
	int n = 0;
	while (synack_event_next(w->st[h], &ev)) {
		if (ev.socket < 0 || ev.socket > w->max_fd[h])
			fuzz_fail("stack %c: readiness of socket %d, never opened", 'A' + h,
			          ev.socket);
		if (++n > 100000)
			fuzz_fail("stack %c: the readiness queue never empties", 'A' + h);
	}
}

static void check_stack(struct world *w, int h)
{
	struct synack_stack *st = w->st[h];
	struct synack_stats s;
	synack_stats(st, &s);

	/* Every datagram received is counted once: dropped by IPv4 or IPv6,
	 * taken for reassembly (an IPv6 fragment: dropped), dropped by the TCP
	 * parser, handed to TCP, or handed to ICMP or ICMPv6; each datagram
	 * reassembled goes on like one received. */
	uint64_t ip_errs = s.IpInHdrErrors + s.IpInAddrErrors + s.IpInUnknownProtos +
	                   s.Ip6InHdrErrors + s.Ip6InAddrErrors + s.Ip6InUnknownProtos;
	if (s.IpInReceives + s.Ip6InReceives + s.IpReasmOKs !=
	    ip_errs + s.IpReasmReqds + s.Ip6ReasmReqds + s.InErrs + s.InSegs + s.IcmpInMsgs +
	        s.Icmp6InMsgs)
		fuzz_fail(
		    "stack %c: IpInReceives %" PRIu64 " + Ip6InReceives %" PRIu64
		    " + IpReasmOKs %" PRIu64 " != IP errors %" PRIu64 " + IpReasmReqds %" PRIu64
		    " + Ip6ReasmReqds %" PRIu64 " + InErrs %" PRIu64 " + InSegs %" PRIu64
		    " + IcmpInMsgs %" PRIu64 " + Icmp6InMsgs %" PRIu64,
		    'A' + h, s.IpInReceives, s.Ip6InReceives, s.IpReasmOKs, ip_errs, s.IpReasmReqds,
		    s.Ip6ReasmReqds, s.InErrs, s.InSegs, s.IcmpInMsgs, s.Icmp6InMsgs);
	/* Both families' fragments go through one reassembly engine and
	 * share its drop reasons (issue 14): every failure of either is one
	 * drop, ip6_fragment being IPv6's own (a first fragment without its
	 * header chain, a datagram fragmented twice). */
	uint64_t frag_drops = s.drops[SYNACK_DROP_IP6_FRAGMENT];
	for (int i = SYNACK_DROP_FRAG_DF; i <= SYNACK_DROP_FRAG_TOO_MANY; i++)
		if (i != SYNACK_DROP_FRAG_TIMEOUT)
			frag_drops += s.drops[i];
	if (frag_drops + s.drops[SYNACK_DROP_FRAG_TIMEOUT] != s.IpReasmFails + s.Ip6ReasmFails ||
	    s.IpReasmTimeout + s.Ip6ReasmTimeout != s.drops[SYNACK_DROP_FRAG_TIMEOUT])
		fuzz_fail("stack %c: fragment drops %" PRIu64 " + timeouts %" PRIu64
		          " != IpReasmFails %" PRIu64 " + Ip6ReasmFails %" PRIu64
		          " (timeouts counted %" PRIu64 " + %" PRIu64 ")",
		          'A' + h, frag_drops, s.drops[SYNACK_DROP_FRAG_TIMEOUT], s.IpReasmFails,
		          s.Ip6ReasmFails, s.IpReasmTimeout, s.Ip6ReasmTimeout);
	uint64_t ip_drops = 0, tcp_drops = 0;
	for (int i = SYNACK_DROP_IP_TRUNCATED; i <= SYNACK_DROP_IP_NOT_TCP; i++)
		ip_drops += s.drops[i];
	for (int i = SYNACK_DROP_IP6_HOP_LIMIT; i <= SYNACK_DROP_IP6_ROUTING; i++)
		ip_drops += s.drops[i];
	for (int i = SYNACK_DROP_TCP_TRUNCATED; i <= SYNACK_DROP_TCP_BAD_PORT; i++)
		tcp_drops += s.drops[i];
	if (ip_drops != ip_errs || tcp_drops != s.InErrs)
		fuzz_fail("stack %c: drops by reason (IP %" PRIu64 ", TCP %" PRIu64
		          ") disagree with the error counters (%" PRIu64 ", %" PRIu64 ")",
		          'A' + h, ip_drops, tcp_drops, ip_errs, s.InErrs);
	if (s.InCsumErrors != s.drops[SYNACK_DROP_TCP_BAD_CHECKSUM])
		fuzz_fail("stack %c: InCsumErrors %" PRIu64 " != tcp_bad_checksum drops %" PRIu64,
		          'A' + h, s.InCsumErrors, s.drops[SYNACK_DROP_TCP_BAD_CHECKSUM]);

	/* The counters of what is alive agree with the connection list. */
	struct conn_tally k = {0, 0, 0, 0};
	size_t n = synack_conns(st, tally, &k);
	if (n != k.all || k.bad)
		fuzz_fail("stack %c: synack_conns listed %zu (%" PRIu64 " with a bad state)",
		          'A' + h, n, k.bad);
	if (s.time_wait_live != k.tw || s.conns_live != k.all - k.tw || s.CurrEstab != k.est ||
	    s.orphans_live > s.conns_live)
		fuzz_fail("stack %c: conns_live %" PRIu64 " time_wait_live %" PRIu64
		          " CurrEstab %" PRIu64 " orphans_live %" PRIu64
		          ", but the list has %" PRIu64 " connections, %" PRIu64
		          " in TIME_WAIT, %" PRIu64 " established",
		          'A' + h, s.conns_live, s.time_wait_live, s.CurrEstab, s.orphans_live,
		          k.all - k.tw, k.tw, k.est);

	/* No socket holds more than its buffers. */
	for (int fd = 0; fd <= w->max_fd[h]; fd++) {
		struct synack_tcp_info ti;
		int rcvbuf = 0, sndbuf = 0;
		if (synack_tcp_info(st, fd, &ti) != 0)
			continue;
		if (ti.state < 0 || ti.state >= SYNACK_STATE_COUNT)
			fuzz_fail("stack %c socket %d: state %d", 'A' + h, fd, ti.state);
		if (synack_getsockopt(st, fd, SYNACK_SO_RCVBUF, &rcvbuf) != 0 ||
		    synack_getsockopt(st, fd, SYNACK_SO_SNDBUF, &sndbuf) != 0)
			fuzz_fail("stack %c socket %d: no buffer sizes", 'A' + h, fd);
		/* The receive side may hold less than a window-scale unit more:
		 * the edge it promised, rounded up to the unit (RFC 7323 2.4,
		 * tcp_rcv_deliver), and keeps it once the connection ended. */
		uint8_t ws = ti.rcv_wscale;
		if (fd < NFD) {
			if (ti.state != SYNACK_CLOSED)
				w->rcv_wscale[h][fd] = ws;
			else
				ws = w->rcv_wscale[h][fd];
		} else if (ti.state == SYNACK_CLOSED) {
			ws = 14; /* not followed: the largest shift (RFC 7323 2.3) */
		}
		uint32_t slack = (1u << ws) - 1;
		if (ti.state != SYNACK_LISTEN &&
		    (ti.recv_queue > (uint32_t)rcvbuf + slack || ti.send_queue > (uint32_t)sndbuf))
			fuzz_fail("stack %c socket %d (%s): %u bytes to read with SO_RCVBUF %d, "
			          "%u to send with SO_SNDBUF %d",
			          'A' + h, fd, synack_state_name(ti.state), ti.recv_queue, rcvbuf,
			          ti.send_queue, sndbuf);
	}
	check_trace(w, h);
	check_events(w, h);
}

static void check_all(struct world *w)
{
	check_stack(w, 0);
	check_stack(w, 1);
	if (!w->reuse_hazard && w->total_recv > w->total_sent + w->injected)
		fuzz_fail("%" PRIu64 " bytes read, but only %" PRIu64 " were sent and %" PRIu64
		          " forged",
		          w->total_recv, w->total_sent, w->injected);
}

/* ------------------------------------------------------------------ */
/* Operations.                                                         */

static void new_stream(struct world *w, int h, int fd)
{
	if (fd > w->max_fd[h])
		w->max_fd[h] = fd;
	if (fd >= 0 && fd < NFD) {
		w->sent_off[h][fd] = 0;
		w->recv_off[h][fd] = 0;
		w->rcv_wscale[h][fd] = 0;
	}
}

/* how: bit 0 sends in two pieces through synack_sendv, bit 1 with
 * MSG_MORE (issue 17 item 11). */
static void op_send(struct world *w, int h, int fd, size_t len, unsigned how)
{
	uint64_t off = fd >= 0 && fd < NFD ? w->sent_off[h][fd] : 0;
	for (size_t i = 0; i < len; i++)
		buf_send[i] = pattern(off + i);
	ssize_t r;
	if (how) {
		struct synack_iovec iov[2] = {{buf_send, len / 3},
		                              {buf_send + len / 3, len - len / 3}};
		int flags = how & 2 ? SYNACK_MSG_MORE | SYNACK_MSG_NOSIGNAL : SYNACK_MSG_DONTWAIT;
		if (!(how & 1))
			len = len / 3; /* the first piece alone */
		r = synack_sendv(w->st[h], fd, iov, how & 1 ? 2 : 1, flags);
	} else {
		r = synack_send(w->st[h], fd, buf_send, len);
	}
	vlog(w, "send(%c, %d, %zu, how %u) = %zd", 'A' + h, fd, len, how, r);
	if (r > (ssize_t)len)
		fuzz_fail("send of %zu bytes returned %zd", len, r);
	if (r > 0) {
		w->total_sent += (uint64_t)r;
		if (fd < NFD)
			w->sent_off[h][fd] += (uint64_t)r;
	}
}

/* flags: MSG_PEEK, MSG_DONTWAIT, MSG_WAITALL; vec reads through
 * synack_recvv in three pieces (issue 17 item 11). */
static void op_recv(struct world *w, int h, int fd, size_t len, int flags, int vec)
{
	/* A peek starts at SO_PEEK_OFF when that is set. */
	int peek_off = -1;
	if ((flags & SYNACK_MSG_PEEK) &&
	    synack_getsockopt(w->st[h], fd, SYNACK_SO_PEEK_OFF, &peek_off) != 0)
		peek_off = -1;
	int inq = -1;
	(void)synack_ioctl(w->st[h], fd, SYNACK_FIONREAD, &inq);
	ssize_t r;
	if (vec) {
		struct synack_iovec iov[3] = {
		    {buf_recv, len / 2}, {NULL, 0}, {buf_recv + len / 2, len - len / 2}};
		r = synack_recvv(w->st[h], fd, iov, 3, flags);
	} else {
		r = synack_recv(w->st[h], fd, buf_recv, len, flags);
	}
	vlog(w, "recv(%c, %d, %zu, %d, vec %d) = %zd", 'A' + h, fd, len, flags, vec, r);
	if (r > (ssize_t)len)
		fuzz_fail("recv of %zu bytes returned %zd", len, r);
	if (r > 0 && inq >= 0 && r > inq)
		fuzz_fail("recv returned %zd bytes, FIONREAD said %d", r, inq);
	if (r <= 0)
		return;
	uint64_t off = fd < NFD ? w->recv_off[h][fd] : 0;
	if (peek_off > 0)
		off += (uint64_t)peek_off;
	if (!w->reuse_hazard && !w->injected && fd < NFD) {
		for (ssize_t i = 0; i < r; i++)
			if (buf_recv[i] != pattern(off + (uint64_t)i))
				fuzz_fail("stack %c socket %d read 0x%02x at stream offset %" PRIu64
				          ", 0x%02x was sent there",
				          'A' + h, fd, buf_recv[i], off + (uint64_t)i,
				          pattern(off + (uint64_t)i));
	}
	if (flags & SYNACK_MSG_PEEK)
		return;
	w->total_recv += (uint64_t)r;
	if (fd < NFD)
		w->recv_off[h][fd] += (uint64_t)r;
}

static const int SOCKOPTS[] = {
    0,
    SYNACK_SO_LINGER,
    SYNACK_SO_RCVBUF,
    SYNACK_SO_SNDBUF,
    SYNACK_SO_REUSEADDR,
    SYNACK_TCP_NODELAY,
    SYNACK_TCP_MAXSEG,
    SYNACK_SO_ERROR,
    SYNACK_SO_KEEPALIVE,
    SYNACK_TCP_KEEPIDLE,
    SYNACK_TCP_KEEPINTVL,
    SYNACK_TCP_KEEPCNT,
    SYNACK_TCP_USER_TIMEOUT,
    99,
    /* TCP Fast Open */
    SYNACK_TCP_FASTOPEN,
    SYNACK_TCP_FASTOPEN_CONNECT,
};
#define NSOCKOPTS (sizeof(SOCKOPTS) / sizeof(SOCKOPTS[0]))
/* The slot of 99 (no option) picks again by sel / NSOCKOPTS among 99 and
 * the options of issue 17 item 11, SYNACK_SO_RCVLOWAT..SYNACK_TCP_INQ in
 * enum order, so that the selectors of the options above keep their
 * meaning. */
#define NSOCKOPTS_MORE (SYNACK_TCP_INQ - SYNACK_SO_RCVLOWAT + 2)
static int sockopt_more(unsigned k)
{
	k %= NSOCKOPTS_MORE;
	return k ? SYNACK_SO_RCVLOWAT + (int)k - 1 : 99;
}

static void op_setsockopt(struct world *w, int h, int fd, uint8_t sel, int32_t v)
{
	int opt = SOCKOPTS[sel % NSOCKOPTS];
	if (opt == 99)
		opt = sockopt_more(sel / NSOCKOPTS);
	/* Small values are the interesting ones; the top bit of sel keeps
	 * the fuzzer's full 32 bits. */
	int value = sel & 0x80 ? v : (int)(v % 4096);
	int r = synack_setsockopt(w->st[h], fd, opt, value);
	vlog(w, "setsockopt(%c, %d, %d, %d) = %d", 'A' + h, fd, opt, value, r);
	if (r == 0 && opt == SYNACK_SO_REUSEADDR && value)
		w->reuse_hazard = 1;
}

static void op_query(struct world *w, int h, int fd)
{
	struct synack_stack *st = w->st[h];
	struct synack_endpoint ep;
	struct synack_tcp_info ti;
	int v;
	for (size_t i = 0; i < NSOCKOPTS; i++)
		synack_getsockopt(st, fd, SOCKOPTS[i], &v);
	for (unsigned i = 1; i < NSOCKOPTS_MORE; i++)
		synack_getsockopt(st, fd, sockopt_more(i), &v);
	/* The queue ioctls agree with each other and with STATUS. */
	int inq = -1, outq = -1, nsd = -1;
	int ri = synack_ioctl(st, fd, SYNACK_SIOCINQ, &inq);
	int ro = synack_ioctl(st, fd, SYNACK_SIOCOUTQ, &outq);
	int rn = synack_ioctl(st, fd, SYNACK_SIOCOUTQNSD, &nsd);
	if (ro == 0 && rn == 0 && (nsd < 0 || nsd > outq))
		fuzz_fail("socket %d: SIOCOUTQNSD %d beyond SIOCOUTQ %d", fd, nsd, outq);
	if (ri == 0 && synack_tcp_info(st, fd, &ti) == 0 && (uint32_t)inq != ti.recv_queue)
		fuzz_fail("socket %d: SIOCINQ %d, tcp_info recv_queue %u", fd, inq, ti.recv_queue);
	synack_getsockname(st, fd, &ep);
	synack_getpeername(st, fd, &ep);
	synack_tcp_info(st, fd, &ti);
	synack_socket_error(st, fd);
	uint32_t e = synack_events(st, fd);
	vlog(w, "query(%c, %d): events 0x%x", 'A' + h, fd, e);
}

static void advance(struct world *w, uint64_t to)
{
	if (to > w->now)
		w->now = to;
	synack_advance(w->st[0], w->now);
	synack_advance(w->st[1], w->now);
}

static uint64_t next_deadline(struct world *w)
{
	uint64_t a = synack_next_deadline(w->st[0]), b = synack_next_deadline(w->st[1]);
	return a < b ? a : b;
}

static void deliver_head(struct world *w, int to, int keep)
{
	expire(w, to);
	struct queue *q = &w->q[to];
	if (!q->len)
		return;
	struct dgram *d = q_at(q, 0);
	/* A copy: the stack must not rely on the datagram outliving the call,
	 * and ASan sees any read past its end. */
	uint8_t *copy = malloc(d->len ? d->len : 1);
	if (!copy)
		fuzz_fail("out of memory");
	memcpy(copy, d->b, d->len);
	input(w, to, copy, d->len);
	free(copy);
	if (!keep)
		q_pop(q);
}

static void deliver_changed(struct world *w, int to, const struct dgram *d, uint8_t field,
                            uint32_t v)
{
	size_t len = d->len;
	uint8_t *p = malloc(len ? len : 1);
	if (!p)
		fuzz_fail("out of memory");
	memcpy(p, d->b, len);
	mutate(p, &len, field, v);
	w->injected += payload_of(p, len);
	input(w, to, p, len);
	free(p);
}

static void op_craft(struct world *w, int to)
{
	int fd = pick_fd(w);
	uint8_t flags = u8(w);
	int16_t seqd = (int16_t)u16(w), ackd = (int16_t)u16(w);
	uint16_t win = u16(w);
	uint8_t optmask = u8(w);
	uint16_t mss = u16(w);
	uint8_t ws = u8(w);
	uint32_t tsval = u32(w), tsecr = u32(w);
	size_t len = u16(w) % 1461;
	uint8_t srcsel = u8(w);

	struct synack_stack *st = w->st[to];
	struct synack_tcp_info ti;
	struct synack_endpoint local = {.addr = w->cfg[to].addr, .port = 80}, remote;
	remote.addr = srcsel % 3 == 0   ? w->cfg[!to].addr
	              : srcsel % 3 == 1 ? FUZZ_ADDR_RAW
	                                : 0x0a000100u + srcsel;
	remote.port = (uint16_t)(40000 + (srcsel >> 2));
	memset(&ti, 0, sizeof(ti));
	if (synack_tcp_info(st, fd, &ti) == 0) {
		struct synack_endpoint ep;
		if (synack_getsockname(st, fd, &ep) == 0 && ep.port)
			local.port = ep.port;
		if (synack_getpeername(st, fd, &ep) == 0 && ep.port)
			remote = ep;
	}
	struct wire_tcp_out o;
	memset(&o, 0, sizeof(o));
	o.saddr = addr_v4(remote.addr);
	o.daddr = addr_v4(local.addr);
	o.sport = remote.port;
	o.dport = local.port;
	o.seq = ti.rcv_nxt + (uint32_t)(int32_t)seqd;
	o.ack = ti.snd_nxt + (uint32_t)(int32_t)ackd;
	o.flags = flags;
	o.wnd = win;
	o.opts.has_mss = optmask & 1;
	o.opts.mss = mss;
	o.opts.has_wscale = (optmask >> 1) & 1;
	o.opts.wscale = ws;
	o.opts.sack_permitted = (optmask >> 2) & 1;
	o.opts.has_ts = (optmask >> 3) & 1;
	o.opts.ts_val = tsval;
	o.opts.ts_ecr = tsecr;
	/* TCP Fast Open (RFC 7413): a cookie request, or a cookie of 4..16
	 * bytes (the wire's lengths) from the timestamps' bits, now and
	 * then in the experimental form. */
	if (optmask & 0x20) {
		o.opts.tfo = (optmask & 0x40) ? WIRE_TFO_COOKIE : WIRE_TFO_REQUEST;
		o.opts.tfo_exp = (optmask >> 7) & 1;
		o.opts.tfo_len = (uint8_t)(WIRE_TFO_COOKIE_MIN + 2 * (ws % 7));
		for (unsigned i = 0; i < WIRE_TFO_COOKIE_MAX; i++)
			o.opts.tfo_cookie[i] = (uint8_t)((i < 8 ? tsval : tsecr) >> (8 * (i % 4)));
	}
	for (size_t i = 0; i < len; i++)
		buf_send[i] = pattern(i);
	size_t n = wire_tcp_emit(buf_pkt + WIRE_IP4_HDR_LEN, sizeof(buf_pkt) - WIRE_IP4_HDR_LEN, &o,
	                         buf_send, len);
	if (!n)
		fuzz_fail("wire_tcp_emit refused %zu bytes", len);
	wire_ip4_emit(buf_pkt, addr_to_v4(&o.saddr), addr_to_v4(&o.daddr), WIRE_IPPROTO_TCP, 64, 0,
	              n);
	if (optmask & 0x10) /* a bad checksum, now and then */
		buf_pkt[WIRE_IP4_HDR_LEN + 17] ^= 1;
	w->injected += len;
	vlog(w, "craft(to %c, fd %d, flags 0x%02x, seq rcv_nxt%+d, ack snd_nxt%+d, len %zu)",
	     'A' + to, fd, flags, seqd, ackd, len);
	input(w, to, buf_pkt, n + WIRE_IP4_HDR_LEN);
}

static void op_raw(struct world *w, int to)
{
	uint8_t fix = u8(w);
	size_t len = u16(w);
	if (len > w->in_len)
		len = w->in_len;
	memcpy(buf_pkt, w->in, len);
	w->in += len;
	w->in_len -= len;
	if ((fix & RAW_FIX_IP6) && len >= WIRE_IP6_HDR_LEN && w->cfg[to].addr6[0]) {
		/* An IPv6 datagram to the target from its peer (or a host with
		 * no stack), the extension headers as the bytes say. */
		buf_pkt[0] = (uint8_t)(0x60 | (buf_pkt[0] & 0x0f));
		wire_put16(buf_pkt + 4, (uint16_t)(len - WIRE_IP6_HDR_LEN));
		addr6_of(buf_pkt[23] & 1 ? FUZZ_ADDR6_LAST_RAW : (uint8_t)(to ? 1 : 2),
		         buf_pkt + 8);
		memcpy(buf_pkt + 24, w->cfg[to].addr6, 16);
		if ((fix & RAW_FIX_TCP) && buf_pkt[6] == WIRE_IPPROTO_TCP &&
		    len >= WIRE_IP6_HDR_LEN + WIRE_TCP_HDR_LEN) {
			uint8_t *seg = buf_pkt + WIRE_IP6_HDR_LEN;
			size_t n = len - WIRE_IP6_HDR_LEN;
			struct addr a = wire_addr6_from_bytes(buf_pkt + 8),
			            b = wire_addr6_from_bytes(buf_pkt + 24);
			wire_put16(seg + 16, 0);
			uint32_t sum = wire_csum_pseudo_net(&a, &b, WIRE_IPPROTO_TCP, (uint32_t)n);
			wire_put16(seg + 16, wire_csum_fold(wire_csum_add(sum, seg, n)));
		}
		fix = 0;
	}
	if ((fix & RAW_FIX_IP) && len >= WIRE_IP4_HDR_LEN) {
		uint8_t ihl = buf_pkt[0] & 0x0f;
		buf_pkt[0] = (uint8_t)(0x40 | (ihl < 5 ? 5 : ihl));
		wire_put16(buf_pkt + 2, (uint16_t)len);
		wire_put16(buf_pkt + 6, 0x4000);
		buf_pkt[9] = WIRE_IPPROTO_TCP;
		uint32_t src = wire_get32(buf_pkt + 12);
		if (src != FUZZ_ADDR_A && src != FUZZ_ADDR_B)
			wire_put32(buf_pkt + 12, FUZZ_ADDR_RAW);
		wire_put32(buf_pkt + 16, w->cfg[to].addr);
	}
	if (fix & (RAW_FIX_IP | RAW_FIX_TCP)) {
		uint8_t save[2] = {buf_pkt[10], buf_pkt[11]};
		fix_checksums(buf_pkt, len);
		if (!(fix & RAW_FIX_IP) && len >= 12) {
			buf_pkt[10] = save[0];
			buf_pkt[11] = save[1];
		}
	}
	w->injected += payload_of(buf_pkt, len);
	vlog(w, "raw(to %c, fix %u, %zu bytes)", 'A' + to, fix, len);
	/* Exactly len bytes of its own, so ASan sees a read past the end. */
	uint8_t *p = malloc(len ? len : 1);
	if (!p)
		fuzz_fail("out of memory");
	memcpy(p, buf_pkt, len);
	input(w, to, p, len);
	free(p);
}

/* The next datagram for `to` in fragments (RFC 791 3.2), as a router on
 * a path with a small MTU would cut it (DF cleared), delivered in an order
 * the input chooses; an overlap or a lost piece loses the datagram, as a
 * dropped datagram would be lost. */
static void op_fragment(struct world *w, int to)
{
	static uint8_t f[MAX_DGRAM + 64];
	size_t size = (size_t)(u8(w) % 32 + 1) * 8;
	uint8_t how = u8(w);
	struct queue *q = &w->q[to];
	expire(w, to);
	if (!q->len)
		return;
	const struct dgram *d = q_at(q, 0);
	if (d->len < WIRE_IP4_HDR_LEN + 1 || (d->b[0] & 0x0f) != 5) {
		q_pop(q);
		return;
	}
	size_t payload = d->len - WIRE_IP4_HDR_LEN, n = (payload + size - 1) / size;
	size_t sends = n + ((how & 3) == 3) - ((how & 4) && n > 1);
	vlog(w, "fragment(to %c, %zu pieces of %zu, how %u)", 'A' + to, n, size, how & 7);
	for (size_t i = 0; i < sends; i++) {
		/* An overlap sends the first piece twice, before the rest. */
		size_t k = (how & 3) == 3 && i > 0 ? i - 1 : i;
		if ((how & 3) == 1)
			k = n - 1 - k;
		else if ((how & 3) == 2)
			k = (k * 7 + 3) % n; /* a permutation unless 7 divides n */
		size_t off = k * size, len = payload - off < size ? payload - off : size;
		memcpy(f, d->b, WIRE_IP4_HDR_LEN);
		memcpy(f + WIRE_IP4_HDR_LEN, d->b + WIRE_IP4_HDR_LEN + off, len);
		wire_put16(f + 2, (uint16_t)(WIRE_IP4_HDR_LEN + len));
		wire_put16(f + 6, (uint16_t)(off / 8 | (off + len < payload ? WIRE_IP4_MF : 0)));
		/* The IP header's checksum only: the TCP checksum spans the
		 * pieces and stays as it was. */
		wire_put16(f + 10, 0);
		wire_put16(f + 10, wire_csum_fold(wire_csum_add(0, f, WIRE_IP4_HDR_LEN)));
		input(w, to, f, WIRE_IP4_HDR_LEN + len);
	}
	q_pop(q);
}

static void step(struct world *w, uint8_t op)
{
	struct synack_endpoint ep;
	int h, fd, r;
	switch (op % OP_COUNT) {
	case OP_SOCKET:
		h = pick_stack(w);
		r = synack_socket(w->st[h]);
		vlog(w, "socket(%c) = %d", 'A' + h, r);
		if (r >= 0) {
			new_stream(w, h, r);
			if (r < NFD)
				w->bound_port[h][r] = 0;
		}
		break;
	case OP_BIND:
		h = pick_stack(w);
		fd = pick_fd(w);
		pick_ep(w, &ep);
		r = synack_bind(w->st[h], fd, &ep);
		vlog(w, "bind(%c, %d, %08x:%u) = %d", 'A' + h, fd, ep.addr, ep.port, r);
		if (r == 0 && ep.port && fd >= 0 && fd < NFD)
			w->bound_port[h][fd] = 1;
		break;
	case OP_LISTEN: {
		h = pick_stack(w);
		fd = pick_fd(w);
		int backlog = (int8_t)u8(w);
		r = synack_listen(w->st[h], fd, backlog);
		vlog(w, "listen(%c, %d, %d) = %d", 'A' + h, fd, backlog, r);
		break;
	}
	case OP_CONNECT:
		h = pick_stack(w);
		fd = pick_fd(w);
		pick_ep(w, &ep);
		r = synack_connect(w->st[h], fd, &ep);
		vlog(w, "connect(%c, %d, %08x:%u) = %d", 'A' + h, fd, ep.addr, ep.port, r);
		if (r == 0 || r == -EINPROGRESS) {
			new_stream(w, h, fd);
			/* A port of our own choosing can give a 4-tuple that
			 * was in use a moment ago. */
			if (fd >= NFD || w->bound_port[h][fd])
				w->reuse_hazard = 1;
		}
		break;
	case OP_ACCEPT:
		h = pick_stack(w);
		fd = pick_fd(w);
		r = synack_accept(w->st[h], fd, &ep);
		vlog(w, "accept(%c, %d) = %d", 'A' + h, fd, r);
		if (r >= 0)
			new_stream(w, h, r);
		break;
	case OP_SEND: {
		h = pick_stack(w);
		fd = pick_fd(w);
		uint16_t n = u16(w);
		/* The quotient, unused by the length, picks how (op_send). */
		op_send(w, h, fd, n % (MAX_SEND + 1), n / (MAX_SEND + 1));
		break;
	}
	case OP_RECV: {
		h = pick_stack(w);
		fd = pick_fd(w);
		size_t len = u16(w) % (MAX_SEND + 1);
		/* Bit 0 peeks; the bits above, once unused, pick the flags
		 * and the vectored call of issue 17 item 11. */
		uint8_t how = u8(w);
		int flags = (how & 1 ? SYNACK_MSG_PEEK : 0) | (how & 4 ? SYNACK_MSG_DONTWAIT : 0) |
		            (how & 8 ? SYNACK_MSG_WAITALL : 0);
		op_recv(w, h, fd, len, flags, (how >> 1) & 1);
		break;
	}
	case OP_SHUTDOWN: {
		h = pick_stack(w);
		fd = pick_fd(w);
		int how = u8(w) % 4;
		r = synack_shutdown(w->st[h], fd, how);
		vlog(w, "shutdown(%c, %d, %d) = %d", 'A' + h, fd, how, r);
		break;
	}
	case OP_CLOSE:
		h = pick_stack(w);
		fd = pick_fd(w);
		r = synack_close(w->st[h], fd);
		vlog(w, "close(%c, %d) = %d", 'A' + h, fd, r);
		break;
	case OP_SETSOCKOPT: {
		h = pick_stack(w);
		fd = pick_fd(w);
		uint8_t sel = u8(w);
		op_setsockopt(w, h, fd, sel, (int32_t)u32(w));
		break;
	}
	case OP_QUERY:
		h = pick_stack(w);
		op_query(w, h, pick_fd(w));
		break;
	case OP_ADVANCE: {
		uint32_t d = u32(w);
		vlog(w, "advance %u us", d);
		advance(w, w->now + d);
		break;
	}
	case OP_DEADLINE: {
		uint64_t t = next_deadline(w);
		vlog(w, "advance to the next deadline");
		if (t != SYNACK_NEVER)
			advance(w, t);
		break;
	}
	case OP_DELIVER: {
		h = pick_stack(w);
		int n = u8(w) % 8 + 1;
		for (int i = 0; i < n; i++)
			deliver_head(w, h, 0);
		break;
	}
	case OP_DROP:
		h = pick_stack(w);
		if (w->q[h].len)
			q_pop(&w->q[h]);
		break;
	case OP_DUP:
		deliver_head(w, pick_stack(w), 1);
		break;
	case OP_SWAP: {
		struct queue *q = &w->q[pick_stack(w)];
		if (q->len >= 2) {
			struct dgram t = *q_at(q, 0);
			*q_at(q, 0) = *q_at(q, 1);
			*q_at(q, 1) = t;
		}
		break;
	}
	case OP_MUTATE: {
		h = pick_stack(w);
		uint8_t field = u8(w);
		uint32_t v = u32(w);
		expire(w, h);
		if (w->q[h].len) {
			vlog(w, "mutate field %u by %u", field % 8, v);
			deliver_changed(w, h, q_at(&w->q[h], 0), field, v);
			q_pop(&w->q[h]);
		}
		break;
	}
	case OP_REPLAY: {
		h = pick_stack(w);
		uint8_t k = u8(w), field = u8(w);
		uint32_t v = u32(w);
		const struct dgram *d = &w->hist[k % HIST];
		if (d->b) {
			vlog(w, "replay history %u, field %u by %u", k % HIST, field % 8, v);
			deliver_changed(w, h, d, field, v);
		}
		break;
	}
	case OP_CRAFT:
		op_craft(w, pick_stack(w));
		break;
	case OP_FRAGMENT:
		op_fragment(w, pick_stack(w));
		break;
	default:
		op_raw(w, pick_stack(w));
		break;
	}
}

/* ------------------------------------------------------------------ */
/* Setup and the end of a run.                                         */

/* Each bit of a configuration byte is a variant that reaches code the
 * defaults take hours of virtual time or many connections to reach. */
static void config(struct synack_config *c, int h, uint8_t bits)
{
	synack_config_default(c);
	c->addr = h ? FUZZ_ADDR_B : FUZZ_ADDR_A;
	addr6_of(h ? FUZZ_ADDR6_LAST_B : FUZZ_ADDR6_LAST_A, c->addr6);
	cli_derive_secret(FUZZ_SECRET_SEED, h, c->secret);
	/* TCP Fast Open on both sides, every listener taking it: A's client
	 * sends SYN data without a cookie, B's server takes it without one,
	 * so that SYN data flows without the fuzzer guessing a MAC. */
	c->fastopen = SYNACK_FASTOPEN_CLIENT | SYNACK_FASTOPEN_SERVER | SYNACK_FASTOPEN_SERVER_ALL |
	              (h ? SYNACK_FASTOPEN_SERVER_NO_COOKIE : SYNACK_FASTOPEN_CLIENT_NO_COOKIE);
	if (bits & 0x01) {
		c->time_wait_ms = 1000;
		c->fin_timeout_ms = 2000;
	}
	if (bits & 0x02) {
		c->rto_min_ms = 10;
		c->rto_initial_ms = 100;
		c->rto_max_ms = 2000;
	}
	if (bits & 0x04)
		c->delack_ms = 0;
	if (bits & 0x08) {
		c->rcvbuf = 1500;
		c->sndbuf = 3000;
	}
	if (bits & 0x10) {
		c->mtu = 576;
		memset(c->addr6, 0, 16); /* IPv6 needs 1280 (RFC 8200 5) */
	}
	if (bits & 0x20)
		c->trace_capacity = 8;
	if (bits & 0x40) {
		c->outbox_max = 3;
		c->max_orphans = 1;
		c->max_tw_buckets = 1;
		c->somaxconn = 1;
		c->init_cwnd = 1;
	}
	if (bits & 0x80) {
		c->keepalive_time_ms = 1000;
		c->keepalive_intvl_ms = 500;
		c->keepalive_probes = 2;
		c->close_wait_timeout_ms = 3000;
		c->syn_retries = 2;
		c->synack_retries = 1;
		c->orphan_retries = 1;
		c->retries2 = 2;
	}
}

/* Closes every socket, then lets the stacks talk and their timers run
 * until nothing is left to do.  Every connection must end. */
static void drain(struct world *w)
{
	for (int h = 0; h < 2; h++)
		for (int fd = 0; fd <= w->max_fd[h]; fd++)
			synack_close(w->st[h], fd);
	w->op_index = UINT64_MAX;
	vlog(w, "drain");
	for (int i = 0;; i++) {
		if (i == DRAIN_STEPS)
			fuzz_fail("the stacks are still busy after %d steps of the drain", i);
		collect(w);
		check_all(w);
		expire(w, 0);
		expire(w, 1);
		if (w->q[0].len || w->q[1].len) {
			for (int h = 0; h < 2; h++)
				if (w->q[h].len)
					deliver_head(w, h, 0);
			continue;
		}
		uint64_t t = next_deadline(w);
		if (t == SYNACK_NEVER)
			break;
		advance(w, t);
	}
	for (int h = 0; h < 2; h++) {
		struct synack_stats s;
		synack_stats(w->st[h], &s);
		size_t n = synack_conns(w->st[h], NULL, NULL);
		if (n || s.conns_live || s.time_wait_live || s.orphans_live || s.bytes_buffered ||
		    s.CurrEstab)
			fuzz_fail("stack %c is not idle once everything ran: %zu connections, "
			          "conns_live %" PRIu64 ", time_wait_live %" PRIu64
			          ", orphans_live %" PRIu64 ", bytes_buffered %" PRIu64,
			          'A' + h, n, s.conns_live, s.time_wait_live, s.orphans_live,
			          s.bytes_buffered);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int verbose = -1;
	if (verbose < 0) {
		const char *v = getenv("FUZZ_VERBOSE");
		verbose = v && *v && *v != '0';
	}
	struct world *w = calloc(1, sizeof(*w));
	if (!w)
		return 0;
	w->verbose = verbose;
	w->in = data;
	w->in_len = size;
	w->max_fd[0] = w->max_fd[1] = -1;
	for (int h = 0; h < 2; h++) {
		config(&w->cfg[h], h, u8(w));
		int err = 0;
		w->st[h] = synack_stack_new(&w->cfg[h], &err);
		if (!w->st[h])
			fuzz_fail("synack_stack_new: %s", synack_strerror(err));
	}
	uint32_t tw = w->cfg[0].time_wait_ms < w->cfg[1].time_wait_ms ? w->cfg[0].time_wait_ms
	                                                              : w->cfg[1].time_wait_ms;
	w->msl_us = (uint64_t)tw * 1000 / 2;

	while (w->in_len) {
		step(w, u8(w));
		collect(w);
		check_all(w);
		w->op_index++;
	}
	drain(w);

	for (int h = 0; h < 2; h++) {
		synack_stack_free(w->st[h]);
		while (w->q[h].len)
			q_pop(&w->q[h]);
	}
	for (int i = 0; i < HIST; i++)
		dgram_free(&w->hist[i]);
	free(w);
	return 0;
}
