#!/usr/bin/python3
"""mxdp bench end to end: the embedded default (DPDK ring ports when DPDK is
built, loopback sockets when not), the seed scenario (referrals and live
recipient moves), and --compare. Each run's JSON must show work done, no
errors, no message left alive and every packet buffer back in its pool.

    bench_test.py PATH/TO/mxdp
"""
import json
import os
import shutil
import subprocess
import tempfile
import unittest

from peers import mxdp_from_argv

MXDP = mxdp_from_argv()


def built_with_dpdk():
    out = subprocess.run([MXDP, "--version"], capture_output=True, text=True, timeout=10).stdout
    return "DPDK not linked" not in out


class Bench(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="mxdp-bench-")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def bench(self, *args, name="run.json", timeout=240):
        path = os.path.join(self.tmp, name)
        r = subprocess.run([MXDP, "bench", "--", "--quiet", "--json", path, *args], capture_output=True, text=True,
                           timeout=timeout)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertNotIn("Sanitizer", r.stderr)
        return r, path

    def check_clean(self, report):
        self.assertGreater(report["messages_accepted"], 0)
        self.assertEqual(report["errors"], 0)
        self.assertEqual(report["messages_live_at_end"], 0)
        self.assertEqual(report["messages_accepted"], report["messages_sent"])
        if report["backend"] == "dpdk":
            counters = report["transport_counters"]
            self.assertEqual(counters["pool.mbufs_missing_at_end"], 0)
            self.assertGreater(counters["appliance_port.rx_packets"], 0)
            # Bodies reach routing as the received packet buffers, no copy.
            self.assertGreater(counters["appliance.bodies_lent"], 0)
        else:
            self.assertEqual(report["transport_counters"]["appliance.bodies_lent"], 0)

    def test_default_is_the_embedded_benchmark(self):
        _, path = self.bench("-d", "2", "-c", "8")
        with open(path) as f:
            report = json.load(f)
        self.assertEqual(report["backend"], "dpdk" if built_with_dpdk() else "kernel")
        self.assertEqual(report["target"], "embedded")
        self.check_clean(report)
        self.assertEqual(report["mailbox_log_bytes"], 16 << 20)  # the default
        if report["backend"] == "dpdk":
            # The in-memory link offloads checksums as Linux loopback does.
            self.assertEqual(report["transport_counters"]["wire.checksum_offload"], 1)

    def test_bodies_over_many_packets_and_recipients_on_both_shards(self):
        # A 20 KB body arrives in 14 reads (the session keeps leases on the
        # earlier ones and leases the last straight from the connection); 3
        # recipients of 2 shards make hand-offs, delivered with the sender's
        # lookups while no recipient moves.
        _, path = self.bench("-d", "2", "-c", "8", "-s", "20000", "-r", "3")
        with open(path) as f:
            report = json.load(f)
        self.check_clean(report)
        counters = report["transport_counters"]
        self.assertEqual(report["recipients_delivered"], 3 * report["messages_accepted"])
        if report["backend"] == "dpdk":
            self.assertEqual(counters["appliance.bodies_copied"], 0)
            self.assertEqual(counters["appliance.bodies_lent"], report["messages_accepted"])
        self.assertGreater(counters["appliance.handoffs_resolved"], 0)

    def test_discard_keeps_nothing(self):
        # The front end alone, smtp-sink's job: every message accepted, none
        # routed or delivered, nothing left alive, every buffer back.
        _, path = self.bench("-d", "1", "-c", "8", "--discard")
        with open(path) as f:
            report = json.load(f)
        self.assertGreater(report["messages_accepted"], 0)
        self.assertEqual(report["errors"], 0)
        self.assertEqual(report["messages_live_at_end"], 0)
        self.assertEqual(report["recipients_delivered"], 0)
        counters = report["transport_counters"]
        # Every 250 the generator saw was a discard (the appliance may also have
        # taken a last few whose replies the stopping generator did not read).
        self.assertGreaterEqual(counters["appliance.messages_discarded"], report["messages_accepted"])
        if report["backend"] == "dpdk":
            self.assertEqual(counters["pool.mbufs_missing_at_end"], 0)

    @unittest.skipUnless(built_with_dpdk(), "needs DPDK")
    def test_soft_checksums_compute_every_checksum(self):
        _, path = self.bench("-d", "1", "-c", "8", "--soft-checksums")
        with open(path) as f:
            report = json.load(f)
        self.check_clean(report)
        self.assertEqual(report["transport_counters"]["wire.checksum_offload"], 0)

    def test_small_mailbox_log_evicts_and_stays_clean(self):
        # A 256 KiB log per shard holds about 120 packet buffers' worth: it
        # evicts throughout the run, and every evicted body's buffers go home.
        _, path = self.bench("-d", "1", "-c", "8", "--mailbox-log", "256K")
        with open(path) as f:
            report = json.load(f)
        self.assertEqual(report["mailbox_log_bytes"], 256 << 10)
        self.check_clean(report)
        # Two shards (one appliance core), each entry at least its 1 KiB body:
        # the logs keep at most 512 entries, the rest were evicted.
        delivered = report["recipients_delivered"]
        evicted = report["transport_counters"]["appliance.mailbox_evicted"]
        kept_at_most = 2 * (256 << 10) // 1024
        self.assertLessEqual(evicted, delivered)
        self.assertGreaterEqual(evicted, delivered - kept_at_most)
        # A normal second delivers some 10^5; one spent stopped (SIGSTOP while
        # another job measures) may deliver too few to fill the logs.
        if delivered > kept_at_most:
            self.assertGreater(evicted, 0)

    @unittest.skipUnless(built_with_dpdk(), "needs DPDK")
    def test_pool_is_sized_for_the_mailbox_logs(self):
        # Two shards may pin 64 MiB each in 2176-byte buffers (data room):
        # the pool holds those and the queues' own.
        _, path = self.bench("-d", "1", "-c", "8", "--shards", "2", "--mailbox-log", "64M")
        with open(path) as f:
            report = json.load(f)
        self.assertEqual(report["mailbox_log_bytes"], 64 << 20)
        self.check_clean(report)
        pinned = 2 * ((64 << 20) // 2176)
        self.assertGreaterEqual(report["transport_counters"]["pool.mbufs"], pinned + 2 * 8192 + 8 * 16)

    def test_seed_scenario_referrals_and_moves(self):
        # 20% referrals relayed to the built-in sink, thousands of recipient
        # moves per second while messages are in flight.
        _, path = self.bench("-d", "3", "-c", "32", "-r", "2", "--referral-share", "0.2", "--move-rate", "3000")
        with open(path) as f:
            report = json.load(f)
        self.check_clean(report)
        self.assertGreater(report["recipients_referred"], 0)
        self.assertGreater(report["recipients_moved"], 1000)
        self.assertEqual(report["recipients_bounced"], 0)
        # Every referred or moved-off-box recipient was relayed.
        self.assertGreaterEqual(report["recipients_relayed"], report["recipients_referred"])

    @unittest.skipUnless(built_with_dpdk(), "needs DPDK")
    def test_compare_runs_both_and_prints_the_ratio(self):
        r, path = self.bench("--compare", "-d", "1", "-c", "4", name="cmp.json")
        self.assertIn("dpdk / kernel =", r.stdout)
        for backend in ("kernel", "dpdk"):
            with open(os.path.join(self.tmp, f"cmp-{backend}.json")) as f:
                report = json.load(f)
            self.assertEqual(report["backend"], backend)
            self.check_clean(report)


if __name__ == "__main__":
    unittest.main(verbosity=2)
