#include "agent/store/hub_channel_state.h"

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <filesystem>
#include <optional>

#include <nlohmann/json.hpp>

#include "common/hex.h"
#include "common/secret_file.h"

namespace skap::agent {
namespace {

// Version 3 binds the wrapped keys to the file's hub, device and epoch
// (keystore.h); version 2, read once and rewritten, wrapped them unbound.
constexpr std::array<std::uint8_t, 4> kMagic = {'S', 'K', 'S', '3'};
constexpr std::array<std::uint8_t, 4> kMagicUnbound = {'S', 'K', 'S', '2'};

keystore::WrapBinding KeyBinding(const HubChannelState& s) {
  return {keystore::kPurposeHubChannelKey,
          keystore::RowOf({s.hub.hub_id, s.hub.device_id, std::to_string(s.epoch)})};
}
keystore::WrapBinding NonceBinding(const HubChannelState& s) {
  return {keystore::kPurposeEnrolmentNonce, keystore::RowOf({s.hub.hub_id, s.hub.device_id})};
}

void AppendLength16(SecretBytes& out, std::size_t n) {
  const std::array<std::uint8_t, 2> length = {static_cast<std::uint8_t>(n >> 8),
                                              static_cast<std::uint8_t>(n)};
  out.Append(length);
}

// Field16 reads one u16-length field at `at`, advancing it.
std::optional<std::span<const std::uint8_t>> Field16(std::span<const std::uint8_t> bytes,
                                                     std::size_t& at) {
  if (bytes.size() < at + 2) return std::nullopt;
  const std::size_t n = (std::size_t{bytes[at]} << 8) | bytes[at + 1];
  if (bytes.size() < at + 2 + n) return std::nullopt;
  const auto field = bytes.subspan(at + 2, n);
  at += 2 + n;
  return field;
}

Unexpected Malformed(const std::string& why) {
  return Unexpected(ErrorCode::kMalformedInput, "device state: " + why);
}

}  // namespace

Result<void> SaveHubChannelState(const std::string& path, const HubChannelState& state,
                                 keystore::Keystore& kek) {
  const auto& h = state.hub;
  const std::string public_part = nlohmann::json{
      {"hub_id", h.hub_id},
      {"hub_address", h.hub_address},
      {"tenant_id", h.tenant_id},
      {"tenant", h.tenant_name},
      {"network_id", h.network_id},
      {"network", h.network_name},
      {"device_id", h.device_id},
      {"device", h.device_name},
      {"expires_at_ms", h.expires_at_ms},
      {"hub_set", h.hub_set},
      {"threshold", h.threshold},
      {"epoch", state.epoch},
      {"status", state.status}}.dump();
  SKAP_ASSIGN_OR_RETURN(const auto wrapped_key, kek.Wrap(state.key.Expose(), KeyBinding(state)));
  std::vector<std::uint8_t> wrapped_nonce;
  if (!state.enrolment_nonce.empty()) {
    SKAP_ASSIGN_OR_RETURN(wrapped_nonce,
                          kek.Wrap(state.enrolment_nonce.Expose(), NonceBinding(state)));
  }
  SecretBytes out;
  out.Append(kMagic);
  const auto n = public_part.size();
  const std::array<std::uint8_t, 4> length = {
      static_cast<std::uint8_t>(n >> 24), static_cast<std::uint8_t>(n >> 16),
      static_cast<std::uint8_t>(n >> 8), static_cast<std::uint8_t>(n)};
  out.Append(length);
  out.Append(AsBytes(public_part));
  AppendLength16(out, wrapped_key.size());
  out.Append(wrapped_key);
  AppendLength16(out, wrapped_nonce.size());
  out.Append(wrapped_nonce);

  return ReplaceSecretFile(path, out.Expose());
}

Result<HubChannelState> LoadHubChannelState(const std::string& path, keystore::Keystore& kek) {
  SKAP_ASSIGN_OR_RETURN(auto raw, ReadSecretFile(path, 1 << 16));
  auto bytes = raw.Expose();
  if (bytes.size() < 8) return Malformed("truncated");
  const bool unbound = std::equal(kMagicUnbound.begin(), kMagicUnbound.end(), bytes.begin());
  if (!unbound && !std::equal(kMagic.begin(), kMagic.end(), bytes.begin())) {
    return Malformed("not a version-2 or version-3 state file");
  }
  const std::size_t n = (std::size_t{bytes[4]} << 24) | (std::size_t{bytes[5]} << 16) |
                        (std::size_t{bytes[6]} << 8) | bytes[7];
  if (bytes.size() < 8 + n) return Malformed("truncated");
  const auto json = nlohmann::json::parse(
      bytes.begin() + 8, bytes.begin() + 8 + static_cast<std::ptrdiff_t>(n), nullptr, false);
  if (!json.is_object()) return Malformed("public part is not JSON");
  std::size_t at = 8 + n;
  const auto wrapped_key = Field16(bytes, at);
  const auto wrapped_nonce = Field16(bytes, at);
  if (!wrapped_key || !wrapped_nonce || at != bytes.size()) return Malformed("bad length");
  HubChannelState state;
  try {
    proto::BundleInfo& h = state.hub;
    h.hub_id = json.at("hub_id").get<std::string>();
    h.hub_address = json.at("hub_address").get<std::string>();
    h.tenant_id = json.at("tenant_id").get<std::string>();
    h.tenant_name = json.at("tenant").get<std::string>();
    h.network_id = json.at("network_id").get<std::string>();
    h.network_name = json.at("network").get<std::string>();
    h.device_id = json.at("device_id").get<std::string>();
    h.device_name = json.at("device").get<std::string>();
    h.expires_at_ms = json.at("expires_at_ms").get<std::int64_t>();
    h.hub_set = json.at("hub_set").get<std::vector<std::string>>();
    h.threshold = json.at("threshold").get<unsigned>();
    state.epoch = json.at("epoch").get<std::int64_t>();
    state.status = json.at("status").get<std::string>();
  } catch (const nlohmann::json::exception&) {
    return Malformed("public part lacks a field");
  }
  const auto unwrap = [&](std::span<const std::uint8_t> wrapped,
                          const keystore::WrapBinding& binding) {
    return unbound ? kek.UnwrapUnbound(wrapped) : kek.Unwrap(wrapped, binding);
  };
  SKAP_ASSIGN_OR_RETURN(state.key, unwrap(*wrapped_key, KeyBinding(state)));
  if (!wrapped_nonce->empty()) {
    SKAP_ASSIGN_OR_RETURN(state.enrolment_nonce, unwrap(*wrapped_nonce, NonceBinding(state)));
  }
  // A version-2 file is rewritten bound at once, so no unbound copy stays.
  if (unbound) SKAP_RETURN_IF_ERROR(SaveHubChannelState(path, state, kek));
  return state;
}

}  // namespace skap::agent
