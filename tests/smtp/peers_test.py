#!/usr/bin/python3
"""Real SMTP peers against the mxdp smtp engines (label "peers").

    peers_test.py HARNESS

Server side: swaks (plain, pipelined, BDAT-free DATA with dots), Python
smtplib (several recipients, one refused, SMTPUTF8, a leading-dot body) and
Postfix smtp-source (pipelined sessions of 1 KiB messages) talk to the server
session; every message must be delivered with clean CRLF content.
Client side: the client session sends 500 messages per connection to Postfix
smtp-sink, pipelined and not.
"""
import os
import shutil
import smtplib
import socket
import subprocess
import sys
import time

HARNESS = sys.argv[1]
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)
    else:
        print("ok:", what)


def server_side():
    runs = []
    if shutil.which("swaks"):
        runs.append(("swaks plain", ["swaks", "--server", "127.0.0.1", "--port", "{port}", "--from", "a@example.org",
                                     "--to", "b@example.org", "--body", "hello\n.\n..dot\n", "--hide-all"]))
        runs.append(("swaks pipelined", ["swaks", "--server", "127.0.0.1", "--port", "{port}", "--pipeline",
                                         "--from", "a@example.org", "--to", "b@example.org,c@example.org",
                                         "--hide-all"]))
    smtp_source = shutil.which("smtp-source") or "/usr/sbin/smtp-source"
    sessions = 3
    per_session = 50
    proc = subprocess.Popen([HARNESS, "serve", str(len(runs) + 2 + sessions)], stdout=subprocess.PIPE, text=True)
    port = int(proc.stdout.readline().split()[1])
    for name, argv in runs:
        rc = subprocess.run([a.replace("{port}", str(port)) for a in argv], timeout=60).returncode
        check(rc == 0, name)
    # Python smtplib: EHLO, several recipients (one refused), a dot-leading body.
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as s:
        refused = s.sendmail("a@example.org", ["x@example.org", "reject@example.org", "y@example.org"],
                             "Subject: smtplib\r\n\r\n.starts with a dot\r\nbare\nnewline from the library\r\n")
        check(list(refused) == ["reject@example.org"], "smtplib per-recipient refusal")
        s.noop()
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as s:
        s.ehlo()
        check(s.has_extn("smtputf8") and s.has_extn("chunking") and s.has_extn("pipelining"), "smtplib sees extensions")
        s.sendmail("j\u00fcrgen@example.org", ["b\u00fccher@example.org"], "Subject: utf8\r\n\r\nhi\r\n".encode(),
                   mail_options=["SMTPUTF8", "BODY=8BITMIME"])
    rc = subprocess.run([smtp_source, "-s", str(sessions), "-m", str(sessions * per_session), "-l", "1024", "-d",
                         "-f", "src@example.org", "-t", "dst@example.org", f"127.0.0.1:{port}"],
                        timeout=120).returncode
    check(rc == 0, "smtp-source sessions")
    out, _ = proc.communicate(timeout=120)
    print(out.strip())
    fields = out.split()
    delivered = int(fields[fields.index("delivered") + 1])
    expected = len(runs) + 2 + sessions * per_session
    check(proc.returncode == 0, "harness saw only clean bodies")
    check(delivered == expected, f"delivered {delivered} of {expected}")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def client_side():
    sink = shutil.which("smtp-sink") or "/usr/sbin/smtp-sink"
    # smtp-sink (Postfix 3.7) offers PIPELINING but not CHUNKING: "bdat" checks
    # the fallback to DATA; "-p" takes PIPELINING away (one command per round trip).
    for name, flags, mode in (("pipelined DATA", [], "data"), ("BDAT preferred", [], "bdat"),
                              ("without PIPELINING", ["-p"], "data")):
        port = free_port()
        user = ["-u", "nobody"] if os.geteuid() == 0 else []
        proc = subprocess.Popen([sink] + user + flags + [f"127.0.0.1:{port}", "10"], stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE)
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.05)
        r = subprocess.run([HARNESS, "send", str(port), "500", mode], capture_output=True, text=True, timeout=120)
        print(r.stdout.strip())
        check(r.returncode == 0, f"client session to smtp-sink, {name}")
        proc.terminate()
        proc.wait()


server_side()
client_side()
if failures:
    print("FAILED:", failures)
    sys.exit(1)
