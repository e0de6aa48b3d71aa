#include "keystore/keystore.h"

#include "common/byte_writer.h"

namespace skap::keystore {

std::string RowOf(std::initializer_list<std::string_view> parts) {
  std::vector<std::uint8_t> joined;
  for (const auto part : parts) AppendField32(joined, part);
  return {joined.begin(), joined.end()};
}

}  // namespace skap::keystore
