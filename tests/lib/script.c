#include "script.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/env.h"

/* Rather a failure than an endless loop when a timer re-arms in the past. */
#define T_MAX_TIMER_STEPS 100000

static uint8_t t_flags_parse(const char *s)
{
	uint8_t f = 0;
	for (; *s; s++) {
		switch (*s) {
		case 'S':
			f |= SYNACK_TH_SYN;
			break;
		case 'F':
			f |= SYNACK_TH_FIN;
			break;
		case 'R':
			f |= SYNACK_TH_RST;
			break;
		case 'P':
			f |= SYNACK_TH_PSH;
			break;
		case 'U':
			f |= SYNACK_TH_URG;
			break;
		case 'E':
			f |= SYNACK_TH_ECE;
			break;
		case 'W':
			f |= SYNACK_TH_CWR;
			break;
		case '.':
			f |= SYNACK_TH_ACK;
			break;
		default:
			break;
		}
	}
	return f;
}

static const char *t_flags_str(uint8_t flags, char *buf, size_t len)
{
	static const struct {
		uint8_t bit;
		char c;
	} letters[] = {{SYNACK_TH_SYN, 'S'}, {SYNACK_TH_FIN, 'F'}, {SYNACK_TH_RST, 'R'},
	               {SYNACK_TH_PSH, 'P'}, {SYNACK_TH_URG, 'U'}, {SYNACK_TH_ECE, 'E'},
	               {SYNACK_TH_CWR, 'W'}, {SYNACK_TH_ACK, '.'}};
	size_t n = 0;
	for (size_t i = 0; i < sizeof letters / sizeof letters[0] && n + 1 < len; i++)
		if (flags & letters[i].bit)
			buf[n++] = letters[i].c;
	if (n == 0 && len > 4) {
		memcpy(buf, "none", 4);
		n = 4;
	}
	buf[n] = '\0';
	return buf;
}

/* One of our sequence numbers, as the test writes it. */
static const char *t_ours(const struct t *t, uint32_t v, char *buf, size_t len)
{
	if (t->iss_known)
		snprintf(buf, len, "T_ISS%+d", (int32_t)(v - t->iss));
	else
		snprintf(buf, len, "%u", v);
	return buf;
}

static void t_print_trace(struct t *t)
{
	t_trace_sync(t);
	fprintf(stderr, "  trace (%zu records, our seq as T_ISS+n when known):\n", t->ntrace);
	for (size_t i = 0; i < t->ntrace; i++) {
		const struct synack_trace *r = &t->trace[i];
		char f[16], a[32];
		double ms = (double)r->t_us / 1000.0;
		switch (r->kind) {
		case SYNACK_TRACE_STATE:
			fprintf(stderr, "  %10.3f ms  state %s -> %s (%s)\n", ms,
			        synack_state_name(r->from), synack_state_name(r->to),
			        synack_cause_name(r->cause));
			break;
		case SYNACK_TRACE_TX:
			fprintf(stderr, "  %10.3f ms  > %-3s seq %s ack %u len %u win %u\n", ms,
			        t_flags_str(r->flags, f, sizeof f), t_ours(t, r->seq, a, sizeof a),
			        r->ack, r->len, r->win);
			break;
		case SYNACK_TRACE_RX:
		case SYNACK_TRACE_DROP:
			fprintf(stderr, "  %10.3f ms  < %-3s seq %u ack %s len %u win %u%s%s\n", ms,
			        t_flags_str(r->flags, f, sizeof f), r->seq,
			        (r->flags & SYNACK_TH_ACK) ? t_ours(t, r->ack, a, sizeof a) : "-",
			        r->len, r->win, r->kind == SYNACK_TRACE_DROP ? "  DROPPED: " : "",
			        r->kind == SYNACK_TRACE_DROP ? synack_drop_name(r->reason) : "");
			break;
		default:
			fprintf(stderr, "  %10.3f ms  kind %u\n", ms, r->kind);
			break;
		}
	}
}

void t_trace_sync(struct t *t)
{
	for (;;) {
		if (t->ntrace == t->trace_cap) {
			size_t cap = t->trace_cap ? t->trace_cap * 2 : 256;
			struct synack_trace *n = realloc(t->trace, cap * sizeof *n);
			if (!n)
				return;
			t->trace = n;
			t->trace_cap = cap;
		}
		size_t got =
		    synack_trace_read(t->st, t->trace + t->ntrace, t->trace_cap - t->ntrace);
		t->ntrace += got;
		if (got == 0 || t->ntrace < t->trace_cap)
			return;
	}
}

int t_trace_has_drop(struct t *t, int reason)
{
	t_trace_sync(t);
	for (size_t i = 0; i < t->ntrace; i++)
		if (t->trace[i].kind == SYNACK_TRACE_DROP && t->trace[i].reason == reason)
			return 1;
	return 0;
}

