#include "agent/hub/hub_link.h"

#include <algorithm>
#include <array>
#include <optional>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "agent/hub/channel_steps.h"
#include "common/crash_point.h"
#include "net/write_queue.h"
#include "proto/channel_identity.h"

namespace skap::agent {
namespace {

namespace asio = boost::asio;
namespace pb = skap::channel::v1;
using Tcp = asio::ip::tcp;
using asio::awaitable;
using asio::use_awaitable;
using std::chrono::milliseconds;

}  // namespace

// Connection is one TCP connection and its TLS session. Coroutines that use
// it hold a shared_ptr, so it outlives every handler still pending on it.
struct HubLink::Connection : std::enable_shared_from_this<HubLink::Connection> {
  struct Waiter {
    explicit Waiter(const asio::any_io_executor& executor) : timer(executor) {}
    asio::steady_timer timer;
    std::optional<proto::Frame> answer;
  };

  explicit Connection(asio::io_context& io) : socket(io), deadline(io), wake(io) {}

  Tcp::socket socket;
  asio::steady_timer deadline;
  asio::steady_timer wake;  // the session sleeps on it; pushes and closing wake it
  std::unique_ptr<crypto::TlsPskSession> tls;
  proto::FrameDecoder decoder;
  net::WriteQueue writes;
  std::map<std::uint64_t, std::shared_ptr<Waiter>> waiting;
  std::function<void(proto::Frame)> on_push;
  std::uint64_t next_id = 1;
  bool closed = false;
  bool up = false;
  bool ratchet_due = false;

  void Close() {
    if (closed) return;
    closed = true;
    up = false;
    boost::system::error_code ignored;
    socket.shutdown(Tcp::socket::shutdown_both, ignored);
    socket.close(ignored);
    deadline.cancel();
    wake.cancel();
    for (auto& [id, waiter] : waiting) waiter->timer.cancel();
  }

  // ArmDeadline closes the connection if it is still not disarmed after `wait`.
  void ArmDeadline(milliseconds wait) {
    deadline.expires_after(wait);
    deadline.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
      if (ec) return;
      if (auto c = weak.lock()) c->Close();
    });
  }

  void Flush() {
    auto bytes = tls->TakeCiphertext();
    if (bytes.empty() || closed) return;
    writes.Push(shared_from_this(), socket, std::move(bytes));
  }

  Result<std::uint64_t> Send(pb::Envelope& envelope, std::span<const std::uint8_t> trailer) {
    if (closed) return Unexpected(ErrorCode::kUnavailable, "the channel is closed");
    const std::uint64_t id = next_id++;
    envelope.set_request_id(id);
    SKAP_ASSIGN_OR_RETURN(auto frame, proto::EncodeFrame(envelope, trailer));
    SKAP_RETURN_IF_ERROR(tls->Write(frame.Expose()));
    Flush();
    return id;
  }

  void Dispatch(proto::Frame frame) {
    const std::uint64_t id = frame.envelope.request_id();
    if (id == 0) {
      if (on_push) on_push(std::move(frame));
      return;
    }
    if (auto it = waiting.find(id); it != waiting.end()) {
      it->second->answer = std::move(frame);
      it->second->timer.cancel();
    }
  }
};

namespace {

using Connection = HubLink::Connection;

// Call sends a request on `c` and waits for its answer.
awaitable<Result<proto::Frame>> Call(std::shared_ptr<Connection> c, pb::Envelope request,
                                     SecretBytes trailer, milliseconds timeout) {
  auto id = c->Send(request, trailer.Expose());
  if (!id) co_return Unexpected(std::move(id).error());
  auto waiter = std::make_shared<Connection::Waiter>(c->socket.get_executor());
  c->waiting.emplace(*id, waiter);
  waiter->timer.expires_after(timeout);
  boost::system::error_code ec;
  co_await waiter->timer.async_wait(asio::redirect_error(use_awaitable, ec));
  c->waiting.erase(*id);
  if (waiter->answer) co_return std::move(*waiter->answer);
  co_return Unexpected(ErrorCode::kUnavailable,
                       c->closed ? "the hub closed the channel" : "the hub did not answer in time");
}

// CallAndReport is Call for callers outside coroutines.
awaitable<void> CallAndReport(std::shared_ptr<Connection> c, pb::Envelope request,
                              SecretBytes trailer, milliseconds timeout, HubLink::Done done) {
  auto answer = co_await Call(std::move(c), std::move(request), std::move(trailer), timeout);
  done(std::move(answer));
}

// ReadLoop decrypts and dispatches everything that arrives on `c`.
awaitable<void> ReadLoop(std::shared_ptr<Connection> c) {
  std::array<std::uint8_t, 16384> buffer{};
  while (!c->closed) {
    boost::system::error_code ec;
    const std::size_t n = co_await c->socket.async_read_some(
        asio::buffer(buffer), asio::redirect_error(use_awaitable, ec));
    if (ec || !c->tls->PutCiphertext(std::span(buffer).first(n))) break;
    auto plaintext = c->tls->Read();
    if (!plaintext) break;
    c->decoder.Feed(plaintext->Expose());
    for (;;) {
      auto frame = c->decoder.Next();
      if (!frame) {  // malformed: no resynchronising a stream
        c->Close();
        co_return;
      }
      if (!frame->has_value()) break;
      c->Dispatch(std::move(**frame));
      if (c->closed) co_return;
    }
    c->Flush();
    if (c->tls->peer_closed()) break;
  }
  c->Close();
}

}  // namespace

