// events.watch: which events a watcher wants (WatchFilter), and where it stands in the global
// event log (WatchCursor). The cursor moves a watcher from reading history out of the store to
// following live commits so that every matching event is emitted exactly once, in position order:
//
//   1. A cursor starts catching up after a position (the last one the client has), or "now".
//   2. Its owner reads the store page by page (begin_read() says after which position) and hands
//      each page to on_page(); "now" is read as the store's last position (on_start()).
//   3. Live commits may arrive at any time through on_live(). While catching up they are buffered
//      (bounded: past the bound the buffer is dropped, which costs only another store read).
//   4. A short page read after the last drop proves the store and the buffer overlap: the
//      buffered events after the cursor's position are emitted and the cursor is live.
// Events a filter rejects still move the position, so a resume position never re-sends them.
// Thread-safety: not thread-safe; the server drives each cursor from its I/O thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "store/records.h"

namespace flowgate::server {

struct WatchFilter {
  std::string workflow;            // "" = any
  std::string instance_id;         // "" = any
  std::vector<std::string> types;  // empty = any; "sla.*" matches every type with that prefix

  bool matches(const EventRecord& e) const;
};

// The workflow id of an instance id "<workflow>-<n>".
std::string workflow_of_instance(const std::string& instance_id);

class WatchCursor {
 public:
  using Emit = std::function<void(const EventRecord&)>;

  struct ReadTicket {
    std::int64_t after = 0;        // read events with position > after
    std::uint64_t generation = 0;  // live-buffer drops seen when the read was started
  };

  // `after` = nullopt starts at the newest position when the first read completes (on_start).
  WatchCursor(WatchFilter filter, std::optional<std::int64_t> after, std::size_t live_buffer_limit);

  bool live() const { return live_; }
  bool started() const { return started_; }
  // The last position emitted or skipped: a client resuming from here misses nothing.
  std::int64_t position() const { return position_; }
  const WatchFilter& filter() const { return filter_; }

  ReadTicket begin_read() const { return {position_, drops_}; }
  // For a cursor without a start position: the store's last position as read with `ticket`.
  // Returns true when the cursor went live.
  bool on_start(ReadTicket ticket, std::int64_t last_position, const Emit& emit);
  // A page of events_after(ticket.after, page_limit). Returns true when the cursor went live.
  bool on_page(ReadTicket ticket, std::span<const EventRecord> page, std::size_t page_limit,
               const Emit& emit);
  // Events of one commit, in position order.
  void on_live(std::span<const EventRecord> events, const Emit& emit);

 private:
  void take(const EventRecord& e, const Emit& emit);
  bool try_go_live(ReadTicket ticket, const Emit& emit);

  WatchFilter filter_;
  std::int64_t position_ = 0;
  bool started_ = true;
  bool live_ = false;
  std::size_t limit_;
  std::vector<EventRecord> buffer_;
  std::uint64_t drops_ = 0;
};

}  // namespace flowgate::server
