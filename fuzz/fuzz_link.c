/*
 * fuzz_link: the link's frame path with a virtio_net_hdr (issue 16 item 2).
 *
 * The first byte chooses TAP or TUN and the direction; the rest is a list
 * of frames, each a 2-byte big-endian length and its bytes.
 *  - In: each frame (virtio_net_hdr first) is what the device hands the
 *    link, through a socketpair that stands in for it.  Every datagram the
 *    link hands on must fit the buffer and go to a stack, which must take
 *    it or count a drop; a frame the link refuses is counted.  Bit 2 of
 *    the first byte takes them without the copy and with the checksum
 *    state (synack_link_recv_ref, synack_input_flags: issue 16 item 2),
 *    each frame's buffer lent to the stack (synack_link_rbuf,
 *    synack_input_block: the zero-copy receive queue).
 *  - Out: each frame is a datagram the stack sends (tso joins what it
 *    can).  Every frame the link writes must start with a header that
 *    describes it: a super-segment is IPv4/TCP (or IPv6/TCP) whose length is the
 *    frame's, whose headers fit, whose checksum field lies inside, and
 *    which holds more than one segment of gso_size.
 * Both the link and the stack hold 2001:db8::2 beside 10.7.0.2 (issue
 * 14), so IPv6 frames reach neighbour discovery (src/link/nd.c): every
 * solicitation or advertisement the link writes in answer to frames from
 * the device must carry hop limit 255
 * and a right ICMPv6 checksum, and the neighbour cache never holds more
 * than nd_cache_max entries, its timers run an hour later included.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fuzz.h"
#include "link/link_internal.h"
#include "link/vnet.h"
#include "synack/synack.h"

#define MAX_FRAMES 64

static uint8_t buf[65536 + 64];

#define ND_CACHE_MAX 4

/* A neighbour discovery message the link wrote (TAP): hop limit 255, the
 * ICMPv6 checksum over the pseudo-header right, the length its own. */
static void check_nd_frame(const uint8_t *f, size_t n)
{
	if (n < 14 + 40 || f[12] != 0x86 || f[13] != 0xdd || f[14 + 6] != 58)
		return;
	const uint8_t *ip = f + 14;
	size_t plen = (size_t)ip[4] << 8 | ip[5];
	if (plen < 8 || ip[40] < 133 || ip[40] > 137)
		return;
	if (40 + plen != n - 14 || ip[7] != 255)
		fuzz_fail("ND frame of %zu bytes: payload length %zu, hop limit %u", n, plen,
		          ip[7]);
	uint32_t sum = 0;
	for (size_t k = 8; k < 40; k += 2)
		sum += (uint32_t)ip[k] << 8 | ip[k + 1];
	sum += (uint32_t)plen + 58;
	for (size_t k = 0; k < plen; k += 2)
		sum += (uint32_t)ip[40 + k] << 8 | (k + 1 < plen ? ip[41 + k] : 0);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	if (sum != 0xffff)
		fuzz_fail("ND frame with a bad ICMPv6 checksum (sum 0x%x)", sum);
}

