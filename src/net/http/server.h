// An HTTP server of SKAP's: one listener (a Unix socket, or TCP), its
// transport (plain, TLS with certificates, TLS 1.3 with an external PSK),
// the one accept loop (net/acceptor.h) and the one request loop
// (serve.h), on an io_context the caller runs. Every connection it has
// open is closed when it stops.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>  // before Asio 1.74, which uses std::exchange without it
#include <variant>

#include <boost/asio.hpp>
#include <boost/asio/ssl/context.hpp>

#include "common/result.h"
#include "crypto/tls_psk.h"
#include "net/http/message.h"
#include "net/http/serve.h"

namespace skap::net {

// PlainTransport: the bytes as they come (a Unix socket, whose file mode
// decides who connects).
struct PlainTransport {};

// CertificateTransport: TLS with a client certificate required by
// `context`; a request's peer is the certificate's SHA-256 fingerprint.
struct CertificateTransport {
  boost::asio::ssl::context* context = nullptr;
};

// PskTransport: TLS 1.3 with external PSKs looked up by `context`; a
// request's peer is what `identify` makes of the handshake (a failure
// closes the connection), and `refused` hears of every client whose PSK
// was refused.
struct PskTransport {
  std::shared_ptr<crypto::TlsPskContext> context;
  std::function<Result<std::string>(const crypto::TlsPskSession&)> identify;
  std::function<void(const crypto::TlsPskSession&)> refused;
};

using Transport = std::variant<PlainTransport, CertificateTransport, PskTransport>;

struct HttpServerOptions {
  std::string name;  // the listener in log lines ("admin socket")
  ServeOptions serve;
  std::size_t max_connections = 0;  // open at once; 0: no bound
};

class HttpServer {
 public:
  // ListenUnix serves on a Unix socket at `path`, created 0600 (a stale
  // socket file there is replaced, any other file refused) and removed at
  // Stop.
  static Result<std::unique_ptr<HttpServer>> ListenUnix(boost::asio::io_context& io,
                                                        const std::string& path,
                                                        HttpHandler handler,
                                                        HttpServerOptions options);
  // ListenTcp serves on host:port (0: any free port) over `transport`.
  static Result<std::unique_ptr<HttpServer>> ListenTcp(boost::asio::io_context& io,
                                                       const std::string& host, std::uint16_t port,
                                                       Transport transport, HttpHandler handler,
                                                       HttpServerOptions options);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // port is the TCP port bound (0 on a Unix socket).
  std::uint16_t port() const;
  // Stop closes the listener and every open connection; on the io_context's
  // thread (or before it runs).
  void Stop();

  struct State;

 private:
  explicit HttpServer(std::shared_ptr<State> state) : state_(std::move(state)) {}
  std::shared_ptr<State> state_;
};

}  // namespace skap::net
