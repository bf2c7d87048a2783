/*
 * Retransmitted and spurious bytes of one direction of a simulated
 * transfer, measured on the wire by the simulator's tap (synack transfer).
 *
 * Retransmitted: payload bytes sent below the highest sequence number sent
 * before (the sender's own count, as Linux's tcpi_bytes_retrans).
 * Spurious: payload bytes the receiver was handed a second time by a
 * different datagram, that is bytes whose earlier transmission had arrived
 * (or was to arrive) after all.  Copies the network made itself (--dup)
 * are the same datagram byte for byte and are not counted; a
 * retransmission identical to its original in every byte (same TSval) is
 * taken for such a copy, so the figure may fall short, never over.
 */
#ifndef SYNACK_TOOLS_RTX_METER_H
#define SYNACK_TOOLS_RTX_METER_H

#include <stddef.h>
#include <stdint.h>

#include "synack/sim.h"

struct rtx_span {
	uint64_t lo, hi; /* stream offsets, [lo, hi) */
};

struct rtx_meter {
	int from, to; /* sim hosts: the data's sender and receiver */
	int have_isn;
	uint32_t isn;      /* the sender's ISS */
	uint64_t sent_end; /* highest stream offset sent, plus one */
	/* Stream bytes delivered, as merged spans in order. */
	struct rtx_span *span;
	size_t nspan, capspan;
	/* FNV-1a 64 of every data datagram delivered (open addressing, 0 = empty). */
	uint64_t *seen;
	size_t nseen, capseen;
	int oom; /* memory ran out: the figures are incomplete */
	uint64_t retrans_bytes, spurious_bytes;
	/* A tap to pass every event on to (the capture), or NULL. */
	synack_sim_tap_fn next;
	void *next_ctx;
};

void rtx_meter_init(struct rtx_meter *m, int from, int to, synack_sim_tap_fn next, void *next_ctx);
void rtx_meter_fini(struct rtx_meter *m);
/* The tap: install with synack_sim_set_tap(sim, rtx_meter_tap, m). */
void rtx_meter_tap(void *ctx, int event, int from, int to, const uint8_t *pkt, size_t len,
                   uint64_t now);

#endif
