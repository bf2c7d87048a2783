#!/usr/bin/env bash
# `synack run` (issue 15 item 5) refuses bad usage before executing
# anything: each case exits 2 with one "synack run: " line on stderr and
# nothing on stdout, and runs no program (the program of every bad case
# would create a file).  With good flags, --print-env shows the environment
# the program would get; without --print-env the program really runs with
# LD_PRELOAD and the SYNACK_* variables set (a stand-in library that does
# nothing), its arguments and exit status passed through; a missing program
# exits 127, an unreadable or missing library 2.
# Usage: test_run_args.sh PATH_TO_SYNACK
set -u
. "$(dirname "$0")/lib.sh"

# A stand-in for libsynack-preload.so: an empty shared object the loader
# accepts, so the exec path is tested without a device.
echo 'int synack_run_test_stand_in;' >"$tmp/lib.c"
cc -shared -fPIC -o "$tmp/libsynack-preload.so" "$tmp/lib.c" || bad "cannot build the stand-in library"
lib=$tmp/libsynack-preload.so
ran=$tmp/ran

usage_error() {
	rm -f "$ran"
	"$synack" run "$@" >"$tmp/out" 2>"$tmp/err"
	local rc=$?
	if [ $rc -ne 2 ]; then
		bad "synack run $*: exit $rc, expected 2"
	elif [ -s "$tmp/out" ]; then
		bad "synack run $*: wrote to stdout"
	elif [ "$(wc -l <"$tmp/err")" -ne 1 ] || ! grep -q "^synack run: " "$tmp/err"; then
		bad "synack run $*: stderr is not one 'synack run: ' line: $(cat "$tmp/err")"
	elif [ -e "$ran" ]; then
		bad "synack run $*: ran the program"
	else
		ok
	fi
}
says() {
	if grep -Eq -- "$1" "$tmp/err"; then ok; else bad "expected /$1/ in: $(cat "$tmp/err")"; fi
}

good=(--dev tap0 --tap --addr 10.7.0.2/24 --preload "$lib")
prog=(-- touch "$ran")

if "$synack" --help | grep -q "^  run "; then ok; else bad "synack --help lacks run"; fi
if "$synack" run --help | grep -q -- "--print-env"; then ok; else bad "synack run --help"; fi

usage_error "${good[@]}"                              # no program
says 'no program to run'
usage_error "${good[@]}" --                           # still none
usage_error --tap --addr 10.7.0.2/24 --preload "$lib" "${prog[@]}"  # no --dev
says -- '--dev NAME is required'
usage_error --dev tap0 --addr 10.7.0.2/24 --preload "$lib" "${prog[@]}"
says -- '--tap or --tun is required'
usage_error --dev tap0 --tap --preload "$lib" "${prog[@]}"
usage_error --dev tap0 --tap --tun --addr 10.7.0.2/24 --preload "$lib" "${prog[@]}"
for a in 10.7.0.2 10.7.0.2/33 127.0.0.1/8 224.0.0.1/4 10.7.0.2/24x; do
	usage_error --dev tap0 --tap --addr "$a" --preload "$lib" "${prog[@]}"
done
usage_error "${good[@]}" --addr 10.8.0.2/33 "${prog[@]}"
usage_error "${good[@]}" --gw 10.9.0.1 "${prog[@]}"   # off the prefix
usage_error "${good[@]}" --gw 10.7.0.1 --gw 10.7.0.3 "${prog[@]}"
says 'one gateway'
usage_error "${good[@]}" --gw x "${prog[@]}"
usage_error "${good[@]}" --pcap "" "${prog[@]}"
usage_error "${good[@]}" --set foo=1 "${prog[@]}"
says "unknown setting 'foo'"
usage_error "${good[@]}" --set time_wait_ms=0 "${prog[@]}"
says '^synack run: time_wait_ms: 0 is outside 1\.\.3600000$'
usage_error "${good[@]}" --syn-retries 128 "${prog[@]}"
usage_error "${good[@]}" --frobnicate "${prog[@]}"
says "unknown argument '--frobnicate'"
# serve's flags that the library does not take are named as such.
for f in "--loss 0.1" "--delay-ms 5" "--no-gro" "--route 10.9.0.0/16" \
	"--keepalive" "--user-timeout-ms 5s" "--routes"; do
	# shellcheck disable=SC2086
	usage_error "${good[@]}" $f "${prog[@]}"
	says "is a flag of synack serve and connect that the preload library does not take"
done
usage_error "${good[@]}" --preload "$tmp/nonesuch.so" "${prog[@]}"
says "^synack run: --preload: cannot read '.*nonesuch.so'"
usage_error "${good[@]}" --preload "" "${prog[@]}"
# No --preload and no library beside this synack: a copy of the binary in
# a directory of its own finds none.
mkdir -p "$tmp/alone" && cp "$synack" "$tmp/alone/synack"
rm -f "$ran"
"$tmp/alone/synack" run --dev tap0 --tap --addr 10.7.0.2/24 "${prog[@]}" >"$tmp/out" 2>"$tmp/err"
rc=$?
if [ $rc -eq 2 ] && [ ! -e "$ran" ]; then ok; else bad "no library: exit $rc"; fi
says "^synack run: cannot find libsynack-preload.so \(looked for $tmp/alone/libsynack-preload.so"
# ... and one beside it is found.
mkdir -p "$tmp/bin" && cp "$synack" "$tmp/bin/synack" && cp "$lib" "$tmp/bin/libsynack-preload.so"
if "$tmp/bin/synack" run --dev tap0 --tap --addr 10.7.0.2/24 --print-env -- true |
	grep -qx "LD_PRELOAD=$tmp/bin/libsynack-preload.so"; then ok; else bad "the library beside the binary is not found"; fi

