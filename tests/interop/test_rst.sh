#!/usr/bin/env bash
# RST paths between synack connect and Linux:
#  1. a closed Linux port: Linux answers the SYN with a RST, connect exits 1
#     with ECONNREFUSED (over TAP and over TUN);
#  2. a Linux server reads the 1000 bytes synack sends, then closes with
#     SO_LINGER 0: Linux sends a RST instead of a FIN, and synack, still
#     waiting for the peer's FIN (--wait-eof), exits 1 with ECONNRESET.
# The pcaps show the RSTs from Linux and are clean.
# Usage: test_rst.sh PATH_TO_SYNACK
set -u
. "$(dirname "$0")/lib.sh"
it_init rst "${1:-}" tshark

rsts_from_linux() { # PCAP
	tshark -n -r "$1" -Y "ip.src == $IT_LINUX && tcp.flags.reset == 1" -T fields -e frame.number 2>/dev/null | wc -l
}

for variant in tap tun; do
	it_dev "$variant"
	it_connect refused-$variant "$IT_LINUX:5031" --send-bytes 10 --pcap "$IT_TMP/rst-refused-$variant.pcap"
	if [ "$CONNECT_RC" -eq 1 ]; then ok; else bad "1 ($variant): connect to a closed port exited $CONNECT_RC"; fi
	if grep -q ECONNREFUSED "$IT_TMP/refused-$variant.err"; then ok; else bad "1 ($variant): no ECONNREFUSED: $(cat "$IT_TMP/refused-$variant.err")"; fi
	if grep -q '^state SYN_SENT -> CLOSED ' "$IT_TMP/refused-$variant.err"; then ok; else bad "1 ($variant): states: $(it_transitions "$IT_TMP/refused-$variant.err")"; fi
	n=$(rsts_from_linux "$IT_TMP/rst-refused-$variant.pcap")
	if [ "$n" -ge 1 ]; then ok; else bad "1 ($variant): no RST from Linux in the pcap"; fi
	note "1. refused over $variant: exit $CONNECT_RC, $(grep -m1 ECONNREFUSED "$IT_TMP/refused-$variant.err")"
	ip -n "$IT_NS" link del "$IT_DEV"
done

it_dev tap
it_peer_server abort "$IT_LINUX" 5032 abort-after 1000
it_connect reset "$IT_LINUX:5032" --send-bytes 1000 --wait-eof --pcap "$IT_TMP/rst-linger0.pcap"
it_peer_wait
if [ "$(kv received "$IT_TMP/abort.out")" = 1000 ]; then ok; else bad "2: Linux received $(cat "$IT_TMP/abort.out")"; fi
if [ "$CONNECT_RC" -eq 1 ]; then ok; else bad "2: connect exited $CONNECT_RC after Linux's abort"; fi
if grep -q ECONNRESET "$IT_TMP/reset.err"; then ok; else bad "2: no ECONNRESET: $(cat "$IT_TMP/reset.err")"; fi
if grep -q '^state ESTABLISHED -> CLOSED ' "$IT_TMP/reset.err"; then ok; else bad "2: states: $(it_transitions "$IT_TMP/reset.err")"; fi
n=$(rsts_from_linux "$IT_TMP/rst-linger0.pcap")
fins=$(tshark -n -r "$IT_TMP/rst-linger0.pcap" -Y "ip.src == $IT_LINUX && tcp.flags.fin == 1" 2>/dev/null | wc -l)
if [ "$n" -ge 1 ] && [ "$fins" -eq 0 ]; then ok; else bad "2: Linux sent $n RSTs and $fins FINs, want a RST and no FIN"; fi
note "2. SO_LINGER 0: exit $CONNECT_RC, $(grep -m1 ECONNRESET "$IT_TMP/reset.err")"

it_pcap_check "$IT_TMP"/rst-*.pcap
it_finish
