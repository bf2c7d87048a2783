#!/usr/bin/env bash
# `synack serve` and `synack connect` refuse bad usage before touching a
# device: every case below has one bad flag, address, port, app or device
# name, so none of them opens (or creates) a TUN/TAP device.  Each must
# print one line starting "synack serve: " (or "synack connect: ") on
# stderr, nothing on stdout, and exit 2; where it matters, the line says
# why (an unknown setting lists the valid names, a size its units).  The
# help texts list every flag.  A device that does not exist and a --send
# naming a directory are refused before anything is opened.  When root and
# unshare(1) are at hand, a failure after the device was created (an
# unwritable --pcap, with --create) is checked inside a private network
# namespace to leave no device behind.
# Usage: test_serve_args.sh PATH_TO_SYNACK
set -u
. "$(dirname "$0")/lib.sh"

# usage_error CMD ARGS...: exit 2, one stderr line "synack CMD: ...", no stdout.
usage_error() {
	local cmd=$1
	shift
	"$synack" "$cmd" "$@" >"$tmp/out" 2>"$tmp/err"
	local rc=$?
	if [ $rc -ne 2 ]; then
		bad "synack $cmd $*: exit $rc, expected 2"
		return
	fi
	if [ -s "$tmp/out" ]; then
		bad "synack $cmd $*: wrote to stdout"
		return
	fi
	if [ "$(wc -l <"$tmp/err")" -ne 1 ] || ! grep -q "^synack $cmd: " "$tmp/err"; then
		bad "synack $cmd $*: stderr is not one 'synack $cmd: ' line: $(cat "$tmp/err")"
		return
	fi
	ok
}

# says ERE: the last usage_error's line matches ERE.
says() {
	if grep -Eq -- "$1" "$tmp/err"; then ok; else bad "expected /$1/ in: $(cat "$tmp/err")"; fi
}

good=(--dev tap0 --tap --addr 10.7.0.2/24)

# serve: help, then every kind of bad usage.
if "$synack" --help | grep -q "serve" && "$synack" --help | grep -q "connect"; then ok; else bad "synack --help lacks serve/connect"; fi
if "$synack" serve --help | grep -q -- "--stats-every"; then ok; else bad "synack serve --help"; fi
if "$synack" connect --help | grep -q -- "--wait-eof"; then ok; else bad "synack connect --help"; fi

usage_error serve "${good[@]}"                                  # no --app
usage_error serve "${good[@]}" --app gopher                     # unknown app
usage_error serve "${good[@]}" --app http --port 0              # bad port
usage_error serve "${good[@]}" --app http --port 65536
usage_error serve "${good[@]}" --app http --port 80x
usage_error serve "${good[@]}" --app http --port                # no value
usage_error serve "${good[@]}" --app http --frobnicate          # unknown flag
usage_error serve "${good[@]}" --app http extra                 # stray argument
usage_error serve --dev tap0 --tap --app http                   # no --addr
usage_error serve --dev tap0 --addr 10.7.0.2/24 --app http      # no --tap/--tun
usage_error serve --tap --addr 10.7.0.2/24 --app http           # no --dev
usage_error serve --dev tap0 --tap --tun --addr 10.7.0.2/24 --app http
for a in 10.7.0.2 10.7.0.2/0 10.7.0.2/33 10.7.0.256/24 10.7.0/24 0.0.0.0/8 224.0.0.1/4 \
	255.255.255.255/32 127.0.0.1/8 10.7.0.2:80/24 " 10.7.0.2/24" 10.7.0.2/24x; do
	usage_error serve --dev tap0 --tap --addr "$a" --app http
