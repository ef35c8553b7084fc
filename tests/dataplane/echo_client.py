#!/usr/bin/python3
"""A Linux TCP client for the dataplane peer tests: sends SIZE random bytes to
HOST's echo port (7), half-closes, reads the echo to the end and exits 0 only
when every byte came back in order.

    echo_client.py HOST SIZE
"""
import os
import socket
import sys
import threading

host, size = sys.argv[1], int(sys.argv[2])
data = os.urandom(size)
s = socket.create_connection((host, 7), timeout=30)
got = bytearray()


def reader():
    while True:
        b = s.recv(1 << 20)
        if not b:
            break
        got.extend(b)


t = threading.Thread(target=reader)
t.start()
s.sendall(data)
s.shutdown(socket.SHUT_WR)
t.join(60)
s.close()
if bytes(got) != data:
    print("mismatch: sent %d got %d" % (len(data), len(got)), file=sys.stderr)
    sys.exit(1)
