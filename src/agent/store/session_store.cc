#include "agent/store/session_store.h"

#include <algorithm>
#include <array>
#include <set>
#include <tuple>
#include <utility>

#include "common/crash_point.h"
#include "crypto/fingerprint.h"
#include "keystore/rebind.h"

namespace skap::agent {
namespace {

// This store's part of agent.db's schema (agent_schema.cc orders the whole):
// version 1 made the first sessions; version 2 gave each epoch two chains,
// one per direction (docs/protocol.md, "Session"); the chains of version 1
// were derived differently and cannot be carried over, so sessions start
// afresh with the next agreement; version 3 keeps PS_e, the root of the
// peer channel's keys, per epoch held (wrapped).
constexpr std::string_view kSessionsV1 = R"sql(CREATE TABLE sessions (
  peer TEXT PRIMARY KEY,
  epoch BIGINT NOT NULL,            -- e: agreements so far
  wrapped_root BLOB NOT NULL,       -- RK_e
  key_id_tag BLOB NOT NULL,         -- T_e (public)
  wrapped_chain BLOB NOT NULL,      -- CK_{e, next_index}
  next_index BIGINT NOT NULL,
  previous_epoch BIGINT,            -- e - 1, kept until the next re-seed, so the peer
  previous_key_id_tag BLOB,         -- can still fetch keys of it by id
  wrapped_previous_chain BLOB,
  previous_next_index BIGINT,
  keys_issued BIGINT NOT NULL,      -- since the last re-seed
  established_at_ms BIGINT NOT NULL,
  reseeded_at_ms BIGINT NOT NULL
);
-- Keys skipped over to reach a later key id, until the peer's consumer asks
-- for them (the bounded out-of-order window).
CREATE TABLE skipped_keys (
  peer TEXT NOT NULL,
  epoch BIGINT NOT NULL,
  idx BIGINT NOT NULL,
  wrapped_key BLOB NOT NULL,
  PRIMARY KEY (peer, epoch, idx)
);
)sql";
constexpr std::string_view kSessionsV2 = R"sql(
DROP TABLE skipped_keys;
DROP TABLE sessions;
CREATE TABLE sessions (
  peer TEXT PRIMARY KEY,
  epoch BIGINT NOT NULL,            -- e: agreements so far
  wrapped_root BLOB NOT NULL,       -- RK_e
  previous_epoch BIGINT,            -- e - 1, whose chains stay until the next re-seed
  keys_issued BIGINT NOT NULL,      -- since the last re-seed
  established_at_ms BIGINT NOT NULL,
  reseeded_at_ms BIGINT NOT NULL
);
-- The chains of the current and the previous epoch, two each.
CREATE TABLE chains (
  peer TEXT NOT NULL,
  epoch BIGINT NOT NULL,
  direction INTEGER NOT NULL CHECK (direction IN (0, 1)),
  key_id_tag BLOB NOT NULL,         -- T_e (public)
  wrapped_chain BLOB NOT NULL,      -- CK_{e, d, next_index}
  next_index BIGINT NOT NULL,
  PRIMARY KEY (peer, epoch, direction)
);
-- Keys skipped over to reach a later key id, until the peer's consumer asks
-- for them (the bounded out-of-order window).
CREATE TABLE skipped_keys (
  peer TEXT NOT NULL,
  epoch BIGINT NOT NULL,
  direction INTEGER NOT NULL,
  idx BIGINT NOT NULL,
  wrapped_key BLOB NOT NULL,
  PRIMARY KEY (peer, epoch, direction, idx)
);
)sql";
constexpr std::string_view kSessionsV3 = R"sql(
CREATE TABLE peer_secrets (
  peer TEXT NOT NULL,
  epoch BIGINT NOT NULL,
  wrapped_secret BLOB NOT NULL,     -- PS_e
  PRIMARY KEY (peer, epoch)
);
)sql";
// Version 7 counts the keys of the peer's chain that aged out unfetched
// (the window was full).
constexpr std::string_view kSessionsV7 = R"sql(
ALTER TABLE sessions ADD COLUMN keys_aged_out BIGINT NOT NULL DEFAULT 0;
)sql";

using pairwise::ChainDirection;
using store::AsBlob;
using store::AsInt;
using store::AsText;
using store::Blob;

pairwise::KeyIdTag TagOf(const store::Value& value) {
  pairwise::KeyIdTag tag{};
  const Blob b = AsBlob(value).value_or(Blob{});
  std::copy_n(b.begin(), std::min(b.size(), tag.size()), tag.begin());
  return tag;
}

Blob BlobOf(const pairwise::KeyIdTag& tag) { return Blob(tag.begin(), tag.end()); }

std::int64_t Int(std::uint64_t v) { return static_cast<std::int64_t>(v); }
std::int64_t Int(ChainDirection d) { return static_cast<std::int64_t>(d); }

