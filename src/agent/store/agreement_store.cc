#include "agent/store/agreement_store.h"

#include <set>

#include <nlohmann/json.hpp>

#include "common/hex.h"
#include "proto/agreement_header.h"
#include "proto/agreement_record.pb.h"

namespace skap::agent {
namespace {

// This store's part of agent.db's schema (agent_schema.cc orders the whole):
// version 1 made the agreements table; version 4 keeps each agreement in one
// encoding, the AgreementRecord message (proto/agreement_record.proto), its
// secrets wrapped one by one inside it, converting what versions 1 to 3 kept
// in a header, a JSON text and a packed blob; version 5 drops those columns.
constexpr std::string_view kAgreementsV1 = R"sql(
CREATE TABLE agreements (
  sid BLOB PRIMARY KEY,             -- the agreement's session id
  peer TEXT NOT NULL,               -- the other device's id
  role TEXT NOT NULL CHECK (role IN ('initiator', 'responder')),
  state TEXT NOT NULL CHECK (state IN ('running', 'confirmed', 'failed')),
  header BLOB NOT NULL,             -- AgreementHeader (channel.proto)
  public_state TEXT NOT NULL,       -- JSON: tags received and to send, blame, reason
  wrapped_secrets BLOB,             -- own contribution and shares, peer shares; NULL once ended
  expires_at_ms BIGINT NOT NULL,
  created_at_ms BIGINT NOT NULL,
  changed_at_ms BIGINT NOT NULL
);
CREATE INDEX agreements_state ON agreements (state, expires_at_ms);
)sql";
constexpr std::string_view kAgreementsV4 = R"sql(
ALTER TABLE agreements ADD COLUMN record BLOB;  -- AgreementRecord (agreement_record.proto)
)sql";
constexpr std::string_view kAgreementsV5 = R"sql(
ALTER TABLE agreements DROP COLUMN header;
ALTER TABLE agreements DROP COLUMN public_state;
ALTER TABLE agreements DROP COLUMN wrapped_secrets;
)sql";

using nlohmann::json;
using store::AsBlob;
using store::AsInt;
using store::AsText;
using store::Blob;
namespace spb = skap::agent::v1;

constexpr std::string_view kColumns =
    "SELECT record, role, peer, state, created_at_ms, sid FROM agreements ";

std::optional<AgreementState> ParseState(std::string_view name) {
  for (auto s : {AgreementState::kRunning, AgreementState::kConfirmed, AgreementState::kFailed}) {
    if (AgreementStateName(s) == name) return s;
  }
  return std::nullopt;
}

// The places of a record's secrets, for their bindings.
constexpr std::string_view kOwnSecret = "own secret";
constexpr std::string_view kOwnShare = "own share";
constexpr std::string_view kPeerShare = "peer share";
constexpr std::string_view kOwnX25519 = "own x25519";

std::string Text(std::span<const std::uint8_t> bytes) { return {bytes.begin(), bytes.end()}; }
std::vector<std::uint8_t> Bytes(const std::string& text) { return {text.begin(), text.end()}; }

// SecretBinding binds one secret of a record to the agreement's row (its
// sid) and to its place in the record.
keystore::WrapBinding SecretBinding(const Blob& sid, std::string_view field, std::uint32_t index) {
  return {keystore::kPurposeAgreementSecrets,
          keystore::RowOf({std::string_view(reinterpret_cast<const char*>(sid.data()), sid.size()),
                           field, std::to_string(index)})};
}

// Wrapped wraps one secret under the KEK, as the record's bytes.
Result<std::string> Wrapped(keystore::Keystore& kek, const SecretBytes& secret,
                            const keystore::WrapBinding& binding) {
  SKAP_ASSIGN_OR_RETURN(const auto wrapped, kek.Wrap(secret.Expose(), binding));
  return Text(wrapped);
}

// Unbound says a record's secrets were wrapped before bindings (schema
// versions 4 and 5), for the migration that binds them.
enum class Unbound : bool { kNo, kYes };

