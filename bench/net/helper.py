#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Small helpers for bench/net/run: iperf3 JSON parsing and peer-list generation.

  helper.py tcp FILE        -> "bits_per_second bytes seconds retransmits host_cpu% remote_cpu%"
  helper.py udp FILE LEN    -> "received_pps sent_pps lost_percent host_cpu% remote_cpu%"
  helper.py txdrops         -> packets dropped on transmit by all links in `ip -s -j link` (stdin)
  helper.py peers N         -> N [Peer] sections (random public keys, 10.200.x.y/32 each),
                               for vwired's config file and `wg setconf` alike
"""
import base64
import json
import os
import sys


def load(path):
    with open(path) as f:
        d = json.load(f)
    if "error" in d:
        sys.exit("iperf3: " + d["error"])
    return d


def cpu(end):
    c = end.get("cpu_utilization_percent", {})
    return c.get("host_total", 0.0), c.get("remote_total", 0.0)


def tcp(path):
    e = load(path)["end"]
    r, s = e["sum_received"], e["sum_sent"]
    h, rem = cpu(e)
    print("%.0f %d %.3f %d %.1f %.1f" % (r["bits_per_second"], r["bytes"], r["seconds"],
                                         s.get("retransmits", 0), h, rem))


def udp(path, length):
    e = load(path)["end"]
    # iperf3 3.12: sum_sent counts what the client sent, sum_received what the server got.
    r, s = e["sum_received"], e["sum_sent"]
    rx_pps = r["bytes"] / length / r["seconds"] if r["seconds"] else 0.0
    tx_pps = s["bytes"] / length / s["seconds"] if s["seconds"] else 0.0
    h, rem = cpu(e)
    print("%.0f %.0f %.1f %.1f %.1f" % (rx_pps, tx_pps, e["sum"].get("lost_percent", 0.0), h, rem))


def peers(n):
    # Any 32 bytes are a usable X25519 public key; the peers never send anything.
    out = []
    for i in range(n):
        pub = base64.b64encode(os.urandom(32)).decode()
        out.append("[Peer]\nPublicKey = %s\nAllowedIPs = 10.200.%d.%d/32\n"
                   % (pub, (i // 250) % 250, i % 250 + 1))
    sys.stdout.write("".join(out))


def txdrops():
    links = json.load(sys.stdin)
    print(sum(l.get("stats64", {}).get("tx", {}).get("dropped", 0) for l in links))


def main():
    a = sys.argv[1:]
    if len(a) == 2 and a[0] == "tcp":
        tcp(a[1])
    elif len(a) == 3 and a[0] == "udp":
        udp(a[1], int(a[2]))
    elif len(a) == 1 and a[0] == "txdrops":
        txdrops()
    elif len(a) == 2 and a[0] == "peers":
        peers(int(a[1]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
