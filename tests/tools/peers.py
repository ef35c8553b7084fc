"""Helpers shared by the peer tests: loopback ports and the mxdp path."""
import socket
import sys
import time


def mxdp_from_argv(default="build/asan/mxdp"):
    """The mxdp binary: the first argument (ctest passes it), removed from argv."""
    return sys.argv.pop(1) if len(sys.argv) > 1 else default


def free_port():
    """A loopback port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, timeout=20, host="127.0.0.1"):
    """Waits until something accepts connections on host:port."""
    end = time.time() + timeout
    while time.time() < end:
        try:
            socket.create_connection((host, port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")
