#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Writes the hand-built PostgreSQL test streams (run from this folder).
Messages are built per "Message Formats" of the PostgreSQL protocol chapter;
the recorded streams (../mysql/record.sh) cover a real server, these cover what
a capture rarely shows."""
import random
import struct


def msg(t, body=b""):
    return t + struct.pack(">I", len(body) + 4) + body


def cstr(s):
    return s + b"\x00"


def startup(user, db=None):
    body = struct.pack(">I", 196608) + cstr(b"user") + cstr(user)
    if db:
        body += cstr(b"database") + cstr(db)
    body += b"\x00"
    return struct.pack(">I", len(body) + 4) + body


def auth_ok():
    return msg(b"R", struct.pack(">I", 0))


def ready(status=b"I"):
    return msg(b"Z", status)


def rowdesc(*names):
    body = struct.pack(">H", len(names))
    for n in names:
        body += cstr(n) + struct.pack(">IHIhih", 0, 0, 25, -1, -1, 0)
    return msg(b"T", body)


def datarow(*vals):
    body = struct.pack(">H", len(vals))
    for v in vals:
        body += struct.pack(">i", len(v)) + v
    return msg(b"D", body)


def complete(tag):
    return msg(b"C", cstr(tag))


def error(code, text, sev=b"ERROR"):
    return msg(b"E", b"S" + cstr(sev) + b"V" + cstr(sev) + b"C" + cstr(code) + b"M" + cstr(text)
               + b"\x00")


def notice(text):
    return msg(b"N", b"SNOTICE\x00VNOTICE\x00C00000\x00M" + cstr(text) + b"\x00")


def query(q):
    return msg(b"Q", cstr(q))


def parse(name, q):
    return msg(b"P", cstr(name) + cstr(q) + struct.pack(">H", 0))


def bind(portal, stmt):
    return msg(b"B", cstr(portal) + cstr(stmt) + struct.pack(">HHH", 0, 0, 0))


def describe(kind, name):
    return msg(b"D", kind + cstr(name))


def execute(portal, maxrows=0):
    return msg(b"E", cstr(portal) + struct.pack(">I", maxrows))


SYNC = msg(b"S")


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


def login(st, user=b"app", db=b"shop"):
    st.c(startup(user, db))
    st.s(auth_ok() + msg(b"S", cstr(b"server_version") + cstr(b"15.18")) +
         msg(b"K", struct.pack(">II", 4242, 99)) + ready())


ROWS3 = rowdesc(b"id", b"name") + datarow(b"1", b"apple") + datarow(b"2", b"pear") + \
    datarow(b"3", b"plum")

# Joined mid-connection: the tail of a result, then queries; a Bind/Execute of a
# statement prepared before the capture (text unknown), then a named statement.
st = Stream("""joined mid-connection: the tail of an earlier result (resync at
ReadyForQuery), a simple query, an Execute of a statement prepared before the
capture (text unknown), then a named statement prepared and executed""")
tail = datarow(b"7", b"kiwi") + complete(b"SELECT 7") + ready()
st.s(tail[5:])
st.c(query(b"SELECT id, name FROM items"))
st.s(ROWS3 + complete(b"SELECT 3") + ready())
st.c(bind(b"", b"old_stmt") + execute(b"") + SYNC)
st.s(msg(b"2") + datarow(b"1") + complete(b"SELECT 1") + ready())
st.c(parse(b"s1", b"SELECT name FROM items WHERE id = $1") + SYNC)
st.s(msg(b"1") + ready())
st.c(bind(b"p1", b"s1") + describe(b"P", b"p1") + execute(b"p1") + SYNC)
st.s(msg(b"2") + rowdesc(b"name") + datarow(b"apple") + complete(b"SELECT 1") + ready())
st.write("midconn")

# SSLRequest refused ('N'): the start-up goes on in plain text.
st = Stream("SSLRequest answered 'N': the start-up goes on in plain text")
st.c(struct.pack(">II", 8, 80877103))
st.s(b"N")
login(st)
st.c(query(b"SELECT 1"))
st.s(rowdesc(b"?column?") + datarow(b"1") + complete(b"SELECT 1") + ready())
st.c(msg(b"X"))
st.write("ssl-refused")

# Extended protocol details: an error in Parse (skipped to Sync), a row limit
# (PortalSuspended), Close, an empty query, a notice in the middle, COPY FROM
# STDIN cancelled by CopyFail.
st = Stream("""extended-protocol corners: Parse error skipping to Sync, Execute with a
row limit (PortalSuspended), Close of a statement, EmptyQueryResponse, a
NoticeResponse between rows, CopyFail""")
login(st)
st.c(parse(b"", b"SELEC 1") + bind(b"", b"") + describe(b"P", b"") + execute(b"") + SYNC)
st.s(error(b"42601", b'syntax error at or near "SELEC"') + ready())
st.c(parse(b"s2", b"SELECT id FROM items") + bind(b"", b"s2") + execute(b"", 2) + SYNC)
st.s(msg(b"1") + msg(b"2") + datarow(b"1") + notice(b"just so you know") + datarow(b"2") +
     msg(b"s") + ready(b"T"))
st.c(msg(b"C", b"S" + cstr(b"s2")) + SYNC)
st.s(msg(b"3") + ready())
st.c(bind(b"", b"s2") + execute(b"") + SYNC)
st.s(error(b"26000", b'prepared statement "s2" does not exist') + ready())
st.c(query(b""))
st.s(msg(b"I") + ready())
st.c(query(b"COPY items FROM STDIN"))
st.s(msg(b"G", b"\x00\x00\x03\x00\x00\x00\x00\x00\x00"))
st.c(msg(b"d", b"9\tfig\t1\n"))
st.c(msg(b"f", cstr(b"client gave up")))
st.s(error(b"57014", b"COPY from stdin failed: client gave up") + ready())
st.write("extended-corners")

# Truncated: the connection ends inside a DataRow.
st = Stream("the server's answer is cut inside a DataRow by the end of the connection")
login(st)
st.c(query(b"SELECT id, name FROM items"))
st.s((ROWS3 + complete(b"SELECT 3") + ready())[:-30])
st.write("truncated")

# Lengths past the end / absurd lengths.
st = Stream("""a DataRow announcing 2^31-16 bytes (over the 1 GB limit: resync at the next
ReadyForQuery), then a Query whose announced length runs past the end""")
login(st)
st.c(query(b"SELECT 1"))
st.s(rowdesc(b"x") + b"D\x7f\xff\xff\xf0\x00\x01" + b"\x00" * 20)
st.s(ready())
st.c(query(b"SELECT 2"))
st.s(rowdesc(b"x") + datarow(b"2") + complete(b"SELECT 1") + ready())
st.c(b"Q\x00\x10\x00\x00SELECT")
st.write("length-past-end")

# Lost bytes: inside a DataRow (skipped), then across messages (resync).
st = Stream("""gaps: 4 bytes lost inside a DataRow (stays in step), then 9 bytes lost across
message boundaries (resynchronises at the next ReadyForQuery)""")
login(st)
st.c(query(b"SELECT id, name FROM items"))
full = ROWS3 + complete(b"SELECT 3") + ready()
cut = full.index(b"pear")
st.s(full[:cut])
st.raw("gap s 4")
st.s(full[cut + 4:])
st.c(query(b"SELECT id, name FROM items"))
cut = full.index(b"D")
st.s(full[:cut + 2])
st.raw("gap s 9")
st.s(full[cut + 11:])
st.c(query(b"SELECT 3"))
st.s(rowdesc(b"x") + datarow(b"3") + complete(b"SELECT 1") + ready())
st.write("gaps")

random.seed(11)
st = Stream("random bytes both ways, decoded as PostgreSQL (forced): notes, no records, no crash")
for i in range(6):
    st.c(bytes(random.randrange(256) for _ in range(random.randrange(1, 60))))
    st.s(bytes(random.randrange(256) for _ in range(random.randrange(1, 60))))
st.write("garbage")
