// The anti-replay window of one peer's messages in one epoch (as in RFC
// 4303 §3.4.3): counters above the highest seen are new; of the 64 below
// it, those not marked yet are new; anything older is dropped. Both
// transports may deliver a message, and a resend may arrive after its ack
// went astray, so each counter is acted on once.
#pragma once

#include <cstdint>

namespace skap::peer {

struct ReplayWindow {
  static constexpr std::uint64_t kWidth = 64;
  std::uint64_t highest = 0;    // 0: nothing seen (counters start at 1)
  std::uint64_t seen_mask = 0;  // bit i: highest - i was seen

  // IsNew is true for a counter this window has not accepted yet.
  bool IsNew(std::uint64_t counter) const {
    if (counter == 0) return false;
    if (counter > highest) return true;
    const std::uint64_t behind = highest - counter;
    return behind < kWidth && (seen_mask & (std::uint64_t{1} << behind)) == 0;
  }
  // Mark records `counter` (which IsNew accepted).
  void Mark(std::uint64_t counter) {
    if (counter > highest) {
      const std::uint64_t shift = counter - highest;
      seen_mask = shift >= kWidth ? 0 : seen_mask << shift;
      seen_mask |= 1;
      highest = counter;
    } else {
      seen_mask |= std::uint64_t{1} << (highest - counter);
    }
  }
};

}  // namespace skap::peer
