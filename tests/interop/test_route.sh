#!/usr/bin/env bash
# Routing (issue 17 items 1 and 4) against the Linux kernel:
#  1. synack on a TAP segment (10.7.0.2/24) reaches a kernel host on another
#     subnet (192.168.50.2) through a kernel router: the test's namespace
#     (10.7.0.1 on the TAP, 192.168.50.1 on a veth, ip_forward=1), the far
#     host in a second namespace behind the veth.  With --gw 10.7.0.1 the
#     transfer arrives whole (sha256), and synack ARPed the gateway, never
#     the far host (which nobody on the TAP segment would answer for).
#  2. The same with --route 192.168.50.0/24 via 10.7.0.1 and a second
#     --addr, with --routes printing the table.
#  3. synack connect to its own address: the SYN never reaches the device
#     (the loopback path inside the stack) and the closed port answers at
#     once: connection refused.
#  4. synack serve with a second --addr echoes at both addresses.
# Usage: test_route.sh PATH_TO_SYNACK
set -u
. "$(dirname "$0")/lib.sh"
it_init route "${1:-}" sha256sum
it_dev tap
FAR=synack-it-$$-route-far
FAR_ADDR=192.168.50.2
cleanup_far() {
	local pid
	for pid in $(ip netns pids "$FAR" 2>/dev/null); do
		kill -KILL "$pid" 2>/dev/null
	done
	ip netns del "$FAR" 2>/dev/null
	it_cleanup
}
trap cleanup_far EXIT
ip netns add "$FAR" || it_skip "cannot create a second network namespace"
ip -n "$FAR" link set lo up
ip -n "$IT_NS" link add rt0 type veth peer name far0 netns "$FAR" || it_skip "no veth"
ip -n "$IT_NS" addr add 192.168.50.1/24 dev rt0
ip -n "$IT_NS" link set rt0 up
ip -n "$FAR" addr add "$FAR_ADDR/24" dev far0
ip -n "$FAR" link set far0 up
ip -n "$FAR" route add default via 192.168.50.1
ns sysctl -qw net.ipv4.ip_forward=1

bytes=1048576
want=$(python3 "$IT_PEER" body-hash $bytes)

# far_server LOG PORT: peer.py sink on the far host, waits for "ready".
far_server() {
	local log=$IT_TMP/$1 i
	ip netns exec "$FAR" timeout 150 python3 "$IT_PEER" server "$FAR_ADDR" "$2" sink \
		>"$log.out" 2>"$log.err" &
	PEER_PID=$!
	IT_PIDS+=("$PEER_PID")
	for i in $(seq 1 100); do
		grep -qx ready "$log.out" 2>/dev/null && return 0
		kill -0 "$PEER_PID" 2>/dev/null || break
		sleep 0.1
	done
	bad "far server not ready: $(cat "$log.err")"
	it_finish
}

# 1. The default gateway.
far_server sink1 5001
it_connect c1 "$FAR_ADDR:5001" --gw "$IT_LINUX" --send-bytes $bytes --pcap "$IT_TMP/c1.pcap"
it_peer_wait
if [ "$CONNECT_RC" -eq 0 ]; then ok; else bad "1: connect exited $CONNECT_RC: $(tail -n 3 "$IT_TMP/c1.err")"; fi
if [ "$(kv received "$IT_TMP/sink1.out")" = $bytes ] && [ "$(kv sha256 "$IT_TMP/sink1.out")" = "$want" ]; then
	ok
else
	bad "1: the far host received $(cat "$IT_TMP/sink1.out"), want $bytes bytes sha256 $want"
fi
# The far host saw synack's address: routed, not translated.
if grep -q "peer=$IT_SYNACK:" "$IT_TMP/sink1.out"; then ok; else bad "1: peer $(cat "$IT_TMP/sink1.out")"; fi
# ARP asked for the gateway, never for the far host (the frames synack
# wrote: 24 bytes of pcap header, records of 16 bytes plus the frame; ARP's
# target address at byte 38 of the frame).
if python3 - "$IT_TMP/c1.pcap" <<'EOF'; then ok; else bad "1: ARP asked for the wrong host"; fi
import struct, sys
d = open(sys.argv[1], "rb").read()
off, gw, far = 24, 0, 0
while off + 16 <= len(d):
    incl = struct.unpack_from("<I", d, off + 8)[0]
    f = d[off + 16 : off + 16 + incl]
    if f[12:14] == b"\x08\x06" and len(f) >= 42:
        gw += f[38:42] == bytes([10, 7, 0, 1])
        far += f[38:42] == bytes([192, 168, 50, 2])
    off += 16 + incl
