#include "net/http/serve.h"

#include <exception>
#include <optional>

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "net/http/wiping.h"

namespace skap::net {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::use_awaitable;

using RequestParser = http::request_parser<http::string_body, WipingAllocator<char>>;
using Response = http::response<SecretBody, WipingFields>;

constexpr std::size_t kReadChunk = 16384;

HttpResponse InternalError() {
  return HttpResponse::Text(
      500, "application/json",
      R"({"error":"internal","message":"the request could not be answered"})");
}

HttpRequest RequestOf(const RequestParser::value_type& in, const std::string& peer) {
  HttpRequest out;
  out.method = std::string(in.method_string());
  out.target = std::string(in.target());
  if (const auto auth = in.find(http::field::authorization); auth != in.end()) {
    const auto value = auth->value();
    out.authorization =
        SecretBytes::Copy({reinterpret_cast<const std::uint8_t*>(value.data()), value.size()});
  }
  out.body = in.body();
  out.peer = peer;
  return out;
}

// Serialize writes `response` out as bytes, in wiping memory.
SecretBytes Serialize(Response& response) {
  http::serializer<false, SecretBody, WipingFields> serializer{response};
  SecretBytes out;
  beast::error_code ec;
  do {
    serializer.next(ec, [&](beast::error_code&, const auto& buffers) {
      std::size_t n = 0;
      for (const auto buffer : beast::buffers_range_ref(buffers)) {
        out.Append({static_cast<const std::uint8_t*>(buffer.data()), buffer.size()});
        n += buffer.size();
      }
      serializer.consume(n);
    });
  } while (!ec && !serializer.is_done());
  return out;
}

}  // namespace

struct HttpConnection::Pending {
  explicit Pending(const asio::any_io_executor& executor) : wake(executor) {
    wake.expires_at(asio::steady_timer::time_point::max());
  }
  asio::steady_timer wake;
  std::optional<HttpResponse> answer;
};

HttpConnection::HttpConnection(std::unique_ptr<ByteStream> stream, asio::any_io_executor executor,
                               ServeOptions options)
    : stream_(std::move(stream)), options_(options), deadline_(std::move(executor)) {}

HttpConnection::~HttpConnection() = default;

void HttpConnection::Arm(std::chrono::seconds timeout) {
  const std::uint64_t armed = ++armed_;
  deadline_.expires_after(timeout);
  deadline_.async_wait([weak = weak_from_this(), armed](boost::system::error_code ec) {
    if (ec) return;  // cancelled
    auto self = weak.lock();
    // An expiry queued before a re-arm or a disarm is stale.
    if (self && self->armed_ == armed) self->Close();
  });
}

void HttpConnection::Disarm() {
  ++armed_;
  deadline_.cancel();
}

void HttpConnection::Close() {
  if (closed_) return;
  closed_ = true;
  Disarm();
  stream_->Close();
  if (pending_) pending_->wake.cancel();
}

asio::awaitable<void> HttpConnection::Serve(HttpHandler handler, std::string peer) {
  WipingBuffer buffer;
  while (!closed_) {
    RequestParser parser;
    parser.body_limit(options_.max_body);
    parser.eager(true);
    bool failed = false;
    Arm();  // the whole request within the idle timeout
    while (!parser.is_done()) {
      if (buffer.size() != 0) {
        beast::error_code ec;
        const std::size_t used = parser.put(buffer.data(), ec);
        buffer.consume(used);
        if (parser.is_done()) break;
        if (ec && ec != http::error::need_more) {
          failed = true;  // malformed or too large: drop the connection
          break;
        }
        if (!ec && used != 0) continue;
      }
      const auto space = buffer.prepare(kReadChunk);
      auto n = co_await stream_->ReadSome({static_cast<std::uint8_t*>(space.data()), space.size()});
      if (!n || *n == 0 || closed_) {
        failed = true;  // closed, timed out or failed
        break;
      }
      buffer.commit(*n);
    }
    Disarm();  // the handler may take its time (an agreement)
    if (failed || closed_) break;

    const auto& in = parser.get();
    const bool keep_alive = in.keep_alive();
    const unsigned version = in.version();
    pending_ = std::make_shared<Pending>(deadline_.get_executor());
    try {
      handler(RequestOf(in, peer), [weak = std::weak_ptr<Pending>(pending_)](HttpResponse r) {
        auto pending = weak.lock();
        if (!pending || pending->answer) return;
        pending->answer = std::move(r);
        pending->wake.cancel();
      });
    } catch (const std::exception&) {
      // No exception leaves a request: third-party code (JSON) may throw.
      if (!pending_->answer) pending_->answer = InternalError();
    }
    if (!pending_->answer && !closed_) {
      boost::system::error_code ignored;
      co_await pending_->wake.async_wait(asio::redirect_error(use_awaitable, ignored));
    }
    auto answer = std::move(pending_->answer);
    pending_.reset();
    if (!answer || closed_) break;

    Response response{static_cast<http::status>(answer->status), version};
    response.set(http::field::content_type, answer->content_type);
    response.set(http::field::cache_control, "no-store");
    for (const auto& [name, value] : answer->headers) response.set(name, value);
    const auto body = answer->body.Expose();
    response.body().assign(body.begin(), body.end());
    response.keep_alive(keep_alive);
    response.prepare_payload();
    const SecretBytes bytes = Serialize(response);
    Arm();
    auto written = co_await stream_->Write(bytes.Expose());
    Disarm();
    if (!written || !keep_alive) break;
  }
  if (!closed_) {
    Arm(options_.shutdown_timeout);
    co_await stream_->Shutdown();
  }
  Close();
}

}  // namespace skap::net
