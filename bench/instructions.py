#!/usr/bin/python3
"""Instructions per message on the appliance core, counted by callgrind.

Time per message moves with whatever else the machine runs; instructions do
not. This runs `mxdp bench` (DPDK, 1 generator + 1 appliance lcore by default)
under valgrind's callgrind twice, with N and N/3 messages, and divides the
difference in instructions by the difference in messages: what one more
message costs, without EAL start-up, the directory load or connection set-up.

Under valgrind one thread runs at a time, so the bench runs with --idle-yield
(a loop that finds nothing yields instead of spinning), and the loop polls idle
several times per message where a real run polls less than once. So only the
work messages cause is counted (callgrind --toggle-collect), on the appliance
threads (mxdp-app-*):

    StackLoop::dispatch     events: SMTP, routing, delivery
    Stack::Impl::input      each received packet: Ethernet, IPv4, TCP
    StackLoop::flush        each connection's replies: TCP send
    Stack::flush            the TX burst
    StackLoop::look_ahead   each burst's RCPTs: directory prefetches

Left out: the per-iteration polls (RX burst calls, timers, the router's rings),
a few dozen instructions per message in a real run's bursts of about 32.
Two runs of one build agree within about 1% (the RCPT look-ahead and the loop
vary a little with how packets fall into bursts), so a change of a few percent
shows in one run of each build, where a time A/B here needs many. Layers are
where_time_goes.py's (by function name).

    bench/instructions.py [--mxdp build/release/mxdp] [--messages 30000] [--top 15]
                          [--json FILE] [-- bench args]
"""
import argparse
import collections
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

from where_time_goes import layer_of

# The entry points of the work a message causes (see above). Collection
# toggles at each entry and exit, so they must not nest: in a bench run only a
# closing connection flushes from dispatch, which drops a few instructions.
MESSAGE_WORK = [
    "mxdp::dataplane::StackLoop::dispatch(",
    "mxdp::dataplane::Stack::Impl::input(",
    "mxdp::dataplane::StackLoop::flush(",
    "mxdp::dataplane::Stack::flush(",
    "mxdp::dataplane::StackLoop::look_ahead(",
]
# Only the appliance's threads route what their sessions accept.
APPLIANCE_THREAD = "mxdp::cli::RouterSink::"


def parse_callgrind(path):
    """Self and inclusive Ir per function name of one callgrind output file."""
    names = {}
    self_ir = collections.Counter()
    call_ir = collections.Counter()
    current = None
    in_call = False

    def name(spec):
        # "(12) name" defines a compressed name, "(12)" uses it.
        m = re.match(r"\((\d+)\)\s*(.*)$", spec)
        if not m:
            return spec
        if m.group(2):
            names[m.group(1)] = m.group(2)
        return names.get(m.group(1), spec)

    with open(path, errors="replace") as f:
        for line in f:
            if line.startswith("fn="):
                current = name(line[3:].strip())
            elif line.startswith("cfn="):
                name(line[4:].strip())
            elif line.startswith("calls="):
                in_call = True
            elif line[:1].isdigit() or line[:1] in "+-*":
                fields = line.split()
                cost = int(fields[1]) if len(fields) > 1 else 0
                if in_call:
                    call_ir[current] += cost  # the callee's inclusive cost, charged to the caller
                    in_call = False
                else:
                    self_ir[current] += cost
    inclusive = collections.Counter(self_ir)
    inclusive.update(call_ir)
    return self_ir, inclusive


def appliance_costs(out_prefix):
    """Summed self and inclusive Ir of the appliance threads' files."""
    self_ir, inclusive = collections.Counter(), collections.Counter()
    threads = 0
    for path in sorted(glob.glob(out_prefix + "-*")):
        s, i = parse_callgrind(path)
        if not any(k.startswith(APPLIANCE_THREAD) and v > 0 for k, v in i.items()):
            continue
        threads += 1
        self_ir.update(s)
        inclusive.update(i)
    if threads == 0:
        sys.exit(f"instructions.py: no appliance thread in {out_prefix}-*")
    return self_ir, inclusive


