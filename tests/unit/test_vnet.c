/*
 * The offloads of TUN/TAP links (src/link/vnet.c, issue 16 item 2), without
 * a device: the virtio_net_hdr read and written; partial checksums
 * completed; malformed headers refused (and counted by a link); TCP
 * segments joined into a super-segment that, cut again as the kernel cuts
 * it, gives back exactly the segments TCP built; what may not be joined;
 * and two stacks on links joined by a socketpair that carries the headers
 * (as a descriptor opened with IFF_VNET_HDR), moving data both ways in
 * super-segments, byte-exact.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include "link/link_internal.h"
#include "link/vnet.h"
#include "synack/run.h"
#include "wire/wire.h"
#include "wire/wire6.h"

#define SRC 0x0a070002u
#define DST 0x0a070001u
#define MSS 1448u

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* One IPv4 datagram carrying a TCP segment with timestamps, into buf. */
static size_t segment(uint8_t *buf, uint16_t id, uint32_t seq, uint8_t flags, size_t len,
                      uint32_t tsval)
{
	static uint8_t payload[65536];
	for (size_t i = 0; i < len; i++)
		payload[i] = (uint8_t)(seq + i * 13);
	struct wire_tcp_out o = {.saddr = addr_v4(SRC),
	                         .daddr = addr_v4(DST),
	                         .sport = 40000,
	                         .dport = 5001,
	                         .seq = seq,
	                         .ack = 777,
	                         .flags = flags,
	                         .wnd = 500};
	o.opts.has_ts = 1;
	o.opts.ts_val = tsval;
	o.opts.ts_ecr = 99;
	size_t n =
	    wire_tcp_emit(buf + WIRE_IP4_HDR_LEN, 65535 - WIRE_IP4_HDR_LEN, &o, payload, len);
	CHECK(n > 0);
	wire_ip4_emit(buf, SRC, DST, WIRE_IPPROTO_TCP, 64, id, n);
	return n + WIRE_IP4_HDR_LEN;
}

/* The datagram parses and its checksums verify, as the stack would. */
static int verifies(const uint8_t *pkt, size_t len)
{
	struct wire_ip4 ip;
	struct wire_tcp t;
	return wire_ip4_parse(pkt, len, &ip) == SYNACK_DROP_NONE &&
	       wire_tcp_parse(&ip, &t) == SYNACK_DROP_NONE;
}

/* An IPv6 datagram (issue 14, TSO6): parses and its TCP checksum over
 * the RFC 8200 8.1 pseudo-header verifies; 0 for other than TCP (ND). */
static int verifies6(const uint8_t *pkt, size_t len, int *is_tcp)
{
	struct wire_ip6 ip;
	struct wire_tcp t;
	*is_tcp = 0;
	if (wire_ip6_parse(pkt, len, &ip) != SYNACK_DROP_NONE)
		return 0;
	if (ip.proto != WIRE_IPPROTO_TCP)
		return 1;
	*is_tcp = 1;
	struct wire_net net = wire_ip6_net(&ip);
	return wire_tcp_parse_net(&net, &t) == SYNACK_DROP_NONE;
}

/* The sum of the pseudo-header alone, as a sender with checksum offload
 * leaves it in the field (Linux's ~csum_tcpudp_magic(..., 0)). */
static void make_partial(uint8_t *pkt, size_t len)
{
	uint32_t p = get16(pkt + 12) + get16(pkt + 14) + get16(pkt + 16) + get16(pkt + 18) + 6 +
	             (uint32_t)(len - 20);
	p = (p & 0xffff) + (p >> 16);
	p = (p & 0xffff) + (p >> 16);
	put16(pkt + 36, (uint16_t)p);
}

static void header_round_trip_little_endian(void)
{
	struct vnet_hdr h = {.flags = VNET_F_NEEDS_CSUM,
	                     .gso_type = VNET_GSO_TCPV4,
	                     .hdr_len = 0x0142,
	                     .gso_size = 1448,
	                     .csum_start = 34,
	                     .csum_offset = 16},
	                g;
	uint8_t b[VNET_HDR_LEN];
	memset(b, 0xee, sizeof(b));
	vnet_emit(b, &h);
	static const uint8_t want[VNET_HDR_LEN] = {1,  1, 0x42, 0x01, 0xa8, 0x05,
	                                           34, 0, 16,   0,    0,    0};
	CHECK(memcmp(b, want, sizeof(b)) == 0);
	vnet_parse(b, &g);
	CHECK(memcmp(&g, &h, sizeof(g)) == 0);
}

