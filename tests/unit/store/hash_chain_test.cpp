// The canonical event encoding and the hash chain, checked against values computed
// independently with Python (json.dumps(obj, sort_keys=True, separators=(",", ":"),
// ensure_ascii=False) and hashlib.sha256), and checkpoints against a recomputation from raw rows.
#include <catch2/catch.hpp>

#include <map>

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include "store/hash_chain.h"
#include "store/store.h"
#include "store_fixture.h"

using namespace flowgate;
using namespace flowgate::store_test;

namespace {

EventRecord first_event() {
  EventRecord e;
  e.instance_id = "ltc-7";
  e.seq = 1;
  e.at_ms = 1718000000000;
  e.type = "instance_started";
  e.actor = {{"principal", "alice"}, {"roles", {"AR"}}};
  e.body = {{"state", "lead_captured"}, {"data", nlohmann::json::object()}};
  e.request_id = "not-hashed";
  return e;
}

// Non-ASCII text, every kind of escaped character, keys whose bytewise order differs from a
// naive one ("Z" < "a", "é" after "to", "" first), a 2^53+1 integer, nesting.
EventRecord second_event() {
  EventRecord e;
  e.instance_id = "ltc-7";
  e.seq = 2;
  e.at_ms = 1718000000123;
  e.type = "transitioned";
  e.actor = {{"principal", "zo\u00eb"}, {"roles", {"AR", "SR"}}, {"on_behalf_of", "\u014ckubo"}};
  e.body = {
      {"from", "lead_captured"},
      {"to", "qualifying"},
      {"note",
       "Preis: 1.250,00 \u20ac \u2014 \u00abok\u00bb\n\ttab \"q\" \\ / \x01 \x1f \x7f \u2028 "
       "\U0001F600"},
      {"amount", "1250.50"},
      {"n", -42},
      {"big", std::int64_t{9007199254740993}},
      {"flag", true},
      {"none", nullptr},
      {"nested", {{"b", {1, {{"z", 1}, {"a", 2}}}}, {"a", "\u65e5\u672c"}}},
      {"Z", 1},
      {"\u00e9", 2},
      {"e", 3},
      {"", nlohmann::json::array()},
  };
  return e;
}

// Printed by the Python script in docs/audit.md's style for the two events above.
const std::string kFirstCanonical =
    R"({"actor":{"principal":"alice","roles":["AR"]},"at":1718000000000,)"
    R"("body":{"data":{},"state":"lead_captured"},"instance":"ltc-7","seq":1,)"
    R"("type":"instance_started"})";
const std::string kFirstHash = "bd13aedbd62b56e3c7bf097520ae2ccefb0d429a496fb817adafd69ee2d00227";
const std::string kSecondCanonical =
    "{\"actor\":{\"on_behalf_of\":\"\u014ckubo\",\"principal\":\"zo\u00eb\",\"roles\":[\"AR\","
    "\"SR\"]},\"at\":1718000000123,\"body\":{\"\":[],\"Z\":1,\"amount\":\"1250.50\",\"big\":"
    "9007199254740993,\"e\":3,\"flag\":true,\"from\":\"lead_captured\",\"n\":-42,\"nested\":{"
    "\"a\":\"\u65e5\u672c\",\"b\":[1,{\"a\":2,\"z\":1}]},\"none\":null,\"note\":\"Preis: "
    "1.250,00 \u20ac \u2014 \u00abok\u00bb\\n\\ttab \\\"q\\\" \\\\ / \\u0001 \\u001f \x7f "
    "\u2028 \U0001F600\",\"to\":\"qualifying\",\"\u00e9\":2},\"instance\":\"ltc-7\",\"seq\":2,"
    "\"type\":\"transitioned\"}";
const std::string kSecondHash = "8872e813250b1eb57e7a418fc977f506c01e9953f42b11aa8a01a15eda226f96";

}  // namespace

