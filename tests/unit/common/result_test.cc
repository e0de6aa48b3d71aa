#include "common/result.h"

#include <memory>
#include <string>

#include <gtest/gtest.h>

namespace skap {
namespace {

Result<int> Half(int x) {
  if (x % 2 != 0) return Unexpected(ErrorCode::kInvalidArgument, "odd");
  return x / 2;
}

Result<int> Quarter(int x) {
  SKAP_ASSIGN_OR_RETURN(int half, Half(x));
  SKAP_ASSIGN_OR_RETURN(int quarter, Half(half));
  return quarter;
}

Result<void> CheckEven(int x) {
  SKAP_RETURN_IF_ERROR(Half(x));
  return Ok();
}

TEST(ResultTest, HoldsValueOrError) {
  auto ok = Half(8);
  ASSERT_TRUE(ok.has_value());
  EXPECT_EQ(*ok, 4);
  auto bad = Half(3);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(bad.error().message, "odd");
}

TEST(ResultTest, MacrosPropagateTheFirstError) {
  EXPECT_EQ(*Quarter(8), 2);
  auto failed = Quarter(6);  // 6 -> 3 -> odd
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().message, "odd");
  EXPECT_TRUE(CheckEven(2));
  EXPECT_FALSE(CheckEven(1));
}

TEST(ResultTest, MoveOnlyValues) {
  Result<std::unique_ptr<int>> r = std::make_unique<int>(7);
  ASSERT_TRUE(r);
  std::unique_ptr<int> p = std::move(r).value();
  EXPECT_EQ(*p, 7);
}

TEST(ResultTest, ErrorRendering) {
  EXPECT_EQ(ToString(Error{ErrorCode::kAuthenticationFailed, "authentication failed"}),
            "authentication-failed: authentication failed");
  EXPECT_EQ(ErrorCodeName(ErrorCode::kEntropyUnavailable), "entropy-unavailable");
}

}  // namespace
}  // namespace skap
