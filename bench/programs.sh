#!/usr/bin/env bash
# The same unmodified programs on synack and on the kernel, in one
# invocation (issue 15 item 6).  Run by hand as root (never by ctest: no
# speed is asserted anywhere).
#
# One namespace holds the peers (iperf3 -c, wrk, redis-benchmark) on the
# kernel's TCP and a TAP device to synack (kernel 10.7.0.1, synack
# 10.7.0.2), as the interop tests do.  The program runs
#   synack: under `synack run` on the TAP device (libsynack-preload.so);
#   linux:  on the kernel's TCP in a second namespace joined to the first by
#           a veth pair (10.8.0.2; the peers reach it at 10.8.0.2 from
#           10.8.0.1), so that both cross a device between two stacks.
# The figures: iperf3 throughput with the program receiving (-c) and
# sending (-R), nginx requests per second with wrk at 1 and 100
# connections, redis-server SET and GET per second from redis-benchmark
# (50 connections).  With --json, one JSON object per line as synack-bench
# prints ({"bench":"programs","impl","variant","metric","value"}), then the
# ratios with "impl":"synack/linux" (above 1: synack's figure is higher).
#
# --perf DIR records the program (both implementations) with `perf record
# -g` during nginx's wrk -c100 and iperf3's receiving run, and writes
# `perf report`'s top functions to DIR/PROGRAM-IMPL.txt.
#
# Usage: bench/programs.sh PATH_TO_SYNACK [--json] [--seconds S] [--only synack,linux]
#                          [--programs iperf3,nginx,redis] [--perf DIR]
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../tests/interop/lib.sh"
. "$here/../tests/interop/apps.sh"
bin=${1:?usage: bench/programs.sh PATH_TO_SYNACK [--json] [--seconds S] [--only synack,linux] [--programs iperf3,nginx,redis]}
shift
json=0 secs=5 only=synack,linux programs=iperf3,nginx,redis perfdir=
while [ $# -gt 0 ]; do
	case $1 in
	--json) json=1 ;;
	--seconds) secs=${2:?--seconds S}; shift ;;
	--only) only=${2:?--only synack,linux}; shift ;;
	--programs) programs=${2:?--programs iperf3,nginx,redis}; shift ;;
	--perf) perfdir=${2:?--perf DIR}; shift ;;
	*) echo "bench/programs.sh: unknown argument '$1'" >&2; exit 2 ;;
	esac
	shift
done
case $secs in '' | *[!0-9]*) echo "bench/programs.sh: --seconds takes whole seconds" >&2; exit 2 ;; esac
it_apps_init programs-bench "$bin" iperf3 nginx wrk redis-server redis-benchmark

# The kernel's side for the linux runs: a second namespace over veth.
NS2=$IT_NS-k
ip netns add "$NS2" || { bad "cannot create $NS2"; it_finish; }
trap 'for p in $(ip netns pids "$NS2" 2>/dev/null); do kill -KILL "$p"; done; ip netns del "$NS2" 2>/dev/null; it_cleanup' EXIT
ip -n "$IT_NS" link add veth0 type veth peer name veth1 netns "$NS2"
ip -n "$IT_NS" addr add 10.8.0.1/24 dev veth0
ip -n "$IT_NS" link set veth0 up
ip -n "$NS2" addr add 10.8.0.2/24 dev veth1
ip -n "$NS2" link set veth1 up
ip -n "$NS2" link set lo up

results=$IT_TMP/results # impl variant metric value
: >"$results"
emit() { # IMPL VARIANT METRIC VALUE
	echo "$1|$2|$3|$4" >>"$results"
	if [ $json = 1 ]; then
		printf '{"bench":"programs","impl":"%s","variant":"%s","metric":"%s","value":%s}\n' "$1" "$2" "$3" "${4:-null}"
	else
		printf '%-7s %-34s %-12s %s\n' "$1" "$2" "$3" "${4:-failed}"
	fi
}

# start IMPL NAME PROGRAM ARGS...: the program under synack or on the
# kernel in NS2, in the background; PROG_PID.
start() {
	local impl=$1 name=$2
	shift 2
	if [ "$impl" = synack ]; then
		it_run_bg "$name" "$@"
		PROG_PID=$RUN_PID
	else
		ip netns exec "$NS2" "$@" </dev/null >"$IT_TMP/$name.out" 2>"$IT_TMP/$name.err" &
		PROG_PID=$!
		IT_PIDS+=("$PROG_PID")
	fi
}
stop() {
	kill -TERM "$PROG_PID" 2>/dev/null
	local i
	for i in $(seq 1 50); do kill -0 "$PROG_PID" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$PROG_PID" 2>/dev/null
	wait "$PROG_PID" 2>/dev/null
}

# perf_start NAME: with --perf, perf record -g of PROG_PID (and its
# threads) for the run that follows; perf_stop writes the report.
perf_start() {
	PERF_PID=
	[ -n "$perfdir" ] || return 0
	mkdir -p "$perfdir"
	perf record -q -g -p "$PROG_PID" -o "$perfdir/$1.data" >/dev/null 2>&1 &
	PERF_PID=$!
	PERF_NAME=$1
}
perf_stop() {
	[ -n "$PERF_PID" ] || return 0
	kill -INT "$PERF_PID" 2>/dev/null
	wait "$PERF_PID" 2>/dev/null
	perf report -i "$perfdir/$PERF_NAME.data" --stdio --no-children --sort dso,symbol \
		--percent-limit 0.7 -g none 2>/dev/null | grep -v '^$' >"$perfdir/$PERF_NAME.txt"
	PERF_PID=
}

