#include "net.h"

#include <errno.h>
#include <net/if.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cli.h"
#include "impair_flags.h"
#include "settings.h"
#include "wire/wire6.h"

/* The named flags of settings: "--time-wait-ms" sets time_wait_ms. */
static const char *const SETTING_FLAGS[] = {
    "--time-wait-ms",      "--fin-timeout-ms",     "--syn-retries",      "--orphan-retries",
    "--keepalive-time-ms", "--keepalive-intvl-ms", "--keepalive-probes",
};
#define NSETTING_FLAGS (sizeof(SETTING_FLAGS) / sizeof(SETTING_FLAGS[0]))

_Static_assert(8 * sizeof(((struct net_opts *)0)->given) >= NET_MAX_SETTINGS,
               "given holds NET_MAX_SETTINGS settings");
_Static_assert(8 * sizeof(((struct net_opts *)0)->link_given) >= 64, "link_given holds 64");

void net_opts_default(struct net_opts *o, const char *prog)
{
	memset(o, 0, sizeof(*o));
	o->prog = prog;
	o->seed = 1;
	synack_config_default(&o->cfg);
	synack_link_config_default(&o->link);
	o->user_timeout_ms = -1;
}

/* "--time-wait-ms" -> the row of time_wait_ms. */
static const struct setting *setting_of_flag(const char *flag)
{
	char name[32];
	size_t n = strlen(flag + 2);
	if (n >= sizeof(name))
		return NULL;
	for (size_t i = 0; i <= n; i++)
		name[i] = flag[2 + i] == '-' ? '_' : flag[2 + i];
	return settings_find(name);
}

static void mark_given(struct net_opts *o, const struct setting *row)
{
	size_t i = 0;
	while (settings_at(i) != row)
		i++;
	if (i < NET_MAX_SETTINGS) /* test_cli checks that every row fits */
		o->given[i / 64] |= 1ull << (i % 64);
}

int net_setting_given(const struct net_opts *o, size_t i)
{
	return i < NET_MAX_SETTINGS && ((o->given[i / 64] >> (i % 64)) & 1);
}

static int given(const struct net_opts *o, const char *name)
{
	for (size_t i = 0; i < settings_count(); i++)
		if (strcmp(settings_at(i)->name, name) == 0)
			return net_setting_given(o, i);
	return 0;
}

/* Takes --set, the named setting flags, --keepalive and --user-timeout-ms:
 * 1 taken, 0 not one of them, -1 a bad value. */
static int parse_setting_flag(int argc, char **argv, int *i, struct net_opts *o, char *err,
                              size_t errlen)
{
	static const char *const NAMES[] = {"--set", "--user-timeout-ms"};
	const char *a = argv[*i], *val;
	if (strcmp(a, "--keepalive") == 0) {
		o->keepalive = 1;
		return 1;
	}
	int k = cli_flag_value(argc, argv, i, NAMES, 2, &val, err, errlen);
	if (k == -2)
		return -1;
	if (k == 0) {
		const struct setting *row;
		int link = settings_parse_link("--set", val, &o->cfg, &o->link, &row, err, errlen);
		if (link < 0)
			return -1;
		if (!link)
			mark_given(o, row);
		else
			o->link_given |= 1ull << (row - link_settings_at(0));
		return 1;
	}
	if (k == 1) {
		uint64_t ms;
		if (cli_flag_time_ms("--user-timeout-ms", val, NET_MAX_USER_TIMEOUT_MS, &ms, err,
		                     errlen) != 0)
			return -1;
		o->user_timeout_ms = (int64_t)ms;
		return 1;
	}
	k = cli_flag_value(argc, argv, i, SETTING_FLAGS, NSETTING_FLAGS, &val, err, errlen);
	if (k == -2)
		return -1;
	if (k < 0)
		return 0;
	const struct setting *row = setting_of_flag(SETTING_FLAGS[k]);
	if (settings_set(SETTING_FLAGS[k], row, val, &o->cfg, err, errlen) != 0)
		return -1;
	mark_given(o, row);
	/* Keepalive settings given by name mean keepalive is wanted. */
	if (strncmp(SETTING_FLAGS[k], "--keepalive-", 12) == 0)
		o->keepalive = 1;
	return 1;
}

int net_parse_cidr(const char *s, uint32_t *addr, uint32_t *prefix_len)
{
	const char *slash = s ? strchr(s, '/') : NULL;
	if (!slash || slash == s || (size_t)(slash - s) > 15)
		return -1;
	char a[16];
	memcpy(a, s, (size_t)(slash - s));
	a[slash - s] = 0;
	struct synack_endpoint ep;
	uint64_t plen;
	if (strchr(a, ':') || synack_endpoint_parse(a, &ep) != 0 ||
	    cli_parse_u64(slash + 1, 32, &plen) != 0 || plen == 0)
		return -1;
	*addr = ep.addr;
	*prefix_len = (uint32_t)plen;
	return 0;
}

int net_parse_cidr6(const char *s, uint8_t addr[16], uint32_t *prefix_len)
{
	const char *slash = s ? strchr(s, '/') : NULL;
	uint64_t plen;
	if (!slash || slash == s || wire_addr6_parse(s, (size_t)(slash - s), addr) != 0 ||
	    cli_parse_u64(slash + 1, 128, &plen) != 0 || plen == 0)
		return -1;
	*prefix_len = (uint32_t)plen;
	return 0;
}

/* RFC 4291 2.4: an address one interface may hold: not ::, ::1,
 * multicast, IPv4-mapped or IPv4-compatible (::a.b.c.d, deprecated). */
static int unicast6(const uint8_t a[16])
{
	static const uint8_t zero[12], mapped[12] = {[10] = 0xff, [11] = 0xff};
	return a[0] != 0xff && memcmp(a, mapped, 12) != 0 && memcmp(a, zero, 12) != 0;
}

static int link_local6(const uint8_t a[16])
{
	return a[0] == 0xfe && (a[1] & 0xc0) == 0x80;
}

/* Whether a lies on the prefix of an IPv6 --addr (or is link-local). */
static int on_link6(const struct net_opts *o, const uint8_t a[16])
{
	if (link_local6(a))
		return 1;
	for (int i = -1; i < o->naddrs; i++) {
		if (i >= 0 && o->addrs[i].family != SYNACK_AF_INET6)
			continue;
		if (i < 0 && !o->have_addr6)
			continue;
		const uint8_t *ours = i < 0 ? o->addr6 : o->addrs[i].addr6;
		uint32_t len = i < 0 ? o->prefix6_len : o->addrs[i].len;
		uint32_t whole = len / 8, bits = len % 8;
		if (memcmp(a, ours, whole) == 0 &&
		    (bits == 0 || ((a[whole] ^ ours[whole]) & (0xff00u >> bits)) == 0))
			return 1;
	}
	return 0;
}

/* --addr with an IPv6 prefix: the stack's IPv6 address (the first), or
 * another one. */
static int add_addr6(struct net_opts *o, const char *val, char *err, size_t errlen)
{
	uint8_t a[16];
	uint32_t len;
	if (net_parse_cidr6(val, a, &len) != 0 || !unicast6(a)) {
		snprintf(err, errlen,
		         "--addr: '%s' is not a unicast IPv6 address with a prefix length "
		         "(2001:db8::2/64, the length in 1..128)",
		         val);
		return -1;
	}
	if (!o->have_addr6) {
		memcpy(o->addr6, a, 16);
		o->prefix6_len = len;
		o->have_addr6 = 1;
		return 1;
	}
	if (o->naddrs >= NET_MAX_ADDRS) {
		snprintf(err, errlen, "--addr: more than %d addresses", NET_MAX_ADDRS + 1);
		return -1;
	}
	struct synack_prefix *p = &o->addrs[o->naddrs++];
	*p = (struct synack_prefix){.family = SYNACK_AF_INET6, .len = (uint8_t)len};
	memcpy(p->addr6, a, 16);
	return 1;
}

