#!/usr/bin/env bash
# `synack bridge` refuses bad usage before touching a device: each case has
# one bad flag or value and must print one line "synack bridge: ..." on
# stderr, nothing on stdout, and exit 2, saying why where it matters.  The
# impairment flags are those of `synack transfer` (one parser): their
# sentences are the same.  A device that does not exist is refused without
# --create (checked in a private network namespace when root can make one).
# Usage: test_bridge_args.sh PATH_TO_SYNACK
set -u
. "$(dirname "$0")/lib.sh"

# usage_error ARGS... ERE: exit 2, one stderr line matching ERE, no stdout.
usage_error() {
	local ere=${*: -1}
	set -- "${@:1:$#-1}"
	"$synack" bridge "$@" >"$tmp/out" 2>"$tmp/err"
	local rc=$?
	if [ $rc -ne 2 ] || [ -s "$tmp/out" ] || [ "$(wc -l <"$tmp/err")" -ne 1 ] ||
		! grep -Eq -- "^synack bridge: .*$ere" "$tmp/err"; then
		bad "synack bridge $*: rc $rc, stdout $(wc -c <"$tmp/out") bytes, stderr: $(cat "$tmp/err") (wanted /$ere/)"
		return
	fi
	ok
}

if "$synack" --help | grep -q "bridge"; then ok; else bad "synack --help lacks bridge"; fi
"$synack" bridge --help >"$tmp/help"
for flag in --dev-a --dev-b --create --dir --loss --dup --reorder --corrupt --delay-ms \
	--jitter-ms --bw-mbps --queue --seed --limit-pkts --limit-bytes --mtu --stats-interval --json; do
	if grep -q -- "$flag" "$tmp/help"; then ok; else bad "synack bridge --help lacks $flag"; fi
done

d=(--dev-a ta0 --dev-b tb0)
usage_error "required"
usage_error --dev-a ta0 "required"
usage_error --dev-a ta0 --dev-b ta0 "the same device"
usage_error "${d[@]}" --dev-a "" "empty"
usage_error "${d[@]}" --dev-b "t\"b" "not a device name"
usage_error "${d[@]}" --loss 1.5 "'1.5' is not a probability in \[0, 1\]"
usage_error "${d[@]}" --dup x "is not a probability"
usage_error "${d[@]}" --corrupt -0.1 "is not a probability"
usage_error "${d[@]}" --delay-ms 60001 "milliseconds in \[0, 60000\]"
usage_error "${d[@]}" --jitter-ms 1s "milliseconds"
usage_error "${d[@]}" --bw-mbps 0 "is not a rate in Mbit/s"
usage_error "${d[@]}" --queue 10 "needs --bw-mbps"
usage_error "${d[@]}" --dir a-to-b --bw-mbps 10 --dir b-to-a --queue 10 "needs --bw-mbps"
usage_error "${d[@]}" --bw-mbps 10 --queue 1000001 "packets in \[0, 1000000\]"
usage_error "${d[@]}" --dir up "not a-to-b, b-to-a or both"
usage_error "${d[@]}" --seed -1 "whole number"
usage_error "${d[@]}" --limit-pkts 0 "at least 1"
usage_error "${d[@]}" --limit-bytes 1000 "do not hold one frame"
usage_error "${d[@]}" --limit-bytes 1T "size in bytes"
usage_error "${d[@]}" --mtu 67 "below the least IPv4 MTU"
usage_error "${d[@]}" --mtu 70000 "whole number in \[0, 65521\]"
usage_error "${d[@]}" --stats-interval 5x "time"
usage_error "${d[@]}" --loss "needs a value"
usage_error "${d[@]}" --frobnicate "unknown option '--frobnicate'"
usage_error "${d[@]}" extra "unexpected argument 'extra'"

if [ "$(id -u)" -eq 0 ] && [ -c /dev/net/tun ] && command -v unshare >/dev/null; then
	unshare -n "$synack" bridge "${d[@]}" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [ $rc -eq 2 ] && grep -q "^synack bridge: device 'ta0' does not exist" "$tmp/err"; then
		ok
	else
		bad "bridge on missing devices: rc $rc, $(cat "$tmp/err")"
	fi
else
	echo "skipped: the device check needs root, /dev/net/tun and unshare"
fi

echo "test_bridge_args: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
