#!/usr/bin/env bash
# The whole test suite: a normal build and an AddressSanitizer +
# UndefinedBehaviorSanitizer build, each running every test with ctest,
# then an install check (headers, library and pkg-config file usable).
# Run from anywhere; installs what it needs on Debian when it is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v cmake >/dev/null || missing+=(cmake)
command -v cc >/dev/null || missing+=(gcc)
command -v make >/dev/null || missing+=(make)
command -v pkg-config >/dev/null || missing+=(pkg-config)
# For synack-bench's side-by-side runs (lwIP rows, veth offloads).
[ -e /usr/include/lwip/lwip/tcp.h ] || missing+=(liblwip-dev)
command -v ethtool >/dev/null || missing+=(ethtool)
if [ ${#missing[@]} -gt 0 ]; then
	echo "installing: ${missing[*]}"
	apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null
fi

jobs=$(nproc 2>/dev/null || echo 2)

echo "== normal build"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$jobs"
(cd build && ctest --output-on-failure -j"$jobs")

echo "== AddressSanitizer + UndefinedBehaviorSanitizer build"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DSYNACK_SANITIZE=ON >/dev/null
cmake --build build-asan -j"$jobs"
(cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest --output-on-failure -j"$jobs")

echo "== install check"
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
cmake --install build --prefix "$prefix" >/dev/null
cat >"$prefix/use.c" <<'C'
#include <synack/synack.h>
#include <stdio.h>
int main(void)
{
	struct synack_config cfg;
	int err;
	synack_config_default(&cfg);
	cfg.addr = 0x0a000001;
	struct synack_stack *st = synack_stack_new(&cfg, &err);
	if (!st)
		return 1;
	printf("installed synack works: %s\n", synack_state_name(SYNACK_TIME_WAIT));
	synack_stack_free(st);
	return 0;
}
C
PKG_CONFIG_PATH="$prefix/lib/pkgconfig:$prefix/lib/x86_64-linux-gnu/pkgconfig" \
	sh -c 'cc -Wall -Werror "$1/use.c" -o "$1/use" $(pkg-config --cflags --libs synack) && LD_LIBRARY_PATH="$1/lib:$1/lib/x86_64-linux-gnu" "$1/use"' _ "$prefix"
echo "install check: 1 passed, 0 failed"
