#!/usr/bin/env python3
"""Generates pairwise_v2.json: known answers for docs/protocol.md's
derivations, computed here independently of the C++ code (Python's hashlib and
hmac, and a GF(2^8) written from FIPS 197's field definition).

    python3 tests/vectors/pairwise_v2.py > tests/vectors/pairwise_v2.json
"""
import hashlib
import hmac
import json
import struct


def lp16(s):
    b = s.encode()
    return struct.pack(">H", len(b)) + b


def hkdf_expand_sha384(prk, info, length):
    out, block, i = b"", b"", 1
    while len(out) < length:
        block = hmac.new(prk, block + info + bytes([i]), hashlib.sha384).digest()
        out += block
        i += 1
    return out[:length]


def hkdf_sha384(salt, ikm, info, length):
    prk = hmac.new(salt or b"\0" * 48, ikm, hashlib.sha384).digest()
    return hkdf_expand_sha384(prk, info, length)


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


# RFC 7748 §6.1: Alice's and Bob's X25519 public keys and their shared
# secret, as the hybrid case's P_A, P_B and X25519 output.
RFC7748_ALICE_PUBLIC = bytes.fromhex("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a")
RFC7748_BOB_PUBLIC = bytes.fromhex("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f")
RFC7748_SHARED = bytes.fromhex("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742")


def pair_info(a, b, hubs, k, expires, epoch):
    """K_AB's HKDF info, protocol version 2: it binds the expiry and the
    session epoch as well as the parties, the hub set and k."""
    hubs = sorted(hubs)
    n = len(hubs)
    info = b"skap v2 pair" + struct.pack(">QQ", expires, epoch) + lp16(a) + lp16(b) + bytes([n])
    return info + b"".join(lp16(h) for h in hubs) + bytes([k, n])


def case(name, sid, a, b, hubs, k, expires, epoch, s_a, s_b, hybrid=False):
    hubs = sorted(hubs)
    info = pair_info(a, b, hubs, k, expires, epoch)
    p_a = RFC7748_ALICE_PUBLIC if hybrid else b""
    p_b = RFC7748_BOB_PUBLIC if hybrid else b""
    th = hashlib.sha384(b"skap v1 transcript" + sid + struct.pack(">QQ", expires, epoch)
                        + info + p_a).digest()
    key = hkdf_sha384(sid, s_a + s_b, info, 32)
    out = {}
    if hybrid:
        out = {"initiator_x25519": p_a.hex(), "responder_x25519": p_b.hex(),
               "x25519_shared": RFC7748_SHARED.hex(), "pair_key": key.hex()}
        key = hkdf_sha384(key, RFC7748_SHARED, b"skap v1 hybrid" + p_a + p_b, 32)
        out["hybrid_key"] = key.hex()
    tag = lambda role: hmac.new(key, b"skap v1 confirm" + role + th + p_b,
                                hashlib.sha384).digest()
    return out | {
        "name": name, "sid": sid.hex(), "initiator": a, "responder": b, "hub_set": hubs,
        "threshold": k, "expires_at_ms": expires, "session_epoch": epoch,
        "initiator_secret": s_a.hex(),
        "responder_secret": s_b.hex(), "info": info.hex(), "transcript_hash": th.hex(),
        "pair_key": out.get("pair_key", key.hex()), "initiator_tag": tag(b"initiator").hex(),
        "responder_tag": tag(b"responder").hex(),
    }


def key_id(tag, epoch, direction, index):
    b = bytearray(tag[:8]) + struct.pack(">II", epoch, (direction << 31) | index)
    b[6] = 0x80 | (b[6] & 0x0F)
    b[8] = 0x80 | (b[8] & 0x3F)
    h = b.hex()
    return "-".join([h[0:8], h[8:12], h[12:16], h[16:20], h[20:32]])


def session(pair_keys):
    """Epoch e from the e-th pair key; three consumer keys of each chain
    (direction d = 0 and 1) of each epoch."""
    epochs, root = [], b""
    for e, pair_key in enumerate(pair_keys, start=1):
        root = hmac.new(root or b"\0" * 48, pair_key, hashlib.sha384).digest()
        tag = hmac.new(root, b"skap v1 key id", hashlib.sha384).digest()[:8]
        keys = []
        for d in (0, 1):
            info = b"skap v1 chain" + struct.pack(">QB", e, d)
            chain = hkdf_expand_sha384(root, info, 48)
            for j in range(3):
                mk = hmac.new(chain, b"\x01", hashlib.sha384).digest()
                keys.append({"direction": d, "index": j, "key_id": key_id(tag, e, d, j),
                             "key": mk[:32].hex()})
                chain = hmac.new(chain, b"\x02", hashlib.sha384).digest()
        ppk = hkdf_expand_sha384(root, b"skap v1 ppk" + struct.pack(">Q", e), 32)
        epochs.append({"epoch": e, "pair_key": pair_key.hex(), "root_key": root.hex(),
                       "key_id_tag": tag.hex(), "keys": keys, "ppk": ppk.hex(),
                       "peer": peer_channel(root, e, "device-a", "device-b", 7)})
    return epochs


