#include "apps/skapctl/admin_client.h"

#include <sys/socket.h>
#include <sys/time.h>

#include <charconv>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "net/http/client.h"
#include "net/tls_psk_stream.h"
#include "proto/admin_identity.h"

namespace skap::ctl {
namespace {
namespace asio = boost::asio;
namespace beast = boost::beast;
using Tcp = asio::ip::tcp;
using net::ClientRequest;

constexpr auto kTimeout = std::chrono::seconds(30);

void SetBearer(ClientRequest& request, const SecretBytes& token) {
  std::basic_string<char, std::char_traits<char>, WipingAllocator<char>> authorization("Bearer ");
  const auto t = token.Expose();
  authorization.append(reinterpret_cast<const char*>(t.data()), t.size());
  request.set(beast::http::field::authorization,
              beast::string_view(authorization.data(), authorization.size()));
}

Result<AdminReply> CallOverTls(const AdminEndpoint& endpoint, const SecretBytes& token,
                               ClientRequest& request) {
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
  SKAP_ASSIGN_OR_RETURN(auto context, crypto::TlsPskContext::CreateClient(endpoint.key_exchange));
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
  net::TlsPskStream stream(socket.native_handle(), std::move(session));
  if (auto done = stream.Handshake(); !done) {
    if (done.error().code == ErrorCode::kAuthenticationFailed) {
      return Unexpected(
          ErrorCode::kAuthenticationFailed,
          "the hub refused the TLS handshake: wrong operator name or token, a "
          "disabled operator, or the hub allows psk_dhe_ke only (--key-exchange psk_dhe_ke)");
    }
    return Unexpected(done.error());
  }
  auto reply = net::ExchangeHttp(stream, request);
  stream.Shutdown();
  return reply;
}

}  // namespace

Result<AdminReply> CallAdmin(const AdminEndpoint& endpoint, const SecretBytes& token,
                             const std::string& method, const std::string& target,
                             const std::string& json_body) {
  auto request = net::MakeRequest(method, target, json_body, "skapd");
  if (endpoint.tls_address.empty()) {
    if (!token.empty()) SetBearer(request, token);
    return net::CallUnixSocket(endpoint.socket_path, request,
                               " (is skapd running, and may this user open the socket?)");
  }
  return CallOverTls(endpoint, token, request);
}

}  // namespace skap::ctl
