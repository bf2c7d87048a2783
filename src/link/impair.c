/*
 * One direction of an impaired path: the decision the simulated network and
 * the real links (through the middleware in link.c) make for every datagram.
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
 * wait in a ring that grows by doubling up to the most ever waiting, so the
 * queue costs no allocation per datagram.
 */
#include "link/impair.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void impair_init(struct impair *im, uint64_t seed)
{
	memset(im, 0, sizeof(*im));
	rng_seed(&im->rng, seed);
}

void impair_free(struct impair *im)
{
	free(im->waiting);
	im->waiting = NULL;
	im->head = im->nwaiting = im->cap = 0;
}

static int prob_ok(double p)
{
	return p >= 0.0 && p <= 1.0; /* false for NaN too */
}

int impair_path_ok(const struct synack_sim_path *p)
{
	return p && prob_ok(p->loss) && prob_ok(p->dup) && prob_ok(p->reorder) &&
	       prob_ok(p->corrupt);
}

void impair_set_path(struct impair *im, const struct synack_sim_path *p)
{
	/* A remainder counts in units of the old rate: a new rate starts from
	 * the next whole microsecond, which delays the queued datagrams by
	 * less than a microsecond and keeps busy_frac below the rate. */
	if (p->rate_bps != im->path.rate_bps && im->busy_frac) {
		im->busy_us++;
		im->busy_frac = 0;
	}
	im->path = *p;
}

int impair_is_clean(const struct impair *im)
{
	const struct synack_sim_path *p = &im->path;
	return !(p->loss > 0) && !(p->dup > 0) && !(p->reorder > 0) && !(p->corrupt > 0) &&
	       p->delay_us == 0 && p->jitter_us == 0 && p->rate_bps == 0;
}

static uint64_t reorder_hold(const struct synack_sim_path *p)
{
	if (p->reorder_us)
		return p->reorder_us;
	return 2 * (uint64_t)p->delay_us + 1000;
}

/* Forgets the waiting datagrams whose transmission has started by now. */
static void queue_expire(struct impair *im, uint64_t now)
{
	while (im->nwaiting && im->waiting[im->head] <= now) {
		im->head = (im->head + 1) & (im->cap - 1);
		im->nwaiting--;
	}
}

static int queue_push(struct impair *im, uint64_t start)
{
	if (im->nwaiting == im->cap) {
		size_t cap = im->cap ? im->cap * 2 : 16;
		uint64_t *w = malloc(cap * sizeof(*w));
		if (!w)
			return -ENOMEM;
		/* Unwrap the ring into the new one. */
		for (size_t i = 0; i < im->nwaiting; i++)
			w[i] = im->waiting[(im->head + i) & (im->cap - 1)];
		free(im->waiting);
		im->waiting = w;
		im->head = 0;
		im->cap = cap;
	}
	im->waiting[(im->head + im->nwaiting) & (im->cap - 1)] = start;
	im->nwaiting++;
	return 0;
}

int impair_bottleneck(struct impair *im, uint64_t now, size_t len, uint64_t *done)
{
	uint64_t rate = im->path.rate_bps;
	*done = now;
	if (!rate)
		return 0;
	queue_expire(im, now);

	/* Starts at max(now, busy_until), exactly. */
	uint64_t start_us = now, start_frac = 0;
	if (im->busy_us > now || (im->busy_us == now && im->busy_frac)) {
		start_us = im->busy_us;
		start_frac = im->busy_frac;
	}
	int waits = start_us > now || start_frac;
	if (waits) {
		if (im->path.queue_pkts && im->nwaiting >= im->path.queue_pkts) {
			im->c.queue_drops++;
			im->c.lost++;
			return -ENOBUFS;
		}
		if (queue_push(im, start_us + (start_frac != 0)) != 0) {
			im->c.lost++;
			return -ENOMEM;
		}
		if (im->nwaiting > im->c.queue_max)
			im->c.queue_max = (uint32_t)im->nwaiting;
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
	im->busy_us = end_us;
	im->busy_frac = end_frac;
	*done = end_us + (end_frac != 0);
	return 0;
}

/*
 * Marks an ECN-capable datagram CE (RFC 3168 5): the ECN field is the low
 * two bits of IPv4's TOS byte, whose header checksum is updated as RFC
 * 1624 3 does for one changed 16-bit word, or of IPv6's Traffic Class
 * (bits 4-5 of the second byte), which no checksum covers.  Returns 1 when
 * it marked.
 */
static int mark_ce(uint8_t *pkt, size_t len)
{
	if (len >= 20 && pkt[0] >> 4 == 4 && (pkt[1] & 3) != 0 && (pkt[1] & 3) != 3) {
		uint16_t old = (uint16_t)(pkt[0] << 8 | pkt[1]);
		pkt[1] |= 3;
		uint16_t new = (uint16_t)(pkt[0] << 8 | pkt[1]);
		/* HC' = ~(~HC + ~m + m') */
		uint32_t sum = (uint16_t) ~(pkt[10] << 8 | pkt[11]);
		sum += (uint16_t)~old;
		sum += new;
		while (sum >> 16)
			sum = (sum & 0xffff) + (sum >> 16);
		sum = ~sum & 0xffff;
		pkt[10] = (uint8_t)(sum >> 8);
		pkt[11] = (uint8_t)sum;
		return 1;
	}
	if (len >= 40 && pkt[0] >> 4 == 6 && (pkt[1] >> 4 & 3) != 0 && (pkt[1] >> 4 & 3) != 3) {
		pkt[1] |= 3 << 4;
		return 1;
	}
	return 0;
}

int impair_decide(struct impair *im, uint64_t now, uint8_t *pkt, size_t len, uint64_t at[2])
{
	/* The impairments, always drawn in this order so a seed replays. */
	const struct synack_sim_path *p = &im->path;
	/* A path with none of them draws nothing (rng_chance decides 0 and NaN
	 * without drawing) and has no bottleneck: only the delay is left. */
	if (!(p->loss > 0) && !(p->corrupt > 0) && !(p->reorder > 0) && !(p->dup > 0) &&
	    !p->jitter_us && !p->rate_bps) {
		at[0] = now + p->delay_us;
		return 1;
	}
	if (rng_chance(&im->rng, p->loss)) {
		im->c.lost++;
		return 0;
	}
	/* The bottleneck draws nothing, so without a rate the draws (and so
	 * every seed's behaviour) are what they were before it existed. */
	uint64_t done;
	if (impair_bottleneck(im, now, len, &done) != 0)
		return 0;
	/* Waiting now: the datagram itself (if it waits) and those ahead. */
	if (p->ecn_mark_pkts && im->nwaiting > p->ecn_mark_pkts && mark_ce(pkt, len))
		im->c.ce_marked++;
	if (rng_chance(&im->rng, p->corrupt) && len > 0) {
		uint64_t bit = rng_below(&im->rng, (uint64_t)len * 8);
		pkt[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		im->c.corrupted++;
	}
	uint64_t delay = p->delay_us;
	if (p->jitter_us)
		delay += rng_below(&im->rng, (uint64_t)p->jitter_us + 1);
	if (rng_chance(&im->rng, p->reorder)) {
		delay += reorder_hold(p);
		im->c.reordered++;
	}
	int dup = rng_chance(&im->rng, p->dup);
	at[0] = done + delay;
	if (!dup)
		return 1;
	im->c.duplicated++;
	at[1] = done + delay + 1;
	return 2;
}
