#include "server/watch.h"

#include <algorithm>

namespace flowgate::server {

std::string workflow_of_instance(const std::string& instance_id) {
  auto dash = instance_id.rfind('-');
  return dash == std::string::npos ? instance_id : instance_id.substr(0, dash);
}

bool WatchFilter::matches(const EventRecord& e) const {
  if (!instance_id.empty() && e.instance_id != instance_id) return false;
  if (!workflow.empty() && workflow_of_instance(e.instance_id) != workflow) return false;
  if (types.empty()) return true;
  return std::any_of(types.begin(), types.end(), [&](const std::string& t) {
    if (t.size() >= 2 && t.ends_with(".*")) {
      return e.type.compare(0, t.size() - 1, t, 0, t.size() - 1) == 0;
    }
    return e.type == t;
  });
}

WatchCursor::WatchCursor(WatchFilter filter, std::optional<std::int64_t> after,
                         std::size_t live_buffer_limit)
    : filter_(std::move(filter)),
      position_(after.value_or(0)),
      started_(after.has_value()),
      limit_(std::max<std::size_t>(live_buffer_limit, 1)) {}

void WatchCursor::take(const EventRecord& e, const Emit& emit) {
  if (e.position <= position_) return;  // already emitted or skipped
  position_ = e.position;
  if (filter_.matches(e)) emit(e);
}

bool WatchCursor::try_go_live(ReadTicket ticket, const Emit& emit) {
  // Events dropped from the buffer after this read started may be missing from both.
  if (ticket.generation != drops_) return false;
  for (const auto& e : buffer_) take(e, emit);
  buffer_.clear();
  buffer_.shrink_to_fit();
  live_ = true;
  return true;
}

bool WatchCursor::on_start(ReadTicket ticket, std::int64_t last_position, const Emit& emit) {
  if (live_ || started_) return live_;
  started_ = true;
  position_ = last_position;
  return try_go_live(ticket, emit);
}

bool WatchCursor::on_page(ReadTicket ticket, std::span<const EventRecord> page,
                          std::size_t page_limit, const Emit& emit) {
  if (live_) return true;
  for (const auto& e : page) take(e, emit);
  if (page.size() >= page_limit) return false;  // more history to read
  return try_go_live(ticket, emit);
}

void WatchCursor::on_live(std::span<const EventRecord> events, const Emit& emit) {
  if (live_) {
    for (const auto& e : events) take(e, emit);
    return;
  }
  if (buffer_.size() + events.size() > limit_) {
    buffer_.clear();
    ++drops_;
    return;
  }
  buffer_.insert(buffer_.end(), events.begin(), events.end());
}

}  // namespace flowgate::server
