#include "apps/skapctl/admin_client.h"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "api/wiping_http.h"

namespace skap::ctl {
namespace {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using Local = asio::local::stream_protocol;
using api::SecretBody;
using api::WipingBuffer;
using api::WipingFields;
}  // namespace

Result<AdminReply> CallAdmin(const std::string& socket_path, const SecretBytes& token,
                             const std::string& method, const std::string& target,
                             const std::string& json_body) {
  asio::io_context io;
  Local::socket socket(io);
  beast::error_code ec;
  socket.connect(Local::endpoint(socket_path), ec);
  if (ec) {
    return Unexpected(ErrorCode::kUnavailable,
                      "cannot reach the hub's admin socket " + socket_path + ": " + ec.message() +
                          " (is skapd running, and may this user open the socket?)");
  }
  http::request<http::string_body, WipingFields> request(http::string_to_verb(method), target, 11);
  request.set(http::field::host, "skapd");
  std::basic_string<char, std::char_traits<char>, WipingAllocator<char>> authorization("Bearer ");
  const auto t = token.Expose();
  authorization.append(reinterpret_cast<const char*>(t.data()), t.size());
  request.set(http::field::authorization,
              beast::string_view(authorization.data(), authorization.size()));
  if (!json_body.empty()) {
    request.set(http::field::content_type, "application/json");
    request.body() = json_body;
  }
  request.prepare_payload();
  http::write(socket, request, ec);
  if (ec) return Unexpected(ErrorCode::kIoError, "sending to the hub: " + ec.message());

  WipingBuffer buffer;
  http::response_parser<SecretBody, WipingAllocator<char>> parser;
  parser.body_limit(std::uint64_t{16} * 1024 * 1024);
  http::read(socket, buffer, parser, ec);
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
  beast::error_code ignored;
  socket.shutdown(Local::socket::shutdown_both, ignored);
  return reply;
}

}  // namespace skap::ctl
