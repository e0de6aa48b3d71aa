// skapd init --data DIR: a new hub (data directory, KEK, database).
#include <cstdio>
#include <memory>
#include <string>

#include "hub/hub_node.h"
#include "subcommands.h"

namespace skapd {

void AddInit(CLI::App& app) {
  auto data_dir = std::make_shared<std::string>();
  auto* init = app.add_subcommand("init", "Create a new hub (data directory, KEK, database)");
  init->add_option("--data", *data_dir, "Data directory (created, mode 0700)")->required();
  init->callback([data_dir] {
    auto hub_id = skap::hub::HubNode::Init(*data_dir);
    if (!hub_id) Fail("init", hub_id.error());
    std::printf("hub %s created in %s\n", hub_id->c_str(), data_dir->c_str());
  });
}

}  // namespace skapd