// Each wrapped key is bound to its row (keystore.h): a root key or PS_e to its
// peer and epoch, a chain key to its chain, a skipped key to its key id.
keystore::WrapBinding RootBinding(const std::string& peer, std::int64_t epoch) {
  return {keystore::kPurposeSessionRoot, keystore::RowOf({peer, std::to_string(epoch)})};
}
keystore::WrapBinding SecretBinding(const std::string& peer, std::uint64_t epoch) {
  return {keystore::kPurposePeerSecret, keystore::RowOf({peer, std::to_string(epoch)})};
}
keystore::WrapBinding ChainBinding(const std::string& peer, std::uint64_t epoch, ChainDirection d) {
  return {keystore::kPurposeChainKey,
          keystore::RowOf({peer, std::to_string(epoch), std::to_string(Int(d))})};
}
keystore::WrapBinding SkippedBinding(const std::string& peer, std::uint64_t epoch, ChainDirection d,
                                     std::uint32_t index) {
  return {keystore::kPurposeSkippedKey,
          keystore::RowOf(
              {peer, std::to_string(epoch), std::to_string(Int(d)), std::to_string(index)})};
}

constexpr std::string_view kNoSession = "no session with this peer: agree a key first";
// The session's epoch, and when it was last re-seeded (for max_age).
constexpr std::string_view kEpochAndAge =
    "SELECT epoch, reseeded_at_ms FROM sessions WHERE peer = $1";
constexpr std::string_view kNoSuchKey = "no such key id in this session";
constexpr std::array kDirections = {ChainDirection::kLowerIssues, ChainDirection::kHigherIssues};

// StoredChain is one chain as stored.
struct StoredChain {
  pairwise::KeyIdTag tag{};
  Blob wrapped_chain;
  std::uint32_t next_index = 0;
};

Result<std::optional<StoredChain>> LoadChain(store::Database& db, const std::string& peer,
                                             std::uint64_t epoch, ChainDirection d) {
  SKAP_ASSIGN_OR_RETURN(auto rows,
                        db.Query("SELECT key_id_tag, wrapped_chain, next_index FROM chains"
                                 " WHERE peer = $1 AND epoch = $2 AND direction = $3",
                                 {peer, Int(epoch), Int(d)}));
  if (rows.empty()) return std::optional<StoredChain>();
  return std::optional<StoredChain>(
      StoredChain{TagOf(rows[0][0]), AsBlob(rows[0][1]).value_or(Blob{}),
                  static_cast<std::uint32_t>(AsInt(rows[0][2]).value_or(0))});
}

Result<void> SaveChain(store::Database& db, const std::string& peer, std::uint64_t epoch,
                       ChainDirection d, const Blob& wrapped_chain, std::int64_t next_index) {
  SKAP_RETURN_IF_ERROR(
      db.Execute("UPDATE chains SET wrapped_chain = $4, next_index = $5"
                 " WHERE peer = $1 AND epoch = $2 AND direction = $3",
                 {peer, Int(epoch), Int(d), wrapped_chain, next_index}));
  return Ok();
}

}  // namespace

std::string_view SessionStore::MigrationSql(int version) {
  switch (version) {
    case 1:
      return kSessionsV1;
    case 2:
      return kSessionsV2;
    case 3:
      return kSessionsV3;
    case 7:
      return kSessionsV7;
    default:
      return {};
  }
}

Result<void> SessionStore::BindWrappedKeys(store::Database& db, keystore::Keystore& kek) {
  const auto text = [](const store::Value& v) { return AsText(v).value_or(""); };
  const auto number = [](const store::Value& v) { return AsInt(v).value_or(-1); };
  const auto direction = [&](const store::Value& v) {
    return static_cast<ChainDirection>(number(v));
  };
  const std::array<keystore::WrappedColumn, 4> columns = {{
      {"sessions",
       "wrapped_root",
       {"peer", "epoch"},
       [&](const store::Row& k) { return RootBinding(text(k[0]), number(k[1])); }},
      {"peer_secrets",
       "wrapped_secret",
       {"peer", "epoch"},
       [&](const store::Row& k) {
         return SecretBinding(text(k[0]), static_cast<std::uint64_t>(number(k[1])));
       }},
      {"chains",
       "wrapped_chain",
       {"peer", "epoch", "direction"},
       [&](const store::Row& k) {
         return ChainBinding(text(k[0]), static_cast<std::uint64_t>(number(k[1])), direction(k[2]));
       }},
      {"skipped_keys",
       "wrapped_key",
       {"peer", "epoch", "direction", "idx"},
       [&](const store::Row& k) {
         return SkippedBinding(text(k[0]), static_cast<std::uint64_t>(number(k[1])),
                               direction(k[2]), static_cast<std::uint32_t>(number(k[3])));
       }},
  }};
  for (const auto& c : columns) SKAP_RETURN_IF_ERROR(keystore::BindWrappedColumn(db, kek, c));
  return Ok();
}

