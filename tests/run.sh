#!/usr/bin/env bash
# The whole test suite: a normal build and an AddressSanitizer +
# UndefinedBehaviorSanitizer build, each running every test with ctest,
# then an install check (headers, library and pkg-config file usable).
# The interop tests (tests/interop) need root and /dev/net/tun; without
# them ctest reports them skipped.
# Run from anywhere; installs what it needs on Debian when it is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v cmake >/dev/null || missing+=(cmake)
command -v cc >/dev/null || missing+=(gcc)
command -v make >/dev/null || missing+=(make)
command -v pkg-config >/dev/null || missing+=(pkg-config)
# The interop tests (tests/interop) run only as root; they talk to the
# kernel's TCP with these, tshark checks their captures, scapy crafts
# hostile frames.
if [ "$(id -u)" -eq 0 ]; then
	command -v curl >/dev/null || missing+=(curl)
	command -v ip >/dev/null || missing+=(iproute2)
	command -v ping >/dev/null || missing+=(iputils-ping)
	command -v python3 >/dev/null || missing+=(python3)
	command -v tshark >/dev/null || missing+=(tshark)
	# test_hostile_scapy.sh crafts frames with Debian's scapy (system python).
	/usr/bin/python3 -c 'import scapy.all' >/dev/null 2>&1 || missing+=(python3-scapy)
fi
if [ ${#missing[@]} -gt 0 ]; then
	echo "installing: ${missing[*]}"
	# tshark's package asks whether non-root users may capture: no.
	echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections 2>/dev/null || true
	DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
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
