// Writing and reading: definitions, group commits of every record type, paging, constraint and
// full-disk failures that leave nothing behind, and readers running beside the writer.
#include <catch2/catch.hpp>

#include <atomic>
#include <set>
#include <thread>

#include <SQLiteCpp/Database.h>

#include "store/store.h"
#include "store_fixture.h"

using namespace flowgate;
using namespace flowgate::store_test;

namespace {

struct Fixture {
  TempDir dir;
  std::string path = dir.file("flowgate.db");
  std::unique_ptr<Store> store;

  Fixture() {
    auto s = Store::open(writer_options(path));
    REQUIRE(s.has_value());
    store = std::move(*s);
    REQUIRE(store->put_definition(definition("ltc", 1)).has_value());
    REQUIRE(store->put_definition(definition("itr", 1)).has_value());
  }
};

std::vector<std::int64_t> commit_ok(Store& store, const WriteBatch& batch) {
  auto r = store.commit(batch);
  INFO((r.has_value() ? std::string() : r.error().to_string()));
  REQUIRE(r.has_value());
  return *r;
}

}  // namespace

TEST_CASE("a definition is stored once per version and read back", "[store][definitions]") {
  Fixture f;
  auto got = f.store->get_definition("ltc", 1);
  REQUIRE(got.has_value());
  REQUIRE(got->has_value());
  CHECK((*got)->source_text == definition("ltc", 1).source_text);
  CHECK((*got)->content_hash == definition("ltc", 1).content_hash);
  CHECK((*got)->file == "workflows/ltc.toml");
  CHECK_FALSE(f.store->get_definition("ltc", 2)->has_value());

  REQUIRE(f.store->put_definition(definition("ltc", 1)).has_value());  // same content: no-op
  REQUIRE(f.store->put_definition(definition("ltc", 2)).has_value());
  auto all = f.store->list_definitions();
  REQUIRE(all.has_value());
  REQUIRE(all->size() == 3);
  CHECK((*all)[0].workflow_id == "itr");
  CHECK((*all)[1].workflow_id == "ltc");
  CHECK((*all)[1].version == 1);
  CHECK((*all)[2].version == 2);
}

TEST_CASE("storing a version again with different content asks for a version bump",
          "[store][definitions]") {
  Fixture f;
  auto r = f.store->put_definition(definition("ltc", 1, "description = \"changed\"\n"));
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code == ErrorCode::kInvalidDefinition);
  CHECK(r.error().message ==
        "version 1 of ltc is already stored with different content; bump [workflow].version");
  CHECK((*f.store->get_definition("ltc", 1))->content_hash == definition("ltc", 1).content_hash);
}

TEST_CASE("a definition whose hash does not match its text is refused", "[store][definitions]") {
  Fixture f;
  auto d = definition("presales", 1);
  d.content_hash = sha256_hex("something else");
  auto r = f.store->put_definition(d);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code == ErrorCode::kInvalidArgument);
}

TEST_CASE("the same content cannot be stored under a second version", "[store][definitions]") {
  Fixture f;
  auto d = definition("ltc", 1);
  d.version = 7;
  auto r = f.store->put_definition(d);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code == ErrorCode::kInvalidDefinition);
  CHECK(r.error().message.find("already stored as ltc version 1") != std::string::npos);
}

