// skapctl hub id: the hub's id, for network set-hubs.
#include <cstdio>

#include "apps/skapctl/cli.h"

namespace skap::ctl {

void AddHub(CLI::App& app, const Globals& g) {
  auto* hub = app.add_subcommand("hub", "This hub");
  hub->require_subcommand(1);
  auto* id = hub->add_subcommand("id", "Print the hub's id (for network set-hubs)");
  id->callback([&g] {
    Show(g, Call(g, "GET", "/v1/hub"),
         [](const nlohmann::json& j) { std::printf("%s\n", Field(j, "hub_id").c_str()); });
  });
}

}  // namespace skap::ctl
