/*
 * Real links: a TUN or TAP device read and written by the caller's loop.
 *
 * This file is the thin IO part: it opens the device, reads and writes
 * frames, stamps the capture.  What the frames mean is decided elsewhere:
 * ARP and Ethernet framing in arp.c (sans IO), the impairments in impair.c
 * (the simulated network's model).  The middleware sits between the stack
 * and the device in both directions: a datagram the stack sends is routed,
 * impaired, then framed and written; a frame read from the device is
 * captured, unframed (ARP answered), impaired, then handed to the stack.
 * Datagrams the impairments delay wait in a heap per direction ordered by
 * (due time, arrival order).
 */
#include "synack/link.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "core/heap.h"
#include "link/arp.h"
#include "link/impair.h"
#include "link/link_internal.h"
#include "link/nd.h"
#include "link/vnet.h"
#include "synack/pcap.h"

#define LINK_BUF (65535u + ARP_ETH_HLEN + VNET_HDR_LEN)
#define LINK_PCAP_FLUSH_US 200000u
/* The queue a device the link creates gets.  The kernel's defaults (500
 * frames for TUN, 1000 for TAP) overflow when 2,000 connections open at
 * once while the reader waits for a CPU (issue 17 item 5: thousands of
 * drops, each a retransmission timeout of a second or more); 10000 held
 * such a burst without a drop (docs/PERFORMANCE.md).  The kernel spends
 * a pointer per slot (80 KB for TUN's ring) and the frames actually
 * queued. */
#define LINK_TXQUEUELEN 10000u
#define LINK_MAX_TXQUEUELEN 1000000u

struct delayed {
	uint64_t at, seq;
	size_t len;
	uint8_t *data;
	uint32_t hop;     /* outgoing: the next hop to resolve */
	uint8_t hop6[16]; /* an IPv6 one's (issue 14 item 3) */
	uint8_t is6;      /* hop6 is the one */
};

/* Datagrams the impairments hold back, a min-heap of struct delayed by
 * (at, seq). */
struct delay_heap {
	struct heap h;
	uint64_t next_seq;
};

#define LINK_EXTRA_MAX ARP_EXTRA_MAX

/*
 * The neighbours the queues of one multi-queue device learnt, shared.  The
 * kernel picks a queue for an ARP frame by the flow hash of a frame without
 * ports or addresses it looks at (the same for every ARP frame), so a reply
 * goes to the queue that last wrote ARP, recorded only after the kernel
 * handled the frame (tun_get_user: tun_flow_update after delivery): the
 * answer to queue k's request may reach another queue.  Each queue's link
 * posts the sender of every ARP frame it reads here and wakes the others,
 * which take it as if they had read it (RFC 826: the pair is merged, and
 * added since the target is our address).  A ring of the latest
 * NEIGH_BOARD entries, each with a sequence number.
 */
#define NEIGH_BOARD 64
struct neigh_board {
	pthread_mutex_t mu;
	unsigned refs;
	atomic_uint_fast64_t seq; /* of the newest entry */
	struct {
		uint64_t seq;
		uint32_t addr;
		uint8_t mac[6];
	} e[NEIGH_BOARD];
	struct synack_link *links[SYNACK_LINK_MAX_QUEUES];
	unsigned nlinks;
};

/* One capture written by the links of several threads (the queues of a
 * multi-queue device, synack_link_set_pcap_shared): each record is stamped
 * and written under the lock, so the file is in time order. */
struct pcap_share {
	pthread_mutex_t mu;
	unsigned refs;
	struct synack_pcap *pcap;
};

struct synack_link {
	int kind;
	int fd;
	char name[IFNAMSIZ];
	uint32_t mtu;
	uint8_t mac[6];
	struct synack_link_config cfg;
	uint32_t mask; /* of the prefix, host byte order */
	/* Further addresses of the stack on this link, with their prefixes
	 * (synack_link_add_addr). */
	uint32_t extra[LINK_EXTRA_MAX], extra_mask[LINK_EXTRA_MAX];
	uint32_t nextra;

	struct arp arp; /* TAP only */
	int announce;   /* the gratuitous ARP is still to be sent */
	/* IPv6 (issue 14 item 3): neighbour discovery (TAP only), and the
	 * on-link prefixes of the stack's IPv6 addresses: cfg.addr6's and
	 * those of synack_link_add_addr6(). */
	struct nd nd;
	uint8_t extra6[LINK_EXTRA_MAX][16];
	uint32_t extra6_len[LINK_EXTRA_MAX], nextra6;

	int impaired; /* set_impairment was called: the draws run */
	struct impair imp_out, imp_in;
	struct delay_heap d_out, d_in;

	struct synack_pcap *pcap;
	uint64_t pcap_flush_at;   /* SYNACK_NEVER when nothing is unflushed */
	struct pcap_share *share; /* the queues' one capture, or NULL */
	/* The queues of one multi-queue device (issue 16 item 3): what any
	 * of them learns from ARP, all of them learn. */
	struct neigh_board *board;
	int wakefd;         /* readable when the board has news for us */
	uint64_t board_seq; /* the last entry taken from the board */

	struct synack_link_stats stats;
	uint8_t *rbuf;  /* a frame read from the device */
	uint8_t *rheld; /* a delayed datagram handed out by recv_ref, freed next time */
	uint8_t *wbuf;  /* a frame being built for the device */
	uint8_t *ibuf;  /* a datagram being impaired */

	/* The kernel's counters of the device when the link opened it. */
	int is_device; /* opened by name (synack_link_open), not wrapped */
	struct synack_link_device_stats dev_base;

	/* Offloads (issue 16 item 2, vnet.h). */
	int vnet;       /* every frame carries a virtio_net_hdr */
	int tso_on;     /* the device takes super-segments */
	struct tso tso; /* the one being built, with room for the link header */
};

static void pcap_release(struct synack_link *l);
static void board_release(struct synack_link *l);
static void arp_drain(struct synack_link *l, uint64_t now);

static const char *const DROP_NAMES[] = {
#define SYNACK_LINK_DROP_NAME(name, str) str,
    SYNACK_LINK_DROPS(SYNACK_LINK_DROP_NAME)
#undef SYNACK_LINK_DROP_NAME
};

const char *synack_link_drop_name(int reason)
{
	if (reason < 0 || reason >= SYNACK_LINK_DROP_COUNT)
		return "?";
	return DROP_NAMES[reason];
}

void synack_link_config_default(struct synack_link_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->prefix_len = 24;
	cfg->arp_lifetime_ms = 60000;
	cfg->arp_retry_ms = 1000;
	cfg->arp_retries = 3;
	cfg->arp_queue_len = 3;
	cfg->arp_cache_max = 256;
	cfg->gratuitous_arp = 1;
	cfg->read_batch = 64;
	cfg->txqueuelen = LINK_TXQUEUELEN;
	cfg->csum_offload = 1;
	cfg->gro = 1;
	cfg->tso = 1;
	cfg->csum_trust = 1;
	/* IPv6: RFC 4861 10's constants, as Linux's neigh defaults. */
	cfg->prefix6_len = 64;
	cfg->nd_reachable_ms = 30000;
	cfg->nd_retrans_ms = 1000;
	cfg->nd_delay_first_probe_ms = 5000;
	cfg->nd_max_multicast_solicit = 3;
	cfg->nd_max_unicast_solicit = 3;
	cfg->nd_queue_len = 3;
	cfg->nd_cache_max = 256;
	/* Bring-up (issue 15): see wait_running(). */
	cfg->link_up_wait_ms = 1000;
}

static int is_zero16(const uint8_t a[16])
{
	static const uint8_t zero[16];
	return memcmp(a, zero, 16) == 0;
}

/* A unicast IPv6 address (RFC 4291 2.4): not ::, ::1, multicast or
 * IPv4-mapped. */
static int unicast6(const uint8_t a[16])
{
	static const uint8_t mapped[12] = {[10] = 0xff, [11] = 0xff};
	static const uint8_t loop[16] = {[15] = 1};
	return !is_zero16(a) && memcmp(a, loop, 16) != 0 && a[0] != 0xff &&
	       memcmp(a, mapped, 12) != 0;
}

static int range(char *err, size_t errlen, const char *name, uint32_t v, uint32_t lo, uint32_t hi)
{
	if (v >= lo && v <= hi)
		return 0;
	if (err)
		snprintf(err, errlen, "%s: %u is outside %u..%u", name, v, lo, hi);
	return -EINVAL;
}

