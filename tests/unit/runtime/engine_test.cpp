#include <catch2/catch.hpp>

#include <SQLiteCpp/SQLiteCpp.h>
#include <fmt/format.h>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "runtime/engine.h"
#include "runtime_support.h"
#include "store/hash_chain.h"
#include "support/temp_dir.h"

using namespace flowgate;
using flowgate::testing::actor;
using flowgate::testing::load_fixture;
using flowgate::testing::TempDir;
using nlohmann::json;

namespace {

InstanceFilter all_instances() {
  InstanceFilter f;
  f.limit = 10000;
  return f;
}

constexpr std::int64_t kT0 = 1'767'261'600'000;  // 2026-01-01T10:00:00Z
const SectionRegistry kNoSections;

struct Harness {
  TempDir dir;
  std::shared_ptr<SimulatedClock> clock = std::make_shared<SimulatedClock>(kT0);
  std::unique_ptr<Engine> engine;

  explicit Harness(std::vector<std::string> fixtures = {"tests/fixtures/runtime/deal.toml"},
                   EngineOptions options = {}) {
    open(std::move(fixtures), options);
  }
  void open(std::vector<std::string> fixtures, EngineOptions options = {}) {
    engine.reset();
    auto catalog = std::make_shared<Catalog>();
    for (const auto& f : fixtures) catalog->add(load_fixture(f));
    options.db_path = db();
    auto e = Engine::open(options, catalog, clock, kNoSections);
    if (!e) FAIL(e.error().to_string());
    engine = std::move(*e);
  }
  std::string db() const { return dir.file("flowgate.db"); }

  Result<CommandOutcome> start(json data, std::string key = "", std::string request_id = "") {
    Command c;
    c.kind = CommandKind::kStart;
    c.workflow_id = "deal";
    c.data = std::move(data);
    c.business_key = std::move(key);
    c.request_id = std::move(request_id);
    c.actor = actor("ann", {"AR"});
    return engine->execute(std::move(c));
  }
  Command fire_cmd(const std::string& id, std::string event, json payload, Actor who) {
    Command c;
    c.kind = CommandKind::kFire;
    c.instance_id = id;
    c.event = std::move(event);
    c.payload = std::move(payload);
    c.actor = std::move(who);
    return c;
  }
};

void check_chain(const std::vector<EventRecord>& events) {
  std::string prev;
  for (std::size_t i = 0; i < events.size(); ++i) {
    CHECK(events[i].seq == static_cast<std::int64_t>(i + 1));
    CHECK(events[i].prev_hash == prev);
    CHECK(events[i].hash == compute_event_hash(prev, events[i]));
    prev = events[i].hash;
  }
}

}  // namespace

