// skapctl audit list | verify: the hub's audit log (auditor, tenant-admin).
#include <cstdio>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>

#include "apps/skapctl/cli.h"

namespace skap::ctl {
namespace {

using nlohmann::json;

struct AuditOptions {
  std::string since;
  std::string until;
  std::string actor;
  std::string target;
  std::string action;
  std::string tenant;
  std::string limit;
};

void PrintEntries(const json& entries) {
  for (const auto& e : entries) {
    std::printf("%6lld  %lld  %-14s %-22s %-36s %s\n", static_cast<long long>(e.value("seq", 0LL)),
                static_cast<long long>(e.value("at_ms", 0LL)), Field(e, "actor").c_str(),
                Field(e, "action").c_str(), Field(e, "target").c_str(),
                Field(e, "outcome").c_str());
  }
}

}  // namespace

void AddAudit(CLI::App& app, const Globals& g) {
  auto o = std::make_shared<AuditOptions>();
  auto* audit = app.add_subcommand(
      "audit",
      "The hub's audit log: your tenant's entries (auditor, tenant-admin), or every "
      "entry on the hub's socket without a token");
  audit->require_subcommand(1);
  auto* list = audit->add_subcommand("list", "List entries, oldest first");
  list->add_option("--since-ms", o->since, "From this time (ms since the epoch)");
  list->add_option("--until-ms", o->until, "Before this time (ms since the epoch)");
  list->add_option("--actor", o->actor, "Only this actor");
  list->add_option("--target", o->target, "Only this target");
  list->add_option("--action", o->action, "Only this action (e.g. agreement.share)");
  list->add_option("--limit", o->limit, "At most this many entries");
  list->add_option("--tenant", o->tenant,
                   "Only this tenant's entries (the hub, on its socket without a token; an "
                   "operator sees their own tenant's only)");
  list->callback([&g, o] {
    Show(g,
         Call(g, "GET",
              "/v1/audit" + Query({{"since_ms", o->since},
                                   {"until_ms", o->until},
                                   {"actor", o->actor},
                                   {"target", o->target},
                                   {"action", o->action},
                                   {"tenant", o->tenant},
                                   {"limit", o->limit}})),
         PrintEntries);
  });
  auto* checkpoint = audit->add_subcommand(
      "checkpoint",
      "Print a MACed checkpoint of the chain's head (JSON, no secret): keep copies off the "
      "hub, and give one to `audit verify --checkpoint` to prove nothing was cut since");
  checkpoint->callback([&g] {
    const auto reply = Call(g, "GET", "/v1/audit/checkpoint");
    if (reply.status != 200) ReplyError(reply);
    std::printf("%s\n", Dumped(json::parse(reply.BodyText(), nullptr, false)).c_str());
  });
  auto checkpoint_file = std::make_shared<std::string>();
  auto* verify = audit->add_subcommand("verify", "Check the HMAC chain end to end");
  verify
      ->add_option("--checkpoint", *checkpoint_file,
                   "A checkpoint from `audit checkpoint` (or the hub's audit_checkpoint file): "
                   "the chain must still hold the head it recorded")
      ->check(CLI::ExistingFile);
  verify->callback([&g, checkpoint_file] {
    std::string body;
    if (!checkpoint_file->empty()) {
      std::ifstream in(*checkpoint_file, std::ios::binary);
      body.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
      if (body.empty()) Fail("cannot read a checkpoint from " + *checkpoint_file);
    }
    const auto reply = body.empty() ? Call(g, "GET", "/v1/audit/verify")
                                    : Call(g, "POST", "/v1/audit/verify", body);
    if (reply.status != 200) ReplyError(reply);
    const auto v = json::parse(reply.BodyText(), nullptr, false);
    if (g.json_output) {
      std::printf("%s\n", Dumped(v).c_str());
    } else if (v.value("intact", false)) {
      std::printf("audit chain intact: %lld entries\n",
                  static_cast<long long>(v.value("entries", 0LL)));
      if (v.contains("checkpoint")) {
        std::printf("and it holds checkpoint %lld (%lld entries)\n",
                    static_cast<long long>(v["checkpoint"].value("counter", 0LL)),
                    static_cast<long long>(v["checkpoint"].value("seq", 0LL)));
      }
    } else if (v.contains("first_broken_seq") && v["first_broken_seq"].is_number_integer()) {
      std::printf("audit chain BROKEN at entry %lld: %s\n",
                  static_cast<long long>(v["first_broken_seq"].get<std::int64_t>()),
                  Field(v, "reason").c_str());
    } else {
      std::printf("audit chain BROKEN: %s\n", Field(v, "reason").c_str());
    }
    Exit(v.value("intact", false) ? 0 : 3);
  });
}

}  // namespace skap::ctl