Result<void> SessionStore::EraseInCurrentTransaction(const std::string& peer) {
  reserved_.erase(peer);
  ++generation_;
  for (const char* table : {"skipped_keys", "chains", "peer_secrets", "sessions"}) {
    SKAP_RETURN_IF_ERROR(
        db_.Execute("DELETE FROM " + std::string(table) + " WHERE peer = $1", {peer}));
  }
  for (const auto& forget : fresh_session_observers_) SKAP_RETURN_IF_ERROR(forget(peer));
  return Ok();
}

Result<void> SessionStore::ApplyInCurrentTransaction(const std::string& peer, std::uint64_t epoch,
                                                     std::span<const std::uint8_t> pair_key) {
  const std::int64_t now = now_();
  SKAP_ASSIGN_OR_RETURN(
      auto rows, db_.Query("SELECT epoch, wrapped_root FROM sessions WHERE peer = $1", {peer}));
  const std::int64_t current = rows.empty() ? 0 : AsInt(rows[0][0]).value_or(0);
  SecretBytes previous_root;
  if (epoch != 1) {
    if (rows.empty() || static_cast<std::uint64_t>(current) + 1 != epoch) {
      return Unexpected(ErrorCode::kFailedPrecondition,
                        "session epoch mismatch: this side is at epoch " + std::to_string(current) +
                            ", the agreement makes epoch " + std::to_string(epoch));
    }
    SKAP_ASSIGN_OR_RETURN(previous_root, kek_.Unwrap(AsBlob(rows[0][1]).value_or(Blob{}),
                                                     RootBinding(peer, current)));
  }
  SKAP_ASSIGN_OR_RETURN(auto root, pairwise::NextRootKey(previous_root.Expose(), pair_key));
  SKAP_ASSIGN_OR_RETURN(const auto tag, pairwise::DeriveKeyIdTag(root.Expose()));
  SKAP_ASSIGN_OR_RETURN(const auto wrapped_root,
                        kek_.Wrap(root.Expose(), RootBinding(peer, Int(epoch))));
  reserved_.erase(peer);  // keys of this side's previous chain stay unused
  ++generation_;
  if (epoch == 1) {
    // A fresh start: nothing of an earlier session with this peer remains.
    SKAP_RETURN_IF_ERROR(EraseInCurrentTransaction(peer));
    SKAP_RETURN_IF_ERROR(
        db_.Execute("INSERT INTO sessions (peer, epoch, wrapped_root, keys_issued,"
                    " established_at_ms, reseeded_at_ms) VALUES ($1, 1, $2, 0, $3, $3)",
                    {peer, Blob(wrapped_root), now}));
  } else {
    // The epoch before last closes: its keys can no longer be asked for.
    for (const char* table : {"skipped_keys", "chains", "peer_secrets"}) {
      SKAP_RETURN_IF_ERROR(
          db_.Execute("DELETE FROM " + std::string(table) + " WHERE peer = $1 AND epoch < $2",
                      {peer, current}));
    }
    SKAP_RETURN_IF_ERROR(
        db_.Execute("UPDATE sessions SET epoch = $2, wrapped_root = $3, previous_epoch = $4,"
                    " keys_issued = 0, reseeded_at_ms = $5 WHERE peer = $1",
                    {peer, Int(epoch), Blob(wrapped_root), current, now}));
  }
  SKAP_RETURN_IF_ERROR(StorePeerSecret(peer, epoch, root.Expose()));
  for (const ChainDirection d : kDirections) {
    SKAP_ASSIGN_OR_RETURN(auto chain, pairwise::FirstChainKey(root.Expose(), epoch, d));
    SKAP_ASSIGN_OR_RETURN(const auto wrapped_chain,
                          kek_.Wrap(chain.Expose(), ChainBinding(peer, epoch, d)));
    SKAP_RETURN_IF_ERROR(
        db_.Execute("INSERT INTO chains (peer, epoch, direction, key_id_tag, wrapped_chain,"
                    " next_index) VALUES ($1, $2, $3, $4, $5, 0)",
                    {peer, Int(epoch), Int(d), BlobOf(tag), Blob(wrapped_chain)}));
  }
  return Ok();
}