done
usage_error serve "${good[@]}" --app http --http-size 10XB
usage_error serve "${good[@]}" --app http --http-size 17GiB
usage_error serve "${good[@]}" --app http --stats-every 0
usage_error serve "${good[@]}" --app http --stats-every -1
usage_error serve "${good[@]}" --app http --stats-every nan
usage_error serve "${good[@]}" --app http --drain-ms -1
usage_error serve "${good[@]}" --app http --drain-ms 3600001
says 'drain-ms.*milliseconds'
usage_error serve "${good[@]}" --app http --drain-ms
# --threads (issue 16 item 3): one stack per queue, 1..256 queues.
usage_error serve "${good[@]}" --app http --threads 0
says "threads: '0' is not a number of threads in \[1, 256\]"
usage_error serve "${good[@]}" --app http --threads 257
says "threads: '257' is not a number of threads in \[1, 256\]"
usage_error serve "${good[@]}" --app http --threads two
says "threads: 'two' is not a number of threads"
usage_error serve "${good[@]}" --app http --threads -1
usage_error serve "${good[@]}" --app http --threads 2x
usage_error serve "${good[@]}" --app http --threads
usage_error serve "${good[@]}" --app http --loss 1.5
usage_error serve "${good[@]}" --app http --dup -0.1
usage_error serve "${good[@]}" --app http --reorder x
usage_error serve "${good[@]}" --app http --delay-ms 60001
usage_error serve "${good[@]}" --app http --seed -1
usage_error serve "${good[@]}" --app http --pcap ""
# The device's queue (issue 17 item 5): a number of frames, 1..1000000.
for q in 0 1000001 x 10k -1 ""; do
	usage_error serve "${good[@]}" --app echo --txqueuelen "$q"
done
says "^synack serve: --txqueuelen: '' is not a number of frames in \[1, 1000000\]$"
usage_error connect "${good[@]}" 10.7.0.1:7 --txqueuelen 0
usage_error serve "${good[@]}" --app echo --txqueuelen
# Device names the kernel would refuse or expand: refused before opening.
for d in "" a-name-far-too-long tap/0 "tap 0" "tap%d" ..; do
	usage_error serve --dev "$d" --tap --addr 10.7.0.2/24 --app http
done

