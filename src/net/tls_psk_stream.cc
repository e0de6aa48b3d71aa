#include "net/tls_psk_stream.h"

#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>

#include <boost/asio/error.hpp>

namespace skap::net {

bool TlsPskStream::Flush() {
  const auto out = tls_->TakeCiphertext();
  std::size_t sent = 0;
  while (sent < out.size()) {
    const ssize_t n = ::send(fd_, out.data() + sent, out.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    sent += static_cast<std::size_t>(n);
  }
  return true;
}

bool TlsPskStream::Receive() {
  std::array<std::uint8_t, 16384> buffer{};
  ssize_t n = 0;
  do {
    n = ::recv(fd_, buffer.data(), buffer.size(), 0);
  } while (n < 0 && errno == EINTR);
  if (n <= 0) return false;  // closed, failed, or SO_RCVTIMEO passed
  return static_cast<bool>(
      tls_->PutCiphertext(std::span(buffer).first(static_cast<std::size_t>(n))));
}

Result<void> TlsPskStream::Handshake() {
  for (;;) {
    auto done = tls_->Handshake();
    // Send what is queued even on failure: it may be the peer's alert.
    const bool flushed = Flush();
    if (!done) return Unexpected(done.error());
    if (!flushed) return Unexpected(ErrorCode::kIoError, "connection lost during the handshake");
    if (*done) return Ok();
    if (!Receive()) {
      return Unexpected(ErrorCode::kIoError, "connection closed or timed out during the handshake");
    }
  }
}

void TlsPskStream::Shutdown() {
  tls_->Close();
  (void)Flush();
}

std::size_t TlsPskStream::ReadSome(std::span<std::uint8_t> out, boost::system::error_code& ec) {
  ec = {};
  while (consumed_ == plaintext_.size()) {
    consumed_ = 0;
    // Records may already be buffered (they can arrive with the handshake's
    // last flight), so decrypt before waiting on the socket.
    auto plaintext = tls_->Read();
    if (!plaintext) {
      ec = boost::asio::error::connection_aborted;
      return 0;
    }
    plaintext_ = std::move(*plaintext);
    if (plaintext_.size() > 0) break;
    if (tls_->peer_closed()) {
      ec = boost::asio::error::eof;
      return 0;
    }
    if (!Receive()) {
      ec = boost::asio::error::connection_reset;
      return 0;
    }
  }
  const auto available = plaintext_.Expose().subspan(consumed_);
  const std::size_t n = std::min(out.size(), available.size());
  std::memcpy(out.data(), available.data(), n);
  consumed_ += n;
  return n;
}

std::size_t TlsPskStream::WriteSome(std::span<const std::uint8_t> in,
                                    boost::system::error_code& ec) {
  ec = {};
  if (!tls_->Write(in) || !Flush()) {
    ec = boost::asio::error::connection_reset;
    return 0;
  }
  return in.size();
}

}  // namespace skap::net
