/* SipHash-2-4 (Aumasson and Bernstein): a keyed hash for demux tables, ISNs
 * (RFC 6528) and ephemeral ports (RFC 6056), so that outsiders can neither
 * predict values nor flood one hash bucket. */
#ifndef SYNACK_SIPHASH_H
#define SYNACK_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

uint64_t siphash24(const uint8_t key[16], const void *data, size_t len);

#endif
