# shellcheck shell=bash
# Shared by the interop tests (sourced, not run).  Each test gets its own
# network namespace (synack-it-PID-NAME) with one TAP or TUN device:
#   the kernel is 10.7.0.1/24 on the device, synack is 10.7.0.2/24.
# Nothing outside the namespace is ever addressed.  On exit the trap stops
# every process the test started (by pid) and deletes the namespace.
# A test exits 0 when every check passed, 1 when one failed, and 77
# (ctest SKIP_RETURN_CODE) when it cannot run here: not root, no
# /dev/net/tun, no `ip`, or a tool it needs missing.

IT_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
IT_PEER="$IT_HERE/peer.py"
IT_LINUX=10.7.0.1
IT_SYNACK=10.7.0.2
IT_PIDS=()
IT_NS=
IT_TMP=
pass=0
fail=0

ok() {
	pass=$((pass + 1))
}
bad() {
	echo "FAIL: $*" >&2
	fail=$((fail + 1))
}
note() {
	echo "  $*"
}
it_skip() {
	echo "SKIP: $*"
	exit 77
}

# it_init NAME SYNACK_BINARY [TOOL...]: check what the test needs, make the
# temporary directory and the namespace, arm the cleanup.
it_init() {
	local name=$1 tool
	synack=${2:?usage: test.sh PATH_TO_SYNACK}
	shift 2
	[ "$(id -u)" -eq 0 ] || it_skip "needs root (network namespaces, TUN/TAP)"
	[ -c /dev/net/tun ] || it_skip "no /dev/net/tun"
	for tool in ip ss python3 timeout "$@"; do
		command -v "$tool" >/dev/null 2>&1 || it_skip "needs $tool (tests/run.sh installs it)"
	done
	[ -x "$synack" ] || { echo "FAIL: no synack binary at $synack" >&2; exit 1; }
	# Until issue 4's serve/connect land in this tree there is nothing to run.
	"$synack" --help 2>&1 | grep -qw serve || it_skip "this synack has no serve/connect commands"
	# Namespaces an earlier test left behind when it was killed outright
	# (ctest's timeout sends SIGKILL, which no trap sees): those of a
	# process that no longer runs.  A running test's are left alone.
	local ns owner
	for ns in $(ip netns list 2>/dev/null | awk '$1 ~ /^synack-it-[0-9]+-/ {print $1}'); do
		owner=${ns#synack-it-}
		owner=${owner%%-*}
		kill -0 "$owner" 2>/dev/null || ip netns del "$ns" 2>/dev/null
	done
	IT_TMP=$(mktemp -d /tmp/synack-it-"$name".XXXXXX)
	IT_NS=synack-it-$$-$name
	trap it_cleanup EXIT
	trap 'exit 1' INT TERM HUP
	ip netns add "$IT_NS" || it_skip "cannot create a network namespace"
	ip -n "$IT_NS" link set lo up
}

it_cleanup() {
	local pid i
	for pid in "${IT_PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null
	done
	for pid in "${IT_PIDS[@]}"; do
		for i in $(seq 1 30); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	if [ -n "$IT_NS" ]; then
		# Anything still inside the namespace was started by this test.
		for pid in $(ip netns pids "$IT_NS" 2>/dev/null); do
			kill -KILL "$pid" 2>/dev/null
		done
		ip netns del "$IT_NS" 2>/dev/null
	fi
	if [ -n "$IT_TMP" ]; then
		if [ "$fail" -gt 0 ] && [ -n "${SYNACK_IT_KEEP:-}" ]; then
			echo "kept $IT_TMP" >&2
		else
			rm -rf "$IT_TMP"
		fi
	fi
}

ns() {
	ip netns exec "$IT_NS" "$@"
}

# it_dev tap|tun: the device in the namespace, kernel side addressed.
# Sets IT_DEV and IT_MODE (the synack flag, --tap or --tun).
it_dev() {
	IT_DEV=${1}0
	IT_MODE=--$1
	ip -n "$IT_NS" tuntap add dev "$IT_DEV" mode "$1" || { bad "tuntap add $1"; it_finish; }
	ip -n "$IT_NS" addr add "$IT_LINUX/24" dev "$IT_DEV"
	ip -n "$IT_NS" link set "$IT_DEV" up
}

# it_serve LOG ARGS...: start `synack serve` on the device in the background
# (stdout LOG.out, stderr LOG.err), wait for its ready line.  Sets SERVE_PID.
it_serve() {
	local log=$IT_TMP/$1 i
	shift
	# Not through ns(): a backgrounded function is a subshell, and $! must be
	# synack itself (ip netns exec execs it) so that signals reach it.
	ip netns exec "$IT_NS" "$synack" serve --dev "$IT_DEV" "$IT_MODE" --addr "$IT_SYNACK/24" "$@" \
		>"$log.out" 2>"$log.err" &
	SERVE_PID=$!
	IT_PIDS+=("$SERVE_PID")
	# Only a serve with --stats-every prints stats blocks before its stop:
	# it_wait_summary refuses to wait for one that never comes.
	rm -f "$log.stats-every"
	case " $* " in *" --stats-every "* | *" --stats-every="*) : >"$log.stats-every" ;; esac
	for i in $(seq 1 100); do
		grep -q '^synack serve: listening on ' "$log.out" 2>/dev/null && return 0
		kill -0 "$SERVE_PID" 2>/dev/null || break
		sleep 0.1
	done
	bad "synack serve $* printed no ready line: $(cat "$log.err" "$log.out")"
	it_finish
}