int synack_link_config_check(const struct synack_link_config *cfg, char *err, size_t errlen)
{
	if (!cfg) {
		if (err)
			snprintf(err, errlen, "no link configuration");
		return -EINVAL;
	}
	if (cfg->addr == 0 || cfg->addr == 0xffffffffu || (cfg->addr >> 28) == 0xe) {
		if (err)
			snprintf(err, errlen, "addr must be a unicast IPv4 address");
		return -EINVAL;
	}
	int rc = 0;
	if (!rc)
		rc = range(err, errlen, "prefix_len", cfg->prefix_len, 1, 32);
	if (!rc)
		rc = range(err, errlen, "arp_lifetime_ms", cfg->arp_lifetime_ms, 1, 86400000);
	if (!rc)
		rc = range(err, errlen, "arp_retry_ms", cfg->arp_retry_ms, 10, 60000);
	if (!rc)
		rc = range(err, errlen, "arp_retries", cfg->arp_retries, 1, 100);
	if (!rc)
		rc = range(err, errlen, "arp_queue_len", cfg->arp_queue_len, 0, 1024);
	if (!rc)
		rc = range(err, errlen, "arp_cache_max", cfg->arp_cache_max, 1, 65536);
	if (!rc) /* a switch: since it is a setting by name (synack serve --set) */
		rc = range(err, errlen, "gratuitous_arp", (uint32_t)cfg->gratuitous_arp, 0, 1);
	if (!rc)
		rc = range(err, errlen, "read_batch", cfg->read_batch, 1, 65536);
	if (!rc)
		rc = range(err, errlen, "txqueuelen", cfg->txqueuelen, 0, LINK_MAX_TXQUEUELEN);
	if (!rc)
		rc = range(err, errlen, "csum_offload", (uint32_t)cfg->csum_offload, 0, 1);
	if (!rc)
		rc = range(err, errlen, "gro", (uint32_t)cfg->gro, 0, 1);
	if (!rc)
		rc = range(err, errlen, "tso", (uint32_t)cfg->tso, 0, 1);
	if (!rc)
		rc = range(err, errlen, "csum_trust", (uint32_t)cfg->csum_trust, 0, 1);
	if (!rc)
		rc = range(err, errlen, "prefix6_len", cfg->prefix6_len, 1, 128);
	if (!rc)
		rc = range(err, errlen, "nd_reachable_ms", cfg->nd_reachable_ms, 1, 3600000);
	if (!rc)
		rc = range(err, errlen, "nd_retrans_ms", cfg->nd_retrans_ms, 10, 60000);
	if (!rc)
		rc = range(err, errlen, "nd_delay_first_probe_ms", cfg->nd_delay_first_probe_ms, 1,
		           60000);
	if (!rc)
		rc = range(err, errlen, "nd_max_multicast_solicit", cfg->nd_max_multicast_solicit,
		           1, 100);
	if (!rc)
		rc = range(err, errlen, "nd_max_unicast_solicit", cfg->nd_max_unicast_solicit, 1,
		           100);
	if (!rc)
		rc = range(err, errlen, "nd_queue_len", cfg->nd_queue_len, 0, 1024);
	if (!rc)
		rc = range(err, errlen, "nd_cache_max", cfg->nd_cache_max, 1, 65536);
	if (!rc)
		rc = range(err, errlen, "link_up_wait_ms", cfg->link_up_wait_ms, 0, 60000);
	if (!rc && ((!is_zero16(cfg->addr6) && !unicast6(cfg->addr6)) ||
	            (!is_zero16(cfg->gw6) && !unicast6(cfg->gw6)))) {
		if (err)
			snprintf(err, errlen,
			         "%s must be a unicast IPv6 address (or all zero: none)",
			         is_zero16(cfg->gw6) || unicast6(cfg->gw6) ? "addr6" : "gw6");
		rc = -EINVAL;
	}
	return rc;
}

/* ------------------------------------------------------------------ */
/* The delay heaps.                                                    */

/* Earlier delivery first; datagrams due at the same time in the order they
 * were held back. */
static int delayed_before(const void *pa, const void *pb, void *ctx)
{
	const struct delayed *a = pa, *b = pb;
	(void)ctx;
	return a->at != b->at ? a->at < b->at : a->seq < b->seq;
}

static const struct heap_ops delay_heap_ops = {
    .size = sizeof(struct delayed),
    .before = delayed_before,
    .placed = NULL,
};

static uint32_t mask_of(uint32_t prefix_len)
{
	return prefix_len >= 32 ? 0xffffffffu : prefix_len ? ~(0xffffffffu >> prefix_len) : 0;
}

static int delay_push(struct delay_heap *d, uint64_t at, const uint8_t *data, size_t len,
                      uint32_t hop, const uint8_t *hop6)
{
	if (heap_reserve(&d->h, sizeof(struct delayed), 64, SIZE_MAX) != 0)
		return -ENOMEM;
	uint8_t *copy = malloc(len ? len : 1);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, data, len);
	struct delayed e = {.at = at, .seq = d->next_seq++, .len = len, .data = copy, .hop = hop};
	if (hop6) {
		memcpy(e.hop6, hop6, 16);
		e.is6 = 1;
	}
	heap_push(&d->h, &e, &delay_heap_ops, NULL);
	return 0;
}

static struct delayed delay_pop(struct delay_heap *d)
{
	struct delayed top;
	heap_pop(&d->h, &top, &delay_heap_ops, NULL);
	return top;
}

static uint64_t delay_due(const struct delay_heap *d)
{
	const struct delayed *first = heap_first(&d->h);
	return first ? first->at : SYNACK_NEVER;
}

static void delay_free(struct delay_heap *d)
{
	struct delayed *v = d->h.v;
	for (size_t i = 0; i < d->h.len; i++)
		free(v[i].data);
	heap_fini(&d->h);
	memset(d, 0, sizeof(*d));
}

/* ------------------------------------------------------------------ */
/* Opening and closing.                                                */

static void derive_mac(uint32_t addr, uint8_t mac[6])
{
	/* Locally administered, unicast (02), then "SY" and the low three
	 * bytes of the address, so two synack hosts on one segment differ. */
	mac[0] = 0x02;
	mac[1] = 0x53;
	mac[2] = 0x59;
	mac[3] = (uint8_t)(addr >> 16);
	mac[4] = (uint8_t)(addr >> 8);
	mac[5] = (uint8_t)addr;
}

static const char *kind_name(int kind)
{
	return kind == SYNACK_LINK_TAP ? "tap" : "tun";
}

static int name_ok(const char *dev)
{
	size_t n = dev ? strlen(dev) : 0;
	if (n == 0 || n >= IFNAMSIZ)
		return 0;
	/* The kernel would expand a '%d' into a fresh device name, and
	 * interface names never hold '/', ':' or blanks. */
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)dev[i];
		if (c <= ' ' || c == '/' || c == ':' || c == '%' || c >= 0x7f)
			return 0;
	}
	return strcmp(dev, ".") != 0 && strcmp(dev, "..") != 0;
}

/* An interface ioctl (SIOCGIFMTU ...) on the device called name, through
 * a datagram socket: 0 or a negative errno. */
static int dev_ioctl(const char *name, unsigned long req, struct ifreq *ifr)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -errno;
	memcpy(ifr->ifr_name, name, strnlen(name, IFNAMSIZ - 1));
	int rc = ioctl(s, req, ifr) == 0 ? 0 : -errno;
	close(s);
	return rc;
}

static uint32_t device_mtu(const char *name)
{
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	if (dev_ioctl(name, SIOCGIFMTU, &ifr) == 0 && ifr.ifr_mtu >= 68 && ifr.ifr_mtu <= 65535)
		return (uint32_t)ifr.ifr_mtu;
	return 1500;
}

/*
 * Attaching to a TUN/TAP device turns its carrier on, but the kernel sends
 * through it only once its link watch has run for the change: it sets the
 * operstate UP (what SIOCGIFFLAGS reports as IFF_RUNNING) and then swaps
 * the device's noop queueing discipline for the real one (linkwatch_do_dev,
 * dev_activate).  Until then the kernel drops what it sends us (the
 * device's TX dropped count): the reply to our first ARP request, or a
 * SYN-ACK, is lost and the connection waits for arp_retry_ms or the SYN's
 * retransmission (1 s).  So when the kernel's side is up (IFF_UP), the
 * open waits for IFF_RUNNING, at most link_up_wait_ms.
 */
