// The admin API's transport: HTTP/1.1 over a Unix domain socket whose file
// mode (0600) decides who may connect at all; the bearer token then decides
// who the caller is.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "api/admin_api.h"
#include "common/result.h"

namespace skap::api {

// UnixHttpServer serves an AdminApi on a Unix socket from its own thread.
// Requests are handled one at a time (the registry is not re-entrant).
class UnixHttpServer {
 public:
  // Start binds `socket_path` (replacing a stale socket file, never any
  // other file) and starts serving.
  // `api_mutex` is held around every request (the hub's registry mutex).
  static Result<std::unique_ptr<UnixHttpServer>> Start(const std::string& socket_path,
                                                       AdminApi& api, std::mutex& api_mutex);
  ~UnixHttpServer();
  UnixHttpServer(const UnixHttpServer&) = delete;
  UnixHttpServer& operator=(const UnixHttpServer&) = delete;

  // Stop stops accepting, closes connections and joins the thread.
  void Stop();

  struct State;

 private:
  explicit UnixHttpServer(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
  std::thread thread_;
};

}  // namespace skap::api
