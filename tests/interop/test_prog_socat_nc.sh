#!/usr/bin/env bash
# socat and nc (netcat-openbsd), unmodified, over synack, with half-close
# (issue 15 item 4).  The kernel's socat answers each connection with the
# sha256 of everything it received, sent only after the client's FIN: socat
# and nc -N under `synack run` send a file, shut their sending side
# (shutdown SHUT_WR) and must still read the answer.  The other way, socat
# and nc -l under synack receive a file from the kernel's nc -N / socat
# until its FIN, and the file must be whole.  The capture of the first
# (--pcap, written by the library) must hold no malformed frame and no
# checksum error.
# Usage: test_prog_socat_nc.sh PATH_TO_SYNACK
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/apps.sh"
it_apps_init prog-socat-nc "${1:-}" socat nc
it_make_file "$IT_TMP/file" 5000000
want="$(sha256sum <"$IT_TMP/file" | cut -d' ' -f1)  -" # as sha256sum answers

# The kernel's hashing server: a fork per connection, sha256sum of the
# input, written back after the input's end.
it_kernel_bg hasher socat "TCP-LISTEN:7001,bind=$IT_LINUX,reuseaddr,fork" SYSTEM:sha256sum
for i in $(seq 1 50); do
	ns ss -Hltn "sport = :7001" | grep -q . && break
	sleep 0.1
done

# socat under synack: the file, its FIN, then the answer; captured by the
# library (SYNACK_PCAP), every frame clean.
RUN_FLAGS=(--pcap "$IT_TMP/socat-client.pcap")
it_run socat-client 60 socat -t 30 - "TCP:$IT_LINUX:7001" <"$IT_TMP/file"
RUN_FLAGS=()
[ "$RUN_RC" -eq 0 ] && ok || bad "socat under synack exited $RUN_RC: $(tail -n 3 "$IT_TMP/socat-client.err")"
[ "$(cat "$IT_TMP/socat-client.out")" = "$want" ] && ok ||
	bad "socat under synack: answer '$(head -c 80 "$IT_TMP/socat-client.out")' after its FIN, want $want"
it_pcap_check "$IT_TMP/socat-client.pcap"
# nc -N under synack: the same.
it_run nc-client 60 nc -N "$IT_LINUX" 7001 <"$IT_TMP/file"
[ "$RUN_RC" -eq 0 ] && ok || bad "nc -N under synack exited $RUN_RC: $(tail -n 3 "$IT_TMP/nc-client.err")"
[ "$(cat "$IT_TMP/nc-client.out")" = "$want" ] && ok ||
	bad "nc -N under synack: answer '$(head -c 80 "$IT_TMP/nc-client.out")' after its FIN, want $want"

# socat under synack receives until the kernel nc's FIN.
it_run_bg socat-server socat -u "TCP-LISTEN:7002,reuseaddr" "CREATE:$IT_TMP/socat-got"
srv=$RUN_PID
for i in $(seq 1 150); do
	ns nc -N "$IT_SYNACK" 7002 <"$IT_TMP/file" 2>/dev/null && break
	sleep 0.2
done
for i in $(seq 1 300); do kill -0 "$srv" 2>/dev/null || break; sleep 0.1; done
kill -0 "$srv" 2>/dev/null && bad "socat under synack did not end at the peer's FIN"
cmp -s "$IT_TMP/file" "$IT_TMP/socat-got" && ok ||
	bad "socat under synack received $(stat -c %s "$IT_TMP/socat-got" 2>/dev/null || echo no) bytes, or other bytes: $(tail -n 3 "$IT_TMP/socat-server.err")"

# nc -l under synack receives until the kernel socat's FIN.
it_run_bg nc-server nc -l 7003
srv=$RUN_PID
for i in $(seq 1 150); do
	ns socat -u "OPEN:$IT_TMP/file" "TCP:$IT_SYNACK:7003" 2>/dev/null && break
	sleep 0.2
done
for i in $(seq 1 300); do kill -0 "$srv" 2>/dev/null || break; sleep 0.1; done
kill -0 "$srv" 2>/dev/null && bad "nc -l under synack did not end at the peer's FIN"
cmp -s "$IT_TMP/file" "$IT_TMP/nc-server.out" && ok ||
	bad "nc -l under synack received $(stat -c %s "$IT_TMP/nc-server.out") bytes, or other bytes: $(tail -n 3 "$IT_TMP/nc-server.err")"
it_finish
