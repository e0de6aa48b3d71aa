// A progress bar on stderr for long operator actions (bulk provisioning).
// On a terminal it redraws one line; otherwise it prints a line every 10 %
// so logs stay readable.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

namespace skap::ctl {

class ProgressBar {
 public:
  ProgressBar(std::string what, std::size_t total);
  // Update shows `done` of the total (redrawn at most every 100 ms).
  void Update(std::size_t done);
  // Finish draws the final state and ends the line.
  void Finish(std::size_t done);

 private:
  void Draw(std::size_t done);
  std::string what_;
  std::size_t total_;
  bool terminal_;
  std::size_t last_decile_ = 0;
  std::chrono::steady_clock::time_point last_draw_{};
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

}  // namespace skap::ctl
