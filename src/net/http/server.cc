#include "net/http/server.h"

#include <filesystem>
#include <optional>

#include "net/acceptor.h"
#include "net/open_connections.h"
#include "net/tcp_listener.h"
#include "net/tls_streams.h"
#include "net/unix_socket.h"

namespace skap::net {
namespace {

namespace asio = boost::asio;
using Tcp = asio::ip::tcp;
using Local = asio::local::stream_protocol;

}  // namespace

struct HttpServer::State {
  explicit State(asio::io_context& context) : io(context) {}
  asio::io_context& io;
  std::optional<Tcp::acceptor> tcp;
  std::optional<Local::acceptor> local;
  std::string path;  // the Unix socket's, to remove at Stop
  Transport transport;
  HttpHandler handler;
  HttpServerOptions options;
  OpenConnections<HttpConnection> open;
  bool stopped = false;

  bool Full() { return options.max_connections != 0 && open.Count() >= options.max_connections; }
};

namespace {

asio::awaitable<void> ServePlain(std::shared_ptr<HttpServer::State> state,
                                 std::shared_ptr<HttpConnection> c) {
  co_await c->Serve(state->handler, "");
}

asio::awaitable<void> ServeCertificate(std::shared_ptr<HttpServer::State> state,
                                       std::shared_ptr<HttpConnection> c) {
  auto& stream = static_cast<CertificateTlsServerStream&>(c->stream());
  c->Arm();
  if (!co_await stream.Handshake() || c->closed()) {
    c->Close();
    co_return;
  }
  co_await c->Serve(state->handler, stream.PeerCertificateSha256());
}

asio::awaitable<void> ServePsk(std::shared_ptr<HttpServer::State> state,
                               std::shared_ptr<HttpConnection> c) {
  const auto& transport = std::get<PskTransport>(state->transport);
  auto& stream = static_cast<TlsPskServerStream&>(c->stream());
  c->Arm();
  auto handshake = co_await stream.Handshake();
  if (!handshake || c->closed()) {
    if (!handshake && handshake.error().code == ErrorCode::kAuthenticationFailed &&
        transport.refused) {
      transport.refused(stream.session());
    }
    c->Close();
    co_return;
  }
  auto peer = transport.identify ? transport.identify(stream.session()) : Result<std::string>("");
  if (!peer) {
    c->Close();
    co_return;
  }
  co_await c->Serve(state->handler, std::move(*peer));
}

void OnTcpSocket(const std::shared_ptr<HttpServer::State>& state, Tcp::socket socket) {
  if (state->stopped || state->Full()) {
    boost::system::error_code ignored;
    socket.close(ignored);  // full: dropped at once, so a flood cannot hold the server for long
    return;
  }
  const auto executor = socket.get_executor();
  std::unique_ptr<ByteStream> stream;
  if (std::holds_alternative<PlainTransport>(state->transport)) {
    boost::system::error_code ignored;
    socket.set_option(Tcp::no_delay(true), ignored);
    stream = std::make_unique<SocketStream<Tcp::socket>>(std::move(socket));
  } else if (const auto* tls = std::get_if<CertificateTransport>(&state->transport)) {
    stream = std::make_unique<CertificateTlsServerStream>(std::move(socket), *tls->context);
  } else {
    // The client's address goes to the PSK lookup (failures are counted per source).
    auto session = crypto::TlsPskSession::NewServer(
        std::get<PskTransport>(state->transport).context, RemoteAddress(socket));
    if (!session) return;
    stream = std::make_unique<TlsPskServerStream>(std::move(socket), std::move(*session));
  }
  auto c = std::make_shared<HttpConnection>(std::move(stream), executor, state->options.serve);
  state->open.Add(c);
  if (std::holds_alternative<PlainTransport>(state->transport)) {
    asio::co_spawn(state->io, ServePlain(state, c), asio::detached);
  } else if (std::holds_alternative<CertificateTransport>(state->transport)) {
    asio::co_spawn(state->io, ServeCertificate(state, c), asio::detached);
  } else {
    asio::co_spawn(state->io, ServePsk(state, c), asio::detached);
  }
}

void OnLocalSocket(const std::shared_ptr<HttpServer::State>& state, Local::socket socket) {
  if (state->stopped || state->Full()) {
    boost::system::error_code ignored;
    socket.close(ignored);
    return;
  }
  const auto executor = socket.get_executor();
  auto c = std::make_shared<HttpConnection>(
      std::make_unique<SocketStream<Local::socket>>(std::move(socket)), executor,
      state->options.serve);
  state->open.Add(c);
  asio::co_spawn(state->io, ServePlain(state, c), asio::detached);
}

}  // namespace

Result<std::unique_ptr<HttpServer>> HttpServer::ListenUnix(asio::io_context& io,
                                                           const std::string& path,
                                                           HttpHandler handler,
                                                           HttpServerOptions options) {
  auto state = std::make_shared<State>(io);
  state->handler = std::move(handler);
  state->options = std::move(options);
  state->transport = PlainTransport{};
  state->path = path;
  state->local.emplace(io);
  SKAP_RETURN_IF_ERROR(ListenPrivately(*state->local, path));
  asio::co_spawn(
      io,
      AcceptLoop(
          *state->local, [state](Local::socket socket) { OnLocalSocket(state, std::move(socket)); },
          state->options.name),
      asio::detached);
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(state)));
}

Result<std::unique_ptr<HttpServer>> HttpServer::ListenTcp(asio::io_context& io,
                                                          const std::string& host,
                                                          std::uint16_t port, Transport transport,
                                                          HttpHandler handler,
                                                          HttpServerOptions options) {
  if (const auto* tls = std::get_if<CertificateTransport>(&transport); tls && !tls->context) {
    return Unexpected(ErrorCode::kInvalidArgument, options.name + ": no TLS context");
  }
  auto state = std::make_shared<State>(io);
  state->handler = std::move(handler);
  state->options = std::move(options);
  state->transport = std::move(transport);
  state->tcp.emplace(io);
  SKAP_RETURN_IF_ERROR(OpenTcpAcceptor(*state->tcp, host, port, state->options.name));
  asio::co_spawn(
      io,
      AcceptLoop(
          *state->tcp, [state](Tcp::socket socket) { OnTcpSocket(state, std::move(socket)); },
          state->options.name),
      asio::detached);
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(state)));
}

HttpServer::~HttpServer() { Stop(); }

std::uint16_t HttpServer::port() const {
  if (!state_ || !state_->tcp) return 0;
  boost::system::error_code ec;
  return state_->tcp->local_endpoint(ec).port();
}

void HttpServer::Stop() {
  if (!state_ || state_->stopped) return;
  state_->stopped = true;
  boost::system::error_code ignored;
  if (state_->tcp) state_->tcp->close(ignored);
  if (state_->local) state_->local->close(ignored);
  state_->open.CloseAll();
  if (!state_->path.empty()) {
    std::error_code fs_ignored;
    std::filesystem::remove(state_->path, fs_ignored);
  }
}

}  // namespace skap::net
