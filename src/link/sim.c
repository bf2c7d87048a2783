/*
 * The simulated network: hosts are synack stacks, time is virtual, and every
 * datagram crosses a per-direction path with seeded impairments.
 *
 * Determinism is the point of this file.  Everything that decides what
 * happens to a datagram is a function of the simulator's seed and the calls
 * made on it: each direction (from, to) draws from its own generator, seeded
 * from the simulator's seed and the pair, so traffic on one path never shifts
 * the draws of another and adding a host leaves existing paths alone.
 * Pending deliveries sit in a binary heap ordered by (delivery time, sequence
 * number of insertion), so datagrams due at the same microsecond are handed
 * over in the order they were queued.  Nothing here reads a clock.
 *
 * Accounting choices (struct synack_sim_counters, one set per direction):
 *  - `sent` counts datagrams that left `from` for `to`, once each, whatever
 *    then happened to them.
 *  - A datagram whose destination no host owns (or that is too short to have
 *    one) is counted as `sent` and `no_route` on the (from, from) slot, and
 *    the tap sees it with to = -1.  So for a direction from != to,
 *    sent + duplicated = delivered + lost + filtered + (in flight).
 *  - `lost` counts the path's random loss and datagrams dropped because the
 *    sender was down when it sent or the receiver was down when it arrived;
 *    `filtered` counts filter drops.
 *  - Datagrams queued with synack_sim_inject come from no host: the tap sees
 *    them with from = -1 (no SENT event, only DELIVERED or LOST) and no
 *    direction counts them.
 *  - A datagram the bottleneck's full queue drops counts as `queue_drops`
 *    and as `lost` (the tap sees SYNACK_SIM_LOST), so the balance above
 *    still holds.
 *
 * The bottleneck (rate_bps > 0) sits between the loss draw and the
 * propagation delay, like a router's output port: a datagram that survives
 * the loss draw starts its transmission when the link is free, at
 * max(now, busy_until), and its last bit leaves len * 8 / rate_bps seconds
 * later; delay, jitter, reordering and duplication then apply from that
 * instant, so a duplicate never occupies the link.  busy_until is kept as
 * whole microseconds plus a remainder in units of 1 / rate_bps microseconds,
 * so the long-run rate is exact however the lengths and the rate divide; a
 * datagram is handed over at the first whole microsecond at or after its
 * last bit left.  The queue holds the datagrams accepted whose transmission
 * has not started yet (as Linux's tbf and netem count their backlog; the one
 * being sent is not in it): a datagram that would find queue_pkts already
 * waiting is dropped.  Their start times, rounded up to whole microseconds,
 * wait in a per-direction ring that grows by doubling up to the most ever
 * waiting, so the queue costs no allocation per datagram.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "synack/sim.h"
#include "core/rng.h"

#define SIM_MAX_DATAGRAM 65535u

/* One direction from -> to: its impairments, generator, bottleneck and
 * counters. */
struct sim_link {
	int to;
	struct synack_sim_path path;
	struct rng rng;
	struct synack_sim_counters c;

	/* The bottleneck is busy until busy_us + busy_frac / rate_bps
	 * microseconds; busy_frac < path.rate_bps. */
	uint64_t busy_us, busy_frac;
	/* Start times (rounded up) of the datagrams waiting for the link, in
	 * sending order: a ring of capacity cap (a power of two). */
	uint64_t *waiting;
	size_t head, nwaiting, cap;
};

struct sim_host {
	struct synack_stack *st;
	char *name;
	uint32_t addr;
	int down;
	int advanced;         /* advanced_to is valid */
	uint64_t advanced_to; /* time of the last synack_advance we made */
	/* Outgoing directions, created on first use, sorted by `to`.  Each is
	 * its own allocation so pointers survive a tap or filter that sets up
	 * another direction. */
	struct sim_link **links;
	size_t nlinks, caplinks;
};

/* A datagram on its way: owned bytes and where and when it goes. */
struct sim_pkt {
	uint64_t at;
	uint64_t seq; /* insertion order, breaks ties between equal times */
	int from;     /* -1 when injected */
	int to;
	size_t len;
	uint8_t *data;
};

/* Host index by address, for routing by binary search. */
struct sim_route {
	uint32_t addr;
	int host;
};

struct synack_sim {
	uint64_t seed;
	uint64_t now;
	uint64_t next_seq;

	struct sim_host *hosts;
	size_t nhosts, caphosts;
	struct sim_route *routes; /* sorted by addr, nhosts entries */

