#include "agent/peer/direct_link.h"

#include <array>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "common/byte_writer.h"
#include "common/hex.h"
#include "crypto/psk_importer.h"
#include "net/acceptor.h"
#include "net/tcp_listener.h"
#include "net/write_queue.h"

namespace skap::peer {
namespace {

namespace asio = boost::asio;
using Tcp = asio::ip::tcp;
using asio::awaitable;
using asio::use_awaitable;
using std::chrono::milliseconds;

// kMaxDirectFrame bounds a frame, as the hub channel's frames are bounded.
constexpr std::size_t kMaxDirectFrame = 64 * 1024;
constexpr std::size_t kHeader = 4 + 8;
constexpr milliseconds kHandshakeTimeout{10000};
constexpr std::string_view kIdentityContext = "skap v1 peer direct";

crypto::ImportedIdentity IdentityOf(std::span<const std::uint8_t> external) {
  crypto::ImportedIdentity id;
  id.external_identity.assign(external.begin(), external.end());
  id.context.assign(kIdentityContext.begin(), kIdentityContext.end());
  return id;
}

std::uint64_t ReadBigEndian(std::span<const std::uint8_t> bytes) {
  std::uint64_t v = 0;
  for (const std::uint8_t b : bytes) v = (v << 8) | b;
  return v;
}

}  // namespace

DirectConnection::DirectConnection(Tcp::socket socket, std::unique_ptr<crypto::TlsPskSession> tls)
    : socket_(std::move(socket)), tls_(std::move(tls)) {}

DirectConnection::~DirectConnection() { Close(); }

void DirectConnection::Close() {
  if (closed_) return;
  closed_ = true;
  boost::system::error_code ignored;
  socket_.shutdown(Tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
}

void DirectConnection::Flush() {
  auto bytes = tls_->TakeCiphertext();
  if (bytes.empty() || closed_) return;
  writes_.Push(shared_from_this(), socket_, std::move(bytes));
}

Result<void> DirectConnection::Send(std::uint64_t epoch, std::span<const std::uint8_t> sealed) {
  if (!open()) return Unexpected(ErrorCode::kUnavailable, "direct link closed");
  if (sealed.size() + 8 > kMaxDirectFrame) {
    return Unexpected(ErrorCode::kInvalidArgument, "peer message too large");
  }
  std::vector<std::uint8_t> frame;
  frame.reserve(kHeader + sealed.size());
  const auto length = static_cast<std::uint32_t>(8 + sealed.size());
  for (int shift = 24; shift >= 0; shift -= 8)
    frame.push_back(static_cast<std::uint8_t>(length >> shift));
  AppendU64(frame, epoch);
  frame.insert(frame.end(), sealed.begin(), sealed.end());
  SKAP_RETURN_IF_ERROR(tls_->Write(frame));
  Flush();
  return Ok();
}

awaitable<Result<void>> DirectConnection::Handshake(milliseconds timeout) {
  asio::steady_timer deadline(socket_.get_executor());
  deadline.expires_after(timeout);
  deadline.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
    if (ec) return;
    if (auto c = weak.lock()) c->Close();
  });
  std::array<std::uint8_t, 16384> buffer{};
  for (;;) {
    auto done = tls_->Handshake();
    if (!done) co_return Unexpected(ErrorCode::kAuthenticationFailed, "the peer refused the PSK");
    Flush();
    if (*done) break;
    boost::system::error_code ec;
    const std::size_t n = co_await socket_.async_read_some(asio::buffer(buffer),
                                                           asio::redirect_error(use_awaitable, ec));
    if (ec || closed_) co_return Unexpected(ErrorCode::kUnavailable, "the connection ended");
    if (!tls_->PutCiphertext(std::span(buffer).first(n))) {
      co_return Unexpected(ErrorCode::kAuthenticationFailed, "the peer refused the PSK");
    }
  }
  deadline.cancel();
  co_return Ok();
}

