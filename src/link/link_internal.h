/*
 * For the tests and the fuzz targets only: what a wrapped descriptor
 * cannot say for itself.
 */
#ifndef SYNACK_LINK_INTERNAL_H
#define SYNACK_LINK_INTERNAL_H

#include "synack/link.h"

/* Frames on the link's descriptor carry a virtio_net_hdr (as on a TUN/TAP
 * descriptor opened with IFF_VNET_HDR), with the offloads of its
 * configuration: a SOCK_DGRAM socketpair then stands in for the device. */
void link_set_vnet(struct synack_link *l, int vnet);

#endif
