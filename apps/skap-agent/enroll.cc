// skap-agent enroll --data DIR (BUNDLE... | --part FILE --part FILE ...):
// add each hub's bootstrap bundle to the device (DIR is made 0700 if new).
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "agent/hub/enrolment.h"
#include "apps/skap-agent/cli.h"

namespace skap::agentcli {
namespace {

struct EnrollOptions {
  std::string data_dir;
  std::vector<std::string> bundles;
  std::vector<std::string> parts;
};

void Enroll(const EnrollOptions& o) {
  OneOff d = OpenOneOff(o.data_dir, true);
  if (o.bundles.empty() && o.parts.empty())
    Fail("give bundle files, or --part files of one bundle");
  std::vector<Result<proto::Bundle>> read;
  if (!o.parts.empty()) read.push_back(ReadBundle("", o.parts));
  for (const auto& b : o.bundles) read.push_back(ReadBundle(b, {}));
  for (auto& bundle : read) {
    if (!bundle) Fail("bundle", bundle.error());
    auto state = agent::EnrolFromBundle(*d.dir, *bundle);
    if (!state) Fail("enrolling", state.error());
    std::printf("enrolled device %s (%s) of network %s at hub %s (%s)\n",
                bundle->info.device_name.c_str(), bundle->info.device_id.c_str(),
                bundle->info.network_name.c_str(), bundle->info.hub_id.c_str(),
                bundle->info.hub_address.c_str());
  }
}

}  // namespace

void AddEnroll(CLI::App& app) {
  auto o = std::make_shared<EnrollOptions>();
  auto* enroll = app.add_subcommand("enroll", "Add a hub's bundle to the device (creates DIR)");
  enroll->add_option("--data", o->data_dir, "Agent data directory (created 0700)")->required();
  auto* bundle_option =
      enroll->add_option("bundles,--bundle", o->bundles, "Bundle files, one per hub");
  auto* parts_option =
      enroll->add_option("--part", o->parts, "A part of one split bundle (repeat k times)");
  bundle_option->excludes(parts_option);
  enroll->callback([o] { Enroll(*o); });
}

}  // namespace skap::agentcli
