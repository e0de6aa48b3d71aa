// skapctl's side of the admin API: one HTTP request over the Unix socket.
#pragma once

#include <map>
#include <string>

#include "common/result.h"
#include "common/secret_bytes.h"

namespace skap::ctl {

// AdminReply is the hub's answer.
struct AdminReply {
  int status = 0;
  std::string content_type;
  std::map<std::string, std::string> headers;
  SecretBytes body;

  // BodyText views the body as text (it may hold a secret: bundles, tokens).
  std::string_view BodyText() const {
    return {reinterpret_cast<const char*>(body.Expose().data()), body.size()};
  }
};

// CallAdmin sends one request with the operator's token.
Result<AdminReply> CallAdmin(const std::string& socket_path, const SecretBytes& token,
                             const std::string& method, const std::string& target,
                             const std::string& json_body = "");

}  // namespace skap::ctl
