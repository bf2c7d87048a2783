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
 * Cost per step.  A step touches only the hosts that have something to do:
 * those a datagram was delivered to and those whose timer is due.  The
 * simulator keeps each host's next deadline (as of the last call it made
 * into that host) in a min-heap of hosts, and a set of the hosts it called
 * into since it last moved their output; the datagrams due in order of
 * queueing sit in a FIFO beside the heap, which keeps only those queued
 * out of time order (delays that differ between datagrams).  Between the
 * public calls the application may call any stack, so each public call
 * starts by moving every host's output and reading every host's deadline,
 * and ends with every host advanced to the new time: a public call costs
 * O(hosts) once, the steps inside synack_sim_run_until do not.
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
 * What happens to a datagram on a path (the impairments and the
 * bottleneck) is decided by src/link/impair.c, the model the real links use
 * too; this file routes, queues the deliveries by time and counts the rest.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "synack/sim.h"
#include "core/heap.h"
#include "core/mem.h"
#include "link/impair.h"

#define SIM_MAX_DATAGRAM 65535u
/* A host's output is moved onto the paths once this many datagrams wait in
 * its outbox, in the middle of a step's deliveries too: a driver's poll
 * hands its work on every 64 frames (NAPI's weight, RUN_WEIGHT in
 * src/run/loop.c), and a burst of more arrivals in one step than the
 * outbox holds (outbox_max) would otherwise drop the excess answers. */
#define SIM_DRAIN_WEIGHT 64

/*
 * A datagram a host sends travels in the buffer its stack built it in
 * (synack_output_take).  Copies (a duplicate, an injected datagram) take
 * buffers from two pools of fixed sizes (a bare segment and an
 * MTU-sized one) kept on free lists, so a datagram on its way costs no
 * malloc and free once the pools have grown to the most ever in flight;
 * larger datagrams are allocated one by one.  The class of a buffer follows
 * from the datagram's length, which never changes on the way.
 *
 * A host's own buffer is lent to the stack it is delivered to (deliver):
 * in-order text stays in it until the application reads it, the buffer
 * becomes the receiver's, and the sender's pool gets one back from the
 * receiver's read-out blocks (synack_block_spare, synack_output_give).
 * All of them are plain malloc() blocks, so either stack may be freed
 * while the other holds some.
 */
#define SIM_POOL_CLASSES 2
static const size_t sim_pool_size[SIM_POOL_CLASSES] = {256, 2048};

struct sim_free {
	struct sim_free *next;
};

/* One direction from -> to: its impairments, generator, bottleneck and
 * counters. */
struct sim_link {
	int to;
	struct impair im;
};

#define SIM_NO_POS UINT32_MAX

struct sim_host {
	struct synack_stack *st;
	char *name;
	uint32_t addr;
	int down;
	int advanced;         /* advanced_to is valid */
	uint64_t advanced_to; /* time of the last synack_advance we made */
	/* When the host wants to run (host_due() without the clamp to now),
	 * as of the last call we made into it, and its place in sim->hq. */
	uint64_t due;
	uint32_t hpos;
	/* Outgoing directions, created on first use, sorted by `to`.  Each is
	 * its own allocation so pointers survive a tap or filter that sets up
	 * another direction. */
	struct sim_link **links;
	size_t nlinks, caplinks;
	struct sim_link *last_link; /* the direction used last, found first */
	/* The size of the stack's datagram blocks (synack_output_block_size):
	 * only a datagram of at least half of it is lent (deliver). */
	size_t lend_size;
};

/* A datagram on its way: owned bytes and where and when it goes. */
struct sim_pkt {
	uint64_t at;
	uint64_t seq; /* insertion order, breaks ties between equal times */
	int from;     /* -1 when injected */
	int to;
	size_t len;
	uint8_t *data;
	/* data is the buffer host `from` built the datagram in
	 * (synack_output_take), given back to it when the datagram is done
	 * with; else one of the pools' (a copy). */
	uint8_t taken;
	/* Handed over as known good (synack_sim_set_csum_trust): a host's,
	 * not corrupted on the way. */
	uint8_t trusted;
};

/* IPv6 (issue 14): a host's IPv6 address, kept apart from struct sim_host
 * so the IPv4 path's hosts stay as they were. */