namespace {

// The chain positions are those of the current epoch; $1 is this side's direction.
constexpr std::string_view kInfoQuery =
    "SELECT s.peer, s.epoch, s.previous_epoch, s.keys_issued, s.established_at_ms,"
    " s.reseeded_at_ms, s.keys_aged_out,"
    " (SELECT COUNT(*) FROM skipped_keys k WHERE k.peer = s.peer),"
    " (SELECT next_index FROM chains c WHERE c.peer = s.peer AND c.epoch = s.epoch"
    "   AND c.direction = $1),"
    " (SELECT next_index FROM chains c WHERE c.peer = s.peer AND c.epoch = s.epoch"
    "   AND c.direction = 1 - $1)"
    " FROM sessions s ";

SessionInfo InfoFromRow(const store::Row& row) {
  SessionInfo s;
  s.peer = AsText(row[0]).value_or("");
  s.epoch = static_cast<std::uint64_t>(AsInt(row[1]).value_or(0));
  if (const auto previous = AsInt(row[2])) s.previous_epoch = static_cast<std::uint64_t>(*previous);
  s.keys_issued = AsInt(row[3]).value_or(0);
  s.established_at_ms = AsInt(row[4]).value_or(0);
  s.reseeded_at_ms = AsInt(row[5]).value_or(0);
  s.keys_aged_out = AsInt(row[6]).value_or(0);
  s.keys_waiting = AsInt(row[7]).value_or(0);
  s.next_index = static_cast<std::uint32_t>(AsInt(row[8]).value_or(0));
  s.peer_next_index = static_cast<std::uint32_t>(AsInt(row[9]).value_or(0));
  return s;
}

}  // namespace

Result<std::optional<SessionInfo>> SessionStore::Get(const std::string& peer) {
  SKAP_ASSIGN_OR_RETURN(auto rows, db_.Query(std::string(kInfoQuery) + "WHERE s.peer = $2",
                                             {Int(pairwise::IssuingDirection(self_, peer)), peer}));
  if (rows.empty()) return std::optional<SessionInfo>();
  auto info = InfoFromRow(rows[0]);
  info.expired = Expired(info.reseeded_at_ms);
  return std::optional<SessionInfo>(std::move(info));
}

Result<std::vector<SessionInfo>> SessionStore::List() {
  SKAP_ASSIGN_OR_RETURN(auto rows, db_.Query("SELECT peer FROM sessions ORDER BY peer"));
  std::vector<SessionInfo> out;
  out.reserve(rows.size());
  for (const auto& row : rows) {
    SKAP_ASSIGN_OR_RETURN(auto info, Get(AsText(row[0]).value_or("")));
    if (info) out.push_back(std::move(*info));
  }
  return out;
}

Result<IssuedKey> SessionStore::Issue(pairwise::KeyId id, SecretBytes key,
                                      const pairwise::KeyIdTag& tag) {
  IssuedKey out;
  out.key_id = pairwise::FormatKeyId(tag, id);
  out.id = id;
  SKAP_ASSIGN_OR_RETURN(out.fingerprint, crypto::KeyFingerprint(key.Expose()));
  out.key = std::move(key);
  return out;
}

bool SessionStore::Expired(std::int64_t reseeded_at_ms) const {
  return max_age_.count() > 0 && now_() - reseeded_at_ms > max_age_.count();
}

Result<void> SessionStore::ServesKeys(const store::Value& reseeded_at_ms) const {
  const std::int64_t at = AsInt(reseeded_at_ms).value_or(0);
  if (!Expired(at)) return Ok();
  const std::int64_t age_ms = now_() - at;
  return Unexpected(ErrorCode::kUnavailable, "the session was last re-seeded " +
                                                 std::to_string(age_ms / 1000) +
                                                 " s ago, more than session_max_age_s (" +
                                                 std::to_string(max_age_.count() / 1000) +
                                                 "): no key until an agreement re-seeds it");
}

Result<SessionStore::EpochPpk> SessionStore::CurrentPpk(const std::string& peer) {
  SKAP_ASSIGN_OR_RETURN(
      auto rows,
      db_.Query("SELECT epoch, wrapped_root, reseeded_at_ms FROM sessions WHERE peer = $1",
                {peer}));
  if (rows.empty()) return Unexpected(ErrorCode::kNotFound, std::string(kNoSession));
  SKAP_RETURN_IF_ERROR(ServesKeys(rows[0][2]));
  EpochPpk out;
  out.epoch = static_cast<std::uint64_t>(AsInt(rows[0][0]).value_or(0));
  SKAP_ASSIGN_OR_RETURN(auto root, kek_.Unwrap(AsBlob(rows[0][1]).value_or(Blob{}),
                                               RootBinding(peer, Int(out.epoch))));
  SKAP_ASSIGN_OR_RETURN(out.ppk, pairwise::DerivePpk(root.Expose(), out.epoch));
  return out;
}

