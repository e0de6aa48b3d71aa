// Which of a peer's messages (of one epoch) this side has acted on, by the
// message id the sender gave each (peer.proto): every id up to `through`,
// and the ids above it that came early. A message is acted on once however
// late, often or out of order it arrives: a resend after a restart, a
// broker's redelivery, a replayed capture. The sender's low-water mark lets
// `through` pass ids it gave up (expired), so the set above stays small.
// The sealing counter is not the id: a resend is sealed under a fresh
// counter, so no window of counters can turn a late resend away.
#pragma once

#include <cstdint>
#include <set>

namespace skap::agent {

struct DeliveryLog {
  std::uint64_t through = 0;
  std::set<std::uint64_t> above;

  // Seen is true for an id already acted on (0 is no message's id).
  bool Seen(std::uint64_t id) const { return id == 0 || id <= through || above.contains(id); }
  // Accept records `id` as acted on.
  void Accept(std::uint64_t id) {
    if (id > through) above.insert(id);
    Compact();
  }
  // GiveUpBelow forgets ids below `low_water`: the sender holds none of them.
  void GiveUpBelow(std::uint64_t low_water) {
    if (low_water > through + 1) {
      through = low_water - 1;
      above.erase(above.begin(), above.upper_bound(through));
    }
    Compact();
  }

 private:
  void Compact() {
    while (!above.empty() && *above.begin() == through + 1) {
      above.erase(above.begin());
      ++through;
    }
  }
};

}  // namespace skap::agent
