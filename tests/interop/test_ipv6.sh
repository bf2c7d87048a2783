#!/usr/bin/env bash
# IPv6 with the Linux kernel over a TAP device (issue 14), dual stack: the
# kernel is 10.7.0.1/24 and 2001:db8::1/64 on the device, synack 10.7.0.2/24
# and 2001:db8::2/64 (--addr twice).
#  - `ping -6` to synack's address is answered;
#  - `curl -6` fetches two 4 MiB files from `synack serve --app http` in one
#    run (keep-alive), each checked by sha256, sent in IPv6 super-segments
#    the kernel cuts (TSO6, link_gso_out); IPv4 curl still works on the
#    same listener (a :: listener takes IPv4 too);
#  - neighbour discovery both ways (TAP): the kernel's `ip -6 neigh` holds
#    synack's MAC for 2001:db8::2 as REACHABLE, STALE, DELAY or PROBE (it
#    resolved it from synack's advertisement), and for synack's link-local
#    address fe80::53:59ff:fe07:2 (modified EUI-64 of 02:53:59:07:00:02);
#    synack answered the kernel's solicitations (serve's stats) and
#    resolved the kernel itself before connecting (solicitation, solicited
#    advertisement, then the SYN, in the pcap);
#  - `synack connect` to a Linux IPv6 server, half-close both ways (synack
#    first with 1 MiB answered after its FIN; Linux first with 1 MiB while
#    synack sends 4 MiB after it), byte for byte;
#  - through the kernel as a router (--gw 2001:db8::1, resolved by ND on
#    TAP) to a host in a second namespace behind a 1280-byte link: the
#    kernel's Packet Too Big lowers synack's segments (RFC 8201) and 1 MiB
#    arrives byte for byte (synack's segments after the PTB fit 1280);
#  - every pcap is clean (tshark: no malformed frame, no checksum error).
# IT_VARIANT=tun runs the same over a TUN device (test_ipv6_tun.sh; there is
# no neighbour discovery there).
# Usage: test_ipv6.sh PATH_TO_SYNACK
set -u
. "$(dirname "$0")/lib.sh"
variant=${IT_VARIANT:-tap}
it_init "ipv6-$variant" "${1:-}" curl ping sha256sum tshark
L6=2001:db8::1
S6=2001:db8::2
SYNACK_LL=fe80::53:59ff:fe07:2
# No duplicate address detection in the namespace: the kernel's addresses
# are usable at once (synack does none either, nd.h says why).
ns sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
it_dev "$variant"
ip -n "$IT_NS" -6 addr add "$L6/64" dev "$IT_DEV" nodad
mib=1048576

# serve over both families.
it_serve serve --addr "$S6/64" --app http --http-size 4MiB --pcap "$IT_TMP/ipv6-$variant-serve.pcap" \
	--stats-every 1
want_ready="synack serve: listening on [$S6]:80 (dev $IT_DEV, $variant, app http)"
if grep -qxF "$want_ready" "$IT_TMP/serve.out"; then ok; else bad "no ready line '$want_ready': $(head -n 2 "$IT_TMP/serve.out")"; fi

if ns ping -6 -c 3 -i 0.2 -W 5 "$S6" >"$IT_TMP/ping" 2>&1; then ok; else bad "ping -6 $S6: $(tail -n 3 "$IT_TMP/ping")"; fi
note "ping -6: $(grep -o '[0-9]* received' "$IT_TMP/ping")"

want4=$(python3 "$IT_PEER" body-hash $((4 * mib)))
ns curl -6 -gsS --max-time 120 -o "$IT_TMP/a" "http://[$S6]/a" -o "$IT_TMP/b" "http://[$S6]/b"
rc=$?
if [ $rc -eq 0 ]; then ok; else bad "curl -6 exited $rc"; fi
for f in a b; do
	got=$(sha256sum <"$IT_TMP/$f" 2>/dev/null | cut -d' ' -f1)
	if [ "$got" = "$want4" ]; then ok; else bad "curl -6 /$f: $(stat -c %s "$IT_TMP/$f" 2>/dev/null) bytes, sha256 $got"; fi
