#!/usr/bin/env bash
# Redis, unmodified, over synack (issue 15 item 4): redis-server under
# `synack run` (epoll, accept4, keepalive options, background threads)
# answers redis-benchmark from the kernel's side (SET and GET, 50
# connections) and redis-cli (a 1 MB value stored and read back); redis-cli
# under synack talks to a redis-server on the kernel's TCP.
# Usage: test_prog_redis.sh PATH_TO_SYNACK
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/apps.sh"
it_apps_init prog-redis "${1:-}" redis-server redis-cli redis-benchmark
redis_args=(--save "" --appendonly no --protected-mode no --dir "$IT_TMP")

it_run_bg redis-synack redis-server --port 6379 --bind 0.0.0.0 "${redis_args[@]}"
it_wait_line "$IT_TMP/redis-synack.out" 'Ready to accept connections' 30 "$RUN_PID" "redis-server under synack"

ns timeout 120 redis-benchmark -h "$IT_SYNACK" -p 6379 -n 20000 -c 50 -t set,get --csv >"$IT_TMP/bench.out" 2>&1
rc=$?
set_rps=$(awk -F'"' '$2 == "SET" { print $4 }' "$IT_TMP/bench.out")
get_rps=$(awk -F'"' '$2 == "GET" { print $4 }' "$IT_TMP/bench.out")
if [ $rc -eq 0 ] && [ -n "$set_rps" ] && [ -n "$get_rps" ] && ! grep -qi error "$IT_TMP/bench.out"; then
	ok
	note "redis-server under synack: redis-benchmark SET $set_rps/s, GET $get_rps/s (50 connections)"
else
	bad "redis-benchmark: exit $rc: $(tail -n 5 "$IT_TMP/bench.out")"
fi
it_make_file "$IT_TMP/value" 1000000
ns timeout 30 redis-cli -h "$IT_SYNACK" -x set big <"$IT_TMP/value" >"$IT_TMP/set.out" 2>&1
grep -qx OK "$IT_TMP/set.out" && ok || bad "redis-cli SET 1 MB: $(cat "$IT_TMP/set.out")"
ns timeout 30 redis-cli -h "$IT_SYNACK" --no-raw strlen big >"$IT_TMP/strlen.out" 2>&1
grep -qx "(integer) 1000000" "$IT_TMP/strlen.out" && ok || bad "STRLEN: $(cat "$IT_TMP/strlen.out")"
ns timeout 30 redis-cli -h "$IT_SYNACK" --raw getrange big 0 -1 >"$IT_TMP/got" 2>"$IT_TMP/get.err"
head -c 1000000 "$IT_TMP/got" >"$IT_TMP/got.trim" # --raw adds a newline
cmp -s "$IT_TMP/value" "$IT_TMP/got.trim" && ok || bad "GET 1 MB differs: $(cat "$IT_TMP/get.err")"
ns timeout 10 redis-cli -h "$IT_SYNACK" shutdown nosave >/dev/null 2>&1
for i in $(seq 1 100); do kill -0 "$RUN_PID" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$RUN_PID" 2>/dev/null; then bad "redis-server under synack did not stop on SHUTDOWN"; else ok; fi

# redis-cli under synack, redis-server on the kernel's TCP.
it_kernel_bg redis-kernel redis-server --port 6380 --bind "$IT_LINUX" "${redis_args[@]}"
it_wait_line "$IT_TMP/redis-kernel.out" 'Ready to accept connections' 30 "$KERNEL_PID" "redis-server on the kernel"
it_run cli-set 30 redis-cli -h "$IT_LINUX" -p 6380 -x set big <"$IT_TMP/value"
[ "$RUN_RC" -eq 0 ] && grep -qx OK "$IT_TMP/cli-set.out" && ok || bad "redis-cli under synack SET 1 MB: exit $RUN_RC $(cat "$IT_TMP/cli-set.out" "$IT_TMP/cli-set.err")"
it_run cli-incr 30 redis-cli -h "$IT_LINUX" -p 6380 incrby counter 41
it_run cli-incr 30 redis-cli -h "$IT_LINUX" -p 6380 incr counter
grep -qx 42 "$IT_TMP/cli-incr.out" && ok || bad "redis-cli under synack INCR: $(cat "$IT_TMP/cli-incr.out" "$IT_TMP/cli-incr.err")"
it_run cli-get 30 redis-cli -h "$IT_LINUX" -p 6380 --raw getrange big 0 -1
head -c 1000000 "$IT_TMP/cli-get.out" >"$IT_TMP/cli-got"
cmp -s "$IT_TMP/value" "$IT_TMP/cli-got" && ok || bad "redis-cli under synack GET 1 MB differs: $(cat "$IT_TMP/cli-get.err")"
it_finish