const uint8_t T_US_ADDR6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
const uint8_t T_PEER_ADDR6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};

int t_family6(void)
{
	static int family = -1;
	if (family < 0) {
		const char *e = getenv("SYNACK_TEST_FAMILY");
		family = e && strcmp(e, "6") == 0;
	}
	return family;
}

int t_ipv4_only(const char *what)
{
	if (!t_family6())
		return 1;
	printf("# skipped over IPv6: %s\n", what);
	return 0;
}

size_t t_ip_hdr_len(void)
{
	return t_family6() ? WIRE_IP6_HDR_LEN : WIRE_IP4_HDR_LEN;
}

/* Our address and the peer's in the harness's family. */
static struct addr t_us(void)
{
	return t_family6() ? wire_addr6_from_bytes(T_US_ADDR6) : addr_v4(T_US_ADDR);
}
static struct addr t_them(void)
{
	return t_family6() ? wire_addr6_from_bytes(T_PEER_ADDR6) : addr_v4(T_PEER_ADDR);
}
struct synack_endpoint t_endpoint(int peer, uint16_t port)
{
	struct addr a = peer ? t_them() : t_us();
	struct synack_endpoint e;
	memset(&e, 0, sizeof e);
	e.port = port;
	if (addr_is_v4(&a)) {
		e.addr = addr_to_v4(&a);
	} else {
		e.family = SYNACK_AF_INET6;
		wire_addr6_to_bytes(&a, e.addr6);
	}
	return e;
}
static int t_endpoint_is(const struct synack_endpoint *e, int peer, uint16_t port)
{
	struct synack_endpoint want = t_endpoint(peer, port);
	return e->family == want.family && e->port == port &&
	       (want.family == SYNACK_AF_INET ? e->addr == want.addr
	                                      : memcmp(e->addr6, want.addr6, 16) == 0);
}

/* Parses a datagram we sent, of either family: its TCP segment (0), an
 * ICMP message (1) or neither (-1); *ip is filled for IPv4. */
static int t_parse_out(const uint8_t *pkt, size_t n, struct wire_ip4 *ip, struct wire_tcp *seg)
{
	struct wire_net net;
	if (n && (pkt[0] >> 4) == 6) {
		struct wire_ip6 ip6;
		if (wire_ip6_parse(pkt, n, &ip6) != SYNACK_DROP_NONE)
			return -1;
		if (ip6.proto == WIRE_IPPROTO_ICMPV6)
			return 1;
		net = wire_ip6_net(&ip6);
		memset(ip, 0, sizeof *ip);
	} else {
		if (wire_ip4_parse(pkt, n, ip) != SYNACK_DROP_NONE)
			return -1;
		if (ip->proto == WIRE_IPPROTO_ICMP)
			return 1;
		net = wire_ip4_net(ip);
	}
	return wire_tcp_parse_net(&net, seg) == SYNACK_DROP_NONE ? 0 : -1;
}

void t_config(struct synack_config *cfg)
{
	synack_config_default(cfg);
	cfg->addr = T_US_ADDR;
	if (t_family6()) {
		memcpy(cfg->addr6, T_US_ADDR6, 16);
		cfg->mtu = 1520; /* an MSS of T_MSS over IPv6's 40-byte header */
	}
	/* Segment scripts test RFC 9293 event processing: every ACK is
	 * expected at once.  Delayed ACKs have tests of their own. */
	cfg->delack_ms = 0;
	/* The scripted peer offers no window scale, so windows stop at the
	 * field's 65535: a buffer of that size makes every byte received
	 * show in the window (T_RCVBUF), as the scripts expect. */
	cfg->rmem_default = T_RCVBUF;
	for (int i = 0; i < 16; i++)
		cfg->secret[i] = (uint8_t)(0x5a ^ (i * 17));
}

struct t *t_new_with(const struct synack_config *cfg)
{
	struct t *t = calloc(1, sizeof *t);
	if (!t) {
		check_fail(__FILE__, __LINE__, "out of memory");
		exit(1);
	}
	int err = 0;
	t->cfg = *cfg;
	t->st = synack_stack_new(cfg, &err);
	if (!t->st) {
		check_fail(__FILE__, __LINE__, "synack_stack_new: %s", synack_strerror(err));
		exit(1);
	}
	t->listener = t->sock = -1;
	t->peer_port = T_PEER_PORT;
	t->peer_wnd = 65535;
	t->peer_mss = T_MSS;
	t->peer_wscale = -1;
	t->rcv_seq = T_PEER_ISN + 1;
	synack_advance(t->st, 0);
	return t;
}

