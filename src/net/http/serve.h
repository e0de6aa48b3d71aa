// The one HTTP/1.1 loop of SKAP's servers: it reads requests from a
// connection's byte stream, hands each to the handler, writes the answer
// and goes on while the client keeps the connection alive. A handler may
// answer later (the connection waits meanwhile); anything it throws becomes
// a 500. A malformed request, a body over the limit, an idle connection or
// a closed one ends the loop.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>  // before Asio 1.74, which uses std::exchange without it

#include <boost/asio.hpp>

#include "net/byte_stream.h"
#include "net/http/message.h"

namespace skap::net {

// ServeOptions bound what one connection may take.
struct ServeOptions {
  std::size_t max_body = std::size_t{64} * 1024;
  // idle_timeout bounds each wait for the client: a handshake, a whole
  // request (from the first read for it to its last byte), a whole answer.
  std::chrono::seconds idle_timeout{30};
  // shutdown_timeout bounds the polite end (a TLS close_notify).
  std::chrono::seconds shutdown_timeout{2};
};

// HttpConnection is one client's connection; Serve runs on the stream's
// executor, and Close may come from that thread at any time.
class HttpConnection : public std::enable_shared_from_this<HttpConnection> {
 public:
  HttpConnection(std::unique_ptr<ByteStream> stream, boost::asio::any_io_executor executor,
                 ServeOptions options);
  ~HttpConnection();
  HttpConnection(const HttpConnection&) = delete;
  HttpConnection& operator=(const HttpConnection&) = delete;

  ByteStream& stream() { return *stream_; }
  // Arm closes the connection unless Disarm (or Arm again) comes within
  // `timeout` (for a transport's handshake; Serve arms it itself around
  // each request and answer).
  void Arm(std::chrono::seconds timeout);
  void Arm() { Arm(options_.idle_timeout); }
  void Disarm();
  // Serve answers requests with `handler` until the connection ends; every
  // request carries `peer`.
  boost::asio::awaitable<void> Serve(HttpHandler handler, std::string peer);
  // Close ends the connection now, also while it waits for an answer.
  void Close();
  bool closed() const { return closed_; }

  struct Pending;

 private:
  std::unique_ptr<ByteStream> stream_;
  ServeOptions options_;
  boost::asio::steady_timer deadline_;
  // armed_ counts arms and disarms: an expiry already queued when the timer
  // was re-armed or disarmed sees a newer count and closes nothing.
  std::uint64_t armed_ = 0;
  std::shared_ptr<Pending> pending_;  // the answer awaited, while one is
  bool closed_ = false;
};

}  // namespace skap::net