def run(a, messages, tmp):
    prefix = os.path.join(tmp, f"cg{messages}")
    report = os.path.join(tmp, f"run{messages}.json")
    toggles = [f"--toggle-collect={w[:-1]}*" for w in MESSAGE_WORK]
    cmd = ["valgrind", "--tool=callgrind", "--separate-threads=yes", *toggles, f"--callgrind-out-file={prefix}",
           a.mxdp, "bench", "--", "--backend", "dpdk", "--idle-yield", "-n", str(messages), "-c", "64", "--quiet",
           "--json", report, *a.bench_args]
    done = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if done.returncode != 0:
        sys.exit(f"instructions.py: {' '.join(cmd)} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    with open(report) as f:
        rep = json.load(f)
    if rep["messages_accepted"] != messages:
        sys.exit(f"instructions.py: {rep['messages_accepted']} of {messages} messages accepted")
    return appliance_costs(prefix), rep


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mxdp", default="build/release/mxdp")
    ap.add_argument("--messages", type=int, default=30000, help="messages of the larger run (the other: a third)")
    ap.add_argument("--top", type=int, default=15, help="functions to list by their own instructions")
    ap.add_argument("--json", help="write the figures to this file too")
    ap.add_argument("bench_args", nargs="*", help="extra mxdp bench args (after --)")
    a = ap.parse_args()
    if shutil.which("valgrind") is None:
        sys.exit("instructions.py: valgrind is not installed (tools/setup installs it)")
    if not os.access(a.mxdp, os.X_OK):
        sys.exit(f"instructions.py: {a.mxdp} is not an executable mxdp (build it: cmake --build --preset release)")
    small, large = max(1, a.messages // 3), a.messages
    with tempfile.TemporaryDirectory() as tmp:
        (s_self, s_incl), _ = run(a, small, tmp)
        (l_self, l_incl), rep = run(a, large, tmp)
    n = large - small

    def delta(large_c, small_c, key):
        return (large_c.get(key, 0) - small_c.get(key, 0)) / n

    work = {w: sum(delta(l_incl, s_incl, k) for k in l_incl if k.startswith(w)) for w in MESSAGE_WORK}
    message_work = sum(work.values())
    layers = collections.Counter()
    functions = collections.Counter()
    for k in set(l_self) | set(s_self):
        d = delta(l_self, s_self, k)
        layers[layer_of(k)] += d
        functions[k] += d
    c = rep["transport_counters"]
    busy = c["appliance.loop_busy_iterations"] / large

    print(f"mxdp bench under callgrind: {small} and {large} messages of {rep['message_size']} B, "
          f"{rep['recipients_per_message']} recipient(s); appliance threads, instructions per message")
    print(f"  message work   {message_work:8.0f}   ({1 / busy if busy else 0:.0f} messages per busy poll)")
    for w in MESSAGE_WORK:
        print(f"    {w[:-1]:<42} {work[w]:7.0f}")
    print("  by layer (own instructions):")
    for name in ["TCP/IP", "transport", "SMTP", "routing", "delivery", "libc"]:
        print(f"    {name:<10} {layers[name]:7.0f}   {layers[name] / (message_work or 1):6.1%}")
    print(f"  top {a.top} functions (own instructions):")
    for k, v in functions.most_common(a.top):
        print(f"    {v:7.0f}  {re.sub(r'[(].*', '', k)[:100]}")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"messages": [small, large], "message_size": rep["message_size"],
                       "recipients_per_message": rep["recipients_per_message"],
                       "instructions_per_message": {"message_work": message_work,
                                                    "work": {w[:-1]: v for w, v in work.items()},
                                                    "layers": dict(layers),
                                                    "functions": dict(functions.most_common(50))},
                       "messages_per_busy_poll": 1 / busy if busy else 0}, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