struct t *t_new(void)
{
	struct synack_config cfg;
	t_config(&cfg);
	return t_new_with(&cfg);
}

/* Reports every segment still in the outbox: nobody expected it. */
static void t_check_outbox(struct t *t, const char *file, int line, const char *when)
{
	while (synack_output_pending(t->st) > 0) {
		uint8_t pkt[2048];
		ssize_t n = synack_output(t->st, pkt, sizeof pkt);
		struct wire_ip4 ip;
		struct wire_tcp seg;
		char f[16], a[32];
		if (n <= 0)
			break;
		int kind = t_parse_out(pkt, (size_t)n, &ip, &seg);
		if (kind == 1) {
			size_t h = t_ip_hdr_len();
			check_fail(file, line, "unexpected ICMP (%zd bytes, type %u code %u) %s", n,
			           (size_t)n > h ? pkt[h] : 0, (size_t)n > h + 1 ? pkt[h + 1] : 0,
			           when);
			continue;
		}
		if (kind != 0) {
			check_fail(file, line, "unexpected unparsable datagram (%zd bytes) %s", n,
			           when);
			continue;
		}
		check_fail(file, line, "unexpected > %s seq %s ack %u len %u %s",
		           t_flags_str(seg.flags, f, sizeof f), t_ours(t, seg.seq, a, sizeof a),
		           seg.ack, seg.data_len, when);
	}
}

void t_free_at(struct t *t, const char *file, int line)
{
	t_check_outbox(t, file, line, "at the end of the test");
	if (check_failures_in_test)
		t_print_trace(t);
	synack_stack_free(t->st);
	free(t->trace);
	free(t);
}

uint64_t t_now_ms(const struct t *t)
{
	return t->now / 1000;
}

void t_at_at(struct t *t, const char *file, int line, uint64_t ms)
{
	uint64_t target = ms * 1000;
	t_check_outbox(t, file, line, "before the clock moved");
	if (target < t->now) {
		check_fail(file, line, "t_at(%" PRIu64 " ms) is before now (%" PRIu64 " us)", ms,
		           t->now);
		return;
	}
	/* Step through each deadline so every timer fires at its own time. */
	for (int i = 0; i < T_MAX_TIMER_STEPS; i++) {
		uint64_t d = synack_next_deadline(t->st);
		if (d == SYNACK_NEVER || d > target)
			break;
		if (d > t->now)
			t->now = d;
		synack_advance(t->st, t->now);
		if (i == T_MAX_TIMER_STEPS - 1)
			check_fail(file, line, "timers keep firing at %" PRIu64 " us", t->now);
	}
	t->now = target;
	synack_advance(t->st, t->now);
}

size_t t_build(struct t *t, uint8_t *buf, size_t cap, const char *flags, uint32_t seq, uint32_t ack,
               uint32_t len)
{
	struct wire_tcp_out o;
	uint8_t payload[65536];
	memset(&o, 0, sizeof o);
	o.saddr = t_them();
	o.daddr = t_us();
	o.sport = t->peer_port;
	o.dport = t->our_port ? t->our_port : T_LISTEN_PORT;
	o.seq = seq;
	o.flags = t_flags_parse(flags);
	/* Our numbers are relative to our ISS; a peer acks absolute numbers. */
	o.ack = (o.flags & SYNACK_TH_ACK) ? ack + t->iss : ack;
	o.wnd = t->peer_wnd;
	if ((o.flags & SYNACK_TH_SYN) && t->peer_mss) {
		o.opts.has_mss = 1;
		o.opts.mss = t->peer_mss;
	}
	if ((o.flags & SYNACK_TH_SYN) && t->peer_wscale >= 0) {
		o.opts.has_wscale = 1;
		o.opts.wscale = (uint8_t)t->peer_wscale;
	}
	if (t->peer_ts) {
		o.opts.has_ts = 1;
		o.opts.ts_val = t->peer_tsval;
		o.opts.ts_ecr = t->peer_tsecr;
	}
	if (o.flags & SYNACK_TH_SYN)
		o.opts.sack_permitted = t->peer_sack_ok;
	if ((o.flags & SYNACK_TH_SYN) && t->peer_tfo) {
		o.opts.tfo = t->peer_tfo;
		o.opts.tfo_exp = t->peer_tfo_exp;
		o.opts.tfo_len = t->peer_tfo_len;
		memcpy(o.opts.tfo_cookie, t->peer_tfo_cookie, sizeof o.opts.tfo_cookie);
	}
	o.opts.sack_count = t->peer_nsack;
	for (unsigned i = 0; i < t->peer_nsack; i++) {
		o.opts.sack[i].start = t->peer_sack[i].start + t->iss;
		o.opts.sack[i].end = t->peer_sack[i].end + t->iss;
	}
	t->peer_nsack = 0;
	if (len > sizeof payload)
		len = sizeof payload;
	/* A SYN occupies one sequence number before its data. */
	uint32_t first = seq + ((o.flags & SYNACK_TH_SYN) ? 1 : 0);
	for (uint32_t i = 0; i < len; i++)
		payload[i] = t_pattern(first + i);
	size_t hl = t_ip_hdr_len();
	if (cap < hl)
		return 0;
	size_t n = wire_tcp_emit(buf + hl, cap - hl, &o, len ? payload : (const uint8_t *)"", len);
	if (n == 0)
		return 0;
	if (t_family6())
		wire_ip6_emit(buf, &o.saddr, &o.daddr, WIRE_IPPROTO_TCP, 64, 0, n, t->peer_ecn);
	else
		wire_ip4_emit_ecn(buf, T_PEER_ADDR, T_US_ADDR, WIRE_IPPROTO_TCP, 64, 0, n,
		                  t->peer_ecn);
	return n + hl;
}

