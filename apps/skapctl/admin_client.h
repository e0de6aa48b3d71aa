// skapctl's side of the admin API: one HTTP request, over the hub's Unix
// socket (with the operator's token as a bearer credential) or over TCP with
// TLS 1.3 and the operator's external PSK (the token never leaves this
// machine: the handshake proves it).
#pragma once

#include <map>
#include <string>

#include "common/result.h"
#include "common/secret_bytes.h"
#include "crypto/tls_psk.h"
#include "net/http/client.h"

namespace skap::ctl {

// AdminEndpoint says where the hub's admin API is.
struct AdminEndpoint {
  std::string socket_path;    // used when tls_address is empty
  std::string tls_address;    // host:port of the hub's admin_listen
  std::string operator_name;  // the PSK identity over TLS
  crypto::KeyExchangeMode key_exchange = crypto::kDefaultKeyExchange;  // over TLS
};

// AdminReply is the hub's answer.
using AdminReply = net::HttpResponse;

// CallAdmin sends one request as the operator holding `token`.
Result<AdminReply> CallAdmin(const AdminEndpoint& endpoint, const SecretBytes& token,
                             const std::string& method, const std::string& target,
                             const std::string& json_body = "");

}  // namespace skap::ctl
