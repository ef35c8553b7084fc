#!/usr/bin/python3
"""The mxdp program's answers to good and bad arguments (exit codes, usage)."""
import json
import os
import re
import subprocess
import sys
import tempfile
import unittest

MXDP = sys.argv.pop(1) if len(sys.argv) > 1 else "build/release/mxdp"


def run(*args):
    p = subprocess.run([MXDP, *args], capture_output=True, text=True, timeout=60)
    return p.returncode, p.stdout, p.stderr


class MxdpCli(unittest.TestCase):
    def test_version(self):
        rc, out, _ = run("--version")
        self.assertEqual(rc, 0)
        self.assertRegex(out, r"^mxdp \d+\.\d+\.\d+\+")
        self.assertIn("DPDK", out)

    def test_help(self):
        rc, out, _ = run("--help")
        self.assertEqual(rc, 0)
        for cmd in ("bench", "serve", "loadgen", "report"):
            self.assertIn(cmd, out)

    def test_command_help(self):
        for cmd in ("bench", "serve", "loadgen", "report"):
            rc, out, _ = run(cmd, "--help")
            self.assertEqual(rc, 0, cmd)
            self.assertIn("mxdp " + cmd, out)
            self.assertIn("--", out)

    def test_command_help_after_eal_args(self):
        rc, out, _ = run("bench", "--no-huge", "--no-pci", "--", "--help")
        self.assertEqual(rc, 0)
        self.assertIn("Usage", out)

    def test_no_command(self):
        rc, _, err = run()
        self.assertEqual(rc, 2)
        self.assertIn("Usage", err)

    def test_unknown_command(self):
        rc, _, err = run("frobnicate")
        self.assertEqual(rc, 2)
        self.assertIn("unknown command 'frobnicate'", err)
        self.assertIn("Usage", err)

    def test_unknown_top_level_flag(self):
        rc, _, err = run("--frob")
        self.assertEqual(rc, 2)
        self.assertIn("unknown option '--frob'", err)

    def test_unknown_command_flag(self):
        rc, _, err = run("bench", "--", "--frob")
        self.assertEqual(rc, 2)
        self.assertIn("--frob", err)
        self.assertIn("Usage", err)

    def test_bad_option_value(self):
        rc, _, err = run("bench", "--backend", "carrier-pigeon")
        self.assertEqual(rc, 2)
        self.assertIn("carrier-pigeon", err)

    def test_jumbo_mtu_refused_before_anything_starts(self):
        # A frame must fit one packet buffer: no jumbo frames (yet).
        rc, _, err = run("serve", "--", "--backend", "dpdk", "--dpdk-mtu", "9000")
        self.assertEqual(rc, 2)
        self.assertIn("--dpdk-mtu", err)

    def test_bad_addresses_refused_before_anything_starts(self):
        # A usage error (exit 2) at parse time, not a failure after the EAL started.
        for cmd, opt, value in [("serve", "--dpdk-ip", "10.0.0/24"), ("serve", "--dpdk-ip", "10.0.0.1/33"),
                                ("serve", "--dpdk-gateway", "gw"), ("loadgen", "--dpdk-ip", "1.2.3.4/x"),
                                ("loadgen", "--dpdk-gateway", "1.2.3")]:
            rc, _, err = run(cmd, "--", "--backend", "dpdk", opt, value)
            self.assertEqual(rc, 2, (cmd, opt, value))
            self.assertIn(opt, err)

    def test_bad_mailbox_log_refused_before_anything_starts(self):
        # Out of 64K..64G, or not a size: a usage error naming the option.
        for cmd in ("serve", "bench"):
            for value in ("63K", "65535", "65G", "68719476737", "16X", "16MB", "-1", "", "99999999999999999999G"):
                rc, _, err = run(cmd, "--", "--mailbox-log", value)
                self.assertEqual(rc, 2, (cmd, value, err))
                self.assertIn("--mailbox-log", err, (cmd, value))
        rc, _, err = run("bench", "--", "--mailbox-log", "32K")
        self.assertIn("below the minimum 64K", err)
        rc, _, err = run("serve", "--", "--mailbox-log", "128G")
        self.assertIn("above the maximum 64G", err)

    def test_mailbox_log_help(self):
        for cmd in ("serve", "bench"):
            rc, out, _ = run(cmd, "--help")
            self.assertEqual(rc, 0, cmd)
            text = " ".join(out.split())  # CLI11 wraps long descriptions
            self.assertIn("--mailbox-log SIZE", text, cmd)
            for words in ("mailbox log", "evicting the oldest", "per shard", "K, M or G", "64K..64G",
                          "2 KiB packet buffers it pins", "mbuf pool is sized", "16M"):
                self.assertIn(words, text, (cmd, words))

    def test_bad_mailbox_log_in_the_config_file(self):
        with tempfile.TemporaryDirectory() as tmp:
            config = os.path.join(tmp, "mxdp.toml")
            for value, why in (('"1K"', "below the minimum 64K"), ('"16 MB"', "expected bytes"),
                               ("[16]", "wrong type")):
                with open(config, "w") as f:
                    f.write(f"[serve]\nmailbox_log = {value}\n")
                rc, _, err = run("serve", "--config", config)
                self.assertEqual(rc, 2, (value, err))
                self.assertIn("mailbox_log", err)
                self.assertIn(why, err)

    def test_mailbox_logs_too_large_for_the_pool_refused_at_start_up(self):
        # 64G per shard parses, but on DPDK no pool holds what the logs may pin.
        if "DPDK not linked" in run("--version")[1]:
            self.skipTest("needs DPDK")
        for args in (["bench", "--", "--mailbox-log", "64G", "-d", "1"],
                     ["serve", "--", "--backend", "dpdk", "--dpdk-ip", "10.0.0.1/24", "--cores", "1",
                      "--mailbox-log", "64G"]):
            rc, _, err = run(*args)
            self.assertEqual(rc, 1, args)
            self.assertIn("too many beside the queues'", err)
            self.assertIn("lower --mailbox-log", err)


    def test_eal_argument_dpdk_rejects(self):
        # One error naming the arguments, not DPDK's 90-line usage on stdout.
        if "DPDK not linked" in run("--version")[1]:
            self.skipTest("needs DPDK")
        rc, out, err = run("bench", "--no-such-eal-option", "--", "-d", "1")
        self.assertEqual(rc, 1)
        self.assertEqual(out, "")
        self.assertIn("DPDK rejected the EAL arguments", err)
        self.assertIn("--no-such-eal-option", err)
        self.assertNotIn("EAL common options", out + err)
        # Asked for, the EAL's usage is the answer.
        _, out, _ = run("bench", "-h", "--")
        self.assertIn("EAL common options", out)


