#!/usr/bin/python3
"""Where the appliance core's time goes per message, from a profile.

Runs `mxdp bench` (DPDK, 1 generator + 1 appliance lcore) under `perf record`,
takes the samples of the appliance thread (mxdp-app-0), sorts its functions
into layers and turns each layer's share into nanoseconds per message with the
run's own figures (loop time on the appliance core / messages accepted):

    TCP/IP     dataplane: Ethernet, ARP, IPv4, TCP, checksums, timers, mbufs, ports
    transport  the event loop over the stack (StackLoop, connection buffers)
    SMTP       smtp/: parsing, state machine, replies; the session glue
    routing    routing/ and the appliance's router sink: directory lookups,
               message objects, shards, hand-offs
    delivery   the mailbox store
    libc       allocator, memcpy, the rest

Idle polling (the loop finding nothing) is part of TCP/IP and transport; the
loop's own busy share is printed beside it.

A second view needs no profiler: two plain runs, the appliance as it is and
with --discard (it accepts and drops every message, as smtp-sink does), give
the front end's cost (TCP/IP, SMTP, the loop) and, by difference, what the
directory lookups, routing and delivery add (with the mailbox logs' toll on the
cache), from the loop's busy time per message. --no-split skips it.

    bench/where_time_goes.py [--mxdp build/release/mxdp] [--seconds 5] [--no-split] [-- bench args]
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

LAYERS = [
    ("delivery", re.compile(r"mxdp::routing::MailboxStore")),
    ("transport", re.compile(r"mxdp::dataplane::(StackLoop|transport::)|mxdp::cli::LoopFactory")),
    ("TCP/IP", re.compile(r"mxdp::dataplane::|^rte_|eth_ring|common_ring|mempool|mbuf|bucket_")),
    ("SMTP", re.compile(r"mxdp::smtp::|SmtpServerConnection|ServeConnection")),
    ("routing", re.compile(r"mxdp::routing::|RouterSink|RelayDispatch|Appliance::Impl|SmtpRelay")),
]


def layer_of(symbol):
    for name, pattern in LAYERS:
        if pattern.search(symbol):
            return name
    return "libc"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mxdp", default="build/release/mxdp")
    ap.add_argument("--seconds", type=float, default=5)
    ap.add_argument("--no-split", action="store_true", help="skip the two runs with and without --discard")
    ap.add_argument("bench_args", nargs="*", help="extra mxdp bench args (after --)")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data, report = os.path.join(tmp, "perf.data"), os.path.join(tmp, "run.json")
        subprocess.run(["perf", "record", "-F", "4000", "-o", data, "--", *bench_command(a, report)],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        out = subprocess.run(["perf", "report", "-i", data, "--no-children", "--comm", "mxdp-app-0", "--sort", "sym",
                              "--stdio", "-g", "none"], capture_output=True, text=True, check=True).stdout
        with open(report) as f:
            run = json.load(f)
    shares = {}
    for line in out.splitlines():
        m = re.match(r"\s*([0-9.]+)%\s+\[[.k]\]\s+(.*)$", line)
        if m:
            shares[layer_of(m.group(2))] = shares.get(layer_of(m.group(2)), 0) + float(m.group(1))
    total = sum(shares.values()) or 1
    c = run["transport_counters"]
    msgs = run["messages_accepted"]
    loop_ns = c["appliance.loop_total_us"] * 1000 / msgs
    busy = c["appliance.loop_busy_us"] / max(1, c["appliance.loop_total_us"])
    print(f"{run['messages_per_second']:.0f} msg/s, {msgs} messages, {run['message_size']} B, "
          f"{run['recipients_per_message']} rcpt; appliance core {loop_ns:.0f} ns/message, busy {busy:.0%}")
    for name in ["TCP/IP", "transport", "SMTP", "routing", "delivery", "libc"]:
        share = shares.get(name, 0) / total
        print(f"  {name:<10} {share * loop_ns:7.0f} ns/message   {share:6.1%}")
    if not a.no_split:
        whole, front = (busy_ns_per_message(a, extra) for extra in ([], ["--discard"]))
        print(f"without a profiler (appliance loop busy time per message, {a.seconds:g} s runs):")
        print(f"  whole appliance                   {whole:7.0f} ns/message")
        print(f"  front end alone (--discard)       {front:7.0f} ns/message   TCP/IP, SMTP, the loop")
        print(f"  directory, routing, delivery add  {whole - front:7.0f} ns/message   (and the mailbox logs' cache share)")
    return 0


def bench_command(a, report, extra=()):
    """The DPDK bench both views run, writing its JSON report to `report`."""
    return [a.mxdp, "bench", "--", "--backend", "dpdk", "-d", str(a.seconds), "-c", "64", "--quiet",
            "--json", report, *extra, *a.bench_args]


def busy_ns_per_message(a, extra):
    with tempfile.TemporaryDirectory() as tmp:
        report = os.path.join(tmp, "run.json")
        subprocess.run(bench_command(a, report, extra), check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        with open(report) as f:
            run = json.load(f)
    return run["transport_counters"]["appliance.loop_busy_us"] * 1000 / run["messages_accepted"]


if __name__ == "__main__":
    sys.exit(main())
