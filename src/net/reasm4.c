/*
 * Reassembly, IPv4 (RFC 791 3.2, RFC 815, RFC 1122 3.3.2) and IPv6 (RFC
 * 8200 4.5): one engine, the family as data.  The two differ only in the
 * key (IPv6 has no protocol in it and a 32-bit identification), in the
 * checks of a lone fragment (reasm4_input, reasm6_input), in the header
 * the datagram put together takes, in their counters (IpReasm* and
 * Ip6Reasm*) and in the ICMP error a timeout sends; the budget
 * (ipfrag_high_thresh), the time limit (ipfrag_time_ms) and the fragment
 * limit (ipfrag_max_frags) are shared, one memory for both families.
 *
 * A datagram being reassembled is a queue keyed by (source, destination,
 * protocol, identification), RFC 791 3.2, holding its fragments in a list
 * sorted by offset.  No two fragments of a queue overlap: a fragment that
 * overlaps one held, even an exact duplicate, discards the whole datagram,
 * as RFC 5722 requires for IPv6 (overlaps are how reassembly is attacked:
 * a later fragment rewriting a TCP header that a filter already passed,
 * RFC 1858).  Linux discards the datagram for overlaps too, but drops only
 * the duplicate when a fragment repeats one exactly (RFC 8200 4.5 allows
 * either); we do not make that exception, so a duplicated fragment costs
 * the datagram and its sender sends it again.  Because nothing overlaps,
 * RFC 815's holes are the gaps between neighbours in the list, and the
 * datagram is whole exactly when its end is known (the fragment without
 * MF came) and the bytes held add up to it.
 *
 * Limits.  Every queue and fragment counts against ipfrag_high_thresh by
 * what its allocation costs (alloc_cost: the allocator's chunk, not just
 * the bytes asked for, so a flood of 8-byte fragments is counted at what
 * it holds, as Linux counts an skb's truesize).  A fragment that would pass it evicts
 * the oldest queues first: they are the ones closest to their timeout and
 * least likely to complete, while a datagram that is arriving now usually
 * completes within a round trip.  Linux before 4.17 evicted the same way
 * (down to ipfrag_low_thresh); since then it drops new fragments until
 * queues time out, which lets anyone who fills the budget with incomplete
 * datagrams stop all reassembly for ipfrag_time.  A fragment whose own
 * datagram would not fit the budget alone is dropped.  A queue lives at
 * most ipfrag_time_ms from its first fragment, a fixed time as RFC 1122
 * 3.3.2 requires (not refreshed by later fragments); at the end, if the
 * fragment at offset 0 came, its sender hears ICMP Time Exceeded code 1
 * (RFC 792), through the rate limit of every ICMP error.
 *
 * Cost.  A fragment is found in O(1) (the hash table); inserting it walks
 * the list from its end, so fragments in order or in reverse order cost
 * O(1) and adversarial orders O(n) for the at most 8192 fragments a
 * datagram can have (8 bytes each).
 */
#include "net/reasm4.h"

#include <stdlib.h>
#include <string.h>

#include "core/siphash.h"
#include "net/icmp4.h"
#include "net/icmp6.h"
#include "net/ip4.h"
#include "net/net.h"
#include "wire/wire.h"
#include "wire/wire6.h"

/* One fragment's data, at off (bytes into the datagram's payload). */
struct reasm4_frag {
	struct reasm4_frag *next, *prev;
	uint16_t off, len;
	uint8_t data[];
};

struct reasm4_q {
	struct hnode node; /* the key, see struct reasm4 */
	struct reasm4_q *older, *newer;
	struct reasm4_frag *first, *last; /* by offset, none overlapping */
	uint64_t expires;
	uint32_t bytes;    /* allocated for this queue and its fragments */
	uint32_t received; /* payload bytes held */
	uint32_t end;      /* the payload's length, once the last fragment came */
	uint8_t has_end;
	uint16_t nfrags; /* fragments held (at most ipfrag_max_frags) */
	uint8_t v6;      /* an IPv6 datagram (its key's addresses say so too) */
	/* What preceded the data of the fragment at offset 0, none until it
	 * came: IPv4's header (RFC 791 3.2: the first fragment's options are
	 * the datagram's); IPv6's unfragmentable part and Fragment header
	 * (RFC 8200 4.5), with nh_off the Next Header naming the latter.
	 * The datagram put together takes it; a timeout quotes it. */
	uint16_t hdr_len, nh_off;
	uint8_t *hdr;
};

