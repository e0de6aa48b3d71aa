// The device channel: TLS 1.3 with external PSKs on TCP, framed Protocol
// Buffers messages inside (proto/frame.h). Serves enrolment (pre-flight),
// admission, the channel key ratchet and entropy augmentation
// (docs/hub.md, "Device channel protocol"), and relays pairwise agreements
// (docs/protocol.md).
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "common/clock.h"
#include "common/result.h"
#include "entropy/entropy_service.h"
#include "hub/channel/agreement_relay.h"
#include "hub/channel/ratchet_policy.h"
#include "hub/registry/audit_log.h"
#include "hub/registry/registry.h"
#include "store/database.h"

namespace skap::hub {

// EntropyPolicy bounds what one device may draw from the hub's entropy
// service.
struct EntropyPolicy {
  std::uint32_t max_request_bytes = 1024;  // per request
  double bytes_per_second = 1024;          // sustained, per device
  double burst_bytes = 8192;               // saved up, per device
};

// ChannelServerOptions: where to listen, which key exchange to allow, and
// the ratchet and entropy policies.
struct ChannelServerOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 7443;   // 0 picks a free port (tests)
  bool allow_psk_only = true;  // false: require psk_dhe_ke
  RatchetPolicy ratchet;
  EntropyPolicy entropy;
};

// ChannelServer runs on its own thread. It holds `db` (Database::Hold) around
// every use of the registry, the relay and the audit log, as the admin API
// does; `now` is the hub's clock.
class ChannelServer {
 public:
  static Result<std::unique_ptr<ChannelServer>> Start(Registry& registry, AuditLog& audit,
                                                      entropy::EntropyService& entropy,
                                                      Relay& relay, store::Database& db,
                                                      const ChannelServerOptions& options,
                                                      Clock now);
  ~ChannelServer();
  ChannelServer(const ChannelServer&) = delete;
  ChannelServer& operator=(const ChannelServer&) = delete;

  // port is the bound port (useful with port 0).
  std::uint16_t port() const;
  // Stop closes every connection and joins the thread.
  void Stop();

  struct State;

 private:
  explicit ChannelServer(std::shared_ptr<State> state);
  std::shared_ptr<State> state_;
};

}  // namespace skap::hub
