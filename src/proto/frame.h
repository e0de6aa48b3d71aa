// Framing of channel messages on the TLS stream:
//
//   length   4 bytes  big-endian, the bytes that follow (at most kMaxFrame)
//   version  1 byte   = 1
//   size     4 bytes  big-endian length of the protobuf Envelope
//   envelope protobuf skap.channel.v1.Envelope
//   trailer  the rest: secret bytes (entropy, shares) kept out of protobuf strings
//
// Only these carry a trailer, of exactly this size: an EntropyResult (its
// length), a ShareOffer and a PeerDelivery of a share (kShareTrailerSize).
#pragma once

#include <cstdint>
#include <optional>
#include <span>

#include "common/result.h"
#include "common/secret_bytes.h"
#include "proto/channel.pb.h"

namespace skap::proto {

// kFrameVersion is the framing version this code speaks.
inline constexpr std::uint8_t kFrameVersion = 1;
// kMaxFrame bounds a frame (after its length field): a peer cannot make the
// other side buffer more.
inline constexpr std::size_t kMaxFrame = std::size_t{64} * 1024;
// kShareTrailerSize is the size of a share y_i of a pairwise agreement.
inline constexpr std::size_t kShareTrailerSize = 32;

// Frame is one decoded message.
struct Frame {
  channel::v1::Envelope envelope;
  SecretBytes trailer;
};

// EncodeFrame frames `envelope` with `trailer` (empty unless the message is
// one of those above, and then of its size).
Result<SecretBytes> EncodeFrame(const channel::v1::Envelope& envelope,
                                std::span<const std::uint8_t> trailer = {});

// FrameDecoder splits a byte stream into frames. Any malformed or oversized
// frame is kMalformedInput and poisons the decoder (the connection must be
// closed: there is no resynchronising a stream).
class FrameDecoder {
 public:
  // Feed appends received bytes.
  void Feed(std::span<const std::uint8_t> bytes) { buffer_.Append(bytes); }
  // Next returns the next complete frame, nullopt if more bytes are needed.
  Result<std::optional<Frame>> Next();

 private:
  SecretBytes buffer_;
  std::size_t consumed_ = 0;
  bool poisoned_ = false;
};

}  // namespace skap::proto
