// The direct peer transport (docs/peer.md, "Direct"): TLS 1.3 with an
// external PSK between two agents, the PSK being DK_e of their session
// (peer_keys.h) imported as RFC 9258 describes, and the TLS identity the
// client's pseudonym identity(X), so neither device id crosses the wire.
// Inside, each frame is
//   u32 length ‖ u64 epoch ‖ a message sealed as peer_keys.h says
// Runs on the daemon's io_context.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio.hpp>

#include "common/result.h"
#include "common/secret_bytes.h"
#include "crypto/tls_psk.h"
#include "net/write_queue.h"

namespace skap::peer {

// DirectPsk is what the client side offers for one epoch.
struct DirectPsk {
  std::uint64_t epoch = 0;
  std::vector<std::uint8_t> identity;  // external_identity
  SecretBytes psk;                     // DK_e
};

// DirectPeer is what a server's lookup learns of a client identity.
struct DirectPeer {
  std::string peer;
  std::uint64_t epoch = 0;
  SecretBytes psk;
};

class DirectConnection;

struct DirectHandlers {
  // lookup maps a client's identity to its peer, epoch and DK_e.
  std::function<std::optional<DirectPeer>(std::span<const std::uint8_t> identity)> lookup;
  // up runs once a connection is authenticated, on either side.
  std::function<void(const std::shared_ptr<DirectConnection>&)> up;
  std::function<void(const std::string& peer, std::uint64_t epoch,
                     std::vector<std::uint8_t> sealed)>
      frame;
};

// DirectConnection is one connection to a peer, authenticated once
// Handshake succeeds.
class DirectConnection : public std::enable_shared_from_this<DirectConnection> {
 public:
  DirectConnection(boost::asio::ip::tcp::socket socket, std::unique_ptr<crypto::TlsPskSession> tls);
  ~DirectConnection();
  DirectConnection(const DirectConnection&) = delete;
  DirectConnection& operator=(const DirectConnection&) = delete;

  const std::string& peer() const { return peer_; }
  std::uint64_t epoch() const { return epoch_; }
  bool open() const { return open_ && !closed_; }
  // Send frames a sealed message of `epoch`.
  Result<void> Send(std::uint64_t epoch, std::span<const std::uint8_t> sealed);
  void Close();

  // Handshake runs the TLS handshake (bounded by `timeout`); then Serve
  // reads frames until the connection ends.
  boost::asio::awaitable<Result<void>> Handshake(std::chrono::milliseconds timeout);
  boost::asio::awaitable<void> Serve(DirectHandlers handlers);
  void Authenticated(std::string peer, std::uint64_t epoch) {
    peer_ = std::move(peer);
    epoch_ = epoch;
    open_ = true;
  }
  crypto::TlsPskSession& tls() { return *tls_; }

 private:
  void Flush();

  boost::asio::ip::tcp::socket socket_;
  std::unique_ptr<crypto::TlsPskSession> tls_;
  net::WriteQueue writes_;
  std::vector<std::uint8_t> received_;  // frames not yet complete (sealed, so not secret)
  std::string peer_;
  std::uint64_t epoch_ = 0;
  bool open_ = false;
  bool closed_ = false;
};

// DirectServer accepts peers' connections.
class DirectServer {
 public:
  static Result<std::unique_ptr<DirectServer>> Start(boost::asio::io_context& io,
                                                     const std::string& host, std::uint16_t port,
                                                     DirectHandlers handlers);
  ~DirectServer();
  DirectServer(const DirectServer&) = delete;
  DirectServer& operator=(const DirectServer&) = delete;
  std::uint16_t port() const;
  void Stop();

  struct State;

 private:
  explicit DirectServer(std::shared_ptr<State> state) : state_(std::move(state)) {}
  std::shared_ptr<State> state_;
};

// DirectDialer keeps a connection to one peer's address up: while `psk`
// gives the current epoch's PSK it connects, and reconnects with backoff
// (1 s doubling to `max_backoff`) whenever the connection ends.
class DirectDialer {
 public:
  DirectDialer(boost::asio::io_context& io, std::string peer, std::string address,
               std::function<std::optional<DirectPsk>()> psk, DirectHandlers handlers,
               std::chrono::milliseconds max_backoff = std::chrono::milliseconds(10000));
  ~DirectDialer();
  DirectDialer(const DirectDialer&) = delete;
  DirectDialer& operator=(const DirectDialer&) = delete;
  void Start();
  void Stop();
  const std::string& status() const { return *status_; }

 private:
  boost::asio::awaitable<void> Run();
  boost::asio::io_context& io_;
  std::string peer_;
  std::string address_;
  std::function<std::optional<DirectPsk>()> psk_;
  DirectHandlers handlers_;
  std::chrono::milliseconds max_backoff_;
  boost::asio::steady_timer sleep_;
  std::shared_ptr<bool> stopped_ = std::make_shared<bool>(false);
  std::shared_ptr<std::string> status_ = std::make_shared<std::string>("not started");
  std::weak_ptr<DirectConnection> connection_;
  std::weak_ptr<boost::asio::ip::tcp::socket> dialing_;
};

}  // namespace skap::peer
