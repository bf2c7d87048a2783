#!/usr/bin/env python3
"""The Linux side of the interop tests: clients and servers on kernel sockets.

Every command prints one result line (key=value pairs) on stdout and exits 0
when what it checked held, 1 otherwise (with the reason on stderr).  Servers
print "ready" on stdout once they listen, so the test can start synack.
Only the standard library; run inside the test's own network namespace.

  peer.py body-hash SIZE
      sha256 of the first SIZE bytes of the body pattern of `synack serve
      --app http` and `synack connect --send-bytes`.
  peer.py echo HOST PORT SIZE SEED [HOLD]
      send SIZE random bytes (from SEED) while reading, then shutdown(SHUT_WR),
      read to EOF; the bytes read must equal the bytes sent.  HOLD: seconds
      to wait once connected before sending (default 0).
  peer.py echo-burst HOST PORT N SIZE SEED
      N short echo connections at once (asyncio): each connects, sends SIZE
      random bytes of its own (from SEED), shuts down its sending side and
      reads to EOF; every echo must equal what its connection sent.  The
      result line counts the connections that succeeded and failed.
  peer.py http HOST PORT --seq N --conc M --size S
      N sequential then M concurrent HTTP/1.1 GETs, each on its own
      connection, each body checked against the pattern.  Odd sequential
      requests say "Connection: close" (the server closes first), even ones
      keep the connection and the client closes first.
  peer.py http-pipeline HOST PORT SIZE
      four requests in one write on one connection (GET, HEAD, an HTTP/1.0
      GET with "Connection: keep-alive", a GET with "Connection: close"):
      the responses must come in order with the right bodies and Connection
      headers, then EOF.
  peer.py send HOST PORT SIZE
      connect, send SIZE pattern bytes (those of body-hash), shutdown(SHUT_WR),
      read to EOF, close; the result line has the bytes sent.
  peer.py server HOST PORT MODE [ARG] [--out FILE]
      accept one connection (HOST an IPv4 or IPv6 address) and play MODE:
        sink            read to EOF, then close
        read-n N        read exactly N bytes, then close (closes first)
        send-close N    send N pattern bytes, then close (closes first)
        reply-after-eof N   read to EOF, then send N pattern bytes, close
        halfclose-send N    send N pattern bytes, shutdown(SHUT_WR), read to EOF, close
        close-on-byte   read one byte, close at once (simultaneous close)
        abort-after N   read N bytes, then close with SO_LINGER 0 (RST)
      The result line has the bytes read and their sha256; --out writes them.
  peer.py pcap-samples DIR
      write small pcaps for the self-test of the pcap check: good-*.pcap are
      clean, bad-*.pcap each hold one fault (a bad IPv4, TCP or ICMP
      checksum, a TCP header longer than the datagram, a file cut short, a
      TCP checksum written 0xFFFF for 0x0000 by synack's address; the same
      from the kernel's address 10.7.0.1 is good, see lib.sh).
"""

import hashlib
import os
import random
import socket
import struct
import sys
import threading
import time

TIMEOUT = 120.0


