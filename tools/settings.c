#include "settings.h"

#include <stddef.h>
#include <string.h>

#include "cli.h"

/* clang-format off */
#define FIELD(f) offsetof(struct synack_config, f), sizeof(((struct synack_config *)0)->f)
#define NUMBER(f) {#f, SETTING_NUMBER, FIELD(f)}
#define MS(f) {#f, SETTING_MS, FIELD(f)}
#define BYTES(f) {#f, SETTING_BYTES, FIELD(f)}
#define TEXT(f) {#f, SETTING_TEXT, FIELD(f)}
/* clang-format on */

/*
 * Every field of struct synack_config but addr and secret, in struct
 * order.  A new field needs one line here, NUMBER, MS, BYTES or TEXT by
 * what it holds; tests/unit/test_cli.c fails while one is missing.
 */
static const struct setting SETTINGS[] = {
    BYTES(mtu),
    NUMBER(ttl),
    MS(time_wait_ms),
    MS(fin_timeout_ms),
    MS(close_wait_timeout_ms),
    NUMBER(syn_retries),
    NUMBER(synack_retries),
    NUMBER(orphan_retries),
    NUMBER(retries2),
    MS(rto_initial_ms),
    MS(rto_min_ms),
    MS(rto_max_ms),
    NUMBER(max_orphans),
    NUMBER(max_tw_buckets),
    NUMBER(somaxconn),
    BYTES(rmem_default),
    BYTES(wmem_default),
    NUMBER(ephemeral_port_min),
    NUMBER(ephemeral_port_max),
    NUMBER(trace_capacity),
    NUMBER(outbox_max),
    MS(delack_ms),
    NUMBER(init_cwnd),
    TEXT(congestion_control),
    MS(keepalive_time_ms),
    MS(keepalive_intvl_ms),
    NUMBER(keepalive_probes),
    NUMBER(max_syn_backlog),
    NUMBER(syncookies),
    NUMBER(abort_on_overflow),
    NUMBER(challenge_ack_limit),
    NUMBER(rfc1337),
    BYTES(ofo_budget),
    MS(icmp_ratelimit_ms),
    NUMBER(icmp_ratelimit_burst),
    BYTES(min_pmtu),
    MS(invalid_ratelimit_ms),
    BYTES(ipfrag_high_thresh),
    MS(ipfrag_time_ms),
    NUMBER(ipfrag_max_frags),
    NUMBER(hystart),
    /* RFC 7323 and the buffers */
    NUMBER(window_scaling),
    NUMBER(timestamps),
    BYTES(rmem_min),
    BYTES(rmem_max),
    BYTES(wmem_min),
    BYTES(wmem_max),
    NUMBER(ecn),
    NUMBER(ecn_fallback),
    /* SACK and loss recovery (issue 13). */
    NUMBER(sack),
    NUMBER(dsack),
    NUMBER(reordering),
    NUMBER(recovery),
    NUMBER(frto),
    /* Routing (issue 17 items 1 and 4). */
    NUMBER(prefix_len),
    NUMBER(max_addrs),
    NUMBER(max_routes),
    /* Socket calls (issue 17 item 11). */
    NUMBER(max_quickacks),
    /* TCP Fast Open (RFC 7413) */
    NUMBER(fastopen),
    NUMBER(fastopen_cache_size),
    /* IPv6 routes (issue 14). */
    NUMBER(prefix_len6),
    /* Pacing (issue 13) */
    NUMBER(pacing),
    NUMBER(pacing_ss_ratio),
    NUMBER(pacing_ca_ratio),
    /* HyStart++'s exit signals (issue 13) */
    NUMBER(hystart_detect),
    /* Object caches (issue 16) */
    NUMBER(pool_keep_pct),
    /* Memory (issue 16 item 4) */
    NUMBER(packet_pool_trim_ms),
    /* Memory (issue 16 item 4, idle endpoints) */
    NUMBER(pool_trim_ms),
};

#define NSETTINGS (sizeof(SETTINGS) / sizeof(SETTINGS[0]))

size_t settings_count(void)
{
	return NSETTINGS;
}

const struct setting *settings_at(size_t i)
{
	return i < NSETTINGS ? &SETTINGS[i] : NULL;
}

/* Older names still taken by --set: the initial buffer sizes were
 * rcvbuf and sndbuf before Linux's rmem_default and wmem_default. */
static const char *const ALIASES[][2] = {
    {"rcvbuf", "rmem_default"},
    {"sndbuf", "wmem_default"},
};

const struct setting *settings_find(const char *name)
{
	for (size_t i = 0; i < sizeof(ALIASES) / sizeof(ALIASES[0]); i++)
		if (strcmp(ALIASES[i][0], name) == 0)
			name = ALIASES[i][1];
	for (size_t i = 0; i < NSETTINGS; i++)
		if (strcmp(SETTINGS[i].name, name) == 0)
			return &SETTINGS[i];
	return NULL;
}

