#include "agent/store/agent_dir.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>

#include "agent/store/agent_schema.h"
#include "crypto/uuid.h"
#include "store/migrations.h"

namespace skap::agent {
namespace {

std::string KekPath(const std::string& dir) { return dir + "/local.kek"; }
std::string HubsDir(const std::string& dir) { return dir + "/hubs"; }

Result<void> MakePrivateDir(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Unexpected(ErrorCode::kIoError, "create " + dir + ": " + ec.message());
  if (chmod(dir.c_str(), S_IRWXU) != 0) {
    return Unexpected(ErrorCode::kIoError, "chmod " + dir + ": " + ErrnoText(errno));
  }
  return Ok();
}

}  // namespace

Result<std::unique_ptr<AgentDir>> AgentDir::Open(const std::string& dir, bool create,
                                                 crypto::Rng* rng, const Clock& clock) {
  const bool exists = std::filesystem::exists(KekPath(dir));
  if (!exists && !create) {
    return Unexpected(ErrorCode::kNotFound,
                      dir + " holds no agent (create it with skap-agent enroll)");
  }
  if (!exists) SKAP_RETURN_IF_ERROR(MakePrivateDir(dir));
  SKAP_ASSIGN_OR_RETURN(auto lock, DirectoryLock::TryAcquire(dir + "/agent.lock"));
  std::unique_ptr<AgentDir> store(new AgentDir(dir, std::move(lock)));
  if (!exists) {
    if (rng == nullptr) return Unexpected(ErrorCode::kInvalidArgument, "creating needs an rng");
    SKAP_RETURN_IF_ERROR(MakePrivateDir(HubsDir(dir)));
    SKAP_ASSIGN_OR_RETURN(store->kek_, keystore::FileKeystore::Create(KekPath(dir), *rng));
  } else {
    SKAP_ASSIGN_OR_RETURN(store->kek_, keystore::FileKeystore::Open(KekPath(dir)));
  }
  SKAP_ASSIGN_OR_RETURN(store->db_, store::SqliteDatabase::Open(dir + "/agent.db", true));
  SKAP_RETURN_IF_ERROR(store::Migrate(*store->db_, AgentMigrations(*store->kek_), clock));
  return store;
}

std::string AgentDir::HubPath(const std::string& hub_id) const {
  return HubsDir(dir_) + "/" + hub_id + ".state";
}

Result<void> AgentDir::SaveHub(const HubChannelState& state) {
  // The id names a file: only the form hubs give themselves is accepted.
  if (!crypto::IsCanonicalUuid(state.hub.hub_id)) {
    return Unexpected(ErrorCode::kInvalidArgument, "hub id is not a UUID");
  }
  return SaveHubChannelState(HubPath(state.hub.hub_id), state, *kek_);
}

Result<HubChannelState> AgentDir::LoadHub(const std::string& hub_id) {
  if (!crypto::IsCanonicalUuid(hub_id) || !std::filesystem::exists(HubPath(hub_id))) {
    return Unexpected(ErrorCode::kNotFound, "not enrolled at hub " + hub_id);
  }
  SKAP_ASSIGN_OR_RETURN(auto state, LoadHubChannelState(HubPath(hub_id), *kek_));
  // A whole file copied over another hub's is not that hub's state.
  if (state.hub.hub_id != hub_id) {
    return Unexpected(ErrorCode::kFailedPrecondition,
                      HubPath(hub_id) + " holds the state of hub " + state.hub.hub_id);
  }
  return state;
}

Result<std::vector<HubChannelState>> AgentDir::LoadHubs() {
  std::vector<std::string> ids;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(HubsDir(dir_), ec)) {
    if (entry.path().extension() == ".state") ids.push_back(entry.path().stem().string());
  }
  if (ec) return Unexpected(ErrorCode::kIoError, HubsDir(dir_) + ": " + ec.message());
  std::sort(ids.begin(), ids.end());
  std::vector<HubChannelState> out;
  for (const auto& id : ids) {
    SKAP_ASSIGN_OR_RETURN(auto state, LoadHub(id));
    out.push_back(std::move(state));
  }
  return out;
}

}  // namespace skap::agent
