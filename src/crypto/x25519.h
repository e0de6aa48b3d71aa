// X25519 (RFC 7748 §5), for the optional hybrid step of pairwise agreements
// (docs/protocol.md, "Hybrid mode"): an ephemeral Diffie-Hellman between the
// two endpoints, so that even k colluding hubs that only watch learn
// nothing of the key.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "common/result.h"
#include "common/secret_bytes.h"
#include "crypto/rng.h"

namespace skap::crypto {

// kX25519KeySize is the size of X25519 private keys, public keys and shared
// secrets.
inline constexpr std::size_t kX25519KeySize = 32;

// X25519KeyPair is an ephemeral key pair.
struct X25519KeyPair {
  SecretBytes private_key;
  std::vector<std::uint8_t> public_key;
};

// GenerateX25519 draws a private key from `rng` and computes its public key.
Result<X25519KeyPair> GenerateX25519(Rng& rng);

// X25519PublicKey computes the public key of `private_key`.
Result<std::vector<std::uint8_t>> X25519PublicKey(std::span<const std::uint8_t> private_key);

// X25519 returns the shared secret of `private_key` and `peer_public`. A
// peer key of small order, whose shared secret would be all zero, is
// refused (kAuthenticationFailed; RFC 7748 §6.1 allows the check).
Result<SecretBytes> X25519(std::span<const std::uint8_t> private_key,
                           std::span<const std::uint8_t> peer_public);

}  // namespace skap::crypto
