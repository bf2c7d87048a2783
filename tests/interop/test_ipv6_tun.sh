#!/usr/bin/env bash
# test_ipv6.sh over a TUN device (raw IPv6 by the version nibble, no
# neighbour discovery).
# Usage: test_ipv6_tun.sh PATH_TO_SYNACK
IT_VARIANT=tun exec bash "$(dirname "$0")/test_ipv6.sh" "$@"
