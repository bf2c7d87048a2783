#include "net.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "cli.h"

void net_opts_default(struct net_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->seed = 1;
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

int net_parse_flag(int argc, char **argv, int *i, struct net_opts *o, char *err, size_t errlen)
{
	static const char *const NAMES[] = {"--dev", "--addr",    "--pcap",     "--loss",
	                                    "--dup", "--reorder", "--delay-ms", "--seed"};
	const char *a = argv[*i];
	if (strcmp(a, "--tap") == 0 || strcmp(a, "--tun") == 0) {
		int kind = a[3] == 'a' ? SYNACK_LINK_TAP : SYNACK_LINK_TUN;
		if (o->kind && o->kind != kind) {
			snprintf(err, errlen, "--tap and --tun exclude each other");
			return -1;
		}
		o->kind = kind;
		return 1;
	}
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
	case 3:
		return cli_flag_prob("--loss", val, &o->loss, err, errlen) == 0 ? 1 : -1;
	case 4:
		return cli_flag_prob("--dup", val, &o->dup, err, errlen) == 0 ? 1 : -1;
	case 5:
		return cli_flag_prob("--reorder", val, &o->reorder, err, errlen) == 0 ? 1 : -1;
	case 6:
		return cli_flag_ms("--delay-ms", val, NET_MAX_DELAY_MS, &o->delay_ms, err,
		                   errlen) == 0
		           ? 1
		           : -1;
	default:
		return cli_flag_u64("--seed", val, UINT64_MAX, &o->seed, err, errlen) == 0 ? 1 : -1;
	}
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
		snprintf(err, errlen, "--addr A.B.C.D/NN is required");
		return -1;
	}
	return 0;
}

void net_usage(FILE *out)
{
	fputs("  --dev NAME       the TUN/TAP device (opened by name; created when missing\n"
	      "                   and then removed at exit)\n"
	      "  --tap | --tun    Ethernet frames with ARP, or raw IPv4 (IFF_NO_PI)\n"
	      "  --addr A.B.C.D/NN  synack's own address and the on-link prefix; the\n"
	      "                   kernel's address on the device is the peer\n"
	      "  --pcap FILE      capture every frame crossing the device (classic pcap)\n"
	      "  --loss P, --dup P, --reorder P  impair every datagram sent and received\n"
	      "                   (probabilities 0..1, the simulated network's model)\n"
	      "  --delay-ms N     delay every datagram sent and received by N ms (0..60000)\n"
	      "  --seed N         seed of the impairments (default 1)\n",
	      out);
}