/* --gw with an IPv6 address: the IPv6 default gateway (one). */
static int parse_gateway6(struct net_opts *o, const char *val, char *err, size_t errlen)
{
	if (wire_addr6_parse(val, strlen(val), o->gw6) != 0 || !unicast6(o->gw6)) {
		snprintf(err, errlen, "--gw: '%s' is not a gateway's IPv6 address (2001:db8::1)",
		         val);
		return -1;
	}
	if (o->have_gw6) {
		snprintf(err, errlen, "--gw: a second IPv6 default gateway ('%s')", val);
		return -1;
	}
	o->have_gw6 = 1;
	/* The stack's IPv6 default route (issue 14): its next hop is what
	 * the link resolves with neighbour discovery. */
	if (o->nroutes >= NET_MAX_ROUTES) {
		snprintf(err, errlen, "--gw: more than %d routes", NET_MAX_ROUTES);
		return -1;
	}
	struct net_route *r = &o->routes[o->nroutes++];
	memset(r, 0, sizeof(*r));
	r->dst.family = SYNACK_AF_INET6;
	memcpy(r->via6, o->gw6, 16);
	r->flag = "--gw";
	return 1;
}

/* --route PREFIX6 [via ADDR6]: an IPv6 route of the stack. */
static int parse_route6(int argc, char **argv, int *i, struct net_opts *o, const char *val,
                        char *err, size_t errlen)
{
	struct synack_prefix dst;
	int ok = synack_prefix_parse(val, &dst) == 0 && dst.family == SYNACK_AF_INET6;
	for (unsigned b = ok ? dst.len : 128; b < 128; b++)
		if (dst.addr6[b / 8] & (0x80u >> (b % 8)))
			ok = 0;
	if (!ok) {
		snprintf(
		    err, errlen,
		    "--route: '%s' is not an IPv6 destination prefix (2001:db8:1::/48 with the "
		    "host bits zero)",
		    val);
		return -1;
	}
	uint8_t via6[16] = {0};
	if (*i + 1 < argc && strcmp(argv[*i + 1], "via") == 0) {
		const char *g = *i + 2 < argc ? argv[*i + 2] : NULL;
		if (!g || wire_addr6_parse(g, strlen(g), via6) != 0 || !unicast6(via6)) {
			snprintf(err, errlen,
			         "--route %s via: needs the gateway's IPv6 address (2001:db8::1)",
			         val);
			return -1;
		}
		*i += 2;
	}
	if (o->nroutes >= NET_MAX_ROUTES) {
		snprintf(err, errlen, "--route: more than %d routes", NET_MAX_ROUTES);
		return -1;
	}
	struct net_route *r = &o->routes[o->nroutes++];
	memset(r, 0, sizeof(*r));
	r->dst = dst;
	memcpy(r->via6, via6, 16);
	r->flag = "--route";
	return 1;
}

/* A gateway's address: one unicast IPv4 address. */
static int parse_gateway(const char *flag, const char *val, uint32_t *out, char *err, size_t errlen)
{
	struct synack_prefix p;
	if (synack_prefix_parse(val, &p) != 0 || p.len != 32 || strcmp(val, "default") == 0 ||
	    p.addr == 0 || p.addr == 0xffffffffu || (p.addr >> 28) >= 0xe) {
		snprintf(err, errlen, "%s: '%s' is not a gateway's IPv4 address (A.B.C.D)", flag,
		         val);
		return -1;
	}
	*out = p.addr;
	return 0;
}

static int add_route(struct net_opts *o, const char *flag, const struct synack_prefix *dst,
                     uint32_t via, char *err, size_t errlen)
{
	if (o->nroutes >= NET_MAX_ROUTES) {
		snprintf(err, errlen, "%s: more than %d routes", flag, NET_MAX_ROUTES);
		return -1;
	}
	o->routes[o->nroutes++] = (struct net_route){.dst = *dst, .via = via, .flag = flag};
	return 1;
}

/* --addr after the first: another address of the stack. */
static int add_addr(struct net_opts *o, const char *val, char *err, size_t errlen)
{
	uint32_t a, len;
	if (net_parse_cidr(val, &a, &len) != 0 || a == 0 || a == 0xffffffffu || (a >> 28) >= 0xe ||
	    (a >> 24) == 0 || (a >> 24) == 127) {
		snprintf(err, errlen,
		         "--addr: '%s' is not a unicast IPv4 address with a prefix length "
		         "(A.B.C.D/NN, NN in 1..32)",
		         val);
		return -1;
	}
	if (o->naddrs >= NET_MAX_ADDRS) {
		snprintf(err, errlen, "--addr: more than %d addresses", NET_MAX_ADDRS + 1);
		return -1;
	}
	o->addrs[o->naddrs++] =
	    (struct synack_prefix){.addr = a, .family = SYNACK_AF_INET, .len = (uint8_t)len};
	return 1;
}

/* --gw ADDR (the default route) and --route PREFIX [via ADDR]. */
static int parse_route_flag(int argc, char **argv, int *i, struct net_opts *o, char *err,
                            size_t errlen)
{
	static const char *const NAMES[] = {"--gw", "--route"};
	const char *val;
	int k = cli_flag_value(argc, argv, i, NAMES, 2, &val, err, errlen);
	if (k < 0)
		return k == -1 ? 0 : -1;
	struct synack_prefix dst = {.family = SYNACK_AF_INET};
	uint32_t via = 0;
	if (k == 0) {
		if (strchr(val, ':'))
			return parse_gateway6(o, val, err, errlen);
		if (parse_gateway("--gw", val, &via, err, errlen) != 0)
			return -1;
		return add_route(o, "--gw", &dst, via, err, errlen);
	}
	if (strchr(val, ':'))
		return parse_route6(argc, argv, i, o, val, err, errlen);
	int rc = synack_prefix_parse(val, &dst);
	uint32_t host = dst.len
	                    ? dst.addr & ~(dst.len >= 32 ? 0xffffffffu : ~(0xffffffffu >> dst.len))
	                    : dst.addr;
	if (rc != 0 || host != 0) {
		snprintf(err, errlen,
		         "--route: '%s' is not a destination prefix (A.B.C.D/NN with the host bits "
		         "zero, or default)",
		         val);
		return -1;
	}
	if (*i + 1 < argc && strcmp(argv[*i + 1], "via") == 0) {
		if (*i + 2 >= argc) {
			snprintf(err, errlen, "--route %s via: needs the gateway's address", val);
			return -1;
		}
		if (parse_gateway("--route", argv[*i + 2], &via, err, errlen) != 0)
			return -1;
		*i += 2;
	}
	return add_route(o, "--route", &dst, via, err, errlen);
}

