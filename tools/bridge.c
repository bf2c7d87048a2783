/*
 * `synack bridge`: forwards Ethernet frames between two TAP devices and
 * impairs the IP datagrams they carry, each direction with its own model
 * (src/link/impair.c, the one the simulator and the links use) and its own
 * seeded generator.
 *
 * A frame read from device a at time now (microseconds, CLOCK_MONOTONIC)
 * goes through impair_decide() for the direction a to b: it is lost, or it
 * takes its place on the bottleneck (a rate with a drop-tail queue of
 * --queue packets) and then the delay, jitter, reordering and duplication
 * decide when it (and its copy) are due.  Due frames wait in a min-heap
 * (src/core/heap.h) ordered by due time and then arrival, and are written to
 * device b when due.  The model sees the IP datagram (the frame after its
 * 14-byte Ethernet header): the rate counts IP bytes, as `synack transfer
 * --bw-mbps` does, so a path here and one in the simulator carry the same
 * bytes per second, and corruption flips a bit of the datagram rather than
 * of a MAC address.  Frames that carry neither IPv4 nor IPv6 (ARP above
 * all) are forwarded at once, unimpaired, as the links never impair ARP.
 *
 * Memory is bounded: each direction holds at most --limit-pkts frames and
 * --limit-bytes bytes of frame buffers (the bottleneck queue and the delay
 * line together); a frame beyond that is read and dropped (limit_drops).
 * Buffers are recycled through a free list, so after the first round trip
 * nothing is allocated per frame.
 *
 * The loop waits in ppoll(2) on both descriptors until the next frame is
 * due, with SIGINT and SIGTERM unblocked only there; on a wakeup it reads
 * each device in batches until read(2) says EAGAIN, writing the due frames
 * between batches.
 */
#define _GNU_SOURCE /* ppoll(2) */
#include "bridge.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "cli_parse.h"
#include "core/heap.h"
#include "impair_flags.h"
#include "link/impair.h"
#include "net.h"

#define ETH_HLEN 14
#define ETH_VLAN_HLEN 4
#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_IPV6 0x86dd
/* Frames read from one device before the due frames are written. */
#define READ_BATCH 64
/* The link API wants an address of its own for a device; the bridge never
 * sends from it (TEST-NET-1, RFC 5737). */
#define BRIDGE_LINK_ADDR 0xc0000201u

void bridge_opts_default(struct bridge_opts *o)
{
	memset(o, 0, sizeof(*o));
	for (int d = 0; d < 2; d++)
		o->dir[d].queue_pkts = -1;
	o->seed = 1;
	o->limit_pkts = BRIDGE_DEFAULT_LIMIT_PKTS;
	o->limit_bytes = BRIDGE_DEFAULT_LIMIT_BYTES;
	o->mtu = BRIDGE_DEFAULT_MTU;
}