int net_open(const struct net_opts *o, uint32_t trace_capacity, struct net_env *env, char *err,
             size_t errlen)
{
	memset(env, 0, sizeof(*env));
	struct synack_link_config lc;
	synack_link_config_default(&lc);
	lc.addr = o->addr;
	lc.prefix_len = o->prefix_len;
	int rc = synack_link_open(&env->link, o->kind, o->dev, &lc, err, errlen);
	if (rc)
		return rc;
	if (o->pcap) {
		rc = synack_link_set_pcap(env->link, o->pcap, err, errlen);
		if (rc)
			goto fail;
	}
	if (o->loss > 0 || o->dup > 0 || o->reorder > 0 || o->delay_ms > 0) {
		struct synack_sim_path p;
		memset(&p, 0, sizeof(p));
		p.loss = o->loss;
		p.dup = o->dup;
		p.reorder = o->reorder;
		p.delay_us = (uint32_t)o->delay_ms * 1000;
		rc = synack_link_set_impairment(env->link, &p, &p, o->seed);
		if (rc) {
			snprintf(err, errlen, "bad impairment: %s", synack_strerror(rc));
			goto fail;
		}
	}
	struct synack_config cfg;
	synack_config_default(&cfg);
	cfg.addr = o->addr;
	cfg.mtu = synack_link_mtu(env->link);
	cfg.trace_capacity = trace_capacity;
	if (getrandom(cfg.secret, sizeof(cfg.secret), 0) != (ssize_t)sizeof(cfg.secret)) {
		rc = -errno;
		snprintf(err, errlen, "getrandom: %s", strerror(errno));
		goto fail;
	}
	char cerr[200];
	if (synack_config_check(&cfg, cerr, sizeof(cerr)) != 0) {
		rc = -EINVAL;
		snprintf(err, errlen, "%s", cerr);
		goto fail;
	}
	env->st = synack_stack_new(&cfg, &rc);
	if (!env->st) {
		snprintf(err, errlen, "cannot create the stack: %s", synack_strerror(rc));
		goto fail;
	}
	env->run = synack_run_new(env->st, env->link, &rc);
	if (!env->run) {
		snprintf(err, errlen, "cannot start the run loop: %s", strerror(-rc));
		goto fail;
	}
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	rc = synack_run_watch_signals(env->run, &set);
	if (rc) {
		snprintf(err, errlen, "cannot watch signals: %s", strerror(-rc));
		goto fail;
	}
	return 0;
fail:
	net_close(env);
	return rc ? rc : -EINVAL;
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

struct table_ctx {
	FILE *out;
	uint64_t now;
};

static void table_row(void *ctx, const struct synack_conn *c)
{
	struct table_ctx *t = ctx;
	char local[24], peer[24];
	synack_endpoint_str(&c->local, local, sizeof(local));
	if (c->remote.addr == 0 && c->remote.port == 0)
		snprintf(peer, sizeof(peer), "*:*");
	else
		synack_endpoint_str(&c->remote, peer, sizeof(peer));
	uint64_t in = t->now > c->state_since_us ? t->now - c->state_since_us : 0;
	fprintf(t->out, "%-12s %-21s %-21s %8u %8u %10llu.%03llus\n", synack_state_name(c->state),
	        local, peer, c->send_queue, c->recv_queue, (unsigned long long)(in / 1000000),
	        (unsigned long long)(in / 1000 % 1000));
}

/* Writes "name value" pairs, a handful per "counters:" line. */
struct pairs {
	FILE *out;
	int n;
};

static void pair(struct pairs *p, const char *prefix, const char *name, uint64_t v)
{
	if (p->n % 8 == 0)
		fputs(p->n ? "\ncounters:" : "counters:", p->out);
	fprintf(p->out, " %s%s %llu", prefix, name, (unsigned long long)v);
	p->n++;
}

void net_print_stats(FILE *out, struct net_env *env)
{
	uint64_t now = synack_run_now(env->run);
	size_t counts[SYNACK_STATE_COUNT];
	size_t total = net_state_counts(env->st, counts);
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
	fputc('\n', out);
	fprintf(out, "%-12s %-21s %-21s %8s %8s %14s\n", "State", "Local", "Peer", "Send-Q",
	        "Recv-Q", "Time-in-state");
	struct table_ctx t = {.out = out, .now = now};
	synack_conns(env->st, table_row, &t);

	struct synack_stats s;
	synack_stats(env->st, &s);
	struct pairs p = {.out = out};
	for (size_t i = 0; i < synack_counter_count(); i++)
		pair(&p, "", synack_counter_name(i), synack_counter_value(&s, i));
	for (int d = 1; d < SYNACK_DROP_COUNT; d++)
		if (s.drops[d])
			pair(&p, "drop_", synack_drop_name(d), s.drops[d]);
	fputc('\n', out);

	struct synack_link_stats ls;
	synack_link_stats(env->link, &ls);
	p.n = 0;
	pair(&p, "link_", "frames_in", ls.frames_in);
	pair(&p, "link_", "frames_out", ls.frames_out);
	pair(&p, "link_", "bytes_in", ls.bytes_in);
	pair(&p, "link_", "bytes_out", ls.bytes_out);
	pair(&p, "link_", "datagrams_in", ls.datagrams_in);
	pair(&p, "link_", "datagrams_out", ls.datagrams_out);
	if (synack_link_kind(env->link) == SYNACK_LINK_TAP) {
		pair(&p, "", "arp_requests_in", ls.arp_requests_in);
		pair(&p, "", "arp_replies_in", ls.arp_replies_in);
		pair(&p, "", "arp_requests_out", ls.arp_requests_out);
		pair(&p, "", "arp_replies_out", ls.arp_replies_out);
		pair(&p, "", "arp_gratuitous_out", ls.arp_gratuitous_out);
		pair(&p, "", "arp_resolved", ls.arp_resolved);
		pair(&p, "", "arp_entries", ls.arp_entries);
	}
	for (int d = 1; d < SYNACK_LINK_DROP_COUNT; d++)
		if (ls.drops[d])
			pair(&p, "link_drop_", synack_link_drop_name(d), ls.drops[d]);
	const struct {
		const char *dir;
		const struct synack_sim_counters *c;
	} dirs[] = {{"impair_out_", &ls.impair_out}, {"impair_in_", &ls.impair_in}};
	for (size_t k = 0; k < 2; k++) {
		const struct synack_sim_counters *c = dirs[k].c;
		if (c->lost)
			pair(&p, dirs[k].dir, "lost", c->lost);
		if (c->duplicated)
			pair(&p, dirs[k].dir, "duplicated", c->duplicated);
		if (c->reordered)
			pair(&p, dirs[k].dir, "reordered", c->reordered);
	}
	fputs("\n\n", out);
	fflush(out);
}