struct sim_route6 {
	uint8_t addr6[16];
	int host;
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
	struct sim_route *routes;   /* sorted by addr, nhosts entries */
	struct sim_route6 *routes6; /* hosts with an IPv6 address, in the order added */
	size_t nroutes6;

	struct heap heap; /* of struct sim_pkt, a min-heap by (at, seq) */
	/* Datagrams queued in order of delivery time (each no earlier than the
	 * one before): a ring, oldest first.  Only the others go to the heap. */
	struct sim_pkt *fifo;
	size_t fifo_head, nfifo, capfifo;

	/* Hosts with a deadline, a binary min-heap by due. */
	uint32_t *hq;
	size_t nhq;
	/* Bit i: we called into host i since we last moved its output and
	 * read its deadline. */
	uint64_t *dirty;

	synack_sim_filter_fn filter;
	void *filter_ctx;
	synack_sim_tap_fn tap;
	void *tap_ctx;

	/* The destination routed last: most datagrams follow the one before. */
	uint32_t last_addr;
	int last_host; /* -1 when none */

	struct sim_free *pool[SIM_POOL_CLASSES];

	int csum_trust; /* synack_sim_set_csum_trust */
};

static int pool_class(size_t len)
{
	for (int c = 0; c < SIM_POOL_CLASSES; c++)
		if (len <= sim_pool_size[c])
			return c;
	return -1;
}

static uint8_t *pkt_alloc(struct synack_sim *sim, size_t len)
{
	int c = pool_class(len);
	if (c < 0)
		return malloc(len);
	struct sim_free *f = sim->pool[c];
	if (f) {
		sim->pool[c] = f->next;
		return (uint8_t *)f;
	}
	return malloc(sim_pool_size[c]);
}

static void pkt_release(struct synack_sim *sim, uint8_t *data, size_t len)
{
	int c = pool_class(len);
	if (!data)
		return;
	if (c < 0) {
		free(data);
		return;
	}
	struct sim_free *f = (struct sim_free *)(void *)data;
	f->next = sim->pool[c];
	sim->pool[c] = f;
}

/* A queued datagram is done with: its buffer goes back where it came from. */
static void pkt_done(struct synack_sim *sim, const struct sim_pkt *p)
{
	if (!p->data) /* kept by the stack it was delivered to */
		return;
	if (p->taken)
		synack_output_done(sim->hosts[p->from].st, p->data);
	else
		pkt_release(sim, p->data, p->len);
}

/* ------------------------------------------------------------------ */
/* Pending deliveries: a binary heap.                                  */

static int pkt_before(const struct sim_pkt *a, const struct sim_pkt *b)
{
	if (a->at != b->at)
		return a->at < b->at;
	return a->seq < b->seq;
}

static int heap_pkt_before(const void *a, const void *b, void *ctx)
{
	(void)ctx;
	return pkt_before(a, b);
}

static const struct heap_ops pkt_heap_ops = {
    .size = sizeof(struct sim_pkt),
    .before = heap_pkt_before,
    .placed = NULL,
};

static const struct sim_pkt *heap_top(const struct synack_sim *sim)
{
	return heap_first(&sim->heap);
}

/* Takes ownership of p's data on success (p gets its sequence number);
 * returns -ENOMEM and leaves it to the caller otherwise. */
static int heap_queue(struct synack_sim *sim, struct sim_pkt *p)
{
	if (heap_reserve(&sim->heap, sizeof(struct sim_pkt), 64, SIZE_MAX) != 0)
		return -ENOMEM;
	p->seq = sim->next_seq++;
	heap_push(&sim->heap, p, &pkt_heap_ops, NULL);
	return 0;
}

/* The FIFO beside the heap. */
static struct sim_pkt *fifo_at(struct synack_sim *sim, size_t k)
{
	size_t i = sim->fifo_head + k;
	if (i >= sim->capfifo)
		i -= sim->capfifo;
	return &sim->fifo[i];
}

static int fifo_grow(struct synack_sim *sim)
{
	size_t cap = sim->capfifo ? sim->capfifo * 2 : 64;
	struct sim_pkt *f = malloc(cap * sizeof(*f));
	if (!f)
		return -ENOMEM;
	for (size_t k = 0; k < sim->nfifo; k++)
		f[k] = *fifo_at(sim, k);
	free(sim->fifo);
	sim->fifo = f;
	sim->capfifo = cap;
	sim->fifo_head = 0;
	return 0;
}