Result<SecretBytes> Unwrapped(keystore::Keystore& kek, const std::string& wrapped,
                              const keystore::WrapBinding& binding, Unbound unbound) {
  return unbound == Unbound::kYes ? kek.UnwrapUnbound(AsBytes(wrapped))
                                  : kek.Unwrap(AsBytes(wrapped), binding);
}

// PutSecrets puts a running agreement's secrets into `out`, each wrapped for
// row `sid`, in place of any there.
Result<void> PutSecrets(keystore::Keystore& kek, const Blob& sid,
                        const pairwise::Agreement::Snapshot& s, spb::AgreementRecord& out) {
  out.clear_wrapped_own_shares();
  out.clear_wrapped_peer_shares();
  SKAP_ASSIGN_OR_RETURN(*out.mutable_wrapped_own_secret(),
                        Wrapped(kek, s.own_secret, SecretBinding(sid, kOwnSecret, 0)));
  for (std::uint32_t i = 0; i < s.own_shares.size(); ++i) {
    SKAP_ASSIGN_OR_RETURN(*out.add_wrapped_own_shares(),
                          Wrapped(kek, s.own_shares[i], SecretBinding(sid, kOwnShare, i)));
  }
  for (const auto& [index, y] : s.peer_shares) {
    SKAP_ASSIGN_OR_RETURN((*out.mutable_wrapped_peer_shares())[index],
                          Wrapped(kek, y, SecretBinding(sid, kPeerShare, index)));
  }
  if (!s.own_x25519.empty()) {
    SKAP_ASSIGN_OR_RETURN(*out.mutable_wrapped_own_x25519(),
                          Wrapped(kek, s.own_x25519, SecretBinding(sid, kOwnX25519, 0)));
  }
  return Ok();
}

// PutSnapshot puts a running agreement's state machine into `out`.
Result<void> PutSnapshot(keystore::Keystore& kek, const Blob& sid,
                         const pairwise::Agreement::Snapshot& s, spb::AgreementRecord& out) {
  std::set<unsigned> sources;
  for (const auto& [source, tags] : s.peer_tags) sources.insert(source);
  for (const auto& [source, p] : s.peer_x25519) sources.insert(source);
  for (unsigned source : sources) {
    auto& seen = *out.add_peer_tags();
    seen.set_source(source);
    if (auto t = s.peer_tags.find(source); t != s.peer_tags.end()) {
      for (const auto& tag : t->second) seen.add_tags(Text(tag));
    }
    if (auto p = s.peer_x25519.find(source); p != s.peer_x25519.end()) {
      seen.set_responder_x25519(Text(p->second));
    }
  }
  out.clear_rejected_hubs();
  for (unsigned hub : s.rejected_hubs) out.add_rejected_hubs(hub);
  out.clear_peer_share_checks();
  for (const auto& [hub, checks] : s.peer_checks) {
    auto& carried = *out.add_peer_share_checks();
    carried.set_hub(hub);
    for (const auto& check : checks) carried.add_checks(Text(check));
  }
  return PutSecrets(kek, sid, s, out);
}

