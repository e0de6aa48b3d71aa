#include "agent/hub/hub_channel.h"

#include <sys/socket.h>
#include <sys/time.h>

#include <array>
#include <utility>

#include <boost/asio.hpp>

#include "proto/channel_identity.h"

namespace skap::agent {
namespace {
namespace asio = boost::asio;
using Tcp = asio::ip::tcp;

}  // namespace

struct HubChannel::Impl {
  asio::io_context io;
  Tcp::socket socket{io};
  std::unique_ptr<crypto::TlsPskSession> tls;
  proto::FrameDecoder decoder;
  std::uint64_t next_id = 1;
  std::int64_t epoch = 0;
  std::vector<proto::Frame> pushes;

  Result<void> SendPending() {
    const auto bytes = tls->TakeCiphertext();
    if (bytes.empty()) return Ok();
    boost::system::error_code ec;
    asio::write(socket, asio::buffer(bytes), ec);
    if (ec) return Unexpected(ErrorCode::kIoError, "sending to the hub: " + ec.message());
    return Ok();
  }

  Result<void> ReceiveSome() {
    std::array<std::uint8_t, 16384> buffer{};
    boost::system::error_code ec;
    const std::size_t n = socket.read_some(asio::buffer(buffer), ec);
    if (ec) {
      return Unexpected(ErrorCode::kUnavailable, "the hub closed the channel: " + ec.message());
    }
    return tls->PutCiphertext(std::span(buffer).first(n));
  }
};

HubChannel::HubChannel(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HubChannel::~HubChannel() {
  if (impl_ && impl_->tls) {
    impl_->tls->Close();
    (void)impl_->SendPending();
  }
}

Result<std::unique_ptr<HubChannel>> HubChannel::Connect(const HubChannelState& state,
                                                        crypto::KeyExchangeMode mode,
                                                        std::chrono::seconds timeout) {
  const auto& address = state.hub.hub_address;
  const auto colon = address.rfind(':');
  if (colon == std::string::npos) {
    return Unexpected(ErrorCode::kInvalidArgument, "hub address must be host:port");
  }
  auto impl = std::make_unique<Impl>();
  impl->epoch = state.epoch;
  boost::system::error_code ec;
  Tcp::resolver resolver(impl->io);
  const auto endpoints = resolver.resolve(address.substr(0, colon), address.substr(colon + 1), ec);
  if (!ec) asio::connect(impl->socket, endpoints, ec);
  if (ec)
    return Unexpected(ErrorCode::kUnavailable, "cannot reach hub " + address + ": " + ec.message());
  // Small messages go out at once (no Nagle delay behind a delayed ACK).
  impl->socket.set_option(Tcp::no_delay(true), ec);
  // Blocking reads give up after `timeout`.
  const timeval tv{static_cast<time_t>(timeout.count()), 0};
  setsockopt(impl->socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);

  const proto::ChannelIdentity id{state.hub.hub_id, state.hub.device_id, state.epoch};
  SKAP_ASSIGN_OR_RETURN(auto imported, proto::ImportChannelKey(id, state.key.Expose()));
  SKAP_ASSIGN_OR_RETURN(auto context, crypto::TlsPskContext::SharedClient(mode));
  SKAP_ASSIGN_OR_RETURN(impl->tls,
                        crypto::TlsPskSession::NewClient(context, std::move(imported.wire_identity),
                                                         std::move(imported.psk)));
  // The hub answers a key it will not accept with an alert or by closing:
  // either way, say what it means.
  const Unexpected refused(ErrorCode::kAuthenticationFailed,
                           "the hub refused the channel key (revoked, unknown or wrong epoch)");
  for (;;) {
    auto done = impl->tls->Handshake();
    if (!done) return refused;
    SKAP_RETURN_IF_ERROR(impl->SendPending());
    if (*done) break;
    if (!impl->ReceiveSome()) return refused;
  }
  return std::unique_ptr<HubChannel>(new HubChannel(std::move(impl)));
}

Result<proto::Frame> HubChannel::Call(channel::v1::Envelope request) {
  const std::uint64_t id = impl_->next_id++;
  request.set_request_id(id);
  SKAP_ASSIGN_OR_RETURN(auto frame, proto::EncodeFrame(request));
  SKAP_RETURN_IF_ERROR(impl_->tls->Write(frame.Expose()));
  SKAP_RETURN_IF_ERROR(impl_->SendPending());
  for (;;) {
    SKAP_ASSIGN_OR_RETURN(auto next, impl_->decoder.Next());
    if (next.has_value()) {
      if (next->envelope.request_id() == id) return std::move(*next);
      if (next->envelope.request_id() == 0) impl_->pushes.push_back(std::move(*next));
      continue;  // an answer to an earlier request that was given up on
    }
    SKAP_RETURN_IF_ERROR(impl_->ReceiveSome());
    SKAP_ASSIGN_OR_RETURN(auto plaintext, impl_->tls->Read());
    impl_->decoder.Feed(plaintext.Expose());
    if (impl_->tls->peer_closed() && plaintext.empty()) {
      return Unexpected(ErrorCode::kUnavailable, "the hub closed the channel");
    }
  }
}

Result<void> HubChannel::Sync() {
  channel::v1::Envelope ping;
  ping.mutable_ping();
  SKAP_ASSIGN_OR_RETURN(auto pong, Call(std::move(ping)));
  if (!pong.envelope.has_pong()) {
    return Unexpected(ErrorCode::kMalformedInput, "the hub did not answer a ping with a pong");
  }
  return Ok();
}

std::vector<proto::Frame> HubChannel::TakePushes() { return std::exchange(impl_->pushes, {}); }

std::int64_t HubChannel::epoch() const { return impl_->epoch; }

bool HubChannel::used_dhe() const { return impl_->tls->used_dhe(); }

}  // namespace skap::agent