Result<void> SessionStore::StorePeerSecret(const std::string& peer, std::uint64_t epoch,
                                           std::span<const std::uint8_t> root) {
  SKAP_ASSIGN_OR_RETURN(auto secret, pairwise::DerivePeerSecret(root, epoch));
  SKAP_ASSIGN_OR_RETURN(const auto wrapped, kek_.Wrap(secret.Expose(), SecretBinding(peer, epoch)));
  SKAP_RETURN_IF_ERROR(db_.Execute(
      "INSERT OR REPLACE INTO peer_secrets (peer, epoch, wrapped_secret) VALUES ($1, $2, $3)",
      {peer, Int(epoch), Blob(wrapped)}));
  return Ok();
}

Result<std::vector<SessionStore::EpochSecret>> SessionStore::PeerSecrets(const std::string& peer) {
  SKAP_ASSIGN_OR_RETURN(
      auto session, db_.Query("SELECT epoch, wrapped_root FROM sessions WHERE peer = $1", {peer}));
  if (session.empty()) return Unexpected(ErrorCode::kNotFound, std::string(kNoSession));
  const auto current = static_cast<std::uint64_t>(AsInt(session[0][0]).value_or(0));
  SKAP_ASSIGN_OR_RETURN(auto rows, db_.Query("SELECT epoch, wrapped_secret FROM peer_secrets"
                                             " WHERE peer = $1 ORDER BY epoch DESC",
                                             {peer}));
  // A session made before the peer channel existed has no PS_e stored yet.
  if (rows.empty() || static_cast<std::uint64_t>(AsInt(rows[0][0]).value_or(0)) != current) {
    SKAP_ASSIGN_OR_RETURN(auto root, kek_.Unwrap(AsBlob(session[0][1]).value_or(Blob{}),
                                                 RootBinding(peer, Int(current))));
    SKAP_RETURN_IF_ERROR(StorePeerSecret(peer, current, root.Expose()));
    return PeerSecrets(peer);
  }
  std::vector<EpochSecret> out;
  for (const auto& row : rows) {
    EpochSecret e;
    e.epoch = static_cast<std::uint64_t>(AsInt(row[0]).value_or(0));
    SKAP_ASSIGN_OR_RETURN(
        e.secret, kek_.Unwrap(AsBlob(row[1]).value_or(Blob{}), SecretBinding(peer, e.epoch)));
    out.push_back(std::move(e));
  }
  return out;
}

Result<std::vector<SessionStore::Taken>> SessionStore::TakeRunInTransaction(const std::string& peer,
                                                                            std::uint32_t at_least,
                                                                            std::uint32_t at_most) {
  const ChainDirection mine = pairwise::IssuingDirection(self_, peer);
  SKAP_ASSIGN_OR_RETURN(auto rows, db_.Query("SELECT epoch FROM sessions WHERE peer = $1", {peer}));
  if (rows.empty()) return Unexpected(ErrorCode::kNotFound, std::string(kNoSession));
  const auto epoch = static_cast<std::uint64_t>(AsInt(rows[0][0]).value_or(0));
  SKAP_ASSIGN_OR_RETURN(auto chain, LoadChain(db_, peer, epoch, mine));
  if (!chain) return Unexpected(ErrorCode::kFailedPrecondition, "session without its chain");
  // A chain made before the bound may already lie past it.
  const std::uint32_t left = chain->next_index >= pairwise::kMaxKeysPerEpoch
                                 ? 0
                                 : pairwise::kMaxKeysPerEpoch - chain->next_index;
  if (left < at_least) {
    return Unexpected(ErrorCode::kLimitExceeded, "this epoch's keys are spent: re-seed");
  }
  const std::uint32_t n = std::min(at_most, left);
  SKAP_ASSIGN_OR_RETURN(auto ck,
                        kek_.Unwrap(chain->wrapped_chain, ChainBinding(peer, epoch, mine)));
  std::vector<Taken> out;
  out.reserve(n);
  for (std::uint32_t i = 0; i < n; ++i) {
    SKAP_ASSIGN_OR_RETURN(auto step, pairwise::ChainStep(ck.Expose()));
    ck = std::move(step.next_chain_key);
    out.push_back({{epoch, mine, chain->next_index + i}, chain->tag, std::move(step.consumer_key)});
  }
  SKAP_ASSIGN_OR_RETURN(const auto wrapped,
                        kek_.Wrap(ck.Expose(), ChainBinding(peer, epoch, mine)));
  // The chain key past the run replaces the one before it in the same
  // commit that records the run as taken: forward secrecy, and no re-issue.
  SKAP_RETURN_IF_ERROR(
      SaveChain(db_, peer, epoch, mine, Blob(wrapped), std::int64_t{chain->next_index} + n));
  SKAP_RETURN_IF_ERROR(
      db_.Execute("UPDATE sessions SET keys_issued = keys_issued + $2 WHERE peer = $1",
                  {peer, std::int64_t{n}}));
  return out;
}

