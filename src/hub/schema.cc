#include "hub/schema.h"

#include <array>

namespace skap::hub {
namespace {

// Version 1: the audit log and the keys the hub keeps wrapped under its KEK.
constexpr std::string_view kV1 = R"sql(
CREATE TABLE hub_keys (
  name TEXT PRIMARY KEY,          -- e.g. 'audit-mac'
  wrapped BLOB NOT NULL,          -- RFC 5649 under the keystore's KEK
  created_at_ms BIGINT NOT NULL
);
CREATE TABLE audit_log (
  seq BIGINT PRIMARY KEY,         -- 1, 2, 3, ... without gaps
  at_ms BIGINT NOT NULL,
  actor TEXT NOT NULL,            -- operator name, 'device:<id>', or 'hub'
  action TEXT NOT NULL,           -- e.g. 'device.provision', 'channel.psk-failed'
  target TEXT NOT NULL,           -- what it was done to, '' if nothing
  outcome TEXT NOT NULL,          -- 'ok' or 'refused:<reason>'
  detail TEXT NOT NULL,           -- JSON without secrets
  mac BLOB NOT NULL               -- HMAC chain, see docs/hub.md
);
CREATE INDEX audit_log_at ON audit_log (at_ms);
CREATE INDEX audit_log_actor ON audit_log (actor);
CREATE INDEX audit_log_target ON audit_log (target);
-- The chain's head, updated in the same transaction as each entry, so that
-- cutting entries off the end is detected too.
CREATE TABLE audit_head (
  id BIGINT PRIMARY KEY CHECK (id = 1),
  seq BIGINT NOT NULL,
  mac BLOB NOT NULL
);
)sql";

// Version 2: the registry. Devices move provisioned -> pending -> active ->
// revoked, or pending -> rejected; revoked and rejected are final. A device's
// bootstrap key is its channel key of epoch 0.
constexpr std::string_view kV2 = R"sql(
CREATE TABLE hub_info (
  id BIGINT PRIMARY KEY CHECK (id = 1),
  hub_id TEXT NOT NULL,
  created_at_ms BIGINT NOT NULL
);
CREATE TABLE tenants (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  created_at_ms BIGINT NOT NULL
);
CREATE TABLE networks (
  id TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL REFERENCES tenants (id),
  name TEXT NOT NULL,
  created_at_ms BIGINT NOT NULL,
  UNIQUE (tenant_id, name)
);
CREATE TABLE operators (
  name TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL REFERENCES tenants (id),
  role TEXT NOT NULL CHECK (role IN ('tenant-admin', 'provisioner', 'admitter', 'auditor')),
  token_hash BLOB NOT NULL UNIQUE,  -- SHA-256 of the operator's 256-bit random token
  created_at_ms BIGINT NOT NULL,
  disabled BIGINT NOT NULL DEFAULT 0
);
CREATE TABLE devices (
  id TEXT PRIMARY KEY,              -- UUID
  network_id TEXT NOT NULL REFERENCES networks (id),
  name TEXT NOT NULL,
  state TEXT NOT NULL
    CHECK (state IN ('provisioned', 'pending', 'active', 'revoked', 'rejected')),
  can_provision BIGINT NOT NULL DEFAULT 0,
  provisioned_by TEXT NOT NULL,     -- operator name, or 'device:<id>' when delegated
  parent_device TEXT REFERENCES devices (id),
  admitted_by TEXT,
  bootstrap_expires_at_ms BIGINT NOT NULL,
  device_nonce BLOB,                -- the device's contribution, from its pre-flight report
  hub_nonce BLOB,                   -- the hub's contribution, drawn at admission
  preflight TEXT,                   -- JSON: agent version, platform, entropy health, config fingerprint
  created_at_ms BIGINT NOT NULL,
  changed_at_ms BIGINT NOT NULL,
  UNIQUE (network_id, name)
);
CREATE INDEX devices_state ON devices (network_id, state);
CREATE TABLE channel_keys (
  device_id TEXT PRIMARY KEY REFERENCES devices (id),
  epoch BIGINT NOT NULL,            -- 0: the bootstrap key
  wrapped_key BLOB NOT NULL,        -- RFC 5649 under the KEK
  previous_epoch BIGINT,            -- kept until the device proves `epoch`
  previous_wrapped_key BLOB,
  changed_at_ms BIGINT NOT NULL
);
)sql";

