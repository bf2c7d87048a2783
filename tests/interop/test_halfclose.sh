#!/usr/bin/env bash
# Half-close both ways between synack connect and Linux servers:
#  1. synack sends 1 MiB and shuts down its sending side; the server reads
#     to EOF and only then answers with 1 MiB and closes: synack receives it
#     in FIN_WAIT_2 (the pcap shows Linux's data after synack's FIN);
#  2. the server sends 1 MiB and shuts down its sending side at once, then
#     reads to EOF; synack (--wait-eof) reads to the FIN, sends 10 MiB in
#     CLOSE_WAIT (the pcap shows synack's data after Linux's FIN), closes.
# Both directions are checked byte for byte; the pcaps are clean.
# Usage: test_halfclose.sh PATH_TO_SYNACK
set -u
. "$(dirname "$0")/lib.sh"
it_init halfclose "${1:-}" sha256sum tshark
it_dev tap
mib=1048576
want1=$(python3 "$IT_PEER" body-hash $mib)
want10=$(python3 "$IT_PEER" body-hash $((10 * mib)))

# Data segments from SRC after the first FIN from the other end.
data_after_fin() { # PCAP SRC OTHER
	local fin
	fin=$(tshark -n -r "$1" -Y "ip.src == $3 && tcp.flags.fin == 1" -T fields -e frame.number 2>/dev/null | head -n 1)
	[ -n "$fin" ] || { echo 0; return; }
	tshark -n -r "$1" -Y "frame.number > $fin && ip.src == $2 && tcp.len > 0" -T fields -e frame.number 2>/dev/null | wc -l
}

# 1. synack half-closes.
it_peer_server s1 "$IT_LINUX" 5011 reply-after-eof $mib
it_connect c1 "$IT_LINUX:5011" --send-bytes 1MiB --output "$IT_TMP/got1" --pcap "$IT_TMP/halfclose-synack.pcap"
it_peer_wait
if [ "$CONNECT_RC" -eq 0 ]; then ok; else bad "1: connect exited $CONNECT_RC: $(tail -n 3 "$IT_TMP/c1.err")"; fi
if [ "$(kv received "$IT_TMP/s1.out")" = $mib ] && [ "$(kv sha256 "$IT_TMP/s1.out")" = "$want1" ]; then
	ok
else
	bad "1: Linux received $(cat "$IT_TMP/s1.out")"
fi
got=$(sha256sum <"$IT_TMP/got1" | cut -d' ' -f1)
if [ "$got" = "$want1" ]; then ok; else bad "1: synack received $(stat -c %s "$IT_TMP/got1") bytes, sha256 $got"; fi
tr1=$(it_transitions "$IT_TMP/c1.err")
if grep -q 'ESTABLISHED->FIN_WAIT_1 .*FIN_WAIT_1->FIN_WAIT_2 .*FIN_WAIT_2->TIME_WAIT' <<<"$tr1"; then ok; else bad "1: synack's states: $tr1"; fi
if [ "$(it_connect_summary c1)" = "synack connect: sent $mib bytes, received $mib bytes, final state TIME_WAIT" ]; then
	ok
else
	bad "1: summary '$(it_connect_summary c1)'"
fi
n=$(data_after_fin "$IT_TMP/halfclose-synack.pcap" "$IT_LINUX" "$IT_SYNACK")
if [ "$n" -gt 0 ]; then ok; else bad "1: no data from Linux after synack's FIN in the pcap"; fi
note "1. synack half-closes: $n Linux data segments after synack's FIN; $tr1"

# 2. Linux half-closes.
it_peer_server s2 "$IT_LINUX" 5012 halfclose-send $mib
it_connect c2 "$IT_LINUX:5012" --send-bytes 10MiB --wait-eof --output "$IT_TMP/got2" --pcap "$IT_TMP/halfclose-linux.pcap"
it_peer_wait
if [ "$CONNECT_RC" -eq 0 ]; then ok; else bad "2: connect exited $CONNECT_RC: $(tail -n 3 "$IT_TMP/c2.err")"; fi
if [ "$(kv received "$IT_TMP/s2.out")" = $((10 * mib)) ] && [ "$(kv sha256 "$IT_TMP/s2.out")" = "$want10" ]; then
	ok
else
	bad "2: Linux received $(cat "$IT_TMP/s2.out")"
fi
got=$(sha256sum <"$IT_TMP/got2" | cut -d' ' -f1)
if [ "$got" = "$want1" ]; then ok; else bad "2: synack received $(stat -c %s "$IT_TMP/got2") bytes, sha256 $got"; fi
tr2=$(it_transitions "$IT_TMP/c2.err")
if grep -q 'ESTABLISHED->CLOSE_WAIT .*CLOSE_WAIT->LAST_ACK .*LAST_ACK->CLOSED' <<<"$tr2"; then ok; else bad "2: synack's states: $tr2"; fi
if [ "$(it_connect_summary c2)" = "synack connect: sent $((10 * mib)) bytes, received $mib bytes, final state CLOSED" ]; then
	ok
else
	bad "2: summary '$(it_connect_summary c2)'"
fi
n=$(data_after_fin "$IT_TMP/halfclose-linux.pcap" "$IT_SYNACK" "$IT_LINUX")
if [ "$n" -gt 0 ]; then ok; else bad "2: no data from synack after Linux's FIN in the pcap"; fi
note "2. Linux half-closes: $n synack data segments after Linux's FIN; $tr2"

if it_wait_no_kernel_stuck 5; then ok; else bad "kernel sockets stuck: $(it_ss_states close-wait fin-wait-1 fin-wait-2)"; fi
it_pcap_check "$IT_TMP"/halfclose-*.pcap
it_finish
