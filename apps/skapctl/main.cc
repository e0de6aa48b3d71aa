// skapctl: the operator's tool for a SKAP hub's admin API.
#include <array>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "apps/skapctl/admin_client.h"
#include "apps/skapctl/device_list_csv.h"
#include "apps/skapctl/progress_bar.h"
#include "apps/skapctl/qr.h"
#include "common/hex.h"
#include "common/secret_file.h"

namespace {

using nlohmann::json;
using skap::ctl::AdminReply;

struct Globals {
  skap::ctl::AdminEndpoint endpoint;
  std::string token_file;
  bool json_output = false;
};

int Fail(const std::string& message) {
  std::fprintf(stderr, "skapctl: %s\n", message.c_str());
  return 1;
}

int Fail(const skap::Error& error) { return Fail(skap::ToString(error)); }

// ReplyError turns a non-2xx reply into the hub's error and message.
int ReplyError(const AdminReply& reply) {
  const auto body = json::parse(reply.BodyText(), nullptr, false);
  if (body.is_object() && body.contains("error")) {
    return Fail(body.value("error", "") + ": " + body.value("message", ""));
  }
  return Fail("the hub answered HTTP " + std::to_string(reply.status));
}

skap::Result<skap::SecretBytes> LoadToken(const Globals& g) {
  if (g.token_file.empty()) {
    return skap::Unexpected(skap::ErrorCode::kInvalidArgument,
                            "no operator token: pass --token-file or set SKAP_TOKEN_FILE");
  }
  SKAP_ASSIGN_OR_RETURN(auto token, skap::ReadSecretFile(g.token_file, 4096));
  std::size_t length = token.size();
  const auto bytes = token.Expose();
  while (length > 0 &&
         (bytes[length - 1] == '\n' || bytes[length - 1] == '\r' || bytes[length - 1] == ' ')) {
    --length;
  }
  token.Resize(length);
  return token;
}

skap::Result<AdminReply> Call(const Globals& g, const std::string& method,
                              const std::string& target, const std::string& body = "") {
  SKAP_ASSIGN_OR_RETURN(auto token, LoadToken(g));
  return skap::ctl::CallAdmin(g.endpoint, token, method, target, body);
}

// ProvisionFromCsv provisions every device of a CSV file, writing one bundle
// per device. A row the hub refuses (bad or taken name) is reported and
// skipped; a refusal of the operator (role, token) or a lost hub stops it.
int ProvisionFromCsv(const Globals& g, const std::string& network, const std::string& csv_file,
                     const std::string& out_dir, std::int64_t lifetime_s) {
  auto devices = skap::ctl::ReadDeviceListCsv(csv_file);
  if (!devices) return Fail(devices.error());
  std::filesystem::create_directories(out_dir);
  const auto bundle_path = [&](const std::string& device) {
    return out_dir + "/" + device + ".skapbundle";
  };
  for (const auto& d : *devices) {
    if (std::filesystem::exists(bundle_path(d.name))) {
      return Fail(bundle_path(d.name) + " exists; not overwriting a bundle");
    }
  }
  auto token = LoadToken(g);
  if (!token) return Fail(token.error());
  skap::ctl::ProgressBar progress("devices", devices->size());
  std::size_t done = 0;
  std::vector<std::string> failures;
  for (const auto& d : *devices) {
    json body{{"network", network}, {"name", d.name}, {"can_provision", d.can_provision}};
    if (lifetime_s > 0) body["lifetime_s"] = lifetime_s;
    auto reply = skap::ctl::CallAdmin(g.endpoint, *token, "POST", "/v1/devices", body.dump());
    if (!reply) {
      progress.Finish(done);
      return Fail(reply.error());
    }
    if (reply->status == 401 || reply->status == 403) {
      progress.Finish(done);
      return ReplyError(*reply);
    }
    if (reply->status / 100 != 2) {
      const auto error = json::parse(reply->BodyText(), nullptr, false);
      failures.push_back(csv_file + ":" + std::to_string(d.line) + " " + d.name + ": " +
                         (error.is_object() ? error.value("message", "") : "refused"));
    } else if (auto w = skap::WriteSecretFile(bundle_path(d.name), reply->body.Expose()); !w) {
      progress.Finish(done);
      return Fail(w.error());
    } else {
      ++done;
    }
    progress.Update(done + failures.size());
  }
  progress.Finish(done + failures.size());
  for (const auto& f : failures) std::fprintf(stderr, "skapctl: refused: %s\n", f.c_str());
  std::fprintf(stderr, "%zu devices provisioned, bundles in %s; %zu refused\n", done,
               out_dir.c_str(), failures.size());
  return failures.empty() ? 0 : 1;
}

std::string Query(const std::vector<std::pair<std::string, std::string>>& params) {
  std::string out;
  for (const auto& [key, value] : params) {
    if (value.empty()) continue;
    out += out.empty() ? "?" : "&";
    out += key + "=";
    for (char ch : value) {
      const auto c = static_cast<unsigned char>(ch);
      if (std::isalnum(c) != 0 || c == '-' || c == '_' || c == '.') {
        out.push_back(ch);
      } else {
        char escaped[4];
        std::snprintf(escaped, sizeof escaped, "%%%02X", c);
        out += escaped;
      }
    }
  }
  return out;
}

void PrintDevices(const json& devices) {
  std::printf("%-36s  %-20s  %-11s  %-14s  %s\n", "ID", "NAME", "STATE", "PROVISIONED BY",
              "ADMITTED BY");
  for (const auto& d : devices) {
    std::printf("%-36s  %-20s  %-11s  %-14s  %s\n", d.value("id", "").c_str(),
                d.value("name", "").c_str(), d.value("state", "").c_str(),
                d.value("provisioned_by", "").c_str(),
                d["admitted_by"].is_string() ? d["admitted_by"].get<std::string>().c_str() : "-");
  }
}

int ShowJson(const Globals& g, const AdminReply& reply, void (*human)(const json&)) {
  if (reply.status / 100 != 2) return ReplyError(reply);
  const auto body = json::parse(reply.BodyText(), nullptr, false);
  if (g.json_output || human == nullptr) {
    std::printf("%s\n", body.dump(2).c_str());
  } else {
    human(body);
  }
  return 0;
}

}  // namespace

