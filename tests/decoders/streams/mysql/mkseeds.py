#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""mkseeds.py PROTO STREAM...: write tests/fuzz/corpus/fuzz_PROTO seeds (the format of
tests/fuzz/fuzz_PROTO.c) from decoder test streams, one seed per stream."""
import os
import struct
import sys


def unescape(s):
    out, i = bytearray(), 0
    while i < len(s):
        if s[i] == "\\" and i + 1 < len(s):
            c = s[i + 1]
            if c == "x":
                out.append(int(s[i + 2:i + 4], 16))
                i += 4
                continue
            out += {"r": b"\r", "n": b"\n", "t": b"\t", "0": b"\0"}.get(c, c.encode())
            i += 2
            continue
        out += s[i].encode()
        i += 1
    return bytes(out)


proto = sys.argv[1]
here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../../fuzz/corpus")
for path in sys.argv[2:]:
    seed = bytearray()
    for line in open(path):
        line = line.rstrip("\n")
        if line.startswith(("cx> ", "sx> ")):
            data = bytes.fromhex(line[4:].replace(" ", ""))
        elif line.startswith(("c> ", "s> ")):
            data = unescape(line[3:])
        elif line.startswith("gap "):
            _, side, n = line.split()
            seed += struct.pack("<BH", 4 | (side == "s"), min(int(n), 65535))
            continue
        else:
            continue
        side = line[0] == "s"
        for i in range(0, max(len(data), 1), 65535):
            chunk = data[i:i + 65535]
            seed += struct.pack("<BH", side, len(chunk)) + chunk
    name = os.path.splitext(os.path.basename(path))[0]
    with open(os.path.join(here, "fuzz_" + proto, name), "wb") as f:
        f.write(seed)
