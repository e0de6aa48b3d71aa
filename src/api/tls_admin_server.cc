#include "api/tls_admin_server.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <atomic>
#include <list>
#include <thread>
#include <utility>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

#include "api/admin_exchange.h"
#include "api/tls_psk_stream.h"
#include "api/tcp_listener.h"
#include "proto/admin_identity.h"

namespace skap::api {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using Tcp = asio::ip::tcp;

void SetSocketOptions(int fd, std::chrono::seconds timeout) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(timeout.count());
  (void)::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  (void)::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  const int one = 1;
  (void)::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

}  // namespace

struct TlsAdminServer::State {
  struct Connection {
    Tcp::socket socket;
    std::thread thread;
    std::atomic<bool> finished{false};
    explicit Connection(Tcp::socket s) : socket(std::move(s)) {}
  };

  TlsAdminServerOptions options;
  AdminApi* api = nullptr;
  hub::AuditLog* audit = nullptr;
  std::mutex* api_mutex = nullptr;
  std::shared_ptr<crypto::TlsPskContext> tls;
  asio::io_context io;
  std::optional<Tcp::acceptor> acceptor;
  std::thread accept_thread;
  std::list<std::unique_ptr<Connection>> connections;  // accept thread only, until Stop

  void Accept() {
    acceptor->async_accept([this](boost::system::error_code ec, Tcp::socket socket) {
      if (ec) return;  // stopped
      Reap();
      if (connections.size() >= options.max_connections) {
        boost::system::error_code ignored;
        socket.close(ignored);
      } else {
        auto& c = *connections.emplace_back(std::make_unique<Connection>(std::move(socket)));
        c.thread = std::thread([this, &c] {
          Serve(c.socket.native_handle());
          c.finished = true;
        });
      }
      Accept();
    });
  }

  void Reap() {
    for (auto it = connections.begin(); it != connections.end();) {
      if ((*it)->finished) {
        (*it)->thread.join();
        it = connections.erase(it);
      } else {
        ++it;
      }
    }
  }

  void Serve(int fd) {
    SetSocketOptions(fd, options.idle_timeout);
    auto session = crypto::TlsPskSession::NewServer(tls);
    if (!session) return;
    TlsPskStream stream(fd, std::move(*session));
    if (auto done = stream.Handshake(); !done) {
      if (done.error().code == ErrorCode::kAuthenticationFailed) AuditRefusedHandshake(stream);
      return;
    }
    auto operator_name = proto::ParseAdminIdentity(stream.session().psk_identity());
    if (!operator_name) return;
    WipingBuffer buffer;
    for (;;) {
      AdminHttpRequestParser parser;
      parser.body_limit(kMaxAdminRequestBody);
      beast::error_code ec;
      http::read(stream, buffer, parser, ec);
      if (ec) break;  // closed, timed out or malformed: drop the connection
      auto response = Exchange(*api, *api_mutex, parser.get(), *operator_name);
      const bool keep = response.keep_alive();
      http::write(stream, response, ec);
      if (ec || !keep) break;
    }
    stream.Shutdown();
  }

  // A refused handshake is a security event, as a wrong token is on the
  // Unix socket. The claimed name is only a claim: it is the target, not the actor.
  void AuditRefusedHandshake(TlsPskStream& stream) const {
    auto claimed = proto::ParseAdminIdentity(stream.session().presented_identity());
    const std::lock_guard lock(*api_mutex);
    (void)audit->Append({"unknown-operator", "operator.authenticate", claimed ? *claimed : "",
                         "refused:authentication-failed", nlohmann::json{{"via", "tls"}}.dump()});
  }
};

TlsAdminServer::TlsAdminServer(std::unique_ptr<State> state) : state_(std::move(state)) {}
TlsAdminServer::~TlsAdminServer() { Stop(); }

Result<std::unique_ptr<TlsAdminServer>> TlsAdminServer::Start(const TlsAdminServerOptions& options,
                                                              AdminApi& api,
                                                              hub::Registry& registry,
                                                              hub::AuditLog& audit,
                                                              std::mutex& api_mutex) {
  auto state = std::make_unique<State>();
  state->options = options;
  state->api = &api;
  state->audit = &audit;
  state->api_mutex = &api_mutex;
  // The PSK lookup runs inside each handshake, on that connection's thread.
  SKAP_ASSIGN_OR_RETURN(
      state->tls,
      crypto::TlsPskContext::CreateServer(
          [&registry, &api_mutex](std::span<const std::uint8_t> wire) -> Result<SecretBytes> {
            SKAP_ASSIGN_OR_RETURN(auto name, proto::ParseAdminIdentity(wire));
            Result<SecretBytes> epsk = [&] {
              const std::lock_guard lock(api_mutex);
              return registry.AdminPsk(name);
            }();
            if (!epsk) return Unexpected(epsk.error());
            SKAP_ASSIGN_OR_RETURN(auto imported, proto::ImportAdminPsk(name, epsk->Expose()));
            return std::move(imported.psk);
          },
          options.allow_psk_only));
  state->acceptor.emplace(state->io);
  SKAP_RETURN_IF_ERROR(
      api::OpenTcpAcceptor(*state->acceptor, options.host, options.port, "admin listener"));
  state->Accept();
  state->accept_thread = std::thread([s = state.get()] { s->io.run(); });
  return std::unique_ptr<TlsAdminServer>(new TlsAdminServer(std::move(state)));
}

std::uint16_t TlsAdminServer::port() const { return state_->acceptor->local_endpoint().port(); }

void TlsAdminServer::Stop() {
  if (!state_) return;
  asio::post(state_->io, [s = state_.get()] {
    boost::system::error_code ignored;
    s->acceptor->close(ignored);
    s->io.stop();
  });
  if (state_->accept_thread.joinable()) state_->accept_thread.join();
  // Wake every blocked recv; each thread then ends its connection.
  for (auto& c : state_->connections) {
    (void)::shutdown(c->socket.native_handle(), SHUT_RDWR);
  }
  for (auto& c : state_->connections) c->thread.join();
  state_.reset();
}

}  // namespace skap::api
