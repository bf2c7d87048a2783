#!/usr/bin/env python3
"""Writes fuzz_ip6's seed corpus from real traces of the Linux kernel.

Usage (as root): fuzz/capture_ip6.py OUTDIR

Two network namespaces this script makes (and removes) joined by a veth
pair: "peer" 2001:db8::2/64 and "us" 2001:db8::1/64 + fe80::1/64, the
addresses fuzz_ip6's stack has.  A packet socket in "us" records every IPv6
frame on its end while the peer runs ping -6 (small, and 3000 bytes: the
kernel sends fragments), link-local pings, a TCP exchange with a listener
in "us", a TCP SYN and a UDP datagram to closed ports (RST, ICMPv6 port
unreachable), and neighbour discovery happens by itself.  Each exchange
becomes one corpus file of fuzz_ip6 records (flags 0: the bytes as they
were, time step 0), and each datagram one file of its own.  Nothing leaves
the namespaces.
"""
import os
import socket
import struct
import subprocess
import sys
import threading
import time

NS_US, NS_PEER = "synack-fz6-us-%d" % os.getpid(), "synack-fz6-peer-%d" % os.getpid()
ETH_P_ALL = 0x0003


def sh(*args, check=True):
    return subprocess.run(args, check=check, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def in_ns(ns, *args, check=True):
    return sh("ip", "netns", "exec", ns, *args, check=check)


def setup():
    sh("ip", "netns", "add", NS_US)
    sh("ip", "netns", "add", NS_PEER)
    sh("ip", "link", "add", "fz6a", "netns", NS_US, "type", "veth", "peer", "name", "fz6b",
       "netns", NS_PEER)
    for ns, dev, addrs in ((NS_US, "fz6a", ["2001:db8::1/64", "fe80::1/64"]),
                           (NS_PEER, "fz6b", ["2001:db8::2/64"])):
        for a in addrs:
            in_ns(ns, "ip", "addr", "add", a, "dev", dev, "nodad")
        in_ns(ns, "ip", "link", "set", dev, "up")
        in_ns(ns, "ip", "link", "set", "lo", "up")


def teardown():
    sh("ip", "netns", "del", NS_US, check=False)
    sh("ip", "netns", "del", NS_PEER, check=False)


def capture_mode(dev, path):
    """Run inside NS_US: writes every IPv6 frame on dev to path, each as a
    2-byte length and the datagram, until killed."""
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.bind((dev, 0))
    with open(path, "wb", buffering=0) as f:
        while True:
            fr = s.recv(65535)
            if len(fr) > 14 and struct.unpack("!H", fr[12:14])[0] == 0x86DD:
                f.write(struct.pack("!H", len(fr) - 14) + fr[14:])


class Capture:
    """A capture in NS_US for one exchange at a time."""

    def __init__(self, tmp):
        self.tmp = tmp
        self.p = None

    def start(self):
        self.p = subprocess.Popen(["ip", "netns", "exec", NS_US, sys.executable,
                                   os.path.abspath(__file__), "--capture", "fz6a", self.tmp])
        time.sleep(0.5)

    def take(self):
        time.sleep(0.3)
        self.p.kill()
        self.p.wait()
        got = []
        with open(self.tmp, "rb") as f:
            b = f.read()
        i = 0
        while i + 2 <= len(b):
            n = struct.unpack("!H", b[i:i + 2])[0]
            got.append(b[i + 2:i + 2 + n])
            i += 2 + n
        self.start()
        return got


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    teardown()
    setup()
    tmp = os.path.join(out, ".capture")
    cap = Capture(tmp)
    try:
        cap.start()
        exchanges = {}
        peer = lambda *a: in_ns(NS_PEER, *a, check=False)

        peer("ping", "-6", "-c", "2", "-i", "0.2", "2001:db8::1")
        exchanges["ping"] = cap.take()
        peer("ping", "-6", "-c", "2", "-i", "0.2", "-s", "3000", "2001:db8::1")
        exchanges["ping-frag"] = cap.take()
        peer("ping", "-6", "-c", "1", "-s", "1500", "-I", "fz6b", "fe80::1")
        exchanges["ping-ll"] = cap.take()

        cap.take()
        srv = subprocess.Popen(["ip", "netns", "exec", NS_US, "socat", "-u",
                                "TCP6-LISTEN:80,reuseaddr", "OPEN:/dev/null"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.5)
        subprocess.run(["ip", "netns", "exec", NS_PEER, "socat", "-u", "STDIN",
                        "TCP6:[2001:db8::1]:80"], input=b"hello over IPv6\n" * 200,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.3)
        srv.kill()
        srv.wait()
        exchanges["tcp"] = cap.take()

        peer("socat", "-u", "STDIN", "TCP6:[2001:db8::1]:81,connect-timeout=1")
        exchanges["tcp-refused"] = cap.take()
        peer("sh", "-c", "echo x | socat -u STDIN UDP6:[2001:db8::1]:9")
        exchanges["udp-unreach"] = cap.take()
    finally:
        if cap.p:
            cap.p.kill()
            cap.p.wait()
        teardown()
        if os.path.exists(tmp):
            os.unlink(tmp)

    n = 0
    for name, dgrams in exchanges.items():
        if not dgrams:
            continue
        with open(os.path.join(out, "kernel-%s" % name), "wb") as f:
            for d in dgrams:
                f.write(struct.pack("!BBH", 0, 0, len(d)) + d)
        for i, d in enumerate(dgrams[:8]):
            with open(os.path.join(out, "kernel-%s-%02d" % (name, i)), "wb") as f:
                f.write(struct.pack("!BBH", 0, 0, len(d)) + d)
            n += 1
    print("%d exchanges, %d single datagrams" % (len(exchanges), n))


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--capture":
        capture_mode(sys.argv[2], sys.argv[3])
    else:
        main()
