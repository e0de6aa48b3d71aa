#include "net/tcp_listener.h"

namespace skap::net {

Result<void> OpenTcpAcceptor(boost::asio::ip::tcp::acceptor& acceptor, const std::string& host,
                             std::uint16_t port, std::string_view what) {
  namespace asio = boost::asio;
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(host, ec);
  if (ec) {
    return Unexpected(ErrorCode::kInvalidArgument,
                      std::string(what) + ": bad listen address " + host);
  }
  const asio::ip::tcp::endpoint endpoint(address, port);
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return Unexpected(ErrorCode::kIoError, std::string(what) + " " + host + ":" +
                                               std::to_string(port) + ": " + ec.message());
  }
  return Ok();
}

std::string RemoteAddress(const boost::asio::ip::tcp::socket& socket) {
  boost::system::error_code ec;
  const auto remote = socket.remote_endpoint(ec);
  return ec ? "?" : remote.address().to_string();
}

}  // namespace skap::net
