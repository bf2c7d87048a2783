#include "soak.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

uint64_t soak_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

double soak_unit(uint64_t *s)
{
	return (double)(soak_next(s) >> 11) / 9007199254740992.0;
}

uint32_t soak_below(uint64_t *s, uint32_t n)
{
	return n ? (uint32_t)(soak_next(s) % n) : 0;
}

uint64_t soak_fnv(uint64_t h, const void *p, size_t len)
{
	const uint8_t *b = p;
	for (size_t i = 0; i < len; i++) {
		h ^= b[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

uint64_t soak_fnv_u64(uint64_t h, uint64_t v)
{
	uint8_t b[8];
	for (int i = 0; i < 8; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	return soak_fnv(h, b, sizeof(b));
}

uint64_t soak_hash_record(uint64_t x, int h, const struct synack_trace *t)
{
	uint64_t f[] = {(uint64_t)h,    t->t_us,        t->kind, t->local.addr, t->local.port,
	                t->remote.addr, t->remote.port, t->from, t->to,         t->cause,
	                t->flags,       t->reason,      t->seq,  t->ack,        t->len,
	                t->win,         t->iss,         t->irs};
	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		x = soak_fnv_u64(x, f[i]);
	return x;
}

uint64_t soak_env_u64(const char *name, uint64_t dflt)
{
	const char *v = getenv(name);
	if (!v || !*v)
		return dflt;
	return strtoull(v, NULL, 0);
}

double soak_env_double(const char *name, double dflt)
{
	const char *v = getenv(name);
	if (!v || !*v)
		return dflt;
	return strtod(v, NULL);
}

void soak_print_record(const char *side, const struct synack_trace *t)
{
	char fl[16];
	double ts = (double)t->t_us / 1e6;
	if (t->kind == SYNACK_TRACE_STATE) {
		printf("    %12.6f %s :%u<->:%u state %s -> %s (%s)\n", ts, side, t->local.port,
		       t->remote.port, synack_state_name(t->from), synack_state_name(t->to),
		       synack_cause_name(t->cause));
		return;
	}
	const char *k = t->kind == SYNACK_TRACE_TX ? ">" : t->kind == SYNACK_TRACE_RX ? "<" : "x";
	printf("    %12.6f %s %s %-3s seq %u ack %u len %u win %u", ts, side, k,
	       synack_flags_str(t->flags, fl, sizeof(fl)),
	       t->kind == SYNACK_TRACE_TX ? t->seq - t->iss : t->seq - t->irs,
	       t->kind == SYNACK_TRACE_TX ? t->ack - t->irs : t->ack - t->iss, t->len, t->win);
	if (t->kind == SYNACK_TRACE_DROP)
		printf("  DROP %s", synack_drop_name(t->reason));
	printf("\n");
}

void soak_print_path(const char *label, const struct synack_sim_path *p)
{
	printf("  %s loss %.3f dup %.3f reorder %.3f corrupt %.3f delay %u jitter %u", label,
	       p->loss, p->dup, p->reorder, p->corrupt, p->delay_us, p->jitter_us);
	if (p->rate_bps)
		printf(" rate %" PRIu64 " queue %u", p->rate_bps, p->queue_pkts);
	if (p->ecn_mark_pkts)
		printf(" ecn_mark %u", p->ecn_mark_pkts);
	printf("\n");
}

static uint32_t sum16(uint32_t sum, const uint8_t *p, size_t len)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

static uint16_t fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

int soak_datagram_intact(const uint8_t *pkt, size_t len)
{
	if (len < 40 || pkt[0] != 0x45 || pkt[9] != 6 || (size_t)(pkt[2] << 8 | pkt[3]) != len)
		return 0;
	if (fold(sum16(0, pkt, 20)) != 0xffff)
		return 0;
	uint32_t sum = sum16(0, pkt + 12, 8) + 6 + (uint32_t)(len - 20);
	return fold(sum16(sum, pkt + 20, len - 20)) == 0xffff;
}

struct conns_count {
	uint64_t listeners, others;
	char first[96];
};

static void count_conn(void *ctx, const struct synack_conn *c)
{
	struct conns_count *k = ctx;
	if (c->state == SYNACK_LISTEN) {
		k->listeners++;
		return;
	}
	if (!k->others++)
		snprintf(k->first, sizeof(k->first), "%s :%u<->:%u", synack_state_name(c->state),
		         c->local.port, c->remote.port);
}

int soak_stack_idle(struct synack_stack *st, uint64_t listeners, char *why, size_t len)
{
	struct synack_stats s;
	struct conns_count k;
	memset(&k, 0, sizeof(k));
	synack_conns(st, count_conn, &k);
	synack_stats(st, &s);
	if (k.others) {
		snprintf(why, len, "%" PRIu64 " connection(s) left, first %s", k.others, k.first);
		return 0;
	}
	if (k.listeners != listeners) {
		snprintf(why, len, "%" PRIu64 " listeners, want %" PRIu64, k.listeners, listeners);
		return 0;
	}
	if (s.conns_live != listeners || s.time_wait_live || s.orphans_live || s.bytes_buffered) {
		snprintf(why, len,
		         "conns_live %" PRIu64 " time_wait_live %" PRIu64 " orphans_live %" PRIu64
		         " bytes_buffered %" PRIu64,
		         s.conns_live, s.time_wait_live, s.orphans_live, s.bytes_buffered);
		return 0;
	}
	if (synack_next_deadline(st) != SYNACK_NEVER) {
		snprintf(why, len, "a timer is still due at %" PRIu64, synack_next_deadline(st));
		return 0;
	}
	if (s.CurrEstab) {
		snprintf(why, len, "CurrEstab %" PRIu64 " with no connection", s.CurrEstab);
		return 0;
	}
	return 1;
}

int soak_stack_damage_counted(struct synack_stack *st, uint64_t damaged, char *why, size_t len)
{
	struct synack_stats s;
	uint64_t wire = 0;
	synack_stats(st, &s);
	for (int i = SYNACK_DROP_IP_TRUNCATED; i <= SYNACK_DROP_TCP_BAD_PORT; i++)
		wire += s.drops[i];
	if (wire != damaged) {
		snprintf(why, len,
		         "%" PRIu64 " damaged datagrams delivered, %" PRIu64
		         " dropped by IP/wire checks",
		         damaged, wire);
		return 0;
	}
	if (s.TraceLost) {
		snprintf(why, len, "%" PRIu64 " trace records lost", s.TraceLost);
		return 0;
	}
	return 1;
}
