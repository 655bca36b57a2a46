#include "audit/progress.h"

#include <unistd.h>

#include <cstdio>

#include <fmt/format.h>

namespace flowgate::audit {

Progress::Progress(std::string label, std::int64_t total)
    : Progress(std::move(label), total, isatty(STDERR_FILENO) == 1) {}

Progress::Progress(std::string label, std::int64_t total, bool enabled)
    : label_(std::move(label)),
      total_(total),
      enabled_(enabled),
      start_(std::chrono::steady_clock::now()),
      last_(start_) {}

Progress::~Progress() { finish(); }

void Progress::draw(std::int64_t done, bool force) {
  auto now = std::chrono::steady_clock::now();
  if (!force && now - last_ < std::chrono::milliseconds(250)) return;
  last_ = now;
  double secs = std::chrono::duration<double>(now - start_).count();
  double rate = secs > 0 ? static_cast<double>(done) / secs : 0;
  std::string line;
  if (total_ > 0) {
    double pct = 100.0 * static_cast<double>(done) / static_cast<double>(total_);
    line = fmt::format("{}: {:L} / {:L} events ({:.0f}%), {:.0f} events/s", label_, done, total_,
                       pct > 100 ? 100.0 : pct, rate);
  } else {
    line = fmt::format("{}: {:L} events, {:.0f} events/s", label_, done, rate);
  }
  std::fprintf(stderr, "\r%s\033[K", line.c_str());
  std::fflush(stderr);
  drawn_ = true;
}

void Progress::finish() {
  if (drawn_) {
    std::fprintf(stderr, "\r\033[K");
    std::fflush(stderr);
    drawn_ = false;
  }
}

}  // namespace flowgate::audit
