#include "keystore/file_keystore.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include <gtest/gtest.h>

#include "common/ct.h"
#include "common/hex.h"
#include "crypto/ctr_drbg.h"
#include "unit/temp_dir.h"

namespace skap::keystore {
namespace {

class FileKeystoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto rng = crypto::CtrDrbg::Create({});
    ASSERT_TRUE(rng);
    rng_ = std::move(*rng);
  }
  testing::TempDir dir_;
  std::unique_ptr<crypto::CtrDrbg> rng_;
};

TEST_F(FileKeystoreTest, CreatesAPrivateKekAndReopensIt) {
  const std::string path = dir_.File("kek");
  auto created = FileKeystore::Create(path, *rng_);
  ASSERT_TRUE(created) << created.error().message;
  struct stat st {};
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(st.st_size, 32);

  const std::vector<std::uint8_t> key(32, 0x5e);
  const WrapBinding binding{kPurposeHubKey, "audit-mac"};
  auto wrapped = (*created)->Wrap(key, binding);
  ASSERT_TRUE(wrapped);
  EXPECT_EQ(wrapped->size(), 40u);
  auto reopened = FileKeystore::Open(path);
  ASSERT_TRUE(reopened);
  auto unwrapped = (*reopened)->Unwrap(*wrapped, binding);
  ASSERT_TRUE(unwrapped);
  EXPECT_TRUE(ct::Equal(unwrapped->Expose(), key));
  EXPECT_EQ((*reopened)->Describe(), "file:" + path);
}

TEST_F(FileKeystoreTest, NeverReplacesAnExistingKek) {
  const std::string path = dir_.File("kek");
  ASSERT_TRUE(FileKeystore::Create(path, *rng_));
  auto again = FileKeystore::Create(path, *rng_);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, ErrorCode::kFailedPrecondition);
}

TEST_F(FileKeystoreTest, RefusesKeksOthersCanRead) {
  const std::string path = dir_.File("kek");
  ASSERT_TRUE(FileKeystore::Create(path, *rng_));
  ASSERT_EQ(chmod(path.c_str(), 0640), 0);
  auto opened = FileKeystore::Open(path);
  ASSERT_FALSE(opened);
  EXPECT_NE(opened.error().message.find("0600"), std::string::npos);
}

TEST_F(FileKeystoreTest, RefusesWrongSizesSymlinksAndMissingFiles) {
  const std::string short_path = dir_.File("short");
  { std::ofstream(short_path) << "too short"; }
  ASSERT_EQ(chmod(short_path.c_str(), 0600), 0);
  EXPECT_EQ(FileKeystore::Open(short_path).error().code, ErrorCode::kFailedPrecondition);

  const std::string real = dir_.File("kek");
  ASSERT_TRUE(FileKeystore::Create(real, *rng_));
  const std::string link = dir_.File("link");
  ASSERT_EQ(symlink(real.c_str(), link.c_str()), 0);
  EXPECT_FALSE(FileKeystore::Open(link)) << "a symlink could be swapped under the hub";
  EXPECT_EQ(FileKeystore::Open(dir_.File("absent")).error().code, ErrorCode::kIoError);
}

TEST_F(FileKeystoreTest, AnotherKekCannotUnwrap) {
  auto a = FileKeystore::Create(dir_.File("a"), *rng_);
  auto b = FileKeystore::Create(dir_.File("b"), *rng_);
  ASSERT_TRUE(a && b);
  const WrapBinding binding{kPurposeHubKey, "audit-mac"};
  auto wrapped = (*a)->Wrap(std::vector<std::uint8_t>(32, 1), binding);
  ASSERT_TRUE(wrapped);
  EXPECT_EQ((*b)->Unwrap(*wrapped, binding).error().code, ErrorCode::kAuthenticationFailed);
}

// A KEK of bytes 0..31, for the known answers below.
std::unique_ptr<FileKeystore> CountingKek(testing::TempDir& dir) {
  const std::string path = dir.File("counting.kek");
  {
    std::ofstream out(path, std::ios::binary);
    for (char c = 0; c < 32; ++c) out.put(c);
  }
  EXPECT_EQ(chmod(path.c_str(), 0600), 0);
  auto kek = FileKeystore::Open(path);
  EXPECT_TRUE(kek) << kek.error().message;
  return kek ? std::move(*kek) : nullptr;
}

// The known answers come from an independent computation with Python's
// `cryptography` (HKDF-SHA-256 with the info keystore.h gives, then
// aes_key_wrap_with_padding), key 32 × 0x5e, row lp32("device-1") ‖ lp32("3").
TEST_F(FileKeystoreTest, ABoundKeyMatchesTheIndependentDerivationAndUnwrapsNowhereElse) {
  const auto kek = CountingKek(dir_);
  ASSERT_TRUE(kek);
  const std::vector<std::uint8_t> key(32, 0x5e);
  const WrapBinding binding{kPurposeDeviceChannelKey, RowOf({"device-1", "3"})};
  auto wrapped = kek->Wrap(key, binding);
  ASSERT_TRUE(wrapped);
  EXPECT_EQ(HexEncode(*wrapped),
            "b6d0dd755506661bd0483eefbe68724bccb32127462eff1a421ba37047357919a259b87c11799653");
  // The same key wrapped under the bare KEK (how every key was stored before
  // bindings; RFC 5649 with the KEK itself).
  const auto unbound =
      HexDecode("2970df3193f1e67859df6fad2ecdf15f26a8999adb0d9f201f46a64d4887338d7135da0179a0cbff");
  ASSERT_TRUE(unbound);
  auto legacy = kek->UnwrapUnbound(*unbound);
  ASSERT_TRUE(legacy);
  EXPECT_TRUE(ct::Equal(legacy->Expose(), key));
  EXPECT_FALSE(kek->UnwrapUnbound(*wrapped)) << "a bound key is not an unbound one";
  EXPECT_FALSE(kek->Unwrap(*unbound, binding)) << "nor an unbound key a bound one";

  // The attack KWP alone allows: a database writer copies one row's wrapped
  // key into another row, or reads it as another column's key.
  ASSERT_TRUE(kek->Unwrap(*wrapped, binding));
  for (const WrapBinding& other : {WrapBinding{kPurposeDeviceChannelKey, RowOf({"device-2", "3"})},
                                   WrapBinding{kPurposeDeviceChannelKey, RowOf({"device-1", "4"})},
                                   WrapBinding{kPurposeOperatorAdminPsk, RowOf({"device-1", "3"})},
                                   WrapBinding{kPurposeDeviceChannelKey, RowOf({"device-13"})}}) {
    const auto unwrapped = kek->Unwrap(*wrapped, other);
    ASSERT_FALSE(unwrapped) << other.purpose;
    EXPECT_EQ(unwrapped.error().code, ErrorCode::kAuthenticationFailed);
  }
}

TEST(RowOfTest, NoTwoRowKeysJoinToTheSameText) {
  EXPECT_NE(RowOf({"ab", "c"}), RowOf({"a", "bc"}));
  EXPECT_NE(RowOf({"a"}), RowOf({"a", ""}));
  EXPECT_EQ(RowOf({"a", "b"}), RowOf({"a", "b"}));
}

}  // namespace
}  // namespace skap::keystore
