// skap-agent agree PEER: a key through k hubs, re-seeding (or, with --fresh,
// starting) the session with PEER.
#include <cstdio>
#include <memory>
#include <string>

#include "apps/skap-agent/cli.h"
#include "common/shown.h"

namespace skap::agentcli {
namespace {

using nlohmann::json;

struct AgreeOptions {
  Daemon daemon;
  std::string peer;
  bool fresh = false;
  bool hybrid = false;
  CLI::Option* hybrid_flag = nullptr;
};

}  // namespace

void AddAgree(CLI::App& app) {
  auto o = std::make_shared<AgreeOptions>();
  auto* agree = app.add_subcommand(
      "agree", "Agree a key with a peer through the hubs (re-seeds an existing session)");
  agree->add_option("peer", o->peer, "Peer device id or name")->required();
  agree->add_flag("--fresh", o->fresh, "Start the session with the peer afresh (epoch 1)");
  o->hybrid_flag = agree->add_flag(
      "--hybrid,!--no-hybrid", o->hybrid,
      "Add (or leave out) an X25519 exchange between the two devices; default: the agent's "
      "hybrid setting");
  AddDaemonOptions(*agree, o->daemon);
  agree->callback([o] {
    json body{{"peer", o->peer}, {"fresh", o->fresh}};
    if (o->hybrid_flag->count() > 0) body["hybrid"] = o->hybrid;
    Answer(o->daemon, o->daemon.Call("POST", "/v1/agreements", body.dump()), [o](const json& r) {
      std::printf("agreed with %s: session epoch %llu%s (sid %s)\n", Shown(o->peer).c_str(),
                  static_cast<unsigned long long>(r.value("session_epoch", 0ULL)),
                  r.value("hybrid", false) ? ", hybrid" : "", Shown(r.value("sid", "")).c_str());
      for (const auto& h : r["inconsistent_hubs"]) {
        std::printf("inconsistent share from hub %s\n",
                    Shown(h.is_string() ? h.get<std::string>() : std::string()).c_str());
      }
    });
  });
}

}  // namespace skap::agentcli
