#include "proto/channel_identity.h"

#include <charconv>

#include "common/byte_writer.h"

namespace skap::proto {
namespace {

constexpr std::string_view kContextLabel = "skap channel v1";

std::vector<std::uint8_t> Context(const std::string& hub_id, const std::string& device_id) {
  std::vector<std::uint8_t> context(kContextLabel.begin(), kContextLabel.end());
  AppendField16(context, hub_id);
  AppendField16(context, device_id);
  return context;
}

}  // namespace

Result<crypto::ImportedIdentity> MakeImportedIdentity(const ChannelIdentity& id) {
  if (id.device_id.empty() || id.device_id.size() > 255 || id.hub_id.size() > 255 || id.epoch < 0) {
    return Unexpected(ErrorCode::kInvalidArgument, "channel identity out of range");
  }
  crypto::ImportedIdentity out;
  const std::string external = id.device_id + "/" + std::to_string(id.epoch);
  out.external_identity.assign(external.begin(), external.end());
  out.context = Context(id.hub_id, id.device_id);
  return out;
}

Result<ChannelIdentity> ParseChannelIdentity(std::span<const std::uint8_t> wire,
                                             const std::string& hub_id) {
  const Unexpected refused(ErrorCode::kAuthenticationFailed, "unknown identity");
  auto imported = crypto::DecodeOurIdentity(wire);
  if (!imported) return refused;
  const std::string external(imported->external_identity.begin(),
                             imported->external_identity.end());
  const auto slash = external.rfind('/');
  if (slash == std::string::npos || slash == 0) return refused;
  ChannelIdentity id;
  id.hub_id = hub_id;
  id.device_id = external.substr(0, slash);
  const char* first = external.data() + slash + 1;
  const char* last = external.data() + external.size();
  const auto [end, ec] = std::from_chars(first, last, id.epoch);
  if (ec != std::errc() || end != last || first == last || id.epoch < 0) return refused;
  if (imported->context != Context(hub_id, id.device_id)) return refused;
  return id;
}

Result<crypto::ImportedExternalPsk> ImportChannelKey(const ChannelIdentity& id,
                                                     std::span<const std::uint8_t> channel_key) {
  SKAP_ASSIGN_OR_RETURN(auto imported, MakeImportedIdentity(id));
  return crypto::ImportExternalPsk(channel_key, imported);
}

}  // namespace skap::proto