void bridge_usage(FILE *out)
{
	fprintf(out,
	        "usage: synack bridge --dev-a NAME --dev-b NAME [--create]\n"
	        "                     [--dir a-to-b|b-to-a|both] [--loss P] [--dup P]\n"
	        "                     [--reorder P] [--corrupt P] [--delay-ms N] [--jitter-ms N]\n"
	        "                     [--bw-mbps R] [--queue N] [--seed N]\n"
	        "                     [--limit-pkts N] [--limit-bytes N] [--mtu N]\n"
	        "                     [--stats-interval T] [--json]\n"
	        "\n"
	        "Forwards Ethernet frames between two TAP devices and impairs the IP datagrams\n"
	        "they carry with the model of `synack transfer` (rate with a drop-tail queue,\n"
	        "delay, jitter, loss, reordering, duplication, corruption), each direction on\n"
	        "its own, on the real clock.  Frames other than IPv4 and IPv6 (ARP) cross at\n"
	        "once, unimpaired.  Runs until SIGINT or SIGTERM, then prints the counters of\n"
	        "each direction.  Typical use: open two TAP devices here, then move each into\n"
	        "its own network namespace (ip link set NAME netns NS); the bridge keeps\n"
	        "forwarding between them (see docs/TAP.md).\n"
	        "\n"
	        "  --dev-a NAME, --dev-b NAME  the two TAP devices, opened by name; one that\n"
	        "                   does not exist is refused unless --create\n"
	        "  --create         create missing devices (removed when the bridge exits)\n"
	        "  --dir D          the impairment flags after it apply to a-to-b, b-to-a or\n"
	        "                   both directions (the default: both)\n"
	        "  --loss P, --dup P, --reorder P, --corrupt P  probabilities (0..1)\n"
	        "  --delay-ms N     one-way delay (0..%d)\n"
	        "  --jitter-ms N    extra delay, uniform in [0, N] ms (0..%d)\n"
	        "  --bw-mbps R      a bottleneck of R Mbit/s of IP bytes (%g..%g, fractions\n"
	        "                   allowed; default: none)\n"
	        "  --queue N        packets waiting at the bottleneck before it drops (default\n"
	        "                   %d; 0: unlimited); needs --bw-mbps\n"
	        "  --seed N         seed of both directions' impairments (default 1)\n"
	        "  --limit-pkts N   frames one direction may hold, queued or delayed (default\n"
	        "                   %d); beyond it frames are dropped and counted\n"
	        "  --limit-bytes N  bytes of frame buffers one direction may hold (default\n"
	        "                   64MiB; units K, M, G, KiB, MiB, GiB)\n"
	        "  --mtu N          the largest IP datagram (default %d, %d..%d); a longer\n"
	        "                   frame is dropped (too_big)\n"
	        "  --stats-interval T  print the counters every T as well (ms, or a unit: s,\n"
	        "                   min)\n"
	        "  --json           the counters as one JSON object per line\n",
	        BRIDGE_MAX_DELAY_MS, BRIDGE_MAX_DELAY_MS, IMPAIR_FLAGS_MIN_BW_MBPS,
	        IMPAIR_FLAGS_MAX_BW_MBPS, BRIDGE_DEFAULT_QUEUE, BRIDGE_DEFAULT_LIMIT_PKTS,
	        BRIDGE_DEFAULT_MTU, BRIDGE_MIN_MTU, BRIDGE_MAX_MTU);
}

/* The impairment flags, stored into direction d. */
static struct impair_flags dir_flags(struct bridge_opts *o, int d)
{
	struct bridge_dir_opts *p = &o->dir[d];
	struct impair_flags f = {
	    .loss = &p->loss,
	    .dup = &p->dup,
	    .reorder = &p->reorder,
	    .corrupt = &p->corrupt,
	    .delay_ms = &p->delay_ms,
	    .jitter_ms = &p->jitter_ms,
	    .max_ms = BRIDGE_MAX_DELAY_MS,
	    .bw_mbps = &p->bw_mbps,
	    .have_bw = &p->have_bw,
	    .queue_pkts = &p->queue_pkts,
	    .seed = &o->seed,
	};
	return f;
}

/* The impairment flag at argv[*i] for the directions in scope (bit d set:
 * direction d): the same words are parsed once per direction. */
static int parse_impair(int argc, char **argv, int *i, struct bridge_opts *o, unsigned scope,
                        char *err, size_t errlen)
{
	int at = *i, taken = 0;
	for (int d = 0; d < 2; d++) {
		if (!(scope & (1u << d)))
			continue;
		struct impair_flags f = dir_flags(o, d);
		*i = at;
		taken = impair_flags_parse(argc, argv, i, &f, err, errlen);
		if (taken <= 0)
			return taken;
	}
	return taken;
}

static int bridge_impair(void *opts, int argc, char **argv, int *i, char *err, size_t errlen)
{
	struct bridge_opts *o = opts;
	return parse_impair(argc, argv, i, o, o->scope, err, errlen);
}

static int dev_flag(void *opts, const char *flag, const char *val, char *err, size_t errlen)
{
	if (!*val) {
		snprintf(err, errlen, "%s: the device name is empty", flag);
		return -1;
	}
	/* The names go into the JSON lines as they are. */
	if (strpbrk(val, "\"\\")) {
		snprintf(err, errlen, "%s: '%s' is not a device name (a quote or a backslash)",
		         flag, val);
		return -1;
	}
	((struct bridge_opts *)opts)->dev[strcmp(flag, "--dev-b") == 0] = val;
	return 0;
}

static int dir_flag(void *opts, const char *flag, const char *val, char *err, size_t errlen)
{
	struct bridge_opts *o = opts;
	if (strcmp(val, "a-to-b") == 0) {
		o->scope = 1;
	} else if (strcmp(val, "b-to-a") == 0) {
		o->scope = 2;
	} else if (strcmp(val, "both") == 0) {
		o->scope = 3;
	} else {
		snprintf(err, errlen, "%s: '%s' is not a-to-b, b-to-a or both", flag, val);
		return -1;
	}
	return 0;
}