class MxdpReport(unittest.TestCase):
    """Two short kernel bench runs drawn by `mxdp report`.

    --backend kernel is always explicit: the default backend may change."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.a = os.path.join(cls.tmp.name, "a.json")
        cls.b = os.path.join(cls.tmp.name, "b.json")
        for path, size in ((cls.a, "512"), (cls.b, "4096")):
            rc, _, err = run("bench", "--backend", "kernel", "-d", "2", "-c", "4", "-s", size,
                             "--quiet", "--json", path)
            assert rc == 0, err

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def path(self, name):
        return os.path.join(self.tmp.name, name)

    def test_bench_json_has_timeline_and_histogram(self):
        with open(self.a) as f:
            report = json.load(f)
        self.assertEqual(report["backend"], "kernel")
        self.assertGreaterEqual(len(report["timeline"]), 1)  # recorded under --quiet too
        for point in report["timeline"]:
            for field in ("t_s", "messages_per_s", "gbit_per_s", "p50_us", "p99_us", "failed"):
                self.assertIn(field, point)
        buckets = report["latency_histogram"]
        self.assertTrue(buckets)
        self.assertEqual(sum(count for _, count in buckets), report["latency_us"]["count"])

    def test_html_report_of_two_runs(self):
        out = self.path("r.html")
        rc, _, err = run("report", self.a, self.b, "-o", out)
        self.assertEqual(rc, 0, err)
        with open(out) as f:
            html = f.read()
        self.assertTrue(html.startswith("<!DOCTYPE html>"))
        self.assertIn("a.json", html)
        self.assertIn("b.json", html)
        self.assertIn("512B", html)
        self.assertIn("4096B", html)
        self.assertIn("<svg", html)
        self.assertIn("1.00x", html)
        for external in ("http://", "https://", "src=", "href=", "url(", "<script"):
            self.assertNotIn(external, html)

    def test_svg_and_title(self):
        svg = self.path("r.svg")
        rc, out, err = run("report", "--svg", svg, "--title", "<Mine>", self.a)
        self.assertEqual(rc, 0, err)
        self.assertEqual(out, "")  # --svg alone writes no HTML
        with open(svg) as f:
            text = f.read()
        self.assertIn("<svg xmlns=", text)
        self.assertIn("&lt;Mine&gt;", text)
        self.assertNotIn("<Mine>", text)

    def test_html_on_stdout(self):
        rc, out, err = run("report", self.a)
        self.assertEqual(rc, 0, err)
        self.assertIn("<svg", out)

    def test_missing_file(self):
        missing = self.path("nope.json")
        out = self.path("never.html")
        rc, _, err = run("report", self.a, missing, "-o", out)
        self.assertEqual(rc, 1)
        self.assertIn(missing, err)
        self.assertFalse(os.path.exists(out))

    def test_not_json(self):
        bad = self.path("bad.json")
        with open(bad, "w") as f:
            f.write("<html>not json</html>")
        rc, _, err = run("report", bad, "-o", self.path("x.html"))
        self.assertEqual(rc, 1)
        self.assertIn(bad, err)
        self.assertIn("not JSON", err)

    def test_wrong_fields(self):
        wrong = self.path("wrong.json")
        with open(self.a) as f:
            report = json.load(f)
        report["messages_accepted"] = "lots"
        with open(wrong, "w") as f:
            json.dump(report, f)
        rc, _, err = run("report", wrong, "-o", self.path("x.html"))
        self.assertEqual(rc, 1)
        self.assertIn(wrong, err)
        self.assertIn("messages_accepted", err)

        other = self.path("other.json")
        with open(other, "w") as f:
            json.dump({"hello": "world"}, f)
        rc, _, err = run("report", other)
        self.assertEqual(rc, 1)
        self.assertRegex(err, re.escape(other) + ".*missing field")

    def test_usage_errors(self):
        rc, _, err = run("report")
        self.assertEqual(rc, 2)
        self.assertIn("Usage", err)
        rc, _, err = run("report", "--frob", self.a)
        self.assertEqual(rc, 2)
        self.assertIn("--frob", err)


if __name__ == "__main__":
    unittest.main()
