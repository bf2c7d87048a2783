#!/usr/bin/env bash
# TLS over synack with OpenSSL, unmodified (issue 15 item 4): openssl
# s_client under `synack run` sends a file through TLS to the kernel's
# s_server, which writes what it decrypts (synack -> kernel); openssl
# s_server -WWW under synack serves a file over HTTPS to the kernel's curl
# (synack -> kernel's reader, the handshake both ways), and the kernel's
# s_client sends a file to s_server under synack (kernel -> synack).  Each
# file is checked whole.
# Usage: test_prog_openssl.sh PATH_TO_SYNACK
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/apps.sh"
it_apps_init prog-openssl "${1:-}" openssl curl base64
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$IT_TMP/key.pem" -out "$IT_TMP/cert.pem" \
	-subj /CN=synack-test -days 2 >/dev/null 2>&1 || bad "cannot make a certificate"
tls=(-cert "$IT_TMP/cert.pem" -key "$IT_TMP/key.pem")
# s_server -quiet prints what it receives; text survives it byte for byte.
# It ends the connection at the end of its own standard input: a FIFO this
# shell holds open gives it one that never ends.
mkfifo "$IT_TMP/stdin"
exec 7<>"$IT_TMP/stdin"
it_make_file "$IT_TMP/raw" 3000000
base64 -w 76 "$IT_TMP/raw" >"$IT_TMP/text"

# s_client under synack -> the kernel's s_server.
IT_STDIN=$IT_TMP/stdin it_kernel_bg kserver openssl s_server -accept "$IT_LINUX:4433" "${tls[@]}" -naccept 1 -quiet
for i in $(seq 1 50); do
	ns ss -Hltn "sport = :4433" | grep -q . && break
	sleep 0.1
done
it_run s-client 120 openssl s_client -connect "$IT_LINUX:4433" -quiet -no_ign_eof -nocommands <"$IT_TMP/text"
[ "$RUN_RC" -eq 0 ] && ok || bad "s_client under synack exited $RUN_RC: $(tail -n 3 "$IT_TMP/s-client.err")"
for i in $(seq 1 100); do kill -0 "$KERNEL_PID" 2>/dev/null || break; sleep 0.1; done
cmp -s "$IT_TMP/text" "$IT_TMP/kserver.out" && ok ||
	bad "the kernel's s_server got $(stat -c %s "$IT_TMP/kserver.out") bytes of $(stat -c %s "$IT_TMP/text"), or other bytes"

# s_server -WWW under synack -> the kernel's curl over HTTPS.
mkdir -p "$IT_TMP/www"
cp "$IT_TMP/raw" "$IT_TMP/www/raw"
cd "$IT_TMP/www" || bad "cd $IT_TMP/www"
it_run_bg s-www openssl s_server -accept 4443 "${tls[@]}" -WWW
www_pid=$RUN_PID
cd - >/dev/null || bad "cd back"
for i in $(seq 1 150); do
	ns curl -sk --max-time 60 -o "$IT_TMP/got-raw" "https://$IT_SYNACK:4443/raw" 2>/dev/null && break
	sleep 0.2
done
cmp -s "$IT_TMP/raw" "$IT_TMP/got-raw" && ok ||
	bad "curl over TLS from s_server -WWW under synack: $(stat -c %s "$IT_TMP/got-raw" 2>/dev/null || echo no) bytes: $(tail -n 3 "$IT_TMP/s-www.err")"
kill -TERM "$www_pid" 2>/dev/null

# The kernel's s_client -> s_server under synack.
IT_STDIN=$IT_TMP/stdin it_run_bg s-server openssl s_server -accept 4434 "${tls[@]}" -naccept 1 -quiet
for i in $(seq 1 150); do
	ns timeout 60 openssl s_client -connect "$IT_SYNACK:4434" -quiet -no_ign_eof -nocommands <"$IT_TMP/text" \
		>/dev/null 2>"$IT_TMP/k-client.err" && break
	sleep 0.2
done
for i in $(seq 1 100); do kill -0 "$RUN_PID" 2>/dev/null || break; sleep 0.1; done
cmp -s "$IT_TMP/text" "$IT_TMP/s-server.out" && ok ||
	bad "s_server under synack got $(stat -c %s "$IT_TMP/s-server.out") bytes of $(stat -c %s "$IT_TMP/text"): $(tail -n 3 "$IT_TMP/s-server.err" "$IT_TMP/k-client.err")"
it_finish
