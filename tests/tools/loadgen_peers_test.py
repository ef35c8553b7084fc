#!/usr/bin/python3
"""mxdp loadgen against real servers: Postfix smtp-sink (no CHUNKING: plain
DATA) and mxdp serve (CHUNKING: BDAT), counts checked in the JSON report.

    loadgen_peers_test.py PATH/TO/mxdp           kernel backend, loopback
    loadgen_peers_test.py PATH/TO/mxdp --dpdk    dpdk backend on a net_tap port
        against smtp-sink on the kernel side of the tap (needs root)
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

from peers import free_port, mxdp_from_argv, wait_port

MXDP = mxdp_from_argv()
DPDK = "--dpdk" in sys.argv
if DPDK:
    sys.argv.remove("--dpdk")
    sys.argv.append("LoadgenDpdk")  # only the tap test


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


class LoadgenDpdk(unittest.TestCase):
    """The generator's own TCP stack on a DPDK port: a tap whose kernel side
    runs Postfix smtp-sink. The tap is made first (multi_queue, as the tap
    PMD opens it) so its address is there before the first SYN."""

    def setUp(self):
        if not DPDK:
            self.skipTest("run with --dpdk")
        self.tap = f"mxdpl{os.getpid() % 10000}"
        net = f"10.{150 + os.getpid() % 50}.{os.getpid() % 250}"
        self.kern, self.mine = f"{net}.1", f"{net}.2"
        subprocess.run(["ip", "tuntap", "add", "dev", self.tap, "mode", "tap", "multi_queue"], check=True)
        subprocess.run(["ip", "addr", "add", f"{self.kern}/24", "dev", self.tap], check=True)
        subprocess.run(["ip", "link", "set", self.tap, "up"], check=True)
        self.tmp = tempfile.mkdtemp(prefix="mxdp-loadgen-")
        self.port = free_port()
        self.sink = subprocess.Popen(["smtp-sink", "-u", "nobody", f"{self.kern}:{self.port}", "256"])
        wait_port(self.port, host=self.kern)

    def tearDown(self):
        self.sink.kill()
        self.sink.wait()
        subprocess.run(["ip", "link", "del", self.tap])
        shutil.rmtree(self.tmp, ignore_errors=True)

    def test_dpdk_loadgen_against_smtp_sink_over_tap(self):
        out_json = os.path.join(self.tmp, "report.json")
        r = subprocess.run([MXDP, "loadgen", f"--vdev=net_tap0,iface={self.tap}", "--no-huge", "--no-pci", "--",
                            "--backend", "dpdk", "--dpdk-ip", f"{self.mine}/24", "-t", f"{self.kern}:{self.port}",
                            "-n", "3000", "-c", "8", "-s", "2048", "-r", "2", "--quiet", "--json", out_json],
                           capture_output=True, text=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        with open(out_json) as f:
            report = json.load(f)
        self.assertEqual(report["backend"], "dpdk")
        self.assertEqual(report["messages_sent"], 3000)
        self.assertEqual(report["messages_accepted"], 3000)
        self.assertEqual(report["errors"], 0)
        self.assertGreater(report["transport_counters"]["port.tx_packets"], 3000)
        self.assertGreater(report["transport_counters"]["stack.tcp_active_opens"], 7)


if __name__ == "__main__":
    unittest.main(verbosity=2)