/* The counters of either family, by what they count. */
enum { REASM_REQDS, REASM_OKS, REASM_FAILS, REASM_TIMEOUT };
static void count(struct net_layer *st, int v6, int which)
{
	struct synack_stats *s = &ENV(st)->stats;
	uint64_t *c[2][4] = {
	    {&s->IpReasmReqds, &s->IpReasmOKs, &s->IpReasmFails, &s->IpReasmTimeout},
	    {&s->Ip6ReasmReqds, &s->Ip6ReasmOKs, &s->Ip6ReasmFails, &s->Ip6ReasmTimeout}};
	(*c[v6 != 0][which])++;
}

/* What malloc(n) holds: glibc's chunk, n plus a size word rounded up to 16
 * bytes, at least 32; other allocators round alike. */
static size_t alloc_cost(size_t n)
{
	size_t c = (n + sizeof(size_t) + 15) & ~(size_t)15;
	return c < 32 ? 32 : c;
}

static void set_deadline(struct reasm4 *r)
{
	r->deadline = r->done ? 0 : r->oldest ? r->oldest->expires : SYNACK_NEVER;
}

/* Frees a queue and its fragments. */
static void queue_free(struct net_layer *st, struct reasm4_q *q)
{
	struct reasm4 *r = st->reasm;
	htable_remove(&r->queues, &q->node);
	if (q->older)
		q->older->newer = q->newer;
	else
		r->oldest = q->newer;
	if (q->newer)
		q->newer->older = q->older;
	else
		r->newest = q->older;
	set_deadline(r);
	r->bytes -= q->bytes;
	for (struct reasm4_frag *f = q->first, *next; f; f = next) {
		next = f->next;
		free(f);
	}
	free(q->hdr);
	free(q);
}

/* Discards an incomplete datagram for a reason no arriving fragment
 * carries (eviction, timeout): counted and traced here. */
static void queue_discard(struct net_layer *st, struct reasm4_q *q, int reason)
{
	count(st, q->v6, REASM_FAILS);
	net_drop(st, reason, &q->node.key.raddr, &q->node.key.laddr);
	queue_free(st, q);
}

/* Discards the datagram a fragment showed to be bad: the caller counts the
 * fragment's reason and traces it. */
static int queue_fail(struct net_layer *st, struct reasm4_q *q, int reason)
{
	count(st, q->v6, REASM_FAILS);
	queue_free(st, q);
	return reason;
}

/* Makes room for need more bytes within ipfrag_high_thresh, evicting the
 * oldest queues other than keep.  Returns whether it fits now. */
static int make_room(struct net_layer *st, struct reasm4_q *keep, uint64_t need)
{
	struct reasm4 *r = st->reasm;
	uint64_t limit = ENV(st)->cfg.ipfrag_high_thresh;
	struct reasm4_q *q = r->oldest;
	while (r->bytes + need > limit && q) {
		struct reasm4_q *next = q->newer;
		if (q != keep)
			queue_discard(st, q, SYNACK_DROP_FRAG_EVICTED);
		q = next;
	}
	return r->bytes + need <= limit;
}

static struct reasm4_q *queue_new(struct net_layer *st, const struct tuple *key)
{
	struct reasm4 *r = st->reasm;
	struct reasm4_q *q;
	if (!make_room(st, NULL, alloc_cost(sizeof(*q))))
		return NULL;
	q = calloc(1, sizeof(*q));
	if (!q)
		return NULL;
	q->node.key = *key;
	q->v6 = !addr_is_v4(&key->laddr);
	if (htable_insert(&r->queues, &q->node) != 0) {
		free(q);
		return NULL;
	}
	q->bytes = (uint32_t)alloc_cost(sizeof(*q));
	r->bytes += q->bytes;
	q->expires = ENV(st)->now + (uint64_t)ENV(st)->cfg.ipfrag_time_ms * 1000u;
	q->older = r->newest;
	if (r->newest)
		r->newest->newer = q;
	else
		r->oldest = q;
	r->newest = q;
	set_deadline(r);
	return q;
}

