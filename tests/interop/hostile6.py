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
          connection (RFC 5927: only a quote of data in flight counts):
          the path MTU goes to 1280, never below (RFC 8201 4), and the
          transfer goes on.  The kernel ACKs at once, so the quoted segment
          is kept in flight by a gate on the device's egress (tc: an HTB
          class with a queue of 0 packets) that drops the kernel's segments
          to LISTEN_PORT, all but those acknowledging exactly synack's
          SND.UNA (window updates); see probe_ptb;
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
import subprocess
import sys
import threading
import time

from scapy.all import (Ether, ICMPv6EchoReply, ICMPv6EchoRequest, ICMPv6NDOptDstLLAddr, ICMPv6ND_NA,
                       ICMPv6PacketTooBig, ICMPv6ParamProblem,
                       IPv6, IPv6ExtHdrDestOpt, IPv6ExtHdrHopByHop, IPv6ExtHdrRouting, HBHOptUnknown, Raw, TCP,
                       conf, sendp, AsyncSniffer)  # noqa: E402

conf.verb = 0
FAKE_MAC = "02:00:00:07:00:66"
WAIT_ANSWERS = 1.0
MARK_ID = 0x5359  # the echo request that marks the PTB probe's gate closed
WAIT_EVENT = 20.0  # the longest wait for an event of the PTB probe


