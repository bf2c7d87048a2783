#include "cli.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cli_flag_value(int argc, char **argv, int *i, const char *const *names, size_t n,
                   const char **val, char *err, size_t errlen)
{
	const char *a = argv[*i];
	for (size_t k = 0; k < n; k++) {
		size_t len = strlen(names[k]);
		if (strncmp(a, names[k], len) != 0)
			continue;
		if (a[len] == '=') {
			*val = a + len + 1;
			return (int)k;
		}
		if (a[len] != 0)
			continue;
		if (*i + 1 >= argc) {
			snprintf(err, errlen, "%s needs a value", names[k]);
			return -2;
		}
		*i += 1;
		*val = argv[*i];
		return (int)k;
	}
	return -1;
}

int cli_parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	if (!s || !*s)
		return -1;
	uint64_t v = 0;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		unsigned dgt = (unsigned)(*p - '0');
		if (dgt > max || v > (max - dgt) / 10)
			return -1;
		v = v * 10 + dgt;
	}
	*out = v;
	return 0;
}

int cli_parse_double(const char *s, double lo, double hi, double *out)
{
	/* strtod would skip leading blanks and read "nan" and "inf"; a number
	 * on a command line starts with a digit, a sign or a point. */
	if (!s || !*s || isspace((unsigned char)*s))
		return -1;
	if (*s == '-' && lo >= 0)
		return -1; /* "-0" is zero, but nobody means it */
	char *end;
	double v = strtod(s, &end);
	if (*end || end == s || !isfinite(v) || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

int cli_parse_prob(const char *s, double *out)
{
	return cli_parse_double(s, 0.0, 1.0, out);
}

struct unit {
	const char *suffix;
	uint64_t mult;
};

/* Digits followed by one of the n suffixes ("" for none), times its
 * multiplier, at most max. */
static int parse_with_unit(const char *s, const struct unit *units, size_t n, uint64_t max,
                           uint64_t *out)
{
	if (!s || *s < '0' || *s > '9')
		return -1;
	size_t digits = strspn(s, "0123456789");
	char num[32];
	if (digits >= sizeof(num))
		return -1;
	memcpy(num, s, digits);
	num[digits] = 0;
	for (size_t u = 0; u < n; u++) {
		if (strcmp(s + digits, units[u].suffix) != 0)
			continue;
		uint64_t v;
		if (cli_parse_u64(num, max / units[u].mult, &v) != 0)
			return -1;
		*out = v * units[u].mult;
		return 0;
	}
	return -1;
}

int cli_parse_bytes(const char *s, uint64_t max, uint64_t *out)
{
	static const struct unit UNITS[] = {
	    {"", 1},
	    {"K", 1000},
	    {"k", 1000},
	    {"M", 1000 * 1000},
	    {"G", 1000 * 1000 * 1000},
	    {"KiB", 1024},
	    {"MiB", 1024 * 1024},
	    {"GiB", 1024 * 1024 * 1024},
	};
	return parse_with_unit(s, UNITS, sizeof(UNITS) / sizeof(UNITS[0]), max, out);
}

int cli_parse_time_ms(const char *s, uint64_t max, uint64_t *out)
{
	static const struct unit UNITS[] = {
	    {"", 1}, {"ms", 1}, {"s", 1000}, {"min", 60 * 1000}, {"h", 60 * 60 * 1000},
	};
	return parse_with_unit(s, UNITS, sizeof(UNITS) / sizeof(UNITS[0]), max, out);
}

int cli_flag_u64(const char *flag, const char *val, uint64_t max, uint64_t *out, char *err,
                 size_t errlen)
{
	if (cli_parse_u64(val, max, out) == 0)
		return 0;
	snprintf(err, errlen, "%s: '%s' is not a whole number in [0, %llu]", flag, val,
	         (unsigned long long)max);
	return -1;
}

int cli_flag_ms(const char *flag, const char *val, uint64_t max, int64_t *out, char *err,
                size_t errlen)
{
	uint64_t u;
	if (cli_parse_u64(val, max, &u) == 0) {
		*out = (int64_t)u;
		return 0;
	}
	snprintf(err, errlen, "%s: '%s' is not a whole number of milliseconds in [0, %llu]", flag,
	         val, (unsigned long long)max);
	return -1;
}

int cli_flag_prob(const char *flag, const char *val, double *out, char *err, size_t errlen)
{
	if (cli_parse_prob(val, out) == 0)
		return 0;
	snprintf(err, errlen, "%s: '%s' is not a probability in [0, 1]", flag, val);
	return -1;
}

int cli_flag_path(const char *flag, const char *val, const char **out, char *err, size_t errlen)
{
	if (val[0]) {
		*out = val;
		return 0;
	}
	snprintf(err, errlen, "%s: needs a file name", flag);
	return -1;
}

/* "16GiB" when max is a whole number of GiB, MiB or KiB, else the digits. */
static void bytes_str(uint64_t max, char *buf, size_t len)
{
	static const char *const NAMES[] = {"GiB", "MiB", "KiB"};
	for (int k = 0; k < 3; k++) {
		uint64_t unit = 1ull << (10 * (3 - k));
		if (max >= unit && max % unit == 0) {
			snprintf(buf, len, "%llu%s", (unsigned long long)(max / unit), NAMES[k]);
			return;
		}
	}
	snprintf(buf, len, "%llu", (unsigned long long)max);
}

int cli_flag_bytes(const char *flag, const char *val, uint64_t max, uint64_t *out, char *err,
                   size_t errlen)
{
	if (cli_parse_bytes(val, max, out) == 0)
		return 0;
	char m[32];
	bytes_str(max, m, sizeof(m));
	snprintf(err, errlen,
	         "%s: '%s' is not a size in bytes up to %s (digits, then optionally a unit: "
	         "K, M, G for 1000, 1000^2, 1000^3 or KiB, MiB, GiB for 1024, 1024^2, 1024^3)",
	         flag, val, m);
	return -1;
}

int cli_flag_time_ms(const char *flag, const char *val, uint64_t max, uint64_t *out, char *err,
                     size_t errlen)
{
	if (cli_parse_time_ms(val, max, out) == 0)
		return 0;
	snprintf(err, errlen,
	         "%s: '%s' is not a time up to %llu ms (digits: milliseconds, or digits with a "
	         "unit: ms, s, min, h)",
	         flag, val, (unsigned long long)max);
	return -1;
}

int cli_endpoint_eq(const struct synack_endpoint *a, const struct synack_endpoint *b)
{
	if (a->family != b->family || a->port != b->port)
		return 0;
	return a->family == SYNACK_AF_INET6 ? memcmp(a->addr6, b->addr6, 16) == 0
	                                    : a->addr == b->addr;
}

int cli_endpoint_addr_is_any(const struct synack_endpoint *e)
{
	static const uint8_t zero[16];
	return e->family == SYNACK_AF_INET6 ? memcmp(e->addr6, zero, 16) == 0 : e->addr == 0;
}

void cli_derive_secret(uint64_t seed, int host, uint8_t secret[16])
{
	uint64_t x = seed ^ (0x9e3779b97f4a7c15ull * (uint64_t)(host + 1));
	for (int i = 0; i < 2; i++) {
		x += 0x9e3779b97f4a7c15ull;
		uint64_t z = x;
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
		z ^= z >> 31;
		for (int b = 0; b < 8; b++)
			secret[i * 8 + b] = (uint8_t)(z >> (8 * b));
	}
}
