/*
 * The capture reader of `synack script --from-pcap` (pcap_read.h).  Formats:
 * the classic libpcap file (https://www.tcpdump.org/manpages/pcap-savefile.5.html,
 * draft-ietf-opsawg-pcap) and pcapng (draft-ietf-opsawg-pcapng: SHB 4.1,
 * IDB 4.2, EPB 4.3, SPB 4.4); link types from https://www.tcpdump.org/linktypes.html.
 */
#include "pcap_read.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_RECORD 262144u /* libpcap's largest snapshot length */
#define MAX_IFACES 256

#define LT_NULL 0
#define LT_ETHERNET 1
#define LT_RAW 101
#define LT_LINUX_SLL 113
#define LT_IPV4 228
#define LT_IPV6 229
#define LT_LINUX_SLL2 276

#define ARPHRD_LOOPBACK 772
#define PACKET_OUTGOING 4

struct rd {
	const uint8_t *p;
	size_t len;
	int swap; /* the file's byte order is not little-endian */
};

static uint16_t get16(const struct rd *r, size_t off)
{
	const uint8_t *p = r->p + off;
	return r->swap ? (uint16_t)((p[0] << 8) | p[1]) : (uint16_t)((p[1] << 8) | p[0]);
}

static uint32_t get32(const struct rd *r, size_t off)
{
	const uint8_t *p = r->p + off;
	if (r->swap)
		return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) |
		       p[3];
	return ((uint32_t)p[3] << 24) | ((uint32_t)p[2] << 16) | ((uint32_t)p[1] << 8) | p[0];
}

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static uint32_t be32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

/* ------------------------------------------------------------------ */
/* TCP over IP (RFC 791, RFC 8200, RFC 9293).                          */

/* The options of a TCP header (RFC 9293 3.2); a malformed list ends the
 * walk, keeping what came before. */
static void tcp_options(struct pcap_seg *s, const uint8_t *o, size_t n)
{
	for (size_t i = 0; i < n;) {
		uint8_t kind = o[i];
		if (kind == 0)
			break;
		if (kind == 1) {
			i++;
			continue;
		}
		if (i + 1 >= n || o[i + 1] < 2 || i + o[i + 1] > n)
			break;
		uint8_t l = o[i + 1];
		const uint8_t *v = o + i + 2;
		if (kind == 2 && l == 4) {
			s->has_mss = 1;
			s->mss = be16(v);
		} else if (kind == 3 && l == 3) {
			s->has_wscale = 1;
			s->wscale = v[0];
		} else if (kind == 4 && l == 2) {
			s->sackok = 1;
		} else if (kind == 5 && l >= 10 && (l - 2) % 8 == 0) {
			s->nsack = (uint8_t)((l - 2) / 8);
		} else if (kind == 8 && l == 10) {
			s->has_ts = 1;
			s->ts_val = be32(v);
			s->ts_ecr = be32(v + 4);
		}
		i += l;
	}
}

/* The TCP segment in the transport bytes p (caplen captured of wire_len
 * on the wire).  1 when it is one. */
static int tcp_seg(struct pcap_seg *s, const uint8_t *p, size_t caplen, size_t wire_len)
{
	if (caplen < 20 || wire_len < 20)
		return 0;
	size_t doff = (size_t)(p[12] >> 4) * 4;
	if (doff < 20 || doff > caplen || doff > wire_len)
		return 0;
	s->sport = be16(p);
	s->dport = be16(p + 2);
	s->seq = be32(p + 4);
	s->ack = be32(p + 8);
	s->flags = p[13];
	s->win = be16(p + 14);
	tcp_options(s, p + 20, doff - 20);
	s->len = (uint32_t)(wire_len - doff);
	s->caplen = (uint32_t)(caplen - doff);
	s->data = p + doff;
	return 1;
}

