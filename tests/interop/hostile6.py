#!/usr/bin/python3
"""Hostile IPv6 frames against `synack serve --tap` with an IPv6 address,
crafted with scapy and sent at layer 2 on the kernel's side of the TAP
device (test_hostile6.sh).  The IPv4 probes are hostile.py's.

  hostile6.py run IFACE SYNACK_IP6 LINUX_IP6 SYNACK_MAC LISTEN_PORT CLOSED_PORT GOFILE
      Inside the test's namespace, while the kernel fetches a long body from
      LISTEN_PORT over IPv6.  Prints "ready" once it sniffs, waits for data
      from synack on the live connection and for GOFILE, then probes, each
      from the kernel's address and MAC (so synack's answers need no
      resolution):
        * extension header chains (RFC 8200 4): a routing header type 0
          with segments left (RFC 5095: Parameter Problem code 0 at the
          routing type), hop-by-hop options after a destination options
          header (code 1 at that header's Next Header), an unknown option
          whose high bits say "discard and answer" (code 2 at the option),
          "discard silently", "skip" (the SYN behind it is answered with a
          RST), a header running past the datagram, nine headers, hop
          limit 0 -- the closed port behind each;
        * a Packet Too Big of MTU 600 quoting synack's segment on the live
          connection, sent as soon as one is seen (RFC 5927: only a quote of
          data in flight counts; the kernel ACKs at once, so a PTB may come
          after the ACK of what it quotes), again until synack's segments
          shrink, at most 20 times: the path MTU goes to 1280, never below
          (RFC 8201 4), and the transfer goes on;
        * neighbour advertisements (RFC 4861 7.1.2, 7.2.5): one for the
          kernel's address from another MAC without the override flag
          (refused: the live connection keeps the kernel's MAC), one for an
          address synack never asked about (no entry made), one with hop
          limit 64 (invalid), one claiming synack's own address (a
          conflict).
      One line per probe, "probe NAME: what synack answered -- ok" or "--
      FAIL: why"; "expect-drop REASON N" and "expect-link-drop REASON N"
      lines (synack's drop reasons and the link's), "expect-counter
      Icmp6InPktTooBigs N", and a summary.  Exits 0 when every probe was answered as expected.

Run with /usr/bin/python3 (Debian's python3-scapy).  Every frame goes to
synack's MAC on the test's own TAP device; nothing leaves the namespace.
"""

import os
import sys
import threading
import time

from scapy.all import (Ether, ICMPv6NDOptDstLLAddr, ICMPv6ND_NA, ICMPv6PacketTooBig, ICMPv6ParamProblem,
                       IPv6, IPv6ExtHdrDestOpt, IPv6ExtHdrHopByHop, IPv6ExtHdrRouting, HBHOptUnknown, Raw, TCP,
                       conf, sendp, AsyncSniffer)  # noqa: E402

conf.verb = 0
FAKE_MAC = "02:00:00:07:00:66"
WAIT_ANSWERS = 1.0


