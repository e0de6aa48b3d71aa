// skapd operator add | token: operators made, or given a new token, by the
// hub itself on its own machine: a tenant's further tenant-admins that
// count for dual control (one a tenant-admin made alone does not), and the
// one way back for a tenant-admin whose token expired or was lost (no
// tenant-admin gives another a token).
#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>

#include "hub/hub_node.h"
#include "subcommands.h"

namespace skapd {
namespace {

struct OperatorOptions {
  std::string data_dir;
  std::string name;
  std::string tenant;
  std::string role;
  std::string token_out;
  std::optional<int> expires_in_days;
};

// Lifetime is the token's lifetime --expires-in-days asks for (none: as the
// command's default).
std::optional<std::chrono::seconds> Lifetime(const OperatorOptions& o) {
  if (!o.expires_in_days) return std::nullopt;
  return std::chrono::seconds(std::int64_t{*o.expires_in_days} * 86400);
}

void NewToken(const OperatorOptions& o) {
  auto node = skap::hub::HubNode::Open(o.data_dir);
  if (!node) Fail("opening " + o.data_dir, node.error());
  const auto lifetime = Lifetime(o);
  auto token =
      (*node)->registry().operators().NewToken(skap::hub::Principal::Hub(), o.name, lifetime);
  if (!token) Fail("a new token for " + o.name, token.error());
  WriteToken(o.token_out, std::move(token->token));
  std::fprintf(stderr, "operator %s has a new token, written to %s; the old one is dead\n",
               o.name.c_str(), o.token_out.c_str());
}

void Add(const OperatorOptions& o) {
  auto node = skap::hub::HubNode::Open(o.data_dir);
  if (!node) Fail("opening " + o.data_dir, node.error());
  auto tenant = (*node)->registry().tenants().IdOf(o.tenant);
  if (!tenant) Fail("finding tenant " + o.tenant, tenant.error());
  auto role = skap::hub::ParseRole(o.role);
  if (!role) Fail("the role", role.error());
  const auto lifetime = Lifetime(o);
  auto token = (*node)->registry().operators().Add(skap::hub::Principal::Hub(), *tenant, o.name,
                                                   *role, lifetime);
  if (!token) Fail("adding " + o.name, token.error());
  WriteToken(o.token_out, std::move(token->token));
  std::fprintf(stderr, "operator %s (%s) added to tenant %s by the hub; token written to %s\n",
               token->name.c_str(), o.role.c_str(), o.tenant.c_str(), o.token_out.c_str());
}

}  // namespace

void AddOperator(CLI::App& app) {
  auto o = std::make_shared<OperatorOptions>();
  auto* op = app.add_subcommand("operator", "Operators, as the hub (needs the data directory)");
  op->require_subcommand(1);
  auto* token = op->add_subcommand(
      "token", "Give any operator a new token; the old one and its TLS connections stop at once");
  token->add_option("--data", o->data_dir, "Data directory of the hub")->required();
  token->add_option("name", o->name, "Operator name, NAME@TENANT (as operator list shows)")
      ->required();
  token
      ->add_option("--token-out", o->token_out,
                   "File to write the new token to (created 0600; '-' for stdout)")
      ->required();
  token
      ->add_option("--expires-in-days", o->expires_in_days,
                   "The token stops working this many days from now (default: as the old one)")
      ->check(CLI::Range(1, 3650));
  token->callback([o] { NewToken(*o); });
  auto* add = op->add_subcommand(
      "add",
      "Add an operator to a tenant as the hub (a tenant-admin made so counts for dual "
      "control)");
  add->add_option("--data", o->data_dir, "Data directory of the hub")->required();
  add->add_option("name", o->name, "Operator name (it becomes NAME@TENANT)")->required();
  add->add_option("--tenant", o->tenant, "Tenant name")->required();
  add->add_option("--role", o->role, "tenant-admin, provisioner, admitter or auditor")
      ->required()
      ->check(CLI::IsMember({"tenant-admin", "provisioner", "admitter", "auditor"}));
  add->add_option("--token-out", o->token_out,
                  "File to write the token to (created 0600; '-' for stdout)")
      ->required();
  add->add_option("--expires-in-days", o->expires_in_days,
                  "The token stops working this many days from now (default: never)")
      ->check(CLI::Range(1, 3650));
  add->callback([o] { Add(*o); });
}

}  // namespace skapd
