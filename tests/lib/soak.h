/*
 * Helpers shared by the seeded soaks over synack_sim (test_sim_soak,
 * test_transfer_soak): a seeded generator independent of the stacks' own,
 * FNV-1a hashing for traces and payloads, trace printing, an independent
 * check that a delivered datagram is intact, and the check that a stack has
 * let go of everything once its timers have run out.
 */
#ifndef SYNACK_TEST_SOAK_H
#define SYNACK_TEST_SOAK_H

#include <stddef.h>
#include <stdint.h>

#include "synack/sim.h"
#include "synack/synack.h"

/* splitmix64: *s is the whole state. */
uint64_t soak_next(uint64_t *s);
/* Uniform in [0, 1). */
double soak_unit(uint64_t *s);
/* Uniform in [0, n); 0 when n is 0. */
uint32_t soak_below(uint64_t *s, uint32_t n);

#define SOAK_FNV_INIT 0xcbf29ce484222325ULL
uint64_t soak_fnv(uint64_t h, const void *p, size_t len);
uint64_t soak_fnv_u64(uint64_t h, uint64_t v);
/* Folds every field of a trace record (and the side h) into x. */
uint64_t soak_hash_record(uint64_t x, int h, const struct synack_trace *t);

/* An unsigned number from the environment, or dflt when unset or empty. */
uint64_t soak_env_u64(const char *name, uint64_t dflt);
/* A floating-point number from the environment, or dflt. */
double soak_env_double(const char *name, double dflt);

/* Prints one trace record on stdout, sequence numbers relative to the ISNs. */
void soak_print_record(const char *side, const struct synack_trace *t);
/* Prints a path's impairments on one line after label. */
void soak_print_path(const char *label, const struct synack_sim_path *p);

/*
 * Whether a delivered datagram is the intact IPv4/TCP datagram a stack sent
 * (a 20-byte IPv4 header, which is all synack emits), checked independently
 * of the stacks: version, length, protocol and both checksums.
 */
int soak_datagram_intact(const uint8_t *pkt, size_t len);

/*
 * Whether a stack whose applications are done and whose timers have all run
 * holds nothing but `listeners` listeners: no connection, TIME_WAIT record,
 * orphan or buffered byte, no pending timer, CurrEstab 0.  Returns 1, or 0
 * with the first thing found written into why.
 */
int soak_stack_idle(struct synack_stack *st, uint64_t listeners, char *why, size_t len);

/*
 * The stack's own accounting of damage: exactly `damaged` datagrams (those
 * the tap saw delivered with a bad checksum) were dropped by the IPv4 and
 * wire checks, and no trace record was lost.  Returns 1, or 0 with why.
 */
int soak_stack_damage_counted(struct synack_stack *st, uint64_t damaged, char *why, size_t len);

#endif
