#include "common/shown.h"

#include <gtest/gtest.h>

namespace skap {
namespace {

// What a client, a peer or a hub put in a name or a reason reaches the
// terminal as text: control characters and malformed UTF-8 escaped, the
// rest as it was.
TEST(ShownTest, ControlCharactersAndMalformedUtf8AreEscaped) {
  EXPECT_EQ(Shown("sensor-1 (plant \xc3\xa9t\xc3\xa9)"), "sensor-1 (plant \xc3\xa9t\xc3\xa9)");
  EXPECT_EQ(Shown("\x1b[31mFAKE\x1b[0m"), "\\x1B[31mFAKE\\x1B[0m");
  EXPECT_EQ(Shown("a\nb\rc\x7f"), "a\\x0Ab\\x0Dc\\x7F");
  EXPECT_EQ(Shown("\xc2\x9b"
                  "2J"),
            "\\xC2\\x9B2J")
      << "C1 CSI in UTF-8";
  EXPECT_EQ(Shown("\x9b"
                  "2J"),
            "\\x9B2J")
      << "a lone 8-bit CSI";
  EXPECT_EQ(Shown("\xe2\x82"), "\\xE2\\x82") << "a truncated sequence";
  EXPECT_EQ(Shown(std::string("a\0b", 3)), "a\\x00b");
}

}  // namespace
}  // namespace skap
