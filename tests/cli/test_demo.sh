#!/usr/bin/env bash
# `synack demo` from the outside: every scenario exits 0, --list works, bad
# usage exits 2 with a message, and --json prints one object per line with
# the contract's keys, the summary last.
# Usage: test_demo.sh PATH_TO_SYNACK
set -u
synack=${1:?usage: test_demo.sh PATH_TO_SYNACK}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0
fail=0

ok() {
	pass=$((pass + 1))
}
bad() {
	echo "FAIL: $*" >&2
	fail=$((fail + 1))
}

# --list: one line per scenario, name first.
if "$synack" demo --list >"$tmp/list" 2>"$tmp/err"; then ok; else bad "demo --list exited $?"; fi
scenarios=$(awk '{print $1}' "$tmp/list")
for want in handshake server-closes-first simultaneous-open simultaneous-close half-close \
	fin-before-data time-wait-straggler refused syn-lost close-wait-leak fin-wait-1-stuck \
	fin-wait-2-timeout zero-window retransmit window-scale paws sack-recovery tail-loss syn-flood blind-reset \
	blind-data ack-flood fast-open; do
	if grep -qx -- "$want" <<<"$scenarios"; then ok; else bad "--list lacks $want"; fi
done
if [ "$(wc -l <"$tmp/list")" -eq 23 ]; then ok; else bad "--list has $(wc -l <"$tmp/list") lines"; fi
if awk 'NF < 3 { exit 1 }' "$tmp/list"; then ok; else bad "--list line without a description"; fi

# Help.
if "$synack" --help | grep -q demo; then ok; else bad "synack --help does not mention demo"; fi
if "$synack" demo --help | grep -q -- --seed; then ok; else bad "synack demo --help"; fi

# Every scenario, ladder and JSON.
has_python=0
command -v python3 >/dev/null 2>&1 && has_python=1
attacks="syn-flood blind-reset blind-data ack-flood"
# Over both families (issue 14): the same scenarios, the same checks; only
# the shape of an endpoint differs (a socket not yet bound or connected has
# no family and shows 0.0.0.0:0-0.0.0.0:0 in both).
for fam in "" --ipv6; do
if [ -z "$fam" ]; then ep='[0-9.]+:[0-9]+'; else ep='\[[0-9a-f:.]+\]:[0-9]+'; fi
for s in $scenarios; do
	if grep -qw -- "$s" <<<"$attacks"; then continue; fi
	"$synack" demo "$s" $fam >"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [ $rc -eq 0 ]; then ok; else bad "demo $s $fam exited $rc: $(tail -n 20 "$tmp/out")"; fi
	if [ "$(tail -n 1 "$tmp/out")" = ok ]; then ok; else bad "demo $s does not end with ok"; fi
	if grep -q -- '-->|\||<--' "$tmp/out"; then ok; else bad "demo $s draws no arrows"; fi
	if awk 'length($0) > 100 { exit 1 }' "$tmp/out"; then ok; else bad "demo $s: lines wider than 100"; fi

	"$synack" demo "$s" $fam --json >"$tmp/json" 2>"$tmp/err"
	rc=$?
	if [ $rc -eq 0 ]; then ok; else bad "demo $s $fam --json exited $rc"; fi
	n=$(wc -l <"$tmp/json")
	# Every line but the last: an object with t_us, host, conn and ev.
	if head -n $((n - 1)) "$tmp/json" | awk -v conn="\"conn\":\"$ep-$ep\"" '
		!/^\{.*\}$/ { exit 1 }
		!/"t_us":[0-9]+/ || !/"host":"(client|server)"/ { exit 1 }
		$0 !~ conn && !/"conn":"0\.0\.0\.0:0-0\.0\.0\.0:0"/ { exit 1 }
		!/"ev":"(state|tx|rx|drop|app)"/ { exit 1 }
		/"ev":"state"/ && (!/"from":"[A-Z_0-9]+"/ || !/"to":"[A-Z_0-9]+"/ || !/"cause":"[a-z_0-9]+"/) { exit 1 }
		/"ev":"(tx|rx|drop)"/ && (!/"flags":"[A-Z.]+"/ || !/"seq":[0-9]+/ || !/"ack":[0-9]+/ || !/"len":[0-9]+/ || !/"win":[0-9]+/) { exit 1 }
		/"ev":"drop"/ && !/"reason":"[a-z_0-9]+"/ { exit 1 }
		/"ev":"app"/ && (!/"call":"[a-z_]+"/ || !/"ret":-?[0-9]+/) { exit 1 }
	'; then ok; else bad "demo $s --json: a line lacks the contract's keys"; fi
	if tail -n 1 "$tmp/json" | grep -q '^{"ev":"summary","ok":true,'; then ok; else
		bad "demo $s --json: last line is not an ok summary"
	fi
	if grep -q '"ev":"state"' "$tmp/json" && grep -q '"ev":"tx"' "$tmp/json" &&
		grep -q '"ev":"app"' "$tmp/json"; then ok; else bad "demo $s --json lacks state/tx/app events"; fi
	if [ $has_python -eq 1 ]; then
		if python3 -c '