// Version 3: the channel key ratchet. The hub pushes a ratchet when an epoch
// is old enough (epoch_started_at_ms) or when an operator asked for one.
constexpr std::string_view kV3 = R"sql(
ALTER TABLE channel_keys ADD COLUMN epoch_started_at_ms BIGINT;
ALTER TABLE devices ADD COLUMN ratchet_requested BIGINT NOT NULL DEFAULT 0;
)sql";

// Version 4: the TLS admin listener. Each operator's admin epsk
// (proto/admin_identity.h), wrapped under the KEK; NULL for operators
// created before it, who keep the Unix socket until re-issued.
constexpr std::string_view kV4 = R"sql(
ALTER TABLE operators ADD COLUMN wrapped_admin_psk BLOB;
)sql";

// Version 5: pairwise agreements. Each network names its hubs and the
// threshold k of its agreements (set by the tenant admin at every hub) and,
// optionally, an allow-list of device pairs. The mailbox holds what one
// device sent for another: shares (wrapped under the KEK) and confirmation
// tags, until the recipient acknowledges them; then a tombstone without the
// share stays until the agreement expires, so a replay is recognised.
constexpr std::string_view kV5 = R"sql(
ALTER TABLE networks ADD COLUMN hub_set TEXT;   -- JSON array of hub ids, sorted; NULL: this hub alone
ALTER TABLE networks ADD COLUMN threshold BIGINT NOT NULL DEFAULT 1;
ALTER TABLE networks ADD COLUMN pair_policy TEXT NOT NULL DEFAULT 'any';  -- 'any' or 'allow-list'
CREATE TABLE allowed_pairs (
  network_id TEXT NOT NULL REFERENCES networks (id),
  device_low TEXT NOT NULL,         -- the two device ids, in ascending order
  device_high TEXT NOT NULL,
  created_at_ms BIGINT NOT NULL,
  PRIMARY KEY (network_id, device_low, device_high)
);
CREATE TABLE mailbox (
  sid BLOB NOT NULL,                -- the agreement's session id
  sender TEXT NOT NULL,             -- device id
  kind TEXT NOT NULL CHECK (kind IN ('share', 'confirm')),
  recipient TEXT NOT NULL,          -- device id
  message BLOB NOT NULL,            -- the ShareOffer or ConfirmOffer (public fields only)
  wrapped_share BLOB,               -- y_i, RFC 5649 under the KEK; NULL once delivered
  state TEXT NOT NULL CHECK (state IN ('pending', 'delivered')),
  expires_at_ms BIGINT NOT NULL,
  created_at_ms BIGINT NOT NULL,
  changed_at_ms BIGINT NOT NULL,
  PRIMARY KEY (sid, sender, kind)
);
CREATE INDEX mailbox_recipient ON mailbox (recipient, state);
CREATE INDEX mailbox_expiry ON mailbox (expires_at_ms);
)sql";

// Version 6: a device's channel key is one class's (hub/registry/
// channel_keys.h), its ratchet request too: the flag moves from devices to
// channel_keys, with its value.
constexpr std::string_view kV6 = R"sql(
ALTER TABLE channel_keys ADD COLUMN ratchet_requested BIGINT NOT NULL DEFAULT 0;
UPDATE channel_keys SET ratchet_requested =
  (SELECT d.ratchet_requested FROM devices d WHERE d.id = channel_keys.device_id);
ALTER TABLE devices DROP COLUMN ratchet_requested;
)sql";

constexpr std::array kMigrations = {
    store::Migration{1, "audit log and hub keys", kV1},
    store::Migration{2, "registry", kV2},
    store::Migration{3, "channel key ratchet", kV3},
    store::Migration{4, "operator admin psk", kV4},
    store::Migration{5, "pairwise agreements", kV5},
    store::Migration{6, "the ratchet request belongs to the channel key", kV6},
};

}  // namespace

std::span<const store::Migration> HubMigrations() { return kMigrations; }

}  // namespace skap::hub
