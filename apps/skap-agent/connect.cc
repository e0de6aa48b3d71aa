// skap-agent connect --data DIR: connect to each hub once while the daemon
// is stopped: report while pending, take up the channel key once admitted.
#include <cstdio>
#include <memory>
#include <string>

#include "agent/hub/enrolment.h"
#include "apps/skap-agent/cli.h"
#include "common/shown.h"

namespace skap::agentcli {
namespace {

struct ConnectOptions {
  std::string data_dir;
  std::string hub;
  crypto::KeyExchangeMode mode = crypto::kDefaultKeyExchange;
};

}  // namespace

void AddConnect(CLI::App& app) {
  auto o = std::make_shared<ConnectOptions>();
  auto* connect = app.add_subcommand(
      "connect", "Connect once: report while pending, take up the channel key once admitted");
  connect->add_option("--data", o->data_dir, "Agent data directory")->required();
  connect->add_option("--hub", o->hub, "Only this hub (default: every hub enrolled)");
  AddKeyExchangeOption(*connect, o->mode);
  connect->callback([o] {
    OneOff d = OpenOneOff(o->data_dir, false);
    const auto mode = o->mode;
    const auto hubs = Hubs(*d.dir, o->hub, false);
    const auto health = d.entropy->Status();
    const std::string summary =
        health.operational ? R"({"operational":true})" : R"({"operational":false})";
    bool failed = false;
    for (const auto& id : hubs) {
      auto result = agent::ChannelStep(*d.dir, id, *d.entropy, summary, mode);
      if (!result) {
        std::fprintf(stderr, "skap-agent: connect to hub %s: %s\n", Shown(id).c_str(),
                     Shown(ToString(result.error())).c_str());
        failed = true;
        continue;
      }
      std::printf("%s\n", Shown(*result).c_str());
    }
    if (failed) throw CLI::RuntimeError(1);
  });
}

}  // namespace skap::agentcli
