// Opening a TCP listening socket from a configured host and port, shared by
// the device channel and the TLS admin listener.
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

}  // namespace skap::net
