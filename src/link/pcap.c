/*
 * Classic pcap: a 24-byte file header, then per record a 16-byte header
 * (seconds, microseconds, captured length, original length) and the bytes.
 * Fields are written in the host's byte order, which readers recognise from
 * the magic number, as libpcap itself does.
 */
#include "synack/pcap.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct synack_pcap {
	FILE *f;
	uint32_t snaplen;
	uint64_t records;
	int error; /* first write error, reported by flush and close */
};

static int write_all(struct synack_pcap *p, const void *data, size_t len)
{
	if (len && fwrite(data, 1, len, p->f) != len) {
		int err = errno ? -errno : -EIO;
		if (!p->error)
			p->error = err;
		return err;
	}
	return 0;
}

struct synack_pcap *synack_pcap_open(const char *path, uint32_t linktype, uint32_t snaplen,
                                     int *error)
{
	int dummy;
	if (!error)
		error = &dummy;
	if (!path || !*path) {
		*error = -EINVAL;
		return NULL;
	}
	struct synack_pcap *p = calloc(1, sizeof(*p));
	if (!p) {
		*error = -ENOMEM;
		return NULL;
	}
	p->snaplen = snaplen ? snaplen : 65535;
	p->f = fopen(path, "wb");
	if (!p->f) {
		*error = errno ? -errno : -EIO;
		free(p);
		return NULL;
	}
	/* magic, version 2.4 (two 16-bit fields), thiszone, sigfigs, snaplen,
	 * link type. */
	uint32_t hdr[6] = {0xa1b2c3d4u, 0, 0, 0, p->snaplen, linktype};
	uint16_t ver[2] = {2, 4};
	memcpy(&hdr[1], ver, sizeof(ver));
	if (write_all(p, hdr, sizeof(hdr)) != 0 || fflush(p->f) != 0) {
		*error = p->error ? p->error : -EIO;
		fclose(p->f);
		free(p);
		return NULL;
	}
	*error = 0;
	return p;
}

int synack_pcap_write(struct synack_pcap *p, uint64_t t_us, const void *data, size_t len)
{
	if (!p || (!data && len))
		return -EINVAL;
	uint32_t caplen = len > p->snaplen ? p->snaplen : (uint32_t)len;
	uint32_t rec[4] = {(uint32_t)(t_us / 1000000), (uint32_t)(t_us % 1000000), caplen,
	                   len > UINT32_MAX ? UINT32_MAX : (uint32_t)len};
	int err = write_all(p, rec, sizeof(rec));
	if (!err)
		err = write_all(p, data, caplen);
	if (!err)
		p->records++;
	return err;
}

int synack_pcap_flush(struct synack_pcap *p)
{
	if (!p)
		return -EINVAL;
	if (fflush(p->f) != 0 && !p->error)
		p->error = errno ? -errno : -EIO;
	return p->error;
}

uint64_t synack_pcap_records(const struct synack_pcap *p)
{
	return p ? p->records : 0;
}

int synack_pcap_close(struct synack_pcap *p)
{
	if (!p)
		return 0;
	int err = synack_pcap_flush(p);
	if (fclose(p->f) != 0 && !err)
		err = errno ? -errno : -EIO;
	free(p);
	return err;
}