class Run:
    def __init__(self, iface, synack, linux, synack_mac, lport, cport, gofile):
        self.iface, self.synack, self.linux = iface, synack, linux
        self.smac, self.lport, self.cport, self.gofile = synack_mac, lport, cport, gofile
        self.kmac = open("/sys/class/net/%s/address" % iface).read().strip()
        self.lock = threading.Lock()
        self.frames = []      # (time, pkt) from synack
        self.last_data = None  # synack's last data segment on the live connection (raw IPv6 bytes)
        self.failed = 0
        self.probes = 0
        self.drops = {}
        self.link_drops = {}
        self.ptb_wanted = False
        self.ptb_quote = None

    def on_frame(self, p):
        if Ether not in p or p[Ether].src != self.smac or IPv6 not in p:
            return
        with self.lock:
            self.frames.append((time.monotonic(), p))
            if TCP in p and p[TCP].sport == self.lport and len(p[TCP].payload) > 0:
                self.last_data = bytes(p[IPv6])
                if self.ptb_wanted and self.ptb_quote is None:
                    self.ptb_quote = self.last_data

    def send(self, pkt):
        sendp(pkt, iface=self.iface)

    def l2(self, ip, src_mac=None):
        return Ether(src=src_mac or self.kmac, dst=self.smac) / ip

    def answers(self, since, test):
        with self.lock:
            return [p for t, p in self.frames if t >= since and test(p)]

    def record(self, name, answer, problem):
        self.probes += 1
        if problem:
            self.failed += 1
            print("probe %s: %s -- FAIL: %s" % (name, answer, problem), flush=True)
        else:
            print("probe %s: %s -- ok" % (name, answer), flush=True)

    def closed_syn(self, sport):
        return TCP(sport=sport, dport=self.cport, flags="S", seq=1000)

    def pp_probe(self, name, ip, code, pointer, drop):
        """A probe whose answer must be Parameter Problem code/pointer."""
        since = time.monotonic()
        self.send(self.l2(ip))
        time.sleep(WAIT_ANSWERS)
        got = self.answers(since, lambda p: ICMPv6ParamProblem in p)
        if drop:
            self.drops[drop] = self.drops.get(drop, 0) + 1
        if not got:
            self.record(name, "nothing", "no Parameter Problem")
            return
        pp = got[0][ICMPv6ParamProblem]
        ans = "Parameter Problem code %d pointer %d" % (pp.code, pp.ptr)
        self.record(name, ans, None if (pp.code, pp.ptr) == (code, pointer) else
                    "want code %d pointer %d" % (code, pointer))

    def silent_probe(self, name, ip, drop, rst=False):
        """A probe that must be dropped silently (or, rst: answered with a RST)."""
        since = time.monotonic()
        self.send(self.l2(ip))
        time.sleep(WAIT_ANSWERS)
        sport = ip[TCP].sport if TCP in ip else None
        got = self.answers(since, lambda p: (TCP in p and p[TCP].dport == sport) or ICMPv6ParamProblem in p)
        if drop:
            self.drops[drop] = self.drops.get(drop, 0) + 1
        if rst:
            ok = any(TCP in p and p[TCP].flags & 0x04 for p in got)
            self.record(name, "RST" if ok else "nothing", None if ok else "no RST from the closed port")
        else:
            self.record(name, "nothing" if not got else got[0].summary(), "answered" if got else None)

    def probes_ext(self):
        s, l = self.synack, self.linux
        base = lambda **kw: IPv6(src=l, dst=s, **kw)
        self.pp_probe("routing header type 0, segments left 1",
                      base() / IPv6ExtHdrRouting(type=0, segleft=1, addresses=["2001:db8::99"]) / self.closed_syn(40001),
                      0, 42, "ip6_routing")
        self.pp_probe("hop-by-hop after destination options",
                      base() / IPv6ExtHdrDestOpt() / IPv6ExtHdrHopByHop() / self.closed_syn(40002),
                      1, 40, "ip6_hbh_not_first")
        self.pp_probe("unknown option, high bits 10 (discard, answer)",
                      base() / IPv6ExtHdrDestOpt(options=[HBHOptUnknown(otype=0x9e, optdata=b"\x00\x00\x00\x00")]) /
                      self.closed_syn(40003), 2, 42, "ip6_unknown_option")
        self.silent_probe("unknown option, high bits 01 (discard silently)",
                          base() / IPv6ExtHdrDestOpt(options=[HBHOptUnknown(otype=0x5e, optdata=b"\x00\x00\x00\x00")]) /
                          self.closed_syn(40004), "ip6_unknown_option")
        self.silent_probe("unknown option, high bits 00 (skipped)",
                          base() / IPv6ExtHdrDestOpt(options=[HBHOptUnknown(otype=0x1e, optdata=b"\x00\x00\x00\x00")]) /
                          self.closed_syn(40005), None, rst=True)
        # A destination options header of 88 bytes in a datagram of 48.
        trunc = base(nh=60) / Raw(bytes([6, 10]) + bytes(6))
        self.silent_probe("extension header past the datagram", trunc, "ip6_ext_truncated")
        many = base()
        for _ in range(9):
            many = many / IPv6ExtHdrDestOpt()
        self.silent_probe("nine extension headers", many / self.closed_syn(40006), "ip6_ext_too_many")
        self.silent_probe("hop limit 0", base(hlim=0) / self.closed_syn(40007), "ip6_hop_limit")

    def probe_ptb(self):
        """RFC 5927 lets a PTB count only when it quotes a segment still
        in flight: the PTB goes out as soon as synack's next data segment is
        seen, again until synack's segments shrink (every PTB is counted,
        one too late as out of window)."""
        name = "tiny Packet Too Big (MTU 600)"
        sent = 0
        for _ in range(20):
            with self.lock:
                self.ptb_wanted = True
                self.ptb_quote = None
            t0 = time.monotonic()
            while time.monotonic() < t0 + 2:
                with self.lock:
                    quoted = self.ptb_quote
                if quoted:
                    break
                time.sleep(0.001)
            if not quoted:
                continue
            ptb = IPv6(src=self.linux, dst=self.synack, hlim=255) / ICMPv6PacketTooBig(mtu=600) / Raw(quoted[:1232])
            t = time.monotonic()
            self.send(self.l2(ptb))
            sent += 1
            time.sleep(0.3)
            sizes = [len(p[IPv6].payload) + 40 for p in
                     self.answers(t + 0.05, lambda p: TCP in p and p[TCP].sport == self.lport and len(p[TCP].payload) > 0)]
            if sizes and max(sizes) <= 1280:
                break
        with self.lock:
            self.ptb_wanted = False
        print("expect-counter Icmp6InPktTooBigs %d" % sent, flush=True)
        time.sleep(WAIT_ANSWERS)
        sizes = [len(p[IPv6].payload) + 40 for p in
                 self.answers(t + 0.05, lambda p: TCP in p and p[TCP].sport == self.lport and len(p[TCP].payload) > 0)]
        if not sent or not sizes:
            self.record(name, "%d sent, %d segments after" % (sent, len(sizes)), "nothing to quote or no data after")
            return
        big = max(sizes)
        ans = "%d sent; then %d segments, the largest datagram %d bytes" % (sent, len(sizes), big)
        self.record(name, ans, None if 1200 <= big <= 1280 else "want the path MTU at the 1280 floor (RFC 8201 4)")

    def probes_nd(self):
        s, l = self.synack, self.linux

        def na(target, flags, src_mac=FAKE_MAC, hlim=255):
            return self.l2(IPv6(src=l, dst=s, hlim=hlim) /
                           ICMPv6ND_NA(tgt=target, R=0, S=(flags >> 1) & 1, O=flags & 1) /
                           ICMPv6NDOptDstLLAddr(lladdr=src_mac), src_mac)

        def quiet(name, pkt, reason):
            since = time.monotonic()
            self.send(pkt)
            time.sleep(WAIT_ANSWERS)
            self.link_drops[reason] = self.link_drops.get(reason, 0) + 1
            moved = self.answers(since, lambda p: TCP in p and p[TCP].sport == self.lport and p[Ether].dst == FAKE_MAC)
            self.record(name, "synack sent %d segments to the spoofer's MAC" % len(moved),
                        "the advertisement was taken" if moved else None)

        quiet("spoofed advertisement for the kernel, no override", na(l, 2), "nd_ignored")
        quiet("advertisement nobody asked for", na("2001:db8::77", 1), "nd_ignored")
        quiet("advertisement with hop limit 64", na(l, 3, hlim=64), "nd_bad")
        quiet("advertisement claiming synack's address", na(s, 1), "nd_conflict")

    def run(self):
        sn = AsyncSniffer(iface=self.iface, prn=self.on_frame, store=False)
        sn.start()
        time.sleep(0.5)
        print("ready", flush=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not (self.last_data and os.path.exists(self.gofile)):
            time.sleep(0.1)
        if not self.last_data:
            print("no data from synack on the live connection", file=sys.stderr)
            return 1
        self.probes_ext()
        self.probes_nd()
        self.probe_ptb()
        sn.stop()
        for r, n in sorted(self.drops.items()):
            print("expect-drop %s %d" % (r, n))
        for r, n in sorted(self.link_drops.items()):
            print("expect-link-drop %s %d" % (r, n))
        print("probes=%d failed=%d" % (self.probes, self.failed), flush=True)
        return 1 if self.failed else 0


def main():
    if len(sys.argv) == 9 and sys.argv[1] == "run":
        a = sys.argv[2:]
        sys.exit(Run(a[0], a[1], a[2], a[3], int(a[4]), int(a[5]), a[6]).run())
    print(__doc__, file=sys.stderr)
    sys.exit(2)


if __name__ == "__main__":
    main()
