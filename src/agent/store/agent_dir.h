// An agent's data directory and everything opened from it:
//
//   DIR/                 mode 0700
//     local.kek          the local key-encryption key (32 bytes, 0600)
//     hubs/<hub id>.state  the channel state towards each hub (hub_channel_state.h)
//     agent.db           SQLite (WAL, 0600): agreements and pairwise sessions
//     agent.lock         held by the one process using DIR
//
// Every secret on disk is wrapped under the local KEK (RFC 5649).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "agent/store/directory_lock.h"
#include "agent/store/hub_channel_state.h"
#include "common/clock.h"
#include "common/result.h"
#include "crypto/rng.h"
#include "keystore/file_keystore.h"
#include "store/sqlite/sqlite_database.h"

namespace skap::agent {

class AgentDir {
 public:
  // Open opens the agent in `dir`, taking its lock; with `create`, a
  // missing directory is made (fresh KEK and database drawn from `rng`).
  static Result<std::unique_ptr<AgentDir>> Open(const std::string& dir, bool create,
                                                crypto::Rng* rng = nullptr,
                                                const Clock& clock = SystemClock());

  const std::string& dir() const { return dir_; }
  keystore::Keystore& kek() { return *kek_; }
  store::Database& db() { return *db_; }

  // SaveHub replaces the channel state towards `state.hub.hub_id` atomically.
  Result<void> SaveHub(const HubChannelState& state);
  // LoadHub reads it back (kNotFound for a hub the device is not enrolled at).
  Result<HubChannelState> LoadHub(const std::string& hub_id);
  // LoadHubs reads every hub's state, in hub id order.
  Result<std::vector<HubChannelState>> LoadHubs();

 private:
  AgentDir(std::string dir, DirectoryLock lock) : dir_(std::move(dir)), lock_(std::move(lock)) {}
  std::string HubPath(const std::string& hub_id) const;

  std::string dir_;
  DirectoryLock lock_;
  std::unique_ptr<keystore::FileKeystore> kek_;
  std::unique_ptr<store::SqliteDatabase> db_;
};

}  // namespace skap::agent
