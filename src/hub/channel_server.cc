#include "hub/channel_server.h"

#include <array>
#include <boost/asio.hpp>
#include <deque>
#include <map>
#include <thread>

#include <nlohmann/json.hpp>

#include "common/hex.h"
#include "crypto/tls_psk.h"
#include "proto/channel_identity.h"
#include "proto/frame.h"

namespace skap::hub {
namespace {

namespace asio = boost::asio;
using Tcp = asio::ip::tcp;
namespace pb = skap::channel::v1;

}  // namespace

class Connection;

struct ChannelServer::State : std::enable_shared_from_this<ChannelServer::State> {
  Registry* registry = nullptr;
  AuditLog* audit = nullptr;
  std::mutex* registry_mutex = nullptr;
  asio::io_context io;
  std::optional<Tcp::acceptor> acceptor;
  std::shared_ptr<crypto::TlsPskContext> tls;
  std::multimap<std::string, std::weak_ptr<Connection>> by_device;
  std::thread thread;

  void Accept();
  void CloseDevice(const std::string& device_id);
  void AuditRefusal(const std::string& actor, const std::string& target) {
    const std::lock_guard lock(*registry_mutex);
    (void)audit->Append(
        {actor, "channel.psk-failed", target, "refused:authentication-failed", "{}"});
  }
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(Tcp::socket socket, std::shared_ptr<ChannelServer::State> server)
      : socket_(std::move(socket)), server_(std::move(server)) {}

  Result<void> Start() {
    SKAP_ASSIGN_OR_RETURN(tls_, crypto::TlsPskSession::NewServer(server_->tls));
    Read();
    return Ok();
  }

