// What skapctl's subcommands share: the global options (where the hub is,
// whose token), the call to the admin API, and the ways a subcommand ends.
// Each subcommand is a file of its own; main.cc only registers them.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "apps/skapctl/admin_client.h"
#include "common/error.h"
#include "common/result.h"
#include "common/secret_bytes.h"
#include "common/shown.h"

namespace skap::ctl {

// Globals are the options before the subcommand.
struct Globals {
  AdminEndpoint endpoint;
  std::string token_file;
  bool json_output = false;
};

// Each Add* adds a subcommand to `app`; it reads `g` when it runs.
void AddNetwork(CLI::App& app, const Globals& g);   // skapctl network ...
void AddHub(CLI::App& app, const Globals& g);       // skapctl hub id
void AddOperator(CLI::App& app, const Globals& g);  // skapctl operator ...
void AddDevice(CLI::App& app, const Globals& g);    // skapctl device ...
void AddAudit(CLI::App& app, const Globals& g);     // skapctl audit ...
void AddTenant(CLI::App& app, const Globals& g);    // skapctl tenant ...

// Fail prints the message and ends the program with status 1.
[[noreturn]] void Fail(const std::string& message);
[[noreturn]] void Fail(const Error& error);
// Exit ends the program with `status` unless it is 0.
void Exit(int status);
// ReplyError prints a non-2xx reply's error and message, and fails.
[[noreturn]] void ReplyError(const AdminReply& reply);

// LoadToken reads the operator's token from --token-file.
Result<SecretBytes> LoadToken(const Globals& g);
// Call sends one request to the admin API as the operator; a failure to
// reach the hub ends the program.
AdminReply Call(const Globals& g, const std::string& method, const std::string& target,
                const std::string& body = "");
// Show prints a 2xx reply's JSON (`human` formats it unless --json; without
// one the JSON is printed), or fails with its error.
void Show(const Globals& g, const AdminReply& reply, void (*human)(const nlohmann::json&));
// Field is a JSON string member, Shown (common/shown.h).
std::string Field(const nlohmann::json& j, const char* key);
// Dumped is JSON for the terminal: non-ASCII escaped (\uXXXX, so no C1
// control), DEL as \u007f, still valid JSON with the same content.
std::string Dumped(const nlohmann::json& j, int indent = 2);
// Query builds "?k=v&..." of the non-empty values, percent-encoded.
std::string Query(const std::vector<std::pair<std::string, std::string>>& params);

}  // namespace skap::ctl
