#!/usr/bin/env bash
# The sans-IO promise (docs: /work/shared/DESIGN.md, "The core ... never
# reads a clock, makes a system call, sleeps, starts a thread"), checked on
# the compiled objects: every object of the library except those built from
# src/link/ and src/run/ (the only places allowed to touch the OS) may
# reference only symbols defined by the library itself and an allow-list of
# pure C library and compiler runtime functions.  Anything else (time,
# clock_gettime, read, write, socket, epoll_*, pthread_*, rand, getrandom,
# fopen, printf, getenv ...) fails the test, naming the object and symbol.
# Usage: test_sans_io.sh NM OBJECT...   (every object of the library)
set -euo pipefail
nm=${1:?usage: test_sans_io.sh NM OBJECT...}
shift
# add_test may hand the object list over as one ;-separated argument.
objs=()
for a in "$@"; do
	IFS=';' read -r -a parts <<<"$a"
	objs+=("${parts[@]}")
done

core=()
for o in "${objs[@]}"; do
	case "$o" in
	*/src/link/* | */src/run/*) ;;
	*) core+=("$o") ;;
	esac
done
if [ ${#core[@]} -eq 0 ]; then
	echo "FAIL: no core objects among the ${#objs[@]} given: nothing was checked" >&2
	exit 1
fi

# Symbols the library defines itself (the core may call its own modules).
defined=$(mktemp)
trap 'rm -f "$defined"' EXIT
for o in "${objs[@]}"; do
	"$nm" --defined-only "$o" | awk 'NF >= 3 {print $3}'
done | sort -u >"$defined"

# What the core may use from outside: memory and string functions, string
# formatting and parsing into buffers, the allocator, assert, and what
# compilers, fortification and sanitizers insert.  sscanf is here because
# synack_endpoint_parse() reads "a.b.c.d:port" with it: it parses a string
# and touches nothing else.
allow='^(mem(cpy|move|set|cmp|chr|rchr)|str(len|nlen|cmp|ncmp|chr|rchr|str|spn|cspn|tol|toul|toull)'
allow+='|v?snprintf|(__isoc99_|__isoc23_)?sscanf|malloc|calloc|realloc|free|abs|labs'
allow+='|__assert_fail|__stack_chk_fail|__stack_chk_guard|__[a-z0-9_]+_chk'
allow+='|__asan_.*|__ubsan_.*|__sanitizer_.*|__tsan.*|__msan_.*|__lsan_.*|__sancov.*'
allow+='|_GLOBAL_OFFSET_TABLE_|__builtin_.*|__cpu_model|__cpu_indicator_init'
allow+='|__udivti3|__umodti3|__divti3|__modti3|__popcountdi2|__clzdi2|__ctzdi2)$'

bad=0
for o in "${core[@]}"; do
	while read -r sym; do
		[ -z "$sym" ] && continue
		sym=${sym%%@*}
		if [[ $sym =~ $allow ]]; then
			continue
		fi
		if grep -qxF -- "$sym" "$defined"; then
			continue
		fi
		echo "FAIL: ${o#*/src/} references $sym (not allowed in the sans-IO core)" >&2
		bad=1
	done < <("$nm" -u "$o" | awk '{print $NF}')
done
if [ $bad -ne 0 ]; then
	exit 1
fi
echo "ok: ${#core[@]} core objects of ${#objs[@]} reference only the library and the allow-list"
