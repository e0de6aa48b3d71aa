#include "hub/admin/admin_server.h"

#include <thread>

#include <boost/asio.hpp>
#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "hub/guard/auth_failures.h"
#include "net/http/server.h"
#include "proto/admin_identity.h"

namespace skap::hub {
namespace {

namespace asio = boost::asio;

}  // namespace

struct AdminServer::State {
  asio::io_context io;
  std::unique_ptr<net::HttpServer> unix_socket;
  std::unique_ptr<net::HttpServer> tls;
  // Refused handshakes on the TLS listener, per claimed operator and source
  // (used on this server's thread only).
  AuthFailures auth_failures;
  Clock now = MonotonicNowMs;  // buckets refill by intervals: a wall-clock step must not stop them
  std::thread thread;
};

Result<std::unique_ptr<AdminServer>> AdminServer::Start(
    const std::string& socket_path, const std::optional<TlsAdminServerOptions>& tls, AdminApi& api,
    Registry& registry, AuditLog& audit, store::Database& db) {
  auto state = std::make_unique<State>();
  const net::HttpHandler handler = [&api, &db](net::HttpRequest request,
                                               const net::HttpRespond& respond) {
    net::HttpResponse answer;
    {
      const auto held = db.Hold();
      answer = api.Handle(request);
    }
    respond(std::move(answer));
  };
  SKAP_ASSIGN_OR_RETURN(state->unix_socket,
                        net::HttpServer::ListenUnix(state->io, socket_path, handler,
                                                    {.name = "admin socket", .serve = {}}));
  if (tls) {
    // The PSK lookup runs inside each handshake, on this server's thread.
    SKAP_ASSIGN_OR_RETURN(
        auto context,
        crypto::TlsPskContext::CreateServer(
            [&registry, &db, s = state.get()](std::span<const std::uint8_t> wire,
                                              std::string_view client) -> Result<SecretBytes> {
              SKAP_ASSIGN_OR_RETURN(auto name, proto::ParseAdminIdentity(wire));
              // Spent by failures: refused before it takes the database.
              if (s->auth_failures.Spent(client, name, s->now())) {
                return Unexpected(ErrorCode::kAuthenticationFailed, "too many failures");
              }
              Result<SecretBytes> epsk = [&] {
                const auto held = db.Hold();
                return registry.operators().AdminPsk(name);
              }();
              if (!epsk) return Unexpected(epsk.error());
              SKAP_ASSIGN_OR_RETURN(auto imported, proto::ImportAdminPsk(name, epsk->Expose()));
              return std::move(imported.psk);
            },
            tls->allow_psk_only));
    net::PskTransport transport{
        std::move(context),
        [](const crypto::TlsPskSession& session) -> Result<std::string> {
          SKAP_ASSIGN_OR_RETURN(auto name, proto::ParseAdminIdentity(session.psk_identity()));
          return Operators::TlsPeer(name, session.psk_sha256());
        },
        // A refused handshake is a security event, as a wrong token is on
        // the socket. The claimed name is only a claim: the target, not the actor.
        // It goes to the tenant of the operator named, if one is: that
        // tenant sees attempts on its operators, and no one else's.
        // Counted per claimed name and source (AuthFailures): past a few,
        // attempts are refused unaudited, and the next one audited says
        // how many.
        [&audit, &db, &registry, s = state.get()](const crypto::TlsPskSession& session) {
          auto claimed = proto::ParseAdminIdentity(session.presented_identity());
          const auto verdict =
              s->auth_failures.Failed(session.client(), claimed ? *claimed : "", s->now());
          if (!verdict.audit) return;
          nlohmann::json detail{{"via", "tls"}};
          if (verdict.suppressed > 0) detail["refused_unaudited_before"] = verdict.suppressed;
          const auto held = db.Hold();
          const auto tenant = claimed ? registry.operators().TenantOf(*claimed)
                                      : Result<std::optional<std::string>>(std::nullopt);
          (void)audit.Append({"unknown-operator", "operator.authenticate", claimed ? *claimed : "",
                              "refused:authentication-failed", detail.dump(),
                              tenant && *tenant ? **tenant : std::string()});
        }};
    auto listening =
        net::HttpServer::ListenTcp(state->io, tls->host, tls->port, std::move(transport), handler,
                                   {.name = "admin listener",
                                    .serve = {.idle_timeout = tls->idle_timeout},
                                    .max_connections = tls->max_connections});
    if (!listening) {
      Error e = std::move(listening).error();
      e.message = "over TLS: " + e.message;
      return Unexpected(std::move(e));
    }
    state->tls = std::move(*listening);
  }
  state->thread = std::thread([s = state.get()] { s->io.run(); });
  return std::unique_ptr<AdminServer>(new AdminServer(std::move(state)));
}

AdminServer::AdminServer(std::unique_ptr<State> state) : state_(std::move(state)) {}

AdminServer::~AdminServer() { Stop(); }

std::uint16_t AdminServer::tls_port() const { return state_->tls ? state_->tls->port() : 0; }

void AdminServer::Stop() {
  if (!state_) return;
  asio::post(state_->io, [s = state_.get()] {
    s->unix_socket->Stop();
    if (s->tls) s->tls->Stop();
  });
  // With the listeners and connections closed, the loop runs out of work.
  if (state_->thread.joinable()) state_->thread.join();
  state_.reset();
}

}  // namespace skap::hub
