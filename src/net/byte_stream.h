// A connection's bytes as the one HTTP loop (net/http/serve.h) reads and
// writes them, whatever carries them: a plain socket (TCP, or a Unix socket
// whose file mode decides who connects), TLS with certificates (Asio's SSL)
// or TLS 1.3 with an external PSK (tls_streams.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <utility>  // before Asio 1.74, which uses std::exchange without it

#include <boost/asio.hpp>

#include "common/result.h"

namespace skap::net {

class ByteStream {
 public:
  virtual ~ByteStream() = default;
  // ReadSome reads at least one byte into `out` and returns how many, or 0
  // at the peer's end of stream. Any error leaves the stream unusable.
  virtual boost::asio::awaitable<Result<std::size_t>> ReadSome(std::span<std::uint8_t> out) = 0;
  // Write writes all of `bytes`.
  virtual boost::asio::awaitable<Result<void>> Write(std::span<const std::uint8_t> bytes) = 0;
  // Shutdown ends the session politely (a TLS close_notify), best effort.
  virtual boost::asio::awaitable<void> Shutdown() { co_return; }
  // Close closes the connection at once: a pending read or write ends with
  // an error. Closing twice is harmless.
  virtual void Close() = 0;
};

// SocketStream is a plain socket (Asio's TCP or Unix stream socket).
template <class Socket>
class SocketStream final : public ByteStream {
 public:
  explicit SocketStream(Socket socket) : socket_(std::move(socket)) {}

  boost::asio::awaitable<Result<std::size_t>> ReadSome(std::span<std::uint8_t> out) override {
    namespace asio = boost::asio;
    boost::system::error_code ec;
    const std::size_t n = co_await socket_.async_read_some(
        asio::buffer(out.data(), out.size()), asio::redirect_error(asio::use_awaitable, ec));
    if (ec == asio::error::eof) co_return std::size_t{0};
    if (ec) co_return Result<std::size_t>(Unexpected(ErrorCode::kIoError, ec.message()));
    co_return n;
  }

  boost::asio::awaitable<Result<void>> Write(std::span<const std::uint8_t> bytes) override {
    namespace asio = boost::asio;
    boost::system::error_code ec;
    co_await asio::async_write(socket_, asio::buffer(bytes.data(), bytes.size()),
                               asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return Result<void>(Unexpected(ErrorCode::kIoError, ec.message()));
    co_return Ok();
  }

  boost::asio::awaitable<void> Shutdown() override {
    boost::system::error_code ignored;
    socket_.shutdown(Socket::shutdown_send, ignored);
    co_return;
  }

  void Close() override {
    boost::system::error_code ignored;
    socket_.shutdown(Socket::shutdown_both, ignored);
    socket_.close(ignored);
  }

  Socket& socket() { return socket_; }

 private:
  Socket socket_;
};

}  // namespace skap::net
