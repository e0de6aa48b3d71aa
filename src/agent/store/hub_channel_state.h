// A device's durable state towards one hub: which hub, which epoch, which
// key. Written atomically (temporary file, fsync, rename, fsync of the
// directory), mode 0600, so a crash leaves either the old state or the new
// one, never half.
//
// File format, version 2:
//   magic "SKS2" ‖ u32 length ‖ JSON (public: hub facts, epoch, status)
//   ‖ u16 length ‖ channel key wrapped under the local KEK (RFC 5649)
//   ‖ u16 length ‖ enrolment nonce wrapped likewise (length 0: none)
#pragma once

#include <cstdint>
#include <string>

#include "common/result.h"
#include "common/secret_bytes.h"
#include "keystore/keystore.h"
#include "proto/bundle.h"

namespace skap::agent {

// HubChannelState is what the agent keeps between runs.
struct HubChannelState {
  proto::BundleInfo hub;            // from the bootstrap bundle
  std::int64_t epoch = 0;           // epoch of `key`; 0 = bootstrap key
  SecretBytes key;                  // channel key of `epoch`
  SecretBytes enrolment_nonce;      // sent in the pre-flight report, until admitted
  std::string status = "enrolled";  // enrolled, pending, active

  // Clone returns an explicit copy (the keys are copied too).
  HubChannelState Clone() const {
    return {hub, epoch, key.Clone(), enrolment_nonce.Clone(), status};
  }
};

// SaveHubChannelState replaces the state file at `path` atomically, its secrets
// wrapped under `kek`.
Result<void> SaveHubChannelState(const std::string& path, const HubChannelState& state,
                                 keystore::Keystore& kek);
// LoadHubChannelState reads it back.
Result<HubChannelState> LoadHubChannelState(const std::string& path, keystore::Keystore& kek);

}  // namespace skap::agent