/*
 * Queues a datagram: at the FIFO's tail when it is due no earlier than the
 * datagram there (the usual case: equal delays), else in the heap.  Either
 * way it takes the next sequence number, so the order of delivery is the
 * one a single heap would give.  Takes ownership of data on success (taken,
 * trusted: struct sim_pkt's).
 */
static int pkt_queue(struct synack_sim *sim, uint64_t at, int from, int to, uint8_t *data,
                     size_t len, int taken, int trusted)
{
	if (sim->nfifo == 0 || fifo_at(sim, sim->nfifo - 1)->at <= at) {
		if (sim->nfifo == sim->capfifo && fifo_grow(sim) < 0)
			return -ENOMEM;
		/* Field by field into the slot: a struct built on the stack
		 * and copied whole is read back in 16-byte pieces just after
		 * its 1- and 4-byte fields were written, which stalls the
		 * CPU's store-to-load forwarding (5 % of an in-memory bulk
		 * transfer's time, perf). */
		struct sim_pkt *q = fifo_at(sim, sim->nfifo);
		q->at = at;
		q->seq = sim->next_seq++;
		q->from = from;
		q->to = to;
		q->len = len;
		q->data = data;
		q->taken = (uint8_t)taken;
		q->trusted = (uint8_t)trusted;
		sim->nfifo++;
		return 0;
	}
	struct sim_pkt p = {.at = at,
	                    .from = from,
	                    .to = to,
	                    .len = len,
	                    .data = data,
	                    .taken = (uint8_t)taken,
	                    .trusted = (uint8_t)trusted};
	return heap_queue(sim, &p);
}

/* The earliest queued datagram, or NULL. */
static const struct sim_pkt *pkt_first(const struct synack_sim *sim)
{
	const struct sim_pkt *f = sim->nfifo ? &sim->fifo[sim->fifo_head] : NULL;
	const struct sim_pkt *h = heap_top(sim);
	if (!f)
		return h;
	if (!h)
		return f;
	return pkt_before(h, f) ? h : f;
}

/* Removes and returns the earliest queued datagram (there is one). */
static struct sim_pkt pkt_take(struct synack_sim *sim)
{
	const struct sim_pkt *h = heap_top(sim);
	if (sim->nfifo && (!h || !pkt_before(h, &sim->fifo[sim->fifo_head]))) {
		struct sim_pkt p = sim->fifo[sim->fifo_head];
		if (++sim->fifo_head == sim->capfifo)
			sim->fifo_head = 0;
		sim->nfifo--;
		return p;
	}
	struct sim_pkt p;
	heap_pop(&sim->heap, &p, &pkt_heap_ops, NULL);
	return p;
}

/* ------------------------------------------------------------------ */
/* Hosts by deadline.                                                  */

static int hq_before(const void *a, const void *b, void *ctx)
{
	const struct synack_sim *sim = ctx;
	return sim->hosts[*(const uint32_t *)a].due < sim->hosts[*(const uint32_t *)b].due;
}

/* Each host knows its place in the heap, to move it when its due changes. */
static void hq_placed(void *elem, size_t i, void *ctx)
{
	struct synack_sim *sim = ctx;
	sim->hosts[*(uint32_t *)elem].hpos = (uint32_t)i;
}

static const struct heap_ops hq_ops = {
    .size = sizeof(uint32_t),
    .before = hq_before,
    .placed = hq_placed,
};

/* Puts host i where its (new) due says: out of the heap when it has no
 * deadline.  sim->hq has room for every host. */
static void hq_update(struct synack_sim *sim, uint32_t i)
{
	struct sim_host *h = &sim->hosts[i];
	if (h->hpos == SIM_NO_POS) {
		if (h->due == SYNACK_NEVER)
			return;
		heap_append(sim->hq, sim->nhq++, &i, &hq_ops, sim);
		return;
	}
	if (h->due != SYNACK_NEVER) {
		heap_fix(sim->hq, sim->nhq, h->hpos, &hq_ops, sim);
		return;
	}
	size_t pos = h->hpos;
	heap_remove_at(sim->hq, sim->nhq--, pos, NULL, &hq_ops, sim);
	h->hpos = SIM_NO_POS;
}

