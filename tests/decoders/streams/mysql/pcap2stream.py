#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""pcap2stream.py FILE.pcap [PORT]: print the TCP connection(s) to PORT in a
classic pcap (as written by `tcpdump -i lo -w`) as a decoder test stream
(tests/decoders: `at`, `cx>`, `sx>`, `close` lines). The client is the side
that sent the SYN. Each TCP segment becomes one feed line, preceded by a
comment showing its printable bytes, so a reviewer can read the stream.
Retransmissions (segments at or before the next expected sequence number) are
dropped. Only Ethernet (loopback on Linux) or Linux cooked captures, IPv4 or
IPv6."""
import struct
import sys


def packets(path):
    with open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack("<I", data[:4])[0]
    if magic in (0xA1B2C3D4, 0xA1B23C4D):
        end = "<"
    else:
        end = ">"
    nano = magic == 0xA1B23C4D
    linktype = struct.unpack(end + "I", data[20:24])[0]
    off = 24
    while off + 16 <= len(data):
        sec, frac, incl, _ = struct.unpack(end + "IIII", data[off:off + 16])
        off += 16
        pkt = data[off:off + incl]
        off += incl
        usec = sec * 1000000 + (frac // 1000 if nano else frac)
        if linktype == 1:
            etype, l3 = struct.unpack(">H", pkt[12:14])[0], pkt[14:]
        elif linktype == 113:
            etype, l3 = struct.unpack(">H", pkt[14:16])[0], pkt[16:]
        else:
            sys.exit("unsupported link type %d" % linktype)
        if etype == 0x0800:
            ihl = (l3[0] & 15) * 4
            total = struct.unpack(">H", l3[2:4])[0]
            if l3[9] != 6:
                continue
            src, dst, l4 = l3[12:16], l3[16:20], l3[ihl:total]
        elif etype == 0x86DD:
            if l3[6] != 6:
                continue
            plen = struct.unpack(">H", l3[4:6])[0]
            src, dst, l4 = l3[8:24], l3[24:40], l3[40:40 + plen]
        else:
            continue
        sport, dport, seq = struct.unpack(">HHI", l4[:8])
        doff = (l4[12] >> 4) * 4
        flags = l4[13]
        yield usec, (src, sport), (dst, dport), seq, flags, l4[doff:]


def shown(b):
    return "".join(chr(c) if 32 <= c < 127 else "." for c in b)


def convert(pkts, client):
    """The stream lines of the connection whose client endpoint is client."""
    out = []
    nxt = {}
    t0 = None
    last_t = None
    closed = False
    for usec, src, dst, seq, flags, payload in pkts:
        if src != client and dst != client:
            continue
        syn, fin, rst = flags & 2, flags & 1, flags & 4
        if syn:
            nxt[src] = (seq + 1) & 0xFFFFFFFF
            continue
        if t0 is None:
            t0 = usec - 1000
        if payload:
            exp = nxt.get(src, seq)
            if (seq - exp) & 0x80000000:
                continue  # retransmitted
            nxt[src] = (seq + len(payload)) & 0xFFFFFFFF
            t = usec - t0
            if t != last_t:
                out.append("at %d" % t)
                last_t = t
            side = "c" if src == client else "s"
            for i in range(0, len(payload), 64):
                out.append("# %s" % shown(payload[i:i + 64]))
            out.append("%sx> %s" % (side, payload.hex(" ")))
        if fin or rst:
            closed = True
    if closed:
        out.append("close")
    return out


def main():
    path = sys.argv[1]
    port = int(sys.argv[2]) if len(sys.argv) > 2 else None
    pkts = [p for p in packets(path) if port is None or port in (p[1][1], p[2][1])]
    # Clients are the senders of a SYN without ACK; keep the connection that
    # carried the most payload (tools such as pgbench open a probe first).
    clients = [p[1] for p in pkts if p[4] & 2 and not p[4] & 16]
    volume = {c: sum(len(p[5]) for p in pkts if c in (p[1], p[2])) for c in clients}
    if not volume:
        sys.exit("no TCP connection found")
    best = max(clients, key=lambda c: volume[c])
    print("\n".join(convert(pkts, best)))


main()
