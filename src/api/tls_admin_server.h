// The admin API over TCP with TLS 1.3 and each operator's external PSK
// (proto/admin_identity.h), for operators who are not on the hub's machine.
// The handshake authenticates the operator; every request is then checked
// against their role exactly as on the Unix socket. Off unless configured.
//
// Admin traffic is a few requests from a few people, so each connection gets
// a thread with blocking I/O and a receive timeout; the number of
// connections is capped so that unauthenticated clients cannot exhaust it
// for long (each is dropped after the timeout).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "api/admin_api.h"
#include "common/result.h"
#include "hub/audit_log.h"
#include "hub/registry.h"

namespace skap::api {

struct TlsAdminServerOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;  // 0: any free port (tests)
  std::size_t max_connections = 16;
  std::chrono::seconds idle_timeout{30};
  bool allow_psk_only = true;  // psk_ke as well as psk_dhe_ke
};

class TlsAdminServer {
 public:
  // Start listens and serves `api`. `api_mutex` (the hub's registry mutex)
  // is held around every registry and audit access.
  static Result<std::unique_ptr<TlsAdminServer>> Start(const TlsAdminServerOptions& options,
                                                       AdminApi& api, hub::Registry& registry,
                                                       hub::AuditLog& audit, std::mutex& api_mutex);
  ~TlsAdminServer();
  TlsAdminServer(const TlsAdminServer&) = delete;
  TlsAdminServer& operator=(const TlsAdminServer&) = delete;

  std::uint16_t port() const;
  // Stop stops accepting, ends open connections and joins their threads.
  void Stop();

  struct State;

 private:
  explicit TlsAdminServer(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace skap::api
