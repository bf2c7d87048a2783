#!/usr/bin/env bash
# The whole test suite: a normal build and an AddressSanitizer +
# UndefinedBehaviorSanitizer build, each running every test with ctest,
# then the libFuzzer targets (clang, ASan + UBSan) for a fixed number of
# executions each from a fixed seed,
# then an install check (headers, library and pkg-config file usable; the
# shared library exports nothing but the API).
# The interop tests (tests/interop) need root and /dev/net/tun; without
# them ctest reports them skipped.
# Run from anywhere; installs what it needs on Debian when it is missing.
# SYNACK_FUZZ_RUNS=N gives every fuzz target N executions instead of its
# default (0: only replay the corpus and the crash regressions);
# SYNACK_FUZZ_SEED=S changes the seed.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v cmake >/dev/null || missing+=(cmake)
command -v cc >/dev/null || missing+=(gcc)
command -v make >/dev/null || missing+=(make)
command -v pkg-config >/dev/null || missing+=(pkg-config)
# build_test_headers compiles the public headers as C++ too.
command -v c++ >/dev/null || missing+=(g++)
# The interop tests (tests/interop) run only as root; they talk to the
# kernel's TCP with these, tshark checks their captures, scapy crafts
# hostile frames.
if [ "$(id -u)" -eq 0 ]; then
	command -v curl >/dev/null || missing+=(curl)
	command -v ip >/dev/null || missing+=(iproute2)
	command -v ping >/dev/null || missing+=(iputils-ping)
	command -v python3 >/dev/null || missing+=(python3)
	command -v tshark >/dev/null || missing+=(tshark)
	# tests/cli/test_pictures.sh renders the --html page in a real browser.
	command -v chromium >/dev/null || missing+=(chromium)
	# test_http_keepalive.sh loads the HTTP app with ab and wrk.
	command -v ab >/dev/null || missing+=(apache2-utils)
	command -v wrk >/dev/null || missing+=(wrk)
	# test_hostile_scapy.sh crafts frames with Debian's scapy (system python).
	/usr/bin/python3 -c 'import scapy.all' >/dev/null 2>&1 || missing+=(python3-scapy)
	# The real programs over libsynack-preload.so (issue 15 item 4:
	# tests/interop/test_prog_*.sh, bench/programs.sh) and their peers.
	command -v nginx >/dev/null || missing+=(nginx-light)
	command -v redis-server >/dev/null || missing+=(redis-server)
	command -v redis-benchmark >/dev/null || missing+=(redis-tools)
	command -v iperf3 >/dev/null || missing+=(iperf3)
	command -v openssl >/dev/null || missing+=(openssl)
	command -v wget >/dev/null || missing+=(wget)
	command -v socat >/dev/null || missing+=(socat)
	command -v nc >/dev/null || missing+=(netcat-openbsd)
