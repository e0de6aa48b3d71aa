// Keys at rest are bound to their row and purpose (keystore/keystore.h): the
// adversary is a database writer who moves wrapped keys between rows.
#include <gtest/gtest.h>

#include "common/ct.h"
#include "common/secret_file.h"
#include "crypto/key_wrap.h"
#include "hub/schema.h"
#include "keystore/file_keystore.h"
#include "keystore/keystore.h"
#include "unit/hub/registry/registry_fixture.h"

namespace skap::hub {
namespace {

store::Blob WrappedKeyOf(store::Database& db, const std::string& device_id,
                         const std::string& column = "wrapped_key") {
  auto rows = db.Query("SELECT " + column + " FROM channel_keys WHERE device_id = $1", {device_id});
  EXPECT_TRUE(rows && !rows->empty());
  return rows && !rows->empty() ? store::AsBlob((*rows)[0][0]).value_or(store::Blob{})
                                : store::Blob{};
}

TEST_F(RegistryTest, AWrappedKeyMovedToAnotherRowDoesNotUnwrap) {
  const BootstrapGrant a = Provision("sensor-a");
  const BootstrapGrant b = Provision("sensor-b");
  // A's bootstrap key written into B's row: B's key no longer unwraps, and
  // nobody holding A's bundle opens B's channel.
  ASSERT_TRUE(db_->Execute("UPDATE channel_keys SET wrapped_key = $1 WHERE device_id = $2",
                           {WrappedKeyOf(*db_, a.device.id), b.device.id}));
  const auto moved = registry_->channel_keys().KeyFor(b.device.id, 0);
  ASSERT_FALSE(moved);
  EXPECT_EQ(moved.error().code, ErrorCode::kAuthenticationFailed);
  const auto own = registry_->channel_keys().KeyFor(a.device.id, 0);
  ASSERT_TRUE(own);
  EXPECT_TRUE(ct::Equal(own->key.Expose(), a.bootstrap_key.Expose()));

  // Within one row: after admission the bootstrap key (epoch 0) is kept as
  // the previous key; put in place of epoch 1 it does not unwrap as epoch 1.
  Enrol(a);
  ASSERT_TRUE(registry_->channel_keys().KeyFor(a.device.id, 1));
  ASSERT_TRUE(
      db_->Execute("UPDATE channel_keys SET wrapped_key = previous_wrapped_key"
                   " WHERE device_id = $1",
                   {a.device.id}));
  EXPECT_EQ(registry_->channel_keys().KeyFor(a.device.id, 1).error().code,
            ErrorCode::kAuthenticationFailed);

  // An operator's admin PSK copied to another operator.
  ASSERT_TRUE(registry_->operators().AdminPsk("pat@acme"));
  ASSERT_TRUE(
      db_->Execute("UPDATE operators SET wrapped_admin_psk ="
                   " (SELECT wrapped_admin_psk FROM operators WHERE name = 'alice@acme') WHERE "
                   "name = 'pat@acme'"));
  EXPECT_EQ(registry_->operators().AdminPsk("pat@acme").error().code,
            ErrorCode::kAuthenticationFailed);
  EXPECT_TRUE(registry_->operators().AdminPsk("alice@acme"));
}

// A hub of schema version 9 wrapped every key under the bare KEK. Version 10
// rewraps each bound to its row; the keys stay the same keys.
TEST_F(RegistryTest, KeysWrappedBeforeBindingsAreBoundByTheUpgrade) {
  const BootstrapGrant a = Provision("sensor-a");
  const auto psk = registry_->operators().AdminPsk("alice@acme");
  ASSERT_TRUE(psk);
  // Back to version 9: the same keys, wrapped as version 9 wrapped them.
  const auto kek = ReadSecretFile(dir_.File("kek"));
  ASSERT_TRUE(kek);
  const auto unbound_key = crypto::WrapKey(kek->Expose(), a.bootstrap_key.Expose());
  ASSERT_TRUE(unbound_key);
  ASSERT_TRUE(db_->Execute("UPDATE channel_keys SET wrapped_key = $1 WHERE device_id = $2",
                           {store::Blob(*unbound_key), a.device.id}));
  auto operators = db_->Query("SELECT name FROM operators WHERE wrapped_admin_psk IS NOT NULL");
  ASSERT_TRUE(operators);
  for (const auto& row : *operators) {
    const std::string name = store::AsText(row[0]).value_or("");
    const auto each = registry_->operators().AdminPsk(name);
    ASSERT_TRUE(each) << name;
    const auto unbound = crypto::WrapKey(kek->Expose(), each->Expose());
    ASSERT_TRUE(unbound);
    ASSERT_TRUE(db_->Execute("UPDATE operators SET wrapped_admin_psk = $1 WHERE name = $2",
                             {store::Blob(*unbound), name}));
  }
  EXPECT_GE(operators->size(), 6u);
  // Version 11's changes undone.
  for (const char* column :
       {"pending_approval_by", "granted_by", "approved_by", "wrapped_token_part"}) {
    ASSERT_TRUE(db_->Execute(std::string("ALTER TABLE operators DROP COLUMN ") + column));
  }
  ASSERT_TRUE(db_->Execute("DROP TABLE dual_control"));
  ASSERT_TRUE(db_->Execute("DELETE FROM schema_migrations WHERE version >= 10"));
  EXPECT_FALSE(registry_->channel_keys().KeyFor(a.device.id, 0)) << "unbound keys are refused";

  const auto upgraded = store::Migrate(*db_, HubMigrations(*keystore_), SystemClock());
  ASSERT_TRUE(upgraded) << upgraded.error().message;
  EXPECT_EQ(*store::SchemaVersion(*db_), 12);
  const auto key = registry_->channel_keys().KeyFor(a.device.id, 0);
  ASSERT_TRUE(key) << key.error().message;
  EXPECT_TRUE(ct::Equal(key->key.Expose(), a.bootstrap_key.Expose()));
  const auto psk_after = registry_->operators().AdminPsk("alice@acme");
  ASSERT_TRUE(psk_after);
  EXPECT_TRUE(ct::Equal(psk_after->Expose(), psk->Expose()));
  EXPECT_FALSE(keystore_->UnwrapUnbound(WrappedKeyOf(*db_, a.device.id)))
      << "no unbound copy is left";

  // Once the hub runs on the bound store it refuses unbound keys for good
  // (HubNode::Open): a writer who rolls the schema back to plant an old
  // unbound key (their own device's, say) in another device's row stops the
  // upgrade instead of having it rebound.
  ASSERT_TRUE(keystore_->RefuseUnbound());
  const BootstrapGrant b = Provision("sensor-b");
  ASSERT_TRUE(db_->Execute("UPDATE channel_keys SET wrapped_key = $1 WHERE device_id = $2",
                           {store::Blob(*unbound_key), b.device.id}));
  // Version 11's changes undone.
  for (const char* column :
       {"pending_approval_by", "granted_by", "approved_by", "wrapped_token_part"}) {
    ASSERT_TRUE(db_->Execute(std::string("ALTER TABLE operators DROP COLUMN ") + column));
  }
  ASSERT_TRUE(db_->Execute("DROP TABLE dual_control"));
  ASSERT_TRUE(db_->Execute("DELETE FROM schema_migrations WHERE version >= 10"));
  const auto refused = store::Migrate(*db_, HubMigrations(*keystore_), SystemClock());
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("a key wrapped without its binding is refused"),
            std::string::npos)
      << refused.error().message;
  EXPECT_FALSE(registry_->channel_keys().KeyFor(b.device.id, 0));
  auto reopened = keystore::FileKeystore::Open(dir_.File("kek"));
  ASSERT_TRUE(reopened);
  EXPECT_FALSE((*reopened)->UnwrapUnbound(*unbound_key)) << "the refusal outlives the process";
}

}  // namespace
}  // namespace skap::hub