HubLink::HubLink(asio::io_context& io, AgentDir& store, std::string hub_id,
                 entropy::EntropyService& entropy, HubLinkOptions options,
                 HubPortListener& delegate)
    : io_(io),
      store_(store),
      hub_id_(std::move(hub_id)),
      entropy_(entropy),
      options_(options),
      delegate_(delegate),
      sleep_(io) {}

HubLink::~HubLink() { Stop(); }

void HubLink::Start() { asio::co_spawn(io_, Run(), asio::detached); }

void HubLink::Stop() {
  stopped_ = true;
  sleep_.cancel();
  if (connection_) connection_->Close();
}

bool HubLink::up() const { return connection_ && connection_->up && !connection_->closed; }

std::string HubLink::Status() const {
  if (up()) return "up, key epoch " + std::to_string(epoch_);
  return status_;
}

void HubLink::Request(pb::Envelope request, SecretBytes trailer, Done done) {
  if (!up()) {
    asio::post(io_, [done = std::move(done), hub = hub_id_] {
      done(Unexpected(ErrorCode::kUnavailable, "hub " + hub + " is not connected"));
    });
    return;
  }
  asio::co_spawn(io_,
                 CallAndReport(connection_, std::move(request), std::move(trailer),
                               options_.timeout, std::move(done)),
                 asio::detached);
}

awaitable<void> HubLink::Run() {
  int failures = 0;
  while (!stopped_) {
    const milliseconds wait = co_await Session();
    if (stopped_) break;
    // A session that asks to come back at once (admitted, ratcheted) did
    // well; anything else backs off, doubling up to the bound.
    milliseconds delay = wait;
    if (wait.count() < 0) {
      failures = std::min(failures + 1, 16);
      delay = std::min(options_.max_backoff, milliseconds(125) * (1 << std::min(failures, 10)));
    } else {
      failures = 0;
    }
    sleep_.expires_after(delay);
    boost::system::error_code ec;
    co_await sleep_.async_wait(asio::redirect_error(use_awaitable, ec));
  }
}

