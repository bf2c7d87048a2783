#!/usr/bin/env bash
# Hostile frames over TAP (issue 6): while a Linux client fetches 10 MiB from
# `synack serve --app http` (peer.py http-paced: it reads slowly until the
# probes are over, however long they take, then at full speed), scapy
# (hostile.py, Debian's python3-scapy) sends malformed and odd frames at
# layer 2 to synack's MAC: option lengths 0, 1 and past the header, data
# offsets too small and too large, SYN+FIN, SYN+RST, NULL and XMAS flag sets,
# window scale 15, an urgent pointer past the data, zero-length, tiny and
# oversized datagrams, bad IP header lengths, versions and checksums, TTL 0
# -- from a host of its own (10.7.0.3, its ARP answered by hostile.py) to the
# listener and to a closed port, and on the live connection's own 4-tuple at
# the sequence number synack expects (RSTs that would end it if accepted).
# Checked:
#  - each probe gets the answer RFC 9293 / RFC 1122 prescribe, or none when
#    the datagram must be dropped (hostile.py's lines, printed here);
#  - the counters of serve's stats block moved by exactly the drops sent,
#    reason by reason (IP header errors, TCP checksum, offset, option,
#    flags, no-ACK, LISTEN without SYN), and the RFC 5961 challenge ACKs
#    that show the live probes were aimed right;
#  - the transfer was still running after the last probe and completes
#    byte-exact; a new curl is served; serve stops on SIGINT with status 0;
#  - the pcap: tshark flags the hostile frames synack received (they are
#    malformed on purpose, and that shows they were recorded), so the check
#    runs on the frames synack SENT only (Ethernet source = synack's MAC),
#    which must all be clean.
# Usage: test_hostile_scapy.sh PATH_TO_SYNACK
set -u
. "$(dirname "$0")/lib.sh"
it_init hostile-scapy "${1:-}" curl tshark sha256sum
# Debian's python3-scapy is for the system python, whatever python3 is first on PATH.
PY=/usr/bin/python3
HOSTILE=$IT_HERE/hostile.py
[ -x "$PY" ] && "$PY" -c 'import scapy.all' 2>/dev/null || it_skip "needs python3-scapy for $PY (tests/run.sh installs it)"
"$PY" -B "$HOSTILE" selftest >"$IT_TMP/selftest" 2>&1
if [ $? -eq 0 ]; then ok; else bad "hostile.py selftest: $(cat "$IT_TMP/selftest")"; fi

FAKE=10.7.0.3
CLOSED=81
SIZE=10485760
RATE=819200 # bytes/s the client reads at while the probes run

it_dev tap
it_serve serve --app http --http-size 10MiB --stats-every 0.5 --pcap "$IT_TMP/hostile.pcap"

# hostile.py first (scapy takes a while to import): it sniffs, learns
# synack's MAC with an ARP request, says ready, then waits for the
# connection and for the go file.  Background jobs run as `ip netns exec`
# directly (it execs), so their pids are the processes the cleanup stops.
ip netns exec "$IT_NS" "$PY" -B "$HOSTILE" run "$IT_DEV" "$IT_SYNACK" "$IT_LINUX" "$FAKE" 80 "$CLOSED" "$IT_TMP/go" \
	>"$IT_TMP/hostile.out" 2>"$IT_TMP/hostile.err" &
HOSTILE_PID=$!
IT_PIDS+=("$HOSTILE_PID")
for i in $(seq 1 150); do
	grep -qx ready "$IT_TMP/hostile.out" 2>/dev/null && break
	kill -0 "$HOSTILE_PID" 2>/dev/null || break
	sleep 0.1
done
grep -qx ready "$IT_TMP/hostile.out" || { bad "hostile.py not ready: $(cat "$IT_TMP/hostile.err")"; it_finish; }
MAC=$(sed -n 's/^synack MAC \([0-9a-f:]*\) .*/\1/p' "$IT_TMP/hostile.out")
note "synack answered ARP from $FAKE: MAC $MAC"

ip netns exec "$IT_NS" "$PY" -B "$IT_PEER" http-paced "$IT_SYNACK" 80 /long "$IT_TMP/body" "$RATE" "$IT_TMP/probes-done" \
	>"$IT_TMP/paced.out" 2>"$IT_TMP/client.err" &
CLIENT_PID=$!
IT_PIDS+=("$CLIENT_PID")
# The baseline: a stats block printed once the connection is established.
it_wait_summary serve 'ESTABLISHED' 10 || bad "no ESTABLISHED connection in serve's stats: $(it_last_summary serve)"
n0=$(grep -c '^--- synack stats at ' "$IT_TMP/serve.out")
for i in $(seq 1 30); do
	[ "$(grep -c '^--- synack stats at ' "$IT_TMP/serve.out")" -gt $((n0 + 1)) ] && break
	sleep 0.1
done
cp "$IT_TMP/serve.out" "$IT_TMP/serve-before.out"
counters_of "$IT_TMP/serve-before.out" >"$IT_TMP/before"
[ -s "$IT_TMP/before" ] || bad "no counters in serve's stats block: $(tail -n 8 "$IT_TMP/serve.out")"
touch "$IT_TMP/go"

