# A pcap of one TCP connection at known rates, for the replay rate test (tests/tui/rates.sh):
#   mkrate.py OUT SECONDS EXCHANGES-PER-SECOND REQUEST-BYTES RESPONSE-BYTES
# Each exchange is a request segment and, half a period later, a response segment.
import struct, sys
def csum(b):
    if len(b) % 2: b += b'\0'
    s = sum(struct.unpack('!%dH' % (len(b)//2), b))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff
def pkt(src, dst, sp, dp, seq, ack, flags, payload=b''):
    tcp = struct.pack('!HHIIBBHHH', sp, dp, seq, ack, 5 << 4, flags, 65535, 0, 0) + payload
    ph = bytes(src) + bytes(dst) + struct.pack('!BBH', 0, 6, len(tcp))
    tcp = tcp[:16] + struct.pack('!H', csum(ph + tcp)) + tcp[18:]
    ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(tcp), 0, 0x4000, 64, 6, 0, bytes(src), bytes(dst))
    ip = ip[:10] + struct.pack('!H', csum(ip)) + ip[12:]
    return b'\0' * 12 + b'\x08\x00' + ip + tcp
out, secs, per_s, req, resp = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
C, S, cp, sp = [127, 0, 0, 1], [127, 0, 0, 1], 40000, 7001
t0 = 1700000000.0
recs = []
cs, ss = 1000, 5000
recs.append((t0, pkt(C, S, cp, sp, cs, 0, 0x02))); cs += 1
recs.append((t0, pkt(S, C, sp, cp, ss, cs, 0x12))); ss += 1
recs.append((t0, pkt(C, S, cp, sp, cs, ss, 0x10)))
step = 1.0 / per_s
for i in range(secs * per_s):
    t = t0 + 0.001 + i * step
    recs.append((t, pkt(C, S, cp, sp, cs, ss, 0x18, b'q' * req))); cs += req
    recs.append((t + step / 2, pkt(S, C, sp, cp, ss, cs, 0x18, b'r' * resp))); ss += resp
t = t0 + secs + 0.01
recs.append((t, pkt(C, S, cp, sp, cs, ss, 0x11))); cs += 1
recs.append((t, pkt(S, C, sp, cp, ss, cs, 0x11))); ss += 1
recs.append((t, pkt(C, S, cp, sp, cs, ss, 0x10)))
with open(out, 'wb') as f:
    f.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
    for t, p in recs:
        f.write(struct.pack('<IIII', int(t), int(round((t - int(t)) * 1e6)), len(p), len(p)) + p)