static void wait_running(const char *name, uint32_t wait_ms)
{
	struct timespec t0, now;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		struct ifreq ifr;
		memset(&ifr, 0, sizeof(ifr));
		if (dev_ioctl(name, SIOCGIFFLAGS, &ifr) != 0 || !(ifr.ifr_flags & IFF_UP) ||
		    (ifr.ifr_flags & IFF_RUNNING))
			return;
		clock_gettime(CLOCK_MONOTONIC, &now);
		int64_t ms =
		    (int64_t)(now.tv_sec - t0.tv_sec) * 1000 + (now.tv_nsec - t0.tv_nsec) / 1000000;
		if (ms >= (int64_t)wait_ms)
			return;
		struct timespec step = {0, 1000000};
		nanosleep(&step, NULL);
	}
}

/* The device's line of /proc/net/dev (this network namespace's, unlike
 * /sys/class/net after a bare unshare): 0, -ENODEV or a negative errno. */
static int read_proc_dev(const char *name, struct synack_link_device_stats *out)
{
	FILE *f = fopen("/proc/net/dev", "re");
	if (!f)
		return -errno;
	char line[512];
	size_t n = strlen(name);
	int rc = -ENODEV;
	while (rc == -ENODEV && fgets(line, sizeof(line), f)) {
		const char *p = line + strspn(line, " ");
		if (strncmp(p, name, n) != 0 || p[n] != ':')
			continue;
		/* Receive: bytes packets errs drop fifo frame compressed
		 * multicast; transmit: bytes packets errs drop fifo colls
		 * carrier compressed. */
		unsigned long long v[16];
		if (sscanf(p + n + 1,
		           "%llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu "
		           "%llu %llu",
		           &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9],
		           &v[10], &v[11], &v[12], &v[13], &v[14], &v[15]) != 16) {
			rc = -EIO;
			break;
		}
		*out = (struct synack_link_device_stats){
		    .rx_packets = v[1],
		    .rx_errors = v[2],
		    .rx_dropped = v[3],
		    .rx_fifo_errors = v[4],
		    .tx_packets = v[9],
		    .tx_errors = v[10],
		    .tx_dropped = v[11],
		    .tx_fifo_errors = v[12],
		};
		rc = 0;
	}
	fclose(f);
	return rc;
}

/*
 * A TUN/TAP descriptor opened with IFF_VNET_HDR carries a virtio_net_hdr
 * before each frame: ours is the 12-byte one, little-endian, and the
 * kernel is told what it may hand us (TUNSETOFFLOAD): partial checksums
 * with csum_offload, TCP super-segments as well with gro.  Any other
 * descriptor carries bare frames.  0, or a negative errno with a sentence.
 */
static int vnet_setup(struct synack_link *l, char *err, size_t errlen)
{
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	if (ioctl(l->fd, TUNGETIFF, &ifr) != 0)
		return 0; /* not a TUN/TAP descriptor */
	int vnet = (ifr.ifr_flags & IFF_VNET_HDR) != 0, sz = VNET_HDR_LEN, le = 1;
	unsigned off = 0;
	if (vnet && l->cfg.csum_offload) {
		off = TUN_F_CSUM;
		if (l->cfg.gro)
			off |= TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN;
	}
	/* The offloads stay with a device after its descriptor closes: one
	 * opened before with them must hear that they are off now, or the
	 * kernel would go on handing over partial checksums. */
	if ((vnet && ioctl(l->fd, TUNSETVNETHDRSZ, &sz) != 0) ||
	    ioctl(l->fd, TUNSETOFFLOAD, off) != 0) {
		int e = errno;
		snprintf(err, errlen, "cannot set the offloads of %s device '%s': %s",
		         kind_name(l->kind), l->name, strerror(e));
		return -e;
	}
	/* Little-endian fields, as virtio 1.x has them; the legacy header
	 * of a little-endian host is the same, so a refusal there (a kernel
	 * without the call) changes nothing. */
	if (!vnet)
		return 0;
	(void)ioctl(l->fd, TUNSETVNETLE, &le);
	link_set_vnet(l, 1);
	return 0;
}

void link_set_vnet(struct synack_link *l, int vnet)
{
	l->vnet = vnet != 0;
	l->tso_on = l->vnet && l->cfg.csum_offload && l->cfg.tso;
}

