// events.watch: filters, and the move from reading history to following live commits without a
// gap or a duplicate, under every interleaving the server allows.
#include <catch2/catch.hpp>

#include <deque>
#include <optional>
#include <random>
#include <vector>

#include "server/watch.h"

using namespace flowgate;
using namespace flowgate::server;

namespace {

EventRecord event(std::int64_t position, std::string instance, std::string type) {
  EventRecord e;
  e.position = position;
  e.instance_id = std::move(instance);
  e.type = std::move(type);
  return e;
}

}  // namespace

TEST_CASE("a watch filter selects by workflow, instance and event type", "[watch]") {
  EventRecord e = event(1, "ltc-12", "sla.breached");
  CHECK(WatchFilter{}.matches(e));
  CHECK(WatchFilter{"ltc", "", {}}.matches(e));
  CHECK_FALSE(WatchFilter{"itr", "", {}}.matches(e));
  CHECK(WatchFilter{"", "ltc-12", {}}.matches(e));
  CHECK_FALSE(WatchFilter{"", "ltc-1", {}}.matches(e));
  CHECK(WatchFilter{"", "", {"transitioned", "sla.*"}}.matches(e));
  CHECK_FALSE(WatchFilter{"", "", {"sla"}}.matches(e));
  CHECK_FALSE(WatchFilter{"", "", {"transitioned"}}.matches(e));
}

TEST_CASE("the workflow of an instance id is everything before its last dash", "[watch]") {
  CHECK(workflow_of_instance("ltc-12") == "ltc");
  CHECK(workflow_of_instance("order-to-cash-3") == "order-to-cash");
}

TEST_CASE("a cursor reads history page by page, then follows live commits", "[watch]") {
  std::vector<EventRecord> log;
  for (int i = 1; i <= 5; ++i) log.push_back(event(i, "deal-1", "transitioned"));
  std::vector<std::int64_t> seen;
  auto emit = [&](const EventRecord& e) { seen.push_back(e.position); };
  WatchCursor c(WatchFilter{}, 2, 100);
  auto t = c.begin_read();
  CHECK(t.after == 2);
  CHECK_FALSE(c.on_page(t, std::span(log).subspan(2, 2), 2, emit));  // a full page: read again
  c.on_live(std::vector<EventRecord>{event(6, "deal-1", "transitioned")}, emit);  // buffered
  t = c.begin_read();
  CHECK(t.after == 4);
  CHECK(c.on_page(t, std::span(log).subspan(4, 1), 2, emit));
  CHECK(c.live());
  c.on_live(std::vector<EventRecord>{event(7, "deal-1", "transitioned")}, emit);
  CHECK(seen == std::vector<std::int64_t>{3, 4, 5, 6, 7});
  CHECK(c.position() == 7);
}

TEST_CASE("events a filter rejects still move the resume position", "[watch]") {
  std::vector<std::int64_t> seen;
  WatchCursor c(WatchFilter{"", "deal-2", {}}, 0, 10);
  auto t = c.begin_read();
  std::vector<EventRecord> page = {event(1, "deal-1", "x"), event(2, "deal-2", "x"),
                                   event(3, "deal-1", "x")};
  CHECK(c.on_page(t, page, 10, [&](const EventRecord& e) { seen.push_back(e.position); }));
  CHECK(seen == std::vector<std::int64_t>{2});
  CHECK(c.position() == 3);
}

TEST_CASE("a live buffer that overflows while catching up costs one more store read", "[watch]") {
  std::vector<std::int64_t> seen;
  auto emit = [&](const EventRecord& e) { seen.push_back(e.position); };
  WatchCursor c(WatchFilter{}, 0, 2);
  auto first = c.begin_read();  // reads the store before 1..3 were committed
  c.on_live(
      std::vector<EventRecord>{event(1, "a-1", "x"), event(2, "a-1", "x"), event(3, "a-1", "x")},
      emit);                                    // more than the buffer holds: dropped
  CHECK_FALSE(c.on_page(first, {}, 10, emit));  // short page, but events were dropped since
  CHECK_FALSE(c.live());
  auto second = c.begin_read();
  std::vector<EventRecord> page = {event(1, "a-1", "x"), event(2, "a-1", "x"),
                                   event(3, "a-1", "x")};
  CHECK(c.on_page(second, page, 10, emit));
  CHECK(seen == std::vector<std::int64_t>{1, 2, 3});
}

