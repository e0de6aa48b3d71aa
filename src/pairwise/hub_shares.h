// Splitting a contribution over the hubs and rebuilding it from what arrives.
//
// Hub i (1-based, in the sorted hub set) carries share x = i: the 32 bytes
// y_i = f(i) of a Shamir split over GF(2^8) with threshold k (crypto/shamir.h).
// With k = 1 every hub carries the secret itself, which is what trusting a
// single hub means. Only y travels: x is the hub's position and the split is
// named by the agreement's sid, so nothing else can be mixed in.
#pragma once

#include <map>
#include <vector>

#include "common/result.h"
#include "common/secret_bytes.h"
#include "crypto/rng.h"
#include "pairwise/agreement_params.h"

namespace skap::pairwise {

// SplitForHubs returns y_1 … y_n for `secret` (kSecretBytes).
Result<std::vector<SecretBytes>> SplitForHubs(std::span<const std::uint8_t> secret,
                                              unsigned threshold, unsigned hub_count,
                                              crypto::Rng& rng);

// ShareCheckValue is a one-way check value of one hub's share (SHA-256).
using ShareCheckValue = std::vector<std::uint8_t>;
inline constexpr std::size_t kShareCheckBytes = 32;

// Candidate is one value that some k-subset of the received shares rebuilds,
// with the hub indices that support it (every share consistent with it).
struct Candidate {
  SecretBytes secret;
  std::vector<unsigned> support;  // ascending hub indices
  // rebuilt_by is every hub of some k-subset that rebuilds this value
  // (ascending). It equals `support` unless shares on another polynomial
  // rebuild the same value too (hubs that chose their offsets together):
  // then which polynomial is the sender's cannot be told from the shares.
  std::vector<unsigned> rebuilt_by;
  // checks are the sender's check values of its n shares (ShareCheck) that
  // `support` was verified by, if it was (a first agreement's): then
  // `support` is exactly the shares the sender made.
  std::vector<ShareCheckValue> checks;
};

// RebuildCandidates returns the distinct values rebuilt by every k-subset
// of `shares` (hub index -> y), best supported first, all of them: the
// right value may be one of many equally supported (n - k hubs corrupting
// theirs), so none is dropped before the tags are tested. Empty when fewer
// than k shares are at hand. With every share consistent there is exactly
// one. The cost grows with C(m, k) for m shares at hand.
Result<std::vector<Candidate>> RebuildCandidates(const AgreementParams& params,
                                                 const std::map<unsigned, SecretBytes>& shares);

// ShareCheck is SHA-256("skap v1 share check" ‖ sid ‖ u8(index) ‖ y): it
// tells whether a share is the one expected without keeping that share. A
// first agreement's sender sends the check values of all its shares with
// each share (one-way: k − 1 shares and every check value still leave the
// whole 256-bit secret to guess).
Result<ShareCheckValue> ShareCheck(const AgreementParams& params, unsigned index,
                                   std::span<const std::uint8_t> y);

// MissingShareChecks returns, for every hub of the set with no share in
// `shares`, the check value of the share it should carry: f(index) of the
// polynomial the first k indices of `support` define. A share that arrives
// after confirmation is then judged without keeping any share or secret.
Result<std::map<unsigned, ShareCheckValue>> MissingShareChecks(
    const AgreementParams& params, const std::map<unsigned, SecretBytes>& shares,
    const std::vector<unsigned>& support);

}  // namespace skap::pairwise