static void partial_checksum_is_completed(void)
{
	static uint8_t frame[14 + 2000];
	for (size_t l3 = 0; l3 <= 14; l3 += 14) {
		for (size_t pay = 0; pay < 40; pay += 7) { /* odd lengths too */
			size_t n = segment(frame + l3, 1, 1000, SYNACK_TH_ACK, pay, 5);
			uint8_t whole[2];
			memcpy(whole, frame + l3 + 36, 2);
			make_partial(frame + l3, n);
			CHECK(!verifies(frame + l3, n));
			struct vnet_hdr h = {.flags = VNET_F_NEEDS_CSUM,
			                     .csum_start = (uint16_t)(l3 + 20),
			                     .csum_offset = 16};
			int gso = -1;
			/* Ethernet padding past the datagram is not summed. */
			memset(frame + l3 + n, 0xab, 8);
			CHECK_EQ(vnet_rx(&h, frame, l3 + n + (l3 ? 8 : 0), l3, &gso), 0);
			CHECK_EQ(gso, 0);
			CHECK(verifies(frame + l3, n));
			CHECK(memcmp(whole, frame + l3 + 36, 2) == 0);
		}
	}
	/* DATA_VALID and no flag leave the frame as it is. */
	size_t n = segment(frame, 1, 1000, SYNACK_TH_ACK, 10, 5);
	struct vnet_hdr h = {.flags = VNET_F_DATA_VALID};
	int gso;
	CHECK_EQ(vnet_rx(&h, frame, n, 0, &gso), 0);
	CHECK(verifies(frame, n));
}

static void malformed_headers_are_refused(void)
{
	static uint8_t frame[2000];
	size_t n = segment(frame, 1, 1000, SYNACK_TH_ACK, 100, 5);
	const struct vnet_hdr good = {.flags = VNET_F_NEEDS_CSUM,
	                              .gso_type = VNET_GSO_TCPV4,
	                              .hdr_len = 52,
	                              .gso_size = 50,
	                              .csum_start = 20,
	                              .csum_offset = 16};
	struct vnet_hdr bad[] = {good, good, good, good, good, good, good, good, good};
	bad[0].gso_type = 3;              /* UDP (UFO) */
	bad[1].gso_type = 4;              /* TCPV6 on an IPv4 datagram */
	bad[2].gso_type = 0x85;           /* unknown, with ECN */
	bad[3].flags = 0;                 /* a super-segment summed whole? never */
	bad[4].gso_size = 0;              /* cut into nothing */
	bad[5].csum_start = (uint16_t)n;  /* past the datagram */
	bad[6].csum_offset = (uint16_t)n; /* the field past the datagram */
	bad[7].gso_type = VNET_GSO_ECN;   /* ECN on no GSO */
	bad[8].csum_start = 0xffff;       /* far out */
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int gso;
		CHECK_EQ(vnet_rx(&bad[i], frame, n, 0, &gso), -1);
	}
	/* On Ethernet, csum_start inside the link header. */
	struct vnet_hdr h = good;
	h.csum_start = 4;
	int gso;
	CHECK_EQ(vnet_rx(&h, frame, n, 14, &gso), -1);
	/* A super-segment of UDP. */
	frame[9] = 17;
	h = good;
	CHECK_EQ(vnet_rx(&h, frame, n, 0, &gso), -1);
	frame[9] = 6;
	make_partial(frame, n);
	CHECK_EQ(vnet_rx(&good, frame, n, 0, &gso), 0);
	CHECK_EQ(gso, 1);
	CHECK(verifies(frame, n));
}

/* Cuts a super-segment as Linux's tcp_gso_segment() and inet_gso_segment()
 * do: the headers copied, the sequence advanced, the IP identification
 * incremented, PSH and FIN on the last segment only, each checksum whole. */
static size_t kernel_cut(const uint8_t *super, size_t len, const struct vnet_hdr *h,
                         uint8_t out[][2048])
{
	size_t hl = h->hdr_len, k = 0;
	uint32_t seq0 = (uint32_t)get16(super + 24) << 16 | get16(super + 26);
	for (size_t off = hl; off < len; off += h->gso_size, k++) {
		size_t pay = len - off < h->gso_size ? len - off : h->gso_size;
		uint8_t *s = out[k];
		memcpy(s, super, hl);
		memcpy(s + hl, super + off, pay);
		put16(s + 2, (uint16_t)(hl + pay));
		put16(s + 4, (uint16_t)(get16(super + 4) + k));
		uint32_t seq = seq0 + (uint32_t)(off - hl);
		put16(s + 24, (uint16_t)(seq >> 16));
		put16(s + 26, (uint16_t)seq);
		if (off + pay < len)
			s[33] &= (uint8_t) ~(SYNACK_TH_PSH | SYNACK_TH_FIN);
		put16(s + 10, 0);
		put16(s + 10, wire_csum_fold(wire_csum_add(0, s, 20)));
		make_partial(s, hl + pay);
		vnet_csum_complete(s, h->csum_start, h->csum_offset, hl + pay);
	}
	return k;
}

