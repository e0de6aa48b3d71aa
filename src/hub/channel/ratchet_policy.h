// When a device's channel key is due for a new epoch: by age, by the number
// of sessions opened with it, or because an operator asked.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

#include "hub/registry/registry.h"

namespace skap::hub {

// RatchetPolicy bounds how long and how often one epoch's key is used.
struct RatchetPolicy {
  std::chrono::seconds max_age{std::chrono::hours(24)};
  std::uint64_t max_sessions = 1000;  // 0: no bound by sessions
};

// RatchetDueReason names why the epoch is due ("operator", "age",
// "sessions"), or nullopt if it is not.
std::optional<std::string_view> RatchetDueReason(const RatchetPolicy& policy,
                                                 const EpochSchedule& schedule,
                                                 std::uint64_t sessions_at_epoch,
                                                 std::int64_t now_ms);

// MillisUntilAgeDue is how long until the epoch is due by age (0 if it is).
std::int64_t MillisUntilAgeDue(const RatchetPolicy& policy, const EpochSchedule& schedule,
                               std::int64_t now_ms);

}  // namespace skap::hub
