#!/usr/bin/env python3
"""Kernel-side helpers of test_preload.sh (standard library only).

  helper.py echo HOST PORT          echo each connection until EOF, then close (threads)
  helper.py ping HOST PORT [N]      connect (retrying for 20 s), send "ping", read to EOF;
                                    N times, the first N-1 connections may be reset
  helper.py threads HOST PORT N     N connections at once, each GET / over HTTP/1.0
  helper.py finrst HOST PORT        read a byte from each connection, then send the FIN and a
                                    RST (SO_LINGER 0: RST <SEQ=SND.NXT>, the client's RCV.NXT
                                    after the FIN)
"""
import socket
import struct
import sys
import threading
import time


def listener(host, port):
    """A listening socket on host:port, and "ready" said."""
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((host, int(port)))
    ls.listen(64)
    print("ready", flush=True)
    return ls


def echo(host, port):
    ls = listener(host, port)

    def one(c):
        with c:
            while True:
                b = c.recv(65536)
                if not b:
                    break
                c.sendall(b)

    while True:
        c, _ = ls.accept()
        threading.Thread(target=one, args=(c,), daemon=True).start()


def ping(host, port, times="1"):
    for _ in range(int(times) - 1):
        try:
            ping_once(host, port)
        except OSError:
            pass
    ping_once(host, port)


def ping_once(host, port):
    end = time.time() + 20
    while True:
        try:
            s = socket.create_connection((host, int(port)), timeout=5)
            break
        except OSError:
            if time.time() > end:
                sys.exit("ping: cannot connect")
            time.sleep(0.05)
    s.sendall(b"ping")
    got = b""
    while True:
        b = s.recv(100)
        if not b:
            break
        got += b
    print("ping got", got.decode(), flush=True)


def finrst(host, port):
    ls = listener(host, port)
    while True:
        c, _ = ls.accept()
        c.recv(1)  # the client's byte: it is connected, and nothing is left unread
        c.shutdown(socket.SHUT_WR)
        c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        c.close()


def main():
    cmd = sys.argv[1]
    if cmd == "echo":
        echo(*sys.argv[2:4])
    elif cmd == "ping":
        ping(*sys.argv[2:5])
    elif cmd == "finrst":
        finrst(*sys.argv[2:4])
    else:
        sys.exit("unknown command " + cmd)


if __name__ == "__main__":
    main()
