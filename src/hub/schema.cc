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

constexpr std::array kMigrations = {
    store::Migration{1, "audit log and hub keys", kV1},
};

}  // namespace

std::span<const store::Migration> HubMigrations() { return kMigrations; }

}  // namespace skap::hub
