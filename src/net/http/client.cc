#include "net/http/client.h"

#include <boost/asio.hpp>

namespace skap::net {
namespace {
namespace asio = boost::asio;
namespace http = boost::beast::http;
using Local = asio::local::stream_protocol;
}  // namespace

ClientRequest MakeRequest(const std::string& method, const std::string& target,
                          const std::string& json_body, const std::string& host) {
  ClientRequest request(http::string_to_verb(method), target, 11);
  request.set(http::field::host, host);
  if (!json_body.empty()) {
    request.set(http::field::content_type, "application/json");
    request.body() = json_body;
  }
  return request;
}

Result<HttpResponse> CallUnixSocket(const std::string& socket_path, ClientRequest& request,
                                    const std::string& unreachable_hint) {
  asio::io_context io;
  Local::socket socket(io);
  boost::beast::error_code ec;
  socket.connect(Local::endpoint(socket_path), ec);
  if (ec) {
    return Unexpected(ErrorCode::kUnavailable,
                      "cannot reach " + socket_path + ": " + ec.message() + unreachable_hint);
  }
  auto reply = ExchangeHttp(socket, request);
  boost::beast::error_code ignored;
  socket.shutdown(Local::socket::shutdown_both, ignored);
  return reply;
}

}  // namespace skap::net
