#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A TCP bulk transfer whose bytes are checked end to end (the net suite's own tool).

  tcpcheck.py recv ADDR PORT        accept one connection, read to EOF, print "BYTES SHA256"
  tcpcheck.py send ADDR PORT BYTES  connect, send BYTES pseudo-random bytes, print "BYTES SHA256"

TCP's checksum cannot catch a data plane that corrupts payload and then computes a
fresh checksum over it (segmentation and coalescing do recompute them); comparing a
hash of what was sent with a hash of what arrived can.
"""
import hashlib
import os
import socket
import sys

CHUNK = 1 << 16


def family_of(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def recv(addr, port):
    srv = socket.socket(family_of(addr), socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((addr, port))
    srv.listen(1)
    srv.settimeout(60)
    conn, _ = srv.accept()
    conn.settimeout(60)
    h, n = hashlib.sha256(), 0
    while True:
        b = conn.recv(CHUNK)
        if not b:
            break
        h.update(b)
        n += len(b)
    print(n, h.hexdigest(), flush=True)


def send(addr, port, total):
    s = socket.create_connection((addr, port), timeout=60)
    h, n = hashlib.sha256(), 0
    block = os.urandom(CHUNK * 4)
    while n < total:
        # A rotating view of random data: no two chunks alike, cheap to make.
        off = (n * 7919) % (len(block) - CHUNK)
        b = block[off : off + min(CHUNK, total - n)]
        s.sendall(b)
        h.update(b)
        n += len(b)
    s.shutdown(socket.SHUT_WR)
    s.recv(1)
    s.close()
    print(n, h.hexdigest(), flush=True)


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "recv":
        recv(sys.argv[2], int(sys.argv[3]))
    elif len(sys.argv) == 5 and sys.argv[1] == "send":
        send(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    else:
        sys.exit(__doc__)
