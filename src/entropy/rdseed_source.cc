#include "entropy/rdseed_source.h"

#include <cstring>

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>
#endif

namespace skap::entropy {
namespace {

#if defined(__x86_64__)
bool CpuHasRdseed() {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx) == 0) return false;
  return (ebx & (1u << 18)) != 0;
}

// RDSEED may report "no data yet" under load; Intel's guidance is to retry
// with a pause. Bounded so that a broken unit cannot hang the caller.
__attribute__((target("rdseed"))) bool ReadWord(unsigned long long* word) {
  for (int attempt = 0; attempt < 1024; ++attempt) {
    if (_rdseed64_step(word) == 1) return true;
    _mm_pause();
  }
  return false;
}
#endif

}  // namespace

Result<void> RdseedSource::Available() {
#if defined(__x86_64__)
  if (CpuHasRdseed()) return Ok();
#endif
  return Unexpected(ErrorCode::kUnavailable, "this CPU has no RDSEED instruction");
}

Result<void> RdseedSource::Read(std::span<std::uint8_t> out) {
#if defined(__x86_64__)
  if (!CpuHasRdseed()) {
    return Unexpected(ErrorCode::kUnavailable, "this CPU has no RDSEED instruction");
  }
  while (!out.empty()) {
    unsigned long long word = 0;
    if (!ReadWord(&word)) {
      return Unexpected(ErrorCode::kIoError, "RDSEED returned no data after 1024 attempts");
    }
    const std::size_t n = std::min(out.size(), sizeof(word));
    std::memcpy(out.data(), &word, n);
    out = out.subspan(n);
  }
  return Ok();
#else
  (void)out;
  return Unexpected(ErrorCode::kUnavailable, "RDSEED exists only on x86-64");
#endif
}

}  // namespace skap::entropy
