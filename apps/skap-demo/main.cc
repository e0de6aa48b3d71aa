// skap-demo: what the foundation does, end to end, on this machine.
//
// 1. Starts the entropy service on the machine's sources and prints its
//    SP 800-90B health report.
// 2. Measures DRBG throughput for 32-byte and 64 KiB requests.
// 3. Draws a 256-bit secret (with prediction resistance), splits it 3-of-5
//    into printable parts, and rebuilds it from a different three, showing
//    that two parts and a mistyped part are refused.
#include <chrono>
#include <cstdio>
#include <exception>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "common/ct.h"
#include "common/secret_bytes.h"
#include "crypto/fingerprint.h"
#include "crypto/shamir.h"
#include "crypto/share_codec.h"
#include "entropy/device_source.h"
#include "entropy/entropy_service.h"

namespace {

using skap::Error;
using skap::SecretBytes;
using Clock = std::chrono::steady_clock;

int Fail(const char* step, const Error& error) {
  std::fprintf(stderr, "skap-demo: %s: %s\n", step, skap::ToString(error).c_str());
  return 1;
}

std::string AsText(const SecretBytes& text) {
  const auto bytes = text.Expose();
  return {bytes.begin(), bytes.end()};
}

// Throughput runs `request_size` generate calls for about `seconds`.
struct Throughput {
  double requests_per_second;
  double megabytes_per_second;
};
skap::Result<Throughput> MeasureThroughput(skap::entropy::EntropyService& service,
                                           std::size_t request_size, double seconds) {
  std::vector<std::uint8_t> buffer(request_size);
  std::uint64_t requests = 0;
  const auto start = Clock::now();
  const auto deadline = start + std::chrono::duration<double>(seconds);
  auto now = start;
  do {
    for (int i = 0; i < 64; ++i) {
      SKAP_RETURN_IF_ERROR(service.Generate(buffer));
      ++requests;
    }
    now = Clock::now();
  } while (now < deadline);
  const double elapsed = std::chrono::duration<double>(now - start).count();
  return Throughput{static_cast<double>(requests) / elapsed,
                    static_cast<double>(requests * request_size) / elapsed / 1e6};
}

}  // namespace