int synack_link_open_fd(struct synack_link **out, int kind, int fd, const char *name,
                        const struct synack_link_config *cfg, char *err, size_t errlen)
{
	char dummy[8];
	if (!err) {
		err = dummy;
		errlen = sizeof(dummy);
	}
	if (out)
		*out = NULL;
	if (!out || fd < 0 || (kind != SYNACK_LINK_TAP && kind != SYNACK_LINK_TUN)) {
		snprintf(err, errlen, "bad link arguments");
		if (fd >= 0)
			close(fd);
		return -EINVAL;
	}
	int rc = synack_link_config_check(cfg, err, errlen);
	if (rc) {
		close(fd);
		return rc;
	}
	struct synack_link *l = calloc(1, sizeof(*l));
	if (!l) {
		close(fd);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	l->kind = kind;
	l->fd = fd;
	l->cfg = *cfg;
	l->mtu = 1500;
	l->pcap_flush_at = SYNACK_NEVER;
	l->wakefd = -1;
	snprintf(l->name, sizeof(l->name), "%s", name ? name : "");
	l->mask = mask_of(cfg->prefix_len);
	static const uint8_t zero[6];
	if (memcmp(cfg->mac, zero, 6) == 0)
		derive_mac(cfg->addr, l->mac);
	else
		memcpy(l->mac, cfg->mac, 6);
	l->rbuf = malloc(LINK_BUF);
	l->wbuf = malloc(LINK_BUF);
	l->ibuf = malloc(LINK_BUF);
	impair_init(&l->imp_out, 0);
	impair_init(&l->imp_in, 0);
	l->tso.l3 = kind == SYNACK_LINK_TAP ? ARP_ETH_HLEN : 0;
	l->tso.buf = malloc(l->tso.l3 + VNET_MAX_DGRAM);
	rc = (l->rbuf && l->wbuf && l->ibuf && l->tso.buf) ? 0 : -ENOMEM;
	if (!rc && kind == SYNACK_LINK_TAP) {
		struct arp_config ac = {.lifetime_ms = cfg->arp_lifetime_ms,
		                        .retry_ms = cfg->arp_retry_ms,
		                        .retries = cfg->arp_retries,
		                        .queue_len = cfg->arp_queue_len,
		                        .cache_max = cfg->arp_cache_max};
		rc = arp_init(&l->arp, &ac, l->mac, cfg->addr, &l->stats);
		struct nd_config nc = {.reachable_ms = cfg->nd_reachable_ms,
		                       .retrans_ms = cfg->nd_retrans_ms,
		                       .delay_first_probe_ms = cfg->nd_delay_first_probe_ms,
		                       .max_multicast_solicit = cfg->nd_max_multicast_solicit,
		                       .max_unicast_solicit = cfg->nd_max_unicast_solicit,
		                       .queue_len = cfg->nd_queue_len,
		                       .cache_max = cfg->nd_cache_max};
		if (!rc)
			rc = nd_init(&l->nd, &nc, l->mac, &l->stats);
		if (!rc && !is_zero16(cfg->addr6))
			rc = nd_add_addr(&l->nd, cfg->addr6);
	}
	if (rc) {
		snprintf(err, errlen, "out of memory");
		synack_link_close(l);
		return rc;
	}
	rc = vnet_setup(l, err, errlen);
	if (rc) {
		synack_link_close(l);
		return rc;
	}
	/* The announcement goes out at the first synack_link_advance(), so a
	 * capture set up meanwhile records it. */
	l->announce = kind == SYNACK_LINK_TAP && cfg->gratuitous_arp;
	*out = l;
	return 0;
}

/* The queues of one device share their neighbours: 0, or -ENOMEM or the
 * negated errno of eventfd(2). */
static int board_attach(struct synack_link **links, unsigned n)
{
	struct neigh_board *b = calloc(1, sizeof(*b));
	if (!b || pthread_mutex_init(&b->mu, NULL) != 0) {
		free(b);
		return -ENOMEM;
	}
	for (unsigned k = 0; k < n; k++) {
		links[k]->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (links[k]->wakefd < 0) {
			int e = -errno;
			for (unsigned j = 0; j < k; j++)
				board_release(links[j]);
			if (k == 0) {
				pthread_mutex_destroy(&b->mu);
				free(b);
			}
			return e;
		}
		links[k]->board = b;
		b->links[b->nlinks++] = links[k];
		b->refs++;
	}
	return 0;
}

static void board_release(struct synack_link *l)
{
	struct neigh_board *b = l->board;
	int last = 0;
	if (b) {
		/* Off the board first: nobody writes to wakefd after. */
		pthread_mutex_lock(&b->mu);
		for (unsigned k = 0; k < b->nlinks; k++)
			if (b->links[k] == l)
				b->links[k] = b->links[--b->nlinks];
		last = --b->refs == 0;
		pthread_mutex_unlock(&b->mu);
	}
	if (l->wakefd >= 0)
		close(l->wakefd);
	l->wakefd = -1;
	if (!b)
		return;
	if (last) {
		pthread_mutex_destroy(&b->mu);
		free(b);
	}
	l->board = NULL;
}

/* The sender of an ARP frame l read, for the other queues. */
static void board_post(struct synack_link *l, const uint8_t *frame, size_t len)
{
	struct neigh_board *b = l->board;
	if (!b || len < ARP_FRAME_LEN || frame[12] != 0x08 || frame[13] != 0x06)
		return;
	const uint8_t *arp = frame + ARP_ETH_HLEN;
	/* Ethernet and IPv4 (RFC 826's ar$hrd, ar$pro, ar$hln, ar$pln), a
	 * request or a reply. */
	static const uint8_t eth_ip4[] = {0, 1, 0x08, 0, 6, 4, 0};
	if (memcmp(arp, eth_ip4, sizeof(eth_ip4)) != 0 ||
	    (arp[7] != ARP_OP_REQUEST && arp[7] != ARP_OP_REPLY))
		return;
	uint32_t spa =
	    (uint32_t)arp[14] << 24 | (uint32_t)arp[15] << 16 | (uint32_t)arp[16] << 8 | arp[17];
	uint32_t tpa =
	    (uint32_t)arp[24] << 24 | (uint32_t)arp[25] << 16 | (uint32_t)arp[26] << 8 | arp[27];
	if (spa == 0 || spa == l->cfg.addr || (arp[8] & 1))
		return; /* a probe, ourselves, or a multicast sender */
	/* Passed on as RFC 826 adds a pair: only when we are the target. */
	int ours = tpa == l->cfg.addr;
	for (uint32_t i = 0; i < l->nextra && !ours; i++)
		ours = tpa == l->extra[i];
	if (!ours)
		return;
	pthread_mutex_lock(&b->mu);
	uint64_t seq = atomic_load(&b->seq) + 1;
	size_t slot = seq % NEIGH_BOARD;
	b->e[slot].seq = seq;
	b->e[slot].addr = spa;
	memcpy(b->e[slot].mac, arp + 8, 6);
	atomic_store(&b->seq, seq);
	l->board_seq = seq; /* learnt first hand */
	for (unsigned k = 0; k < b->nlinks; k++) {
		uint64_t one = 1;
		if (b->links[k] != l && write(b->links[k]->wakefd, &one, sizeof(one)) < 0) {
			/* The counter is full: it is readable anyway. */
		}
	}
	pthread_mutex_unlock(&b->mu);
}

/* What the other queues learnt since we last looked, taken as ARP replies
 * from the neighbour to us (arp_frame_in: RFC 826's merge). */
static void board_take(struct synack_link *l, uint64_t now)
{
	struct neigh_board *b = l->board;
	uint64_t v;
	if (!b)
		return;
	if (read(l->wakefd, &v, sizeof(v)) < 0) {
		/* Nothing new posted: look anyway, cheaply. */
	}
	if (atomic_load(&b->seq) == l->board_seq)
		return;
	uint8_t f[ARP_FRAME_LEN];
	pthread_mutex_lock(&b->mu);
	uint64_t last = atomic_load(&b->seq);
	uint64_t from = l->board_seq + 1;
	if (last >= NEIGH_BOARD && from <= last - NEIGH_BOARD)
		from = last - NEIGH_BOARD + 1; /* older ones were overwritten */
	for (uint64_t q = from; q <= last; q++) {
		size_t slot = q % NEIGH_BOARD;
		static const uint8_t head[] = {0x08, 0x06, 0, 1, 0x08, 0, 6, 4, 0, ARP_OP_REPLY};
		memcpy(f, l->mac, 6);
		memcpy(f + 6, b->e[slot].mac, 6);
		memcpy(f + 12, head, sizeof(head));
		memcpy(f + 22, b->e[slot].mac, 6);
		uint32_t a = b->e[slot].addr, me = l->cfg.addr;
		uint8_t ips[8] = {(uint8_t)(a >> 24), (uint8_t)(a >> 16),  (uint8_t)(a >> 8),
		                  (uint8_t)a,         (uint8_t)(me >> 24), (uint8_t)(me >> 16),
		                  (uint8_t)(me >> 8), (uint8_t)me};
		memcpy(f + 28, ips, 4);
		memcpy(f + 32, l->mac, 6);
		memcpy(f + 38, ips + 4, 4);
		const uint8_t *ip;
		size_t iplen;
		uint64_t replies = l->stats.arp_replies_in;
		(void)arp_frame_in(&l->arp, now, f, sizeof(f), &ip, &iplen);
		l->stats.arp_replies_in = replies; /* not read from the device */
		l->stats.arp_shared_in++;
	}
	l->board_seq = last;
	pthread_mutex_unlock(&b->mu);
	arp_drain(l, now);
}

/*
 * Opens dev; with multi, as one queue of a multi-queue device
 * (IFF_MULTI_QUEUE): the first queue (first) creates the device when it is
 * missing, the others attach to it.
 */
static int open_device(struct synack_link **out, int kind, const char *dev,
                       const struct synack_link_config *cfg, int multi, int first, char *err,
                       size_t errlen)
{
	int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		int rc = -errno;
		snprintf(err, errlen, "cannot open /dev/net/tun for %s device '%s': %s",
		         kind_name(kind), dev, strerror(errno));
		return rc;
	}
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	short flags =
	    (short)((kind == SYNACK_LINK_TAP ? IFF_TAP : IFF_TUN) | IFF_NO_PI |
	            (cfg->csum_offload ? IFF_VNET_HDR : 0) | (multi ? IFF_MULTI_QUEUE : 0));
	memcpy(ifr.ifr_name, dev, strlen(dev));
	/* IFF_TUN_EXCL refuses (EBUSY) a device that exists: then the device
	 * is the user's, whose queue length is theirs to choose.  The further
	 * queues of a multi-queue device attach to the one the first made. */
	int created = 0;
	if (first) {
		ifr.ifr_flags = (short)(flags | IFF_TUN_EXCL);
		created = ioctl(fd, TUNSETIFF, &ifr) == 0;
	} else {
		errno = EBUSY;
	}
	ifr.ifr_flags = flags;
	if (!created && (errno != EBUSY || ioctl(fd, TUNSETIFF, &ifr) < 0)) {
		int e = errno;
		const char *hint = "";
		if (e == EPERM || e == EACCES)
			hint = " (needs CAP_NET_ADMIN)";
		else if (e == EINVAL && multi)
			hint = " (a device made without multi_queue takes one queue: ip tuntap "
			       "add dev NAME mode tap multi_queue; or is it the other kind?)";
		else if (e == EINVAL)
			hint = kind == SYNACK_LINK_TAP
			           ? " (is it a tun device, a multi_queue device, or "
			             "not a tun/tap device?)"
			           : " (is it a tap device, a multi_queue device, or "
			             "not a tun/tap device?)";
		else if (e == EBUSY)
			hint = " (another process has it open)";
		snprintf(err, errlen, "cannot open %s device '%s': %s%s", kind_name(kind), dev,
		         strerror(e), hint);
		close(fd);
		return -e;
	}
	int rc = synack_link_open_fd(out, kind, fd, ifr.ifr_name, cfg, err, errlen);
	if (rc)
		return rc;
	struct synack_link *l = *out;
	l->mtu = device_mtu(l->name);
	l->is_device = 1;
	if (created && cfg->txqueuelen) {
		rc = synack_link_set_txqueuelen(l, cfg->txqueuelen);
		if (rc) {
			snprintf(err, errlen,
			         "cannot set the txqueuelen of %s device '%s' to %u: %s",
			         kind_name(kind), l->name, cfg->txqueuelen, strerror(-rc));
			synack_link_close(l);
			*out = NULL;
			return rc;
		}
	}
	if (cfg->link_up_wait_ms)
		wait_running(l->name, cfg->link_up_wait_ms);
	/* Counted from here: a device that exists brings its past. */
	if (read_proc_dev(l->name, &l->dev_base) != 0)
		memset(&l->dev_base, 0, sizeof(l->dev_base));
	return 0;
}