int net_parse_flag(int argc, char **argv, int *i, struct net_opts *o, char *err, size_t errlen)
{
	static const char *const NAMES[] = {"--dev", "--addr", "--pcap", "--txqueuelen"};
	const struct impair_flags imp = {
	    .loss = &o->loss,
	    .dup = &o->dup,
	    .reorder = &o->reorder,
	    .delay_ms = &o->delay_ms,
	    .max_ms = NET_MAX_DELAY_MS,
	    .seed = &o->seed,
	};
	const char *a = argv[*i];
	if (strcmp(a, "--create") == 0) {
		o->create = 1;
		return 1;
	}
	if (strcmp(a, "--no-csum-offload") == 0 || strcmp(a, "--no-gro") == 0 ||
	    strcmp(a, "--no-tso") == 0) {
		int *off = a[5] == 'c'   ? &o->no_csum_offload
		           : a[5] == 'g' ? &o->no_gro
		                         : &o->no_tso;
		*off = 1;
		return 1;
	}
	if (strcmp(a, "--no-csum-trust") == 0) {
		o->no_csum_trust = 1;
		return 1;
	}
	if (strcmp(a, "--routes") == 0) {
		o->print_routes = 1;
		return 1;
	}
	int taken = parse_route_flag(argc, argv, i, o, err, errlen);
	if (taken != 0)
		return taken;
	taken = parse_setting_flag(argc, argv, i, o, err, errlen);
	if (taken != 0)
		return taken;
	if (strcmp(a, "--tap") == 0 || strcmp(a, "--tun") == 0) {
		int kind = a[3] == 'a' ? SYNACK_LINK_TAP : SYNACK_LINK_TUN;
		if (o->kind && o->kind != kind) {
			snprintf(err, errlen, "--tap and --tun exclude each other");
			return -1;
		}
		o->kind = kind;
		return 1;
	}
	taken = impair_flags_parse(argc, argv, i, &imp, err, errlen);
	if (taken != 0)
		return taken;
	const char *val;
	int k = cli_flag_value(argc, argv, i, NAMES, sizeof(NAMES) / sizeof(NAMES[0]), &val, err,
	                       errlen);
	if (k == -1)
		return 0;
	if (k == -2)
		return -1;
	switch (k) {
	case 0:
		if (!*val) {
			snprintf(err, errlen, "--dev: the device name is empty");
			return -1;
		}
		o->dev = val;
		return 1;
	case 1:
		if (strchr(val, ':'))
			return add_addr6(o, val, err, errlen);
		if (o->have_addr)
			return add_addr(o, val, err, errlen);
		if (net_parse_cidr(val, &o->addr, &o->prefix_len) != 0) {
			snprintf(err, errlen,
			         "--addr: '%s' is not an IPv4 address with a prefix length "
			         "(A.B.C.D/NN, NN in 1..32)",
			         val);
			return -1;
		}
		{
			uint32_t a4 = o->addr;
			if (a4 == 0 || a4 == 0xffffffffu || (a4 >> 28) >= 0xe || (a4 >> 24) == 0 ||
			    (a4 >> 24) == 127) {
				snprintf(err, errlen, "--addr: '%s' is not a unicast host address",
				         val);
				return -1;
			}
		}
		o->have_addr = 1;
		return 1;
	case 2:
		if (!*val) {
			snprintf(err, errlen, "--pcap: the file name is empty");
			return -1;
		}
		o->pcap = val;
		return 1;
	default: {
		uint64_t n;
		if (cli_parse_u64(val, NET_MAX_TXQUEUELEN, &n) != 0 || n == 0) {
			snprintf(err, errlen,
			         "--txqueuelen: '%s' is not a number of frames in [1, %u]", val,
			         NET_MAX_TXQUEUELEN);
			return -1;
		}
		o->txqueuelen = (uint32_t)n;
		return 1;
	}
	}
}

static struct synack_stack *scratch_stack(const struct net_opts *o, char *err, size_t errlen);

/* The link's configuration: the link settings (--set), then what the
 * flags say (the addresses, --txqueuelen, --no-csum-offload ...). */
static void link_config(const struct net_opts *o, struct synack_link_config *lc)
{
	*lc = o->link;
	lc->addr = o->addr;
	lc->prefix_len = o->prefix_len;
	if (o->have_addr6) {
		memcpy(lc->addr6, o->addr6, 16);
		lc->prefix6_len = o->prefix6_len;
	}
	if (o->have_gw6)
		memcpy(lc->gw6, o->gw6, 16);
	if (o->txqueuelen)
		lc->txqueuelen = o->txqueuelen;
	if (o->no_csum_offload)
		lc->csum_offload = 0;
	if (o->no_gro)
		lc->gro = 0;
	if (o->no_tso)
		lc->tso = 0;
	if (o->no_csum_trust)
		lc->csum_trust = 0;
}

int net_check(const struct net_opts *o, char *err, size_t errlen)
{
	if (!o->dev) {
		snprintf(err, errlen, "--dev NAME is required");
		return -1;
	}
	if (!o->kind) {
		snprintf(err, errlen, "--tap or --tun is required");
		return -1;
	}
	if (!o->have_addr) {
		snprintf(err, errlen,
		         o->have_addr6 ? "--addr A.B.C.D/NN is required (IPv6 runs beside IPv4)"
		                       : "--addr A.B.C.D/NN is required");
		return -1;
	}
	if (o->have_gw6 && !on_link6(o, o->gw6)) {
		char a[48];
		snprintf(err, errlen,
		         "--gw %s: the gateway is not on the prefix of any IPv6 --addr nor "
		         "link-local (a gateway must be on-link)",
		         wire_addr6_str(o->gw6, a, sizeof(a)));
		return -1;
	}
	/* The settings as the stack will see them (the device's MTU is not
	 * known yet: the default stands in for it). */
	struct synack_config cfg = o->cfg;
	cfg.addr = o->addr;
	if (o->have_addr6)
		memcpy(cfg.addr6, o->addr6, 16);
	if (!given(o, "prefix_len"))
		cfg.prefix_len = o->prefix_len;
	if (o->have_addr6 && !given(o, "prefix_len6"))
		cfg.prefix_len6 = o->prefix6_len;
	if (synack_config_check(&cfg, err, errlen) != 0)
		return -1;
	/* The link's, as the link will see them. */
	struct synack_link_config lc;
	link_config(o, &lc);
	if (synack_link_config_check(&lc, err, errlen) != 0)
		return -1;
	/* The addresses and routes, tried on a stack of their own so that a
	 * gateway off every prefix is refused before the device is touched. */
	struct synack_stack *st = scratch_stack(o, err, errlen);
	if (!st)
		return -1;
	synack_stack_free(st);
	return 0;
}

/* A stack with o's settings, addresses and routes, without a device. */
static struct synack_stack *scratch_stack(const struct net_opts *o, char *err, size_t errlen)
{
	struct synack_config cfg = o->cfg;
	cfg.addr = o->addr;
	if (o->have_addr6)
		memcpy(cfg.addr6, o->addr6, 16);
	if (!given(o, "prefix_len"))
		cfg.prefix_len = o->prefix_len;
	if (o->have_addr6 && !given(o, "prefix_len6"))
		cfg.prefix_len6 = o->prefix6_len;
	cfg.trace_capacity = 0;
	int rc;
	struct synack_stack *st = synack_stack_new(&cfg, &rc);
	if (!st) {
		snprintf(err, errlen, "cannot create the stack: %s", synack_strerror(rc));
		return NULL;
	}
	if (net_apply_routes(o, st, NULL, err, errlen) != 0) {
		synack_stack_free(st);
		return NULL;
	}
	return st;
}

/* Whether a is the broadcast address of the prefix of an --addr. */
static int is_directed_broadcast(const struct net_opts *o, uint32_t a)
{
	for (int i = -1; i < o->naddrs; i++) {
		uint32_t len = i < 0 ? o->prefix_len : o->addrs[i].len;
		uint32_t ours = i < 0 ? o->addr : o->addrs[i].addr;
		uint32_t mask = len >= 32 ? 0xffffffffu : len ? ~(0xffffffffu >> len) : 0;
		if (len < 31 && (a & mask) == (ours & mask) && (a | mask) == 0xffffffffu)
			return 1;
	}
	return 0;
}

/* An IPv6 peer: on the prefix of an IPv6 --addr, link-local (TAP), or
 * behind the IPv6 --gw. */
static int check_reach6(const struct net_opts *o, const uint8_t a[16], char *err, size_t errlen)
{
	char host[48];
	wire_addr6_str(a, host, sizeof(host));
	if (!o->have_addr6) {
		snprintf(err, errlen,
		         "%s: an IPv6 peer needs an IPv6 --addr (2001:db8::2/64) beside the "
		         "IPv4 one (network unreachable)",
		         host);
		return -1;
	}
	if (!unicast6(a)) {
		snprintf(err, errlen,
		         "%s: not a unicast address (TCP connects to one host; network "
		         "unreachable)",
		         host);
		return -1;
	}
	if (link_local6(a) && o->kind != SYNACK_LINK_TAP) {
		snprintf(err, errlen, "%s: link-local addresses are reached over --tap only", host);
		return -1;
	}
	if (on_link6(o, a) || o->have_gw6)
		return 0;
	/* An IPv6 --route that covers it. */
	struct synack_stack *st = scratch_stack(o, err, errlen);
	if (!st)
		return -1;
	struct synack_endpoint peer = {.family = SYNACK_AF_INET6};
	memcpy(peer.addr6, a, 16);
	struct synack_route r;
	int rc = synack_route_get(st, &peer, &r);
	synack_stack_free(st);
	if (rc == 0)
		return 0;
	snprintf(err, errlen,
	         "%s: no route to it (network unreachable): it is off the prefix of every IPv6 "
	         "--addr and no IPv6 --gw or --route covers it",
	         host);
	return -1;
}