done
ns curl -4 -sS --max-time 60 -o "$IT_TMP/c" "http://$IT_SYNACK/c"
got=$(sha256sum <"$IT_TMP/c" 2>/dev/null | cut -d' ' -f1)
if [ "$got" = "$want4" ]; then ok; else bad "curl -4 beside IPv6: sha256 $got"; fi

if [ "$variant" = tap ]; then
	# The kernel resolved synack's addresses (from its advertisements).
	ns ping -6 -c 1 -W 1 "$SYNACK_LL%$IT_DEV" >/dev/null 2>&1 # ND only: the stack has no fe80 yet
	neigh=$(ns ip -6 neigh show dev "$IT_DEV")
	if grep -Eq "^$S6 lladdr 02:53:59:07:00:02 (router )?(REACHABLE|STALE|DELAY|PROBE)" <<<"$neigh"; then
		ok
	else
		bad "ip -6 neigh has no entry with synack's MAC for $S6: $neigh"
	fi
	if grep -Eq "^$SYNACK_LL lladdr 02:53:59:07:00:02 (REACHABLE|STALE|DELAY|PROBE)" <<<"$neigh"; then
		ok
	else
		bad "ip -6 neigh has no entry for synack's link-local $SYNACK_LL: $neigh"
	fi
	note "kernel: $(grep -E "^($S6|$SYNACK_LL) " <<<"$neigh" | tr '\n' ';')"
fi
it_serve_stop serve
counters_of "$IT_TMP/serve.out" >"$IT_TMP/serve.counters"
d6in=$(value_of link_datagrams6_in "$IT_TMP/serve.counters")
if [ "$d6in" != none ] && [ "$d6in" -gt 0 ]; then ok; else bad "link_datagrams6_in $d6in"; fi
# The 4 MiB bodies went to the kernel in IPv6 super-segments (TSO6), which
# it cut into the segments curl received sha256-exact.
gso=$(value_of link_gso_out "$IT_TMP/serve.counters")
if [ "$gso" != none ] && [ "$gso" -gt 0 ]; then ok; else bad "link_gso_out $gso: no IPv6 super-segment"; fi
note "serve: link_datagrams6_in $d6in, link_gso_out $gso (TSO6), link_gso_segs_out $(value_of link_gso_segs_out "$IT_TMP/serve.counters")"
if [ "$variant" = tap ]; then
	for c in nd_solicits_in nd_adverts_out; do
		v=$(value_of "$c" "$IT_TMP/serve.counters")
		if [ "$v" != none ] && [ "$v" -gt 0 ]; then ok; else bad "$c is $v after the exchange"; fi
	done
	note "synack: nd_solicits_in $(value_of nd_solicits_in "$IT_TMP/serve.counters"), nd_adverts_out $(value_of nd_adverts_out "$IT_TMP/serve.counters"), nd_solicits_out $(value_of nd_solicits_out "$IT_TMP/serve.counters"), nd_resolved $(value_of nd_resolved "$IT_TMP/serve.counters")"
fi

# synack connect -> Linux over IPv6, half-close both ways.
want1=$(python3 "$IT_PEER" body-hash $mib)
it_peer_server s1 "$L6" 5011 reply-after-eof $mib
it_connect c1 --addr "$S6/64" "[$L6]:5011" --send-bytes 1MiB --output "$IT_TMP/got1" \
	--pcap "$IT_TMP/ipv6-$variant-c1.pcap"
it_peer_wait
if [ "$CONNECT_RC" -eq 0 ]; then ok; else bad "1: connect exited $CONNECT_RC: $(tail -n 3 "$IT_TMP/c1.err")"; fi
if [ "$(kv received "$IT_TMP/s1.out")" = $mib ] && [ "$(kv sha256 "$IT_TMP/s1.out")" = "$want1" ]; then
	ok
else
	bad "1: Linux received $(cat "$IT_TMP/s1.out")"
