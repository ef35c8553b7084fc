#!/usr/bin/python3
"""The mxdp program's answers to good and bad arguments (exit codes, usage)."""
import subprocess
import sys
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
        for cmd in ("bench", "serve", "loadgen"):
            self.assertIn(cmd, out)

    def test_command_help(self):
        for cmd in ("bench", "serve", "loadgen"):
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


if __name__ == "__main__":
    unittest.main()