TEST_CASE("a commit stores every record type and they read back unchanged", "[store][commit]") {
  Fixture f;
  BatchBuilder b;
  b.start("ltc-1", "ltc", "ACME-2024-001").request("r-1", "ltc-1");
  b.timer("ltc-1/sla/first_contact/breach", "ltc-1", 1'700'000'090'000);
  b.timer("housekeeping", "", 1'700'000'050'000);
  WriteBatch batch = b.take();
  batch.instances[0].extra = {{"gate", {{"pending", "authorise_to_bid"}}}};
  batch.requests[0].response = {{"ok", true}, {"note", "Größe ✓"}};
  auto positions = commit_ok(*f.store, batch);
  REQUIRE(positions.size() == 1);

  auto inst = f.store->get_instance("ltc-1");
  REQUIRE(inst.has_value());
  REQUIRE(inst->has_value());
  const InstanceSnapshot& s = **inst;
  const InstanceSnapshot& want = batch.instances[0];
  CHECK(s.workflow_id == want.workflow_id);
  CHECK(s.version == want.version);
  CHECK(s.state == want.state);
  CHECK(s.lifecycle == want.lifecycle);
  CHECK(s.data == want.data);
  CHECK(s.extra == want.extra);
  CHECK(s.business_key == "ACME-2024-001");
  CHECK(s.last_seq == 1);
  CHECK(s.created_ms == want.created_ms);
  CHECK(s.updated_ms == want.updated_ms);
  CHECK(s.head_hash == want.head_hash);

  auto events = f.store->history("ltc-1");
  REQUIRE(events.has_value());
  REQUIRE(events->size() == 1);
  const EventRecord& e = events->front();
  const EventRecord& sent = batch.events[0];
  CHECK(e.position == positions[0]);
  CHECK(e.seq == 1);
  CHECK(e.at_ms == sent.at_ms);
  CHECK(e.type == sent.type);
  CHECK(e.actor == sent.actor);
  CHECK(e.body == sent.body);
  CHECK(e.request_id == sent.request_id);
  CHECK(e.prev_hash.empty());
  CHECK(e.hash == sent.hash);

  auto req = f.store->find_request("r-1");
  REQUIRE(req.has_value());
  REQUIRE(req->has_value());
  CHECK((*req)->fingerprint == batch.requests[0].fingerprint);
  CHECK((*req)->instance_id == "ltc-1");
  CHECK((*req)->response == batch.requests[0].response);
  CHECK((*req)->at_ms == batch.requests[0].at_ms);
  CHECK_FALSE(f.store->find_request("r-unknown")->has_value());

  auto timers = f.store->all_timers();
  REQUIRE(timers.has_value());
  REQUIRE(timers->size() == 2);
  CHECK((*timers)[0].timer_id == "housekeeping");  // ordered by due time
  CHECK((*timers)[0].instance_id.empty());
  CHECK((*timers)[1].instance_id == "ltc-1");
  CHECK((*timers)[1].payload == nlohmann::json{{"kind", "sla"}});
}

TEST_CASE("timers are rescheduled by upsert and removed by delete", "[store][commit]") {
  Fixture f;
  BatchBuilder b;
  b.start("ltc-1", "ltc").timer("t-a", "ltc-1", 100).timer("t-b", "ltc-1", 200);
  commit_ok(*f.store, b.take());
  b.transition("ltc-1", "qualifying").timer("t-a", "ltc-1", 300).cancel_timer("t-b");
  commit_ok(*f.store, b.take());
  auto timers = f.store->all_timers();
  REQUIRE(timers->size() == 1);
  CHECK((*timers)[0].timer_id == "t-a");
  CHECK((*timers)[0].due_ms == 300);
}

TEST_CASE("event positions increase across commits and come back in batch order",
          "[store][commit]") {
  Fixture f;
  BatchBuilder b;
  std::vector<std::int64_t> all;
  for (int batch = 0; batch < 5; ++batch) {
    for (int i = 0; i < 4; ++i) b.start(fmt::format("ltc-{}", batch * 4 + i + 1), "ltc");
    b.transition(fmt::format("ltc-{}", batch * 4 + 1), "qualifying");
    auto positions = commit_ok(*f.store, b.take());
    REQUIRE(positions.size() == 5);
    all.insert(all.end(), positions.begin(), positions.end());
  }
  for (std::size_t i = 1; i < all.size(); ++i) CHECK(all[i] > all[i - 1]);
  CHECK(*f.store->last_position() == all.back());

  // events_after pages through the whole log in position order.
  std::vector<std::int64_t> seen;
  std::int64_t after = 0;
  while (true) {
    auto page = f.store->events_after(after, 7);
    REQUIRE(page.has_value());
    if (page->empty()) break;
    for (const auto& e : *page) seen.push_back(e.position);
    after = page->back().position;
  }
  CHECK(seen == all);
  auto events = f.store->events_after(all[4], 1);
  REQUIRE(events->size() == 1);
  CHECK(events->front().instance_id == "ltc-5");  // the first event of the second batch
}

