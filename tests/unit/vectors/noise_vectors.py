#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""
Known answers for vwire's WireGuard handshake, computed independently of the C
code: Python's hashlib (BLAKE2s), hmac, and the `cryptography` package
(X25519, ChaCha20-Poly1305) following the whitepaper's section 5.4 step by step.
XChaCha20-Poly1305 is HChaCha20 (written out below) + ChaCha20-Poly1305.

    python3 tests/unit/vectors/noise_vectors.py > tests/unit/vectors/noise_vectors.h

test_noise.c feeds the same fixed keys, ephemerals, indexes and timestamp to
src/tunnel and compares every byte.
"""
import hashlib
import hmac
import struct
import sys

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives import serialization

CONSTRUCTION = b"Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s"
IDENTIFIER = b"WireGuard v1 zx2c4 Jason@zx2c4.com"
LABEL_MAC1 = b"mac1----"
LABEL_COOKIE = b"cookie--"


def HASH(b):
    return hashlib.blake2s(b).digest()


def MAC(key, b):
    return hashlib.blake2s(b, key=key, digest_size=16).digest()


def HMAC(key, b):
    return hmac.new(key, b, hashlib.blake2s).digest()


def KDF(n, key, inp):
    prk = HMAC(key, inp)
    out, t = [], b""
    for i in range(1, n + 1):
        t = HMAC(prk, t + bytes([i]))
        out.append(t)
    return out


def clamp(k):
    k = bytearray(k)
    k[0] &= 248
    k[31] = (k[31] & 127) | 64
    return bytes(k)


def pub(priv):
    return X25519PrivateKey.from_private_bytes(priv).public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def DH(priv, pubkey):
    return X25519PrivateKey.from_private_bytes(priv).exchange(
        X25519PublicKey.from_public_bytes(pubkey))


def AEAD(key, counter, plain, ad):
    return ChaCha20Poly1305(key).encrypt(b"\0" * 4 + struct.pack("<Q", counter), plain, ad)


def rotl(v, c):
    return ((v << c) & 0xffffffff) | (v >> (32 - c))


def hchacha20(key, nonce16):
    s = [0x61707865, 0x3320646e, 0x79622d32, 0x6b206574]
    s += list(struct.unpack("<8I", key)) + list(struct.unpack("<4I", nonce16))

    def qr(a, b, c, d):
        s[a] = (s[a] + s[b]) & 0xffffffff; s[d] = rotl(s[d] ^ s[a], 16)
        s[c] = (s[c] + s[d]) & 0xffffffff; s[b] = rotl(s[b] ^ s[c], 12)
        s[a] = (s[a] + s[b]) & 0xffffffff; s[d] = rotl(s[d] ^ s[a], 8)
        s[c] = (s[c] + s[d]) & 0xffffffff; s[b] = rotl(s[b] ^ s[c], 7)

    for _ in range(10):
        qr(0, 4, 8, 12); qr(1, 5, 9, 13); qr(2, 6, 10, 14); qr(3, 7, 11, 15)
        qr(0, 5, 10, 15); qr(1, 6, 11, 12); qr(2, 7, 8, 13); qr(3, 4, 9, 14)
    return struct.pack("<8I", *(s[0:4] + s[12:16]))


def XAEAD(key, nonce24, plain, ad):
    sub = hchacha20(key, nonce24[:16])
    return ChaCha20Poly1305(sub).encrypt(b"\0" * 4 + nonce24[16:], plain, ad)


def tai64n(unix_ns):
    sec, nsec = divmod(unix_ns, 10**9)
    return struct.pack(">QI", 2**62 + sec, nsec & ~((1 << 24) - 1))


def seed(label):
    return HASH(b"vwire test vector " + label)


# Fixed inputs. The C test does not recompute them: it includes the bytes
# from the generated header, so this file is their only source.
S_priv_i = clamp(seed(b"static initiator"))
S_priv_r = clamp(seed(b"static responder"))
E_priv_i = clamp(seed(b"ephemeral initiator"))
E_priv_r = clamp(seed(b"ephemeral responder"))
PSK = seed(b"preshared key")
S_pub_i, S_pub_r = pub(S_priv_i), pub(S_priv_r)
SENDER_I, SENDER_R = 0x11223344, 0x55667788
WALL_NS = 1700000000123456789
TIMESTAMP = tai64n(WALL_NS)
COOKIE_SECRET = seed(b"cookie secret")
COOKIE_NONCE = seed(b"cookie nonce")[:24]
SRC_ADDR, SRC_PORT = bytes([192, 0, 2, 1]), 51820
PLAINTEXT = bytes.fromhex("4500001c000000004011000a0a0000020a0000010035003500080000")  # 28-byte IPv4/UDP


def handshake(psk):
    out = {}
    C = HASH(CONSTRUCTION)
    H = HASH(C + IDENTIFIER)
    out["initial_ck"], out["initial_hash"] = C, H
    # Initiator -> responder
    H = HASH(H + S_pub_r)
    E_pub_i = pub(E_priv_i)
    C = KDF(1, C, E_pub_i)[0]
    H = HASH(H + E_pub_i)
    C, k = KDF(2, C, DH(E_priv_i, S_pub_r))
    enc_static = AEAD(k, 0, S_pub_i, H)
    H = HASH(H + enc_static)
    C, k = KDF(2, C, DH(S_priv_i, S_pub_r))
    enc_ts = AEAD(k, 0, TIMESTAMP, H)
    H = HASH(H + enc_ts)
    init = struct.pack("<I", 1) + struct.pack("<I", SENDER_I) + E_pub_i + enc_static + enc_ts
    mac1 = MAC(HASH(LABEL_MAC1 + S_pub_r), init)
    init_nomac2 = init + mac1 + b"\0" * 16
    assert len(init_nomac2) == 148
    out["initiation"] = init_nomac2
    # Responder -> initiator
    E_pub_r = pub(E_priv_r)
    C = KDF(1, C, E_pub_r)[0]
    H = HASH(H + E_pub_r)
    C = KDF(1, C, DH(E_priv_r, E_pub_i))[0]
    C = KDF(1, C, DH(E_priv_r, S_pub_i))[0]
    C, tau, k = KDF(3, C, psk)
    H = HASH(H + tau)
    enc_nothing = AEAD(k, 0, b"", H)
    H = HASH(H + enc_nothing)
    resp = struct.pack("<III", 2, SENDER_R, SENDER_I) + E_pub_r + enc_nothing
    resp += MAC(HASH(LABEL_MAC1 + S_pub_i), resp) + b"\0" * 16
    assert len(resp) == 92
    out["response"] = resp
    T_send_i, T_recv_i = KDF(2, C, b"")
    out["t_send_i"], out["t_recv_i"] = T_send_i, T_recv_i
    # First data message from the initiator: counter 0, padded to 16.
    padded = PLAINTEXT + b"\0" * ((-len(PLAINTEXT)) % 16)
    out["data"] = struct.pack("<IIQ", 4, SENDER_R, 0) + AEAD(T_send_i, 0, padded, b"")
    # Cookie for 192.0.2.1:51820, the reply to the initiation, and its mac2.
    cookie = MAC(COOKIE_SECRET, SRC_ADDR + struct.pack(">H", SRC_PORT))
    out["cookie"] = cookie
    reply = struct.pack("<II", 3, SENDER_I) + COOKIE_NONCE
    reply += XAEAD(HASH(LABEL_COOKIE + S_pub_r), COOKIE_NONCE, cookie, mac1)
    assert len(reply) == 64
    out["cookie_reply"] = reply
    out["initiation_mac2"] = MAC(cookie, init_nomac2[:132])
    return out


def c_array(name, b):
    lines = []
    for i in range(0, len(b), 12):
        lines.append("\t" + " ".join("0x%02x," % x for x in b[i:i + 12]))
    return "static const uint8_t %s[%d] = {\n%s\n};\n" % (name, len(b), "\n".join(lines))


def main():
    w = sys.stdout.write
    w("/* SPDX-License-Identifier: MIT */\n")
    w("/* Generated by noise_vectors.py: independent known answers. Do not edit. */\n")
    w("#ifndef VW_TEST_NOISE_VECTORS_H\n#define VW_TEST_NOISE_VECTORS_H\n")
    w("#include <stdint.h>\n\n")
    for name, val in [("s_priv_i", S_priv_i), ("s_priv_r", S_priv_r), ("s_pub_i", S_pub_i),
                      ("s_pub_r", S_pub_r), ("e_priv_i", E_priv_i), ("e_priv_r", E_priv_r),
                      ("psk", PSK), ("timestamp", TIMESTAMP), ("cookie_secret", COOKIE_SECRET),
                      ("cookie_nonce", COOKIE_NONCE), ("plaintext", PLAINTEXT)]:
        w("static const uint8_t kat_%s[%d] = {" % (name, len(val)) + ", ".join(
            "0x%02x" % x for x in val) + "};\n")
    w("#define KAT_SENDER_I 0x%08xu\n#define KAT_SENDER_R 0x%08xu\n" % (SENDER_I, SENDER_R))
    w("#define KAT_WALL_NS %dULL\n" % WALL_NS)
    w("#define KAT_SRC_ADDR \"%s\"\n#define KAT_SRC_PORT %d\n\n" % (
        ".".join(str(x) for x in SRC_ADDR), SRC_PORT))
    for suffix, psk in [("nopsk", b"\0" * 32), ("psk", PSK)]:
        out = handshake(psk)
        if suffix == "nopsk":
            w(c_array("kat_initial_ck", out["initial_ck"]))
            w(c_array("kat_initial_hash", out["initial_hash"]))
        for k in ["initiation", "response", "t_send_i", "t_recv_i", "data", "cookie",
                  "cookie_reply", "initiation_mac2"]:
            w(c_array("kat_%s_%s" % (k, suffix), out[k]))
        w("\n")
    w("#endif\n")


if __name__ == "__main__":
    main()