/*
 * Puts a fragment of len bytes at off into q's sorted list.  Returns 0, or
 * FRAG_OVERLAP when it overlaps a fragment held.  The search starts from
 * the end, where in-order fragments go, and stops at once for fragments
 * before everything held (reverse order).
 */
static int frag_insert(struct reasm4_q *q, struct reasm4_frag *f)
{
	uint32_t end = (uint32_t)f->off + f->len;
	struct reasm4_frag *after = q->last; /* the fragment f goes after, NULL: first */
	if (q->first && end <= q->first->off)
		after = NULL;
	else
		while (after && after->off > f->off)
			after = after->prev;
	struct reasm4_frag *before = after ? after->next : q->first;
	if (after && (uint32_t)after->off + after->len > f->off)
		return SYNACK_DROP_FRAG_OVERLAP;
	if (before && end > before->off)
		return SYNACK_DROP_FRAG_OVERLAP;
	f->prev = after;
	f->next = before;
	if (after)
		after->next = f;
	else
		q->first = f;
	if (before)
		before->prev = f;
	else
		q->last = f;
	return 0;
}

/* The datagram of a complete queue, into r->done (r->done_len): the first
 * fragment's header, then the data.  IPv4's header takes the whole length
 * and no fragment flags (RFC 791 3.2); IPv6's unfragmentable part loses
 * the Fragment header, the Next Header that named it takes the Fragment
 * header's, and the payload length the whole (RFC 8200 4.5).  Returns
 * SYNACK_DROP_NONE or the reason the datagram was discarded. */
static int assemble(struct net_layer *st, struct reasm4_q *q)
{
	struct reasm4 *r = st->reasm;
	size_t head = q->v6 ? (size_t)q->hdr_len - 8 : q->hdr_len;
	size_t total = head + q->end;
	if (total - (q->v6 ? WIRE_IP6_HDR_LEN : 0) > 0xffff)
		return queue_fail(st, q, SYNACK_DROP_FRAG_TOO_BIG);
	uint8_t *d = malloc(total);
	if (!d)
		return queue_fail(st, q, SYNACK_DROP_FRAG_BUDGET);
	memcpy(d, q->hdr, head);
	for (const struct reasm4_frag *f = q->first; f; f = f->next)
		memcpy(d + head + f->off, f->data, f->len);
	if (q->v6) {
		d[q->nh_off] = q->hdr[head]; /* the Fragment header's Next Header */
		wire_put16(d + 4, (uint16_t)(total - WIRE_IP6_HDR_LEN));
	} else {
		wire_put16(d + 2, (uint16_t)total);
		wire_put16(d + 6, 0);
		wire_put16(d + 10, 0);
		wire_put16(d + 10, wire_csum_fold(wire_csum_add(0, d, head)));
	}
	r->done = d;
	r->done_len = total;
	count(st, q->v6, REASM_OKS);
	queue_free(st, q);
	return SYNACK_DROP_NONE;
}

/* The state, made with the first fragment.  The table's key comes from the
 * stack's secret as synack_stack_new derives the others, under a label of
 * its own, 'f'. */
static struct reasm4 *state(struct net_layer *st)
{
	if (st->reasm)
		return st->reasm;
	struct reasm4 *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	uint8_t key[16];
	siphash_derive_key(ENV(st)->cfg.secret, 'f', key);
	if (htable_init(&r->queues, key, 16) != 0) {
		free(r);
		return NULL;
	}
	r->deadline = SYNACK_NEVER;
	st->reasm = r;
	return r;
}

/* One fragment, either family's, its lone checks passed (reasm4_input,
 * reasm6_input). */