/* The checks of synack_link_open() and _open_queues(): 0, or -EINVAL with
 * a sentence. */
static int open_args_ok(int kind, const char *dev, const struct synack_link_config *cfg, char *err,
                        size_t errlen)
{
	if (kind != SYNACK_LINK_TAP && kind != SYNACK_LINK_TUN) {
		snprintf(err, errlen, "unknown link kind %d", kind);
		return -EINVAL;
	}
	if (!name_ok(dev)) {
		snprintf(err, errlen,
		         "bad device name '%s' (1 to %d characters, no blanks, '/', ':' or '%%')",
		         dev ? dev : "", IFNAMSIZ - 1);
		return -EINVAL;
	}
	return synack_link_config_check(cfg, err, errlen);
}

int synack_link_open(struct synack_link **out, int kind, const char *dev,
                     const struct synack_link_config *cfg, char *err, size_t errlen)
{
	char dummy[8];
	if (!err) {
		err = dummy;
		errlen = sizeof(dummy);
	}
	if (out)
		*out = NULL;
	int rc = open_args_ok(kind, dev, cfg, err, errlen);
	return rc ? rc : open_device(out, kind, dev, cfg, 0, 1, err, errlen);
}

/*
 * One stack per core (issue 16 item 3): queue k of a multi-queue TUN/TAP
 * device is its own descriptor, and the kernel hands each flow to one
 * queue (drivers/net/tun.c, tun_automq_select_queue: the queue that last
 * wrote the flow, else its symmetric hash scaled to the queue count).
 * Only the first queue announces the address: one gratuitous ARP is
 * enough for the segment.
 */
int synack_link_open_queues(struct synack_link **out, unsigned n, int kind, const char *dev,
                            const struct synack_link_config *cfg, char *err, size_t errlen)
{
	char dummy[8];
	if (!err) {
		err = dummy;
		errlen = sizeof(dummy);
	}
	if (!out || n < 1 || n > SYNACK_LINK_MAX_QUEUES) {
		snprintf(err, errlen, "a multi-queue device has 1 to %d queues",
		         SYNACK_LINK_MAX_QUEUES);
		return -EINVAL;
	}
	memset(out, 0, n * sizeof(*out));
	int rc = open_args_ok(kind, dev, cfg, err, errlen);
	if (rc)
		return rc;
	for (unsigned k = 0; k < n && !rc; k++) {
		rc = open_device(&out[k], kind, dev, cfg, 1, k == 0, err, errlen);
		if (!rc && k > 0)
			out[k]->announce = 0;
	}
	if (!rc && kind == SYNACK_LINK_TAP && n > 1) {
		rc = board_attach(out, n);
		if (rc)
			snprintf(err, errlen, "cannot share the neighbours of the queues: %s",
			         strerror(-rc));
	}
	if (rc) {
		/* Closed last to first: the device the first made goes with it. */
		for (unsigned k = n; k-- > 0;) {
			synack_link_close(out[k]);
			out[k] = NULL;
		}
	}
	return rc;
}

void synack_link_close(struct synack_link *l)
{
	if (!l)
		return;
	synack_link_flush(l, 0);
	pcap_release(l);
	board_release(l);
	if (l->kind == SYNACK_LINK_TAP && l->arp.entries)
		arp_free(&l->arp);
	if (l->kind == SYNACK_LINK_TAP && l->nd.entries)
		nd_free(&l->nd);
	impair_free(&l->imp_out);
	impair_free(&l->imp_in);
	delay_free(&l->d_out);
	delay_free(&l->d_in);
	free(l->rbuf);
	free(l->rheld);
	free(l->wbuf);
	free(l->ibuf);
	free(l->tso.buf);
	if (l->fd >= 0)
		close(l->fd);
	free(l);
}

int synack_link_fd(const struct synack_link *l)
{
	return l ? l->fd : -1;
}

int synack_link_kind(const struct synack_link *l)
{
	return l ? l->kind : 0;
}

const char *synack_link_name(const struct synack_link *l)
{
	return l ? l->name : "";
}

uint32_t synack_link_mtu(const struct synack_link *l)
{
	return l ? l->mtu : 0;
}

void synack_link_mac(const struct synack_link *l, uint8_t mac[6])
{
	memcpy(mac, l->mac, 6);
}

int synack_link_routes(const struct synack_link *l, uint32_t addr)
{
	if (!l)
		return 0;
	if ((addr & l->mask) == (l->cfg.addr & l->mask))
		return 1;
	for (uint32_t i = 0; i < l->nextra; i++)
		if ((addr & l->extra_mask[i]) == (l->extra[i] & l->extra_mask[i]))
			return 1;
	return 0;
}

int synack_link_add_addr(struct synack_link *l, uint32_t addr, uint32_t prefix_len)
{
	if (!l || prefix_len > 32 || addr == 0 || addr == 0xffffffffu || (addr >> 28) >= 0xe)
		return -EINVAL;
	if (addr == l->cfg.addr)
		return 0;
	for (uint32_t i = 0; i < l->nextra; i++)
		if (l->extra[i] == addr)
			return 0;
	if (l->nextra >= LINK_EXTRA_MAX)
		return -ENOSPC;
	if (l->kind == SYNACK_LINK_TAP) {
		int rc = arp_add_addr(&l->arp, addr);
		if (rc)
			return rc;
	}
	l->extra[l->nextra] = addr;
	l->extra_mask[l->nextra++] = mask_of(prefix_len);
	return 0;
}

int synack_link_set_impairment(struct synack_link *l, const struct synack_sim_path *out,
                               const struct synack_sim_path *in, uint64_t seed)
{
	static const struct synack_sim_path clean;
	if (!l || (out && !impair_path_ok(out)) || (in && !impair_path_ok(in)))
		return -EINVAL;
	/* Each direction draws from its own generator, so traffic one way
	 * never shifts the fates of the other. */
	impair_free(&l->imp_out);
	impair_free(&l->imp_in);
	impair_init(&l->imp_out, seed ^ 0x6f75747061746831ull);
	impair_init(&l->imp_in, seed ^ 0x696e706174683131ull);
	impair_set_path(&l->imp_out, out ? out : &clean);
	impair_set_path(&l->imp_in, in ? in : &clean);
	l->impaired = !impair_is_clean(&l->imp_out) || !impair_is_clean(&l->imp_in);
	return 0;
}

/* Closes the link's capture; a shared one when its last link lets go. */
static void pcap_release(struct synack_link *l)
{
	struct pcap_share *sh = l->share;
	if (sh) {
		pthread_mutex_lock(&sh->mu);
		int last = --sh->refs == 0;
		if (!last && l->pcap_flush_at != SYNACK_NEVER && synack_pcap_flush(sh->pcap) != 0)
			l->stats.pcap_errors++;
		pthread_mutex_unlock(&sh->mu);
		if (last) {
			synack_pcap_close(sh->pcap);
			pthread_mutex_destroy(&sh->mu);
			free(sh);
		}
	} else if (l->pcap) {
		synack_pcap_close(l->pcap);
	}
	l->share = NULL;
	l->pcap = NULL;
	l->pcap_flush_at = SYNACK_NEVER;
}

static uint64_t wall_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

int synack_link_set_pcap(struct synack_link *l, const char *path, char *err, size_t errlen)
{
	char dummy[8];
	if (!err) {
		err = dummy;
		errlen = sizeof(dummy);
	}
	if (!l)
		return -EINVAL;
	pcap_release(l);
	if (!path)
		return 0;
	int rc;
	uint32_t type =
	    l->kind == SYNACK_LINK_TAP ? SYNACK_PCAP_LINKTYPE_ETHERNET : SYNACK_PCAP_LINKTYPE_RAW;
	/* tcpdump's snaplen: a super-segment on TAP (offloads) is up to
	 * 65549 bytes, more than the default 65535. */
	l->pcap = synack_pcap_open(path, type, 262144, &rc);
	if (!l->pcap) {
		snprintf(err, errlen, "cannot write pcap file '%s': %s", path, strerror(-rc));
		return rc;
	}
	return 0;
}

