#include "crypto/shamir.h"

#include <string>

#include "crypto/gf256.h"

namespace skap::crypto {
namespace {

constexpr std::size_t kMaxSecretSize = 65535;

// LagrangeWeights returns, for the points `xs`, the weights w_i with
// f(target) = sum_i w_i * f(xs[i]) for every polynomial f of degree < xs.size().
// The points are public (share indices), but the arithmetic is constant time
// anyway so no variant of this code can start to leak.
std::vector<std::uint8_t> LagrangeWeights(std::span<const std::uint8_t> xs, std::uint8_t target) {
  std::vector<std::uint8_t> weights(xs.size());
  for (std::size_t i = 0; i < xs.size(); ++i) {
    std::uint8_t numerator = 1;
    std::uint8_t denominator = 1;
    for (std::size_t j = 0; j < xs.size(); ++j) {
      if (j == i) continue;
      numerator = gf256::Mul(numerator, gf256::Add(target, xs[j]));
      denominator = gf256::Mul(denominator, gf256::Add(xs[i], xs[j]));
    }
    weights[i] = gf256::Div(numerator, denominator);
  }
  return weights;
}

std::string Describe(const Share& share) { return "share " + std::to_string(share.index); }

}  // namespace

Result<std::vector<Share>> SplitSecret(std::span<const std::uint8_t> secret, unsigned threshold,
                                       unsigned share_count, Rng& rng) {
  if (secret.empty() || secret.size() > kMaxSecretSize) {
    return Unexpected(ErrorCode::kInvalidArgument, "secret to split must be 1..65535 bytes");
  }
  if (threshold < 2) {
    return Unexpected(ErrorCode::kInvalidArgument,
                      "threshold must be at least 2 (with 1, every share would be the secret)");
  }
  if (share_count < threshold || share_count > kMaxShares) {
    return Unexpected(ErrorCode::kInvalidArgument,
                      "share count must be between the threshold and 255");
  }
  ShareSetId set_id{};
  SKAP_RETURN_IF_ERROR(rng.Fill(set_id));
  // coefficients[b * (k-1) + m] is the coefficient of x^(m+1) for secret byte b.
  const std::size_t degree = threshold - 1;
  SecretBytes coefficients(secret.size() * degree);
  SKAP_RETURN_IF_ERROR(rng.Fill(coefficients.MutableExpose()));
  const auto coeff = coefficients.Expose();

  std::vector<Share> shares;
  shares.reserve(share_count);
  for (unsigned i = 1; i <= share_count; ++i) {
    const auto x = static_cast<std::uint8_t>(i);
    Share share{set_id, static_cast<std::uint8_t>(threshold), x, SecretBytes(secret.size())};
    auto y = share.value.MutableExpose();
    for (std::size_t b = 0; b < secret.size(); ++b) {
      // Horner: ((a_{k-1} x + a_{k-2}) x + ... + a_1) x + secret.
      std::uint8_t acc = 0;
      for (std::size_t m = degree; m > 0; --m) {
        acc = gf256::Add(gf256::Mul(acc, x), coeff[b * degree + m - 1]);
      }
      y[b] = gf256::Add(gf256::Mul(acc, x), secret[b]);
    }
    shares.push_back(std::move(share));
  }
  return shares;
}

namespace {

// CheckShares makes the checks every combination needs: one split, one
// threshold and length, distinct nonzero indices, and at least k shares.
Result<void> CheckShares(std::span<const Share> shares) {
  if (shares.empty()) {
    return Unexpected(ErrorCode::kInvalidArgument, "no shares given");
  }
  const Share& first = shares.front();
  std::array<bool, 256> seen{};
  for (const Share& share : shares) {
    if (share.set_id != first.set_id) {
      return Unexpected(ErrorCode::kInvalidArgument,
                        Describe(share) + " belongs to a different split than " + Describe(first));
    }
    if (share.threshold != first.threshold) {
      return Unexpected(ErrorCode::kInvalidArgument,
                        Describe(share) + " has threshold " + std::to_string(share.threshold) +
                            ", not " + std::to_string(first.threshold));
    }
    if (share.value.size() != first.value.size() || share.value.empty()) {
      return Unexpected(ErrorCode::kInvalidArgument, Describe(share) + " has a different length");
    }
    if (share.index == 0) {
      return Unexpected(ErrorCode::kInvalidArgument, "share index 0 is not valid");
    }
    if (seen[share.index]) {
      return Unexpected(ErrorCode::kInvalidArgument,
                        "share " + std::to_string(share.index) + " given twice");
    }
    seen[share.index] = true;
  }
  const std::size_t threshold = first.threshold;
  if (threshold < 2 || shares.size() < threshold) {
    return Unexpected(
        ErrorCode::kInvalidArgument,
        "need " + std::to_string(threshold) + " shares, got " + std::to_string(shares.size()));
  }
  return Ok();
}

// Evaluate writes f(target) for every byte of the polynomials through `basis`
// (exactly k shares).
void Evaluate(std::span<const Share> basis, std::uint8_t target, std::span<std::uint8_t> out) {
  std::vector<std::uint8_t> xs;
  xs.reserve(basis.size());
  for (const Share& share : basis) xs.push_back(share.index);
  const auto weights = LagrangeWeights(xs, target);
  for (std::size_t b = 0; b < out.size(); ++b) {
    std::uint8_t acc = 0;
    for (std::size_t i = 0; i < basis.size(); ++i) {
      acc = gf256::Add(acc, gf256::Mul(weights[i], basis[i].value.Expose()[b]));
    }
    out[b] = acc;
  }
}

}  // namespace

Result<SecretBytes> InterpolateShares(std::span<const Share> shares, std::uint8_t x) {
  SKAP_RETURN_IF_ERROR(CheckShares(shares));
  SecretBytes out(shares.front().value.size());
  Evaluate(shares.first(shares.front().threshold), x, out.MutableExpose());
  return out;
}

Result<SecretBytes> CombineShares(std::span<const Share> shares) {
  SKAP_RETURN_IF_ERROR(CheckShares(shares));
  const std::size_t threshold = shares.front().threshold;
  const std::size_t length = shares.front().value.size();
  const auto basis = shares.first(threshold);
  SecretBytes secret(length);
  Evaluate(basis, 0, secret.MutableExpose());

  // Any extra share must agree with the polynomials the first k define.
  SecretBytes predicted(length);
  for (const Share& extra : shares.subspan(threshold)) {
    Evaluate(basis, extra.index, predicted.MutableExpose());
    std::uint8_t difference = 0;
    for (std::size_t b = 0; b < length; ++b) {
      difference =
          static_cast<std::uint8_t>(difference | (predicted.Expose()[b] ^ extra.value.Expose()[b]));
    }
    if (difference != 0) {
      return Unexpected(ErrorCode::kInconsistentShares,
                        Describe(extra) + " does not agree with the first " +
                            std::to_string(threshold) + " shares given");
    }
  }
  return secret;
}

}  // namespace skap::crypto
