#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""
Writes the seed corpus of fuzz_offload: super-packets as a TUN with IFF_VNET_HDR hands
them over (mode byte 0: vnet header + packet) and batches of segments as they come out
of the tunnel (mode byte 1: packets behind 2-byte lengths).

    python3 tests/fuzz/make_offload_seeds.py
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "corpus", "offload")

NEEDS_CSUM, DATA_VALID = 1, 2
GSO_NONE, GSO_TCPV4, GSO_UDP, GSO_TCPV6, GSO_UDP_L4, GSO_ECN = 0, 1, 3, 4, 5, 0x80
ACK, PSH, FIN, CWR = 0x10, 0x08, 0x01, 0x80

SRC4, DST4 = bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2])
SRC6, DST6 = bytes([0xFD] + [0] * 14 + [1]), bytes([0xFD] + [0] * 14 + [2])


def csum_sum(b, acc=0):
    if len(b) & 1:
        b += b"\0"
    for i in range(0, len(b), 2):
        acc += b[i] << 8 | b[i + 1]
    return acc


def fold(acc):
    while acc >> 16:
        acc = (acc & 0xFFFF) + (acc >> 16)
    return acc


def payload(n, seed=1):
    x, out = seed * 2654435761 & 0xFFFFFFFF, bytearray()
    for _ in range(n):
        x = (x * 1103515245 + 12345) & 0xFFFFFFFF
        out.append(x >> 16 & 0xFF)
    return bytes(out)


def packet(v6, proto, data, seq=1000, ident=1, flags=ACK, full=True, ts=False):
    """An IP packet; the L4 checksum complete (full) or partial (the pseudo sum)."""
    if proto == 6:
        opts = struct.pack("!BBBBII", 1, 1, 8, 10, 7, 9) if ts else b""
        l4 = struct.pack("!HHIIBBHHH", 40000, 5201, seq, 77, (20 + len(opts)) // 4 << 4,
                         flags, 500, 0, 0) + opts
        coff = 16
    else:
        l4 = struct.pack("!HHHH", 40000, 5201, 8 + len(data), 0)
        coff = 6
    seg = bytearray(l4 + data)
    src, dst = (SRC6, DST6) if v6 else (SRC4, DST4)
    ps = csum_sum(src) + csum_sum(dst) + proto + len(seg)
    c = (~fold(csum_sum(bytes(seg), ps)) & 0xFFFF or 0xFFFF) if full else fold(ps)
    seg[coff:coff + 2] = struct.pack("!H", c)
    if v6:
        ip = struct.pack("!IHBB", 6 << 28, len(seg), proto, 64) + src + dst
    else:
        ip = bytearray(struct.pack("!BBHHHBBH", 0x45, 0, 20 + len(seg), ident, 0x4000, 64,
                                   proto, 0) + src + dst)
        ip[10:12] = struct.pack("!H", ~fold(csum_sum(bytes(ip))) & 0xFFFF)
    return bytes(ip) + bytes(seg)


def vnet(flags, gso_type, hdr_len, gso_size, start, off):
    return struct.pack("<BBHHHH", flags, gso_type, hdr_len, gso_size, start, off)


def write(name, data):
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)


def split(name, v6, proto, n, gso, flags=ACK, ts=False, gso_type=None, hdr=None):
    p = packet(v6, proto, payload(n), flags=flags, full=False, ts=ts)
    l3 = 40 if v6 else 20
    l4 = (32 if ts else 20) if proto == 6 else 8
    if gso_type is None:
        gso_type = GSO_UDP_L4 if proto == 17 else (GSO_TCPV6 if v6 else GSO_TCPV4)
    h = hdr or vnet(NEEDS_CSUM, gso_type, l3 + l4, gso, l3, 16 if proto == 6 else 6)
    write(name, b"\0" + h + p)


def coalesce(name, pkts):
    write(name, b"\1" + b"".join(struct.pack("!H", len(p)) + p for p in pkts))


def segments(v6, n, mss, ts=False, first_seq=1000, ident=1):
    data = payload(n * mss, 3)
    return [packet(v6, 6, data[i * mss:(i + 1) * mss], seq=first_seq + i * mss,
                   ident=ident + i, ts=ts, flags=ACK | (PSH if i == n - 1 else 0))
            for i in range(n)]


def main():
    split("split_tcp4_64k", False, 6, 65535 - 40, 1380, ACK | PSH)
    split("split_tcp4_small", False, 6, 3000, 1380, ACK | PSH | FIN)
    split("split_tcp4_cwr_ecn", False, 6, 5000, 1368, ACK | CWR, ts=True,
          gso_type=GSO_TCPV4 | GSO_ECN)
    split("split_tcp6", True, 6, 10000, 1360, ACK)
    split("split_tcp6_ts_max", True, 6, 65535 - 32, 1348, ACK | PSH, ts=True)
    split("split_udp4", False, 17, 14000, 1392)
    split("split_udp6", True, 17, 9000, 1000)
    split("split_hdr_len_hint", False, 6, 4000, 1000,
          hdr=vnet(NEEDS_CSUM, GSO_TCPV4, 4040, 1000, 20, 16))
    split("bad_gso_size0", False, 6, 4000, 0)
    split("bad_ufo", False, 17, 4000, 1000, gso_type=GSO_UDP)
    split("bad_csum_offset", False, 6, 4000, 1000,
          hdr=vnet(NEEDS_CSUM, GSO_TCPV4, 40, 1000, 20, 6))
    p = packet(False, 6, payload(900), full=False)
    write("partial_tcp4", b"\0" + vnet(NEEDS_CSUM, GSO_NONE, 0, 0, 20, 16) + p)
    p = packet(True, 17, payload(300), full=False)
    write("partial_udp6", b"\0" + vnet(NEEDS_CSUM, GSO_NONE, 0, 0, 40, 6) + p)
    p = packet(False, 17, payload(100))
    write("plain", b"\0" + vnet(DATA_VALID, GSO_NONE, 0, 0, 0, 0) + p)
    p = bytearray(packet(True, 6, payload(3000), full=False))
    p[6] = 0  # hop-by-hop first
    write("bad_ipv6_ext", b"\0" + vnet(NEEDS_CSUM, GSO_TCPV6, 60, 1000, 40, 16) + bytes(p))

    coalesce("gro_tcp4", segments(False, 10, 1380))
    coalesce("gro_tcp6_ts", segments(True, 12, 1348, ts=True))
    segs = segments(False, 6, 1000)
    bad = bytearray(segs[3])
    bad[100] ^= 1
    segs[3] = bytes(bad)
    coalesce("gro_bad_csum", segs)
    a, b = segments(False, 5, 1000), segments(True, 5, 1000, first_seq=5)
    mixed = [x for pair in zip(a, b) for x in pair]
    mixed.insert(3, packet(False, 17, payload(50)))
    coalesce("gro_two_flows", mixed)
    gap = segments(False, 8, 1200)
    del gap[4]
    coalesce("gro_gap", gap)


if __name__ == "__main__":
    main()