Result<void> TakeSnapshot(keystore::Keystore& kek, const Blob& sid, const spb::AgreementRecord& in,
                          pairwise::Agreement::Snapshot& s, Unbound unbound = Unbound::kNo) {
  for (const auto& seen : in.peer_tags()) {
    for (const auto& t : seen.tags()) s.peer_tags[seen.source()].push_back(Bytes(t));
    if (!seen.responder_x25519().empty()) {
      s.peer_x25519[seen.source()] = Bytes(seen.responder_x25519());
    }
  }
  // Written before tags were kept by source: the tags under one legacy
  // source, each P_B under one of its own (one P_B is kept per source).
  unsigned legacy = pairwise::kLegacySource;
  for (const auto& t : in.legacy_peer_tags())
    s.peer_tags[pairwise::kLegacySource].push_back(Bytes(t));
  for (const auto& k : in.legacy_peer_x25519()) s.peer_x25519[legacy++] = Bytes(k);
  s.rejected_hubs.assign(in.rejected_hubs().begin(), in.rejected_hubs().end());
  for (const auto& carried : in.peer_share_checks()) {
    auto& checks = s.peer_checks[carried.hub()];
    for (const auto& check : carried.checks()) checks.push_back(Bytes(check));
  }
  SKAP_ASSIGN_OR_RETURN(s.own_secret, Unwrapped(kek, in.wrapped_own_secret(),
                                                SecretBinding(sid, kOwnSecret, 0), unbound));
  for (std::uint32_t i = 0; i < static_cast<std::uint32_t>(in.wrapped_own_shares_size()); ++i) {
    SKAP_ASSIGN_OR_RETURN(auto share, Unwrapped(kek, in.wrapped_own_shares(static_cast<int>(i)),
                                                SecretBinding(sid, kOwnShare, i), unbound));
    s.own_shares.push_back(std::move(share));
  }
  for (const auto& [index, y] : in.wrapped_peer_shares()) {
    SKAP_ASSIGN_OR_RETURN(auto share,
                          Unwrapped(kek, y, SecretBinding(sid, kPeerShare, index), unbound));
    s.peer_shares.emplace(index, std::move(share));
  }
  if (!in.wrapped_own_x25519().empty()) {
    SKAP_ASSIGN_OR_RETURN(s.own_x25519, Unwrapped(kek, in.wrapped_own_x25519(),
                                                  SecretBinding(sid, kOwnX25519, 0), unbound));
  }
  return Ok();
}

// The layout of schema versions 1 to 3's wrapped_secrets, read once by the
// conversion to version 4's records:
//   own secret (32) ‖ u8 n ‖ n own shares (32 each) ‖ u8 m ‖ m × (u8 hub index ‖ share)
//   ‖ u8 l ‖ own X25519 private key (l = 0 or 32)
Result<void> UnpackSecrets(std::span<const std::uint8_t> in, pairwise::Agreement::Snapshot& s) {
  constexpr std::size_t kShare = pairwise::kSecretBytes;
  const auto bad = Unexpected(ErrorCode::kMalformedInput, "agreement record: secrets");
  std::size_t at = 0;
  const auto take = [&](std::size_t size) -> std::optional<std::span<const std::uint8_t>> {
    if (in.size() < at + size) return std::nullopt;
    const auto part = in.subspan(at, size);
    at += size;
    return part;
  };
  const auto own = take(kShare);
  const auto n = take(1);
  if (!own || !n) return bad;
  s.own_secret = SecretBytes::Copy(*own);
  for (std::size_t i = 0; i < (*n)[0]; ++i) {
    const auto y = take(kShare);
    if (!y) return bad;
    s.own_shares.push_back(SecretBytes::Copy(*y));
  }
  const auto m = take(1);
  if (!m) return bad;
  for (std::size_t i = 0; i < (*m)[0]; ++i) {
    const auto index = take(1);
    const auto y = take(kShare);
    if (!index || !y) return bad;
    s.peer_shares.emplace((*index)[0], SecretBytes::Copy(*y));
  }
  const auto l = take(1);
  if (!l) return bad;
  const auto x25519 = take((*l)[0]);
  if (!x25519) return bad;
  s.own_x25519 = SecretBytes::Copy(*x25519);
  if (at != in.size()) return bad;
  return Ok();
}

}  // namespace

std::string_view AgreementStore::MigrationSql(int version) {
  switch (version) {
    case 1:
      return kAgreementsV1;
    case 4:
      return kAgreementsV4;
    case 5:
      return kAgreementsV5;
    default:
      return {};
  }
}

