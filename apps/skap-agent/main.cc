// skap-agent: the device side of SKAP.
//
//   skap-agent enroll --data DIR (BUNDLE... | --part FILE --part FILE ...)
//   skap-agent run --config FILE                      the daemon (docs/skap-agent.toml)
//   skap-agent status | peers | agree PEER | key PEER  ask the running daemon
//   skap-agent connect | ratchet | entropy --data DIR  one-off steps while it is stopped
//   skap-agent sae add --data DIR --id SAE --out DIR  an SAE certificate (ETSI GS QKD 014)
#include <sys/prctl.h>
#include <sys/resource.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "agent/hub/channel_ratchet.h"
#include "agent/hub/enrolment.h"
#include "agent/store/agent_dir.h"
#include "agentd/agent_config.h"
#include "agentd/agent_daemon.h"
#include "agentd/kme/kme_credentials.h"
#include "common/hex.h"
#include "common/secret_file.h"
#include "entropy/entropy_service.h"
#include "net/http/client.h"
#include "proto/bundle.h"

namespace {

using nlohmann::json;

int Fail(const std::string& what, const skap::Error& error) {
  std::fprintf(stderr, "skap-agent: %s: %s\n", what.c_str(), skap::ToString(error).c_str());
  return 1;
}

std::string Text(const skap::SecretBytes& bytes) {
  return {bytes.Expose().begin(), bytes.Expose().end()};
}

// A device holds keys in memory: no core dumps, no ptrace by other users.
void HardenProcess() {
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  const rlimit no_core{0, 0};
  setrlimit(RLIMIT_CORE, &no_core);
}

skap::Result<skap::proto::Bundle> ReadBundle(const std::string& bundle_path,
                                             const std::vector<std::string>& parts) {
  if (!bundle_path.empty()) {
    SKAP_ASSIGN_OR_RETURN(auto text, skap::ReadSecretFile(bundle_path));
    return skap::proto::BundleFromText(Text(text));
  }
  std::vector<std::string> texts;
  for (const auto& p : parts) {
    SKAP_ASSIGN_OR_RETURN(auto text, skap::ReadSecretFile(p));
    texts.push_back(Text(text));
  }
  auto bundle = skap::proto::CombineBundleParts(texts);
  for (auto& t : texts) skap::SecureWipe(t.data(), t.size());
  return bundle;
}

// AddSae issues an SAE certificate and prints the configuration that maps it.
int AddSae(const std::string& data_dir, skap::keystore::Keystore& kek, const std::string& id,
           const std::string& out, const std::vector<std::string>& server_names) {
  if (auto made = skap::kme::EnsureCredentials(data_dir, kek, server_names); !made) {
    return Fail("the KME's certificates", made.error());
  }
  auto issued = skap::kme::IssueSaeCertificate(data_dir, kek, id);
  if (!issued) return Fail("issuing the certificate", issued.error());
  auto ca = skap::ReadSecretFile(data_dir + "/etsi014/ca.pem");
  if (!ca) return Fail("the CA certificate", ca.error());
  const std::string stem = out + "/" + id;
  for (const auto& [name, bytes] :
       {std::pair{stem + ".key", issued->private_key_pem.Expose()},
        std::pair{stem + ".pem", skap::AsBytes(issued->certificate_pem)},
        std::pair{out + "/ca.pem", std::span<const std::uint8_t>(ca->Expose())}}) {
    std::error_code ignored;
    if (name == out + "/ca.pem") std::filesystem::remove(name, ignored);
    if (auto written = skap::WriteSecretFile(name, bytes); !written) {
      return Fail("writing " + name, written.error());
    }
  }
  std::printf(
      "SAE %s: certificate %s/%s.pem, key %s/%s.key, KME CA %s/ca.pem\n"
      "Map it in the agent's configuration (then restart the agent):\n\n"
      "[[etsi014.sae]]\nid = \"%s\"\ncertificate_sha256 = \"%s\"\n"
      "peer = \"DEVICE-ID\"       # the device whose agent serves the other SAE\n"
      "remote_sae = \"SAE-ID\"    # that SAE's id\n",
      id.c_str(), out.c_str(), id.c_str(), out.c_str(), id.c_str(), out.c_str(), id.c_str(),
      issued->sha256.c_str());
  return 0;
}

// Where the CLI finds the daemon: --socket, else DIR/control.sock for
// --data DIR, else $SKAP_AGENT_SOCKET, else the packaged default.
struct Daemon {
  std::string socket;
  std::string data_dir;
  bool json_output = false;

