// HTTPS for the ETSI GS QKD 014 API: TLS 1.3 with a client certificate
// from the agent's own CA (kme_credentials.h) required, served on the
// daemon's io_context, keep-alive. The client certificate's SHA-256
// fingerprint names the calling SAE.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>  // before Asio 1.74, which uses std::exchange without it

#include <boost/asio.hpp>

#include "common/result.h"
#include "kme/etsi014_api.h"
#include "kme/kme_credentials.h"

namespace skap::kme {

// The handler gets the client certificate's fingerprint, the method, the
// target and the body.
using KmeHandler =
    std::function<KmeResponse(const std::string& certificate_sha256, std::string_view method,
                              std::string_view target, std::string_view body)>;

class Etsi014Server {
 public:
  static Result<std::unique_ptr<Etsi014Server>> Start(boost::asio::io_context& io,
                                                      const std::string& host, std::uint16_t port,
                                                      const ServerCredentials& credentials,
                                                      KmeHandler handler);
  ~Etsi014Server();
  Etsi014Server(const Etsi014Server&) = delete;
  Etsi014Server& operator=(const Etsi014Server&) = delete;

  std::uint16_t port() const;
  // Stop closes the listener and every connection.
  void Stop();

  struct State;

 private:
  explicit Etsi014Server(std::shared_ptr<State> state) : state_(std::move(state)) {}
  std::shared_ptr<State> state_;
};

}  // namespace skap::kme