# Stack settings: --set NAME=VALUE and the named flags (issue 17, item 6).
usage_error serve "${good[@]}" --app http --set foo=1
says "^synack serve: --set: unknown setting 'foo' \(the settings are: mtu, ttl, time_wait_ms, .*, ipfrag_max_frags, hystart, window_scaling, timestamps, rmem_min, rmem_max, wmem_min, wmem_max, ecn, ecn_fallback, sack, dsack, reordering, recovery, frto, prefix_len, max_addrs, max_routes, max_quickacks, fastopen, fastopen_cache_size, prefix_len6, pacing, pacing_ss_ratio, pacing_ca_ratio, hystart_detect, pool_keep_pct, packet_pool_trim_ms, pool_trim_ms, ack_on_read, max_reordering; of the link: arp_lifetime_ms, arp_retry_ms, arp_retries, arp_queue_len, arp_cache_max, gratuitous_arp, read_batch, csum_offload, gro, tso, csum_trust, nd_reachable_ms, nd_retrans_ms, nd_delay_first_probe_ms, nd_max_multicast_solicit, nd_max_unicast_solicit, nd_queue_len, nd_cache_max, link_up_wait_ms\)$"
# The link's settings (struct synack_link_config) by --set: a value out of
# range is refused by the link's check, naming the setting.
usage_error serve "${good[@]}" --app http --set arp_retries=0
says '^synack serve: arp_retries: 0 is outside 1\.\.100$'
usage_error connect "${good[@]}" 10.7.0.1:7 --set nd_retrans_ms=5ms
says '^synack connect: nd_retrans_ms: 5 is outside 10\.\.60000$'
usage_error serve "${good[@]}" --app http --set link_up_wait_ms=2min
says '^synack serve: link_up_wait_ms: 120000 is outside 0\.\.60000$'
usage_error serve "${good[@]}" --app http --set gratuitous_arp=2
says 'gratuitous_arp: 2 is outside 0\.\.1'
usage_error serve "${good[@]}" --app http --set arp_retry_ms=soon
says "^synack serve: --set arp_retry_ms: 'soon' is not a time"
usage_error serve "${good[@]}" --app http --set time_wait_ms=0
says '^synack serve: time_wait_ms: 0 is outside 1\.\.3600000$'
usage_error serve "${good[@]}" --app http --set time_wait_ms=5x
says "'5x' is not a time .*ms, s, min, h"
usage_error serve "${good[@]}" --app http --set rcvbuf=2TiB
says "'2TiB' is not a size in bytes .*KiB, MiB, GiB"
usage_error serve "${good[@]}" --app http --set rcvbuf=2GiB
says '^synack serve: rmem_default \(rcvbuf\): 2147483648 is outside 1\.\.2\^30$'
usage_error serve "${good[@]}" --app http --set congestion_control=vegas
says 'congestion_control: unknown algorithm \(known: reno, cubic\)'
usage_error serve "${good[@]}" --app http --set time_wait_ms
usage_error serve "${good[@]}" --app http --set addr=10.7.0.3
usage_error serve "${good[@]}" --app http --set secret=x
usage_error serve "${good[@]}" --app http --set
usage_error serve "${good[@]}" --app http --time-wait-ms 0
usage_error serve "${good[@]}" --app http --time-wait-ms 2h
says '^synack serve: time_wait_ms: 7200000 is outside 1\.\.3600000$'
usage_error serve "${good[@]}" --app http --fin-timeout-ms 1.5s
usage_error serve "${good[@]}" --app http --syn-retries 128
usage_error serve "${good[@]}" --app http --orphan-retries x
usage_error serve "${good[@]}" --app http --keepalive-time-ms 0
usage_error serve "${good[@]}" --app http --keepalive-intvl-ms y
usage_error serve "${good[@]}" --app http --keepalive-probes 0
usage_error serve "${good[@]}" --app http --user-timeout-ms -1
usage_error serve "${good[@]}" --app http --user-timeout-ms 25d
usage_error connect "${good[@]}" 10.7.0.1:80 --set delack_ms=501
says '^synack connect: delack_ms: 501 is above 500'
usage_error connect "${good[@]}" 10.7.0.1:80 --set trace_capacity=0
usage_error connect "${good[@]}" 10.7.0.1:80 --syn-retries 0
# Listeners.
usage_error serve "${good[@]}" --listen 80:gopher
says "^synack serve: --listen: '80:gopher' is not PORT:APP"
usage_error serve "${good[@]}" --listen 0:http
usage_error serve "${good[@]}" --listen 80
usage_error serve "${good[@]}" --listen 80:http --listen 80:echo
says '^synack serve: port 80 is given twice'
usage_error serve "${good[@]}" --app echo --listen 7:http
usage_error serve "${good[@]}" --port 80 --listen 7:echo
usage_error serve "${good[@]}" --json
# Sizes name their units.
usage_error serve "${good[@]}" --app http --http-size 10XB
says "^synack serve: --http-size: '10XB' is not a size in bytes up to 16GiB \(digits, then optionally a unit: K, M, G .* KiB, MiB, GiB"
usage_error connect "${good[@]}" 10.7.0.1:80 --send-bytes 2TiB
says "^synack connect: --send-bytes: '2TiB' is not a size in bytes up to 1024GiB \(.*KiB, MiB, GiB"
# connect's timeouts.
usage_error connect "${good[@]}" 10.7.0.1:80 --connect-timeout-ms 0
usage_error connect "${good[@]}" 10.7.0.1:80 --connect-timeout-ms 25h
says "'25h' is not a time up to 86400000 ms"
usage_error connect "${good[@]}" 10.7.0.1:80 --idle-timeout-ms x
usage_error connect "${good[@]}" 10.7.0.1:80 --idle-timeout-ms

# Help lists every flag.
for f in --create --listen --json --set --time-wait-ms --fin-timeout-ms --syn-retries \
	--orphan-retries --keepalive --keepalive-time-ms --keepalive-intvl-ms --keepalive-probes \
	--user-timeout-ms --drain-ms --txqueuelen --no-csum-offload --no-gro --no-tso --threads \
	--no-csum-trust; do
	if "$synack" serve --help | grep -q -- "$f\b"; then ok; else bad "serve --help lacks $f"; fi
done
for f in --create --set --time-wait-ms --fin-timeout-ms --syn-retries --orphan-retries \
	--keepalive --keepalive-time-ms --keepalive-intvl-ms --keepalive-probes --user-timeout-ms \
	--connect-timeout-ms --idle-timeout-ms --txqueuelen --no-csum-offload --no-gro --no-tso --fastopen \
	--no-csum-trust \
	"Exit status.*3 when.*4 when"; do
	if "$synack" connect --help | tr '\n' ' ' | grep -q -- "$f"; then ok; else bad "connect --help lacks $f"; fi
