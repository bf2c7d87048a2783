#!/usr/bin/python3
"""Hostile frames against `synack serve --tap`, crafted with scapy and sent at
layer 2 on the kernel's side of the TAP device (test_hostile_scapy.sh).

  hostile.py run IFACE SYNACK_IP LINUX_IP FAKE_IP LISTEN_PORT CLOSED_PORT GOFILE
      Inside the test's namespace, while a transfer from LISTEN_PORT to the
      kernel runs.  Prints "ready" once it sniffs and knows synack's MAC, then
      waits for the kernel's established connection to LISTEN_PORT (`ss -tin`)
      and for GOFILE to exist (the test has read synack's counters), and
      probes:
        * from FAKE_IP (an address of the prefix the kernel does not own;
          this script answers ARP for it), each probe on its own source port,
          to the listener and to CLOSED_PORT: flag sets, option lengths, data
          offsets, IP header errors, TTL 0, window scale above 14, urgent
          pointer beyond the data, zero-length and oversized datagrams;
        * on the live connection's 4-tuple (kernel MAC and address as the
          source, the sequence number synack expects next, learnt from the
          kernel's own segments): each malformation on a segment that would
          reset the connection were it accepted.
      One line per probe: "probe NAME: what synack answered -- ok" or
      "-- FAIL: why"; then "expect-drop REASON N" lines (the datagrams whose
      only correct fate is a counted drop, by synack's drop reason), and a
      summary line.  Exits 0 when every probe was answered as expected.
  hostile.py selftest
      Builds every kind of frame for made-up addresses and checks its bytes
      (no network): the malformations are really on the wire as intended.

Run with /usr/bin/python3 (Debian's python3-scapy).  Every frame goes to
synack's MAC on the test's own TAP device; nothing leaves the namespace.
"""

import os
import struct
import subprocess
import sys
import threading
import time

from scapy.all import ARP, IP, TCP, Ether, Raw, conf  # noqa: E402

conf.verb = 0

FAKE_MAC = "02:00:00:07:00:03"
WAIT_ANSWERS = 1.0  # seconds after a batch for synack's answers


# ----------------------------------------------------------------------
# Frames.  Fields given explicitly are sent as given; scapy fills only
# the ones left None (lengths, checksums), so each malformation is exact.


def tcp_seg(sport, dport, flags, seq, ack=0, opts=b"", doff=None, window=65535, urgptr=0, payload=b""):
    """A TCP header (with raw option bytes) and payload, scapy layers."""
    if doff is None:
        doff = 5 + (len(opts) + 3) // 4
    opts = opts + b"\x00" * ((-len(opts)) % 4)
    return TCP(
        sport=sport, dport=dport, flags=flags, seq=seq & 0xFFFFFFFF, ack=ack & 0xFFFFFFFF, dataofs=doff,
        window=window, urgptr=urgptr, options=[]) / Raw(opts + payload)


def frame(src_mac, dst_mac, src, dst, seg, tcp_bad_csum=False, ip_bad_csum=False, **ipkw):
    """Ether/IP/TCP; a bad checksum is the right one plus 0x1234."""
    pkt = Ether(src=src_mac, dst=dst_mac, type=0x0800) / IP(src=src, dst=dst, **ipkw) / seg
    if tcp_bad_csum or ip_bad_csum:
        good = Ether(bytes(pkt))
        if tcp_bad_csum:
            pkt[TCP].chksum = (good[TCP].chksum + 0x1234) & 0xFFFF
        if ip_bad_csum:
            pkt[IP].chksum = (good[IP].chksum + 0x1234) & 0xFFFF
    return pkt


def raw_l2(src_mac, dst_mac, payload):
    """An Ethernet frame of type IPv4 with exactly these payload bytes."""
    return Ether(src=src_mac, dst=dst_mac, type=0x0800) / Raw(payload) if payload else \
        Ether(src=src_mac, dst=dst_mac, type=0x0800)


def flags_str(f):
    names = "FSRPAUEC"
    return "".join(names[i] for i in range(8) if int(f) & (1 << i)) or "none"


# Option bytes for the option probes: a length of 0, a length of 1, a
# length running past the header, a kind with no room for its length byte.
BAD_OPTS = [
    ("opt-len-0", b"\xfe\x00\x00\x00"),
    ("opt-len-1", b"\xfe\x01\x00\x00"),
    ("opt-len-past-header", b"\x01\x01\xfe\x08"),
    ("opt-no-room-for-len", b"\x01\x01\x01\xfe"),
]