TEST_CASE("history returns an instance's events by sequence", "[store][commit]") {
  Fixture f;
  BatchBuilder b;
  b.start("ltc-1", "ltc").start("ltc-2", "ltc");
  commit_ok(*f.store, b.take());
  b.transition("ltc-1", "qualifying").transition("ltc-2", "lost").transition("ltc-1", "won");
  commit_ok(*f.store, b.take());
  auto h = f.store->history("ltc-1");
  REQUIRE(h->size() == 3);
  for (std::size_t i = 0; i < h->size(); ++i) CHECK((*h)[i].seq == static_cast<int>(i) + 1);
  CHECK((*h)[2].body["to"] == "won");
  CHECK((*h)[1].prev_hash == (*h)[0].hash);
  CHECK(f.store->history("ltc-404")->empty());
}

TEST_CASE("instances are listed by id with filters and pages", "[store][list]") {
  Fixture f;
  BatchBuilder b;
  for (int i = 1; i <= 25; ++i) b.start(fmt::format("ltc-{:03}", i), "ltc");
  for (int i = 1; i <= 5; ++i) b.start(fmt::format("itr-{:03}", i), "itr");
  commit_ok(*f.store, b.take());
  for (int i = 1; i <= 25; i += 3) b.transition(fmt::format("ltc-{:03}", i), "qualifying");
  commit_ok(*f.store, b.take());

  std::vector<std::string> ids;
  InstanceFilter filter;
  filter.workflow_id = "ltc";
  filter.limit = 10;
  while (true) {
    auto page = f.store->list_instances(filter);
    REQUIRE(page.has_value());
    for (const auto& s : *page) ids.push_back(s.instance_id);
    if (page->size() < 10) break;
    filter.after_id = page->back().instance_id;
  }
  REQUIRE(ids.size() == 25);
  CHECK(ids.front() == "ltc-001");
  CHECK(ids.back() == "ltc-025");
  CHECK(std::is_sorted(ids.begin(), ids.end()));

  InstanceFilter by_state;
  by_state.workflow_id = "ltc";
  by_state.state = "qualifying";
  CHECK(f.store->list_instances(by_state)->size() == 9);
  InstanceFilter by_lifecycle;
  by_lifecycle.lifecycle = "active";
  CHECK(f.store->list_instances(by_lifecycle)->size() == 30);
  InstanceFilter none;
  none.lifecycle = "cancelled";
  CHECK(f.store->list_instances(none)->empty());
}

TEST_CASE("a listing limit below 1 is refused and a huge one is capped", "[store][list]") {
  Fixture f;
  InstanceFilter filter;
  filter.limit = 0;
  auto r = f.store->list_instances(filter);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code == ErrorCode::kInvalidArgument);
  filter.limit = std::int64_t{1} << 40;
  CHECK(f.store->list_instances(filter).has_value());
  CHECK_FALSE(f.store->events_after(0, 0).has_value());
}

TEST_CASE("a business key is unique per workflow and found by lookup", "[store][commit]") {
  Fixture f;
  BatchBuilder b;
  b.start("ltc-1", "ltc", "PO-1").start("itr-1", "itr", "PO-1").start("ltc-2", "ltc");
  commit_ok(*f.store, b.take());
  CHECK(*f.store->find_business_key("ltc", "PO-1") == std::optional<std::string>("ltc-1"));
  CHECK(*f.store->find_business_key("itr", "PO-1") == std::optional<std::string>("itr-1"));
  CHECK_FALSE(f.store->find_business_key("ltc", "PO-2")->has_value());
  CHECK_FALSE(f.store->find_business_key("ltc", "")->has_value());
  InstanceFilter filter;
  filter.business_key = "PO-1";
  CHECK(f.store->list_instances(filter)->size() == 2);
}

TEST_CASE("a duplicate business key fails the whole commit and the store stays usable",
          "[store][commit]") {
  Fixture f;
  BatchBuilder b;
  b.start("ltc-1", "ltc", "PO-1");
  commit_ok(*f.store, b.take());
  const auto before = *f.store->last_position();

  b.start("ltc-2", "ltc").start("ltc-3", "ltc", "PO-1").request("r-3", "ltc-3");
  b.timer("t-3", "ltc-3", 5);
  auto r = f.store->commit(b.take());
  REQUIRE_FALSE(r.has_value());
  INFO(r.error().to_string());
  CHECK(r.error().code == ErrorCode::kStorage);
  CHECK(r.error().message.find("instances.workflow_id, instances.business_key") !=
        std::string::npos);
  CHECK(r.error().message.find("ltc-3") != std::string::npos);
  // Nothing of the failed batch is visible.
  CHECK_FALSE(f.store->get_instance("ltc-2")->has_value());
  CHECK_FALSE(f.store->find_request("r-3")->has_value());
  CHECK(f.store->all_timers()->empty());
  CHECK(*f.store->last_position() == before);

  BatchBuilder fresh;
  fresh.start("ltc-4", "ltc", "PO-4");
  commit_ok(*f.store, fresh.take());
  CHECK(f.store->get_instance("ltc-4")->has_value());
  CHECK(*f.store->max_instance_number() == 4);
}