Result<void> AgreementStore::ConvertToRecords(store::Database& db, keystore::Keystore& kek) {
  const auto malformed = Unexpected(ErrorCode::kMalformedInput, "a stored agreement");
  SKAP_ASSIGN_OR_RETURN(
      auto rows,
      db.Query("SELECT sid, header, state, public_state, wrapped_secrets FROM agreements"));
  for (const auto& row : rows) {
    spb::AgreementRecord record;
    const Blob header = AsBlob(row[1]).value_or(Blob{});
    if (!record.mutable_header()->ParseFromArray(header.data(), static_cast<int>(header.size()))) {
      return malformed;
    }
    const auto pub = json::parse(AsText(row[3]).value_or(""), nullptr, false);
    if (!pub.is_object()) return malformed;
    try {
      const auto tags = [](const json& j, auto add) {
        for (const auto& x : j) {
          auto bytes = HexDecode(x.get<std::string>());
          if (bytes) add(Text(*bytes));
        }
      };
      tags(pub.at("tags_out"), [&](std::string t) { record.add_tags_out(std::move(t)); });
      record.set_refusal_out(pub.at("refusal_out").get<std::string>());
      for (const unsigned hub : pub.at("inconsistent_hubs").get<std::vector<unsigned>>()) {
        record.add_inconsistent_hubs(hub);
      }
      record.set_reason(pub.at("reason").get<std::string>());
      const json& checks = pub.at("share_checks");
      for (auto it = checks.begin(); it != checks.end(); ++it) {
        if (auto bytes = HexDecode(it.value().get<std::string>())) {
          (*record.mutable_share_checks())[static_cast<std::uint32_t>(std::stoul(it.key()))] =
              Text(*bytes);
        }
      }
      const auto wrapped = AsBlob(row[4]);
      if (AsText(row[2]).value_or("") == "running" && wrapped) {
        pairwise::Agreement::Snapshot snapshot;
        // Version 3 kept no sources: its tags under one legacy source, each P_B
        // under one of its own (one P_B is kept per source).
        tags(pub.value("peer_tags", json::array()), [&](std::string t) {
          snapshot.peer_tags[pairwise::kLegacySource].push_back(Bytes(t));
        });
        unsigned legacy = pairwise::kLegacySource;
        tags(pub.value("peer_x25519", json::array()),
             [&](std::string k) { snapshot.peer_x25519[legacy++] = Bytes(k); });
        SKAP_ASSIGN_OR_RETURN(auto secrets, kek.UnwrapUnbound(*wrapped));
        SKAP_RETURN_IF_ERROR(UnpackSecrets(secrets.Expose(), snapshot));
        // Written bound at once: version 6's binding leaves bound records be.
        SKAP_RETURN_IF_ERROR(PutSnapshot(kek, AsBlob(row[0]).value_or(Blob{}), snapshot, record));
      }
    } catch (const std::exception&) {  // a JSON field or an index that does not parse
      return malformed;
    }
    const std::string bytes = record.SerializeAsString();
    SKAP_RETURN_IF_ERROR(
        db.Execute("UPDATE agreements SET record = $2 WHERE sid = $1",
                   {AsBlob(row[0]).value_or(Blob{}), Blob(bytes.begin(), bytes.end())}));
  }
  return Ok();
}

Result<void> AgreementStore::BindWrappedKeys(store::Database& db, keystore::Keystore& kek) {
  SKAP_ASSIGN_OR_RETURN(auto rows,
                        db.Query("SELECT sid, record FROM agreements WHERE state = 'running'"));
  for (const auto& row : rows) {
    const Blob sid = AsBlob(row[0]).value_or(Blob{});
    const Blob bytes = AsBlob(row[1]).value_or(Blob{});
    spb::AgreementRecord record;
    if (!record.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
      return Unexpected(ErrorCode::kMalformedInput, "a stored agreement");
    }
    if (record.wrapped_own_secret().empty()) continue;
    // Version 4's conversion, run in the same upgrade, wrote bound secrets.
    if (kek.Unwrap(AsBytes(record.wrapped_own_secret()), SecretBinding(sid, kOwnSecret, 0))) {
      continue;
    }
    pairwise::Agreement::Snapshot snapshot;
    SKAP_RETURN_IF_ERROR(TakeSnapshot(kek, sid, record, snapshot, Unbound::kYes));
    SKAP_RETURN_IF_ERROR(PutSecrets(kek, sid, snapshot, record));
    const std::string out = record.SerializeAsString();
    SKAP_RETURN_IF_ERROR(db.Execute("UPDATE agreements SET record = $2 WHERE sid = $1",
                                    {sid, Blob(out.begin(), out.end())}));
  }
  return Ok();
}