def pattern(n):
    return b"".join(b"%08x\n" % i for i in range(n // 9 + 1))[:n]


def die(msg):
    print("peer.py: " + msg, file=sys.stderr)
    sys.exit(1)


def recv_all(s, limit=None):
    """Read until EOF (or until limit bytes); returns the bytes."""
    chunks = []
    got = 0
    while limit is None or got < limit:
        want = 1 << 16 if limit is None else min(1 << 16, limit - got)
        b = s.recv(want)
        if not b:
            break
        chunks.append(b)
        got += len(b)
    return b"".join(chunks)


def cmd_body_hash(argv):
    print(hashlib.sha256(pattern(int(argv[0]))).hexdigest())


def cmd_echo(argv):
    host, port, size, seed = argv[0], int(argv[1]), int(argv[2]), int(argv[3])
    hold = float(argv[4]) if len(argv) > 4 else 0.0
    data = random.Random(seed).randbytes(size)
    s = socket.create_connection((host, port), timeout=TIMEOUT)
    s.settimeout(TIMEOUT)
    # Established and idle for HOLD seconds first, so a test can look at it.
    time.sleep(hold)
    err = []

    def sender():
        try:
            s.sendall(data)
            s.shutdown(socket.SHUT_WR)
        except OSError as e:
            err.append(e)

    t0 = time.monotonic()
    t = threading.Thread(target=sender)
    t.start()
    got = recv_all(s)
    t.join()
    s.close()
    dt = time.monotonic() - t0
    print("sent=%d received=%d identical=%d seconds=%.3f" % (size, len(got), got == data, dt))
    if err:
        die("send failed: %r" % err[0])
    if got != data:
        first = next((i for i in range(min(len(got), size)) if got[i] != data[i]), min(len(got), size))
        die("echo differs: sent %d bytes, got %d, first difference at %d" % (size, len(got), first))


def cmd_echo_burst(argv):
    import asyncio
    import resource
    host, port, n, size, seed = argv[0], int(argv[1]), int(argv[2]), int(argv[3]), int(argv[4])
    # One descriptor per connection, all open at once.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < n + 64:
        want = n + 64 if hard == resource.RLIM_INFINITY else max(hard, n + 64)
        resource.setrlimit(resource.RLIMIT_NOFILE, (n + 64, want))
    rng = random.Random(seed)
    datas = [rng.randbytes(size) for _ in range(n)]

    async def one(i):
        w = None
        try:
            r, w = await asyncio.open_connection(host, port)
            w.write(datas[i])
            await w.drain()
            w.write_eof()
            got = await r.read()
            if got != datas[i]:
                return "echo differs (%d bytes, sent %d)" % (len(got), size)
            return None
        except OSError as e:
            return "%r" % e
        finally:
            if w is not None:
                w.close()

    async def burst():
        return await asyncio.wait_for(asyncio.gather(*(one(i) for i in range(n))), 2 * TIMEOUT)

    t0 = time.monotonic()
    try:
        results = asyncio.run(burst())
    except asyncio.TimeoutError:
        results = ["not done within %d s" % (2 * TIMEOUT)] * n
    dt = time.monotonic() - t0
    failures = ["connection %d: %s" % (i, e) for i, e in enumerate(results) if e]
    print("connections=%d ok=%d failed=%d seconds=%.3f" % (n, n - len(failures), len(failures), dt))
    if failures:
        die("; ".join(failures[:5]))


def http_get(host, port, path, size, close, body, barrier=None):
    """One GET on a new connection; returns None or an error string."""
    try:
        s = socket.create_connection((host, port), timeout=TIMEOUT)
    except OSError as e:
        return "connect: %r" % e
    try:
        s.settimeout(TIMEOUT)
        if barrier is not None:
            barrier.wait()
        req = "GET %s HTTP/1.1\r\nHost: %s\r\n%s\r\n" % (path, host, "Connection: close\r\n" if close else "")
        s.sendall(req.encode())
        buf = b""
        while b"\r\n\r\n" not in buf:
            b = s.recv(4096)
            if not b:
                return "EOF inside the response header (%d bytes)" % len(buf)
            buf += b
        head, rest = buf.split(b"\r\n\r\n", 1)
        lines = head.split(b"\r\n")
        if not lines[0].startswith(b"HTTP/1.1 200"):
            return "status line %r" % lines[0]
        clen = None
        for ln in lines[1:]:
            k, _, v = ln.partition(b":")
            if k.strip().lower() == b"content-length":
                clen = int(v.strip())
        if clen != size:
            return "Content-Length %r, want %d" % (clen, size)
        got = rest + recv_all(s, clen - len(rest)) if len(rest) < clen else rest
        if got != body:
            return "body differs (%d bytes, want %d)" % (len(got), size)
        if close:
            # The server closes after the response: EOF must follow.
            if s.recv(1) != b"":
                return "data after the body of a Connection: close response"
        return None
    except OSError as e:
        return "%r" % e
    finally:
        s.close()


def cmd_http(argv):
    host, port = argv[0], int(argv[1])
    opts = dict(zip(argv[2::2], argv[3::2]))
    nseq, nconc, size = int(opts.get("--seq", 0)), int(opts.get("--conc", 0)), int(opts["--size"])
    body = pattern(size)
    failures = []
    t0 = time.monotonic()
    for i in range(nseq):
        e = http_get(host, port, "/seq/%d" % i, size, i % 2 == 1, body)
        if e:
            failures.append("sequential %d: %s" % (i, e))
            if len(failures) > 5:
                break
    t1 = time.monotonic()
    results = [None] * nconc
    if nconc:
        barrier = threading.Barrier(nconc, timeout=TIMEOUT)

        def one(i):
            results[i] = http_get(host, port, "/conc/%d" % i, size, i % 2 == 1, body, barrier)

        threads = [threading.Thread(target=one, args=(i,)) for i in range(nconc)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    failures += ["concurrent %d: %s" % (i, e) for i, e in enumerate(results) if e]
    t2 = time.monotonic()
    print("sequential=%d concurrent=%d failed=%d seq_seconds=%.3f conc_seconds=%.3f"
          % (nseq, nconc, len(failures), t1 - t0, t2 - t1))
    if failures:
        die("; ".join(failures[:5]))


def read_response(r, head):
    """One response from the buffered reader r: (status line, {lowercase
    header: value}, body); no body for a HEAD (head true)."""
    status = r.readline().rstrip(b"\r\n")
    headers = {}
    while True:
        ln = r.readline()
        if ln in (b"\r\n", b"\n", b""):
            break
        k, _, v = ln.partition(b":")
        headers[k.strip().lower().decode()] = v.strip().decode()
    clen = int(headers.get("content-length", "0"))
    body = b"" if head else r.read(clen)
    return status, headers, body


def cmd_http_pipeline(argv):
    """Four requests in one write on one connection, answered in order:
    GET, HEAD, an HTTP/1.0 GET asking for keep-alive, a GET with
    Connection: close; then the server closes."""
    host, port, size = argv[0], int(argv[1]), int(argv[2])
    body = pattern(size)
    reqs = [("GET", "1.1", ""), ("HEAD", "1.1", ""), ("GET", "1.0", "Connection: keep-alive\r\n"),
            ("GET", "1.1", "Connection: close\r\n")]
    s = socket.create_connection((host, port), timeout=TIMEOUT)
    s.settimeout(TIMEOUT)
    s.sendall(b"".join(("%s /pipe/%d HTTP/%s\r\nHost: %s\r\n%s\r\n" % (m, i, v, host, h)).encode()
                       for i, (m, v, h) in enumerate(reqs)))
    r = s.makefile("rb")
    failures = []
    for i, (m, v, h) in enumerate(reqs):
        status, headers, got = read_response(r, m == "HEAD")
        conn = headers.get("connection", "").lower()
        want_conn = "close" if "close" in h else "keep-alive" if v == "1.0" else ""
        if not status.startswith(b"HTTP/1.1 200"):
            failures.append("%d: status line %r" % (i, status))
        elif headers.get("content-length") != str(size):
            failures.append("%d: Content-Length %r, want %d" % (i, headers.get("content-length"), size))
        elif got != (b"" if m == "HEAD" else body):
            failures.append("%d: body differs (%d bytes)" % (i, len(got)))
        elif conn != want_conn:
            failures.append("%d: Connection %r, want %r" % (i, conn, want_conn))
    rest = r.read()
    s.close()
    print("responses=%d failed=%d after=%d" % (len(reqs), len(failures), len(rest)))
    if failures or rest:
        die("; ".join(failures) or "%d bytes after the last response" % len(rest))


def cmd_http_paced(argv):
    """GET PATH and read the body at about RATE bytes/s until the file UNTIL
    exists, then at full speed; write the body to OUT.  The transfer thus
    outlasts whatever the test does meanwhile, however long that takes."""
    host, port, path, out, rate, until = argv[0], int(argv[1]), argv[2], argv[3], int(argv[4]), argv[5]
    s = socket.create_connection((host, port), timeout=TIMEOUT)
    s.settimeout(TIMEOUT)
    s.sendall(("GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n" % (path, host)).encode())
    buf = b""
    while b"\r\n\r\n" not in buf:
        b = s.recv(4096)
        if not b:
            die("EOF inside the response header")
        buf += b
    head, body = buf.split(b"\r\n\r\n", 1)
    clen = None
    for ln in head.split(b"\r\n")[1:]:
        k, _, v = ln.partition(b":")
        if k.strip().lower() == b"content-length":
            clen = int(v.strip())
    if clen is None:
        die("no Content-Length in %r" % head)
    chunks = [body]
    got = len(body)
    chunk = 4096
    paced = 0
    while got < clen:
        if not os.path.exists(until):
            time.sleep(chunk / rate)
            paced += 1
        b = s.recv(min(chunk if not os.path.exists(until) else 1 << 16, clen - got))
        if not b:
            break
        chunks.append(b)
        got += len(b)
    s.close()
    with open(out, "wb") as f:
        f.write(b"".join(chunks))
    print("bytes=%d content_length=%d paced_reads=%d" % (got, clen, paced))
    if got != clen:
        die("EOF after %d of %d body bytes" % (got, clen))


def cmd_server(argv):
    out = None
    if "--out" in argv:
        i = argv.index("--out")
        out = argv[i + 1]
        argv = argv[:i] + argv[i + 2:]
    host, port, mode = argv[0], int(argv[1]), argv[2]
    arg = int(argv[3]) if len(argv) > 3 else 0
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    ls = socket.socket(family, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((host, port))
    ls.listen(1)
    ls.settimeout(TIMEOUT)
    print("ready", flush=True)
    s, peer = ls.accept()
    ls.close()
    s.settimeout(TIMEOUT)
    t0 = time.monotonic()
    got = b""
    note = ""
    try:
        if mode == "sink":
            got = recv_all(s)
        elif mode == "read-n":
            got = recv_all(s, arg)
        elif mode == "send-close":
            s.sendall(pattern(arg))
        elif mode == "reply-after-eof":
            got = recv_all(s)
            s.sendall(pattern(arg))
        elif mode == "halfclose-send":
            s.sendall(pattern(arg))
            s.shutdown(socket.SHUT_WR)
            got = recv_all(s)
        elif mode == "close-on-byte":
            got = s.recv(1)
        elif mode == "abort-after":
            got = recv_all(s, arg)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        else:
            die("unknown mode " + mode)
    except OSError as e:
        note = " error=%s" % type(e).__name__
    s.close()
    dt = time.monotonic() - t0
    if out:
        with open(out, "wb") as f:
            f.write(got)
    print("peer=%s:%d received=%d sha256=%s seconds=%.3f%s"
          % (peer[0], peer[1], len(got), hashlib.sha256(got).hexdigest(), dt, note), flush=True)
    if note:
        sys.exit(1)


def cmd_send(argv):
    host, port, size = argv[0], int(argv[1]), int(argv[2])
    s = socket.create_connection((host, port), timeout=TIMEOUT)
    t0 = time.monotonic()
    s.sendall(pattern(size))
    s.shutdown(socket.SHUT_WR)
    recv_all(s)
    s.close()
    print("sent=%d seconds=%.3f" % (size, time.monotonic() - t0), flush=True)


def csum(b):
    if len(b) % 2:
        b += b"\0"
    t = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while t >> 16:
        t = (t & 0xFFFF) + (t >> 16)
    return ~t & 0xFFFF


def ipv4(proto, payload, src="10.7.0.1", dst="10.7.0.2", bad_csum=False):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 1, 0x4000, 64, proto, 0,
                    socket.inet_aton(src), socket.inet_aton(dst))
    c = csum(h) ^ (0x1111 if bad_csum else 0)
    return h[:10] + struct.pack("!H", c) + h[12:] + payload


def tcp(flags, seq, ack, payload=b"", src="10.7.0.1", dst="10.7.0.2", bad_csum=False, doff=5):
    h = struct.pack("!HHIIBBHHH", 40000, 80, seq, ack, doff << 4, flags, 65535, 0, 0)
    pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, 6, len(h) + len(payload))
    c = csum(pseudo + h + payload) ^ (0x2222 if bad_csum else 0)
    return h[:16] + struct.pack("!H", c) + h[18:] + payload


def icmp_echo(bad_csum=False):
    h = struct.pack("!BBHHH", 8, 0, 0, 0x1234, 1) + b"synack-ping"
    c = csum(h) ^ (0x3333 if bad_csum else 0)
    return h[:2] + struct.pack("!H", c) + h[4:]


def tcp_checksum_ffff(src, dst):
    """A segment whose checksum computes to 0x0000, written as 0xFFFF: the
    other zero of one's complement, which Linux writes when it finishes a
    checksum in software (skb_checksum_help: CSUM_MANGLED_0)."""
    t = tcp(0x18, 1001, 5001, b"\0\0", src=src, dst=dst)
    t = t[:20] + t[16:18]  # the payload is the checksum: the sum becomes 0xFFFF
    t = t[:16] + b"\0\0" + t[18:]
    pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, 6, len(t))
    assert csum(pseudo + t) == 0
    return ipv4(6, t[:16] + b"\xff\xff" + t[18:], src=src, dst=dst)


def write_pcap(path, linktype, frames, cut=0):
    out = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, linktype)
    for i, f in enumerate(frames):
        out += struct.pack("<IIII", 1700000000, i, len(f), len(f)) + f
    with open(path, "wb") as fp:
        fp.write(out[:len(out) - cut])