TEST_CASE("the engine starts and moves an instance and records a hash-chained history",
          "[engine]") {
  Harness h;
  auto started = h.start({{"customer", "Acme"}});
  REQUIRE(started);
  std::string id = started->instance["instance_id"];
  CHECK(id == "deal-1");
  CHECK(started->instance["state"] == "open");
  CHECK(started->instance["version"] == 1);
  REQUIRE(started->events.size() == 1);
  CHECK(started->events[0].position > 0);

  h.clock->advance_to(kT0 + 60'000);
  auto quoted =
      h.engine->execute(h.fire_cmd(id, "quote", {{"amount", "5000"}}, actor("sam", {"SR"})));
  REQUIRE(quoted);
  auto closed = h.engine->execute(h.fire_cmd(id, "close", json::object(), actor("ann", {"AR"})));
  REQUIRE(closed);
  CHECK(closed->instance["state"] == "won");
  CHECK(closed->instance["lifecycle"] == "completed");

  auto history = h.engine->history(id);
  REQUIRE(history);
  REQUIRE(history->size() == 4);  // started, transitioned, transitioned, completed
  CHECK((*history)[1].at_ms == kT0 + 60'000);
  CHECK((*history)[1].actor["principal"] == "sam");
  check_chain(*history);

  auto view = h.engine->get(id);
  REQUIRE(view);
  CHECK((*view)["state"] == "won");
  CHECK((*view)["allowed_events"].empty());
}

TEST_CASE("a refused command changes nothing and says why", "[engine]") {
  Harness h;
  std::string id = h.start({{"customer", "Acme"}})->instance["instance_id"];
  auto refused =
      h.engine->execute(h.fire_cmd(id, "quote", {{"amount", "0"}}, actor("sam", {"SR"})));
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == ErrorCode::kGuardFailed);
  CHECK(h.engine->history(id)->size() == 1);
  auto unknown =
      h.engine->execute(h.fire_cmd("deal-99", "quote", json::object(), actor("sam", {"SR"})));
  CHECK(unknown.error().code == ErrorCode::kInstanceNotFound);
  Command c;
  c.kind = CommandKind::kStart;
  c.workflow_id = "dael";
  CHECK(h.engine->execute(c).error().code == ErrorCode::kWorkflowNotFound);
  c.workflow_id = "deal";
  c.version = 7;
  CHECK(h.engine->execute(c).error().code == ErrorCode::kVersionNotFound);
}

TEST_CASE("a retried request id returns the first answer and changes nothing", "[engine]") {
  Harness h;
  auto first = h.start({{"customer", "Acme"}}, "", "req-1");
  auto retry = h.start({{"customer", "Acme"}}, "", "req-1");
  REQUIRE(first);
  REQUIRE(retry);
  CHECK(retry->replayed);
  CHECK(retry->instance == first->instance);
  CHECK(h.engine->list({})->size() == 1);

  std::string id = first->instance["instance_id"];
  Command fire = h.fire_cmd(id, "quote", {{"amount", "10"}}, actor("sam", {"SR"}));
  fire.request_id = "req-2";
  REQUIRE(h.engine->execute(fire));
  auto again = h.engine->execute(fire);
  REQUIRE(again);
  CHECK(again->replayed);
  CHECK(h.engine->history(id)->size() == 2);

  SECTION("the same id for another command is refused") {
    Command other = h.fire_cmd(id, "lose", {{"reason", "x"}}, actor("ann", {"AR"}));
    other.request_id = "req-2";
    auto dup = h.engine->execute(other);
    REQUIRE_FALSE(dup);
    CHECK(dup.error().code == ErrorCode::kDuplicateRequest);
  }
  SECTION("a refusal is also the recorded answer") {
    Command bad = h.fire_cmd(id, "close", json::object(), actor("sam", {"SR"}));
    bad.request_id = "req-3";
    CHECK(h.engine->execute(bad).error().code == ErrorCode::kForbidden);
    CHECK(h.engine->execute(bad).error().code == ErrorCode::kForbidden);
  }
  SECTION("answers survive a restart") {
    h.open({"tests/fixtures/runtime/deal.toml"});
    auto after = h.engine->execute(fire);
    REQUIRE(after);
    CHECK(after->replayed);
    CHECK(h.engine->history(id)->size() == 2);
  }
}

TEST_CASE("retries are found with the request-id filter as before it is read and without it",
          "[engine]") {
  Harness h;
  auto start_cmd = [](const std::string& request_id) {
    Command c;
    c.kind = CommandKind::kStart;
    c.workflow_id = "deal";
    c.data = {{"customer", "Acme"}};
    c.request_id = request_id;
    c.actor = actor("ann", {"AR"});
    return c;
  };
  // Submits the commands together (they share group commits) and checks every answer.
  auto run_all = [&](const std::string& prefix, int n, bool replayed) {
    std::vector<std::future<Result<CommandOutcome>>> answers;
    for (int i = 0; i < n; ++i) {
      answers.push_back(h.engine->submit(start_cmd(fmt::format("{}-{}", prefix, i))));
    }
    int wrong = 0;
    for (auto& a : answers) {
      auto r = a.get();
      wrong += (r && r->replayed == replayed) ? 0 : 1;
    }
    CHECK(wrong == 0);
  };
  constexpr int kOld = 20000, kNew = 2000;
  run_all("old", kOld, false);
  h.open({"tests/fixtures/runtime/deal.toml"});
  // Right after the restart, while the filter's thread reads the 20,000 stored ids: these are
  // noted and added when the writer adopts the filter (or come after it).
  run_all("new", kNew, false);
  int waited = 0;
  for (; waited < 2000 && !h.engine->stats().request_filter_ready; ++waited) {
    REQUIRE(h.start({{"customer", "Beta"}}, "", fmt::format("wait-{}", waited)));
  }
  REQUIRE(h.engine->stats().request_filter_ready);

  // A new id: no lookup in the store.
  auto before = h.engine->stats().request_lookups;
  REQUIRE(h.start({{"customer", "Gamma"}}, "", "fresh-1"));
  CHECK(h.engine->stats().request_lookups == before);

  // Every id stored before the restart, and every one recorded since, is still a retry.
  run_all("old", kOld, true);
  run_all("new", kNew, true);
  run_all("wait", waited, true);
  auto again = h.start({{"customer", "Gamma"}}, "", "fresh-1");
  REQUIRE(again);
  CHECK(again->replayed);
  CHECK(h.engine->stats().request_lookups >= before + kOld + kNew);

  SECTION("an engine stopped while its filter is read stops at once and loses nothing") {
    for (int i = 0; i < 5; ++i) h.open({"tests/fixtures/runtime/deal.toml"});
    run_all("old", kOld, true);
  }
  SECTION("without the filter every request id is looked up") {
    EngineOptions o;
    o.request_id_filter = false;
    h.open({"tests/fixtures/runtime/deal.toml"}, o);
    REQUIRE(h.start({{"customer", "Delta"}}, "", "fresh-2"));
    auto r = h.start({{"customer", "Acme"}}, "", "old-3");
    REQUIRE(r);
    CHECK(r->replayed);
    CHECK(h.engine->stats().request_lookups == 2);
    CHECK_FALSE(h.engine->stats().request_filter_ready);
  }
}

TEST_CASE("expect_version refuses a stale command naming both versions", "[engine]") {
  Harness h;
  std::string id = h.start({{"customer", "Acme"}})->instance["instance_id"];
  Command c = h.fire_cmd(id, "quote", {{"amount", "10"}}, actor("sam", {"SR"}));
  c.expect_version = 3;
  auto stale = h.engine->execute(c);
  REQUIRE_FALSE(stale);
  CHECK(stale.error().code == ErrorCode::kVersionConflict);
  CHECK(stale.error().data["current_version"] == 1);
  CHECK(stale.error().data["expected_version"] == 3);
  c.expect_version = 1;
  CHECK(h.engine->execute(c));
}

TEST_CASE("a business key is unique per workflow, also within one batch", "[engine]") {
  Harness h;
  REQUIRE(h.start({{"customer", "Acme"}}, "CRM-1"));
  auto dup = h.start({{"customer", "Other"}}, "CRM-1");
  REQUIRE_FALSE(dup);
  CHECK(dup.error().code == ErrorCode::kDuplicateBusinessKey);
  CHECK(dup.error().data["instance_id"] == "deal-1");

  std::vector<std::future<Result<CommandOutcome>>> futures;
  for (int i = 0; i < 20; ++i) {
    Command c;
    c.kind = CommandKind::kStart;
    c.workflow_id = "deal";
    c.data = {{"customer", "Acme"}};
    c.business_key = "CRM-2";
    futures.push_back(h.engine->submit(c));
  }
  int ok = 0;
  for (auto& f : futures) ok += f.get() ? 1 : 0;
  CHECK(ok == 1);
}

TEST_CASE("many concurrent submitters are all answered after group commits", "[engine]") {
  Harness h;
  constexpr int kThreads = 8;
  constexpr int kPerThread = 50;
  std::vector<std::string> ids;
  for (int t = 0; t < kThreads; ++t) {
    ids.push_back(h.start({{"customer", "Acme"}})->instance["instance_id"]);
  }
  std::atomic<int> failures{0}, refusals{0};  // Catch2 checks only on this thread
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const char* event = i == 0 ? "quote" : "requote";
        auto r = h.engine->execute(h.fire_cmd(ids[static_cast<std::size_t>(t)], event,
                                              {{"amount", std::to_string(i + 1)}},
                                              actor("sam", {"SR"})));
        if (!r) failures++;
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(failures == 0);
  for (const auto& id : ids) {
    auto hist = h.engine->history(id);
    REQUIRE(hist->size() == kPerThread + 1);
    check_chain(*hist);
  }
  EngineStats s = h.engine->stats();
  CHECK(s.events == static_cast<std::uint64_t>(kThreads * (kPerThread + 1)));
  CHECK(s.batches <= s.commands);
}

TEST_CASE("state survives a restart and the id counter continues", "[engine]") {
  Harness h;
  std::string id = h.start({{"customer", "Acme"}})->instance["instance_id"];
  REQUIRE(h.engine->execute(h.fire_cmd(id, "quote", {{"amount", "10"}}, actor("sam", {"SR"}))));
  h.open({"tests/fixtures/runtime/deal.toml"});
  auto view = h.engine->get(id);
  REQUIRE(view);
  CHECK((*view)["state"] == "quoted");
  CHECK((*view)["data"]["amount"] == "10.00");
  auto next = h.start({{"customer", "Beta"}});
  CHECK(next->instance["instance_id"] == "deal-2");
  auto closed = h.engine->execute(h.fire_cmd(id, "close", json::object(), actor("ann", {"AR"})));
  REQUIRE(closed);
  CHECK(closed->instance["state"] == "won");
  check_chain(*h.engine->history(id));
}

TEST_CASE("running instances stay on their version; new ones start on the latest", "[engine]") {
  Harness h;
  std::string old_id = h.start({{"customer", "Acme"}})->instance["instance_id"];
  // The next deployment ships only version 2; version 1 is reloaded from the database.
  h.open({"tests/fixtures/runtime/deal_v2.toml"});
  auto fresh = h.start({{"customer", "Beta"}});
  REQUIRE(fresh);
  CHECK(fresh->instance["workflow_version"] == 2);
  auto old_step =
      h.engine->execute(h.fire_cmd(old_id, "quote", {{"amount", "150000"}}, actor("sam", {"SR"})));
  REQUIRE(old_step);
  CHECK(old_step->instance["workflow_version"] == 1);
  REQUIRE(h.engine->execute(h.fire_cmd(old_id, "close", json::object(), actor("ann", {"AR"}))));

  Command migrate;
  migrate.kind = CommandKind::kMigrate;
  migrate.instance_id = old_id;
  migrate.to_version = 2;
  migrate.state_mapping = {{"approval", "review"}};
  auto moved = h.engine->execute(migrate);
  REQUIRE(moved);
  CHECK(moved->instance["workflow_version"] == 2);
  CHECK(moved->instance["state"] == "review");
  auto approved =
      h.engine->execute(h.fire_cmd(old_id, "approve", json::object(), actor("dora", {"director"})));
  REQUIRE(approved);
  CHECK(approved->instance["state"] == "won");
  check_chain(*h.engine->history(old_id));
}

TEST_CASE("changing a stored version's text without bumping the version is refused", "[engine]") {
  Harness h;
  TempDir other;
  std::string text;
  {
    std::ifstream in(std::string(FLOWGATE_SOURCE_DIR) + "/tests/fixtures/runtime/deal.toml");
    text.assign(std::istreambuf_iterator<char>(in), {});
  }
  std::string path = other.file("deal.toml");
  std::ofstream(path) << text << "\n# an edit\n";
  h.engine.reset();
  auto catalog = std::make_shared<Catalog>();
  static SectionRegistry none;
  catalog->add(load_workflow_file(path, none).workflow);
  EngineOptions o;
  o.db_path = h.db();
  auto e = Engine::open(o, catalog, h.clock, none);
  REQUIRE_FALSE(e);
  CHECK(e.error().code == ErrorCode::kInvalidDefinition);
}

TEST_CASE("a full disk fails the command clearly, keeps the engine running, and hides the batch",
          "[engine]") {
  EngineOptions o;
  o.max_page_count = 40;  // a few pages beyond the empty schema
  Harness h({"tests/fixtures/runtime/deal.toml"}, o);
  std::string big(2000, 'x');
  ErrorCode last = ErrorCode::kInternal;
  int started = 0;
  for (int i = 0; i < 500; ++i) {
    auto r = h.start({{"customer", "A" + big}});
    if (!r) {
      last = r.error().code;
      break;
    }
    ++started;
  }
  CHECK(last == ErrorCode::kDiskFull);
  auto listed = h.engine->list(all_instances());
  REQUIRE(listed);
  CHECK(static_cast<int>(listed->size()) == started);
  // Still serving: reads work and a command is answered (not hung).
  auto again = h.start({{"customer", "B"}});
  if (!again) CHECK(again.error().code == ErrorCode::kDiskFull);
}

TEST_CASE(
    "a full disk under concurrent updates: what was answered is stored, what failed left nothing",
    "[engine]") {
  // Batches overlap (the next is decided while one commits), so a failed commit also voids the
  // batch decided on top of it; no answer may disagree with the store.
  EngineOptions o;
  o.max_page_count = 60;
  Harness h({"tests/fixtures/runtime/deal.toml"}, o);
  constexpr int kInstances = 4;
  std::vector<std::string> ids;
  for (int i = 0; i < kInstances; ++i) {
    auto r = h.start({{"customer", "C" + std::to_string(i)}});
    REQUIRE(r);
    ids.push_back(r->instance["instance_id"]);
  }
  std::string big(400, 'x');
  std::mutex mu;
  std::map<std::string, std::set<std::int64_t>> answered;  // instance → touches values stored
  std::atomic<int> failures{0}, refusals{0};               // Catch2 checks only on this thread
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (std::int64_t n = 1; n <= 400 && failures < 40; ++n) {
        const std::string& id = ids[static_cast<std::size_t>(t % kInstances)];
        Command c;
        c.kind = CommandKind::kUpdate;
        c.instance_id = id;
        std::int64_t touches = t * 1000 + n;
        c.data = {{"touches", touches}, {"customer", "C" + big}};
        c.actor = actor("ann", {"AR"});
        auto r = h.engine->execute(std::move(c));
        if (r) {
          std::lock_guard lock(mu);
          answered[id].insert(touches);
        } else {
          if (static_cast<int>(r.error().code) < 500) ++refusals;  // not a storage failure
          ++failures;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(failures > 0);
  CHECK(refusals == 0);
  h.engine.reset();  // closed: everything answered is durable
  h.open({"tests/fixtures/runtime/deal.toml"});
  for (const auto& id : ids) {
    auto history = h.engine->history(id);
    REQUIRE(history);
    check_chain(*history);
    std::set<std::int64_t> stored;
    for (const auto& ev : *history) {
      if (ev.type != events::kDataChanged) continue;
      stored.insert(ev.body["changes"]["touches"]["to"].get<std::int64_t>());
    }
    CHECK(stored == answered[id]);
    auto view = h.engine->get(id);
    REQUIRE(view);
    CHECK(view->at("version").get<std::int64_t>() == history->back().seq);
  }
}

TEST_CASE("a file that is not a flowgate database is refused and left untouched", "[engine]") {
  TempDir dir;
  std::string path = dir.file("notes.db");
  std::ofstream(path) << "these are my meeting notes, not a database\n";
  auto before = std::filesystem::file_size(path);
  auto catalog = std::make_shared<Catalog>();
  EngineOptions o;
  o.db_path = path;
  auto e = Engine::open(o, catalog, std::make_shared<SimulatedClock>(kT0), kNoSections);
  REQUIRE_FALSE(e);
  CHECK(e.error().code == ErrorCode::kNotADatabase);
  CHECK(std::filesystem::file_size(path) == before);
}

TEST_CASE("a database locked by another process gives a clear error after a bounded wait",
          "[engine]") {
  EngineOptions o;
  o.busy_timeout_ms = 200;
  Harness h({"tests/fixtures/runtime/deal.toml"}, o);
  REQUIRE(h.start({{"customer", "Acme"}}));
  SQLite::Database other(h.db(), SQLite::OPEN_READWRITE);
  other.exec("BEGIN EXCLUSIVE");
  auto r = h.start({{"customer", "Beta"}});
  REQUIRE_FALSE(r);
  CHECK(r.error().code == ErrorCode::kDatabaseLocked);
  other.exec("ROLLBACK");
  CHECK(h.start({{"customer", "Beta"}}));
}

TEST_CASE("a read-only engine serves reads and refuses commands", "[engine]") {
  Harness h;
  std::string id = h.start({{"customer", "Acme"}})->instance["instance_id"];
  h.engine.reset();
  EngineOptions o;
  o.db_path = h.db();
  o.read_only = true;
  auto ro = Engine::open(o, std::make_shared<Catalog>(), h.clock, kNoSections);
  REQUIRE(ro);
  auto view = (*ro)->get(id);
  REQUIRE(view);
  CHECK((*view)["allowed_events"] == json({"lose", "quote"}));
  Command c;
  c.kind = CommandKind::kStart;
  c.workflow_id = "deal";
  CHECK((*ro)->execute(c).error().code == ErrorCode::kUnavailable);

  o.db_path = h.dir.file("missing.db");
  auto missing = Engine::open(o, std::make_shared<Catalog>(), h.clock, kNoSections);
  CHECK_FALSE(missing);
  CHECK_FALSE(std::filesystem::exists(o.db_path));
}

TEST_CASE("commands submitted together are answered in order and share group commits", "[engine]") {
  Harness h;
  std::vector<Command> commands;
  for (int i = 0; i < 50; ++i) {
    Command c;
    c.kind = CommandKind::kStart;
    c.workflow_id = "deal";
    c.data = {{"customer", "Acme " + std::to_string(i)}};
    c.actor = actor("ann", {"AR"});
    commands.push_back(std::move(c));
  }
  auto before = h.engine->stats();
  auto answers = h.engine->submit_all(std::move(commands));
  REQUIRE(answers.size() == 50);
  for (std::size_t i = 0; i < answers.size(); ++i) {
    auto r = answers[i].get();
    REQUIRE(r);
    CHECK(r->instance["instance_id"] == "deal-" + std::to_string(i + 1));
    CHECK(r->instance["data"]["customer"] == "Acme " + std::to_string(i));
  }
  auto after = h.engine->stats();
  CHECK(after.commands - before.commands == 50);
  CHECK(after.batches - before.batches < 50);

  h.engine->stop();
  std::vector<Command> late(2);
  for (auto& c : late) c.kind = CommandKind::kStart;
  for (auto& f : h.engine->submit_all(std::move(late))) {
    auto r = f.get();
    REQUIRE_FALSE(r);
    CHECK(r.error().code == ErrorCode::kUnavailable);
  }
}

TEST_CASE("commands that arrive while a batch commits all join the next group commit", "[engine]") {
  Harness h;
  // The listener runs on the committer before the batch counts as finished: holding it keeps the
  // first batch's commit in flight for as long as the test needs.
  std::mutex mu;
  std::condition_variable cv;
  bool entered = false, release = false;
  int calls = 0;
  h.engine->subscribe([&](const std::vector<EventRecord>&) {
    std::unique_lock lock(mu);
    if (++calls > 1) return;
    entered = true;
    cv.notify_all();
    cv.wait(lock, [&] { return release; });
  });
  auto start = [&](int i) {
    Command c;
    c.kind = CommandKind::kStart;
    c.workflow_id = "deal";
    c.data = {{"customer", "Acme " + std::to_string(i)}};
    c.actor = actor("ann", {"AR"});
    return h.engine->submit(c);
  };
  auto first = start(0);
  {
    std::unique_lock lock(mu);
    REQUIRE(cv.wait_for(lock, std::chrono::seconds(30), [&] { return entered; }));
  }
  const std::uint64_t batches_before = h.engine->stats().batches;
  // One at a time: the writer takes each off the queue (and decides it into the batch it is
  // building) while the first commit is still held, not only the first of them.
  std::vector<std::future<Result<CommandOutcome>>> later;
  int taken = 0;
  for (int i = 1; i <= 5; ++i) {
    later.push_back(start(i));
    bool gone = false;
    for (int wait = 0; wait < 3000 && !gone; ++wait) {
      gone = h.engine->stats().queue_depth == 0;
      if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    taken += gone ? 1 : 0;
  }
  CHECK(taken == 5);
  {
    std::lock_guard lock(mu);
    release = true;
  }
  cv.notify_all();
  REQUIRE(first.get());
  for (auto& f : later) REQUIRE(f.get());
  CHECK(h.engine->stats().batches - batches_before == 1);  // all five in one commit
  h.engine->stop();  // before the listener's state goes out of scope
}

TEST_CASE("a command submitted with a callback is answered once, in order, off the caller's thread",
          "[engine]") {
  Harness h;
  std::mutex mu;
  std::condition_variable cv;
  std::vector<Result<CommandOutcome>> answers;
  std::set<std::thread::id> threads;
  const int n = 40;
  for (int i = 0; i < n; ++i) {
    Command c;
    c.kind = CommandKind::kStart;
    c.workflow_id = i == 7 ? "no-such-workflow" : "deal";
    c.data = {{"customer", "Acme " + std::to_string(i)}};
    c.actor = actor("ann", {"AR"});
    h.engine->submit(std::move(c), [&](Result<CommandOutcome> r) {
      std::lock_guard lock(mu);
      answers.push_back(std::move(r));
      threads.insert(std::this_thread::get_id());
      cv.notify_all();
    });
  }
  {
    std::unique_lock lock(mu);
    REQUIRE(cv.wait_for(lock, std::chrono::seconds(30), [&] { return answers.size() >= n; }));
  }
  h.engine->stop();  // nothing more may arrive
  std::lock_guard lock(mu);
  REQUIRE(answers.size() == n);
  CHECK_FALSE(threads.count(std::this_thread::get_id()));
  int started = 0;
  for (int i = 0; i < n; ++i) {
    const auto& r = answers[static_cast<std::size_t>(i)];
    if (i == 7) {
      REQUIRE_FALSE(r);
      CHECK(r.error().code == ErrorCode::kWorkflowNotFound);
      continue;
    }
    REQUIRE(r);
    ++started;
    CHECK(r->instance["instance_id"] == "deal-" + std::to_string(started));
    CHECK(r->instance["data"]["customer"] == "Acme " + std::to_string(i));
    CHECK_FALSE(r->events.empty());
  }

  Command late;
  late.kind = CommandKind::kStart;
  std::optional<Result<CommandOutcome>> refused;
  h.engine->submit(std::move(late), [&](Result<CommandOutcome> r) { refused = std::move(r); });
  REQUIRE(refused.has_value());
  REQUIRE_FALSE(refused->has_value());
  CHECK(refused->error().code == ErrorCode::kUnavailable);
}