int t_input_raw(struct t *t, const uint8_t *pkt, size_t len)
{
	t->last_input = synack_input(t->st, t->now, pkt, len);
	return t->last_input;
}

void t_fix_ip_csum(uint8_t *pkt)
{
	if ((pkt[0] >> 4) == 6)
		return; /* IPv6 has no header checksum */
	size_t hl = (size_t)(pkt[0] & 0x0f) * 4;
	pkt[10] = pkt[11] = 0;
	wire_put16(pkt + 10, wire_csum_fold(wire_csum_add(0, pkt, hl)));
}

void t_fix_tcp_csum(uint8_t *pkt, size_t len)
{
	int v6 = (pkt[0] >> 4) == 6;
	size_t hl = v6 ? WIRE_IP6_HDR_LEN : WIRE_IP4_HDR_LEN;
	uint8_t *tcp = pkt + hl;
	size_t tlen = len - hl;
	tcp[16] = tcp[17] = 0;
	struct addr s = v6 ? wire_addr6_from_bytes(pkt + 8) : addr_v4(wire_get32(pkt + 12));
	struct addr d = v6 ? wire_addr6_from_bytes(pkt + 24) : addr_v4(wire_get32(pkt + 16));
	uint32_t sum = wire_csum_pseudo_net(&s, &d, WIRE_IPPROTO_TCP, (uint32_t)tlen);
	wire_put16(tcp + 16, wire_csum_fold(wire_csum_add(sum, tcp, tlen)));
}

int t_peer_at(struct t *t, const char *file, int line, const char *flags, uint32_t seq,
              uint32_t ack, uint32_t len)
{
	static uint8_t pkt[65536 + 128];
	t_check_outbox(t, file, line, "before this segment from the peer");
	size_t n = t_build(t, pkt, sizeof pkt, flags, seq, ack, len);
	if (n == 0) {
		check_fail(file, line, "cannot build < %s seq %u len %u", flags, seq, len);
		return -1;
	}
	return t_input_raw(t, pkt, n);
}

static int t_pop(struct t *t)
{
	ssize_t n = synack_output(t->st, t->pkt, sizeof t->pkt);
	if (n <= 0)
		return 0;
	t->pkt_len = (size_t)n;
	return t_parse_out(t->pkt, (size_t)n, &t->ip, &t->seg) == 0 ? 1 : -1;
}

