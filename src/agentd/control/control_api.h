// What the agent's control socket serves (a Unix socket, mode 0600, so only
// the agent's user connects; net/http/server.h), as JSON, each request an
// endpoint API call (skap/endpoint.h):
//
//   GET  /v1/status                      device, hubs, entropy, sessions, agreements
//   GET  /v1/peers                       the active devices of this network (from a hub)
//   POST /v1/agreements {"peer","fresh","hybrid"}  agree a key with a peer (id or name);
//                                        answers when the agreement ends
//   POST /v1/keys/{peer}/next            the next key of the session with the peer
//   GET  /v1/keys/{peer}/{key_id}        the key of that id
//
// Without ?reveal=1 a key request only shows the key's id and fingerprint
// (JSON) and leaves the key where it is; with ?reveal=1 it hands the key out
// (erased here after), as text/plain (hex) with the id and fingerprint in
// headers, so a key never sits in a JSON value. With a peer channel a key by
// id goes only to this device's local consumers if the peer handed it out
// to its own (KeyUse): 403 if an SAE took it, 503 until the peer says.
// Errors are {"error","message"}.
#pragma once

#include "common/error.h"
#include "net/http/message.h"
#include "skap/endpoint.h"

namespace skap::agent {

// ControlFailure is the answer to a request that failed with `error`.
net::HttpResponse ControlFailure(const Error& error);

class ControlApi {
 public:
  explicit ControlApi(Endpoint& endpoint) : endpoint_(endpoint) {}

  // Handle answers `request` through `respond`, now or once it can.
  void Handle(const net::HttpRequest& request, const net::HttpRespond& respond);

 private:
  Endpoint& endpoint_;
};

}  // namespace skap::agent
