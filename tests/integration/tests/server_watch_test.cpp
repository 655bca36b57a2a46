// events.watch on the real server: filters, resuming after a reconnect without a gap or a
// duplicate, and a slow reader that is dropped (told where to resume) without slowing the engine.
#include <catch2/catch.hpp>

#include <atomic>
#include <thread>

#include "server_support.h"

using namespace flowgate::testing;
using flowgate::server::RpcClient;

namespace {

// Starts deal-1 and sends `batches` batches of `per_batch` data updates; returns the position of
// the last event written.
std::int64_t write_updates(RpcClient& c, int batches, int per_batch) {
  auto started = c.call("instance.start", {{"workflow", "deal"}, {"data", {{"customer", "Acme"}}}});
  REQUIRE(started);
  std::int64_t last = (*started)["events"][0]["position"];
  int n = 0;
  for (int b = 0; b < batches; ++b) {
    Json batch = Json::array();
    for (int i = 0; i < per_batch; ++i) {
      ++n;
      batch.push_back(Json::parse(
          rpc("instance.update", {{"instance_id", "deal-1"}, {"data", {{"touches", n}}}}, n)));
    }
    REQUIRE(c.send_line(batch.dump()));
    Json answers = next_json(c, 60s);
    REQUIRE(answers.is_array());
    for (const auto& a : answers) {
      REQUIRE(a.contains("result"));
      last = std::max<std::int64_t>(last, a["result"]["events"][0]["position"]);
    }
  }
  return last;
}

struct Received {
  std::vector<std::int64_t> positions;
  Json overflow;  // the events.overflow notification, if any
  bool caught_up = false;
};

// Reads notifications until `until` positions are in, the stream ends, or it goes quiet.
Received read_events(RpcClient& c, std::int64_t until, Received r = {}) {
  for (;;) {
    if (!r.positions.empty() && r.positions.back() >= until) return r;
    auto n = c.next_notification(20s);
    if (!n || !*n) return r;
    const Json& note = **n;
    if (note["method"] == "events.event") {
      r.positions.push_back(note["params"]["event"]["position"]);
    } else if (note["method"] == "events.overflow") {
      r.overflow = note;
    } else if (note["method"] == "events.caught_up") {
      r.caught_up = true;
    }
  }
}

}  // namespace

TEST_CASE("a watch from the beginning replays history, then follows live commits",
          "[server][watch]") {
  TempDir dir;
  ServerProcess s(dir);
  REQUIRE(s.start());
  RpcClient writer = s.client();
  std::int64_t before = write_updates(writer, 1, 5);  // 6 events in history
  RpcClient watcher = s.client();
  auto w = watcher.call("events.watch", {{"after", 0}});
  REQUIRE(w);
  CHECK((*w)["after"] == 0);
  Received r = read_events(watcher, before);
  REQUIRE(r.positions.size() == 6);
  auto more =
      writer.call("instance.update", {{"instance_id", "deal-1"}, {"data", {{"touches", 99}}}});
  REQUIRE(more);
  std::int64_t live = (*more)["events"][0]["position"];
  r = read_events(watcher, live, r);
  CHECK(r.caught_up);
  std::vector<std::int64_t> expected;
  for (std::int64_t p = 1; p <= live; ++p) expected.push_back(p);
  CHECK(r.positions == expected);
}

TEST_CASE("a watch filters by instance and event type", "[server][watch]") {
  TempDir dir;
  ServerProcess s(dir);
  REQUIRE(s.start());
  RpcClient c = s.client();
  RpcClient watcher = s.client();
  REQUIRE(watcher.call("events.watch", {{"instance_id", "deal-2"}, {"types", {"transitioned"}}}));
  for (const char* who : {"Acme", "Binford"}) {
    REQUIRE(c.call("instance.start", {{"workflow", "deal"}, {"data", {{"customer", who}}}}));
  }
  for (const char* id : {"deal-1", "deal-2"}) {
    REQUIRE(c.call("instance.fire",
                   {{"instance_id", id}, {"event", "quote"}, {"payload", {{"amount", "10.00"}}}}));
  }
  Json note;
  do {
    auto n = watcher.next_notification(20s);
    REQUIRE(n);
    REQUIRE(*n);
    note = **n;
  } while (note["method"] != "events.event");
  CHECK(note["params"]["event"]["instance_id"] == "deal-2");
  CHECK(note["params"]["event"]["type"] == "transitioned");
  auto nothing_more = watcher.next_notification(300ms);
  REQUIRE(nothing_more);
  CHECK_FALSE(*nothing_more);
}