import json, sys
lines = open(sys.argv[1]).read().splitlines()
for l in lines:
    o = json.loads(l)
    assert isinstance(o, dict)
    if o["ev"] != "summary":
        for k in ("t_us", "host", "conn", "ev"):
            assert k in o, k
assert json.loads(lines[-1])["ev"] == "summary"
' "$tmp/json"; then ok; else bad "demo $s --json: not valid JSON lines"; fi
	fi
done
done

# The attack scenarios, at their default sizes (syn-flood: 1,000,000 spoofed
# SYNs and 1,000 clients): a readable summary of figures ending with ok, and
# with --json one summary line naming the figures.
for s in $attacks; do
	"$synack" demo "$s" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [ $rc -eq 0 ]; then ok; else bad "demo $s exited $rc: $(tail -n 20 "$tmp/out")"; fi
	if [ "$(tail -n 1 "$tmp/out")" = ok ]; then ok; else bad "demo $s does not end with ok"; fi
	if grep -Eq '^  legit_ok +[0-9]+$' "$tmp/out" && grep -Eq '^  peak_conns +[0-9]+$' "$tmp/out"; then ok; else
		bad "demo $s: no figures in the summary"
	fi
	if awk 'length($0) > 100 { exit 1 }' "$tmp/out"; then ok; else bad "demo $s: lines wider than 100"; fi
	"$synack" demo "$s" --json >"$tmp/json" 2>"$tmp/err"
	rc=$?
	if [ $rc -eq 0 ]; then ok; else bad "demo $s --json exited $rc"; fi
	if [ "$(wc -l <"$tmp/json")" -eq 1 ] &&
		grep -q "^{\"ev\":\"summary\",\"ok\":true,\"scenario\":\"$s\"," "$tmp/json" &&
		grep -q '"legit_ok":[0-9]*,"legit_failed":0,' "$tmp/json" &&
		grep -q '"peak_conns":[0-9]*,"conns_bound":[0-9]*' "$tmp/json"; then ok; else
		bad "demo $s --json: not one ok summary line with the figures"
	fi
	if [ $has_python -eq 1 ]; then
		if python3 -c '
import json, sys
o = json.loads(open(sys.argv[1]).read())
assert o["ev"] == "summary" and o["ok"] is True
assert o["legit_ok"] == o["clients"] and o["legit_failed"] == 0
assert o["peak_conns"] <= o["conns_bound"]
assert all(c["ok"] for c in o["checks"])
if sys.argv[2] == "syn-flood":
    assert o["spoofed_syns"] == 1000000 and o["clients"] == 1000
    assert o["syncookies_sent"] > 0
' "$tmp/json" "$s"; then ok; else bad "demo $s --json: summary figures wrong"; fi
	fi
done

