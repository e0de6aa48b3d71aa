#include "apps/skap-agent/cli.h"

#include <cstdio>
#include <cstdlib>

#include "common/secret_bytes.h"
#include "common/secret_file.h"
#include "common/shown.h"

namespace skap::agentcli {
namespace {

using nlohmann::json;

std::string Text(const SecretBytes& bytes) {
  return {bytes.Expose().begin(), bytes.Expose().end()};
}

}  // namespace

void Fail(const std::string& what, const Error& error) {
  std::fprintf(stderr, "skap-agent: %s: %s\n", Shown(what).c_str(), Shown(ToString(error)).c_str());
  throw CLI::RuntimeError(1);
}

void Fail(const std::string& message) {
  std::fprintf(stderr, "skap-agent: %s\n", Shown(message).c_str());
  throw CLI::RuntimeError(1);
}

std::string Daemon::Path() const {
  if (!socket.empty()) return socket;
  if (!data_dir.empty()) return data_dir + "/control.sock";
  const char* env = std::getenv("SKAP_AGENT_SOCKET");  // NOLINT(concurrency-mt-unsafe)
  return env != nullptr ? env : "/var/lib/skap-agent/control.sock";
}

Result<net::HttpResponse> Daemon::Call(const std::string& method, const std::string& target,
                                       const std::string& body) const {
  auto request = net::MakeRequest(method, target, body, "skap-agent");
  return net::CallUnixSocket(Path(), request, " (is `skap-agent run` running?)");
}

void AddKeyExchangeOption(CLI::App& sub, crypto::KeyExchangeMode& mode) {
  sub.add_option_function<std::string>(
         "--key-exchange",
         [&mode](const std::string& name) {
           // Checked against the two names first (IsMember below).
           mode = crypto::ParseKeyExchangeMode(name).value_or(crypto::kDefaultKeyExchange);
         },
         "TLS 1.3 key exchange with the hubs: psk_dhe_ke (X25519 on top of the channel key: "
         "forward secrecy) or psk_ke (no Diffie-Hellman, for hubs and devices that choose it)")
      ->check(CLI::IsMember({"psk_dhe_ke", "psk_ke"}))
      ->default_str(std::string(crypto::KeyExchangeModeName(crypto::kDefaultKeyExchange)));
}

void AddDaemonOptions(CLI::App& sub, Daemon& daemon) {
  sub.add_option("--socket", daemon.socket, "The daemon's control socket (env SKAP_AGENT_SOCKET)");
  sub.add_option("--data", daemon.data_dir, "Data directory: its control.sock");
  sub.add_flag("--json", daemon.json_output, "Print the daemon's JSON");
}

void Answer(const Daemon& d, const Result<net::HttpResponse>& reply,
            const std::function<void(const json&)>& human) {
  if (!reply) Fail("control socket", reply.error());
  const auto body = json::parse(reply->BodyText(), nullptr, false);
  if (reply->status / 100 != 2) {
    if (body.is_object() && body.contains("error")) {
      Fail(body.value("error", "") + ": " + body.value("message", ""));
    }
    if (body.is_object() && body.contains("state")) {
      Fail("agreement " + body.value("state", "") + ": " + body.value("reason", ""));
    }
    Fail("the agent answered HTTP " + std::to_string(reply->status));
  }
  if (d.json_output) {
    // Non-ASCII escaped (no C1 control reaches the terminal), and DEL too:
    // still valid JSON with the same content.
    std::string text = body.dump(2, ' ', true);
    for (auto at = text.find('\x7f'); at != std::string::npos; at = text.find('\x7f', at)) {
      text.replace(at, 1, "\\u007f");
    }
    std::printf("%s\n", text.c_str());
  } else {
    human(body);
  }
}

OneOff OpenOneOff(const std::string& data_dir, bool create) {
  OneOff out;
  auto entropy = entropy::EntropyService::Create(entropy::EntropyService::DefaultSources());
  if (!entropy) Fail("entropy", entropy.error());
  out.entropy = std::move(*entropy);
  auto dir = agent::AgentDir::Open(data_dir, create, out.entropy.get());
  if (!dir) Fail(data_dir, dir.error());
  out.dir = std::move(*dir);
  return out;
}

std::vector<std::string> Hubs(agent::AgentDir& dir, const std::string& hub, bool one) {
  if (!hub.empty()) return {hub};
  auto states = dir.LoadHubs();
  if (!states) Fail("hub", states.error());
  std::vector<std::string> ids;
  for (const auto& s : *states) ids.push_back(s.hub.hub_id);
  if (ids.empty()) Fail("hub", Error{ErrorCode::kFailedPrecondition, "enrolled at no hub"});
  if (one && ids.size() > 1) {
    Fail("hub", Error{ErrorCode::kInvalidArgument,
                      "the device is enrolled at several hubs: pick one with --hub"});
  }
  return ids;
}

Result<proto::Bundle> ReadBundle(const std::string& bundle_path,
                                 const std::vector<std::string>& parts) {
  if (!bundle_path.empty()) {
    SKAP_ASSIGN_OR_RETURN(auto text, ReadSecretFile(bundle_path));
    return proto::BundleFromText(Text(text));
  }
  std::vector<std::string> texts;
  for (const auto& p : parts) {
    SKAP_ASSIGN_OR_RETURN(auto text, ReadSecretFile(p));
    texts.push_back(Text(text));
  }
  auto bundle = proto::CombineBundleParts(texts);
  for (auto& t : texts) SecureWipe(t.data(), t.size());
  return bundle;
}

}  // namespace skap::agentcli
