# shellcheck shell=bash
# Shared by the CLI tests (sourced, not run): the synack binary from the
# script's first argument, a temporary directory $tmp removed on exit, and
# the pass/fail counters with ok and bad.
synack=${1:?usage: $(basename "$0") PATH_TO_SYNACK}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() {
	echo "FAIL: $*" >&2
	fail=$((fail + 1))
}