// Session runs one connection to its end and says when to try again: a
// negative wait means "back off".
awaitable<milliseconds> HubLink::Session() {
  const milliseconds back_off{-1};
  auto state = store_.LoadHub(hub_id_);
  if (!state) {
    status_ = "cannot read its state: " + state.error().message;
    co_return back_off;
  }
  epoch_ = state->epoch;
  const auto& address = state->hub.hub_address;
  const auto colon = address.rfind(':');
  if (colon == std::string::npos) {
    status_ = "bad hub address " + address;
    co_return back_off;
  }
  auto c = std::make_shared<Connection>(io_);
  connection_ = c;
  c->on_push = [this, weak = std::weak_ptr<Connection>(c)](proto::Frame frame) {
    auto conn = weak.lock();
    if (!conn) return;
    if (frame.envelope.has_ratchet_due()) {
      conn->ratchet_due = true;
      conn->wake.cancel();
    } else if (frame.envelope.has_peer_delivery() && conn->up) {
      delegate_.OnDelivery(*this, frame.envelope.peer_delivery(), std::move(frame.trailer));
    } else if (frame.envelope.has_peers_ended() && conn->up) {
      delegate_.OnPeersEnded(*this, frame.envelope.peers_ended());
    }
  };

  boost::system::error_code ec;
  Tcp::resolver resolver(io_);
  const auto endpoints = co_await resolver.async_resolve(
      address.substr(0, colon), address.substr(colon + 1), asio::redirect_error(use_awaitable, ec));
  if (!ec) {
    c->ArmDeadline(options_.timeout);
    co_await asio::async_connect(c->socket, endpoints, asio::redirect_error(use_awaitable, ec));
  }
  if (ec || c->closed) {
    status_ = "unreachable (" + (ec ? ec.message() : std::string("timed out")) + ")";
    c->Close();
    co_return back_off;
  }
  c->socket.set_option(Tcp::no_delay(true), ec);
  const proto::ChannelIdentity id{state->hub.hub_id, state->hub.device_id, state->epoch};
  auto imported = proto::ImportChannelKey(id, state->key.Expose());
  auto context = crypto::TlsPskContext::SharedClient(options_.mode);
  if (!imported || !context) {
    status_ = "cannot set up TLS";
    c->Close();
    co_return back_off;
  }
  auto tls = crypto::TlsPskSession::NewClient(*context, std::move(imported->wire_identity),
                                              std::move(imported->psk));
  if (!tls) {
    status_ = "cannot set up TLS: " + tls.error().message;
    c->Close();
    co_return back_off;
  }
  c->tls = std::move(*tls);
  std::array<std::uint8_t, 16384> buffer{};
  for (;;) {
    auto done = c->tls->Handshake();
    if (!done) {
      status_ = "the hub refused the channel key (revoked, unknown or wrong epoch)";
      c->Close();
      co_return back_off;
    }
    c->Flush();
    if (*done) break;
    const std::size_t n = co_await c->socket.async_read_some(
        asio::buffer(buffer), asio::redirect_error(use_awaitable, ec));
    if (ec || !c->tls->PutCiphertext(std::span(buffer).first(n))) {
      status_ = "the hub refused the channel key (revoked, unknown or wrong epoch)";
      c->Close();
      co_return back_off;
    }
  }
  c->deadline.cancel();
  asio::co_spawn(io_, ReadLoop(c), asio::detached);

  if (state->epoch == 0) {
    // Not admitted: report (the nonce stored before it is sent), then
    // either wait for an admitter or take up epoch 1.
    auto drawn = DrawEnrolmentNonce(*state, entropy_);
    if (!drawn || (*drawn && !store_.SaveHub(*state))) {
      status_ = "cannot store the enrolment nonce";
      c->Close();
      co_return back_off;
    }
    const auto health = entropy_.Status();
    auto answer =
        co_await Call(c,
                      PreflightRequest(*state, health.operational ? R"({"operational":true})"
                                                                  : R"({"operational":false})"),
                      SecretBytes(), options_.timeout);
    c->Close();
    if (!answer) {
      status_ = "no answer to the pre-flight report";
      co_return back_off;
    }
    const auto& body = answer->envelope;
    if (body.has_error()) {
      status_ = "refused: " + body.error().code() + ": " + body.error().message();
      co_return options_.max_backoff;
    }
    if (body.has_preflight_result()) {
      state->status = body.preflight_result().state();
      (void)store_.SaveHub(*state);
      status_ = "awaiting admission";
      co_return options_.admission_poll;
    }
    auto admitted = AdmittedState(*state, body.admission_notice());
    if (!admitted || !store_.SaveHub(*admitted)) {
      status_ = "cannot take up the first channel key";
      co_return back_off;
    }
    epoch_ = admitted->epoch;
    status_ = "admitted";
    co_return milliseconds(0);
  }

  if (state->status != "active") {
    state->status = "active";
    (void)store_.SaveHub(*state);
  }
  c->up = true;
  status_ = "up";
  delegate_.OnLinkUp(*this);
  if (options_.entropy_bytes > 0 && !c->closed) {
    pb::Envelope request;
    request.mutable_entropy_request()->set_length(options_.entropy_bytes);
    auto answer = co_await Call(c, std::move(request), SecretBytes(), options_.timeout);
    // Hub entropy is additional input to the local DRBG, never its source.
    if (answer && answer->envelope.has_entropy_result())
      (void)entropy_.MixIn(answer->trailer.Expose());
  }
  while (!c->closed && !c->ratchet_due) {
    c->wake.expires_at(asio::steady_timer::time_point::max());
    co_await c->wake.async_wait(asio::redirect_error(use_awaitable, ec));
  }
  if (c->closed) {
    status_ = "the connection ended";
    co_return back_off;
  }
  // The hub says the channel key is due: ratchet, store, reconnect (the
  // next handshake proves the new epoch).
  c->up = false;
  ChannelNonce nonce{};
  if (!entropy_.Fill(nonce)) {
    c->Close();
    co_return back_off;
  }
  auto answer = co_await Call(c, RatchetRequest(nonce), SecretBytes(), options_.timeout);
  c->Close();
  if (!answer) {
    status_ = "no answer to the ratchet request";
    co_return back_off;
  }
  auto next = RatchetedState(*state, nonce, answer->envelope);
  if (!next) {
    status_ = "ratchet refused: " + next.error().message;
    co_return back_off;
  }
  CrashPoint("agent.ratchet.before-save");
  if (!store_.SaveHub(*next)) {
    status_ = "cannot store the new channel key";
    co_return back_off;
  }
  CrashPoint("agent.ratchet.after-save");
  epoch_ = next->epoch;
  co_return milliseconds(0);
}

}  // namespace skap::agent