done

# Input is checked before the network is touched (issue 17, items 7 and
# 10): a directory to send, and a device that does not exist, are refused
# without opening or creating anything.  Inside a network namespace of our
# own when we can make one, so that nothing could be created outside it.
in_ns() {
	if [ "$(id -u)" = 0 ] && unshare -n true 2>/dev/null; then unshare -n "$@"; else "$@"; fi
}
missing=(--dev synackmissing0 --tap --addr 10.7.0.2/24)
mkdir -p "$tmp/adir"
in_ns "$synack" connect "${missing[@]}" 10.7.0.1:80 --send "$tmp/adir" >"$tmp/out" 2>"$tmp/err"
rc=$?
if [ $rc -eq 2 ] && [ "$(cat "$tmp/err")" = "synack connect: --send: '$tmp/adir' is a directory, not a file" ] &&
	[ ! -s "$tmp/out" ]; then ok; else bad "--send DIR: exit $rc, $(cat "$tmp/err")"; fi
for cmd in serve connect; do
	extra=(--app echo)
	[ $cmd = connect ] && extra=(10.7.0.1:7)
	in_ns "$synack" $cmd "${missing[@]}" "${extra[@]}" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [ $rc -eq 2 ] && [ ! -s "$tmp/out" ] &&
		grep -q "^synack $cmd: device 'synackmissing0' does not exist: make it first (as root: ip tuntap add dev synackmissing0 mode tap user USER.*or give --create" "$tmp/err"; then
		ok
	else
		bad "$cmd on a missing device: exit $rc, $(cat "$tmp/err")"
	fi
done

# connect.
usage_error connect "${good[@]}"                                # no HOST:PORT
usage_error connect "${good[@]}" 10.7.0.1                       # no port
usage_error connect "${good[@]}" 10.7.0.1:0
usage_error connect "${good[@]}" 10.7.0.1:65536
usage_error connect "${good[@]}" host.example:80
usage_error connect "${good[@]}" 10.7.0.1:80 10.7.0.1:81        # two peers
usage_error connect "${good[@]}" 10.7.0.1:80 --send-bytes 1 --send /dev/null
usage_error connect "${good[@]}" 10.7.0.1:80 --wait-eof --close-after-ms 5
usage_error connect "${good[@]}" 10.7.0.1:80 --close-after-ms -5
usage_error connect "${good[@]}" 10.7.0.1:80 --send-bytes 2TiB
usage_error connect "${good[@]}" 10.7.0.1:80 --bogus
usage_error connect "${good[@]}" 10.7.0.1:80 --send "$tmp/missing-file"
usage_error connect "${good[@]}" 10.7.0.1:80 --output "$tmp/no/such/dir/out"
usage_error connect --dev "tap/0" --tap --addr 10.7.0.2/24 10.7.0.1:80
usage_error connect --dev tap0 --tun --addr 10.7.0.2/40 10.7.0.1:80

