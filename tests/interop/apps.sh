# shellcheck shell=bash
# Shared by the tests of real programs over libsynack-preload.so (issue 15
# item 4), sourced after lib.sh: the program runs under `synack run` on the
# namespace's TAP device (synack 10.7.0.2), its peer on the kernel's TCP
# (10.7.0.1).  A program that is missing fails the test (tests/run.sh
# installs them); so does a preload library that was not built.  Every wait
# polls with a bound and never asserts a duration.

IT_PRELOAD=
RUN_FLAGS=() # more flags of synack run for it_run and it_run_bg
IT_STDIN=/dev/null # the standard input of it_run_bg and it_kernel_bg

# it_apps_init NAME SYNACK_BINARY PROGRAM...: it_init with a TAP device.
it_apps_init() {
	local name=$1 bin=$2 p
	shift 2
	it_init "$name" "$bin" sha256sum
	# Absolute, so that a test may run a program from another directory.
	synack=$(cd "$(dirname "$synack")" && pwd)/$(basename "$synack")
	for p in "$@"; do
		command -v "$p" >/dev/null 2>&1 || {
			bad "$p is missing (tests/run.sh installs it)"
			it_finish
		}
	done
	IT_PRELOAD=$(dirname "$synack")/libsynack-preload.so
	[ -f "$IT_PRELOAD" ] || {
		bad "no $IT_PRELOAD: the preload library is not built"
		it_finish
	}
	# The sanitizer build's library needs ASan's runtime loaded first
	# (synack run keeps a caller's LD_PRELOAD before its own); the
	# programs' own leaks at exit are not synack's, so the leak check is
	# off for them.  Memory errors in the library still abort.
	IT_RUN_ENV=()
	local asan
	asan=$(ldd "$IT_PRELOAD" 2>/dev/null | awk '/libasan/ { print $3 }')
	if [ -n "$asan" ]; then
		IT_RUN_ENV=(env "LD_PRELOAD=$asan" "ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0")
	fi
	it_dev tap
}

# it_asan_probe PROGRAM ARGS...: in the sanitizer build, whether PROGRAM
# runs at all with ASan's runtime preloaded (curl 7.88 does not: it
# deadlocks in setlocale() before its first line, with or without synack);
# the test is skipped, saying so, when it does not.  Nothing in the normal
# build.
it_asan_probe() {
	[ ${#IT_RUN_ENV[@]} -gt 0 ] || return 0
	timeout 10 "${IT_RUN_ENV[@]}" "$@" >/dev/null 2>&1
	[ $? -ne 124 ] && return 0
	it_skip "$1 hangs with ASan's runtime preloaded (without synack too): it runs in the normal build"
}

# it_run_bg NAME PROGRAM ARGS...: PROGRAM under synack run in the
# background (stdout NAME.out, stderr NAME.err); sets RUN_PID.
it_run_bg() {
	local log=$IT_TMP/$1
	shift
	ip netns exec "$IT_NS" "${IT_RUN_ENV[@]}" "$synack" run --dev "$IT_DEV" "$IT_MODE" --addr "$IT_SYNACK/24" \
		"${RUN_FLAGS[@]}" -- "$@" <"$IT_STDIN" >"$log.out" 2>"$log.err" &
	RUN_PID=$!
	IT_PIDS+=("$RUN_PID")
}

# it_run NAME SECONDS PROGRAM ARGS...: PROGRAM under synack run, at most
# SECONDS; its exit status in RUN_RC (124: it ran out of time).  Stdin is
# the caller's.
it_run() {
	local log=$IT_TMP/$1 t=$2
	shift 2
	ns timeout "$t" "${IT_RUN_ENV[@]}" "$synack" run --dev "$IT_DEV" "$IT_MODE" --addr "$IT_SYNACK/24" \
		"${RUN_FLAGS[@]}" -- "$@" >"$log.out" 2>"$log.err"
	RUN_RC=$?
}

# it_kernel_bg NAME PROGRAM ARGS...: PROGRAM on the kernel's TCP in the
# namespace, in the background (NAME.out, NAME.err); sets KERNEL_PID.
it_kernel_bg() {
	local log=$IT_TMP/$1
	shift
	ip netns exec "$IT_NS" timeout 200 "$@" <"$IT_STDIN" >"$log.out" 2>"$log.err" &
	KERNEL_PID=$!
	IT_PIDS+=("$KERNEL_PID")
}

# it_wait_line FILE ERE SECONDS PID WHAT: wait until FILE has a line
# matching ERE while PID runs; a test failure (and the end) otherwise.
it_wait_line() {
	local f=$1 re=$2 n=$(($3 * 10)) pid=$4 what=$5 i
	for i in $(seq 1 "$n"); do
		grep -Eq -- "$re" "$f" 2>/dev/null && return 0
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	bad "$what is not ready (no /$re/ in $(basename "$f")): $(tail -n 5 "${f%.*}.err" 2>/dev/null)"
	it_finish
}

# it_wait_http URL SECONDS PID WHAT: the kernel's curl polls URL until it
# answers 200 while PID runs (for servers that print nothing when ready).
it_wait_http() {
	local url=$1 n=$(($2 * 5)) pid=$3 what=$4 i
	for i in $(seq 1 "$n"); do
		[ "$(ns curl -s --max-time 2 -o /dev/null -w '%{http_code}' "$url")" = 200 ] && return 0
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.2
	done
	bad "$what does not answer $url: $(tail -n 5 "$IT_TMP/$what.err" 2>/dev/null)"
	it_finish
}

# it_check_sha FILE WANT WHAT: FILE's sha256 is WANT.
it_check_sha() {
	local got
	got=$(sha256sum <"$1" | cut -d' ' -f1)
	if [ "$got" = "$2" ]; then
		ok
	else
		bad "$3: sha256 $got ($(stat -c %s "$1" 2>/dev/null || echo no) bytes), want $2"
	fi
}

# it_make_file PATH BYTES: a file of pseudo-random bytes (fixed seed).
it_make_file() {
	python3 -c 'import random,sys
r = random.Random(15)
n = int(sys.argv[2])
with open(sys.argv[1], "wb") as f:
    while n > 0:
        k = min(n, 1 << 20)
        f.write(r.randbytes(k))
        n -= k' "$1" "$2"
}