/* An IPv4 or IPv6 datagram (captured caplen bytes of it). */
static int ip_seg(struct pcap_seg *s, const uint8_t *p, size_t caplen)
{
	if (caplen < 1)
		return 0;
	if ((p[0] >> 4) == 4) {
		if (caplen < 20)
			return 0;
		size_t ihl = (size_t)(p[0] & 15) * 4, total = be16(p + 2);
		/* A capture of a host whose NIC segments (TSO) shows a total
		 * length of 0: the datagram is all that was captured. */
		if (total == 0)
			total = caplen;
		if (ihl < 20 || ihl > caplen || total < ihl || p[9] != 6)
			return 0;
		if (be16(p + 6) & 0x3fff) /* a fragment (RFC 791 3.1): not read */
			return 0;
		s->family = 4;
		memcpy(s->src, p + 12, 4);
		memcpy(s->dst, p + 16, 4);
		size_t cap = caplen < total ? caplen : total;
		return tcp_seg(s, p + ihl, cap - ihl, total - ihl);
	}
	if ((p[0] >> 4) == 6) {
		if (caplen < 40)
			return 0;
		size_t total = 40 + (size_t)be16(p + 4), off = 40;
		uint8_t next = p[6];
		/* Extension headers (RFC 8200 4): hop-by-hop, routing and
		 * destination options are stepped over; a fragment is not read. */
		for (int k = 0; k < 8 && (next == 0 || next == 43 || next == 60); k++) {
			if (off + 8 > caplen)
				return 0;
			next = p[off];
			off += ((size_t)p[off + 1] + 1) * 8;
		}
		if (next != 6 || off > caplen || off > total)
			return 0;
		s->family = 6;
		memcpy(s->src, p + 8, 16);
		memcpy(s->dst, p + 24, 16);
		size_t cap = caplen < total ? caplen : total;
		return tcp_seg(s, p + off, cap - off, total - off);
	}
	return 0;
}

/* The datagram a link-layer frame carries, by link type; 1 when it is a
 * TCP segment. */
static int frame_seg(struct pcap_seg *s, uint32_t linktype, const uint8_t *p, size_t n)
{
	uint16_t proto;
	size_t off;
	switch (linktype) {
	case LT_ETHERNET:
		if (n < 14)
			return 0;
		off = 12;
		proto = be16(p + off);
		for (int tags = 0; tags < 2 && (proto == 0x8100 || proto == 0x88a8); tags++) {
			off += 4;
			if (off + 2 > n)
				return 0;
			proto = be16(p + off);
		}
		off += 2;
		break;
	case LT_NULL:
		/* The address family in the writer's byte order: 2 is
		 * AF_INET everywhere, 24, 28 or 30 AF_INET6. */
		if (n < 4)
			return 0;
		return ip_seg(s, p + 4, n - 4);
	case LT_RAW:
	case LT_IPV4:
	case LT_IPV6:
		return ip_seg(s, p, n);
	case LT_LINUX_SLL:
		if (n < 16)
			return 0;
		/* On a loopback device each datagram is seen leaving and
		 * arriving: the leaving copy is left out. */
		if (be16(p) == PACKET_OUTGOING && be16(p + 2) == ARPHRD_LOOPBACK)
			return 0;
		proto = be16(p + 14);
		off = 16;
		break;
	case LT_LINUX_SLL2:
		if (n < 20)
			return 0;
		if (p[10] == PACKET_OUTGOING && be16(p + 8) == ARPHRD_LOOPBACK)
			return 0;
		proto = be16(p);
		off = 20;
		break;
	default:
		return 0;
	}
	if (proto != 0x0800 && proto != 0x86dd)
		return 0;
	return ip_seg(s, p + off, n - off);
}

static int linktype_known(uint32_t lt)
{
	return lt == LT_NULL || lt == LT_ETHERNET || lt == LT_RAW || lt == LT_IPV4 ||
	       lt == LT_IPV6 || lt == LT_LINUX_SLL || lt == LT_LINUX_SLL2;
}

