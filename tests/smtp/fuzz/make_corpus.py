#!/usr/bin/python3
"""Writes the fuzz seed corpora from the golden transcripts.

    make_corpus.py TRANSCRIPTS_DIR OUT_DIR

OUT_DIR/server/<name>: the client bytes of each transcript (server_session_fuzz)
OUT_DIR/reply/<name>:  the server bytes of each transcript (reply_parser_fuzz)
The escapes are those of tests/smtp/transcript.hpp.
"""
import os
import re
import sys


def unescape(s):
    out = bytearray()
    i = 0
    while i < len(s):
        c = s[i]
        if c == "\\" and i + 1 < len(s):
            e = s[i + 1]
            i += 2
            if e == "r":
                out += b"\r"
            elif e == "n":
                out += b"\n"
            elif e == "t":
                out += b"\t"
            elif e == "x":
                out.append(int(s[i:i + 2], 16))
                i += 2
            else:
                out += e.encode()
            continue
        out += c.encode()
        i += 1
    return bytes(out)


def main():
    src, dst = sys.argv[1], sys.argv[2]
    for sub in ("server", "reply"):
        os.makedirs(os.path.join(dst, sub), exist_ok=True)
    for name in sorted(os.listdir(src)):
        if not name.endswith(".txt"):
            continue
        client, server = b"", b""
        with open(os.path.join(src, name), encoding="utf-8") as f:
            for line in f.read().split("\n"):
                if line.startswith("C: "):
                    client += unescape(line[3:]) + b"\r\n"
                elif line.startswith("C< "):
                    client += unescape(line[3:])
                elif line.startswith("S: "):
                    server += line[3:].encode() + b"\r\n"
        stem = re.sub(r"\.txt$", "", name)
        with open(os.path.join(dst, "server", stem), "wb") as f:
            f.write(client)
        with open(os.path.join(dst, "reply", stem), "wb") as f:
            f.write(server)


if __name__ == "__main__":
    main()
