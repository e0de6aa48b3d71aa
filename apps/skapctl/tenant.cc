// skapctl tenant show | set: the operator's own tenant, and its dual
// control (a second tenant-admin approves every grant but an auditor's).
#include <cstdio>
#include <memory>
#include <string>

#include "apps/skapctl/cli.h"

namespace skap::ctl {
namespace {

using nlohmann::json;

void PrintTenant(const json& t) {
  std::printf("tenant %s (%s)\n", Field(t, "name").c_str(), Field(t, "id").c_str());
  const bool on = t.value("dual_control", false);
  std::printf("dual control: %s", on ? "on" : "off");
  if (on && t.value("off_requested_by", json()).is_string()) {
    std::printf(" (%s asked to turn it off: a second tenant-admin can)",
                Field(t, "off_requested_by").c_str());
  }
  std::printf("\n");
}

}  // namespace

void AddTenant(CLI::App& app, const Globals& g) {
  auto dual = std::make_shared<std::string>();
  auto* tenant = app.add_subcommand("tenant", "Your tenant");
  tenant->require_subcommand(1);
  auto* show = tenant->add_subcommand("show", "Show your tenant and its dual control");
  show->callback([&g] { Show(g, Call(g, "GET", "/v1/tenant"), PrintTenant); });
  auto* set = tenant->add_subcommand(
      "set",
      "Set dual control (tenant-admin): 'on' needs two tenant-admins and makes every grant "
      "but an auditor's wait for a second one's approval; 'off' takes two tenant-admins "
      "asking in turn");
  set->add_option("--dual-control", *dual, "on or off")
      ->required()
      ->check(CLI::IsMember({"on", "off"}));
  set->callback([&g, dual] {
    Show(g, Call(g, "POST", "/v1/tenant", json{{"dual_control", *dual == "on"}}.dump()),
         PrintTenant);
  });
}

}  // namespace skap::ctl
