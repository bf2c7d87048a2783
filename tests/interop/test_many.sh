#!/usr/bin/env bash
# 1,000 sequential and 200 concurrent HTTP connections from Linux (python
# sockets, one GET of 1 KiB each, body checked) to `synack serve --app http`.
# Odd requests say "Connection: close" (synack closes first and keeps a
# TIME_WAIT), even ones keep the connection and the client closes first
# (synack ends in LAST_ACK -> CLOSED).  Afterwards synack's stats summary
# shows nothing but the listener and its TIME_WAITs, exactly 600 of them
# (500 sequential + 100 concurrent), and the kernel's ss shows no socket in
# CLOSE_WAIT, FIN_WAIT_1 or FIN_WAIT_2.  The pcap is clean.
# Usage: test_many.sh PATH_TO_SYNACK
set -u
. "$(dirname "$0")/lib.sh"
it_init many "${1:-}"
it_dev tap

it_serve serve --app http --http-size 1KiB --stats-every 0.5 --pcap "$IT_TMP/many.pcap"
ns timeout 200 python3 "$IT_PEER" http "$IT_SYNACK" 80 --seq 1000 --conc 200 --size 1024 \
	>"$IT_TMP/http.out" 2>"$IT_TMP/http.err"
rc=$?
if [ $rc -eq 0 ]; then ok; else bad "HTTP clients: $(cat "$IT_TMP/http.err")"; fi
note "$(cat "$IT_TMP/http.out")"

if it_wait_summary serve 'connections \(LISTEN 1, TIME_WAIT [0-9]+\)$' 15; then
	ok
else
	bad "synack has more than the listener and TIME_WAITs: $(it_last_summary serve)"
fi
summary=$(it_last_summary serve)
note "synack: $summary"
tw=$(sed -n 's/.*TIME_WAIT \([0-9]*\))$/\1/p' <<<"$summary")
total=$(sed -n 's/.*: \([0-9]*\) connections.*/\1/p' <<<"$summary")
if [ "${tw:-0}" -eq 600 ] && [ "${total:-0}" -eq 601 ]; then ok; else bad "synack TIME_WAIT ${tw:-?} of ${total:-?} connections, want 600 of 601"; fi
if it_wait_no_kernel_stuck 15; then ok; else bad "kernel sockets stuck: $(it_ss_states close-wait fin-wait-1 fin-wait-2 | head)"; fi
note "kernel: $(it_ss_states time-wait | wc -l) TIME_WAIT, $(ns ss -Htan | grep -vc -e TIME-WAIT) other sockets"
# The table under the summary lists the TIME_WAITs, as ss would.
if grep -Eq '^ *State +Local +Peer +Send-Q +Recv-Q +Time-in-state' "$IT_TMP/serve.out"; then ok; else bad "no ss-like table header in the stats"; fi
it_serve_stop serve
it_pcap_check "$IT_TMP/many.pcap"
it_finish