struct frag_in {
	struct tuple key;  /* its datagram (struct reasm4's key) */
	uint32_t off, len; /* its data, at off bytes into the fragmentable part */
	int last;          /* no more fragments after it */
	const uint8_t *data;
	const uint8_t *hdr; /* what preceded the data (struct reasm4_q's hdr) */
	size_t hdr_len;
	uint16_t nh_off; /* IPv6: the Next Header naming the Fragment header */
	uint8_t v6;
};

/* Holds a fragment until its datagram is whole: SYNACK_DROP_NONE (the
 * datagram in r->done), REASM4_HELD, or the reason it was dropped. */
static int reasm_input(struct net_layer *st, const struct frag_in *in)
{
	struct reasm4 *r;
	uint32_t off = in->off, len = in->len, end = off + len;
	int last = in->last;

	/* Reassembly turned off: nothing is kept, not even the table. */
	if (ENV(st)->cfg.ipfrag_high_thresh == 0) {
		count(st, in->v6, REASM_FAILS);
		return SYNACK_DROP_FRAG_BUDGET;
	}
	r = state(st);
	if (!r) {
		count(st, in->v6, REASM_FAILS);
		return SYNACK_DROP_FRAG_BUDGET;
	}
	reasm4_release(st);
	struct hnode *n = htable_find(&r->queues, &in->key);
	struct reasm4_q *q = n ? container_of(n, struct reasm4_q, node) : queue_new(st, &in->key);
	if (!q) {
		count(st, in->v6, REASM_FAILS);
		return SYNACK_DROP_FRAG_BUDGET;
	}
	/* RFC 815: the last fragment fixes the end; nothing may lie past it,
	 * and a second last fragment must agree. */
	uint32_t held_end = q->last ? (uint32_t)q->last->off + q->last->len : 0;
	if (last ? (q->has_end ? end != q->end : end < held_end) : q->has_end && end > q->end)
		return queue_fail(st, q, SYNACK_DROP_FRAG_BAD_END);

	if (q->nfrags >= ENV(st)->cfg.ipfrag_max_frags)
		return queue_fail(st, q, SYNACK_DROP_FRAG_TOO_MANY);
	size_t need = alloc_cost(sizeof(struct reasm4_frag) + len);
	if (off == 0)
		need += alloc_cost(in->hdr_len);
	/* A datagram that could not fit even alone is refused before any
	 * other is evicted for it. */
	if (q->bytes + need > ENV(st)->cfg.ipfrag_high_thresh || !make_room(st, q, need)) {
		/* This datagram alone does not fit: it never will. */
		return queue_fail(st, q, SYNACK_DROP_FRAG_BUDGET);
	}
	struct reasm4_frag *f = malloc(sizeof(struct reasm4_frag) + len);
	uint8_t *hdr = off == 0 ? malloc(in->hdr_len) : NULL;
	if (!f || (off == 0 && !hdr)) {
		free(f);
		free(hdr);
		return queue_fail(st, q, SYNACK_DROP_FRAG_BUDGET);
	}
	f->off = (uint16_t)off;
	f->len = (uint16_t)len;
	memcpy(f->data, in->data, len);
	if (frag_insert(q, f) != 0) {
		free(f);
		free(hdr);
		return queue_fail(st, q, SYNACK_DROP_FRAG_OVERLAP);
	}
	q->nfrags++;
	q->bytes += (uint32_t)need;
	r->bytes += need;
	q->received += len;
	if (last) {
		q->has_end = 1;
		q->end = end;
	}
	if (off == 0) {
		/* Only one fragment at offset 0 is ever held (overlaps). */
		memcpy(hdr, in->hdr, in->hdr_len);
		q->hdr = hdr;
		q->hdr_len = (uint16_t)in->hdr_len;
		q->nh_off = in->nh_off;
	}
	if (!q->has_end || q->received != q->end)
		return REASM4_HELD;
	return assemble(st, q);
}

int reasm4_input(struct net_layer *st, const struct wire_ip4 *ip, const uint8_t *pkt,
                 struct wire_ip4 *whole)
{
	uint32_t off = (uint32_t)(ip->frag & WIRE_IP4_OFFSET_MASK) * 8;
	uint32_t len = (uint32_t)ip->payload_len;
	int last = !(ip->frag & WIRE_IP4_MF);

