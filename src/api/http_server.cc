#include "api/http_server.h"

#include <chrono>
#include <filesystem>
#include <mutex>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "api/admin_exchange.h"
#include "api/unix_socket.h"

namespace skap::api {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using Local = asio::local::stream_protocol;

constexpr auto kIdleTimeout = std::chrono::seconds(30);

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(Local::socket socket, AdminApi& api, std::mutex& api_mutex)
      : stream_(std::move(socket)), api_(api), api_mutex_(api_mutex) {}

  void Start() { Read(); }

 private:
  void Read() {
    parser_.emplace();
    parser_->body_limit(kMaxAdminRequestBody);
    stream_.expires_after(kIdleTimeout);
    http::async_read(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, std::size_t) { self->OnRead(ec); });
  }

  void OnRead(beast::error_code ec) {
    if (ec) return;  // closed, timed out or malformed: drop the connection
    response_.emplace(Exchange(api_, api_mutex_, parser_->get(), ""));
    http::async_write(stream_, *response_,
                      [self = shared_from_this()](beast::error_code write_ec, std::size_t) {
                        self->OnWrite(write_ec);
                      });
  }

  void OnWrite(beast::error_code ec) {
    if (ec) return;
    const bool keep = response_->keep_alive();
    response_.reset();
    if (keep) {
      Read();
    } else {
      beast::error_code ignored;
      stream_.socket().shutdown(Local::socket::shutdown_send, ignored);
    }
  }

  beast::basic_stream<Local> stream_;
  WipingBuffer buffer_;
  std::optional<AdminHttpRequestParser> parser_;
  std::optional<AdminHttpResponse> response_;
  AdminApi& api_;
  std::mutex& api_mutex_;
};

}  // namespace

struct UnixHttpServer::State {
  asio::io_context io;
  std::optional<Local::acceptor> acceptor;
  AdminApi* api = nullptr;
  std::mutex* api_mutex = nullptr;
  std::string path;

  void Accept() {
    acceptor->async_accept([this](beast::error_code ec, Local::socket socket) {
      if (ec) return;  // stopped
      std::make_shared<Session>(std::move(socket), *api, *api_mutex)->Start();
      Accept();
    });
  }
};

UnixHttpServer::UnixHttpServer(std::unique_ptr<State> state) : state_(std::move(state)) {}

UnixHttpServer::~UnixHttpServer() { Stop(); }

Result<std::unique_ptr<UnixHttpServer>> UnixHttpServer::Start(const std::string& socket_path,
                                                              AdminApi& api,
                                                              std::mutex& api_mutex) {
  auto state = std::make_unique<State>();
  state->api = &api;
  state->api_mutex = &api_mutex;
  state->path = socket_path;
  state->acceptor.emplace(state->io);
  // Only the hub's user may connect: the socket is created 0600.
  SKAP_RETURN_IF_ERROR(ListenPrivately(*state->acceptor, socket_path));
  state->Accept();
  std::unique_ptr<UnixHttpServer> server(new UnixHttpServer(std::move(state)));
  server->thread_ = std::thread([s = server->state_.get()] { s->io.run(); });
  return server;
}

void UnixHttpServer::Stop() {
  if (!state_) return;
  asio::post(state_->io, [s = state_.get()] {
    beast::error_code ignored;
    s->acceptor->close(ignored);
    s->io.stop();
  });
  if (thread_.joinable()) thread_.join();
  std::error_code ignored;
  std::filesystem::remove(state_->path, ignored);
  state_.reset();
}

}  // namespace skap::api
