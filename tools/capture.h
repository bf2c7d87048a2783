/*
 * Captures of a simulated run (`--pcap FILE` of `synack demo` and `synack
 * transfer`): one classic pcap file with both hosts' traffic as seen on the
 * simulated wire, LINKTYPE_RAW (each record one IPv4 datagram), stamped with
 * the virtual time.  Each datagram is written once, at the moment it left
 * its sender (as a capture on the sender's interface shows it), so a
 * datagram the network lost is in the file and a copy the network made
 * (--dup) is not; a datagram a scenario injected from no host is written
 * when it arrives.  Every datagram a host received was sent by the other
 * host or injected, so the file holds everything either host sent or
 * received.
 *
 * It is fed by the simulator's tap (synack_sim_set_tap), directly
 * (capture_tap_fn) or from a tap that does more (the demo engine's).  It
 * can also remember the TCP headers of the datagrams the network lost, for
 * pictures of runs that have no other record of their fates.
 */
#ifndef SYNACK_TOOLS_CAPTURE_H
#define SYNACK_TOOLS_CAPTURE_H

#include <stddef.h>
#include <stdint.h>

#include "render.h"

struct capture;

/*
 * A capture writing to path (NULL: none, only the losses are kept when
 * keep_lost).  Returns NULL with a sentence in err when the file cannot be
 * created or memory runs out.
 */
struct capture *capture_open(const char *path, int keep_lost, char *err, size_t errlen);
/* What the simulator's tap reports (enum synack_sim_tap_event). */
void capture_tap(struct capture *c, int event, int from, int to, const uint8_t *pkt, size_t len,
                 uint64_t now);
/* capture_tap with the signature of synack_sim_tap_fn; ctx is the capture. */
void capture_tap_fn(void *ctx, int event, int from, int to, const uint8_t *pkt, size_t len,
                    uint64_t now);
/*
 * Marks lost each TX record of the log (sorted) whose datagram the network
 * lost: host_of_sim maps a simulator host index to DEMO_CLIENT or
 * DEMO_SERVER (sim_hosts entries).
 */
void capture_mark_lost(const struct capture *c, struct render_log *log, const int *host_of_sim,
                       int sim_hosts);
/* Datagrams written so far. */
uint64_t capture_records(const struct capture *c);
/* Closes the file and frees c (NULL is ignored).  Returns 0, or -1 with a
 * sentence in err when a write failed. */
int capture_close(struct capture *c, char *err, size_t errlen);

#endif