# The attack scenarios over IPv6 (issue 14: SYN cookies, challenge ACKs and
# the cookie check over the 128-bit tuple): the same run as over IPv4, so
# every figure and check is the same but the memory (smaller sizes here).
for args in "syn-flood --count 20000 --clients 50" "ack-flood --count 20000 --clients 50" \
	"blind-reset --clients 2" "blind-data --clients 2"; do
	# shellcheck disable=SC2086
	"$synack" demo $args --json >"$tmp/a4" 2>"$tmp/err"
	# shellcheck disable=SC2086
	"$synack" demo $args --ipv6 --json >"$tmp/a6" 2>"$tmp/err"
	rc=$?
	if [ $rc -eq 0 ]; then ok; else bad "demo $args --ipv6 exited $rc"; fi
	if grep -q '^{"ev":"summary","ok":true,' "$tmp/a6"; then ok; else bad "demo $args --ipv6: not ok"; fi
	if [ "$(sed 's/"peak_mem_bytes":[0-9]*,//' "$tmp/a4")" = "$(sed 's/"peak_mem_bytes":[0-9]*,//' "$tmp/a6")" ]; then ok; else
		bad "demo $args: IPv6 figures differ from IPv4's"
	fi
	# shellcheck disable=SC2086
	"$synack" demo $args --ipv6 >"$tmp/out" 2>"$tmp/err"
	if head -n 1 "$tmp/out" | grep -qF 'server [2001:db8::2]:80' && [ "$(tail -n 1 "$tmp/out")" = ok ]; then ok; else
		bad "demo $args --ipv6: the text summary does not name the IPv6 server or end with ok"
	fi
done
if "$synack" demo syn-flood --count 2000 --clients 3 --json | grep -q '"spoofed_syns":2000,"clients":3,'; then
	ok
else bad "syn-flood --count/--clients not used"; fi

# Same seed, same bytes; another seed, other ISNs.
"$synack" demo --json --seed 5 >"$tmp/a"
"$synack" demo --json --seed 5 >"$tmp/b"
"$synack" demo --json --seed 6 >"$tmp/c"
if cmp -s "$tmp/a" "$tmp/b"; then ok; else bad "--seed 5 twice gives different output"; fi
if ! cmp -s "$tmp/a" "$tmp/c"; then ok; else bad "--seed 5 and --seed 6 give the same output"; fi

# Flags with values are accepted in both spellings.
if "$synack" demo handshake --seed=3 --delay-ms 2 --time-wait-ms 1000 --fin-timeout-ms=2000 >/dev/null; then
	ok
else bad "valid flags refused"; fi

# Bad usage: exit 2 and a message on stderr.
expect_usage_error() {
	"$synack" "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [ $rc -eq 2 ]; then ok; else bad "synack $* exited $rc, want 2"; fi
	if [ -s "$tmp/err" ]; then ok; else bad "synack $*: no message on stderr"; fi
}
expect_usage_error demo no-such-scenario
expect_usage_error demo --no-such-flag
expect_usage_error demo --seed
expect_usage_error demo --seed -3
expect_usage_error demo --seed twelve
expect_usage_error demo --loss 1.5
expect_usage_error demo --loss -0.2
expect_usage_error demo --dup abc
expect_usage_error demo --reorder 2
expect_usage_error demo --delay-ms -1
expect_usage_error demo --delay-ms 1.5
expect_usage_error demo --time-wait-ms -10
expect_usage_error demo --fin-timeout-ms x
expect_usage_error demo syn-flood --count -5
expect_usage_error demo syn-flood --clients 0
expect_usage_error no-such-command

# --ipv6 (issue 14): every endpoint in the JSON is IPv6, a listener's
# unconnected remote end too ([::]:0, not 0.0.0.0:0).
if "$synack" demo handshake --ipv6 --json >"$tmp/v6.json" 2>"$tmp/err"; then ok; else bad "demo --ipv6 exited $?"; fi
if grep '"call":"listen"' "$tmp/v6.json" | grep -qF -- '-[::]:0"'; then ok; else bad "--ipv6: the listen event's remote end is not [::]:0"; fi
if ! grep -q '"conn":"[0-9]' "$tmp/v6.json"; then ok; else bad "--ipv6: an IPv4 endpoint in the JSON"; fi

echo "test_demo.sh: $pass passed, $fail failed"
[ $fail -eq 0 ]
