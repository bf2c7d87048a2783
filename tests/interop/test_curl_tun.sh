#!/usr/bin/env bash
# test_curl_tap.sh over a TUN device (raw IPv4, no ARP).
# Usage: test_curl_tun.sh PATH_TO_SYNACK
IT_VARIANT=tun exec bash "$(dirname "$0")/test_curl_tap.sh" "$@"
