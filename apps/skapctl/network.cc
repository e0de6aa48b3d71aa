// skapctl network create | show | set-hubs | pair-policy | allow-pair: the
// closed networks of the operator's tenant.
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "apps/skapctl/cli.h"

namespace skap::ctl {
namespace {

using nlohmann::json;

struct NetworkOptions {
  std::string name;
  std::vector<std::string> hub_ids;
  unsigned threshold = 0;
  std::string policy;
  std::string pair_a;
  std::string pair_b;
  bool remove_pair = false;
};

void ShowNetwork(const json& n) {
  std::string hubs;
  const auto hub_set = n.value("hub_set", nlohmann::json::array());
  for (const auto& h : hub_set)
    hubs += (hubs.empty() ? "" : ", ") + Shown(h.is_string() ? h.get<std::string>() : "");
  std::printf("network %s (%s): keys agreed %u of %zu over hubs %s; pairs: %s\n",
              Field(n, "name").c_str(), Field(n, "id").c_str(), n.value("threshold", 0U),
              hub_set.size(), hubs.c_str(), Field(n, "pair_policy").c_str());
}

}  // namespace

void AddNetwork(CLI::App& app, const Globals& g) {
  auto o = std::make_shared<NetworkOptions>();
  auto* network = app.add_subcommand("network", "Closed networks of your tenant");
  network->require_subcommand(1);
  auto* create = network->add_subcommand("create", "Create a network (tenant-admin)");
  create->add_option("name", o->name, "Network name")->required();
  create->callback([&g, o] {
    Show(g, Call(g, "POST", "/v1/networks", json{{"name", o->name}}.dump()), [](const json& j) {
      std::printf("network %s created (%s)\n", Field(j, "name").c_str(), Field(j, "id").c_str());
    });
  });
  auto* show = network->add_subcommand("show", "A network's hubs, threshold and pair policy");
  show->add_option("name", o->name, "Network name")->required();
  show->callback([&g, o] { Show(g, Call(g, "GET", "/v1/networks/" + o->name), ShowNetwork); });
  auto* hubs = network->add_subcommand(
      "set-hubs",
      "Set the hubs the network's agreements span and their threshold k (tenant-admin; "
      "set the same at every hub of the network)");
  hubs->add_option("name", o->name, "Network name")->required();
  hubs->add_option("--hub", o->hub_ids, "A hub id (repeat for each hub, this one included)")
      ->required();
  hubs->add_option("--threshold", o->threshold, "k: shares needed to rebuild a key (1..n)")
      ->required();
  hubs->callback([&g, o] {
    Show(g,
         Call(g, "POST", "/v1/networks/" + o->name + "/hubs",
              json{{"hubs", o->hub_ids}, {"threshold", o->threshold}}.dump()),
         ShowNetwork);
  });
  auto* policy = network->add_subcommand(
      "pair-policy", "Let any two devices agree keys, or only the pairs allowed (tenant-admin)");
  policy->add_option("name", o->name, "Network name")->required();
  policy->add_option("policy", o->policy, "any or allow-list")
      ->required()
      ->check(CLI::IsMember({"any", "allow-list"}));
  policy->callback([&g, o] {
    Show(g,
         Call(g, "POST", "/v1/networks/" + o->name + "/pair-policy",
              json{{"policy", o->policy}}.dump()),
         ShowNetwork);
  });
  auto* pair = network->add_subcommand(
      "allow-pair", "Allow two devices to agree keys under the allow-list policy (tenant-admin)");
  pair->add_option("name", o->name, "Network name")->required();
  pair->add_option("a", o->pair_a, "Device id")->required();
  pair->add_option("b", o->pair_b, "Device id")->required();
  pair->add_flag("--remove", o->remove_pair, "Take the pair off the allow-list instead");
  pair->callback([&g, o] {
    Show(g,
         Call(g, "POST", "/v1/networks/" + o->name + "/pairs",
              json{{"a", o->pair_a}, {"b", o->pair_b}, {"allow", !o->remove_pair}}.dump()),
         ShowNetwork);
  });
}

}  // namespace skap::ctl
