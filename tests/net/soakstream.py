#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Helpers of the soak test (tests/net/soak.sh).

  soakstream.py recv ADDR PORT
      Serve connections until killed. Every byte received is compared, as it
      arrives, with the stream the sender derives from the seed in its 8-byte
      header, so a connection that breaks half-way still proves what it carried
      was intact. One line per connection end:
        <time> recv conn=<seed> eof bytes=<n>            clean end (count sent back)
        <time> recv conn=<seed> error=<why> bytes=<n>    reset / timeout
        <time> recv conn=<seed> MISMATCH at=<offset>     corrupted payload
  soakstream.py send ADDR PORT SECONDS RATE
      For SECONDS, send the seeded stream at RATE bytes/s (paced, no catching up
      after a stall, so an outage does not end in a burst). When a connection
      breaks, log it and open a new one (1 s apart) until the time is up. At the
      end: shut down writing and read the receiver's count of verified bytes.
        <time> send conn=<seed> start
        <time> send conn=<seed> broken=<why> bytes=<n>
        <time> send conn=<seed> done bytes=<n> verified=<m>   (ok iff n == m)
  soakstream.py pingloss LOG T0 WINDOWS
      Loss of a `ping -D -O -i I` log: each icmp_seq that never got a reply is
      placed in time (its send time interpolated from the replied neighbours,
      whose send time is reply time - RTT) and counted in the first window
      "name:start:end" (epoch seconds, comma separated) that holds it, else as
      "outside". Prints "sent=N replied=N" then one "NAME LOST" line per
      window and "outside LOST FIRST_LOST_TIME..." (times relative to T0).
