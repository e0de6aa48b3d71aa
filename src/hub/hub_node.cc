#include "hub/hub_node.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "crypto/uuid.h"
#include "hub/schema.h"
#include "store/migrations.h"

namespace skap::hub {
namespace {

constexpr std::string_view kAuditKeyName = "audit-mac";

std::string DbPath(const std::string& dir) { return dir + "/hub.db"; }
std::string KekPath(const std::string& dir) { return dir + "/kek"; }

}  // namespace

Result<std::string> HubNode::Init(const std::string& dir, const Clock& clock) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Unexpected(ErrorCode::kIoError, "create " + dir + ": " + ec.message());
  if (chmod(dir.c_str(), S_IRWXU) != 0) {
    return Unexpected(ErrorCode::kIoError, "chmod " + dir + ": " + ErrnoText(errno));
  }
  if (std::filesystem::exists(DbPath(dir))) {
    return Unexpected(ErrorCode::kFailedPrecondition, dir + " already holds a hub");
  }
  SKAP_ASSIGN_OR_RETURN(auto entropy,
                        entropy::EntropyService::Create(entropy::EntropyService::DefaultSources()));
  SKAP_ASSIGN_OR_RETURN(auto keystore, keystore::FileKeystore::Create(KekPath(dir), *entropy));
  SKAP_ASSIGN_OR_RETURN(auto db, store::SqliteDatabase::Open(DbPath(dir), true));
  SKAP_RETURN_IF_ERROR(store::Migrate(*db, HubMigrations(*keystore), clock));
  SKAP_RETURN_IF_ERROR(keystore->RefuseUnbound());
  SKAP_ASSIGN_OR_RETURN(std::string hub_id, crypto::NewUuid(*entropy));
  SecretBytes audit_key(AuditLog::kMacKeySize);
  SKAP_RETURN_IF_ERROR(
      entropy->Generate(audit_key.MutableExpose(), entropy::PredictionResistance::kYes));
  SKAP_ASSIGN_OR_RETURN(auto wrapped,
                        keystore->Wrap(audit_key.Expose(), HubKeyBinding(kAuditKeyName)));
  AuditLog audit(*db, std::move(audit_key), clock);
  const std::int64_t now = clock();
  SKAP_RETURN_IF_ERROR(store::InTransaction(*db, [&]() -> Result<void> {
    SKAP_RETURN_IF_ERROR(db->Execute(
        "INSERT INTO hub_info (id, hub_id, created_at_ms) VALUES (1, $1, $2)", {hub_id, now}));
    SKAP_RETURN_IF_ERROR(
        db->Execute("INSERT INTO hub_keys (name, wrapped, created_at_ms) VALUES ($1, $2, $3)",
                    {std::string(kAuditKeyName), store::Blob(wrapped), now}));
    SKAP_RETURN_IF_ERROR(audit.AppendInCurrentTransaction(
        {"hub", "hub.init", hub_id, "ok", R"({"keystore":"file"})", std::string()}, now));
    return Ok();
  }));
  return hub_id;
}

Result<std::unique_ptr<HubNode>> HubNode::Open(const std::string& dir,
                                               const RelayLimits& relay_limits, Clock clock) {
  std::unique_ptr<HubNode> node(new HubNode());
  node->clock_ = std::move(clock);
  SKAP_ASSIGN_OR_RETURN(node->entropy_,
                        entropy::EntropyService::Create(entropy::EntropyService::DefaultSources()));
  SKAP_ASSIGN_OR_RETURN(node->keystore_, keystore::FileKeystore::Open(KekPath(dir)));
  SKAP_ASSIGN_OR_RETURN(node->db_, store::SqliteDatabase::Open(DbPath(dir), false));
  SKAP_RETURN_IF_ERROR(store::Migrate(*node->db_, HubMigrations(*node->keystore_), node->clock_));
  // Every key of hub.db is bound now (version 10): a writer who rolls the
  // schema back cannot have an old unbound key rebound (keystore.h).
  SKAP_RETURN_IF_ERROR(node->keystore_->RefuseUnbound());
  SKAP_ASSIGN_OR_RETURN(auto info, node->db_->Query("SELECT hub_id FROM hub_info WHERE id = 1"));
  SKAP_ASSIGN_OR_RETURN(auto keys, node->db_->Query("SELECT wrapped FROM hub_keys WHERE name = $1",
                                                    {std::string(kAuditKeyName)}));
  if (info.empty() || keys.empty()) {
    return Unexpected(ErrorCode::kFailedPrecondition, dir + " is not an initialised hub");
  }
  node->hub_id_ = store::AsText(info[0][0]).value_or("");
  SKAP_ASSIGN_OR_RETURN(auto audit_key,
                        node->keystore_->Unwrap(store::AsBlob(keys[0][0]).value_or(store::Blob{}),
                                                HubKeyBinding(kAuditKeyName)));
  node->audit_ = std::make_unique<AuditLog>(*node->db_, std::move(audit_key), node->clock_);
  node->registry_ = std::make_unique<Registry>(*node->db_, *node->keystore_, *node->entropy_,
                                               *node->audit_, node->hub_id_, node->clock_);
  node->relay_ = std::make_unique<AgreementRelay>(*node->registry_, *node->db_, *node->keystore_,
                                                  *node->audit_, node->clock_, relay_limits);
  return node;
}

}  // namespace skap::hub
