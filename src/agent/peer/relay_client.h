// The MQTT v5 client of the peer relay (docs/peer.md, "Relay"), over
// libmosquitto. The connection runs on a thread of its own (connecting
// blocks), reconnecting with exponential backoff (1 s doubling to
// max_backoff); everything it reports is posted to the daemon's
// io_context, so the callbacks run on the daemon's thread.
//
// The session is persistent (clean start off, a session expiry), so the
// broker keeps QoS 1 messages for a subscriber that is offline; every
// message is published at QoS 1 with a message expiry interval.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "common/result.h"

namespace skap::peer {

struct RelayOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 1883;
  std::string username;   // empty: anonymous
  std::string password;   // not a key: the broker's own login, from a 0600 file
  std::string client_id;  // stable and pseudonymous (the daemon draws it once)
  std::chrono::seconds keepalive{30};
  std::chrono::seconds message_expiry{3600};
  std::chrono::seconds session_expiry{86400};
  std::chrono::seconds max_backoff{30};
};

class RelayClient {
 public:
  using OnMessage =
      std::function<void(const std::string& topic, std::vector<std::uint8_t> payload)>;
  using OnState = std::function<void(bool connected)>;

  // Start begins connecting; `on_message` and `on_state` run on `io`'s
  // thread.
  static Result<std::unique_ptr<RelayClient>> Start(boost::asio::io_context& io,
                                                    const RelayOptions& options,
                                                    OnMessage on_message, OnState on_state);
  ~RelayClient();
  RelayClient(const RelayClient&) = delete;
  RelayClient& operator=(const RelayClient&) = delete;

  // Stop disconnects and joins libmosquitto's thread.
  void Stop();
  bool connected() const;
  // Publish sends `payload` to `topic` at QoS 1; kUnavailable while not
  // connected (the caller keeps what it must resend).
  Result<void> Publish(const std::string& topic, std::span<const std::uint8_t> payload);
  // SetTopics subscribes to exactly `topics` (QoS 1), now and after every
  // reconnect.
  void SetTopics(const std::set<std::string>& topics);
  const std::string& status() const { return status_; }

  struct Shared;

 private:
  explicit RelayClient(std::shared_ptr<Shared> shared) : shared_(std::move(shared)) {}
  void Subscribe(const std::string& topic);
  std::shared_ptr<Shared> shared_;
  std::thread thread_;
  bool stopped_ = false;  // the daemon's own view: after Stop, nothing touches the client object
  std::set<std::string> topics_;
  std::string status_ = "connecting";
  friend struct RelayCallbacks;
};

}  // namespace skap::peer
