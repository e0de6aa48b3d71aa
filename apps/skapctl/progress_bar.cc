#include "apps/skapctl/progress_bar.h"

#include <unistd.h>

#include <cstdio>

namespace skap::ctl {

ProgressBar::ProgressBar(std::string what, std::size_t total)
    : what_(std::move(what)), total_(total), terminal_(isatty(STDERR_FILENO) == 1) {}

void ProgressBar::Draw(std::size_t done) {
  constexpr std::size_t kWidth = 40;
  const std::size_t filled = total_ == 0 ? kWidth : done * kWidth / total_;
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double rate = seconds > 0 ? static_cast<double>(done) / seconds : 0;
  std::fprintf(stderr, "%s[%s%s] %zu/%zu %s (%.0f/s)%s", terminal_ ? "\r" : "",
               std::string(filled, '#').c_str(), std::string(kWidth - filled, '.').c_str(), done,
               total_, what_.c_str(), rate, terminal_ ? "" : "\n");
}

void ProgressBar::Update(std::size_t done) {
  const auto now = std::chrono::steady_clock::now();
  if (terminal_) {
    if (now - last_draw_ < std::chrono::milliseconds(100)) return;
    last_draw_ = now;
    Draw(done);
    return;
  }
  const std::size_t decile = total_ == 0 ? 10 : done * 10 / total_;
  if (decile > last_decile_) {
    last_decile_ = decile;
    Draw(done);
  }
}

void ProgressBar::Finish(std::size_t done) {
  if (terminal_) {
    Draw(done);
    std::fputc('\n', stderr);
  } else if (done * 10 / (total_ == 0 ? 1 : total_) > last_decile_ || total_ == 0) {
    Draw(done);
  }
}

}  // namespace skap::ctl
