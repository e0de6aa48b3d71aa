// The two TLS transports of the HTTP surfaces, as byte streams
// (byte_stream.h) over a TCP socket, each with its handshake:
//   - TLS 1.3 with an external PSK (the hub's admin API for operators
//     elsewhere), driving the sans-I/O crypto::TlsPskSession;
//   - TLS 1.3 with certificates both ways (the agent's ETSI GS QKD 014
//     service), through Asio's SSL stream over a context built in
//     crypto/tls_server_context.h.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>  // before Asio 1.74, which uses std::exchange without it

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>

#include "common/secret_bytes.h"
#include "crypto/tls_psk.h"
#include "net/byte_stream.h"

namespace skap::net {

// TlsPskServerStream is the server side of a TLS-PSK connection.
class TlsPskServerStream final : public ByteStream {
 public:
  TlsPskServerStream(boost::asio::ip::tcp::socket socket,
                     std::unique_ptr<crypto::TlsPskSession> tls);

  // Handshake runs the handshake to its end: kAuthenticationFailed when the
  // client's PSK was refused (the alert is sent), kIoError when the
  // connection failed first.
  boost::asio::awaitable<Result<void>> Handshake();
  const crypto::TlsPskSession& session() const { return *tls_; }

  boost::asio::awaitable<Result<std::size_t>> ReadSome(std::span<std::uint8_t> out) override;
  boost::asio::awaitable<Result<void>> Write(std::span<const std::uint8_t> bytes) override;
  boost::asio::awaitable<void> Shutdown() override;
  void Close() override;

 private:
  // Flush sends the ciphertext the session has queued.
  boost::asio::awaitable<Result<void>> Flush();
  // Receive feeds the session what the socket has (waiting for some).
  boost::asio::awaitable<Result<bool>> Receive();

  boost::asio::ip::tcp::socket socket_;
  std::unique_ptr<crypto::TlsPskSession> tls_;
  std::array<std::uint8_t, 16384> ciphertext_{};
  SecretBytes plaintext_;  // decrypted, not yet read
  std::size_t consumed_ = 0;
};

// CertificateTlsServerStream is the server side of a connection with
// certificates; its context requires the client's.
class CertificateTlsServerStream final : public ByteStream {
 public:
  CertificateTlsServerStream(boost::asio::ip::tcp::socket socket,
                             boost::asio::ssl::context& context)
      : stream_(std::move(socket), context) {}

  boost::asio::awaitable<Result<void>> Handshake();
  // PeerCertificateSha256 is the fingerprint of the client's certificate.
  std::string PeerCertificateSha256();

  boost::asio::awaitable<Result<std::size_t>> ReadSome(std::span<std::uint8_t> out) override;
  boost::asio::awaitable<Result<void>> Write(std::span<const std::uint8_t> bytes) override;
  boost::asio::awaitable<void> Shutdown() override;
  void Close() override;

 private:
  boost::asio::ssl::stream<boost::asio::ip::tcp::socket> stream_;
};

}  // namespace skap::net
