#include "hub/registry/audit_checkpoint.h"

#include <filesystem>

#include <nlohmann/json.hpp>

#include "common/hex.h"
#include "common/secret_file.h"

namespace skap::hub {
namespace {

constexpr std::string_view kFormat = "skap audit checkpoint v1";
constexpr std::size_t kMaxFileSize = 4096;

Unexpected Malformed(const std::string& why) {
  return Unexpected(ErrorCode::kMalformedInput, "audit checkpoint: " + why);
}

}  // namespace

std::string CheckpointToJson(const AuditCheckpoint& c) {
  return nlohmann::json{{"format", kFormat},
                        {"hub_id", c.hub_id},
                        {"counter", c.counter},
                        {"seq", c.seq},
                        {"at_ms", c.at_ms},
                        {"head_mac", HexEncode(c.head_mac)},
                        {"mac", HexEncode(c.mac)}}
             .dump() +
         "\n";
}

Result<AuditCheckpoint> CheckpointFromJson(std::string_view text) {
  const auto j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_object()) return Malformed("not a JSON object");
  const auto format = j.find("format");
  if (format == j.end() || !format->is_string() || *format != kFormat) {
    return Malformed("not a \"" + std::string(kFormat) + "\" file");
  }
  AuditCheckpoint c;
  const auto text_field = [&](const char* name, std::string& out) -> Result<void> {
    const auto it = j.find(name);
    if (it == j.end() || !it->is_string()) return Malformed(std::string(name) + " is missing");
    out = it->get<std::string>();
    return Ok();
  };
  const auto number_field = [&](const char* name, std::int64_t& out) -> Result<void> {
    const auto it = j.find(name);
    if (it == j.end() || !it->is_number_integer() || it->get<std::int64_t>() < 0) {
      return Malformed(std::string(name) + " is not a whole number");
    }
    out = it->get<std::int64_t>();
    return Ok();
  };
  const auto hex_field = [&](const char* name, std::vector<std::uint8_t>& out) -> Result<void> {
    std::string hex;
    SKAP_RETURN_IF_ERROR(text_field(name, hex));
    auto bytes = HexDecode(hex);
    if (!bytes || bytes->size() != AuditLog::kMacKeySize) {
      return Malformed(std::string(name) + " is not 48 bytes of hex");
    }
    out = std::move(*bytes);
    return Ok();
  };
  SKAP_RETURN_IF_ERROR(text_field("hub_id", c.hub_id));
  SKAP_RETURN_IF_ERROR(number_field("counter", c.counter));
  SKAP_RETURN_IF_ERROR(number_field("seq", c.seq));
  SKAP_RETURN_IF_ERROR(number_field("at_ms", c.at_ms));
  SKAP_RETURN_IF_ERROR(hex_field("head_mac", c.head_mac));
  SKAP_RETURN_IF_ERROR(hex_field("mac", c.mac));
  return c;
}

Result<void> AuditCheckpointFile::Open() {
  std::error_code ec;
  if (!std::filesystem::exists(path_, ec)) return Ok();
  SKAP_ASSIGN_OR_RETURN(auto raw, ReadSecretFile(path_, kMaxFileSize));
  const auto bytes = raw.Expose();
  SKAP_ASSIGN_OR_RETURN(
      auto checkpoint,
      CheckpointFromJson(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size())));
  if (checkpoint.hub_id != hub_id_) {
    return Unexpected(ErrorCode::kFailedPrecondition,
                      path_ + " is the checkpoint of hub " + checkpoint.hub_id + ", not of this one");
  }
  SKAP_RETURN_IF_ERROR(audit_.Holds(checkpoint));
  last_ = std::move(checkpoint);
  return Ok();
}

Result<AuditCheckpoint> AuditCheckpointFile::Refresh() {
  const std::int64_t counter = last_ ? last_->counter + 1 : 1;
  SKAP_ASSIGN_OR_RETURN(auto checkpoint, audit_.Checkpoint(hub_id_, counter));
  if (last_ && last_->seq == checkpoint.seq) return *last_;
  const std::string text = CheckpointToJson(checkpoint);
  SKAP_RETURN_IF_ERROR(ReplaceSecretFile(path_, AsBytes(text)));
  last_ = checkpoint;
  return checkpoint;
}

}  // namespace skap::hub