def cmd_pcap_samples(argv):
    d = argv[0]
    syn = ipv4(6, tcp(0x02, 1000, 0))
    synack = ipv4(6, tcp(0x12, 5000, 1001, src="10.7.0.2", dst="10.7.0.1"), src="10.7.0.2", dst="10.7.0.1")
    data = ipv4(6, tcp(0x18, 1001, 5001, b"GET / HTTP/1.1\r\n\r\n"))
    ping = ipv4(1, icmp_echo())
    mac_a, mac_b = bytes.fromhex("025359070001"), bytes.fromhex("025359070002")
    arp = (b"\xff" * 6 + mac_a + b"\x08\x06" + struct.pack("!HHBBH", 1, 0x0800, 6, 4, 1) + mac_a
           + socket.inet_aton("10.7.0.1") + b"\0" * 6 + socket.inet_aton("10.7.0.2"))
    write_pcap(os.path.join(d, "good-raw.pcap"), 101, [syn, synack, data, ping])
    write_pcap(os.path.join(d, "good-eth.pcap"), 1, [arp, mac_b + mac_a + b"\x08\x00" + syn])
    write_pcap(os.path.join(d, "bad-tcp-checksum.pcap"), 101, [syn, ipv4(6, tcp(0x18, 1001, 5001, b"x", bad_csum=True))])
    write_pcap(os.path.join(d, "bad-ip-checksum.pcap"), 101, [syn, ipv4(6, tcp(0x10, 1001, 5001), bad_csum=True)])
    write_pcap(os.path.join(d, "bad-icmp-checksum.pcap"), 101, [syn, ipv4(1, icmp_echo(bad_csum=True))])
    write_pcap(os.path.join(d, "bad-tcp-header-too-long.pcap"), 101, [syn, ipv4(6, tcp(0x10, 1001, 5001, doff=15))])
    write_pcap(os.path.join(d, "bad-eth-tcp-checksum.pcap"), 1,
               [arp, mac_b + mac_a + b"\x08\x00" + ipv4(6, tcp(0x10, 1001, 5001, bad_csum=True))])
    write_pcap(os.path.join(d, "good-kernel-checksum-ffff.pcap"), 101, [syn, tcp_checksum_ffff("10.7.0.1", "10.7.0.2")])
    write_pcap(os.path.join(d, "bad-synack-checksum-ffff.pcap"), 101,
               [syn, tcp_checksum_ffff("10.7.0.2", "10.7.0.1")])
    write_pcap(os.path.join(d, "bad-cut-short.pcap"), 101, [syn, synack, data], cut=10)


def main():
    if len(sys.argv) < 2:
        die("usage: peer.py body-hash|echo|echo-burst|http|http-paced|http-pipeline|server|send|pcap-samples ...")
    cmds = {"body-hash": cmd_body_hash, "echo": cmd_echo, "echo-burst": cmd_echo_burst, "http": cmd_http, "http-paced": cmd_http_paced, "http-pipeline": cmd_http_pipeline, "server": cmd_server, "send": cmd_send,
            "pcap-samples": cmd_pcap_samples}
    if sys.argv[1] not in cmds:
        die("unknown command " + sys.argv[1])
    cmds[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    main()