static void joined_segments_cut_again_are_the_segments_tcp_built(void)
{
	static uint8_t segs[6][2048], cut[8][2048], buf[65536];
	size_t lens[6];
	struct tso t = {.buf = buf, .l3 = 0};
	uint32_t seq = 5000;
	for (int i = 0; i < 6; i++) {
		uint8_t flags = SYNACK_TH_ACK | (i == 5 ? SYNACK_TH_PSH : 0);
		lens[i] = segment(segs[i], (uint16_t)(100 + i), seq, flags, i == 5 ? 300 : MSS, 7);
		seq += i == 5 ? 300 : MSS;
	}
	CHECK(tso_can_start(segs[0], lens[0]));
	CHECK(!tso_can_start(segs[5], lens[5])); /* PSH: the last of a run */
	tso_start(&t, segs[0], lens[0]);
	for (int i = 1; i < 6; i++)
		CHECK_EQ(tso_join(&t, segs[i], lens[i]), 1);
	CHECK(t.closed);
	CHECK_EQ(tso_join(&t, segs[1], lens[1]), 0); /* closed by the short PSH one */
	CHECK_EQ(t.segs, 6);
	struct vnet_hdr h;
	size_t len = tso_finish(&t, &h);
	CHECK_EQ(len, 20 + 32 + 5 * MSS + 300);
	CHECK_EQ(t.len, 0);
	CHECK_EQ(h.flags, VNET_F_NEEDS_CSUM);
	CHECK_EQ(h.gso_type, VNET_GSO_TCPV4);
	CHECK_EQ(h.gso_size, MSS);
	CHECK_EQ(h.hdr_len, 52);
	CHECK_EQ(h.csum_start, 20);
	CHECK_EQ(h.csum_offset, 16);
	CHECK_EQ(get16(buf + 2), len);
	CHECK_EQ(wire_csum_fold(wire_csum_add(0, buf, 20)), 0); /* a valid IP header */
	CHECK(buf[33] & SYNACK_TH_PSH);
	/* As the capture shows it: the whole checksum verifies. */
	static uint8_t whole[65536];
	memcpy(whole, buf, len);
	vnet_csum_complete(whole, h.csum_start, h.csum_offset, len);
	CHECK(verifies(whole, len));
	CHECK_EQ(kernel_cut(buf, len, &h, cut), 6);
	for (int i = 0; i < 6; i++) {
		CHECK_EQ(get16(cut[i] + 2), lens[i]);
		CHECK(memcmp(cut[i], segs[i], lens[i]) == 0);
	}
}

