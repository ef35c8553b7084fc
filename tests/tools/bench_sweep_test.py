#!/usr/bin/python3
"""bench/sweep: a quick real sweep on the kernel backend, plus the failure and
skip rules checked against a stand-in mxdp.

Usage: bench_sweep_test.py SWEEP MXDP
"""
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import unittest

SWEEP = sys.argv.pop(1) if len(sys.argv) > 1 else "bench/sweep"
MXDP = sys.argv.pop(1) if len(sys.argv) > 1 else "build/asan/mxdp"

# The README's "Reports" fields every point's JSON must carry.
REPORT_FIELDS = [
    "mxdp_version", "command", "backend", "target", "cores", "connections", "message_size",
    "recipients_per_message", "durability", "referral_share", "move_rate_per_s", "duration_s",
    "messages_sent", "messages_accepted", "messages_per_second", "gbit_per_second", "errors",
    "errors_by_reply_code", "connect_failures", "recipients_delivered", "recipients_referred",
    "recipients_relayed", "recipients_bounced", "recipients_moved", "messages_live_at_end",
    "latency_us",
]


def sweep(*args, timeout=120):
    p = subprocess.run(["/usr/bin/python3", SWEEP, *args], capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def load(path):
    with open(path) as f:
        return json.load(f)


# Answers like `mxdp bench` does today for --backend dpdk, writes a minimal
# report for kernel, and records the arguments it got.
FAKE_MXDP = textwrap.dedent("""\
    #!/usr/bin/python3
    import json, sys
    args = sys.argv[1:]
    if args == ["--version"]:
        print("mxdp 0.0.0+fake"); sys.exit(0)
    with open(sys.argv[0] + ".calls", "a") as f:
        f.write(json.dumps(args) + "\\n")
    bench = args[args.index("--") + 1:]
    if bench[bench.index("--backend") + 1] == "dpdk":
        print("mxdp bench --backend dpdk: not built yet (fake)", file=sys.stderr); sys.exit(2)
    with open(bench[bench.index("--json") + 1], "w") as f:
        json.dump({"messages_per_second": 10.0, "gbit_per_second": 0.001, "errors": 0,
                   "connect_failures": 0, "messages_live_at_end": 0,
                   "latency_us": {"p50": 5.0, "p99": 9.0}}, f)
    """)


class SweepReal(unittest.TestCase):
    """The command the task names: two sizes, kernel backend, 1 s each."""

    def test_quick_size_kernel(self):
        with tempfile.TemporaryDirectory() as out:
            rc, stdout, stderr = sweep("--quick", "--only", "size", "--backend", "kernel", "--duration", "1",
                                       "--out", out, "--mxdp", MXDP)
            self.assertEqual(rc, 0, stderr)
            index = load(os.path.join(out, "index.json"))
            names = [p["name"] for p in index["points"]]
            self.assertEqual(names, ["size256_rcpt1_conn64_ref0_move0_kernel",
                                     "size4096_rcpt1_conn64_ref0_move0_kernel"])
            self.assertEqual(index["summary"], {"planned": 2, "ok": 2, "failed": 0, "skipped": 0})
            for p in index["points"]:
                self.assertEqual(p["status"], "ok")
                self.assertEqual(p["exit_code"], 0)
                self.assertEqual(p["file"], p["name"] + ".json")
                self.assertGreater(p["messages_per_second"], 0)
                report = load(os.path.join(out, p["file"]))
                for field in REPORT_FIELDS:
                    self.assertIn(field, report, p["file"])
                self.assertEqual(report["backend"], "kernel")
                self.assertEqual(report["message_size"], p["size"])
                self.assertEqual(report["connections"], 64)
                self.assertEqual(report["recipients_per_message"], 1)
                self.assertEqual(report["messages_live_at_end"], 0)
                self.assertGreater(report["messages_accepted"], 0)
                for q in ("p50", "p99"):
                    self.assertIn(q, report["latency_us"])
            # Progress: a start and an end line per point; the table on stdout.
            self.assertEqual(stderr.count(" start "), 2, stderr)
            self.assertIn("size4096_rcpt1_conn64_ref0_move0", stdout)
            for col in ("msg/s", "Gbit/s", "p50 us", "p99 us", "errors"):
                self.assertIn(col, stdout)


class SweepRules(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.fake = os.path.join(self.tmp.name, "mxdp")
        with open(self.fake, "w") as f:
            f.write(FAKE_MXDP)
        os.chmod(self.fake, 0o755)
        self.out = os.path.join(self.tmp.name, "out")

    def tearDown(self):
        self.tmp.cleanup()

    def calls(self):
        with open(self.fake + ".calls") as f:
            return [json.loads(line) for line in f]

    def test_both_skips_dpdk_not_built(self):
        rc, stdout, stderr = sweep("--quick", "--only", "rcpt", "--duration", "1", "--out", self.out,
                                   "--mxdp", self.fake, "--", "--pipeline", "4")
        self.assertEqual(rc, 0, stderr)
        index = load(os.path.join(self.out, "index.json"))
        self.assertEqual(index["summary"], {"planned": 4, "ok": 2, "failed": 0, "skipped": 2})
        self.assertEqual([p["backend"] for p in index["points"]], ["kernel", "dpdk", "kernel", "dpdk"])
        for call in self.calls():
            # Bench arguments always after `--`, pass-through arguments last.
            self.assertEqual(call[:2], ["bench", "--"])
            self.assertEqual(call[-2:], ["--pipeline", "4"])
            self.assertEqual(call[call.index("-d") + 1], "1")
        self.assertTrue(os.path.exists(os.path.join(self.out, "size1024_rcpt5_conn64_ref0_move0_kernel.json")))
        self.assertFalse(os.path.exists(os.path.join(self.out, "size1024_rcpt5_conn64_ref0_move0_dpdk.json")))

    def test_dpdk_alone_fails_and_carries_on(self):
        rc, _, stderr = sweep("--quick", "--only", "size", "--backend", "dpdk", "--out", self.out,
                              "--mxdp", self.fake)
        self.assertEqual(rc, 1, stderr)
        index = load(os.path.join(self.out, "index.json"))
        self.assertEqual(len(index["points"]), 2)  # carried on after the first failure
        for p in index["points"]:
            self.assertEqual(p["status"], "failed")
            self.assertEqual(p["exit_code"], 2)
            self.assertIn("not built yet", p["stderr_tail"])
            self.assertIsNone(p["file"])

    def test_dry_run(self):
        rc, stdout, _ = sweep("--dry-run", "--backend", "kernel", "--out", self.out, "--mxdp", self.fake)
        self.assertEqual(rc, 0)
        lines = stdout.splitlines()
        # The base point, then 4 sizes, 3 recipient counts, 5 connection counts
        # (64 is not among them), 3 referral shares and 3 move rates.
        self.assertEqual(len(lines), 19)
        self.assertIn(" bench -- --backend kernel -d 10 --size 1024 --recipients 1 --connections 64 "
                      "--referral-share 0 --move-rate 0 ", lines[0])
        self.assertFalse(os.path.exists(self.out))
        rc, stdout, _ = sweep("--dry-run", "--full", "--out", self.out, "--mxdp", self.fake)
        self.assertEqual(len(stdout.splitlines()), 5 * 4 * 5 * 4 * 4 * 2)

    def test_bad_dimension(self):
        rc, _, stderr = sweep("--only", "colour", "--mxdp", self.fake)
        self.assertEqual(rc, 2)
        self.assertIn("colour", stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
