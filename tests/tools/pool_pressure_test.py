#!/usr/bin/python3
"""mxdp serve (dpdk) keeps receiving when something holds packet buffers.

On DPDK a message body stays in the packet buffers it arrived in, lent to the
SMTP session while it comes in and to routing after it. Whatever keeps a body
long keeps those buffers out of the receive pool, and a pool run dry means the
appliance receives nothing more, not even ARP. Two ways to get there, each
with a pool of 8191 buffers (17 MB):

* a referral target that is down: relay jobs wait (a full queue, then
  retries an hour apart). Waiting jobs hold a copy of their body
  (routing::with_owned_body; `relay_bodies_copied` in the counters).
  Postfix smtp-source sends 4000 messages of 3 KB (3 buffers each).
* large messages in progress: two clients each send a 12 MB message at once
  (more than the pool together). Below 1/8 of the pool free the loop stops
  lending received buffers and the sessions copy (StackLoop::update_lending;
  `reads_unlent`).

After each, a local delivery must go through. And the mail waiting for one
target is bounded in memory too: past `[relay] max_waiting` jobs its
recipients get 450 at RCPT (`rcpts_deferred_relay_full`).

    pool_pressure_test.py PATH/TO/mxdp      (root: creates a tap)
"""
import json
import os
import shutil
import smtplib
import subprocess
import sys
import tempfile
import threading
import time
import unittest

from peers import free_port, mxdp_from_argv, wait_port

MXDP = mxdp_from_argv()
TAP = f"mxdpp{os.getpid() % 10000}"
NET = f"10.{150 + os.getpid() % 50}.{os.getpid() % 250}"
HOST, KERN = f"{NET}.2", f"{NET}.1"
MESSAGES = 4000
MAX_WAITING = 4200  # relay jobs that may wait for one target


