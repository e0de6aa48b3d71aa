// Shamir secret sharing (Shamir 1979) over GF(2^8), byte by byte.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "common/result.h"
#include "common/secret_bytes.h"
#include "crypto/rng.h"

namespace skap::crypto {

// kMaxShares is the most shares one split can have: the nonzero points of
// GF(2^8).
inline constexpr unsigned kMaxShares = 255;

// ShareSetId names one split, so shares of different splits are never mixed.
using ShareSetId = std::array<std::uint8_t, 8>;

// Share is one point of each of the split's polynomials: the share's index x
// (1..255) and the values y = f_b(x) for every secret byte b.
struct Share {
  ShareSetId set_id{};
  std::uint8_t threshold = 0;  // k: how many shares rebuild the secret
  std::uint8_t index = 0;      // x: 1..n
  SecretBytes value;           // y: one byte per secret byte

  Share Clone() const { return Share{set_id, threshold, index, value.Clone()}; }
};

// SplitSecret splits `secret` (1..65535 bytes) into `share_count` shares, any
// `threshold` of which rebuild it and any fewer of which are independent of
// it (2 <= threshold <= share_count <= 255). Polynomial coefficients and the
// set id are drawn from `rng`.
Result<std::vector<Share>> SplitSecret(std::span<const std::uint8_t> secret, unsigned threshold,
                                       unsigned share_count, Rng& rng);

// InterpolateShares returns f(x), byte by byte, of the polynomials the
// first `threshold` of `shares` define (x = 0 is the secret itself), after
// the checks CombineShares makes; extra shares are not checked here.
Result<SecretBytes> InterpolateShares(std::span<const Share> shares, std::uint8_t x);

// CombineShares rebuilds the secret from at least `threshold` shares of one
// split. It refuses an empty set, shares of different splits or thresholds or
// lengths, a repeated index, and fewer than `threshold` shares, each with a
// message that says which. With more than `threshold` shares it checks that
// the extra ones lie on the same polynomials and fails with
// kInconsistentShares otherwise (a share was corrupted or altered).
Result<SecretBytes> CombineShares(std::span<const Share> shares);

}  // namespace skap::crypto
