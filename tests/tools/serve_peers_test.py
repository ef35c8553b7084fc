#!/usr/bin/python3
"""mxdp serve driven by real peers nobody here wrote, on either backend.

Python smtplib, swaks and Postfix smtp-source talk to mxdp; Postfix smtp-sink
is the referral target (its dump files show relayed messages arrived intact).
Counts are checked end to end through `mxdp ctl counters`.

    serve_peers_test.py PATH/TO/mxdp            kernel backend on loopback
    serve_peers_test.py PATH/TO/mxdp --dpdk     dpdk backend on a net_tap port:
        the kernel TCP stack of these clients talks to mxdp's userspace stack
        through the tap, and referrals leave over mxdp's DPDK client to
        smtp-sink on the kernel side (needs root)
"""
import glob
import json
import os
import resource
import shutil
import signal
import smtplib
import socket
import subprocess
import sys
import tempfile
import time
import unittest

from peers import free_port, mxdp_from_argv, wait_port

MXDP = mxdp_from_argv()
DPDK = "--dpdk" in sys.argv
CORES = "1"
if "--dpdk-cores" in sys.argv:
    # Several lcores on a tap (no RSS): the software redirect spreads them.
    i = sys.argv.index("--dpdk-cores")
    CORES = sys.argv[i + 1]
    del sys.argv[i:i + 2]
if DPDK:
    sys.argv.remove("--dpdk")
    # A tap of our own: the name and subnet are unique to this process.
    TAP = f"mxdps{os.getpid() % 10000}"
    NET = f"10.{200 + os.getpid() % 50}.{os.getpid() % 250}"
    HOST, KERN = f"{NET}.2", f"{NET}.1"
else:
    HOST = KERN = "127.0.0.1"


