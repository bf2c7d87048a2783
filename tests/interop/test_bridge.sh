#!/usr/bin/env bash
# synack bridge between two namespaces: kernel TCP on both ends, the
# bridge in a third namespace forwarding between two TAP devices it opened
# there and that the test then moved, one into each end's namespace.
#   1. 2 % loss and 10 ms delay each way: a 4 MB transfer arrives intact,
#      the bridge counted losses in both directions, the sender's kernel
#      counted retransmissions (Tcp RetransSegs moved).
#   2. no impairment: the transfer arrives intact, nothing lost, every frame
#      read was written (or refused by a device not up yet: write_errors).
#   3. a 20 Mbit/s bottleneck with a 10-packet queue: the transfer arrives
#      intact and the queue overflowed (queue_drops).
#   4. synack against the kernel (issue 13): in A a Linux bridge joins the
#      bridge's device and a TAP device on which `synack serve --app echo`
#      is 10.8.0.3; the kernel in B sends 3 MB to it and reads the echo
#      back through 3 % loss and 2 % reordering each way: both directions
#      arrive byte for byte, both sides retransmitted, the kernel's `ss -ti`
#      shows window scaling (and timestamps' MSS), synack's pcap shows SACK
#      blocks from both ends and timestamps on every segment, and tshark
#      finds no malformed frame or option in it.
# Behaviour only, never durations.  Usage: test_bridge.sh PATH_TO_SYNACK
set -u
. "$(dirname "$0")/lib.sh"
it_init bridge "${1:-}" sha256sum tshark ss
NS_A=$IT_NS-a
NS_B=$IT_NS-b
ADDR_A=10.8.0.1
ADDR_B=10.8.0.2
SIZE=4000000
BRIDGE_PID=

br_cleanup() {
	ip netns del "$NS_A" 2>/dev/null
	ip netns del "$NS_B" 2>/dev/null
	it_cleanup
}
trap br_cleanup EXIT
ip netns add "$NS_A" || it_skip "cannot create a network namespace"
ip netns add "$NS_B" || it_skip "cannot create a network namespace"
# No IPv6: its autoconfiguration would send frames before the far side is
# up (a TAP device that is down refuses writes: write_errors).
for n in "$NS_A" "$NS_B"; do
	ip -n "$n" link set lo up
	ip netns exec "$n" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
done

# bridge_up RUN ARGS...: two fresh TAP devices in the bridge's namespace,
# `synack bridge --json ARGS` on them (stdout RUN.out, stderr RUN.err), then
# one device moved into each end's namespace and addressed.
bridge_up() {
	local run=$1 i
	shift
	DEV_A=ta$run
	DEV_B=tb$run
	ip -n "$IT_NS" tuntap add dev "$DEV_A" mode tap || { bad "tuntap add"; it_finish; }
	ip -n "$IT_NS" tuntap add dev "$DEV_B" mode tap || { bad "tuntap add"; it_finish; }
	ip netns exec "$IT_NS" "$synack" bridge --dev-a "$DEV_A" --dev-b "$DEV_B" --json "$@" \
		>"$IT_TMP/$run.out" 2>"$IT_TMP/$run.err" &
	BRIDGE_PID=$!
	IT_PIDS+=("$BRIDGE_PID")
	for i in $(seq 1 100); do
		grep -q '^synack bridge: forwarding ' "$IT_TMP/$run.err" 2>/dev/null && break
		kill -0 "$BRIDGE_PID" 2>/dev/null || break
		sleep 0.1
	done
	if ! grep -q '^synack bridge: forwarding ' "$IT_TMP/$run.err"; then
		bad "synack bridge $* printed no ready line: $(cat "$IT_TMP/$run.err")"
		it_finish
	fi
	ip -n "$IT_NS" link set "$DEV_A" netns "$NS_A"
	ip -n "$IT_NS" link set "$DEV_B" netns "$NS_B"
	ip -n "$NS_A" addr add "$ADDR_A/24" dev "$DEV_A"
	ip -n "$NS_B" addr add "$ADDR_B/24" dev "$DEV_B"
	ip -n "$NS_A" link set "$DEV_A" up
	ip -n "$NS_B" link set "$DEV_B" up
}

# bridge_down RUN: SIGINT; the bridge must exit 0 (its final stats line
# is read by stat below); the devices go.
bridge_down() {
	it_stop "$BRIDGE_PID" "synack bridge" "$IT_TMP/$1.err"
	ip -n "$NS_A" link del "$DEV_A" 2>/dev/null
	ip -n "$NS_B" link del "$DEV_B" 2>/dev/null
}