TEST_CASE("a reused request id fails the commit", "[store][commit]") {
  Fixture f;
  BatchBuilder b;
  b.start("ltc-1", "ltc").request("r-1", "ltc-1");
  commit_ok(*f.store, b.take());
  b.transition("ltc-1", "qualifying").request("r-1", "ltc-1");
  auto r = f.store->commit(b.take());
  REQUIRE_FALSE(r.has_value());
  INFO(r.error().to_string());
  CHECK(r.error().code == ErrorCode::kStorage);
  CHECK(r.error().message.find("requests.request_id") != std::string::npos);
  CHECK(f.store->history("ltc-1")->size() == 1);
}

TEST_CASE("every stored request id is scanned once, until the callback stops it",
          "[store][commit]") {
  Fixture f;
  BatchBuilder b;
  b.start("ltc-1", "ltc");
  std::set<std::string> stored;
  for (int i = 0; i < 300; ++i) {
    std::string id = fmt::format("r-{}", (i * 7919) % 1000);  // not in key order
    b.request(id, "ltc-1");
    stored.insert(id);
  }
  commit_ok(*f.store, b.take());

  std::multiset<std::string> seen;
  auto n = f.store->scan_request_ids([&](std::string_view id) {
    seen.emplace(id);
    return true;
  });
  REQUIRE(n.has_value());
  CHECK(*n == 300);
  CHECK(std::set<std::string>(seen.begin(), seen.end()) == stored);
  CHECK(seen.size() == 300);

  int given = 0;
  auto stopped = f.store->scan_request_ids([&](std::string_view) { return ++given < 10; });
  REQUIRE(stopped.has_value());
  CHECK(*stopped == 10);
  CHECK(given == 10);

  // A reader sees the same ids; an empty table gives none.
  auto reader = Store::open(reader_options(f.path));
  REQUIRE(reader.has_value());
  CHECK((*reader)->scan_request_ids([](std::string_view) { return true; }).value() == 300);
  Fixture empty;
  CHECK(empty.store->scan_request_ids([](std::string_view) { return true; }).value() == 0);
}

TEST_CASE("an instance of a definition that was never stored is refused", "[store][commit]") {
  Fixture f;
  BatchBuilder b;
  b.start("presales-1", "presales");
  auto r = f.store->commit(b.take());
  REQUIRE_FALSE(r.has_value());
  INFO(r.error().to_string());
  CHECK(r.error().code == ErrorCode::kStorage);
  CHECK(r.error().message.find("pinned to presales version 1, which is not stored") !=
        std::string::npos);
}

TEST_CASE("an event of an instance missing from store and batch is refused", "[store][commit]") {
  Fixture f;
  BatchBuilder b;
  b.start("ltc-1", "ltc");
  WriteBatch batch = b.take();
  batch.instances.clear();
  auto r = f.store->commit(batch);
  REQUIRE_FALSE(r.has_value());
  INFO(r.error().to_string());
  CHECK(r.error().message.find("event 1 of instance ltc-1 belongs to an instance") !=
        std::string::npos);
}

TEST_CASE("an empty batch commits nothing", "[store][commit]") {
  Fixture f;
  auto r = f.store->commit(WriteBatch{});
  REQUIRE(r.has_value());
  CHECK(r->empty());
  CHECK(*f.store->last_position() == 0);
}

