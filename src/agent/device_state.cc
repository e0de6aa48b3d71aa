#include "agent/device_state.h"

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "common/hex.h"
#include "common/secret_file.h"

namespace skap::agent {
namespace {

constexpr std::array<std::uint8_t, 4> kMagic = {'S', 'K', 'S', '1'};

Unexpected Malformed(const std::string& why) {
  return Unexpected(ErrorCode::kMalformedInput, "device state: " + why);
}

Result<void> SyncDirectory(const std::string& path) {
  std::string dir = std::filesystem::path(path).parent_path().string();
  if (dir.empty()) dir = ".";
  const int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Unexpected(ErrorCode::kIoError, "open " + dir + ": " + ErrnoText(errno));
  const bool ok = fsync(fd) == 0;
  close(fd);
  if (!ok) return Unexpected(ErrorCode::kIoError, "fsync " + dir + ": " + ErrnoText(errno));
  return Ok();
}

}  // namespace

Result<void> SaveDeviceState(const std::string& path, const DeviceState& state) {
  if (state.key.size() > 255 || state.enrolment_nonce.size() > 255) {
    return Unexpected(ErrorCode::kInvalidArgument, "device state: key or nonce too large");
  }
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
      {"epoch", state.epoch},
      {"status", state.status}}.dump();
  SecretBytes out;
  out.Append(kMagic);
  const auto n = public_part.size();
  const std::array<std::uint8_t, 4> length = {
      static_cast<std::uint8_t>(n >> 24), static_cast<std::uint8_t>(n >> 16),
      static_cast<std::uint8_t>(n >> 8), static_cast<std::uint8_t>(n)};
  out.Append(length);
  out.Append(AsBytes(public_part));
  const std::array<std::uint8_t, 1> key_length = {static_cast<std::uint8_t>(state.key.size())};
  out.Append(key_length);
  out.Append(state.key.Expose());
  const std::array<std::uint8_t, 1> nonce_length = {
      static_cast<std::uint8_t>(state.enrolment_nonce.size())};
  out.Append(nonce_length);
  out.Append(state.enrolment_nonce.Expose());

  const std::string temporary = path + ".tmp";
  std::filesystem::remove(temporary);  // a leftover from a crash mid-write
  SKAP_RETURN_IF_ERROR(WriteSecretFile(temporary, out.Expose()));
  if (std::rename(temporary.c_str(), path.c_str()) != 0) {
    return Unexpected(ErrorCode::kIoError, "rename " + temporary + ": " + ErrnoText(errno));
  }
  return SyncDirectory(path);
}

Result<DeviceState> LoadDeviceState(const std::string& path) {
  SKAP_ASSIGN_OR_RETURN(auto raw, ReadSecretFile(path, 1 << 16));
  auto bytes = raw.Expose();
  if (bytes.size() < 8 || !std::equal(kMagic.begin(), kMagic.end(), bytes.begin())) {
    return Malformed("not a version-1 state file");
  }
  const std::size_t n = (std::size_t{bytes[4]} << 24) | (std::size_t{bytes[5]} << 16) |
                        (std::size_t{bytes[6]} << 8) | bytes[7];
  if (bytes.size() < 8 + n + 1) return Malformed("truncated");
  const auto json = nlohmann::json::parse(
      bytes.begin() + 8, bytes.begin() + 8 + static_cast<std::ptrdiff_t>(n), nullptr, false);
  if (!json.is_object()) return Malformed("public part is not JSON");
  auto rest = bytes.subspan(8 + n);
  const std::size_t key_length = rest[0];
  if (rest.size() < 1 + key_length + 1) return Malformed("truncated key");
  const std::size_t nonce_length = rest[1 + key_length];
  if (rest.size() != 1 + key_length + 1 + nonce_length) return Malformed("bad length");
  DeviceState state;
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
    state.epoch = json.at("epoch").get<std::int64_t>();
    state.status = json.at("status").get<std::string>();
  } catch (const nlohmann::json::exception&) {
    return Malformed("public part lacks a field");
  }
  state.key = SecretBytes::Copy(rest.subspan(1, key_length));
  state.enrolment_nonce = SecretBytes::Copy(rest.subspan(2 + key_length, nonce_length));
  return state;
}

}  // namespace skap::agent
