#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""
Writes the seed corpus of fuzz_offload: super-packets as a TUN with IFF_VNET_HDR hands
them over (mode byte 0: vnet header + packet) and batches of segments as they come out
of the tunnel (mode byte 1: packets behind 2-byte lengths); the same for Ethernet frames
as a TAP with IFF_VNET_HDR hands them over (mode byte 2: 2-byte big-endian max_frame,
vnet header with offsets from the frame's start, frame) and as they come off the wires
(mode byte 3: frames behind 2-byte lengths). Names: frame_* for the frame seeds. Bit 2
of the mode byte asks for GRO_UDP (UDP datagrams merge too, as for a device that took
USO): coalesce seeds gro_udp_* (mode 5) and frame_gro_udp_* (mode 7); for split seeds it
coalesces TCP segments back with GRO_UDP (UDP ones always are). Bit 3 asks for GRO_CHAIN
(seeds chain_*).

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


def udp_packet(v6, data, ident=1, df=True, csum="full", sport=40000, dport=5201, tos=0,
               ttl=64, label=0x12345, opts=b"", frag=0, udp_len=None):
    """A UDP datagram, every field chosen: csum "full", "zero" (none) or "bad"; IPv4
    options opts (IHL > 5), fragment bits frag (MF 0x2000 | offset), udp_len to lie."""
    l4 = bytearray(struct.pack("!HHHH", sport, dport,
                               8 + len(data) if udp_len is None else udp_len, 0) + data)
    src, dst = (SRC6, DST6) if v6 else (SRC4, DST4)
    ps = csum_sum(src) + csum_sum(dst) + 17 + len(l4)
    c = ~fold(csum_sum(bytes(l4), ps)) & 0xFFFF or 0xFFFF
    if csum == "zero":
        c = 0
    elif csum == "bad":
        c ^= 0x0100
    l4[6:8] = struct.pack("!H", c)
    if v6:
        ip = struct.pack("!IHBB", 6 << 28 | tos << 20 | label, len(l4), 17, ttl) + src + dst
    else:
        ihl = 5 + len(opts) // 4
        ip = bytearray(struct.pack("!BBHHHBBH", 0x40 | ihl, tos, ihl * 4 + len(l4), ident,
                                   (0x4000 if df else 0) | frag, ttl, 17, 0) + src + dst +
                       opts)
        ip[10:12] = struct.pack("!H", ~fold(csum_sum(bytes(ip))) & 0xFFFF)
    return bytes(ip) + bytes(l4)


def udp_run(v6, sizes, seed=5, ident=1, **kw):
    """Datagrams of one flow cut in turn from one payload, IDs counting up from ident."""
    data, out, off = payload(sum(sizes), seed), [], 0
    for i, n in enumerate(sizes):
        out.append(udp_packet(v6, data[off:off + n], ident=(ident + i) & 0xFFFF, **kw))
        off += n
    return out


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


def coalesce(name, pkts, mode=1):
    write(name, bytes([mode]) + b"".join(struct.pack("!H", len(p)) + p for p in pkts))


def coalesce_udp(name, pkts):
    coalesce(name, pkts, mode=5)


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


def coalesce_frames(name, frames, mode=3):
    write(name, bytes([mode]) + b"".join(struct.pack("!H", len(f)) + f for f in frames))


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

    udp_seeds()


def udp_seeds():
    """GRO_UDP: UDP runs that merge, end, or never start."""
    u4, u6 = 1392, 1372  # 1420 - 20 - 8, 1420 - 40 - 8
    coalesce_udp("gro_udp4", udp_run(False, [u4] * 10))
    coalesce_udp("gro_udp6_short_last", udp_run(True, [u6] * 7 + [100], tos=0xB8))
    # 47 full ones fill 65452 bytes: the rest go to a second super-packet.
    coalesce_udp("gro_udp4_64k", udp_run(False, [u4] * 50))
    coalesce_udp("gro_udp4_65535", udp_run(False, [u4] * 47 + [83]))
    coalesce_udp("gro_udp4_65536", udp_run(False, [u4] * 47 + [84, 84]))
    coalesce_udp("gro_udp6_65535", udp_run(True, [u6] * 47 + [1003, 1003]))
    coalesce_udp("gro_udp6_1byte", udp_run(True, [1] * 64))
    # Without DF the IDs must count up (here across the wrap, then a gap).
    run = udp_run(False, [700] * 6, ident=0xFFFD, df=False)
    del run[4]
    coalesce_udp("gro_udp4_nodf_ids", run)
    coalesce_udp("gro_udp4_df_any_id", [udp_packet(False, payload(700, i), ident=i * 977)
                                        for i in range(5)])
    coalesce_udp("gro_udp_sizes",
                 udp_run(False, [1000, 1000, 400, 1000, 1000, 1001, 1001, 0, 999, 500, 500]))
    run = udp_run(False, [1200] * 6)
    run[1] = udp_run(False, [1200] * 6, csum="zero")[1]
    run[3] = udp_run(False, [1200] * 6, csum="zero")[3]
    coalesce_udp("gro_udp4_zero_csum", run)
    run = udp_run(True, [1200] * 6)
    run[2] = udp_run(True, [1200] * 6, csum="zero")[2]
    coalesce_udp("gro_udp6_zero_csum", run)
    run = udp_run(False, [1200] * 5) + udp_run(True, [1200] * 3)
    run[2] = udp_run(False, [1200] * 5, csum="bad")[2]
    run[5] = udp_run(True, [1200] * 3, csum="bad")[0]
    coalesce_udp("gro_udp_bad_csum", run)
    run = udp_run(False, [1200] * 5)
    bad = bytearray(run[2])
    bad[10] ^= 0x40  # the IPv4 header checksum, the UDP one fine
    run[2] = bytes(bad)
    coalesce_udp("gro_udp4_bad_ip_csum", run)
    # Not candidates amid a run: IP options, MF, a fragment, a lying UDP length.
    run = udp_run(False, [1000] * 12)
    d = payload(1000, 9)
    run[2] = udp_packet(False, d, ident=3, opts=bytes([0x94, 4, 0, 0]))
    run[5] = udp_packet(False, d, ident=6, frag=0x2000)
    run[8] = udp_packet(False, d, ident=9, frag=185)
    run[11] = udp_packet(False, d, ident=12, udp_len=8 + 999)
    coalesce_udp("gro_udp_not_candidates", run)
    # Runs of them: the first fragments (MF), IP options, IPv4 and IPv6 lengths short of
    # the packet (4 bytes behind each datagram, counted in the UDP length only).
    data = payload(3000, 11)
    coalesce_udp("gro_udp_mf_run", [udp_packet(False, data[i * 1000:(i + 1) * 1000],
                                               ident=i, df=False, frag=0x2000)
                                    for i in range(3)])
    coalesce_udp("gro_udp_opts_run", [udp_packet(False, data[i * 1000:(i + 1) * 1000],
                                                 ident=i, opts=bytes([0x94, 4, 0, 0]))
                                      for i in range(3)])
    for name, v6 in (("gro_udp4_padded_run", False), ("gro_udp6_padded_run", True)):
        run = []
        for i in range(3):
            p = bytearray(udp_packet(v6, data[i * 1000:(i + 1) * 1000] + bytes(4), ident=i))
            l3 = 40 if v6 else 20
            if v6:
                p[4:6] = struct.pack("!H", len(p) - 40 - 4)
            else:
                p[2:4] = struct.pack("!H", len(p) - 4)
                p[10:12] = b"\0\0"
                p[10:12] = struct.pack("!H", ~fold(csum_sum(bytes(p[:20]))) & 0xFFFF)
            run.append(bytes(p))
        coalesce_udp(name, run)
    # Fields that split flows or runs: ports, TOS, TTL, IPv6 label and hop limit.
    # Each a run of the flow, then one with a field changed that must keep them apart.
    for name, v6, kw in (("sport", False, {"sport": 40001}), ("tos", False, {"tos": 1}),
                         ("ttl", False, {"ttl": 63}), ("df", False, {"df": False}),
                         ("tclass", True, {"tos": 0xB8}), ("label", True, {"label": 1}),
                         ("hoplimit", True, {"ttl": 1})):
        run = udp_run(v6, [900] * 6, seed=7)
        run[3:] = udp_run(v6, [900] * 6, seed=7, **kw)[3:]
        coalesce_udp("gro_udp_field_" + name, run)
    # TCP and UDP interleaved, one UDP flow on the TCP flow's addresses and ports.
    t = segments(False, 5, 1380)
    a = udp_run(False, [1100, 1100, 600, 1100, 1100])
    b = udp_run(True, [1300] * 5, seed=6)
    c = udp_run(False, [1000] * 5, seed=7, sport=40001)
    coalesce_udp("gro_udp_mixed_tcp", [x for group in zip(t, a, b, c) for x in group])
    # The same batch without GRO_UDP: UDP passes, TCP merges.
    coalesce("gro_udp_off", [x for group in zip(t, a, b, c) for x in group])

    coalesce_frames("frame_gro_udp4", frames(udp_run(False, [u4 - 14] * 6 + [17]), False),
                    mode=7)
    a = frames(udp_run(True, [1000] * 4), True, vlan=0x2064)
    b = frames(udp_run(True, [1000] * 4), True, vlan=0x2065)
    c = frames(udp_run(False, [1000] * 4), False, src=MAC_B)
    mixed = [x for group in zip(a, b, c) for x in group]
    mixed.insert(4, arp_frame())
    coalesce_frames("frame_gro_udp_vlans_macs", mixed, mode=7)
    coalesce_frames("frame_gro_udp_off", frames(udp_run(False, [1000] * 4), False))
    # Split seeds whose TCP segments are coalesced back with GRO_UDP.
    p = packet(False, 6, payload(20000), flags=ACK | PSH, full=False)
    write("split_tcp4_gro_udp", b"\4" + vnet(NEEDS_CSUM, GSO_TCPV4, 40, 1380, 20, 16) + p)
    p = packet(False, 6, payload(9000), full=False)
    write("frame_split_tcp4_gro_udp", b"\6" + struct.pack("!H", TUNNEL_FRAME) +
          vnet(NEEDS_CSUM, GSO_TCPV4, 54, 1448, 34, 16) + eth(ETH_IP) + p)
    # The same with GRO_CHAIN (bit 3): super-packets as chains of the segments' buffers.
    for name in ("split_tcp4_64k", "split_udp4", "gro_tcp4", "gro_two_flows",
                 "frame_gro_tcp6_ts_vlan", "gro_udp4_64k", "frame_gro_udp_vlans_macs",
                 "frame_split_tcp4_gro_udp"):
        with open(os.path.join(OUT, name), "rb") as f:
            seed = bytearray(f.read())
        seed[0] |= 8
        write("chain_" + name, bytes(seed))


if __name__ == "__main__":
    main()
