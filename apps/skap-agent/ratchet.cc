// skap-agent ratchet --data DIR: move a hub's channel key to a new epoch now,
// while the daemon is stopped (the hub also asks when one is due).
#include <cstdio>
#include <memory>
#include <string>

#include "agent/hub/channel_ratchet.h"
#include "apps/skap-agent/cli.h"

namespace skap::agentcli {
namespace {

struct RatchetOptions {
  std::string data_dir;
  std::string hub;
  crypto::KeyExchangeMode mode = crypto::kDefaultKeyExchange;
};

}  // namespace

void AddRatchet(CLI::App& app) {
  auto o = std::make_shared<RatchetOptions>();
  auto* ratchet = app.add_subcommand(
      "ratchet", "Move a hub's channel key to a new epoch now (the hub also asks when due)");
  ratchet->add_option("--data", o->data_dir, "Agent data directory")->required();
  ratchet->add_option("--hub", o->hub, "The hub (needed when enrolled at several)");
  AddKeyExchangeOption(*ratchet, o->mode);
  ratchet->callback([o] {
    OneOff d = OpenOneOff(o->data_dir, false);
    const auto mode = o->mode;
    const auto hubs = Hubs(*d.dir, o->hub, true);
    auto epoch = agent::RatchetChannelKey(*d.dir, hubs.front(), *d.entropy, mode);
    if (!epoch) Fail("ratchet", epoch.error());
    std::printf("key epoch %lld\n", static_cast<long long>(*epoch));
  });
}

}  // namespace skap::agentcli