fi
got=$(sha256sum <"$IT_TMP/got1" | cut -d' ' -f1)
if [ "$got" = "$want1" ]; then ok; else bad "1: synack received $(stat -c %s "$IT_TMP/got1") bytes"; fi
if grep -q "^peer=$S6:" "$IT_TMP/s1.out"; then ok; else bad "1: Linux's peer was not $S6: $(cat "$IT_TMP/s1.out")"; fi
if [ "$variant" = tap ]; then
	# synack resolved the kernel itself: its solicitation, the kernel's
	# solicited advertisement, then the SYN.
	pc=$IT_TMP/ipv6-$variant-c1.pcap
	ns_out=$(tshark -n -r "$pc" -Y "icmpv6.type == 135 && eth.src == 02:53:59:07:00:02 && icmpv6.nd.ns.target_address == $L6" -T fields -e frame.number 2>/dev/null | head -n 1)
	na_in=$(tshark -n -r "$pc" -Y "icmpv6.type == 136 && eth.dst == 02:53:59:07:00:02 && icmpv6.nd.na.flag.s == 1 && icmpv6.nd.na.target_address == $L6" -T fields -e frame.number 2>/dev/null | head -n 1)
	syn=$(tshark -n -r "$pc" -Y "tcp.flags.syn == 1 && tcp.flags.ack == 0" -T fields -e frame.number 2>/dev/null | head -n 1)
	if [ -n "$ns_out" ] && [ -n "$na_in" ] && [ -n "$syn" ] && [ "$ns_out" -lt "$na_in" ] && [ "$na_in" -lt "$syn" ]; then
		ok
	else
		bad "1: synack's resolution of $L6 in the pcap: solicitation frame '$ns_out', advertisement '$na_in', SYN '$syn'"
	fi
fi
tr1=$(it_transitions "$IT_TMP/c1.err")
if grep -q 'ESTABLISHED->FIN_WAIT_1 .*FIN_WAIT_2->TIME_WAIT' <<<"$tr1"; then ok; else bad "1: synack's states: $tr1"; fi

want4s=$(python3 "$IT_PEER" body-hash $((4 * mib)))
it_peer_server s2 "$L6" 5012 halfclose-send $mib
it_connect c2 --addr "$S6/64" "[$L6]:5012" --send-bytes 4MiB --wait-eof --output "$IT_TMP/got2" \
	--pcap "$IT_TMP/ipv6-$variant-c2.pcap"
it_peer_wait
if [ "$CONNECT_RC" -eq 0 ]; then ok; else bad "2: connect exited $CONNECT_RC: $(tail -n 3 "$IT_TMP/c2.err")"; fi
if [ "$(kv received "$IT_TMP/s2.out")" = $((4 * mib)) ] && [ "$(kv sha256 "$IT_TMP/s2.out")" = "$want4s" ]; then
	ok
else
	bad "2: Linux received $(cat "$IT_TMP/s2.out")"
fi
got=$(sha256sum <"$IT_TMP/got2" | cut -d' ' -f1)
if [ "$got" = "$want1" ]; then ok; else bad "2: synack received $(stat -c %s "$IT_TMP/got2") bytes"; fi
tr2=$(it_transitions "$IT_TMP/c2.err")
if grep -q 'ESTABLISHED->CLOSE_WAIT .*LAST_ACK->CLOSED' <<<"$tr2"; then ok; else bad "2: synack's states: $tr2"; fi
note "connect over IPv6: 1 MiB each way twice; $tr1/ $tr2"

