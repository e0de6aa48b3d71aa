// What skap-agent's subcommands share: the ways a subcommand ends, the
// daemon's control socket as its client sees it, and the one-off commands'
// data directory. Each subcommand is a file of its own; main.cc only
// registers them.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "agent/store/agent_dir.h"
#include "common/error.h"
#include "common/result.h"
#include "crypto/tls_psk.h"
#include "entropy/entropy_service.h"
#include "net/http/client.h"
#include "proto/bundle.h"

namespace skap::agentcli {

// Each Add* adds a subcommand to `app`.
void AddEnroll(CLI::App& app);   // skap-agent enroll
void AddRun(CLI::App& app);      // skap-agent run
void AddStatus(CLI::App& app);   // skap-agent status
void AddPeers(CLI::App& app);    // skap-agent peers
void AddAgree(CLI::App& app);    // skap-agent agree PEER
void AddKey(CLI::App& app);      // skap-agent key PEER
void AddConnect(CLI::App& app);  // skap-agent connect
void AddRatchet(CLI::App& app);  // skap-agent ratchet
void AddEntropy(CLI::App& app);  // skap-agent entropy
void AddSae(CLI::App& app);      // skap-agent sae add

// Fail prints `what` and `error` and ends the program with status 1.
[[noreturn]] void Fail(const std::string& what, const Error& error);
[[noreturn]] void Fail(const std::string& message);

// Daemon is where a command finds the running daemon: --socket, else
// DIR/control.sock for --data DIR, else $SKAP_AGENT_SOCKET, else the
// packaged default.
struct Daemon {
  std::string socket;
  std::string data_dir;
  bool json_output = false;

  std::string Path() const;
  Result<net::HttpResponse> Call(const std::string& method, const std::string& target,
                                 const std::string& body = "") const;
};
// AddKeyExchangeOption gives a one-off command that connects to hubs
// --key-exchange psk_dhe_ke|psk_ke, into `mode` (psk_dhe_ke by default).
void AddKeyExchangeOption(CLI::App& sub, crypto::KeyExchangeMode& mode);
// AddDaemonOptions gives a subcommand the options that find the daemon.
void AddDaemonOptions(CLI::App& sub, Daemon& daemon);
// Answer prints a daemon reply: `human` for a 2xx JSON body (its JSON with
// --json), the error otherwise, which ends the program.
void Answer(const Daemon& d, const Result<net::HttpResponse>& reply,
            const std::function<void(const nlohmann::json&)>& human);

// OneOff is what a one-off command works on while the daemon is stopped.
struct OneOff {
  std::unique_ptr<entropy::EntropyService> entropy;
  std::unique_ptr<agent::AgentDir> dir;
};
// OpenOneOff opens the data directory (made, with `create`).
OneOff OpenOneOff(const std::string& data_dir, bool create);
// Hubs picks the hubs a one-off command works on: `hub`, or every hub
// enrolled (then, with `one`, it must be the only one).
std::vector<std::string> Hubs(agent::AgentDir& dir, const std::string& hub, bool one);

// ReadBundle reads a bundle file, or combines the parts of one.
Result<proto::Bundle> ReadBundle(const std::string& bundle_path,
                                 const std::vector<std::string>& parts);

}  // namespace skap::agentcli
