// skap-agent key PEER [--id KEY-ID] [--reveal]: this side's next key of the
// session with PEER, or the peer's key of that id: its id and fingerprint,
// the key itself only with --reveal.
#include <cstdio>
#include <memory>
#include <string>

#include "apps/skap-agent/cli.h"

namespace skap::agentcli {
namespace {

struct KeyOptions {
  Daemon daemon;
  std::string peer;
  std::string key_id;
  bool reveal = false;
};

}  // namespace

void AddKey(CLI::App& app) {
  auto o = std::make_shared<KeyOptions>();
  auto* key = app.add_subcommand(
      "key",
      "Take the next key of the session with a peer (or the key of --id): its id and "
      "fingerprint, never the key itself unless --reveal");
  key->add_option("peer", o->peer, "Peer device id or name")->required();
  key->add_option("--id", o->key_id, "The key id the peer's side handed out");
  key->add_flag("--reveal", o->reveal, "Print the key (hex) as well");
  AddDaemonOptions(*key, o->daemon);
  key->callback([o] {
    const std::string target = "/v1/keys/" + o->peer + "/" +
                               (o->key_id.empty() ? "next" : o->key_id) +
                               (o->reveal ? "?reveal=1" : "");
    auto reply = o->daemon.Call(o->key_id.empty() ? "POST" : "GET", target);
    if (o->reveal && reply && reply->status == 200) {
      std::printf("%s %s %.*s\n", reply->headers["X-Skap-Key-Id"].c_str(),
                  reply->headers["X-Skap-Fingerprint"].c_str(),
                  static_cast<int>(reply->body.size()), reply->BodyText().data());
      return;
    }
    Answer(o->daemon, reply, [](const nlohmann::json& k) {
      std::printf("%s %s\n", k.value("key_id", "").c_str(), k.value("fingerprint", "").c_str());
    });
  });
}

}  // namespace skap::agentcli