static int mtu_flag(void *opts, const char *flag, const char *val, char *err, size_t errlen)
{
	struct bridge_opts *o = opts;
	if (cli_flag_u64(flag, val, BRIDGE_MAX_MTU, &o->mtu, err, errlen) != 0)
		return -1;
	if (o->mtu < BRIDGE_MIN_MTU) {
		snprintf(err, errlen, "%s: %llu is below the least IPv4 MTU, %d", flag,
		         (unsigned long long)o->mtu, BRIDGE_MIN_MTU);
		return -1;
	}
	return 0;
}

#define O(n, k, f) CLI_OPT(struct bridge_opts, n, k, f)
static const struct cli_opt BRIDGE_FLAGS[] = {
    {O("--dev-a", CLI_CUSTOM, dev), .fn = dev_flag},
    {O("--dev-b", CLI_CUSTOM, dev), .fn = dev_flag},
    {O("--dir", CLI_CUSTOM, scope), .fn = dir_flag},
    {O("--limit-pkts", CLI_U64, limit_pkts), .min = 1, .max = UINT32_MAX,
     .low = "at least 1 frame"},
    {O("--limit-bytes", CLI_BYTES, limit_bytes), .max = BRIDGE_MAX_LIMIT_BYTES},
    {O("--mtu", CLI_CUSTOM, mtu), .fn = mtu_flag},
    {O("--stats-interval", CLI_TIME_MS, stats_interval_ms), .max = 24ull * 3600 * 1000},
    {O("--json", CLI_SWITCH, json)},
    {O("--create", CLI_SWITCH, create)},
};
#undef O

const struct cli_table bridge_cli = {
    CLI_ROWS(BRIDGE_FLAGS),
    .unknown = "unknown option",
    .hint = "(synack bridge --help)",
    .help = CLI_SEEN(struct bridge_opts, help),
    .more = bridge_impair,
};