static void only_what_the_kernel_can_rebuild_is_joined(void)
{
	static uint8_t a[2048], b[2048], buf[65536];
	struct tso t = {.buf = buf, .l3 = 0};
	size_t na = segment(a, 1, 1000, SYNACK_TH_ACK, MSS, 7);
	/* Each mutation of the second segment refuses the join. */
	for (int m = 0; m < 12; m++) {
		size_t nb = segment(b, 2, 1000 + MSS, SYNACK_TH_ACK, MSS, 7);
		switch (m) {
		case 0:
			nb = segment(b, 2, 1000 + MSS + 1, SYNACK_TH_ACK, MSS, 7);
			break; /* a gap */
		case 1:
			nb = segment(b, 2, 1000 + MSS, SYNACK_TH_ACK, MSS, 8);
			break; /* TSval */
		case 2:
			nb = segment(b, 2, 1000 + MSS, SYNACK_TH_ACK, MSS + 1, 7);
			break;
		case 3:
			nb = segment(b, 2, 1000 + MSS, SYNACK_TH_ACK | SYNACK_TH_CWR, MSS, 7);
			break;
		case 4:
			nb = segment(b, 2, 1000 + MSS, SYNACK_TH_ACK | SYNACK_TH_URG, MSS, 7);
			break;
		case 5:
			nb = segment(b, 2, 1000 + MSS, SYNACK_TH_RST | SYNACK_TH_ACK, MSS, 7);
			break;
		case 6:
			b[21]++;
			break; /* another source port */
		case 7:
			b[31]++;
			break; /* another ACK */
		case 8:
			b[35]++;
			break; /* another window */
		case 9:
			b[1] = 2;
			break; /* ECT(0) where the first was not */
		case 10:
			b[8]--;
			break; /* TTL */
		case 11:
			b[6] = 0x20;
			break; /* MF: a fragment */
		}
		tso_start(&t, a, na);
		CHECK_EQ(tso_join(&t, b, nb), 0);
		struct vnet_hdr h;
		/* Alone, the segment goes as TCP built it. */
		CHECK_EQ(tso_finish(&t, &h), na);
		CHECK_EQ(h.gso_type, VNET_GSO_NONE);
		CHECK_EQ(h.flags, 0);
		CHECK(memcmp(buf, a, na) == 0);
	}
	/* No segment without data, with SYN, FIN, PSH or CWR starts a run. */
	CHECK(!tso_can_start(b, segment(b, 1, 1, SYNACK_TH_ACK, 0, 7)));
	CHECK(!tso_can_start(b, segment(b, 1, 1, SYNACK_TH_SYN, 10, 7)));
	CHECK(!tso_can_start(b, segment(b, 1, 1, SYNACK_TH_ACK | SYNACK_TH_FIN, 10, 7)));
	CHECK(!tso_can_start(b, segment(b, 1, 1, SYNACK_TH_ACK | SYNACK_TH_CWR, 10, 7)));
	CHECK(tso_can_start(b, segment(b, 1, 1, SYNACK_TH_ACK | SYNACK_TH_ECE, 10, 7)));
	/* An IP option, or a length that disagrees with the header. */
	size_t n = segment(b, 1, 1, SYNACK_TH_ACK, 10, 7);
	CHECK(!tso_can_start(b, n - 1));
	b[0] = 0x46;
	CHECK(!tso_can_start(b, n));
	/* 64 KiB at most: 45 segments of 1448 with their 52 header bytes. */
	uint32_t seq = 1000;
	segment(a, 1, seq, SYNACK_TH_ACK, MSS, 7);
	tso_start(&t, a, na);
	int joined = 1;
	for (seq += MSS; joined < 100; seq += MSS) {
		size_t nb = segment(b, 2, seq, SYNACK_TH_ACK, MSS, 7);
		if (!tso_join(&t, b, nb))
			break;
		joined++;
	}
	CHECK_EQ(joined, (65535 - 52) / MSS);
	CHECK(t.len <= VNET_MAX_DGRAM);
}

/* ------------------------------------------------------------------ */
/* Two stacks on vnet links.                                           */

struct host {
	struct synack_link *link;
	struct synack_stack *st;
	struct synack_run *run;
};

/* With v6, 2001:db8::N beside 10.7.0.N on both the link and the stack. */
static void host_open(struct host *h, int fd, uint32_t addr, int tso, const char *pcap, int v6)
{
	struct synack_link_config lc;
	synack_link_config_default(&lc);
	lc.addr = addr;
	lc.tso = tso;
	uint8_t a6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = (uint8_t)addr};
	if (v6)
		memcpy(lc.addr6, a6, 16);
	char err[160];
	CHECK_EQ(synack_link_open_fd(&h->link, SYNACK_LINK_TAP, fd, "pair", &lc, err, sizeof(err)),
	         0);
	link_set_vnet(h->link, 1);
	if (pcap)
		CHECK_EQ(synack_link_set_pcap(h->link, pcap, err, sizeof(err)), 0);
	struct synack_config cfg;
	synack_config_default(&cfg);
	cfg.addr = addr;
	cfg.secret[0] = (uint8_t)addr;
	if (v6)
		memcpy(cfg.addr6, a6, 16);
	h->st = synack_stack_new(&cfg, NULL);
	CHECK(h->st != NULL);
	int e;
	h->run = synack_run_new(h->st, h->link, &e);
	CHECK(h->run != NULL);
}

static void host_close(struct host *h)
{
	synack_run_free(h->run);
	synack_stack_free(h->st);
	synack_link_close(h->link);
}

#define TURNS 200000

static void turn_both(struct host *a, struct host *b)
{
	CHECK_EQ(synack_run_once(a->run, 0), 0);
	CHECK_EQ(synack_run_once(b->run, 0), 0);
}

/* a sends 2 MB to b, which sends it back; with tso, each way in
 * super-segments that the other link takes whole (its gro); over IPv6
 * with v6 (TSO6, issue 14). */