// A model of the server: commits append to the log and post their events to the I/O thread;
// store reads run on a worker at some later moment and post their result. The I/O thread takes
// posted items in order. Every interleaving must emit each matching event once, in order.
TEST_CASE("watching emits every matching event exactly once under random interleavings",
          "[watch]") {
  for (unsigned seed = 1; seed <= 400; ++seed) {
    std::mt19937 rng(seed);
    auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
    std::vector<EventRecord> log;
    struct Posted {
      bool is_read = false;
      std::vector<EventRecord> events;  // a live batch, or a read's page
      std::int64_t last = 0;            // a start read's result
      WatchCursor::ReadTicket ticket;
      bool start = false;
    };
    std::deque<Posted> io;  // posted to the I/O thread, in order
    struct PendingRead {
      WatchCursor::ReadTicket ticket;
      bool start = false;
    };
    std::optional<PendingRead> worker;  // issued, not yet executed
    bool read_in_flight = false;        // issued and its result not yet handled
    const std::size_t page = 1 + static_cast<std::size_t>(pick(4));
    const std::size_t buffer = 1 + static_cast<std::size_t>(pick(6));
    WatchFilter filter;
    if (pick(2) == 0) filter.instance_id = "w-" + std::to_string(pick(3));
    std::optional<WatchCursor> cursor;
    std::optional<std::int64_t> start_after;
    std::vector<std::int64_t> emitted;
    auto emit = [&](const EventRecord& e) { emitted.push_back(e.position); };
    auto issue = [&] {
      if (!cursor || cursor->live() || read_in_flight) return;
      worker = PendingRead{cursor->begin_read(), !cursor->started()};
      read_in_flight = true;
    };
    int commits_left = 30;
    for (int step = 0; step < 10000; ++step) {
      bool done = commits_left == 0 && io.empty() && !worker && cursor && cursor->live();
      if (done) break;
      int action = pick(5);
      if (action == 0 && commits_left > 0) {
        std::vector<EventRecord> batch;
        int n = 1 + pick(3);
        for (int i = 0; i < n; ++i) {
          batch.push_back(event(static_cast<std::int64_t>(log.size()) + 1,
                                "w-" + std::to_string(pick(3)), "x"));
          log.push_back(batch.back());
        }
        io.push_back(Posted{false, batch, 0, {}, false});
        --commits_left;
      } else if (action == 1 && !cursor && (pick(3) == 0 || commits_left == 0)) {
        if (pick(2) == 0)
          start_after = static_cast<std::int64_t>(pick(static_cast<int>(log.size()) + 1));
        cursor.emplace(filter, start_after, buffer);
        issue();
      } else if (action == 2 && worker) {
        Posted r{true, {}, 0, worker->ticket, worker->start};
        if (worker->start) {
          r.last = static_cast<std::int64_t>(log.size());
        } else {
          for (const auto& e : log) {
            if (e.position > worker->ticket.after && r.events.size() < page) r.events.push_back(e);
          }
        }
        worker.reset();
        io.push_back(std::move(r));
      } else if (!io.empty()) {
        Posted p = std::move(io.front());
        io.pop_front();
        if (!p.is_read) {
          if (cursor) cursor->on_live(p.events, emit);
          continue;
        }
        read_in_flight = false;
        if (p.start) {
          start_after = p.last;
          cursor->on_start(p.ticket, p.last, emit);
        } else {
          cursor->on_page(p.ticket, p.events, page, emit);
        }
        issue();
      }
    }
    INFO("seed " << seed << " page " << page << " buffer " << buffer);
    REQUIRE(cursor);
    REQUIRE(cursor->live());
    std::vector<std::int64_t> expected;
    for (const auto& e : log) {
      if (e.position > *start_after && filter.matches(e)) expected.push_back(e.position);
    }
    CHECK(emitted == expected);
    CHECK(cursor->position() == static_cast<std::int64_t>(log.size()));
  }
}
