// The agent's local control interface: HTTP/1.1 over a Unix socket (mode
// 0600, so only the agent's user connects), served on the daemon's
// io_context. The CLI (skap-agent peers, agree, key, status) and local
// consumers use it. A handler may answer later (an agreement takes a round
// trip through the hubs); the connection waits meanwhile.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>  // before Asio 1.74, which uses std::exchange without it

#include <boost/asio.hpp>

#include "common/result.h"
#include "common/secret_bytes.h"

namespace skap::agent {

// ControlRequest is one parsed request.
struct ControlRequest {
  std::string method;
  std::string target;
  std::string body;  // JSON; never secret
};

// ControlResponse is what to send back; the body may hold a secret (a
// revealed key), so it lives in wiping memory.
struct ControlResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::map<std::string, std::string> headers;
  SecretBytes body;
};

using ControlRespond = std::function<void(ControlResponse)>;
using ControlHandler = std::function<void(const ControlRequest&, ControlRespond)>;

class ControlServer {
 public:
  // Start listens on `socket_path` and serves with `handler` on `io`.
  static Result<std::unique_ptr<ControlServer>> Start(boost::asio::io_context& io,
                                                      const std::string& socket_path,
                                                      ControlHandler handler);
  ~ControlServer();
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  // Stop closes the socket and every connection, and removes the socket file.
  void Stop();

  struct State;

 private:
  explicit ControlServer(std::shared_ptr<State> state) : state_(std::move(state)) {}
  std::shared_ptr<State> state_;
};

}  // namespace skap::agent
