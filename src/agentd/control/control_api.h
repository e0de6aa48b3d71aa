// What the agent's control socket serves (a Unix socket, mode 0600, so only
// the agent's user connects; net/http/server.h), as JSON:
//
//   GET  /v1/status                      device, hubs, entropy, sessions, agreements
//   GET  /v1/peers                       the active devices of this network (from a hub)
//   POST /v1/agreements {"peer","fresh","hybrid"}  agree a key with a peer (id or name);
//                                        answers when the agreement ends
//   POST /v1/keys/{peer}/next            the next key of the session with the peer
//   GET  /v1/keys/{peer}/{key_id}        the key of that id
//
// A key answer carries its id and fingerprint; with ?reveal=1 it carries the
// key itself, as text/plain (hex) with the id and fingerprint in headers, so
// a key never sits in a JSON value. Errors are {"error","message"}.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "agent/agreement_engine.h"
#include "agent/hub/hub_link.h"
#include "agent/peer/peer_channel.h"
#include "agent/store/session_store.h"
#include "agentd/ppk/ppk_installer.h"
#include "entropy/entropy_service.h"
#include "net/http/message.h"

namespace skap::agent {

// ControlFailure is the answer to a request that failed with `error`.
net::HttpResponse ControlFailure(const Error& error);

class ControlApi {
 public:
  // `hybrid_default` is what an agreement request without "hybrid" gets.
  ControlApi(AgreementEngine& engine, SessionStore& sessions, std::vector<HubLink*> links,
             entropy::EntropyService& entropy, bool hybrid_default)
      : engine_(engine),
        sessions_(sessions),
        links_(std::move(links)),
        entropy_(entropy),
        hybrid_default_(hybrid_default) {}

  // SetPeerChannel adds the peer channel's state to status answers.
  void SetPeerChannel(PeerChannel* channel) { peer_channel_ = channel; }
  // SetPpkStatus adds the IPsec PPKs' state to status answers.
  void SetPpkStatus(std::function<std::vector<ppk::PpkState>()> ppk_status) {
    ppk_status_ = std::move(ppk_status);
  }

  // Handle answers `request` through `respond`, now or once it can.
  void Handle(const net::HttpRequest& request, const net::HttpRespond& respond);

 private:
  struct Peer {
    std::string id;
    std::string name;
  };
  using PeersDone = std::function<void(Result<std::vector<Peer>>)>;
  // ListPeers asks a reachable hub for this network's active devices.
  void ListPeers(PeersDone done);
  // ResolvePeer turns a device id or name into the device id.
  void ResolvePeer(const std::string& id_or_name, std::function<void(Result<Peer>)> done);
  net::HttpResponse Status();
  static net::HttpResponse Key(const Result<IssuedKey>& key, bool reveal);

  AgreementEngine& engine_;
  SessionStore& sessions_;
  std::vector<HubLink*> links_;
  entropy::EntropyService& entropy_;
  bool hybrid_default_;
  std::function<std::vector<ppk::PpkState>()> ppk_status_;
  PeerChannel* peer_channel_ = nullptr;
};

}  // namespace skap::agent
