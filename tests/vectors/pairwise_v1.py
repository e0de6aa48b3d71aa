#!/usr/bin/env python3
"""Generates pairwise_v1.json: known answers for docs/protocol.md's
derivations, computed here independently of the C++ code (Python's hashlib and
hmac, and a GF(2^8) written from FIPS 197's field definition).

    python3 tests/vectors/pairwise_v1.py > tests/vectors/pairwise_v1.json
"""
import hashlib
import hmac
import json
import struct


def lp16(s):
    b = s.encode()
    return struct.pack(">H", len(b)) + b


def hkdf_sha384(salt, ikm, info, length):
    prk = hmac.new(salt or b"\0" * 48, ikm, hashlib.sha384).digest()
    out, block, i = b"", b"", 1
    while len(out) < length:
        block = hmac.new(prk, block + info + bytes([i]), hashlib.sha384).digest()
        out += block
        i += 1
    return out[:length]


def gf_mul(a, b):
    p = 0
    for _ in range(8):
        if b & 1:
            p ^= a
        carry = a & 0x80
        a = (a << 1) & 0xFF
        if carry:
            a ^= 0x1B
        b >>= 1
    return p



def shamir_shares(secret, coefficients, xs):
    """f_b(x) = secret_b + c1_b x + c2_b x^2 + ... for every byte b."""
    shares = {}
    for x in xs:
        y = bytearray()
        for b, s in enumerate(secret):
            acc, power = s, 1
            for c in coefficients:
                power = gf_mul(power, x)
                acc ^= gf_mul(c[b], power)
            y.append(acc)
        shares[x] = bytes(y)
    return shares


def case(name, sid, a, b, hubs, k, expires, s_a, s_b):
    hubs = sorted(hubs)
    n = len(hubs)
    info = b"skap v1 pair" + lp16(a) + lp16(b) + bytes([n])
    info += b"".join(lp16(h) for h in hubs) + bytes([k, n])
    th = hashlib.sha384(b"skap v1 transcript" + sid + struct.pack(">Q", expires) + info).digest()
    key = hkdf_sha384(sid, s_a + s_b, info, 32)
    tag = lambda role: hmac.new(key, b"skap v1 confirm" + role + th, hashlib.sha384).digest()
    return {
        "name": name, "sid": sid.hex(), "initiator": a, "responder": b, "hub_set": hubs,
        "threshold": k, "expires_at_ms": expires, "initiator_secret": s_a.hex(),
        "responder_secret": s_b.hex(), "info": info.hex(), "transcript_hash": th.hex(),
        "pair_key": key.hex(), "initiator_tag": tag(b"initiator").hex(),
        "responder_tag": tag(b"responder").hex(),
    }


def main():
    s_a = bytes(range(1, 33))
    s_b = bytes(range(0xA0, 0xC0))
    cases = [
        case("one hub", bytes(16), "device-a", "device-b", ["hub-1"], 1, 1_800_000_000_000,
             s_a, s_b),
        case("2 of 3", bytes(range(16)), "3f1c0f4e-8a7d-4a55-9c43-0d0a9f1e2b6c",
             "9b2e6a10-77c4-4e0b-8d2f-51b8c3a9e004", ["hub-c", "hub-a", "hub-b"], 2,
             1_800_000_060_000, s_a, s_b),
    ]
    coefficients = [bytes((7 * i + 3) & 0xFF for i in range(32)),
                    bytes((11 * i + 5) & 0xFF for i in range(32))]
    shares = shamir_shares(s_a, coefficients, [1, 2, 3, 4, 5])
    json.dump({
        "source": "tests/vectors/pairwise_v1.py (independent of the C++ code)",
        "cases": cases,
        "shamir": {"threshold": 3, "secret": s_a.hex(),
                   "shares": {str(x): y.hex() for x, y in shares.items()}},
    }, fp=__import__("sys").stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