static void mark_dirty(struct synack_sim *sim, size_t i)
{
	sim->dirty[i / 64] |= 1ull << (i % 64);
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

static struct sim_link *link_search(const struct sim_host *h, int to)
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

static struct sim_link *link_find(struct sim_host *h, int to)
{
	if (h->last_link && h->last_link->to == to)
		return h->last_link;
	struct sim_link *l = link_search(h, to);
	if (l)
		h->last_link = l;
	return l;
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
	l = malloc(sizeof(*l));
	if (!l)
		return NULL;
	uint64_t pair = ((uint64_t)(uint32_t)from << 32) | (uint32_t)to;
	impair_init(&l->im, sim->seed ^ mix64(pair + 0x9e3779b97f4a7c15ULL));
	l->to = to;
	size_t i = h->nlinks;
	while (i > 0 && h->links[i - 1]->to > to)
		i--;
	memmove(&h->links[i + 1], &h->links[i], (h->nlinks - i) * sizeof(*h->links));
	h->links[i] = l;
	h->nlinks++;
	return l;
}

static int route_search(const struct synack_sim *sim, uint32_t addr)
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

/* The host owning an IPv6 address (16 bytes), or -1: a scan, since a
 * simulation has a handful of hosts and IPv6 is new to it (issue 14). */
static int route_search6(const struct synack_sim *sim, const uint8_t *addr6)
{
	for (size_t i = 0; i < sim->nroutes6; i++)
		if (memcmp(sim->routes6[i].addr6, addr6, 16) == 0)
			return sim->routes6[i].host;
	return -1;
}

static int route_find(struct synack_sim *sim, uint32_t addr)
{
	if (sim->last_host >= 0 && sim->last_addr == addr)
		return sim->last_host;
	int host = route_search(sim, addr);
	if (host >= 0) {
		sim->last_addr = addr;
		sim->last_host = host;
	}
	return host;
}

struct synack_sim *synack_sim_new(uint64_t seed)
{
	struct synack_sim *sim = calloc(1, sizeof(*sim));
	if (!sim)
		return NULL;
	sim->seed = seed;
	sim->last_host = -1;
	return sim;
}

/* A datagram still queued when the simulator goes: a buffer of a stack
 * is only freed (the stack may be gone already). */
static void sim_free_pkt(struct synack_sim *sim, const struct sim_pkt *p)
{
	if (p->taken)
		synack_output_done(NULL, p->data);
	else
		pkt_release(sim, p->data, p->len);
}

void synack_sim_free(struct synack_sim *sim)
{
	if (!sim)
		return;
	struct sim_pkt *held = sim->heap.v;
	for (size_t i = 0; i < sim->heap.len; i++)
		sim_free_pkt(sim, &held[i]);
	heap_fini(&sim->heap);
	for (size_t k = 0; k < sim->nfifo; k++)
		sim_free_pkt(sim, fifo_at(sim, k));
	free(sim->fifo);
	free(sim->hq);
	free(sim->dirty);
	for (int c = 0; c < SIM_POOL_CLASSES; c++) {
		while (sim->pool[c]) {
			struct sim_free *f = sim->pool[c];
			sim->pool[c] = f->next;
			free(f);
		}
	}
	for (size_t i = 0; i < sim->nhosts; i++) {
		free(sim->hosts[i].name);
		for (size_t j = 0; j < sim->hosts[i].nlinks; j++) {
			impair_free(&sim->hosts[i].links[j]->im);
			free(sim->hosts[i].links[j]);
		}
		free(sim->hosts[i].links);
	}
	free(sim->hosts);
	free(sim->routes);
	free(sim->routes6);
	free(sim);
}

int synack_sim_add_host(struct synack_sim *sim, struct synack_stack *st, const char *name)
{
	if (!sim || !st || sim->nhosts >= (size_t)(INT32_MAX - 1))
		return -EINVAL;
	uint32_t addr = synack_stack_addr(st);
	uint8_t addr6[16];
	int has6 = synack_stack_addr6(st, addr6);
	if (route_search(sim, addr) >= 0 || (has6 && route_search6(sim, addr6) >= 0))
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
		uint32_t *hq = realloc(sim->hq, cap * sizeof(*hq));
		if (!hq) {
			free(copy);
			return -ENOMEM;
		}
		sim->hq = hq;
		size_t words = (cap + 63) / 64, oldwords = (sim->caphosts + 63) / 64;
		uint64_t *dirty = realloc(sim->dirty, words * sizeof(*dirty));
		if (!dirty) {
			free(copy);
			return -ENOMEM;
		}
		memset(dirty + oldwords, 0, (words - oldwords) * sizeof(*dirty));
		sim->dirty = dirty;
		sim->caphosts = cap;
	}
	if (has6) {
		struct sim_route6 *r6 =
		    realloc(sim->routes6, (sim->nroutes6 + 1) * sizeof(*sim->routes6));
		if (!r6) {
			free(copy);
			return -ENOMEM;
		}
		sim->routes6 = r6;
		memcpy(r6[sim->nroutes6].addr6, addr6, 16);
		r6[sim->nroutes6++].host = index;
	}
	sim->hosts[index] = (struct sim_host){.st = st,
	                                      .name = copy,
	                                      .addr = addr,
	                                      .due = SYNACK_NEVER,
	                                      .hpos = SIM_NO_POS,
	                                      .lend_size = synack_output_block_size(st)};

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
	return sim ? route_search(sim, addr) : -1;
}

