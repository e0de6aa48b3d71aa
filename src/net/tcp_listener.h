// Opening a TCP listening socket from a configured host and port, and
// naming a connection's peer, shared by the device channel and the TLS
// admin listener.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include <boost/asio.hpp>

#include "common/result.h"

namespace skap::net {

// OpenTcpAcceptor binds and listens `acceptor` on host:port (address
// reuse on, so a restarted hub gets its port back at once). `what` names
// the listener in errors ("device channel").
Result<void> OpenTcpAcceptor(boost::asio::ip::tcp::acceptor& acceptor, const std::string& host,
                             std::uint16_t port, std::string_view what);

// RemoteAddress is the address of the connected socket's peer, as text
// ("?" if the socket has none any more): what failed handshakes are counted
// under.
std::string RemoteAddress(const boost::asio::ip::tcp::socket& socket);

}  // namespace skap::net