Result<std::vector<IssuedKey>> SessionStore::NextKeys(const std::string& peer, std::uint32_t count,
                                                      const std::string& pool_name,
                                                      const RunTaken& on_run) {
  SKAP_ASSIGN_OR_RETURN(auto rows, db_.Query(std::string(kEpochAndAge), {peer}));
  if (rows.empty()) {
    reserved_.erase(peer);
    return Unexpected(ErrorCode::kNotFound, std::string(kNoSession));
  }
  SKAP_RETURN_IF_ERROR(ServesKeys(rows[0][1]));
  const auto epoch = static_cast<std::uint64_t>(AsInt(rows[0][0]).value_or(0));
  Reserved& pool = reserved_[peer][pool_name];
  if (pool.epoch != epoch) pool = Reserved{epoch, {}};  // a re-seed drops the old epoch's
  if (pool.keys.size() < count) {
    const auto missing = count - static_cast<std::uint32_t>(pool.keys.size());
    std::vector<Taken> taken;
    SKAP_RETURN_IF_ERROR(store::InTransaction(db_, [&]() -> Result<void> {
      SKAP_ASSIGN_OR_RETURN(taken,
                            TakeRunInTransaction(peer, missing, std::max(missing, reserve_)));
      if (!on_run) return Ok();
      std::vector<pairwise::KeyId> run;
      run.reserve(taken.size());
      for (const auto& t : taken) run.push_back(t.id);
      return on_run(run);
    }));
    CrashPoint("agent.key.after-commit");
    for (auto& t : taken) pool.keys.push_back(std::move(t));
  }
  std::vector<Taken> out;
  for (std::uint32_t i = 0; i < count; ++i) {
    out.push_back(std::move(pool.keys.front()));
    pool.keys.pop_front();
  }
  return IssueAll(std::move(out));
}

Result<IssuedKey> SessionStore::NextKey(const std::string& peer) {
  SKAP_ASSIGN_OR_RETURN(auto keys, NextKeys(peer, 1));
  return std::move(keys.front());
}

Result<std::vector<IssuedKey>> SessionStore::IssueAll(std::vector<Taken> taken) {
  std::vector<IssuedKey> out;
  out.reserve(taken.size());
  for (auto& t : taken) {
    SKAP_ASSIGN_OR_RETURN(auto issued, Issue(t.id, std::move(t.key), t.tag));
    out.push_back(std::move(issued));
  }
  return out;
}

Result<bool> SessionStore::NamesPeerKey(const std::string& peer, const std::string& key_id) {
  const auto id = pairwise::ParseKeyId(key_id);
  if (!id || id->direction == pairwise::IssuingDirection(self_, peer)) return false;
  SKAP_ASSIGN_OR_RETURN(auto chain, LoadChain(db_, peer, id->epoch, id->direction));
  return chain.has_value() && pairwise::KeyIdMatches(key_id, chain->tag);
}

