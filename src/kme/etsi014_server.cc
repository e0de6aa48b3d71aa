#include "kme/etsi014_server.h"

#include <chrono>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <openssl/ssl.h>

#include "api/open_connections.h"
#include "api/tcp_listener.h"
#include "api/wiping_http.h"
#include "crypto/openssl_ptr.h"

namespace skap::kme {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using Tcp = asio::ip::tcp;
using asio::awaitable;
using asio::use_awaitable;

constexpr auto kIdleTimeout = std::chrono::seconds(30);
constexpr std::size_t kMaxRequestBody = std::size_t{256} * 1024;

struct Connection {
  Connection(Tcp::socket s, ssl::context& ctx) : stream(std::move(s), ctx) {}
  beast::ssl_stream<beast::tcp_stream> stream;
  bool closed = false;

  void Close() {
    closed = true;
    beast::error_code ignored;
    beast::get_lowest_layer(stream).socket().shutdown(Tcp::socket::shutdown_both, ignored);
    beast::get_lowest_layer(stream).socket().close(ignored);
  }
};

std::string PeerFingerprint(SSL* ssl) {
  const crypto::X509Ptr cert(SSL_get1_peer_certificate(ssl));
  return CertificateSha256(cert.get());
}

}  // namespace

struct Etsi014Server::State {
  State(asio::io_context& context)
      : io(context), acceptor(context), tls(ssl::context::tls_server) {}
  asio::io_context& io;
  Tcp::acceptor acceptor;
  ssl::context tls;
  KmeHandler handler;
  api::OpenConnections<Connection> open;
  bool stopped = false;
};

namespace {

awaitable<void> Serve(std::shared_ptr<Etsi014Server::State> state, std::shared_ptr<Connection> c) {
  beast::error_code ec;
  beast::get_lowest_layer(c->stream).expires_after(kIdleTimeout);
  co_await c->stream.async_handshake(ssl::stream_base::server,
                                     asio::redirect_error(use_awaitable, ec));
  if (ec) {
    c->Close();
    co_return;
  }
  const std::string fingerprint = PeerFingerprint(c->stream.native_handle());
  api::WipingBuffer buffer;
  while (!c->closed && !state->stopped) {
    http::request_parser<http::string_body> parser;
    parser.body_limit(kMaxRequestBody);
    beast::get_lowest_layer(c->stream).expires_after(kIdleTimeout);
    co_await http::async_read(c->stream, buffer, parser, asio::redirect_error(use_awaitable, ec));
    if (ec) break;  // closed, timed out or malformed: drop the connection
    const auto& request = parser.get();
    KmeResponse answer = state->handler(
        fingerprint,
        std::string_view(request.method_string().data(), request.method_string().size()),
        std::string_view(request.target().data(), request.target().size()), request.body());
    http::response<api::SecretBody, api::WipingFields> response{
        static_cast<http::status>(answer.status), request.version()};
    response.set(http::field::content_type, "application/json");
    response.set(http::field::cache_control, "no-store");
    const auto body = answer.body.Expose();
    response.body().assign(body.begin(), body.end());
    response.keep_alive(request.keep_alive());
    response.prepare_payload();
    co_await http::async_write(c->stream, response, asio::redirect_error(use_awaitable, ec));
    if (ec || !response.keep_alive()) break;
  }
  beast::get_lowest_layer(c->stream).expires_after(std::chrono::seconds(2));
  co_await c->stream.async_shutdown(asio::redirect_error(use_awaitable, ec));
  c->Close();
}

awaitable<void> Accept(std::shared_ptr<Etsi014Server::State> state) {
  while (!state->stopped) {
    boost::system::error_code ec;
    Tcp::socket socket =
        co_await state->acceptor.async_accept(asio::redirect_error(use_awaitable, ec));
    if (ec) break;  // stopped
    socket.set_option(Tcp::no_delay(true), ec);
    auto c = std::make_shared<Connection>(std::move(socket), state->tls);
    state->open.Add(c);
    asio::co_spawn(state->io, Serve(state, c), asio::detached);
  }
}

}  // namespace

Result<std::unique_ptr<Etsi014Server>> Etsi014Server::Start(asio::io_context& io,
                                                            const std::string& host,
                                                            std::uint16_t port,
                                                            const ServerCredentials& credentials,
                                                            KmeHandler handler) {
  auto state = std::make_shared<State>(io);
  state->handler = std::move(handler);
  boost::system::error_code ec;
  SSL_CTX* ctx = state->tls.native_handle();
  SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
  state->tls.use_certificate_chain(asio::buffer(credentials.certificate_pem), ec);
  if (!ec) {
    state->tls.use_private_key(asio::buffer(credentials.private_key_der.Expose().data(),
                                            credentials.private_key_der.size()),
                               ssl::context::asn1, ec);
  }
  if (!ec) state->tls.add_certificate_authority(asio::buffer(credentials.ca_pem), ec);
  if (ec) {
    return Unexpected(ErrorCode::kCryptoFailure, "etsi014: server credentials: " + ec.message());
  }
  // Only the agent's own CA issues SAE certificates; no certificate, no service.
  state->tls.set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
  SKAP_RETURN_IF_ERROR(api::OpenTcpAcceptor(state->acceptor, host, port, "etsi014 listener"));
  asio::co_spawn(io, Accept(state), asio::detached);
  return std::unique_ptr<Etsi014Server>(new Etsi014Server(std::move(state)));
}

Etsi014Server::~Etsi014Server() { Stop(); }

std::uint16_t Etsi014Server::port() const {
  boost::system::error_code ec;
  return state_->acceptor.local_endpoint(ec).port();
}

void Etsi014Server::Stop() {
  if (!state_ || state_->stopped) return;
  state_->stopped = true;
  boost::system::error_code ignored;
  state_->acceptor.close(ignored);
  state_->open.CloseAll();
}

}  // namespace skap::kme
