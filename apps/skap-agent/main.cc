// skap-agent: the device side of SKAP.
//
//   skap-agent enroll --state FILE (--bundle FILE | --part FILE --part FILE ...)
//   skap-agent connect --state FILE [--dhe]
//   skap-agent ratchet --state FILE [--dhe]
//   skap-agent entropy --state FILE --bytes N [--out FILE] [--dhe]
//   skap-agent status --state FILE
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "agent/channel_ratchet.h"
#include "agent/device_state.h"
#include "agent/enrolment.h"
#include "common/secret_file.h"
#include "entropy/entropy_service.h"
#include "proto/bundle.h"

namespace {

int Fail(const std::string& what, const skap::Error& error) {
  std::fprintf(stderr, "skap-agent: %s: %s\n", what.c_str(), skap::ToString(error).c_str());
  return 1;
}

std::string Text(const skap::SecretBytes& bytes) {
  return {bytes.Expose().begin(), bytes.Expose().end()};
}

int Main(int argc, char** argv) {
  CLI::App app{
      "skap-agent: a SKAP device. Enrols from a bootstrap bundle (a file, or k of its\n"
      "parts), reports to its hub, switches to its own channel key once an admitter\n"
      "has admitted it, ratchets that key, and draws entropy from the hub."};
  app.require_subcommand(1);
  std::string state_path;
  std::string bundle_path;
  std::vector<std::string> parts;
  bool dhe = false;

  auto* enroll = app.add_subcommand("enroll", "Create the device state from a bundle");
  enroll->add_option("--state", state_path, "State file to create (0600)")->required();
  auto* bundle_option = enroll->add_option("--bundle", bundle_path, "Bundle file");
  auto* parts_option = enroll->add_option("--part", parts, "A bundle part file (repeat k times)");
  bundle_option->excludes(parts_option);

  auto* connect = app.add_subcommand(
      "connect", "Connect once: report while pending, take up the channel key once admitted");
  connect->add_option("--state", state_path, "State file")->required();
  connect->add_flag("--dhe", dhe, "Use psk_dhe_ke (adds X25519) instead of psk_ke");

  auto* ratchet = app.add_subcommand(
      "ratchet", "Move the channel key to a new epoch now (the hub also asks when it is due)");
  ratchet->add_option("--state", state_path, "State file")->required();
  ratchet->add_flag("--dhe", dhe, "Use psk_dhe_ke (adds X25519) instead of psk_ke");

  std::uint32_t entropy_bytes = 0;
  std::string entropy_out;
  auto* draw = app.add_subcommand(
      "entropy", "Draw random bytes from the hub's entropy service (rate limited by the hub)");
  draw->add_option("--state", state_path, "State file")->required();
  draw->add_option("--bytes", entropy_bytes, "How many bytes")
      ->required()
      ->check(CLI::Range(1U, 65536U));
  draw->add_option("--out", entropy_out,
                   "File to write them to (created 0600); without it only their count is shown");
  draw->add_flag("--dhe", dhe, "Use psk_dhe_ke (adds X25519) instead of psk_ke");

  auto* status = app.add_subcommand("status", "Print the device's state (never its keys)");
  status->add_option("--state", state_path, "State file")->required();
  CLI11_PARSE(app, argc, argv);

  if (enroll->parsed()) {
    skap::Result<skap::proto::Bundle> bundle =
        skap::Unexpected(skap::ErrorCode::kInvalidArgument, "give --bundle or --part");
    if (!bundle_path.empty()) {
      auto text = skap::ReadSecretFile(bundle_path);
      if (!text) return Fail("reading the bundle", text.error());
      bundle = skap::proto::BundleFromText(Text(*text));
    } else if (!parts.empty()) {
      std::vector<std::string> texts;
      for (const auto& p : parts) {
        auto text = skap::ReadSecretFile(p);
        if (!text) return Fail("reading a part", text.error());
        texts.push_back(Text(*text));
      }
      bundle = skap::proto::CombineBundleParts(texts);
      for (auto& t : texts) skap::SecureWipe(t.data(), t.size());
    }
    if (!bundle) return Fail("bundle", bundle.error());
    if (auto saved = skap::agent::EnrolFromBundle(state_path, *bundle); !saved) {
      return Fail("writing the state", saved.error());
    }
    std::printf("enrolled device %s (%s) of network %s at hub %s\n",
                bundle->info.device_name.c_str(), bundle->info.device_id.c_str(),
                bundle->info.network_name.c_str(), bundle->info.hub_address.c_str());
    return 0;
  }
  const auto mode =
      dhe ? skap::crypto::KeyExchangeMode::kPskWithDhe : skap::crypto::KeyExchangeMode::kPskOnly;
  if (ratchet->parsed()) {
    auto entropy =
        skap::entropy::EntropyService::Create(skap::entropy::EntropyService::DefaultSources());
    if (!entropy) return Fail("entropy", entropy.error());
    auto epoch = skap::agent::RatchetChannelKey(state_path, **entropy, mode);
    if (!epoch) return Fail("ratchet", epoch.error());
    std::printf("key epoch %lld\n", static_cast<long long>(*epoch));
    return 0;
  }
  if (draw->parsed()) {
    auto bytes = skap::agent::DrawHubEntropy(state_path, entropy_bytes, mode);
    if (!bytes) return Fail("entropy", bytes.error());
    if (!entropy_out.empty()) {
      if (auto written = skap::WriteSecretFile(entropy_out, bytes->Expose()); !written) {
        return Fail("writing " + entropy_out, written.error());
      }
    }
    std::printf("%zu bytes from the hub%s%s\n", bytes->size(),
                entropy_out.empty() ? "" : " written to ", entropy_out.c_str());
    return 0;
  }
  if (connect->parsed()) {
    auto entropy =
        skap::entropy::EntropyService::Create(skap::entropy::EntropyService::DefaultSources());
    if (!entropy) return Fail("entropy", entropy.error());
    const auto health = (*entropy)->Status();
    const std::string summary =
        health.operational ? R"({"operational":true})" : R"({"operational":false})";
    auto result = skap::agent::ChannelStep(state_path, **entropy, summary, mode);
    if (!result) return Fail("connect", result.error());
    std::printf("%s\n", result->c_str());
    return 0;
  }
  auto state = skap::agent::LoadDeviceState(state_path);
  if (!state) return Fail("reading the state", state.error());
  std::printf("device %s (%s), network %s, hub %s at %s: %s, key epoch %lld\n",
              state->hub.device_name.c_str(), state->hub.device_id.c_str(),
              state->hub.network_name.c_str(), state->hub.hub_id.c_str(),
              state->hub.hub_address.c_str(), state->status.c_str(),
              static_cast<long long>(state->epoch));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return Main(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "skap-agent: %s\n", e.what());
    return 1;
  }
}