int net_check_reach(const struct net_opts *o, const struct synack_endpoint *peer, char *err,
                    size_t errlen)
{
	if (peer->family == SYNACK_AF_INET6)
		return check_reach6(o, peer->addr6, err, errlen);
	struct synack_stack *st = scratch_stack(o, err, errlen);
	if (!st)
		return -1;
	struct synack_route r;
	int rc = synack_route_get(st, peer, &r);
	synack_stack_free(st);
	if (rc == 0)
		return 0;
	char host[24], a[24];
	struct synack_endpoint h = *peer;
	h.port = 0;
	synack_endpoint_str(&h, host, sizeof(host));
	char *colon = strrchr(host, ':');
	if (colon)
		*colon = 0;
	struct synack_prefix first = {.addr = o->addr, .len = (uint8_t)o->prefix_len};
	if (peer->addr == 0xffffffffu || (peer->addr >> 28) == 0xe ||
	    is_directed_broadcast(o, peer->addr)) {
		snprintf(err, errlen,
		         "%s: a broadcast or multicast address (TCP connects to one host; "
		         "network unreachable)",
		         host);
		return -1;
	}
	snprintf(err, errlen,
	         "%s: no route to it (network unreachable): it is off the prefix of --addr %s%s "
	         "and no --gw or --route covers it",
	         host, synack_prefix_str(&first, a, sizeof(a)), o->naddrs ? " and the others" : "");
	return -1;
}

int net_apply_routes(const struct net_opts *o, struct synack_stack *st, struct synack_link *link,
                     char *err, size_t errlen)
{
	char a[64], b[64];
	/* The link-local address the TAP link answers for (made from its
	 * MAC): the stack's too once it takes IPv6 addresses besides addr6
	 * (synack_addr_add refuses IPv6 with -EAFNOSUPPORT until then, and
	 * the link still answers neighbour discovery for it). */
	struct synack_prefix ll = {.family = SYNACK_AF_INET6, .len = 64};
	if (o->have_addr6 && link && synack_link_addr6_link_local(link, ll.addr6)) {
		int rc = synack_addr_add(st, &ll);
		if (rc && rc != -EAFNOSUPPORT && rc != -EEXIST) {
			snprintf(err, errlen, "the link-local address %s: %s",
			         synack_prefix_str(&ll, a, sizeof(a)), synack_strerror(rc));
			return -1;
		}
	}
	for (int i = 0; i < o->naddrs; i++) {
		const struct synack_prefix *p = &o->addrs[i];
		int rc = synack_addr_add(st, p);
		if (rc == 0 && link)
			rc = p->family == SYNACK_AF_INET6
			         ? synack_link_add_addr6(link, p->addr6, p->len)
			         : synack_link_add_addr(link, p->addr, p->len);
		if (rc && p->family == SYNACK_AF_INET6) {
			snprintf(err, errlen, "--addr %s/%u: %s",
			         wire_addr6_str(p->addr6, a, sizeof(a)), (unsigned)p->len,
			         rc == -EAFNOSUPPORT
			             ? "a second IPv6 address is not taken yet (one IPv6 --addr)"
			         : rc == -EEXIST ? "given twice"
			                         : synack_strerror(rc));
			return -1;
		}
		if (rc) {
			snprintf(err, errlen, "--addr %s: %s",
			         synack_prefix_str(&o->addrs[i], a, sizeof(a)),
			         rc == -EEXIST ? "given twice" : synack_strerror(rc));
			return -1;
		}
	}
	for (int i = 0; i < o->nroutes; i++) {
		const struct net_route *r = &o->routes[i];
		struct synack_endpoint via = {.addr = r->via};
		static const uint8_t none6[16];
		int gw = r->via != 0;
		if (r->dst.family == SYNACK_AF_INET6) {
			via.family = SYNACK_AF_INET6;
			memcpy(via.addr6, r->via6, 16);
			gw = memcmp(r->via6, none6, 16) != 0;
		}
		int rc = synack_route_add(st, &r->dst, gw ? &via : NULL);
		if (rc == 0)
			continue;
		synack_prefix_str(&r->dst, a, sizeof(a));
		synack_endpoint_str(&via, b, sizeof(b));
		char *colon = strrchr(b, ':'); /* the port */
		if (colon)
			*colon = 0;
		if (rc == -ENETUNREACH)
			snprintf(
			    err, errlen,
			    "%s %s: the gateway %s is not on the prefix of any --addr (a gateway "
			    "must be on-link)",
			    r->flag, strcmp(r->flag, "--gw") ? a : b, b);
		else if (rc == -EEXIST)
			snprintf(err, errlen, "%s: a route to %s was given twice", r->flag, a);
		else
			snprintf(err, errlen, "%s %s: %s", r->flag, a, synack_strerror(rc));
		return -1;
	}
	return 0;
}

