#include "agent/store/agreement_store.h"

#include <nlohmann/json.hpp>

#include "common/hex.h"
#include "proto/agreement_header.h"

namespace skap::agent {
namespace {

// This store's part of agent.db's schema (agent_schema.cc orders the whole):
// version 1 made the agreements table.
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

using nlohmann::json;
using store::AsBlob;
using store::AsInt;
using store::AsText;
using store::Blob;

constexpr std::string_view kColumns =
    "SELECT header, role, peer, state, public_state, wrapped_secrets, created_at_ms"
    " FROM agreements ";

std::optional<AgreementState> ParseState(std::string_view name) {
  for (auto s : {AgreementState::kRunning, AgreementState::kConfirmed, AgreementState::kFailed}) {
    if (AgreementStateName(s) == name) return s;
  }
  return std::nullopt;
}

json TagsJson(const std::vector<pairwise::Tag>& tags) {
  json out = json::array();
  for (const auto& t : tags) out.push_back(HexEncode(t));
  return out;
}

std::vector<pairwise::Tag> TagsFrom(const json& j) {
  std::vector<pairwise::Tag> out;
  for (const auto& t : j) {
    if (auto bytes = HexDecode(t.get<std::string>())) out.push_back(std::move(*bytes));
  }
  return out;
}

// Secrets of a running agreement, in one buffer:
//   own secret (32) ‖ u8 n ‖ n own shares (32 each) ‖ u8 m ‖ m × (u8 hub index ‖ share)
//   ‖ u8 l ‖ own X25519 private key (l = 0 or 32)
SecretBytes PackSecrets(const pairwise::Agreement::Snapshot& s) {
  SecretBytes out;
  out.Append(s.own_secret.Expose());
  const std::array<std::uint8_t, 1> n = {static_cast<std::uint8_t>(s.own_shares.size())};
  out.Append(n);
  for (const auto& y : s.own_shares) out.Append(y.Expose());
  const std::array<std::uint8_t, 1> m = {static_cast<std::uint8_t>(s.peer_shares.size())};
  out.Append(m);
  for (const auto& [index, y] : s.peer_shares) {
    const std::array<std::uint8_t, 1> i = {static_cast<std::uint8_t>(index)};
    out.Append(i);
    out.Append(y.Expose());
  }
  const std::array<std::uint8_t, 1> l = {static_cast<std::uint8_t>(s.own_x25519.size())};
  out.Append(l);
  out.Append(s.own_x25519.Expose());
  return out;
}

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
    default:
      return {};
  }
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
  channel::v1::AgreementHeader header;
  proto::FillHeader(r.params, header);
  const std::string header_bytes = header.SerializeAsString();
  json checks = json::object();
  for (const auto& [index, check] : r.share_checks)
    checks[std::to_string(index)] = HexEncode(check);
  json pub{{"tags_out", TagsJson(r.tags_out)},
           {"refusal_out", r.refusal_out},
           {"inconsistent_hubs", r.inconsistent_hubs},
           {"share_checks", checks},
           {"reason", r.reason}};
  store::Value wrapped = store::Null{};
  if (r.state == AgreementState::kRunning && r.agreement) {
    SKAP_ASSIGN_OR_RETURN(auto snapshot, r.agreement->TakeSnapshot());
    pub["peer_tags"] = TagsJson(snapshot.peer_tags);
    pub["peer_x25519"] = TagsJson(snapshot.peer_x25519);
    SKAP_ASSIGN_OR_RETURN(auto sealed, kek_.Wrap(PackSecrets(snapshot).Expose()));
    wrapped = Blob(std::move(sealed));
  }
  const Blob sid(r.params.sid.begin(), r.params.sid.end());
  const std::int64_t now = now_();
  SKAP_RETURN_IF_ERROR(db_.Execute(
      "INSERT INTO agreements (sid, peer, role, state, header, public_state, wrapped_secrets,"
      " expires_at_ms, created_at_ms, changed_at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9,"
      " $10) ON CONFLICT (sid) DO UPDATE SET state = excluded.state,"
      " public_state = excluded.public_state, wrapped_secrets = excluded.wrapped_secrets,"
      " changed_at_ms = excluded.changed_at_ms",
      {sid, r.peer, std::string(pairwise::RoleName(r.role)),
       std::string(AgreementStateName(r.state)), Blob(header_bytes.begin(), header_bytes.end()),
       pub.dump(), wrapped, r.params.expires_at_ms, r.created_at_ms, now}));
  return Ok();
}

Result<void> AgreementStore::Save(const AgreementRecord& record) {
  return store::InTransaction(db_, [&] { return SaveInCurrentTransaction(record); });
}

Result<AgreementRecord> AgreementStore::FromRow(const store::Row& row, bool with_secrets) {
  const auto malformed = Unexpected(ErrorCode::kMalformedInput, "agreement record");
  const Blob header_bytes = AsBlob(row[0]).value_or(Blob{});
  channel::v1::AgreementHeader header;
  if (!header.ParseFromArray(header_bytes.data(), static_cast<int>(header_bytes.size()))) {
    return malformed;
  }
  AgreementRecord r;
  SKAP_ASSIGN_OR_RETURN(r.params, proto::ParamsFromHeader(header));
  r.role = AsText(row[1]).value_or("") == "initiator" ? pairwise::Role::kInitiator
                                                      : pairwise::Role::kResponder;
  r.peer = AsText(row[2]).value_or("");
  const auto state = ParseState(AsText(row[3]).value_or(""));
  const auto pub = json::parse(AsText(row[4]).value_or(""), nullptr, false);
  if (!state || !pub.is_object()) return malformed;
  r.state = *state;
  try {
    r.tags_out = TagsFrom(pub.at("tags_out"));
    r.refusal_out = pub.at("refusal_out").get<std::string>();
    r.inconsistent_hubs = pub.at("inconsistent_hubs").get<std::vector<unsigned>>();
    r.reason = pub.at("reason").get<std::string>();
    const json& checks = pub.at("share_checks");
    for (auto it = checks.begin(); it != checks.end(); ++it) {
      if (auto bytes = HexDecode(it.value().get<std::string>())) {
        r.share_checks[static_cast<unsigned>(std::stoul(it.key()))] = std::move(*bytes);
      }
    }
    if (with_secrets && r.state == AgreementState::kRunning) {
      const auto wrapped = AsBlob(row[5]);
      if (!wrapped) return malformed;
      SKAP_ASSIGN_OR_RETURN(auto secrets, kek_.Unwrap(*wrapped));
      pairwise::Agreement::Snapshot snapshot;
      snapshot.params = r.params;
      snapshot.role = r.role;
      snapshot.peer_tags = TagsFrom(pub.value("peer_tags", json::array()));
      snapshot.peer_x25519 = TagsFrom(pub.value("peer_x25519", json::array()));
      SKAP_RETURN_IF_ERROR(UnpackSecrets(secrets.Expose(), snapshot));
      SKAP_ASSIGN_OR_RETURN(auto agreement, pairwise::Agreement::Restore(std::move(snapshot)));
      r.agreement.emplace(std::move(agreement));
    }
  } catch (const std::exception&) {  // a JSON field or an index that does not parse
    return malformed;
  }
  r.created_at_ms = AsInt(row[6]).value_or(0);
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
