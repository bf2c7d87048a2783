#!/usr/bin/env bash
# Run by hand (not a test: no speed is ever asserted): wrk against
# `synack serve --app http` on a TAP device, then against nginx on the
# kernel in the same namespace (10.7.0.1, so the kernel's loopback path),
# both serving the same SIZE-byte body (default 1024), with one and with
# 100 kept-alive connections.  docs/PERFORMANCE.md has the numbers.
# Usage (root): tests/interop/bench_http.sh PATH_TO_SYNACK [SIZE] [SECONDS]
set -u
. "$(dirname "$0")/lib.sh"
it_init http-bench "${1:-}" wrk nginx
size=${2:-1024}
secs=${3:-5}
it_dev tap

# bench LABEL URL: wrk -c1 (one thread) and -c100 (two threads, one a core).
bench() {
	local label=$1 url=$2 c t
	for c in 1 100; do
		t=$((c < 2 ? 1 : 2))
		ns wrk -c"$c" -t"$t" -d"${secs}s" "$url" >"$IT_TMP/wrk.out" 2>&1 || bad "wrk: $(cat "$IT_TMP/wrk.out")"
		printf '%-22s wrk -c%-3s -t%s -d%ss  %12s req/s  latency avg %s  %s\n' "$label" "$c" "$t" "$secs" \
			"$(sed -n 's/^Requests\/sec: *//p' "$IT_TMP/wrk.out")" \
			"$(awk '$1 == "Latency" { print $2 }' "$IT_TMP/wrk.out")" \
			"$(grep -E 'Socket errors|Non-2xx' "$IT_TMP/wrk.out" | tr -s ' ' | tr '\n' ' ')"
	done
}

it_serve serve --app http --http-size "$size"
bench "synack serve (TAP)" "http://$IT_SYNACK/"
it_serve_stop serve

# nginx: one worker (synack serve is one thread), no log, keep-alive
# connections never retired, the same body as a static file.
mkdir -p "$IT_TMP/www"
python3 -c "import sys; sys.path.insert(0, '$IT_HERE'); import peer; sys.stdout.buffer.write(peer.pattern($size))" >"$IT_TMP/www/index.html"
cat >"$IT_TMP/nginx.conf" <<NGINX
user root;
worker_processes 1;
daemon off;
pid $IT_TMP/nginx.pid;
error_log $IT_TMP/nginx.err;
events { worker_connections 1024; }
http {
	access_log off;
	tcp_nodelay on;
	keepalive_requests 100000000;
	client_body_temp_path $IT_TMP;
	proxy_temp_path $IT_TMP;
	fastcgi_temp_path $IT_TMP;
	uwsgi_temp_path $IT_TMP;
	scgi_temp_path $IT_TMP;
	server { listen $IT_LINUX:80; root $IT_TMP/www; }
}
NGINX
ip netns exec "$IT_NS" nginx -c "$IT_TMP/nginx.conf" -e "$IT_TMP/nginx.err" >"$IT_TMP/nginx.out" 2>&1 &
IT_PIDS+=("$!")
for i in $(seq 1 50); do
	ns curl -s -o /dev/null "http://$IT_LINUX/" && break
	sleep 0.1
done
bench "nginx (kernel)" "http://$IT_LINUX/"
it_finish
