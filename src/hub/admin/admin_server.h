// The admin API's listeners, on one thread of their own: the Unix socket
// (mode 0600, so only the hub's user connects; the bearer token then says
// who the caller is), and, when configured, TCP with TLS 1.3 and each
// operator's external PSK (proto/admin_identity.h) for operators who are
// not on the hub's machine: the handshake authenticates the operator, and
// every request is checked against their role exactly as on the socket.
//
// Admin traffic is a few requests from a few people: requests are answered
// one at a time under the hub store's lock, and the TLS listener holds a
// bounded number of connections, each dropped after an idle timeout, so
// unauthenticated clients cannot hold it for long.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "common/result.h"
#include "hub/admin/admin_api.h"
#include "hub/registry/audit_log.h"
#include "hub/registry/registry.h"

namespace skap::hub {

// TlsAdminServerOptions configure the TLS-PSK listener.
struct TlsAdminServerOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;  // 0: any free port (tests)
  std::size_t max_connections = 16;
  std::chrono::seconds idle_timeout{30};
  bool allow_psk_only = true;  // psk_ke as well as psk_dhe_ke
};

class AdminServer {
 public:
  // Start serves `api` on the Unix socket `socket_path` (replacing a stale
  // socket file, never any other file) and, with `tls`, on TCP. The hub's
  // `db` is held (Database::Hold) around every request and PSK lookup.
  static Result<std::unique_ptr<AdminServer>> Start(const std::string& socket_path,
                                                    const std::optional<TlsAdminServerOptions>& tls,
                                                    AdminApi& api, Registry& registry,
                                                    AuditLog& audit, store::Database& db);
  ~AdminServer();
  AdminServer(const AdminServer&) = delete;
  AdminServer& operator=(const AdminServer&) = delete;

  // tls_port is the TLS listener's port (0 without one).
  std::uint16_t tls_port() const;
  // Stop closes both listeners and every connection, removes the socket
  // file and joins the thread.
  void Stop();

  struct State;

 private:
  explicit AdminServer(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace skap::hub
