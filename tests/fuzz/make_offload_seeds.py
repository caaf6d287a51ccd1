#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""
Writes the seed corpus of fuzz_offload: super-packets as a TUN with IFF_VNET_HDR hands
them over (mode byte 0: vnet header + packet) and batches of segments as they come out
of the tunnel (mode byte 1: packets behind 2-byte lengths); the same for Ethernet frames
as a TAP with IFF_VNET_HDR hands them over (mode byte 2: 2-byte big-endian max_frame,
vnet header with offsets from the frame's start, frame) and as they come off the wires
(mode byte 3: frames behind 2-byte lengths). Names: frame_* for the frame seeds.

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
MAC_A, MAC_B = bytes([2, 0, 0x5E, 0x10, 0, 1]), bytes([2, 0, 0x5E, 0x10, 0, 2])
ETH_IP, ETH_IPV6, ETH_ARP, ETH_VLAN = 0x0800, 0x86DD, 0x0806, 0x8100
TUNNEL_FRAME = 1384  # 1420 - outer IPv4 20 - UDP 8 - VXLAN 8


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


def eth(ethertype, vlan=None, src=MAC_A, dst=MAC_B):
    """An Ethernet header, with one 802.1Q tag (vlan = TCI) if asked."""
    if vlan is None:
        return dst + src + struct.pack("!H", ethertype)
    return dst + src + struct.pack("!HHH", ETH_VLAN, vlan, ethertype)


def arp_frame(src=MAC_A):
    arp = struct.pack("!HHBBH", 1, ETH_IP, 6, 4, 1) + src + bytes([10, 1, 0, 1]) + \
        bytes(6) + bytes([10, 1, 0, 2])
    return eth(ETH_ARP, src=src, dst=b"\xff" * 6) + arp


def stp_frame(src=MAC_A):
    """A configuration BPDU: 802.3 length, LLC 42 42 03, 35 bytes, padded to 60."""
    bpdu = struct.pack("!HBBB", 0, 0, 0, 1) + struct.pack("!H", 0x8000) + src + \
        struct.pack("!I", 100) + struct.pack("!H", 0x8000) + src + \
        struct.pack("!HHHHH", 0x8001, 0, 20 * 256, 2 * 256, 15 * 256)
    f = bytes([1, 0x80, 0xC2, 0, 0, 0]) + src + struct.pack("!H", 3 + len(bpdu)) + \
        b"\x42\x42\x03" + bpdu
    return f + bytes(60 - len(f))


def split_frame(name, v6, proto, n, gso, max_frame=0, flags=ACK, ts=False, vlan=None,
                hdr=None):
    p = packet(v6, proto, payload(n), flags=flags, full=False, ts=ts)
    link = eth(ETH_IPV6 if v6 else ETH_IP, vlan)
    l3 = 40 if v6 else 20
    l4 = (32 if ts else 20) if proto == 6 else 8
    gso_type = GSO_UDP_L4 if proto == 17 else (GSO_TCPV6 if v6 else GSO_TCPV4)
    h = hdr or vnet(NEEDS_CSUM, gso_type, len(link) + l3 + l4, gso, len(link) + l3,
                    16 if proto == 6 else 6)
    write(name, b"\2" + struct.pack("!H", max_frame) + h + link + p)


def frame_seed(name, h, frame, max_frame=0):
    write(name, b"\2" + struct.pack("!H", max_frame) + h + frame)


def coalesce_frames(name, frames):
    write(name, b"\3" + b"".join(struct.pack("!H", len(f)) + f for f in frames))


def frames(segs, v6, vlan=None, src=MAC_A):
    link = eth(ETH_IPV6 if v6 else ETH_IP, vlan, src)
    return [link + p for p in segs]


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

    split_frame("frame_split_tcp4", False, 6, 20000, 1448, ts=True, flags=ACK | PSH)
    split_frame("frame_split_tcp4_cap1384", False, 6, 65535 - 52, 1448, TUNNEL_FRAME,
                flags=ACK | PSH, ts=True)
    split_frame("frame_split_tcp4_cap100", False, 6, 8000, 1460, 100, flags=ACK | FIN)
    split_frame("frame_split_tcp4_vlan", False, 6, 10000, 1380, vlan=0x2064)
    split_frame("frame_split_tcp6_vlan_cap1384", True, 6, 30000, 1428, TUNNEL_FRAME, ts=True,
                vlan=100)
    split_frame("frame_split_tcp6", True, 6, 65535 - 20, 1440)
    split_frame("frame_split_udp4_cap1000", False, 17, 14000, 1392, 1000)
    split_frame("frame_split_udp6_vlan", True, 17, 9000, 1372, TUNNEL_FRAME, vlan=7)
    split_frame("frame_bad_csum_start_in_eth", False, 6, 4000, 1000,
                hdr=vnet(NEEDS_CSUM, GSO_TCPV4, 54, 1000, 10, 16))
    split_frame("frame_bad_csum_start_ip_relative", False, 6, 4000, 1000,
                hdr=vnet(NEEDS_CSUM, GSO_TCPV4, 40, 1000, 20, 16))
    frame_seed("frame_bad_arp_gso", vnet(NEEDS_CSUM, GSO_TCPV4, 54, 1000, 34, 16),
               arp_frame())
    p = packet(False, 6, payload(900), full=False)
    frame_seed("frame_partial_tcp4", vnet(NEEDS_CSUM, GSO_NONE, 0, 0, 34, 16),
               eth(ETH_IP) + p, TUNNEL_FRAME)
    p = packet(True, 17, payload(300), full=False)
    frame_seed("frame_partial_udp6_vlan", vnet(NEEDS_CSUM, GSO_NONE, 0, 0, 58, 6),
               eth(ETH_IPV6, 100) + p)
    frame_seed("frame_plain_arp", vnet(0, GSO_NONE, 0, 0, 0, 0), arp_frame())
    frame_seed("frame_plain_stp", vnet(0, GSO_NONE, 0, 0, 0, 0), stp_frame())

    coalesce_frames("frame_gro_tcp4", frames(segments(False, 10, 1380), False))
    coalesce_frames("frame_gro_tcp6_ts_vlan", frames(segments(True, 12, 1348, ts=True), True,
                                                      vlan=0x2064))
    a = frames(segments(False, 5, 1000), False)
    b = frames(segments(False, 5, 1000), False, src=MAC_B)
    mixed = [x for pair in zip(a, b) for x in pair]
    mixed.insert(3, arp_frame())
    mixed.insert(6, stp_frame())
    coalesce_frames("frame_gro_two_macs", mixed)
    a = frames(segments(False, 4, 1200), False, vlan=100)
    b = frames(segments(False, 4, 1200), False, vlan=200)
    coalesce_frames("frame_gro_vlan_tci", [x for pair in zip(a, b) for x in pair])
    # One flow whose source MAC changes half way (a VM moved, a MAC flapped): two runs.
    segs = segments(False, 8, 1000)
    coalesce_frames("frame_gro_mac_change",
                    frames(segs[:4], False) + frames(segs[4:], False, src=MAC_B))


if __name__ == "__main__":
    main()