def peer_channel(root, e, a, b, counter):
    """The peer channel's keys of epoch e between devices a < b, and what
    a seals its message `counter` with (docs/peer.md)."""
    ps = hkdf_expand_sha384(root, b"skap v1 peer" + struct.pack(">Q", e), 32)
    seal = hkdf_expand_sha384(ps, b"skap v1 peer seal", 32)
    topic = hkdf_expand_sha384(ps, b"skap v1 peer topic", 32)
    direct = hkdf_expand_sha384(ps, b"skap v1 peer direct", 32)

    def pseudonym(purpose, device):
        return hmac.new(topic, purpose + device.encode(), hashlib.sha256).digest()[:16].hex()

    return {"a": a, "b": b, "secret": ps.hex(), "seal_key": seal.hex(), "direct_psk": direct.hex(),
            "inbox_a": pseudonym(b"inbox", a), "inbox_b": pseudonym(b"inbox", b),
            "identity_a": pseudonym(b"direct", a), "identity_b": pseudonym(b"direct", b),
            "counter": counter,
            "nonce_a": (struct.pack(">I", 0) + struct.pack(">Q", counter)).hex(),
            "nonce_b": (struct.pack(">I", 1) + struct.pack(">Q", counter)).hex(),
            "aad_a": (b"skap v1 peer" + lp16(a) + struct.pack(">QQ", e, counter)).hex()}


def refusal(peer_secret, refused_th, responder_epoch, kind, reason):
    """A responder's refusal MAC under its session's PS_e (protocol v2)."""
    key = hkdf_expand_sha384(peer_secret, b"skap v2 refusal", 32)
    message = refused_th + struct.pack(">QB", responder_epoch, kind)
    message += struct.pack(">I", len(reason.encode())) + reason.encode()
    return {"peer_secret": peer_secret.hex(), "refused_transcript": refused_th.hex(),
            "responder_epoch": responder_epoch, "kind": kind, "reason": reason,
            "mac": hmac.new(key, message, hashlib.sha384).digest().hex()}


def share_mac(previous_peer_secret, sender_role, th, index, y):
    """A re-seed's share MAC under PS_{e-1} (protocol v2)."""
    key = hkdf_expand_sha384(previous_peer_secret, b"skap v2 share mac", 32)
    mac = hmac.new(key, sender_role + th + bytes([index]) + y, hashlib.sha384).digest()
    return {"previous_peer_secret": previous_peer_secret.hex(), "sender": sender_role.decode(),
            "transcript_hash": th.hex(), "index": index, "share": y.hex(), "mac": mac.hex()}


def share_checks(sid, shares):
    """A first agreement's share check values (sent with each share)."""
    return {"sid": sid.hex(), "shares": {str(x): y.hex() for x, y in shares.items()},
            "checks": {str(x): hashlib.sha256(b"skap v1 share check" + sid + bytes([x]) + y)
                       .hexdigest() for x, y in shares.items()}}


def main():
    s_a = bytes(range(1, 33))
    s_b = bytes(range(0xA0, 0xC0))
    cases = [
        case("one hub", bytes(16), "device-a", "device-b", ["hub-1"], 1, 1_800_000_000_000,
             1, s_a, s_b),
        case("2 of 3", bytes(range(16)), "3f1c0f4e-8a7d-4a55-9c43-0d0a9f1e2b6c",
             "9b2e6a10-77c4-4e0b-8d2f-51b8c3a9e004", ["hub-c", "hub-a", "hub-b"], 2,
             1_800_000_060_000, 2, s_a, s_b),
        case("2 of 3, hybrid", bytes(range(16, 32)), "3f1c0f4e-8a7d-4a55-9c43-0d0a9f1e2b6c",
             "9b2e6a10-77c4-4e0b-8d2f-51b8c3a9e004", ["hub-c", "hub-a", "hub-b"], 2,
             1_800_000_120_000, 3, s_a, s_b, hybrid=True),
    ]
    coefficients = [bytes((7 * i + 3) & 0xFF for i in range(32)),
                    bytes((11 * i + 5) & 0xFF for i in range(32))]
    shares = shamir_shares(s_a, coefficients, [1, 2, 3, 4, 5])
    epochs = session([bytes.fromhex(c["pair_key"]) for c in cases[:2]])
    json.dump({
        "source": "tests/vectors/pairwise_v2.py (independent of the C++ code)",
        "cases": cases,
        "session": epochs,
        "refusal": refusal(bytes.fromhex(epochs[0]["peer"]["secret"]),
                           bytes.fromhex(cases[1]["transcript_hash"]), 1, 1,
                           "session epoch mismatch: the responder is at epoch 1"),
        # The 2-of-3 case is a re-seed (epoch 2): its shares are MACed under
        # epoch 1's PS_e; hub 1 carries the Shamir vector's share x = 1.
        "share_mac": share_mac(bytes.fromhex(epochs[0]["peer"]["secret"]), b"initiator",
                               bytes.fromhex(cases[1]["transcript_hash"]), 1, shares[1]),
        # A first agreement's check values of the Shamir vector's shares,
        # under the one-hub case's sid.
        "share_checks": share_checks(bytes(16), shares),
        "shamir": {"threshold": 3, "secret": s_a.hex(),
                   "shares": {str(x): y.hex() for x, y in shares.items()}},
    }, fp=__import__("sys").stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
