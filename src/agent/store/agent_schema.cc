#include "agent/store/agent_schema.h"

#include <array>

namespace skap::agent {
namespace {

// Version 1: pairwise agreements and sessions. Every secret column holds
// bytes wrapped under the local KEK (RFC 5649); the rest is public.
constexpr std::string_view kV1 = R"sql(
CREATE TABLE agreements (
  sid BLOB PRIMARY KEY,             -- the agreement's session id
  peer TEXT NOT NULL,               -- the other device's id
  role TEXT NOT NULL CHECK (role IN ('initiator', 'responder')),
  state TEXT NOT NULL CHECK (state IN ('running', 'confirmed', 'failed')),
  header BLOB NOT NULL,             -- AgreementHeader (channel.proto)
  public_state TEXT NOT NULL,       -- JSON: tags received and to send, blame, reason
  wrapped_secrets BLOB,             -- own contribution and shares, peer shares; NULL once ended
  expires_at_ms BIGINT NOT NULL,
  created_at_ms BIGINT NOT NULL,
  changed_at_ms BIGINT NOT NULL
);
CREATE INDEX agreements_state ON agreements (state, expires_at_ms);
CREATE TABLE sessions (
  peer TEXT PRIMARY KEY,
  epoch BIGINT NOT NULL,            -- e: agreements so far
  wrapped_root BLOB NOT NULL,       -- RK_e
  key_id_tag BLOB NOT NULL,         -- T_e (public)
  wrapped_chain BLOB NOT NULL,      -- CK_{e, next_index}
  next_index BIGINT NOT NULL,
  previous_epoch BIGINT,            -- e - 1, kept until the next re-seed, so the peer
  previous_key_id_tag BLOB,         -- can still fetch keys of it by id
  wrapped_previous_chain BLOB,
  previous_next_index BIGINT,
  keys_issued BIGINT NOT NULL,      -- since the last re-seed
  established_at_ms BIGINT NOT NULL,
  reseeded_at_ms BIGINT NOT NULL
);
-- Keys skipped over to reach a later key id, until the peer's consumer asks
-- for them (the bounded out-of-order window).
CREATE TABLE skipped_keys (
  peer TEXT NOT NULL,
  epoch BIGINT NOT NULL,
  idx BIGINT NOT NULL,
  wrapped_key BLOB NOT NULL,
  PRIMARY KEY (peer, epoch, idx)
);
)sql";

// Version 2: two chains per epoch, one per direction (docs/protocol.md,
// "Session"), so both endpoints may hand out keys at once. The chains of
// version 1 were derived differently and cannot be carried over: sessions
// start afresh with the next agreement (agreements themselves are kept).
constexpr std::string_view kV2 = R"sql(
DROP TABLE skipped_keys;
DROP TABLE sessions;
CREATE TABLE sessions (
  peer TEXT PRIMARY KEY,
  epoch BIGINT NOT NULL,            -- e: agreements so far
  wrapped_root BLOB NOT NULL,       -- RK_e
  previous_epoch BIGINT,            -- e - 1, whose chains stay until the next re-seed
  keys_issued BIGINT NOT NULL,      -- since the last re-seed
  established_at_ms BIGINT NOT NULL,
  reseeded_at_ms BIGINT NOT NULL
);
-- The chains of the current and the previous epoch, two each.
CREATE TABLE chains (
  peer TEXT NOT NULL,
  epoch BIGINT NOT NULL,
  direction INTEGER NOT NULL CHECK (direction IN (0, 1)),
  key_id_tag BLOB NOT NULL,         -- T_e (public)
  wrapped_chain BLOB NOT NULL,      -- CK_{e, d, next_index}
  next_index BIGINT NOT NULL,
  PRIMARY KEY (peer, epoch, direction)
);
-- Keys skipped over to reach a later key id, until the peer's consumer asks
-- for them (the bounded out-of-order window).
CREATE TABLE skipped_keys (
  peer TEXT NOT NULL,
  epoch BIGINT NOT NULL,
  direction INTEGER NOT NULL,
  idx BIGINT NOT NULL,
  wrapped_key BLOB NOT NULL,
  PRIMARY KEY (peer, epoch, direction, idx)
);
)sql";

// Version 3: the peer channel (docs/peer.md). Its secrets, PS_e per epoch
// held, are wrapped; the messages waiting for the peer's acknowledgement are
// not secret (key ids, SAE ids, confirmation tags) and are kept in clear.
constexpr std::string_view kV3 = R"sql(
CREATE TABLE peer_secrets (
  peer TEXT NOT NULL,
  epoch BIGINT NOT NULL,
  wrapped_secret BLOB NOT NULL,     -- PS_e
  PRIMARY KEY (peer, epoch)
);
-- Per peer and epoch: sealing counters, reserved in runs so that a restart
-- resumes past every counter that may have been used (nonces never
-- repeat), and the next message id.
CREATE TABLE peer_counters (
  peer TEXT NOT NULL,
  epoch BIGINT NOT NULL,
  reserved_until BIGINT NOT NULL,
  next_message_id BIGINT NOT NULL,
  PRIMARY KEY (peer, epoch)
);
-- Messages sent, kept until the peer acknowledges them or they expire.
CREATE TABLE peer_outbox (
  peer TEXT NOT NULL,
  epoch BIGINT NOT NULL,
  message_id BIGINT NOT NULL,
  body BLOB NOT NULL,               -- PeerMessage (peer.proto)
  expires_at_ms BIGINT NOT NULL,
  PRIMARY KEY (peer, epoch, message_id)
);
-- The peer's message ids acted on: all up to `through`, and those above it.
CREATE TABLE peer_delivered (
  peer TEXT NOT NULL,
  epoch BIGINT NOT NULL,
  through BIGINT NOT NULL,
  PRIMARY KEY (peer, epoch)
);
CREATE TABLE peer_delivered_ids (
  peer TEXT NOT NULL,
  epoch BIGINT NOT NULL,
  message_id BIGINT NOT NULL,
  PRIMARY KEY (peer, epoch, message_id)
);
-- Runs of keys the peer handed out to one of its SAEs, for a named SAE here
-- (the key-id sync of ETSI GS QKD 014).
CREATE TABLE peer_issued (
  peer TEXT NOT NULL,
  epoch BIGINT NOT NULL,
  direction INTEGER NOT NULL,
  first_index BIGINT NOT NULL,
  count BIGINT NOT NULL,
  master_sae TEXT NOT NULL,
  slave_sae TEXT NOT NULL,
  PRIMARY KEY (peer, epoch, direction, first_index)
);
)sql";

constexpr std::array kMigrations = {
    store::Migration{1, "pairwise agreements and sessions", kV1},
    store::Migration{2, "a chain per direction", kV2},
    store::Migration{3, "the peer channel", kV3},
};

}  // namespace

std::span<const store::Migration> AgentMigrations() { return kMigrations; }

}  // namespace skap::agent
