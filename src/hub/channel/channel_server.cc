#include "hub/channel/channel_server.h"

#include <thread>

#include <boost/asio.hpp>

#include "hub/channel/channel_connection.h"
#include "net/acceptor.h"
#include "net/tcp_listener.h"

namespace skap::hub {
namespace {

namespace asio = boost::asio;
using Tcp = asio::ip::tcp;

// kPurgeInterval is how often expired agreements leave the mailbox.
constexpr std::chrono::seconds kPurgeInterval{10};

}  // namespace

struct ChannelServer::State {
  std::shared_ptr<ChannelServices> services;
  asio::io_context io;
  std::optional<Tcp::acceptor> acceptor;
  std::optional<asio::steady_timer> purge_timer;
  std::optional<asio::steady_timer> scrub_timer;
  std::thread thread;

  void SchedulePurge() {
    purge_timer->expires_after(kPurgeInterval);
    purge_timer->async_wait([this](boost::system::error_code ec) {
      if (ec) return;  // stopped
      {
        const auto held = services->db.Hold();
        (void)services->relay.Purge();
      }
      SchedulePurge();
    });
  }

  // ScheduleScrub keeps what the hub erased (shares delivered, channel keys
  // ratcheted past) out of the store's log once the hub goes quiet too.
  void ScheduleScrub() {
    scrub_timer->expires_after(store::Database::kScrubInterval);
    scrub_timer->async_wait([this](boost::system::error_code ec) {
      if (ec) return;  // stopped
      {
        const auto held = services->db.Hold();
        // Inside a batch (its close is queued behind this), the batch's
        // commit scrubs by itself once the interval has passed.
        if (!services->db.in_transaction()) (void)services->db.ScrubLog();
      }
      ScheduleScrub();
    });
  }
};

ChannelServer::ChannelServer(std::shared_ptr<State> state) : state_(std::move(state)) {}
ChannelServer::~ChannelServer() { Stop(); }

Result<std::unique_ptr<ChannelServer>> ChannelServer::Start(Registry& registry, AuditLog& audit,
                                                            entropy::EntropyService& entropy,
                                                            Relay& relay, store::Database& db,
                                                            const ChannelServerOptions& options,
                                                            Clock now) {
  auto state = std::make_shared<State>();
  state->services = std::make_shared<ChannelServices>(registry, audit, entropy, relay, db, options,
                                                      std::move(now));
  std::weak_ptr<ChannelServices> weak_services = state->services;
  // The PSK lookup runs inside the handshake, on the server thread.
  SKAP_ASSIGN_OR_RETURN(
      state->services->tls,
      crypto::TlsPskContext::CreateServer(
          [weak_services](std::span<const std::uint8_t> wire,
                          std::string_view client) -> Result<SecretBytes> {
            auto s = weak_services.lock();
            if (!s) return Unexpected(ErrorCode::kUnavailable, "stopping");
            SKAP_ASSIGN_OR_RETURN(auto id, proto::ParseChannelIdentity(wire, s->registry.hub_id()));
            // A claim spent by failures is refused before it takes the
            // database (ChannelConnection::OnRead counts it).
            if (s->auth_failures.Spent(client, id.device_id, MonotonicNowMs())) {
              return Unexpected(ErrorCode::kAuthenticationFailed, "too many failures");
            }
            const auto held = s->db.Hold();
            SKAP_ASSIGN_OR_RETURN(auto key,
                                  s->registry.channel_keys().KeyFor(id.device_id, id.epoch));
            SKAP_ASSIGN_OR_RETURN(auto imported, proto::ImportChannelKey(id, key.key.Expose()));
            return std::move(imported.psk);
          },
          options.allow_psk_only));
  state->acceptor.emplace(state->io);
  SKAP_RETURN_IF_ERROR(
      net::OpenTcpAcceptor(*state->acceptor, options.host, options.port, "device channel"));
  std::weak_ptr<State> weak = state;
  // Revocation is immediate: open channels of the device are closed, and
  // the connected devices of its network are told (the rest ask when they
  // connect: CheckPeers).
  registry.devices().OnRevoked([weak](const std::string& device_id) {
    if (auto s = weak.lock()) {
      asio::post(s->io, [s, device_id] {
        s->services->ForEachConnection(device_id, [](ChannelConnection& c) { c.Close(); });
        Result<std::vector<Device>> peers = Unexpected(ErrorCode::kUnavailable, "");
        {
          const auto held = s->services->db.Hold();
          peers = s->services->registry.devices().PeersOf(device_id);
        }
        if (!peers) return;
        for (const auto& peer : *peers) {
          s->services->ForEachConnection(
              peer.id, [&](ChannelConnection& c) { c.PushPeerEnded(device_id, "revoked"); });
        }
      });
    }
  });
  registry.devices().OnPairEnded([weak](const std::string& a, const std::string& b) {
    if (auto s = weak.lock()) {
      asio::post(s->io, [s, a, b] {
        s->services->ForEachConnection(
            a, [&](ChannelConnection& c) { c.PushPeerEnded(b, "disallowed"); });
        s->services->ForEachConnection(
            b, [&](ChannelConnection& c) { c.PushPeerEnded(a, "disallowed"); });
      });
    }
  });
  // An operator's ratchet request reaches a connected device at once.
  registry.devices().OnRatchetRequested([weak](const std::string& device_id) {
    if (auto s = weak.lock()) {
      asio::post(s->io, [s, device_id] {
        s->services->ForEachConnection(device_id,
                                       [](ChannelConnection& c) { c.PushRatchetDue("operator"); });
      });
    }
  });
  // `s`, not a shared_ptr: the loop still pending at Stop is destroyed with
  // the io_context inside this State, so it must not keep it alive.
  asio::co_spawn(
      state->io,
      net::AcceptLoop(
          *state->acceptor,
          [s = state.get()](Tcp::socket socket) {
            // A connection that cannot start is dropped.
            (void)std::make_shared<ChannelConnection>(std::move(socket), s->services)->Start();
          },
          "device channel"),
      asio::detached);
  state->purge_timer.emplace(state->io);
  state->SchedulePurge();
  state->scrub_timer.emplace(state->io);
  state->ScheduleScrub();
  state->thread = std::thread([s = state.get()] { s->io.run(); });
  return std::unique_ptr<ChannelServer>(new ChannelServer(std::move(state)));
}

std::uint16_t ChannelServer::port() const { return state_->acceptor->local_endpoint().port(); }

void ChannelServer::Stop() {
  if (!state_) return;
  asio::post(state_->io, [s = state_.get()] {
    // What the turn did is committed and answered before the connections
    // go (and before the batch could be left to another thread).
    s->services->CloseBatch();
    boost::system::error_code ignored;
    s->acceptor->close(ignored);
    s->purge_timer->cancel();
    s->scrub_timer->cancel();
    // Collect first: closing a connection edits `by_device`.
    std::vector<std::shared_ptr<ChannelConnection>> open;
    for (auto& [id, weak] : s->services->by_device) {
      if (auto c = weak.lock()) open.push_back(std::move(c));
    }
    for (const auto& c : open) c->Close();
    s->io.stop();
  });
  if (state_->thread.joinable()) state_->thread.join();
  state_.reset();
}

}  // namespace skap::hub