static uint64_t field_max(size_t size)
{
	return size >= 8 ? UINT64_MAX : (1ull << (8 * size)) - 1;
}

static void field_write(void *p, size_t size, uint64_t v)
{
	uint8_t u8 = (uint8_t)v;
	uint16_t u16 = (uint16_t)v;
	uint32_t u32 = (uint32_t)v;
	const void *src = size == 1   ? (const void *)&u8
	                  : size == 2 ? (const void *)&u16
	                  : size == 4 ? (const void *)&u32
	                              : (const void *)&v;
	memcpy(p, src, size);
}

static uint64_t field_read(const void *p, size_t size)
{
	uint8_t u8;
	uint16_t u16;
	uint32_t u32;
	uint64_t u64;
	switch (size) {
	case 1:
		memcpy(&u8, p, 1);
		return u8;
	case 2:
		memcpy(&u16, p, 2);
		return u16;
	case 4:
		memcpy(&u32, p, 4);
		return u32;
	default:
		memcpy(&u64, p, 8);
		return u64;
	}
}

int settings_set(const char *flag, const struct setting *row, const char *value,
                 struct synack_config *cfg, char *err, size_t errlen)
{
	uint8_t *field = (uint8_t *)cfg + row->offset;
	uint64_t max = field_max(row->size), v;
	int rc;
	switch (row->kind) {
	case SETTING_TEXT: {
		size_t n = strlen(value);
		if (n == 0 || n >= row->size) {
			snprintf(err, errlen, "%s %s: '%s' is not a name of 1 to %zu characters",
			         flag, row->name, value, row->size - 1);
			return -1;
		}
		memset(field, 0, row->size);
		memcpy(field, value, n);
		return 0;
	}
	case SETTING_MS:
		rc = cli_flag_time_ms(flag, value, max, &v, err, errlen);
		break;
	case SETTING_BYTES:
		rc = cli_flag_bytes(flag, value, max, &v, err, errlen);
		break;
	default:
		rc = cli_flag_u64(flag, value, max, &v, err, errlen);
		break;
	}
	if (rc != 0)
		return -1;
	field_write(field, row->size, v);
	return 0;
}

int settings_parse(const char *flag, const char *name_value, struct synack_config *cfg, char *err,
                   size_t errlen)
{
	const char *eq = strchr(name_value, '=');
	char name[64];
	size_t n = eq ? (size_t)(eq - name_value) : 0;
	if (!eq || n == 0 || n >= sizeof(name)) {
		snprintf(err, errlen, "%s: '%s' is not NAME=VALUE", flag, name_value);
		return -1;
	}
	memcpy(name, name_value, n);
	name[n] = 0;
	const struct setting *row = settings_find(name);
	if (!row) {
		int w = snprintf(err, errlen, "%s: unknown setting '%s' (the settings are:", flag,
		                 name);
		for (size_t i = 0; i < NSETTINGS && w >= 0 && (size_t)w < errlen; i++)
			w += snprintf(err + w, errlen - (size_t)w, "%s %s", i ? "," : "",
			              SETTINGS[i].name);
		if (w >= 0 && (size_t)w < errlen)
			snprintf(err + w, errlen - (size_t)w, ")");
		return -1;
	}
	/* The flag's name in messages about the value: "--set time_wait_ms". */
	char what[96];
	snprintf(what, sizeof(what), "%s %s", flag, name);
	if (settings_set(what, row, eq + 1, cfg, err, errlen) != 0)
		return -1;
	return (int)(row - SETTINGS);
}

void settings_str(const struct setting *row, const struct synack_config *cfg, char *buf, size_t len)
{
	const uint8_t *field = (const uint8_t *)cfg + row->offset;
	if (row->kind == SETTING_TEXT)
		snprintf(buf, len, "%.*s", (int)row->size, (const char *)field);
	else
		snprintf(buf, len, "%llu", (unsigned long long)field_read(field, row->size));
}

void settings_names(FILE *out, const char *indent, int width)
{
	int col = 0;
	for (size_t i = 0; i < NSETTINGS; i++) {
		int n = (int)strlen(SETTINGS[i].name) + (i + 1 < NSETTINGS ? 1 : 0);
		if (col == 0 || col + 1 + n > width) {
			if (col)
				fputc('\n', out);
			col = fprintf(out, "%s%s%s", indent, SETTINGS[i].name,
			              i + 1 < NSETTINGS ? "," : "");
			continue;
		}
		col += fprintf(out, " %s%s", SETTINGS[i].name, i + 1 < NSETTINGS ? "," : "");
	}
	fputc('\n', out);
}