	struct sim_pkt *heap; /* binary min-heap by (at, seq) */
	size_t nheap, capheap;

	synack_sim_filter_fn filter;
	void *filter_ctx;
	synack_sim_tap_fn tap;
	void *tap_ctx;

	uint8_t *buf; /* one datagram drained from an outbox */
};

/* ------------------------------------------------------------------ */
/* Pending deliveries: a binary heap.                                  */

static int pkt_before(const struct sim_pkt *a, const struct sim_pkt *b)
{
	if (a->at != b->at)
		return a->at < b->at;
	return a->seq < b->seq;
}

static void heap_swap(struct sim_pkt *a, struct sim_pkt *b)
{
	struct sim_pkt t = *a;
	*a = *b;
	*b = t;
}

/* Takes ownership of data on success; returns -ENOMEM and leaves it to the
 * caller otherwise. */
static int heap_push(struct synack_sim *sim, uint64_t at, int from, int to, uint8_t *data,
                     size_t len)
{
	if (sim->nheap == sim->capheap) {
		size_t cap = sim->capheap ? sim->capheap * 2 : 64;
		struct sim_pkt *h = realloc(sim->heap, cap * sizeof(*h));
		if (!h)
			return -ENOMEM;
		sim->heap = h;
		sim->capheap = cap;
	}
	size_t i = sim->nheap++;
	sim->heap[i] = (struct sim_pkt){
	    .at = at, .seq = sim->next_seq++, .from = from, .to = to, .len = len, .data = data};
	while (i > 0) {
		size_t parent = (i - 1) / 2;
		if (!pkt_before(&sim->heap[i], &sim->heap[parent]))
			break;
		heap_swap(&sim->heap[i], &sim->heap[parent]);
		i = parent;
	}
	return 0;
}

static struct sim_pkt heap_pop(struct synack_sim *sim)
{
	struct sim_pkt top = sim->heap[0];
	sim->heap[0] = sim->heap[--sim->nheap];
	size_t i = 0;
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < sim->nheap && pkt_before(&sim->heap[l], &sim->heap[m]))
			m = l;
		if (r < sim->nheap && pkt_before(&sim->heap[r], &sim->heap[m]))
			m = r;
		if (m == i)
			break;
		heap_swap(&sim->heap[i], &sim->heap[m]);
		i = m;
	}
	return top;
}

/* ------------------------------------------------------------------ */
/* Hosts and directions.                                               */

static int host_ok(const struct synack_sim *sim, int host)
{
	return sim && host >= 0 && (size_t)host < sim->nhosts;
}

/* splitmix64's finaliser: spreads the (from, to) pair over all 64 bits. */
static uint64_t mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

