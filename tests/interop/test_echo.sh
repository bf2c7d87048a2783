#!/usr/bin/env bash
# A Linux client (python sockets) sends 1 MiB of random bytes to
# `synack serve --app echo` while reading, half-closes, and must read back
# exactly what it sent; synack then closes (it finishes echoing after the
# client's FIN).  The pcap is clean.  A third, longer echo shows RFC 7323
# from the kernel's side (ss -ti: ts, wscale) and in tshark.
# Usage: test_echo.sh PATH_TO_SYNACK
set -u
. "$(dirname "$0")/lib.sh"
it_init echo "${1:-}"
it_dev tap

it_serve serve --app echo --pcap "$IT_TMP/echo.pcap" --stats-every 0.5
want_ready="synack serve: listening on $IT_SYNACK:7 (dev tap0, tap, app echo)"
if [ "$(head -n 1 "$IT_TMP/serve.out")" = "$want_ready" ]; then ok; else bad "ready line: $(head -n 1 "$IT_TMP/serve.out")"; fi
for seed in 1 2; do
	ns timeout 150 python3 "$IT_PEER" echo "$IT_SYNACK" 7 1048576 "$seed" >"$IT_TMP/echo.out" 2>"$IT_TMP/echo.err"
	rc=$?
	if [ $rc -eq 0 ]; then ok; else bad "echo of 1 MiB (seed $seed): $(cat "$IT_TMP/echo.err")"; fi
	note "echo seed $seed: $(cat "$IT_TMP/echo.out")"
done
# RFC 7323 seen from the kernel: while a longer echo runs, `ss -ti` on the
# kernel's socket shows the timestamps and both window scales it agreed on
# with synack (ours is 7: rmem_max 6 MiB).  The client holds the connection
# idle for 3 s before sending: with the device's offloads the 32 MiB take a
# fraction of a second, shorter than ss may need to start on a loaded machine.
ns timeout 150 python3 "$IT_PEER" echo "$IT_SYNACK" 7 33554432 3 3 >"$IT_TMP/echo3.out" 2>"$IT_TMP/echo3.err" &
echo_pid=$!
kinfo=
for _ in $(seq 1 400); do
	kinfo=$(ns ss -tinH state established dst "$IT_SYNACK" 2>/dev/null | tr '\n' ' ')
	case $kinfo in *wscale:*) break ;; esac
	sleep 0.025
done
wait "$echo_pid"
rc=$?
if [ $rc -eq 0 ]; then ok; else bad "echo of 32 MiB (seed 3): $(cat "$IT_TMP/echo3.err")"; fi
# This ss prints no "ts" for any connection (kernel to kernel on loopback
# neither), so the timestamps show as the kernel's MSS: 1448 is 1500 less
# 40 bytes of headers and 12 of timestamps, which it takes off only when
# both SYNs carried them (1460 otherwise).
if grep -Eq '(^| )ts( |$)| mss:1448 ' <<<"$kinfo"; then ok; else bad "kernel ss -ti shows no timestamps (ts, mss:1448): $kinfo"; fi
if grep -Eq 'wscale:7,[0-9]+' <<<"$kinfo"; then ok; else bad "kernel ss -ti shows no wscale:7,N: $kinfo"; fi
note "kernel's view: $(grep -Eo '( ts | sack |wscale:[0-9,]+| mss:[0-9]+|rcv_space:[0-9]+)' <<<"$kinfo" | tr -s ' \n' ' ')"
# The client closed last: synack's side ends CLOSED (LAST_ACK acknowledged),
# the kernel's in TIME_WAIT; nothing is left but the listener.
if it_wait_summary serve 'connections? \(LISTEN 1\)$' 10; then ok; else bad "synack still has: $(it_last_summary serve)"; fi
if it_wait_no_kernel_stuck 10; then ok; else bad "kernel sockets stuck: $(it_ss_states close-wait fin-wait-1 fin-wait-2)"; fi
tw=$(it_ss_states time-wait | grep -c "$IT_SYNACK:7 *$")
if [ "$tw" -eq 3 ]; then ok; else bad "kernel has $tw TIME_WAIT sockets to $IT_SYNACK:7, want 3"; fi
it_serve_stop serve
it_pcap_check "$IT_TMP/echo.pcap"
# tshark reads synack's SYN-ACKs with their window scale and timestamps
# (and, above, finds no malformed option in any frame).
if command -v tshark >/dev/null 2>&1; then
	n=$(tshark -n -r "$IT_TMP/echo.pcap" -Y "ip.src == $IT_SYNACK && tcp.flags.syn == 1 && tcp.options.wscale.shift == 7 && tcp.options.timestamp.tsval" 2>/dev/null | wc -l)
	if [ "$n" -eq 3 ]; then ok; else bad "tshark found $n SYN-ACKs from synack with wscale 7 and TS, want 3"; fi
	# Every segment after the handshake carries timestamps, both ways
	# (RFC 7323 3.2), but RSTs.
	n=$(tshark -n -r "$IT_TMP/echo.pcap" -Y "tcp && tcp.flags.reset == 0 && !tcp.options.timestamp.tsval" 2>/dev/null | wc -l)
	if [ "$n" -eq 0 ]; then ok; else bad "tshark found $n segments without timestamps"; fi
fi
it_finish
