#include "net/tls_streams.h"

#include <algorithm>
#include <cstring>

#include "crypto/tls_server_context.h"

namespace skap::net {
namespace {

namespace asio = boost::asio;
using asio::use_awaitable;

Unexpected IoError(const boost::system::error_code& ec) {
  return Unexpected(ErrorCode::kIoError, ec.message());
}

}  // namespace

TlsPskServerStream::TlsPskServerStream(asio::ip::tcp::socket socket,
                                       std::unique_ptr<crypto::TlsPskSession> tls)
    : socket_(std::move(socket)), tls_(std::move(tls)) {}

asio::awaitable<Result<void>> TlsPskServerStream::Flush() {
  const auto out = tls_->TakeCiphertext();
  if (out.empty()) co_return Ok();
  boost::system::error_code ec;
  co_await asio::async_write(socket_, asio::buffer(out), asio::redirect_error(use_awaitable, ec));
  if (ec) co_return Result<void>(IoError(ec));
  co_return Ok();
}

asio::awaitable<Result<bool>> TlsPskServerStream::Receive() {
  boost::system::error_code ec;
  const std::size_t n = co_await socket_.async_read_some(asio::buffer(ciphertext_),
                                                         asio::redirect_error(use_awaitable, ec));
  if (ec == asio::error::eof) co_return false;
  if (ec) co_return Result<bool>(IoError(ec));
  if (!tls_->PutCiphertext(std::span(ciphertext_).first(n))) {
    co_return Result<bool>(Unexpected(ErrorCode::kIoError, "a malformed TLS record"));
  }
  co_return true;
}

asio::awaitable<Result<void>> TlsPskServerStream::Handshake() {
  boost::system::error_code ignored;
  socket_.set_option(asio::ip::tcp::no_delay(true), ignored);
  for (;;) {
    auto done = tls_->Handshake();
    // Send what is queued even on failure: it may be the alert.
    auto flushed = co_await Flush();
    if (!done) co_return Result<void>(Unexpected(done.error()));
    if (!flushed) co_return flushed;
    if (*done) co_return Ok();
    auto more = co_await Receive();
    if (!more) co_return Result<void>(Unexpected(more.error()));
    if (!*more) {
      co_return Result<void>(
          Unexpected(ErrorCode::kIoError, "connection closed during the handshake"));
    }
  }
}

asio::awaitable<Result<std::size_t>> TlsPskServerStream::ReadSome(std::span<std::uint8_t> out) {
  while (consumed_ == plaintext_.size()) {
    consumed_ = 0;
    // Records may be buffered already (they can come with the handshake's
    // last flight): decrypt before waiting on the socket.
    auto plaintext = tls_->Read();
    if (!plaintext) co_return Result<std::size_t>(Unexpected(plaintext.error()));
    plaintext_ = std::move(*plaintext);
    if (!plaintext_.empty()) break;
    if (tls_->peer_closed()) co_return std::size_t{0};
    auto more = co_await Receive();
    if (!more) co_return Result<std::size_t>(Unexpected(more.error()));
    if (!*more) co_return std::size_t{0};
  }
  const auto available = plaintext_.Expose().subspan(consumed_);
  const std::size_t n = std::min(out.size(), available.size());
  std::memcpy(out.data(), available.data(), n);
  consumed_ += n;
  co_return n;
}

asio::awaitable<Result<void>> TlsPskServerStream::Write(std::span<const std::uint8_t> bytes) {
  if (auto written = tls_->Write(bytes); !written) co_return written;
  co_return co_await Flush();
}

asio::awaitable<void> TlsPskServerStream::Shutdown() {
  tls_->Close();
  (void)co_await Flush();
}

void TlsPskServerStream::Close() {
  boost::system::error_code ignored;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
}

asio::awaitable<Result<void>> CertificateTlsServerStream::Handshake() {
  boost::system::error_code ec;
  stream_.next_layer().set_option(asio::ip::tcp::no_delay(true), ec);
  co_await stream_.async_handshake(asio::ssl::stream_base::server,
                                   asio::redirect_error(use_awaitable, ec));
  if (ec) co_return Result<void>(Unexpected(ErrorCode::kAuthenticationFailed, ec.message()));
  co_return Ok();
}

std::string CertificateTlsServerStream::PeerCertificateSha256() {
  return crypto::PeerCertificateSha256(stream_.native_handle());
}

asio::awaitable<Result<std::size_t>> CertificateTlsServerStream::ReadSome(
    std::span<std::uint8_t> out) {
  boost::system::error_code ec;
  const std::size_t n = co_await stream_.async_read_some(asio::buffer(out.data(), out.size()),
                                                         asio::redirect_error(use_awaitable, ec));
  if (ec == asio::error::eof || ec == asio::ssl::error::stream_truncated) co_return std::size_t{0};
  if (ec) co_return Result<std::size_t>(IoError(ec));
  co_return n;
}

asio::awaitable<Result<void>> CertificateTlsServerStream::Write(
    std::span<const std::uint8_t> bytes) {
  boost::system::error_code ec;
  co_await asio::async_write(stream_, asio::buffer(bytes.data(), bytes.size()),
                             asio::redirect_error(use_awaitable, ec));
  if (ec) co_return Result<void>(IoError(ec));
  co_return Ok();
}

asio::awaitable<void> CertificateTlsServerStream::Shutdown() {
  boost::system::error_code ignored;
  co_await stream_.async_shutdown(asio::redirect_error(use_awaitable, ignored));
}

void CertificateTlsServerStream::Close() {
  boost::system::error_code ignored;
  stream_.next_layer().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  stream_.next_layer().close(ignored);
}

}  // namespace skap::net
