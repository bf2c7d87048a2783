#!/usr/bin/env bash
# Large pings: Linux's ping sends echo requests that do not fit the MTU
# in fragments (-s 1473 and up at MTU 1500), synack serve reassembles
# them (RFC 791 3.2) and answers in fragments that the kernel reassembles
# in turn; over TAP and over TUN.  The pcaps are clean and the stats
# count the reassemblies.
# Usage: test_ping_frag.sh PATH_TO_SYNACK
set -u
. "$(dirname "$0")/lib.sh"
it_init ping_frag "${1:-}" ping tshark

for variant in tap tun; do
	it_dev "$variant"
	it_serve serve-$variant --app discard --pcap "$IT_TMP/ping-frag-$variant.pcap"
	for size in 1472 3000 8000; do
		out=$IT_TMP/ping-$variant-$size.out
		ns ping -c 3 -i 0.2 -W 2 -s "$size" "$IT_SYNACK" >"$out" 2>&1
		rc=$?
		if [ $rc -eq 0 ] && grep -q ' 3 received' "$out"; then
			ok
		else
			bad "ping -s $size over $variant (exit $rc): $(tail -n 2 "$out")"
		fi
		# Every reply is whole: ping reports the size it got back.
		n=$(grep -c "^$((size + 8)) bytes from $IT_SYNACK" "$out")
		if [ "$n" -eq 3 ]; then ok; else bad "ping -s $size over $variant: $n full-size replies, want 3"; fi
		note "ping -s $size over $variant: $(grep -E 'received' "$out")"
	done
	it_serve_stop serve-$variant
	counters_of "$IT_TMP/serve-$variant.out" >"$IT_TMP/counters-$variant"
	# 1472 bytes fit one datagram; 3000 and 8000 come in 3 and 6 fragments.
	oks=$(value_of IpReasmOKs "$IT_TMP/counters-$variant")
	fails=$(value_of IpReasmFails "$IT_TMP/counters-$variant")
	if [ "$oks" = 6 ] && [ "$fails" = 0 ]; then
		ok
	else
		bad "$variant: IpReasmOKs $oks (want 6), IpReasmFails $fails (want 0)"
	fi
	# Our replies to the fragmented requests left in fragments.
	n=$(tshark -n -r "$IT_TMP/ping-frag-$variant.pcap" -Y "ip.src == $IT_SYNACK && ip.flags.mf == 1" 2>/dev/null | wc -l)
	if [ "$n" -eq $((3 * 2 + 3 * 5)) ]; then ok; else bad "$variant: $n first and middle fragments from synack in the pcap, want 21"; fi
	ip -n "$IT_NS" link del "$IT_DEV"
done
it_pcap_check "$IT_TMP"/ping-frag-*.pcap
it_finish