# 3. Through the kernel to 2001:db8:1::2 in a namespace of its own, behind
# a veth whose kernel end has MTU 1280 (the IPv6 minimum): the kernel
# forwards, answers synack's full-sized segments with Packet Too Big,
# synack lowers its MSS.
FAR_NS=$IT_NS-far
FAR=2001:db8:1::2
far_cleanup() {
	local pid
	for pid in $(ip netns pids "$FAR_NS" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
	ip netns del "$FAR_NS" 2>/dev/null
	it_cleanup
}
trap far_cleanup EXIT
ip netns add "$FAR_NS"
ip -n "$IT_NS" link add vfar type veth peer name vnear netns "$FAR_NS"
ip netns exec "$FAR_NS" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
ns sysctl -qw net.ipv6.conf.all.forwarding=1
ip -n "$IT_NS" link set vfar mtu 1280 up
ip -n "$FAR_NS" link set lo up
ip -n "$FAR_NS" link set vnear up # 1500: the far host's SYN-ACK offers MSS 1440
ip -n "$IT_NS" -6 addr add 2001:db8:1::1/64 dev vfar nodad
ip -n "$FAR_NS" -6 addr add "$FAR/64" dev vnear nodad
ip -n "$FAR_NS" -6 route add default via 2001:db8:1::1
ip netns exec "$FAR_NS" timeout 150 python3 "$IT_PEER" server "$FAR" 5020 sink >"$IT_TMP/s3.out" 2>"$IT_TMP/s3.err" &
PEER_PID=$!
IT_PIDS+=("$PEER_PID")
for i in $(seq 1 100); do
	grep -qx ready "$IT_TMP/s3.out" 2>/dev/null && break
	sleep 0.1
done
# --no-tso: the capture then shows each segment as sent, not super-segments.
it_connect c3 --addr "$S6/64" --gw "$L6" "[$FAR]:5020" --send-bytes 1MiB --no-tso \
	--pcap "$IT_TMP/ipv6-$variant-c3.pcap"
it_peer_wait
if [ "$CONNECT_RC" -eq 0 ]; then ok; else bad "3: connect via the gateway exited $CONNECT_RC: $(tail -n 3 "$IT_TMP/c3.err")"; fi
if [ "$(kv received "$IT_TMP/s3.out")" = $mib ] && [ "$(kv sha256 "$IT_TMP/s3.out")" = "$want1" ]; then
	ok
else
	bad "3: the far host received $(cat "$IT_TMP/s3.out" "$IT_TMP/s3.err")"
fi
pc=$IT_TMP/ipv6-$variant-c3.pcap
ptb=$(tshark -n -r "$pc" -Y "icmpv6.type == 2 && icmpv6.mtu == 1280" -T fields -e frame.number 2>/dev/null | head -n 1)
if [ -n "$ptb" ]; then
	big=$(tshark -n -r "$pc" -Y "frame.number > $ptb && ipv6.src == $S6 && tcp.len > 0 && ipv6.plen > 1240" -T fields -e frame.number 2>/dev/null | wc -l)
	small=$(tshark -n -r "$pc" -Y "frame.number > $ptb && ipv6.src == $S6 && tcp.len > 0" -T fields -e frame.number 2>/dev/null | wc -l)
	if [ "$big" -eq 0 ] && [ "$small" -gt 0 ]; then ok; else bad "3: after the PTB synack sent $big segments above 1280 bytes ($small in all)"; fi
	note "3. via the gateway: Packet Too Big (1280) at frame $ptb; then $small data segments, none above 1280 bytes"
	# The kernel's PTBs quote synack's segments cut to fit 1280 bytes, so
	# tshark finds their TCP checksums wrong: the check runs without them.
	tshark -n -r "$pc" -Y "!(icmpv6.type == 2)" -w "$IT_TMP/ipv6-$variant-c3-noptb.pcap" 2>/dev/null
else
	bad "3: no Packet Too Big from the kernel in the pcap"
fi
if [ "$variant" = tap ]; then
	# The gateway was resolved by ND: synack asked for 2001:db8::1.
	if tshark -n -r "$pc" -Y "icmpv6.type == 135 && icmpv6.nd.ns.target_address == $L6 && eth.src == 02:53:59:07:00:02" 2>/dev/null | grep -q .; then
		ok
	else
		bad "3: no solicitation for the gateway $L6 in the pcap"
	fi
fi
[ -n "$ptb" ] && rm -f "$pc" # checked without the PTBs above

if it_wait_no_kernel_stuck 5; then ok; else bad "kernel sockets stuck: $(it_ss_states close-wait fin-wait-1 fin-wait-2)"; fi
it_pcap_check "$IT_TMP"/ipv6-*.pcap
it_finish
