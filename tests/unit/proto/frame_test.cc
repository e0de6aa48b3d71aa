#include "proto/frame.h"

#include <gtest/gtest.h>

namespace skap::proto {
namespace {

channel::v1::Envelope Preflight() {
  channel::v1::Envelope e;
  e.set_request_id(7);
  auto* p = e.mutable_preflight();
  p->set_agent_version("0.1.0");
  p->set_device_nonce(std::string(32, '\x01'));
  return e;
}

std::vector<std::uint8_t> Bytes(const SecretBytes& s) {
  return {s.Expose().begin(), s.Expose().end()};
}

TEST(FrameTest, RoundTripAcrossArbitrarySplits) {
  auto first = EncodeFrame(Preflight());
  channel::v1::Envelope entropy;
  entropy.set_request_id(8);
  entropy.mutable_entropy_result()->set_length(16);
  const std::vector<std::uint8_t> random(16, 0xab);
  auto second = EncodeFrame(entropy, random);
  ASSERT_TRUE(first && second);
  std::vector<std::uint8_t> stream = Bytes(*first);
  const auto tail = Bytes(*second);
  stream.insert(stream.end(), tail.begin(), tail.end());

  for (std::size_t step : {1u, 3u, 7u, 1000u}) {
    FrameDecoder decoder;
    std::vector<Frame> frames;
    for (std::size_t i = 0; i < stream.size(); i += step) {
      decoder.Feed(std::span(stream).subspan(i, std::min(step, stream.size() - i)));
      for (;;) {
        auto next = decoder.Next();
        ASSERT_TRUE(next) << next.error().message;
        if (!next->has_value()) break;
        frames.push_back(std::move(**next));
      }
    }
    ASSERT_EQ(frames.size(), 2u) << "step " << step;
    EXPECT_EQ(frames[0].envelope.preflight().agent_version(), "0.1.0");
    EXPECT_TRUE(frames[0].trailer.empty());
    EXPECT_EQ(frames[1].envelope.request_id(), 8u);
    EXPECT_EQ(Bytes(frames[1].trailer), random);
  }
}

TEST(FrameTest, TrailersOnlyWhereTheMessageSaysSo) {
  const std::vector<std::uint8_t> sneaky(4, 1);
  EXPECT_EQ(EncodeFrame(Preflight(), sneaky).error().code, ErrorCode::kMalformedInput);
  channel::v1::Envelope entropy;
  entropy.mutable_entropy_result()->set_length(8);
  EXPECT_FALSE(EncodeFrame(entropy, sneaky)) << "length must match";
}

TEST(FrameTest, MalformedStreamsAreRefusedAndStayRefused) {
  auto good = EncodeFrame(Preflight());
  ASSERT_TRUE(good);
  const auto bytes = Bytes(*good);

  auto refuse = [](std::vector<std::uint8_t> stream, const char* why) {
    FrameDecoder decoder;
    decoder.Feed(stream);
    auto next = decoder.Next();
    ASSERT_FALSE(next) << why;
    EXPECT_EQ(next.error().code, ErrorCode::kMalformedInput);
    EXPECT_FALSE(decoder.Next()) << "a broken stream stays broken";
  };
  auto huge = bytes;
  huge[0] = 0x7f;  // length far above kMaxFrame
  refuse(huge, "oversized");
  auto version = bytes;
  version[4] = 2;
  refuse(version, "version");
  auto inner = bytes;
  inner[8] = static_cast<std::uint8_t>(inner[8] + 1);  // envelope longer than the frame
  refuse(inner, "inner length");
  refuse({0, 0, 0, 1, 1}, "too short for its header");

  FrameDecoder partial;
  partial.Feed(std::span(bytes).first(bytes.size() - 1));
  auto waiting = partial.Next();
  ASSERT_TRUE(waiting);
  EXPECT_FALSE(waiting->has_value()) << "an incomplete frame waits for more bytes";
}

}  // namespace
}  // namespace skap::proto
