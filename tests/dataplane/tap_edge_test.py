#!/usr/bin/python3
"""TCP edge cases against the DPDK stack over net_tap, with scapy as the peer.

usage: tap_edge_test.py path/to/dataplane_stack_peer   (root; /usr/bin/python3 for scapy)

The stack runs in dataplane_stack_peer (echo 7, discard 9, hold 13, chargen 19)
on a tap interface; this script crafts segments and checks the answers:
out-of-window segments draw a duplicate ACK and are not accepted; RST in
SYN-RECEIVED, ESTABLISHED, FIN-WAIT-1, FIN-WAIT-2 and CLOSE-WAIT (RFC 9293
§3.10.7.4, with the RFC 5961 §3.2 challenge ACK for an in-window RST that is
not exact and §4.2 for a SYN in a synchronized state); a zero window from the
peer brings persist probes and the data follows when it opens; a SYN flood
from thousands of source ports while a kernel socket transfer stays byte-exact;
a closed port answers RST.

Why the kernel does not interfere: scapy's connections use a source address on
the tap's subnet that the kernel does not own (.3). The stack learns .3 -> the
tap's MAC from an ARP request scapy sends, and its answers reach the tap, where
a packet socket sees them and the kernel drops them as not addressed to it
(forwarding is off on the interface: no ICMP, and above all no RST from a
kernel that has no socket for these connections). That needs no firewall rule,
and the SYN flood's thousands of SYN,ACKs vanish quietly instead of drawing
thousands of kernel RSTs. The kernel's own socket transfer uses .1 as usual.
"""

import json
import os
import queue
import random
import socket
import struct
import subprocess
import sys
import threading
import time

from scapy.all import ARP, IP, TCP, Ether, Raw, conf  # Debian python3-scapy

conf.verb = 0

PEER = sys.argv[1]
NET = 100 + os.getpid() % 100
IFACE = "mxdpedge%d" % (os.getpid() % 100000)
KERNEL_IP = "10.212.%d.1" % NET
DPDK_IP = "10.212.%d.2" % NET
SCAPY_IP = "10.212.%d.3" % NET  # on the subnet, not owned by the kernel

A, S, F, R, P = 0x10, 0x02, 0x01, 0x04, 0x08
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        failures.append(what)
    return cond


def sh(cmd):
    subprocess.run(cmd, shell=True, check=True)