# it_stop PID NAME ERRFILE: SIGINT, then the exit status must be 0 (the
# graceful stop of synack serve and synack bridge); SIGKILL after 10 s.
it_stop() {
	local pid=$1 name=$2 rc i
	kill -INT "$pid" 2>/dev/null
	for i in $(seq 1 100); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		bad "$name still running 10 s after SIGINT"
		kill -KILL "$pid"
	fi
	wait "$pid"
	rc=$?
	if [ $rc -eq 0 ]; then ok; else bad "$name exited $rc after SIGINT: $(tail -n 5 "$3")"; fi
}

# it_serve_stop LOG: it_stop for synack serve (contract: the graceful stop;
# a final stats block must have been printed).
it_serve_stop() {
	it_stop "$SERVE_PID" "synack serve" "$IT_TMP/$1.err"
}

# The last stats summary line synack serve printed.
it_last_summary() { # LOG
	# The header of the last complete block (ended by its blank line), so
	# that counters_of, which reads that same block, never pairs it with
	# an older one while serve is still writing the newest.
	awk '/^--- synack stats at /{hdr=$0; inb=1; next}
		inb && /^$/{last=hdr; inb=0}
		END{if (last != "") print last}' "$IT_TMP/$1.out"
}

# How many complete stats blocks LOG holds so far.
it_summary_count() { # LOG
	awk '/^--- synack stats at /{inb=1; next} inb && /^$/{n++; inb=0} END{print n+0}' "$IT_TMP/$1.out"
}

# it_wait_summary LOG ERE SECONDS: wait until the last summary line matches,
# in a block completed after this call began.  A block that was already
# complete may predate what the caller just did (the clients' last
# connections, say), and its counters with it.  The serve of LOG must have
# been started with --stats-every (else the first block comes at its stop):
# without, this is a test bug, reported at once rather than waited out.
it_wait_summary() {
	local i n=$(($3 * 10)) start
	if [ ! -e "$IT_TMP/$1.stats-every" ]; then
		bad "it_wait_summary $1: that synack serve has no --stats-every, so no stats block comes before its stop"
		return 1
	fi
	start=$(it_summary_count "$1")
	for i in $(seq 1 "$n"); do
		if [ "$(it_summary_count "$1")" -gt "$start" ] &&
			it_last_summary "$1" | grep -Eq -- "$2"; then
			return 0
		fi
		sleep 0.1
	done
	return 1
}

# counters_of FILE: "name value" lines of the last complete stats block in
# FILE (its `counters:` lines hold name value pairs).
counters_of() {
	awk '/^--- synack stats at /{cur=""; inb=1; next}
		inb && /^counters:/{sub(/^counters:[ \t]*/, ""); cur=cur " " $0; next}
		inb && /^$/{last=cur; inb=0}
		END{print last}' "$1" | tr ' ,' '\n\n' | grep -v '^$' |
		awk '{ if (index($0, "=")) { split($0, a, "="); print a[1], a[2] }
			else if (name == "") name = $0; else { print name, $0; name = "" } }'
}
value_of() { # NAME FILE(name value lines)
	awk -v n="$1" '$1 == n { print $2; f=1 } END { if (!f) print "none" }' "$2"
}

