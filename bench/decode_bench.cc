// What it costs a device to find the peer's contribution among the shares
// n hubs carried, at the largest hub set (n = 16, k = 8) with n - k = 8 hubs
// altering theirs, beside the baseline of the same run: rebuilding one
// secret from k shares (crypto::CombineShares), the least any decoder does.
//
//   BM_CombineShares              k = 8 shares -> one secret (the baseline)
//   BM_ReseedDecode/m             a re-seed: every share MACed under the
//                                 session (pairwise::ShareMac); m of them
//                                 altered (0 or 8), refused on arrival; one
//                                 candidate is rebuilt and tagged: the
//                                 responder's whole work
//   BM_FirstAgreementDecode/m     a first agreement (no session, so no MACs)
//                                 whose sender sent no share check values (a
//                                 release before them): every k-subset of the
//                                 16 shares with m of them altered is rebuilt
//                                 (C(16, 8) = 12 870)
//   BM_CheckedFirstAgreementDecode/m  a first agreement now: each share comes
//                                 with the sender's check values, so the m
//                                 altered shares fail theirs; one candidate
//                                 is rebuilt and tagged: the responder's work
//
// bench/run.sh prints the ratios.
#include <algorithm>
#include <span>
#include <vector>

#include <benchmark/benchmark.h>

#include "crypto/ctr_drbg.h"
#include "crypto/shamir.h"
#include "pairwise/agreement.h"
#include "pairwise/hub_shares.h"

namespace {

using skap::pairwise::Agreement;
using skap::pairwise::Role;

constexpr unsigned kK = 8;
constexpr unsigned kN = 16;

skap::pairwise::AgreementParams Params(std::uint64_t epoch) {
  skap::pairwise::AgreementParams p;
  p.sid.fill(0x5a);
  p.initiator = "device-a";
  p.responder = "device-b";
  for (unsigned i = 1; i <= kN; ++i) p.hub_set.push_back("hub-" + std::to_string(100 + i));
  p.threshold = kK;
  p.expires_at_ms = 1'800'000'000'000;
  p.session_epoch = epoch;
  return p;
}

std::unique_ptr<skap::crypto::CtrDrbg> Rng() {
  return std::move(*skap::crypto::CtrDrbg::Create({}));
}

// AlterAsALiar changes every byte of hub `hub`'s share, as a liar would.
void AlterAsALiar(std::span<std::uint8_t> y, unsigned hub) {
  for (std::size_t b = 0; b < y.size(); ++b) {
    y[b] ^= static_cast<std::uint8_t>(1 + b + std::size_t{31} * hub);
  }
}

// TimeResponder times a fresh responder taking the n shares (`take`) and
// tagging its candidates, and counts the candidates.
template <typename Take>
void TimeResponder(benchmark::State& state, const skap::pairwise::AgreementParams& params,
                   skap::crypto::Rng& rng, const Take& take) {
  std::size_t candidates = 0;
  for (auto _ : state) {
    state.PauseTiming();
    auto responder = Agreement::Start(params, Role::kResponder, rng);
    state.ResumeTiming();
    take(*responder);
    auto tags = responder->TagsToSend();
    candidates = tags->size();
    benchmark::DoNotOptimize(tags);
  }
  state.counters["candidates"] = static_cast<double>(candidates);
}

void BM_CombineShares(benchmark::State& state) {
  auto rng = Rng();
  const std::vector<std::uint8_t> secret(32, 0x11);
  auto shares = skap::crypto::SplitSecret(secret, kK, kN, *rng);
  std::vector<skap::crypto::Share> k_of_them;
  for (unsigned i = 0; i < kK; ++i) k_of_them.push_back((*shares)[i].Clone());
  for (auto _ : state) benchmark::DoNotOptimize(skap::crypto::CombineShares(k_of_them));
}
BENCHMARK(BM_CombineShares)->Unit(benchmark::kMicrosecond);

void BM_ReseedDecode(benchmark::State& state) {
  const auto altered = static_cast<unsigned>(state.range(0));
  auto rng = Rng();
  const auto params = Params(2);
  const std::vector<std::uint8_t> previous(32, 0x42);
  auto initiator = Agreement::Start(params, Role::kInitiator, *rng);
  (void)initiator->AuthenticateShares(previous);
  std::vector<std::vector<std::uint8_t>> ys;
  std::vector<std::vector<std::uint8_t>> macs;
  for (unsigned hub = 1; hub <= kN; ++hub) {
    std::vector<std::uint8_t> y(initiator->OwnShare(hub).begin(), initiator->OwnShare(hub).end());
    macs.push_back(*initiator->OwnShareMac(hub));
    if (hub <= 2 * altered && hub % 2 == 0) y[0] ^= 0x01;  // the liars
    ys.push_back(std::move(y));
  }
  TimeResponder(state, params, *rng, [&](Agreement& responder) {
    (void)responder.AuthenticateShares(previous);
    for (unsigned hub = 1; hub <= kN; ++hub)
      (void)responder.AddPeerShare(hub, ys[hub - 1], macs[hub - 1]);
  });
}
BENCHMARK(BM_ReseedDecode)->Arg(0)->Arg(8)->Unit(benchmark::kMillisecond);

void BM_FirstAgreementDecode(benchmark::State& state) {
  auto rng = Rng();
  const auto params = Params(1);
  const auto altered = static_cast<unsigned>(state.range(0));
  const std::vector<std::uint8_t> secret(32, 0x11);
  auto split = skap::pairwise::SplitForHubs(secret, kK, kN, *rng);
  std::map<unsigned, skap::SecretBytes> shares;
  for (unsigned hub = 1; hub <= kN; ++hub) {
    auto y = (*split)[hub - 1].Clone();
    if (hub <= 2 * altered && hub % 2 == 0) AlterAsALiar(y.MutableExpose(), hub);
    shares.emplace(hub, std::move(y));
  }
  std::size_t candidates = 0;
  for (auto _ : state) {
    auto found = skap::pairwise::RebuildCandidates(params, shares);
    candidates = found->size();
    benchmark::DoNotOptimize(found);
  }
  state.counters["candidates"] = static_cast<double>(candidates);
}
BENCHMARK(BM_FirstAgreementDecode)->Arg(0)->Arg(1)->Arg(8)->Unit(benchmark::kMillisecond);

void BM_CheckedFirstAgreementDecode(benchmark::State& state) {
  const auto altered = static_cast<unsigned>(state.range(0));
  auto rng = Rng();
  const auto params = Params(1);
  auto initiator = Agreement::Start(params, Role::kInitiator, *rng);
  const auto checks = *initiator->OwnShareChecks();
  std::vector<std::vector<std::uint8_t>> ys;
  for (unsigned hub = 1; hub <= kN; ++hub) {
    std::vector<std::uint8_t> y(initiator->OwnShare(hub).begin(), initiator->OwnShare(hub).end());
    if (hub <= 2 * altered && hub % 2 == 0) AlterAsALiar(y, hub);
    ys.push_back(std::move(y));
  }
  TimeResponder(state, params, *rng, [&](Agreement& responder) {
    for (unsigned hub = 1; hub <= kN; ++hub)
      (void)responder.AddPeerShare(hub, ys[hub - 1], {}, checks);
  });
}
BENCHMARK(BM_CheckedFirstAgreementDecode)->Arg(0)->Arg(8)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