# ----------------------------------------------------------------------
# The run.


class Prober:
    def __init__(self, iface, synack_ip, linux_ip, fake_ip, lport, cport, gofile):
        self.gofile = gofile
        self.iface, self.synack_ip, self.linux_ip, self.fake_ip = iface, synack_ip, linux_ip, fake_ip
        self.lport, self.cport = lport, cport
        self.linux_mac = open("/sys/class/net/%s/address" % iface).read().strip()
        self.synack_mac = None
        self.sock = conf.L2socket(iface=iface)
        self.sent = set()        # the bytes of every frame we sent, to tell them from the kernel's
        self.lock = threading.Lock()
        self.fake_answers = []   # (time, ip, tcp) synack sent to FAKE_IP
        self.other_to_fake = []  # (time, summary) anything else synack sent to FAKE_IP
        self.arp_replies = []    # synack's ARP replies to FAKE_IP
        self.live = None         # (kernel port) of the live connection
        self.live_last = None    # the kernel's latest segment on it: (seq, ack, window, options)
        self.live_rsts = 0       # RSTs synack sent on it
        self.live_pure = []      # times of segments without data, SYN or FIN synack sent on it
        self.live_bytes = 0      # payload bytes synack sent on it while we watched
        self.sniffer = None
        self.results = []
        self.expect_drops = {}

    # -- sniffing ------------------------------------------------------

    def on_frame(self, p):
        now = time.monotonic()
        if (getattr(p, "original", None) or bytes(p)) in self.sent:
            return  # our own probe, seen going out
        if ARP in p:
            a = p[ARP]
            if a.op == 1 and a.pdst == self.fake_ip and a.psrc == self.synack_ip:
                # Answer synack's ARP requests for the fake host.
                self.sock.send(Ether(src=FAKE_MAC, dst=a.hwsrc) / ARP(
                    op=2, hwsrc=FAKE_MAC, psrc=self.fake_ip, hwdst=a.hwsrc, pdst=a.psrc))
            elif a.op == 2 and a.psrc == self.synack_ip and a.pdst == self.fake_ip:
                with self.lock:
                    self.arp_replies.append(a.hwsrc)
            return
        if IP not in p:
            return
        ip = p[IP]
        src_mac = p[Ether].src
        with self.lock:
            if src_mac == self.synack_mac and ip.dst == self.fake_ip:
                if TCP in p:
                    self.fake_answers.append((now, ip, p[TCP]))
                else:
                    self.other_to_fake.append((now, ip.summary()))
            elif self.live is not None and TCP in p:
                t = p[TCP]
                if src_mac == self.synack_mac and ip.dst == self.linux_ip and t.sport == self.lport \
                        and t.dport == self.live:
                    n = len(bytes(t.payload))
                    self.live_bytes += n
                    if int(t.flags) & 0x04:
                        self.live_rsts += 1
                    elif n == 0 and not int(t.flags) & 0x03:
                        self.live_pure.append(now)
                elif src_mac == self.linux_mac and ip.src == self.linux_ip and ip.dst == self.synack_ip \
                        and t.sport == self.live and t.dport == self.lport and not int(t.flags) & 0x07:
                    self.live_last = (t.seq, t.ack, t.window, t.options)

    def start_sniffer(self):
        started = threading.Event()
        from scapy.all import AsyncSniffer
        self.sniffer = AsyncSniffer(iface=self.iface, prn=self.on_frame, store=False,
                                    started_callback=started.set)
        self.sniffer.start()
        if not started.wait(10):
            raise SystemExit("hostile.py: the sniffer did not start")

    # -- helpers ---------------------------------------------------------

    def send(self, pkt):
        b = bytes(pkt)
        self.sent.add(b)
        self.sock.send(b)

    def answers_to(self, port, since):
        with self.lock:
            return [(t, ip, tcp) for (t, ip, tcp) in self.fake_answers if tcp.dport == port and t >= since]

    def record(self, name, answer, problem):
        self.results.append((name, answer, problem))
        print("probe %s: %s -- %s" % (name, answer, "ok" if problem is None else "FAIL: " + problem), flush=True)

    def expect_drop(self, reason, n=1):
        self.expect_drops[reason] = self.expect_drops.get(reason, 0) + n

    @staticmethod
    def describe(answers):
        if not answers:
            return "no answer"
        out = []
        for _, ip, t in answers:
            s = "%s seq=%d ack=%d" % (flags_str(t.flags), t.seq, t.ack)
            if ip.ttl != 64:
                s += " ttl=%d" % ip.ttl
            n = len(bytes(t.payload))
            if n:
                s += " len=%d" % n
            out.append(s)
        return "; ".join(out)

    def fake(self, sport, dport, flags, seq, **kw):
        """A frame from the fake host; ip_* and tcp_bad_csum keywords go to frame()."""
        ipkw = {k[3:]: v for k, v in kw.items() if k.startswith("ip_") and k != "ip_bad_csum"}
        segkw = {k: v for k, v in kw.items() if not k.startswith("ip_") and k != "tcp_bad_csum"}
        return frame(FAKE_MAC, self.synack_mac, self.fake_ip, self.synack_ip,
                     tcp_seg(sport, dport, flags, seq, **segkw),
                     tcp_bad_csum=kw.get("tcp_bad_csum", False), ip_bad_csum=kw.get("ip_bad_csum", False), **ipkw)

    # -- setup -----------------------------------------------------------

    def learn_synack_mac(self):
        """Ask synack for its MAC from the fake host (RFC 826): it must answer."""
        for _ in range(5):
            self.send(Ether(src=FAKE_MAC, dst="ff:ff:ff:ff:ff:ff") / ARP(
                op=1, hwsrc=FAKE_MAC, psrc=self.fake_ip, pdst=self.synack_ip))
            t0 = time.monotonic()
            while time.monotonic() - t0 < 1.0:
                with self.lock:
                    if self.arp_replies:
                        self.synack_mac = self.arp_replies[0]
                        return
                time.sleep(0.02)
        raise SystemExit("hostile.py: synack answered no ARP request for %s" % self.synack_ip)

    def wait_live(self, seconds):
        """The kernel's established connection to LISTEN_PORT, from ss -tin."""
        t0 = time.monotonic()
        while time.monotonic() - t0 < seconds:
            out = subprocess.run(["ss", "-Htin", "state", "established", "dst", self.synack_ip],
                                 capture_output=True, text=True).stdout
            for line in out.splitlines():
                f = line.split()
                if len(f) >= 4 and f[3] == "%s:%d" % (self.synack_ip, self.lport) \
                        and f[2].startswith(self.linux_ip + ":"):
                    self.live = int(f[2].rsplit(":", 1)[1])
                    return
            time.sleep(0.05)
        raise SystemExit("hostile.py: no established connection to %s:%d" % (self.synack_ip, self.lport))

    def live_established(self):
        out = subprocess.run(["ss", "-Htin", "state", "established", "dst", self.synack_ip],
                             capture_output=True, text=True).stdout
        return ("%s:%d" % (self.linux_ip, self.live)) in out

    # -- probes from the fake host -----------------------------------------

    def batch_fake(self, probes):
        """probes: (name, frame, port, expect, drop) where expect is a function
        of the answers returning None or a problem, and drop the synack drop
        reason the frame must be counted under (or None).  Sends them all,
        then waits for the answers."""
        t0 = time.monotonic()
        for (_, pkt, _, _, drop) in probes:
            self.send(pkt)
            if drop:
                self.expect_drop(drop)
            time.sleep(0.01)
        time.sleep(WAIT_ANSWERS)
        for (name, _, port, expect, _) in probes:
            ans = self.answers_to(port, t0)
            self.record(name, self.describe(ans), expect(ans))

    @staticmethod
    def none(ans):
        return None if not ans else "want no answer"

    @staticmethod
    def rst_ack(ack):
        """RFC 9293 3.10.7.1: <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>."""
        def check(ans):
            if len(ans) != 1:
                return "want one RST,ACK with ack=%d" % ack
            t = ans[0][2]
            if int(t.flags) != 0x14 or t.seq != 0 or t.ack != ack & 0xFFFFFFFF:
                return "want RST,ACK seq=0 ack=%d" % (ack & 0xFFFFFFFF)
            return None
        return check

    @staticmethod
    def rst_seq(seq):
        """RFC 9293 3.10.7.2: an ACK in LISTEN: <SEQ=SEG.ACK><CTL=RST>."""
        def check(ans):
            if len(ans) != 1:
                return "want one RST with seq=%d" % seq
            t = ans[0][2]
            if int(t.flags) != 0x04 or t.seq != seq & 0xFFFFFFFF:
                return "want RST seq=%d" % (seq & 0xFFFFFFFF)
            return None
        return check

    def syn_ack(self, isn, sport):
        """A SYN-ACK for our SYN; the half-open connection is then reset."""
        def check(ans):
            sa = [t for (_, _, t) in ans if int(t.flags) == 0x12]
            if len(sa) < 1 or sa[0].ack != (isn + 1) & 0xFFFFFFFF:
                return "want SYN,ACK ack=%d" % ((isn + 1) & 0xFFFFFFFF)
            self.send(self.fake(sport, self.lport, "R", isn + 1))
            return None
        return check

    def probes_fake(self):
        P, C = self.lport, self.cport
        port = iter(range(40001, 41000))
        isn = iter(range(0x1000000, 0x7FFFFFFF, 0x100000))
        probes = []

        def add(name, flags, dport, expect, drop=None, **kw):
            sp, s = next(port), next(isn)
            probes.append((name, self.fake(sp, dport, flags, s, **kw), sp, expect(s, sp), drop))

        def none(s, sp):
            return self.none

        # Control: a SYN with an unknown but well-formed option to the listener
        # must be answered (RFC 9293 MUST-5: ignore unknown options), so the
        # silence after the malformed ones below means something.
        add("listen-syn-unknown-option", "S", P, lambda s, sp: self.syn_ack(s, sp), opts=b"\xfe\x04\xab\xcd")
        # Flag sets (RFC 9293 3.10.7.1 closed port, 3.10.7.2 LISTEN).
        add("closed-syn", "S", C, lambda s, sp: self.rst_ack(s + 1))
        # SYN+FIN and SYN+RST never reach TCP: the wire layer drops them as
        # tcp_bad_flags (DESIGN.md), so even a closed port stays silent where
        # RFC 9293 3.10.7.1 read literally would send a RST for SYN+FIN.
        add("closed-syn-fin", "SF", C, none, "tcp_bad_flags")
        add("closed-syn-rst", "SR", C, none, "tcp_bad_flags")
        add("closed-null", "", C, lambda s, sp: self.rst_ack(s))
        add("closed-xmas", "FPU", C, lambda s, sp: self.rst_ack(s + 1), urgptr=1)
        add("closed-ack", "A", C, lambda s, sp: self.rst_seq(0x5000), ack=0x5000)
        add("listen-syn-fin", "SF", P, none, "tcp_bad_flags")
        add("listen-syn-rst", "SR", P, none, "tcp_bad_flags")
        add("listen-null", "", P, none, "listen_no_syn")
        add("listen-xmas", "FPU", P, none, "listen_no_syn", urgptr=1)
        add("listen-ack", "A", P, lambda s, sp: self.rst_seq(0x6000), ack=0x6000)
        # Option lengths on a SYN to the listener: a SYN-ACK would mean it parsed.
        for (name, o) in BAD_OPTS:
            add("listen-syn-" + name, "S", P, none, "tcp_bad_option", opts=o)
        # Data offsets: below 5 words, and past the end of the segment.
        add("listen-syn-doff-0", "S", P, none, "tcp_bad_offset", doff=0)
        add("listen-syn-doff-4", "S", P, none, "tcp_bad_offset", doff=4)
        add("listen-syn-doff-15-past-segment", "S", P, none, "tcp_bad_offset", doff=15)
        add("closed-syn-doff-6-past-segment", "S", C, none, "tcp_bad_offset", doff=6)
        add("listen-syn-bad-tcp-checksum", "S", P, none, "tcp_bad_checksum", tcp_bad_csum=True)
        # IP header errors on a SYN to the closed port, which would draw a RST.
        add("closed-syn-ip-bad-checksum", "S", C, none, "ip_bad_checksum", ip_bad_csum=True)
        add("closed-syn-ip-ihl-4", "S", C, none, "ip_bad_ihl", ip_ihl=4)
        add("closed-syn-ip-ihl-0", "S", C, none, "ip_bad_ihl", ip_ihl=0)
        add("closed-syn-ip-ihl-15-past-datagram", "S", C, none, "ip_truncated", ip_ihl=15)
        add("closed-syn-ip-total-len-19", "S", C, none, "ip_bad_total_len", ip_len=19)
        add("closed-syn-ip-total-len-past-frame", "S", C, none, "ip_truncated", ip_len=1400)
        # Version 5: version 6 is IPv6 now (issue 14), another datagram altogether.
        add("closed-syn-ip-version-5", "S", C, none, "ip_bad_version", ip_version=5)
        # RFC 1122 3.2.1.7: a host must not discard a datagram for a TTL below 2.
        add("closed-syn-ttl-0", "S", C, lambda s, sp: self.rst_ack(s + 1), ip_ttl=0)
        self.batch_fake(probes)

        # Zero-length and tiny datagrams (no TCP at all: nothing to answer).
        t0 = time.monotonic()
        for (name, payload, drop) in [("ip-datagram-0-bytes", b"", "link_frame_short"),
                                      ("ip-datagram-1-byte", b"\x45", "ip_truncated"),
                                      ("ip-datagram-19-bytes", bytes(IP(src=self.fake_ip, dst=self.synack_ip))[:19],
                                       "ip_truncated"),
                                      ("ip-header-only-no-tcp", bytes(IP(src=self.fake_ip, dst=self.synack_ip,
                                                                         proto=6)), "tcp_truncated")]:
            self.send(raw_l2(FAKE_MAC, self.synack_mac, payload))
            self.expect_drop(drop)
            time.sleep(0.01)
        time.sleep(0.3)
        with self.lock:
            extra = [x for x in self.fake_answers if x[0] >= t0] + [x for x in self.other_to_fake if x[0] >= t0]
        self.record("zero-and-tiny-datagrams", "%d frames back" % len(extra), "want none" if extra else None)

    def probe_wscale_urgent(self):
        """A handshake whose SYN asks for window scale 15 (RFC 7323 2.3: use
        14), then a GET sent with URG and an urgent pointer far past its data:
        synack treats the bytes as ordinary data (RFC 9293 3.8.5) and answers.
        Our window is 4096 and we acknowledge none of the response: synack
        may send 4096 bytes, or 4096 << its shift when its SYN-ACK carried a
        window scale option too (RFC 7323 2.2: else neither side scales)."""
        sport, isn, win = 42001, 0x23000000, 4096
        t0 = time.monotonic()
        self.send(self.fake(sport, self.lport, "S", isn, opts=b"\x03\x03\x0f\x01", window=win))
        sa = None
        while time.monotonic() - t0 < 2 and sa is None:
            for (_, _, t) in self.answers_to(sport, t0):
                if int(t.flags) == 0x12:
                    sa = t
            time.sleep(0.02)
        if sa is None:
            self.record("listen-syn-wscale-15", self.describe(self.answers_to(sport, t0)), "want SYN,ACK")
            return
        opts = dict((o[0], o[1]) for o in sa.options if isinstance(o, tuple))
        ws = opts.get("WScale")
        self.record("listen-syn-wscale-15", "SYN,ACK ack=%d, window scale option %s" % (
            sa.ack, "none (no scaling either way)" if ws is None else ws),
            None if sa.ack == isn + 1 and (ws is None or ws <= 14) else "want SYN,ACK, any window scale <= 14")
        allowed = win if ws is None else win << 14
        req = b"GET /urgent HTTP/1.1\r\nHost: x\r\n\r\n"
        t1 = time.monotonic()
        self.send(self.fake(sport, self.lport, "A", isn + 1, ack=sa.seq + 1, window=win))
        self.send(self.fake(sport, self.lport, "PAU", isn + 1, ack=sa.seq + 1, window=win, urgptr=60000,
                            payload=req))
        time.sleep(1.0)
        segs = {}
        for (_, _, t) in self.answers_to(sport, t1):
            if len(bytes(t.payload)):
                segs[(t.seq - sa.seq - 1) & 0xFFFFFFFF] = bytes(t.payload)
        data = b"".join(segs[k] for k in sorted(segs))
        sent_to = max([k + len(v) for (k, v) in segs.items()] or [0])
        acked = max([t.ack for (_, _, t) in self.answers_to(sport, t1)] or [0])
        line = data.split(b"\r\n", 1)[0].decode(errors="replace")
        self.record("urgent-pointer-past-data", "request acked to %d, answer %r, %d response bytes sent" % (
            (acked - isn - 1) & 0xFFFFFFFF, line, sent_to),
            None if acked == (isn + 1 + len(req)) & 0xFFFFFFFF and line.startswith("HTTP/1.1 200")
            else "want the request acknowledged and HTTP/1.1 200")
        self.record("window-after-wscale-15", "%d bytes sent into a window of %d" % (sent_to, allowed),
                    None if 0 < sent_to <= allowed else "more than the window (or nothing)")
        self.send(self.fake(sport, self.lport, "R", isn + 1 + len(req)))

    def probe_oversized(self):
        """Datagrams larger than the device's usual MTU: the kernel side's
        MTU is raised for them (synack's is not), then put back.  A SYN to
        the closed port inside a 9000- and a 65521-byte datagram (the TAP
        device's largest MTU): synack either takes the whole datagram and
        answers RST, or drops it; it must not take a cut-down datagram for a
        whole one."""
        for total in (9000, 65521):
            sport, isn = 43000 + total % 1000, 0x33000000 + total
            subprocess.run(["ip", "link", "set", self.iface, "mtu", str(total)], check=True)
            pad = total - 40
            t0 = time.monotonic()
            self.send(self.fake(sport, self.cport, "S", isn, payload=b"\xa5" * pad))
            time.sleep(0.5)
            ans = self.answers_to(sport, t0)
            ok = not ans or self.rst_ack(isn + 1 + pad)(ans) is None
            self.record("closed-syn-datagram-%d-bytes" % total, self.describe(ans),
                        None if ok else "want no answer or RST,ACK ack=%d" % (isn + 1 + pad))
        subprocess.run(["ip", "link", "set", self.iface, "mtu", "1500"], check=True)

    # -- probes on the live connection -------------------------------------

    def probes_live(self):
        t0 = time.monotonic()
        while self.live_last is None and time.monotonic() - t0 < 5:
            time.sleep(0.02)
        if self.live_last is None:
            self.record("live-learn-seq", "no segment from the kernel seen", "cannot aim at the connection")
            return
        seq, ack, _, _ = self.live_last
        rsts0, bytes0 = self.live_rsts, self.live_bytes
        print("live: %s:%d -> %s:%d, synack expects seq %d (kernel ack %d)" % (
            self.linux_ip, self.live, self.synack_ip, self.lport, seq, ack), flush=True)

        def live(flags, s=None, **kw):
            """Built when sent: ACKs carry the kernel's latest ack and window."""
            if "A" in flags:
                kw.setdefault("ack", self.live_last[1])
                kw.setdefault("window", self.live_last[2])
            ipkw = {k[3:]: v for k, v in kw.items() if k.startswith("ip_") and k != "ip_bad_csum"}
            segkw = {k: v for k, v in kw.items() if not k.startswith("ip_") and k != "tcp_bad_csum"}
            return frame(self.linux_mac, self.synack_mac, self.linux_ip, self.synack_ip,
                         tcp_seg(self.live, self.lport, flags, seq if s is None else s, **segkw),
                         tcp_bad_csum=kw.get("tcp_bad_csum", False), ip_bad_csum=kw.get("ip_bad_csum", False),
                         **ipkw)

        # Each carries a RST at exactly the next expected sequence number (or
        # FIN / SYN): accepted, it would end the connection.
        probes = [("live-rst-bad-tcp-checksum", lambda: live("R", tcp_bad_csum=True), "tcp_bad_checksum")]
        for (name, o) in BAD_OPTS:
            probes.append(("live-rst-" + name, lambda o=o: live("R", opts=o), "tcp_bad_option"))
        probes += [
            ("live-rst-doff-4", lambda: live("R", doff=4), "tcp_bad_offset"),
            ("live-rst-doff-15-past-segment", lambda: live("R", doff=15), "tcp_bad_offset"),
            ("live-syn-rst", lambda: live("SR"), "tcp_bad_flags"),
            ("live-syn-fin", lambda: live("SF"), "tcp_bad_flags"),
            ("live-rst-ip-bad-checksum", lambda: live("R", ip_bad_csum=True), "ip_bad_checksum"),
            ("live-rst-ip-ihl-4", lambda: live("R", ip_ihl=4), "ip_bad_ihl"),
            ("live-rst-ip-total-len-19", lambda: live("R", ip_len=19), "ip_bad_total_len"),
            ("live-rst-ip-total-len-past-frame", lambda: live("R", ip_len=600), "ip_truncated"),
            # RFC 9293 3.10.7.4 fifth check: no ACK bit, the segment is dropped
            # (a FIN in it is never seen).
            ("live-null", lambda: live(""), "no_ack"),
            ("live-xmas", lambda: live("FPU", urgptr=1), "no_ack"),
            # An urgent pointer past the data, and TTL 0 (RFC 1122 3.2.1.7):
            # both are acceptable duplicate ACKs, nothing to drop.
            ("live-ack-urgent-past-data", lambda: live("AU", urgptr=0xFFFF), None),
            ("live-ack-ttl-0", lambda: live("A", ip_ttl=0), None),
        ]
        for (name, build, drop) in probes:
            self.send(build())
            if drop:
                self.expect_drop(drop)
            time.sleep(0.02)
        time.sleep(0.3)
        alive = self.live_established()
        self.record("live-malformed-x%d" % len(probes),
                    "%d RST from synack on the connection, established=%s, %d bytes flowed meanwhile" % (
                        self.live_rsts - rsts0, alive, self.live_bytes - bytes0),
                    None if alive and self.live_rsts == rsts0 else "the connection was disturbed")

        # Aim check: a RST one past the expected sequence number and a SYN at
        # it, both well-formed, reach the connection: RFC 5961 3.2 and 4.2
        # answer each with a challenge ACK.  This shows the probes above were
        # aimed at the live 4-tuple and sequence number.
        for (name, pkt) in [("live-rst-in-window-not-exact", live("R", s=seq + 1)),
                            ("live-syn-in-window", live("S"))]:
            n0 = len(self.live_pure)
            t1 = time.monotonic()
            self.send(pkt)
            # Poll (a loaded machine may take a while to answer); the
            # behaviour is asserted, never the time it took.
            deadline = t1 + 10
            while True:
                n = len([t for t in self.live_pure[n0:] if t >= t1])
                if n >= 1 or time.monotonic() >= deadline:
                    break
                time.sleep(0.05)
            self.record(name, "%d segment(s) without data from synack on the connection" % n,
                        None if n >= 1 and self.live_established() and self.live_rsts == rsts0
                        else "want a challenge ACK and the connection untouched")

    def run(self):
        self.start_sniffer()
        self.learn_synack_mac()
        print("ready", flush=True)
        print("synack MAC %s (ARP answered for %s)" % (self.synack_mac, self.synack_ip), flush=True)
        self.wait_live(20)
        t0 = time.monotonic()
        while not os.path.exists(self.gofile):
            if time.monotonic() - t0 > 20:
                raise SystemExit("hostile.py: no go from the test")
            time.sleep(0.02)
        t0 = time.monotonic()
        while self.live_last is None and time.monotonic() - t0 < 5:
            time.sleep(0.02)
        self.probes_live()
        self.probes_fake()
        self.probe_wscale_urgent()
        self.probe_oversized()
        still = self.live_established()
        self.record("live-connection-after-probes", "established=%s, %d bytes from synack while probing" % (
            still, self.live_bytes), None if still else "the transfer is no longer running")
        self.sniffer.stop()
        for reason in sorted(self.expect_drops):
            print("expect-drop %s %d" % (reason, self.expect_drops[reason]))
        failed = [r for r in self.results if r[2] is not None]
        print("probes=%d failed=%d" % (len(self.results), len(failed)), flush=True)
        return 1 if failed else 0


