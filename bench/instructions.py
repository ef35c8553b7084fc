#!/usr/bin/python3
"""Instructions per message on the appliance core, counted by callgrind.

Time per message moves with whatever else the machine runs; instructions do
not. This runs `mxdp bench` (DPDK, 1 generator + 1 appliance lcore by default)
under valgrind's callgrind twice, with N and N/3 messages, and divides the
difference in instructions executed by the appliance threads (mxdp-app-*) by
the difference in messages: what one more message costs, without EAL start-up,
the directory load or connection set-up. Two runs of the same build give the
same figures within a fraction of a percent, so an A/B of two builds needs no
repetitions (the Ir count is exact; only the loop's idle polls vary).

Under valgrind one thread runs at a time, so the bench runs with --idle-yield
(a loop that finds nothing yields instead of spinning). The loop then polls
idle several times per message where a real run polls less than once; those
polls count in "all in". "Message work" leaves them out: it is what the loop
does with packets and events (StackLoop::dispatch: SMTP, routing, delivery;
Stack::Impl::input: Ethernet, IPv4, TCP receive; StackLoop::flush and
Stack::flush: TCP send and the TX burst).

Layers are where_time_goes.py's (by function name), over all-in self costs.

    bench/instructions.py [--mxdp build/release/mxdp] [--messages 30000] [--top 15]
                          [--json FILE] [-- bench args]
"""
import argparse
import collections
import glob
import json
import os
import re
import subprocess
import sys
import tempfile

from where_time_goes import layer_of

# The entry points of the work a message causes (see above); their inclusive
# costs do not nest in a bench run.
MESSAGE_WORK = [
    "mxdp::dataplane::StackLoop::dispatch(",
    "mxdp::dataplane::Stack::Impl::input(",
    "mxdp::dataplane::StackLoop::flush(",
    "mxdp::dataplane::Stack::flush(",
]
APPLIANCE_THREAD = "mxdp::cli::Appliance::Impl::run_worker("


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
        if not any(k.startswith(APPLIANCE_THREAD) for k in i):
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
    cmd = ["valgrind", "--tool=callgrind", "--separate-threads=yes", f"--callgrind-out-file={prefix}",
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
    small, large = max(1, a.messages // 3), a.messages
    with tempfile.TemporaryDirectory() as tmp:
        (s_self, s_incl), _ = run(a, small, tmp)
        (l_self, l_incl), rep = run(a, large, tmp)
    n = large - small

    def delta(large_c, small_c, key):
        return (large_c.get(key, 0) - small_c.get(key, 0)) / n

    thread_total = lambda c: max(v for k, v in c.items() if k.startswith(APPLIANCE_THREAD))  # noqa: E731
    all_in = (thread_total(l_incl) - thread_total(s_incl)) / n
    work = {w: sum(delta(l_incl, s_incl, k) for k in l_incl if k.startswith(w)) for w in MESSAGE_WORK}
    message_work = sum(work.values())
    layers = collections.Counter()
    functions = collections.Counter()
    for k in set(l_self) | set(s_self):
        d = delta(l_self, s_self, k)
        layers[layer_of(k)] += d
        functions[k] += d
    c = rep["transport_counters"]
    iters = c["appliance.loop_iterations"] / large
    busy = c["appliance.loop_busy_iterations"] / large

    print(f"mxdp bench under callgrind: {small} and {large} messages of {rep['message_size']} B, "
          f"{rep['recipients_per_message']} recipient(s); appliance threads, per message")
    print(f"  all in         {all_in:8.0f} instructions   "
          f"({iters - busy:.1f} idle polls per message here; a real run has fewer)")
    print(f"  message work   {message_work:8.0f} instructions   "
          f"({1 / busy if busy else 0:.0f} messages per busy poll)")
    for w in MESSAGE_WORK:
        print(f"    {w[:-1]:<44} {work[w]:7.0f}")
    print("  by layer (all in, own instructions):")
    total = sum(layers.values()) or 1
    for name in ["TCP/IP", "transport", "SMTP", "routing", "delivery", "libc"]:
        print(f"    {name:<10} {layers[name]:7.0f}   {layers[name] / total:6.1%}")
    print(f"  top {a.top} functions (own instructions):")
    for k, v in functions.most_common(a.top):
        print(f"    {v:7.0f}  {re.sub(r'[(].*', '', k)[:100]}")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"messages": [small, large], "message_size": rep["message_size"],
                       "recipients_per_message": rep["recipients_per_message"],
                       "instructions_per_message": {"all_in": all_in, "message_work": message_work,
                                                    "work": {w[:-1]: v for w, v in work.items()},
                                                    "layers": dict(layers),
                                                    "functions": dict(functions.most_common(50))},
                       "idle_polls_per_message": iters - busy, "messages_per_busy_poll": 1 / busy if busy else 0},
                      f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