TEST_CASE("sha256_hex matches the standard test vectors", "[hash]") {
  CHECK(sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_CASE("the canonical encoding of an event is Python's sorted compact JSON", "[hash]") {
  CHECK(canonical_event_json(first_event()) == kFirstCanonical);
  CHECK(canonical_event_json(second_event()) == kSecondCanonical);
}

TEST_CASE("event hashes chain exactly as an auditor's Python script computes them", "[hash]") {
  CHECK(compute_event_hash("", first_event()) == kFirstHash);
  CHECK(compute_event_hash(kFirstHash, second_event()) == kSecondHash);
}

TEST_CASE("fields outside the canonical encoding do not change the hash", "[hash]") {
  EventRecord e = first_event();
  e.request_id = "another";
  e.position = 99;
  e.prev_hash = "ignored: the previous hash is an argument";
  CHECK(compute_event_hash("", e) == kFirstHash);
}

TEST_CASE("any change to a hashed field changes the hash", "[hash]") {
  EventRecord e = second_event();
  e.body["amount"] = "1250.51";
  CHECK(compute_event_hash(kFirstHash, e) != kSecondHash);
  CHECK(compute_event_hash("", second_event()) != kSecondHash);
}

TEST_CASE("the heads hash covers instances in bytewise id order", "[hash]") {
  HeadsHasher h;
  h.add("itr-1", 3, std::string(64, 'a'));
  h.add("ltc-10", 1, std::string(64, 'b'));
  h.add("ltc-2", 2, std::string(64, 'c'));
  h.add("ltc-\u00e9", 12, std::string(64, 'd'));
  CHECK(h.finish() == "d40979e5d67f46f55578afbad26ee27bdd13fad6383e4f6ede9f37306debf215");
  CHECK(h.finish() == sha256_hex(""));  // finish() starts a new, empty sequence
}

TEST_CASE("stored events still verify after a round trip through the database", "[hash]") {
  TempDir dir;
  auto store = Store::open(writer_options(dir.file("chain.db")));
  REQUIRE(store.has_value());
  REQUIRE((*store)->put_definition(definition("ltc", 1)).has_value());
  EventRecord a = first_event();
  a.hash = kFirstHash;
  EventRecord b = second_event();
  b.prev_hash = kFirstHash;
  b.hash = kSecondHash;
  InstanceSnapshot s;
  s.instance_id = "ltc-7";
  s.workflow_id = "ltc";
  s.version = 1;
  s.state = "qualifying";
  s.lifecycle = "active";
  s.last_seq = 2;
  s.head_hash = kSecondHash;
  WriteBatch batch;
  batch.instances = {s};
  batch.events = {a, b};
  REQUIRE((*store)->commit(batch).has_value());

  auto history = (*store)->history("ltc-7");
  REQUIRE(history->size() == 2);
  std::string prev;
  for (const auto& e : *history) {
    CHECK(e.prev_hash == prev);
    CHECK(compute_event_hash(prev, e) == e.hash);
    prev = e.hash;
  }
  CHECK(prev == kSecondHash);
}

TEST_CASE("a checkpoint hashes every chain head as an independent recomputation does",
          "[hash][checkpoint]") {
  TempDir dir;
  const auto path = dir.file("checkpoint.db");
  auto opened = Store::open(writer_options(path));
  REQUIRE(opened.has_value());
  auto& store = **opened;
  REQUIRE(store.put_definition(definition("ltc", 1)).has_value());
  REQUIRE(store.put_definition(definition("itr", 1)).has_value());
  BatchBuilder b;
  b.start("ltc-2", "ltc").start("ltc-10", "ltc").start("itr-1", "itr").start("ltc-\u00e9", "ltc");
  REQUIRE(store.commit(b.take()).has_value());
  b.transition("ltc-2", "qualifying").transition("itr-1", "triage").transition("itr-1", "fixed");
  REQUIRE(store.commit(b.take()).has_value());

  auto first = store.write_checkpoint(1'700'000'100'000);
  REQUIRE(first.has_value());

  // Recompute from the raw rows, without the store's code.
  std::string lines;
  std::int64_t instances = 0;
  {
    SQLite::Database db(path, SQLite::OPEN_READONLY);
    SQLite::Statement q(db, "SELECT instance_id, last_seq, head_hash FROM instances");
    std::vector<std::tuple<std::string, std::int64_t, std::string>> rows;
    while (q.executeStep()) {
      rows.emplace_back(q.getColumn(0).getString(), q.getColumn(1).getInt64(),
                        q.getColumn(2).getString());
    }
    std::sort(rows.begin(), rows.end());  // std::string compares bytewise
    for (const auto& [id, seq, head] : rows) lines += fmt::format("{} {} {}\n", id, seq, head);
    instances = static_cast<std::int64_t>(rows.size());
  }
  CHECK(first->heads_hash == sha256_hex(lines));
  CHECK(first->instance_count == 4);
  CHECK(instances == 4);
  CHECK(first->event_count == 7);
  CHECK(first->position == *store.last_position());
  CHECK(first->at_ms == 1'700'000'100'000);

  b.transition("ltc-10", "lost");
  REQUIRE(store.commit(b.take()).has_value());
  auto second = store.write_checkpoint(1'700'000'200'000);
  REQUIRE(second.has_value());
  CHECK(second->heads_hash != first->heads_hash);
  CHECK(second->id > first->id);

  // docs/audit.md: the heads at an earlier checkpoint are, per instance, the newest event at or
  // before its position; later commits do not change what that checkpoint covered.
  {
    SQLite::Database db(path, SQLite::OPEN_READONLY);
    SQLite::Statement q(db,
                        "SELECT instance_id, seq, hash FROM events WHERE position <= ?1 "
                        "ORDER BY position");
    q.bind(1, first->position);
    std::map<std::string, std::pair<std::int64_t, std::string>> heads;  // ordered bytewise
    while (q.executeStep()) {
      heads[q.getColumn(0).getString()] = {q.getColumn(1).getInt64(), q.getColumn(2).getString()};
    }
    std::string replayed;
    for (const auto& [id, head] : heads) {
      replayed += fmt::format("{} {} {}\n", id, head.first, head.second);
    }
    CHECK(sha256_hex(replayed) == first->heads_hash);
  }

  auto all = store.checkpoints();
  REQUIRE(all.has_value());
  REQUIRE(all->size() == 2);
  CHECK((*all)[0].heads_hash == first->heads_hash);
  CHECK((*all)[1].event_count == 8);
  CHECK((*all)[1].position == second->position);
}