TEST_CASE("a watcher that reconnects resumes from its last position with no gap or duplicate",
          "[server][watch]") {
  TempDir dir;
  ServerProcess s(dir);
  REQUIRE(s.start());
  RpcClient writer = s.client();
  std::atomic<std::int64_t> last{0};
  std::thread produce([&] { last = write_updates(writer, 30, 10); });

  Received first;
  {
    RpcClient watcher = s.client();
    REQUIRE(watcher.call("events.watch", {{"after", 0}}));
    first = read_events(watcher, 60);
    REQUIRE(first.positions.size() >= 60);
  }  // disconnects mid-stream
  std::int64_t resume = first.positions.back();
  RpcClient again = s.client();
  REQUIRE(again.call("events.watch", {{"after", resume}}));
  produce.join();
  Received second = read_events(again, last.load());

  std::vector<std::int64_t> all = first.positions;
  all.insert(all.end(), second.positions.begin(), second.positions.end());
  std::vector<std::int64_t> expected;
  for (std::int64_t p = 1; p <= last.load(); ++p) expected.push_back(p);
  CHECK(all == expected);
}

TEST_CASE("a slow watcher is dropped with a resume position and the engine is not slowed",
          "[server][watch]") {
  TempDir dir;
  ServerProcess s(dir, with_config("[server]\nwatch_buffer = 20\n"));
  REQUIRE(s.start());
  RpcClient watcher = s.client();
  auto w = watcher.call("events.watch");
  REQUIRE(w);
  std::int64_t start = (*w)["after"];
  // The watcher reads nothing while 3,000 events are written; every write is answered.
  RpcClient writer = s.client();
  std::int64_t last = write_updates(writer, 30, 100);

  Received r = read_events(watcher, last);
  REQUIRE(r.overflow.is_object());
  std::int64_t resume = r.overflow["params"]["resume_after"];
  CHECK(resume < last);
  std::vector<std::int64_t> expected;
  for (std::int64_t p = start + 1; p <= resume; ++p) expected.push_back(p);
  CHECK(r.positions == expected);         // everything before the drop, in order
  REQUIRE_FALSE(watcher.read_line(20s));  // then the server closed the connection

  RpcClient again = s.client();
  REQUIRE(again.call("events.watch", {{"after", resume}}));
  Received rest = read_events(again, last);
  expected.clear();
  for (std::int64_t p = resume + 1; p <= last; ++p) expected.push_back(p);
  CHECK(rest.positions == expected);
  auto stats = again.call("server.stats");
  CHECK((*stats)["watchers_dropped"] == 1);
}

TEST_CASE("one watch per connection; unwatch stops the stream", "[server][watch]") {
  TempDir dir;
  ServerProcess s(dir);
  REQUIRE(s.start());
  RpcClient watcher = s.client();
  auto w = watcher.call("events.watch");
  REQUIRE(w);
  auto twice = watcher.call("events.watch");
  REQUIRE_FALSE(twice);
  CHECK(twice.error().message.find("already watches") != std::string::npos);
  auto stopped = watcher.call("events.unwatch", {{"subscription", (*w)["subscription"]}});
  REQUIRE(stopped);
  CHECK((*stopped)["stopped"] == true);
  REQUIRE(s.client().call("instance.start", {{"workflow", "deal"}, {"data", {{"customer", "A"}}}}));
  // Only the caught-up notice (sent before unwatch) may be pending; no event follows.
  for (;;) {
    auto n = watcher.next_notification(300ms);
    REQUIRE(n);
    if (!*n) break;
    CHECK((**n)["method"] != "events.event");
  }
}
