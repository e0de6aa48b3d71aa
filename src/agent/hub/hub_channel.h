// The device side of the hub channel: TCP, TLS 1.3 external PSK, frames.
// Blocking, with a timeout on every read; one request at a time.
#pragma once

#include <chrono>
#include <memory>
#include <vector>

#include "agent/hub/channel_steps.h"
#include "agent/store/hub_channel_state.h"
#include "common/result.h"
#include "crypto/tls_psk.h"
#include "proto/frame.h"

namespace skap::agent {

// HubChannel is one authenticated connection to the device's hub.
class HubChannel {
 public:
  // Connect opens the channel with the state's current epoch and key.
  static Result<std::unique_ptr<HubChannel>> Connect(
      const HubChannelState& state, crypto::KeyExchangeMode mode = crypto::kDefaultKeyExchange,
      std::chrono::seconds timeout = std::chrono::seconds(10));
  ~HubChannel();
  HubChannel(const HubChannel&) = delete;
  HubChannel& operator=(const HubChannel&) = delete;

  // Call sends `request` and returns the response with the same id. Pushes
  // from the hub that arrive meanwhile are kept for TakePushes.
  Result<proto::Frame> Call(channel::v1::Envelope request);
  // Sync sends a Ping and waits for the Pong: every push the hub sent before
  // it has then arrived.
  Result<void> Sync();
  // TakePushes returns the pushes received so far, oldest first.
  std::vector<proto::Frame> TakePushes();

  // epoch is the key epoch this channel authenticated with.
  std::int64_t epoch() const;

  // used_dhe reports whether the handshake used (EC)DHE.
  bool used_dhe() const;

  struct Impl;

 private:
  explicit HubChannel(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace skap::agent