def seq_geq(a, b):
    """a >= b in sequence space (RFC 9293 3.4)."""
    return (a - b) % (1 << 32) < (1 << 31)


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
        # The PTB probe's view of the live connection, in the order the
        # frames crossed the device (one packet socket sees both ways).
        self.kernel_ack = None  # the last ACK of the kernel's segments on the wire
        self.mark_ack = None    # kernel_ack when the gate's marker went by
        self.mark_replied = False
        self.ptb_quote = None   # synack's data segment kept in flight, to quote
        self.ptb_seen = False   # our PTB went by: all before it reached synack
        self.after_ptb = []     # synack's data datagram sizes after that

    def on_frame(self, p):
        if Ether not in p or IPv6 not in p:
            return
        with self.lock:
            if p[Ether].src == self.kmac:
                if TCP in p and p[TCP].dport == self.lport and p[TCP].flags & 0x10:
                    self.kernel_ack = p[TCP].ack
                elif ICMPv6EchoRequest in p and p[ICMPv6EchoRequest].id == MARK_ID:
                    self.mark_ack = self.kernel_ack
                elif ICMPv6PacketTooBig in p:
                    self.ptb_seen = True
                return
            if p[Ether].src != self.smac:
                return
            self.frames.append((time.monotonic(), p))
            if ICMPv6EchoReply in p and p[ICMPv6EchoReply].id == MARK_ID:
                self.mark_replied = True
            if TCP in p and p[TCP].sport == self.lport and len(p[TCP].payload) > 0:
                self.last_data = bytes(p[IPv6])
                if self.ptb_seen:
                    self.after_ptb.append(len(p[IPv6].payload) + 40)
                elif (self.mark_ack is not None and self.ptb_quote is None and
                      seq_geq(p[TCP].seq, self.mark_ack)):
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

    def tc(self, *args):
        """tc on the device; None, or what went wrong."""
        r = subprocess.run(["tc"] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           universal_newlines=True)
        return None if r.returncode == 0 else "tc %s: %s" % (" ".join(args), r.stderr.strip())

    def gate_close(self):
        """Drop the kernel's TCP segments to the live connection's port on
        their way to synack (RFC 5927's in-flight test then holds for
        whatever synack sends): an HTB class whose queue takes 0 packets.
        Everything else (ICMPv6, ND, our own frames) goes unclassified,
        straight through."""
        dev = self.iface
        for cmd in (("qdisc", "add", "dev", dev, "root", "handle", "1:", "htb"),
                    ("class", "add", "dev", dev, "parent", "1:", "classid", "1:1", "htb", "rate", "10gbit"),
                    ("class", "add", "dev", dev, "parent", "1:", "classid", "1:2", "htb", "rate", "10gbit"),
                    ("qdisc", "add", "dev", dev, "parent", "1:2", "handle", "20:", "pfifo", "limit", "0"),
                    ("filter", "add", "dev", dev, "parent", "1:", "protocol", "ipv6", "prio", "2", "u32",
                     "match", "ip6", "protocol", "6", "0xff", "match", "ip6", "dport", str(self.lport), "0xffff",
                     "flowid", "1:2")):
            err = self.tc(*cmd)
            if err:
                return err
        return None

    def gate_pass_ack(self, ack):
        """Let through the kernel's segments that acknowledge exactly ack
        (synack's SND.UNA, frozen by the gate): its window updates, so
        that a zero window opens; anything acknowledging more is dropped."""
        return self.tc("filter", "add", "dev", self.iface, "parent", "1:", "protocol", "ipv6", "prio", "1",
                       "u32", "match", "ip6", "protocol", "6", "0xff", "match", "ip6", "dport", str(self.lport),
                       "0xffff", "match", "u32", "0x%08x" % ack, "0xffffffff", "at", "48", "flowid", "1:1")

    def gate_open(self):
        return self.tc("qdisc", "del", "dev", self.iface, "root")

    def wait_for(self, test, timeout=WAIT_EVENT):
        """Poll test() (under the lock) until true or timeout seconds."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            with self.lock:
                if test():
                    return True
            time.sleep(0.01)
        with self.lock:
            return test()

    def probe_ptb(self):
        """A Packet Too Big of MTU 600 quoting synack's data segment on the
        live connection.  RFC 5927 4.1 lets it count only while what it
        quotes is in flight (SND.UNA <= SEG.SEQ < SND.MAX), and the kernel
        ACKs at once; rather than race that ACK, each step waits for an
        event it can see:
          1. the gate drops the kernel's segments to the port (gate_close);
          2. an echo request from the kernel's address goes to synack: the
             kernel's last ACK before it on the wire is the last synack
             will get (A), and synack's echo reply says it has read it;
          3. segments acknowledging exactly A pass again (window updates:
             a zero window opens; nothing more is acknowledged);
          4. synack's next data segment from A on is in flight and stays
             so: the PTB quotes it;
          5. once the PTB is seen on the wire (ahead of anything the
             kernel sends later), synack's segments at the new size come
             (its retransmission), the gate opens, and the transfer goes
             on: every data segment from then on is at most 1280 bytes."""
        name = "tiny Packet Too Big (MTU 600)"
        sent = 0
        problem, ans, big = None, "", 0
        err = self.gate_close()
        if err:
            problem = "cannot hold the kernel's ACKs back: %s" % err
        if not problem:
            self.send(self.l2(IPv6(src=self.linux, dst=self.synack, hlim=255) /
                              ICMPv6EchoRequest(id=MARK_ID, seq=1)))
            if not self.wait_for(lambda: self.mark_replied and self.mark_ack is not None):
                problem = "no echo reply to the gate's marker, or no ACK of the kernel's seen before it"
        if not problem:
            err = self.gate_pass_ack(self.mark_ack)
            if err:
                problem = err
            elif not self.wait_for(lambda: self.ptb_quote is not None):
                problem = "no data segment from synack at or after SND.UNA with the gate closed"
        if not problem:
            with self.lock:
                quoted = self.ptb_quote
            ptb = IPv6(src=self.linux, dst=self.synack, hlim=255) / ICMPv6PacketTooBig(mtu=600) / Raw(quoted[:1232])
            self.send(self.l2(ptb))
            sent = 1
            if not self.wait_for(lambda: self.ptb_seen):
                problem = "our Packet Too Big was not seen on the device"
            elif not self.wait_for(lambda: any(1200 <= n <= 1280 for n in self.after_ptb)):
                with self.lock:
                    problem = "no data segment of 1200..1280 bytes after the PTB (sizes %s)" % self.after_ptb[:8]
        err = self.gate_open()
        if err and not problem:
            problem = err
        if not problem:
            with self.lock:
                first = next(i for i, n in enumerate(self.after_ptb) if 1200 <= n <= 1280)
                n_gated = len(self.after_ptb)
            if not self.wait_for(lambda: len(self.after_ptb) >= n_gated + 20):
                problem = "the transfer did not go on after the gate opened (%d segments)" % (
                    len(self.after_ptb) - n_gated)
            with self.lock:
                sizes = self.after_ptb[first:]
            big = max(sizes)
            ans = "%d sent; then %d segments, the largest datagram %d bytes" % (sent, len(sizes), big)
            if not problem and not 1200 <= big <= 1280:
                problem = "want the path MTU at the 1280 floor (RFC 8201 4)"
        print("expect-counter Icmp6InPktTooBigs %d" % sent, flush=True)
        self.record(name, ans or "%d sent" % sent, problem)

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
