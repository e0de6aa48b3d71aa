#!/usr/bin/env python3
"""What coalitions of hubs can rebuild of an agreed key.

Reads the shares each hub held (hub_shares output, one file per hub) and the
first key the initiator handed out of the session the agreement made
(key_{1,d,0}, d the initiator's chain), then for every coalition of hubs:
  - k or more hubs rebuild S_A and S_B, then K_AB and the key: the honest
    limit, and proof that the shares read are the real ones; unless the
    agreement was hybrid: then the key also needs the endpoints' X25519
    secret, and even all the hubs together do not get it;
  - k - 1 hubs cannot: completed with guessed shares for a missing hub, they
    give other keys every time (k - 1 shares are independent of the secret).
Written apart from the C++: GF(2^8) and HKDF come from
tests/vectors/pairwise_v2.py.

usage: reconstruct.py KEY_HEX SID_HEX HUB_SHARES_FILE...
"""
import hashlib
import hmac
import itertools
import json
import os
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "vectors"))
import pairwise_v2 as v  # noqa: E402


def gf_inv(a):
    r = 1
    for _ in range(254):
        r = v.gf_mul(r, a)
    return r


def rebuild(points):
    """f(0) for every byte from {x: y} (Lagrange over GF(2^8))."""
    out = bytearray(32)
    for xi, yi in points.items():
        c = 1
        for xj in points:
            if xj != xi:
                c = v.gf_mul(c, v.gf_mul(xj, gf_inv(xj ^ xi)))
        for b in range(32):
            out[b] ^= v.gf_mul(yi[b], c)
    return bytes(out)


def first_key(h, sid, s_a, s_b):
    """key_{1,d,0} of the session an epoch-1 agreement makes, d the chain the
    initiator hands out (docs/protocol.md)."""
    hubs = h["hub_set"]
    k = h["threshold"]
    info = v.pair_info(h["initiator"], h["responder"], hubs, k, h["expires_at_ms"],
                       h["session_epoch"])
    pair_key = v.hkdf_sha384(sid, s_a + s_b, info, 32)
    root = hmac.new(b"\0" * 48, pair_key, hashlib.sha384).digest()
    d = 0 if h["initiator"].encode() < h["responder"].encode() else 1
    chain = v.hkdf_expand_sha384(root, b"skap v1 chain" + struct.pack(">QB", 1, d), 48)
    return hmac.new(chain, b"\x01", hashlib.sha384).digest()[:32]


def main():
    key, sid_hex, files = bytes.fromhex(sys.argv[1]), sys.argv[2], sys.argv[3:]
    held = []  # per hub: the lines of this agreement
    for name in files:
        with open(name) as f:
            held.append([json.loads(l) for l in f if json.loads(l)["sid"] == sid_hex])
    header = next(line for lines in held for line in lines)
    assert header["session_epoch"] == 1, "the check derives key_{1,0}"
    k, sid = header["threshold"], bytes.fromhex(sid_hex)
    hybrid = header["initiator_x25519"] != ""
    failures = 0

    def shares(coalition, sender):
        return {l["x"]: bytes.fromhex(l["y"]) for i in coalition for l in held[i]
                if l["sender"] == sender}

    for size in range(1, len(files) + 1):
        for coalition in itertools.combinations(range(len(files)), size):
            a = shares(coalition, header["initiator"])
            b = shares(coalition, header["responder"])
            names = "+".join(str(i + 1) for i in coalition)
            if len(a) >= k and len(b) >= k:
                pick = lambda s: dict(list(s.items())[:k])
                rebuilt = first_key(header, sid, rebuild(pick(a)), rebuild(pick(b))) == key
                ok = rebuilt != hybrid
                print(("ok" if ok else "not ok") + f" - hubs {names} ({size} >= k = {k}) " +
                      ("pool their shares and still miss the hybrid key" if hybrid else
                       "rebuild the key: the honest limit"))
                failures += not ok
            elif size == k - 1:
                missing = next(x for x in range(1, len(header["hub_set"]) + 1) if x not in a)
                keys = set()
                for _ in range(8):
                    guess_a = {**a, missing: os.urandom(32)}
                    guess_b = {**b, missing: os.urandom(32)}
                    keys.add(first_key(header, sid, rebuild(guess_a), rebuild(guess_b)))
                ok = key not in keys and len(keys) == 8
                print(("ok" if ok else "not ok") +
                      f" - hubs {names} ({size} = k - 1): 8 guessed completions, 8 other keys")
                failures += not ok
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
