#!/usr/bin/python3
"""Checks the dependency direction of DESIGN.md on the sources.

    routing/   may include routing/ only          (no DPDK, no sockets)
    smtp/      may include smtp/ only             (no DPDK, no sockets)
    dataplane/ may include dataplane/ only        (packets, not mail)
    tools/, bench/, tests/: anything

A file in a layer that includes a DPDK header (<rte_*.h>, <dpdk/...>), a socket
or epoll header where none is allowed, or a header of another layer fails the
check with the file, the line and the rule it broke.

    layering_check.py ROOT        check a source tree (exit 1 on a violation)
    layering_check.py --self-test prove the check catches violations
"""
import os
import re
import sys
import tempfile

INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')
LAYERS = ("routing", "smtp", "dataplane")
PROJECT_DIRS = ("routing", "smtp", "dataplane", "tools", "bench", "tests")
DPDK = re.compile(r"^(rte_[\w]+\.h|dpdk/|generic/rte_|cmdline)")
SOCKETS = re.compile(r"^(sys/socket\.h|sys/epoll\.h|netinet/|arpa/inet\.h|netdb\.h)")
SOURCE_SUFFIXES = (".h", ".hpp", ".hh", ".c", ".cc", ".cpp", ".ipp", ".inc")

# Which layers may use which kind of system header.
MAY_USE_DPDK = {"dataplane"}
MAY_USE_SOCKETS = {"dataplane"}


def violations_in(root):
    found = []
    for layer in LAYERS:
        base = os.path.join(root, layer)
        for dirpath, _, files in os.walk(base):
            for name in files:
                if not name.endswith(SOURCE_SUFFIXES):
                    continue
                path = os.path.join(dirpath, name)
                rel = os.path.relpath(path, root)
                with open(path, encoding="utf-8", errors="replace") as f:
                    for lineno, line in enumerate(f, 1):
                        m = INCLUDE.match(line)
                        if not m:
                            continue
                        target = m.group(2)
                        first = target.split("/", 1)[0]
                        if DPDK.match(target) and layer not in MAY_USE_DPDK:
                            found.append(f"{rel}:{lineno}: {layer}/ must not include DPDK header <{target}>")
                        elif SOCKETS.match(target) and layer not in MAY_USE_SOCKETS:
                            found.append(f"{rel}:{lineno}: {layer}/ must not include socket header <{target}>")
                        elif first in PROJECT_DIRS and first != layer and "/" in target:
                            found.append(f"{rel}:{lineno}: {layer}/ must not include {target} (layer {first}/)")
    return found


def self_test():
    cases = {
        "smtp/a.cpp": '#include <rte_mbuf.h>\n',
        "routing/b.hpp": '#include "smtp/session.hpp"\n',
        "routing/c.cpp": '#include <sys/socket.h>\n',
        "smtp/d.cpp": '#include "dataplane/tcp.hpp"\n',
        "dataplane/e.cpp": '#include "routing/message.hpp"\n',
        "smtp/f.cpp": '#  include "tools/mxdp/commands.hpp"\n',
    }
    ok_files = {
        "smtp/ok.cpp": '#include "smtp/ok.hpp"\n#include <vector>\n',
        "dataplane/ok.cpp": '#include <rte_mbuf.h>\n#include "dataplane/ok.hpp"\n',
        "tools/ok.cpp": '#include "routing/x.hpp"\n#include <rte_eal.h>\n',
    }
    with tempfile.TemporaryDirectory() as root:
        for rel, text in ok_files.items():
            os.makedirs(os.path.dirname(os.path.join(root, rel)), exist_ok=True)
            with open(os.path.join(root, rel), "w") as f:
                f.write(text)
        if violations_in(root):
            print("self-test: clean tree reported violations:", violations_in(root))
            return 1
        for rel, text in cases.items():
            path = os.path.join(root, rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as f:
                f.write(text)
            got = violations_in(root)
            if len(got) != 1 or not got[0].startswith(rel):
                print(f"self-test: {rel} with {text.strip()!r} gave {got}")
                return 1
            os.remove(path)
    print("layering self-test: all violations caught")
    return 0


def main():
    if len(sys.argv) == 2 and sys.argv[1] == "--self-test":
        return self_test()
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    found = violations_in(sys.argv[1])
    for v in found:
        print(v)
    if found:
        print(f"layering: {len(found)} violation(s) of the dependency direction (DESIGN.md)")
        return 1
    print("layering: clean")
    return 0


if __name__ == "__main__":
    sys.exit(main())
