#!/usr/bin/env bash
# `synack serve` and `synack connect` refuse bad usage before touching a
# device: every case below has one bad flag, address, port, app or device
# name, so none of them opens (or creates) a TUN/TAP device.  Each must
# print one line starting "synack serve: " (or "synack connect: ") on
# stderr, nothing on stdout, and exit 2.  When root and unshare(1) are at
# hand, a failure after the device was created (an unwritable --pcap)
# is checked inside a private network namespace to leave no device behind.
# Usage: test_serve_args.sh PATH_TO_SYNACK
set -u
synack=${1:?usage: test_serve_args.sh PATH_TO_SYNACK}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() {
	echo "FAIL: $*" >&2
	fail=$((fail + 1))
}

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
usage_error serve "${good[@]}" --app http --loss 1.5
usage_error serve "${good[@]}" --app http --dup -0.1
usage_error serve "${good[@]}" --app http --reorder x
usage_error serve "${good[@]}" --app http --delay-ms 60001
usage_error serve "${good[@]}" --app http --seed -1
usage_error serve "${good[@]}" --app http --pcap ""
# Device names the kernel would refuse or expand: refused before opening.
for d in "" a-name-far-too-long tap/0 "tap 0" "tap%d" ..; do
	usage_error serve --dev "$d" --tap --addr 10.7.0.2/24 --app http
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

# After the device is open: an unwritable capture file is still bad usage,
# and the device synack created is gone afterwards.  Only as root, only in
# a namespace of our own.
if [ "$(id -u)" = 0 ] && [ -c /dev/net/tun ] && unshare -n true 2>/dev/null; then
	unshare -n bash -c '
		"$1" serve --dev synt0 --tap --addr 10.7.0.2/24 --app http --pcap /nonexistent/x.pcap \
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
