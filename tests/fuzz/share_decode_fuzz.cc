// Fuzz target for the share decoders (binary and text forms).
//
// Properties checked beyond "does not crash": whatever DecodeShare accepts
// re-encodes to exactly the same bytes, and the text form of an accepted
// share decodes back to the same share.
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string_view>

#include "common/ct.h"
#include "crypto/share_codec.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> input(data, size);

  if (auto share = skap::crypto::DecodeShare(input)) {
    auto again = skap::crypto::EncodeShare(*share);
    if (!again || !skap::ct::Equal(again->Expose(), input)) std::abort();
    auto text = skap::crypto::ShareToText(*share);
    if (!text) std::abort();
    const auto chars = text->Expose();
    auto back = skap::crypto::ShareFromText(
        std::string_view(reinterpret_cast<const char*>(chars.data()), chars.size()));
    if (!back || back->index != share->index || back->threshold != share->threshold ||
        !skap::ct::Equal(back->value.Expose(), share->value.Expose())) {
      std::abort();
    }
  }

  (void)skap::crypto::ShareFromText(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
