#!/usr/bin/env bash
# A Linux client (python sockets) sends 1 MiB of random bytes to
# `synack serve --app echo` while reading, half-closes, and must read back
# exactly what it sent; synack then closes (it finishes echoing after the
# client's FIN).  The pcap is clean.
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
# The client closed last: synack's side ends CLOSED (LAST_ACK acknowledged),
# the kernel's in TIME_WAIT; nothing is left but the listener.
if it_wait_summary serve 'connections? \(LISTEN 1\)$' 10; then ok; else bad "synack still has: $(it_last_summary serve)"; fi
if it_wait_no_kernel_stuck 10; then ok; else bad "kernel sockets stuck: $(it_ss_states close-wait fin-wait-1 fin-wait-2)"; fi
tw=$(it_ss_states time-wait | grep -c "$IT_SYNACK:7 *$")
if [ "$tw" -eq 2 ]; then ok; else bad "kernel has $tw TIME_WAIT sockets to $IT_SYNACK:7, want 2"; fi
it_serve_stop serve
it_pcap_check "$IT_TMP/echo.pcap"
it_finish
