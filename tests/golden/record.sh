#!/usr/bin/env bash
# Records the golden outputs: tests/golden/expected/NAME.out holds what
# `synack ARGS` printed and NAME.rc its exit status, for every case in
# cases.sh.  Run it only when behaviour changes on purpose, and say why in
# the commit that carries the new files.
# Usage: tests/golden/record.sh PATH_TO_SYNACK
set -euo pipefail
synack=${1:?usage: record.sh PATH_TO_SYNACK}
here=$(cd "$(dirname "$0")" && pwd)
. "$here/cases.sh"
rm -rf "$here/expected"
mkdir -p "$here/expected"
n=0
while read -r name args; do
	rc=0
	# shellcheck disable=SC2086 # the arguments are words
	"$synack" $args >"$here/expected/$name.out" 2>&1 || rc=$?
	echo "$rc" >"$here/expected/$name.rc"
	n=$((n + 1))
done < <(golden_cases)
echo "recorded $n cases in $here/expected"
