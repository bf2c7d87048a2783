/*
 * A reader of captures for `synack script --from-pcap` (docs/SCRIPTS.md):
 * the TCP segments of a classic pcap file (either byte order, microsecond
 * or nanosecond timestamps) or of a pcapng file (section header, interface
 * description and enhanced/simple packet blocks), on the link types
 * tcpdump and tshark write for IP: Ethernet (1, with up to two VLAN tags),
 * BSD loopback (0), raw IP (101, 228 IPv4, 229 IPv6) and Linux cooked
 * captures SLL (113) and SLL2 (276, `tcpdump -i any`).
 *
 * The reader trusts nothing: every length is checked against what the file
 * holds, and a file it cannot read is refused with one sentence.  It does
 * not check IP or TCP checksums (a capture on the sending host shows them
 * unfinished when the NIC computes them).
 */
#ifndef SYNACK_TOOLS_PCAP_READ_H
#define SYNACK_TOOLS_PCAP_READ_H

#include <stddef.h>
#include <stdint.h>

#define PCAP_READ_MAX_FILE (256u << 20) /* the largest file read (bytes) */
#define PCAP_READ_MAX_SEGS 1000000u     /* the most TCP segments kept */

/* One TCP segment of the capture. */
struct pcap_seg {
	uint64_t t_ns;            /* the record's timestamp, nanoseconds since the epoch */
	uint32_t frame;           /* its number in the file, from 1 (as Wireshark counts) */
	uint8_t family;           /* 4 or 6 */
	uint8_t src[16], dst[16]; /* IPv4 in the first 4 bytes */
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;       /* FIN SYN RST PSH ACK URG ECE CWR, the TCP header's bits */
	uint16_t win;        /* as on the wire (not scaled) */
	uint32_t len;        /* payload bytes the segment carried */
	uint32_t caplen;     /* of them, captured (a snap length may cut them) */
	const uint8_t *data; /* the captured payload, in the buffer read */
	/* Options (RFC 9293 3.2, RFC 7323, RFC 2018). */
	uint8_t has_mss, has_wscale, sackok, has_ts, nsack;
	uint16_t mss;
	uint8_t wscale;
	uint32_t ts_val, ts_ecr;
};

struct pcap_trace {
	int pcapng;        /* 1: the file was pcapng */
	uint32_t linktype; /* of the first interface */
	uint64_t frames;   /* records in the file */
	uint64_t skipped;  /* records that held no TCP segment we read */
	struct pcap_seg *seg;
	size_t n;
	uint8_t *buf; /* the file (pcap_trace_load), which data points into */
};

/*
 * Reads the capture held in buf (len bytes; buf must outlive t, the
 * segments point into it).  Returns 0, or -1 with one sentence in err: a
 * wrong magic, a truncated or oversized record, an unknown link type.
 */
int pcap_trace_read(const uint8_t *buf, size_t len, struct pcap_trace *t, char *err, size_t errlen);
/* Reads the file at path (at most PCAP_READ_MAX_FILE bytes) and parses
 * it; t owns the bytes.  Returns 0 or -1 with a sentence in err. */
int pcap_trace_load(const char *path, struct pcap_trace *t, char *err, size_t errlen);
void pcap_trace_free(struct pcap_trace *t);

#endif
