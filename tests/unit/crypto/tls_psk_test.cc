#include "crypto/tls_psk.h"

#include <gtest/gtest.h>

#include "common/ct.h"
#include "common/hex.h"
#include "crypto/psk_importer.h"

namespace skap::crypto {
namespace {

struct Endpoints {
  std::unique_ptr<TlsPskSession> client;
  std::unique_ptr<TlsPskSession> server;
};

// Pump moves bytes both ways until both handshakes finish or one fails.
Result<void> Pump(Endpoints& e) {
  bool client_done = false;
  bool server_done = false;
  for (int round = 0; round < 10 && !(client_done && server_done); ++round) {
    SKAP_ASSIGN_OR_RETURN(client_done, e.client->Handshake());
    SKAP_RETURN_IF_ERROR(e.server->PutCiphertext(e.client->TakeCiphertext()));
    SKAP_ASSIGN_OR_RETURN(server_done, e.server->Handshake());
    SKAP_RETURN_IF_ERROR(e.client->PutCiphertext(e.server->TakeCiphertext()));
  }
  if (!(client_done && server_done)) return Unexpected(ErrorCode::kIoError, "no progress");
  return Ok();
}

class TlsPskTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ImportedIdentity id;
    const std::string_view external = "device-7/epoch-1";
    const std::string_view context = "hub-a|device-7";
    id.external_identity.assign(external.begin(), external.end());
    id.context.assign(context.begin(), context.end());
    identity_ = *EncodeImportedIdentity(id);
    psk_ = std::move(*ImportPsk(channel_key_, id));
    auto server = TlsPskContext::CreateServer(
        [this](std::span<const std::uint8_t> presented, std::string_view) -> Result<SecretBytes> {
          ++lookups_;
          if (!std::equal(presented.begin(), presented.end(), identity_.begin(), identity_.end())) {
            return Unexpected(ErrorCode::kAuthenticationFailed, "unknown identity");
          }
          return psk_.Clone();
        });
    ASSERT_TRUE(server);
    server_context_ = *server;
  }

  Endpoints Connect(KeyExchangeMode mode, std::vector<std::uint8_t> identity, SecretBytes psk,
                    std::shared_ptr<TlsPskContext> server_context = nullptr) {
    auto client_context = TlsPskContext::CreateClient(mode);
    EXPECT_TRUE(client_context);
    Endpoints e;
    e.client =
        std::move(*TlsPskSession::NewClient(*client_context, std::move(identity), std::move(psk)));
    e.server =
        std::move(*TlsPskSession::NewServer(server_context ? server_context : server_context_));
    return e;
  }

  const std::vector<std::uint8_t> channel_key_ = std::vector<std::uint8_t>(32, 0x5a);
  std::vector<std::uint8_t> identity_;
  SecretBytes psk_;
  std::shared_ptr<TlsPskContext> server_context_;
  int lookups_ = 0;
};

TEST_F(TlsPskTest, PskOnlyHandshakeAndDataBothWays) {
  Endpoints e = Connect(KeyExchangeMode::kPskOnly, identity_, psk_.Clone());
  ASSERT_TRUE(Pump(e));
  EXPECT_FALSE(e.client->used_dhe()) << "psk_ke: no Diffie-Hellman";
  EXPECT_FALSE(e.server->used_dhe());
  EXPECT_EQ(e.server->psk_identity(), identity_);
  EXPECT_EQ(lookups_, 1);

  ASSERT_TRUE(e.client->Write(AsBytes("hello hub")));
  ASSERT_TRUE(e.server->PutCiphertext(e.client->TakeCiphertext()));
  auto got = e.server->Read();
  ASSERT_TRUE(got);
  EXPECT_EQ(std::string(got->Expose().begin(), got->Expose().end()), "hello hub");
  ASSERT_TRUE(e.server->Write(AsBytes("hello device")));
  ASSERT_TRUE(e.client->PutCiphertext(e.server->TakeCiphertext()));
  auto back = e.client->Read();
  ASSERT_TRUE(back);
  EXPECT_EQ(std::string(back->Expose().begin(), back->Expose().end()), "hello device");

  e.client->Close();
  ASSERT_TRUE(e.server->PutCiphertext(e.client->TakeCiphertext()));
  ASSERT_TRUE(e.server->Read());
  EXPECT_TRUE(e.server->peer_closed());
}

