// skapctl operator add | list | disable | token | approve | join: the operators of
// a tenant, one role each. A token is written once, to a file of mode 0600.
#include <cstdio>
#include <ctime>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "apps/skapctl/cli.h"
#include "common/secret_file.h"
#include "proto/admin_identity.h"

namespace skap::ctl {
namespace {

using nlohmann::json;

struct OperatorOptions {
  std::string name;
  std::string role;
  std::string token_out;
  std::optional<int> expires_in_days;
};

// WithLifetime adds "expires_in_s" to `body` when --expires-in-days was given.
json WithLifetime(json body, const OperatorOptions& o) {
  if (o.expires_in_days) body["expires_in_s"] = std::int64_t{*o.expires_in_days} * 86400;
  return body;
}

// WriteToken writes the token (or token part) a reply carries, or fails
// with the reply's error; false if it is the granter's part of a grant that
// waits for a second tenant-admin's approval (202).
bool WriteToken(const AdminReply& reply, NewSecretFile& file) {
  if (reply.status / 100 != 2) ReplyError(reply);
  if (auto w = file.Write(reply.body.Expose()); !w) Fail(w.error());
  return reply.status != 202;
}

// FreshFile creates the token's file before anything is asked of the hub: a
// token the hub made is shown once, and would be lost if it could not be
// written afterwards. It is removed again if the program fails before.
NewSecretFile FreshFile(const std::string& path) {
  auto file = NewSecretFile::Create(path);
  if (!file) Fail(file.error().message + ": give a new file");
  return std::move(*file);
}

// PendingNote is what a tenant-admin whose grant waits for approval is told.
void PendingNote(const std::string& name, const std::string& path) {
  std::fprintf(stderr,
               "the tenant has dual control: %s holds one part of the token; a second "
               "tenant-admin runs 'skapctl operator approve %s --token-out FILE' for the other, "
               "and the operator joins the two ('skapctl operator join')\n",
               path.c_str(), Shown(name).c_str());
}

std::string When(const json& ms) {
  if (!ms.is_number_integer()) return "never";
  const std::time_t t = ms.get<std::int64_t>() / 1000;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

std::string State(const json& o) {
  if (o.value("disabled", true)) return "disabled";
  if (o.value("pending_approval_by", json()).is_string()) {
    return "pending approval (granted by " + Field(o, "pending_approval_by") + ")";
  }
  return "enabled";
}

void PrintOperators(const json& operators) {
  std::printf("%-24s  %-12s  %-4s  %-20s  %-36s  %s\n", "NAME", "ROLE", "TLS", "EXPIRES", "TENANT",
              "STATE");
  for (const auto& o : operators) {
    std::printf("%-24s  %-12s  %-4s  %-20s  %-36s  %s\n", Field(o, "name").c_str(),
                Field(o, "role").c_str(), o.value("tls", false) ? "yes" : "no",
                When(o.value("expires_at_ms", json())).c_str(), Field(o, "tenant").c_str(),
                State(o).c_str());
  }
}

void AddLifetimeOption(CLI::App& sub, OperatorOptions& o) {
  sub.add_option("--expires-in-days", o.expires_in_days,
                 "The token stops working this many days from now (default: never)")
      ->check(CLI::Range(1, 3650));
}

}  // namespace

void AddOperator(CLI::App& app, const Globals& g) {
  auto o = std::make_shared<OperatorOptions>();
  auto* op = app.add_subcommand("operator", "Operators of your tenant");
  op->require_subcommand(1);
  auto* add = op->add_subcommand("add", "Add an operator (tenant-admin)");
  add->add_option("name", o->name, "Operator name (it becomes NAME@TENANT)")->required();
  add->add_option("--role", o->role, "tenant-admin, provisioner, admitter or auditor")
      ->required()
      ->check(CLI::IsMember({"tenant-admin", "provisioner", "admitter", "auditor"}));
  add->add_option("--token-out", o->token_out, "File for the new token (created 0600; '-' stdout)")
      ->required();
  AddLifetimeOption(*add, *o);
  add->callback([&g, o] {
    auto file = FreshFile(o->token_out);
    const auto reply = Call(g, "POST", "/v1/operators",
                            WithLifetime(json{{"name", o->name}, {"role", o->role}}, *o).dump());
    // The hub qualifies the name by the tenant's: the name to use from now on.
    const auto named = reply.headers.find("X-Skap-Operator");
    const std::string name = named != reply.headers.end() ? named->second : o->name;
    if (!WriteToken(reply, file)) {
      std::fprintf(stderr, "operator %s (%s) added, pending approval\n", Shown(name).c_str(),
                   o->role.c_str());
      return PendingNote(name, o->token_out);
    }
    std::fprintf(stderr, "operator %s (%s) added; token written to %s\n", Shown(name).c_str(),
                 o->role.c_str(), o->token_out.c_str());
  });

  auto* list = op->add_subcommand("list", "List your tenant's operators (tenant-admin, auditor)");
  list->callback([&g] { Show(g, Call(g, "GET", "/v1/operators"), PrintOperators); });

  auto* disable = op->add_subcommand(
      "disable",
      "Disable an operator at once: token, TLS PSK and open TLS connections (tenant-admin)");
  disable->add_option("name", o->name, "Operator name, NAME@TENANT (as operator list shows)")
      ->required();
  disable->callback([&g, o] {
    const auto reply = Call(g, "POST", "/v1/operators/" + o->name + "/disable");
    if (reply.status / 100 != 2) ReplyError(reply);
    std::fprintf(stderr, "operator %s disabled\n", Shown(o->name).c_str());
  });

  auto* token = op->add_subcommand(
      "token",
      "Give an operator a new token; the old one and its TLS connections stop at once "
      "(tenant-admin, or yourself)");
  token->add_option("name", o->name, "Operator name, NAME@TENANT (as operator list shows)")
      ->required();
  token
      ->add_option("--token-out", o->token_out, "File for the new token (created 0600; '-' stdout)")
      ->required();
  AddLifetimeOption(*token, *o);
  token->callback([&g, o] {
    auto file = FreshFile(o->token_out);
    if (!WriteToken(Call(g, "POST", "/v1/operators/" + o->name + "/token",
                         WithLifetime(json::object(), *o).dump()),
                    file)) {
      std::fprintf(stderr, "operator %s: the old token is dead, the new one pending approval\n",
                   Shown(o->name).c_str());
      return PendingNote(o->name, o->token_out);
    }
    std::fprintf(stderr, "operator %s has a new token, written to %s; the old one is dead\n",
                 Shown(o->name).c_str(), o->token_out.c_str());
  });

  auto* approve = op->add_subcommand(
      "approve",
      "Approve an operator (or a new token) another tenant-admin granted under dual control "
      "(tenant-admin, not the one who granted it)");
  approve->add_option("name", o->name, "Operator name, NAME@TENANT (as operator list shows)")
      ->required();
  approve
      ->add_option("--token-out", o->token_out,
                   "File for your part of the operator's token, to hand over (created 0600; '-' "
                   "stdout)")
      ->required();
  approve->callback([&g, o] {
    auto file = FreshFile(o->token_out);
    WriteToken(Call(g, "POST", "/v1/operators/" + o->name + "/approve"), file);
    std::fprintf(stderr,
                 "operator %s approved; your part of their token is written to %s: they join it "
                 "with the granter's ('skapctl operator join')\n",
                 Shown(o->name).c_str(), o->token_out.c_str());
  });

  auto* join = op->add_subcommand(
      "join",
      "Join the two parts of a token granted under dual control (no hub is asked): the "
      "operator's own step");
  auto parts = std::make_shared<std::vector<std::string>>();
  join->add_option("--part", *parts, "A part's file (give both)")->required()->expected(2);
  join->add_option("--token-out", o->token_out, "File for the token (created 0600; '-' stdout)")
      ->required();
  auto remove_parts = std::make_shared<bool>(false);
  join->add_flag("--remove-parts", *remove_parts,
                 "Overwrite and remove the two part files once the token is written to a file "
                 "(check first that the token works: a wrong pair joins into a token that does "
                 "not, and the parts are the only way back)");
  join->callback([o, parts, remove_parts] {
    if (*remove_parts && o->token_out == "-") {
      Fail("--remove-parts needs --token-out FILE: a token on standard output may not be kept");
    }
    auto file = FreshFile(o->token_out);
    auto a = ReadSecretFile((*parts)[0]);
    if (!a) Fail(a.error());
    auto b = ReadSecretFile((*parts)[1]);
    if (!b) Fail(b.error());
    auto joined = proto::JoinOperatorTokenParts(a->Expose(), b->Expose());
    if (!joined) Fail(joined.error());
    if (auto w = file.Write(joined->Expose()); !w) Fail(w.error());
    std::fprintf(stderr, "token written to %s\n", o->token_out.c_str());
    if (!*remove_parts) return;
    for (const auto& part : *parts) {
      auto removed = RemoveSecretFile(part);
      if (!removed) Fail("the token is written, but " + removed.error().message);
      std::fprintf(
          stderr,
          *removed ? "part %s overwritten and removed\n" : "part %s left: not a regular file\n",
          Shown(part).c_str());
    }
  });
}

}  // namespace skap::ctl