int bridge_parse_args(int argc, char **argv, struct bridge_opts *o, char *err, size_t errlen)
{
	o->scope = 3;
	if (cli_parse(&bridge_cli, o, argc, argv, err, errlen) < 0)
		return -1;
	if (o->help)
		return 0;
	for (int d = 0; d < 2; d++) {
		if (o->dir[d].queue_pkts >= 0 && !o->dir[d].have_bw) {
			snprintf(err, errlen,
			         "--queue needs --bw-mbps for the same direction (a queue only "
			         "fills behind a bottleneck)");
			return -1;
		}
	}
	if (!o->dev[0] || !o->dev[1]) {
		snprintf(err, errlen, "--dev-a NAME and --dev-b NAME are required");
		return -1;
	}
	if (strcmp(o->dev[0], o->dev[1]) == 0) {
		snprintf(err, errlen, "--dev-a and --dev-b name the same device '%s'", o->dev[0]);
		return -1;
	}
	/* A slot must hold the least frame buffer the limit allows. */
	if (o->limit_bytes < o->mtu + ETH_HLEN + ETH_VLAN_HLEN) {
		snprintf(err, errlen, "--limit-bytes: %llu bytes do not hold one frame of the MTU",
		         (unsigned long long)o->limit_bytes);
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* The forwarder.                                                      */

struct frame {
	struct frame *next; /* on the free list */
	size_t len;
	unsigned char data[];
};

/* A frame due at `at`, to be written by the device opposite `from`. */
struct pending {
	uint64_t at, seq;
	struct frame *f;
	int from;
};

struct dir_stats {
	uint64_t frames_in, bytes_in, frames_out, bytes_out;
	uint64_t passed;      /* neither IPv4 nor IPv6: forwarded at once */
	uint64_t limit_drops; /* beyond --limit-pkts or --limit-bytes */
	uint64_t too_big;     /* longer than the MTU allows */
	uint64_t write_errors;
	uint64_t held, held_max; /* frames queued or delayed */
};

struct bridge {
	const struct bridge_opts *o;
	int fd[2];
	struct impair im[2];
	struct dir_stats s[2];
	struct heap pending;
	uint64_t seq;
	size_t slot; /* bytes of one frame buffer */
	struct frame *free_list;
	struct frame *scratch; /* where a frame beyond the limits is read */
	uint64_t t0;
};

static int pending_before(const void *a, const void *b, void *ctx)
{
	(void)ctx;
	const struct pending *x = a, *y = b;
	return x->at < y->at || (x->at == y->at && x->seq < y->seq);
}

static const struct heap_ops PENDING_OPS = {sizeof(struct pending), pending_before, NULL};

static volatile sig_atomic_t stop_signal;

static void on_stop(int sig)
{
	stop_signal = sig;
}

static uint64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static struct frame *frame_get(struct bridge *b, int d)
{
	struct dir_stats *s = &b->s[d];
	if (s->held >= b->o->limit_pkts || (s->held + 1) * b->slot > b->o->limit_bytes)
		return NULL;
	struct frame *f = b->free_list;
	if (f)
		b->free_list = f->next;
	else
		f = malloc(sizeof(*f) + b->slot + 1);
	return f;
}

static void frame_put(struct bridge *b, struct frame *f)
{
	if (f == b->scratch)
		return;
	f->next = b->free_list;
	b->free_list = f;
}

static void frame_write(struct bridge *b, int from, const struct frame *f)
{
	struct dir_stats *s = &b->s[from];
	ssize_t n = write(b->fd[!from], f->data, f->len);
	if (n == (ssize_t)f->len) {
		s->frames_out++;
		s->bytes_out += f->len;
	} else {
		s->write_errors++;
	}
}

/* Holds f until at; 0, or -1 when the frame could not be held (counted). */
static int hold(struct bridge *b, int from, struct frame *f, uint64_t at)
{
	struct dir_stats *s = &b->s[from];
	if (heap_reserve(&b->pending, sizeof(struct pending), 1024, UINT32_MAX) != 0) {
		s->limit_drops++;
		return -1;
	}
	struct pending p = {at, b->seq++, f, from};
	heap_push(&b->pending, &p, &PENDING_OPS, NULL);
	if (++s->held > s->held_max)
		s->held_max = s->held;
	return 0;
}

static void frame_arrives(struct bridge *b, int from, struct frame *f, uint64_t now)
{
	struct dir_stats *s = &b->s[from];
	s->frames_in++;
	s->bytes_in += f->len;
	if (f == b->scratch) {
		s->limit_drops++;
		return;
	}
	unsigned type = f->len >= ETH_HLEN ? (unsigned)f->data[12] << 8 | f->data[13] : 0;
	if (type != ETHERTYPE_IPV4 && type != ETHERTYPE_IPV6) {
		s->passed++;
		frame_write(b, from, f);
		frame_put(b, f);
		return;
	}
	uint64_t at[2];
	int n = impair_decide(&b->im[from], now, f->data + ETH_HLEN, f->len - ETH_HLEN, at);
	if (n == 2) {
		struct frame *copy = frame_get(b, from);
		if (!copy) {
			s->limit_drops++;
		} else {
			copy->len = f->len;
			memcpy(copy->data, f->data, f->len);
			if (hold(b, from, copy, at[1]) != 0)
				frame_put(b, copy);
		}
	}
	if (n == 0 || hold(b, from, f, at[0]) != 0)
		frame_put(b, f);
}

void bridge_release(struct bridge *b, uint64_t now)
{
	const struct pending *first;
	while ((first = heap_first(&b->pending)) && first->at <= now) {
		struct pending p;
		heap_pop(&b->pending, &p, &PENDING_OPS, NULL);
		frame_write(b, p.from, p.f);
		b->s[p.from].held--;
		frame_put(b, p.f);
	}
}

int bridge_input(struct bridge *b, int d, uint64_t now)
{
	for (int k = 0; k < READ_BATCH; k++) {
		struct frame *f = frame_get(b, d);
		struct frame *into = f ? f : b->scratch;
		ssize_t n = read(b->fd[d], into->data, b->slot + 1);
		if (n < 0) {
			int e = errno;
			if (f)
				frame_put(b, f);
			if (e == EAGAIN || e == EWOULDBLOCK)
				return 1;
			if (e == EINTR)
				continue;
			if (e == EINVAL || e == EMSGSIZE || e == EFAULT) {
				b->s[d].too_big++;
				continue;
			}
			return -e;
		}
		if ((size_t)n > b->slot) {
			/* Read with one byte to spare: a longer frame was cut. */
			b->s[d].frames_in++;
			b->s[d].too_big++;
			if (f)
				frame_put(b, f);
			continue;
		}
		into->len = (size_t)n;
		frame_arrives(b, d, into, now);
	}
	return 0;
}

/* The names of enum bridge_counter, as the text and JSON lines print them. */
static const char *const COUNTER_NAMES[BRIDGE_NCOUNTERS] = {
    "frames_in",   "bytes_in",     "frames_out", "bytes_out", "lost",
    "queue_drops", "duplicated",   "reordered",  "corrupted", "limit_drops",
    "too_big",     "write_errors", "passed",     "held",      "held_max"};

void bridge_counters(const struct bridge *b, int d, uint64_t v[BRIDGE_NCOUNTERS])
{
	const struct dir_stats *s = &b->s[d];
	const struct synack_sim_counters *c = &b->im[d].c;
	const uint64_t all[BRIDGE_NCOUNTERS] = {
	    s->frames_in,
	    s->bytes_in,
	    s->frames_out,
	    s->bytes_out,
	    c->lost - c->queue_drops, /* the random loss; a full queue apart */
	    c->queue_drops,
	    c->duplicated,
	    c->reordered,
	    c->corrupted,
	    s->limit_drops,
	    s->too_big,
	    s->write_errors,
	    s->passed,
	    s->held,
	    s->held_max};
	memcpy(v, all, sizeof(all));
}

static void print_dir(FILE *out, const struct bridge *b, int d, int json)
{
	static const char *const NAME[2] = {"a_to_b", "b_to_a"};
	uint64_t v[BRIDGE_NCOUNTERS];
	bridge_counters(b, d, v);
	if (json)
		fprintf(out, "\"%s\":{\"from\":\"%s\",\"to\":\"%s\"", NAME[d], b->o->dev[d],
		        b->o->dev[!d]);
	else
		fprintf(out, "%s -> %s:", b->o->dev[d], b->o->dev[!d]);
	for (int k = 0; k < BRIDGE_NCOUNTERS; k++)
		fprintf(out, json ? ",\"%s\":%llu" : " %s %llu", COUNTER_NAMES[k],
		        (unsigned long long)v[k]);
	fprintf(out, json ? ",\"queue_max\":%u}" : " queue_max %u\n", b->im[d].c.queue_max);
}

static void print_stats(const struct bridge *b, uint64_t now, int final)
{
	uint64_t t = now - b->t0;
	if (b->o->json) {
		printf("{\"ev\":\"bridge_stats\",\"t_us\":%llu,\"final\":%s,",
		       (unsigned long long)t, final ? "true" : "false");
		print_dir(stdout, b, 0, 1);
		putchar(',');
		print_dir(stdout, b, 1, 1);
		puts("}");
	} else {
		printf("--- synack bridge stats at %.3f s%s\n", (double)t / 1e6,
		       final ? " (final)" : "");
		print_dir(stdout, b, 0, 0);
		print_dir(stdout, b, 1, 0);
	}
	fflush(stdout);
}

static void dir_path(const struct bridge_dir_opts *p, struct synack_sim_path *path)
{
	memset(path, 0, sizeof(*path));
	path->loss = p->loss;
	path->dup = p->dup;
	path->reorder = p->reorder;
	path->corrupt = p->corrupt;
	path->delay_us = (uint32_t)(p->delay_ms * 1000);
	path->jitter_us = (uint32_t)(p->jitter_ms * 1000);
	path->rate_bps = (uint64_t)(p->bw_mbps * 1e6 + 0.5);
	if (path->rate_bps)
		path->queue_pkts =
		    (uint32_t)(p->queue_pkts >= 0 ? p->queue_pkts : BRIDGE_DEFAULT_QUEUE);
}

uint64_t bridge_next_due(const struct bridge *b)
{
	const struct pending *first = heap_first(&b->pending);
	return first ? first->at : UINT64_MAX;
}

struct bridge *bridge_new(const struct bridge_opts *o, int fd_a, int fd_b)
{
	struct bridge *b = calloc(1, sizeof(*b));
	if (!b)
		return NULL;
	b->o = o;
	b->fd[0] = fd_a;
	b->fd[1] = fd_b;
	b->slot = o->mtu + ETH_HLEN + ETH_VLAN_HLEN;
	for (int d = 0; d < 2; d++) {
		struct synack_sim_path path;
		dir_path(&o->dir[d], &path);
		/* One generator per direction, each its own stream of the seed. */
		impair_init(&b->im[d], o->seed ^ (0x9e3779b97f4a7c15ull * (uint64_t)(d + 1)));
		impair_set_path(&b->im[d], &path);
	}
	b->scratch = malloc(sizeof(*b->scratch) + b->slot + 1);
	if (!b->scratch) {
		bridge_free(b);
		return NULL;
	}
	return b;
}

void bridge_free(struct bridge *b)
{
	if (!b)
		return;
	struct pending p;
	while (b->pending.len) {
		heap_pop(&b->pending, &p, &PENDING_OPS, NULL);
		free(p.f);
	}
	heap_fini(&b->pending);
	while (b->free_list) {
		struct frame *f = b->free_list;
		b->free_list = f->next;
		free(f);
	}
	free(b->scratch);
	for (int d = 0; d < 2; d++)
		impair_free(&b->im[d]);
	free(b);
}

/* Opens the two TAP devices of o (links used only as their owners: the
 * bridge reads and writes the descriptors itself). */
static int open_devices(const struct bridge_opts *o, struct synack_link *link[2], char *err,
                        size_t errlen)
{
	for (int d = 0; d < 2; d++) {
		struct net_opts no;
		net_opts_default(&no, "synack bridge");
		no.dev = o->dev[d];
		no.kind = SYNACK_LINK_TAP;
		no.create = o->create;
		no.addr = BRIDGE_LINK_ADDR;
		no.prefix_len = 32;
		/* The bridge reads and writes the descriptor itself, one bare
		 * frame at a time: no virtio_net_hdr, and the kernel segments
		 * and sums what it hands over (issue 16 item 2). */
		no.no_csum_offload = 1;
		int rc = net_open_device(&no, &link[d], err, errlen);
		if (rc)
			return rc;
	}
	return 0;
}

/* Blocks SIGINT and SIGTERM (they are let in only while ppoll waits) and
 * catches them; *old receives the mask to wait with. */
static void watch_signals(sigset_t *old)
{
	sigset_t block;
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, old);
	sigdelset(old, SIGINT);
	sigdelset(old, SIGTERM);
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

static int run(struct bridge *b)
{
	sigset_t waitmask;
	watch_signals(&waitmask);
	uint64_t every = b->o->stats_interval_ms * 1000;
	uint64_t next_stats = every ? b->t0 + every : UINT64_MAX;
	struct pollfd pfd[2] = {{b->fd[0], POLLIN, 0}, {b->fd[1], POLLIN, 0}};
	while (!stop_signal) {
		uint64_t now = now_us();
		bridge_release(b, now);
		if (now >= next_stats) {
			print_stats(b, now, 0);
			next_stats += every * ((now - next_stats) / every + 1);
		}
		uint64_t wake = next_stats;
		if (bridge_next_due(b) < wake)
			wake = bridge_next_due(b);
		struct timespec ts, *tsp = NULL;
		if (wake != UINT64_MAX) {
			uint64_t wait = wake > now ? wake - now : 0;
			ts.tv_sec = (time_t)(wait / 1000000u);
			ts.tv_nsec = (long)(wait % 1000000u) * 1000;
			tsp = &ts;
		}
		int n = ppoll(pfd, 2, tsp, &waitmask);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "synack bridge: ppoll: %s\n", strerror(errno));
			return 2;
		}
		if (n == 0)
			continue;
		/* Both devices until each says EAGAIN, the due frames written
		 * between batches. */
		int drained[2] = {0, 0};
		while (!(drained[0] && drained[1])) {
			for (int d = 0; d < 2; d++) {
				if (drained[d])
					continue;
				int rc = bridge_input(b, d, now_us());
				if (rc < 0) {
					fprintf(stderr, "synack bridge: reading %s: %s\n",
					        b->o->dev[d], strerror(-rc));
					return 2;
				}
				drained[d] = rc;
			}
			bridge_release(b, now_us());
		}
	}
	return 0;
}

int bridge_main(const struct bridge_opts *o)
{
	struct synack_link *link[2] = {NULL, NULL};
	struct bridge *b = NULL;
	char err[1024];
	int status = 2;
	if (open_devices(o, link, err, sizeof(err)) != 0) {
		fprintf(stderr, "synack bridge: %s\n", err);
		goto out;
	}
	b = bridge_new(o, synack_link_fd(link[0]), synack_link_fd(link[1]));
	if (!b) {
		fprintf(stderr, "synack bridge: out of memory\n");
		goto out;
	}
	b->t0 = now_us();
	fprintf(stderr, "synack bridge: forwarding %s <-> %s\n", o->dev[0], o->dev[1]);
	status = run(b);
	print_stats(b, now_us(), 1);
out:
	bridge_free(b);
	for (int d = 0; d < 2; d++)
		synack_link_close(link[d]);
	return status;
}
