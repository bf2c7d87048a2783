/*
 * The stack object, above every layer and the one module that sees them
 * all: the configuration, assembling the layers (src/net, src/tcp,
 * src/sock) into one object and taking it apart, packets and time in and
 * datagrams out (handing what the network layer delivers to TCP), the
 * counters, the memory figures and the trace ring read out, and names for
 * everything.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/siphash.h"
#include "net/net.h"
#include "sock/sock.h"
#include "stack/stack.h"
#include "tcp/tcp.h"
#include "wire/wire.h"

/* ------------------------------------------------------------------ */
/* Configuration.                                                      */

void synack_config_default(struct synack_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->mtu = 1500;
	cfg->ttl = 64;
	cfg->time_wait_ms = 60000;
	cfg->fin_timeout_ms = 60000;
	cfg->close_wait_timeout_ms = 0;
	cfg->syn_retries = 6;
	cfg->synack_retries = 5;
	cfg->orphan_retries = 8;
	cfg->retries2 = 15;
	cfg->rto_initial_ms = 1000;
	cfg->rto_min_ms = 200;
	cfg->rto_max_ms = 120000;
	cfg->max_orphans = 65536;
	cfg->max_tw_buckets = 262144;
	cfg->somaxconn = 4096;
	cfg->rmem_default = 65536;
	cfg->wmem_default = 65536;
	cfg->ephemeral_port_min = 32768;
	cfg->ephemeral_port_max = 60999;
	cfg->trace_capacity = 4096;
	cfg->outbox_max = 4096;
	cfg->delack_ms = 40;
	cfg->init_cwnd = 10;
	memcpy(cfg->congestion_control, "cubic", 6);
	cfg->keepalive_time_ms = 7200000;
	cfg->keepalive_intvl_ms = 75000;
	cfg->keepalive_probes = 9;
	cfg->max_syn_backlog = 4096;
	cfg->syncookies = 1;
	cfg->abort_on_overflow = 0;
	cfg->challenge_ack_limit = 100;
	cfg->rfc1337 = 0;
	cfg->ofo_budget = 32u << 20;
	cfg->icmp_ratelimit_ms = 1000;
	cfg->icmp_ratelimit_burst = 6;
	cfg->min_pmtu = 552;
	cfg->invalid_ratelimit_ms = 500;
	cfg->ipfrag_high_thresh = 4u << 20;
	cfg->ipfrag_time_ms = 30000;
	cfg->ipfrag_max_frags = 64;
	/* CUBIC and HyStart++ */
	cfg->hystart = 1;
	/* RFC 7323 and the buffers: Linux's defaults (tcp_rmem 4096 131072
	 * 6291456, tcp_wmem 4096 16384 4194304), but rmem_default 65536 (the
	 * window Linux's 131072 advertises, see synack.h) and 64 KiB to send
	 * from the start. */
	cfg->window_scaling = 1;
	cfg->timestamps = 1;
	cfg->rmem_min = 4096;
	cfg->rmem_max = 6291456;
	cfg->wmem_min = 4096;
	cfg->wmem_max = 4194304;
	cfg->ecn = 2;
	cfg->ecn_fallback = 1;
	/* SACK and loss recovery (issue 13). */
	cfg->sack = 1;
	cfg->dsack = 1;
	cfg->reordering = 3;
	cfg->recovery = 1;
	cfg->frto = 2;
	/* Routing (issue 17 items 1 and 4). */
	cfg->prefix_len = 0;
	cfg->max_addrs = 16;
	cfg->max_routes = 64;
	/* Socket calls (issue 17 item 11): Linux's TCP_MAX_QUICKACKS. */
	cfg->max_quickacks = 16;
	/* addr6: all zero, no IPv6 address (issue 14). */
	/* TCP Fast Open (RFC 7413): the client, as Linux's default. */
	cfg->fastopen = 1;
	cfg->fastopen_cache_size = 64;
	/* IPv6 routes (issue 14): addr6's prefix, everything on-link. */
	cfg->prefix_len6 = 0;
	/* Pacing (issue 13): Linux's tcp_pacing_ss_ratio, tcp_pacing_ca_ratio. */
	cfg->pacing = 1;
	cfg->pacing_ss_ratio = 200;
	cfg->pacing_ca_ratio = 120;
	/* HyStart++'s exit signals (issue 13): both delay increases. */
	cfg->hystart_detect = SYNACK_HYSTART_DETECT_DELAY | SYNACK_HYSTART_DETECT_ROUND_DELAY;
	/* Object caches sized to the load (issue 16). */
	cfg->pool_keep_pct = 100;
	/* Memory (issue 16 item 4) */
	cfg->packet_pool_trim_ms = 1000;
	/* Memory (issue 16 item 4, idle endpoints): object caches decay. */
	cfg->pool_trim_ms = 1000;
	/* Bulk receive (issue 16 item 2): the ACK waits for the read. */
	cfg->ack_on_read = 1;
	/* Linux's tcp_max_reordering (issue 13, DupThresh per connection). */
	cfg->max_reordering = 300;
}

#define CHECK_SETTING(cond, ...)                                                                   \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			if (err && errlen)                                                         \
				snprintf(err, errlen, __VA_ARGS__);                                \
			return -EINVAL;                                                            \
		}                                                                                  \
	} while (0)

