// The KME's private keys at rest: bound to their file names, and files of
// before bindings rewritten bound once (keystore/keystore.h).
#include "agentd/kme/kme_credentials.h"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include <gtest/gtest.h>

#include "common/ct.h"
#include "common/secret_file.h"
#include "crypto/ctr_drbg.h"
#include "crypto/key_wrap.h"
#include "keystore/file_keystore.h"
#include "unit/temp_dir.h"

namespace skap::kme {
namespace {

std::vector<std::uint8_t> Read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

void Write(const std::string& path, std::span<const std::uint8_t> bytes) {
  std::filesystem::remove(path);
  ASSERT_TRUE(WriteSecretFile(path, bytes));
}

TEST(KmeCredentialsTest, PrivateKeysAreBoundToTheirFilesAndOldFilesRewrittenOnce) {
  testing::TempDir dir;
  auto rng = std::move(*crypto::CtrDrbg::Create({}));
  auto kek = keystore::FileKeystore::Create(dir.File("local.kek"), *rng);
  ASSERT_TRUE(kek);
  ASSERT_TRUE(EnsureCredentials(dir.path(), **kek, {"localhost"}));
  auto loaded = LoadServerCredentials(dir.path(), **kek);
  ASSERT_TRUE(loaded) << loaded.error().message;
  const std::string server = dir.path() + "/etsi014/server.key.wrapped";
  const std::string ca = dir.path() + "/etsi014/ca.key.wrapped";

  // The CA's key in the server key's file does not unwrap there.
  Write(server, Read(ca));
  const auto swapped = LoadServerCredentials(dir.path(), **kek);
  ASSERT_FALSE(swapped);
  EXPECT_EQ(swapped.error().code, ErrorCode::kAuthenticationFailed);

  // A file of before bindings: the same key wrapped under the bare KEK.
  const auto raw = ReadSecretFile(dir.File("local.kek"));
  ASSERT_TRUE(raw);
  const auto unbound = crypto::WrapKey(raw->Expose(), loaded->server.private_key_der.Expose());
  ASSERT_TRUE(unbound);
  Write(server, *unbound);
  ASSERT_TRUE(BindCredentialFiles(dir.path(), **kek));
  EXPECT_NE(Read(server), *unbound) << "rewritten bound";
  EXPECT_FALSE((*kek)->UnwrapUnbound(Read(server)));
  auto again = LoadServerCredentials(dir.path(), **kek);
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_TRUE(
      ct::Equal(again->server.private_key_der.Expose(), loaded->server.private_key_der.Expose()));

  // Once the daemon has refused unbound keys, an unbound file is refused.
  ASSERT_TRUE((*kek)->RefuseUnbound());
  Write(server, *unbound);
  EXPECT_EQ(LoadServerCredentials(dir.path(), **kek).error().code,
            ErrorCode::kAuthenticationFailed);
  EXPECT_EQ(Read(server), *unbound) << "and left as it is";
}

}  // namespace
}  // namespace skap::kme
