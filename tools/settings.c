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
    /* Bulk receive (issue 16 item 2) */
    NUMBER(ack_on_read),
    NUMBER(max_reordering),
};

#define NSETTINGS (sizeof(SETTINGS) / sizeof(SETTINGS[0]))

/* clang-format off */
#define LFIELD(f) offsetof(struct synack_link_config, f), sizeof(((struct synack_link_config *)0)->f)
#define LNUMBER(f) {#f, SETTING_NUMBER, LFIELD(f)}
#define LMS(f) {#f, SETTING_MS, LFIELD(f)}
/* clang-format on */

/*
 * The link's settings, in struct synack_link_config order.  Left out: the
 * addresses and prefixes and the MAC (--addr, --gw), and txqueuelen, which
 * --txqueuelen sets (it also changes a device that exists).
 */
static const struct setting LINK_SETTINGS[] = {
    /* ARP (RFC 826), after Linux's neighbour settings */
    LMS(arp_lifetime_ms),
    LMS(arp_retry_ms),
    LNUMBER(arp_retries),
    LNUMBER(arp_queue_len),
    LNUMBER(arp_cache_max),
    LNUMBER(gratuitous_arp),
    LNUMBER(read_batch),
    /* Offloads (issue 16 item 2): as --no-csum-offload, --no-gro, --no-tso,
     * --no-csum-trust */
    LNUMBER(csum_offload),
    LNUMBER(gro),
    LNUMBER(tso),
    LNUMBER(csum_trust),
    /* Neighbour discovery: RFC 4861 10's constants */
    LMS(nd_reachable_ms),
    LMS(nd_retrans_ms),
    LMS(nd_delay_first_probe_ms),
    LNUMBER(nd_max_multicast_solicit),
    LNUMBER(nd_max_unicast_solicit),
    LNUMBER(nd_queue_len),
    LNUMBER(nd_cache_max),
    /* Bring-up (issue 15) */
    LMS(link_up_wait_ms),
};

#define NLINK_SETTINGS (sizeof(LINK_SETTINGS) / sizeof(LINK_SETTINGS[0]))

size_t link_settings_count(void)
{
	return NLINK_SETTINGS;
}

const struct setting *link_settings_at(size_t i)
{
	return i < NLINK_SETTINGS ? &LINK_SETTINGS[i] : NULL;
}

const struct setting *link_settings_find(const char *name)
{
	for (size_t i = 0; i < NLINK_SETTINGS; i++)
		if (strcmp(LINK_SETTINGS[i].name, name) == 0)
			return &LINK_SETTINGS[i];
	return NULL;
}

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

/* The row's field in the struct at base (a synack_config or a
 * synack_link_config) takes value. */
static int field_set(const char *flag, const struct setting *row, const char *value, void *base,
                     char *err, size_t errlen)
{
	uint8_t *field = (uint8_t *)base + row->offset;
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

int settings_set(const char *flag, const struct setting *row, const char *value,
                 struct synack_config *cfg, char *err, size_t errlen)
{
	return field_set(flag, row, value, cfg, err, errlen);
}

int link_settings_set(const char *flag, const struct setting *row, const char *value,
                      struct synack_link_config *lc, char *err, size_t errlen)
{
	return field_set(flag, row, value, lc, err, errlen);
}

/* Appends ", name" for each of the n rows to err, which holds w bytes. */
static int list_names(char *err, size_t errlen, int w, const struct setting *rows, size_t n)
{
	for (size_t i = 0; i < n && w >= 0 && (size_t)w < errlen; i++)
		w += snprintf(err + w, errlen - (size_t)w, "%s %s", i ? "," : "", rows[i].name);
	return w;
}

int settings_parse_link(const char *flag, const char *name_value, struct synack_config *cfg,
                        struct synack_link_config *lc, const struct setting **row, char *err,
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
	const struct setting *r = settings_find(name);
	int link = 0;
	if (!r && lc) {
		r = link_settings_find(name);
		link = 1;
	}
	if (!r) {
		int w = snprintf(err, errlen, "%s: unknown setting '%s' (the settings are:", flag,
		                 name);
		w = list_names(err, errlen, w, SETTINGS, NSETTINGS);
		if (lc && w >= 0 && (size_t)w < errlen) {
			w += snprintf(err + w, errlen - (size_t)w, "; of the link:");
			w = list_names(err, errlen, w, LINK_SETTINGS, NLINK_SETTINGS);
		}
		if (w >= 0 && (size_t)w < errlen)
			snprintf(err + w, errlen - (size_t)w, ")");
		return -1;
	}
	/* The flag's name in messages about the value: "--set time_wait_ms". */
	char what[96];
	snprintf(what, sizeof(what), "%s %s", flag, name);
	if (field_set(what, r, eq + 1, link ? (void *)lc : (void *)cfg, err, errlen) != 0)
		return -1;
	*row = r;
	return link;
}

int settings_parse(const char *flag, const char *name_value, struct synack_config *cfg, char *err,
                   size_t errlen)
{
	const struct setting *row;
	if (settings_parse_link(flag, name_value, cfg, NULL, &row, err, errlen) < 0)
		return -1;
	return (int)(row - SETTINGS);
}

static void field_str(const struct setting *row, const void *base, char *buf, size_t len)
{
	const uint8_t *field = (const uint8_t *)base + row->offset;
	if (row->kind == SETTING_TEXT)
		snprintf(buf, len, "%.*s", (int)row->size, (const char *)field);
	else
		snprintf(buf, len, "%llu", (unsigned long long)field_read(field, row->size));
}

void settings_str(const struct setting *row, const struct synack_config *cfg, char *buf, size_t len)
{
	field_str(row, cfg, buf, len);
}

void link_settings_str(const struct setting *row, const struct synack_link_config *lc, char *buf,
                       size_t len)
{
	field_str(row, lc, buf, len);
}

/* The names of the n rows, wrapped at width columns, each line indented. */
static void names_of(FILE *out, const struct setting *rows, size_t n, const char *indent, int width)
{
	int col = 0;
	for (size_t i = 0; i < n; i++) {
		int len = (int)strlen(rows[i].name) + (i + 1 < n ? 1 : 0);
		if (col == 0 || col + 1 + len > width) {
			if (col)
				fputc('\n', out);
			col = fprintf(out, "%s%s%s", indent, rows[i].name, i + 1 < n ? "," : "");
			continue;
		}
		col += fprintf(out, " %s%s", rows[i].name, i + 1 < n ? "," : "");
	}
	fputc('\n', out);
}

void settings_names(FILE *out, const char *indent, int width)
{
	names_of(out, SETTINGS, NSETTINGS, indent, width);
}

void link_settings_names(FILE *out, const char *indent, int width)
{
	names_of(out, LINK_SETTINGS, NLINK_SETTINGS, indent, width);
}