static int bad_linktype(uint32_t lt, char *err, size_t errlen)
{
	snprintf(err, errlen,
	         "link type %u is not one synack reads (Ethernet 1, BSD loopback 0, raw IP "
	         "101/228/229, Linux cooked 113/276)",
	         lt);
	return -1;
}

/* Keeps the record's segment, if it holds one. */
static int add_frame(struct pcap_trace *t, size_t *cap, uint64_t t_ns, uint32_t linktype,
                     const uint8_t *p, size_t n, char *err, size_t errlen)
{
	t->frames++;
	struct pcap_seg s;
	memset(&s, 0, sizeof(s));
	if (!frame_seg(&s, linktype, p, n)) {
		t->skipped++;
		return 0;
	}
	if (t->n >= PCAP_READ_MAX_SEGS) {
		snprintf(err, errlen, "more than %u TCP segments (cut the capture with editcap -r)",
		         PCAP_READ_MAX_SEGS);
		return -1;
	}
	if (t->n == *cap) {
		size_t nc = *cap ? *cap * 2 : 256;
		struct pcap_seg *ns = realloc(t->seg, nc * sizeof(*ns));
		if (!ns) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		t->seg = ns;
		*cap = nc;
	}
	s.t_ns = t_ns;
	s.frame = (uint32_t)t->frames;
	t->seg[t->n++] = s;
	return 0;
}

/* ------------------------------------------------------------------ */
/* The two file formats.                                               */

static int read_classic(const uint8_t *buf, size_t len, struct pcap_trace *t, char *err,
                        size_t errlen)
{
	struct rd r = {buf, len, 0};
	uint32_t magic = get32(&r, 0);
	int nano;
	if (magic == 0xa1b2c3d4 || magic == 0xa1b23c4d) {
		nano = magic == 0xa1b23c4d;
	} else {
		r.swap = 1;
		nano = get32(&r, 0) == 0xa1b23c4d;
	}
	if (len < 24) {
		snprintf(err, errlen, "truncated file header (%zu of 24 bytes)", len);
		return -1;
	}
	if (get16(&r, 4) != 2) {
		snprintf(err, errlen, "pcap version %u.%u is not 2.x", get16(&r, 4), get16(&r, 6));
		return -1;
	}
	/* The link type's upper bits may say the frames carry an FCS. */
	uint32_t lt = get32(&r, 20) & 0x0fffffff;
	t->linktype = lt;
	if (!linktype_known(lt))
		return bad_linktype(lt, err, errlen);
	size_t cap = 0;
	for (size_t off = 24; off < len;) {
		if (len - off < 16) {
			snprintf(err, errlen,
			         "record %llu is truncated (its header has %zu of 16 bytes)",
			         (unsigned long long)t->frames + 1, len - off);
			return -1;
		}
		uint32_t sec = get32(&r, off), frac = get32(&r, off + 4), incl = get32(&r, off + 8);
		if (incl > MAX_RECORD) {
			snprintf(err, errlen, "record %llu claims %u bytes (at most %u)",
			         (unsigned long long)t->frames + 1, incl, MAX_RECORD);
			return -1;
		}
		if (incl > len - off - 16) {
			snprintf(err, errlen, "record %llu is truncated (%zu of its %u bytes)",
			         (unsigned long long)t->frames + 1, len - off - 16, incl);
			return -1;
		}
		uint64_t ns = (uint64_t)sec * 1000000000u + (nano ? frac : (uint64_t)frac * 1000u);
		if (add_frame(t, &cap, ns, lt, buf + off + 16, incl, err, errlen))
			return -1;
		off += 16 + (size_t)incl;
	}
	return 0;
}

struct iface {
	uint32_t linktype;
	uint64_t units; /* timestamp units per second */
};