awaitable<void> DirectConnection::Serve(DirectHandlers handlers) {
  auto self = shared_from_this();
  std::array<std::uint8_t, 16384> buffer{};
  while (open()) {
    boost::system::error_code ec;
    const std::size_t n = co_await socket_.async_read_some(asio::buffer(buffer),
                                                           asio::redirect_error(use_awaitable, ec));
    if (ec || !tls_->PutCiphertext(std::span(buffer).first(n))) break;
    auto plaintext = tls_->Read();
    if (!plaintext) break;
    const auto bytes = plaintext->Expose();
    received_.insert(received_.end(), bytes.begin(), bytes.end());
    std::size_t at = 0;
    bool malformed = false;
    while (received_.size() - at >= 4) {
      const auto length =
          static_cast<std::size_t>(ReadBigEndian(std::span(received_).subspan(at, 4)));
      if (length < 8 || length > kMaxDirectFrame) {
        malformed = true;  // no resynchronising a stream
        break;
      }
      if (received_.size() - at < 4 + length) break;
      const auto epoch = ReadBigEndian(std::span(received_).subspan(at + 4, 8));
      std::vector<std::uint8_t> sealed(
          received_.begin() + static_cast<std::ptrdiff_t>(at + kHeader),
          received_.begin() + static_cast<std::ptrdiff_t>(at + 4 + length));
      at += 4 + length;
      if (handlers.frame) handlers.frame(peer_, epoch, std::move(sealed));
      if (!open()) break;
    }
    received_.erase(received_.begin(), received_.begin() + static_cast<std::ptrdiff_t>(at));
    if (malformed) break;
    Flush();
    if (tls_->peer_closed()) break;
  }
  Close();
}

struct DirectServer::State {
  explicit State(asio::io_context& context) : io(context), acceptor(context) {}
  asio::io_context& io;
  Tcp::acceptor acceptor;
  std::shared_ptr<crypto::TlsPskContext> tls;
  DirectHandlers handlers;
  bool stopped = false;
};

namespace {

awaitable<void> ServeClient(std::shared_ptr<DirectServer::State> state, Tcp::socket socket) {
  auto session = crypto::TlsPskSession::NewServer(state->tls);
  if (!session) co_return;
  boost::system::error_code ignored;
  socket.set_option(Tcp::no_delay(true), ignored);
  auto c = std::make_shared<DirectConnection>(std::move(socket), std::move(*session));
  auto shaken = co_await c->Handshake(kHandshakeTimeout);
  if (!shaken || state->stopped) co_return;
  auto wire = crypto::DecodeOurIdentity(c->tls().psk_identity());
  if (!wire) co_return;
  auto who = state->handlers.lookup(wire->external_identity);
  if (!who) co_return;
  c->Authenticated(who->peer, who->epoch);
  if (state->handlers.up) state->handlers.up(c);
  co_await c->Serve(state->handlers);
}

}  // namespace

Result<std::unique_ptr<DirectServer>> DirectServer::Start(asio::io_context& io,
                                                          const std::string& host,
                                                          std::uint16_t port,
                                                          DirectHandlers handlers) {
  auto state = std::make_shared<State>(io);
  state->handlers = std::move(handlers);
  std::weak_ptr<State> weak = state;
  // The lookup runs inside the handshake: an identity no session of this
  // device derives is refused, without saying why. psk_dhe_ke only: a
  // link's traffic stays secret even if the session is later stolen.
  SKAP_ASSIGN_OR_RETURN(
      state->tls,
      crypto::TlsPskContext::CreateServer(
          [weak](std::span<const std::uint8_t> wire, std::string_view) -> Result<SecretBytes> {
            auto s = weak.lock();
            if (!s) return Unexpected(ErrorCode::kUnavailable, "stopping");
            SKAP_ASSIGN_OR_RETURN(auto id, crypto::DecodeOurIdentity(wire));
            auto who = s->handlers.lookup(id.external_identity);
            if (!who || id.context != IdentityOf(id.external_identity).context) {
              return Unexpected(ErrorCode::kAuthenticationFailed, "unknown peer");
            }
            return crypto::ImportPsk(who->psk.Expose(), id);
          },
          /*allow_psk_only=*/false));
  SKAP_RETURN_IF_ERROR(net::OpenTcpAcceptor(state->acceptor, host, port, "peer listener"));
  asio::co_spawn(io,
                 net::AcceptLoop(
                     state->acceptor,
                     [state](Tcp::socket socket) {
                       if (state->stopped) return;
                       asio::co_spawn(state->io, ServeClient(state, std::move(socket)),
                                      asio::detached);
                     },
                     "peer listener"),
                 asio::detached);
  return std::unique_ptr<DirectServer>(new DirectServer(std::move(state)));
}

DirectServer::~DirectServer() { Stop(); }