static void ipv4_str(uint32_t a, char *buf, size_t n)
{
	snprintf(buf, n, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
}

void net_print_routes(FILE *out, const char *prefix, struct synack_stack *st)
{
	struct synack_prefix addrs[64];
	struct synack_route routes[256];
	char a[24], v[16], s[16];
	size_t na = synack_addrs(st, addrs, 64), nr = synack_routes(st, routes, 256);
	for (size_t i = 0; i < na && i < 64; i++)
		fprintf(out, "%saddr %s\n", prefix, synack_prefix_str(&addrs[i], a, sizeof(a)));
	for (size_t i = 0; i < nr && i < 256; i++) {
		const struct synack_route *r = &routes[i];
		synack_prefix_str(&r->dst, a, sizeof(a));
		ipv4_str(r->src.addr, s, sizeof(s));
		if (r->kind == SYNACK_ROUTE_GATEWAY) {
			ipv4_str(r->via.addr, v, sizeof(v));
			fprintf(out, "%sroute %s via %s src %s\n", prefix, a, v, s);
		} else {
			fprintf(out, "%sroute %s on-link src %s%s\n", prefix, a, s,
			        r->kind == SYNACK_ROUTE_CONNECTED ? " (connected)" : "");
		}
	}
}

void net_synopsis(FILE *out, const char *indent)
{
	static const char *const LINES[] = {
	    "[--set NAME=VALUE ...] [--time-wait-ms T] [--fin-timeout-ms T]",
	    "[--syn-retries N] [--orphan-retries N] [--keepalive]",
	    "[--keepalive-time-ms T] [--keepalive-intvl-ms T]",
	    "[--keepalive-probes N] [--user-timeout-ms T]",
	    "[--loss P] [--dup P] [--reorder P] [--delay-ms N] [--seed N]",
	    "[--txqueuelen N] [--gw ADDR] [--route PREFIX [via ADDR] ...] [--routes]",
	    "[--no-csum-offload] [--no-gro] [--no-tso] [--no-csum-trust]",
	};
	for (size_t i = 0; i < sizeof(LINES) / sizeof(LINES[0]); i++)
		fprintf(out, "%s%s\n", indent, LINES[i]);
}

void net_usage(FILE *out)
{
	fputs("  --dev NAME       the TUN/TAP device, opened by name; one that does not\n"
	      "                   exist is refused (make it with `ip tuntap add dev NAME\n"
	      "                   mode tap user USER`, which also lets USER open it)\n"
	      "  --create         create the device when it is missing (it is down, and\n"
	      "                   removed at exit); needs CAP_NET_ADMIN\n"
	      "  --tap | --tun    Ethernet frames with ARP, or raw IPv4 (IFF_NO_PI)\n"
	      "  --addr A.B.C.D/NN  synack's own address and the on-link prefix; the\n"
	      "                   kernel's address on the device is the peer.  Repeat it\n"
	      "                   for more addresses (each with its on-link prefix)\n"
	      "  --addr 2001:db8::2/64  an IPv6 address beside the IPv4 one (dual stack\n"
	      "                   on one device; TAP resolves neighbours with RFC 4861\n"
	      "                   and answers for the link-local fe80:: address made\n"
	      "                   from its MAC too; listeners take both families)\n"
	      "  --gw ADDR        the default route: everything off-link goes to the\n"
	      "                   gateway ADDR, which must be on the prefix of an --addr;\n"
	      "                   an IPv6 ADDR is the IPv6 default gateway (on-link or\n"
	      "                   link-local)\n"
	      "  --route PREFIX [via ADDR]  a route (repeatable): PREFIX (A.B.C.D/NN,\n"
	      "                   2001:db8:5::/48 or default) through gateway ADDR, or\n"
	      "                   on-link without via;\n"
	      "                   the longest matching prefix wins\n"
	      "  --routes         print the addresses and the routing table at start\n"
	      "  --pcap FILE      capture every frame crossing the device (classic pcap)\n"
	      "  --loss P, --dup P, --reorder P  impair every datagram sent and received\n"
	      "                   (probabilities 0..1, the simulated network's model)\n"
	      "  --delay-ms N     delay every datagram sent and received by N ms (0..60000)\n"
	      "  --seed N         seed of the impairments (default 1)\n"
	      "  --txqueuelen N   frames the kernel may queue on the device for synack to\n"
	      "                   read (1..1000000); more are dropped (dev_tx_dropped in\n"
	      "                   the stats).  A device synack creates gets 10000 without\n"
	      "                   this flag; one that exists is changed only with it\n"
	      "  --no-csum-offload  frames without a virtio_net_hdr: no partial checksums\n"
	      "                   either way, and so neither of the two below\n"
	      "  --no-gro         take no TCP super-segments from the kernel (64 KiB\n"
	      "                   of segments it joined): one frame per segment\n"
	      "  --no-tso         hand the kernel no super-segments to cut into the\n"
	      "                   segments synack built: one write per segment\n"
	      "  --no-csum-trust  complete the kernel's partial checksums and verify\n"
	      "                   every one (default: taken as verified, as Linux does)\n"
	      "  --set NAME=VALUE a setting of the stack (struct synack_config, named as\n"
	      "                   the Linux sysctls; repeatable): times in ms or with a unit\n"
	      "                   (30s, 2min), sizes in bytes or with a unit (64KiB); a value\n"
	      "                   out of range is refused with the reason.  The settings:\n",
	      out);
	settings_names(out, "                     ", 79);
	fputs("                   and of the link (struct synack_link_config: ARP, neighbour\n"
	      "                   discovery, the wait for the device, the offloads):\n",
	      out);
	link_settings_names(out, "                     ", 79);
	fputs("  --time-wait-ms T, --fin-timeout-ms T, --syn-retries N, --orphan-retries N\n"
	      "                   the same as --set time_wait_ms=T ... (TIME_WAIT length,\n"
	      "                   orphaned FIN_WAIT_2 lifetime, SYN and orphan FIN\n"
	      "                   retransmissions before giving up)\n"
	      "  --keepalive      probe idle connections (SO_KEEPALIVE on each)\n"
	      "  --keepalive-time-ms T, --keepalive-intvl-ms T, --keepalive-probes N\n"
	      "                   keepalive_time_ms, keepalive_intvl_ms, keepalive_probes;\n"
	      "                   each implies --keepalive\n"
	      "  --user-timeout-ms T  TCP_USER_TIMEOUT on each connection: abort it when\n"
	      "                   sent data stays unacknowledged for T (0: retries2 rules)\n",
	      out);
}

/* A name the kernel could give a device (src/link refuses the others with
 * its own sentence). */
static int dev_name_plausible(const char *dev)
{
	size_t n = strlen(dev);
	if (n == 0 || n >= IF_NAMESIZE || strcmp(dev, ".") == 0 || strcmp(dev, "..") == 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)dev[i] <= ' ' || strchr("/:%", dev[i]) || dev[i] == 0x7f)
			return 0;
	return 1;
}

/* 1 when the device exists in this network namespace.  The public link API
 * creates a missing device when it opens one, so the question is asked
 * here first. */
static int dev_exists(const char *dev)
{
	return if_nametoindex(dev) != 0;
}

/* 1 when the device is administratively up, 0 when down, -1 unknown. */
static int dev_is_up(const char *dev)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -1;
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", dev);
	int rc = ioctl(s, SIOCGIFFLAGS, &ifr);
	close(s);
	return rc < 0 ? -1 : (ifr.ifr_flags & IFF_UP) != 0;
}

/* The device's queue, said on stderr: set by synack on a device it
 * created, changed on the user's only when --txqueuelen asks.  0, or a
 * negative errno with a sentence in err (the link is closed then). */
static int report_txqueuelen(const struct net_opts *o, struct synack_link **link, unsigned n,
                             int existed, char *err, size_t errlen)
{
	int was = synack_link_txqueuelen(*link);
	if (existed && o->txqueuelen) {
		int rc = synack_link_set_txqueuelen(*link, o->txqueuelen);
		if (rc) {
			snprintf(err, errlen,
			         "--txqueuelen: cannot set device %s's queue to %u: %s", o->dev,
			         o->txqueuelen, strerror(-rc));
			for (unsigned k = n; k-- > 0;) {
				synack_link_close(link[k]);
				link[k] = NULL;
			}
			return rc;
		}
	}
	int now = synack_link_txqueuelen(*link);
	if (now < 0 || o->quiet)
		return 0;
	if (!existed)
		fprintf(stderr, "%s: device %s queues %d frames (txqueuelen, set by synack)\n",
		        o->prog, o->dev, now);
	else if (o->txqueuelen)
		fprintf(stderr, "%s: device %s queues %d frames (txqueuelen, was %d)\n", o->prog,
		        o->dev, now, was);
	else
		fprintf(stderr,
		        "%s: device %s queues %d frames (txqueuelen, the device's own; "
		        "--txqueuelen N changes it)\n",
		        o->prog, o->dev, now);
	return 0;
}

int net_open_device(const struct net_opts *o, struct synack_link **link, char *err, size_t errlen)
{
	return net_open_queues(o, 1, link, err, errlen);
}

int net_open_queues(const struct net_opts *o, unsigned queues, struct synack_link **link, char *err,
                    size_t errlen)
{
	const char *mode = o->kind == SYNACK_LINK_TAP ? "tap" : "tun";
	int plausible = dev_name_plausible(o->dev);
	int existed = plausible && dev_exists(o->dev);
	if (plausible && !existed && !o->create) {
		snprintf(err, errlen,
		         "device '%s' does not exist: make it first (as root: ip tuntap add dev %s "
		         "mode %s user USER; then ip link set %s up and give the kernel's side an "
		         "address), or give %s to have synack create it for this run",
		         o->dev, o->dev, mode, o->dev, o->create_how ? o->create_how : "--create");
		return -ENODEV;
	}
	struct synack_link_config lc;
	link_config(o, &lc);
	int rc = queues == 1
	             ? synack_link_open(link, o->kind, o->dev, &lc, err, errlen)
	             : synack_link_open_queues(link, queues, o->kind, o->dev, &lc, err, errlen);
	if (rc == -EPERM || rc == -EACCES) {
		const struct passwd *pw = getpwuid(geteuid());
		const char *user = pw ? pw->pw_name : "USER";
		size_t n = strlen(err);
		if (access("/dev/net/tun", R_OK | W_OK) != 0)
			snprintf(err + n, errlen - n,
			         "; this user may not open /dev/net/tun (its usual mode is 0666: "
			         "chmod 0666 /dev/net/tun)");
		else if (existed)
			snprintf(
			    err + n, errlen - n,
			    "; the device belongs to another user, and opening it needs the "
			    "capability CAP_NET_ADMIN, which this process lacks: give %s a "
			    "device of their own once, as root: ip tuntap add dev NAME mode %s "
			    "user %s (or run synack with CAP_NET_ADMIN)",
			    user, mode, user);
		else
			snprintf(
			    err + n, errlen - n,
			    "; creating a device needs the capability CAP_NET_ADMIN, which this "
			    "process lacks: run synack with it (as root), or give %s a device "
			    "once, as root: ip tuntap add dev %s mode %s user %s",
			    user, o->dev, mode, user);
		return rc;
	}
	if (rc)
		return rc;
	if (o->quiet)
		;
	else if (!existed)
		fprintf(stderr,
		        "%s: created device %s (removed at exit); it is down: the kernel's side "
		        "needs ip link set %s up and an address\n",
		        o->prog, o->dev, o->dev);
	else if (dev_is_up(o->dev) == 0)
		fprintf(stderr, "%s: device %s is down (ip link set %s up)\n", o->prog, o->dev,
		        o->dev);
	return report_txqueuelen(o, link, queues, existed, err, errlen);
}