int t_expect_at(struct t *t, const char *file, int line, const char *flags, uint64_t seq,
                uint64_t ack, uint64_t len)
{
	char want[16], got[16], s1[32];
	uint8_t wflags = t_flags_parse(flags);
	char wseq[32], wack[32], wlen[32];
	if (seq == T_ANY)
		snprintf(wseq, sizeof wseq, "*");
	else
		snprintf(wseq, sizeof wseq, "T_ISS%+d", (int32_t)seq);
	if (ack == T_ANY)
		snprintf(wack, sizeof wack, "*");
	else
		snprintf(wack, sizeof wack, "%u", (uint32_t)ack);
	if (len == T_ANY)
		snprintf(wlen, sizeof wlen, "*");
	else
		snprintf(wlen, sizeof wlen, "%u", (uint32_t)len);

	int r = t_pop(t);
	if (r == 0) {
		check_fail(file, line, "expected > %s seq %s ack %s len %s, got nothing", flags,
		           wseq, wack, wlen);
		return 0;
	}
	if (r < 0) {
		check_fail(file, line, "expected > %s, got an unparsable datagram", flags);
		return 0;
	}
	const struct wire_tcp *g = &t->seg;
	if ((g->flags & SYNACK_TH_SYN) && !t->iss_known) {
		t->iss = g->seq;
		t->iss_known = 1;
	}
	struct addr us = t_us(), them = t_them();
	if (!t->our_port && addr_eq(&g->saddr, &us))
		t->our_port = g->sport;

	/* "R*": the ACK bit (and so the ack field) is not compared. */
	uint8_t mask = (uint8_t)~SYNACK_TH_PSH;
	if (strchr(flags, '*')) {
		mask &= (uint8_t)~SYNACK_TH_ACK;
		ack = T_ANY;
	}
	int ok = 1;
	if ((g->flags & mask) != (wflags & mask))
		ok = 0;
	if (seq != T_ANY && g->seq != (uint32_t)(seq + t->iss))
		ok = 0;
	/* The ack field means nothing without the ACK flag. */
	if (ack != T_ANY && (wflags & SYNACK_TH_ACK) && g->ack != (uint32_t)ack)
		ok = 0;
	if (len != T_ANY && g->data_len != (uint32_t)len)
		ok = 0;
	if (!addr_eq(&g->saddr, &us) || !addr_eq(&g->daddr, &them) || g->dport != t->peer_port ||
	    (t->our_port && g->sport != t->our_port)) {
		char a[64], b[64];
		struct synack_endpoint src, dst;
		env_endpoint(&src, &g->saddr, g->sport);
		env_endpoint(&dst, &g->daddr, g->dport);
		check_fail(file, line, "segment from %s to %s: not on the scripted 4-tuple",
		           synack_endpoint_str(&src, a, sizeof a),
		           synack_endpoint_str(&dst, b, sizeof b));
	}
	if (!ok)
		check_fail(file, line,
		           "\n    expected > %-3s seq %s ack %s len %s\n"
		           "    got      > %-3s seq %s ack %u len %u (win %u)",
		           t_flags_str(wflags, want, sizeof want), wseq, wack, wlen,
		           t_flags_str(g->flags, got, sizeof got), t_ours(t, g->seq, s1, sizeof s1),
		           g->ack, g->data_len, g->wnd);
	return ok;
}

void t_expect_win_at(struct t *t, const char *file, int line, uint32_t win)
{
	if (t->seg.wnd != win)
		check_fail(file, line, "window of the last segment we sent: expected %u, got %u",
		           win, t->seg.wnd);
}

void t_expect_wscale_at(struct t *t, const char *file, int line, int ws)
{
	int got = t->seg.opts.has_wscale ? t->seg.opts.wscale : -1;
	if (got != ws)
		check_fail(file, line,
		           "window scale option of the last segment we sent: expected %d, got %d",
		           ws, got);
}

uint32_t t_expect_ts_at(struct t *t, const char *file, int line, int has, uint64_t ecr)
{
	if (t->seg.opts.has_ts != !!has)
		check_fail(file, line, "timestamps on the last segment we sent: expected %s",
		           has ? "some" : "none");
	else if (has && ecr != T_ANY && t->seg.opts.ts_ecr != (uint32_t)ecr)
		check_fail(file, line,
		           "TSecr of the last segment we sent: expected %" PRIu64 ", got %u", ecr,
		           t->seg.opts.ts_ecr);
	return t->seg.opts.ts_val;
}

void t_expect_ecn_at(struct t *t, const char *file, int line, int ecn)
{
	static const char *const names[4] = {"Not-ECT", "ECT(1)", "ECT(0)", "CE"};
	int got = t->seg.ecn & WIRE_ECN_MASK;
	if (got != ecn)
		check_fail(file, line,
		           "ECN codepoint of the last segment we sent: expected %s, got %s",
		           names[ecn & 3], names[got]);
}

void t_expect_sack_at(struct t *t, const char *file, int line, unsigned n, ...)
{
	va_list ap;
	va_start(ap, n);
	int ok = t->seg.opts.sack_count == n;
	char want[160] = "", got[160] = "";
	size_t wl = 0, gl = 0;
	for (unsigned i = 0; i < n; i++) {
		uint32_t a = va_arg(ap, uint32_t), b = va_arg(ap, uint32_t);
		wl += (size_t)snprintf(want + wl, sizeof want - wl, " {%u:%u}", a, b);
		if (wl >= sizeof want)
			wl = sizeof want - 1;
		if (i < t->seg.opts.sack_count &&
		    (t->seg.opts.sack[i].start != a || t->seg.opts.sack[i].end != b))
			ok = 0;
	}
	va_end(ap);
	for (unsigned i = 0; i < t->seg.opts.sack_count; i++) {
		gl += (size_t)snprintf(got + gl, sizeof got - gl, " {%u:%u}",
		                       t->seg.opts.sack[i].start, t->seg.opts.sack[i].end);
		if (gl >= sizeof got)
			gl = sizeof got - 1;
	}
	if (!ok)
		check_fail(file, line, "SACK blocks of the last segment we sent: expected%s, got%s",
		           n ? want : " none", t->seg.opts.sack_count ? got : " none");
}

