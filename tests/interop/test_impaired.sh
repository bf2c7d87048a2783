#!/usr/bin/env bash
# curl fetches 10 MiB from synack serve while synack's link loses 2 % of
# the datagrams and reorders 2 %, each way (--loss 0.02 --reorder 0.02):
# the body still arrives intact (sha256), the pcap shows the repair
# (retransmissions, duplicate ACKs or out-of-order segments) and is clean.
# Usage: test_impaired.sh PATH_TO_SYNACK
set -u
. "$(dirname "$0")/lib.sh"
it_init impaired "${1:-}" curl sha256sum tshark
it_dev tap

it_serve serve --app http --http-size 10MiB --loss 0.02 --reorder 0.02 --seed 7 --pcap "$IT_TMP/impaired.pcap"
t0=$(date +%s.%N)
ns curl -sS --max-time 240 -o "$IT_TMP/body" "http://$IT_SYNACK/lossy"
rc=$?
t1=$(date +%s.%N)
if [ $rc -eq 0 ]; then ok; else bad "curl exited $rc"; fi
want=$(python3 "$IT_PEER" body-hash 10485760)
got=$(sha256sum <"$IT_TMP/body" | cut -d' ' -f1)
if [ "$got" = "$want" ]; then ok; else bad "10 MiB over a lossy link: $(stat -c %s "$IT_TMP/body") bytes, sha256 $got"; fi
it_serve_stop serve
repairs=$(tshark -n -r "$IT_TMP/impaired.pcap" \
	-Y 'tcp.analysis.retransmission || tcp.analysis.fast_retransmission || tcp.analysis.duplicate_ack || tcp.analysis.out_of_order || tcp.analysis.lost_segment' \
	2>/dev/null | wc -l)
if [ "$repairs" -gt 0 ]; then ok; else bad "the pcap shows no loss or reordering: was the impairment applied?"; fi
note "10 MiB with 2 % loss and reordering: $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }') s, $repairs frames of loss repair or reordering in the pcap"
it_pcap_check "$IT_TMP/impaired.pcap"
it_finish
