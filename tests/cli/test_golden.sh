#!/usr/bin/env bash
# Behaviour must not change by accident: every case in tests/golden/cases.sh
# (each `synack demo` scenario, `synack transfer` over seeds and impairment
# mixes) must print byte for byte what tests/golden/expected/ recorded, and
# exit with the recorded status.  A deliberate change re-records them with
# tests/golden/record.sh in the same commit, saying why.
# Usage: test_golden.sh PATH_TO_SYNACK
set -u
synack=${1:?usage: test_golden.sh PATH_TO_SYNACK}
golden=$(cd "$(dirname "$0")/../golden" && pwd)
. "$golden/cases.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0
fail=0
while read -r name args; do
	rc=0
	# shellcheck disable=SC2086 # the arguments are words
	"$synack" $args >"$tmp/out" 2>&1 || rc=$?
	if [ ! -f "$golden/expected/$name.out" ]; then
		echo "FAIL: $name: nothing recorded (tests/golden/record.sh)" >&2
		fail=$((fail + 1))
	elif ! cmp -s "$tmp/out" "$golden/expected/$name.out"; then
		echo "FAIL: $name: synack $args prints something else; the first differences:" >&2
		diff "$golden/expected/$name.out" "$tmp/out" | head -10 >&2
		fail=$((fail + 1))
	elif [ "$rc" != "$(cat "$golden/expected/$name.rc")" ]; then
		echo "FAIL: $name: exit status $rc, recorded $(cat "$golden/expected/$name.rc")" >&2
		fail=$((fail + 1))
	else
		pass=$((pass + 1))
	fi
done < <(golden_cases)
# Every recorded file belongs to a case (a renamed case leaves no stale file).
for f in "$golden"/expected/*.out; do
	name=$(basename "$f" .out)
	if ! golden_cases | awk '{print $1}' | grep -qxF -- "$name"; then
		echo "FAIL: $name.out is recorded but no case makes it" >&2
		fail=$((fail + 1))
	fi
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