static struct sim_link *link_find(const struct sim_host *h, int to)
{
	size_t lo = 0, hi = h->nlinks;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (h->links[mid]->to == to)
			return h->links[mid];
		if (h->links[mid]->to < to)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/*
 * The direction from -> to, created with no impairments on first use.  Its
 * generator depends only on the seed and the pair, so when a direction is
 * created does not matter.  Returns NULL when out of memory.
 */
static struct sim_link *link_get(struct synack_sim *sim, int from, int to)
{
	struct sim_host *h = &sim->hosts[from];
	struct sim_link *l = link_find(h, to);
	if (l)
		return l;
	if (h->nlinks == h->caplinks) {
		size_t cap = h->caplinks ? h->caplinks * 2 : 4;
		struct sim_link **links = realloc(h->links, cap * sizeof(*links));
		if (!links)
			return NULL;
		h->links = links;
		h->caplinks = cap;
	}
	l = calloc(1, sizeof(*l));
	if (!l)
		return NULL;
	l->to = to;
	size_t i = h->nlinks;
	while (i > 0 && h->links[i - 1]->to > to)
		i--;
	memmove(&h->links[i + 1], &h->links[i], (h->nlinks - i) * sizeof(*h->links));
	h->links[i] = l;
	h->nlinks++;
	uint64_t pair = ((uint64_t)(uint32_t)from << 32) | (uint32_t)to;
	rng_seed(&l->rng, sim->seed ^ mix64(pair + 0x9e3779b97f4a7c15ULL));
	return l;
}

static int route_find(const struct synack_sim *sim, uint32_t addr)
{
	size_t lo = 0, hi = sim->nhosts;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (sim->routes[mid].addr == addr)
			return sim->routes[mid].host;
		if (sim->routes[mid].addr < addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

struct synack_sim *synack_sim_new(uint64_t seed)
{
	struct synack_sim *sim = calloc(1, sizeof(*sim));
	if (!sim)
		return NULL;
	sim->buf = malloc(SIM_MAX_DATAGRAM);
	if (!sim->buf) {
		free(sim);
		return NULL;
	}
	sim->seed = seed;
	return sim;
}

void synack_sim_free(struct synack_sim *sim)
{
	if (!sim)
		return;
	for (size_t i = 0; i < sim->nheap; i++)
		free(sim->heap[i].data);
	free(sim->heap);
	for (size_t i = 0; i < sim->nhosts; i++) {
		free(sim->hosts[i].name);
		for (size_t j = 0; j < sim->hosts[i].nlinks; j++) {
			free(sim->hosts[i].links[j]->waiting);
			free(sim->hosts[i].links[j]);
		}
		free(sim->hosts[i].links);
	}
	free(sim->hosts);
	free(sim->routes);
	free(sim->buf);
	free(sim);
}

int synack_sim_add_host(struct synack_sim *sim, struct synack_stack *st, const char *name)
{
	if (!sim || !st || sim->nhosts >= (size_t)(INT32_MAX - 1))
		return -EINVAL;
	uint32_t addr = synack_stack_addr(st);
	if (route_find(sim, addr) >= 0)
		return -EEXIST;
	int index = (int)sim->nhosts;

	/* A host without a name is called after its index. */
	char fallback[24];
	if (!name) {
		unsigned n = (unsigned)index, i = sizeof(fallback) - 1;
		fallback[i] = '\0';
		do {
			fallback[--i] = (char)('0' + n % 10);
			n /= 10;
		} while (n);
		memcpy(&fallback[i - 4], "host", 4);
		name = &fallback[i - 4];
	}
	size_t namelen = strlen(name);
	char *copy = malloc(namelen + 1);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, name, namelen + 1);

	if (sim->nhosts == sim->caphosts) {
		size_t cap = sim->caphosts ? sim->caphosts * 2 : 4;
		struct sim_host *hosts = realloc(sim->hosts, cap * sizeof(*hosts));
		if (!hosts) {
			free(copy);
			return -ENOMEM;
		}
		sim->hosts = hosts;
		struct sim_route *routes = realloc(sim->routes, cap * sizeof(*routes));
		if (!routes) {
			free(copy);
			return -ENOMEM;
		}
		sim->routes = routes;
		sim->caphosts = cap;
	}
	sim->hosts[index] = (struct sim_host){.st = st, .name = copy, .addr = addr};

	size_t i = sim->nhosts;
	while (i > 0 && sim->routes[i - 1].addr > addr)
		i--;
	memmove(&sim->routes[i + 1], &sim->routes[i], (sim->nhosts - i) * sizeof(*sim->routes));
	sim->routes[i] = (struct sim_route){.addr = addr, .host = index};
	sim->nhosts++;
	return index;
}

struct synack_stack *synack_sim_stack(struct synack_sim *sim, int host)
{
	return host_ok(sim, host) ? sim->hosts[host].st : NULL;
}

const char *synack_sim_host_name(struct synack_sim *sim, int host)
{
	return host_ok(sim, host) ? sim->hosts[host].name : NULL;
}

int synack_sim_host_by_addr(struct synack_sim *sim, uint32_t addr)
{
	return sim ? route_find(sim, addr) : -1;
}

static int prob_ok(double p)
{
	return p >= 0.0 && p <= 1.0; /* false for NaN too */
}

int synack_sim_set_path(struct synack_sim *sim, int from, int to, const struct synack_sim_path *p)
{
	if (!host_ok(sim, from) || !host_ok(sim, to) || !p)
		return -EINVAL;
	if (!prob_ok(p->loss) || !prob_ok(p->dup) || !prob_ok(p->reorder) || !prob_ok(p->corrupt))
		return -EINVAL;
	struct sim_link *l = link_get(sim, from, to);
	if (!l)
		return -ENOMEM;
	/* A remainder counts in units of the old rate: a new rate starts from
	 * the next whole microsecond, which delays the queued datagrams by
	 * less than a microsecond and keeps busy_frac below the rate. */
	if (p->rate_bps != l->path.rate_bps && l->busy_frac) {
		l->busy_us++;
		l->busy_frac = 0;
	}
	l->path = *p;
	return 0;
}

int synack_sim_set_down(struct synack_sim *sim, int host, int down)
{
	if (!host_ok(sim, host))
		return -EINVAL;
	sim->hosts[host].down = down != 0;
	return 0;
}

void synack_sim_set_filter(struct synack_sim *sim, synack_sim_filter_fn fn, void *ctx)
{
	if (!sim)
		return;
	sim->filter = fn;
	sim->filter_ctx = ctx;
}

void synack_sim_set_tap(struct synack_sim *sim, synack_sim_tap_fn fn, void *ctx)
{
	if (!sim)
		return;
	sim->tap = fn;
	sim->tap_ctx = ctx;
}

static void tap(struct synack_sim *sim, int event, int from, int to, const uint8_t *pkt, size_t len)
{
	if (sim->tap)
		sim->tap(sim->tap_ctx, event, from, to, pkt, len, sim->now);
}

/* ------------------------------------------------------------------ */
/* Sending: what happens to a datagram as it leaves a host.            */

static uint8_t *copy_bytes(const uint8_t *pkt, size_t len)
{
	uint8_t *p = malloc(len);
	if (p)
		memcpy(p, pkt, len);
	return p;
}

/* Queues a copy of pkt; when memory runs out the datagram is lost, which
 * is what a real link does too. */
static void enqueue_copy(struct synack_sim *sim, struct sim_link *l, int from, int to,
                         const uint8_t *pkt, size_t len, uint64_t at)
{
	uint8_t *p = copy_bytes(pkt, len);
	if (p && heap_push(sim, at, from, to, p, len) == 0)
		return;
	free(p);
	l->c.lost++;
	tap(sim, SYNACK_SIM_LOST, from, to, pkt, len);
}

static uint64_t reorder_hold(const struct synack_sim_path *p)
{
	if (p->reorder_us)
		return p->reorder_us;
	return 2 * (uint64_t)p->delay_us + 1000;
}

/* ------------------------------------------------------------------ */
/* The bottleneck.                                                     */

/* Forgets the waiting datagrams whose transmission has started by now. */
static void queue_expire(struct sim_link *l, uint64_t now)
{
	while (l->nwaiting && l->waiting[l->head] <= now) {
		l->head = (l->head + 1) & (l->cap - 1);
		l->nwaiting--;
	}
}

static int queue_push(struct sim_link *l, uint64_t start)
{
	if (l->nwaiting == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		uint64_t *w = malloc(cap * sizeof(*w));
		if (!w)
			return -ENOMEM;
		/* Unwrap the ring into the new one. */
		for (size_t i = 0; i < l->nwaiting; i++)
			w[i] = l->waiting[(l->head + i) & (l->cap - 1)];
		free(l->waiting);
		l->waiting = w;
		l->head = 0;
		l->cap = cap;
	}
	l->waiting[(l->head + l->nwaiting) & (l->cap - 1)] = start;
	l->nwaiting++;
	return 0;
}

/*
 * Puts a datagram of len bytes on the bottleneck of l at sim->now.  Sets
 * *done to the whole microsecond at or after its last bit leaves and returns
 * 0, or returns -ENOBUFS when the queue is full and -ENOMEM when the queue
 * cannot grow; either way the datagram is not sent and the link's state is
 * unchanged.  Without a rate the link is infinitely fast: *done = now.
 */
static int bottleneck(struct sim_link *l, uint64_t now, size_t len, uint64_t *done)
{
	uint64_t rate = l->path.rate_bps;
	*done = now;
	if (!rate)
		return 0;
	queue_expire(l, now);

	/* Starts at max(now, busy_until), exactly. */
	uint64_t start_us = now, start_frac = 0;
	if (l->busy_us > now || (l->busy_us == now && l->busy_frac)) {
		start_us = l->busy_us;
		start_frac = l->busy_frac;
	}
	int waits = start_us > now || start_frac;
	if (waits) {
		if (l->path.queue_pkts && l->nwaiting >= l->path.queue_pkts)
			return -ENOBUFS;
		if (queue_push(l, start_us + (start_frac != 0)) != 0)
			return -ENOMEM;
		if (l->nwaiting > l->c.queue_max)
			l->c.queue_max = (uint32_t)l->nwaiting;
	}

	/* len * 8 bits take len * 8 * 10^6 / rate microseconds; the product
	 * stays below 2^39 for any datagram, and the remainder is carried
	 * without ever adding two values near the rate. */
	uint64_t bit_us = (uint64_t)len * 8 * 1000000u;
	uint64_t q = bit_us / rate, r = bit_us % rate;
	uint64_t end_us = start_us + q, end_frac;
	if (start_frac >= rate - r) {
		end_us++;
		end_frac = start_frac - (rate - r);
	} else {
		end_frac = start_frac + r;
	}
	l->busy_us = end_us;
	l->busy_frac = end_frac;
	*done = end_us + (end_frac != 0);
	return 0;
}

/* The bottleneck dropped a datagram (full queue) or could not hold it. */
static void bottleneck_drop(struct synack_sim *sim, struct sim_link *l, int err, int from, int to,
                            const uint8_t *pkt, size_t len)
{
	if (err == -ENOBUFS)
		l->c.queue_drops++;
	l->c.lost++;
	tap(sim, SYNACK_SIM_LOST, from, to, pkt, len);
}

/* pkt is the simulator's scratch buffer; it may be modified. */
static void route(struct synack_sim *sim, int from, uint8_t *pkt, size_t len)
{
	/* A datagram too short for an IPv4 header has no destination. */
	int to = len >= 20 ? route_find(sim, ((uint32_t)pkt[16] << 24) | ((uint32_t)pkt[17] << 16) |
	                                         ((uint32_t)pkt[18] << 8) | pkt[19])
	                   : -1;
	struct sim_link *l = link_get(sim, from, to >= 0 ? to : from);
	if (!l) {
		/* Out of memory for the direction's bookkeeping: lost, uncounted. */
		tap(sim, SYNACK_SIM_SENT, from, to, pkt, len);
		tap(sim, SYNACK_SIM_LOST, from, to, pkt, len);
		return;
	}
	l->c.sent++;
	tap(sim, SYNACK_SIM_SENT, from, to, pkt, len);
	if (to < 0) {
		l->c.no_route++;
		tap(sim, SYNACK_SIM_LOST, from, to, pkt, len);
		return;
	}
	if (sim->hosts[from].down || sim->hosts[to].down) {
		l->c.lost++;
		tap(sim, SYNACK_SIM_LOST, from, to, pkt, len);
		return;
	}

	if (sim->filter) {
		uint32_t extra = 0;
		int verdict = sim->filter(sim->filter_ctx, from, to, pkt, len, sim->now, &extra);
		if (verdict == SYNACK_SIM_DROP) {
			l->c.filtered++;
			tap(sim, SYNACK_SIM_LOST, from, to, pkt, len);
			return;
		}
		if (verdict == SYNACK_SIM_DELAY) {
			/* No random impairment, but the link's capacity is no
			 * impairment: the datagram crosses the bottleneck. */
			uint64_t done;
			int err = bottleneck(l, sim->now, len, &done);
			if (err) {
				bottleneck_drop(sim, l, err, from, to, pkt, len);
				return;
			}
			enqueue_copy(sim, l, from, to, pkt, len, done + l->path.delay_us + extra);
			return;
		}
		/* Anything else passes. */
	}

	/* The impairments, always drawn in this order so a seed replays. */
	const struct synack_sim_path *p = &l->path;
	if (rng_chance(&l->rng, p->loss)) {
		l->c.lost++;
		tap(sim, SYNACK_SIM_LOST, from, to, pkt, len);
		return;
	}
	/* The bottleneck draws nothing, so without a rate the draws (and so
	 * every seed's behaviour) are what they were before it existed. */
	uint64_t done;
	int err = bottleneck(l, sim->now, len, &done);
	if (err) {
		bottleneck_drop(sim, l, err, from, to, pkt, len);
		return;
	}
	if (rng_chance(&l->rng, p->corrupt)) {
		uint64_t bit = rng_below(&l->rng, (uint64_t)len * 8);
		pkt[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		l->c.corrupted++;
	}
	uint64_t delay = p->delay_us;
	if (p->jitter_us)
		delay += rng_below(&l->rng, (uint64_t)p->jitter_us + 1);
	if (rng_chance(&l->rng, p->reorder)) {
		delay += reorder_hold(p);
		l->c.reordered++;
	}
	int dup = rng_chance(&l->rng, p->dup);
	enqueue_copy(sim, l, from, to, pkt, len, done + delay);
	if (dup) {
		l->c.duplicated++;
		enqueue_copy(sim, l, from, to, pkt, len, done + delay + 1);
	}
}

void synack_sim_flush(struct synack_sim *sim)
{
	if (!sim)
		return;
	/* Index-based: a tap or filter may not add hosts, but be safe anyway. */
	for (size_t i = 0; i < sim->nhosts; i++) {
		for (;;) {
			ssize_t n = synack_output(sim->hosts[i].st, sim->buf, SIM_MAX_DATAGRAM);
			if (n <= 0)
				break; /* empty, or -EMSGSIZE which 64 KiB rules out */
			route(sim, (int)i, sim->buf, (size_t)n);
		}
	}
}

int synack_sim_inject(struct synack_sim *sim, int to, const void *pkt, size_t len, uint64_t at)
{
	if (!host_ok(sim, to) || !pkt || len == 0 || len > SIM_MAX_DATAGRAM || at < sim->now)
		return -EINVAL;
	uint8_t *p = copy_bytes(pkt, len);
	if (!p)
		return -ENOMEM;
	if (heap_push(sim, at, -1, to, p, len) != 0) {
		free(p);
		return -ENOMEM;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Time.                                                               */

uint64_t synack_sim_now(const struct synack_sim *sim)
{
	return sim ? sim->now : 0;
}

/*
 * When a host wants to run next.  A deadline at or before the time we last
 * advanced the host to was already given its chance (a stack that leaves one
 * behind would otherwise pin the clock forever), so it counts as due one
 * microsecond later.  Deadlines in the past count as now.
 */
static uint64_t host_due(const struct synack_sim *sim, const struct sim_host *h)
{
	uint64_t d = synack_next_deadline(h->st);
	if (d == SYNACK_NEVER)
		return d;
	if (h->advanced && d <= h->advanced_to)
		d = h->advanced_to + 1;
	return d < sim->now ? sim->now : d;
}

uint64_t synack_sim_next_event(const struct synack_sim *sim)
{
	if (!sim)
		return SYNACK_NEVER;
	uint64_t t = SYNACK_NEVER;
	if (sim->nheap)
		t = sim->heap[0].at;
	for (size_t i = 0; i < sim->nhosts; i++) {
		uint64_t d = host_due(sim, &sim->hosts[i]);
		if (d < t)
			t = d;
	}
	return t;
}

static void advance_all(struct synack_sim *sim, uint64_t t)
{
	for (size_t i = 0; i < sim->nhosts; i++) {
		synack_advance(sim->hosts[i].st, t);
		sim->hosts[i].advanced = 1;
		sim->hosts[i].advanced_to = t;
	}
}

static void deliver(struct synack_sim *sim, struct sim_pkt *p)
{
	struct sim_link *l = p->from >= 0 ? link_find(&sim->hosts[p->from], p->to) : NULL;
	if (sim->hosts[p->to].down) {
		if (l)
			l->c.lost++;
		tap(sim, SYNACK_SIM_LOST, p->from, p->to, p->data, p->len);
		return;
	}
	if (l)
		l->c.delivered++;
	tap(sim, SYNACK_SIM_DELIVERED, p->from, p->to, p->data, p->len);
	/* The return value is the stack's drop reason, which it counts itself. */
	(void)synack_input(sim->hosts[p->to].st, sim->now, p->data, p->len);
}

uint64_t synack_sim_step(struct synack_sim *sim)
{
	if (!sim)
		return SYNACK_NEVER;
	synack_sim_flush(sim);
	uint64_t t = synack_sim_next_event(sim);
	if (t == SYNACK_NEVER)
		return SYNACK_NEVER;
	sim->now = t;
	/* Datagrams queued by these deliveries go after the ones already due. */
	while (sim->nheap && sim->heap[0].at <= t) {
		struct sim_pkt p = heap_pop(sim);
		deliver(sim, &p);
		free(p.data);
	}
	/* Every host sees every instant the clock stops at; stacks with
	 * nothing due at t simply note the time. */
	advance_all(sim, t);
	synack_sim_flush(sim);
	return t;
}

void synack_sim_run_until(struct synack_sim *sim, uint64_t t)
{
	if (!sim)
		return;
	synack_sim_flush(sim);
	while (synack_sim_next_event(sim) <= t) {
		if (synack_sim_step(sim) == SYNACK_NEVER)
			break;
	}
	if (t >= sim->now && t != SYNACK_NEVER) {
		sim->now = t;
		advance_all(sim, t);
	}
	synack_sim_flush(sim);
}

void synack_sim_counters(const struct synack_sim *sim, int from, int to,
                         struct synack_sim_counters *out)
{
	if (!out)
		return;
	memset(out, 0, sizeof(*out));
	if (!host_ok(sim, from) || !host_ok(sim, to))
		return;
	const struct sim_link *l = link_find(&sim->hosts[from], to);
	if (l)
		*out = l->c;
}