Result<SessionStore::Taken> SessionStore::TakeByIdInTransaction(const std::string& peer,
                                                                const std::string& key_id,
                                                                ById mode) {
  const bool take = mode == ById::kTake;
  const auto id = pairwise::ParseKeyId(key_id);
  if (!id) return Unexpected(ErrorCode::kInvalidArgument, "not a SKAP key id");
  if (id->direction == pairwise::IssuingDirection(self_, peer)) {
    // This side hands that key out itself, as a next key; only the peer
    // fetches it by id.
    return Unexpected(ErrorCode::kNotFound,
                      "that key id is of this side's own chain: only the peer fetches it by id");
  }
  Taken out;
  out.id = *id;
  SKAP_ASSIGN_OR_RETURN(auto rows, db_.Query(std::string(kEpochAndAge), {peer}));
  const std::int64_t held = rows.empty() ? 0 : AsInt(rows[0][0]).value_or(0);
  if (held >= 1 && Int(id->epoch) == held + 1) {
    // The peer hands out keys of an epoch once it has confirmed it, and this
    // side confirms a moment later: a key of the next epoch is not gone but
    // not here yet (its tag cannot be checked before then). If the re-seed
    // never completes here (its last message lost), the answer stays "retry"
    // until the next agreement.
    return Unexpected(ErrorCode::kUnavailable, "that key is of epoch " + std::to_string(id->epoch) +
                                                   "; this side holds epoch " +
                                                   std::to_string(held) +
                                                   " until the re-seed completes: retry");
  }
  if (rows.empty()) return Unexpected(ErrorCode::kNotFound, std::string(kNoSession));
  SKAP_RETURN_IF_ERROR(ServesKeys(rows[0][1]));
  const bool current = held == Int(id->epoch);
  SKAP_ASSIGN_OR_RETURN(auto chain, LoadChain(db_, peer, id->epoch, id->direction));
  if (!chain || !pairwise::KeyIdMatches(key_id, chain->tag) ||
      id->index >= pairwise::kMaxKeysPerEpoch) {
    return Unexpected(ErrorCode::kNotFound, std::string(kNoSuchKey));
  }
  out.tag = chain->tag;
  if (id->index < chain->next_index) {
    SKAP_ASSIGN_OR_RETURN(
        auto skipped,
        db_.Query("SELECT wrapped_key FROM skipped_keys WHERE peer = $1 AND"
                  " epoch = $2 AND direction = $3 AND idx = $4",
                  {peer, Int(id->epoch), Int(id->direction), std::int64_t{id->index}}));
    if (skipped.empty()) {
      return Unexpected(ErrorCode::kNotFound,
                        "that key was handed out already, or aged out unfetched: it is erased");
    }
    out.waiting = true;
    if (mode == ById::kCheck) return out;
    SKAP_ASSIGN_OR_RETURN(out.key,
                          kek_.Unwrap(AsBlob(skipped[0][0]).value_or(Blob{}),
                                      SkippedBinding(peer, id->epoch, id->direction, id->index)));
    if (!take) return out;
    SKAP_RETURN_IF_ERROR(db_.Execute(
        "DELETE FROM skipped_keys WHERE peer = $1 AND epoch = $2 AND direction = $3 AND idx = $4",
        {peer, Int(id->epoch), Int(id->direction), std::int64_t{id->index}}));
    return out;
  }
  // The chain steps to the key, however far ahead (kMaxKeysPerEpoch bounds
  // it). Of the keys stepped over only the last `window_` are kept, and the
  // oldest kept age out to make room for them: a consumer that fell behind
  // loses the keys it never fetched, never the ones after them.
  const std::uint32_t skip = id->index - chain->next_index;
  const std::uint32_t keep = std::min(skip, window_);
  // Showing keeps nothing, so it could step a forged id's whole way again
  // and again: a key further ahead than the window is shown by taking it.
  if (mode == ById::kPeek && skip > window_) {
    return Unexpected(ErrorCode::kLimitExceeded, "that key is more than key_window (" +
                                                     std::to_string(window_) +
                                                     ") keys ahead: it is shown only when taken");
  }
  if (mode == ById::kCheck) return out;
  if (take) {
    SKAP_ASSIGN_OR_RETURN(auto kept,
                          db_.Query("SELECT COUNT(*) FROM skipped_keys WHERE peer = $1", {peer}));
    const std::int64_t room = std::int64_t{window_} - AsInt(kept[0][0]).value_or(0);
    const std::int64_t evict = std::max<std::int64_t>(0, std::int64_t{keep} - room);
    if (evict > 0) {
      SKAP_RETURN_IF_ERROR(
          db_.Execute("DELETE FROM skipped_keys WHERE peer = $1 AND (epoch, direction, idx) IN"
                      " (SELECT epoch, direction, idx FROM skipped_keys WHERE peer = $1"
                      "  ORDER BY epoch, direction, idx LIMIT $2)",
                      {peer, evict}));
    }
    if (const std::int64_t aged = evict + (skip - keep); aged > 0) {
      SKAP_RETURN_IF_ERROR(db_.Execute(
          "UPDATE sessions SET keys_aged_out = keys_aged_out + $2 WHERE peer = $1", {peer, aged}));
    }
  }
  SKAP_ASSIGN_OR_RETURN(
      auto ck, kek_.Unwrap(chain->wrapped_chain, ChainBinding(peer, id->epoch, id->direction)));
  for (std::uint32_t j = chain->next_index;; ++j) {
    SKAP_ASSIGN_OR_RETURN(auto step, pairwise::ChainStep(ck.Expose()));
    ck = std::move(step.next_chain_key);
    if (j == id->index) {
      out.key = std::move(step.consumer_key);
      break;
    }
    if (!take || id->index - j > keep) continue;
    SKAP_ASSIGN_OR_RETURN(
        const auto wrapped,
        kek_.Wrap(step.consumer_key.Expose(), SkippedBinding(peer, id->epoch, id->direction, j)));
    SKAP_RETURN_IF_ERROR(
        db_.Execute("INSERT INTO skipped_keys (peer, epoch, direction, idx, wrapped_key)"
                    " VALUES ($1, $2, $3, $4, $5)",
                    {peer, Int(id->epoch), Int(id->direction), std::int64_t{j}, Blob(wrapped)}));
  }
  if (!take) return out;
  SKAP_ASSIGN_OR_RETURN(const auto wrapped_chain,
                        kek_.Wrap(ck.Expose(), ChainBinding(peer, id->epoch, id->direction)));
  SKAP_RETURN_IF_ERROR(SaveChain(db_, peer, id->epoch, id->direction, Blob(wrapped_chain),
                                 std::int64_t{id->index} + 1));
  if (current) {
    SKAP_RETURN_IF_ERROR(
        db_.Execute("UPDATE sessions SET keys_issued = keys_issued + 1 WHERE peer = $1", {peer}));
  }
  return out;
}