int RunDemo(int argc, char** argv) {
  CLI::App app{
      "skap-demo: the SKAP foundation on this machine. Starts the entropy service and prints\n"
      "its SP 800-90B health report and DRBG throughput, then splits a fresh 256-bit secret\n"
      "k-of-n into printable parts and rebuilds it from a different k of them."};
  double seconds = 1.0;
  unsigned threshold = 3;
  unsigned parts = 5;
  std::string device;
  double device_entropy = 0;
  app.add_option("--seconds", seconds, "How long each throughput measurement runs")
      ->default_val(1.0)
      ->check(CLI::Range(0.05, 60.0));
  app.add_option("-k,--threshold", threshold, "Parts needed to rebuild the secret")
      ->default_val(3)
      ->check(CLI::Range(2, 255));
  app.add_option("-n,--parts", parts, "Parts to split the secret into")
      ->default_val(5)
      ->check(CLI::Range(2, 255));
  auto* device_option = app.add_option(
      "--device", device, "Also use this character device (e.g. /dev/hwrng, a QRNG) as a source");
  app.add_option("--device-entropy", device_entropy,
                 "Declared min-entropy of one byte from --device, in bits (0 < H <= 8)")
      ->needs(device_option)
      ->check(CLI::Range(0.01, 8.0));
  CLI11_PARSE(app, argc, argv);
  if (threshold > parts) {
    std::fprintf(stderr, "skap-demo: --threshold (%u) cannot exceed --parts (%u)\n", threshold,
                 parts);
    return 2;
  }
  if (!device.empty() && device_entropy <= 0) {
    std::fprintf(stderr, "skap-demo: --device needs --device-entropy\n");
    return 2;
  }

  auto sources = skap::entropy::EntropyService::DefaultSources();
  if (!device.empty()) {
    sources.push_back(std::make_unique<skap::entropy::DeviceSource>(device, device_entropy));
  }
  auto service = skap::entropy::EntropyService::Create(std::move(sources));
  if (!service) return Fail("starting the entropy service", service.error());

  std::printf("== 1. Entropy service health (NIST SP 800-90B continuous tests, alpha = 2^-20)\n");
  std::printf("%s\n", skap::entropy::FormatStatus((*service)->Status()).c_str());

  std::printf("== 2. DRBG throughput (%.2f s each)\n", seconds);
  for (std::size_t size : {std::size_t{32}, std::size_t{64} * 1024}) {
    auto throughput = MeasureThroughput(**service, size, seconds);
    if (!throughput) return Fail("measuring throughput", throughput.error());
    std::printf("  %6zu-byte requests: %12.0f requests/s  %9.1f MB/s\n", size,
                throughput->requests_per_second, throughput->megabytes_per_second);
  }

  std::printf("\n== 3. A 256-bit secret split %u-of-%u into printable parts\n", threshold, parts);
  SecretBytes secret(32);
  if (auto drawn =
          (*service)->Generate(secret.MutableExpose(), skap::entropy::PredictionResistance::kYes);
      !drawn) {
    return Fail("drawing the secret", drawn.error());
  }
  auto fingerprint = skap::crypto::KeyFingerprint(secret.Expose());
  if (!fingerprint) return Fail("fingerprinting", fingerprint.error());
  std::printf("  secret fingerprint: %s (the secret itself is never printed)\n",
              fingerprint->c_str());

  auto shares = skap::crypto::SplitSecret(secret.Expose(), threshold, parts, **service);
  if (!shares) return Fail("splitting", shares.error());
  std::vector<SecretBytes> texts;
  for (const auto& share : *shares) {
    auto text = skap::crypto::ShareToText(share);
    if (!text) return Fail("encoding a part", text.error());
    std::printf("  part %u: %s\n", share.index, AsText(*text).c_str());
    texts.push_back(std::move(*text));
  }

  // Rebuild from the last k parts, read back from their text: a different
  // set from the first k whenever n > k.
  std::vector<skap::crypto::Share> chosen;
  std::string chosen_names;
  for (std::size_t i = parts - threshold; i < parts; ++i) {
    auto share = skap::crypto::ShareFromText(AsText(texts[i]));
    if (!share) return Fail("reading a part back", share.error());
    chosen_names += (chosen_names.empty() ? "" : ", ") + std::to_string(share->index);
    chosen.push_back(std::move(*share));
  }
  auto rebuilt = skap::crypto::CombineShares(chosen);
  if (!rebuilt) return Fail("combining", rebuilt.error());
  auto rebuilt_fingerprint = skap::crypto::KeyFingerprint(rebuilt->Expose());
  if (!rebuilt_fingerprint) return Fail("fingerprinting", rebuilt_fingerprint.error());
  const bool same = skap::ct::Equal(rebuilt->Expose(), secret.Expose());
  std::printf("  rebuilt from parts %s: fingerprint %s -> %s\n", chosen_names.c_str(),
              rebuilt_fingerprint->c_str(), same ? "MATCH" : "MISMATCH");

  auto too_few = skap::crypto::CombineShares(std::span(chosen).first(threshold - 1));
  std::printf("  with only %u parts: %s\n", threshold - 1,
              too_few ? "rebuilt (unexpected!)" : skap::ToString(too_few.error()).c_str());

  std::string mistyped = AsText(texts[0]);
  std::size_t at = mistyped.size() - 12;
  while (mistyped[at] == '-') --at;  // a digit, not a group separator
  mistyped[at] = (mistyped[at] == '0') ? '1' : '0';
  auto typo = skap::crypto::ShareFromText(mistyped);
  std::printf("  part 1 with one digit mistyped: %s\n",
              typo ? "accepted (unexpected!)" : skap::ToString(typo.error()).c_str());
  skap::SecureWipe(mistyped.data(), mistyped.size());

  std::printf("\n== 4. Entropy service after the run\n%s",
              skap::entropy::FormatStatus((*service)->Status()).c_str());
  return same && !too_few && !typo ? 0 : 1;
}

int main(int argc, char** argv) {
  // No exception leaves main: a bad_alloc or a library's throw ends the demo
  // with a message instead of std::terminate.
  try {
    return RunDemo(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "skap-demo: %s\n", e.what());
    return 1;
  }
}