TEST_F(TlsPskTest, PskWithDheUsesX25519) {
  Endpoints e = Connect(KeyExchangeMode::kPskWithDhe, identity_, psk_.Clone());
  ASSERT_TRUE(Pump(e));
  EXPECT_TRUE(e.client->used_dhe());
  EXPECT_TRUE(e.server->used_dhe());
}

TEST_F(TlsPskTest, WrongKeyFails) {
  ImportedIdentity id = *DecodeImportedIdentity(identity_);
  auto wrong = ImportPsk(std::vector<std::uint8_t>(32, 0x5b), id);
  Endpoints e = Connect(KeyExchangeMode::kPskOnly, identity_, std::move(*wrong));
  auto result = Pump(e);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, ErrorCode::kAuthenticationFailed);
}

TEST_F(TlsPskTest, UnknownIdentityFails) {
  auto other = identity_;
  other[3] ^= 1;
  Endpoints e = Connect(KeyExchangeMode::kPskOnly, other, psk_.Clone());
  auto result = Pump(e);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, ErrorCode::kAuthenticationFailed);
  EXPECT_TRUE(e.server->psk_identity().empty());
  EXPECT_EQ(e.server->presented_identity(), other) << "kept for the audit log";
}

// What the server sends back to a ClientHello it refuses.
std::vector<std::uint8_t> RefusalOf(Endpoints& e) {
  EXPECT_FALSE(*e.client->Handshake());
  EXPECT_TRUE(e.server->PutCiphertext(e.client->TakeCiphertext()));
  auto done = e.server->Handshake();
  EXPECT_FALSE(done) << "the server refuses";
  return e.server->TakeCiphertext();
}

// A prober who can reach a listener must not learn which identities exist
// (device ids, NAME@TENANT): a live identity with a wrong key and an
// identity no lookup knows get the same bytes back.
TEST_F(TlsPskTest, AnUnknownIdentityIsRefusedExactlyAsAWrongKeyIs) {
  ImportedIdentity id = *DecodeImportedIdentity(identity_);
  auto wrong = ImportPsk(std::vector<std::uint8_t>(32, 0x5b), id);
  auto unknown = identity_;
  unknown[3] ^= 1;
  for (KeyExchangeMode mode : {KeyExchangeMode::kPskOnly, KeyExchangeMode::kPskWithDhe}) {
    SCOPED_TRACE(std::string(KeyExchangeModeName(mode)));
    Endpoints live = Connect(mode, identity_, wrong->Clone());
    Endpoints absent = Connect(mode, unknown, psk_.Clone());
    const auto to_live = RefusalOf(live);
    const auto to_absent = RefusalOf(absent);
    ASSERT_FALSE(to_live.empty()) << "an alert is sent";
    EXPECT_EQ(HexEncode(to_absent), HexEncode(to_live));
    EXPECT_TRUE(absent.server->psk_identity().empty()) << "the stand-in admits nobody";
  }
}

TEST_F(TlsPskTest, ServerCanRequireDhe) {
  auto strict = TlsPskContext::CreateServer(
      [this](std::span<const std::uint8_t>, std::string_view) -> Result<SecretBytes> {
        return psk_.Clone();
      },
      /*allow_psk_only=*/false);
  ASSERT_TRUE(strict);
  Endpoints refused = Connect(KeyExchangeMode::kPskOnly, identity_, psk_.Clone(), *strict);
  EXPECT_FALSE(Pump(refused));
  Endpoints accepted = Connect(KeyExchangeMode::kPskWithDhe, identity_, psk_.Clone(), *strict);
  ASSERT_TRUE(Pump(accepted));
  EXPECT_TRUE(accepted.server->used_dhe());
}

}  // namespace
}  // namespace skap::crypto
