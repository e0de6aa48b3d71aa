// The client side of SKAP's local HTTP surfaces (the hub's admin socket, the
// agent's control socket): one request and its reply, with the secret parts
// (tokens, bundles, revealed keys) kept in wiping memory throughout.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "common/result.h"
#include "common/secret_bytes.h"
#include "net/http/message.h"
#include "net/http/wiping.h"

namespace skap::net {

// ClientRequest is a request whose headers may carry a secret.
using ClientRequest = boost::beast::http::request<boost::beast::http::string_body, WipingFields>;

// MakeRequest builds a request for `host` with an optional JSON body.
ClientRequest MakeRequest(const std::string& method, const std::string& target,
                          const std::string& json_body, const std::string& host);

// ExchangeHttp writes `request` to `stream` and reads the reply (bodies up
// to 16 MiB).
template <class Stream>
Result<HttpResponse> ExchangeHttp(Stream& stream, ClientRequest& request) {
  namespace http = boost::beast::http;
  request.prepare_payload();
  boost::beast::error_code ec;
  http::write(stream, request, ec);
  if (ec) return Unexpected(ErrorCode::kIoError, "sending the request: " + ec.message());
  WipingBuffer buffer;
  http::response_parser<SecretBody, WipingAllocator<char>> parser;
  parser.body_limit(std::uint64_t{16} * 1024 * 1024);
  http::read(stream, buffer, parser, ec);
  if (ec) return Unexpected(ErrorCode::kIoError, "reading the answer: " + ec.message());
  const auto& response = parser.get();
  HttpResponse reply;
  reply.status = static_cast<int>(response.result_int());
  for (const auto& field : response) {
    reply.headers[std::string(field.name_string())] = std::string(field.value());
  }
  reply.content_type = reply.headers["Content-Type"];
  const auto& body = response.body();
  reply.body = SecretBytes::Copy({reinterpret_cast<const std::uint8_t*>(body.data()), body.size()});
  return reply;
}

// CallUnixSocket sends `request` to the server on `socket_path`; when it
// cannot connect, the error names the socket and adds `unreachable_hint`.
Result<HttpResponse> CallUnixSocket(const std::string& socket_path, ClientRequest& request,
                                    const std::string& unreachable_hint);

}  // namespace skap::net
