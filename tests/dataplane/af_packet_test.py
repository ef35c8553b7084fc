#!/usr/bin/python3
"""The DPDK stack on net_af_packet over a veth pair whose other end lives in a
network namespace, with the namespace's Linux TCP as the peer, both ways:

  1. kernel clients in the namespace echo through the DPDK server, byte-exact;
  2. the DPDK client echoes through a kernel server in the namespace, byte-exact.

usage: af_packet_test.py path/to/dataplane_stack_peer   (root)

The namespace and the veth pair are removed whatever happens (the veth goes
with the namespace; the host end is deleted explicitly too).
"""

import ctypes
import fcntl
import os
import socket
import struct
import subprocess
import sys
import time

PEER = sys.argv[1]
TAG = os.getpid() % 100000
NS = "mxdpns%d" % TAG
HOST_IF = "mxva%d" % TAG  # DPDK's end (net_af_packet)
NS_IF = "mxvb%d" % TAG  # the namespace's end
NET = 100 + os.getpid() % 100
NS_IP = "10.213.%d.1" % NET
DPDK_IP = "10.213.%d.2" % NET

failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        failures.append(what)
    return cond


def sh(cmd, check_rc=True):
    return subprocess.run(cmd, shell=True, check=check_rc).returncode


def in_ns(argv):
    return ["ip", "netns", "exec", NS] + argv


def offloads_off(ifname):
    """Turn off checksum and segmentation offloads (what `ethtool -K IF tx off
    tso off gso off gro off` does, through the legacy ETHTOOL_S* ioctls, since
    ethtool is not installed everywhere). A veth otherwise can hand a packet
    socket frames with a partial checksum (CHECKSUM_PARTIAL) and 64 KiB GSO
    frames, and the stack verifies checksums and takes MTU-sized frames."""
    SIOCETHTOOL = 0x8946
    cmds = {"tx-checksum": 0x17, "tso": 0x1F, "gso": 0x24, "gro": 0x2C}
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        for name, cmd in cmds.items():
            value = ctypes.create_string_buffer(struct.pack("II", cmd, 0))
            ifr = struct.pack("16sP", ifname.encode(), ctypes.addressof(value))
            try:
                fcntl.ioctl(s.fileno(), SIOCETHTOOL, ifr)
            except OSError as e:
                print("     %s: %s off failed (%s)" % (ifname, name, e))
    finally:
        s.close()


def offloads_off_in_ns(ifname):
    code = "import sys; sys.path.insert(0, %r); import af_packet_test as t; t.offloads_off(%r)" % (
        os.path.dirname(os.path.abspath(__file__)), ifname)
    subprocess.run(in_ns(["/usr/bin/python3", "-c", code, PEER]), check=True)


# The Linux side of an echo transfer (tests/dataplane/echo_client.py).
ECHO_CLIENT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "echo_client.py")

ECHO_SERVER = r"""
import socket, sys
host, port, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind((host, port))
ls.listen(8)
print("LISTENING", flush=True)
ls.settimeout(40)
for _ in range(count):
    c, _ = ls.accept()
    c.settimeout(30)
    while True:
        b = c.recv(1 << 20)
        if not b:
            break
        c.sendall(b)
    c.close()
"""

SIZES = [1, 100_000, 3_000_000]


def setup():
    sh("ip netns add %s" % NS)
    sh("ip link add %s type veth peer name %s" % (HOST_IF, NS_IF))
    sh("ip link set %s netns %s" % (NS_IF, NS))
    sh("sysctl -qw net.ipv6.conf.%s.disable_ipv6=1" % HOST_IF)
    sh("ip link set %s up" % HOST_IF)
    sh("ip netns exec %s sysctl -qw net.ipv6.conf.%s.disable_ipv6=1" % (NS, NS_IF))
    sh("ip netns exec %s ip addr add %s/24 dev %s" % (NS, NS_IP, NS_IF))
    sh("ip netns exec %s ip link set %s up" % (NS, NS_IF))
    sh("ip netns exec %s ip link set lo up" % NS)
    offloads_off(HOST_IF)
    offloads_off_in_ns(NS_IF)


def cleanup():
    sh("ip link del %s 2>/dev/null" % HOST_IF, check_rc=False)
    sh("ip netns del %s 2>/dev/null" % NS, check_rc=False)


def start_peer(args):
    p = subprocess.Popen([PEER, "--vdev=net_af_packet0,iface=" + HOST_IF, "--", *args, "--port", "net_af_packet0",
                          "--ip", DPDK_IP], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    line = p.stdout.readline()
    if not line.startswith("READY "):
        p.kill()
        p.wait()
        raise RuntimeError("stack_peer did not start: %r" % line)
    return p


def stop(p, timeout=20):
    if p.poll() is None:
        try:
            p.stdin.close()
        except OSError:
            pass
    try:
        rc = p.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        rc = p.wait()
    return rc


def kernel_clients_to_dpdk_server():
    peer = start_peer(["serve"])
    try:
        for size in SIZES:
            t0 = time.time()
            rc = subprocess.run(in_ns(["/usr/bin/python3", ECHO_CLIENT, DPDK_IP, str(size)]),
                                timeout=60).returncode
            check(rc == 0, "namespace kernel client -> DPDK echo server: %d bytes byte-exact (%.2f s)" %
                  (size, time.time() - t0))
    finally:
        rc = stop(peer)
    check(rc == 0, "DPDK server exits cleanly, every mbuf back in the pool")


def dpdk_client_to_kernel_server():
    server = subprocess.Popen(in_ns(["/usr/bin/python3", "-c", ECHO_SERVER, NS_IP, "9007", str(len(SIZES))]),
                              stdout=subprocess.PIPE, text=True)
    try:
        check(server.stdout.readline().startswith("LISTENING"), "kernel echo server listens in the namespace")
        for size in SIZES:
            t0 = time.time()
            client = subprocess.Popen([PEER, "--vdev=net_af_packet0,iface=" + HOST_IF, "--", "client", "--port",
                                       "net_af_packet0", "--ip", DPDK_IP, "--connect", NS_IP + ":9007", "--size",
                                       str(size), "--timeout", "40"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                      text=True)
            out, _ = client.communicate(timeout=60)
            check(client.returncode == 0 and ("TRANSFER 0 OK %d" % size) in out,
                  "DPDK client -> namespace kernel echo server: %d bytes byte-exact (%.2f s)" %
                  (size, time.time() - t0))
        check(server.wait(timeout=20) == 0, "kernel echo server served every connection")
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()


def main():
    try:
        setup()
        kernel_clients_to_dpdk_server()
        dpdk_client_to_kernel_server()
    finally:
        cleanup()
    left = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    check(NS not in left and not os.path.exists("/sys/class/net/" + HOST_IF), "namespace and veth removed")
    print("%d failure(s)" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
