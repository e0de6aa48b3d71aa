// skap-agent key PEER [--id KEY-ID] [--reveal]: this side's next key of the
// session with PEER, or the peer's key of that id. Without --reveal it shows
// the key's id and fingerprint and leaves the key where it is; --reveal
// hands the key out (printed in hex) and it is erased here.
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>

#include "apps/skap-agent/cli.h"
#include "common/shown.h"

namespace skap::agentcli {
namespace {

struct KeyOptions {
  Daemon daemon;
  std::string peer;
  std::string key_id;
  bool reveal = false;
  double wait_seconds = 10;
};

}  // namespace

void AddKey(CLI::App& app) {
  auto o = std::make_shared<KeyOptions>();
  auto* key = app.add_subcommand(
      "key",
      "Show the next key of the session with a peer (or the peer's key of --id): its id and "
      "fingerprint; --reveal hands the key out (prints it, then it is erased here)");
  key->add_option("peer", o->peer, "Peer device id or name")->required();
  key->add_option("--id", o->key_id, "The key id the peer's side handed out");
  key->add_flag("--reveal", o->reveal, "Hand the key out: print it (hex), then erase it here");
  key->add_option("--wait", o->wait_seconds,
                  "Seconds to keep asking while the agent answers 'not yet' (503: the re-seed "
                  "or the peer's key-id notice has not arrived); 0 asks once")
      ->check(CLI::Range(0.0, 3600.0))
      ->capture_default_str();
  AddDaemonOptions(*key, o->daemon);
  key->callback([o] {
    const std::string target = "/v1/keys/" + o->peer + "/" +
                               (o->key_id.empty() ? "next" : o->key_id) +
                               (o->reveal ? "?reveal=1" : "");
    const auto deadline = std::chrono::steady_clock::now() +
                          std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                              std::chrono::duration<double>(o->wait_seconds));
    auto reply = o->daemon.Call(o->key_id.empty() ? "POST" : "GET", target);
    while (reply && reply->status == 503 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      reply = o->daemon.Call(o->key_id.empty() ? "POST" : "GET", target);
    }
    if (o->reveal && reply && reply->status == 200) {
      std::printf("%s %s %.*s\n", Shown(reply->headers["X-Skap-Key-Id"]).c_str(),
                  Shown(reply->headers["X-Skap-Fingerprint"]).c_str(),
                  static_cast<int>(reply->body.size()), reply->BodyText().data());
      return;
    }
    Answer(o->daemon, reply, [](const nlohmann::json& k) {
      std::printf("%s %s\n", Shown(k.value("key_id", "")).c_str(),
                  Shown(k.value("fingerprint", "")).c_str());
    });
  });
}

}  // namespace skap::agentcli
