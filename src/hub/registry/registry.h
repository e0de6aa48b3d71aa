// The hub's registry: tenants, their networks and operators, the devices
// and their channel keys, each its own class over its own tables, with
// every change authorised, recorded in the audit log, and atomic. Registry
// holds the five, wired to one another, for the hub's surfaces (the admin
// API, the device channel, the agreement relay).
#pragma once

#include <string>

#include "common/clock.h"
#include "common/result.h"
#include "crypto/rng.h"
#include "hub/registry/audit_log.h"
#include "hub/registry/channel_keys.h"
#include "hub/registry/device.h"
#include "hub/registry/devices.h"
#include "hub/registry/networks.h"
#include "hub/registry/operators.h"
#include "hub/registry/principal.h"
#include "hub/registry/registry_context.h"
#include "hub/registry/tenants.h"
#include "keystore/keystore.h"
#include "store/database.h"

namespace skap::hub {

class Registry {
 public:
  Registry(store::Database& db, keystore::Keystore& keystore, crypto::Rng& rng, AuditLog& audit,
           std::string hub_id, Clock now);
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;
  Registry(Registry&&) = delete;
  Registry& operator=(Registry&&) = delete;
  ~Registry() = default;

  Tenants& tenants() { return tenants_; }
  Networks& networks() { return networks_; }
  Operators& operators() { return operators_; }
  Devices& devices() { return devices_; }
  ChannelKeys& channel_keys() { return channel_keys_; }

  const std::string& hub_id() const { return context_.hub_id; }

  // Refuse audits a refused action (in a transaction of its own) and
  // returns `error`: every refusal of the hub's components goes through it.
  Unexpected Refuse(const Principal& actor, const std::string& action, const std::string& target,
                    Error error) const {
    return context_.Refuse(actor, action, target, std::move(error));
  }

 private:
  RegistryContext context_;
  Tenants tenants_;
  Networks networks_;
  Operators operators_;
  ChannelKeys channel_keys_;
  Devices devices_;
};

}  // namespace skap::hub
