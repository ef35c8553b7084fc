#!/usr/bin/python3
"""bench/instructions.py: its callgrind reader on a hand-written output file
and, with --run (a build without sanitizers: valgrind cannot run ASan or TSan
binaries), the script end to end on a short bench.

Usage: instructions_test.py INSTRUCTIONS_PY MXDP [--run]
"""
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import unittest

SCRIPT = os.path.abspath(sys.argv.pop(1) if len(sys.argv) > 1 else "bench/instructions.py")
MXDP = os.path.abspath(sys.argv.pop(1) if len(sys.argv) > 1 else "build/release/mxdp")
RUN = "--run" in sys.argv
if RUN:
    sys.argv.remove("--run")

sys.path.insert(0, os.path.dirname(SCRIPT))
spec = importlib.util.spec_from_file_location("instructions", SCRIPT)
instructions = importlib.util.module_from_spec(spec)
spec.loader.exec_module(instructions)

# Callgrind's format: compressed names "(id) name" then "(id)", cost lines
# "line Ir", and after "calls=" one line with the callee's inclusive cost.
SAMPLE = textwrap.dedent("""\
    version: 1
    creator: callgrind-3.19.0
    events: Ir
    fl=(1) a.cpp
    fn=(1) main
    10 5
    cfn=(2) work(int)
    calls=2 20
    11 100
    +1 3
    fn=(2)
    20 60
    cfn=(3) leaf
    calls=4 30
    21 40
    fn=(3)
    30 40
    totals: 148
    """)


class ParserTest(unittest.TestCase):
    def test_self_and_inclusive_costs(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "cg.out")
            with open(path, "w") as f:
                f.write(SAMPLE)
            own, inclusive = instructions.parse_callgrind(path)
        self.assertEqual(own, {"main": 8, "work(int)": 60, "leaf": 40})
        self.assertEqual(inclusive["main"], 108)
        self.assertEqual(inclusive["work(int)"], 100)
        self.assertEqual(inclusive["leaf"], 40)


@unittest.skipUnless(RUN, "needs a build without sanitizers (--run)")
@unittest.skipUnless(shutil.which("valgrind"), "valgrind is not installed")
class EndToEndTest(unittest.TestCase):
    def test_counts_a_short_bench(self):
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "ins.json")
            p = subprocess.run(["/usr/bin/python3", SCRIPT, "--mxdp", MXDP, "--messages", "1500", "--json", out],
                               capture_output=True, text=True, timeout=600)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertIn("message work", p.stdout)
            with open(out) as f:
                r = json.load(f)
        per = r["instructions_per_message"]
        # A message is thousands of instructions (about 8,000 in 2026-11);
        # the bounds only catch a broken count, not a slower build.
        self.assertGreater(per["message_work"], 1000)
        self.assertLess(per["message_work"], 100000)
        self.assertAlmostEqual(sum(per["layers"].values()), per["message_work"], delta=per["message_work"] * 0.01)
        self.assertGreater(per["layers"]["SMTP"], 0)
        self.assertGreater(per["layers"]["TCP/IP"], 0)
        self.assertEqual(r["messages"], [500, 1500])


if __name__ == "__main__":
    unittest.main(verbosity=2)
