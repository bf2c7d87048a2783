/*
 * Command-line parsing shared by the synack subcommands (demo, transfer,
 * serve, connect): flags with values ("--flag value" or "--flag=value"),
 * whole numbers, probabilities, decimal numbers, byte sizes and times with
 * units, each with the same error sentences everywhere; and the
 * seed-to-secret derivation that makes two simulated hosts replay the same
 * ISNs from the same seed.
 */
#ifndef SYNACK_TOOLS_CLI_H
#define SYNACK_TOOLS_CLI_H

#include <stddef.h>
#include <stdint.h>

#include "synack/synack.h"

/*
 * If argv[*i] is one of the n flags in names, given as "--flag=value" or as
 * "--flag value" (then *i moves past the value), sets *val and returns the
 * flag's index in names.  Returns -1 when argv[*i] is none of them, and -2
 * with a sentence in err when the flag has no value.
 */
int cli_flag_value(int argc, char **argv, int *i, const char *const *names, size_t n,
                   const char **val, char *err, size_t errlen);

/* Plain parsers: 0 and *out set, or -1 (out untouched). */
int cli_parse_u64(const char *s, uint64_t max, uint64_t *out);
int cli_parse_prob(const char *s, double *out);
/* A finite decimal number in [lo, hi] ("0.5", "12", "1e3"). */
int cli_parse_double(const char *s, double lo, double hi, double *out);
/*
 * A byte count: digits, optionally followed by a unit: K, M, G (powers of
 * 1000: 1K = 1000) or KiB, MiB, GiB (powers of 1024: 1KiB = 1024); "k" is
 * accepted for K.  At most max.
 */
int cli_parse_bytes(const char *s, uint64_t max, uint64_t *out);
/*
 * A time in milliseconds: digits, optionally followed by a unit: ms, s, min
 * or h ("30s" = 30000).  At most max milliseconds.
 */
int cli_parse_time_ms(const char *s, uint64_t max, uint64_t *out);

/*
 * The same parsers for the value of a named flag: on failure they write
 * "FLAG: 'VALUE' is not ..." into err and return -1.
 */
int cli_flag_u64(const char *flag, const char *val, uint64_t max, uint64_t *out, char *err,
                 size_t errlen);
int cli_flag_ms(const char *flag, const char *val, uint64_t max, int64_t *out, char *err,
                size_t errlen);
int cli_flag_prob(const char *flag, const char *val, double *out, char *err, size_t errlen);
/* A file name for an output flag (--svg, --html, --pcap): not empty. */
int cli_flag_path(const char *flag, const char *val, const char **out, char *err, size_t errlen);
/* cli_parse_bytes and cli_parse_time_ms for a flag: the sentence names the
 * accepted units and the maximum. */
int cli_flag_bytes(const char *flag, const char *val, uint64_t max, uint64_t *out, char *err,
                   size_t errlen);
int cli_flag_time_ms(const char *flag, const char *val, uint64_t max, uint64_t *out, char *err,
                     size_t errlen);

/* Spreads a seed over a host's 16-byte secret (splitmix64), differently for
 * each host, so that the same seed replays the same ISNs. */
void cli_derive_secret(uint64_t seed, int host, uint8_t secret[16]);

/* Endpoints of either family (issue 14): whether two are the same address
 * and port, and whether e's address is the unspecified one (0.0.0.0, ::). */
int cli_endpoint_eq(const struct synack_endpoint *a, const struct synack_endpoint *b);
int cli_endpoint_addr_is_any(const struct synack_endpoint *e);

#endif