class Serve(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # 5000 idle clients plus the server's side of them, in one process tree.
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 16384), hard))
        cls.tmp = tempfile.mkdtemp(prefix="mxdp-peers-")
        os.chmod(cls.tmp, 0o777)
        cls.dump = os.path.join(cls.tmp, "sink")
        os.mkdir(cls.dump)
        os.chmod(cls.dump, 0o777)
        cls.port, cls.sink_port, cls.metrics_port = free_port(), free_port(), free_port()
        cls.ctl_path = os.path.join(cls.tmp, "ctl.sock")
        user = ["-u", "nobody"] if os.geteuid() == 0 else []
        cls.sink = None
        cls.log = open(os.path.join(cls.tmp, "serve.log"), "w+")
        # Operator settings from a config file; flags below override [serve].
        config = os.path.join(cls.tmp, "mxdp.toml")
        with open(config, "w") as f:
            f.write("[serve]\nlisten = \"127.0.0.1:1\"\nmailbox_log = \"256K\"\n[relay]\nretry_initial_ms = 10\n"
                    "retry_max_ms = 50\nmax_attempts = 3\n")
        common = ["--config", config, "--listen", f"{HOST}:{cls.port}", "--referral-target", f"{KERN}:{cls.sink_port}",
                  "--metrics", f"127.0.0.1:{cls.metrics_port}", "--control-socket", cls.ctl_path, "--shards", "4",
                  "--idle-timeout", "3"]
        if DPDK:
            # One lcore by default; with --dpdk-cores N the tap (no RSS) is shared by
            # N lcores through the software redirect (dataplane/redirect.hpp).
            cmd = [MXDP, "serve", f"--vdev=net_tap0,iface={TAP}", "--no-huge", "--no-pci", "--", *common,
                   "--backend", "dpdk", "--dpdk-ip", f"{HOST}/24", "--cores", CORES, "--dpdk-idle-sleep", "20"]
        else:
            cmd = [MXDP, "serve", *common, "--cores", "2"]
        cls.serve = subprocess.Popen(cmd, stdout=cls.log, stderr=subprocess.STDOUT)
        if DPDK:
            end = time.time() + 30
            while not os.path.exists(f"/sys/class/net/{TAP}") and time.time() < end:
                time.sleep(0.05)
            subprocess.run(["ip", "addr", "add", f"{KERN}/24", "dev", TAP], check=True)
            subprocess.run(["ip", "link", "set", TAP, "up"], check=True)
        cls.sink = subprocess.Popen(["smtp-sink", *user, "-d", cls.dump + "/m.", f"{KERN}:{cls.sink_port}", "256"],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_port(cls.port, host=HOST)
        wait_port(cls.sink_port, host=KERN)

    @classmethod
    def tearDownClass(cls):
        if cls.serve.poll() is None:
            cls.serve.kill()
        if cls.sink:
            cls.sink.kill()
            cls.sink.wait()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def counters(self):
        out = subprocess.run([MXDP, "ctl", "-S", self.ctl_path, "counters"], capture_output=True, text=True, timeout=10)
        self.assertEqual(out.returncode, 0, out.stderr)
        return json.loads(out.stdout)

    def ctl(self, *words):
        out = subprocess.run([MXDP, "ctl", "-S", self.ctl_path, *words], capture_output=True, text=True, timeout=10)
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        return out.stdout.strip()

    def wait_counters(self, pred, timeout=20):
        end = time.time() + timeout
        c = self.counters()
        while not pred(c) and time.time() < end:
            time.sleep(0.1)
            c = self.counters()
        return c

    def test_01_smtplib_refuses_unknown_recipients(self):
        before = self.counters()
        with smtplib.SMTP(HOST, self.port, timeout=10) as s:
            refused = s.sendmail("a@b.test", ["user1@example.test", "user2@example.test", "nobody@example.test"],
                                 "Subject: t\r\n\r\nhello\r\n")
        self.assertEqual(list(refused), ["nobody@example.test"])
        self.assertEqual(refused["nobody@example.test"][0], 550)
        c = self.wait_counters(lambda c: c["delivered"] >= before["delivered"] + 2)
        self.assertEqual(c["accepted"], before["accepted"] + 1)
        self.assertEqual(c["delivered"], before["delivered"] + 2)

    def test_02_smtplib_many_recipients_pipelined(self):
        before = self.counters()
        rcpts = [f"user{n}@example.test" for n in range(100, 160)]
        with smtplib.SMTP(HOST, self.port, timeout=10) as s:
            s.ehlo()
            self.assertTrue(s.has_extn("pipelining"))
            self.assertEqual(s.sendmail("a@b.test", rcpts, "Subject: many\r\n\r\nbody\r\n"), {})
        c = self.wait_counters(lambda c: c["delivered"] >= before["delivered"] + 60)
        self.assertEqual(c["delivered"], before["delivered"] + 60)

    def test_03_swaks(self):
        out = subprocess.run(["swaks", "--server", f"{HOST}:{self.port}", "--to", "user3@example.test",
                              "--from", "swaks@b.test", "--pipeline"], capture_output=True, text=True, timeout=30)
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        self.assertIn("250 2.0.0", out.stdout)

    def test_04_referral_relayed_intact_to_smtp_sink(self):
        marker = f"mxdp-referral-marker-{time.time_ns()}"
        body = f"Subject: ref\r\n\r\n{marker}\r\n.leading dot line\r\n" + ("x" * 70 + "\r\n") * 50
        before = self.counters()
        with smtplib.SMTP(HOST, self.port, timeout=10) as s:
            self.assertEqual(s.sendmail("a@b.test", ["pf7@public.example.test"], body), {})
        c = self.wait_counters(lambda c: c["relayed"] >= before["relayed"] + 1)
        self.assertEqual(c["relayed"], before["relayed"] + 1)
        found = None
        end = time.time() + 10
        while not found and time.time() < end:
            for f in glob.glob(self.dump + "/m.*"):
                with open(f, errors="replace") as fh:
                    text = fh.read()
                if marker in text:
                    found = text
            time.sleep(0.1)
        self.assertIsNotNone(found, "relayed message not in smtp-sink's dump")
        self.assertIn("\n.leading dot line", found.replace("\r\n", "\n"))
        self.assertIn("pf7@public.example.test", found)

    def test_05_smtp_source_counts_exact(self):
        before = self.counters()
        out = subprocess.run(["smtp-source", "-s", "8", "-m", "400", "-l", "1024", "-d", "-t", "user42@example.test",
                              "-f", "src@b.test", f"{HOST}:{self.port}"], capture_output=True, text=True,
                             timeout=120)
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        c = self.wait_counters(lambda c: c["delivered"] >= before["delivered"] + 400)
        self.assertEqual(c["accepted"], before["accepted"] + 400)
        self.assertEqual(c["delivered"], before["delivered"] + 400)

    def test_06_live_moves_during_load(self):
        before = self.counters()
        src = subprocess.Popen(["smtp-source", "-s", "8", "-m", "1500", "-l", "512", "-d", "-t", "user77@example.test",
                                "-f", "src@b.test", f"{HOST}:{self.port}"], stdout=subprocess.DEVNULL)
        moves = 0
        while src.poll() is None and moves < 60:
            target = ["shard", str(moves % 4)] if moves % 3 else ["server", f"{KERN}:{self.sink_port}"]
            self.ctl("move", "user77@example.test", *target)
            moves += 1
            time.sleep(0.02)
        self.assertEqual(src.wait(timeout=120), 0)
        self.ctl("move", "user77@example.test", "shard", "1")
        c = self.wait_counters(lambda c: c["delivered"] + c["relayed"] >= before["delivered"] + before["relayed"] + 1500)
        self.assertEqual(c["accepted"] - before["accepted"], 1500)
        # Every recipient delivered or relayed exactly once; nothing bounced.
        self.assertEqual((c["delivered"] + c["relayed"]) - (before["delivered"] + before["relayed"]), 1500)
        self.assertEqual(c["bounced"], before["bounced"])
        self.assertGreater(moves, 0)

    def test_07_garbage_and_smuggling_refused(self):
        before = self.counters()
        with socket.create_connection((HOST, self.port), timeout=10) as s:
            f = s.makefile("rwb")
            self.assertTrue(f.readline().startswith(b"220"))
            f.write(b"FROBNICATE\r\n")
            f.flush()
            self.assertTrue(f.readline().startswith(b"500"))
            f.write(b"EHLO x\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<user9@example.test>\r\nDATA\r\n")
            f.flush()
            line = f.readline()
            while line.startswith(b"250"):
                line = f.readline()
            self.assertTrue(line.startswith(b"354"), line)
            # The 2023 smuggling probe: <LF>.<LF> must not end the message.
            f.write(b"Subject: s\r\n\r\nhi\n.\nMAIL FROM:<evil@x>\r\nRCPT TO:<user9@example.test>\r\n.\r\n")
            f.flush()
            reply = f.readline()
            self.assertTrue(reply.startswith(b"5"), reply)
        time.sleep(0.3)
        self.assertEqual(self.counters()["accepted"], before["accepted"])

    def test_08_disconnect_mid_data_delivers_nothing(self):
        before = self.counters()
        for _ in range(20):
            with socket.create_connection((HOST, self.port), timeout=10) as s:
                s.sendall(b"EHLO x\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<user9@example.test>\r\nDATA\r\n")
                time.sleep(0.01)
                s.sendall(b"Subject: cut\r\n\r\npartial body without end")
        time.sleep(0.5)
        c = self.counters()
        self.assertEqual(c["accepted"], before["accepted"])

    def test_09_idle_connection_times_out(self):
        with socket.create_connection((HOST, self.port), timeout=10) as s:
            s.recv(1000)
            start = time.time()
            data = b""
            while True:
                chunk = s.recv(1000)
                if not chunk:
                    break
                data += chunk
            self.assertIn(b"421", data)
            self.assertLess(time.time() - start, 8)

    def rss_kib(self):
        with open(f"/proc/{self.serve.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def test_10_many_idle_connections_bounded_and_timed_out(self):
        count = min(1000 if DPDK else 5000, resource.getrlimit(resource.RLIMIT_NOFILE)[0] // 2 - 100)
        socks = []
        for _ in range(count):
            socks.append(socket.create_connection((HOST, self.port), timeout=10))
        end = time.time() + 10
        while self.counters()["connections_open"] < count and time.time() < end:
            time.sleep(0.1)
        self.assertGreaterEqual(self.counters()["connections_open"], count)
        # The idle timeout (3 s here) closes every one of them with 421.
        end = time.time() + 15
        while self.counters()["connections_open"] > 10 and time.time() < end:
            time.sleep(0.2)
        self.assertLessEqual(self.counters()["connections_open"], 10)
        for s in socks:
            s.close()

    def test_12_client_that_never_reads_keeps_memory_bounded(self):
        rss_before = self.rss_kib()
        s = socket.create_connection((HOST, self.port), timeout=10)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.setblocking(False)
        sent = 0
        chunk = b"NOOP\r\n" * 10000
        end = time.time() + 5
        while time.time() < end and sent < 50_000_000:
            try:
                sent += s.send(chunk)
            except BlockingIOError:
                time.sleep(0.01)
            except (ConnectionResetError, BrokenPipeError):
                # Once the server stopped reading, the idle timeout (3 s here)
                # may close the connection before our 5 s are up: that bounds
                # it too (a close with our bytes unread is a reset, RFC 2525 §2.17).
                break
        # The server stopped reading once its replies piled up: far less than
        # 50 MB of commands got in, and its memory did not grow with them.
        self.assertLess(sent, 20_000_000)
        self.assertLess(self.rss_kib() - rss_before, 64 * 1024)
        s.close()

    def test_11_metrics(self):
        import urllib.request
        text = urllib.request.urlopen(f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=5).read().decode()
        self.assertIn("mxdp_shard_delivered_total{shard=\"0\"}", text)
        self.assertIn("mxdp_ingress_seconds", text)

    def test_13_unreachable_relay_target_bounces_after_retries(self):
        before = self.counters()
        self.ctl("referral", "dead@example.test", f"{KERN}:{free_port()}")
        with smtplib.SMTP(HOST, self.port, timeout=10) as s:
            body = "Subject: x\r\n\r\n" + ("y" * 70 + "\r\n") * 40  # 3 KB, several packets
            self.assertEqual(s.sendmail("a@b.test", ["dead@example.test"], body), {})
        c = self.wait_counters(lambda c: c["bounced"] >= before["bounced"] + 1)
        self.assertEqual(c["bounced"], before["bounced"] + 1)
        self.assertGreaterEqual(c["relay_retries"], before["relay_retries"] + 2)
        if DPDK:
            # The body came in packet buffers of the pool, lent to routing; the
            # job waited for its retries with the body copied out, not pinning them.
            # (bodies_lent is a worker's snapshot: it may lag a little.)
            c = self.wait_counters(lambda c: c["bodies_lent"] > before["bodies_lent"])
            self.assertGreater(c["bodies_lent"], before["bodies_lent"])
            self.assertGreaterEqual(c["relay_bodies_copied"], before["relay_bodies_copied"] + 1)

    def test_14_bad_config_is_refused_with_the_key(self):
        bad = os.path.join(self.tmp, "bad.toml")
        with open(bad, "w") as f:
            f.write("[smtp]\nmax_recipents = 5\n")
        out = subprocess.run([MXDP, "serve", "--config", bad], capture_output=True, text=True, timeout=10)
        self.assertEqual(out.returncode, 2)
        self.assertIn("unknown key 'max_recipents'", out.stderr)

    def test_99_clean_shutdown(self):
        self.serve.send_signal(signal.SIGTERM)
        self.assertEqual(self.serve.wait(timeout=30), 0)
        self.log.seek(0)
        log = self.log.read()
        self.assertIn("live 0", log)
        self.assertNotIn("ERROR: AddressSanitizer", log)
        self.assertNotIn("LeakSanitizer", log)
        self.assertNotIn("ThreadSanitizer", log)


if __name__ == "__main__":
    unittest.main(verbosity=2)