# Addresses and routes (issue 17 item 1): refused before the device is
# touched, each with its reason.
usage_error connect "${good[@]}" 192.168.1.1:80                 # no route
says '^synack connect: 192\.168\.1\.1: no route to it \(network unreachable\): it is off the prefix of --addr 10\.7\.0\.2/24 and no --gw or --route covers it$'
usage_error connect "${good[@]}" 10.7.0.255:80                  # the prefix's broadcast
says 'a broadcast or multicast address'
usage_error connect "${good[@]}" 224.0.0.1:80
says 'a broadcast or multicast address'
usage_error connect "${good[@]}" 192.168.1.1:80 --gw 10.8.0.1   # gateway off-link
says '^synack connect: --gw 10\.8\.0\.1: the gateway 10\.8\.0\.1 is not on the prefix of any --addr \(a gateway must be on-link\)$'
usage_error serve "${good[@]}" --app http --route 192.168.0.0/16 via 10.9.0.1
says 'the gateway 10\.9\.0\.1 is not on the prefix of any --addr'
usage_error serve "${good[@]}" --app http --gw 300.1.1.1
says "'300\.1\.1\.1' is not a gateway's IPv4 address"
usage_error serve "${good[@]}" --app http --gw 224.0.0.1
usage_error serve "${good[@]}" --app http --gw
usage_error serve "${good[@]}" --app http --route 192.168.0.1/16 via 10.7.0.1
says 'not a destination prefix \(A\.B\.C\.D/NN with the host bits zero, or default\)'
usage_error serve "${good[@]}" --app http --route 192.168.0.0/33
usage_error serve "${good[@]}" --app http --route default via
says 'needs the gateway'
usage_error serve "${good[@]}" --app http --gw 10.7.0.1 --route default via 10.7.0.3
says 'a route to default was given twice'
usage_error serve "${good[@]}" --app http --addr 10.7.0.2/24
says '^synack serve: --addr 10\.7\.0\.2/24: given twice$'
usage_error serve "${good[@]}" --app http --addr 127.0.0.2/8
usage_error serve "${good[@]}" --app http --addr 10.9.0.2/40
usage_error serve "${good[@]}" --app http --set prefix_len=33
says '^synack serve: prefix_len: 33 is above 32'
usage_error serve "${good[@]}" --app http --set max_routes=0
says '^synack serve: max_routes: 0 is outside 1\.\.4096'
# ... and what is good gets past them to the missing device.
"$synack" connect --dev synackmissing0 --tap --addr 10.7.0.2/24 --addr 10.9.0.2/16 \
	--gw 10.7.0.1 --route 192.168.0.0/16 via 10.9.0.1 192.168.1.1:80 >"$tmp/out" 2>"$tmp/err"
if [ $? = 2 ] && grep -q "device 'synackmissing0' does not exist" "$tmp/err"; then ok; else bad "routes that hold: $(cat "$tmp/err")"; fi
if "$synack" connect --help | grep -q -- "--route PREFIX" && "$synack" serve --help | grep -q -- "--gw ADDR"; then ok; else bad "--help lacks --gw/--route"; fi

# IPv6 beside IPv4 (issue 14): bad IPv6 text, prefixes, gateways and peers
# refused before the device is touched, each with its reason.
good6=("${good[@]}" --addr 2001:db8::2/64)
for a in 2001:db8::2 2001:db8::2/0 2001:db8::2/129 2001:db8:::2/64 2001:db8::g/64 ::/64 \
	::1/128 ff02::1/64 ::ffff:10.7.0.2/96 "[2001:db8::2]/64" 2001:db8::2/64x 1:2:3:4:5:6:7:8:9/64; do
	usage_error serve "${good[@]}" --app http --addr "$a"
	says "is not a unicast IPv6 address with a prefix length"