int synack_sim_set_path(struct synack_sim *sim, int from, int to, const struct synack_sim_path *p)
{
	if (!host_ok(sim, from) || !host_ok(sim, to) || !p)
		return -EINVAL;
	if (!impair_path_ok(p))
		return -EINVAL;
	struct sim_link *l = link_get(sim, from, to);
	if (!l)
		return -ENOMEM;
	impair_set_path(&l->im, p);
	return 0;
}

int synack_sim_set_down(struct synack_sim *sim, int host, int down)
{
	if (!host_ok(sim, host))
		return -EINVAL;
	sim->hosts[host].down = down != 0;
	return 0;
}

int synack_sim_set_csum_trust(struct synack_sim *sim, int on)
{
	if (!sim)
		return -EINVAL;
	sim->csum_trust = on != 0;
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

static uint8_t *copy_bytes(struct synack_sim *sim, const uint8_t *pkt, size_t len)
{
	uint8_t *p = pkt_alloc(sim, len);
	if (p)
		memcpy(p, pkt, len);
	return p;
}

/* Queues pkt itself when *own says the caller may give it away (then no
 * longer: *own becomes 0), else a copy from the pool; when memory runs out
 * the datagram is lost, which is what a real link does too.  intact: not
 * corrupted on the way (synack_sim_set_csum_trust). */
static void enqueue_copy(struct synack_sim *sim, struct sim_link *l, int from, int to, uint8_t *pkt,
                         size_t len, uint64_t at, int *own, int intact)
{
	uint8_t *p = *own ? pkt : copy_bytes(sim, pkt, len);
	if (p && pkt_queue(sim, at, from, to, p, len, p == pkt, intact && sim->csum_trust) == 0) {
		*own = 0;
		return;
	}
	if (p != pkt)
		pkt_release(sim, p, len);
	l->im.c.lost++;
	tap(sim, SYNACK_SIM_LOST, from, to, pkt, len);
}

/* pkt is the buffer host from's stack built the datagram in
 * (synack_output_take), which the first copy queued takes when *own is
 * set; it may be modified. */
static void route(struct synack_sim *sim, int from, uint8_t *pkt, size_t len, int *own)
{
	/* A datagram too short for an IPv4 header has no destination; an
	 * IPv6 one (version 6) goes to the host of its destination address. */
	int to;
	if (len >= 20 && pkt[0] >> 4 != 6)
		to = route_find(sim, ((uint32_t)pkt[16] << 24) | ((uint32_t)pkt[17] << 16) |
		                         ((uint32_t)pkt[18] << 8) | pkt[19]);
	else
		to = len >= 40 && pkt[0] >> 4 == 6 ? route_search6(sim, pkt + 24) : -1;
	struct sim_link *l = link_get(sim, from, to >= 0 ? to : from);
	if (!l) {
		/* Out of memory for the direction's bookkeeping: lost, uncounted. */
		tap(sim, SYNACK_SIM_SENT, from, to, pkt, len);
		tap(sim, SYNACK_SIM_LOST, from, to, pkt, len);
		return;
	}
	l->im.c.sent++;
	tap(sim, SYNACK_SIM_SENT, from, to, pkt, len);
	if (to < 0) {
		l->im.c.no_route++;
		tap(sim, SYNACK_SIM_LOST, from, to, pkt, len);
		return;
	}
	if (sim->hosts[from].down || sim->hosts[to].down) {
		l->im.c.lost++;
		tap(sim, SYNACK_SIM_LOST, from, to, pkt, len);
		return;
	}

	if (sim->filter) {
		uint32_t extra = 0;
		int verdict = sim->filter(sim->filter_ctx, from, to, pkt, len, sim->now, &extra);
		if (verdict == SYNACK_SIM_DROP) {
			l->im.c.filtered++;
			tap(sim, SYNACK_SIM_LOST, from, to, pkt, len);
			return;
		}
		if (verdict == SYNACK_SIM_DELAY) {
			/* No random impairment, but the link's capacity is no
			 * impairment: the datagram crosses the bottleneck. */
			uint64_t done;
			if (impair_bottleneck(&l->im, sim->now, len, &done) != 0) {
				tap(sim, SYNACK_SIM_LOST, from, to, pkt, len);
				return;
			}
			enqueue_copy(sim, l, from, to, pkt, len, done + l->im.path.delay_us + extra,
			             own, 1);
			return;
		}
		/* Anything else passes. */
	}

	/* The path decides (src/link/impair.c): lost, or when each copy
	 * arrives. */
	uint64_t at[2], corrupted = l->im.c.corrupted;
	int copies = impair_decide(&l->im, sim->now, pkt, len, at);
	if (copies == 0) {
		tap(sim, SYNACK_SIM_LOST, from, to, pkt, len);
		return;
	}
	for (int k = 0; k < copies; k++)
		enqueue_copy(sim, l, from, to, pkt, len, at[k], own,
		             l->im.c.corrupted == corrupted);
}

/* Moves host i's queued output onto the paths.  Each datagram goes on
 * its way in the buffer the stack built it in (issue 16 item 4: no copy
 * between the stack and the wire, as a device's DMA reads the socket
 * buffer), and goes back to the stack when delivered or lost. */
static void flush_output(struct synack_sim *sim, size_t i)
{
	struct synack_stack *st = sim->hosts[i].st;
	void *pkt;
	ssize_t n;
	while ((n = synack_output_take(st, &pkt)) > 0) {
		int own = 1;
		route(sim, (int)i, pkt, (size_t)n, &own);
		if (own) /* not queued */
			synack_output_done(st, pkt);
	}
}

static inline void flush_host(struct synack_sim *sim, size_t i)
{
	if (synack_output_pending(sim->hosts[i].st))
		flush_output(sim, i);
}

/*
 * When a host wants to run next, not yet clamped to now.  A deadline at or
 * before the time we last advanced the host to was already given its
 * chance (a stack that leaves one behind would otherwise pin the clock
 * forever), so it counts as due one microsecond later.
 */
static uint64_t host_wants(const struct sim_host *h)
{
	uint64_t d = synack_next_deadline(h->st);
	if (d == SYNACK_NEVER)
		return d;
	if (h->advanced && d <= h->advanced_to)
		d = h->advanced_to + 1;
	return d;
}

/* Reads host i's deadline again (after a call into it). */
static void host_refresh(struct synack_sim *sim, size_t i)
{
	uint64_t d = host_wants(&sim->hosts[i]);
	if (d != sim->hosts[i].due || sim->hosts[i].hpos == SIM_NO_POS) {
		sim->hosts[i].due = d;
		hq_update(sim, (uint32_t)i);
	}
}

/* Every host: the application may have called any of them.  Moves output
 * in host order, reads every deadline again. */
static void sync_all(struct synack_sim *sim)
{
	for (size_t i = 0; i < sim->nhosts; i++) {
		flush_host(sim, i);
		host_refresh(sim, i);
	}
	if (sim->nhosts)
		memset(sim->dirty, 0, (sim->nhosts + 63) / 64 * sizeof(*sim->dirty));
}

/* Only the hosts we called into, in host order. */
static void sync_dirty(struct synack_sim *sim)
{
	size_t words = (sim->nhosts + 63) / 64;
	for (size_t w = 0; w < words; w++) {
		while (sim->dirty[w]) {
			size_t i = w * 64 + (size_t)__builtin_ctzll(sim->dirty[w]);
			sim->dirty[w] &= sim->dirty[w] - 1;
			flush_host(sim, i);
			host_refresh(sim, i);
		}
	}
}

void synack_sim_flush(struct synack_sim *sim)
{
	if (!sim)
		return;
	sync_all(sim);
}

int synack_sim_inject(struct synack_sim *sim, int to, const void *pkt, size_t len, uint64_t at)
{
	if (!host_ok(sim, to) || !pkt || len == 0 || len > SIM_MAX_DATAGRAM || at < sim->now)
		return -EINVAL;
	uint8_t *p = copy_bytes(sim, pkt, len);
	if (!p)
		return -ENOMEM;
	if (pkt_queue(sim, at, -1, to, p, len, 0, 0) != 0) {
		pkt_release(sim, p, len);
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

static uint64_t host_due(const struct synack_sim *sim, const struct sim_host *h)
{
	uint64_t d = host_wants(h);
	if (d == SYNACK_NEVER)
		return d;
	return d < sim->now ? sim->now : d;
}

uint64_t synack_sim_next_event(const struct synack_sim *sim)
{
	if (!sim)
		return SYNACK_NEVER;
	/* From the stacks themselves: the application may have called them
	 * since the simulator last did. */
	uint64_t t = SYNACK_NEVER;
	const struct sim_pkt *p = pkt_first(sim);
	if (p)
		t = p->at;
	for (size_t i = 0; i < sim->nhosts; i++) {
		uint64_t d = host_due(sim, &sim->hosts[i]);
		if (d < t)
			t = d;
	}
	return t;
}

/* The same, from what the simulator knows, valid after a sync. */
static uint64_t next_known(const struct synack_sim *sim)
{
	uint64_t t = SYNACK_NEVER;
	const struct sim_pkt *p = pkt_first(sim);
	if (p)
		t = p->at;
	if (sim->nhq) {
		uint64_t d = sim->hosts[sim->hq[0]].due;
		if (d < sim->now)
			d = sim->now;
		if (d < t)
			t = d;
	}
	return t;
}

static void advance_host(struct synack_sim *sim, size_t i, uint64_t t)
{
	synack_advance(sim->hosts[i].st, t);
	sim->hosts[i].advanced = 1;
	sim->hosts[i].advanced_to = t;
}

/* Every host not yet advanced to t.  For those we did not call into, t is
 * before their deadline, so the stack only notes the time. */
static void advance_rest(struct synack_sim *sim, uint64_t t)
{
	for (size_t i = 0; i < sim->nhosts; i++)
		if (!sim->hosts[i].advanced || sim->hosts[i].advanced_to != t)
			advance_host(sim, i, t);
}

static void deliver(struct synack_sim *sim, struct sim_pkt *p)
{
	struct sim_link *l = p->from >= 0 ? link_find(&sim->hosts[p->from], p->to) : NULL;
	if (sim->hosts[p->to].down) {
		if (l)
			l->im.c.lost++;
		tap(sim, SYNACK_SIM_LOST, p->from, p->to, p->data, p->len);
		return;
	}
	if (l)
		l->im.c.delivered++;
	tap(sim, SYNACK_SIM_DELIVERED, p->from, p->to, p->data, p->len);
	mark_dirty(sim, (size_t)p->to);
	/* A datagram in its sender's own buffer is lent to the receiver
	 * (synack_input_block), which keeps in-order text there until the
	 * application reads it, as a veth hands the sender's skb to the
	 * peer's receive queue: no copy into the receive buffer.  A copy from
	 * the pools is not lent: it is a duplicate or injected, and the pools
	 * stay the simulator's. */
	struct synack_stack *rcv = sim->hosts[p->to].st;
	unsigned flags = p->trusted ? SYNACK_INPUT_CSUM_UNNECESSARY : 0;
	/* A datagram shorter than half its block cannot be kept (the
	 * receiver's half-block rule): control segments and short text go
	 * in as ever, at no cost to the lifecycle's many small ones. */
	struct synack_stack *snd = NULL;
	size_t size = 0;
	void *block = NULL;
	if (p->taken && 2 * p->len >= sim->hosts[p->from].lend_size) {
		snd = sim->hosts[p->from].st;
		block = synack_output_block(snd, p->data, &size);
	}
	if (!block) {
		/* The return value is the stack's drop reason, which it
		 * counts itself. */
		(void)synack_input_flags(rcv, sim->now, p->data, p->len, flags);
		return;
	}
	int kept = 0;
	(void)synack_input_block(rcv, sim->now, p->data, p->len, flags, block, size, &kept);
	if (kept) {
		/* The receiver owns the block now.  The sender's pool is made
		 * whole with a block the receiver's application has read, so
		 * that a lent buffer costs neither stack an allocation. */
		p->data = NULL;
		synack_output_give(snd, synack_block_spare(rcv, size), size);
	}
}

/*
 * One step at time t (from next_known() after a sync): the deliveries due
 * at t in order of arrival, then the timers of the hosts we delivered to
 * and of the hosts due at t, in host order, then their output.  The other
 * hosts are not called: nothing is due for them before t, and they are
 * advanced before the public call returns.
 */
static void step_at(struct synack_sim *sim, uint64_t t)
{
	sim->now = t;
	/* Datagrams queued by these deliveries go after the ones already due. */
	for (const struct sim_pkt *first = pkt_first(sim); first && first->at <= t;
	     first = pkt_first(sim)) {
		struct sim_pkt p = pkt_take(sim);
		/* The next datagram's headers are asked for while this one is
		 * delivered: with many connections in flight the queue is long
		 * and its datagrams cold (a prefetch is a hint; it changes no
		 * result). */
		const struct sim_pkt *next = pkt_first(sim);
		if (next && next->at <= t) {
			mem_prefetch(next->data);
			mem_prefetch(next->data + 64);
		}
		deliver(sim, &p);
		pkt_done(sim, &p);
		/* A burst's answers leave as they are made; fewer than
		 * SIM_DRAIN_WEIGHT wait for the end of the step (host order). */
		if (synack_output_pending(sim->hosts[p.to].st) >= SIM_DRAIN_WEIGHT)
			flush_output(sim, (size_t)p.to);
	}
	while (sim->nhq && sim->hosts[sim->hq[0]].due <= t) {
		uint32_t i = sim->hq[0];
		mark_dirty(sim, i);
		sim->hosts[i].due = SYNACK_NEVER; /* read again below */
		hq_update(sim, i);
	}
	size_t words = (sim->nhosts + 63) / 64;
	for (size_t w = 0; w < words; w++)
		for (uint64_t bits = sim->dirty[w]; bits; bits &= bits - 1)
			advance_host(sim, w * 64 + (size_t)__builtin_ctzll(bits), t);
	sync_dirty(sim);
}

uint64_t synack_sim_step(struct synack_sim *sim)
{
	if (!sim)
		return SYNACK_NEVER;
	sync_all(sim);
	uint64_t t = next_known(sim);
	if (t == SYNACK_NEVER)
		return SYNACK_NEVER;
	step_at(sim, t);
	/* Every host sees every instant the clock stops at; stacks with
	 * nothing due at t simply note the time. */
	advance_rest(sim, t);
	sync_all(sim);
	return t;
}

void synack_sim_run_until(struct synack_sim *sim, uint64_t t)
{
	if (!sim)
		return;
	sync_all(sim);
	int stepped = 0;
	for (uint64_t next = next_known(sim); next <= t && next != SYNACK_NEVER;
	     next = next_known(sim)) {
		step_at(sim, next);
		stepped = 1;
	}
	/* Every host due by t has run, so advancing the others fires no timer
	 * and queues nothing: their output and deadlines stay as read. */
	if (t >= sim->now && t != SYNACK_NEVER) {
		sim->now = t;
		advance_rest(sim, t);
	} else if (stepped) {
		/* As if every step had advanced every host. */
		advance_rest(sim, sim->now);
	}
}

void synack_sim_counters(const struct synack_sim *sim, int from, int to,
                         struct synack_sim_counters *out)
{
	if (!out)
		return;
	memset(out, 0, sizeof(*out));
	if (!host_ok(sim, from) || !host_ok(sim, to))
		return;
	const struct sim_link *l = link_search(&sim->hosts[from], to);
	if (l)
		*out = l->im.c;
}
