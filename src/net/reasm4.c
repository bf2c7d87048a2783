/*
 * IPv4 reassembly (RFC 791 3.2, RFC 815, RFC 1122 3.3.2).
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
#include "net/ip4.h"
#include "net/net.h"
#include "wire/wire.h"

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
	/* The header of the fragment at offset 0, 0 bytes until it came: the
	 * reassembled datagram takes it (RFC 791 3.2: the first fragment's
	 * options are the datagram's), and a timeout quotes it. */
	uint8_t hdr_len;
	uint8_t hdr[60];
};

/* The hash table's key of a fragment's datagram. */
static struct tuple frag_key(const struct wire_ip4 *ip)
{
	struct tuple k = {.laddr = addr_v4(ip->dst),
	                  .raddr = addr_v4(ip->src),
	                  .lport = ip->id,
	                  .rport = ip->proto};
	return k;
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
	free(q);
}

/* Discards an incomplete datagram for a reason no arriving fragment
 * carries (eviction, timeout): counted and traced here. */
static void queue_discard(struct net_layer *st, struct reasm4_q *q, int reason)
{
	STAT_INC(st, IpReasmFails);
	net_drop(st, reason, &q->node.key.raddr, &q->node.key.laddr);
	queue_free(st, q);
}

/* Discards the datagram a fragment showed to be bad: the caller counts the
 * fragment's reason and traces it. */
static int queue_fail(struct net_layer *st, struct reasm4_q *q, int reason)
{
	STAT_INC(st, IpReasmFails);
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

/* The datagram of a complete queue, into r->done: the first fragment's
 * header with the whole length and no fragment flags, then the data. */
static int assemble(struct net_layer *st, struct reasm4_q *q, struct wire_ip4 *whole)
{
	struct reasm4 *r = st->reasm;
	size_t total = (size_t)q->hdr_len + q->end;
	if (total > 0xffff)
		return queue_fail(st, q, SYNACK_DROP_FRAG_TOO_BIG);
	uint8_t *d = malloc(total);
	if (!d)
		return queue_fail(st, q, SYNACK_DROP_FRAG_BUDGET);
	memcpy(d, q->hdr, q->hdr_len);
	for (const struct reasm4_frag *f = q->first; f; f = f->next)
		memcpy(d + q->hdr_len + f->off, f->data, f->len);
	wire_put16(d + 2, (uint16_t)total);
	wire_put16(d + 6, 0);
	wire_put16(d + 10, 0);
	wire_put16(d + 10, wire_csum_fold(wire_csum_add(0, d, q->hdr_len)));
	r->done = d;
	r->done_len = total;
	queue_free(st, q);
	STAT_INC(st, IpReasmOKs);
	/* What we built parses: the header was checked when it came. */
	return wire_ip4_parse(d, total, whole);
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

int reasm4_input(struct net_layer *st, const struct wire_ip4 *ip, const uint8_t *pkt,
                 struct wire_ip4 *whole)
{
	struct reasm4 *r;
	uint32_t off = (uint32_t)(ip->frag & WIRE_IP4_OFFSET_MASK) * 8;
	uint32_t len = (uint32_t)ip->payload_len;
	uint32_t end = off + len;
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
	if (WIRE_IP4_HDR_LEN + end > 0xffff) {
		/* The total length field cannot say it: the ping of death. */
		STAT_INC(st, IpReasmFails);
		return SYNACK_DROP_FRAG_TOO_BIG;
	}

	/* Reassembly turned off: nothing is kept, not even the table. */
	if (ENV(st)->cfg.ipfrag_high_thresh == 0) {
		STAT_INC(st, IpReasmFails);
		return SYNACK_DROP_FRAG_BUDGET;
	}
	r = state(st);
	if (!r) {
		STAT_INC(st, IpReasmFails);
		return SYNACK_DROP_FRAG_BUDGET;
	}
	reasm4_release(st);
	struct tuple key = frag_key(ip);
	struct hnode *n = htable_find(&r->queues, &key);
	struct reasm4_q *q = n ? container_of(n, struct reasm4_q, node) : queue_new(st, &key);
	if (!q) {
		STAT_INC(st, IpReasmFails);
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
	/* A datagram that could not fit even alone is refused before any
	 * other is evicted for it. */
	if (q->bytes + need > ENV(st)->cfg.ipfrag_high_thresh || !make_room(st, q, need)) {
		/* This datagram alone does not fit: it never will. */
		return queue_fail(st, q, SYNACK_DROP_FRAG_BUDGET);
	}
	struct reasm4_frag *f = malloc(sizeof(struct reasm4_frag) + len);
	if (!f)
		return queue_fail(st, q, SYNACK_DROP_FRAG_BUDGET);
	f->off = (uint16_t)off;
	f->len = (uint16_t)len;
	memcpy(f->data, ip->payload, len);
	if (frag_insert(q, f) != 0) {
		free(f);
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
		q->hdr_len = (uint8_t)ip->hdr_len;
		memcpy(q->hdr, pkt, ip->hdr_len);
	}
	if (!q->has_end || q->received != q->end)
		return REASM4_HELD;
	return assemble(st, q, whole);
}

void reasm4_expire(struct net_layer *st)
{
	struct reasm4 *r = st->reasm;
	reasm4_release(st);
	while (r->oldest && r->oldest->expires <= ENV(st)->now) {
		struct reasm4_q *q = r->oldest;
		STAT_INC(st, IpReasmTimeout);
		if (q->hdr_len) {
			/* RFC 792, RFC 1122 3.3.2: Time Exceeded, code 1, quoting
			 * the first fragment (as much as an error carries). */
			uint8_t quote[ICMP_ERROR_MAX];
			size_t n = q->first->len;
			if (n > sizeof(quote) - q->hdr_len)
				n = sizeof(quote) - q->hdr_len;
			memcpy(quote, q->hdr, q->hdr_len);
			memcpy(quote + q->hdr_len, q->first->data, n);
			icmp_send_error(st, quote, q->hdr_len + n, WIRE_ICMP_TIME_EXCEEDED,
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
