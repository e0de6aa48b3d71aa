// The agent daemon's channel to one hub, asynchronous on the daemon's
// io_context: it connects (TLS 1.3 external PSK), reports and takes up its
// key while not admitted, ratchets the channel key when the hub says it is
// due, draws hub entropy into the DRBG, and carries the agreement traffic:
// requests with their answers, and the hub's pushes. It reconnects with
// backoff whenever the connection ends. The steps are those of
// channel_steps.h, each new state stored before it is used.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>

#include <boost/asio.hpp>

#include "agent/hub/hub_port.h"
#include "agent/store/agent_dir.h"
#include "common/result.h"
#include "crypto/tls_psk.h"
#include "entropy/entropy_service.h"
#include "proto/frame.h"

namespace skap::agent {

// HubLinkOptions tune a link.
struct HubLinkOptions {
  crypto::KeyExchangeMode mode = crypto::kDefaultKeyExchange;
  std::chrono::milliseconds admission_poll{2000};  // how often a pending device asks again
  std::chrono::milliseconds max_backoff{10000};    // reconnect delay bound
  std::chrono::milliseconds timeout{10000};        // connect, handshake and each answer
  std::uint32_t entropy_bytes = 32;                // drawn from the hub at each link-up
};

class HubLink final : public HubPort {
 public:
  HubLink(boost::asio::io_context& io, AgentDir& store, std::string hub_id,
          entropy::EntropyService& entropy, HubLinkOptions options, HubPortListener& delegate);
  ~HubLink() override;
  HubLink(const HubLink&) = delete;
  HubLink& operator=(const HubLink&) = delete;

  // Start begins connecting (and reconnecting until Stop).
  void Start();
  // Stop closes the connection for good.
  void Stop();

  const std::string& hub_id() const override { return hub_id_; }
  // up is true while the link is authenticated for an admitted device.
  bool up() const override;
  // Status says where the link stands, for people.
  std::string Status() const;
  // epoch is the channel key epoch last used.
  std::int64_t epoch() const { return epoch_; }

  // Request sends `request` (with a secret `trailer`, for a share) and
  // calls `done` with the answer, or with kUnavailable if the link is down
  // or goes down first.
  void Request(channel::v1::Envelope request, SecretBytes trailer, Done done) override;

  struct Connection;

 private:
  boost::asio::awaitable<void> Run();
  boost::asio::awaitable<std::chrono::milliseconds> Session();

  boost::asio::io_context& io_;
  AgentDir& store_;
  std::string hub_id_;
  entropy::EntropyService& entropy_;
  HubLinkOptions options_;
  HubPortListener& delegate_;
  std::shared_ptr<Connection> connection_;
  std::shared_ptr<bool> alive_;
  boost::asio::steady_timer sleep_;
  std::string status_ = "starting";
  std::int64_t epoch_ = 0;
  bool stopped_ = false;
};

}  // namespace skap::agent