/*
 * The impairments, the stack and the loop of env, whose link is open; the
 * routes printed when print_routes.  The k-th of several stacks draws its
 * impairments from seed + k.  0, or a negative errno with a sentence.
 */
static int env_start(const struct net_opts *o, uint32_t trace_capacity, struct net_env *env,
                     unsigned k, int print_routes, char *err, size_t errlen)
{
	int rc;
	if (o->loss > 0 || o->dup > 0 || o->reorder > 0 || o->delay_ms > 0) {
		struct synack_sim_path p;
		memset(&p, 0, sizeof(p));
		p.loss = o->loss;
		p.dup = o->dup;
		p.reorder = o->reorder;
		p.delay_us = (uint32_t)o->delay_ms * 1000;
		rc = synack_link_set_impairment(env->link, &p, &p, o->seed + k);
		if (rc) {
			snprintf(err, errlen, "bad impairment: %s", synack_strerror(rc));
			return rc;
		}
	}
	struct synack_config cfg = o->cfg;
	cfg.addr = o->addr;
	if (o->have_addr6)
		memcpy(cfg.addr6, o->addr6, 16);
	if (!given(o, "prefix_len"))
		cfg.prefix_len = o->prefix_len;
	if (o->have_addr6 && !given(o, "prefix_len6"))
		cfg.prefix_len6 = o->prefix6_len;
	if (!given(o, "mtu"))
		cfg.mtu = synack_link_mtu(env->link);
	if (!given(o, "trace_capacity"))
		cfg.trace_capacity = trace_capacity;
	if (getrandom(cfg.secret, sizeof(cfg.secret), 0) != (ssize_t)sizeof(cfg.secret)) {
		rc = -errno;
		snprintf(err, errlen, "getrandom: %s", strerror(errno));
		return rc;
	}
	char cerr[200];
	if (synack_config_check(&cfg, cerr, sizeof(cerr)) != 0) {
		snprintf(err, errlen, "%s", cerr);
		return -EINVAL;
	}
	env->st = synack_stack_new(&cfg, &rc);
	if (!env->st) {
		snprintf(err, errlen, "cannot create the stack: %s", synack_strerror(rc));
		return rc ? rc : -ENOMEM;
	}
	if (net_apply_routes(o, env->st, env->link, err, errlen) != 0)
		return -EINVAL;
	if (print_routes && o->print_routes)
		net_print_routes(stderr, "", env->st);
	env->run = synack_run_new(env->st, env->link, &rc);
	if (!env->run) {
		snprintf(err, errlen, "cannot start the run loop: %s", strerror(-rc));
		return rc ? rc : -ENOMEM;
	}
	return 0;
}

int net_open(const struct net_opts *o, uint32_t trace_capacity, struct net_env *env, char *err,
             size_t errlen)
{
	memset(env, 0, sizeof(*env));
	int rc = net_open_device(o, &env->link, err, errlen);
	if (rc)
		return rc;
	if (o->pcap) {
		rc = synack_link_set_pcap(env->link, o->pcap, err, errlen);
		if (rc)
			goto fail;
	}
	rc = env_start(o, trace_capacity, env, 0, 1, err, errlen);
	if (rc)
		goto fail;
	static const int stop_signals[] = {SIGINT, SIGTERM};
	rc = o->keep_signals ? 0 : synack_run_watch_signals(env->run, stop_signals, 2);
	if (rc) {
		snprintf(err, errlen, "cannot watch signals: %s", strerror(-rc));
		goto fail;
	}
	return 0;
fail:
	net_close(env);
	return rc ? rc : -EINVAL;
}

int net_open_threads(const struct net_opts *o, unsigned n, uint32_t trace_capacity,
                     struct net_env *envs, char *err, size_t errlen)
{
	struct synack_link *links[SYNACK_LINK_MAX_QUEUES];
	memset(envs, 0, n * sizeof(*envs));
	if (n < 1 || n > SYNACK_LINK_MAX_QUEUES) {
		snprintf(err, errlen, "1 to %d stacks", SYNACK_LINK_MAX_QUEUES);
		return -EINVAL;
	}
	int rc = net_open_queues(o, n, links, err, errlen);
	if (rc)
		return rc;
	for (unsigned k = 0; k < n; k++)
		envs[k].link = links[k];
	if (o->pcap)
		rc = synack_link_set_pcap_shared(links, n, o->pcap, err, errlen);
	for (unsigned k = 0; k < n && !rc; k++)
		rc = env_start(o, trace_capacity, &envs[k], k, k == 0, err, errlen);
	if (rc) {
		for (unsigned k = n; k-- > 0;)
			net_close(&envs[k]);
		return rc;
	}
	return 0;
}

int net_conn_opts(const struct net_opts *o, struct synack_stack *st, int s)
{
	int rc = 0;
	if (o->keepalive)
		rc = synack_setsockopt(st, s, SYNACK_SO_KEEPALIVE, 1);
	if (rc == 0 && o->user_timeout_ms >= 0)
		rc = synack_setsockopt(st, s, SYNACK_TCP_USER_TIMEOUT, (int)o->user_timeout_ms);
	return rc;
}

void net_close(struct net_env *env)
{
	synack_run_free(env->run);
	synack_stack_free(env->st);
	synack_link_close(env->link);
	memset(env, 0, sizeof(*env));
}

/* ------------------------------------------------------------------ */
/* The stats block.                                                    */

static void count_state(void *ctx, const struct synack_conn *c)
{
	size_t *counts = ctx;
	if (c->state >= 0 && c->state < SYNACK_STATE_COUNT)
		counts[c->state]++;
}

size_t net_state_counts(struct synack_stack *st, size_t counts[SYNACK_STATE_COUNT])
{
	memset(counts, 0, SYNACK_STATE_COUNT * sizeof(counts[0]));
	return synack_conns(st, count_state, counts);
}

/* ------------------------------------------------------------------ */
/* Snapshots: what the stats block shows of one stack, taken on the
 * thread that owns it (issue 16 item 3: merged on read). */

static void snap_conn(void *ctx, const struct synack_conn *c)
{
	struct net_snap *sn = ctx;
	if (sn->nconns == sn->capconns) {
		size_t cap = sn->capconns ? sn->capconns * 2 : 64;
		struct synack_conn *v = realloc(sn->conns, cap * sizeof(*v));
		if (!v)
			return; /* the listing is cut; the counters are whole */
		sn->conns = v;
		sn->capconns = cap;
	}
	sn->conns[sn->nconns++] = *c;
}

void net_snap_take(struct net_env *env, unsigned thread, struct net_snap *sn)
{
	sn->now = synack_run_now(env->run);
	sn->thread = thread;
	sn->nconns = 0;
	synack_conns(env->st, snap_conn, sn);
	synack_stats(env->st, &sn->s);
	sn->kind = synack_link_kind(env->link);
	synack_link_stats(env->link, &sn->ls);
	sn->have_dev = synack_link_device_stats(env->link, &sn->ds) == 0;
}

