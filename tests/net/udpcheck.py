#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""UDP datagrams whose contents are checked one by one (the net suite's own tool).

  udpcheck.py recv ADDR PORT SECONDS           count datagrams until SECONDS pass with none,
                                               print "GOOD BAD"
  udpcheck.py send ADDR PORT COUNT SIZE [N]    send COUNT datagrams of SIZE bytes in bursts,
                                               round robin from N sockets (N flows; default 1)

Every datagram carries its sequence number and bytes derived from it, so the receiver
can tell a datagram that arrived intact from one whose payload was cut, merged or
corrupted on the way (coalescing into UDP super-packets and splitting them back must
give the same datagrams).
"""
import hashlib
import socket
import sys
import time


def payload(seq, size):
    out = bytearray(seq.to_bytes(8, "big"))
    block = hashlib.sha256(out).digest()
    while len(out) < size:
        out += block
        block = hashlib.sha256(block).digest()
    return bytes(out[:size])


def family_of(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def recv(addr, port, quiet):
    s = socket.socket(family_of(addr), socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    s.bind((addr, port))
    print("ready", flush=True)
    s.settimeout(30)
    good = bad = 0
    try:
        while True:
            b = s.recv(65536)
            s.settimeout(quiet)
            seq = int.from_bytes(b[:8], "big") if len(b) >= 8 else -1
            if seq >= 0 and b == payload(seq, len(b)):
                good += 1
            else:
                bad += 1
    except socket.timeout:
        pass
    print(good, bad, flush=True)


def send(addr, port, count, size, nsock):
    socks = []
    for _ in range(nsock):
        s = socket.socket(family_of(addr), socket.SOCK_DGRAM)
        s.connect((addr, port))
        socks.append(s)
    msgs = [payload(i, size) for i in range(count)]
    for i in range(0, count, 32):
        for k, m in enumerate(msgs[i : i + 32]):
            socks[(i + k) % nsock].send(m)
        # Bursts let the tunnel batch them; the pause keeps queues from overflowing.
        time.sleep(0.002)


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "recv":
        recv(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]))
    elif len(sys.argv) in (6, 7) and sys.argv[1] == "send":
        n = int(sys.argv[6]) if len(sys.argv) == 7 else 1
        send(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), n)
    else:
        sys.exit(__doc__)
