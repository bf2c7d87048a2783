/*
 * The impairment model shared by the simulated network and the real links:
 * one direction of a path (struct synack_sim_path) with its seeded
 * generator, its bottleneck and its counters, and the decision of what
 * happens to one datagram that crosses it.
 *
 * The decision draws from the generator in a fixed order: loss, then the
 * bottleneck (which draws nothing), then corruption (and the bit), jitter,
 * reordering and duplication.  A probability of 0 or 1 draws nothing, so a
 * path without impairments consumes no randomness and the same seed replays
 * the same fates whichever link the datagrams cross.
 */
#ifndef SYNACK_LINK_IMPAIR_H
#define SYNACK_LINK_IMPAIR_H

#include <stddef.h>
#include <stdint.h>

#include "core/rng.h"
#include "synack/sim.h"

struct impair {
	struct synack_sim_path path;
	struct rng rng;
	struct synack_sim_counters c; /* lost, duplicated, reordered, corrupted, queue_* */

	/* The bottleneck is busy until busy_us + busy_frac / rate_bps
	 * microseconds; busy_frac < path.rate_bps. */
	uint64_t busy_us, busy_frac;
	/* Start times (rounded up) of the datagrams waiting for the link, in
	 * sending order: a ring of capacity cap (a power of two). */
	uint64_t *waiting;
	size_t head, nwaiting, cap;
};

/* A path without impairments whose generator is seeded with seed. */
void impair_init(struct impair *im, uint64_t seed);
void impair_free(struct impair *im);
/* 1 when every probability is in [0, 1] (NaN is not). */
int impair_path_ok(const struct synack_sim_path *p);
/* Sets the path's parameters; datagrams already queued at the bottleneck
 * keep their place and a new rate applies from the next whole microsecond. */
void impair_set_path(struct impair *im, const struct synack_sim_path *p);
/* 1 when the path changes nothing: no probability, delay or rate. */
int impair_is_clean(const struct impair *im);

/*
 * Puts a datagram of len bytes on the bottleneck at now.  Sets *done to the
 * whole microsecond at or after its last bit leaves and returns 0 (without
 * a rate: *done = now).  When the queue is full (-ENOBUFS, counted as
 * queue_drops and lost) or cannot grow (-ENOMEM, counted as lost) the
 * datagram is not sent and the bottleneck's state is unchanged.
 */
int impair_bottleneck(struct impair *im, uint64_t now, size_t len, uint64_t *done);

/*
 * Decides the fate of one datagram leaving at now: returns how many copies
 * arrive (0 when it is lost, 1, or 2 when it is duplicated) and sets at[0]
 * (and at[1]) to their arrival times.  A corrupted datagram has one bit of
 * pkt flipped in place.  Everything it decides is counted in im->c.
 */
int impair_decide(struct impair *im, uint64_t now, uint8_t *pkt, size_t len, uint64_t at[2]);

#endif
