#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""
Writes the seed corpora of the tunnel fuzz targets from the known answers
(tests/unit/vectors/noise_vectors.py), so the seeds are valid messages for the
fuzz devices (tests/unit/kat_devices.h) and mutations start deep.

    python3 tests/fuzz/make_tunnel_seeds.py
"""
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "unit", "vectors"))
import noise_vectors as v  # noqa: E402

FIX_MAC1, UNDER_LOAD = 1, 2


def rec(msg, flags=0, steps=0):
    return bytes([flags | (steps << 2)]) + struct.pack("<H", len(msg)) + msg


def write(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def main():
    kat = v.handshake(b"\0" * 32)
    init, resp, cookie, data = kat["initiation"], kat["response"], kat["cookie_reply"], kat["data"]
    init_mac2 = init[:132] + kat["initiation_mac2"]

    for name, msg in [("initiation", init), ("response", resp), ("cookie_reply", cookie),
                      ("data", data), ("keepalive_size", data[:32]), ("short_data", data[:31]),
                      ("bad_type", b"\x05\0\0\0" + init[4:]), ("reserved_set", b"\x01\0\1\0" + init[4:]),
                      ("initiation_long", init + b"\0"), ("empty", b"")]:
        write("messages", name, msg)

    write("handshake_responder", "initiation", rec(init))
    write("handshake_responder", "initiation_fixmac", rec(init, FIX_MAC1))
    write("handshake_responder", "replay", rec(init) + rec(init, 0, 10))
    write("handshake_responder", "under_load_cookie", rec(init, UNDER_LOAD))
    write("handshake_responder", "under_load_mac2", rec(init_mac2, UNDER_LOAD))
    write("handshake_responder", "then_data", rec(init) + rec(data))
    write("handshake_responder", "bad_mac1", rec(init[:120] + bytes(28)))

    write("handshake_initiator", "response", rec(resp))
    write("handshake_initiator", "response_fixmac", rec(resp, FIX_MAC1))
    write("handshake_initiator", "response_twice", rec(resp) + rec(resp, 0, 1))
    write("handshake_initiator", "cookie_then_response", rec(cookie) + rec(resp, 0, 60))
    write("handshake_initiator", "cookie_twice", rec(cookie) + rec(cookie))
    write("handshake_initiator", "response_then_data", rec(resp) + rec(data))


if __name__ == "__main__":
    main()
