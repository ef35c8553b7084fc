#!/usr/bin/python3
"""Fails when a C++ file differs from what .clang-format makes of it.

    format_check.py CLANG_FORMAT ROOT
Fix with: tools/format (rewrites the files in place).
"""
import os
import subprocess
import sys

DIRS = ("routing", "smtp", "dataplane", "tools", "bench", "tests")
SUFFIXES = (".hpp", ".cpp", ".h", ".cc")


def cxx_files(root):
    for d in DIRS:
        for dirpath, _, files in os.walk(os.path.join(root, d)):
            for name in sorted(files):
                if name.endswith(SUFFIXES):
                    yield os.path.join(dirpath, name)


def main():
    clang_format, root = sys.argv[1], sys.argv[2]
    files = list(cxx_files(root))
    bad = []
    for path in files:
        r = subprocess.run([clang_format, "--dry-run", "--Werror", "--style=file", path],
                           capture_output=True, text=True, cwd=root)
        if r.returncode != 0:
            bad.append(os.path.relpath(path, root))
    for b in bad:
        print("not formatted:", b)
    if bad:
        print(f"format: {len(bad)} of {len(files)} files differ from .clang-format; run tools/format")
        return 1
    print(f"format: {len(files)} files clean")
    return 0


if __name__ == "__main__":
    sys.exit(main())