# stat RUN DIR KEY: a counter of the bridge's final JSON line.
stat() {
	python3 - "$IT_TMP/$1.out" "$2" "$3" <<'PY'
import json, sys
final = [json.loads(l) for l in open(sys.argv[1]) if '"final":true' in l]
print(final[-1][sys.argv[2]][sys.argv[3]] if final else "none")
PY
}

# The sender's Tcp RetransSegs (/proc/net/snmp of its namespace).
retrans_segs() {
	ip netns exec "$NS_A" awk '/^Tcp:/ { if (!h) { for (i = 1; i <= NF; i++) if ($i == "RetransSegs") c = i; h = 1 } else print $c }' /proc/net/snmp
}

# transfer RUN: SIZE pattern bytes from A to B's sink, checked byte for byte.
transfer() {
	local run=$1 i want got
	ip netns exec "$NS_B" python3 "$IT_PEER" server "$ADDR_B" 5001 sink >"$IT_TMP/$run.sink" 2>&1 &
	IT_PIDS+=("$!")
	for i in $(seq 1 100); do
		grep -q '^ready' "$IT_TMP/$run.sink" 2>/dev/null && break
		sleep 0.1
	done
	if ip netns exec "$NS_A" timeout 200 python3 "$IT_PEER" send "$ADDR_B" 5001 "$SIZE" \
		>"$IT_TMP/$run.send" 2>&1; then ok; else bad "$run: the sender failed: $(cat "$IT_TMP/$run.send")"; fi
	for i in $(seq 1 300); do
		grep -q 'received=' "$IT_TMP/$run.sink" && break
		sleep 0.1
	done
	want=$(python3 "$IT_PEER" body-hash "$SIZE")
	got=$(sed -n 's/.*received=\([0-9]*\) sha256=\([0-9a-f]*\).*/\1 \2/p' "$IT_TMP/$run.sink")
	if [ "$got" = "$SIZE $want" ]; then ok; else bad "$run: the sink got '$got', wanted '$SIZE $want'"; fi
}

# 1. Loss and delay.
bridge_up lossy --loss 0.02 --delay-ms 10 --seed 3
r0=$(retrans_segs)
transfer lossy
r1=$(retrans_segs)
bridge_down lossy
for dir in a_to_b b_to_a; do
	lost=$(stat lossy $dir lost)
	if [ "$lost" != none ] && [ "$lost" -gt 0 ]; then ok; else bad "lossy: $dir lost $lost frames"; fi
done
if [ "$r1" -gt "$r0" ]; then ok; else bad "lossy: the kernel's RetransSegs did not move ($r0 -> $r1)"; fi
note "2 % loss, 10 ms: bridge lost $(stat lossy a_to_b lost) + $(stat lossy b_to_a lost) frames, kernel retransmitted $((r1 - r0)) segments"

# 2. A clean path.
bridge_up clean
transfer clean
bridge_down clean
for dir in a_to_b b_to_a; do
	in=$(stat clean $dir frames_in)
	out=$(stat clean $dir frames_out)
	werr=$(stat clean $dir write_errors)
	lost=$(stat clean $dir lost)
	held=$(stat clean $dir held)
	if [ "$lost" = 0 ] && [ "$held" = 0 ] && [ "$in" -gt 0 ] && [ "$in" -eq $((out + werr)) ]; then
		ok
	else
		bad "clean: $dir in $in out $out write_errors $werr lost $lost held $held"
	fi
done

# 3. A bottleneck with a small queue.
bridge_up narrow --bw-mbps 20 --queue 10 --delay-ms 5
transfer narrow
bridge_down narrow
drops=$(stat narrow a_to_b queue_drops)
if [ "$drops" != none ] && [ "$drops" -gt 0 ]; then ok; else bad "narrow: no queue drops ($drops)"; fi
note "20 Mbit/s, 10-packet queue: $drops queue drops, queue_max $(stat narrow a_to_b queue_max)"

# 4. synack on a TAP device in A, bridged by the kernel onto the path, and
# the kernel in B; loss and reordering each way.
ADDR_S=10.8.0.3
bridge_up synack --loss 0.03 --reorder 0.02 --delay-ms 5 --seed 11
ip -n "$NS_A" addr flush dev "$DEV_A"
ip -n "$NS_A" link add wbr type bridge
ip -n "$NS_A" link set "$DEV_A" master wbr
ip -n "$NS_A" tuntap add dev ws mode tap
ip -n "$NS_A" link set ws master wbr
ip -n "$NS_A" link set wbr up
ip -n "$NS_A" link set ws up
ip netns exec "$NS_A" "$synack" serve --dev ws --tap --addr "$ADDR_S/24" --app echo \
	--pcap "$IT_TMP/synack.pcap" >"$IT_TMP/serve.out" 2>"$IT_TMP/serve.err" &