static void echo_between_two_stacks(int tso, int v6)
{
	int sv[2];
	CHECK_EQ(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0, sv), 0);
	int big = 1 << 21;
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
	setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
	char pcap[] = "/tmp/synack_test_vnet_XXXXXX";
	int pfd = mkstemp(pcap);
	CHECK(pfd >= 0);
	close(pfd);
	struct host a, b;
	host_open(&a, sv[0], SRC, tso, pcap, v6);
	host_open(&b, sv[1], DST, tso, NULL, v6);
	int l = synack_run_listen(b.run, 7, 4);
	CHECK(l >= 0);
	synack_advance(a.st, synack_run_now(a.run));
	int s = synack_socket(a.st);
	struct synack_endpoint peer = {.addr = DST, .port = 7};
	if (v6) {
		peer = (struct synack_endpoint){.family = SYNACK_AF_INET6, .port = 7};
		synack_stack_addr6(b.st, peer.addr6);
	}
	CHECK_EQ(synack_connect(a.st, s, &peer), -EINPROGRESS);
	int c = -1;
	for (int i = 0; i < TURNS && c < 0; i++) {
		turn_both(&a, &b);
		c = synack_accept(b.st, l, NULL);
	}
	CHECK(c >= 0);
	enum { N = 2000000 };
	static uint8_t out[N], in[N], mid[65536];
	for (size_t i = 0; i < N; i++)
		out[i] = (uint8_t)(i * 31 + i / 4099);
	size_t sent = 0, got = 0, echo_have = 0, echo_sent = 0;
	for (int i = 0; i < TURNS && got < N; i++) {
		ssize_t n;
		if (sent < N && (n = synack_send(a.st, s, out + sent, N - sent)) > 0)
			sent += (size_t)n;
		if (echo_sent == echo_have && (n = synack_recv(b.st, c, mid, sizeof(mid), 0)) > 0) {
			echo_have = (size_t)n;
			echo_sent = 0;
		}
		if (echo_sent < echo_have &&
		    (n = synack_send(b.st, c, mid + echo_sent, echo_have - echo_sent)) > 0)
			echo_sent += (size_t)n;
		turn_both(&a, &b);
		if ((n = synack_recv(a.st, s, in + got, N - got, 0)) > 0)
			got += (size_t)n;
	}
	CHECK_EQ(got, (size_t)N);
	CHECK(memcmp(in, out, N) == 0);
	struct synack_link_stats sa, sb;
	synack_link_stats(a.link, &sa);
	synack_link_stats(b.link, &sb);
	if (tso) {
		CHECK(sa.gso_out > 0 && sb.gso_out > 0);
		CHECK(sa.gso_segs_out > 2 * sa.gso_out);
	} else {
		CHECK_EQ_U64(sa.gso_out + sb.gso_out, 0);
	}
	/* What one sent whole, the other took whole. */
	CHECK_EQ_U64(sb.gso_in, sa.gso_out);
	CHECK_EQ_U64(sa.gso_in, sb.gso_out);
	CHECK_EQ_U64(sa.drops[SYNACK_LINK_DROP_VNET_BAD] + sb.drops[SYNACK_LINK_DROP_VNET_BAD], 0);
	/* A super-segment's partial checksum went to the stack trusted
	 * (csum_trust), and only there: every other datagram came whole,
	 * and the capture completed each trusted one. */
	struct synack_stats xa;
	synack_stats(a.st, &xa);
	CHECK_EQ_U64(sa.csum_trusted, sa.gso_in);
	CHECK_EQ_U64(xa.InCsumTrusted, sa.gso_in);
	CHECK_EQ_U64(sa.csum_completed, sa.gso_in);
	CHECK_EQ_U64(xa.InCsumErrors, 0);
	host_close(&a);
	host_close(&b);
	/* The capture holds every frame a wrote and read, super-segments
	 * whole, each IPv4 datagram with checksums that verify. */
	FILE *f = fopen(pcap, "rb");
	CHECK(f != NULL);
	static uint8_t frame[70000];
	uint8_t rec[16];
	uint64_t records = 0, supers = 0, tcp6 = 0;
	CHECK_EQ(fread(frame, 1, 24, f), 24);
	while (fread(rec, 1, 16, f) == 16) {
		uint32_t caplen, origlen;
		memcpy(&caplen, rec + 8, 4);
		memcpy(&origlen, rec + 12, 4);
		CHECK_EQ(caplen, origlen);
		if (caplen > sizeof(frame) || fread(frame, 1, caplen, f) != caplen)
			break;
		records++;
		if (caplen > 14 && frame[12] == 0x08 && frame[13] == 0x00) {
			CHECK(!v6);
			CHECK(verifies(frame + 14, caplen - 14));
			supers += caplen > 1514;
		}
		if (caplen > 14 && frame[12] == 0x86 && frame[13] == 0xdd) {
			int is_tcp;
			CHECK(verifies6(frame + 14, caplen - 14, &is_tcp));
			supers += caplen > 1514;
			tcp6 += (uint64_t)is_tcp;
		}
	}
	fclose(f);
	unlink(pcap);
	CHECK_EQ_U64(records, sa.frames_in + sa.frames_out);
	CHECK(tso ? supers > 0 : supers == 0);
	CHECK(v6 ? tcp6 > 0 : tcp6 == 0);
}