void net_snap_free(struct net_snap *sn)
{
	free(sn->conns);
	memset(sn, 0, sizeof(*sn));
}

/* The sum of n snapshots' counters (the stack's and the link's) into *sum;
 * the device's own counters are the device's, whichever queue read them. */
static void snap_sum(const struct net_snap *snaps, unsigned n, struct net_snap *sum)
{
	memset(sum, 0, sizeof(*sum));
	sum->now = snaps[0].now;
	sum->kind = snaps[0].kind;
	sum->have_dev = snaps[0].have_dev;
	sum->ds = snaps[0].ds;
	for (unsigned k = 0; k < n; k++) {
		/* struct synack_stats is uint64_t fields only. */
		const uint64_t *from = (const uint64_t *)(const void *)&snaps[k].s;
		uint64_t *to = (uint64_t *)(void *)&sum->s;
		for (size_t i = 0; i < sizeof(sum->s) / sizeof(uint64_t); i++)
			to[i] += from[i];
		const struct synack_link_stats *a = &snaps[k].ls;
		struct synack_link_stats *t = &sum->ls;
		t->frames_in += a->frames_in;
		t->frames_out += a->frames_out;
		t->bytes_in += a->bytes_in;
		t->bytes_out += a->bytes_out;
		t->datagrams_in += a->datagrams_in;
		t->datagrams_out += a->datagrams_out;
		t->arp_requests_in += a->arp_requests_in;
		t->arp_replies_in += a->arp_replies_in;
		t->arp_requests_out += a->arp_requests_out;
		t->arp_replies_out += a->arp_replies_out;
		t->arp_gratuitous_out += a->arp_gratuitous_out;
		t->arp_resolved += a->arp_resolved;
		t->arp_failed += a->arp_failed;
		t->arp_entries += a->arp_entries;
		t->pcap_errors += a->pcap_errors;
		for (int d = 0; d < SYNACK_LINK_DROP_COUNT; d++)
			t->drops[d] += a->drops[d];
		t->impair_out.lost += a->impair_out.lost;
		t->impair_out.duplicated += a->impair_out.duplicated;
		t->impair_out.reordered += a->impair_out.reordered;
		t->impair_in.lost += a->impair_in.lost;
		t->impair_in.duplicated += a->impair_in.duplicated;
		t->impair_in.reordered += a->impair_in.reordered;
		t->gso_in += a->gso_in;
		t->gso_out += a->gso_out;
		t->gso_segs_out += a->gso_segs_out;
		t->csum_completed += a->csum_completed;
		t->csum_trusted += a->csum_trusted;
		t->arp_shared_in += a->arp_shared_in;
		t->nd_solicits_in += a->nd_solicits_in;
		t->nd_adverts_in += a->nd_adverts_in;
		t->nd_solicits_out += a->nd_solicits_out;
		t->nd_adverts_out += a->nd_adverts_out;
		t->nd_resolved += a->nd_resolved;
		t->nd_failed += a->nd_failed;
		t->nd_entries += a->nd_entries;
		t->datagrams6_in += a->datagrams6_in;
		t->datagrams6_out += a->datagrams6_out;
	}
}

struct table_ctx {
	FILE *out;
	uint64_t now;
	int json;
	int n;
	int thread; /* -1: one stack, no thread column */
};

static void table_row(void *ctx, const struct synack_conn *c)
{
	struct table_ctx *t = ctx;
	char local[64], peer[64]; /* IPv6 endpoints: up to 48 bytes */
	synack_endpoint_str(&c->local, local, sizeof(local));
	if (c->remote.addr == 0 && c->remote.port == 0)
		snprintf(peer, sizeof(peer), "*:*");
	else
		synack_endpoint_str(&c->remote, peer, sizeof(peer));
	uint64_t in = t->now > c->state_since_us ? t->now - c->state_since_us : 0;
	if (t->json) {
		/* The keys of `synack demo --json`'s conns, and the queues. */
		fprintf(t->out,
		        "%s{\"state\":\"%s\",\"local\":\"%s\",\"peer\":\"%s\",\"send_queue\":%u,"
		        "\"recv_queue\":%u,\"age_us\":%llu",
		        t->n++ ? "," : "", synack_state_name(c->state), local, peer, c->send_queue,
		        c->recv_queue, (unsigned long long)in);
		/* A connection that sends: its window, RTT, algorithm and
		 * delivery rate (bytes per second, as synack_tcp_info's). */
		if (c->congestion[0])
			fprintf(t->out,
			        ",\"cwnd\":%u,\"rtt_us\":%u,\"congestion\":\"%s\","
			        "\"delivery_rate\":%llu",
			        c->cwnd, c->srtt_us, c->congestion,
			        (unsigned long long)c->delivery_rate);
		if (t->thread >= 0)
			fprintf(t->out, ",\"thread\":%d", t->thread);
		fputc('}', t->out);
		return;
	}
	if (t->thread >= 0)
		fprintf(t->out, "%-6d ", t->thread);
	fprintf(t->out, "%-12s %-21s %-21s %8u %8u %10llu.%03llus", synack_state_name(c->state),
	        local, peer, c->send_queue, c->recv_queue, (unsigned long long)(in / 1000000),
	        (unsigned long long)(in / 1000 % 1000));
	/* As `ss -ti`, on a line of its own: the algorithm, cwnd (bytes
	 * here), the RTT and, once measured, the delivery rate (bits per
	 * second, as ss prints it). */
	if (c->congestion[0])
		fprintf(t->out, "\n\t %s cwnd:%u rtt:%.3fms", c->congestion, c->cwnd,
		        (double)c->srtt_us / 1000.0);
	if (c->congestion[0] && c->delivery_rate)
		fprintf(t->out, " delivery_rate:%llubps",
		        (unsigned long long)c->delivery_rate * 8u);
	fputc('\n', t->out);
}

/* Every snapshot's connections, each with its thread when there are
 * several. */
static void table_rows(struct table_ctx *t, const struct net_snap *snaps, unsigned n)
{
	for (unsigned k = 0; k < n; k++) {
		t->thread = n > 1 ? (int)snaps[k].thread : -1;
		for (size_t i = 0; i < snaps[k].nconns; i++)
			table_row(t, &snaps[k].conns[i]);
	}
}

/* Writes "name value" pairs, a handful per "counters:" line, or "name":value
 * members of one JSON object. */
struct pairs {
	FILE *out;
	int n;
	int json;
	const char *label; /* the text's line head ("counters:") */
};

static void pair(struct pairs *p, const char *prefix, const char *name, uint64_t v)
{
	if (p->json) {
		fprintf(p->out, "%s\"%s%s\":%llu", p->n ? "," : "", prefix, name,
		        (unsigned long long)v);
	} else {
		const char *label = p->label ? p->label : "counters:";
		if (p->n % 8 == 0)
			fprintf(p->out, "%s%s", p->n ? "\n" : "", label);
		fprintf(p->out, " %s%s %llu", prefix, name, (unsigned long long)v);
	}
	p->n++;
}

/* The stack's counters and drops. */
static void stack_pairs(struct pairs *p, const struct synack_stats *s)
{
	for (size_t i = 0; i < synack_counter_count(); i++)
		pair(p, "", synack_counter_name(i), synack_counter_value(s, i));
	for (int d = 1; d < SYNACK_DROP_COUNT; d++)
		if (s->drops[d])
			pair(p, "drop_", synack_drop_name(d), s->drops[d]);
}

