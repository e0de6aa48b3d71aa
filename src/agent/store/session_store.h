// Pairwise sessions, one per peer (docs/protocol.md, "Session"): the root
// key each agreement re-seeds, the two KDF chains of consumer keys (this
// side hands out "next" keys from one, and fetches the peer's by id from the
// other) and the window of keys skipped over to reach a later id. Every change is committed before
// a key is handed out, so a crash never hands out a key twice and never
// loses the position of the chain; a key handed out is erased here.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "common/secret_bytes.h"
#include "keystore/keystore.h"
#include "pairwise/session_keys.h"
#include "store/database.h"

namespace skap::agent {

// SessionInfo is what may be shown of a session (no keys).
struct SessionInfo {
  std::string peer;
  std::uint64_t epoch = 0;
  std::uint32_t next_index = 0;       // of the chain this side hands out
  std::uint32_t peer_next_index = 0;  // of the peer's chain, as far as fetched by id
  std::optional<std::uint64_t> previous_epoch;
  std::int64_t keys_issued = 0;  // since the last re-seed
  // Keys of the peer's chain stepped over to reach a later id: kept, waiting
  // to be fetched by id (at most the window), and aged out unfetched.
  std::int64_t keys_waiting = 0;
  std::int64_t keys_aged_out = 0;
  std::int64_t established_at_ms = 0;
  std::int64_t reseeded_at_ms = 0;
  bool expired = false;  // older than the store's max age: serves no key
};

// IssuedKey is one consumer key on its way out.
struct IssuedKey {
  std::string key_id;  // UUID form
  pairwise::KeyId id;
  SecretBytes key;
  std::string fingerprint;
};

class SessionStore {
 public:
  // MigrationSql is this store's part of agent.db's schema version
  // `version` (its tables' DDL; agent_schema.h orders the whole), empty if
  // it has none.
  static std::string_view MigrationSql(int version);
  // BindWrappedKeys binds the keys wrapped before bindings to their rows
  // (schema version 6; keystore/rebind.h).
  static Result<void> BindWrappedKeys(store::Database& db, keystore::Keystore& kek);

  // `self` is this device's id (it decides which chain is this side's).
  // `window` bounds how many keys skipped over to reach a later id are kept
  // per session (the oldest age out to make room); how far ahead an id may
  // lie is bounded by pairwise::kMaxKeysPerEpoch alone. `reserve` is how many keys of
  // this side's chain one commit takes off it: they wait in memory to be
  // handed out, so a run of next keys costs one commit per `reserve` keys.
  // A crash loses the ones not yet handed out on this side (never hands
  // one out twice); the peer can still fetch them by id, but nobody was
  // given their ids. 1: a commit per key.
  // `max_age` bounds how long after its last re-seed (or start) a session
  // serves keys: past it, no key, key by id or PPK comes out of it
  // (kUnavailable) until an agreement re-seeds it. 0: no bound.
  SessionStore(store::Database& db, keystore::Keystore& kek, std::string self, Clock now,
               std::uint32_t window, std::uint32_t reserve = 1,
               std::chrono::milliseconds max_age = {})
      : db_(db),
        kek_(kek),
        self_(std::move(self)),
        now_(std::move(now)),
        window_(window),
        reserve_(reserve == 0 ? 1 : reserve),
        max_age_(max_age) {}

  // ApplyInCurrentTransaction makes epoch `epoch` of the session with `peer`
  // from a confirmed agreement's K_AB: epoch 1 starts the session afresh
  // (dropping any earlier one); otherwise it must be the next epoch. The
  // previous epoch's chain stays until the next re-seed. The caller holds a
  // transaction, so the session and the agreement commit together.
  Result<void> ApplyInCurrentTransaction(const std::string& peer, std::uint64_t epoch,
                                         std::span<const std::uint8_t> pair_key);

  // EraseInCurrentTransaction ends the session with `peer`: its root key,
  // chains, skipped keys and peer secrets are deleted (and scrubbed from the
  // log by the store's next ScrubLog), so no key of it comes out again.
  Result<void> EraseInCurrentTransaction(const std::string& peer);

  // OnFreshSession registers `forget`, run inside the transaction that
  // starts a session with a peer afresh (epoch 1 again) or erases it: what
  // another store kept of the session goes with it (the peer channel's,
  // PeerStore::ForgetInCurrentTransaction).
  void OnFreshSession(std::function<Result<void>(const std::string& peer)> forget) {
    fresh_session_observers_.push_back(std::move(forget));
  }

  // generation changes whenever a session's epoch is made (a re-seed or a
  // fresh start): who caches what the sessions derive checks it first.
  std::uint64_t generation() const { return generation_; }

  // Get returns the session with `peer`, if there is one.
  Result<std::optional<SessionInfo>> Get(const std::string& peer);
  // List returns every session.
  Result<std::vector<SessionInfo>> List();

  // NextKey hands out the next key of this side's chain of the current epoch.
  Result<IssuedKey> NextKey(const std::string& peer);
  // KeyById hands out the key of the peer's chain that `key_id` names: ahead
  // of the chain (keeping the last `window` keys skipped over), or one
  // skipped earlier. A key already handed out is gone, and ids of this
  // side's own chain are not fetched by id: kNotFound.
  Result<IssuedKey> KeyById(const std::string& peer, const std::string& key_id);

