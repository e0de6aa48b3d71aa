#include "keystore/file_keystore.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include <gtest/gtest.h>

#include "common/ct.h"
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
  auto wrapped = (*created)->Wrap(key);
  ASSERT_TRUE(wrapped);
  EXPECT_EQ(wrapped->size(), 40u);
  auto reopened = FileKeystore::Open(path);
  ASSERT_TRUE(reopened);
  auto unwrapped = (*reopened)->Unwrap(*wrapped);
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
  auto wrapped = (*a)->Wrap(std::vector<std::uint8_t>(32, 1));
  ASSERT_TRUE(wrapped);
  EXPECT_EQ((*b)->Unwrap(*wrapped).error().code, ErrorCode::kAuthenticationFailed);
}

}  // namespace
}  // namespace skap::keystore
