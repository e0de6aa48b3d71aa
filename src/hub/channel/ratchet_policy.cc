#include "hub/channel/ratchet_policy.h"

#include <algorithm>

namespace skap::hub {

std::int64_t MillisUntilAgeDue(const RatchetPolicy& policy, const EpochSchedule& schedule,
                               std::int64_t now_ms) {
  const std::int64_t due_at =
      schedule.started_at_ms +
      std::chrono::duration_cast<std::chrono::milliseconds>(policy.max_age).count();
  return std::max<std::int64_t>(0, due_at - now_ms);
}

std::optional<std::string_view> RatchetDueReason(const RatchetPolicy& policy,
                                                 const EpochSchedule& schedule,
                                                 std::uint64_t sessions_at_epoch,
                                                 std::int64_t now_ms) {
  if (schedule.operator_requested) return "operator";
  if (MillisUntilAgeDue(policy, schedule, now_ms) == 0) return "age";
  if (policy.max_sessions != 0 && sessions_at_epoch >= policy.max_sessions) return "sessions";
  return std::nullopt;
}

}  // namespace skap::hub