/* The if_tsresol option of an interface description (pcapng 4.2). */
static int iface_resolution(const struct rd *r, size_t off, size_t end, uint64_t *units)
{
	*units = 1000000;
	while (off + 4 <= end) {
		uint16_t code = get16(r, off), l = get16(r, off + 2);
		size_t padded = ((size_t)l + 3) & ~(size_t)3;
		if (code == 0 || padded > end - off - 4)
			break;
		if (code == 9 && l == 1) {
			uint8_t v = r->p[off + 4];
			unsigned exp = v & 0x7f;
			uint64_t base = (v & 0x80) ? 2 : 10;
			if ((base == 10 && exp > 9) || (base == 2 && exp > 30))
				return -1; /* finer than a nanosecond: not read */
			*units = 1;
			for (unsigned i = 0; i < exp; i++)
				*units *= base;
		}
		off += 4 + padded;
	}
	return 0;
}

static int read_pcapng(const uint8_t *buf, size_t len, struct pcap_trace *t, char *err,
                       size_t errlen)
{
	struct rd r = {buf, len, 0};
	struct iface ifs[MAX_IFACES];
	size_t nifs = 0, cap = 0;
	int section = 0;
	t->pcapng = 1;
	for (size_t off = 0; off < len;) {
		if (len - off < 12) {
			snprintf(err, errlen, "pcapng block at byte %zu is truncated", off);
			return -1;
		}
		/* 0a0d0d0a reads the same in both byte orders. */
		uint32_t type = get32(&r, off);
		if (type == 0x0a0d0d0a) {
			/* A section header: its byte-order magic decides. */
			if (len - off < 28) {
				snprintf(err, errlen,
				         "pcapng section header at byte %zu is truncated", off);
				return -1;
			}
			r.swap = 0;
			if (get32(&r, off + 8) != 0x1a2b3c4d) {
				r.swap = 1;
				if (get32(&r, off + 8) != 0x1a2b3c4d) {
					snprintf(err, errlen,
					         "pcapng section header at byte %zu has no "
					         "byte-order magic",
					         off);
					return -1;
				}
			}
			if (get16(&r, off + 12) != 1) {
				snprintf(err, errlen, "pcapng version %u is not 1",
				         get16(&r, off + 12));
				return -1;
			}
			section = 1;
			nifs = 0;
		} else if (!section) {
			snprintf(err, errlen, "pcapng file without a section header");
			return -1;
		}
		uint32_t blen = get32(&r, off + 4);
		if (blen < 12 || blen % 4 || blen > len - off) {
			snprintf(err, errlen, "pcapng block at byte %zu claims %u bytes (%zu left)",
			         off, blen, len - off);
			return -1;
		}
		size_t body = off + 8, end = off + blen - 4;
		if (type == 1) { /* interface description */
			if (end - body < 8) {
				snprintf(err, errlen,
				         "pcapng interface description at byte %zu is short", off);
				return -1;
			}
			if (nifs == MAX_IFACES) {
				snprintf(err, errlen, "more than %d interfaces", MAX_IFACES);
				return -1;
			}
			struct iface *f = &ifs[nifs++];
			f->linktype = get16(&r, body);
			if (nifs == 1 && !t->linktype)
				t->linktype = f->linktype;
			if (iface_resolution(&r, body + 8, end, &f->units) != 0) {
				snprintf(err, errlen,
				         "interface %zu: a timestamp resolution finer than "
				         "a nanosecond",
				         nifs - 1);
				return -1;
			}
		} else if (type == 6 || type == 3) { /* enhanced, simple packet */
			size_t hdr = type == 6 ? 20 : 4;
			if (end - body < hdr) {
				snprintf(err, errlen, "pcapng packet block at byte %zu is short",
				         off);
				return -1;
			}
			uint32_t id = type == 6 ? get32(&r, body) : 0;
			if (id >= nifs) {
				snprintf(err, errlen,
				         "pcapng packet block at byte %zu names interface %u "
				         "(the section describes %zu)",
				         off, id, nifs);
				return -1;
			}
			uint32_t incl;
			uint64_t ns = 0;
			if (type == 6) {
				incl = get32(&r, body + 12);
				uint64_t ts =
				    ((uint64_t)get32(&r, body + 4) << 32) | get32(&r, body + 8);
				uint64_t u = ifs[id].units;
				ns = ts / u * 1000000000u + ts % u * 1000000000u / u;
			} else {
				incl = get32(&r, body);
				if (incl > end - body - hdr)
					incl = (uint32_t)(end - body - hdr);
			}
			if (incl > MAX_RECORD || incl > end - body - hdr) {
				snprintf(err, errlen,
				         "pcapng packet at byte %zu claims %u bytes (its block "
				         "holds %zu)",
				         off, incl, end - body - hdr);
				return -1;
			}
			if (!linktype_known(ifs[id].linktype))
				return bad_linktype(ifs[id].linktype, err, errlen);
			if (add_frame(t, &cap, ns, ifs[id].linktype, buf + body + hdr, incl, err,
			              errlen))
				return -1;
		}
		off += blen;
	}
	return 0;
}