int synack_config_check(const struct synack_config *cfg, char *err, size_t errlen)
{
	if (err && errlen)
		err[0] = '\0';
	CHECK_SETTING(cfg != NULL, "config: NULL");
	CHECK_SETTING(cfg->addr != 0 && cfg->addr != 0xffffffffu && (cfg->addr >> 28) != 0xe,
	              "addr: must be a unicast IPv4 address");
	CHECK_SETTING(cfg->mtu >= 576 && cfg->mtu <= 65535,
	              "mtu: %u is outside 576..65535 (RFC 791 requires 576)", cfg->mtu);
	CHECK_SETTING(cfg->ttl >= 1, "ttl: must be at least 1");
	CHECK_SETTING(cfg->time_wait_ms >= 1 && cfg->time_wait_ms <= 3600000,
	              "time_wait_ms: %u is outside 1..3600000", cfg->time_wait_ms);
	CHECK_SETTING(cfg->fin_timeout_ms >= 1 && cfg->fin_timeout_ms <= 3600000,
	              "fin_timeout_ms: %u is outside 1..3600000", cfg->fin_timeout_ms);
	CHECK_SETTING(cfg->close_wait_timeout_ms <= 86400000,
	              "close_wait_timeout_ms: %u is above 86400000 (0 disables it)",
	              cfg->close_wait_timeout_ms);
	CHECK_SETTING(cfg->syn_retries >= 1 && cfg->syn_retries <= 127,
	              "syn_retries: %u is outside 1..127", cfg->syn_retries);
	CHECK_SETTING(cfg->synack_retries >= 1 && cfg->synack_retries <= 127,
	              "synack_retries: %u is outside 1..127", cfg->synack_retries);
	CHECK_SETTING(cfg->orphan_retries >= 1 && cfg->orphan_retries <= 127,
	              "orphan_retries: %u is outside 1..127", cfg->orphan_retries);
	CHECK_SETTING(cfg->retries2 >= 1 && cfg->retries2 <= 127, "retries2: %u is outside 1..127",
	              cfg->retries2);
	CHECK_SETTING(cfg->rto_min_ms >= 1, "rto_min_ms: must be at least 1");
	CHECK_SETTING(cfg->rto_max_ms >= cfg->rto_min_ms && cfg->rto_max_ms <= 3600000,
	              "rto_max_ms: %u must be within rto_min_ms..3600000", cfg->rto_max_ms);
	CHECK_SETTING(
	    cfg->rto_initial_ms >= cfg->rto_min_ms && cfg->rto_initial_ms <= cfg->rto_max_ms,
	    "rto_initial_ms: %u must be within rto_min_ms..rto_max_ms", cfg->rto_initial_ms);
	CHECK_SETTING(cfg->max_orphans >= 1, "max_orphans: must be at least 1");
	CHECK_SETTING(cfg->somaxconn >= 1 && cfg->somaxconn <= 1u << 20,
	              "somaxconn: %u is outside 1..1048576", cfg->somaxconn);
	CHECK_SETTING(cfg->rmem_default >= 1 && cfg->rmem_default <= 1u << 30,
	              "rmem_default (rcvbuf): %u is outside 1..2^30", cfg->rmem_default);
	CHECK_SETTING(cfg->wmem_default >= 1 && cfg->wmem_default <= 1u << 30,
	              "wmem_default (sndbuf): %u is outside 1..2^30", cfg->wmem_default);
	CHECK_SETTING(cfg->ephemeral_port_min >= 1 &&
	                  cfg->ephemeral_port_min <= cfg->ephemeral_port_max,
	              "ephemeral_port_min..max: %u..%u is not a range of ports",
	              cfg->ephemeral_port_min, cfg->ephemeral_port_max);
	CHECK_SETTING(cfg->trace_capacity <= 1u << 24, "trace_capacity: %u is above 16777216",
	              cfg->trace_capacity);
	CHECK_SETTING(cfg->outbox_max >= 1, "outbox_max: must be at least 1");
	CHECK_SETTING(cfg->delack_ms <= 500,
	              "delack_ms: %u is above 500 (RFC 1122 4.2.3.2; 0 acknowledges at once)",
	              cfg->delack_ms);
	CHECK_SETTING(cfg->init_cwnd >= 1 && cfg->init_cwnd <= 1000,
	              "init_cwnd: %u is outside 1..1000 segments", cfg->init_cwnd);
	if (!memchr(cfg->congestion_control, '\0', sizeof(cfg->congestion_control)) ||
	    !tcp_cc_find(cfg->congestion_control)) {
		char known[64] = "";
		for (size_t i = 0; tcp_cc_name(i); i++)
			snprintf(known + strlen(known), sizeof(known) - strlen(known), "%s%s",
			         i ? ", " : "", tcp_cc_name(i));
		CHECK_SETTING(0, "congestion_control: unknown algorithm (known: %s)", known);
	}
	CHECK_SETTING(cfg->keepalive_time_ms >= 1 && cfg->keepalive_time_ms <= 2147483647u,
	              "keepalive_time_ms: %u is outside 1..2147483647", cfg->keepalive_time_ms);
	CHECK_SETTING(cfg->keepalive_intvl_ms >= 1 && cfg->keepalive_intvl_ms <= 2147483647u,
	              "keepalive_intvl_ms: %u is outside 1..2147483647", cfg->keepalive_intvl_ms);
	CHECK_SETTING(cfg->keepalive_probes >= 1 && cfg->keepalive_probes <= 127,
	              "keepalive_probes: %u is outside 1..127", cfg->keepalive_probes);
	CHECK_SETTING(cfg->max_syn_backlog >= 1 && cfg->max_syn_backlog <= 1u << 20,
	              "max_syn_backlog: %u is outside 1..1048576", cfg->max_syn_backlog);
	CHECK_SETTING(cfg->syncookies <= 2,
	              "syncookies: %u is not 0 (off), 1 (when the SYN queue is full) or 2 (always)",
	              cfg->syncookies);
	CHECK_SETTING(cfg->abort_on_overflow <= 1, "abort_on_overflow: %u is not 0 or 1",
	              cfg->abort_on_overflow);
	CHECK_SETTING(cfg->challenge_ack_limit <= 1000000,
	              "challenge_ack_limit: %u is above 1000000 per second (0 = no limit)",
	              cfg->challenge_ack_limit);
	CHECK_SETTING(cfg->rfc1337 <= 1, "rfc1337: %u is not 0 or 1", cfg->rfc1337);
	CHECK_SETTING(cfg->ofo_budget <= 1u << 31, "ofo_budget: %u is above 2^31 bytes",
	              cfg->ofo_budget);
	CHECK_SETTING(cfg->icmp_ratelimit_ms <= 3600000,
	              "icmp_ratelimit_ms: %u is above 3600000 (0 turns the limit off)",
	              cfg->icmp_ratelimit_ms);
	CHECK_SETTING(cfg->icmp_ratelimit_burst >= 1 && cfg->icmp_ratelimit_burst <= 100000,
	              "icmp_ratelimit_burst: %u is outside 1..100000", cfg->icmp_ratelimit_burst);
	CHECK_SETTING(cfg->min_pmtu >= 68 && cfg->min_pmtu <= cfg->mtu,
	              "min_pmtu: %u is outside 68..mtu (RFC 791: every link carries 68 bytes)",
	              cfg->min_pmtu);
	CHECK_SETTING(cfg->invalid_ratelimit_ms <= 60000,
	              "invalid_ratelimit_ms: %u is above 60000 (0 answers every unacceptable ACK)",
	              cfg->invalid_ratelimit_ms);
	CHECK_SETTING(cfg->ipfrag_high_thresh <= 1u << 30,
	              "ipfrag_high_thresh: %u is above 2^30 bytes (0 turns reassembly off)",
	              cfg->ipfrag_high_thresh);
	CHECK_SETTING(cfg->ipfrag_time_ms >= 1 && cfg->ipfrag_time_ms <= 3600000,
	              "ipfrag_time_ms: %u is outside 1..3600000", cfg->ipfrag_time_ms);
	CHECK_SETTING(cfg->ipfrag_max_frags >= 1 && cfg->ipfrag_max_frags <= 8192,
	              "ipfrag_max_frags: %u is outside 1..8192", cfg->ipfrag_max_frags);
	CHECK_SETTING(cfg->hystart <= 1,
	              "hystart: %u is not 0 (standard slow start) or 1 (HyStart++)", cfg->hystart);
	CHECK_SETTING(cfg->window_scaling <= 1, "window_scaling: %u is not 0 or 1",
	              cfg->window_scaling);
	CHECK_SETTING(cfg->timestamps <= 1, "timestamps: %u is not 0 or 1", cfg->timestamps);
	/* An initial size (rmem_default, wmem_default) above the maximum is
	 * allowed, as the older rcvbuf and sndbuf were: that buffer does not
	 * grow. */
	CHECK_SETTING(cfg->rmem_max >= 1 && cfg->rmem_max <= 1u << 30,
	              "rmem_max: %u is outside 1..2^30", cfg->rmem_max);
	CHECK_SETTING(cfg->rmem_min >= 1 && cfg->rmem_min <= cfg->rmem_max,
	              "rmem_min: %u is outside 1..rmem_max (%u)", cfg->rmem_min, cfg->rmem_max);
	CHECK_SETTING(cfg->wmem_max >= 1 && cfg->wmem_max <= 1u << 30,
	              "wmem_max: %u is outside 1..2^30", cfg->wmem_max);
	CHECK_SETTING(cfg->wmem_min >= 1 && cfg->wmem_min <= cfg->wmem_max,
	              "wmem_min: %u is outside 1..wmem_max (%u)", cfg->wmem_min, cfg->wmem_max);
	CHECK_SETTING(cfg->ecn <= 2,
	              "ecn: %u is not 0 (off), 1 (ask and accept) or 2 (accept when asked)",
	              cfg->ecn);
	CHECK_SETTING(cfg->ecn_fallback <= 1, "ecn_fallback: %u is not 0 or 1", cfg->ecn_fallback);
	/* SACK and loss recovery (issue 13). */
	CHECK_SETTING(cfg->sack <= 1, "sack: %u is not 0 or 1", cfg->sack);
	CHECK_SETTING(cfg->dsack <= 1, "dsack: %u is not 0 or 1", cfg->dsack);
	CHECK_SETTING(cfg->reordering >= 1 && cfg->reordering <= 300,
	              "reordering: %u is outside 1..300", cfg->reordering);
	CHECK_SETTING(cfg->recovery <= 1, "recovery: %u is not 0 or 1 (bit 1: RACK-TLP)",
	              cfg->recovery);
	CHECK_SETTING(cfg->frto <= 2, "frto: %u is not 0 (off), 1 or 2 (F-RTO)", cfg->frto);
	/* Routing (issue 17 items 1 and 4). */
	CHECK_SETTING(cfg->prefix_len <= 32,
	              "prefix_len: %u is above 32 (0: every destination is on-link)",
	              cfg->prefix_len);
	CHECK_SETTING(cfg->max_addrs >= 1 && cfg->max_addrs <= 256,
	              "max_addrs: %u is outside 1..256", cfg->max_addrs);
	CHECK_SETTING(cfg->max_routes >= 1 && cfg->max_routes <= 4096,
	              "max_routes: %u is outside 1..4096 (addr's own route is one)",
	              cfg->max_routes);
	CHECK_SETTING(cfg->max_quickacks <= 255,
	              "max_quickacks: %u is above 255 (0 turns quick-ACK mode off)",
	              cfg->max_quickacks);
	/* IPv6 (issue 14): none, or one unicast address on a link that
	 * carries IPv6's minimum MTU (RFC 8200 5). */
	struct addr a6 = wire_addr6_from_bytes(cfg->addr6);
	CHECK_SETTING(addr_is_zero(&a6) || net_addr6_is_unicast(&a6),
	              "addr6: must be a unicast IPv6 address (not ::1, multicast or IPv4-mapped)");
	CHECK_SETTING(addr_is_zero(&a6) || cfg->mtu >= WIRE_IP6_MIN_MTU,
	              "mtu: %u is below 1280, the IPv6 minimum (RFC 8200 5), with addr6 set",
	              cfg->mtu);
	CHECK_SETTING(cfg->prefix_len6 <= 128,
	              "prefix_len6: %u is above 128 (0: every IPv6 destination is on-link)",
	              cfg->prefix_len6);
	/* TCP Fast Open (RFC 7413) */
	CHECK_SETTING((cfg->fastopen & ~SYNACK_FASTOPEN_BITS) == 0,
	              "fastopen: 0x%x has bits other than 0x1 (client), 0x2 (server), 0x4 (client "
	              "data without cookie), 0x200 (server data without cookie), 0x400 (every "
	              "listener)",
	              cfg->fastopen);
	CHECK_SETTING(cfg->fastopen_cache_size <= 65536,
	              "fastopen_cache_size: %u is above 65536 cookies", cfg->fastopen_cache_size);
	/* Pacing (issue 13) */
	CHECK_SETTING(cfg->pacing <= 1, "pacing: %u is not 0 (off) or 1 (on)", cfg->pacing);
	CHECK_SETTING(cfg->pacing_ss_ratio >= 1 && cfg->pacing_ss_ratio <= 1000,
	              "pacing_ss_ratio: %u is outside 1..1000 (percent of cwnd / SRTT)",
	              cfg->pacing_ss_ratio);
	CHECK_SETTING(cfg->pacing_ca_ratio >= 1 && cfg->pacing_ca_ratio <= 1000,
	              "pacing_ca_ratio: %u is outside 1..1000 (percent of cwnd / SRTT)",
	              cfg->pacing_ca_ratio);
	/* HyStart++'s exit signals (issue 13) */
	CHECK_SETTING(cfg->hystart_detect <= SYNACK_HYSTART_DETECT_ALL,
	              "hystart_detect: %u is not 0..3 (1: the delay between rounds, 2: "
	              "the delay within a round)",
	              cfg->hystart_detect);
	CHECK_SETTING(cfg->pool_keep_pct <= 100,
	              "pool_keep_pct: %u is outside 0..100 (percent of the objects in use)",
	              cfg->pool_keep_pct);
	/* Memory (issue 16 item 4) */
	CHECK_SETTING(cfg->packet_pool_trim_ms <= 3600000,
	              "packet_pool_trim_ms: %u is above 3600000 (one hour; 0 keeps the pool)",
	              cfg->packet_pool_trim_ms);
	/* Memory (issue 16 item 4, idle endpoints) */
	CHECK_SETTING(cfg->pool_trim_ms <= 3600000,
	              "pool_trim_ms: %u is above 3600000 (one hour; 0 keeps the caches)",
	              cfg->pool_trim_ms);
	CHECK_SETTING(cfg->ack_on_read <= 1, "ack_on_read: %u is not 0 or 1", cfg->ack_on_read);
	CHECK_SETTING(cfg->max_reordering >= cfg->reordering && cfg->max_reordering <= 300,
	              "max_reordering: %u is outside reordering..300 (%u..300)",
	              cfg->max_reordering, cfg->reordering);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Lifecycle.                                                          */

struct synack_stack *synack_stack_new(const struct synack_config *cfg, int *error)
{
	struct synack_stack *st;
	int err = synack_config_check(cfg, NULL, 0);
	if (err) {
		if (error)
			*error = err;
		return NULL;
	}
	st = calloc(1, sizeof(*st));
	if (!st)
		goto nomem;
	/* Each layer is set up in turn, from the bottom: what all share, the
	 * network layer, TCP (its keys first), then the sockets. */
	struct sock_layer *sl = &st->sock;
	struct tcp_layer *tl = &sl->tcp;
	struct env *env = ENV(st);
	env->cfg = *cfg;
	siphash_derive_key(cfg->secret, 'i', tl->key_isn);
	siphash_derive_key(cfg->secret, 'p', sl->key_port);
	siphash_derive_key(cfg->secret, 'h', tl->key_hash);
	siphash_derive_key(cfg->secret, 'c', tl->key_cookie);
	uint8_t key_flow[16]; /* IPv6 flow labels (RFC 6437), issue 14 */
	siphash_derive_key(cfg->secret, 'f', key_flow);
	siphash_key_words(key_flow, tl->net.key_flow);
	siphash_derive_key(cfg->secret, 't', tl->key_tfo); /* TCP Fast Open cookies */
	if (net_layer_init(&tl->net) != 0) {
		net_layer_fini(&tl->net);
		goto nomem_free;
	}
	if (tcp_layer_init(tl) != 0) {
		net_layer_fini(&tl->net);
		goto nomem_free;
	}
	if (sock_layer_init(sl) != 0) {
		tcp_layer_fini(tl);
		net_layer_fini(&tl->net);
		goto nomem_free;
	}
	if (cfg->trace_capacity) {
		/* One block: the records, each on a line of its own (struct
		 * trace_rec; the block is aligned by hand, as the core uses only
		 * malloc and free), then their exts.  Neither needs zeroing: a
		 * record is zeroed when written, its ext when first asked for. */
		size_t cap = cfg->trace_capacity;
		env->trace_mem = malloc(63 + cap * (sizeof(*env->trace) + sizeof(*env->trace_ext)));
		if (!env->trace_mem) {
			sock_layer_fini(sl);
			tcp_layer_fini(tl);
			net_layer_fini(&tl->net);
			goto nomem_free;
		}
		uintptr_t at = ((uintptr_t)env->trace_mem + 63) & ~(uintptr_t)63;
		env->trace = (struct trace_rec *)at;
		env->trace_ext = (struct trace_ext *)(env->trace + cap);
	}
	if (error)
		*error = 0;
	return st;
nomem_free:
	free(st);
nomem:
	if (error)
		*error = -ENOMEM;
	return NULL;
}

void synack_stack_free(struct synack_stack *st)
{
	if (!st)
		return;
	/* From the top: the sockets let go of their connections first. */
	sock_layer_fini(&st->sock);
	tcp_layer_fini(&st->sock.tcp);
	net_layer_fini(&st->sock.tcp.net);
	free(ENV(st)->trace_mem);
	free(st);
}

/* ------------------------------------------------------------------ */
/* Packets and time.                                                   */

static void set_now(struct synack_stack *st, uint64_t now)
{
	/* Time never runs backwards inside the stack. */
	if (now > ENV(st)->now)
		ENV(st)->now = now;
}

/* The object caches' decay (pool_trim_ms, issue 16 item 4): TCP's and the
 * sockets', on TCP's period, when the stack is entered. */
static void pools_trim(struct synack_stack *st)
{
	tcp_pool_trim(&st->sock.tcp);
	slab_trim(&st->sock.sock_slab);
}
static inline void pools_tick(struct synack_stack *st)
{
	if (tcp_pool_due(&st->sock.tcp))
		pools_trim(st);
}

int synack_input(struct synack_stack *st, uint64_t now, const void *pkt, size_t len)
{
	return synack_input_flags(st, now, pkt, len, 0);
}

int synack_input_flags(struct synack_stack *st, uint64_t now, const void *pkt, size_t len,
                       unsigned flags)
{
	if (!st || (flags & ~SYNACK_INPUT_CSUM_UNNECESSARY))
		return -EINVAL;
	set_now(st, now);
	net_pool_tick(&st->sock.tcp.net);
	pools_tick(st);
	if (!pkt)
		len = 0;
	/* The network layer validates the datagram and says what it carries
	 * up; the stack, which sees every layer, hands it to TCP.  No layer
	 * calls the one above it. */
	struct tcp_layer *tl = &st->sock.tcp;
	struct net_up up;
	int reason = net_input(
	    &tl->net, pkt, len,
	    flags & SYNACK_INPUT_CSUM_UNNECESSARY ? NET_CSUM_UNNECESSARY : NET_CSUM_NONE, &up);
	switch (up.kind) {
	case NET_UP_TCP:
		return tcp_input(tl, &up.tcp);
	case NET_UP_TCP_ERROR:
		reason = tcp_net_error(tl, &up.err);
		return reason == SYNACK_DROP_NONE ? 0 : net_error_dropped(&tl->net, &up, reason);
	default:
		return reason;
	}
}

int synack_input_block(struct synack_stack *st, uint64_t now, const void *pkt, size_t len,
                       unsigned flags, void *block, size_t size, int *kept)
{
	if (!st || !kept)
		return -EINVAL;
	*kept = 0;
	const uint8_t *b = block, *p = pkt;
	if (!b)
		return synack_input_flags(st, now, pkt, len, flags);
	if (!p || size > UINT32_MAX || p < b || (size_t)(p - b) > size ||
	    len > size - (size_t)(p - b))
		return -EINVAL;
	/* TCP looks here for a block it may keep (tcp_rcvq_hold). */
	struct tcp_layer *tl = &st->sock.tcp;
	tl->rx_block = b;
	tl->rx_block_size = (uint32_t)size;
	tl->rx_block_kept = 0;
	int ret = synack_input_flags(st, now, pkt, len, flags);
	*kept = tl->rx_block_kept;
	tl->rx_block = NULL;
	tl->rx_block_kept = 0;
	return ret;
}

void *synack_block_spare(struct synack_stack *st, size_t size)
{
	if (!st || size > UINT32_MAX)
		return NULL;
	return tcp_rcvq_spare(&st->sock.tcp, (uint32_t)size);
}

int synack_unreachable(struct synack_stack *st, uint64_t now, const struct synack_endpoint *dst,
                       int err)
{
	if (!st || !dst || err >= 0 || err <= -4096)
		return -EINVAL;
	struct addr raddr;
	switch (dst->family) {
	case SYNACK_AF_INET:
		raddr = addr_v4(dst->addr);
		break;
	case SYNACK_AF_INET6:
		raddr = wire_addr6_from_bytes(dst->addr6);
		break;
	default:
		return -EINVAL;
	}
	set_now(st, now);
	/* Like an ICMP error, what the link says goes to TCP through the
	 * stack, the one layer that sees both. */
	struct tcp_layer *tl = &st->sock.tcp;
	STAT_INC(tl, NeighResFailed);
	size_t n = tcp_unreachable(tl, &raddr, err);
	if (n == 0) {
		struct addr laddr =
		    addr_is_v4(&raddr) ? addr_v4(ENV(st)->cfg.addr) : net_addr6(&tl->net);
		net_drop(&tl->net, SYNACK_DROP_NEIGH_NO_CONN, &raddr, &laddr);
	}
	return n > INT_MAX ? INT_MAX : (int)n;
}

/* Datagrams to our own addresses come back in here, as Linux's lo hands
 * them to the receive path: those queued and the answers they draw, at
 * most LOOPBACK_BUDGET per call so that two ends in one stack cannot hold
 * the caller forever (synack_next_deadline asks for another call). */
#define LOOPBACK_BUDGET 256
static void loopback(struct synack_stack *st)
{
	struct net_layer *n = &st->sock.tcp.net;
	struct pkt *p;
	for (int i = 0; i < LOOPBACK_BUDGET && (p = net_loopback_pop(n)) != NULL; i++) {
		n->in_lo = 1;
		(void)synack_input(st, ENV(st)->now, p->data, p->len);
		n->in_lo = 0;
		net_pkt_free(n, p);
	}
}

void synack_advance(struct synack_stack *st, uint64_t now)
{
	if (!st)
		return;
	set_now(st, now);
	net_pool_tick(&st->sock.tcp.net);
	pools_tick(st);
	/* Each layer runs its own timers; the stack, above both, calls them
	 * (the network layer's reassembly timeouts first: they concern
	 * datagrams that never reached TCP). */
	net_advance(&st->sock.tcp.net);
	tcp_advance(&st->sock.tcp);
	if (st->sock.tcp.net.lo_head)
		loopback(st);
}

uint64_t synack_next_deadline(const struct synack_stack *st)
{
	if (!st)
		return SYNACK_NEVER;
	if (st->sock.tcp.net.lo_head)
		return ENV(st)->now; /* looped-back datagrams wait (loopback) */
	/* A stack that never saw a fragment asks TCP alone (and the call
	 * stays a tail call: the simulator asks on every step). */
	if (!st->sock.tcp.net.reasm)
		return tcp_next_deadline(&st->sock.tcp);
	return net_next_deadline(&st->sock.tcp.net, tcp_next_deadline(&st->sock.tcp));
}

uint64_t synack_now(const struct synack_stack *st)
{
	return st ? ENV(st)->now : 0;
}

uint32_t synack_stack_addr(const struct synack_stack *st)
{
	return st ? ENV(st)->cfg.addr : 0;
}

int synack_stack_addr6(const struct synack_stack *st, uint8_t out[16])
{
	if (!st || !out)
		return 0;
	/* cfg.addr6, else the first IPv6 address added (issue 14). */
	struct addr a = net_addr6(&st->sock.tcp.net);
	wire_addr6_to_bytes(&a, out);
	return net_has_addr6(&st->sock.tcp.net);
}

ssize_t synack_output(struct synack_stack *st, void *buf, size_t cap)
{
	if (!st)
		return -EINVAL;
	return net_outbox_pop(&st->sock.tcp.net, buf, cap, NULL);
}

ssize_t synack_output_via(struct synack_stack *st, void *buf, size_t cap,
                          struct synack_endpoint *next_hop)
{
	if (!st)
		return -EINVAL;
	struct addr hop;
	ssize_t n = net_outbox_pop(&st->sock.tcp.net, buf, cap, &hop);
	if (n > 0 && next_hop) {
		memset(next_hop, 0, sizeof(*next_hop));
		env_endpoint_zeroed(next_hop, &hop, 0);
	}
	return n;
}

size_t synack_output_pending(const struct synack_stack *st)
{
	return st ? st->sock.tcp.net.out_len : 0;
}

/* The datagram whose bytes synack_output_take handed out at data. */
static struct pkt *pkt_of(const void *data)
{
	return (struct pkt *)(void *)((uint8_t *)(uintptr_t)data - offsetof(struct pkt, data));
}

/* Issue 16 item 4: the datagram leaves in the buffer it was built in. */
ssize_t synack_output_take(struct synack_stack *st, void **pkt)
{
	if (!st || !pkt)
		return -EINVAL;
	struct net_layer *n = &st->sock.tcp.net;
	struct pkt *p = net_outbox_take(n);
	if (!p)
		return 0;
	n->out_taken++; /* until done or given back (net.h) */
	*pkt = p->data;
	return (ssize_t)p->len;
}

void synack_output_done(struct synack_stack *st, void *pkt)
{
	if (!pkt)
		return;
	struct pkt *p = pkt_of(pkt);
	if (!st) {
		net_pkt_release(p); /* a small one to its blocks, which outlive the stack */
		return;
	}
	struct net_layer *n = &st->sock.tcp.net;
	if (n->out_taken)
		n->out_taken--;
	net_pkt_free(n, p);
}

void *synack_output_block(const struct synack_stack *st, const void *pkt, size_t *size)
{
	if (!st || !pkt || !size)
		return NULL;
	struct pkt *p = pkt_of(pkt);
	/* The small class is not lent: its blocks carry control segments and
	 * short text, which the receiver copies anyway (the half-block rule),
	 * and a second size would thrash its spares (synack_block_spare). */
	if (p->small)
		return NULL;
	*size = synack_output_block_size(st);
	return p;
}

size_t synack_output_block_size(const struct synack_stack *st)
{
	return st ? net_pkt_block_size(&st->sock.tcp.net) : 0;
}

void synack_output_give(struct synack_stack *st, void *block, size_t size)
{
	if (!st) {
		free(block);
		return;
	}
	struct net_layer *n = &st->sock.tcp.net;
	if (n->out_taken)
		n->out_taken--; /* the datagram kept elsewhere is done with */
	if (!block)
		return;
	if (size != net_pkt_block_size(n)) {
		free(block);
		return;
	}
	net_pkt_adopt(n, block);
}

/* ------------------------------------------------------------------ */
/* Trace ring.                                                         */

/* The public record of a ring record: every field the ring holds, the
 * rest (and the padding: records are copied out whole) zero. */
static void trace_public(const struct trace_rec *r, const struct trace_ext *x,
                         struct synack_trace *out)
{
	memset(out, 0, sizeof(*out));
	out->t_us = r->t_us;
	out->kind = r->kind;
	if (r->v6) {
		env_endpoint_zeroed(&out->local, &x->laddr6, r->lport);
		env_endpoint_zeroed(&out->remote, &x->raddr6, r->rport);
	} else {
		out->local.addr = r->laddr;
		out->local.port = r->lport;
		out->remote.addr = r->raddr;
		out->remote.port = r->rport;
	}
	out->from = r->from;
	out->to = r->to;
	out->cause = r->cause;
	out->flags = r->flags;
	out->reason = r->reason;
	out->seq = r->seq;
	out->ack = r->ack;
	out->len = r->len;
	out->win = r->win;
	out->iss = r->iss;
	out->irs = r->irs;
	out->opts = r->opts;
	out->ecn = r->ecn;
	out->sack_count = r->sack_count;
	if (!r->ext)
		return;
	out->opt_wscale = x->opt_wscale;
	out->opt_mss = x->opt_mss;
	out->opt_ts_val = x->opt_ts_val;
	out->opt_ts_ecr = x->opt_ts_ecr;
	memcpy(out->sack, x->sack, sizeof(out->sack));
	out->opt_tfo_len = x->opt_tfo_len;
	memcpy(out->opt_tfo_cookie, x->opt_tfo_cookie, sizeof(out->opt_tfo_cookie));
}

size_t synack_trace_read(struct synack_stack *stack, struct synack_trace *out, size_t max)
{
	size_t n = 0;
	if (!stack || !out)
		return 0;
	struct env *st = ENV(stack);
	while (n < max && st->trace_tail < st->trace_head) {
		uint32_t i = (uint32_t)(st->trace_tail % st->cfg.trace_capacity);
		trace_public(&st->trace[i], &st->trace_ext[i], &out[n++]);
		st->trace_tail++;
	}
	return n;
}

/* ------------------------------------------------------------------ */
/* Counters.                                                           */

void synack_stats(const struct synack_stack *st, struct synack_stats *out)
{
	if (!st || !out)
		return;
	*out = ENV(st)->stats;
	out->bytes_buffered = tcp_bytes_buffered(&st->sock.tcp) + sock_bytes_buffered(&st->sock);
}

/* ------------------------------------------------------------------ */
/* Memory accounting.                                                  */

void synack_memory(const struct synack_stack *st, struct synack_mem *out)
{
	if (!out)
		return;
	memset(out, 0, sizeof(*out));
	if (!st)
		return;
	/* Each layer counts what it holds; the stack adds itself, the trace
	 * ring, the addresses and routes, and the network layer's datagrams: waiting in (or pooled
	 * for) the outbox, and fragments held for reassembly. */
	tcp_memory(&st->sock.tcp, out);
	sock_memory(&st->sock, out);
	out->packets = net_memory(&st->sock.tcp.net);
	out->other += sizeof(*st) + (ENV(st)->trace_mem ? 63 : 0) +
	              (uint64_t)ENV(st)->cfg.trace_capacity *
	                  (sizeof(*ENV(st)->trace) + sizeof(*ENV(st)->trace_ext)) +
	              route_memory(&st->sock.tcp.net);
	out->total = out->tcbs + out->time_wait + out->syn_pending + out->buffers + out->other +
	             out->sockets + out->packets + out->cached;
}

static const char *const counter_names[] = {
#define SYNACK_COUNTER_NAME(name) #name,
    SYNACK_COUNTERS(SYNACK_COUNTER_NAME)
#undef SYNACK_COUNTER_NAME
};

size_t synack_counter_count(void)
{
	return sizeof(counter_names) / sizeof(counter_names[0]);
}

const char *synack_counter_name(size_t i)
{
	return i < synack_counter_count() ? counter_names[i] : NULL;
}

uint64_t synack_counter_value(const struct synack_stats *s, size_t i)
{
	/* The counters are the leading uint64_t fields, in list order. */
	const uint64_t *v = (const uint64_t *)(const void *)s;
	return i < synack_counter_count() ? v[i] : 0;
}

/* ------------------------------------------------------------------ */
/* Names.                                                              */

const char *synack_state_name(int state)
{
	static const char *const names[] = {
#define SYNACK_STATE_NAME(name) #name,
	    SYNACK_STATES(SYNACK_STATE_NAME)
#undef SYNACK_STATE_NAME
	};
	return state >= 0 && state < SYNACK_STATE_COUNT ? names[state] : "?";
}

const char *synack_ca_state_name(int ca_state)
{
	static const char *const names[] = {"open", "recovery", "loss"};
	return ca_state >= 0 && ca_state <= SYNACK_CA_LOSS ? names[ca_state] : "?";
}

const char *synack_drop_name(int reason)
{
	static const char *const names[] = {
#define SYNACK_DROP_NAME(name, str) str,
	    SYNACK_DROPS(SYNACK_DROP_NAME)
#undef SYNACK_DROP_NAME
	};
	return reason >= 0 && reason < SYNACK_DROP_COUNT ? names[reason] : "?";
}

const char *synack_cause_name(int cause)
{
	static const char *const names[] = {
#define SYNACK_CAUSE_NAME(name, str) str,
	    SYNACK_CAUSES(SYNACK_CAUSE_NAME)
#undef SYNACK_CAUSE_NAME
	};
	return cause >= 0 && cause < SYNACK_CAUSE_COUNT ? names[cause] : "?";
}

const char *synack_flags_str(uint8_t flags, char *buf, size_t len)
{
	/* tcpdump's notation: S F R P U E W letters, "." for ACK. */
	char tmp[16];
	size_t n = 0;
	if (flags & SYNACK_TH_SYN)
		tmp[n++] = 'S';
	if (flags & SYNACK_TH_FIN)
		tmp[n++] = 'F';
	if (flags & SYNACK_TH_RST)
		tmp[n++] = 'R';
	if (flags & SYNACK_TH_PSH)
		tmp[n++] = 'P';
	if (flags & SYNACK_TH_URG)
		tmp[n++] = 'U';
	if (flags & SYNACK_TH_ECE)
		tmp[n++] = 'E';
	if (flags & SYNACK_TH_CWR)
		tmp[n++] = 'W';
	if (flags & SYNACK_TH_ACK)
		tmp[n++] = '.';
	tmp[n] = '\0';
	if (n == 0)
		snprintf(tmp, sizeof(tmp), "none");
	if (buf && len)
		snprintf(buf, len, "%s", tmp);
	return buf;
}

const char *synack_strerror(int err)
{
	if (err == INT_MIN)
		return "unknown error";
	if (err > 0)
		err = -err;
	switch (-err) {
	case 0:
		return "success";
	case EAGAIN:
		return "operation would block (EAGAIN)";
	case EINPROGRESS:
		return "connection in progress (EINPROGRESS)";
	case EALREADY:
		return "connection already in progress (EALREADY)";
	case EISCONN:
		return "socket is already connected (EISCONN)";
	case ENOTCONN:
		return "socket is not connected (ENOTCONN)";
	case ECONNREFUSED:
		return "connection refused (ECONNREFUSED)";
	case ECONNRESET:
		return "connection reset by peer (ECONNRESET)";
	case ETIMEDOUT:
		return "connection timed out (ETIMEDOUT)";
	case EPIPE:
		return "broken pipe (EPIPE)";
	case EINVAL:
		return "invalid argument (EINVAL)";
	case EBADF:
		return "bad socket (EBADF)";
	case EADDRINUSE:
		return "address already in use (EADDRINUSE)";
	case EADDRNOTAVAIL:
		return "address not available (EADDRNOTAVAIL)";
	case ENOMEM:
		return "out of memory (ENOMEM)";
	case EMSGSIZE:
		return "message too long (EMSGSIZE)";
	case EOPNOTSUPP:
		return "operation not supported (EOPNOTSUPP)";
	case EMFILE:
		return "too many sockets (EMFILE)";
	case ENOPROTOOPT:
		return "protocol option not available (ENOPROTOOPT)";
	case ENETUNREACH:
		return "network is unreachable (ENETUNREACH)";
	case EHOSTUNREACH:
		return "no route to host (EHOSTUNREACH)";
	case EHOSTDOWN:
		return "host is down (EHOSTDOWN)";
	case ENONET:
		return "machine is not on the network (ENONET)";
	case EPROTO:
		return "protocol error (EPROTO)";
	case EACCES:
		return "permission denied (EACCES)";
	default:
		return "unknown error";
	}
}

/* An IPv6 endpoint (issue 14): "[address]:port", "[address]", or an
 * address alone ("2001:db8::1", port 0); the address in RFC 4291 2.2's
 * text forms. */
static int endpoint_parse6(const char *text, struct synack_endpoint *ep)
{
	uint8_t a[16];
	unsigned long port = 0;
	const char *addr = text, *end;
	if (text[0] == '[') {
		addr = text + 1;
		end = strchr(addr, ']');
		if (!end)
			return -EINVAL;
		if (end[1] == ':') {
			const char *p = end + 2;
			if (*p == '\0' || strlen(p) > 5)
				return -EINVAL;
			for (; *p; p++) {
				if (*p < '0' || *p > '9')
					return -EINVAL;
				port = port * 10 + (unsigned long)(*p - '0');
			}
		} else if (end[1] != '\0') {
			return -EINVAL;
		}
	} else {
		end = text + strlen(text);
	}
	if (port > 65535 || wire_addr6_parse(addr, (size_t)(end - addr), a) != 0)
		return -EINVAL;
	memset(ep, 0, sizeof(*ep));
	ep->family = SYNACK_AF_INET6;
	memcpy(ep->addr6, a, sizeof(a));
	ep->port = (uint16_t)port;
	return 0;
}

int synack_endpoint_parse(const char *text, struct synack_endpoint *ep)
{
	unsigned a[4], port = 0;
	int used = -1;
	if (!text || !ep)
		return -EINVAL;
	/* IPv6: bracketed, or more than one colon. */
	const char *colon = strchr(text, ':');
	if (text[0] == '[' || (colon && strchr(colon + 1, ':')))
		return endpoint_parse6(text, ep);
	/* Digits, dots and one colon only: sscanf alone would skip spaces and
	 * signs and stop quietly before trailing text. */
	for (const char *p = text; *p; p++)
		if (!(*p == '.' || *p == ':' || (*p >= '0' && *p <= '9')))
			return -EINVAL;
	if (strchr(text, ':')) {
		if (sscanf(text, "%3u.%3u.%3u.%3u:%5u%n", &a[0], &a[1], &a[2], &a[3], &port,
		           &used) != 5)
			return -EINVAL;
	} else if (sscanf(text, "%3u.%3u.%3u.%3u%n", &a[0], &a[1], &a[2], &a[3], &used) != 4) {
		return -EINVAL;
	}
	if (used < 0 || text[used] != '\0')
		return -EINVAL;
	for (int i = 0; i < 4; i++)
		if (a[i] > 255)
			return -EINVAL;
	if (port > 65535)
		return -EINVAL;
	/* Every field: the family (IPv4) and the unused IPv6 address too, so
	 * that an endpoint parsed into uninitialised memory is whole. */
	memset(ep, 0, sizeof(*ep));
	ep->family = SYNACK_AF_INET;
	ep->addr = (a[0] << 24) | (a[1] << 16) | (a[2] << 8) | a[3];
	ep->port = (uint16_t)port;
	return 0;
}

const char *synack_endpoint_str(const struct synack_endpoint *ep, char *buf, size_t len)
{
	if (!buf || !len)
		return buf;
	if (!ep) {
		snprintf(buf, len, "?");
		return buf;
	}
	if (ep->family == SYNACK_AF_INET6) {
		/* RFC 5952 4 for the address, 6 for the port: "[2001:db8::1]:80". */
		char a[48];
		wire_addr6_str(ep->addr6, a, sizeof(a));
		snprintf(buf, len, "[%s]:%u", a, ep->port);
		return buf;
	}
	if (ep->family != SYNACK_AF_INET) {
		snprintf(buf, len, "?");
		return buf;
	}
	snprintf(buf, len, "%u.%u.%u.%u:%u", ep->addr >> 24, (ep->addr >> 16) & 255,
	         (ep->addr >> 8) & 255, ep->addr & 255, ep->port);
	return buf;
}
