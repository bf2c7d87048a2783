#!/usr/bin/env bash
# Hostile IPv6 frames over TAP (issue 14): while the kernel fetches 10 MiB
# from `synack serve --app http` over IPv6 (peer.py http-paced: slowly
# until the probes are over, then at full speed), scapy (hostile6.py)
# sends extension-header chains (routing header type 0, hop-by-hop not
# first, unknown options of each kind, a header past the datagram, nine
# headers, hop limit 0), spoofed and invalid neighbour advertisements, and
# a Packet Too Big of MTU 600 quoting synack's own segment, kept in flight
# by a gate (tc) that holds the kernel's ACKs back.
# Checked:
#  - each probe gets the answer RFC 8200 / 5095 / 4861 / 8201 prescribe
#    (Parameter Problem with its code and pointer, a RST, or nothing; no
#    segment to a spoofer's MAC; the path MTU kept at 1280 or more);
#  - synack's drop counters (ip6_*) and the link's (nd_*) moved by what was
#    sent, reason by reason (nd_ignored: at least, the kernel's own
#    unsolicited advertisements may add to it); Ip6InHdrErrors and
#    Icmp6InPktTooBigs too;
#  - the transfer was still running after the probes before the PTB and completes
#    byte-exact; a new curl -6 is served; serve stops on SIGINT with 0;
#  - the frames synack sent are clean in the pcap.
# Usage: test_hostile6.sh PATH_TO_SYNACK
set -u
. "$(dirname "$0")/lib.sh"
it_init hostile6 "${1:-}" curl tshark sha256sum tc
PY=/usr/bin/python3
[ -x "$PY" ] && "$PY" -c 'import scapy.all' 2>/dev/null || it_skip "needs python3-scapy for $PY (tests/run.sh installs it)"
L6=2001:db8::1
S6=2001:db8::2
MAC=02:53:59:07:00:02
CLOSED=81
SIZE=10485760
RATE=300000 # bytes/s the client reads at while the probes run

ns sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
it_dev tap
ip -n "$IT_NS" -6 addr add "$L6/64" dev "$IT_DEV" nodad
# A Packet Too Big counts only while the segment it quotes is in flight
# (RFC 5927), and the kernel ACKs synack's segments at once.  Rather than
# race that ACK (it used to send one as soon as it saw a segment, up to 20
# times, and could lose every race on a loaded machine), hostile6.py holds
# the kernel's ACKs back with a gate on the device's egress (tc: an HTB
# class with a queue of 0 packets; this kernel has no netem), learns
# synack's SND.UNA from the last ACK before an echo request it answers, and
# quotes a segment at or after it: each step waits for an event it sees on
# the device, with a timeout, never for a time.
# No ICMP rate limit: every Parameter Problem asked for is sent; no TSO:
# hostile6.py sees each segment as sent (it measures their sizes).
it_serve serve --addr "$S6/64" --app http --http-size 10MiB --stats-every 0.5 \
	--set icmp_ratelimit_ms=0 --no-tso --pcap "$IT_TMP/hostile6.pcap"

ip netns exec "$IT_NS" "$PY" -B "$IT_HERE/hostile6.py" run "$IT_DEV" "$S6" "$L6" "$MAC" 80 "$CLOSED" "$IT_TMP/go" \
	>"$IT_TMP/hostile.out" 2>"$IT_TMP/hostile.err" &
HOSTILE_PID=$!
IT_PIDS+=("$HOSTILE_PID")
for i in $(seq 1 150); do
	grep -qx ready "$IT_TMP/hostile.out" 2>/dev/null && break
	kill -0 "$HOSTILE_PID" 2>/dev/null || break
	sleep 0.1
done
grep -qx ready "$IT_TMP/hostile.out" || { bad "hostile6.py not ready: $(cat "$IT_TMP/hostile.err")"; it_finish; }

ip netns exec "$IT_NS" python3 "$IT_PEER" http-paced "$S6" 80 /long "$IT_TMP/body" "$RATE" "$IT_TMP/probes-done" \
	>"$IT_TMP/paced.out" 2>"$IT_TMP/client.err" &