static void check_out_frame(const uint8_t *f, size_t n, size_t l3, int nd)
{
	if (n < VNET_HDR_LEN)
		fuzz_fail("link wrote %zu bytes, less than a virtio_net_hdr", n);
	struct vnet_hdr h;
	vnet_parse(f, &h);
	f += VNET_HDR_LEN;
	n -= VNET_HDR_LEN;
	if (nd)
		check_nd_frame(f, n);
	if (h.gso_type == VNET_GSO_NONE) {
		if (h.flags != 0)
			fuzz_fail("link wrote flags 0x%x on a frame summed whole", h.flags);
		return;
	}
	if ((h.gso_type != VNET_GSO_TCPV4 && h.gso_type != VNET_GSO_TCPV6) ||
	    h.flags != VNET_F_NEEDS_CSUM)
		fuzz_fail("link wrote gso_type 0x%x flags 0x%x", h.gso_type, h.flags);
	/* IPv4, or IPv6 with TCP right after its header (TSO6, issue 14). */
	size_t iphl = h.gso_type == VNET_GSO_TCPV4 ? 20 : 40;
	if (n < l3 + iphl + 20 ||
	    (iphl == 20
	         ? ((size_t)f[l3 + 2] << 8 | f[l3 + 3]) != n - l3 || f[l3 + 9] != 6
	         : (f[l3] >> 4) != 6 || ((size_t)f[l3 + 4] << 8 | f[l3 + 5]) != n - l3 - 40 ||
	               f[l3 + 6] != 6))
		fuzz_fail("super-segment of %zu bytes: not IPv%d/TCP of that length", n,
		          iphl == 20 ? 4 : 6);
	if (h.hdr_len > n || h.gso_size == 0 || n - h.hdr_len <= h.gso_size ||
	    (size_t)h.csum_start + h.csum_offset + 2 > h.hdr_len || h.csum_start != l3 + iphl)
		fuzz_fail("super-segment of %zu bytes: hdr_len %u gso_size %u csum %u+%u", n,
		          h.hdr_len, h.gso_size, h.csum_start, h.csum_offset);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	int kind = (data[0] & 1) ? SYNACK_LINK_TAP : SYNACK_LINK_TUN;
	int out = (data[0] & 2) != 0;
	int ref = (data[0] & 4) != 0;
	size_t l3 = kind == SYNACK_LINK_TAP ? 14 : 0;
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0, sv) != 0)
		return 0;
	int big = 1 << 23;
	setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
	struct synack_link_config lc;
	synack_link_config_default(&lc);
	lc.addr = 0x0a070002;
	lc.gratuitous_arp = 0;
	static const uint8_t a6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 2};
	memcpy(lc.addr6, a6, 16);
	lc.nd_cache_max = ND_CACHE_MAX;
	struct synack_link *l;
	if (synack_link_open_fd(&l, kind, sv[0], "fuzz", &lc, NULL, 0) != 0)
		fuzz_fail("cannot open a link on a socketpair");
	link_set_vnet(l, 1);
	struct synack_config cfg;
	synack_config_default(&cfg);
	cfg.addr = 0x0a070002;
	memcpy(cfg.addr6, a6, 16);
	struct synack_stack *st = synack_stack_new(&cfg, NULL);
	if (!st)
		fuzz_fail("cannot make a stack");

	size_t i = 1, frames = 0;
	while (i + 2 <= size && frames < MAX_FRAMES) {
		size_t n = (size_t)data[i] << 8 | data[i + 1];
		i += 2;
		if (n > size - i)
			n = size - i;
		frames++;
		if (out) {
			int rc = synack_link_send(l, frames, data + i, n);
			if (rc != 0 && !(rc == -EINVAL && (n < 20 || n > 65535)))
				fuzz_fail("synack_link_send(%zu bytes) returned %d", n, rc);
		} else if (write(sv[1], data + i, n) < 0) {
			break;
		}
		i += n;
	}
	if (out) {
		synack_link_flush(l, frames + 1);
		ssize_t n;
		while ((n = read(sv[1], buf, sizeof(buf))) > 0)
			check_out_frame(buf, (size_t)n, l3, 0);
	} else {
		ssize_t n;
		uint64_t handed = 0;
		const void *p = buf;
		unsigned flags = 0;
		while ((n = ref ? synack_link_recv_ref(l, 1, &p, &flags)
		                : synack_link_recv(l, 1, buf, sizeof(buf))) > 0) {
			if ((size_t)n > 65535)
				fuzz_fail("link handed on %zd bytes", n);
			if (flags & ~SYNACK_INPUT_CSUM_UNNECESSARY)
				fuzz_fail("link handed on flags 0x%x", flags);
			handed++;
			/* Lent as the run loop lends it (the zero-copy receive
			 * queue), the block taken back when the stack kept it. */
			size_t bsize = 0;
			void *block = ref ? synack_link_rbuf(l, p, &bsize) : NULL;
			int kept = 0;
			if (synack_input_block(st, 1, p, (size_t)n, flags, block, bsize, &kept) < 0)
				fuzz_fail("synack_input_block refused the link's flags 0x%x",
				          flags);
			if (kept)
				synack_link_give_rbuf(l, synack_block_spare(st, bsize));
		}
		struct synack_link_stats ls;
		synack_link_stats(l, &ls);
		if (ls.datagrams_in != handed)
			fuzz_fail("link counted %llu datagrams in, handed %llu",
			          (unsigned long long)ls.datagrams_in, (unsigned long long)handed);
		if (ls.gso_in > ls.frames_in)
			fuzz_fail("more super-segments than frames");
	}
	/* What the link answered (ND), and its timers an hour on. */
	synack_link_advance(l, 3600ull * 1000000);
	ssize_t w;
	/* Frames the link wrote on its own: ARP and ND only when the input
	 * came from the device (out, the datagrams are the input's). */
	while ((w = read(sv[1], buf, sizeof(buf))) > 0)
		check_out_frame(buf, (size_t)w, l3, l3 && !out);
	struct synack_link_stats ls;
	synack_link_stats(l, &ls);
	if (ls.nd_entries > ND_CACHE_MAX)
		fuzz_fail("%llu neighbour entries, more than %d", (unsigned long long)ls.nd_entries,
		          ND_CACHE_MAX);
	synack_stack_free(st);
	synack_link_close(l);
	close(sv[1]);
	return 0;
}
