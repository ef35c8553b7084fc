#!/usr/bin/python3
"""A Linux TCP client for the dataplane peer tests: sends SIZE random bytes to
HOST's echo port (7 unless PORT is given), half-closes, reads the echo to the
end and exits 0 only when every byte came back in order.

    echo_client.py HOST SIZE [PORT]
"""
import os
import socket
import sys
import threading

host, size = sys.argv[1], int(sys.argv[2])
port = int(sys.argv[3]) if len(sys.argv) > 3 else 7
data = os.urandom(size)
# The timeout bounds the connect and every silent recv, so the reader ends
# (and the run fails) if the echo stalls; the caller bounds the whole run.
s = socket.create_connection((host, port), timeout=60)
got = bytearray()


def reader():
    try:
        while True:
            b = s.recv(1 << 20)
            if not b:
                break
            got.extend(b)
    except socket.timeout:
        pass


t = threading.Thread(target=reader)
t.start()
s.sendall(data)
s.shutdown(socket.SHUT_WR)
t.join()
s.close()
if bytes(got) != data:
    print("mismatch: sent %d got %d" % (len(data), len(got)), file=sys.stderr)
    sys.exit(1)