  std::string Path() const {
    if (!socket.empty()) return socket;
    if (!data_dir.empty()) return data_dir + "/control.sock";
    const char* env = std::getenv("SKAP_AGENT_SOCKET");  // NOLINT(concurrency-mt-unsafe)
    return env != nullptr ? env : "/var/lib/skap-agent/control.sock";
  }

  skap::Result<skap::net::HttpResponse> Call(const std::string& method, const std::string& target,
                                             const std::string& body = "") const {
    auto request = skap::net::MakeRequest(method, target, body, "skap-agent");
    return skap::net::CallUnixSocket(Path(), request, " (is `skap-agent run` running?)");
  }
};

// Answer prints a daemon reply: `human` for a 2xx JSON body, the error otherwise.
int Answer(const Daemon& d, const skap::Result<skap::net::HttpResponse>& reply,
           const std::function<void(const json&)>& human) {
  if (!reply) return Fail("control socket", reply.error());
  const auto body = json::parse(reply->BodyText(), nullptr, false);
  if (reply->status / 100 != 2) {
    if (body.is_object() && body.contains("error")) {
      std::fprintf(stderr, "skap-agent: %s: %s\n", body.value("error", "").c_str(),
                   body.value("message", "").c_str());
    } else if (body.is_object() && body.contains("state")) {
      std::fprintf(stderr, "skap-agent: agreement %s: %s\n", body.value("state", "").c_str(),
                   body.value("reason", "").c_str());
    } else {
      std::fprintf(stderr, "skap-agent: the agent answered HTTP %d\n", reply->status);
    }
    return 1;
  }
  if (d.json_output) {
    std::printf("%s\n", body.dump(2).c_str());
  } else {
    human(body);
  }
  return 0;
}

void PrintStatus(const json& s) {
  const auto& dev = s["device"];
  std::printf("device %s (%s), network %s: keys agreed %u of %zu hubs\n",
              dev.value("name", "").c_str(), dev.value("id", "").c_str(),
              dev.value("network", "").c_str(), dev.value("threshold", 0U), dev["hub_set"].size());
  std::printf("hubs reachable: %u\n", s.value("hubs_up", 0U));
  for (const auto& h : s["hubs"]) {
    std::printf("  hub %s: %s\n", h.value("id", "").c_str(), h.value("status", "").c_str());
  }
  std::printf("entropy: %s\n", s["entropy"].value("operational", false) ? "operational" : "FAILED");
  for (const auto& x : s["sessions"]) {
    std::printf("session with %s: epoch %llu, next key %u of this side's chain, %u of the peer's\n",
                x.value("peer", "").c_str(),
                static_cast<unsigned long long>(x.value("epoch", 0ULL)), x.value("next_index", 0U),
                x.value("peer_next_index", 0U));
  }
  if (s.contains("peer_channel")) {
    const auto& pc = s["peer_channel"];
    std::printf("peer relay: %s\n", pc.value("relay", "").c_str());
    for (const auto& p : pc["peers"]) {
      const std::string direct = p.value("direct", "");
      std::printf("peer %s: over %s (direct link: %s), %lld waiting for its ack\n",
                  p.value("peer", "").c_str(), p.value("transport", "").c_str(),
                  direct.empty() ? "not configured" : direct.c_str(),
                  static_cast<long long>(p.value("pending", 0LL)));
    }
  }
  if (s.contains("ppk")) {
    for (const auto& p : s["ppk"]) {
      const std::string error = p.value("last_error", "");
      std::printf("ppk for %s (connection %s): epoch %llu, fingerprint %s%s%s%s\n",
                  p.value("peer", "").c_str(), p.value("connection", "").c_str(),
                  static_cast<unsigned long long>(p.value("installed_epoch", 0ULL)),
                  p.value("fingerprint", "-").c_str(),
                  p.value("sa_up_with_installed", false) ? ", IKE SA up with it" : "",
                  error.empty() ? "" : ", last error: ", error.c_str());
    }
  }
  for (const auto& a : s["agreements"]) {
    std::printf("agreement %s with %s (%s): %s %s\n", a.value("sid", "").c_str(),
                a.value("peer", "").c_str(), a.value("role", "").c_str(),
                a.value("state", "").c_str(), a.value("reason", "").c_str());
  }
}

// OfflineStatus reads the state of a stopped agent: each hub's channel.
int OfflineStatus(const std::string& data_dir) {
  auto store = skap::agent::AgentDir::Open(data_dir, false);
  if (!store) return Fail(data_dir, store.error());
  auto hubs = (*store)->LoadHubs();
  if (!hubs) return Fail("reading the hubs", hubs.error());
  for (const auto& h : *hubs) {
    std::printf("device %s (%s), network %s, hub %s at %s: %s, key epoch %lld\n",
                h.hub.device_name.c_str(), h.hub.device_id.c_str(), h.hub.network_name.c_str(),
                h.hub.hub_id.c_str(), h.hub.hub_address.c_str(), h.status.c_str(),
                static_cast<long long>(h.epoch));
  }
  return 0;
}

// Hubs picks the hubs a one-off command works on: --hub, or all of them.
skap::Result<std::vector<std::string>> Hubs(skap::agent::AgentDir& store, const std::string& hub,
                                            bool one) {
  if (!hub.empty()) return std::vector<std::string>{hub};
  SKAP_ASSIGN_OR_RETURN(auto states, store.LoadHubs());
  std::vector<std::string> ids;
  for (const auto& s : states) ids.push_back(s.hub.hub_id);
  if (ids.empty())
    return skap::Unexpected(skap::ErrorCode::kFailedPrecondition, "enrolled at no hub");
  if (one && ids.size() > 1) {
    return skap::Unexpected(skap::ErrorCode::kInvalidArgument,
                            "the device is enrolled at several hubs: pick one with --hub");
  }
  return ids;
}

int Main(int argc, char** argv) {
  CLI::App app{
      "skap-agent: a SKAP device. It enrols from one bootstrap bundle per hub of its\n"
      "network (a file, or k of its parts), and its daemon (run) holds a channel to\n"
      "each hub, agrees keys with peers through k of them, keeps the pairwise\n"
      "sessions and hands keys to local consumers. status, peers, agree and key ask\n"
      "the running daemon; connect, ratchet and entropy are one-off steps while it is\n"
      "stopped."};
  app.require_subcommand(1);
  std::string data_dir;
  std::string hub;
  bool dhe = false;
  Daemon daemon;

  auto* enroll = app.add_subcommand("enroll", "Add a hub's bundle to the device (creates DIR)");
  std::vector<std::string> bundles;
  std::vector<std::string> parts;
  enroll->add_option("--data", data_dir, "Agent data directory (created 0700)")->required();
  auto* bundle_option =
      enroll->add_option("bundles,--bundle", bundles, "Bundle files, one per hub");
  auto* parts_option =
      enroll->add_option("--part", parts, "A part of one split bundle (repeat k times)");
  bundle_option->excludes(parts_option);

  std::string config_path;
  auto* run = app.add_subcommand("run", "Run the daemon, as configured in a TOML file");
  run->add_option("--config", config_path, "Configuration file (see docs/skap-agent.toml)")
      ->required()
      ->check(CLI::ExistingFile);

  const auto daemon_options = [&](CLI::App* sub) {
    sub->add_option("--socket", daemon.socket,
                    "The daemon's control socket (env SKAP_AGENT_SOCKET)");
    sub->add_option("--data", daemon.data_dir, "Data directory: its control.sock");
    sub->add_flag("--json", daemon.json_output, "Print the daemon's JSON");
  };
  auto* status =
      app.add_subcommand("status", "Hubs reachable, epochs, entropy, sessions, peer channel, PPKs");
  daemon_options(status);
  auto* peers = app.add_subcommand("peers", "The active devices of this network");
  daemon_options(peers);
  std::string peer;
  bool fresh = false;
  auto* agree = app.add_subcommand(
      "agree", "Agree a key with a peer through the hubs (re-seeds an existing session)");
  agree->add_option("peer", peer, "Peer device id or name")->required();
  agree->add_flag("--fresh", fresh, "Start the session with the peer afresh (epoch 1)");
  bool hybrid = false;
  auto* hybrid_flag = agree->add_flag(
      "--hybrid,!--no-hybrid", hybrid,
      "Add (or leave out) an X25519 exchange between the two devices; default: the agent's "
      "hybrid setting");
  daemon_options(agree);
  std::string key_id;
  bool reveal = false;
  auto* key = app.add_subcommand(
      "key",
      "Take the next key of the session with a peer (or the key of --id): its id and "
      "fingerprint, never the key itself unless --reveal");
  key->add_option("peer", peer, "Peer device id or name")->required();
  key->add_option("--id", key_id, "The key id the peer's side handed out");
  key->add_flag("--reveal", reveal, "Print the key (hex) as well");
  daemon_options(key);

  auto* connect = app.add_subcommand(
      "connect", "Connect once: report while pending, take up the channel key once admitted");
  connect->add_option("--data", data_dir, "Agent data directory")->required();
  connect->add_option("--hub", hub, "Only this hub (default: every hub enrolled)");
  connect->add_flag("--dhe", dhe, "Use psk_dhe_ke (adds X25519) instead of psk_ke");
  auto* ratchet = app.add_subcommand(
      "ratchet", "Move a hub's channel key to a new epoch now (the hub also asks when due)");
  ratchet->add_option("--data", data_dir, "Agent data directory")->required();
  ratchet->add_option("--hub", hub, "The hub (needed when enrolled at several)");
  ratchet->add_flag("--dhe", dhe, "Use psk_dhe_ke (adds X25519) instead of psk_ke");
  std::uint32_t entropy_bytes = 0;
  std::string entropy_out;
  auto* draw = app.add_subcommand(
      "entropy", "Draw random bytes from a hub's entropy service (rate limited by the hub)");
  draw->add_option("--data", data_dir, "Agent data directory")->required();
  draw->add_option("--hub", hub, "The hub (needed when enrolled at several)");
  draw->add_option("--bytes", entropy_bytes, "How many bytes")
      ->required()
      ->check(CLI::Range(1U, 65536U));
  draw->add_option("--out", entropy_out,
                   "File to write them to (created 0600); without it only their count is shown");
  draw->add_flag("--dhe", dhe, "Use psk_dhe_ke (adds X25519) instead of psk_ke");
  auto* sae = app.add_subcommand("sae", "The SAEs this agent serves keys to (ETSI GS QKD 014)");
  sae->require_subcommand(1);
  auto* sae_add = sae->add_subcommand(
      "add", "Issue an SAE's client certificate from this agent's CA (made on first use)");
  std::string sae_id;
  std::string sae_out;
  std::vector<std::string> server_names = {"localhost", "127.0.0.1", "::1"};
  sae_add->add_option("--data", data_dir, "Agent data directory (the daemon stopped)")->required();
  sae_add->add_option("--id", sae_id, "The SAE's id (its certificate's CN)")->required();
  sae_add
      ->add_option("--out", sae_out,
                   "Directory to write ID.pem, ID.key (0600) and ca.pem to, for the SAE")
      ->required();
  sae_add->add_option("--server-name", server_names,
                      "Names in the KME's server certificate, when this makes it "
                      "(default: localhost 127.0.0.1 ::1)");
  CLI11_PARSE(app, argc, argv);
  HardenProcess();

  if (status->parsed()) {
    auto reply = daemon.Call("GET", "/v1/status");
    if (!reply && reply.error().code == skap::ErrorCode::kUnavailable && !daemon.data_dir.empty() &&
        daemon.socket.empty()) {
      return OfflineStatus(daemon.data_dir);
    }
    return Answer(daemon, reply, PrintStatus);
  }
  if (peers->parsed()) {
    return Answer(daemon, daemon.Call("GET", "/v1/peers"), [](const json& list) {
      for (const auto& p : list) {
        std::printf("%s  %-20s  session epoch %llu\n", p.value("id", "").c_str(),
                    p.value("name", "").c_str(),
                    static_cast<unsigned long long>(p.value("session_epoch", 0ULL)));
      }
    });
  }
  if (agree->parsed()) {
    return Answer(daemon,
                  daemon.Call("POST", "/v1/agreements",
                              [&] {
                                json body{{"peer", peer}, {"fresh", fresh}};
                                if (hybrid_flag->count() > 0) body["hybrid"] = hybrid;
                                return body.dump();
                              }()),
                  [&](const json& o) {
                    std::printf("agreed with %s: session epoch %llu%s (sid %s)\n", peer.c_str(),
                                static_cast<unsigned long long>(o.value("session_epoch", 0ULL)),
                                o.value("hybrid", false) ? ", hybrid" : "",
                                o.value("sid", "").c_str());
                    for (const auto& h : o["inconsistent_hubs"]) {
                      std::printf("inconsistent share from hub %s\n", h.get<std::string>().c_str());
                    }
                  });
  }
  if (key->parsed()) {
    const std::string target =
        "/v1/keys/" + peer + "/" + (key_id.empty() ? "next" : key_id) + (reveal ? "?reveal=1" : "");
    auto reply = daemon.Call(key_id.empty() ? "POST" : "GET", target);
    if (reveal && reply && reply->status == 200) {
      std::printf("%s %s %.*s\n", reply->headers["X-Skap-Key-Id"].c_str(),
                  reply->headers["X-Skap-Fingerprint"].c_str(),
                  static_cast<int>(reply->body.size()), reply->BodyText().data());
      return 0;
    }
    return Answer(daemon, reply, [](const json& k) {
      std::printf("%s %s\n", k.value("key_id", "").c_str(), k.value("fingerprint", "").c_str());
    });
  }

  if (run->parsed()) {
    auto options = skap::agent::LoadAgentConfig(config_path);
    if (!options) return Fail("configuration", options.error());
    // Signals are taken by the daemon's loop; block them before any thread starts.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
    auto ran = skap::agent::RunAgent(*options);
    if (!ran) return Fail("run", ran.error());
    return 0;
  }

  auto entropy =
      skap::entropy::EntropyService::Create(skap::entropy::EntropyService::DefaultSources());
  if (!entropy) return Fail("entropy", entropy.error());
  auto store = skap::agent::AgentDir::Open(data_dir, enroll->parsed(), entropy->get());
  if (!store) return Fail(data_dir, store.error());

  if (sae_add->parsed()) return AddSae(data_dir, (*store)->kek(), sae_id, sae_out, server_names);
  if (enroll->parsed()) {
    if (bundles.empty() && parts.empty()) {
      std::fprintf(stderr, "skap-agent: give bundle files, or --part files of one bundle\n");
      return 1;
    }
    std::vector<skap::Result<skap::proto::Bundle>> read;
    if (!parts.empty()) read.push_back(ReadBundle("", parts));
    for (const auto& b : bundles) read.push_back(ReadBundle(b, {}));
    for (auto& bundle : read) {
      if (!bundle) return Fail("bundle", bundle.error());
      auto state = skap::agent::EnrolFromBundle(**store, *bundle);
      if (!state) return Fail("enrolling", state.error());
      std::printf("enrolled device %s (%s) of network %s at hub %s (%s)\n",
                  bundle->info.device_name.c_str(), bundle->info.device_id.c_str(),
                  bundle->info.network_name.c_str(), bundle->info.hub_id.c_str(),
                  bundle->info.hub_address.c_str());
    }
    return 0;
  }
  const auto mode =
      dhe ? skap::crypto::KeyExchangeMode::kPskWithDhe : skap::crypto::KeyExchangeMode::kPskOnly;
  auto hubs = Hubs(**store, hub, !connect->parsed());
  if (!hubs) return Fail("hub", hubs.error());
  if (ratchet->parsed()) {
    auto epoch = skap::agent::RatchetChannelKey(**store, hubs->front(), **entropy, mode);
    if (!epoch) return Fail("ratchet", epoch.error());
    std::printf("key epoch %lld\n", static_cast<long long>(*epoch));
    return 0;
  }
  if (draw->parsed()) {
    auto bytes = skap::agent::DrawHubEntropy(**store, hubs->front(), entropy_bytes, mode);
    if (!bytes) return Fail("entropy", bytes.error());
    if (!entropy_out.empty()) {
      if (auto written = skap::WriteSecretFile(entropy_out, bytes->Expose()); !written) {
        return Fail("writing " + entropy_out, written.error());
      }
    }
    std::printf("%zu bytes from the hub%s%s\n", bytes->size(),
                entropy_out.empty() ? "" : " written to ", entropy_out.c_str());
    return 0;
  }
  // connect
  const auto health = (*entropy)->Status();
  const std::string summary =
      health.operational ? R"({"operational":true})" : R"({"operational":false})";
  int failed = 0;
  for (const auto& id : *hubs) {
    auto result = skap::agent::ChannelStep(**store, id, **entropy, summary, mode);
    if (!result) {
      failed = Fail("connect to hub " + id, result.error());
      continue;
    }
    std::printf("%s\n", result->c_str());
  }
  return failed;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return Main(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "skap-agent: %s\n", e.what());
    return 1;
  }
}