void t_peer_sack(struct t *t, unsigned n, ...)
{
	va_list ap;
	va_start(ap, n);
	t->peer_nsack = (uint8_t)(n > WIRE_SACK_MAX ? WIRE_SACK_MAX : n);
	for (unsigned i = 0; i < n; i++) {
		uint32_t a = va_arg(ap, uint32_t), b = va_arg(ap, uint32_t);
		if (i < WIRE_SACK_MAX) {
			t->peer_sack[i].start = a;
			t->peer_sack[i].end = b;
		}
	}
	va_end(ap);
}

void t_expect_mss_at(struct t *t, const char *file, int line, int mss)
{
	int got = t->seg.opts.has_mss ? t->seg.opts.mss : -1;
	if (got != mss)
		check_fail(file, line,
		           "MSS option of the last segment we sent: expected %d, got %d", mss, got);
}

int t_expect_icmp_at(struct t *t, const char *file, int line, int type, int code)
{
	ssize_t n = synack_output(t->st, t->pkt, sizeof t->pkt);
	if (n <= 0) {
		check_fail(file, line, "expected ICMP type %d code %d, nothing was sent", type,
		           code);
		return 0;
	}
	t->pkt_len = (size_t)n;
	if (wire_ip4_parse(t->pkt, (size_t)n, &t->ip) != SYNACK_DROP_NONE ||
	    t->ip.proto != WIRE_IPPROTO_ICMP) {
		check_fail(file, line, "expected ICMP type %d code %d, got another datagram", type,
		           code);
		return 0;
	}
	int r = wire_icmp_parse(&t->ip, &t->icmp);
	if (r != SYNACK_DROP_NONE) {
		check_fail(file, line, "our ICMP message does not parse: %s", synack_drop_name(r));
		return 0;
	}
	if (t->ip.src != T_US_ADDR || t->ip.dst != T_PEER_ADDR) {
		check_fail(file, line, "ICMP from %08x to %08x, expected us to the peer", t->ip.src,
		           t->ip.dst);
		return 0;
	}
	if (t->icmp.type != type || t->icmp.code != code) {
		check_fail(file, line, "expected ICMP type %d code %d, got type %u code %u", type,
		           code, t->icmp.type, t->icmp.code);
		return 0;
	}
	return 1;
}

void t_expect_nothing_at(struct t *t, const char *file, int line)
{
	t_check_outbox(t, file, line, "where nothing was expected");
}

int t_drain(struct t *t)
{
	int n = 0;
	while (synack_output_pending(t->st) > 0 && t_pop(t) != 0)
		n++;
	return n;
}

void t_forget_iss(struct t *t)
{
	t->iss_known = 0;
	t->iss = 0;
}

struct t_find {
	const struct t *t;
	int state;
};

static void t_find_conn(void *ctx, const struct synack_conn *c)
{
	struct t_find *f = ctx;
	if (t_endpoint_is(&c->local, 0, f->t->our_port) &&
	    t_endpoint_is(&c->remote, 1, f->t->peer_port))
		f->state = c->state;
}

int t_get_state(struct t *t)
{
	struct t_find f = {t, SYNACK_CLOSED};
	synack_conns(t->st, t_find_conn, &f);
	return f.state;
}

/*
 * synack_conns is the truth for the 4-tuple (it lists orphans and TIME_WAIT
 * records too).  A socket still held must agree through synack_tcp_info,
 * except that a TIME_WAIT record belongs to no socket: the socket then sees
 * CLOSED, as Linux's TCP_INFO does.
 */
void t_state_at(struct t *t, const char *file, int line, int state)
{
	int got = t_get_state(t);
	if (got != state)
		check_fail(file, line, "state: expected %s, got %s (synack_conns)",
		           synack_state_name(state), synack_state_name(got));
	if (t->sock < 0)
		return;
	struct synack_tcp_info info;
	int r = synack_tcp_info(t->st, t->sock, &info);
	if (r < 0) {
		check_fail(file, line, "synack_tcp_info: %s", synack_strerror(r));
		return;
	}
	if (info.state != got && !(info.state == SYNACK_CLOSED && got == SYNACK_TIME_WAIT))
		check_fail(file, line, "state: synack_conns says %s, synack_tcp_info says %s",
		           synack_state_name(got), synack_state_name(info.state));
}

uint64_t t_counter_get(struct t *t, const char *name)
{
	struct synack_stats s;
	synack_stats(t->st, &s);
	for (size_t i = 0; i < synack_counter_count(); i++)
		if (strcmp(synack_counter_name(i), name) == 0)
			return synack_counter_value(&s, i);
	return UINT64_MAX;
}