  void Close() {
    if (closed_) return;
    closed_ = true;
    boost::system::error_code ignored;
    socket_.shutdown(Tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
  }

 private:
  void Read() {
    socket_.async_read_some(asio::buffer(buffer_),
                            [self = shared_from_this()](boost::system::error_code ec,
                                                        std::size_t n) { self->OnRead(ec, n); });
  }

  void OnRead(boost::system::error_code ec, std::size_t n) {
    if (ec || closed_) return Close();
    if (!tls_->PutCiphertext(std::span(buffer_).first(n))) return Close();
    if (!handshaken_) {
      auto done = tls_->Handshake();
      if (!done) {
        // A failed PSK is a security event: audit who it claimed to be.
        auto claimed =
            proto::ParseChannelIdentity(tls_->presented_identity(), server_->registry->hub_id());
        server_->AuditRefusal(claimed ? "device:" + claimed->device_id : "unknown-device",
                              claimed ? claimed->device_id : "");
        Flush();
        return Close();
      }
      if (*done) {
        handshaken_ = true;
        if (!OnHandshake()) return Close();
      }
    }
    if (handshaken_) {
      auto plaintext = tls_->Read();
      if (!plaintext) return Close();
      decoder_.Feed(plaintext->Expose());
      for (;;) {
        auto frame = decoder_.Next();
        if (!frame) return Close();  // malformed: no resynchronising a stream
        if (!frame->has_value()) break;
        Handle(**frame);
      }
      if (tls_->peer_closed()) {
        Flush();
        return Close();
      }
    }
    Flush();
    Read();
  }

  bool OnHandshake() {
    auto id = proto::ParseChannelIdentity(tls_->psk_identity(), server_->registry->hub_id());
    if (!id) return false;
    id_ = *id;
    server_->by_device.emplace(id_.device_id, weak_from_this());
    if (id_.epoch >= 1) {
      // This handshake proves the epoch: the previous key can go.
      const std::lock_guard lock(*server_->registry_mutex);
      (void)server_->registry->ConfirmEpoch(id_.device_id, id_.epoch);
    }
    return true;
  }

  void Reply(std::uint64_t request_id, pb::Envelope& envelope) {
    envelope.set_request_id(request_id);
    auto frame = proto::EncodeFrame(envelope);
    if (frame && tls_->Write(frame->Expose())) return;
    Close();
  }

  void Refuse(std::uint64_t request_id, const Error& error) {
    pb::Envelope e;
    e.mutable_error()->set_code(std::string(ErrorCodeName(error.code)));
    e.mutable_error()->set_message(error.message);
    Reply(request_id, e);
  }

  void Handle(const proto::Frame& frame) {
    const auto& in = frame.envelope;
    if (in.body_case() != pb::Envelope::kPreflight) {
      return Refuse(in.request_id(), {ErrorCode::kUnavailable, "not served by this hub yet"});
    }
    if (id_.epoch != 0) {
      return Refuse(in.request_id(), {ErrorCode::kFailedPrecondition, "already admitted"});
    }
    const auto& p = in.preflight();
    const nlohmann::json report{{"agent_version", p.agent_version()},
                                {"platform", p.platform()},
                                {"entropy_health", p.entropy_health()},
                                {"config_fingerprint", p.config_fingerprint()}};
    const std::lock_guard lock(*server_->registry_mutex);
    Principal hub = Principal::Hub();
    auto device = server_->registry->GetDevice(hub, id_.device_id);
    if (!device) return Refuse(in.request_id(), device.error());
    pb::Envelope out;
    if (device->state == DeviceState::kActive) {
      // Admitted since it last reported: hand over the hub's contribution.
      auto nonce = server_->registry->HubNonceFor(id_.device_id);
      if (!nonce) return Refuse(in.request_id(), nonce.error());
      out.mutable_admission_notice()->set_hub_nonce(std::string(nonce->begin(), nonce->end()));
      out.mutable_admission_notice()->set_epoch(1);
      return Reply(in.request_id(), out);
    }
    const auto& nonce = p.device_nonce();
    auto recorded = server_->registry->RecordPreflight(
        id_.device_id, report.dump(),
        {reinterpret_cast<const std::uint8_t*>(nonce.data()), nonce.size()});
    if (!recorded) return Refuse(in.request_id(), recorded.error());
    out.mutable_preflight_result()->set_state("pending");
    Reply(in.request_id(), out);
  }

  void Flush() {
    auto bytes = tls_->TakeCiphertext();
    if (bytes.empty() || closed_) return;
    const bool idle = queue_.empty();
    queue_.push_back(std::move(bytes));
    if (idle) Write();
  }

  void Write() {
    asio::async_write(socket_, asio::buffer(queue_.front()),
                      [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
                        self->queue_.pop_front();
                        if (ec) return self->Close();
                        if (!self->queue_.empty()) self->Write();
                      });
  }

  Tcp::socket socket_;
  std::shared_ptr<ChannelServer::State> server_;
  std::unique_ptr<crypto::TlsPskSession> tls_;
  proto::FrameDecoder decoder_;
  std::array<std::uint8_t, 16384> buffer_{};
  std::deque<std::vector<std::uint8_t>> queue_;
  proto::ChannelIdentity id_;
  bool handshaken_ = false;
  bool closed_ = false;
};

void ChannelServer::State::Accept() {
  acceptor->async_accept([self = shared_from_this()](boost::system::error_code ec, Tcp::socket s) {
    if (ec) return;  // stopped
    // A connection that cannot start is dropped; the server keeps accepting.
    (void)std::make_shared<Connection>(std::move(s), self)->Start();
    self->Accept();
  });
}

void ChannelServer::State::CloseDevice(const std::string& device_id) {
  auto [first, last] = by_device.equal_range(device_id);
  for (auto it = first; it != last; ++it) {
    if (auto c = it->second.lock()) c->Close();
  }
  by_device.erase(device_id);
}

ChannelServer::ChannelServer(std::shared_ptr<State> state) : state_(std::move(state)) {}
ChannelServer::~ChannelServer() { Stop(); }

Result<std::unique_ptr<ChannelServer>> ChannelServer::Start(Registry& registry, AuditLog& audit,
                                                            std::mutex& registry_mutex,
                                                            const ChannelServerOptions& options) {
  auto state = std::make_shared<State>();
  state->registry = &registry;
  state->audit = &audit;
  state->registry_mutex = &registry_mutex;
  std::weak_ptr<State> weak = state;
  // The PSK lookup runs inside the handshake, on the server thread.
  SKAP_ASSIGN_OR_RETURN(
      state->tls,
      crypto::TlsPskContext::CreateServer(
          [weak](std::span<const std::uint8_t> wire) -> Result<SecretBytes> {
            auto s = weak.lock();
            if (!s) return Unexpected(ErrorCode::kUnavailable, "stopping");
            SKAP_ASSIGN_OR_RETURN(auto id,
                                  proto::ParseChannelIdentity(wire, s->registry->hub_id()));
            const std::lock_guard lock(*s->registry_mutex);
            SKAP_ASSIGN_OR_RETURN(auto key, s->registry->ChannelKeyFor(id.device_id, id.epoch));
            SKAP_ASSIGN_OR_RETURN(auto imported, proto::ImportChannelKey(id, key.key.Expose()));
            return std::move(imported.psk);
          },
          options.allow_psk_only));
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(options.host, ec);
  if (ec) return Unexpected(ErrorCode::kInvalidArgument, "bad listen address " + options.host);
  state->acceptor.emplace(state->io);
  const Tcp::endpoint endpoint(address, options.port);
  state->acceptor->open(endpoint.protocol(), ec);
  if (!ec) state->acceptor->set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) state->acceptor->bind(endpoint, ec);
  if (!ec) state->acceptor->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return Unexpected(ErrorCode::kIoError, "device channel " + options.host + ":" +
                                               std::to_string(options.port) + ": " + ec.message());
  }
  // Revocation is immediate: open channels of the device are closed.
  registry.OnRevoked([weak](const std::string& device_id) {
    if (auto s = weak.lock()) asio::post(s->io, [s, device_id] { s->CloseDevice(device_id); });
  });
  state->Accept();
  state->thread = std::thread([s = state.get()] { s->io.run(); });
  return std::unique_ptr<ChannelServer>(new ChannelServer(std::move(state)));
}

std::uint16_t ChannelServer::port() const { return state_->acceptor->local_endpoint().port(); }

void ChannelServer::Stop() {
  if (!state_) return;
  asio::post(state_->io, [s = state_.get()] {
    boost::system::error_code ignored;
    s->acceptor->close(ignored);
    for (auto& [id, weak] : s->by_device) {
      if (auto c = weak.lock()) c->Close();
    }
    s->io.stop();
  });
  if (state_->thread.joinable()) state_->thread.join();
  state_.reset();
}

}  // namespace skap::hub