fi
# For synack-bench's side-by-side runs (lwIP rows, veth offloads).
[ -e /usr/include/lwip/lwip/tcp.h ] || missing+=(liblwip-dev)
command -v ethtool >/dev/null || missing+=(ethtool)
# gVisor's netstack as a synack-bench peer (bench/gvisor, built with Go
# against Debian's packaged sources, offline).
command -v go >/dev/null || missing+=(golang-go)
[ -e /usr/share/gocode/src/gvisor.dev/gvisor/pkg/tcpip/stack/stack.go ] || missing+=(golang-gvisor-gvisor-dev)
if [ ${#missing[@]} -gt 0 ]; then
	echo "installing: ${missing[*]}"
	# tshark's package asks whether non-root users may capture: no.
	echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections 2>/dev/null || true
	# iperf3's package asks whether to start a server at boot: no.
	echo "iperf3 iperf3/start_daemon boolean false" | debconf-set-selections 2>/dev/null || true
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

echo "== fuzzing: libFuzzer targets (clang, ASan + UBSan)"
# libFuzzer comes with clang's runtime libraries (Debian: libclang-rt-dev);
# a one-line target tells whether clang can link it.
fuzz_probe=$(mktemp -d)
echo 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { (void)d; (void)n; return 0; }' >"$fuzz_probe/probe.c"
if ! clang -fsanitize=fuzzer,address,undefined "$fuzz_probe/probe.c" -o "$fuzz_probe/probe" >/dev/null 2>&1; then
	echo "installing: clang libclang-rt-dev"
	DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq clang libclang-rt-dev >/dev/null
fi
rm -rf "$fuzz_probe"
# Optimised but with asserts on (no NDEBUG): an assert is an invariant.
CC=clang cmake -S . -B build-fuzz -DSYNACK_FUZZ=ON -DSYNACK_TESTS=OFF \
	-DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_FLAGS=-O1 >/dev/null
cmake --build build-fuzz -j"$jobs"
# Executions per target, from a fixed seed: the same inputs every run, so
# the stage is deterministic (about a minute and a half in all on this
# machine, most of it for the whole-stack target).  SYNACK_FUZZ_RUNS
# overrides the count for every target (SYNACK_FUZZ_SEED the seed) for
# longer hunts.  The committed corpus is copied into a scratch directory
# (libFuzzer adds what it finds there), so the tree is left alone; a
# crashing input is kept in build-fuzz/artifacts/.
fuzz_passed=0
fuzz_failed=0
mkdir -p build-fuzz/artifacts
for spec in wire:3000000 stack:15000 config:300000 cli:500000 script:300000 link:300000 ip6:30000 pcap:300000; do
	t=${spec%%:*}
	runs=${SYNACK_FUZZ_RUNS:-${spec#*:}}
	work=$(mktemp -d)
	cp fuzz/corpus/fuzz_$t/* "$work/"
	bin=build-fuzz/fuzz/fuzz_$t
	opts=(-seed="${SYNACK_FUZZ_SEED:-1}" -max_len=8192 -timeout=20 -rss_limit_mb=2048
		-print_final_stats=1 -artifact_prefix="$PWD/build-fuzz/artifacts/fuzz_$t-")
	ok=1
	# The crash regressions first, each run once.
	if [ -d fuzz/regress/fuzz_$t ] && ! "$bin" "${opts[@]}" fuzz/regress/fuzz_$t/* >"$work.log" 2>&1; then
		ok=0
	fi
	if [ $ok = 1 ]; then
		"$bin" "${opts[@]}" -runs="$runs" "$work" >"$work.log" 2>&1 || ok=0
	fi
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work.log" | tail -1)
	cov=$(grep -o 'cov: [0-9]* ft: [0-9]*' "$work.log" | tail -1)
	if [ $ok = 1 ]; then
		echo "fuzz_$t: ${execs:-?} executions, ${cov:-no coverage line}: ok"
		fuzz_passed=$((fuzz_passed + 1))
	else
		echo "fuzz_$t: FAILED (input kept in build-fuzz/artifacts/); the end of its log:"
		tail -40 "$work.log"
		fuzz_failed=$((fuzz_failed + 1))
	fi
	rm -rf "$work" "$work.log"
done
echo "fuzz: $fuzz_passed passed, $fuzz_failed failed"
[ $fuzz_failed = 0 ]

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
# The shared library exports the API only (every symbol synack_*): a program
# linking synack next to another TCP/IP library gets no symbol clashes.
cmake -S . -B build-shared -DBUILD_SHARED_LIBS=ON -DSYNACK_TESTS=OFF -DSYNACK_EXAMPLES=OFF >/dev/null
cmake --build build-shared -j"$jobs" --target synack >/dev/null
exported=$(nm -D --defined-only build-shared/libsynack.so | awk '{print $3}')
stray=$(grep -v '^synack_' <<<"$exported" || true)
if [ -n "$stray" ] || [ -z "$exported" ]; then
	echo "libsynack.so exports symbols outside the API:"
	echo "$stray" | head -20
	exit 1
fi
echo "shared library: $(wc -l <<<"$exported") symbols exported, all synack_*"
cc -Wall -Werror -Iinclude "$prefix/use.c" -o "$prefix/use-shared" -Lbuild-shared -lsynack
LD_LIBRARY_PATH=build-shared "$prefix/use-shared"
# libsynack-preload (issue 15) is installed beside the library and exports
# only the libc functions it interposes (preload/exports.map), so a program
# never binds to the stack's own symbols through it.
pre=$(find "$prefix/lib" -name libsynack-preload.so | head -n 1)
if [ -z "$pre" ]; then
	echo "libsynack-preload.so is not installed"
	exit 1
fi
pexported=$(nm -D --defined-only "$pre" | awk '{print $3}' | sort)
pwant=$(grep -o '[a-z0-9_]\+;' preload/exports.map | tr -d ';' | sort)
if [ "$pexported" != "$pwant" ]; then
	echo "libsynack-preload.so exports other symbols than preload/exports.map lists:"
	diff <(echo "$pwant") <(echo "$pexported") | head -20
	exit 1
fi
echo "preload library: $(wc -l <<<"$pexported") libc functions exported, nothing else"
echo "install check: 3 passed, 0 failed"
