// skap-agent entropy --data DIR --bytes N [--out FILE]: random bytes from a
// hub's entropy service (rate limited by the hub), while the daemon is
// stopped.
#include <cstdio>
#include <memory>
#include <string>

#include "agent/hub/channel_ratchet.h"
#include "apps/skap-agent/cli.h"
#include "common/secret_file.h"

namespace skap::agentcli {
namespace {

struct EntropyOptions {
  std::string data_dir;
  std::string hub;
  crypto::KeyExchangeMode mode = crypto::kDefaultKeyExchange;
  std::uint32_t bytes = 0;
  std::string out;
};

}  // namespace

void AddEntropy(CLI::App& app) {
  auto o = std::make_shared<EntropyOptions>();
  auto* draw = app.add_subcommand(
      "entropy", "Draw random bytes from a hub's entropy service (rate limited by the hub)");
  draw->add_option("--data", o->data_dir, "Agent data directory")->required();
  draw->add_option("--hub", o->hub, "The hub (needed when enrolled at several)");
  draw->add_option("--bytes", o->bytes, "How many bytes")
      ->required()
      ->check(CLI::Range(1U, 65536U));
  draw->add_option("--out", o->out,
                   "File to write them to (created 0600); without it only their count is shown");
  AddKeyExchangeOption(*draw, o->mode);
  draw->callback([o] {
    OneOff d = OpenOneOff(o->data_dir, false);
    const auto mode = o->mode;
    const auto hubs = Hubs(*d.dir, o->hub, true);
    auto bytes = agent::DrawHubEntropy(*d.dir, hubs.front(), o->bytes, mode);
    if (!bytes) Fail("entropy", bytes.error());
    if (!o->out.empty()) {
      if (auto written = WriteSecretFile(o->out, bytes->Expose()); !written) {
        Fail("writing " + o->out, written.error());
      }
    }
    std::printf("%zu bytes from the hub%s%s\n", bytes->size(), o->out.empty() ? "" : " written to ",
                o->out.c_str());
  });
}

}  // namespace skap::agentcli