void t_counter_at(struct t *t, const char *file, int line, const char *name, uint64_t value)
{
	uint64_t got = t_counter_get(t, name);
	if (got == UINT64_MAX)
		check_fail(file, line, "no counter named %s", name);
	else if (got != value)
		check_fail(file, line, "counter %s: expected %" PRIu64 ", got %" PRIu64, name,
		           value, got);
}

void t_drops_at(struct t *t, const char *file, int line, int reason, uint64_t value)
{
	struct synack_stats s;
	synack_stats(t->st, &s);
	if (s.drops[reason] != value)
		check_fail(file, line, "drops[%s]: expected %" PRIu64 ", got %" PRIu64,
		           synack_drop_name(reason), value, s.drops[reason]);
}

void t_dropped_at(struct t *t, const char *file, int line, int reason)
{
	if (t->last_input != reason)
		check_fail(file, line, "last segment: expected %s, synack_input returned %d (%s)",
		           reason ? synack_drop_name(reason) : "accepted (0)", t->last_input,
		           t->last_input > 0 ? synack_drop_name(t->last_input)
		                             : (t->last_input == 0 ? "accepted" : "error"));
}

void t_listen_at(struct t *t, const char *file, int line, int backlog)
{
	struct synack_endpoint ep = t_endpoint(0, T_LISTEN_PORT);
	int s = synack_socket(t->st);
	if (s < 0) {
		check_fail(file, line, "synack_socket: %s", synack_strerror(s));
		return;
	}
	int r = synack_bind(t->st, s, &ep);
	if (r == 0)
		r = synack_listen(t->st, s, backlog);
	if (r != 0)
		check_fail(file, line, "bind/listen: %s", synack_strerror(r));
	t->listener = s;
	t->our_port = T_LISTEN_PORT;
	t_check_outbox(t, file, line, "after listen()");
}

void t_accept_at(struct t *t, const char *file, int line)
{
	struct synack_endpoint peer;
	int s = synack_accept(t->st, t->listener, &peer);
	if (s < 0) {
		check_fail(file, line, "accept: %s", synack_strerror(s));
		return;
	}
	if (!t_endpoint_is(&peer, 1, t->peer_port))
		check_fail(file, line, "accept: the peer is not the scripted one, port %u",
		           t->peer_port);
	t->sock = s;
}

void t_connect_at(struct t *t, const char *file, int line)
{
	struct synack_endpoint peer = t_endpoint(1, t->peer_port), local;
	int s = synack_socket(t->st);
	if (s < 0) {
		check_fail(file, line, "synack_socket: %s", synack_strerror(s));
		return;
	}
	t->sock = s;
	int r = synack_connect(t->st, s, &peer);
	if (r != -EINPROGRESS)
		check_fail(file, line, "connect: expected -EINPROGRESS, got %d (%s)", r,
		           synack_strerror(r));
	if (synack_getsockname(t->st, s, &local) == 0 && local.port != 0)
		t->our_port = local.port;
}

void t_send_at(struct t *t, const char *file, int line, size_t len)
{
	static uint8_t buf[65536];
	if (len > sizeof buf)
		len = sizeof buf;
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)('A' + i % 26);
	ssize_t r = synack_send(t->st, t->sock, buf, len);
	if (r != (ssize_t)len)
		check_fail(file, line, "send(%zu): got %zd (%s)", len, r,
		           r < 0 ? synack_strerror((int)r) : "short");
}

void t_recv_at(struct t *t, const char *file, int line, size_t len)
{
	static uint8_t buf[65536 + 1];
	size_t want = len + 1 < sizeof buf ? len + 1 : sizeof buf;
	ssize_t r = synack_recv(t->st, t->sock, buf, want, 0);
	if (r != (ssize_t)len) {
		check_fail(file, line, "recv: expected %zu bytes%s, got %zd (%s)", len,
		           len ? "" : " (end of stream)", r, r < 0 ? synack_strerror((int)r) : "");
		return;
	}
	for (ssize_t i = 0; i < r; i++) {
		if (buf[i] != t_pattern(t->rcv_seq + (uint32_t)i)) {
			check_fail(
			    file, line,
			    "recv: byte %zd is '%c', expected '%c' (peer seq %u): data out of "
			    "order or corrupt",
			    i, buf[i], t_pattern(t->rcv_seq + (uint32_t)i),
			    t->rcv_seq + (uint32_t)i);
			break;
		}
	}
	t->rcv_seq += (uint32_t)r;
}

