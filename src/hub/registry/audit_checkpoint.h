// The file that anchors the audit chain's head outside the database: the
// hub rewrites it with a fresh AuditCheckpoint (audit_log.h) whenever the
// chain has grown, at most once per kInterval, and checks it on start.
//
// It holds no secret: a JSON object
//   {"format":"skap audit checkpoint v1","hub_id","counter","seq","at_ms",
//    "head_mac" (hex),"mac" (hex)}
// that operators copy off the machine (skapctl audit checkpoint) and give
// back to `skapctl audit verify --checkpoint FILE`. A database writer who
// can also rewrite this file defeats the local check; a copy kept elsewhere
// still shows what was cut.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "common/result.h"
#include "hub/registry/audit_log.h"

namespace skap::hub {

// CheckpointToJson and CheckpointFromJson convert the file's text.
std::string CheckpointToJson(const AuditCheckpoint& checkpoint);
Result<AuditCheckpoint> CheckpointFromJson(std::string_view text);

// AuditCheckpointFile keeps the checkpoint file of one hub. Not
// thread-safe: its caller holds the hub's database (Database::Hold).
class AuditCheckpointFile {
 public:
  // kInterval bounds how stale the file may be: entries of the last
  // interval before a crash or a cut are not yet anchored.
  static constexpr std::chrono::milliseconds kInterval{1000};

  AuditCheckpointFile(AuditLog& audit, std::string hub_id, std::string path)
      : audit_(audit), hub_id_(std::move(hub_id)), path_(std::move(path)) {}

  // Open reads the file, if there is one, and fails unless the chain still
  // holds it (AuditLog::Holds): a hub whose log was cut does not start.
  // Without a file, the next checkpoint starts the count at 1.
  Result<void> Open();

  // Refresh writes a new checkpoint if the chain grew since the last one,
  // and returns the current one.
  Result<AuditCheckpoint> Refresh();

  const std::string& path() const { return path_; }

 private:
  AuditLog& audit_;
  std::string hub_id_;
  std::string path_;
  std::optional<AuditCheckpoint> last_;
};

}  // namespace skap::hub