# How far counter NAME moved between the counters in $IT_TMP/before and
# $IT_TMP/after (counters_of's output), or none.
it_delta() { # NAME
	local a b
	a=$(value_of "$1" "$IT_TMP/before")
	b=$(value_of "$1" "$IT_TMP/after")
	if [ "$a" = none ] || [ "$b" = none ]; then echo none; else echo $((b - a)); fi
}
# The same for a drop reason, printed as drop_REASON and only once nonzero;
# a reason link_X is the link's own drop, printed as link_drop_X.
it_drop_delta() { # REASON
	local a b name=drop_$1
	case $1 in link_*) name=link_drop_${1#link_} ;; esac
	a=$(value_of "$name" "$IT_TMP/before")
	b=$(value_of "$name" "$IT_TMP/after")
	[ "$a" = none ] && a=0
	if [ "$b" = none ]; then echo none; else echo $((b - a)); fi
}

# The kernel's TCP sockets in the namespace in the given ss states.
it_ss_states() { # STATE...
	local args=() s
	for s in "$@"; do args+=(state "$s"); done
	ns ss -Htan "${args[@]}"
}

# it_wait_no_kernel_stuck SECONDS: no kernel socket in CLOSE_WAIT,
# FIN_WAIT_1 or FIN_WAIT_2 (waits for ones that are on their way out).
it_wait_no_kernel_stuck() {
	local i n=$(($1 * 10))
	for i in $(seq 1 "$n"); do
		[ -z "$(it_ss_states close-wait fin-wait-1 fin-wait-2)" ] && return 0
		sleep 0.1
	done
	return 1
}

# it_connect LOG ARGS...: `synack connect` on the device (stdout LOG.out,
# stderr LOG.err); its exit status is in CONNECT_RC.
it_connect() {
	local log=$IT_TMP/$1
	shift
	ns timeout 150 "$synack" connect --dev "$IT_DEV" "$IT_MODE" --addr "$IT_SYNACK/24" "$@" \
		>"$log.out" 2>"$log.err"
	CONNECT_RC=$?
}

# The numbers of synack connect's summary line.
it_connect_summary() { # LOG
	grep '^synack connect: ' "$IT_TMP/$1.err" | tail -n 1
}

# it_peer_server LOG ARGS...: peer.py server in the background, waits for
# "ready".  Sets PEER_PID.
it_peer_server() {
	local log=$IT_TMP/$1 i
	shift
	ip netns exec "$IT_NS" timeout 150 python3 "$IT_PEER" server "$@" >"$log.out" 2>"$log.err" &
	PEER_PID=$!
	IT_PIDS+=("$PEER_PID")
	for i in $(seq 1 100); do
		grep -qx ready "$log.out" 2>/dev/null && return 0
		kill -0 "$PEER_PID" 2>/dev/null || break
		sleep 0.1
	done
	bad "peer.py server $* not ready: $(cat "$log.err")"
	it_finish
}

# it_peer_wait: wait for the peer server; its result line is in LOG.out.
it_peer_wait() {
	wait "$PEER_PID"
}

# A key's value in a key=value result line.
kv() { # KEY FILE
	tr ' ' '\n' <"$2" | sed -n "s/^$1=//p" | tail -n 1
}

