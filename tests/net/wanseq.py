#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Numbered, timestamped UDP datagrams through tests/tools/wanrelay (wan.sh's tool).

  wanseq.py recv ADDR PORT COUNT                 print "ready", then once COUNT arrived or
                                                 2 s passed with none: "received N reordered R
                                                 min_ms X median_ms Y max_ms Z"
  wanseq.py send ADDR PORT TO_ADDR TO_PORT COUNT GAP_MS
                                                 COUNT datagrams from ADDR:PORT, GAP_MS apart

Sender and receiver share CLOCK_MONOTONIC (network namespaces do not change it), so the
receiver measures each datagram's one-way delay; "reordered" counts datagrams that
arrived after one sent later than them.
"""
import socket
import struct
import sys
import time


def recv(addr, port, count):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((addr, port))
    s.settimeout(2)
    print("ready", flush=True)
    delays, highest, reordered = [], -1, 0
    try:
        while len(delays) < count:
            data = s.recv(2048)
            now = time.monotonic_ns()
            seq, sent = struct.unpack("!QQ", data[:16])
            if seq < highest:
                reordered += 1
            highest = max(highest, seq)
            delays.append((now - sent) / 1e6)
    except socket.timeout:
        pass
    if not delays:
        delays = [0.0]
    delays.sort()
    print("received %d reordered %d min_ms %.3f median_ms %.3f max_ms %.3f" % (
        len(delays), reordered, delays[0], delays[len(delays) // 2], delays[-1]), flush=True)


def send(addr, port, to_addr, to_port, count, gap_ms):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((addr, port))
    next_at = time.monotonic()
    for seq in range(count):
        s.sendto(struct.pack("!QQ", seq, time.monotonic_ns()) + bytes(100), (to_addr, to_port))
        next_at += gap_ms / 1000
        pause = next_at - time.monotonic()
        if pause > 0:
            time.sleep(pause)


if __name__ == "__main__":
    if sys.argv[1] == "recv":
        recv(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    elif sys.argv[1] == "send":
        send(sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5]), int(sys.argv[6]),
             float(sys.argv[7]))
    else:
        sys.exit("usage: wanseq.py recv ADDR PORT COUNT | send ADDR PORT TO_ADDR TO_PORT COUNT GAP_MS")
