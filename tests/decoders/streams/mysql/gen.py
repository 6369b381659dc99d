#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Writes the hand-built MySQL test streams (run from this folder). Packets are
built per the MySQL Client/Server Protocol pages; the recorded streams
(record.sh) cover real servers, these cover what a capture rarely shows."""
import struct

GREETING = bytes.fromhex(  # MariaDB 10.11 Initial Handshake v10, from select.stream
    "0a352e352e352d31302e31312e31392d4d6172696144422d302b646562313275310004000000"
    "78797972 4f757d3500fef7080200ff8115000000000000001d0000002f29236f297b54715a4f"
    "5c60006d7973716c5f6e61746976655f70617373776f726400".replace(" ", ""))


def pkt(seq, payload):
    return struct.pack("<I", len(payload))[:3] + bytes([seq & 255]) + payload


def lenenc(n):
    if n < 251:
        return bytes([n])
    if n < 1 << 16:
        return b"\xfc" + struct.pack("<H", n)
    if n < 1 << 24:
        return b"\xfd" + struct.pack("<I", n)[:3]
    return b"\xfe" + struct.pack("<Q", n)


def lstr(s):
    return lenenc(len(s)) + s


def coldef(name):
    return (lstr(b"def") + lstr(b"shop") + lstr(b"t") + lstr(b"t") + lstr(name) + lstr(name)
            + b"\x0c\x21\x00\x3c\x00\x00\x00\xfd\x00\x00\x00\x00\x00")


def eof(status=0x0002):
    return b"\xfe\x00\x00" + struct.pack("<H", status)


def ok(affected=0, status=0x0002, header=b"\x00"):
    return header + lenenc(affected) + b"\x00" + struct.pack("<HH", status, 0)


def err(code, state, msg):
    return b"\xff" + struct.pack("<H", code) + b"#" + state + msg


def row(*vals):
    return b"".join(lstr(v) for v in vals)


def resultset(seq, cols, rows, deprecate_eof=False, status=0x0002):
    out = [pkt(seq, lenenc(len(cols)))]
    seq += 1
    for c in cols:
        out.append(pkt(seq, coldef(c)))
        seq += 1
    if not deprecate_eof:
        out.append(pkt(seq, eof()))
        seq += 1
    for r in rows:
        out.append(pkt(seq, row(*r)))
        seq += 1
    out.append(pkt(seq, ok(0, status, b"\xfe") if deprecate_eof else eof(status)))
    return b"".join(out), seq + 1


def handshake_response(user, db, caps):
    body = struct.pack("<IIB", caps, 1 << 24, 33) + b"\x00" * 23 + user + b"\x00"
    body += b"\x14" + b"\x11" * 20 + db + b"\x00" + b"mysql_native_password\x00"
    return pkt(1, body)


CAPS = 0x000FA28C | 0x8  # PROTOCOL_41, SECURE_CONNECTION, PLUGIN_AUTH, CONNECT_WITH_DB...
CAPS_DEPRECATE = CAPS | 0x01000000


class Stream:
    def __init__(self, comment):
        self.lines = ["# " + l for l in comment.strip().split("\n")]
        self.t = 1000

    def at(self, dt=100):
        self.t += dt
        self.lines.append("at %d" % self.t)

    def c(self, b, dt=100):
        self.at(dt)
        self.lines.append("cx> " + b.hex(" "))

    def s(self, b, dt=100):
        self.at(dt)
        self.lines.append("sx> " + b.hex(" "))

    def raw(self, line):
        self.lines.append(line)

    def write(self, name):
        with open(name + ".stream", "w") as f:
            f.write("\n".join(self.lines + ["close"]) + "\n")


def query(q):
    return pkt(0, b"\x03" + q)


def login(st, caps=CAPS):
    st.s(pkt(0, GREETING))
    st.c(handshake_response(b"app", b"shop", caps))
    st.s(pkt(2, ok()))


# A capture that joined mid-connection: the tail of a result set the server was
# sending, then the tail of a client packet, then whole commands.
st = Stream("""joined mid-connection: server bytes of an earlier result, a client write
starting inside a packet, then commands (resync on sequence id 0)""")
rs, _ = resultset(1, [b"id"], [[b"1"], [b"2"]])
st.s(rs[7:])
st.c(b"ROM items WHERE id > 2")
st.c(query(b"SELECT id, name FROM items"))
rs, _ = resultset(1, [b"id", b"name"], [[b"1", b"apple"], [b"2", b"pear"], [b"3", b"plum"]])
st.s(rs)
st.c(query(b"SELECT * FROM nope"))
st.s(pkt(1, err(1146, b"42S02", b"Table 'shop.nope' doesn't exist")))
st.c(pkt(0, b"\x0e"))
st.s(pkt(1, ok()))
st.write("midconn")

# Mid-connection with CLIENT_DEPRECATE_EOF in force: learned from the packet
# after the column definitions (a row, not a 5-byte EOF).
st = Stream("joined mid-connection, CLIENT_DEPRECATE_EOF on: result sets end with an OK (0xfe)")
st.c(query(b"SELECT name FROM items"))
rs, _ = resultset(1, [b"name"], [[b"apple"], [b"pear"]], deprecate_eof=True)
st.s(rs)
st.c(query(b"SELECT name FROM items WHERE 0"))
rs, _ = resultset(1, [b"name"], [], deprecate_eof=True)
st.s(rs)
st.write("midconn-deprecate-eof")

# Handshake with CLIENT_DEPRECATE_EOF, a multi-result CALL, an UPDATE.
st = Stream("CLIENT_DEPRECATE_EOF negotiated; CALL with two result sets and a final OK")
login(st, CAPS_DEPRECATE)
st.c(query(b"CALL two_results()"))
rs1, seq = resultset(1, [b"a"], [[b"1"]], deprecate_eof=True, status=0x000a)
rs2, seq = resultset(seq, [b"b", b"c"], [[b"2", b"3"], [b"4", b"5"]], deprecate_eof=True,
                     status=0x000a)
st.s(rs1 + rs2 + pkt(seq, ok(0)))
st.c(query(b"UPDATE items SET price = 1"))
st.s(pkt(1, ok(3)))
st.write("deprecate-eof")

# Malformed: a column count of 2^64-1, then the connection goes on.
st = Stream("a column count of 2^64-1 (0xfe + 8 x 0xff): noted, resynchronised on the next command")
login(st)
st.c(query(b"SELECT 1"))
st.s(pkt(1, b"\xfe" + b"\xff" * 8) + pkt(2, coldef(b"x")))
st.c(query(b"SELECT 2"))
rs, _ = resultset(1, [b"2"], [[b"2"]])
st.s(rs)
st.write("colcount-max")

# Truncated: the connection ends inside a row and inside a packet header.
st = Stream("the server's result is cut inside a row packet by the end of the connection")
login(st)
st.c(query(b"SELECT id FROM items"))
rs, _ = resultset(1, [b"id"], [[b"1"], [b"2"]])
st.s(rs[:-12])
st.write("truncated")

# A packet length past the end of the stream (16 MiB - 2 announced, 6 bytes sent).
st = Stream("a client packet announcing 0xfffffe bytes, of which 6 arrive before the end")
login(st)
st.c(b"\xfe\xff\xff\x00\x03SELEC")
st.write("length-past-end")

# Lost bytes: inside a row (skipped, still in step), then between packets (resync).
st = Stream("gaps: 3 bytes lost inside a row packet (stays in step), then 4 bytes lost at a "
            "packet boundary (resynchronises on the next command)")
login(st)
st.c(query(b"SELECT id, name FROM items"))
rs, _ = resultset(1, [b"id", b"name"], [[b"1", b"apple"], [b"2", b"pear"]])
cut = rs.index(b"apple") + 1
st.s(rs[:cut])
st.raw("gap s 3")
st.s(rs[cut + 3:])
st.c(query(b"SELECT 1"))
rs, _ = resultset(1, [b"1"], [[b"1"]])
st.s(rs[:4 + 1])
st.raw("gap s 4")
st.s(rs[9:])
st.c(query(b"SELECT 3"))
rs, _ = resultset(1, [b"3"], [[b"3"]])
st.s(rs)
st.write("gaps")

# Garbage both ways.
import random
random.seed(7)
st = Stream("random bytes both ways, decoded as MySQL (forced): notes, no records, no crash")
for i in range(6):
    st.c(bytes(random.randrange(256) for _ in range(random.randrange(1, 60))))
    st.s(bytes(random.randrange(256) for _ in range(random.randrange(1, 60))))
st.write("garbage")
