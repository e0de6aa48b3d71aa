#include "hub/registry/registry.h"

namespace skap::hub {

Registry::Registry(store::Database& db, keystore::Keystore& keystore, crypto::Rng& rng,
                   AuditLog& audit, std::string hub_id, Clock now)
    : context_{db, keystore, rng, audit, std::move(hub_id), std::move(now)},
      tenants_(context_),
      networks_(context_),
      operators_(context_, tenants_),
      channel_keys_(context_, [this](const std::string& id) { return devices_.Load(id); }),
      devices_(context_, tenants_, networks_, channel_keys_) {}

}  // namespace skap::hub