  // PeekNextKey and PeekKeyById are the key NextKey would hand out next and
  // the one KeyById would hand out for `key_id` (same errors), taking
  // nothing: a person may compare its fingerprint first. A crash may drop
  // a key reserved in memory, and another pool may take the chain's next
  // run first, so the next key after one may be another.
  Result<IssuedKey> PeekNextKey(const std::string& peer, const std::string& pool = {});
  Result<IssuedKey> PeekKeyById(const std::string& peer, const std::string& key_id);

  // NamesPeerKey is true if `key_id` names a key of the peer's chain of an
  // epoch held (handed out or not): its id is one this session makes.
  Result<bool> NamesPeerKey(const std::string& peer, const std::string& key_id);

  // CurrentPpk is the IPsec PPK of the session's current epoch (PPK_e,
  // docs/protocol.md) with that epoch; it takes no key from the chains.
  struct EpochPpk {
    std::uint64_t epoch = 0;
    SecretBytes ppk;
  };
  Result<EpochPpk> CurrentPpk(const std::string& peer);

  // PeerSecrets is PS_e of each epoch held (current first): the roots of
  // the peer channel's keys (src/agent/peer/peer_keys.h).
  struct EpochSecret {
    std::uint64_t epoch = 0;
    SecretBytes secret;
  };
  Result<std::vector<EpochSecret>> PeerSecrets(const std::string& peer);

  // RunTaken is told the ids of a run of this side's keys just reserved
  // for one pool, inside the transaction that takes them off the chain: what
  // it stores commits with the run, and a failure takes nothing.
  using RunTaken = std::function<Result<void>(const std::vector<pairwise::KeyId>& run)>;
  // NextKeys hands out the next `count` keys of `pool`'s reserve. Each pool
  // (an SAE pair, or "" for the device's own consumers) reserves its own
  // runs of `reserve` keys: a key is only ever handed out to the pool its
  // run was taken for, so `on_run` may name the whole run's consumer once.
  // Keys come out in one commit when the reserve runs short, none otherwise.
  Result<std::vector<IssuedKey>> NextKeys(const std::string& peer, std::uint32_t count,
                                          const std::string& pool = {},
                                          const RunTaken& on_run = {});
  // KeysById hands out every key `key_ids` names, or none: one that cannot
  // be handed out leaves every key where it was.
  Result<std::vector<IssuedKey>> KeysById(const std::string& peer,
                                          const std::vector<std::string>& key_ids);

 private:
  // Taken is a key taken off a chain inside the caller's transaction.
  struct Taken {
    pairwise::KeyId id;
    pairwise::KeyIdTag tag{};
    SecretBytes key;
    bool waiting = false;  // stepped over earlier, kept in skipped_keys
  };
  // TakeRunInTransaction takes between `at_least` and `at_most` keys off
  // this side's chain of the current epoch (fewer than `at_least` left:
  // kLimitExceeded), writing the chain once.
  Result<std::vector<Taken>> TakeRunInTransaction(const std::string& peer, std::uint32_t at_least,
                                                  std::uint32_t at_most);
  // Expired is true for a session last re-seeded at `reseeded_at_ms` that
  // is older than max_age; ServesKeys is that as an error (kUnavailable),
  // for the session row's reseeded_at_ms column.
  bool Expired(std::int64_t reseeded_at_ms) const;
  Result<void> ServesKeys(const store::Value& reseeded_at_ms) const;
  Result<void> StorePeerSecret(const std::string& peer, std::uint64_t epoch,
                               std::span<const std::uint8_t> root);
  // Reserved is this side's keys taken off its chain, not yet handed out.
  struct Reserved {
    std::uint64_t epoch = 0;
    std::deque<Taken> keys;
  };
  // ById says what TakeByIdInTransaction does with the key an id names:
  // only check that it could be taken (no stepping, no key), show it (a key
  // at most `window` ahead: showing steps without keeping), or take it.
  enum class ById { kCheck, kPeek, kTake };
  // TakeByIdInTransaction finds the key `key_id` names; kTake takes it off
  // its chain (or the skipped keys), the others change nothing.
  Result<Taken> TakeByIdInTransaction(const std::string& peer, const std::string& key_id,
                                      ById mode);
  static Result<std::vector<IssuedKey>> IssueAll(std::vector<Taken> taken);
  static Result<IssuedKey> Issue(pairwise::KeyId id, SecretBytes key,
                                 const pairwise::KeyIdTag& tag);

  store::Database& db_;
  keystore::Keystore& kek_;
  std::string self_;
  Clock now_;
  std::uint32_t window_;
  std::uint32_t reserve_;
  std::chrono::milliseconds max_age_;
  std::map<std::string, std::map<std::string, Reserved>> reserved_;  // by peer, then pool
  std::uint64_t generation_ = 0;
  std::vector<std::function<Result<void>(const std::string&)>> fresh_session_observers_;
};

}  // namespace skap::agent