int synack_link_set_pcap_shared(struct synack_link *const *links, unsigned n, const char *path,
                                char *err, size_t errlen)
{
	if (!links || n < 1 || !path)
		return -EINVAL;
	for (unsigned k = 0; k < n; k++)
		if (!links[k] || links[k]->kind != links[0]->kind)
			return -EINVAL;
	int rc = synack_link_set_pcap(links[0], path, err, errlen);
	if (rc || n == 1)
		return rc;
	struct pcap_share *sh = calloc(1, sizeof(*sh));
	if (!sh || pthread_mutex_init(&sh->mu, NULL) != 0) {
		free(sh);
		synack_link_set_pcap(links[0], NULL, NULL, 0);
		return -ENOMEM;
	}
	sh->pcap = links[0]->pcap;
	sh->refs = n;
	for (unsigned k = 0; k < n; k++) {
		if (k > 0)
			pcap_release(links[k]);
		links[k]->pcap = sh->pcap;
		links[k]->share = sh;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* The device.                                                         */

static void capture(struct synack_link *l, uint64_t now, const uint8_t *frame, size_t len)
{
	if (!l->pcap)
		return;
	/* Shared: the time is taken under the lock, so records from every
	 * queue go into the file in the order of their stamps. */
	if (l->share)
		pthread_mutex_lock(&l->share->mu);
	if (synack_pcap_write(l->pcap, wall_us(), frame, len) != 0)
		l->stats.pcap_errors++;
	if (l->share)
		pthread_mutex_unlock(&l->share->mu);
	if (l->pcap_flush_at == SYNACK_NEVER)
		l->pcap_flush_at = now + LINK_PCAP_FLUSH_US;
}

/*
 * Writes a frame to the device: the virtio_net_hdr vh (all zero for NULL)
 * when the device takes one, then the link header head (hlen bytes, may be
 * 0) and the body, gathered in one writev(2) from where they lie.  The
 * capture gets the frame as one piece, a super-segment with the checksum
 * it would carry if it crossed the wire whole (as tcpdump on the device
 * shows it, but verifiable).
 */
static int dev_write(struct synack_link *l, uint64_t now, const struct vnet_hdr *vh,
                     const uint8_t *head, size_t hlen, const uint8_t *body, size_t blen)
{
	static const struct vnet_hdr none;
	uint8_t vb[VNET_HDR_LEN];
	struct iovec iov[3];
	int k = 0;
	if (l->vnet) {
		vnet_emit(vb, vh ? vh : &none);
		iov[k++] = (struct iovec){.iov_base = vb, .iov_len = VNET_HDR_LEN};
	}
	if (hlen)
		iov[k++] = (struct iovec){.iov_base = (void *)head, .iov_len = hlen};
	iov[k++] = (struct iovec){.iov_base = (void *)body, .iov_len = blen};
	ssize_t n;
	do
		n = writev(l->fd, iov, k);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		int e = errno;
		l->stats.drops[e == EAGAIN || e == ENOBUFS ? SYNACK_LINK_DROP_DEVICE_BUSY
		                                           : SYNACK_LINK_DROP_DEVICE_ERROR]++;
		return -1;
	}
	size_t len = hlen + blen;
	l->stats.frames_out++;
	l->stats.bytes_out += len;
	if (!l->pcap)
		return 0;
	if (hlen == 0 && !(vh && (vh->flags & VNET_F_NEEDS_CSUM))) {
		capture(l, now, body, blen);
		return 0;
	}
	/* The frame in one piece, in wbuf: a body gathered here is never
	 * wbuf (ARP's frames, built there, go whole and are captured above),
	 * while it may be ibuf (an impaired datagram). */
	if (hlen)
		memcpy(l->wbuf, head, hlen);
	memcpy(l->wbuf + hlen, body, blen);
	if (vh && (vh->flags & VNET_F_NEEDS_CSUM))
		vnet_csum_complete(l->wbuf, vh->csum_start, vh->csum_offset, len);
	capture(l, now, l->wbuf, len);
	return 0;
}

/* Writes what ARP queued: requests, replies, released datagrams. */
static void arp_drain(struct synack_link *l, uint64_t now)
{
	ssize_t n;
	while ((n = arp_output(&l->arp, l->wbuf, LINK_BUF)) > 0)
		dev_write(l, now, NULL, NULL, 0, l->wbuf, (size_t)n);
}

/* Writes what neighbour discovery queued: solicitations, advertisements,
 * released datagrams. */
static void nd_drain(struct synack_link *l, uint64_t now)
{
	ssize_t n;
	while ((n = nd_output(&l->nd, l->wbuf, LINK_BUF)) > 0)
		dev_write(l, now, NULL, NULL, 0, l->wbuf, (size_t)n);
}

static uint32_t ip_dst(const uint8_t *pkt)
{
	return ((uint32_t)pkt[16] << 24) | ((uint32_t)pkt[17] << 16) | ((uint32_t)pkt[18] << 8) |
	       pkt[19];
}

/* A routed datagram, past the impairments, onto the device: written from
 * where it lies behind the Ethernet header of its next hop hop (a gateway,
 * or the destination) when that is resolved, else held by ARP (TAP). */
static void xmit(struct synack_link *l, uint64_t now, const uint8_t *pkt, size_t len, uint32_t hop,
                 const uint8_t *hop6)
{
	if (l->kind == SYNACK_LINK_TUN) {
		dev_write(l, now, NULL, NULL, 0, pkt, len);
		return;
	}
	uint8_t eth[ARP_ETH_HLEN];
	/* By the next hop's family, not the datagram's version: impairments
	 * may have flipped that. */
	if (hop6) {
		if (nd_eth_header(&l->nd, now, hop6, eth))
			dev_write(l, now, NULL, eth, sizeof(eth), pkt, len);
		else
			nd_hold(&l->nd, now, hop6, pkt, len);
		nd_drain(l, now);
		return;
	}
	if (arp_eth_header(&l->arp, now, hop, eth))
		dev_write(l, now, NULL, eth, sizeof(eth), pkt, len);
	else
		(void)arp_send_ip(&l->arp, now, hop, pkt, len, l->wbuf, LINK_BUF); /* held */
	arp_drain(l, now);
}

void synack_link_flush(struct synack_link *l, uint64_t now)
{
	if (!l || !l->tso.len)
		return;
	struct vnet_hdr vh;
	uint32_t segs = l->tso.segs;
	size_t len = tso_finish(&l->tso, &vh);
	/* The Ethernet header was written in front when the first segment
	 * came (tso_take). */
	if (dev_write(l, now, &vh, NULL, 0, l->tso.buf, l->tso.l3 + len) == 0 && segs > 1) {
		l->stats.gso_out++;
		l->stats.gso_segs_out += segs;
	}
}

/* The super-segment path (tso): 1 when the datagram joined the pending
 * super-segment or started one, 0 when it goes on its own (the pending
 * one, which it cannot continue, has been written before it). */
static int tso_take(struct synack_link *l, uint64_t now, const uint8_t *pkt, size_t len,
                    uint32_t hop, const uint8_t *hop6)
{
	if (tso_join(&l->tso, pkt, len)) {
		if (l->tso.closed)
			synack_link_flush(l, now);
		return 1;
	}
	synack_link_flush(l, now);
	if (!tso_can_start(pkt, len))
		return 0;
	if (l->kind == SYNACK_LINK_TAP && !(hop6 ? nd_eth_header(&l->nd, now, hop6, l->tso.buf)
	                                         : arp_eth_header(&l->arp, now, hop, l->tso.buf)))
		return 0; /* unresolved: ARP or ND holds it, alone */
	tso_start(&l->tso, pkt, len);
	return 1;
}

int synack_link_send(struct synack_link *l, uint64_t now, const void *pkt, size_t len)
{
	if (!l || !pkt || len < 20 || len > 65535)
		return -EINVAL;
	return synack_link_send_to(l, now, pkt, len, ip_dst(pkt));
}

static int send_routed(struct synack_link *l, uint64_t now, const uint8_t *p, size_t len,
                       uint32_t next_hop, const uint8_t *hop6);

int synack_link_send_to(struct synack_link *l, uint64_t now, const void *pkt, size_t len,
                        uint32_t next_hop)
{
	if (!l || !pkt || len < 20 || len > 65535)
		return -EINVAL;
	const uint8_t *p = pkt;
	if ((p[0] >> 4) == 6)
		return synack_link_send_via(l, now, pkt, len, NULL);
	l->stats.datagrams_out++;
	if (!synack_link_routes(l, next_hop)) {
		l->stats.drops[SYNACK_LINK_DROP_NO_ROUTE]++;
		return 0;
	}
	return send_routed(l, now, p, len, next_hop, NULL);
}

/* 1 when a is on-link: fe80::/10, or on the prefix of one of our IPv6
 * addresses. */
static int on_link6(const struct synack_link *l, const uint8_t a[16])
{
	if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80)
		return 1;
	for (int i = -1; i < (int)l->nextra6; i++) {
		const uint8_t *ours = i < 0 ? l->cfg.addr6 : l->extra6[i];
		uint32_t len = i < 0 ? l->cfg.prefix6_len : l->extra6_len[i];
		if (is_zero16(ours))
			continue;
		uint32_t whole = len / 8, bits = len % 8;
		if (memcmp(a, ours, whole) != 0)
			continue;
		if (bits == 0 || ((a[whole] ^ ours[whole]) & (0xff00u >> bits)) == 0)
			return 1;
	}
	return 0;
}