CLIENT_PID=$!
IT_PIDS+=("$CLIENT_PID")
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
while read -r l; do
	case $l in
	'probe '*' -- ok') ok; note "${l#probe }" ;;
	'probe '*) bad "${l#probe }" ;;
	esac
done <"$IT_TMP/hostile.out"
if [ $rc -eq 0 ] && grep -q '^probes=[0-9]* failed=0$' "$IT_TMP/hostile.out"; then
	ok
else
	bad "hostile6.py exited $rc: $(tail -n 3 "$IT_TMP/hostile.err") $(grep '^probes=' "$IT_TMP/hostile.out")"
fi
if [ "$client_running" = yes ]; then ok; else bad "the client had finished before the probes ended: nothing ran alongside"; fi

wait "$CLIENT_PID"
rc=$?
want=$(python3 "$IT_PEER" body-hash "$SIZE")
got=$(sha256sum <"$IT_TMP/body" | cut -d' ' -f1)
len=$(stat -c %s "$IT_TMP/body" 2>/dev/null || echo 0)
if [ $rc -eq 0 ] && [ "$got" = "$want" ]; then ok; else bad "the client alongside the probes exited $rc: $len bytes, sha256 $got; $(cat "$IT_TMP/client.err")"; fi
note "transfer alongside the probes: client exit $rc, $len bytes, sha256 ${got:0:16}..."

ns curl -6 -gsS --max-time 60 -o "$IT_TMP/body2" "http://[$S6]/after"
rc=$?
got=$(sha256sum <"$IT_TMP/body2" | cut -d' ' -f1)
if [ $rc -eq 0 ] && [ "$got" = "$want" ]; then ok; else bad "a new curl -6 after the probes exited $rc, sha256 $got"; fi

it_serve_stop serve
counters_of "$IT_TMP/serve.out" >"$IT_TMP/after"
ip6_hdr=0
while read -r kind reason n; do
	[ "$kind" = expect-link-drop ] && reason=link_$reason
	d=$(it_drop_delta "$reason")
	case $reason in
	link_nd_ignored) if [ "$d" != none ] && [ "$d" -ge "$n" ]; then ok; else bad "drop $reason moved by $d, want at least $n"; fi ;;
	*) if [ "$d" = "$n" ]; then ok; else bad "drop $reason moved by $d, want $n"; fi ;;
	esac
	note "counter $reason: +$d (sent $n)"
	case $reason in ip6_*) ip6_hdr=$((ip6_hdr + n)) ;; esac
done < <(grep -E '^expect-(link-)?drop ' "$IT_TMP/hostile.out")
d=$(it_delta Ip6InHdrErrors)
if [ "$d" = "$ip6_hdr" ]; then ok; else bad "Ip6InHdrErrors moved by $d, want $ip6_hdr"; fi
note "counter Ip6InHdrErrors: +$d"
want_ptb=$(sed -n 's/^expect-counter Icmp6InPktTooBigs //p' "$IT_TMP/hostile.out")
d=$(it_delta Icmp6InPktTooBigs)
if [ "$d" = "$want_ptb" ]; then ok; else bad "Icmp6InPktTooBigs moved by $d, want $want_ptb"; fi
note "counter Icmp6InPktTooBigs: +$d, Icmp6OutParmProblems: +$(it_delta Icmp6OutParmProblems)"

# The frames synack sent must be clean (those it received are hostile, and
# so are the quotes of its Parameter Problems: RFC 4443 3.4 sends back the
# offending datagram, whose TCP checksum scapy made for the routing
# header's final destination, and whose hop-by-hop header is misplaced).
tshark -n -r "$IT_TMP/hostile6.pcap" -Y "eth.src == $MAC && !(icmpv6.type == 4)" \
	-w "$IT_TMP/hostile6-sent-by-synack.pcap" 2>/dev/null
it_pcap_check "$IT_TMP/hostile6-sent-by-synack.pcap"
it_finish