std::string_view AgreementStateName(AgreementState state) {
  switch (state) {
    case AgreementState::kRunning:
      return "running";
    case AgreementState::kConfirmed:
      return "confirmed";
    case AgreementState::kFailed:
      return "failed";
  }
  return "failed";
}

Result<void> AgreementStore::SaveInCurrentTransaction(const AgreementRecord& r) {
  spb::AgreementRecord record;
  proto::FillHeader(r.params, *record.mutable_header());
  const Blob sid(r.params.sid.begin(), r.params.sid.end());
  for (const auto& t : r.tags_out) record.add_tags_out(Text(t));
  record.set_refusal_out(r.refusal_out);
  record.set_refusal_kind(static_cast<std::uint32_t>(r.refusal_kind));
  record.set_refusal_epoch(r.refusal_epoch);
  record.set_refusal_mac(Text(r.refusal_mac));
  for (const unsigned hub : r.inconsistent_hubs) record.add_inconsistent_hubs(hub);
  for (const auto& [index, check] : r.share_checks) {
    (*record.mutable_share_checks())[index] = Text(check);
  }
  record.set_reason(r.reason);
  if (r.state == AgreementState::kRunning && r.agreement) {
    SKAP_ASSIGN_OR_RETURN(auto snapshot, r.agreement->TakeSnapshot());
    SKAP_RETURN_IF_ERROR(PutSnapshot(kek_, sid, snapshot, record));
  }
  const std::string bytes = record.SerializeAsString();
  const std::int64_t now = now_();
  // A responder that refused a header a hub altered answers the sid again
  // under another: the row then follows its header throughout.
  SKAP_RETURN_IF_ERROR(db_.Execute(
      "INSERT INTO agreements (sid, peer, role, state, record, expires_at_ms, created_at_ms,"
      " changed_at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (sid) DO UPDATE SET"
      " peer = excluded.peer, role = excluded.role, state = excluded.state,"
      " record = excluded.record, expires_at_ms = excluded.expires_at_ms,"
      " changed_at_ms = excluded.changed_at_ms",
      {sid, r.peer, std::string(pairwise::RoleName(r.role)),
       std::string(AgreementStateName(r.state)), Blob(bytes.begin(), bytes.end()),
       r.params.expires_at_ms, r.created_at_ms, now}));
  return Ok();
}

Result<void> AgreementStore::Save(const AgreementRecord& record) {
  return store::InTransaction(db_, [&] { return SaveInCurrentTransaction(record); });
}

