// The one accept loop of every listener (the hub's device channel and admin
// listeners, the agent's control socket, ETSI GS QKD 014 and peer links).
// It keeps accepting after a failed accept: when the process runs out of
// file descriptors (EMFILE, ENFILE), or the kernel of buffers (ENOBUFS,
// ENOMEM), the listener says so once, backs off briefly and tries again, so
// it serves again as soon as descriptors are free. It stops only when its
// acceptor is closed.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <utility>  // before Asio 1.74, which uses std::exchange without it

#include <boost/asio.hpp>

namespace skap::net {

// kAcceptBackoffMin and kAcceptBackoffMax bound the wait after a failed
// accept: it doubles from the one to the other while accepts keep failing.
inline constexpr std::chrono::milliseconds kAcceptBackoffMin{20};
inline constexpr std::chrono::milliseconds kAcceptBackoffMax{1000};

// AcceptLoop accepts on `acceptor` until it is closed, handing every socket
// to `on_socket`. `what` names the listener in the one line logged when
// accepting starts to fail ("device channel"), and in the one logged when it
// works again. The caller keeps `acceptor` alive until the loop ends.
template <class Acceptor, class OnSocket>
boost::asio::awaitable<void> AcceptLoop(Acceptor& acceptor, OnSocket on_socket, std::string what) {
  namespace asio = boost::asio;
  asio::steady_timer backoff_timer(co_await asio::this_coro::executor);
  auto backoff = kAcceptBackoffMin;
  bool failing = false;
  for (;;) {
    boost::system::error_code ec;
    auto socket = co_await acceptor.async_accept(asio::redirect_error(asio::use_awaitable, ec));
    if (!acceptor.is_open() || ec == asio::error::operation_aborted) co_return;  // stopped
    if (ec) {
      if (!failing) {
        std::fprintf(stderr, "skap: %s: accepting failed (%s); retrying\n", what.c_str(),
                     ec.message().c_str());
        failing = true;
      }
      backoff_timer.expires_after(backoff);
      co_await backoff_timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      backoff = std::min(backoff * 2, kAcceptBackoffMax);
      continue;
    }
    if (failing) {
      std::fprintf(stderr, "skap: %s: accepting again\n", what.c_str());
      failing = false;
      backoff = kAcceptBackoffMin;
    }
    on_socket(std::move(socket));
  }
}

}  // namespace skap::net
