#include "proto/frame.h"

#include <algorithm>
#include <string>

#include "common/hex.h"

namespace skap::proto {
namespace {

constexpr std::size_t kHeader = 4;  // the length field
constexpr std::size_t kInner = 5;   // version and envelope size

// PutU32 writes `v` big-endian at `at` and returns the position after it.
std::uint8_t* PutU32(std::uint8_t* at, std::size_t v) {
  *at++ = static_cast<std::uint8_t>(v >> 24);
  *at++ = static_cast<std::uint8_t>(v >> 16);
  *at++ = static_cast<std::uint8_t>(v >> 8);
  *at++ = static_cast<std::uint8_t>(v);
  return at;
}

std::size_t GetU32(std::span<const std::uint8_t> b) {
  return (std::size_t{b[0]} << 24) | (std::size_t{b[1]} << 16) | (std::size_t{b[2]} << 8) | b[3];
}

// ExpectedTrailer is the size of the secret trailer `envelope` must carry.
std::size_t ExpectedTrailer(const channel::v1::Envelope& envelope) {
  switch (envelope.body_case()) {
    case channel::v1::Envelope::kEntropyResult:
      return envelope.entropy_result().length();
    case channel::v1::Envelope::kShareOffer:
      return kShareTrailerSize;
    case channel::v1::Envelope::kPeerDelivery:
      return envelope.peer_delivery().has_share() ? kShareTrailerSize : 0;
    default:
      return 0;
  }
}

Result<void> CheckTrailer(const channel::v1::Envelope& envelope, std::size_t trailer) {
  if (trailer != ExpectedTrailer(envelope)) {
    return Unexpected(ErrorCode::kMalformedInput, "frame: trailer does not match the message");
  }
  return Ok();
}

}  // namespace

Result<SecretBytes> EncodeFrame(const channel::v1::Envelope& envelope,
                                std::span<const std::uint8_t> trailer) {
  SKAP_RETURN_IF_ERROR(CheckTrailer(envelope, trailer.size()));
  std::string serialized;
  if (!envelope.SerializeToString(&serialized)) {
    return Unexpected(ErrorCode::kInvalidArgument, "frame: message does not serialise");
  }
  const std::size_t length = kInner + serialized.size() + trailer.size();
  if (length > kMaxFrame) {
    return Unexpected(ErrorCode::kInvalidArgument, "frame: message too large");
  }
  // Sized once and filled in place: no reallocation leaves copies behind.
  SecretBytes out(kHeader + length);
  std::uint8_t* at = PutU32(out.MutableExpose().data(), length);
  *at++ = kFrameVersion;
  at = PutU32(at, serialized.size());
  at = std::copy(serialized.begin(), serialized.end(), at);
  std::copy(trailer.begin(), trailer.end(), at);
  SecureWipe(serialized.data(), serialized.size());
  return out;
}

Result<std::optional<Frame>> FrameDecoder::Next() {
  if (poisoned_) return Unexpected(ErrorCode::kMalformedInput, "frame: stream already broken");
  auto fail = [&](const char* why) {
    poisoned_ = true;
    return Unexpected(ErrorCode::kMalformedInput, std::string("frame: ") + why);
  };
  const auto pending = buffer_.Expose().subspan(consumed_);
  if (pending.size() < kHeader) return std::optional<Frame>();
  const std::size_t length = GetU32(pending);
  if (length < kInner || length > kMaxFrame) return fail("bad length");
  if (pending.size() < kHeader + length) return std::optional<Frame>();
  const auto body = pending.subspan(kHeader, length);
  if (body[0] != kFrameVersion) return fail("unknown version");
  const std::size_t envelope_size = GetU32(body.subspan(1));
  if (envelope_size > length - kInner) return fail("envelope larger than the frame");
  Frame frame;
  if (!frame.envelope.ParseFromArray(body.data() + kInner, static_cast<int>(envelope_size))) {
    return fail("envelope does not parse");
  }
  const auto trailer = body.subspan(kInner + envelope_size);
  if (!CheckTrailer(frame.envelope, trailer.size()))
    return fail("trailer does not match the message");
  frame.trailer = SecretBytes::Copy(trailer);
  consumed_ += kHeader + length;
  // Drop consumed bytes now and then, so the buffer does not grow forever.
  if (consumed_ > kMaxFrame) {
    SecretBytes rest = SecretBytes::Copy(buffer_.Expose().subspan(consumed_));
    buffer_ = std::move(rest);
    consumed_ = 0;
  }
  return std::optional<Frame>(std::move(frame));
}

}  // namespace skap::proto