void t_recv_err_at(struct t *t, const char *file, int line, int err)
{
	uint8_t buf[16];
	ssize_t r = synack_recv(t->st, t->sock, buf, sizeof buf, 0);
	if (r != err)
		check_fail(file, line, "recv: expected %d (%s), got %zd (%s)", err,
		           synack_strerror(err), r, r < 0 ? synack_strerror((int)r) : "data");
}

void t_close_at(struct t *t, const char *file, int line)
{
	int r = synack_close(t->st, t->sock);
	if (r != 0)
		check_fail(file, line, "close: %d (%s)", r, synack_strerror(r));
	t->sock = -1;
}

void t_shutdown_wr_at(struct t *t, const char *file, int line)
{
	int r = synack_shutdown(t->st, t->sock, SYNACK_SHUT_WR);
	if (r != 0)
		check_fail(file, line, "shutdown(SHUT_WR): %d (%s)", r, synack_strerror(r));
}

void t_abort_at(struct t *t, const char *file, int line)
{
	int r = synack_setsockopt(t->st, t->sock, SYNACK_SO_LINGER, 0);
	if (r != 0)
		check_fail(file, line, "setsockopt(SO_LINGER, 0): %d (%s)", r, synack_strerror(r));
	t_close_at(t, file, line);
}

void t_sock_error_at(struct t *t, const char *file, int line, int err)
{
	int got = synack_socket_error(t->st, t->sock);
	if (got != err)
		check_fail(file, line, "socket error: expected %d (%s), got %d (%s)", err,
		           synack_strerror(err), got, synack_strerror(got));
}

/* The shortcuts report failures at the caller's test through their own lines. */

void t_to_syn_sent(struct t *t)
{
	t_connect(t);
	t_expect(t, "S", T_ISS, 0, 0);
	t_state(t, SYNACK_SYN_SENT);
}

void t_to_syn_received(struct t *t)
{
	t_listen(t);
	t_peer(t, "S", T_PEER_ISN, 0, 0);
	t_expect(t, "S.", T_ISS, T_PEER_ISN + 1, 0);
	t_state(t, SYNACK_SYN_RECEIVED);
}

void t_establish_passive(struct t *t)
{
	t_to_syn_received(t);
	t_peer(t, ".", T_PEER_ISN + 1, T_ISS + 1, 0);
	t_accept(t);
	t_state(t, SYNACK_ESTABLISHED);
}

void t_establish_active(struct t *t)
{
	t_to_syn_sent(t);
	t_peer(t, "S.", T_PEER_ISN, T_ISS + 1, 0);
	t_expect(t, ".", T_ISS + 1, T_PEER_ISN + 1, 0);
	t_state(t, SYNACK_ESTABLISHED);
}

void t_to_fin_wait_1(struct t *t)
{
	t_establish_passive(t);
	t_close(t);
	t_expect(t, "F.", T_ISS + 1, 1001, 0);
	t_state(t, SYNACK_FIN_WAIT_1);
}

void t_to_fin_wait_1_shutdown(struct t *t)
{
	t_establish_passive(t);
	t_shutdown_wr(t);
	t_expect(t, "F.", T_ISS + 1, 1001, 0);
	t_state(t, SYNACK_FIN_WAIT_1);
}

void t_to_fin_wait_2(struct t *t)
{
	t_to_fin_wait_1(t);
	t_peer(t, ".", 1001, T_ISS + 2, 0);
	t_expect_nothing(t);
	t_state(t, SYNACK_FIN_WAIT_2);
}

void t_to_fin_wait_2_shutdown(struct t *t)
{
	t_to_fin_wait_1_shutdown(t);
	t_peer(t, ".", 1001, T_ISS + 2, 0);
	t_expect_nothing(t);
	t_state(t, SYNACK_FIN_WAIT_2);
}

void t_to_closing(struct t *t)
{
	t_to_fin_wait_1(t);
	t_peer(t, "F.", 1001, T_ISS + 1, 0);
	t_expect(t, ".", T_ISS + 2, 1002, 0);
	t_state(t, SYNACK_CLOSING);
}

void t_to_time_wait(struct t *t)
{
	t_to_fin_wait_2(t);
	t_peer(t, "F.", 1001, T_ISS + 2, 0);
	t_expect(t, ".", T_ISS + 2, 1002, 0);
	t_state(t, SYNACK_TIME_WAIT);
}

void t_to_close_wait(struct t *t)
{
	t_establish_passive(t);
	t_peer(t, "F.", 1001, T_ISS + 1, 0);
	t_expect(t, ".", T_ISS + 1, 1002, 0);
	t_state(t, SYNACK_CLOSE_WAIT);
}

void t_to_last_ack(struct t *t)
{
	t_to_close_wait(t);
	t_close(t);
	t_expect(t, "F.", T_ISS + 1, 1002, 0);
	t_state(t, SYNACK_LAST_ACK);
}