done
usage_error serve --dev tap0 --tap --addr 2001:db8::2/64 --app http # IPv6 alone
says 'is required \(IPv6 runs beside IPv4\)'
usage_error serve "${good6[@]}" --app http --gw 2001:db8:1::1 # gateway off-link
says '^synack serve: --gw 2001:db8:1::1: the gateway is not on the prefix of any IPv6 --addr nor link-local \(a gateway must be on-link\)$'
usage_error serve "${good6[@]}" --app http --gw 2001:db8::zz
says "'2001:db8::zz' is not a gateway's IPv6 address"
usage_error serve "${good6[@]}" --app http --gw ff02::2
usage_error serve "${good6[@]}" --app http --gw 2001:db8::1 --gw fe80::1
says 'a second IPv6 default gateway'
usage_error serve "${good6[@]}" --app http --route 2001:db8:5::1/48 via 2001:db8::1
says "'2001:db8:5::1/48' is not an IPv6 destination prefix"
usage_error serve "${good6[@]}" --app http --route 2001:db8:5::/48 via ff02::1
says 'needs the gateway.s IPv6 address'
usage_error serve "${good6[@]}" --app http --route 2001:db8:5::/48 via
says 'needs the gateway.s IPv6 address'
usage_error serve "${good6[@]}" --app http --route 2001:db8:5::/48 via 2001:db8:9::1
says '^synack serve: --route 2001:db8:5::/48: the gateway .*2001:db8:9::1.* is not on the prefix of any --addr'
usage_error connect "${good6[@]}" "[2001:db8::1]:0"
usage_error connect "${good6[@]}" "[2001:db8::1:80"
usage_error connect "${good6[@]}" "[2001:db8::x]:80"
says 'is not HOST:PORT \(an IPv4 address or a bracketed IPv6 one'
usage_error connect "${good6[@]}" "[::]:80"
usage_error connect "${good[@]}" "[2001:db8::1]:80"             # no IPv6 --addr
says '^synack connect: 2001:db8::1: an IPv6 peer needs an IPv6 --addr'
usage_error connect "${good6[@]}" "[2001:db8:7::1]:80"          # off-link, no gateway
says '^synack connect: 2001:db8:7::1: no route to it \(network unreachable\)'
usage_error connect "${good6[@]}" "[ff02::1]:80"
says 'not a unicast address'
usage_error connect --dev tun0 --tun --addr 10.7.0.2/24 --addr 2001:db8::2/64 "[fe80::1]:80"
says 'link-local addresses are reached over --tap only'
# ... and what is good gets past them to the missing device.
"$synack" connect --dev synackmissing0 --tap --addr 10.7.0.2/24 --addr 2001:db8::2/64 \
	--gw 2001:db8::1 "[2001:db8:7::1]:80" >"$tmp/out" 2>"$tmp/err"
if [ $? = 2 ] && grep -q "device 'synackmissing0' does not exist" "$tmp/err"; then ok; else bad "IPv6 that holds: $(cat "$tmp/err")"; fi
# An IPv6 --route (issue 14) reaches what no prefix or --gw covers.
"$synack" connect --dev synackmissing0 --tap --addr 10.7.0.2/24 --addr 2001:db8::2/64 \
	--route 2001:db8:5::/48 via 2001:db8::1 "[2001:db8:5::9]:80" >"$tmp/out" 2>"$tmp/err"
if [ $? = 2 ] && grep -q "device 'synackmissing0' does not exist" "$tmp/err"; then ok; else bad "an IPv6 route that holds: $(cat "$tmp/err")"; fi
if "$synack" serve --help | grep -q -- "--addr 2001:db8::2/64"; then ok; else bad "--help lacks the IPv6 --addr"; fi

# After the device is open: an unwritable capture file is still bad usage,
# and the device synack created is gone afterwards.  Only as root, only in
# a namespace of our own.
if [ "$(id -u)" = 0 ] && [ -c /dev/net/tun ] && unshare -n true 2>/dev/null; then
	unshare -n bash -c '
		"$1" serve --dev synt0 --create --tap --addr 10.7.0.2/24 --app http --pcap /nonexistent/x.pcap \
			>"$2/out" 2>"$2/err"
		echo $? >"$2/rc"
		ip link show synt0 >/dev/null 2>&1 && echo left >"$2/left"
		true' _ "$synack" "$tmp"
	if [ "$(cat "$tmp/rc")" = 2 ] && grep -q "^synack serve: cannot write pcap file" "$tmp/err" &&
		[ ! -e "$tmp/left" ] && [ ! -s "$tmp/out" ]; then
		ok
	else
		bad "serve with an unwritable --pcap: rc $(cat "$tmp/rc"), $(cat "$tmp/err"), left: $([ -e "$tmp/left" ] && echo yes || echo no)"
	fi
	# A device of the other kind: a clear message, exit 2, the device stays.
	unshare -n bash -c '
		ip tuntap add dev synt1 mode tun
		"$1" serve --dev synt1 --tap --addr 10.7.0.2/24 --app http >"$2/out" 2>"$2/err"
		echo $? >"$2/rc"' _ "$synack" "$tmp"
	if [ "$(cat "$tmp/rc")" = 2 ] && grep -q "^synack serve: cannot open tap device 'synt1'" "$tmp/err"; then
		ok
	else
		bad "serve --tap on a tun device: rc $(cat "$tmp/rc"), $(cat "$tmp/err")"
	fi
else
	echo "skipped: device checks need root, /dev/net/tun and unshare"
fi

echo "test_serve_args: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
