#include "agent/session_store.h"

#include <algorithm>

#include "common/crash_point.h"
#include "crypto/fingerprint.h"

namespace skap::agent {
namespace {

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

constexpr std::string_view kNoSession = "no session with this peer: agree a key first";

}  // namespace

// Chain is one epoch's chain as stored.
struct SessionStore::Chain {
  std::uint64_t epoch = 0;
  pairwise::KeyIdTag tag{};
  Blob wrapped_chain;
  std::uint32_t next_index = 0;
  bool current = true;
};

Result<void> SessionStore::ApplyInCurrentTransaction(const std::string& peer, std::uint64_t epoch,
                                                     std::span<const std::uint8_t> pair_key) {
  const std::int64_t now = now_();
  SKAP_ASSIGN_OR_RETURN(auto rows, db_.Query("SELECT epoch, wrapped_root, key_id_tag,"
                                             " wrapped_chain, next_index, established_at_ms"
                                             " FROM sessions WHERE peer = $1",
                                             {peer}));
  SecretBytes previous_root;
  if (epoch != 1) {
    const std::int64_t current = rows.empty() ? 0 : AsInt(rows[0][0]).value_or(0);
    if (rows.empty() || static_cast<std::uint64_t>(current) + 1 != epoch) {
      return Unexpected(ErrorCode::kFailedPrecondition,
                        "session epoch mismatch: this side is at epoch " + std::to_string(current) +
                            ", the agreement makes epoch " + std::to_string(epoch));
    }
    SKAP_ASSIGN_OR_RETURN(previous_root, kek_.Unwrap(AsBlob(rows[0][1]).value_or(Blob{})));
  }
  SKAP_ASSIGN_OR_RETURN(auto root, pairwise::NextRootKey(previous_root.Expose(), pair_key));
  SKAP_ASSIGN_OR_RETURN(auto chain, pairwise::FirstChainKey(root.Expose(), epoch));
  SKAP_ASSIGN_OR_RETURN(const auto tag, pairwise::DeriveKeyIdTag(root.Expose()));
  SKAP_ASSIGN_OR_RETURN(const auto wrapped_root, kek_.Wrap(root.Expose()));
  SKAP_ASSIGN_OR_RETURN(const auto wrapped_chain, kek_.Wrap(chain.Expose()));
  if (epoch == 1) {
    // A fresh start: nothing of an earlier session with this peer remains.
    SKAP_RETURN_IF_ERROR(db_.Execute("DELETE FROM skipped_keys WHERE peer = $1", {peer}));
    SKAP_RETURN_IF_ERROR(db_.Execute("DELETE FROM sessions WHERE peer = $1", {peer}));
    SKAP_RETURN_IF_ERROR(db_.Execute(
        "INSERT INTO sessions (peer, epoch, wrapped_root, key_id_tag, wrapped_chain, next_index,"
        " keys_issued, established_at_ms, reseeded_at_ms) VALUES ($1, 1, $2, $3, $4, 0, 0, $5, $5)",
        {peer, Blob(wrapped_root), BlobOf(tag), Blob(wrapped_chain), now}));
    return Ok();
  }
  // The epoch before last closes: keys skipped in it can no longer be asked for.
  const std::int64_t current = AsInt(rows[0][0]).value_or(0);
  SKAP_RETURN_IF_ERROR(
      db_.Execute("DELETE FROM skipped_keys WHERE peer = $1 AND epoch < $2", {peer, current}));
  SKAP_RETURN_IF_ERROR(db_.Execute(
      "UPDATE sessions SET epoch = $2, wrapped_root = $3, key_id_tag = $4, wrapped_chain = $5,"
      " next_index = 0, previous_epoch = $6, previous_key_id_tag = $7,"
      " wrapped_previous_chain = $8, previous_next_index = $9, keys_issued = 0,"
      " reseeded_at_ms = $10 WHERE peer = $1",
      {peer, static_cast<std::int64_t>(epoch), Blob(wrapped_root), BlobOf(tag), Blob(wrapped_chain),
       current, AsBlob(rows[0][2]).value_or(Blob{}), AsBlob(rows[0][3]).value_or(Blob{}),
       AsInt(rows[0][4]).value_or(0), now}));
  return Ok();
}

namespace {

constexpr std::string_view kInfoColumns =
    "SELECT peer, epoch, next_index, previous_epoch, keys_issued, established_at_ms,"
    " reseeded_at_ms FROM sessions ";

SessionInfo InfoFromRow(const store::Row& row) {
  SessionInfo s;
  s.peer = AsText(row[0]).value_or("");
  s.epoch = static_cast<std::uint64_t>(AsInt(row[1]).value_or(0));
  s.next_index = static_cast<std::uint32_t>(AsInt(row[2]).value_or(0));
  if (const auto previous = AsInt(row[3])) s.previous_epoch = static_cast<std::uint64_t>(*previous);
  s.keys_issued = AsInt(row[4]).value_or(0);
  s.established_at_ms = AsInt(row[5]).value_or(0);
  s.reseeded_at_ms = AsInt(row[6]).value_or(0);
  return s;
}

}  // namespace

Result<std::optional<SessionInfo>> SessionStore::Get(const std::string& peer) {
  SKAP_ASSIGN_OR_RETURN(auto rows,
                        db_.Query(std::string(kInfoColumns) + "WHERE peer = $1", {peer}));
  if (rows.empty()) return std::optional<SessionInfo>();
  return std::optional<SessionInfo>(InfoFromRow(rows[0]));
}

Result<std::vector<SessionInfo>> SessionStore::List() {
  SKAP_ASSIGN_OR_RETURN(auto rows, db_.Query(std::string(kInfoColumns) + "ORDER BY peer"));
  std::vector<SessionInfo> out;
  out.reserve(rows.size());
  for (const auto& row : rows) out.push_back(InfoFromRow(row));
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

Result<IssuedKey> SessionStore::NextKey(const std::string& peer) {
  pairwise::KeyId id;
  pairwise::KeyIdTag tag{};
  SecretBytes key;
  SKAP_RETURN_IF_ERROR(store::InTransaction(db_, [&]() -> Result<void> {
    SKAP_ASSIGN_OR_RETURN(auto rows, db_.Query("SELECT epoch, key_id_tag, wrapped_chain, next_index"
                                               " FROM sessions WHERE peer = $1",
                                               {peer}));
    if (rows.empty()) return Unexpected(ErrorCode::kNotFound, std::string(kNoSession));
    const std::int64_t next = AsInt(rows[0][3]).value_or(0);
    if (next > 0xffffffffLL) {
      return Unexpected(ErrorCode::kLimitExceeded, "this epoch's keys are spent: re-seed");
    }
    id = {static_cast<std::uint64_t>(AsInt(rows[0][0]).value_or(0)),
          static_cast<std::uint32_t>(next)};
    tag = TagOf(rows[0][1]);
    SKAP_ASSIGN_OR_RETURN(auto chain, kek_.Unwrap(AsBlob(rows[0][2]).value_or(Blob{})));
    SKAP_ASSIGN_OR_RETURN(auto step, pairwise::ChainStep(chain.Expose()));
    SKAP_ASSIGN_OR_RETURN(const auto wrapped, kek_.Wrap(step.next_chain_key.Expose()));
    // The chain key of this index is replaced (erased) in the same commit
    // that records the key as handed out: forward secrecy, and no re-issue.
    SKAP_RETURN_IF_ERROR(db_.Execute(
        "UPDATE sessions SET wrapped_chain = $2, next_index = $3, keys_issued = keys_issued + 1"
        " WHERE peer = $1",
        {peer, Blob(wrapped), next + 1}));
    key = std::move(step.consumer_key);
    return Ok();
  }));
  CrashPoint("agent.key.after-commit");
  return Issue(id, std::move(key), tag);
}

Result<IssuedKey> SessionStore::KeyById(const std::string& peer, const std::string& key_id) {
  const auto id = pairwise::ParseKeyId(key_id);
  if (!id) return Unexpected(ErrorCode::kInvalidArgument, "not a SKAP key id");
  pairwise::KeyIdTag tag{};
  SecretBytes key;
  SKAP_RETURN_IF_ERROR(store::InTransaction(db_, [&]() -> Result<void> {
    SKAP_ASSIGN_OR_RETURN(
        auto rows, db_.Query("SELECT epoch, key_id_tag, wrapped_chain, next_index, previous_epoch,"
                             " previous_key_id_tag, wrapped_previous_chain, previous_next_index"
                             " FROM sessions WHERE peer = $1",
                             {peer}));
    if (rows.empty()) return Unexpected(ErrorCode::kNotFound, std::string(kNoSession));
    const auto& row = rows[0];
    Chain chain;
    if (AsInt(row[0]).value_or(0) == static_cast<std::int64_t>(id->epoch)) {
      chain = {id->epoch, TagOf(row[1]), AsBlob(row[2]).value_or(Blob{}),
               static_cast<std::uint32_t>(AsInt(row[3]).value_or(0)), true};
    } else if (AsInt(row[4]) && *AsInt(row[4]) == static_cast<std::int64_t>(id->epoch)) {
      chain = {id->epoch, TagOf(row[5]), AsBlob(row[6]).value_or(Blob{}),
               static_cast<std::uint32_t>(AsInt(row[7]).value_or(0)), false};
    } else {
      return Unexpected(ErrorCode::kNotFound, "no such key id in this session");
    }
    if (!pairwise::KeyIdMatches(key_id, chain.tag)) {
      return Unexpected(ErrorCode::kNotFound, "no such key id in this session");
    }
    tag = chain.tag;
    if (id->index < chain.next_index) {
      SKAP_ASSIGN_OR_RETURN(auto skipped,
                            db_.Query("SELECT wrapped_key FROM skipped_keys WHERE peer = $1 AND"
                                      " epoch = $2 AND idx = $3",
                                      {peer, static_cast<std::int64_t>(id->epoch),
                                       static_cast<std::int64_t>(id->index)}));
      if (skipped.empty()) {
        return Unexpected(ErrorCode::kNotFound, "that key was handed out already and is erased");
      }
      SKAP_ASSIGN_OR_RETURN(key, kek_.Unwrap(AsBlob(skipped[0][0]).value_or(Blob{})));
      SKAP_RETURN_IF_ERROR(db_.Execute(
          "DELETE FROM skipped_keys WHERE peer = $1 AND epoch = $2 AND idx = $3",
          {peer, static_cast<std::int64_t>(id->epoch), static_cast<std::int64_t>(id->index)}));
      return Ok();
    }
    const std::uint32_t skip = id->index - chain.next_index;
    SKAP_ASSIGN_OR_RETURN(auto kept,
                          db_.Query("SELECT COUNT(*) FROM skipped_keys WHERE peer = $1", {peer}));
    if (skip > window_ || AsInt(kept[0][0]).value_or(0) + skip > window_) {
      return Unexpected(ErrorCode::kLimitExceeded,
                        "key id too far ahead of this side's chain (window " +
                            std::to_string(window_) + " keys)");
    }
    SKAP_ASSIGN_OR_RETURN(auto ck, kek_.Unwrap(chain.wrapped_chain));
    for (std::uint32_t j = chain.next_index;; ++j) {
      SKAP_ASSIGN_OR_RETURN(auto step, pairwise::ChainStep(ck.Expose()));
      ck = std::move(step.next_chain_key);
      if (j == id->index) {
        key = std::move(step.consumer_key);
        break;
      }
      SKAP_ASSIGN_OR_RETURN(const auto wrapped, kek_.Wrap(step.consumer_key.Expose()));
      SKAP_RETURN_IF_ERROR(db_.Execute(
          "INSERT INTO skipped_keys (peer, epoch, idx, wrapped_key) VALUES ($1, $2, $3, $4)",
          {peer, static_cast<std::int64_t>(id->epoch), static_cast<std::int64_t>(j),
           Blob(wrapped)}));
    }
    SKAP_ASSIGN_OR_RETURN(const auto wrapped_chain, kek_.Wrap(ck.Expose()));
    const std::int64_t next = std::int64_t{id->index} + 1;
    if (chain.current) {
      SKAP_RETURN_IF_ERROR(
          db_.Execute("UPDATE sessions SET wrapped_chain = $2, next_index = $3,"
                      " keys_issued = keys_issued + 1 WHERE peer = $1",
                      {peer, Blob(wrapped_chain), next}));
    } else {
      SKAP_RETURN_IF_ERROR(
          db_.Execute("UPDATE sessions SET wrapped_previous_chain = $2,"
                      " previous_next_index = $3 WHERE peer = $1",
                      {peer, Blob(wrapped_chain), next}));
    }
    return Ok();
  }));
  CrashPoint("agent.key.after-commit");
  return Issue(*id, std::move(key), tag);
}

}  // namespace skap::agent
