#include "entropy/entropy_service.h"

#include <unistd.h>

#include <cstdio>
#include <sstream>

#include "common/hex.h"
#include "common/secret_bytes.h"
#include "crypto/drbg_self_test.h"
#include "entropy/os_source.h"
#include "entropy/rdseed_source.h"

namespace skap::entropy {
namespace {

constexpr std::string_view kMechanism = "CTR_DRBG AES-256, derivation function (SP 800-90A)";
// Personalization label (SP 800-90A §8.7.1); process id and time make it
// unique per instantiation. Neither is secret.
constexpr std::string_view kPersonalizationLabel = "skap entropy service v1";
// Additional-input label for reseeds, so a reseed is never a bare replay.
constexpr std::string_view kReseedLabel = "skap reseed v1";

}  // namespace

std::vector<std::unique_ptr<EntropySource>> EntropyService::DefaultSources() {
  std::vector<std::unique_ptr<EntropySource>> sources;
  sources.push_back(std::make_unique<OsSource>());
  sources.push_back(std::make_unique<RdseedSource>());
  return sources;
}

EntropyService::EntropyService(std::vector<MonitoredSource> sources, EntropyServiceOptions options,
                               std::unique_ptr<crypto::CtrDrbg> drbg)
    : sources_(std::move(sources)),
      failed_at_(sources_.size()),
      options_(std::move(options)),
      drbg_(std::move(drbg)) {}

Result<std::unique_ptr<EntropyService>> EntropyService::Create(
    std::vector<std::unique_ptr<EntropySource>> sources, EntropyServiceOptions options) {
  if (sources.empty()) {
    return Unexpected(ErrorCode::kInvalidArgument, "the entropy service needs a source");
  }
  SKAP_RETURN_IF_ERROR(crypto::RunCtrDrbgSelfTest());

  std::vector<MonitoredSource> monitored;
  for (auto& source : sources) {
    SKAP_ASSIGN_OR_RETURN(auto m, MonitoredSource::Create(std::move(source)));
    (void)m.StartUp();  // a failure is recorded in the source's status
    monitored.push_back(std::move(m));
  }

  std::ostringstream personalization;
  personalization << kPersonalizationLabel << " pid " << getpid() << " t "
                  << std::chrono::system_clock::now().time_since_epoch().count();
  SKAP_ASSIGN_OR_RETURN(auto drbg, crypto::CtrDrbg::Create(AsBytes(personalization.str())));

  std::unique_ptr<EntropyService> service(
      new EntropyService(std::move(monitored), std::move(options), std::move(drbg)));
  const auto now = service->options_.now();
  for (std::size_t i = 0; i < service->sources_.size(); ++i) service->failed_at_[i] = now;
  {
    const std::lock_guard lock(service->mutex_);
    SKAP_RETURN_IF_ERROR(service->ReseedLocked());
  }
  return service;
}

void EntropyService::RetestFailedSourcesLocked() {
  const auto now = options_.now();
  for (std::size_t i = 0; i < sources_.size(); ++i) {
    if (sources_[i].state() == SourceState::kFailed &&
        now - failed_at_[i] >= options_.retest_failed_after) {
      failed_at_[i] = now;
      (void)sources_[i].StartUp();
    }
  }
}

Result<void> EntropyService::ReseedLocked(std::span<const std::uint8_t> extra_input) {
  RetestFailedSourcesLocked();
  SecretBytes seed;
  std::size_t contributors = 0;
  for (std::size_t i = 0; i < sources_.size(); ++i) {
    MonitoredSource& source = sources_[i];
    if (source.state() != SourceState::kHealthy) continue;
    SecretBytes samples(source.SamplesFor(kSeedEntropyBits));
    if (!source.Read(samples.MutableExpose())) {
      failed_at_[i] = options_.now();  // taken out; reported in its status
      continue;
    }
    seed.Append(samples.Expose());
    ++contributors;
  }
  if (contributors == 0) {
    operational_ = false;
    last_error_ = "no healthy entropy source: refusing to generate";
    return Unexpected(ErrorCode::kEntropyUnavailable, last_error_);
  }
  std::string label(kReseedLabel);
  label.append(" ").append(std::to_string(reseeds_));
  SecretBytes additional = SecretBytes::Copy(AsBytes(label));
  additional.Append(extra_input);
  if (auto reseeded = drbg_->Reseed(seed.Expose(), additional.Expose()); !reseeded) {
    operational_ = false;
    last_error_ = reseeded.error().message;
    return reseeded;
  }
  ++reseeds_;
  requests_since_reseed_ = 0;
  last_reseed_ = options_.now();
  operational_ = true;
  return Ok();
}

Result<void> EntropyService::Generate(std::span<std::uint8_t> out,
                                      PredictionResistance prediction_resistance) {
  const std::lock_guard lock(mutex_);
  const bool due = !operational_ || prediction_resistance == PredictionResistance::kYes ||
                   requests_since_reseed_ >= options_.max_requests_between_reseeds ||
                   options_.now() - last_reseed_ >= options_.max_time_between_reseeds;
  if (due) {
    SKAP_RETURN_IF_ERROR(ReseedLocked());
  }
  SKAP_RETURN_IF_ERROR(drbg_->Generate(out));
  ++requests_since_reseed_;
  ++requests_;
  bytes_generated_ += out.size();
  return Ok();
}

Result<void> EntropyService::Reseed() {
  const std::lock_guard lock(mutex_);
  return ReseedLocked();
}

Result<void> EntropyService::MixIn(std::span<const std::uint8_t> additional_input) {
  const std::lock_guard lock(mutex_);
  return ReseedLocked(additional_input);
}

EntropyStatus EntropyService::Status() const {
  const std::lock_guard lock(mutex_);
  EntropyStatus status;
  status.operational = operational_;
  status.drbg = kMechanism;
  for (const auto& source : sources_) status.sources.push_back(source.status());
  status.reseeds = reseeds_;
  status.requests = requests_;
  status.bytes_generated = bytes_generated_;
  status.last_error = last_error_;
  return status;
}

std::string FormatStatus(const EntropyStatus& status) {
  std::ostringstream out;
  out << "entropy service: " << (status.operational ? "OPERATIONAL" : "FAILED CLOSED") << "\n";
  out << "  conditioner: " << status.drbg << "\n";
  out << "  reseeds: " << status.reseeds << "  requests: " << status.requests
      << "  bytes out: " << status.bytes_generated << "\n";
  if (!status.last_error.empty()) out << "  last error: " << status.last_error << "\n";
  char line[256];
  std::snprintf(line, sizeof line, "  %-20s %-11s %6s %5s %9s %10s %8s %9s %9s\n", "source",
                "state", "H/byte", "RCT C", "APT C/W", "samples", "startups", "RCT fails",
                "APT fails");
  out << line;
  for (const auto& s : status.sources) {
    const std::string apt = std::to_string(s.apt_cutoff) + "/" + std::to_string(s.apt_window);
    std::snprintf(line, sizeof line, "  %-20s %-11s %6.2f %5u %9s %10llu %8llu %9llu %9llu\n",
                  s.name.c_str(), SourceStateName(s.state), s.min_entropy_per_sample, s.rct_cutoff,
                  apt.c_str(), static_cast<unsigned long long>(s.samples_tested),
                  static_cast<unsigned long long>(s.startup_tests),
                  static_cast<unsigned long long>(s.rct_failures),
                  static_cast<unsigned long long>(s.apt_failures));
    out << line;
    if (!s.last_failure.empty()) out << "      " << s.last_failure << "\n";
  }
  return out.str();
}

}  // namespace skap::entropy
