#!/usr/bin/python3
"""mxdp loadgen against real servers: Postfix smtp-sink (no CHUNKING: plain
DATA) and mxdp serve (CHUNKING: BDAT), counts checked in the JSON report.

    loadgen_peers_test.py PATH/TO/mxdp
"""
import json
import os
import shutil
import subprocess
import tempfile
import unittest

from peers import free_port, mxdp_from_argv, wait_port

MXDP = mxdp_from_argv()


class Loadgen(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="mxdp-loadgen-")
        self.procs = []

    def tearDown(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def run_loadgen(self, port, *extra):
        out_json = os.path.join(self.tmp, "report.json")
        r = subprocess.run([MXDP, "loadgen", "-t", f"127.0.0.1:{port}", "--quiet", "--json", out_json, *extra],
                           capture_output=True, text=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        with open(out_json) as f:
            return json.load(f), r.stdout

    def test_against_postfix_smtp_sink(self):
        port = free_port()
        user = ["-u", "nobody"] if os.geteuid() == 0 else []
        self.procs.append(subprocess.Popen(["smtp-sink", *user, f"127.0.0.1:{port}", "256"]))
        wait_port(port)
        report, table = self.run_loadgen(port, "-n", "2000", "-c", "8", "-s", "2048", "-r", "3")
        self.assertEqual(report["messages_sent"], 2000)
        self.assertEqual(report["messages_accepted"], 2000)
        self.assertEqual(report["errors"], 0)
        self.assertEqual(report["recipients_per_message"], 3)
        self.assertGreater(report["latency_us"]["p50"], 0)
        self.assertIn("msg/s", table)

    def test_against_mxdp_serve_with_pipelining(self):
        port = free_port()
        ctl = os.path.join(self.tmp, "ctl.sock")
        self.procs.append(subprocess.Popen([MXDP, "serve", "--listen", f"127.0.0.1:{port}", "--metrics", "",
                                            "--control-socket", ctl, "--cores", "1", "--shards", "2"]))
        wait_port(port)
        report, _ = self.run_loadgen(port, "-n", "3000", "-c", "4", "-p", "4", "-r", "2")
        self.assertEqual(report["messages_accepted"], 3000)
        self.assertEqual(report["errors"], 0)
        out = subprocess.run([MXDP, "ctl", "-S", ctl, "counters"], capture_output=True, text=True, timeout=10)
        counters = json.loads(out.stdout)
        self.assertEqual(counters["accepted"], 3000)
        self.assertEqual(counters["delivered"], 6000)

    def test_unreachable_target_fails_clearly(self):
        r = subprocess.run([MXDP, "loadgen", "-t", f"127.0.0.1:{free_port()}", "-d", "0.5", "--quiet"],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 1)
        self.assertIn("no message was accepted", r.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