class PoolPressure(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="mxdp-pool-")
        config = os.path.join(cls.tmp, "mxdp.toml")
        with open(config, "w") as f:
            f.write("[dpdk]\nmbufs = 8191\n[relay]\nretry_initial_ms = 3600000\nretry_max_ms = 3600000\n"
                    f"max_waiting = {MAX_WAITING}\n")
        cls.port = free_port()
        cls.ctl_path = os.path.join(cls.tmp, "ctl.sock")
        cls.log = open(os.path.join(cls.tmp, "serve.log"), "w+")
        cls.serve = subprocess.Popen(
            [MXDP, "serve", f"--vdev=net_tap0,iface={TAP}", "--no-huge", "--no-pci", "--", "--config", config,
             "--listen", f"{HOST}:{cls.port}", "--backend", "dpdk", "--dpdk-ip", f"{HOST}/24", "--metrics", "",
             "--control-socket", cls.ctl_path, "--dpdk-idle-sleep", "20"],
            stdout=cls.log, stderr=subprocess.STDOUT)
        end = time.time() + 30
        while not os.path.exists(f"/sys/class/net/{TAP}") and time.time() < end:
            time.sleep(0.05)
        subprocess.run(["ip", "addr", "add", f"{KERN}/24", "dev", TAP], check=True)
        subprocess.run(["ip", "link", "set", TAP, "up"], check=True)
        wait_port(cls.port, host=HOST)

    @classmethod
    def tearDownClass(cls):
        if cls.serve.poll() is None:
            cls.serve.kill()
        cls.serve.wait()
        cls.log.seek(0)
        sys.stderr.write(cls.log.read()[-2000:])
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def counters(self):
        out = subprocess.run([MXDP, "ctl", "-S", self.ctl_path, "counters"], capture_output=True, text=True, timeout=10)
        self.assertEqual(out.returncode, 0, out.stderr)
        return json.loads(out.stdout)

    def wait_counter(self, name, want, timeout=20):
        end = time.time() + timeout
        c = self.counters()
        while c[name] < want and time.time() < end:
            time.sleep(0.1)
            c = self.counters()
        return c

    def test_1_flood_to_a_dead_target_leaves_the_pool_to_new_mail(self):
        closed = free_port()  # nothing listens on the kernel side: every connection is refused
        out = subprocess.run([MXDP, "ctl", "-S", self.ctl_path, "referral", "dead@example.test", f"{KERN}:{closed}"],
                             capture_output=True, text=True, timeout=10)
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        src = subprocess.run(["smtp-source", "-s", "16", "-m", str(MESSAGES), "-l", "3000", "-f", "a@b.test", "-t",
                              "dead@example.test", f"{HOST}:{self.port}"],
                             capture_output=True, text=True, timeout=120)
        self.assertEqual(src.returncode, 0, src.stdout + src.stderr)
        # Each job waits: for the relay (its queue for the target is short),
        # then for a retry an hour away; waiting, it holds a copy of its body.
        self.wait_counter("relay_bodies_copied", MESSAGES)
        c = self.wait_counter("bodies_lent", MESSAGES)  # a worker's snapshot: it may lag a little
        self.assertEqual(c["accepted"], MESSAGES)
        self.assertEqual(c["bodies_lent"], MESSAGES)
        self.assertEqual(c["relay_bodies_copied"], MESSAGES)
        self.send_local("after the flood")

    def test_2_large_bodies_in_progress_do_not_drain_the_pool(self):
        before = self.counters()
        line = "w" * 76 + "\r\n"
        body = "Subject: large\r\n\r\n" + line * (12 * 1024 * 1024 // len(line))  # 12 MB
        results = []

        def send():
            try:
                with smtplib.SMTP(HOST, self.port, timeout=60) as s:
                    results.append(s.sendmail("a@b.test", ["user2@example.test"], body))
            except Exception as e:  # reported below, with the server's log
                results.append(repr(e))

        senders = [threading.Thread(target=send) for _ in range(2)]
        for t in senders:
            t.start()
        for t in senders:
            t.join(120)
        self.assertEqual(results, [{}, {}])
        c = self.wait_counter("delivered", before["delivered"] + 2)
        self.assertEqual(c["delivered"], before["delivered"] + 2)
        self.send_local("after the large ones")

    def test_3_a_target_with_too_much_waiting_gets_450_until_it_catches_up(self):
        # test_1 left MESSAGES jobs waiting for the dead target; past
        # MAX_WAITING its recipients are refused for now, so the memory its
        # mail takes is bounded, and the clients keep the rest.
        before = self.counters()
        refused = accepted = 0
        s = None
        for i in range(3000):
            if refused == 20:
                break
            # A session closes after max_errors 4yz replies (421): a new one then.
            if s is None:
                s = smtplib.SMTP(HOST, self.port, timeout=10)
            try:
                s.sendmail("a@b.test", ["dead@example.test"], f"Subject: {i}\r\n\r\nx\r\n")
                accepted += 1
            except smtplib.SMTPRecipientsRefused as e:
                self.assertEqual(e.recipients["dead@example.test"][0], 450)
                refused += 1
                s.close()
                s = None
        if s is not None:
            s.quit()
        self.assertEqual(refused, 20)
        c = self.wait_counter("rcpts_deferred_relay_full", before["rcpts_deferred_relay_full"] + refused)
        self.assertEqual(c["rcpts_deferred_relay_full"], before["rcpts_deferred_relay_full"] + refused)
        self.assertEqual(c["accepted"], before["accepted"] + accepted)
        # What waits is bounded by MAX_WAITING (plus the relay's own short queue).
        self.assertLessEqual(accepted, MAX_WAITING - MESSAGES + 600)
        self.send_local("while the target is full")

    def send_local(self, subject):
        delivered = self.counters()["delivered"]
        with smtplib.SMTP(HOST, self.port, timeout=10) as s:
            body = f"Subject: {subject}\r\n\r\n" + ("z" * 70 + "\r\n") * 40
            self.assertEqual(s.sendmail("a@b.test", ["user1@example.test"], body), {})
        self.assertEqual(self.wait_counter("delivered", delivered + 1)["delivered"], delivered + 1)


if __name__ == "__main__":
    unittest.main(verbosity=2)
