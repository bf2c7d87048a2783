/*
 * synack_sim: a deterministic in-memory IPv4 network for synack stacks.
 *
 * Hosts are synack stacks attached by their configured address.  Every
 * datagram a host sends is routed to the host owning its destination address
 * through a per-direction path with seeded impairments: loss, duplication,
 * reordering, delay with jitter, corruption (a flipped bit, which the
 * receiver's checksums catch), and a bottleneck of a given rate behind a
 * drop-tail queue.  Time is virtual: the clock jumps straight to
 * the next event (a delivery or a stack's timer), so hours of TCP timeouts
 * run in milliseconds.  The same seed and the same calls give the same bytes.
 */
#ifndef SYNACK_SIM_H
#define SYNACK_SIM_H

#include <stddef.h>
#include <stdint.h>

#include "synack/synack.h"

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#pragma GCC visibility push(default) /* the API; the rest of libsynack is hidden */
#endif

struct synack_sim;

/* Impairments of one direction of a path.  Probabilities are in [0, 1]. */
struct synack_sim_path {
	double loss;         /* datagram dropped */
	double dup;          /* datagram delivered twice */
	double reorder;      /* datagram held back by reorder_us so later ones overtake it */
	double corrupt;      /* one random bit of the datagram flipped */
	uint32_t delay_us;   /* one-way propagation delay */
	uint32_t jitter_us;  /* extra delay, uniform in [0, jitter_us] */
	uint32_t reorder_us; /* how long a reordered datagram is held (default: 2 * delay + 1 ms) */
	/*
	 * A bottleneck: datagrams that survive the loss draw are sent one
	 * after another at rate_bps bits per second (0 = infinitely fast, no
	 * bottleneck), in the order they were sent, from a drop-tail queue
	 * holding at most queue_pkts datagrams waiting for the link (0 = no
	 * limit).  A datagram of len bytes occupies the link for
	 * len * 8 / rate_bps seconds, exactly in the long run; the delay,
	 * jitter, reordering and duplication above start when its last bit
	 * has left (rounded up to the microsecond).  The datagram being sent
	 * is not in the queue, as with Linux's tbf and netem, so a link with
	 * queue_pkts = 1 holds one datagram on the wire and one waiting.
	 * Without a rate, queue_pkts has no effect (nothing ever waits).
	 */
	uint64_t rate_bps;
	uint32_t queue_pkts;
	/*
	 * ECN marking at the bottleneck, as an AQM's step marking does (RFC
	 * 3168 5, the threshold of DCTCP's RFC 8257 3.1): a datagram that
	 * finds ecn_mark_pkts or more datagrams waiting ahead of it is marked
	 * CE when it is ECN-capable (ECT(0) or ECT(1), IPv4 or IPv6), rather
	 * than waiting for the queue to fill and drop it.  0 = never (the
	 * default); needs rate_bps.  Draws nothing from the generator.
	 */
	uint32_t ecn_mark_pkts;
};

/* What a filter decides for one datagram. */
enum synack_sim_verdict {
	SYNACK_SIM_PASS = 0, /* impairments of the path apply as usual */
	SYNACK_SIM_DROP,     /* dropped, counted as a filter drop */
	/* Delivered *extra_delay_us later than usual, with no random impairment;
	 * it still crosses the bottleneck, whose full queue may drop it. */
	SYNACK_SIM_DELAY,
};

/*
 * Called for every datagram as it leaves a host, before the path's
 * impairments.  Scenarios use it to lose a chosen segment or hold one back.
 * It runs outside any stack call, so it may inspect the packet freely but
 * must not call into the stacks.
 */
typedef int (*synack_sim_filter_fn)(void *ctx, int from, int to, const uint8_t *pkt, size_t len,
                                    uint64_t now, uint32_t *extra_delay_us);

/* What happened to a datagram, reported to the tap. */
enum synack_sim_tap_event {
	SYNACK_SIM_SENT = 1,  /* left host `from` */
	SYNACK_SIM_LOST,      /* dropped by loss, a full queue, a filter, a down host or no route */
	SYNACK_SIM_DELIVERED, /* handed to host `to` (after corruption, if any) */
};
typedef void (*synack_sim_tap_fn)(void *ctx, int event, int from, int to, const uint8_t *pkt,
                                  size_t len, uint64_t now);

struct synack_sim_counters {
	uint64_t sent, delivered, lost, duplicated, reordered, corrupted, filtered, no_route;
	uint64_t queue_drops; /* dropped because the bottleneck queue was full (also in lost) */
	uint32_t queue_max;   /* most datagrams ever waiting in the bottleneck queue */
	uint64_t ce_marked;   /* ECN-capable datagrams marked CE (ecn_mark_pkts) */
};

/* A network with no hosts at time 0; seed drives every impairment draw.
 * Returns NULL when out of memory. */
