// skapd tenant create: a tenant and its first tenant-admin, on the hub's
// own machine (local setup, as the hub principal).
#include <cstdio>
#include <memory>
#include <string>

#include "hub/hub_node.h"
#include "subcommands.h"

namespace skapd {
namespace {

struct TenantOptions {
  std::string data_dir;
  std::string name;
  std::string admin;
  std::string token_out;
};

void CreateTenant(const TenantOptions& o) {
  auto node = skap::hub::HubNode::Open(o.data_dir);
  if (!node) Fail("opening " + o.data_dir, node.error());
  const auto hub = skap::hub::Principal::Hub();
  auto tenant_id = (*node)->registry().tenants().Create(hub, o.name);
  if (!tenant_id) Fail("creating the tenant", tenant_id.error());
  auto token =
      (*node)->registry().operators().Add(hub, *tenant_id, o.admin, skap::hub::Role::kTenantAdmin);
  if (!token) Fail("creating the admin", token.error());
  WriteToken(o.token_out, std::move(token->token));
  std::fprintf(stderr, "tenant %s (%s) created; tenant-admin %s's token written to %s\n",
               o.name.c_str(), tenant_id->c_str(), token->name.c_str(), o.token_out.c_str());
}

}  // namespace

void AddTenant(CLI::App& app) {
  auto o = std::make_shared<TenantOptions>();
  auto* tenant =
      app.add_subcommand("tenant", "Tenant setup on this hub (needs the data directory)");
  tenant->require_subcommand(1);
  auto* create = tenant->add_subcommand("create", "Create a tenant and its first tenant-admin");
  create->add_option("--data", o->data_dir, "Data directory of the hub")->required();
  create->add_option("--name", o->name, "Tenant name")->required();
  create->add_option("--admin", o->admin, "Name of the first tenant-admin (it becomes NAME@TENANT)")
      ->required();
  create
      ->add_option("--token-out", o->token_out,
                   "File to write the admin's token to (created 0600; '-' for stdout)")
      ->required();
  create->callback([o] { CreateTenant(*o); });
}

}  // namespace skapd
