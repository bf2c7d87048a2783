#!/usr/bin/env bash
# synack connect as the client of Linux servers (python sockets):
#  1. synack sends 10 MiB and closes first (shutdown after the data): the
#     server reads to EOF and closes; synack goes FIN_WAIT_1 -> FIN_WAIT_2
#     -> TIME_WAIT and the server's bytes hash as the pattern;
#  2. synack sends 10 MiB, the server reads exactly that and closes first;
#     synack (--wait-eof) goes CLOSE_WAIT -> LAST_ACK -> CLOSED and the
#     kernel's socket is in TIME_WAIT;
#  3. the server sends 10 MiB and closes first; synack's --output hashes as
#     the pattern.
# Every pcap is clean.
# Usage: test_connect.sh PATH_TO_SYNACK
set -u
. "$(dirname "$0")/lib.sh"
it_init connect "${1:-}" sha256sum
it_dev tap
mib10=10485760
want=$(python3 "$IT_PEER" body-hash $mib10)

# has_transitions LOG "A->B" ...: every transition appears, in this order.
has_transitions() {
	local log=$1 got
	shift
	got=" $(it_transitions "$IT_TMP/$log.err")"
	local pat=" $*"
	pat=${pat// / .*}
	grep -q -- "${pat# .\*}" <<<"$got"
}

# 1. synack closes first.
it_peer_server sink1 "$IT_LINUX" 5001 sink
t0=$(date +%s.%N)
it_connect c1 "$IT_LINUX:5001" --send-bytes 10MiB --pcap "$IT_TMP/connect-close-first.pcap"
t1=$(date +%s.%N)
it_peer_wait
if [ "$CONNECT_RC" -eq 0 ]; then ok; else bad "1: connect exited $CONNECT_RC: $(tail -n 3 "$IT_TMP/c1.err")"; fi
if [ "$(kv received "$IT_TMP/sink1.out")" = $mib10 ] && [ "$(kv sha256 "$IT_TMP/sink1.out")" = "$want" ]; then
	ok
else
	bad "1: Linux received $(cat "$IT_TMP/sink1.out"), want $mib10 bytes sha256 $want"
fi
if has_transitions c1 "CLOSED->SYN_SENT" "SYN_SENT->ESTABLISHED" "ESTABLISHED->FIN_WAIT_1" \
	"FIN_WAIT_1->FIN_WAIT_2" "FIN_WAIT_2->TIME_WAIT"; then
	ok
else
	bad "1: synack's states: $(it_transitions "$IT_TMP/c1.err")"
fi
if [ "$(it_connect_summary c1)" = "synack connect: sent $mib10 bytes, received 0 bytes, final state TIME_WAIT" ]; then
	ok
else
	bad "1: summary '$(it_connect_summary c1)'"
fi
note "1. synack sends 10 MiB, closes first: $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }') s; $(it_transitions "$IT_TMP/c1.err")"

# 2. Linux closes first after reading 10 MiB.
it_peer_server read2 "$IT_LINUX" 5002 read-n $mib10
it_connect c2 "$IT_LINUX:5002" --send-bytes $mib10 --wait-eof --pcap "$IT_TMP/connect-linux-closes.pcap"
it_peer_wait
if [ "$CONNECT_RC" -eq 0 ]; then ok; else bad "2: connect exited $CONNECT_RC: $(tail -n 3 "$IT_TMP/c2.err")"; fi
if [ "$(kv received "$IT_TMP/read2.out")" = $mib10 ] && [ "$(kv sha256 "$IT_TMP/read2.out")" = "$want" ]; then
	ok
else
	bad "2: Linux received $(cat "$IT_TMP/read2.out")"
fi
if has_transitions c2 "SYN_SENT->ESTABLISHED" "ESTABLISHED->CLOSE_WAIT" "CLOSE_WAIT->LAST_ACK" "LAST_ACK->CLOSED"; then
	ok
else
	bad "2: synack's states: $(it_transitions "$IT_TMP/c2.err")"
fi
if [ "$(it_connect_summary c2)" = "synack connect: sent $mib10 bytes, received 0 bytes, final state CLOSED" ]; then
	ok
else
	bad "2: summary '$(it_connect_summary c2)'"
fi
if it_ss_states time-wait | grep -q "$IT_LINUX:5002 "; then ok; else bad "2: the kernel's socket is not in TIME_WAIT: $(ns ss -Htan)"; fi
note "2. synack sends 10 MiB, Linux closes first: $(it_transitions "$IT_TMP/c2.err")"

# 3. Linux sends 10 MiB and closes first.
it_peer_server send3 "$IT_LINUX" 5003 send-close $mib10
it_connect c3 "$IT_LINUX:5003" --wait-eof --output "$IT_TMP/got3" --pcap "$IT_TMP/connect-receive.pcap"
it_peer_wait
if [ "$CONNECT_RC" -eq 0 ]; then ok; else bad "3: connect exited $CONNECT_RC: $(tail -n 3 "$IT_TMP/c3.err")"; fi
got=$(sha256sum <"$IT_TMP/got3" | cut -d' ' -f1)
if [ "$got" = "$want" ]; then ok; else bad "3: synack's output: $(stat -c %s "$IT_TMP/got3") bytes, sha256 $got"; fi
if has_transitions c3 "ESTABLISHED->CLOSE_WAIT" "CLOSE_WAIT->LAST_ACK" "LAST_ACK->CLOSED"; then
	ok
else
	bad "3: synack's states: $(it_transitions "$IT_TMP/c3.err")"
fi
if [ "$(it_connect_summary c3)" = "synack connect: sent 0 bytes, received $mib10 bytes, final state CLOSED" ]; then
	ok
else
	bad "3: summary '$(it_connect_summary c3)'"
fi
note "3. Linux sends 10 MiB and closes first: $(it_transitions "$IT_TMP/c3.err")"

if it_wait_no_kernel_stuck 5; then ok; else bad "kernel sockets stuck: $(it_ss_states close-wait fin-wait-1 fin-wait-2)"; fi
it_pcap_check "$IT_TMP"/connect-*.pcap
it_finish
