// HTTP requests and responses as every SKAP surface sees them (the hub's
// admin API, the agent's control socket and its ETSI GS QKD 014 service),
// and the replies the local clients read. The parts that may carry a secret
// live in wiping memory: a request's Authorization header (a bearer token),
// and a response's body (a token, a bundle, keys). No request body carries a
// secret.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "common/secret_bytes.h"

namespace skap::net {

// HttpRequest is one parsed request.
struct HttpRequest {
  std::string method;
  std::string target;         // path and query, as sent
  SecretBytes authorization;  // the Authorization header, if any (a bearer token)
  std::string body;           // JSON, or nothing; never secret
  // peer is what the transport proved of the client: the operator a TLS-PSK
  // handshake authenticated, or the SHA-256 fingerprint of a client
  // certificate; empty on a Unix socket (its file mode decides who connects).
  std::string peer;
};

// HttpResponse is a status, a content type, headers and a body that may
// hold a secret.
struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::map<std::string, std::string> headers;
  SecretBytes body;

  // Text makes a response of `content_type` holding `body`.
  static HttpResponse Text(int status, std::string content_type, std::string_view body) {
    HttpResponse r;
    r.status = status;
    r.content_type = std::move(content_type);
    r.body = SecretBytes::Copy({reinterpret_cast<const std::uint8_t*>(body.data()), body.size()});
    return r;
  }
  // BodyText views the body as text (it may hold a secret).
  std::string_view BodyText() const {
    return {reinterpret_cast<const char*>(body.Expose().data()), body.size()};
  }
};

// HttpRespond sends the answer to one request; call it exactly once, on the
// server's thread, now or later (an agreement takes a round trip through the
// hubs).
using HttpRespond = std::function<void(HttpResponse)>;

// HttpHandler answers requests.
using HttpHandler = std::function<void(HttpRequest request, HttpRespond respond)>;

}  // namespace skap::net
