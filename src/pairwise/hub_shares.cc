#include "pairwise/hub_shares.h"

#include <algorithm>
#include <iterator>

#include "common/ct.h"
#include "crypto/hash.h"
#include "crypto/shamir.h"

namespace skap::pairwise {
namespace {

crypto::Share ToShare(const AgreementParams& params, unsigned index, const SecretBytes& y) {
  crypto::Share share;
  std::copy_n(params.sid.begin(), share.set_id.size(), share.set_id.begin());
  share.threshold = static_cast<std::uint8_t>(params.threshold);
  share.index = static_cast<std::uint8_t>(index);
  share.value = y.Clone();
  return share;
}

// Rebuild returns f(0) from exactly k shares.
Result<SecretBytes> Rebuild(const AgreementParams& params,
                            const std::map<unsigned, SecretBytes>& shares,
                            std::span<const unsigned> subset) {
  if (params.threshold == 1) return shares.at(subset[0]).Clone();
  std::vector<crypto::Share> picked;
  picked.reserve(subset.size());
  for (unsigned index : subset) picked.push_back(ToShare(params, index, shares.at(index)));
  return crypto::CombineShares(picked);
}

// Consistent reports whether share `index` lies on the polynomial that
// `subset` (k shares rebuilding `secret`) defines.
bool Consistent(const AgreementParams& params, const std::map<unsigned, SecretBytes>& shares,
                std::span<const unsigned> subset, const SecretBytes& secret, unsigned index) {
  if (params.threshold == 1) return ct::Equal(shares.at(index).Expose(), secret.Expose());
  std::vector<crypto::Share> picked;
  for (unsigned i : subset) picked.push_back(ToShare(params, i, shares.at(i)));
  picked.push_back(ToShare(params, index, shares.at(index)));
  return static_cast<bool>(crypto::CombineShares(picked));
}

// NextSubset advances `subset` (ascending positions into a list of `size`)
// to the next k-combination in lexicographic order; false after the last.
bool NextSubset(std::vector<std::size_t>& subset, std::size_t size) {
  const std::size_t k = subset.size();
  for (std::size_t i = k; i-- > 0;) {
    if (subset[i] < size - k + i) {
      ++subset[i];
      for (std::size_t j = i + 1; j < k; ++j) subset[j] = subset[j - 1] + 1;
      return true;
    }
  }
  return false;
}

constexpr std::string_view kShareCheckLabel = "skap v1 share check";

}  // namespace

Result<ShareCheckValue> ShareCheck(const AgreementParams& params, unsigned index,
                                   std::span<const std::uint8_t> y) {
  std::vector<std::uint8_t> input(kShareCheckLabel.begin(), kShareCheckLabel.end());
  input.insert(input.end(), params.sid.begin(), params.sid.end());
  input.push_back(static_cast<std::uint8_t>(index));
  input.insert(input.end(), y.begin(), y.end());
  auto digest = crypto::Digest(crypto::Hash::kSha256, input);
  SecureWipe(input.data(), input.size());
  return digest;
}

Result<std::map<unsigned, ShareCheckValue>> MissingShareChecks(
    const AgreementParams& params, const std::map<unsigned, SecretBytes>& shares,
    const std::vector<unsigned>& support) {
  if (support.size() < params.threshold) {
    return Unexpected(ErrorCode::kInvalidArgument, "checks need k consistent shares");
  }
  std::vector<crypto::Share> basis;
  for (std::size_t i = 0; i < params.threshold; ++i) {
    basis.push_back(ToShare(params, support[i], shares.at(support[i])));
  }
  std::map<unsigned, ShareCheckValue> out;
  for (unsigned index = 1; index <= params.hub_count(); ++index) {
    if (shares.contains(index)) continue;
    // With k = 1 every hub carries the secret itself.
    SKAP_ASSIGN_OR_RETURN(auto expected,
                          params.threshold == 1
                              ? Result<SecretBytes>(basis[0].value.Clone())
                              : crypto::InterpolateShares(basis, static_cast<std::uint8_t>(index)));
    SKAP_ASSIGN_OR_RETURN(out[index], ShareCheck(params, index, expected.Expose()));
  }
  return out;
}

Result<std::vector<SecretBytes>> SplitForHubs(std::span<const std::uint8_t> secret,
                                              unsigned threshold, unsigned hub_count,
                                              crypto::Rng& rng) {
  if (secret.size() != kSecretBytes || threshold < 1 || threshold > hub_count ||
      hub_count > kMaxHubs) {
    return Unexpected(ErrorCode::kInvalidArgument, "split: bad secret size or k-of-n");
  }
  std::vector<SecretBytes> out;
  out.reserve(hub_count);
  if (threshold == 1) {
    for (unsigned i = 0; i < hub_count; ++i) out.push_back(SecretBytes::Copy(secret));
    return out;
  }
  SKAP_ASSIGN_OR_RETURN(auto shares, crypto::SplitSecret(secret, threshold, hub_count, rng));
  for (auto& share : shares) out.push_back(std::move(share.value));
  return out;
}

Result<std::vector<Candidate>> RebuildCandidates(const AgreementParams& params,
                                                 const std::map<unsigned, SecretBytes>& shares) {
  SKAP_RETURN_IF_ERROR(params.Validate());
  std::vector<Candidate> candidates;
  const std::size_t k = params.threshold;
  if (shares.size() < k) return candidates;
  std::vector<unsigned> indices;
  for (const auto& [index, y] : shares) {
    if (index < 1 || index > params.hub_count() || y.size() != kSecretBytes) {
      return Unexpected(ErrorCode::kInvalidArgument, "rebuild: share out of range");
    }
    indices.push_back(index);
  }
  std::vector<std::size_t> positions(k);
  for (std::size_t i = 0; i < k; ++i) positions[i] = i;
  std::vector<unsigned> subset(k);
  do {
    for (std::size_t i = 0; i < k; ++i) subset[i] = indices[positions[i]];
    SKAP_ASSIGN_OR_RETURN(auto secret, Rebuild(params, shares, subset));
    const auto known = std::find_if(candidates.begin(), candidates.end(), [&](const Candidate& c) {
      return ct::Equal(c.secret.Expose(), secret.Expose());
    });
    if (known != candidates.end()) {
      std::vector<unsigned> merged;
      std::set_union(known->rebuilt_by.begin(), known->rebuilt_by.end(), subset.begin(),
                     subset.end(), std::back_inserter(merged));
      known->rebuilt_by = std::move(merged);
      continue;
    }
    Candidate candidate;
    for (unsigned index : indices) {
      const bool in_subset = std::find(subset.begin(), subset.end(), index) != subset.end();
      if (in_subset || Consistent(params, shares, subset, secret, index)) {
        candidate.support.push_back(index);
      }
    }
    candidate.secret = std::move(secret);
    candidate.rebuilt_by = candidate.support;
    candidates.push_back(std::move(candidate));
  } while (NextSubset(positions, indices.size()));
  std::stable_sort(
      candidates.begin(), candidates.end(),
      [](const Candidate& a, const Candidate& b) { return a.support.size() > b.support.size(); });
  return candidates;
}

}  // namespace skap::pairwise