run_iperf3() { # IMPL ADDR
	local impl=$1 addr=$2 dir
	start "$impl" "iperf3-$impl" iperf3 -s -p 5201 --forceflush
	it_wait_line "$IT_TMP/iperf3-$impl.out" 'Server listening on 5201' 30 "$PROG_PID" "iperf3 -s ($impl)"
	for dir in receives sends; do
		local r=()
		[ $dir = sends ] && r=(-R)
		[ $dir = receives ] && perf_start "iperf3-$impl"
		ns timeout $((secs + 30)) iperf3 -c "$addr" -p 5201 -t "$secs" "${r[@]}" --json >"$IT_TMP/iperf3.json" 2>&1
		perf_stop
		emit "$impl" "iperf3 -s $dir" mbit_per_s "$(python3 -c 'import json,sys
d = json.load(open(sys.argv[1]))
print("%.0f" % (d["end"]["sum_received"]["bits_per_second"] / 1e6))' "$IT_TMP/iperf3.json" 2>/dev/null)"
	done
	stop
}

run_nginx() { # IMPL ADDR
	local impl=$1 addr=$2 c t
	mkdir -p "$IT_TMP/www" "$IT_TMP/nginx-$impl"
	head -c 1024 /dev/zero | tr '\0' x >"$IT_TMP/www/index.html"
	cat >"$IT_TMP/nginx-$impl.conf" <<CONF
daemon off;
master_process off;
worker_processes 1;
pid $IT_TMP/nginx-$impl/nginx.pid;
error_log $IT_TMP/nginx-$impl/error.log warn;
events { worker_connections 4096; }
http {
	access_log off;
	sendfile on;
	tcp_nodelay on;
	keepalive_requests 1000000;
	client_body_temp_path $IT_TMP/nginx-$impl/body;
	proxy_temp_path $IT_TMP/nginx-$impl/proxy;
	fastcgi_temp_path $IT_TMP/nginx-$impl/fastcgi;
	uwsgi_temp_path $IT_TMP/nginx-$impl/uwsgi;
	scgi_temp_path $IT_TMP/nginx-$impl/scgi;
	server { listen 80 backlog=4096; root $IT_TMP/www; }
}
CONF
	start "$impl" "nginx-$impl" nginx -e "$IT_TMP/nginx-$impl/error.log" -p "$IT_TMP/nginx-$impl" -c "$IT_TMP/nginx-$impl.conf"
	it_wait_http "http://$addr/" 30 "$PROG_PID" "nginx-$impl"
	for c in 1 100; do
		t=$((c < 2 ? 1 : 2))
		[ "$c" = 100 ] && perf_start "nginx-$impl"
		ns timeout $((secs + 30)) wrk -c"$c" -t"$t" -d"${secs}s" "http://$addr/" >"$IT_TMP/wrk.out" 2>&1
		perf_stop
		local errs
		errs=$(grep -E 'Socket errors|Non-2xx' "$IT_TMP/wrk.out" | tr -s ' ' | tr '\n' ' ')
		[ -n "$errs" ] && echo "nginx ($impl) wrk -c$c: $errs" >&2
		emit "$impl" "nginx wrk -c$c" req_per_s "$(sed -n 's/^Requests\/sec: *//p' "$IT_TMP/wrk.out")"
	done
	stop
}

run_redis() { # IMPL ADDR
	local impl=$1 addr=$2 n=$((secs * 20000))
	start "$impl" "redis-$impl" redis-server --port 6379 --bind 0.0.0.0 --save "" --appendonly no \
		--protected-mode no --dir "$IT_TMP"
	it_wait_line "$IT_TMP/redis-$impl.out" 'Ready to accept connections' 30 "$PROG_PID" "redis-server ($impl)"
	ns timeout $((secs * 4 + 60)) redis-benchmark -h "$addr" -n "$n" -c 50 -t set,get --csv >"$IT_TMP/rb.csv" 2>&1
	emit "$impl" "redis-server SET -c50" req_per_s "$(awk -F'"' '$2 == "SET" { print $4 }' "$IT_TMP/rb.csv")"
	emit "$impl" "redis-server GET -c50" req_per_s "$(awk -F'"' '$2 == "GET" { print $4 }' "$IT_TMP/rb.csv")"
	stop
}

for impl in synack linux; do
	case ",$only," in *",$impl,"*) ;; *) continue ;; esac
	addr=$IT_SYNACK
	[ $impl = linux ] && addr=10.8.0.2
	for p in iperf3 nginx redis; do
		case ",$programs," in *",$p,"*) "run_$p" "$impl" "$addr" ;; esac
	done
done

# The ratios synack/linux of every figure both have.
python3 - "$results" "$json" <<'PY'
import json, sys
rows = [l.rstrip("\n").split("|") for l in open(sys.argv[1])]
val = {}
for impl, variant, metric, value in rows:
    try:
        val[(impl, variant, metric)] = float(value)
    except ValueError:
        pass
for (impl, variant, metric), v in sorted(val.items()):
    if impl != "synack" or ("linux", variant, metric) not in val:
        continue
    k = val[("linux", variant, metric)]
    if k <= 0:
        continue
    r = v / k
    if sys.argv[2] == "1":
        print(json.dumps({"bench": "programs", "impl": "synack/linux", "variant": variant,
                          "metric": metric + "_ratio", "value": round(r, 3)}, separators=(",", ":")))
    else:
        print("%-7s %-34s %-12s %.2f" % ("ratio", variant, "synack/linux", r))
PY
[ "$fail" -eq 0 ]
