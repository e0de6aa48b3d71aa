// Listening on a Unix domain socket that only this process's user can
// connect to: the hub's admin socket and the agent's control socket.
#pragma once

#include <string>
#include <utility>  // before Asio 1.74, which uses std::exchange without it

#include <boost/asio.hpp>

#include "common/result.h"

namespace skap::net {

// ListenPrivately binds `acceptor` to `path` with mode 0600 and listens. A
// stale socket file there is replaced; any other file is left alone and
// refused.
Result<void> ListenPrivately(boost::asio::local::stream_protocol::acceptor& acceptor,
                             const std::string& path);

}  // namespace skap::net