static void stacks_echo_in_super_segments(void)
{
	echo_between_two_stacks(1, 0);
}

static void stacks_echo_without_tso(void)
{
	echo_between_two_stacks(0, 0);
}

static void stacks_echo_in_super_segments_ipv6(void)
{
	echo_between_two_stacks(1, 1);
}

static void stacks_echo_without_tso_ipv6(void)
{
	echo_between_two_stacks(0, 1);
}

/* Frames with a malformed header never reach the stack: counted. */
static void link_counts_malformed_headers(void)
{
	int sv[2];
	CHECK_EQ(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0, sv), 0);
	struct synack_link *l;
	struct synack_link_config lc;
	synack_link_config_default(&lc);
	lc.addr = DST;
	char err[160];
	CHECK_EQ(synack_link_open_fd(&l, SYNACK_LINK_TUN, sv[0], "pair", &lc, err, sizeof(err)), 0);
	link_set_vnet(l, 1);
	static uint8_t frame[VNET_HDR_LEN + 2048], out[65536];
	/* Shorter than the header. */
	CHECK_EQ(write(sv[1], frame, 5), 5);
	/* A UDP super-segment. */
	size_t n = segment(frame + VNET_HDR_LEN, 1, 1, SYNACK_TH_ACK, 100, 1);
	struct vnet_hdr h = {.flags = VNET_F_NEEDS_CSUM, .gso_type = 3, .gso_size = 10};
	vnet_emit(frame, &h);
	CHECK_EQ(write(sv[1], frame, VNET_HDR_LEN + n), (ssize_t)(VNET_HDR_LEN + n));
	/* A checksum field past the end. */
	h = (struct vnet_hdr){.flags = VNET_F_NEEDS_CSUM, .csum_start = 20, .csum_offset = 5000};
	vnet_emit(frame, &h);
	CHECK_EQ(write(sv[1], frame, VNET_HDR_LEN + n), (ssize_t)(VNET_HDR_LEN + n));
	/* Then a good one with a partial checksum, handed on completed. */
	make_partial(frame + VNET_HDR_LEN, n);
	h.csum_offset = 16;
	vnet_emit(frame, &h);
	CHECK_EQ(write(sv[1], frame, VNET_HDR_LEN + n), (ssize_t)(VNET_HDR_LEN + n));
	CHECK_EQ(synack_link_recv(l, 0, out, sizeof(out)), (ssize_t)n);
	CHECK(verifies(out, n));
	struct synack_link_stats st;
	synack_link_stats(l, &st);
	CHECK_EQ_U64(st.drops[SYNACK_LINK_DROP_VNET_BAD], 3);
	CHECK_EQ_U64(st.csum_completed, 1);
	CHECK_EQ_U64(st.datagrams_in, 1);
	synack_link_close(l);
	close(sv[1]);
}

/*
 * The checksum state handed on (issue 16 item 2): a partial TCP checksum
 * from the kernel goes to the stack as known good, untouched
 * (synack_link_recv_ref, SYNACK_INPUT_CSUM_UNNECESSARY, csum_trusted),
 * and so does one the device marked verified (DATA_VALID); a partial one
 * that is not TCP's, any through synack_link_recv, any with csum_trust 0
 * and any while the received datagrams are impaired is completed instead
 * (csum_completed) and handed on without the flag.
 */
static struct synack_link *trust_link(int sv[2], int trust)
{
	CHECK_EQ(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0, sv), 0);
	struct synack_link *l;
	struct synack_link_config lc;
	synack_link_config_default(&lc);
	CHECK_EQ(lc.csum_trust, 1);
	lc.addr = DST;
	lc.csum_trust = trust;
	char err[160];
	CHECK_EQ(synack_link_open_fd(&l, SYNACK_LINK_TUN, sv[0], "pair", &lc, err, sizeof(err)), 0);
	link_set_vnet(l, 1);
	return l;
}

