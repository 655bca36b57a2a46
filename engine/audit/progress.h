// Progress of a long run (verify, replay, export, report over millions of events) on stderr: a
// single line redrawn about four times a second, only when stderr is a terminal, so that logs and
// pipes stay quiet. Cheap enough to call for every event (the clock is read every 16,384 calls).
// Thread-safety: one object per thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace flowgate::audit {

class Progress {
 public:
  // `total` may be 0 when unknown. `enabled` defaults to isatty(stderr).
  Progress(std::string label, std::int64_t total);
  Progress(std::string label, std::int64_t total, bool enabled);
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  void tick(std::int64_t done) {
    if (enabled_ && (++calls_ & 0x3fff) == 0) draw(done, false);
  }
  // Clears the line (when one was drawn).
  void finish();
  bool enabled() const { return enabled_; }

 private:
  void draw(std::int64_t done, bool force);

  std::string label_;
  std::int64_t total_;
  bool enabled_;
  bool drawn_ = false;
  std::uint64_t calls_ = 0;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_;
};

}  // namespace flowgate::audit
