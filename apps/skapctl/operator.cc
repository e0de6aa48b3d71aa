// skapctl operator add: a new operator of the tenant, with one role; the
// token is written once, to a file of mode 0600.
#include <cstdio>
#include <memory>
#include <string>

#include "apps/skapctl/cli.h"
#include "common/secret_file.h"

namespace skap::ctl {
namespace {

struct OperatorOptions {
  std::string name;
  std::string role;
  std::string token_out;
};

}  // namespace

void AddOperator(CLI::App& app, const Globals& g) {
  auto o = std::make_shared<OperatorOptions>();
  auto* op = app.add_subcommand("operator", "Operators of your tenant");
  op->require_subcommand(1);
  auto* add = op->add_subcommand("add", "Add an operator (tenant-admin)");
  add->add_option("name", o->name, "Operator name")->required();
  add->add_option("--role", o->role, "tenant-admin, provisioner, admitter or auditor")
      ->required()
      ->check(CLI::IsMember({"tenant-admin", "provisioner", "admitter", "auditor"}));
  add->add_option("--token-out", o->token_out, "File for the new token (created 0600; '-' stdout)")
      ->required();
  add->callback([&g, o] {
    const auto reply = Call(g, "POST", "/v1/operators",
                            nlohmann::json{{"name", o->name}, {"role", o->role}}.dump());
    if (reply.status / 100 != 2) ReplyError(reply);
    if (auto w = WriteSecretFile(o->token_out, reply.body.Expose()); !w) Fail(w.error());
    std::fprintf(stderr, "operator %s (%s) added; token written to %s\n", o->name.c_str(),
                 o->role.c_str(), o->token_out.c_str());
  });
}

}  // namespace skap::ctl
