// skap-agent enroll --data DIR (BUNDLE... | --part FILE --part FILE ...)
// [--keep-bundles]: add each hub's bootstrap bundle to the device (DIR is
// made 0700 if new), then overwrite and remove the files it read: a
// bootstrap key left lying around outlives the secure room.
#include <cstdio>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "agent/hub/enrolment.h"
#include "apps/skap-agent/cli.h"
#include "common/secret_file.h"
#include "common/shown.h"

namespace skap::agentcli {
namespace {

struct EnrollOptions {
  std::string data_dir;
  std::vector<std::string> bundles;
  std::vector<std::string> parts;
  bool keep = false;
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
                Shown(bundle->info.device_name).c_str(), Shown(bundle->info.device_id).c_str(),
                Shown(bundle->info.network_name).c_str(), Shown(bundle->info.hub_id).c_str(),
                Shown(bundle->info.hub_address).c_str());
  }
  // Only once every bundle is enrolled: a failure above keeps them all for
  // another try.
  if (o.keep) return;
  std::set<std::string> files(o.parts.begin(), o.parts.end());  // each once
  files.insert(o.bundles.begin(), o.bundles.end());
  for (const auto& file : files) {
    auto removed = RemoveSecretFile(file);
    if (!removed) Fail("removing the bundle", removed.error());
    if (*removed) {
      std::printf("overwrote and removed %s (--keep-bundles keeps it)\n", file.c_str());
    } else if (file != "-") {
      std::printf("left %s as it is: not a regular file\n", file.c_str());
    }
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
  enroll->add_flag("--keep-bundles", o->keep,
                   "Keep the bundle files and parts once enrolled (by default each is "
                   "overwritten and removed)");
  enroll->callback([o] { Enroll(*o); });
}

}  // namespace skap::agentcli