int pcap_trace_read(const uint8_t *buf, size_t len, struct pcap_trace *t, char *err, size_t errlen)
{
	memset(t, 0, sizeof(*t));
	if (len < 4) {
		snprintf(err, errlen, "not a capture: %zu bytes", len);
		return -1;
	}
	uint32_t m = be32(buf);
	int rc;
	if (m == 0x0a0d0d0a) {
		rc = read_pcapng(buf, len, t, err, errlen);
	} else if (m == 0xa1b2c3d4 || m == 0xd4c3b2a1 || m == 0xa1b23c4d || m == 0x4d3cb2a1) {
		rc = read_classic(buf, len, t, err, errlen);
	} else {
		snprintf(
		    err, errlen,
		    "not a pcap or pcapng file (magic %02x%02x%02x%02x; tcpdump -w and tshark -w "
		    "write them)",
		    buf[0], buf[1], buf[2], buf[3]);
		rc = -1;
	}
	if (rc != 0) {
		free(t->seg);
		t->seg = NULL;
		t->n = 0;
	}
	return rc;
}

int pcap_trace_load(const char *path, struct pcap_trace *t, char *err, size_t errlen)
{
	memset(t, 0, sizeof(*t));
	if (errlen)
		err[0] = '\0';
	FILE *f = fopen(path, "rb");
	if (!f) {
		snprintf(err, errlen, "cannot open '%s': %s", path, strerror(errno));
		return -1;
	}
	size_t cap = 65536, n = 0;
	uint8_t *buf = malloc(cap);
	int rc = -1;
	while (buf) {
		if (n == cap) {
			if (cap >= PCAP_READ_MAX_FILE) {
				snprintf(err, errlen, "'%s' is larger than %u MiB", path,
				         PCAP_READ_MAX_FILE >> 20);
				break;
			}
			uint8_t *nb = realloc(buf, cap * 2);
			if (!nb)
				break;
			buf = nb;
			cap *= 2;
		}
		size_t got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (got == 0) {
			if (ferror(f))
				snprintf(err, errlen, "cannot read '%s': %s", path,
				         strerror(errno));
			else
				rc = 0;
			break;
		}
	}
	if (!buf || (rc != 0 && !err[0]))
		snprintf(err, errlen, "out of memory reading '%s'", path);
	fclose(f);
	if (rc == 0) {
		char why[400];
		rc = pcap_trace_read(buf, n, t, why, sizeof(why));
		if (rc != 0)
			snprintf(err, errlen, "%s: %s", path, why);
	}
	if (rc != 0) {
		free(buf);
		return -1;
	}
	t->buf = buf;
	return 0;
}

void pcap_trace_free(struct pcap_trace *t)
{
	if (!t)
		return;
	free(t->seg);
	free(t->buf);
	memset(t, 0, sizeof(*t));
}
