#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""pcap2stream.py CAPTURE.pcap OUT-PREFIX [COMMENT]

Turn each TCP connection of a classic pcap (Ethernet, Linux cooked or raw IP
link types, as `tcpdump -i lo -w` writes) into a decoder test stream file
(tests/decoders format): `at USEC` when the time changes, one `cx>`/`sx>` hex
line per segment payload (the side that sent the SYN is the client), `close`
when the connection ended. Retransmissions are dropped by sequence number.
Writes OUT-PREFIX-1.stream, OUT-PREFIX-2.stream, ... in the order the
connections started. Standard library only.
"""
import struct
import sys


def packets(path):
    with open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack("<I", data[:4])[0]
    if magic in (0xA1B2C3D4, 0xA1B23C4D):
        endian = "<"
    else:
        endian = ">"
    nano = magic in (0xA1B23C4D, 0x4D3CB2A1)
    linktype = struct.unpack(endian + "I", data[20:24])[0]
    off = 24
    while off + 16 <= len(data):
        sec, frac, incl, _ = struct.unpack(endian + "IIII", data[off:off + 16])
        off += 16
        pkt = data[off:off + incl]
        off += incl
        usec = sec * 1000000 + (frac // 1000 if nano else frac)
        yield usec, linktype, pkt


def ip_payload(linktype, pkt):
    if linktype == 1:  # Ethernet
        etype = struct.unpack(">H", pkt[12:14])[0]
        pkt = pkt[14:]
    elif linktype == 113:  # Linux cooked
        etype = struct.unpack(">H", pkt[14:16])[0]
        pkt = pkt[16:]
    elif linktype in (101, 12):  # raw IP
        etype = 0x0800 if pkt[0] >> 4 == 4 else 0x86DD
    else:
        return None
    if etype == 0x0800:
        ihl = (pkt[0] & 0xF) * 4
        total = struct.unpack(">H", pkt[2:4])[0]
        if pkt[9] != 6:
            return None
        return pkt[12:16], pkt[16:20], pkt[ihl:total]
    if etype == 0x86DD:
        plen = struct.unpack(">H", pkt[4:6])[0]
        if pkt[6] != 6:
            return None
        return pkt[8:24], pkt[24:40], pkt[40:40 + plen]
    return None


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    comment = sys.argv[3] if len(sys.argv) > 3 else "recorded with tcpdump on loopback"
    conns = {}  # key (client, server) -> dict
    order = []
    for usec, lt, pkt in packets(sys.argv[1]):
        ip = ip_payload(lt, pkt)
        if not ip:
            continue
        src, dst, tcp = ip
        sport, dport, seq = struct.unpack(">HHI", tcp[:8])
        hlen = (tcp[12] >> 4) * 4
        flags = tcp[13]
        payload = tcp[hlen:]
        a, b = (src, sport), (dst, dport)
        syn, ack, fin, rst = flags & 2, flags & 16, flags & 1, flags & 4
        if syn and not ack:
            c = {"client": a, "lines": [], "next": {a: seq + 1}, "closed": False, "t": None}
            conns[(a, b)] = c
            order.append(c)
            continue
        c = conns.get((a, b)) or conns.get((b, a))
        if not c:
            continue
        if syn and ack:
            c["next"][a] = seq + 1
            continue
        if payload and a in c["next"]:
            exp = c["next"][a]
            # Drop what was already seen (retransmission); keep the rest.
            skip = (exp - seq) & 0xFFFFFFFF
            if skip < len(payload):
                payload = payload[skip:]
                c["next"][a] = (seq + skip + len(payload)) & 0xFFFFFFFF
                if c["t"] != usec:
                    c["lines"].append("at %d" % usec)
                    c["t"] = usec
                side = "cx>" if a == c["client"] else "sx>"
                c["lines"].append("%s %s" % (side, payload.hex()))
        if (fin or rst) and not c["closed"]:
            c["closed"] = True
            c["lines"].append("close")
    for i, c in enumerate(order, 1):
        name = "%s-%d.stream" % (sys.argv[2], i)
        with open(name, "w") as f:
            f.write("# %s\n" % comment)
            f.write("\n".join(c["lines"]) + "\n")
        print("wrote", name)


if __name__ == "__main__":
    main()
