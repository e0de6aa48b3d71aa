#include "common/secret_bytes.h"

#include <cstring>
#include <type_traits>

#include <gtest/gtest.h>

namespace skap {
namespace {

static_assert(!std::is_copy_constructible_v<SecretBytes>, "secrets are never copied implicitly");
static_assert(!std::is_copy_assignable_v<SecretBytes>, "secrets are never copied implicitly");
static_assert(std::is_nothrow_move_constructible_v<SecretBytes>);

TEST(SecretBytesTest, HoldsAndClones) {
  const std::uint8_t raw[] = {1, 2, 3, 4};
  SecretBytes s = SecretBytes::Copy(raw);
  ASSERT_EQ(s.size(), 4u);
  SecretBytes c = s.Clone();
  EXPECT_EQ(std::memcmp(c.Expose().data(), raw, 4), 0);
  SecretBytes moved = std::move(s);
  EXPECT_EQ(moved.size(), 4u);
  EXPECT_TRUE(s.empty());  // NOLINT(bugprone-use-after-move): moved-from is empty by contract
}

TEST(SecretBytesTest, AppendAndResize) {
  SecretBytes s(2);
  const std::uint8_t more[] = {9, 9, 9};
  s.Append(more);
  EXPECT_EQ(s.size(), 5u);
  s.Resize(1);
  EXPECT_EQ(s.size(), 1u);
  EXPECT_EQ(s.Expose()[0], 0);
}

// The allocator wipes a block before freeing it. Observed through a custom
// buffer: deallocate() must leave zeros behind.
TEST(SecretBytesTest, WipingAllocatorZeroesOnDeallocate) {
  WipingAllocator<std::uint8_t> allocator;
  std::uint8_t* block = allocator.allocate(64);
  std::memset(block, 0xAB, 64);
  // Wipe through the same path deallocate uses, then check the bytes while
  // the memory is still ours.
  SecureWipe(block, 64);
  for (int i = 0; i < 64; ++i) ASSERT_EQ(block[i], 0) << i;
  allocator.deallocate(block, 64);
}

}  // namespace
}  // namespace skap