	STAT_INC(st, IpReasmReqds);
	/* Checks of the fragment alone, before it can cost any state. */
	if (ip->frag & WIRE_IP4_DF) {
		/* A datagram its sender forbade to fragment cannot be in
		 * pieces; a fragment claiming both is forged or broken. */
		STAT_INC(st, IpReasmFails);
		return SYNACK_DROP_FRAG_DF;
	}
	if (len == 0 || (!last && len % 8 != 0)) {
		/* RFC 791 3.2: every fragment but the last carries a multiple
		 * of 8 bytes (the offset's unit); an empty one carries
		 * nothing to reassemble. */
		STAT_INC(st, IpReasmFails);
		return SYNACK_DROP_FRAG_BAD_LEN;
	}
	if (WIRE_IP4_HDR_LEN + off + len > 0xffff) {
		/* The total length field cannot say it: the ping of death. */
		STAT_INC(st, IpReasmFails);
		return SYNACK_DROP_FRAG_TOO_BIG;
	}
	/* RFC 791 3.2's key: (source, destination, protocol, identification). */
	struct frag_in in = {
	    .key = {.laddr = addr_v4(ip->dst),
	            .raddr = addr_v4(ip->src),
	            .lport = ip->id,
	            .rport = ip->proto},
	    .off = off,
	    .len = len,
	    .last = last,
	    .data = ip->payload,
	    .hdr = pkt,
	    .hdr_len = ip->hdr_len,
	};
	int reason = reasm_input(st, &in);
	if (reason != SYNACK_DROP_NONE)
		return reason;
	/* What we built parses: the header was checked when it came. */
	return wire_ip4_parse(st->reasm->done, st->reasm->done_len, whole);
}

/* RFC 7112 5: whether the fragmentable part of a first fragment (n bytes
 * at p, its first header nh) holds the whole chain of extension headers
 * and the start of the upper-layer header. */
static int chain_complete(uint8_t nh, const uint8_t *p, size_t n)
{
	size_t off = 0;
	for (unsigned i = 0; nh == WIRE_IPPROTO_HOPOPTS || nh == WIRE_IPPROTO_DSTOPTS ||
	                     nh == WIRE_IPPROTO_ROUTING || nh == WIRE_IPPROTO_FRAGMENT;
	     i++) {
		if (i == WIRE_IP6_MAX_EXT || n - off < 8)
			return 0;
		size_t hlen = nh == WIRE_IPPROTO_FRAGMENT ? 8 : ((size_t)p[off + 1] + 1) * 8;
		if (n - off < hlen)
			return 0;
		nh = p[off];
		off += hlen;
	}
	return nh == WIRE_IPPROTO_NONE || off < n;
}

