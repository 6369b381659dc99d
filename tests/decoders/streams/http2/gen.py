#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""gen.py: write the hand-built HTTP/2 test streams of this folder.

Python's standard library has no HTTP/2, so frames (RFC 9113 section 4.1) and
header blocks (RFC 7541: indexed fields, literals with and without indexing,
Huffman strings using the Appendix B table in hpack_huffman.txt beside this file)
are encoded here by hand. Each stream is one connection in the
tests/decoders stream format. Run it from anywhere; it rewrites the *.stream
files it owns (the recorded nghttp-*/curl-* files come from record.sh), then
regenerate the expected files with tests/decoders/run.sh --regen and review.
"""
import os
import re
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.normpath(os.path.join(HERE, "../../../.."))
PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

DATA, HEADERS, PRIORITY, RST_STREAM, SETTINGS, PUSH_PROMISE, PING, GOAWAY, \
    WINDOW_UPDATE, CONTINUATION = range(10)
END_STREAM, ACK, END_HEADERS, PADDED, PRIO = 0x1, 0x1, 0x4, 0x8, 0x20


def huffman_table():
    src = open(os.path.join(HERE, "hpack_huffman.txt")).read()
    codes = {}
    for sym, code, ln in re.findall(r"\[(\d+)\] = \{0x([0-9a-f]+), (\d+)\}", src):
        codes[int(sym)] = (int(code, 16), int(ln))
    assert len(codes) == 257
    return codes


HUFF = huffman_table()


def huff(s):
    acc, bits, out = 0, 0, bytearray()
    for b in s:
        code, ln = HUFF[b]
        acc = (acc << ln) | code
        bits += ln
        while bits >= 8:
            out.append((acc >> (bits - 8)) & 0xFF)
            bits -= 8
    if bits:
        out.append(((acc << (8 - bits)) | ((1 << (8 - bits)) - 1)) & 0xFF)
    return bytes(out)


def hint(value, prefix, first=0):
    """RFC 7541 section 5.1 integer with `first` in the bits above the prefix."""
    mx = (1 << prefix) - 1
    if value < mx:
        return bytes([first | value])
    out = bytearray([first | mx])
    value -= mx
    while value >= 128:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def hstr(s, h=False):
    s = s.encode() if isinstance(s, str) else s
    if h:
        e = huff(s)
        return hint(len(e), 7, 0x80) + e
    return hint(len(s), 7) + s


def idx(i):
    return hint(i, 7, 0x80)


def lit(name, value, h=False, index=False, never=False):
    """Literal field with a new name (index 0); name may be a table index."""
    if index:
        first, prefix = 0x40, 6
    else:
        first, prefix = (0x10 if never else 0x00), 4
    if isinstance(name, int):
        return hint(name, prefix, first) + hstr(value, h)
    return hint(0, prefix, first) + hstr(name, h) + hstr(value, h)


def frame(ftype, flags, sid, payload=b""):
    n = len(payload)
    return bytes([n >> 16 & 0xFF, n >> 8 & 0xFF, n & 0xFF, ftype, flags]) + \
        sid.to_bytes(4, "big") + payload


def settings(*pairs):
    return frame(SETTINGS, 0, 0, b"".join(i.to_bytes(2, "big") + v.to_bytes(4, "big")
                                          for i, v in pairs))


def get(sid, path, host="example.com", extra=b"", end=True):
    block = idx(2) + idx(7) + lit(4, path, h=True) + lit(1, host, h=True) + extra
    return frame(HEADERS, END_HEADERS | (END_STREAM if end else 0), sid, block)


class Stream:
    def __init__(self, name, comment):
        self.name, self.lines, self.t = name, ["# " + l for l in comment.split("\n")], None

    def at(self, usec):
        self.lines.append("at %d" % usec)
        return self

    def c(self, b):
        self.lines.append("cx> " + b.hex())
        return self

    def s(self, b):
        self.lines.append("sx> " + b.hex())
        return self

    def ctext(self, text):
        self.lines.append("c> " + text)
        return self

    def stext(self, text):
        self.lines.append("s> " + text)
        return self

    def raw(self, line):
        self.lines.append(line)
        return self

    def write(self):
        with open(os.path.join(HERE, self.name + ".stream"), "w") as f:
            f.write("\n".join(self.lines) + "\n")


def client_start():
    return PREFACE + settings((3, 100), (4, 65535))


def server_start():
    return settings((3, 100)) + frame(SETTINGS, ACK, 0)


def resp200(sid, extra=b"", end=False):
    return frame(HEADERS, END_HEADERS | (END_STREAM if end else 0), sid,
                 idx(8) + lit(31, "text/plain", h=True) + extra)


def main():
    # A complete exchange with Huffman strings and the dynamic table reused.
    st = Stream("get-huffman", "GET with Huffman-coded literals; a second request reuses the\n"
                "dynamic table (indexed user-agent); responses index their server field.")
    ua = lit(58, "gen.py/1", h=True, index=True)
    st.at(1000000).c(client_start() + get(1, "/first", extra=ua))
    st.at(1001000).c(get(3, "/second", extra=idx(62)))
    st.at(1005000).s(server_start() + frame(HEADERS, END_HEADERS, 1,
                                            idx(8) + lit(54, "gen", index=True)))
    st.s(frame(DATA, END_STREAM, 1, b"one"))
    st.at(1007000).s(frame(HEADERS, END_HEADERS | END_STREAM, 3, idx(13) + idx(62)))
    st.raw("close").write()

    # gzip and deflate bodies, split over frames.
    body = b"compressible text " * 20
    gz = zlib.compressobj(9, zlib.DEFLATED, 31)
    gzb = gz.compress(body) + gz.flush()
    st = Stream("gzip", "gzip body over three DATA frames; a zlib-wrapped deflate request body.")
    dfl = zlib.compress(b"name=value&x=1")
    st.at(2000000).c(client_start() + frame(
        HEADERS, END_HEADERS, 1, idx(3) + idx(7) + lit(4, "/upload") + lit(1, "example.com") +
        lit(26, "deflate")) + frame(DATA, END_STREAM, 1, dfl))
    st.at(2003000).s(server_start() + resp200(1, lit(26, "gzip")))
    st.s(frame(DATA, 0, 1, gzb[:7])).s(frame(DATA, 0, 1, gzb[7:20]))
    st.at(2004000).s(frame(DATA, END_STREAM, 1, gzb[20:]))
    st.raw("close").write()

    # Padding, priority, CONTINUATION, interleaved streams, 1xx, trailers.
    st = Stream("frames", "PADDED and PRIORITY HEADERS, a header block over two CONTINUATION\n"
                "frames, padded DATA, two streams answered out of order, a 103 before\n"
                "the final response, trailers, PING, WINDOW_UPDATE, PRIORITY, unknown frame type.")
    blk = idx(2) + idx(7) + lit(4, "/padded", h=True) + lit(1, "example.com", h=True) + \
        lit("x-long", "v" * 40)
    st.at(3000000).c(client_start() + frame(
        HEADERS, PADDED | PRIO, 1, bytes([4]) + b"\x00\x00\x00\x00\x0f" + blk[:5] + b"\0" * 4))
    st.c(frame(CONTINUATION, 0, 1, blk[5:20]) + frame(CONTINUATION, END_HEADERS, 1, blk[20:]))
    st.c(frame(DATA, END_STREAM | PADDED, 1, b"\x03abc\0\0\0"))
    st.c(get(3, "/other") + frame(PRIORITY, 0, 3, b"\x00\x00\x00\x01\x10") +
         frame(PING, 0, 0, b"12345678") + frame(0xfa, 0x3, 0, b"unknown type"))
    st.at(3002000).s(server_start() + frame(HEADERS, END_HEADERS | END_STREAM, 3, idx(13)))
    st.s(frame(HEADERS, END_HEADERS, 1, lit(8, "103") + lit(45, "</a.css>; rel=preload")))
    st.s(frame(WINDOW_UPDATE, 0, 0, b"\x00\x01\x00\x00") + resp200(1))
    st.s(frame(DATA, PADDED, 1, b"\x02ok\0\0"))
    st.at(3004000).s(frame(HEADERS, END_HEADERS | END_STREAM, 1, lit("grpc-status", "0")))
    st.s(frame(PING, ACK, 0, b"12345678"))
    st.raw("close").write()

    # Server push.
    st = Stream("push", "PUSH_PROMISE of /app.js on stream 2 before the response of stream 1.")
    st.at(4000000).c(client_start() + get(1, "/"))
    st.at(4001000).s(server_start() + frame(
        PUSH_PROMISE, END_HEADERS, 1, b"\x00\x00\x00\x02" + idx(2) + idx(7) +
        lit(4, "/app.js") + lit(1, "example.com")))
    st.s(resp200(1) + frame(HEADERS, END_HEADERS, 2, idx(8) + lit(31, "text/javascript")))
    st.at(4002000).s(frame(DATA, END_STREAM, 2, b"run();") +
                     frame(DATA, END_STREAM, 1, b"<script src=/app.js>"))
    st.raw("close").write()

    # RST_STREAM, GOAWAY, streams left open at close.
    st = Stream("reset-goaway", "Client cancels stream 1; server refuses stream 5 with GOAWAY\n"
                "(last stream 3); stream 3 is still open when the connection closes.")
    st.at(5000000).c(client_start() + get(1, "/slow") + get(3, "/a") + get(5, "/b"))
    st.at(5001000).c(frame(RST_STREAM, 0, 1, b"\x00\x00\x00\x08"))
    st.at(5002000).s(server_start() + resp200(3) + frame(DATA, 0, 3, b"part"))
    st.s(frame(GOAWAY, 0, 0, b"\x00\x00\x00\x03\x00\x00\x00\x00"))
    st.raw("close").write()

    st = Stream("rst-server", "The server resets stream 1 with REFUSED_STREAM after its headers.")
    st.at(5100000).c(client_start() + get(1, "/x"))
    st.at(5103000).s(server_start() + resp200(1) + frame(RST_STREAM, 0, 1, b"\x00\x00\x00\x07"))
    st.raw("close").write()

    # h2c upgrade through the dispatcher.
    st = Stream("upgrade", "HTTP/1.1 Upgrade: h2c; the response comes on stream 1 (one record\n"
                "for the exchange: the HTTP/1.1 request with its fields and bytes, the 101's\n"
                "bytes, the HTTP/2 response), then a second request on stream 3.")
    st.at(6000000).ctext("GET /start HTTP/1.1\\r\\nHost: up.example\\r\\nConnection: Upgrade, "
                         "HTTP2-Settings\\r\\nUpgrade: h2c\\r\\nHTTP2-Settings: AAMAAABkAAQAAP__"
                         "\\r\\n\\r\\n")
    st.at(6001000).stext("HTTP/1.1 101 Switching Protocols\\r\\nConnection: Upgrade\\r\\n"
                         "Upgrade: h2c\\r\\n\\r\\n")
    st.s(server_start() + resp200(1) + frame(DATA, END_STREAM, 1, b"upgraded"))
    st.at(6002000).c(client_start() + frame(SETTINGS, ACK, 0) + get(3, "/next", "up.example"))
    st.at(6003000).s(frame(HEADERS, END_HEADERS | END_STREAM, 3, idx(13)))
    st.raw("close").write()

    # A body beyond DEC_BODY_CAP over many frames, with a larger frame size.
    st = Stream("big-body", "A 100000-byte body in 20000-byte DATA frames after the client\n"
                "announced SETTINGS_MAX_FRAME_SIZE 32768: kept up to the body cap.")
    st.at(7000000).c(PREFACE + settings((5, 32768)) + get(1, "/big"))
    st.at(7001000).s(server_start() + resp200(1))
    for i in range(5):
        # A 20000-byte (0x4e20) DATA frame header; the payload as a repeat line.
        st.s(bytes([0, 0x4e, 0x20, DATA, END_STREAM if i == 4 else 0, 0, 0, 0, 1]))
        st.raw("repeat s 20000 %c" % "abcde"[i])
    st.raw("close").write()

    # A lost stretch inside a DATA payload, then one between frames.
    st = Stream("gap", "16 bytes lost inside a DATA payload (body marked truncated), then\n"
                "bytes lost between client frames: decoding stops.")
    st.at(8000000).c(client_start() + get(1, "/g"))
    st.at(8001000).s(server_start() + resp200(1) + bytes([0, 0, 40, DATA, END_STREAM, 0, 0, 0, 1])
                     + b"0123456789")
    st.raw("gap s 16")
    st.s(b"abcdefghijklmn")
    st.at(8002000).c(get(3, "/h", end=False))
    st.raw("gap c 5")
    st.c(get(5, "/never"))
    st.raw("close").write()

    # ---- malformed ----
    def bad(name, comment, cbytes=b"", sbytes=b"", close=True):
        st = Stream(name, comment)
        st.at(9000000).c(client_start() + get(1, "/ok"))
        st.at(9001000).s(server_start() + resp200(1))
        if cbytes:
            st.at(9002000).c(cbytes)
        if sbytes:
            st.at(9003000).s(sbytes)
        if close:
            st.raw("close")
        st.write()

    bad("truncated-frame", "The connection ends 20 bytes into a 100-byte DATA frame.",
        sbytes=bytes([0, 0, 100, DATA, 0, 0, 0, 0, 1]) + b"x" * 20)
    bad("truncated-header", "The connection ends 5 bytes into a frame header.",
        cbytes=bytes([0, 0, 3, HEADERS, 5]))
    bad("bad-padding", "DATA with a pad length (200) beyond its 10-byte payload.",
        sbytes=frame(DATA, PADDED | END_STREAM, 1, bytes([200]) + b"123456789"))
    bad("bad-padding-headers", "HEADERS whose padding eats the whole block.",
        cbytes=frame(HEADERS, PADDED | END_HEADERS | END_STREAM, 3, bytes([5]) + idx(2) +
                     idx(4) + b"\0\0"))
    bad("hpack-index", "A header block indexing entry 70 of a 62-entry table.",
        cbytes=frame(HEADERS, END_HEADERS | END_STREAM, 3, idx(2) + idx(70)))
    bad("hpack-eos", "A Huffman string containing the EOS symbol.",
        cbytes=frame(HEADERS, END_HEADERS | END_STREAM, 3,
                     idx(2) + hint(4, 4) + b"\x84\xff\xff\xff\xff"))
    bad("hpack-padding", "A Huffman string padded with zero bits.",
        sbytes=frame(HEADERS, END_HEADERS | END_STREAM, 1, hint(55, 4) + b"\x81\xf0"))
    bad("hpack-int-overflow", "A string length integer above 2^31.",
        cbytes=frame(HEADERS, END_HEADERS | END_STREAM, 3,
                     idx(2) + b"\x04\x7f\xff\xff\xff\xff\x7f"))
    bad("hpack-size-update", "A dynamic table size update above SETTINGS_HEADER_TABLE_SIZE.",
        cbytes=frame(HEADERS, END_HEADERS | END_STREAM, 3, hint(100000, 5, 0x20) + idx(2)))
    bad("continuation-wrong-stream", "HEADERS on stream 3 continued on stream 5.",
        cbytes=frame(HEADERS, 0, 3, idx(2)) + frame(CONTINUATION, END_HEADERS, 5, idx(4)))
    bad("continuation-orphan", "A CONTINUATION with no header block open.",
        sbytes=frame(CONTINUATION, END_HEADERS, 1, idx(8)))
    bad("huge-frame", "A DATA frame header claiming 16 MiB - 1 bytes.",
        sbytes=bytes([0xff, 0xff, 0xff, DATA, 0, 0, 0, 0, 1]) + b"tail")
    bad("stream-zero", "HEADERS on stream 0.",
        cbytes=frame(HEADERS, END_HEADERS | END_STREAM, 0, idx(2)))
    bad("bad-control", "Malformed control frames that do not stop decoding: SETTINGS of 7\n"
        "bytes, PING of 3, WINDOW_UPDATE of 2, RST_STREAM of 1, PRIORITY of 4, GOAWAY of 2.",
        cbytes=frame(SETTINGS, 0, 0, b"\x00\x01\x00\x00\x10\x00\x00") + frame(PING, 0, 0, b"abc") +
        frame(WINDOW_UPDATE, 0, 0, b"\x00\x01") + frame(RST_STREAM, 0, 7, b"\x01") +
        frame(PRIORITY, 0, 3, b"\x00\x00\x00\x01") + frame(GOAWAY, 0, 0, b"\x00\x00"),
        sbytes=frame(DATA, END_STREAM, 1, b"still fine"))
    bad("push-from-client", "A client may not send PUSH_PROMISE.",
        cbytes=frame(PUSH_PROMISE, END_HEADERS, 1, b"\x00\x00\x00\x02" + idx(2)))

    # Issue 12: a response read by one thread is delivered before the write (on
    # another thread) holding its request HEADERS; each direction stays in order.
    st = Stream("response-first", "Responses delivered before their requests: stream 3 (a GET),\n"
                "stream 5 (a POST whose body follows its HEADERS), stream 7 (the request\n"
                "between the response's HEADERS and DATA), stream 9 (request never seen).")
    st.at(5000000).c(client_start() + get(1, "/a"))
    st.at(5001000).s(server_start() + resp200(1, end=True))
    st.at(5002000).s(resp200(3) + frame(DATA, END_STREAM, 3, b"three"))
    st.s(frame(HEADERS, END_HEADERS | END_STREAM, 5, idx(13)))
    st.at(5002155).c(get(3, "/b"))
    st.c(frame(HEADERS, END_HEADERS, 5, idx(3) + idx(7) + lit(4, "/c") + lit(1, "example.com")))
    st.at(5002300).c(frame(DATA, END_STREAM, 5, b"posted"))
    st.at(5003000).s(resp200(7))
    st.at(5003100).c(get(7, "/d"))
    st.at(5003200).s(frame(DATA, END_STREAM, 7, b"seven"))
    st.at(5004000).s(resp200(9, end=True))
    st.raw("close").write()

    st = Stream("no-preface", "Frames without the client connection preface (decoder forced).")
    st.at(9500000).c(settings((3, 100)) + get(1, "/"))
    st.raw("close").write()

    st = Stream("garbage-after-preface", "The preface, then bytes that are no frame.")
    st.at(9600000).c(PREFACE).ctext("GET / HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n")
    st.raw("close").write()


if __name__ == "__main__":
    main()