Result<AgreementRecord> AgreementStore::FromRow(const store::Row& row, bool with_secrets) {
  const auto malformed = Unexpected(ErrorCode::kMalformedInput, "agreement record");
  const Blob bytes = AsBlob(row[0]).value_or(Blob{});
  spb::AgreementRecord record;
  if (!record.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) return malformed;
  AgreementRecord r;
  // Records stored before headers carried a protocol version are this
  // device's own, carried on under the version it speaks now (a peer that
  // still speaks version 1 then matches no tag: the agreement fails cleanly).
  if (record.header().protocol_version() == 0) {
    record.mutable_header()->set_protocol_version(pairwise::kProtocolVersion);
  }
  SKAP_ASSIGN_OR_RETURN(r.params, proto::ParamsFromHeader(record.header()));
  const auto role = AsText(row[1]).value_or("");
  if (role != "initiator" && role != "responder") return malformed;
  r.role = role == "initiator" ? pairwise::Role::kInitiator : pairwise::Role::kResponder;
  r.peer = AsText(row[2]).value_or("");
  // The index columns must say what the record's header says: a confirmed
  // agreement's key goes to the session with `peer`.
  if (r.peer != (r.role == pairwise::Role::kInitiator ? r.params.responder : r.params.initiator)) {
    return Unexpected(ErrorCode::kMalformedInput,
                      "agreement record: its peer column is not the other side of its header");
  }
  const auto state = ParseState(AsText(row[3]).value_or(""));
  if (!state) return malformed;
  r.state = *state;
  for (const auto& t : record.tags_out()) r.tags_out.push_back(Bytes(t));
  r.refusal_out = record.refusal_out();
  if (record.refusal_kind() <= static_cast<std::uint32_t>(pairwise::RefusalKind::kDiverged)) {
    r.refusal_kind = static_cast<pairwise::RefusalKind>(record.refusal_kind());
  }
  r.refusal_epoch = record.refusal_epoch();
  r.refusal_mac = Bytes(record.refusal_mac());
  r.inconsistent_hubs.assign(record.inconsistent_hubs().begin(), record.inconsistent_hubs().end());
  r.reason = record.reason();
  for (const auto& [index, check] : record.share_checks()) r.share_checks[index] = Bytes(check);
  if (with_secrets && r.state == AgreementState::kRunning) {
    pairwise::Agreement::Snapshot snapshot;
    snapshot.params = r.params;
    snapshot.role = r.role;
    SKAP_RETURN_IF_ERROR(TakeSnapshot(kek_, AsBlob(row[5]).value_or(Blob{}), record, snapshot));
    SKAP_ASSIGN_OR_RETURN(auto agreement, pairwise::Agreement::Restore(std::move(snapshot)));
    r.agreement.emplace(std::move(agreement));
  }
  r.created_at_ms = AsInt(row[4]).value_or(0);
  return r;
}

Result<std::optional<AgreementRecord>> AgreementStore::Load(const pairwise::AgreementId& sid) {
  SKAP_ASSIGN_OR_RETURN(auto rows, db_.Query(std::string(kColumns) + "WHERE sid = $1",
                                             {Blob(sid.begin(), sid.end())}));
  if (rows.empty()) return std::optional<AgreementRecord>();
  SKAP_ASSIGN_OR_RETURN(auto record, FromRow(rows[0], true));
  return std::optional<AgreementRecord>(std::move(record));
}

Result<std::vector<AgreementRecord>> AgreementStore::LoadLive(std::int64_t grace_ms) {
  SKAP_ASSIGN_OR_RETURN(
      auto rows, db_.Query(std::string(kColumns) + "WHERE state = 'running' OR expires_at_ms > $1"
                                                   " ORDER BY created_at_ms",
                           {now_() - grace_ms}));
  std::vector<AgreementRecord> out;
  for (const auto& row : rows) {
    SKAP_ASSIGN_OR_RETURN(auto record, FromRow(row, true));
    out.push_back(std::move(record));
  }
  return out;
}

Result<std::vector<AgreementRecord>> AgreementStore::Recent(std::int64_t limit) {
  SKAP_ASSIGN_OR_RETURN(
      auto rows,
      db_.Query(std::string(kColumns) + "ORDER BY created_at_ms DESC LIMIT $1", {limit}));
  std::vector<AgreementRecord> out;
  for (const auto& row : rows) {
    SKAP_ASSIGN_OR_RETURN(auto record, FromRow(row, false));
    out.push_back(std::move(record));
  }
  return out;
}

Result<std::int64_t> AgreementStore::Purge(std::int64_t before_ms) {
  return db_.Execute("DELETE FROM agreements WHERE state <> 'running' AND expires_at_ms < $1",
                     {before_ms});
}

}  // namespace skap::agent