TEST_CASE("the instance counter follows the largest <workflow>-<n> id and survives reopening",
          "[store][commit]") {
  Fixture f;
  CHECK(*f.store->max_instance_number() == 0);
  BatchBuilder b;
  b.start("ltc-7", "ltc").start("itr-3", "itr").start("ltc-imported", "ltc");
  b.start("itr-99999999999999999999", "itr");  // too long to be a counter value
  commit_ok(*f.store, b.take());
  CHECK(*f.store->max_instance_number() == 7);
  b.start("ltc-5", "ltc");
  commit_ok(*f.store, b.take());
  CHECK(*f.store->max_instance_number() == 7);
  f.store.reset();
  auto reopened = Store::open(writer_options(f.path));
  REQUIRE(reopened.has_value());
  CHECK(*(*reopened)->max_instance_number() == 7);
}

TEST_CASE("a full disk fails the commit with nothing visible; reads and later commits work",
          "[store][disk-full]") {
  Fixture f;
  BatchBuilder b;
  b.start("ltc-1", "ltc");
  commit_ok(*f.store, b.take());
  f.store.reset();
  std::int64_t pages = 0;
  {
    SQLite::Database db(f.path, SQLite::OPEN_READONLY);
    pages = db.execAndGet("PRAGMA page_count").getInt64();
  }
  StoreOptions limited = writer_options(f.path);
  limited.max_page_count = pages + 8;
  auto store = Store::open(limited);
  REQUIRE(store.has_value());
  auto& s = **store;

  const std::string filler(2000, 'x');
  for (int i = 2; i < 400; ++i) b.start(fmt::format("ltc-{}", i), "ltc");
  WriteBatch big = b.take();
  for (auto& e : big.events) e.body["filler"] = filler;
  auto r = s.commit(big);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code == ErrorCode::kDiskFull);
  CHECK(r.error().message.find(f.path) != std::string::npos);
  CHECK_FALSE(s.get_instance("ltc-2")->has_value());
  CHECK(s.history("ltc-399")->empty());
  CHECK(s.history("ltc-1")->size() == 1);
  CHECK(*s.max_instance_number() == 1);

  BatchBuilder small;
  small.start("ltc-500", "ltc");
  commit_ok(s, small.take());
  store->reset();

  auto unlimited = Store::open(writer_options(f.path));
  REQUIRE(unlimited.has_value());
  commit_ok(**unlimited, big);
  CHECK((*unlimited)->history("ltc-399")->size() == 1);
}

TEST_CASE("readers on other threads see whole batches only while the writer commits",
          "[store][concurrency]") {
  Fixture f;
  constexpr int kBatches = 60;
  constexpr int kPerBatch = 10;  // events per batch: 2 new instances + 8 transitions
  std::atomic<bool> done{false};
  std::atomic<int> errors{0};
  std::atomic<int> torn{0};
  std::atomic<int> reads{0};

  auto reader = [&] {
    auto r = Store::open(reader_options(f.path));
    if (!r) {
      ++errors;
      return;
    }
    while (!done.load()) {
      auto events = (*r)->events_after(0, 100'000);
      if (!events) {
        ++errors;
        continue;
      }
      if (events->size() % kPerBatch != 0) ++torn;
      std::map<std::string, std::int64_t> last;
      for (const auto& e : *events) {
        if (e.seq != last[e.instance_id] + 1) ++torn;
        last[e.instance_id] = e.seq;
      }
      InstanceFilter all;
      all.limit = 10'000;
      auto listed = (*r)->list_instances(all);
      if (!listed) ++errors;
      ++reads;
    }
  };
  std::vector<std::thread> readers;
  for (int i = 0; i < 3; ++i) readers.emplace_back(reader);

  BatchBuilder b;
  int committed = 0;
  for (int batch = 0; batch < kBatches; ++batch) {
    const auto a = fmt::format("ltc-{}", 2 * batch + 1);
    const auto c = fmt::format("ltc-{}", 2 * batch + 2);
    b.start(a, "ltc").start(c, "ltc");
    for (int i = 0; i < 4; ++i) b.transition(a, fmt::format("s{}", i)).transition(c, "t");
    if (f.store->commit(b.take()).has_value()) ++committed;
  }
  // Let every reader finish at least one read after the last commit.
  const int reads_at_end = reads.load();
  while (reads.load() < reads_at_end + 3 && errors.load() == 0) std::this_thread::yield();
  done = true;
  for (auto& t : readers) t.join();

  CHECK(committed == kBatches);
  CHECK(errors.load() == 0);
  CHECK(torn.load() == 0);
  CHECK(f.store->events_after(0, 100'000)->size() == kBatches * kPerBatch);
}