struct synack_sim *synack_sim_new(uint64_t seed);
/* Frees the simulator (not the stacks it was given). */
void synack_sim_free(struct synack_sim *sim);

/* Attaches a stack as a host; its address must be unique, and its IPv6
 * address if it has one (synack_stack_addr6: IPv6 datagrams go to the host
 * of their destination).  Returns the host index (0, 1, ...), -EEXIST
 * (another host has the address), -EINVAL (sim or
 * st is NULL) or -ENOMEM.  The stack stays the caller's to free, after the
 * simulator. */
int synack_sim_add_host(struct synack_sim *sim, struct synack_stack *st, const char *name);
/* The stack of host, or NULL for a bad index. */
struct synack_stack *synack_sim_stack(struct synack_sim *sim, int host);
/* The name given to synack_sim_add_host(), or NULL for a bad index. */
const char *synack_sim_host_name(struct synack_sim *sim, int host);
/* Host index owning addr, or -1. */
int synack_sim_host_by_addr(struct synack_sim *sim, uint32_t addr);

/* Sets the impairments of the direction from -> to (default: none, 0 delay).
 * Returns 0, -EINVAL for a bad host, a NULL p or a probability outside
 * [0, 1] (every rate and queue length is valid), or -ENOMEM.  Datagrams already queued at the
 * bottleneck keep their place; a new rate applies from the next whole
 * microsecond after the link frees up. */
int synack_sim_set_path(struct synack_sim *sim, int from, int to, const struct synack_sim_path *p);
/* A down host neither sends nor receives (its datagrams are lost); down = 0
 * brings it back.  Returns 0 or -EINVAL for a bad host. */
int synack_sim_set_down(struct synack_sim *sim, int host, int down);

/* Installs the filter (NULL removes it); ctx is passed back to it. */
void synack_sim_set_filter(struct synack_sim *sim, synack_sim_filter_fn fn, void *ctx);
/* Installs the tap (NULL removes it); ctx is passed back to it. */
void synack_sim_set_tap(struct synack_sim *sim, synack_sim_tap_fn fn, void *ctx);

/* Queues a datagram for delivery to host `to` at time `at` (>= now), as if
 * from the wire.  Used to inject crafted or replayed segments.  Returns 0,
 * -EINVAL (bad host, NULL or empty pkt, len over 64 KiB, at in the past) or
 * -ENOMEM. */
int synack_sim_inject(struct synack_sim *sim, int to, const void *pkt, size_t len, uint64_t at);

/* The virtual clock, in microseconds. */
uint64_t synack_sim_now(const struct synack_sim *sim);
/* Time of the next event (a delivery or any host's timer), or SYNACK_NEVER. */
uint64_t synack_sim_next_event(const struct synack_sim *sim);
/*
 * Moves every host's queued output onto the paths, then advances the clock
 * to the next event and runs everything due at that instant (deliveries in
 * order of arrival, then timers), then moves output again.  Returns the new
 * time, or SYNACK_NEVER when nothing is pending (the clock does not move).
 * Call it after socket calls so that what they queued is sent.
 */
uint64_t synack_sim_step(struct synack_sim *sim);
/* Steps until the next event would be later than t, then sets the clock to t
 * (advancing every host to t). */
void synack_sim_run_until(struct synack_sim *sim, uint64_t t);
/* Moves queued output onto the paths without advancing time. */
void synack_sim_flush(struct synack_sim *sim);

/* What happened on the direction from -> to; all zero for a bad host or a
 * direction that never carried anything. */
void synack_sim_counters(const struct synack_sim *sim, int from, int to,
                         struct synack_sim_counters *out);

/*
 * The simulator as a device with checksum offload (issue 16 item 4), as
 * Linux's veth: a datagram that goes from one stack's memory to another's
 * and never crossed a wire is known intact, and the receiving kernel does
 * not sum its checksum again (CHECKSUM_PARTIAL, which Linux's receive path
 * takes as verified).  With on = 1 every TCP segment a host sent and the
 * simulator did not corrupt reaches its receiver as known good
 * (synack_input_flags with SYNACK_INPUT_CSUM_UNNECESSARY, counted in
 * InCsumTrusted); a corrupted one (synack_sim_path.corrupt) and one
 * injected from outside (synack_sim_inject) are verified as ever.  The
 * sender still sums every checksum, so taps and captures see them whole.
 * Off by default: scenarios and tests check every checksum a stack sends
 * (synack-bench turns it on, as the Linux veth it is compared with has
 * it).  on = 0 turns it off again.  Returns 0, or -EINVAL (sim NULL).
 */
int synack_sim_set_csum_trust(struct synack_sim *sim, int on);

#if defined(__GNUC__)
#pragma GCC visibility pop
#endif

#ifdef __cplusplus
}
#endif

#endif