# --print-env: the environment, then the command; nothing runs.
rm -f "$ran"
LD_PRELOAD= SYNACK_TUN=1 "$synack" run --dev tap0 --create --tap --addr 10.7.0.2/24 --gw 10.7.0.1 \
	--addr 10.8.0.2/16 --txqueuelen 500 \
	--pcap "$tmp/c.pcap" --set time_wait_ms=2s --syn-retries 3 --set congestion_control=reno \
	--set arp_retries=5 --set nd_retrans_ms=2s --set packet_pool_trim_ms=5 \
	--debug --preload "$lib" --print-env "${prog[@]}" >"$tmp/out" 2>"$tmp/err"
rc=$?
cat >"$tmp/want" <<W
LD_PRELOAD=$lib
SYNACK_DEV=tap0
SYNACK_TAP=1
SYNACK_CREATE=1
SYNACK_ADDR=10.7.0.2/24,10.8.0.2/16
SYNACK_GW=10.7.0.1
SYNACK_PCAP=$tmp/c.pcap
SYNACK_TXQUEUELEN=500
SYNACK_DEBUG=1
W
if [ $rc -eq 0 ] && [ ! -e "$ran" ] && [ ! -s "$tmp/err" ]; then ok; else bad "--print-env: exit $rc, ran=$([ -e "$ran" ] && echo yes), $(cat "$tmp/err")"; fi
if diff <(head -9 "$tmp/out") "$tmp/want" >/dev/null; then ok; else bad "--print-env: $(diff <(head -9 "$tmp/out") "$tmp/want")"; fi
for line in SYNACK_TIME_WAIT_MS=2000 SYNACK_SYN_RETRIES=3 SYNACK_CONGESTION_CONTROL=reno \
	SYNACK_ARP_RETRIES=5 SYNACK_ND_RETRANS_MS=2000 SYNACK_PACKET_POOL_TRIM_MS=5 "touch $ran"; do
	if grep -qx "$line" "$tmp/out"; then ok; else bad "--print-env lacks $line: $(cat "$tmp/out")"; fi
done
# IPv6 (issue 14): the IPv6 addresses follow the IPv4 ones in SYNACK_ADDR
# (several of each, long ones too), and an IPv6 gateway is SYNACK_GW.
out=$("$synack" run --dev tap0 --tap --addr 10.7.0.2/24 --addr 2001:db8::2/64 \
	--addr 2001:db8:1111:2222:3333:4444:5555:6666/64 --addr 10.8.0.2/16 --gw 2001:db8::1 \
	--preload "$lib" --print-env -- true 2>&1)
if grep -qx "SYNACK_ADDR=10.7.0.2/24,2001:db8::2/64,2001:db8:1111:2222:3333:4444:5555:6666/64,10.8.0.2/16" <<<"$out" &&
	grep -qx "SYNACK_GW=2001:db8::1" <<<"$out"; then ok; else bad "IPv6 through --print-env: $out"; fi
# A preload already asked for stays, before ours (a sanitizer's runtime
# must come first).
if LD_PRELOAD=/other.so "$synack" run "${good[@]}" --print-env -- true 2>/dev/null | grep -qx "LD_PRELOAD=/other.so:$lib"; then
	ok
else
	bad "an LD_PRELOAD of the caller is lost"
fi

# The program runs, with the environment, its arguments and its exit status
# (the caller's SYNACK_* variables are gone: only the flags' reach it);
# without "--" the first word that is not a flag starts it.
SYNACK_TUN=1 SYNACK_TIME_WAIT_MS=9s SYNACK_IT_KEEP=1 "$synack" run "${good[@]}" --set time_wait_ms=3s -- sh -c \
	'env | grep -E "^(LD_PRELOAD|SYNACK_)" | sort >"$1"; exit 7' sh "$tmp/env"
rc=$?
if [ $rc -eq 7 ]; then ok; else bad "the program's exit status 7 came back as $rc"; fi
printf '%s\n' "LD_PRELOAD=$lib" SYNACK_ADDR=10.7.0.2/24 SYNACK_DEV=tap0 SYNACK_TAP=1 SYNACK_TIME_WAIT_MS=3000 >"$tmp/want"
if diff "$tmp/env" "$tmp/want" >/dev/null; then ok; else bad "the program's environment: $(diff "$tmp/env" "$tmp/want")"; fi
rm -f "$ran"
"$synack" run "${good[@]}" touch "$ran" "$tmp/second"
if [ -e "$ran" ] && [ -e "$tmp/second" ]; then ok; else bad "the program without -- did not run"; fi
"$synack" run "${good[@]}" -- "$tmp/no-such-program" 2>"$tmp/err"
rc=$?
if [ $rc -eq 127 ]; then ok; else bad "a missing program: exit $rc, expected 127"; fi
says "^synack run: $tmp/no-such-program: No such file or directory$"
"$synack" run "${good[@]}" -- "$tmp" 2>"$tmp/err"
rc=$?
if [ $rc -eq 126 ]; then ok; else bad "a directory as the program: exit $rc, expected 126"; fi

echo "test_run_args: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