Result<std::vector<IssuedKey>> SessionStore::KeysById(const std::string& peer,
                                                      const std::vector<std::string>& key_ids) {
  std::vector<Taken> taken(key_ids.size());
  SKAP_RETURN_IF_ERROR(store::InTransaction(db_, [&]() -> Result<void> {
    // Every id is checked before any chain steps: else a request that fails
    // at its last id would step (and roll back) as often as it is sent.
    std::vector<std::pair<pairwise::KeyId, std::size_t>> order;
    order.reserve(key_ids.size());
    std::set<std::tuple<std::uint64_t, int, std::uint32_t>> waiting;
    for (std::size_t i = 0; i < key_ids.size(); ++i) {
      SKAP_ASSIGN_OR_RETURN(auto t, TakeByIdInTransaction(peer, key_ids[i], ById::kCheck));
      if (t.waiting) waiting.emplace(t.id.epoch, static_cast<int>(t.id.direction), t.id.index);
      order.emplace_back(t.id, i);
    }
    // Taken in chain order, keys already stepped over (waiting) first, so
    // stepping for one id cannot age out another the request asks for; an
    // id asked for twice is refused.
    const auto key = [&](const pairwise::KeyId& k) {
      return std::tuple(
          !waiting.contains(std::tuple(k.epoch, static_cast<int>(k.direction), k.index)), k.epoch,
          static_cast<int>(k.direction), k.index);
    };
    std::sort(order.begin(), order.end(),
              [&](const auto& a, const auto& b) { return key(a.first) < key(b.first); });
    for (std::size_t i = 1; i < order.size(); ++i) {
      if (key(order[i].first) == key(order[i - 1].first)) {
        return Unexpected(ErrorCode::kInvalidArgument, "a key id is asked for twice");
      }
    }
    for (const auto& [id, i] : order) {
      SKAP_ASSIGN_OR_RETURN(taken[i], TakeByIdInTransaction(peer, key_ids[i], ById::kTake));
    }
    return Ok();
  }));
  CrashPoint("agent.key.after-commit");
  return IssueAll(std::move(taken));
}

Result<IssuedKey> SessionStore::PeekKeyById(const std::string& peer, const std::string& key_id) {
  SKAP_ASSIGN_OR_RETURN(auto t, TakeByIdInTransaction(peer, key_id, ById::kPeek));
  return Issue(t.id, std::move(t.key), t.tag);
}

Result<IssuedKey> SessionStore::PeekNextKey(const std::string& peer, const std::string& pool_name) {
  SKAP_ASSIGN_OR_RETURN(auto rows, db_.Query(std::string(kEpochAndAge), {peer}));
  if (rows.empty()) return Unexpected(ErrorCode::kNotFound, std::string(kNoSession));
  SKAP_RETURN_IF_ERROR(ServesKeys(rows[0][1]));
  const auto epoch = static_cast<std::uint64_t>(AsInt(rows[0][0]).value_or(0));
  // A key reserved in memory is handed out before the chain moves on.
  if (const auto pools = reserved_.find(peer); pools != reserved_.end()) {
    if (const auto pool = pools->second.find(pool_name);
        pool != pools->second.end() && pool->second.epoch == epoch && !pool->second.keys.empty()) {
      const Taken& next = pool->second.keys.front();
      return Issue(next.id, SecretBytes::Copy(next.key.Expose()), next.tag);
    }
  }
  const ChainDirection mine = pairwise::IssuingDirection(self_, peer);
  SKAP_ASSIGN_OR_RETURN(auto chain, LoadChain(db_, peer, epoch, mine));
  if (!chain) return Unexpected(ErrorCode::kFailedPrecondition, "session without its chain");
  if (chain->next_index >= pairwise::kMaxKeysPerEpoch) {
    return Unexpected(ErrorCode::kLimitExceeded, "this epoch's keys are spent: re-seed");
  }
  SKAP_ASSIGN_OR_RETURN(auto ck,
                        kek_.Unwrap(chain->wrapped_chain, ChainBinding(peer, epoch, mine)));
  SKAP_ASSIGN_OR_RETURN(auto step, pairwise::ChainStep(ck.Expose()));
  return Issue({epoch, mine, chain->next_index}, std::move(step.consumer_key), chain->tag);
}

Result<IssuedKey> SessionStore::KeyById(const std::string& peer, const std::string& key_id) {
  SKAP_ASSIGN_OR_RETURN(auto keys, KeysById(peer, {key_id}));
  return std::move(keys.front());
}

}  // namespace skap::agent