sys.exit(0 if gw and not far else 1)
EOF
note "1. --gw $IT_LINUX: $bytes bytes to $FAR_ADDR through the kernel router, sha256 matches"

# 2. A route for the far prefix, a second address, the table printed.
far_server sink2 5002
it_connect c2 "$FAR_ADDR:5002" --addr 10.9.0.2/16 --route 192.168.50.0/24 via "$IT_LINUX" --routes \
	--send-bytes $bytes
it_peer_wait
if [ "$CONNECT_RC" -eq 0 ]; then ok; else bad "2: connect exited $CONNECT_RC: $(tail -n 3 "$IT_TMP/c2.err")"; fi
if [ "$(kv sha256 "$IT_TMP/sink2.out")" = "$want" ]; then ok; else bad "2: the far host received $(cat "$IT_TMP/sink2.out")"; fi
if grep -q "^route 192.168.50.0/24 via $IT_LINUX src $IT_SYNACK$" "$IT_TMP/c2.err" &&
	grep -q "^addr 10.9.0.2/16$" "$IT_TMP/c2.err" &&
	grep -q "^route 10.7.0.0/24 on-link src $IT_SYNACK (connected)$" "$IT_TMP/c2.err"; then
	ok
else
	bad "2: --routes printed: $(grep -E '^(addr|route) ' "$IT_TMP/c2.err")"
fi
note "2. --route 192.168.50.0/24 via $IT_LINUX: sha256 matches"

# 3. Our own address: refused at once by the stack itself, nothing on the
# device.
it_connect c3 "$IT_SYNACK:7" --pcap "$IT_TMP/own.pcap"
if [ "$CONNECT_RC" -eq 1 ] && grep -q "refused" "$IT_TMP/c3.err"; then ok; else bad "3: connect to our own address: rc $CONNECT_RC, $(tail -n 3 "$IT_TMP/c3.err")"; fi
# Only the gratuitous ARP (and nothing IPv4) crossed the device: 24 bytes
# of file header, then records of 16 bytes plus the frame.
if python3 - "$IT_TMP/own.pcap" <<'EOF'; then ok; else bad "3: an IPv4 frame reached the device"; fi
import struct, sys
d = open(sys.argv[1], "rb").read()
off, ipv4 = 24, 0
while off + 16 <= len(d):
    incl = struct.unpack_from("<I", d, off + 8)[0]
    frame = d[off + 16 : off + 16 + incl]
    if frame[12:14] == b"\x08\x00":
        ipv4 += 1
    off += 16 + incl
sys.exit(1 if ipv4 else 0)
EOF
note "3. connect to $IT_SYNACK (ours): refused inside the stack, no IPv4 frame on the device"

# 4. A server on two addresses: the kernel reaches the second through its
# own route on the device; synack answers ARP for it and echoes from it.
ns ip route add 10.9.0.0/16 dev "$IT_DEV"
it_serve serve --app echo --addr 10.9.0.2/16
for a in "$IT_SYNACK" 10.9.0.2; do
	ns timeout 150 python3 "$IT_PEER" echo "$a" 7 65536 1 >"$IT_TMP/echo.out" 2>"$IT_TMP/echo.err"
	if [ $? -eq 0 ]; then ok; else bad "4: echo at $a: $(cat "$IT_TMP/echo.err")"; fi
done
if ns ip neigh show 10.9.0.2 dev "$IT_DEV" | grep -q lladdr; then ok; else bad "4: the kernel never resolved 10.9.0.2: $(ns ip neigh show)"; fi
it_serve_stop serve
note "4. synack serve --addr $IT_SYNACK/24 --addr 10.9.0.2/16: echoes at both"

it_finish
