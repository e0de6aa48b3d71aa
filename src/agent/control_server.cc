#include "agent/control_server.h"

#include <chrono>
#include <filesystem>
#include <optional>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "api/open_connections.h"
#include "api/unix_socket.h"
#include "api/wiping_http.h"

namespace skap::agent {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using Local = asio::local::stream_protocol;
using asio::awaitable;
using asio::use_awaitable;

constexpr auto kIdleTimeout = std::chrono::seconds(30);
constexpr std::size_t kMaxRequestBody = std::size_t{64} * 1024;

// Connection is one client; the handler's answer arrives through `answer`.
struct Connection {
  explicit Connection(Local::socket s) : stream(std::move(s)), wake(stream.get_executor()) {}
  beast::basic_stream<Local> stream;
  asio::steady_timer wake;
  std::optional<ControlResponse> answer;
  bool closed = false;

  void Close() {
    closed = true;
    wake.cancel();
    beast::error_code ignored;
    stream.socket().shutdown(Local::socket::shutdown_both, ignored);
    stream.socket().close(ignored);
  }
};

}  // namespace

struct ControlServer::State {
  explicit State(asio::io_context& context) : io(context), acceptor(context) {}
  asio::io_context& io;
  Local::acceptor acceptor;
  ControlHandler handler;
  std::string path;
  api::OpenConnections<Connection> open;
  bool stopped = false;
};

namespace {

awaitable<void> Serve(std::shared_ptr<ControlServer::State> state, std::shared_ptr<Connection> c) {
  api::WipingBuffer buffer;
  while (!c->closed) {
    http::request_parser<http::string_body> parser;
    parser.body_limit(kMaxRequestBody);
    c->stream.expires_after(kIdleTimeout);
    beast::error_code ec;
    co_await http::async_read(c->stream, buffer, parser, asio::redirect_error(use_awaitable, ec));
    if (ec) break;  // closed, timed out or malformed: drop the connection
    c->stream.expires_never();
    const auto& request = parser.get();
    ControlRequest in{std::string(request.method_string()), std::string(request.target()),
                      request.body()};
    c->answer.reset();
    std::weak_ptr<Connection> weak = c;
    state->handler(in, [weak](ControlResponse response) {
      if (auto conn = weak.lock()) {
        conn->answer = std::move(response);
        conn->wake.cancel();
      }
    });
    if (!c->answer) {
      c->wake.expires_at(asio::steady_timer::time_point::max());
      co_await c->wake.async_wait(asio::redirect_error(use_awaitable, ec));
    }
    if (!c->answer || c->closed) break;
    http::response<api::SecretBody, api::WipingFields> response{
        static_cast<http::status>(c->answer->status), request.version()};
    response.set(http::field::content_type, c->answer->content_type);
    for (const auto& [name, value] : c->answer->headers) response.set(name, value);
    const auto body = c->answer->body.Expose();
    response.body().assign(body.begin(), body.end());
    response.keep_alive(request.keep_alive());
    response.prepare_payload();
    c->answer.reset();
    c->stream.expires_after(kIdleTimeout);
    co_await http::async_write(c->stream, response, asio::redirect_error(use_awaitable, ec));
    if (ec || !response.keep_alive()) break;
  }
  c->Close();
}

awaitable<void> Accept(std::shared_ptr<ControlServer::State> state) {
  while (!state->stopped) {
    boost::system::error_code ec;
    Local::socket socket =
        co_await state->acceptor.async_accept(asio::redirect_error(use_awaitable, ec));
    if (ec) break;  // stopped
    auto c = std::make_shared<Connection>(std::move(socket));
    state->open.Add(c);
    asio::co_spawn(state->io, Serve(state, c), asio::detached);
  }
}

}  // namespace

Result<std::unique_ptr<ControlServer>> ControlServer::Start(asio::io_context& io,
                                                            const std::string& socket_path,
                                                            ControlHandler handler) {
  auto state = std::make_shared<State>(io);
  state->handler = std::move(handler);
  state->path = socket_path;
  SKAP_RETURN_IF_ERROR(api::ListenPrivately(state->acceptor, socket_path));
  asio::co_spawn(io, Accept(state), asio::detached);
  return std::unique_ptr<ControlServer>(new ControlServer(std::move(state)));
}

ControlServer::~ControlServer() { Stop(); }

void ControlServer::Stop() {
  if (!state_ || state_->stopped) return;
  state_->stopped = true;
  boost::system::error_code ignored;
  state_->acceptor.close(ignored);
  state_->open.CloseAll();
  std::error_code fs_ignored;
  std::filesystem::remove(state_->path, fs_ignored);
}

}  // namespace skap::agent