int Main(int argc, char** argv) {
  CLI::App app{
      "skapctl: operate a SKAP hub through its admin API: on the hub's machine over\n"
      "its Unix socket, from elsewhere over TLS 1.3 with a PSK derived from your\n"
      "operator token (--hub, --operator). Every call is checked against your role."};
  app.require_subcommand(1);
  Globals g;
  // Single-threaded here, so getenv is safe.
  const char* env_socket = std::getenv("SKAP_ADMIN_SOCKET");  // NOLINT(concurrency-mt-unsafe)
  const char* env_token = std::getenv("SKAP_TOKEN_FILE");     // NOLINT(concurrency-mt-unsafe)
  const char* env_hub = std::getenv("SKAP_HUB_ADMIN");        // NOLINT(concurrency-mt-unsafe)
  const char* env_operator = std::getenv("SKAP_OPERATOR");    // NOLINT(concurrency-mt-unsafe)
  g.endpoint.socket_path = env_socket != nullptr ? env_socket : "/var/lib/skap/admin.sock";
  g.endpoint.tls_address = env_hub != nullptr ? env_hub : "";
  g.endpoint.operator_name = env_operator != nullptr ? env_operator : "";
  g.token_file = env_token != nullptr ? env_token : "";
  app.add_option("--socket", g.endpoint.socket_path,
                 "Admin socket of the hub (env SKAP_ADMIN_SOCKET)")
      ->capture_default_str();
  app.add_option("--hub", g.endpoint.tls_address,
                 "HOST:PORT of the hub's TLS-PSK admin listener, instead of the socket "
                 "(env SKAP_HUB_ADMIN)");
  app.add_option("--operator", g.endpoint.operator_name,
                 "Your operator name, the PSK identity over TLS (env SKAP_OPERATOR)");
  app.add_flag("--psk-dhe", g.endpoint.psk_dhe,
               "Over TLS, add X25519 to the PSK (psk_dhe_ke) for forward secrecy");
  app.add_option("--token-file", g.token_file,
                 "File holding your operator token (env SKAP_TOKEN_FILE)");
  app.add_flag("--json", g.json_output, "Print the hub's JSON instead of tables");

  // network
  auto* network = app.add_subcommand("network", "Closed networks of your tenant");
  network->require_subcommand(1);
  std::string name;
  auto* network_create = network->add_subcommand("create", "Create a network (tenant-admin)");
  network_create->add_option("name", name, "Network name")->required();
  auto* network_show =
      network->add_subcommand("show", "A network's hubs, threshold and pair policy");
  network_show->add_option("name", name, "Network name")->required();
  std::vector<std::string> hub_ids;
  unsigned threshold = 0;
  auto* network_hubs = network->add_subcommand(
      "set-hubs",
      "Set the hubs the network's agreements span and their threshold k (tenant-admin; "
      "set the same at every hub of the network)");
  network_hubs->add_option("name", name, "Network name")->required();
  network_hubs->add_option("--hub", hub_ids, "A hub id (repeat for each hub, this one included)")
      ->required();
  network_hubs->add_option("--threshold", threshold, "k: shares needed to rebuild a key (1..n)")
      ->required();
  std::string policy;
  auto* network_policy = network->add_subcommand(
      "pair-policy", "Let any two devices agree keys, or only the pairs allowed (tenant-admin)");
  network_policy->add_option("name", name, "Network name")->required();
  network_policy->add_option("policy", policy, "any or allow-list")
      ->required()
      ->check(CLI::IsMember({"any", "allow-list"}));
  std::string pair_a;
  std::string pair_b;
  bool remove_pair = false;
  auto* network_pair = network->add_subcommand(
      "allow-pair", "Allow two devices to agree keys under the allow-list policy (tenant-admin)");
  network_pair->add_option("name", name, "Network name")->required();
  network_pair->add_option("a", pair_a, "Device id")->required();
  network_pair->add_option("b", pair_b, "Device id")->required();
  network_pair->add_flag("--remove", remove_pair, "Take the pair off the allow-list instead");

  // hub
  auto* hub = app.add_subcommand("hub", "This hub");
  hub->require_subcommand(1);
  auto* hub_id = hub->add_subcommand("id", "Print the hub's id (for network set-hubs)");

  // operator
  auto* op = app.add_subcommand("operator", "Operators of your tenant");
  op->require_subcommand(1);
  auto* op_add = op->add_subcommand("add", "Add an operator (tenant-admin)");
  std::string role;
  std::string token_out;
  op_add->add_option("name", name, "Operator name")->required();
  op_add->add_option("--role", role, "tenant-admin, provisioner, admitter or auditor")
      ->required()
      ->check(CLI::IsMember({"tenant-admin", "provisioner", "admitter", "auditor"}));
  op_add->add_option("--token-out", token_out, "File for the new token (created 0600; '-' stdout)")
      ->required();

  // device
  auto* device = app.add_subcommand("device", "Devices: provision, admit, revoke, list");
  device->require_subcommand(1);
  std::string network_name;
  std::string out_file;
  std::string split;
  std::string parts_dir;
  std::string qr = "png";
  std::string state;
  std::string device_id;
  std::int64_t lifetime_s = 0;
  bool can_provision = false;
  auto* provision = device->add_subcommand(
      "provision", "Create a device and write its bootstrap bundle (provisioner)");
  provision->add_option("--network", network_name, "Network of the device")->required();
  std::string csv_file;
  std::string out_dir = ".";
  auto* name_option = provision->add_option("--name", name, "Device name");
  auto* csv_option = provision->add_option(
      "--csv", csv_file,
      "Provision every device of a CSV file (header: name[,can_provision]), one bundle each");
  csv_option->excludes(name_option)->check(CLI::ExistingFile);
  auto* out_dir_option = provision->add_option(
      "--out-dir", out_dir, "Directory for the bundles of --csv (NAME.skapbundle, 0600)");
  out_dir_option->needs(csv_option);
  provision->add_option("--lifetime-s", lifetime_s,
                        "Seconds the bundle stays usable (hub default)");
  provision->add_flag("--can-provision", can_provision,
                      "The device may provision devices into its network");
  std::string new_id;
  provision
      ->add_option("--id", new_id,
                   "Device id to use (the id the device already has at another hub of the "
                   "network); drawn at random if not given")
      ->excludes(csv_option);
  auto* out_option =
      provision->add_option("--out", out_file, "Bundle file to write (created 0600; '-' stdout)");
  auto* split_option = provision->add_option(
      "--split", split, "Split the bundle into parts, K/M: any K of M rebuild it");
  provision->add_option("--parts-dir", parts_dir, "Directory for the parts (with --split)")
      ->needs(split_option);
  provision->add_option("--qr", qr, "QR codes for the parts: png, terminal, both or none")
      ->check(CLI::IsMember({"png", "terminal", "both", "none"}))
      ->needs(split_option);
  out_option->excludes(split_option);
  csv_option->excludes(out_option)->excludes(split_option);

  auto* list = device->add_subcommand("list", "List a network's devices");
  list->add_option("--network", network_name, "Network")->required();
  list->add_option("--state", state, "Only devices in this state");
  auto* pending = device->add_subcommand("pending", "Devices awaiting admission, with reports");
  pending->add_option("--network", network_name, "Network")->required();
  auto* show = device->add_subcommand("show", "One device");
  show->add_option("id", device_id, "Device id")->required();
  std::vector<std::pair<CLI::App*, std::string>> transitions;
  const std::array<std::pair<const char*, const char*>, 4> verbs = {{
      {"admit", "Admit a pending device (admitter; never the one who provisioned it)"},
      {"reject", "Reject a device awaiting admission (admitter)"},
      {"revoke", "Revoke a device now: its open channels close (tenant-admin, admitter)"},
      {"ratchet", "Ask an active device to move its channel key to a new epoch now"},
  }};
  for (const auto& [verb, help] : verbs) {
    auto* sub = device->add_subcommand(verb, help);
    sub->add_option("id", device_id, "Device id")->required();
    transitions.emplace_back(sub, verb);
  }

  // audit
  auto* audit = app.add_subcommand("audit", "The hub's audit log (auditor, tenant-admin)");
  audit->require_subcommand(1);
  std::string since;
  std::string until;
  std::string actor;
  std::string target_filter;
  std::string limit;
  auto* audit_list = audit->add_subcommand("list", "List entries, oldest first");
  audit_list->add_option("--since-ms", since, "From this time (ms since the epoch)");
  audit_list->add_option("--until-ms", until, "Before this time (ms since the epoch)");
  audit_list->add_option("--actor", actor, "Only this actor");
  audit_list->add_option("--target", target_filter, "Only this target");
  std::string action_filter;
  audit_list->add_option("--action", action_filter, "Only this action (e.g. agreement.share)");
  audit_list->add_option("--limit", limit, "At most this many entries");
  auto* audit_verify = audit->add_subcommand("verify", "Check the HMAC chain end to end");

  CLI11_PARSE(app, argc, argv);

  if (network_create->parsed()) {
    auto reply = Call(g, "POST", "/v1/networks", json{{"name", name}}.dump());
    if (!reply) return Fail(reply.error());
    return ShowJson(g, *reply, [](const json& j) {
      std::printf("network %s created (%s)\n", j.value("name", "").c_str(),
                  j.value("id", "").c_str());
    });
  }
  const auto show_network = [](const json& n) {
    std::string hubs;
    for (const auto& h : n["hub_set"]) hubs += (hubs.empty() ? "" : ", ") + h.get<std::string>();
    std::printf("network %s (%s): keys agreed %u of %zu over hubs %s; pairs: %s\n",
                n.value("name", "").c_str(), n.value("id", "").c_str(), n.value("threshold", 0U),
                n["hub_set"].size(), hubs.c_str(), n.value("pair_policy", "").c_str());
  };
  if (network_show->parsed() || network_hubs->parsed() || network_policy->parsed() ||
      network_pair->parsed()) {
    skap::Result<AdminReply> reply = skap::Unexpected(skap::ErrorCode::kInvalidArgument, "");
    const std::string base = "/v1/networks/" + name;
    if (network_show->parsed()) {
      reply = Call(g, "GET", base);
    } else if (network_hubs->parsed()) {
      reply =
          Call(g, "POST", base + "/hubs", json{{"hubs", hub_ids}, {"threshold", threshold}}.dump());
    } else if (network_policy->parsed()) {
      reply = Call(g, "POST", base + "/pair-policy", json{{"policy", policy}}.dump());
    } else {
      reply = Call(g, "POST", base + "/pairs",
                   json{{"a", pair_a}, {"b", pair_b}, {"allow", !remove_pair}}.dump());
    }
    if (!reply) return Fail(reply.error());
    return ShowJson(g, *reply, show_network);
  }
  if (hub_id->parsed()) {
    auto reply = Call(g, "GET", "/v1/hub");
    if (!reply) return Fail(reply.error());
    return ShowJson(g, *reply,
                    [](const json& j) { std::printf("%s\n", j.value("hub_id", "").c_str()); });
  }
  if (op_add->parsed()) {
    auto reply = Call(g, "POST", "/v1/operators", json{{"name", name}, {"role", role}}.dump());
    if (!reply) return Fail(reply.error());
    if (reply->status / 100 != 2) return ReplyError(*reply);
    if (auto w = skap::WriteSecretFile(token_out, reply->body.Expose()); !w) return Fail(w.error());
    std::fprintf(stderr, "operator %s (%s) added; token written to %s\n", name.c_str(),
                 role.c_str(), token_out.c_str());
    return 0;
  }
  if (provision->parsed() && !csv_file.empty()) {
    return ProvisionFromCsv(g, network_name, csv_file, out_dir, lifetime_s);
  }
  if (provision->parsed()) {
    if (name.empty()) return Fail("give --name, or --csv for many devices");
    json body{{"network", network_name}, {"name", name}, {"can_provision", can_provision}};
    if (lifetime_s > 0) body["lifetime_s"] = lifetime_s;
    if (!new_id.empty()) body["id"] = new_id;
    unsigned k = 0;
    unsigned m = 0;
    if (!split.empty()) {
      const auto slash = split.find('/');
      char* end_k = nullptr;
      char* end_m = nullptr;
      const unsigned long parsed_k = std::strtoul(split.c_str(), &end_k, 10);
      const unsigned long parsed_m =
          slash == std::string::npos ? 0 : std::strtoul(split.c_str() + slash + 1, &end_m, 10);
      if (slash == std::string::npos || end_k != split.c_str() + slash || end_m == nullptr ||
          *end_m != '\0' || parsed_k > 255 || parsed_m > 255) {
        return Fail("--split must be K/M, e.g. 2/3");
      }
      k = static_cast<unsigned>(parsed_k);
      m = static_cast<unsigned>(parsed_m);
      body["split"] = json{{"k", k}, {"m", m}};
      if (parts_dir.empty()) parts_dir = ".";
    } else if (out_file.empty()) {
      out_file = name + ".skapbundle";
    }
    auto reply = Call(g, "POST", "/v1/devices", body.dump());
    if (!reply) return Fail(reply.error());
    if (reply->status / 100 != 2) return ReplyError(*reply);
    const std::string id = reply->headers["X-Skap-Device-Id"];
    if (split.empty()) {
      if (auto w = skap::WriteSecretFile(out_file, reply->body.Expose()); !w)
        return Fail(w.error());
      std::fprintf(stderr, "device %s (%s) provisioned; bundle written to %s\n", name.c_str(),
                   id.c_str(), out_file.c_str());
      return 0;
    }
    std::filesystem::create_directories(parts_dir);
    std::string_view text = reply->BodyText();
    unsigned index = 0;
    while (!text.empty()) {
      const auto newline = text.find('\n');
      const std::string_view part = text.substr(0, newline);
      text = newline == std::string_view::npos ? std::string_view() : text.substr(newline + 1);
      if (part.empty()) continue;
      ++index;
      const std::string base = parts_dir + "/" + name + ".part" + std::to_string(index);
      std::string line(part);
      line.push_back('\n');
      auto written = skap::WriteSecretFile(base + ".txt", skap::AsBytes(line));
      skap::SecureWipe(line.data(), line.size());
      if (!written) return Fail(written.error());
      if (qr == "png" || qr == "both") {
        if (auto w = skap::ctl::WriteQrPng(part, base + ".png"); !w) return Fail(w.error());
      }
      if (qr == "terminal" || qr == "both") {
        auto art = skap::ctl::QrForTerminal(part);
        if (!art) return Fail(art.error());
        std::printf("part %u of %u (any %u rebuild the bundle):\n", index, m, k);
        std::fwrite(art->Expose().data(), 1, art->size(), stdout);
      }
    }
    std::fprintf(stderr, "device %s (%s) provisioned; %u parts (any %u rebuild it) in %s\n",
                 name.c_str(), id.c_str(), index, k, parts_dir.c_str());
    return 0;
  }
  if (list->parsed() || pending->parsed()) {
    const std::string wanted = pending->parsed() ? "pending" : state;
    auto reply =
        Call(g, "GET", "/v1/devices" + Query({{"network", network_name}, {"state", wanted}}));
    if (!reply) return Fail(reply.error());
    if (pending->parsed() && !g.json_output && reply->status == 200) {
      const auto devices = json::parse(reply->BodyText(), nullptr, false);
      for (const auto& d : devices) {
        std::printf("%s  %s\n  pre-flight: %s\n", d.value("id", "").c_str(),
                    d.value("name", "").c_str(), d["preflight"].dump().c_str());
      }
      return 0;
    }
    return ShowJson(g, *reply, PrintDevices);
  }
  if (show->parsed()) {
    auto reply = Call(g, "GET", "/v1/devices/" + device_id);
    if (!reply) return Fail(reply.error());
    return ShowJson(g, *reply, nullptr);
  }
  for (const auto& [sub, verb] : transitions) {
    if (!sub->parsed()) continue;
    auto reply = Call(g, "POST", "/v1/devices/" + device_id + "/" + verb);
    if (!reply) return Fail(reply.error());
    return ShowJson(g, *reply, [](const json& d) {
      std::printf("device %s (%s) is now %s\n", d.value("name", "").c_str(),
                  d.value("id", "").c_str(), d.value("state", "").c_str());
    });
  }
  if (audit_list->parsed()) {
    auto reply = Call(g, "GET",
                      "/v1/audit" + Query({{"since_ms", since},
                                           {"until_ms", until},
                                           {"actor", actor},
                                           {"target", target_filter},
                                           {"action", action_filter},
                                           {"limit", limit}}));
    if (!reply) return Fail(reply.error());
    return ShowJson(g, *reply, [](const json& entries) {
      for (const auto& e : entries) {
        std::printf("%6lld  %lld  %-14s %-22s %-36s %s\n",
                    static_cast<long long>(e.value("seq", 0LL)),
                    static_cast<long long>(e.value("at_ms", 0LL)), e.value("actor", "").c_str(),
                    e.value("action", "").c_str(), e.value("target", "").c_str(),
                    e.value("outcome", "").c_str());
      }
    });
  }
  if (audit_verify->parsed()) {
    auto reply = Call(g, "GET", "/v1/audit/verify");
    if (!reply) return Fail(reply.error());
    if (reply->status != 200) return ReplyError(*reply);
    const auto v = json::parse(reply->BodyText(), nullptr, false);
    if (g.json_output) {
      std::printf("%s\n", v.dump(2).c_str());
    } else if (v.value("intact", false)) {
      std::printf("audit chain intact: %lld entries\n",
                  static_cast<long long>(v.value("entries", 0LL)));
    } else {
      std::printf("audit chain BROKEN at entry %s: %s\n", v["first_broken_seq"].dump().c_str(),
                  v.value("reason", "").c_str());
    }
    return v.value("intact", false) ? 0 : 3;
  }
  return 0;
}

int main(int argc, char** argv) {
  try {
    return Main(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "skapctl: %s\n", e.what());
    return 1;
  }
}
