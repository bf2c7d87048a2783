#!/usr/bin/env bash
# The public headers are used from C and C++ programs: each
# include/synack/*.h alone must compile as strict C11 without any POSIX
# feature macro, and one translation unit that includes them all as strict
# C11 and as C++ (C++11 and C++17), without a warning.  Every program in
# EXAMPLES_DIR compiles as strict C11 too, with only the feature macros it
# defines itself (its own POSIX calls are its business, not the headers').
# Exits 77 (skipped) when no C++ compiler is installed.
# Usage: test_headers.sh INCLUDE_DIR [C_COMPILER [EXAMPLES_DIR]]
set -euo pipefail
inc=${1:?usage: test_headers.sh INCLUDE_DIR [C_COMPILER [EXAMPLES_DIR]]}
cc=${2:-cc}
examples=${3:-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

headers=("$inc"/synack/*.h)
if [ ! -e "${headers[0]}" ]; then
	echo "FAIL: no headers in $inc/synack" >&2
	exit 1
fi
{
	for h in "${headers[@]}"; do
		echo "#include \"synack/$(basename "$h")\""
	done
	# Use something from every header so that a declaration that only
	# breaks when it is referenced is caught too.
	cat <<'SRC'
int synack_headers_check(void);
int synack_headers_check(void)
{
	struct synack_config cfg;
	struct synack_sim_path path = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
	struct synack_link_config lc;
	synack_config_default(&cfg);
	synack_link_config_default(&lc);
	(void)path;
	return (int)sizeof(struct synack_stats) + SYNACK_DROP_COUNT + SYNACK_LINK_DROP_COUNT +
	       SYNACK_PCAP_LINKTYPE_RAW + (synack_run_now(0) > 0);
}
SRC
} >"$tmp/all.c"
cp "$tmp/all.c" "$tmp/all.cc"

fail=0
cflags=(-std=c11 -pedantic -Wall -Wextra -Werror -Wstrict-prototypes -Wmissing-prototypes)
# Strict C11 without POSIX, each header alone (so none leans on another's
# includes).
for h in "${headers[@]}"; do
	printf '#include "synack/%s"\nint synack_header_%s;\n' "$(basename "$h")" \
		"$(basename "$h" .h)" >"$tmp/one.c"
	echo "C11: $cc synack/$(basename "$h")"
	"$cc" "${cflags[@]}" -I"$inc" -c "$tmp/one.c" -o "$tmp/one.o" || fail=1
done
echo "C11: $cc (every header)"
"$cc" "${cflags[@]}" -I"$inc" -c "$tmp/all.c" -o "$tmp/c.o" || fail=1
nex=0
if [ -n "$examples" ]; then
	for ex in "$examples"/*.c; do
		[ -e "$ex" ] || continue
		echo "C11: $cc examples/$(basename "$ex")"
		"$cc" "${cflags[@]}" -I"$inc" -c "$ex" -o "$tmp/ex.o" || fail=1
		nex=$((nex + 1))
	done
	if [ $nex -eq 0 ]; then
		echo "FAIL: no examples in $examples" >&2
		fail=1
	fi
fi

cxx=""
for c in "${CXX:-}" c++ g++ clang++; do
	if [ -n "$c" ] && command -v "$c" >/dev/null; then
		cxx=$c
		break
	fi
done
if [ -z "$cxx" ]; then
	echo "SKIP: no C++ compiler (install g++) to check the headers as C++" >&2
	[ $fail -eq 0 ] && exit 77
	exit 1
fi
for std in c++11 c++17; do
	echo "C++ ($std): $cxx"
	"$cxx" -std=$std -pedantic -Wall -Wextra -Werror -I"$inc" -c "$tmp/all.cc" \
		-o "$tmp/cxx.o" || fail=1
done
if [ $fail -ne 0 ]; then
	echo "FAIL: the public headers do not compile cleanly" >&2
	exit 1
fi
echo "ok: ${#headers[@]} headers compile as C11, C++11 and C++17; $nex examples as C11"