SERVE_PID=$!
IT_PIDS+=("$SERVE_PID")
for i in $(seq 1 100); do
	grep -q '^synack serve: listening on ' "$IT_TMP/serve.out" 2>/dev/null && break
	sleep 0.1
done
grep -q '^synack serve: listening on ' "$IT_TMP/serve.out" || bad "synack serve printed no ready line: $(cat "$IT_TMP/serve.err")"
r0=$(ip netns exec "$NS_B" awk '/^Tcp:/ { if (!h) { for (i = 1; i <= NF; i++) if ($i == "RetransSegs") c = i; h = 1 } else print $c }' /proc/net/snmp)
# Established and idle for 2 s before the data (peer.py echo's hold): ss
# looks at the connection then.
ip netns exec "$NS_B" timeout 300 python3 "$IT_PEER" echo "$ADDR_S" 7 3000000 5 2 \
	>"$IT_TMP/echo.out" 2>&1 &
ECHO_PID=$!
IT_PIDS+=("$ECHO_PID")
: >"$IT_TMP/ss.out"
for i in $(seq 1 100); do
	ip netns exec "$NS_B" ss -tin state established dst "$ADDR_S" >"$IT_TMP/ss.out" 2>&1
	grep -q 'wscale' "$IT_TMP/ss.out" && break
	sleep 0.1
done
if wait "$ECHO_PID"; then ok; else bad "synack echo through the lossy path: $(cat "$IT_TMP/echo.out")"; fi
if grep -q 'sent=3000000 received=3000000 identical=1' "$IT_TMP/echo.out"; then ok; else bad "echo: $(cat "$IT_TMP/echo.out")"; fi
# The kernel's view: window scaling both ways (wscale:SYNACK'S,ITS) and an
# MSS of 1448, 1460 less the 12 bytes of timestamps.  This machine's ss
# lists no "ts" or "sack" even for a kernel-to-kernel connection (its
# tcpi_options lacks them), so SACK and timestamps are checked in the
# pcap below: SACK blocks from both ends, a timestamp on every segment.
for opt in 'wscale:7,[0-9]+' '\bmss:1448\b'; do
	if grep -Eq "$opt" "$IT_TMP/ss.out"; then ok; else bad "the kernel's ss -ti shows no '$opt': $(cat "$IT_TMP/ss.out")"; fi
done
r1=$(ip netns exec "$NS_B" awk '/^Tcp:/ { if (!h) { for (i = 1; i <= NF; i++) if ($i == "RetransSegs") c = i; h = 1 } else print $c }' /proc/net/snmp)
it_stop "$SERVE_PID" "synack serve" "$IT_TMP/serve.err"
srtx=$(counters_of "$IT_TMP/serve.out" | awk '$1 == "RetransSegs" { print $2 }')
if [ "${srtx:-0}" -gt 0 ]; then ok; else bad "synack retransmitted nothing through 3 % loss (RetransSegs '${srtx:-}')"; fi
if [ "$r1" -gt "$r0" ]; then ok; else bad "the kernel retransmitted nothing through 3 % loss ($r0 -> $r1)"; fi
bridge_down synack
note "synack <-> kernel, 3 MB each way, 3 % loss and 2 % reordering: $(sed -n 's/.*seconds=//p' "$IT_TMP/echo.out") s, kernel retransmitted $((r1 - r0)), synack $srtx segments; ss: $(grep -Eo 'wscale:[0-9,]+' "$IT_TMP/ss.out" | head -1)"
# The kernel here is B (lib.sh: its software checksums may read 0xFFFF).
IT_PCAP_KERNEL_SRC=$ADDR_B
it_pcap_check "$IT_TMP/synack.pcap"
pcount() { tshark -n -r "$IT_TMP/synack.pcap" -Y "$1" 2>/dev/null | wc -l; }
for who in "$ADDR_B" "$ADDR_S"; do
	n=$(pcount "ip.src==$who && tcp.options.sack_le")
	if [ "$n" -gt 0 ]; then ok; else bad "no SACK blocks from $who in the pcap"; fi
done
n=$(pcount "tcp.len>0 && !tcp.options.timestamp.tsval")
if [ "$n" -eq 0 ]; then ok; else bad "$n data segments without a timestamp in the pcap"; fi
n=$(pcount "tcp.flags.syn==1 && tcp.options.sack_perm && tcp.options.timestamp.tsval && tcp.options.wscale.shift")
if [ "$n" -ge 2 ]; then ok; else bad "SYN and SYN-ACK do not both offer SACK, timestamps and window scaling ($n)"; fi
it_finish
