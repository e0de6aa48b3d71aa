#include "apps/skapctl/cli.h"

#include <cctype>
#include <cstdio>

#include "common/secret_file.h"

namespace skap::ctl {

using nlohmann::json;

void Fail(const std::string& message) {
  std::fprintf(stderr, "skapctl: %s\n", Shown(message).c_str());
  throw CLI::RuntimeError(1);
}

void Fail(const Error& error) { Fail(ToString(error)); }

void Exit(int status) {
  if (status != 0) throw CLI::RuntimeError(status);
}

void ReplyError(const AdminReply& reply) {
  const auto body = json::parse(reply.BodyText(), nullptr, false);
  if (body.is_object() && body.contains("error")) {
    Fail(body.value("error", "") + ": " + body.value("message", ""));
  }
  Fail("the hub answered HTTP " + std::to_string(reply.status));
}

Result<SecretBytes> LoadToken(const Globals& g) {
  if (g.token_file.empty()) {
    return Unexpected(ErrorCode::kInvalidArgument,
                      "no operator token: pass --token-file or set SKAP_TOKEN_FILE");
  }
  SKAP_ASSIGN_OR_RETURN(auto token, ReadSecretFile(g.token_file, 4096));
  std::size_t length = token.size();
  const auto bytes = token.Expose();
  while (length > 0 &&
         (bytes[length - 1] == '\n' || bytes[length - 1] == '\r' || bytes[length - 1] == ' ')) {
    --length;
  }
  token.Resize(length);
  return token;
}

AdminReply Call(const Globals& g, const std::string& method, const std::string& target,
                const std::string& body) {
  // On the hub's own socket no token reads as the hub (audit, operators).
  auto token = g.token_file.empty() && g.endpoint.tls_address.empty()
                   ? Result<SecretBytes>(SecretBytes())
                   : LoadToken(g);
  if (!token) Fail(token.error());
  auto reply = CallAdmin(g.endpoint, *token, method, target, body);
  if (!reply) Fail(reply.error());
  return std::move(*reply);
}

void Show(const Globals& g, const AdminReply& reply, void (*human)(const json&)) {
  if (reply.status / 100 != 2) ReplyError(reply);
  const auto body = json::parse(reply.BodyText(), nullptr, false);
  if (g.json_output || human == nullptr) {
    std::printf("%s\n", Dumped(body).c_str());
  } else {
    human(body);
  }
}

std::string Field(const json& j, const char* key) {
  const auto it = j.find(key);
  return it != j.end() && it->is_string() ? Shown(it->get<std::string>()) : std::string();
}

std::string Dumped(const json& j, int indent) {
  std::string out = j.dump(indent, ' ', /*ensure_ascii=*/true, json::error_handler_t::replace);
  std::string safe;
  for (char ch : out) {
    if (ch == 0x7f) {
      safe += "\\u007f";
    } else {
      safe.push_back(ch);
    }
  }
  return safe;
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

}  // namespace skap::ctl
