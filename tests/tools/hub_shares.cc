// hub_shares DIR: every share a (stopped) hub holds, in its mailbox or, a
// curious hub (faulty_skapd --fault keep-shares), kept aside, as JSON lines,
// read with the hub's own KEK: what the hub's operators themselves could see.
// The knowledge test (tests/integration/hub_knowledge_test.sh) feeds the
// lines of several hubs to tests/integration/reconstruct.py.
#include <cstdio>
#include <string>

#include <nlohmann/json.hpp>

#include "common/hex.h"
#include "hub/channel/agreement_relay.h"
#include "keystore/file_keystore.h"
#include "proto/channel.pb.h"
#include "store/sqlite/sqlite_database.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: hub_shares HUB_DATA_DIR\n");
    return 2;
  }
  const std::string dir = argv[1];
  auto kek = skap::keystore::FileKeystore::Open(dir + "/kek");
  auto db = skap::store::SqliteDatabase::Open(dir + "/hub.db", false);
  if (!kek || !db) {
    std::fprintf(stderr, "hub_shares: cannot open %s\n", dir.c_str());
    return 1;
  }
  // Shares still in the mailbox (an honest hub erases each once delivered),
  // and those a curious hub kept aside, if it is one.
  auto rows = (*db)->Query(
      "SELECT sender, message, wrapped_share FROM mailbox WHERE kind = $1"
      " AND wrapped_share IS NOT NULL",
      {std::int64_t{skap::channel::v1::DELIVERY_KIND_SHARE}});
  if (!rows) return 1;
  auto curious = (*db)->Query("SELECT name FROM sqlite_master WHERE name = 'kept_shares'");
  if (!curious) return 1;
  if (!curious->empty()) {
    auto kept = (*db)->Query("SELECT sender, message, wrapped_share FROM kept_shares");
    if (!kept) return 1;
    rows->insert(rows->end(), kept->begin(), kept->end());
  }
  for (const auto& row : *rows) {
    const auto message = skap::store::AsBlob(row[1]).value_or(skap::store::Blob{});
    skap::channel::v1::ShareOffer offer;
    if (!offer.ParseFromArray(message.data(), static_cast<int>(message.size()))) return 1;
    const auto& h = offer.header();
    const std::string sender = skap::store::AsText(row[0]).value_or("");
    auto share = (*kek)->Unwrap(skap::store::AsBlob(row[2]).value_or(skap::store::Blob{}),
                                skap::hub::AgreementRelay::ShareBinding(
                                    skap::store::Blob(h.sid().begin(), h.sid().end()), sender,
                                    sender == h.initiator() ? h.responder() : h.initiator()));
    if (!share) return 1;
    const nlohmann::json line{
        {"sid", skap::HexEncode(skap::AsBytes(h.sid()))},
        {"sender", skap::store::AsText(row[0]).value_or("")},
        {"initiator", h.initiator()},
        {"responder", h.responder()},
        {"hub_set", std::vector<std::string>(h.hub_set().begin(), h.hub_set().end())},
        {"threshold", h.threshold()},
        {"expires_at_ms", h.expires_at_ms()},
        {"session_epoch", h.session_epoch()},
        {"initiator_x25519", skap::HexEncode(skap::AsBytes(h.initiator_x25519()))},
        {"x", offer.hub_index()},
        {"y", skap::HexEncode(share->Expose())}};
    std::printf("%s\n", line.dump().c_str());
  }
  return 0;
}