"""
import random
import re
import socket
import struct
import sys
import threading
import time

SEG = 1 << 16
BLOCK = 1 << 20
HEADER = struct.Struct("!Q")
USER_TIMEOUT_MS = 30000  # an outage longer than a restart window breaks the connection
SO_MAX_PACING_RATE = 47  # <asm-generic/socket.h>; Python does not name it


def block_of(seed):
    return random.Random(seed).randbytes(BLOCK)


def seg_off(seed, k):
    # A different view of the block per 64 KiB segment: no two segments alike.
    return (seed + k * 7919 * 64) % (BLOCK - SEG)


class Stream:
    """The byte stream of one seed, read sequentially."""

    def __init__(self, seed):
        self.seed, self.block, self.pos = seed, block_of(seed), 0

    def take(self, n):
        out = []
        while n:
            k, within = divmod(self.pos, SEG)
            off = seg_off(self.seed, k) + within
            m = min(n, SEG - within)
            out.append(self.block[off : off + m])
            self.pos += m
            n -= m
        return b"".join(out)


def log(line):
    print("%.3f %s" % (time.time(), line), flush=True)


def family_of(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def tune(s, rate=None):
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_USER_TIMEOUT, USER_TIMEOUT_MS)
    if rate:
        # The kernel paces the segments too (TCP's own pacing, no fq needed):
        # without it, TSO sends each written chunk as one burst of ~11 segments,
        # which a peer's 208 KiB UDP buffer (wireguard-go sets none) cannot
        # always hold on a contended CPU.
        s.setsockopt(socket.SOL_SOCKET, SO_MAX_PACING_RATE, int(rate * 1.25))


def recvall(c, n):
    b = b""
    while len(b) < n:
        x = c.recv(n - len(b))
        if not x:
            break
        b += x
    return b


def serve_one(c):
    seed, n = None, 0
    try:
        tune(c)
        c.settimeout(60)
        hdr = recvall(c, HEADER.size)
        if len(hdr) < HEADER.size:
            log("recv conn=? error=short-header bytes=0")
            return
        (seed,) = HEADER.unpack(hdr)
        want = Stream(seed)
        while True:
            b = c.recv(SEG)
            if not b:
                break
            exp = want.take(len(b))
            if b != exp:
                at = n + next(i for i in range(len(b)) if b[i] != exp[i])
                log("recv conn=%d MISMATCH at=%d" % (seed, at))
                return
            n += len(b)
        c.sendall(HEADER.pack(n))
        log("recv conn=%d eof bytes=%d" % (seed, n))
    except OSError as e:
        log("recv conn=%s error=%s bytes=%d" % (seed, type(e).__name__ if not e.errno else e.strerror.replace(" ", "-"), n))
    finally:
        c.close()


def recv(addr, port):
    srv = socket.socket(family_of(addr), socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((addr, port))
    srv.listen(4)
    log("recv listening")
    while True:
        c, _ = srv.accept()
        threading.Thread(target=serve_one, args=(c,), daemon=True).start()


def send(addr, port, seconds, rate):
    end = time.time() + seconds
    chunk = 8192
    while time.time() < end:
        seed = random.getrandbits(48)
        stream, n = Stream(seed), 0
        try:
            s = socket.create_connection((addr, port), timeout=5)
        except OSError as e:
            log("send conn=%d connect-failed=%s" % (seed, e.strerror or type(e).__name__))
            time.sleep(1)
            continue
        log("send conn=%d start" % seed)
        try:
            tune(s, rate)
            s.settimeout(USER_TIMEOUT_MS / 1000 + 5)
            s.sendall(HEADER.pack(seed))
            t = time.time()
            while True:
                now = time.time()
                if now >= end:
                    break
                if now < t:
                    time.sleep(min(t - now, end - now))
                    continue
                s.sendall(stream.take(chunk))
                n += chunk
                # Next send slot; after a stall, start afresh from now (no burst).
                t = max(t + chunk / rate, time.time() - 0.5)
            s.shutdown(socket.SHUT_WR)
            got = recvall(s, HEADER.size)
            if len(got) < HEADER.size:
                log("send conn=%d broken=no-count bytes=%d" % (seed, n))
                continue
            (v,) = HEADER.unpack(got)
            log("send conn=%d done bytes=%d verified=%d" % (seed, n, v))
            return 0 if v == n else 1
        except OSError as e:
            log("send conn=%d broken=%s bytes=%d" % (seed, (e.strerror or type(e).__name__).replace(" ", "-"), n))
            time.sleep(1)
        finally:
            s.close()
    log("send out-of-time")
    return 1


def pingloss(path, t0, windows):
    wins = []
    for w in filter(None, windows.split(",")):
        name, a, b = w.split(":")
        wins.append((name, float(a), float(b)))
    sent_at, replied, seen = {}, set(), set()
    rx = re.compile(r"^\[(\d+\.\d+)\] \d+ bytes from .*icmp_seq=(\d+) .*time=([\d.]+) ms")
    na = re.compile(r"^\[(\d+\.\d+)\] no answer yet for icmp_seq=(\d+)")
    for line in open(path):
        m = rx.match(line)
        if m:
            seq = int(m.group(2))
            replied.add(seq)
            seen.add(seq)
            sent_at.setdefault(seq, float(m.group(1)) - float(m.group(3)) / 1000)
            continue
        m = na.match(line)
        if m:
            seen.add(int(m.group(2)))
    if not replied:
        print("sent=0 replied=0")
        for name, _, _ in wins:
            print(name, 0)
        print("outside 0")
        return
    last = max(replied)
    # Sequence numbers after the last reply were in flight when ping stopped.
    known = sorted(sent_at)
    lost = []
    for seq in range(min(known), last + 1):
        if seq in replied:
            continue
        # Interpolate the send time from the closest replied neighbours.
        lo = max((k for k in known if k < seq), default=None)
        hi = min((k for k in known if k > seq), default=None)
        if lo is not None and hi is not None:
            t = sent_at[lo] + (sent_at[hi] - sent_at[lo]) * (seq - lo) / (hi - lo)
        else:
            t = sent_at[lo if lo is not None else hi]
        lost.append(t)
    counts = {name: 0 for name, _, _ in wins}
    outside = []
    for t in lost:
        for name, a, b in wins:
            if a <= t <= b:
                counts[name] += 1
                break
        else:
            outside.append(t)
    print("sent=%d replied=%d" % (last - min(known) + 1, len(replied)))
    for name, _, _ in wins:
        print(name, counts[name])
    print("outside", len(outside), *("%.1f" % (t - t0) for t in outside[:10]))


if __name__ == "__main__":
    a = sys.argv[1:]
    if len(a) == 3 and a[0] == "recv":
        recv(a[1], int(a[2]))
    elif len(a) == 5 and a[0] == "send":
        sys.exit(send(a[1], int(a[2]), float(a[3]), float(a[4])))
    elif len(a) == 4 and a[0] == "pingloss":
        pingloss(a[1], float(a[2]), a[3])
    else:
        sys.exit(__doc__)
