// A blocking TLS 1.3-PSK stream over a connected socket, shaped as Beast's
// SyncReadStream and SyncWriteStream so http::read and http::write run over
// it unchanged. It drives the sans-I/O crypto::TlsPskSession with plain
// recv/send, so the socket's SO_RCVTIMEO bounds every wait (Asio's blocking
// reads would poll past it).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <utility>

#include <boost/asio/buffer.hpp>
#include <boost/beast/core/buffers_range.hpp>
#include <boost/system/error_code.hpp>
#include <boost/system/system_error.hpp>

#include "common/result.h"
#include "common/secret_bytes.h"
#include "crypto/tls_psk.h"

namespace skap::net {

class TlsPskStream {
 public:
  // `fd` stays owned by the caller and must outlive the stream.
  TlsPskStream(int fd, std::unique_ptr<crypto::TlsPskSession> tls)
      : fd_(fd), tls_(std::move(tls)) {}

  // Handshake runs the handshake to its end; kAuthenticationFailed if the
  // peer's PSK was refused, kIoError if the connection failed first.
  Result<void> Handshake();
  // Shutdown sends close_notify (best effort).
  void Shutdown();

  crypto::TlsPskSession& session() { return *tls_; }

  // Beast's stream interface.
  template <class MutableBuffers>
  std::size_t read_some(const MutableBuffers& buffers, boost::system::error_code& ec) {
    for (const boost::asio::mutable_buffer b : boost::beast::buffers_range_ref(buffers)) {
      if (b.size() > 0) return ReadSome({static_cast<std::uint8_t*>(b.data()), b.size()}, ec);
    }
    ec = {};
    return 0;
  }
  template <class MutableBuffers>
  std::size_t read_some(const MutableBuffers& buffers) {
    boost::system::error_code ec;
    const std::size_t n = read_some(buffers, ec);
    if (ec) throw boost::system::system_error(ec);
    return n;
  }
  template <class ConstBuffers>
  std::size_t write_some(const ConstBuffers& buffers, boost::system::error_code& ec) {
    std::size_t total = 0;
    for (const boost::asio::const_buffer b : boost::beast::buffers_range_ref(buffers)) {
      total += WriteSome({static_cast<const std::uint8_t*>(b.data()), b.size()}, ec);
      if (ec) return total;
    }
    return total;
  }
  template <class ConstBuffers>
  std::size_t write_some(const ConstBuffers& buffers) {
    boost::system::error_code ec;
    const std::size_t n = write_some(buffers, ec);
    if (ec) throw boost::system::system_error(ec);
    return n;
  }

 private:
  std::size_t ReadSome(std::span<std::uint8_t> out, boost::system::error_code& ec);
  std::size_t WriteSome(std::span<const std::uint8_t> in, boost::system::error_code& ec);
  // Flush sends every ciphertext byte the session has queued.
  bool Flush();
  // Receive feeds the session with what the socket has (waits for some).
  bool Receive();

  int fd_;
  std::unique_ptr<crypto::TlsPskSession> tls_;
  SecretBytes plaintext_;  // decrypted, not yet read
  std::size_t consumed_ = 0;
};

}  // namespace skap::net