/* The link's counters, ARP's (TAP), its drops and the impairments'. */
static void link_pairs(struct pairs *p, const struct net_snap *sn)
{
	const struct synack_link_stats *ls = &sn->ls;
	pair(p, "link_", "frames_in", ls->frames_in);
	pair(p, "link_", "frames_out", ls->frames_out);
	pair(p, "link_", "bytes_in", ls->bytes_in);
	pair(p, "link_", "bytes_out", ls->bytes_out);
	pair(p, "link_", "datagrams_in", ls->datagrams_in);
	pair(p, "link_", "datagrams_out", ls->datagrams_out);
	if (sn->kind == SYNACK_LINK_TAP) {
		pair(p, "", "arp_requests_in", ls->arp_requests_in);
		pair(p, "", "arp_replies_in", ls->arp_replies_in);
		pair(p, "", "arp_requests_out", ls->arp_requests_out);
		pair(p, "", "arp_replies_out", ls->arp_replies_out);
		pair(p, "", "arp_gratuitous_out", ls->arp_gratuitous_out);
		pair(p, "", "arp_resolved", ls->arp_resolved);
		pair(p, "", "arp_entries", ls->arp_entries);
		/* --threads: neighbours another queue passed on. */
		if (ls->arp_shared_in)
			pair(p, "", "arp_shared_in", ls->arp_shared_in);
		/* IPv6 neighbour discovery (issue 14 item 3). */
		pair(p, "", "nd_solicits_in", ls->nd_solicits_in);
		pair(p, "", "nd_adverts_in", ls->nd_adverts_in);
		pair(p, "", "nd_solicits_out", ls->nd_solicits_out);
		pair(p, "", "nd_adverts_out", ls->nd_adverts_out);
		pair(p, "", "nd_resolved", ls->nd_resolved);
		pair(p, "", "nd_entries", ls->nd_entries);
	}
	pair(p, "link_", "datagrams6_in", ls->datagrams6_in);
	pair(p, "link_", "datagrams6_out", ls->datagrams6_out);
	/* Offloads (issue 16 item 2): super-segments each way. */
	pair(p, "link_", "gso_in", ls->gso_in);
	pair(p, "link_", "gso_out", ls->gso_out);
	pair(p, "link_", "gso_segs_out", ls->gso_segs_out);
	pair(p, "link_", "csum_completed", ls->csum_completed);
	pair(p, "link_", "csum_trusted", ls->csum_trusted);
	for (int d = 1; d < SYNACK_LINK_DROP_COUNT; d++)
		if (ls->drops[d])
			pair(p, "link_drop_", synack_link_drop_name(d), ls->drops[d]);
	/* The kernel's own counters of the device: tx_dropped are the frames
	 * for synack its full queue (txqueuelen) turned away. */
	if (sn->have_dev) {
		const struct synack_link_device_stats *ds = &sn->ds;
		pair(p, "dev_", "tx_dropped", ds->tx_dropped);
		pair(p, "dev_", "rx_dropped", ds->rx_dropped);
		if (ds->tx_errors)
			pair(p, "dev_", "tx_errors", ds->tx_errors);
		if (ds->rx_errors)
			pair(p, "dev_", "rx_errors", ds->rx_errors);
		if (ds->tx_fifo_errors)
			pair(p, "dev_", "tx_fifo_errors", ds->tx_fifo_errors);
		if (ds->rx_fifo_errors)
			pair(p, "dev_", "rx_fifo_errors", ds->rx_fifo_errors);
	}
	const struct {
		const char *dir;
		const struct synack_sim_counters *c;
	} dirs[] = {{"impair_out_", &ls->impair_out}, {"impair_in_", &ls->impair_in}};
	for (size_t k = 0; k < 2; k++) {
		const struct synack_sim_counters *c = dirs[k].c;
		if (c->lost)
			pair(p, dirs[k].dir, "lost", c->lost);
		if (c->duplicated)
			pair(p, dirs[k].dir, "duplicated", c->duplicated);
		if (c->reordered)
			pair(p, dirs[k].dir, "reordered", c->reordered);
	}
}

/* With several stacks, what each one did: the flows the kernel gave its
 * queue. */
static void thread_pairs(struct pairs *p, const struct net_snap *sn)
{
	pair(p, "", "connections", sn->nconns);
	pair(p, "", "PassiveOpens", sn->s.PassiveOpens);
	pair(p, "", "ActiveOpens", sn->s.ActiveOpens);
	pair(p, "", "CurrEstab", sn->s.CurrEstab);
	pair(p, "", "InSegs", sn->s.InSegs);
	pair(p, "", "OutSegs", sn->s.OutSegs);
	pair(p, "link_", "frames_in", sn->ls.frames_in);
	pair(p, "link_", "frames_out", sn->ls.frames_out);
}

static void print_stats_json(FILE *out, const struct net_snap *snaps, unsigned n,
                             const struct net_snap *sum, const size_t counts[SYNACK_STATE_COUNT])
{
	fprintf(out, "{\"ev\":\"stats\",\"t_us\":%llu,\"states\":{", (unsigned long long)sum->now);
	int k = 0;
	for (int s = 0; s < SYNACK_STATE_COUNT; s++)
		if (counts[s])
			fprintf(out, "%s\"%s\":%zu", k++ ? "," : "", synack_state_name(s),
			        counts[s]);
	fputs("},\"conns\":[", out);
	struct table_ctx t = {.out = out, .now = sum->now, .json = 1};
	table_rows(&t, snaps, n);
	fputs("],\"counters\":{", out);
	struct pairs p = {.out = out, .json = 1};
	stack_pairs(&p, &sum->s);
	link_pairs(&p, sum);
	fputc('}', out);
	if (n > 1) {
		fputs(",\"threads\":[", out);
		for (unsigned i = 0; i < n; i++) {
			fprintf(out, "%s{\"thread\":%u,", i ? "," : "", snaps[i].thread);
			struct pairs tp = {.out = out, .json = 1};
			thread_pairs(&tp, &snaps[i]);
			fputc('}', out);
		}
		fputc(']', out);
	}
	fputs("}\n", out);
	fflush(out);
}

void net_print_snaps(FILE *out, const struct net_snap *snaps, unsigned n, int json)
{
	struct net_snap sum;
	snap_sum(snaps, n, &sum);
	size_t counts[SYNACK_STATE_COUNT] = {0}, total = 0;
	for (unsigned k = 0; k < n; k++)
		for (size_t i = 0; i < snaps[k].nconns; i++, total++)
			if (snaps[k].conns[i].state >= 0 &&
			    snaps[k].conns[i].state < SYNACK_STATE_COUNT)
				counts[snaps[k].conns[i].state]++;
	if (json) {
		print_stats_json(out, snaps, n, &sum, counts);
		return;
	}
	uint64_t now = sum.now;
	fprintf(out, "--- synack stats at %llu.%03llu s: %zu connection%s",
	        (unsigned long long)(now / 1000000), (unsigned long long)(now / 1000 % 1000), total,
	        total == 1 ? "" : "s");
	if (total) {
		const char *sep = " (";
		for (int s = 0; s < SYNACK_STATE_COUNT; s++) {
			if (!counts[s])
				continue;
			fprintf(out, "%s%s %zu", sep, synack_state_name(s), counts[s]);
			sep = ", ";
		}
		fputc(')', out);
	}
	if (n > 1)
		fprintf(out, " on %u threads", n);
	fputc('\n', out);
	if (n > 1)
		fprintf(out, "%-6s ", "Thread");
	fprintf(out, "%-12s %-21s %-21s %8s %8s %14s\n", "State", "Local", "Peer", "Send-Q",
	        "Recv-Q", "Time-in-state");
	struct table_ctx t = {.out = out, .now = now};
	table_rows(&t, snaps, n);

	struct pairs p = {.out = out};
	stack_pairs(&p, &sum.s);
	fputc('\n', out);
	p.n = 0;
	link_pairs(&p, &sum);
	fputc('\n', out);
	for (unsigned k = 0; n > 1 && k < n; k++) {
		char label[32];
		snprintf(label, sizeof(label), "thread %u:", snaps[k].thread);
		struct pairs tp = {.out = out, .label = label};
		thread_pairs(&tp, &snaps[k]);
		fputc('\n', out);
	}
	fputc('\n', out);
	fflush(out);
}

void net_print_stats(FILE *out, struct net_env *env, int json)
{
	struct net_snap sn = {0};
	net_snap_take(env, 0, &sn);
	net_print_snaps(out, &sn, 1, json);
	net_snap_free(&sn);
}