/* Writes the segment with a partial checksum (or, with flags
 * DATA_VALID, whole) and the header h to the link's other end. */
static size_t trust_write(int fd, uint8_t *frame, const struct vnet_hdr *h)
{
	size_t n = segment(frame + VNET_HDR_LEN, 1, 1000, SYNACK_TH_ACK, 300, 5);
	if (h->flags & VNET_F_NEEDS_CSUM)
		make_partial(frame + VNET_HDR_LEN, n);
	vnet_emit(frame, h);
	CHECK_EQ(write(fd, frame, VNET_HDR_LEN + n), (ssize_t)(VNET_HDR_LEN + n));
	return n;
}

static void link_hands_on_the_checksum_state(void)
{
	static uint8_t frame[VNET_HDR_LEN + 2048], out[65536];
	const struct vnet_hdr partial = {
	    .flags = VNET_F_NEEDS_CSUM, .csum_start = 20, .csum_offset = 16};
	const struct vnet_hdr valid = {.flags = VNET_F_DATA_VALID};
	int sv[2];
	struct synack_link *l = trust_link(sv, 1);
	const void *p;
	unsigned flags;
	struct synack_link_stats st;
	/* Partial, TCP's: handed on as it came, flagged. */
	size_t n = trust_write(sv[1], frame, &partial);
	CHECK_EQ(synack_link_recv_ref(l, 0, &p, &flags), (ssize_t)n);
	CHECK_EQ(flags, SYNACK_INPUT_CSUM_UNNECESSARY);
	CHECK(!verifies(p, n));
	CHECK(memcmp(p, frame + VNET_HDR_LEN, n) == 0);
	/* DATA_VALID: flagged too. */
	n = trust_write(sv[1], frame, &valid);
	CHECK_EQ(synack_link_recv_ref(l, 0, &p, &flags), (ssize_t)n);
	CHECK_EQ(flags, SYNACK_INPUT_CSUM_UNNECESSARY);
	CHECK(verifies(p, n));
	synack_link_stats(l, &st);
	CHECK_EQ_U64(st.csum_trusted, 2);
	CHECK_EQ_U64(st.csum_completed, 0);
	/* Partial at a field that is not the TCP checksum: completed. */
	struct vnet_hdr other = partial;
	other.csum_offset = 6;
	n = trust_write(sv[1], frame, &other);
	CHECK_EQ(synack_link_recv_ref(l, 0, &p, &flags), (ssize_t)n);
	CHECK_EQ(flags, 0u);
	/* Through synack_link_recv: completed, whole. */
	n = trust_write(sv[1], frame, &partial);
	CHECK_EQ(synack_link_recv(l, 0, out, sizeof(out)), (ssize_t)n);
	CHECK(verifies(out, n));
	synack_link_stats(l, &st);
	CHECK_EQ_U64(st.csum_trusted, 2);
	CHECK_EQ_U64(st.csum_completed, 2);
	CHECK_EQ(synack_link_recv_ref(l, 0, NULL, &flags), -EINVAL);
	CHECK_EQ(synack_link_recv_ref(l, 0, &p, NULL), -EINVAL);
	CHECK_EQ(synack_link_recv_ref(l, 0, &p, &flags), 0);
	/* Impairments on what the link receives: nothing is trusted. */
	struct synack_sim_path in = {.corrupt = 1.0};
	CHECK_EQ(synack_link_set_impairment(l, NULL, &in, 7), 0);
	n = trust_write(sv[1], frame, &partial);
	CHECK_EQ(synack_link_recv_ref(l, 0, &p, &flags), (ssize_t)n);
	CHECK_EQ(flags, 0u);
	synack_link_stats(l, &st);
	CHECK_EQ_U64(st.csum_trusted, 2);
	CHECK_EQ_U64(st.csum_completed, 3);
	synack_link_close(l);
	close(sv[1]);
	/* csum_trust 0: completed, whole, and verified by the stack. */
	l = trust_link(sv, 0);
	n = trust_write(sv[1], frame, &partial);
	CHECK_EQ(synack_link_recv_ref(l, 0, &p, &flags), (ssize_t)n);
	CHECK_EQ(flags, 0u);
	CHECK(verifies(p, n));
	n = trust_write(sv[1], frame, &valid);
	CHECK_EQ(synack_link_recv_ref(l, 0, &p, &flags), (ssize_t)n);
	CHECK_EQ(flags, 0u);
	synack_link_stats(l, &st);
	CHECK_EQ_U64(st.csum_trusted, 0);
	CHECK_EQ_U64(st.csum_completed, 1);
	synack_link_close(l);
	close(sv[1]);
}