int synack_link_send_via(struct synack_link *l, uint64_t now, const void *pkt, size_t len,
                         const struct synack_endpoint *next_hop)
{
	if (!l || !pkt || len < 20 || len > 65535)
		return -EINVAL;
	const uint8_t *p = pkt;
	if ((p[0] >> 4) != 6)
		return synack_link_send_to(l, now, pkt, len,
		                           next_hop ? next_hop->addr : ip_dst(pkt));
	l->stats.datagrams_out++;
	l->stats.datagrams6_out++;
	/* The stack's next hop when it gave one of this family, else the
	 * destination; off-link, the default gateway (RFC 4861 5.2). */
	uint8_t hop[16];
	if (len < ND_IP6_HLEN) {
		l->stats.drops[SYNACK_LINK_DROP_FRAME_SHORT]++;
		return 0;
	}
	if (next_hop && next_hop->family == SYNACK_AF_INET6 && !is_zero16(next_hop->addr6))
		memcpy(hop, next_hop->addr6, 16);
	else
		memcpy(hop, p + 24, 16);
	if (hop[0] != 0xff && !on_link6(l, hop)) {
		if (is_zero16(l->cfg.gw6)) {
			l->stats.drops[SYNACK_LINK_DROP_NO_ROUTE]++;
			return 0;
		}
		memcpy(hop, l->cfg.gw6, 16);
	}
	return send_routed(l, now, p, len, 0, hop);
}

/* A datagram whose next hop is known (hop, or hop6 for IPv6): impaired,
 * then joined into a super-segment (IPv4) or written. */
static int send_routed(struct synack_link *l, uint64_t now, const uint8_t *p, size_t len,
                       uint32_t next_hop, const uint8_t *hop6)
{
	if (!l->impaired || impair_is_clean(&l->imp_out)) {
		if (!l->tso_on || !tso_take(l, now, p, len, next_hop, hop6))
			xmit(l, now, p, len, next_hop, hop6);
		return 0;
	}
	/* Corruption flips a bit in place, so the middleware works on a copy. */
	memcpy(l->ibuf, p, len);
	uint64_t at[2];
	int copies = impair_decide(&l->imp_out, now, l->ibuf, len, at);
	if (copies == 0)
		l->stats.drops[SYNACK_LINK_DROP_IMPAIR_LOST]++;
	for (int k = 0; k < copies; k++) {
		if (at[k] <= now)
			xmit(l, now, l->ibuf, len, next_hop, hop6);
		else if (delay_push(&l->d_out, at[k], l->ibuf, len, next_hop, hop6) != 0)
			l->stats.drops[SYNACK_LINK_DROP_NO_MEMORY]++;
	}
	return 0;
}

/* 1 when the impairments act on what the link receives: then no checksum
 * is trusted, since corruption may flip a bit of any datagram. */
static int impaired_in(const struct synack_link *l)
{
	return l->impaired && !impair_is_clean(&l->imp_in);
}

/* Hands a datagram to the caller (1: *out points at it, in ip) or holds it
 * back (0); one longer than cap is dropped (too_big). */
static int deliver(struct synack_link *l, uint64_t now, uint8_t *ip, size_t len, size_t cap,
                   const uint8_t **out)
{
	uint64_t at[2] = {now, 0};
	int copies = 1;
	if (impaired_in(l)) {
		copies = impair_decide(&l->imp_in, now, ip, len, at);
		if (copies == 0)
			l->stats.drops[SYNACK_LINK_DROP_IMPAIR_LOST]++;
	}
	int handed = 0;
	for (int k = 0; k < copies; k++) {
		if (at[k] <= now && !handed) {
			if (len > cap) {
				l->stats.drops[SYNACK_LINK_DROP_TOO_BIG]++;
				continue;
			}
			*out = ip;
			handed = 1;
		} else if (delay_push(&l->d_in, at[k] > now ? at[k] : now, ip, len, 0, NULL) != 0) {
			l->stats.drops[SYNACK_LINK_DROP_NO_MEMORY]++;
		}
	}
	return handed;
}

/*
 * The checksum state of a frame read with a virtio_net_hdr (issue 16 item
 * 2), as Linux's skb->ip_summed: a partial checksum from the local kernel
 * (CHECKSUM_PARTIAL) or one the device verified (DATA_VALID,
 * CHECKSUM_UNNECESSARY) is handed on as known good when the caller takes
 * the state (trust) and cfg.csum_trust allows, and is then neither
 * completed nor verified; otherwise a partial one is completed here, so
 * the stack verifies the datagram as if it had crossed a wire whole.  A
 * capture gets the completed checksum either way.  Returns 0 and the
 * flags for synack_input_flags in *csum, or -1 for a malformed header.
 */
static int vnet_frame(struct synack_link *l, uint8_t *frame, size_t n, int trust, unsigned *csum)
{
	struct vnet_hdr vh;
	struct vnet_rx rx;
	vnet_parse(l->rbuf, &vh);
	if (vnet_rx_state(&vh, frame, n, l->kind == SYNACK_LINK_TAP ? ARP_ETH_HLEN : 0, &rx) != 0)
		return -1;
	l->stats.gso_in += (uint64_t)rx.gso;
	int trusted =
	    trust && l->cfg.csum_trust && !impaired_in(l) && (rx.partial ? rx.tcp : rx.valid);
	if (rx.partial && (!trusted || l->pcap)) {
		vnet_rx_complete(&vh, frame, &rx);
		l->stats.csum_completed++;
	}
	*csum = trusted ? SYNACK_INPUT_CSUM_UNNECESSARY : 0;
	return 0;
}

/* The next datagram for the stack of at most cap bytes, left where it
 * lies (*out, valid until the next call), with its flags for
 * synack_input_flags (trust: the caller takes them; else every checksum is
 * whole).  Returns its length, 0 when nothing is ready, or a negative
 * errno. */
static ssize_t recv_ref(struct synack_link *l, uint64_t now, size_t cap, const uint8_t **out,
                        unsigned *flags, int trust)
{
	*flags = 0;
	free(l->rheld);
	l->rheld = NULL;
	if (delay_due(&l->d_in) <= now) {
		struct delayed d = delay_pop(&l->d_in);
		l->rheld = d.data;
		if (d.len > cap) {
			l->stats.drops[SYNACK_LINK_DROP_TOO_BIG]++;
			return 0;
		}
		*out = d.data;
		if (d.len) {
			l->stats.datagrams_in++;
			l->stats.datagrams6_in += (d.data[0] >> 4) == 6;
		}
		return (ssize_t)d.len;
	}
	board_take(l, now);
	/* The last frame's buffer went to the stack (synack_link_give_rbuf). */
	if (!l->rbuf && !(l->rbuf = malloc(LINK_BUF)))
		return -ENOMEM;
	for (uint32_t i = 0; i < l->cfg.read_batch; i++) {
		ssize_t n = read(l->fd, l->rbuf, LINK_BUF);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			return -errno;
		}
		if (n == 0)
			return -EPIPE; /* the other end of a wrapped descriptor is gone */
		uint8_t *frame = l->rbuf;
		unsigned csum = 0;
		if (l->vnet) {
			if (n < VNET_HDR_LEN ||
			    vnet_frame(l, frame + VNET_HDR_LEN, (size_t)n - VNET_HDR_LEN, trust,
			               &csum) != 0) {
				l->stats.drops[SYNACK_LINK_DROP_VNET_BAD]++;
				continue;
			}
			frame += VNET_HDR_LEN;
			n -= VNET_HDR_LEN;
		}
		l->stats.frames_in++;
		l->stats.bytes_in += (uint64_t)n;
		capture(l, now, frame, (size_t)n);
		const uint8_t *ip = frame;
		size_t iplen = (size_t)n;
		if (l->kind == SYNACK_LINK_TAP && n >= ARP_ETH_HLEN &&
		    ((frame[12] << 8) | frame[13]) == ND_ETHERTYPE_IPV6) {
			int is_ip = nd_frame_in(&l->nd, now, frame, (size_t)n, &ip, &iplen);
			nd_drain(l, now);
			if (!is_ip)
				continue;
			if (iplen == 0) {
				l->stats.drops[SYNACK_LINK_DROP_FRAME_SHORT]++;
				continue;
			}
		} else if (l->kind == SYNACK_LINK_TAP) {
			int is_ip = arp_frame_in(&l->arp, now, frame, (size_t)n, &ip, &iplen);
			if (!is_ip)
				board_post(l, frame, (size_t)n);
			arp_drain(l, now);
			if (!is_ip)
				continue;
			/* A bare Ethernet header: no datagram to hand on (and a
			 * 0-byte read means "nothing" to the caller). */
			if (iplen == 0) {
				l->stats.drops[SYNACK_LINK_DROP_FRAME_SHORT]++;
				continue;
			}
		} else if (iplen == 0 || ((frame[0] >> 4) != 4 && (frame[0] >> 4) != 6)) {
			l->stats.drops[SYNACK_LINK_DROP_NOT_IPV4]++;
			continue;
		}
		/* ip points into rbuf, which is ours to modify. */
		if (deliver(l, now, l->rbuf + (ip - l->rbuf), iplen, cap, out)) {
			l->stats.datagrams_in++;
			l->stats.datagrams6_in += (ip[0] >> 4) == 6;
			l->stats.csum_trusted += csum != 0;
			*flags = csum;
			return (ssize_t)iplen;
		}
	}
	return 0;
}