std::uint16_t DirectServer::port() const {
  boost::system::error_code ec;
  return state_->acceptor.local_endpoint(ec).port();
}

void DirectServer::Stop() {
  if (!state_ || state_->stopped) return;
  state_->stopped = true;
  boost::system::error_code ignored;
  state_->acceptor.close(ignored);
}

DirectDialer::DirectDialer(asio::io_context& io, std::string peer, std::string address,
                           std::function<std::optional<DirectPsk>()> psk, DirectHandlers handlers,
                           milliseconds max_backoff)
    : io_(io),
      peer_(std::move(peer)),
      address_(std::move(address)),
      psk_(std::move(psk)),
      handlers_(std::move(handlers)),
      max_backoff_(max_backoff),
      sleep_(io) {}

DirectDialer::~DirectDialer() { Stop(); }

void DirectDialer::Start() { asio::co_spawn(io_, Run(), asio::detached); }

void DirectDialer::Stop() {
  *stopped_ = true;
  sleep_.cancel();
  if (auto s = dialing_.lock()) {
    boost::system::error_code ignored;
    s->close(ignored);
  }
  if (auto c = connection_.lock()) c->Close();
}

awaitable<void> DirectDialer::Run() {
  // The dialer may be destroyed while this coroutine sleeps: it reads its
  // own members only while `stopped` says it still exists.
  const auto stopped = stopped_;
  const auto status = status_;
  int failures = 0;
  while (!*stopped) {
    bool worked = false;
    const auto colon = address_.rfind(':');
    auto psk = psk_();
    if (!psk) {
      *status = "no session yet";
    } else if (colon == std::string::npos) {
      *status = "bad address " + address_;
    } else {
      boost::system::error_code ec;
      Tcp::resolver resolver(io_);
      const auto endpoints =
          co_await resolver.async_resolve(address_.substr(0, colon), address_.substr(colon + 1),
                                          asio::redirect_error(use_awaitable, ec));
      if (*stopped) co_return;
      // Stop, or the connect timeout, closes the socket: an address that
      // drops SYNs must hold up neither the daemon's exit nor the dialer.
      auto dialing = std::make_shared<Tcp::socket>(io_);
      dialing_ = dialing;
      asio::steady_timer connect_deadline(io_);
      connect_deadline.expires_after(kHandshakeTimeout);
      connect_deadline.async_wait(
          [weak = std::weak_ptr<Tcp::socket>(dialing)](boost::system::error_code e) {
            if (auto s = weak.lock(); s && !e) s->close();
          });
      if (!ec) {
        co_await asio::async_connect(*dialing, endpoints, asio::redirect_error(use_awaitable, ec));
      }
      connect_deadline.cancel();
      if (*stopped) co_return;
      Tcp::socket socket = std::move(*dialing);
      auto imported = crypto::ImportExternalPsk(psk->psk.Expose(), IdentityOf(psk->identity));
      auto context = crypto::TlsPskContext::SharedClient(crypto::KeyExchangeMode::kPskWithDhe);
      if (ec) {
        *status = "unreachable (" + ec.message() + ")";
      } else if (!imported || !context) {
        *status = "cannot set up TLS";
      } else if (auto tls = crypto::TlsPskSession::NewClient(
                     *context, std::move(imported->wire_identity), std::move(imported->psk));
                 !tls) {
        *status = "cannot set up TLS";
      } else {
        socket.set_option(Tcp::no_delay(true), ec);
        auto c = std::make_shared<DirectConnection>(std::move(socket), std::move(*tls));
        connection_ = c;
        auto shaken = co_await c->Handshake(kHandshakeTimeout);
        if (*stopped) co_return;
        if (!shaken) {
          *status = "handshake failed: " + shaken.error().message;
        } else {
          *status = "up";
          worked = true;
          failures = 0;
          c->Authenticated(peer_, psk->epoch);
          if (handlers_.up) handlers_.up(c);
          co_await c->Serve(handlers_);
          if (*stopped) co_return;
          *status = "closed, reconnecting";
        }
      }
    }
    if (!worked) failures = std::min(failures + 1, 10);
    const milliseconds delay =
        worked ? milliseconds(200) : std::min(max_backoff_, milliseconds(500) * (1 << failures));
    sleep_.expires_after(delay);
    boost::system::error_code ec;
    co_await sleep_.async_wait(asio::redirect_error(use_awaitable, ec));
  }
}

}  // namespace skap::peer