/* A capture shows a trusted super-segment with its checksum whole (as it
 * would cross a wire), while the stack is handed it trusted. */
static void capture_of_a_trusted_frame_verifies(void)
{
	static uint8_t frame[VNET_HDR_LEN + 65536];
	char pcap[] = "/tmp/synack-test-trust-XXXXXX";
	int fd = mkstemp(pcap);
	CHECK(fd >= 0);
	close(fd);
	int sv[2];
	struct synack_link *l = trust_link(sv, 1);
	char err[160];
	CHECK_EQ(synack_link_set_pcap(l, pcap, err, sizeof(err)), 0);
	size_t n = segment(frame + VNET_HDR_LEN, 1, 1000, SYNACK_TH_ACK, 20 * MSS, 5);
	make_partial(frame + VNET_HDR_LEN, n);
	const struct vnet_hdr h = {.flags = VNET_F_NEEDS_CSUM,
	                           .gso_type = VNET_GSO_TCPV4,
	                           .hdr_len = 52,
	                           .gso_size = MSS,
	                           .csum_start = 20,
	                           .csum_offset = 16};
	vnet_emit(frame, &h);
	CHECK_EQ(write(sv[1], frame, VNET_HDR_LEN + n), (ssize_t)(VNET_HDR_LEN + n));
	const void *p;
	unsigned flags;
	CHECK_EQ(synack_link_recv_ref(l, 0, &p, &flags), (ssize_t)n);
	CHECK_EQ(flags, SYNACK_INPUT_CSUM_UNNECESSARY);
	struct synack_link_stats st;
	synack_link_stats(l, &st);
	CHECK_EQ_U64(st.gso_in, 1);
	CHECK_EQ_U64(st.csum_trusted, 1);
	CHECK_EQ_U64(st.csum_completed, 1);
	synack_link_close(l);
	close(sv[1]);
	FILE *f = fopen(pcap, "rb");
	CHECK(f != NULL);
	static uint8_t rec[16 + 65536];
	CHECK_EQ(fread(rec, 1, 24, f), 24);
	CHECK_EQ(fread(rec, 1, 16, f), 16);
	uint32_t caplen;
	memcpy(&caplen, rec + 8, 4);
	CHECK_EQ(caplen, (uint32_t)n);
	CHECK_EQ(fread(rec, 1, caplen, f), (size_t)caplen);
	CHECK(verifies(rec, caplen));
	fclose(f);
	unlink(pcap);
}

/* The offload settings are 0 or 1, each refused by name otherwise. */
static void offload_settings_are_checked(void)
{
	struct synack_link_config lc;
	synack_link_config_default(&lc);
	lc.addr = SRC;
	CHECK(lc.csum_offload == 1 && lc.gro == 1 && lc.tso == 1 && lc.csum_trust == 1);
	char err[160];
	CHECK_EQ(synack_link_config_check(&lc, err, sizeof(err)), 0);
	int *fields[] = {&lc.csum_offload, &lc.gro, &lc.tso, &lc.csum_trust};
	const char *names[] = {"csum_offload: 2 is outside 0..1", "gro: 2 is outside 0..1",
	                       "tso: 2 is outside 0..1", "csum_trust: 2 is outside 0..1"};
	for (int i = 0; i < 4; i++) {
		*fields[i] = 2;
		CHECK_EQ(synack_link_config_check(&lc, err, sizeof(err)), -EINVAL);
		CHECK_STR(err, names[i]);
		*fields[i] = 0;
		CHECK_EQ(synack_link_config_check(&lc, err, sizeof(err)), 0);
	}
}

int main(void)
{
	RUN(offload_settings_are_checked);
	RUN(header_round_trip_little_endian);
	RUN(partial_checksum_is_completed);
	RUN(malformed_headers_are_refused);
	RUN(joined_segments_cut_again_are_the_segments_tcp_built);
	RUN(only_what_the_kernel_can_rebuild_is_joined);
	RUN(stacks_echo_in_super_segments);
	RUN(stacks_echo_without_tso);
	RUN(stacks_echo_in_super_segments_ipv6);
	RUN(stacks_echo_without_tso_ipv6);
	RUN(link_counts_malformed_headers);
	RUN(link_hands_on_the_checksum_state);
	RUN(capture_of_a_trusted_frame_verifies);
	return check_summary("test_vnet");
}
