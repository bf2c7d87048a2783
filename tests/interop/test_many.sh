#!/usr/bin/env bash
# 1,000 sequential and 200 concurrent HTTP connections from Linux (python
# sockets, one GET of 1 KiB each, body checked) to `synack serve --app http`.
# Odd requests say "Connection: close" (synack closes first and keeps a
# TIME_WAIT), even ones keep the connection and the client closes first
# (synack ends in LAST_ACK -> CLOSED).  Afterwards synack's stats summary
# shows nothing but the listener and its TIME_WAITs: 600 entered (500
# sequential + 100 concurrent), less those a reused client port reopened,
# and the kernel's ss shows no socket in
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
# Each of the 600 connections synack closed first entered TIME_WAIT.  The
# kernel client keeps no TIME_WAIT for those, so it may pick the same port
# again: the new SYN then reopens the connection from synack's TIME_WAIT
# (RFC 9293 3.10.7.4, counted TimeWaitRecycled), and one record fewer is held.
counters_of "$IT_TMP/serve.out" >"$IT_TMP/counters"
entered=$(value_of TimeWaitEntered "$IT_TMP/counters")
recycled=$(value_of TimeWaitRecycled "$IT_TMP/counters")
expired=$(value_of TimeWaitExpired "$IT_TMP/counters")
note "synack: TimeWaitEntered $entered, TimeWaitRecycled $recycled, TimeWaitExpired $expired"
if [ "$entered" = 600 ]; then ok; else bad "TimeWaitEntered $entered, want 600 (one per connection synack closed first)"; fi
want=$((600 - ${recycled:-0} - ${expired:-0}))
if [ "${tw:-0}" -eq "$want" ] && [ "${total:-0}" -eq $((want + 1)) ]; then ok; else
	bad "synack TIME_WAIT ${tw:-?} of ${total:-?} connections, want $want of $((want + 1))"
fi
if it_wait_no_kernel_stuck 15; then ok; else bad "kernel sockets stuck: $(it_ss_states close-wait fin-wait-1 fin-wait-2 | head)"; fi
note "kernel: $(it_ss_states time-wait | wc -l) TIME_WAIT, $(ns ss -Htan | grep -vc -e TIME-WAIT) other sockets"
# The table under the summary lists the TIME_WAITs, as ss would.
if grep -Eq '^ *State +Local +Peer +Send-Q +Recv-Q +Time-in-state' "$IT_TMP/serve.out"; then ok; else bad "no ss-like table header in the stats"; fi
it_serve_stop serve
it_pcap_check "$IT_TMP/many.pcap"
it_finish