class Wire:
    """A packet socket on the tap: sends crafted frames, sorts the stack's
    TCP answers to SCAPY_IP into one queue per scapy source port."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
        self.sock.bind((IFACE, 0))
        self.sock.settimeout(0.2)
        self.queues = {}
        self.lock = threading.Lock()
        self.stop = False
        self.dst_ip = socket.inet_aton(SCAPY_IP)
        self.thread = threading.Thread(target=self.reader, daemon=True)
        self.thread.start()

    def reader(self):
        while not self.stop:
            try:
                b, addr = self.sock.recvfrom(65535)
            except socket.timeout:
                continue
            except OSError:
                return
            if addr[2] == socket.PACKET_OUTGOING:
                continue
            # Cheap byte filter before scapy parses: IPv4, TCP, to SCAPY_IP.
            if len(b) < 54 or b[12:14] != b"\x08\x00" or b[23] != 6 or b[30:34] != self.dst_ip:
                continue
            ihl = (b[14] & 0xF) * 4
            dport = struct.unpack("!H", b[14 + ihl + 2:14 + ihl + 4])[0]
            with self.lock:
                q = self.queues.get(dport)
            if q is not None:
                q.put(Ether(b))

    def register(self, sport):
        q = queue.Queue()
        with self.lock:
            self.queues[sport] = q
        return q

    def send(self, frame):
        self.sock.send(bytes(frame))


class Flow:
    """One scapy-side connection from SCAPY_IP:sport to DPDK_IP:dport."""

    def __init__(self, wire, dport):
        self.wire = wire
        self.dport = dport
        self.sport = random.randint(20000, 29999)
        self.q = wire.register(self.sport)
        self.seq = random.randint(0, 2**32 - 1)  # our next sequence number
        self.ack = 0  # the stack's next sequence number (our RCV.NXT)
        self.iss = 0

    def frame(self, flags, seq=None, ack=None, payload=b"", window=65535, options=None):
        t = TCP(sport=self.sport, dport=self.dport, flags=flags,
                seq=(self.seq if seq is None else seq) % 2**32,
                ack=(self.ack if ack is None else ack) % 2**32, window=window, options=options or [])
        f = Ether(src=TAP_MAC, dst=DPDK_MAC) / IP(src=SCAPY_IP, dst=DPDK_IP) / t
        if payload:
            f = f / Raw(payload)
        return f

    def send(self, flags, **kw):
        self.wire.send(self.frame(flags, **kw))

    def expect(self, pred=lambda p: True, timeout=2.0):
        """The next segment from the stack that satisfies pred, or None."""
        end = time.time() + timeout
        while True:
            left = end - time.time()
            if left <= 0:
                return None
            try:
                p = self.q.get(timeout=left)
            except queue.Empty:
                return None
            if pred(p):
                return p

    def quiet(self, seconds):
        """True when the stack sends nothing on this flow for `seconds`."""
        return self.expect(timeout=seconds) is None

    def syn(self, window=65535):
        self.send(S, ack=0, window=window, options=[("MSS", 1460)])
        p = self.expect(lambda p: p[TCP].flags & (S | A) == (S | A))
        if p is None or p[TCP].ack != (self.seq + 1) % 2**32:
            return None
        self.seq = (self.seq + 1) % 2**32
        self.iss = p[TCP].seq
        self.ack = (p[TCP].seq + 1) % 2**32
        return p

    def handshake(self, window=65535):
        if self.syn() is None:
            return False
        self.send(A, window=window)
        return True

    def gone(self):
        """The stack holds no TCB for this flow: a data segment draws an RST
        with SEQ = our ACK (RFC 9293 §3.10.7.1), not an ACK."""
        self.send(A | P, payload=b"?")
        p = self.expect(lambda p: p[TCP].flags & (R | A) != 0)
        return p is not None and p[TCP].flags & R != 0 and p[TCP].seq == self.ack

    def is_challenge_ack(self, p):
        return (p is not None and p[TCP].flags & (R | S | F | A) == A and p[TCP].ack == self.seq
                and len(p[TCP].payload) == 0)


def learn_arp(wire):
    # A request from SCAPY_IP for the stack's address: RFC 826 reception adds
    # the sender (the tap's MAC) to the stack's cache, as the target.
    wire.send(Ether(src=TAP_MAC, dst="ff:ff:ff:ff:ff:ff") /
              ARP(op=1, hwsrc=TAP_MAC, psrc=SCAPY_IP, hwdst="00:00:00:00:00:00", pdst=DPDK_IP))
    time.sleep(0.05)


def counters():
    peer.stdin.write("counters\n")
    peer.stdin.flush()
    while True:
        line = peer.stdout.readline()
        if not line:
            return {}
        if line.startswith("COUNTERS "):
            return json.loads(line[len("COUNTERS "):])


# ---- the cases ----

def closed_port(wire):
    f = Flow(wire, 4444)
    f.send(S, ack=0, options=[("MSS", 1460)])
    p = f.expect(lambda p: p[TCP].flags & R)
    check(p is not None and p[TCP].flags & (R | A) == (R | A) and p[TCP].ack == (f.seq + 1) % 2**32
          and p[TCP].seq == 0, "closed port: SYN gets RST,ACK with ACK = SEQ+1")
    f.send(A, ack=123456)
    p = f.expect(lambda p: p[TCP].flags & R)
    check(p is not None and p[TCP].flags & (R | A) == R and p[TCP].seq == 123456,
          "closed port: ACK gets RST with SEQ = SEG.ACK")


def out_of_window(wire):
    f = Flow(wire, 7)
    if not check(f.handshake(), "out-of-window: handshake with the echo server"):
        return
    # The window is at most 65535 (no window scale offered): 300000 ahead is outside.
    f.send(A | P, seq=f.seq + 300000, payload=b"FUTURE")
    p = f.expect()
    check(p is not None and p[TCP].flags & A and p[TCP].ack == f.seq and len(p[TCP].payload) == 0,
          "out-of-window: data beyond the window draws a duplicate ACK (ACK = RCV.NXT)")
    f.send(A | P, seq=f.seq - 5000, payload=b"PAST" * 10)
    p = f.expect()
    check(p is not None and p[TCP].ack == f.seq and len(p[TCP].payload) == 0,
          "out-of-window: old data draws a duplicate ACK")
    f.send(A | P, payload=b"hello")
    f.seq += 5
    p = f.expect(lambda p: len(p[TCP].payload) > 0)
    check(p is not None and bytes(p[TCP].payload) == b"hello" and p[TCP].seq == f.ack and p[TCP].ack == f.seq,
          "out-of-window: neither segment was accepted (next in-order data echoes alone)")
    f.send(R, seq=f.seq)
    check(f.gone(), "out-of-window: exact RST closes")


def rst_syn_received(wire):
    f = Flow(wire, 9)
    if not check(f.syn() is not None, "SYN-RECEIVED: SYN,ACK"):
        return
    f.send(R, seq=f.seq, ack=0)
    time.sleep(0.05)
    # Without the RST, this ACK would complete the handshake silently.
    f.send(A, payload=b"")
    p = f.expect(lambda p: p[TCP].flags & R)
    check(p is not None and p[TCP].seq == f.ack, "SYN-RECEIVED: RST returns to LISTEN (the ACK meets an RST)")


def rst_established(wire):
    f = Flow(wire, 13)
    if not check(f.handshake(), "ESTABLISHED: handshake with the hold server"):
        return
    f.send(R, seq=f.seq + 100)
    check(f.is_challenge_ack(f.expect()), "ESTABLISHED: in-window RST, not exact -> challenge ACK (RFC 5961 §3.2)")
    f.send(S, seq=f.seq + 10, ack=0, options=[("MSS", 1460)])
    check(f.is_challenge_ack(f.expect()), "ESTABLISHED: SYN -> challenge ACK (RFC 5961 §4.2)")
    f.send(R, seq=f.seq + 1_000_000)
    check(f.quiet(0.3), "ESTABLISHED: RST outside the window is dropped silently")
    f.send(A | P, payload=b"x")
    f.seq += 1
    p = f.expect()
    check(p is not None and p[TCP].ack == f.seq, "ESTABLISHED: still alive after the bogus RSTs and SYN")
    f.send(R, seq=f.seq)
    check(f.gone(), "ESTABLISHED: exact RST closes")


def fin_wait(wire, ack_fin):
    name = "FIN-WAIT-2" if ack_fin else "FIN-WAIT-1"
    f = Flow(wire, 19)
    if not check(f.handshake(), name + ": handshake with chargen"):
        return
    received = 0
    fin = None
    while fin is None:
        p = f.expect(timeout=3)
        if p is None:
            break
        n = len(p[TCP].payload)
        if p[TCP].seq == f.ack:
            f.ack = (f.ack + n) % 2**32
            received += n
        if p[TCP].flags & F:
            fin = p
        f.send(A)
    if not check(fin is not None and received == 20000, name + ": chargen sent 20000 bytes and FIN"):
        return
    if ack_fin:
        f.ack = (f.ack + 1) % 2**32
        f.send(A)  # FIN acknowledged: the stack is in FIN-WAIT-2 (orphaned, 1 s)
    # else: FIN not acknowledged, the stack stays in FIN-WAIT-1 (retransmitting it)
    time.sleep(0.05)
    f.send(R, seq=f.seq + 50)
    check(f.is_challenge_ack(f.expect(lambda p: not p[TCP].flags & F)), name + ": in-window RST -> challenge ACK")
    f.send(R, seq=f.seq)
    time.sleep(0.05)
    if not ack_fin:
        f.ack = (f.ack + 1) % 2**32  # gone() sends our ACK; make it cover the FIN
    check(f.gone(), name + ": exact RST closes")


def rst_close_wait(wire):
    f = Flow(wire, 13)
    if not check(f.handshake(), "CLOSE-WAIT: handshake with the hold server"):
        return
    f.send(F | A)
    f.seq += 1
    p = f.expect()
    if not check(p is not None and p[TCP].ack == f.seq and not p[TCP].flags & F, "CLOSE-WAIT: our FIN is acknowledged"):
        return
    f.send(R, seq=f.seq + 1000)
    check(f.is_challenge_ack(f.expect()), "CLOSE-WAIT: in-window RST -> challenge ACK")
    f.send(R, seq=f.seq)
    check(f.gone(), "CLOSE-WAIT: exact RST closes")


def zero_window(wire):
    f = Flow(wire, 19)
    if not check(f.handshake(window=0), "zero window: handshake with chargen, window 0"):
        return
    # RFC 9293 §3.8.6.1: the sender probes a zero window. The stack's probe is
    # an ACK with SEQ = SND.UNA - 1 and no data; answer each with window 0.
    probes = 0
    data = 0
    end = time.time() + 5
    while probes < 2 and time.time() < end:
        p = f.expect(timeout=end - time.time())
        if p is None:
            break
        if len(p[TCP].payload) > 0:
            data += 1
        elif p[TCP].seq == (f.ack - 1) % 2**32:
            probes += 1
            f.send(A, window=0)
    check(probes >= 2 and data == 0, "zero window: persist probes (%d), no data into a closed window" % probes)
    f.send(A, window=65535)
    p = f.expect(lambda p: len(p[TCP].payload) > 0)
    check(p is not None and p[TCP].seq == f.ack and bytes(p[TCP].payload)[:3] == b"ABC",
          "zero window: data flows from SND.UNA once the window opens")
    f.send(R, seq=f.seq)


# The Linux side of an echo transfer (tests/dataplane/echo_client.py).
ECHO_CLIENT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "echo_client.py")


def syn_flood(wire, count=4000, limit=20000):
    before = counters()
    client = subprocess.Popen(["/usr/bin/python3", ECHO_CLIENT, DPDK_IP, str(2_000_000)])
    time.sleep(0.2)  # the transfer is under way before the flood starts
    # Frames from random source ports, sent in a tight loop: at least `count`,
    # and on for as long as the transfer runs (up to `limit`).
    template = Ether(src=TAP_MAC, dst=DPDK_MAC) / IP(src=SCAPY_IP, dst=DPDK_IP) / TCP(
        dport=7, flags="S", options=[("MSS", 1460)])
    ports = random.sample(range(30000, 61000), limit)
    sent = 0
    t0 = time.time()
    while sent < limit and (sent < count or client.poll() is None):
        template[TCP].sport = ports[sent]
        template[TCP].seq = random.randint(0, 2**32 - 1)
        del template[TCP].chksum
        wire.send(template)
        sent += 1
        if sent % 200 == 0:
            time.sleep(0.005)  # the tap's queue is finite; keep the flood inside it
    flood_s = time.time() - t0
    rc = client.wait(timeout=60)
    after = counters()
    check(rc == 0, "SYN flood: %d SYNs over %.2f s while a 2 MB kernel socket echo stays byte-exact" %
          (sent, flood_s))
    opened = after["passive_opens"] - before["passive_opens"]
    cookies = after["syn_cookies_sent"] - before["syn_cookies_sent"]
    print("     flood: half-open TCBs %d, SYN cookies %d (backlog 256)" % (opened - 1, cookies))
    check(cookies > 0 and opened + cookies >= sent * 0.9, "SYN flood: backlog bounded, the rest answered with SYN cookies")


def main():
    global peer, DPDK_MAC, TAP_MAC
    deadline = time.time() + 55
    peer = subprocess.Popen([PEER, "--vdev=net_tap0,iface=" + IFACE, "--", "serve", "--port", "net_tap0", "--ip",
                             DPDK_IP, "--syn-backlog", "256", "--chargen-bytes", "20000"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    wire = None
    try:
        line = peer.stdout.readline()
        if not line.startswith("READY "):
            print("stack_peer did not start: %r" % line)
            return 1
        DPDK_MAC = line.split()[1]
        sh("ip addr add %s/24 dev %s && ip link set %s up" % (KERNEL_IP, IFACE, IFACE))
        sh("sysctl -qw net.ipv6.conf.%s.disable_ipv6=1 net.ipv4.conf.%s.forwarding=0" % (IFACE, IFACE))
        TAP_MAC = open("/sys/class/net/%s/address" % IFACE).read().strip()
        wire = Wire()
        learn_arp(wire)
        for case in (closed_port, out_of_window, rst_syn_received, rst_established,
                     lambda w: fin_wait(w, False), lambda w: fin_wait(w, True), rst_close_wait, zero_window,
                     syn_flood):
            learn_arp(wire)
            case(wire)
            if time.time() > deadline:
                check(False, "time budget (55 s) exceeded")
                break
        c = counters()
        print("     counters:", c)
        check(c.get("challenge_acks", 0) >= 5, "counters: challenge ACKs sent")
        check(c.get("zero_window_probes", 0) >= 2, "counters: zero-window probes sent")
        peer.stdin.close()
        rc = peer.wait(timeout=20)
        check(rc == 0, "stack_peer exits cleanly, every mbuf back in the pool")
    finally:
        if wire is not None:
            wire.stop = True
        if peer.poll() is None:
            peer.kill()
            peer.wait()
    print("%d failure(s)" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