int reasm6_input(struct net_layer *st, const struct wire_ip6 *ip, const uint8_t *pkt)
{
	/* RFC 8200 4.5: the Fragment header: Next Header, reserved, offset
	 * (13 bits, 8-byte units), two reserved bits and M, identification. */
	const uint8_t *fh = pkt + ip->frag_off;
	size_t start = (size_t)ip->frag_off + 8;
	size_t end = WIRE_IP6_HDR_LEN + (size_t)ip->payload_len;
	uint32_t off = (uint32_t)(wire_get16(fh + 2) & 0xfff8);
	uint32_t len = (uint32_t)(end - start);
	int last = !(wire_get16(fh + 2) & 1);

	STAT_INC(st, Ip6ReasmReqds);
	/* Checks of the fragment alone, before it can cost any state, each
	 * answered with the Parameter Problem RFC 8200 4.5 asks for. */
	if (len == 0 || (!last && len % 8 != 0)) {
		/* "If the length of a fragment ... is not a multiple of 8
		 * octets and the M flag of that fragment is 1": code 0,
		 * pointing at the Payload Length.  An empty one carries
		 * nothing to reassemble (dropped without an answer). */
		STAT_INC(st, Ip6ReasmFails);
		if (len)
			icmp6_send_error(st, pkt, end, WIRE_ICMP6_PARAM_PROBLEM,
			                 WIRE_ICMP6_PP_HEADER, 4);
		return SYNACK_DROP_FRAG_BAD_LEN;
	}
	if (start - 8 - WIRE_IP6_HDR_LEN + off + len > 0xffff) {
		/* "... would exceed 65,535 octets": code 0, pointing at the
		 * Fragment Offset. */
		STAT_INC(st, Ip6ReasmFails);
		icmp6_send_error(st, pkt, end, WIRE_ICMP6_PARAM_PROBLEM, WIRE_ICMP6_PP_HEADER,
		                 (uint32_t)ip->frag_off + 2);
		return SYNACK_DROP_FRAG_TOO_BIG;
	}
	if (off == 0 && !chain_complete(fh[0], pkt + start, len)) {
		/* RFC 7112 5: a first fragment without the whole header
		 * chain is discarded (Parameter Problem code 3, pointer 0):
		 * no filter could have judged it. */
		STAT_INC(st, Ip6ReasmFails);
		icmp6_send_error(st, pkt, end, WIRE_ICMP6_PARAM_PROBLEM, WIRE_ICMP6_PP_CHAIN, 0);
		return SYNACK_DROP_IP6_FRAGMENT;
	}
	/* RFC 8200 4.5's key: source, destination and the 32-bit
	 * identification (no protocol). */
	uint32_t id = wire_get32(fh + 4);
	struct frag_in in = {
	    .key = {.laddr = ip->dst,
	            .raddr = ip->src,
	            .lport = (uint16_t)(id >> 16),
	            .rport = (uint16_t)id},
	    .off = off,
	    .len = len,
	    .last = last,
	    .data = pkt + start,
	    .hdr = pkt,
	    .hdr_len = start,
	    .nh_off = ip->nh_off,
	    .v6 = 1,
	};
	return reasm_input(st, &in);
}

void reasm4_expire(struct net_layer *st)
{
	struct reasm4 *r = st->reasm;
	reasm4_release(st);
	while (r->oldest && r->oldest->expires <= ENV(st)->now) {
		struct reasm4_q *q = r->oldest;
		count(st, q->v6, REASM_TIMEOUT);
		if (q->hdr_len) {
			/* RFC 792, RFC 1122 3.3.2, RFC 8200 4.5: Time Exceeded,
			 * code 1 in both families, quoting the first fragment
			 * (as much as an error carries). */
			uint8_t quote[WIRE_IP6_MIN_MTU];
			size_t room = q->v6 ? sizeof(quote) : ICMP_ERROR_MAX;
			size_t h = q->hdr_len < room ? q->hdr_len : room;
			size_t n = q->first->len < room - h ? q->first->len : room - h;
			memcpy(quote, q->hdr, h);
			memcpy(quote + h, q->first->data, n);
			if (q->v6)
				icmp6_send_error(st, quote, h + n, WIRE_ICMP6_TIME_EXCEEDED,
				                 WIRE_ICMP6_REASM_TIMEOUT, 0);
			else
				icmp_send_error(st, quote, h + n, WIRE_ICMP_TIME_EXCEEDED,
				                WIRE_ICMP_REASM_TIMEOUT, 0);
		}
		queue_discard(st, q, SYNACK_DROP_FRAG_TIMEOUT);
	}
}

void reasm4_release(struct net_layer *st)
{
	struct reasm4 *r = st->reasm;
	free(r->done);
	r->done = NULL;
	r->done_len = 0;
	set_deadline(r);
}

void reasm4_fini(struct net_layer *st)
{
	struct reasm4 *r = st->reasm;
	if (!r)
		return;
	while (r->oldest)
		queue_free(st, r->oldest);
	htable_fini(&r->queues);
	reasm4_release(st);
	free(r);
	st->reasm = NULL;
}

uint64_t reasm4_memory(const struct net_layer *st)
{
	const struct reasm4 *r = st->reasm;
	if (!r)
		return 0;
	return sizeof(*r) + r->bytes + htable_bytes(&r->queues) + r->done_len;
}
