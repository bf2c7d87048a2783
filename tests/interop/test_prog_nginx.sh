#!/usr/bin/env bash
# nginx, unmodified, over synack (issue 15 item 4): nginx under `synack
# run` (one process: master_process off; epoll, accept4, writev, sendfile
# with TCP_CORK) serves static files to the kernel: curl checks a 10 MB
# file by sha256, then ab makes 2000 requests with 100 concurrent
# connections and none may fail.
# Usage: test_prog_nginx.sh PATH_TO_SYNACK
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/apps.sh"
it_apps_init prog-nginx "${1:-}" nginx ab curl
www=$IT_TMP/www
mkdir -p "$www" "$IT_TMP/nginx"
it_make_file "$www/small" 4096
it_make_file "$www/big" 10000000
want_big=$(sha256sum <"$www/big" | cut -d' ' -f1)
cat >"$IT_TMP/nginx.conf" <<CONF
daemon off;
master_process off;
worker_processes 1;
pid $IT_TMP/nginx/nginx.pid;
error_log $IT_TMP/nginx/error.log warn;
events { worker_connections 1024; }
http {
	access_log off;
	sendfile on;
	tcp_nopush on;
	client_body_temp_path $IT_TMP/nginx/body;
	proxy_temp_path $IT_TMP/nginx/proxy;
	fastcgi_temp_path $IT_TMP/nginx/fastcgi;
	uwsgi_temp_path $IT_TMP/nginx/uwsgi;
	scgi_temp_path $IT_TMP/nginx/scgi;
	server {
		listen 80 backlog=1024;
		root $www;
	}
}
CONF
it_run_bg nginx nginx -e "$IT_TMP/nginx/error.log" -p "$IT_TMP/nginx" -c "$IT_TMP/nginx.conf"
it_wait_http "http://$IT_SYNACK/small" 30 "$RUN_PID" nginx

ns curl -sS --fail --max-time 60 -o "$IT_TMP/big" "http://$IT_SYNACK/big" 2>"$IT_TMP/curl.err" ||
	bad "curl of 10 MB from nginx: $(cat "$IT_TMP/curl.err")"
it_check_sha "$IT_TMP/big" "$want_big" "nginx sendfile 10 MB"

ns timeout 120 ab -q -n 2000 -c 100 -s 30 "http://$IT_SYNACK/small" >"$IT_TMP/ab.out" 2>&1
rc=$?
complete=$(sed -n 's/^Complete requests: *//p' "$IT_TMP/ab.out")
failed=$(sed -n 's/^Failed requests: *//p' "$IT_TMP/ab.out")
non2xx=$(sed -n 's/^Non-2xx responses: *//p' "$IT_TMP/ab.out")
if [ $rc -eq 0 ] && [ "$complete" = 2000 ] && [ "$failed" = 0 ] && [ -z "$non2xx" ]; then
	ok
else
	bad "ab -n 2000 -c 100: exit $rc, complete ${complete:-?}, failed ${failed:-?}, non-2xx ${non2xx:-0}: $(tail -n 5 "$IT_TMP/ab.out")"
fi
note "nginx under synack: ab 2000 requests at 100 concurrent: $(grep '^Requests per second' "$IT_TMP/ab.out")"
kill -0 "$RUN_PID" 2>/dev/null && ok || bad "nginx under synack died: $(tail -n 5 "$IT_TMP/nginx.err" "$IT_TMP/nginx/error.log")"
it_finish
