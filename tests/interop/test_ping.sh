#!/usr/bin/env bash
# Linux's ping gets echo replies from synack serve, over TAP and over TUN;
# the pcaps hold the replies and are clean.
# Usage: test_ping.sh PATH_TO_SYNACK
set -u
. "$(dirname "$0")/lib.sh"
it_init ping "${1:-}" ping tshark

for variant in tap tun; do
	it_dev "$variant"
	it_serve serve-$variant --app discard --pcap "$IT_TMP/ping-$variant.pcap"
	ns ping -c 5 -i 0.2 -W 2 "$IT_SYNACK" >"$IT_TMP/ping-$variant.out" 2>&1
	rc=$?
	if [ $rc -eq 0 ] && grep -q ' 5 received' "$IT_TMP/ping-$variant.out"; then
		ok
	else
		bad "ping over $variant (exit $rc): $(tail -n 2 "$IT_TMP/ping-$variant.out")"
	fi
	note "ping over $variant: $(grep -E 'received|rtt' "$IT_TMP/ping-$variant.out" | tr '\n' ' ')"
	it_serve_stop serve-$variant
	n=$(tshark -n -r "$IT_TMP/ping-$variant.pcap" -Y "ip.src == $IT_SYNACK && icmp.type == 0" 2>/dev/null | wc -l)
	if [ "$n" -eq 5 ]; then ok; else bad "$variant: $n echo replies in the pcap, want 5"; fi
	ip -n "$IT_NS" link del "$IT_DEV"
done
it_pcap_check "$IT_TMP"/ping-*.pcap
it_finish
