/*
 * A classic pcap file writer (the format tcpdump, tshark and wireshark read:
 * magic a1b2c3d4, version 2.4, microsecond timestamps).  Links use it for
 * --pcap; anything else may too (a simulated network's tap, a test).
 */
#ifndef SYNACK_PCAP_H
#define SYNACK_PCAP_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#pragma GCC visibility push(default) /* the API; the rest of libsynack is hidden */
#endif

#define SYNACK_PCAP_LINKTYPE_ETHERNET 1 /* Ethernet frames (TAP) */
#define SYNACK_PCAP_LINKTYPE_RAW 101    /* raw IPv4/IPv6 datagrams (TUN) */

struct synack_pcap;

/*
 * Creates (or truncates) path and writes the file header with the given
 * link type; records longer than snaplen are cut (0 means 65535).  Returns
 * NULL and sets *error (when not NULL) to -EINVAL (path NULL or empty),
 * -ENOMEM, or the errno of fopen(3) or fwrite(3) negated (-EACCES, -ENOENT,
 * -ENOSPC ...; -EIO when they set none).
 */
struct synack_pcap *synack_pcap_open(const char *path, uint32_t linktype, uint32_t snaplen,
                                     int *error);
/* Appends one record stamped t_us microseconds since the Unix epoch.
 * Returns 0, -EINVAL (p NULL, or data NULL with len > 0), or the negated
 * errno of fwrite(3) (-EIO when it sets none); the record is then lost. */
int synack_pcap_write(struct synack_pcap *p, uint64_t t_us, const void *data, size_t len);
/* Pushes buffered records to the file.  Returns 0, -EINVAL (p NULL), or the
 * first write error since the file was opened (a negated errno, -EIO when
 * the C library set none). */
int synack_pcap_flush(struct synack_pcap *p);
/* Records written since the file was opened. */
uint64_t synack_pcap_records(const struct synack_pcap *p);
/* Flushes, closes and frees p (NULL is ignored).  Returns 0 or the first
 * write error as synack_pcap_flush() reports it, else the negated errno of
 * fclose(3). */
int synack_pcap_close(struct synack_pcap *p);

#if defined(__GNUC__)
#pragma GCC visibility pop
#endif

#ifdef __cplusplus
}
#endif

#endif