wait "$HOSTILE_PID"
rc=$?
client_running=no
kill -0 "$CLIENT_PID" 2>/dev/null && client_running=yes
touch "$IT_TMP/probes-done"
sed -n 's/^\(live: .*\)/\1/p' "$IT_TMP/hostile.out" | while read -r l; do note "$l"; done
while read -r l; do
	case $l in
	'probe '*' -- ok') ok; note "${l#probe }" ;;
	'probe '*) bad "${l#probe }" ;;
	esac
done <"$IT_TMP/hostile.out"
if [ $rc -eq 0 ] && grep -q '^probes=[0-9]* failed=0$' "$IT_TMP/hostile.out"; then
	ok
else
	bad "hostile.py exited $rc: $(tail -n 3 "$IT_TMP/hostile.err") $(grep '^probes=' "$IT_TMP/hostile.out")"
fi
# "Alongside": the transfer must not have finished before the last probe.
if [ "$client_running" = yes ]; then ok; else bad "the client had finished before the probes ended: nothing ran alongside"; fi

wait "$CLIENT_PID"
rc=$?
want=$("$PY" "$IT_PEER" body-hash "$SIZE")
got=$(sha256sum <"$IT_TMP/body" | cut -d' ' -f1)
len=$(stat -c %s "$IT_TMP/body" 2>/dev/null || echo 0)
if [ $rc -eq 0 ] && [ "$got" = "$want" ]; then ok; else bad "the client alongside the probes exited $rc: $len bytes, sha256 $got, want $want; $(cat "$IT_TMP/client.err")"; fi
note "transfer alongside the probes: client exit $rc ($(cat "$IT_TMP/paced.out")), $len bytes, sha256 ${got:0:16}... (want ${want:0:16}...)"

# synack still serves.
ns curl -sS --max-time 60 -o "$IT_TMP/body2" "http://$IT_SYNACK/after"
rc=$?
got=$(sha256sum <"$IT_TMP/body2" | cut -d' ' -f1)
if [ $rc -eq 0 ] && [ "$got" = "$want" ]; then ok; else bad "a new curl after the probes exited $rc, sha256 $got"; fi
note "a new curl after the probes: exit $rc, $(stat -c %s "$IT_TMP/body2" 2>/dev/null || echo 0) bytes, body ok"

it_serve_stop serve
counters_of "$IT_TMP/serve.out" >"$IT_TMP/after"

# Every drop hostile.py sent must be counted under its reason, exactly
# (ip_truncated: at least, the oversized datagrams may add to it).
ip_hdr=0
tcp_err=0
while read -r _ reason n; do
	d=$(it_drop_delta "$reason")
	case $reason in
	ip_truncated) if [ "$d" != none ] && [ "$d" -ge "$n" ]; then ok; else bad "drop $reason moved by $d, want at least $n"; fi ;;
	*) if [ "$d" = "$n" ]; then ok; else bad "drop $reason moved by $d, want $n"; fi ;;
	esac
	note "counter $reason: +$d (sent $n)"
	case $reason in
	ip_*) ip_hdr=$((ip_hdr + n)) ;;
	tcp_*) tcp_err=$((tcp_err + n)) ;;
	esac
done < <(grep '^expect-drop ' "$IT_TMP/hostile.out")
d=$(it_delta IpInHdrErrors)
if [ "$d" != none ] && [ "$d" -ge "$ip_hdr" ]; then ok; else bad "IpInHdrErrors moved by $d, want at least $ip_hdr"; fi
note "counter IpInHdrErrors: +$d (IP header errors sent: $ip_hdr)"
d=$(it_delta InErrs)
if [ "$d" = "$tcp_err" ]; then ok; else bad "InErrs moved by $d, want $tcp_err"; fi
note "counter InErrs: +$d (TCP header errors sent: $tcp_err)"
want_csum=$(awk '$2 == "tcp_bad_checksum" { print $3 }' "$IT_TMP/hostile.out")
d=$(it_delta InCsumErrors)
if [ "$d" = "${want_csum:-0}" ]; then ok; else bad "InCsumErrors moved by $d, want ${want_csum:-0}"; fi
note "counter InCsumErrors: +$d"
for c in RstChallenge SynChallenge; do
	d=$(it_delta $c)
	if [ "$d" != none ] && [ "$d" -ge 1 ]; then ok; else bad "$c moved by $d: the live probes missed the connection"; fi
	note "counter $c: +$d"
done
for c in OutRsts ChallengeAcks EstabResets PassiveOpens; do
	note "counter $c: +$(it_delta $c)"
done

# The pcap: the hostile frames synack received are flagged by tshark (on
# purpose); every frame synack sent must be clean.
pcap=$IT_TMP/hostile.pcap
if it_pcap_problems "$pcap" >"$IT_TMP/all-problems" 2>&1; then
	bad "tshark found nothing wrong in the whole capture: the hostile frames were not recorded"
else
	ok
	note "whole pcap:$(head -n 1 "$IT_TMP/all-problems" | cut -d: -f2- | sed 's/:$//') (the probes, malformed on purpose)"
fi
tshark -n -r "$pcap" -Y "eth.src == $MAC || (!eth && ip.src == $IT_SYNACK)" -w "$IT_TMP/hostile-sent-by-synack.pcap" 2>/dev/null
it_pcap_check "$IT_TMP/hostile-sent-by-synack.pcap"
it_finish
