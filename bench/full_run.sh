#!/usr/bin/env bash
# One full run of synack-bench for docs/PERFORMANCE.md (issue 16 item 5):
# the default workloads on all four implementations (synack, Linux, lwIP,
# gVisor), then as root the tap and threads workloads, then the callgrind
# counts, all as JSON lines into one file, and bench/report.py's Markdown
# from that file.  Paste the Markdown between the BEGIN/END markers of
# docs/PERFORMANCE.md "Results (generated)".
#
# usage: bench/full_run.sh [--smoke | --quick] [BUILD_DIR [OUT]]
#   BUILD_DIR  a RelWithDebInfo build (default: build)
#   OUT        output prefix (default: bench-run-DATE): OUT.jsonl (the JSON
#              lines), OUT.md (the tables), OUT.log (progress)
#   --smoke    every part at --smoke size, to try the script (seconds; the
#              figures mean nothing); --quick: at --quick size (minutes)
# Environment:
#   SYNACK_FULL_RUN_TIMEOUT  limit of each part in seconds (default 14400:
#              a safety net; the gVisor scale run alone may take an hour on a
#              loaded machine, and synack-bench has its own per-run limits)
#   SYNACK_FULL_RUN_NO_GVISOR=1  run although gVisor's program is not built
#              (the tables then say "not built" in its column)
#
# Expected duration on the 2-core machine of docs/PERFORMANCE.md: about 25
# minutes (the default workloads took 21 in the last full run with gVisor;
# tap about 3, threads 1 to 2, callgrind under 1, from their sizes).  Run it
# on a quiet machine: every part records the load average at its start and
# end, and the tables print them.
set -euo pipefail
smoke=()
if [ "${1:-}" = "--smoke" ] || [ "${1:-}" = "--quick" ]; then
	smoke=("$1")
	shift
fi
build=${1:-build}
out=${2:-bench-run-$(date -u +%Y%m%dT%H%M%SZ)}
here=$(cd "$(dirname "$0")" && pwd)
bench=$build/bench/synack-bench
limit=${SYNACK_FULL_RUN_TIMEOUT:-14400}

die() {
	echo "full_run.sh: $*" >&2
	exit 1
}

[ -x "$bench" ] || die "no $bench (cmake -S . -B $build -DCMAKE_BUILD_TYPE=RelWithDebInfo && cmake --build $build -j2)"
cache=$build/CMakeCache.txt
if [ -f "$cache" ]; then
	grep -q '^SYNACK_SANITIZE:BOOL=ON' "$cache" && die "$build is a sanitizer build: its figures mean nothing"
	type=$(sed -n 's/^CMAKE_BUILD_TYPE:STRING=//p' "$cache")
	[ "$type" = RelWithDebInfo ] || echo "full_run.sh: warning: $build is a '$type' build, the doc's figures are RelWithDebInfo" >&2
	grep -q '^SYNACK_LWIP_.*NOTFOUND' "$cache" &&
		echo "full_run.sh: warning: no lwIP in $build (apt-get install liblwip-dev, re-run cmake): its column will say not built" >&2
fi
# gVisor's column needs its Go program (bench/CMakeLists.txt builds it when
# go and golang-gvisor-gvisor-dev are there).
if [ ! -x "$build/bench/synack-gvisor-bench" ]; then
	[ "${SYNACK_FULL_RUN_NO_GVISOR:-0}" = 1 ] ||
		die "gVisor's program is not built ($build/bench/synack-gvisor-bench): apt-get install golang-go golang-gvisor-gvisor-dev, re-run cmake and build (or SYNACK_FULL_RUN_NO_GVISOR=1)"
else
	echo "full_run.sh: gVisor peer built with $(go version 2>/dev/null || echo 'go (not on PATH now)')" >&2
fi
root=0
if [ "$(id -u)" -eq 0 ] && [ -c /dev/net/tun ]; then
	root=1
else
	echo "full_run.sh: not root (or no /dev/net/tun): no Linux rows, no tap or threads workloads" >&2
fi

: >"$out.jsonl"
: >"$out.log"
part() {
	echo "full_run.sh: synack-bench $* (log: $out.log)" >&2
	local t0=$SECONDS
	if ! timeout "$limit" "$bench" "$@" --json >>"$out.jsonl" 2>>"$out.log"; then
		die "synack-bench $* failed or took more than $limit s; partial output in $out.jsonl"
	fi
	echo "full_run.sh: ... $((SECONDS - t0)) s" >&2
}
part "${smoke[@]}"
if [ "$root" = 1 ]; then
	part --bench tap "${smoke[@]}"
	part --bench threads "${smoke[@]}"
fi
if [ "${smoke[*]}" != --smoke ] && valgrind --version >/dev/null 2>&1; then
	part --callgrind
fi
python3 "$here/report.py" "$out.jsonl" >"$out.md"
echo "full_run.sh: $out.jsonl and $out.md (bench/report.py --into docs/PERFORMANCE.md $out.jsonl puts it between the markers)" >&2
