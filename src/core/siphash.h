/* SipHash-2-4 (Aumasson and Bernstein): a keyed hash for demux tables, ISNs
 * (RFC 6528) and ephemeral ports (RFC 6056), so that outsiders can neither
 * predict values nor flood one hash bucket. */
#ifndef SYNACK_SIPHASH_H
#define SYNACK_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

uint64_t siphash24(const uint8_t key[16], const void *data, size_t len);
/*
 * SipHash-1-3: one compression and three finalisation rounds, the variant
 * general-purpose hash tables use against flooding (it is what Rust's
 * standard HashMap uses).  The demux tables hash every arriving segment, so
 * they take this one; ISNs and ports keep SipHash-2-4.
 */
uint64_t siphash13(const uint8_t key[16], const void *data, size_t len);
/* A key for one use of a secret: SipHash-2-4 of the secret under label (and
 * a counter), so that no two uses of one secret can be compared. */
void siphash_derive_key(const uint8_t secret[16], uint8_t label, uint8_t out[16]);
/* The key as the two little-endian words the hash starts from. */
void siphash_key_words(const uint8_t key[16], uint64_t k[2]);
/* siphash13 under a key already split into words (siphash_key_words). */
uint64_t siphash13_words(const uint64_t k[2], const void *data, size_t len);
/* siphash13 of the 12 bytes be32(a) be32(b) be16(c) be16(d). */
uint64_t siphash13_tuple(const uint64_t k[2], uint32_t a, uint32_t b, uint16_t c, uint16_t d);

#endif