ssize_t synack_link_recv_ref(struct synack_link *l, uint64_t now, const void **pkt, unsigned *flags)
{
	if (!l || !pkt || !flags)
		return -EINVAL;
	const uint8_t *p = NULL;
	ssize_t n = recv_ref(l, now, SIZE_MAX, &p, flags, 1);
	*pkt = n > 0 ? p : NULL;
	return n;
}

void *synack_link_rbuf(struct synack_link *l, const void *pkt, size_t *size)
{
	const uint8_t *p = pkt;
	if (!l || !l->rbuf || !size || p < l->rbuf || p >= l->rbuf + LINK_BUF)
		return NULL;
	*size = LINK_BUF;
	return l->rbuf;
}

void synack_link_give_rbuf(struct synack_link *l, void *spare)
{
	if (l)
		l->rbuf = spare; /* NULL: the next read allocates one (recv_ref) */
	else
		free(spare);
}

ssize_t synack_link_recv(struct synack_link *l, uint64_t now, void *buf, size_t cap)
{
	if (!l || !buf)
		return -EINVAL;
	const uint8_t *p;
	unsigned flags;
	ssize_t n = recv_ref(l, now, cap, &p, &flags, 0);
	if (n > 0)
		memcpy(buf, p, (size_t)n);
	return n;
}

void synack_link_advance(struct synack_link *l, uint64_t now)
{
	if (!l)
		return;
	while (delay_due(&l->d_out) <= now) {
		struct delayed d = delay_pop(&l->d_out);
		xmit(l, now, d.data, d.len, d.hop, d.is6 ? d.hop6 : NULL);
		free(d.data);
	}
	synack_link_flush(l, now);
	if (l->kind == SYNACK_LINK_TAP) {
		if (l->announce) {
			arp_announce(&l->arp);
			l->announce = 0;
		}
		arp_advance(&l->arp, now);
		arp_drain(l, now);
		nd_advance(&l->nd, now);
		nd_drain(l, now);
	}
	if (l->pcap && now >= l->pcap_flush_at) {
		if (l->share)
			pthread_mutex_lock(&l->share->mu);
		if (synack_pcap_flush(l->pcap) != 0)
			l->stats.pcap_errors++;
		if (l->share)
			pthread_mutex_unlock(&l->share->mu);
		l->pcap_flush_at = SYNACK_NEVER;
	}
}

int synack_link_unreachable_next(struct synack_link *l, uint32_t *addr)
{
	if (!l || !addr)
		return -EINVAL;
	return l->kind == SYNACK_LINK_TAP ? arp_failed_next(&l->arp, addr) : 0;
}

int synack_link_unreachable6_next(struct synack_link *l, uint8_t addr[16])
{
	if (!l || !addr)
		return -EINVAL;
	return l->kind == SYNACK_LINK_TAP ? nd_failed_next(&l->nd, addr) : 0;
}

int synack_link_add_addr6(struct synack_link *l, const uint8_t addr[16], uint32_t prefix_len)
{
	if (!l || !addr || !unicast6(addr) || prefix_len < 1 || prefix_len > 128)
		return -EINVAL;
	if (memcmp(addr, l->cfg.addr6, 16) == 0)
		return 0;
	for (uint32_t i = 0; i < l->nextra6; i++)
		if (memcmp(l->extra6[i], addr, 16) == 0)
			return 0;
	if (l->nextra6 >= LINK_EXTRA_MAX)
		return -ENOSPC;
	if (l->kind == SYNACK_LINK_TAP) {
		int rc = nd_add_addr(&l->nd, addr);
		if (rc)
			return rc;
	}
	memcpy(l->extra6[l->nextra6], addr, 16);
	l->extra6_len[l->nextra6++] = prefix_len;
	return 0;
}

int synack_link_addr6_link_local(const struct synack_link *l, uint8_t out[16])
{
	if (!l || !out || l->kind != SYNACK_LINK_TAP)
		return 0;
	nd_link_local(l->mac, out);
	return 1;
}

int synack_link_neigh6(const struct synack_link *l, const uint8_t addr[16], uint8_t mac[6])
{
	if (!l || !addr || !mac || l->kind != SYNACK_LINK_TAP)
		return 0;
	return nd_lookup(&l->nd, addr, mac);
}

uint64_t synack_link_next_deadline(const struct synack_link *l)
{
	if (!l)
		return SYNACK_NEVER;
	if (l->announce || l->tso.len)
		return 0;
	uint64_t t = delay_due(&l->d_out);
	uint64_t d = delay_due(&l->d_in);
	if (d < t)
		t = d;
	if (l->kind == SYNACK_LINK_TAP) {
		d = arp_next_deadline(&l->arp);
		if (d < t)
			t = d;
		d = nd_next_deadline(&l->nd);
		if (d < t)
			t = d;
	}
	if (l->pcap_flush_at < t)
		t = l->pcap_flush_at;
	return t;
}

int synack_link_txqueuelen(const struct synack_link *l)
{
	if (!l)
		return -EINVAL;
	if (!l->is_device)
		return -ENODEV;
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	int rc = dev_ioctl(l->name, SIOCGIFTXQLEN, &ifr);
	return rc ? rc : ifr.ifr_qlen;
}

int synack_link_set_txqueuelen(struct synack_link *l, uint32_t len)
{
	if (!l || len < 1 || len > LINK_MAX_TXQUEUELEN)
		return -EINVAL;
	if (!l->is_device)
		return -ENODEV;
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_qlen = (int)len;
	return dev_ioctl(l->name, SIOCSIFTXQLEN, &ifr);
}

int synack_link_device_stats(const struct synack_link *l, struct synack_link_device_stats *out)
{
	if (!l || !out)
		return -EINVAL;
	if (!l->is_device)
		return -ENODEV;
	struct synack_link_device_stats now;
	int rc = read_proc_dev(l->name, &now);
	if (rc)
		return rc;
	const struct synack_link_device_stats *b = &l->dev_base;
	*out = (struct synack_link_device_stats){
	    .rx_packets = now.rx_packets - b->rx_packets,
	    .rx_errors = now.rx_errors - b->rx_errors,
	    .rx_dropped = now.rx_dropped - b->rx_dropped,
	    .rx_fifo_errors = now.rx_fifo_errors - b->rx_fifo_errors,
	    .tx_packets = now.tx_packets - b->tx_packets,
	    .tx_errors = now.tx_errors - b->tx_errors,
	    .tx_dropped = now.tx_dropped - b->tx_dropped,
	    .tx_fifo_errors = now.tx_fifo_errors - b->tx_fifo_errors,
	};
	return 0;
}

void synack_link_stats(const struct synack_link *l, struct synack_link_stats *out)
{
	if (!out)
		return;
	memset(out, 0, sizeof(*out));
	if (!l)
		return;
	*out = l->stats;
	out->impair_out = l->imp_out.c;
	out->impair_in = l->imp_in.c;
}

int synack_link_wake_fd(const struct synack_link *l)
{
	return l ? l->wakefd : -1;
}
