// What the agreement engine needs of a channel to one hub, and what it hears
// from it. HubLink (hub_link.h) is the real one; unit tests wire engines to
// in-process hubs through the same two interfaces.
#pragma once

#include <functional>
#include <string>

#include "common/result.h"
#include "common/secret_bytes.h"
#include "proto/frame.h"

namespace skap::agent {

// HubPort sends requests to one hub.
class HubPort {
 public:
  using Done = std::function<void(Result<proto::Frame>)>;
  virtual ~HubPort() = default;
  // hub_id names the hub.
  virtual const std::string& hub_id() const = 0;
  // up is true while requests can reach the hub.
  virtual bool up() const = 0;
  // Request sends `request` (with a secret `trailer`, for a share) and calls
  // `done` later with the answer, or with kUnavailable if the hub cannot be
  // reached.
  virtual void Request(channel::v1::Envelope request, SecretBytes trailer, Done done) = 0;
};

// HubPortListener hears what the hubs bring.
class HubPortListener {
 public:
  virtual ~HubPortListener() = default;
  // OnLinkUp: the channel is authenticated for an admitted device; requests
  // may go out.
  virtual void OnLinkUp(HubPort& hub) = 0;
  // OnDelivery: the hub hands over a peer's offer (a share's y in `share`).
  virtual void OnDelivery(HubPort& hub, const channel::v1::PeerDelivery& delivery,
                          SecretBytes share) = 0;
  // OnPeersEnded: the hub says these peers no longer take part with this
  // device (pushed when it happens; CheckPeers asks on link-up).
  virtual void OnPeersEnded(HubPort& hub, const channel::v1::PeersEnded& ended) = 0;
};

}  // namespace skap::agent
