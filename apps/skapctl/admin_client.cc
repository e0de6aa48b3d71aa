#include "apps/skapctl/admin_client.h"

#include <sys/socket.h>
#include <sys/time.h>

#include <charconv>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "api/tls_psk_stream.h"
#include "api/wiping_http.h"
#include "proto/admin_identity.h"

namespace skap::ctl {
namespace {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using Local = asio::local::stream_protocol;
using Tcp = asio::ip::tcp;
using api::SecretBody;
using api::WipingBuffer;
using api::WipingFields;
using Request = http::request<http::string_body, WipingFields>;

constexpr auto kTimeout = std::chrono::seconds(30);

Request MakeRequest(const std::string& method, const std::string& target,
                    const std::string& json_body) {
  Request request(http::string_to_verb(method), target, 11);
  request.set(http::field::host, "skapd");
  if (!json_body.empty()) {
    request.set(http::field::content_type, "application/json");
    request.body() = json_body;
  }
  return request;
}

void SetBearer(Request& request, const SecretBytes& token) {
  std::basic_string<char, std::char_traits<char>, WipingAllocator<char>> authorization("Bearer ");
  const auto t = token.Expose();
  authorization.append(reinterpret_cast<const char*>(t.data()), t.size());
  request.set(http::field::authorization,
              beast::string_view(authorization.data(), authorization.size()));
}

template <class Stream>
Result<AdminReply> Exchange(Stream& stream, Request& request) {
  request.prepare_payload();
  beast::error_code ec;
  http::write(stream, request, ec);
  if (ec) return Unexpected(ErrorCode::kIoError, "sending to the hub: " + ec.message());
  WipingBuffer buffer;
  http::response_parser<SecretBody, WipingAllocator<char>> parser;
  parser.body_limit(std::uint64_t{16} * 1024 * 1024);
  http::read(stream, buffer, parser, ec);
  if (ec) return Unexpected(ErrorCode::kIoError, "reading the hub's answer: " + ec.message());
  const auto& response = parser.get();
  AdminReply reply;
  reply.status = static_cast<int>(response.result_int());
  for (const auto& field : response) {
    reply.headers[std::string(field.name_string())] = std::string(field.value());
  }
  reply.content_type = reply.headers["Content-Type"];
  const auto& body = response.body();
  reply.body = SecretBytes::Copy({reinterpret_cast<const std::uint8_t*>(body.data()), body.size()});
  return reply;
}

Result<AdminReply> CallOverSocket(const std::string& socket_path, const SecretBytes& token,
                                  Request& request) {
  asio::io_context io;
  Local::socket socket(io);
  beast::error_code ec;
  socket.connect(Local::endpoint(socket_path), ec);
  if (ec) {
    return Unexpected(ErrorCode::kUnavailable,
                      "cannot reach the hub's admin socket " + socket_path + ": " + ec.message() +
                          " (is skapd running, and may this user open the socket?)");
  }
  SetBearer(request, token);
  auto reply = Exchange(socket, request);
  beast::error_code ignored;
  socket.shutdown(Local::socket::shutdown_both, ignored);
  return reply;
}

Result<AdminReply> CallOverTls(const AdminEndpoint& endpoint, const SecretBytes& token,
                               Request& request) {
  const auto colon = endpoint.tls_address.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    return Unexpected(ErrorCode::kInvalidArgument, "--hub must be HOST:PORT");
  }
  if (endpoint.operator_name.empty()) {
    return Unexpected(ErrorCode::kInvalidArgument,
                      "over TLS the hub needs your operator name: pass --operator or set "
                      "SKAP_OPERATOR");
  }
  SKAP_ASSIGN_OR_RETURN(auto epsk, proto::AdminPskFromToken(token.Expose()));
  SKAP_ASSIGN_OR_RETURN(auto imported,
                        proto::ImportAdminPsk(endpoint.operator_name, epsk.Expose()));
  SKAP_ASSIGN_OR_RETURN(auto context, crypto::TlsPskContext::CreateClient(
                                          endpoint.psk_dhe ? crypto::KeyExchangeMode::kPskWithDhe
                                                           : crypto::KeyExchangeMode::kPskOnly));
  SKAP_ASSIGN_OR_RETURN(auto session, crypto::TlsPskSession::NewClient(
                                          std::move(context), std::move(imported.wire_identity),
                                          std::move(imported.psk)));
  asio::io_context io;
  Tcp::socket socket(io);
  beast::error_code ec;
  Tcp::resolver resolver(io);
  const auto results = resolver.resolve(endpoint.tls_address.substr(0, colon),
                                        endpoint.tls_address.substr(colon + 1), ec);
  if (!ec) asio::connect(socket, results, ec);
  if (ec) {
    return Unexpected(ErrorCode::kUnavailable, "cannot reach the hub's admin listener " +
                                                   endpoint.tls_address + ": " + ec.message());
  }
  timeval tv{};
  tv.tv_sec = kTimeout.count();
  (void)::setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  (void)::setsockopt(socket.native_handle(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  socket.set_option(Tcp::no_delay(true), ec);
  api::TlsPskStream stream(socket.native_handle(), std::move(session));
  if (auto done = stream.Handshake(); !done) {
    if (done.error().code == ErrorCode::kAuthenticationFailed) {
      return Unexpected(ErrorCode::kAuthenticationFailed,
                        "the hub refused the TLS handshake: wrong operator name or token, a "
                        "disabled operator, or the hub allows psk_dhe_ke only (--psk-dhe)");
    }
    return Unexpected(done.error());
  }
  auto reply = Exchange(stream, request);
  stream.Shutdown();
  return reply;
}

}  // namespace

Result<AdminReply> CallAdmin(const AdminEndpoint& endpoint, const SecretBytes& token,
                             const std::string& method, const std::string& target,
                             const std::string& json_body) {
  auto request = MakeRequest(method, target, json_body);
  if (endpoint.tls_address.empty()) return CallOverSocket(endpoint.socket_path, token, request);
  return CallOverTls(endpoint, token, request);
}

}  // namespace skap::ctl