# ----------------------------------------------------------------------
# Self-test: the frames carry the malformations, byte for byte.


def selftest():
    m1, m2, a1, a2 = "02:00:00:00:00:01", "02:00:00:00:00:02", "10.9.0.1", "10.9.0.2"
    errors = []
    count = [0]

    def check(name, cond):
        count[0] += 1
        if not cond:
            errors.append(name)

    def inet_sum(b):
        if len(b) % 2:
            b += b"\x00"
        s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
        while s >> 16:
            s = (s & 0xFFFF) + (s >> 16)
        return s

    def tcp_ok(ipb):
        ihl = (ipb[0] & 15) * 4
        seg = ipb[ihl:struct.unpack("!H", ipb[2:4])[0]]
        pseudo = ipb[12:20] + struct.pack("!BBH", 0, 6, len(seg))
        return inet_sum(pseudo + seg) == 0xFFFF

    def ip_of(pkt):
        return bytes(pkt)[14:]

    good = ip_of(frame(m1, m2, a1, a2, tcp_seg(1, 2, "S", 5)))
    check("good: ihl 5, total 40", good[0] == 0x45 and struct.unpack("!H", good[2:4])[0] == 40)
    check("good: ip checksum", inet_sum(good[:20]) == 0xFFFF)
    check("good: tcp checksum", tcp_ok(good))
    check("good: doff 5, SYN", good[32] >> 4 == 5 and good[33] == 0x02)
    b = ip_of(frame(m1, m2, a1, a2, tcp_seg(1, 2, "S", 5), tcp_bad_csum=True))
    check("bad tcp checksum", not tcp_ok(b) and inet_sum(b[:20]) == 0xFFFF)
    b = ip_of(frame(m1, m2, a1, a2, tcp_seg(1, 2, "S", 5), ip_bad_csum=True))
    check("bad ip checksum", inet_sum(b[:20]) != 0xFFFF and tcp_ok(b))
    for (name, o) in BAD_OPTS:
        b = ip_of(frame(m1, m2, a1, a2, tcp_seg(1, 2, "R", 5, opts=o)))
        check(name, b[32] >> 4 == 6 and b[40:44] == o and tcp_ok(b) and len(b) == 44)
    for d in (0, 4, 15):
        b = ip_of(frame(m1, m2, a1, a2, tcp_seg(1, 2, "S", 5, doff=d)))
        check("doff %d" % d, b[32] >> 4 == d and len(b) == 40 and tcp_ok(b))
    for (flags, byte) in (("SF", 0x03), ("SR", 0x06), ("", 0x00), ("FPU", 0x29)):
        b = ip_of(frame(m1, m2, a1, a2, tcp_seg(1, 2, flags, 5)))
        check("flags %r" % flags, b[33] == byte and tcp_ok(b))
    b = ip_of(frame(m1, m2, a1, a2, tcp_seg(1, 2, "S", 5), ihl=4))
    check("ihl 4", b[0] == 0x44 and len(b) == 40)
    b = ip_of(frame(m1, m2, a1, a2, tcp_seg(1, 2, "S", 5), ihl=15))
    check("ihl 15", b[0] == 0x4F and len(b) == 40)
    b = ip_of(frame(m1, m2, a1, a2, tcp_seg(1, 2, "S", 5), len=19))
    check("total 19", struct.unpack("!H", b[2:4])[0] == 19 and len(b) == 40 and inet_sum(b[:20]) == 0xFFFF)
    b = ip_of(frame(m1, m2, a1, a2, tcp_seg(1, 2, "S", 5), len=1400))
    check("total 1400", struct.unpack("!H", b[2:4])[0] == 1400 and len(b) == 40 and inet_sum(b[:20]) == 0xFFFF)
    b = ip_of(frame(m1, m2, a1, a2, tcp_seg(1, 2, "S", 5), version=6))
    check("version 6", b[0] >> 4 == 6)
    b = ip_of(frame(m1, m2, a1, a2, tcp_seg(1, 2, "S", 5), ttl=0))
    check("ttl 0", b[8] == 0 and inet_sum(b[:20]) == 0xFFFF and tcp_ok(b))
    b = ip_of(frame(m1, m2, a1, a2, tcp_seg(1, 2, "PAU", 5, urgptr=60000, payload=b"abc")))
    check("urgent", struct.unpack("!H", b[38:40])[0] == 60000 and b[33] == 0x38 and b[40:] == b"abc" and tcp_ok(b))
    b = ip_of(frame(m1, m2, a1, a2, tcp_seg(1, 2, "S", 5, opts=b"\x03\x03\x0f\x01")))
    check("wscale 15", b[40:44] == b"\x03\x03\x0f\x01" and b[32] >> 4 == 6 and tcp_ok(b))
    b = ip_of(frame(m1, m2, a1, a2, tcp_seg(1, 2, "S", 5, payload=b"\xa5" * (65521 - 40))))
    check("65521 bytes", len(b) == 65521 and struct.unpack("!H", b[2:4])[0] == 65521 and tcp_ok(b))
    check("0-byte datagram", bytes(raw_l2(m1, m2, b"")) == bytes.fromhex("020000000002020000000001" + "0800"))
    check("1-byte datagram", len(bytes(raw_l2(m1, m2, b"\x45"))) == 15)
    for e in errors:
        print("selftest: wrong frame: " + e, file=sys.stderr)
    print("selftest: %d frame checks, %d wrong" % (count[0], len(errors)))
    return 1 if errors else 0


def main():
    if len(sys.argv) >= 2 and sys.argv[1] == "selftest":
        return selftest()
    if len(sys.argv) == 9 and sys.argv[1] == "run":
        a = sys.argv[2:]
        return Prober(a[0], a[1], a[2], a[3], int(a[4]), int(a[5]), a[6]).run()
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