# it_pcap_problems FILE: print every frame tshark finds malformed or with a
# checksum error (IPv4, TCP, UDP and ICMP checksums verified), and the
# expert info summary of those groups; status 1 when there is any, or when
# tshark cannot read the file, or when it holds no packet.
# One exception: a TCP checksum of 0xFFFF where 0x0000 was due, on a frame
# from the kernel's address.  Both are zero in one's complement and verify;
# Linux writes 0xFFFF when it completes a checksum in software
# (skb_checksum_help() puts CSUM_MANGLED_0 for a zero result, one frame in
# 65536), and Wireshark calls it an error (RFC 1624).  The same from synack
# is still a problem.  The kernel's address is IT_LINUX unless a test puts
# the kernel elsewhere: then it sets IT_PCAP_KERNEL_SRC (its addresses,
# separated by spaces) before it_pcap_check.
IT_PCAP_BAD='_ws.malformed || _ws.expert.group == 0x01000000 || _ws.expert.group == 0x07000000'
IT_PCAP_BAD+=' || ip.checksum.status == "Bad" || tcp.checksum.status == "Bad"'
IT_PCAP_BAD+=' || icmp.checksum.status == "Bad" || udp.checksum.status == "Bad"'
it_pcap_problems() {
	local f=$1 n rc out
	local IT_PCAP_KERNEL_FFFF IT_PCAP_FILTER kernel=${IT_PCAP_KERNEL_SRC:-$IT_LINUX}
	IT_PCAP_KERNEL_FFFF="ip.src in {${kernel// /, }} && tcp.checksum == 0xffff && !_ws.malformed"
	IT_PCAP_KERNEL_FFFF+=' && !(ip.checksum.status == "Bad") && !(_ws.expert.message contains "Bad checksum")'
	IT_PCAP_FILTER="($IT_PCAP_BAD) && !($IT_PCAP_KERNEL_FFFF)"
	local prefs=(-o ip.check_checksum:TRUE -o tcp.check_checksum:TRUE -o udp.check_checksum:TRUE)
	tshark -n -r "$f" "${prefs[@]}" -T fields -e frame.number >"$f.frames" 2>"$f.tshark-err"
	rc=$?
	if [ $rc -ne 0 ]; then
		echo "$f: tshark exited $rc: $(grep -v 'Running as user' "$f.tshark-err" | head -n 3)"
		return 1
	fi
	n=$(grep -c '^[0-9]' "$f.frames")
	if [ "$n" -eq 0 ]; then
		echo "$f: no packet in it"
		return 1
	fi
	if ! out=$(tshark -n -r "$f" "${prefs[@]}" -Y "$IT_PCAP_FILTER" 2>"$f.tshark-err"); then
		echo "$f: tshark failed: $(grep -v 'Running as user' "$f.tshark-err" | head -n 3)"
		return 1
	fi
	if [ -n "$out" ]; then
		echo "$f: $(wc -l <<<"$out") bad frames of $n:"
		head -n 10 <<<"$out"
		tshark -n -r "$f" "${prefs[@]}" -q -z expert,warn 2>/dev/null | grep -iE 'malformed|checksum' | head -n 10
		return 1
	fi
	local ffff
	ffff=$(tshark -n -r "$f" "${prefs[@]}" -Y "($IT_PCAP_BAD) && ($IT_PCAP_KERNEL_FFFF)" 2>/dev/null | wc -l)
	if [ "$ffff" -gt 0 ]; then
		echo "$n frames ($ffff from the kernel with TCP checksum 0xffff for 0x0000),"
	else
		echo "$n frames,"
	fi
	return 0
}

# it_pcap_check FILE...: every pcap must be clean (see it_pcap_problems).
it_pcap_check() {
	local f
	command -v tshark >/dev/null 2>&1 || {
		bad "tshark is missing: the pcap check cannot run (tests/run.sh installs it)"
		return
	}
	for f in "$@"; do
		if [ ! -s "$f" ]; then
			bad "pcap $f was not written"
			continue
		fi
		if it_pcap_problems "$f" >"$IT_TMP/pcap-problems" 2>&1; then
			ok
			note "pcap $(basename "$f"): $(cat "$IT_TMP/pcap-problems") none malformed, no checksum error"
		else
			bad "pcap $(basename "$f"): $(cat "$IT_TMP/pcap-problems")"
		fi
	done
}

# synack connect state lines: the transitions as "FROM->TO" words.
it_transitions() { # ERRFILE
	sed -n 's/^state \([A-Z_0-9]*\) -> \([A-Z_0-9]*\) (.*)$/\1->\2/p' "$1" | tr '\n' ' '
}

it_finish() {
	echo "$pass passed, $fail failed"
	[ "$fail" -eq 0 ] && exit 0
	exit 1
}
